"""Read one submission's files (the trusted side reads, never runs).

A submission's files are its top-level `.py` files (the API modules and the student's own
helper modules) and notebooks standing for modules. A file whose name differs from a module's
only by case (`Forward.py`, `Backprop.ipynb`), or that sits in a subfolder when the module is
nowhere else, is graded as that module, with a note. Every file that looks like code and is
not used (a second copy, `forward (1).py`, `forward.py.txt`, a helper nothing imports) is named
in a note, with a hint when its name resembles a module. Symlinks, oversized files and the
like are left out with a note in the report. Finding the submissions in what an instructor
downloaded (folders, zips, LMS layouts) is `grader.inputs.collect`.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader.inputs.notebook import MAX_NOTEBOOK_BYTES, CellMap, NotebookError, module_from_notebook, translate
from grader.inputs.safe_read import read_regular
from grader.worker.policy import imports_in

MAX_FILE_BYTES = 1 << 20
MAX_FILES = 50
MAX_LISTED = 2000
"""entries of a submission's folder tree looked at (a folder full of data stops here)"""
SUBFOLDER_DEPTH = 3
IGNORED_FOLDERS = ("__pycache__", ".ipynb_checkpoints", "__MACOSX")
CODE_SUFFIXES = (".py", ".ipynb")
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Submission:
    """One student's files, read into memory on the trusted side."""

    name: str
    """the submission's id in reports (the folder name, made safe for a path)"""
    folder: Path
    files: dict[str, bytes] = field(default_factory=dict)
    """`module.py -> source bytes`"""
    notes: list[str] = field(default_factory=list)
    """what was left out, and why"""
    unreadable: dict[str, str] = field(default_factory=dict)
    """`module -> why its file could not be used` (e.g. a corrupt notebook)"""
    submitted_at: datetime | None = None
    """when it was submitted, where the layout says (see `grader.inputs.submitted`); naive: the course's zone"""
    submitted_from: str = ""
    """what says so (`gradescope`, `blackboard`, `git commit`)"""
    lms_ids: dict[str, str] = field(default_factory=dict)
    """the student's ids in the LMS the layout gives (`canvas_id`, `moodle_participant`, `sid`, `email`)"""
    cell_maps: dict[str, CellMap] = field(default_factory=dict)
    """`module.py -> where its lines came from`, for the modules read from notebooks"""
    unused: list[str] = field(default_factory=list)
    """notes on the files that were not used, which the instructor's warnings repeat"""
    student: str = ""
    """the student's name as the input gave it (`name` is the id made from it)"""
    submission_id: str = ""
    """the LMS's id of this submission (Gradescope's `submission_<id>`), or empty"""

    def translate(self, text: str) -> str:
        """`text` with each `forward.py, line N` of a notebook module naming the notebook cell."""
        return translate(text, self.cell_maps)


def safe_name(name: str) -> str:
    """A folder name usable as a report folder and a CSV cell."""
    cleaned = re.sub(r"[^A-Za-z0-9._@-]+", "_", name).strip("._") or "submission"
    return cleaned[:100]


def module_of(file_name: str, modules: Iterable[str]) -> str | None:
    """The module `file_name` stands for: `forward.py`, `Forward.py`, `FORWARD.ipynb` -> `forward`."""
    stem, ext = os.path.splitext(file_name)
    if ext.lower() not in CODE_SUFFIXES:
        return None
    wanted = {m.lower(): m for m in modules}
    return wanted.get(stem.lower())


def holds_modules(folder: Path, modules: set[str]) -> bool:
    """Whether `folder` itself is a submission (it holds an API module file, in any case)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    return any(module_of(e.name, modules) is not None and e.is_file(follow_symlinks=False) for e in entries)


def _listing(folder: Path) -> list[tuple[PurePosixPath, str]]:
    """`(path relative to folder, absolute path)` of the files under `folder`, shallowest first.

    Hidden entries, caches and symbolic links to folders are skipped; at most `MAX_LISTED`
    entries and `SUBFOLDER_DEPTH` levels are looked at.
    """
    found: list[tuple[PurePosixPath, str]] = []
    level = [(PurePosixPath(), str(folder))]
    seen = 0
    for _ in range(SUBFOLDER_DEPTH + 1):
        below = []
        for rel, path in level:
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                seen += 1
                if seen > MAX_LISTED:
                    return found
                if e.name.startswith(".") or e.name in IGNORED_FOLDERS:
                    continue
                if e.is_dir(follow_symlinks=False):
                    below.append((rel / e.name, e.path))
                else:
                    found.append((rel / e.name, e.path))
        level = below
    return found


def _resembles(file_name: str, modules: Iterable[str]) -> str | None:
    """The module a file's name seems meant for (`forward (1).py`, `Forward.py.txt`, `foward.py`)."""
    words = [w for w in re.split(r"[^a-z0-9_]+", file_name.lower()) if w]
    lowered = {m.lower(): m for m in modules}
    for w in words:
        if w in lowered:
            return lowered[w]
    close = difflib.get_close_matches(words[0] if words else "", list(lowered), n=1, cutoff=0.8)
    return lowered[close[0]] if close else None


def _looks_like_code(rel: PurePosixPath, modules: list[str]) -> bool:
    """Whether an unused file is worth naming: code at the top, a module's name anywhere, or a
    name meant for a module (`forward.py.txt`, `forward`, `forward (1).py`)."""
    if module_of(rel.name, modules) is not None:
        return True
    if len(rel.parts) > 1:
        return False
    lowered = rel.name.lower()
    if rel.suffix.lower() in CODE_SUFFIXES or ".py" in lowered or ".ipynb" in lowered:
        return True
    return rel.suffix.lower() in (".txt", "") and _resembles(rel.name, modules) is not None


def _imported(source: bytes) -> set[str]:
    """The top-level names a module's source imports (empty when it does not parse)."""
    return {name.split(".")[0] for _, name in imports_in(source) or ()}


def read_submission(
    folder: Path, name: str, stubs: dict[str, str] | None = None, modules: Iterable[str] | None = None
) -> Submission:
    """Read the module files and notebooks of `folder`, refusing symlinks and huge files.

    `modules` are the graded modules (default: those of `stubs`, which holds `module -> sha256`
    of each graded module's untouched template). A notebook `m.ipynb` stands for `m.py` when
    there is no `m.py`, or when `m.py` is still the untouched template. For each module, a file
    of exactly its name at the top of `folder` wins, then one that differs only by case, then
    one in a subfolder (shallowest, then by name); the choice is noted. Files that look like
    code but are not used are named in `Submission.unused` (and in the notes).
    """
    stubs = stubs or {}
    sub = Submission(name=name, folder=folder)
    listing = _listing(folder)
    wanted = sorted(set(modules if modules is not None else stubs))
    if not wanted:  # modules unknown: every top-level module file stands for itself
        wanted = sorted({rel.stem for rel, _ in listing if len(rel.parts) == 1 and rel.suffix in CODE_SUFFIXES
                         and _MODULE_NAME.fullmatch(rel.stem)})
    chosen = _choose_module_files(listing, wanted)
    used_paths = {rel for rel, _ in chosen.values()}
    for module in wanted:
        py = chosen.get(f"{module}.py")
        if py is not None and _add_py(sub, f"{module}.py", py):
            _note_renamed(sub, py[0], f"{module}.py")
    helpers = [(rel, path) for rel, path in listing if len(rel.parts) == 1 and rel.suffix == ".py"
               and rel not in used_paths and module_of(rel.name, wanted) is None]
    for rel, path in helpers:
        if not _MODULE_NAME.fullmatch(rel.stem):
            continue  # named as unused below
        if _add_py(sub, rel.name, (rel, path)):
            used_paths.add(rel)
    for module in wanted:
        nb = chosen.get(f"{module}.ipynb")
        if nb is not None and _add_notebook(sub, module, nb, stubs):
            _note_renamed(sub, nb[0], f"{module}.ipynb")
    _note_unused(sub, listing, used_paths, wanted)
    return sub


Picked = tuple[PurePosixPath, str]
"""a file of the submission: its path relative to the submission's folder, and its real path"""


def _choose_module_files(listing: list[Picked], modules: list[str]) -> dict[str, Picked]:
    """`forward.py` / `forward.ipynb` -> the file graded as it (see `read_submission`).

    The files at the top of the submission come first; only a module with none there is taken
    from a subfolder (the shallowest, then the first by name), `.py` and notebook from that one.
    """
    chosen: dict[str, Picked] = {}
    for module in modules:
        candidates = [c for c in listing if module_of(c[0].name, [module]) == module]
        pool = [c for c in candidates if len(c[0].parts) == 1]
        if not pool and candidates:
            first = min(candidates, key=lambda c: (len(c[0].parts), str(c[0])))
            pool = [c for c in candidates if c[0].parent == first[0].parent]
        for ext in CODE_SUFFIXES:
            mine = [c for c in pool if c[0].suffix.lower() == ext]
            exact = [c for c in mine if c[0].name == f"{module}{ext}"]
            if mine:
                chosen[f"{module}{ext}"] = (exact or mine)[0]
    return chosen


def _note_renamed(sub: Submission, rel: PurePosixPath, target: str) -> None:
    """Say so when the file graded as `target` has another name or place."""
    if rel.as_posix() != target:
        why = "file names are case-sensitive" if len(rel.parts) == 1 else "it was the only one"
        sub.notes.append(f"{rel.as_posix()} was graded as {target} ({why}: name it {target}, at the top of "
                         "your submission)")


def _add_py(sub: Submission, target: str, picked: tuple[PurePosixPath, str]) -> bool:
    rel, path = picked
    data = read_regular(path, MAX_FILE_BYTES)
    if isinstance(data, str):
        sub.notes.append(f"{rel.as_posix()} was left out: {data}")
        return False
    if len(sub.files) >= MAX_FILES:
        sub.notes.append(f"{rel.as_posix()} was left out: more than {MAX_FILES} Python files")
        return False
    sub.files[target] = data
    return True


def _note_unused(sub: Submission, listing: list[tuple[PurePosixPath, str]], used: set[PurePosixPath],
                 modules: list[str]) -> None:
    """Name every file that looks like code (or like a module's file) and was not used."""
    own = {n[:-3] for n in sub.files}
    reached = set()
    todo = [m for m in modules if f"{m}.py" in sub.files]
    while todo:  # the student's helper modules that a graded module imports
        m = todo.pop()
        if m in reached:
            continue
        reached.add(m)
        todo += [n for n in _imported(sub.files[f"{m}.py"]) if n in own]
    for rel, _ in listing:
        shown = rel.as_posix()
        if rel in used and (len(rel.parts) > 1 or rel.stem in reached or module_of(rel.name, modules)):
            continue
        if not _looks_like_code(rel, modules):
            continue
        meant = _resembles(rel.name, modules)
        if rel in used:
            why = "no graded module imports it"
        elif meant is not None and (f"{meant}.py" in sub.files or meant in sub.unreadable):
            why = f"{meant} was graded from another file"
        elif meant is not None:
            why = f"did you mean {meant}.py? Name it exactly {meant}.py (or {meant}.ipynb)"
        elif rel.suffix == ".py" and not _MODULE_NAME.fullmatch(rel.stem):
            why = "its name is not a Python module name, so nothing can import it"
        else:
            why = "it is not one of the assignment's files"
        note = f"{shown} was not used: {why}"
        if note not in sub.notes and not any(n.startswith(f"{shown} was left out") for n in sub.notes):
            sub.unused.append(note)
            sub.notes.append(note)


def _add_notebook(sub: Submission, module: str, picked: tuple[PurePosixPath, str], stubs: dict[str, str]) -> bool:
    """Grade the notebook `picked` as `module.py`, unless an edited `module.py` is there; whether it was used."""
    rel, path = picked
    shown = rel.as_posix()
    existing = sub.files.get(f"{module}.py")
    if existing is not None and hashlib.sha256(existing).hexdigest() != stubs.get(module):
        note = f"both {module}.py and {shown} are present: {module}.py was graded"
        sub.notes.append(note)
        sub.unused.append(note)
        return False
    data = read_regular(path, MAX_NOTEBOOK_BYTES)
    if isinstance(data, str):
        sub.files.pop(f"{module}.py", None)
        sub.unreadable[module] = f"{shown} could not be read: {data}"
        return True
    try:
        extracted = module_from_notebook(data, rel.name)
    except NotebookError as exc:
        sub.files.pop(f"{module}.py", None)
        sub.unreadable[module] = str(exc)
        return True
    sub.files[f"{module}.py"] = extracted.source.encode()
    if extracted.cells is not None:
        sub.cell_maps[f"{module}.py"] = extracted.cells
    sub.notes += extracted.notes
    return True
