"""Read one submission's files (the trusted side reads, never runs).

A submission's files are its top-level `.py` files (the API modules and the student's own
helper modules) and notebooks standing for modules; symlinks, oversized files and anything
else are left out with a note in the report. Finding the submissions in what an instructor
downloaded (folders, zips, LMS layouts) is `grader.inputs`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.notebook import MAX_NOTEBOOK_BYTES, NotebookError, module_from_notebook

MAX_FILE_BYTES = 1 << 20
MAX_FILES = 50


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
    """when it was submitted, where the layout says (see `grader.submitted`); naive: the course's zone"""
    submitted_from: str = ""
    """what says so (`gradescope`, `blackboard`, `git commit`)"""
    lms_ids: dict[str, str] = field(default_factory=dict)
    """the student's ids in the LMS the layout gives (`canvas_id`, `moodle_participant`, `sid`, `email`)"""


def safe_name(name: str) -> str:
    """A folder name usable as a report folder and a CSV cell."""
    cleaned = re.sub(r"[^A-Za-z0-9._@-]+", "_", name).strip("._") or "submission"
    return cleaned[:100]


def holds_modules(folder: Path, modules: set[str]) -> bool:
    """Whether `folder` itself is a submission (it holds an API module file)."""
    return any((folder / f"{m}{ext}").is_file() for m in modules for ext in (".py", ".ipynb"))


def _read_regular(path: str, limit: int) -> bytes | str:
    """The bytes of a regular file (no symlink followed), or why it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        return "it is a symbolic link" if exc.errno == errno.ELOOP else str(exc.strerror)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return "not a regular file"
        data = f.read(limit + 1)
    return data if len(data) <= limit else f"larger than {limit // 1024} KiB"


def read_submission(folder: Path, name: str, stubs: dict[str, str] | None = None) -> Submission:
    """Read the top-level `.py` files and notebooks of `folder`, refusing symlinks and huge files.

    A notebook `m.ipynb` stands for `m.py` when there is no `m.py`, or when `m.py` is still the
    untouched template (its sha256 is `stubs[m]`).
    """
    sub = Submission(name=name, folder=folder)
    notebooks = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.endswith(".ipynb"):
            notebooks.append(entry)
            continue
        if not entry.name.endswith(".py"):
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", entry.name):
            sub.notes.append(f"{entry.name} was left out: not a valid Python module name")
            continue
        data = _read_regular(entry.path, MAX_FILE_BYTES)
        if isinstance(data, str):
            sub.notes.append(f"{entry.name} was left out: {data}")
            continue
        if len(sub.files) >= MAX_FILES:
            sub.notes.append(f"{entry.name} was left out: more than {MAX_FILES} Python files")
            continue
        sub.files[entry.name] = data
    for entry in notebooks:
        _add_notebook(sub, entry, stubs or {})
    return sub


def _add_notebook(sub: Submission, entry: os.DirEntry[str], stubs: dict[str, str]) -> None:
    module = entry.name[: -len(".ipynb")]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", module):
        return
    existing = sub.files.get(f"{module}.py")
    if existing is not None and hashlib.sha256(existing).hexdigest() != stubs.get(module):
        sub.notes.append(f"both {module}.py and {entry.name} are present: {module}.py was graded")
        return
    data = _read_regular(entry.path, MAX_NOTEBOOK_BYTES)
    if isinstance(data, str):
        sub.files.pop(f"{module}.py", None)
        sub.unreadable[module] = f"{entry.name} could not be read: {data}"
        return
    try:
        extracted = module_from_notebook(data, entry.name)
    except NotebookError as exc:
        sub.files.pop(f"{module}.py", None)
        sub.unreadable[module] = str(exc)
        return
    sub.files[f"{module}.py"] = extracted.source.encode()
    sub.notes += extracted.notes
