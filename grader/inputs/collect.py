"""Turn what an instructor downloaded into submissions: folders, zips, flat files, LMS exports.

Layouts understood (`collect_submissions` detects them; they may be mixed in one folder):

- one folder per student (`submit/alice/forward.py`); the modules may sit deeper
  (`submit/alice/hw3/forward.py`) or in a zip inside the folder;
- one zip per student (`submit/alice.zip`);
- a flat folder of `<student>_<module>.py` or `.ipynb` files (`alice_forward.py`);
- LMS exports: Canvas (`smithbob_12345_678901_forward.py`, `_late_` and resubmission
  suffixes `forward-1.py` included), Moodle (`Bob Smith_123_assignsubmission_file_/...`, in
  folders or flat), Blackboard (`HW_bsmith_attempt_2024-01-31-23-59-59_forward.py`) and the
  generic `<name>_<id>_<timestamp>_<file>`;
- a Gradescope export (`submission_metadata.yml` beside `submission_<id>/` folders);
- any of these as one zip of the whole class (`grade submissions.zip`).

Everything is staged into one folder per student in a temporary directory and read with
`grader.inputs.discover.read_submission`, so the trusted side reads files in exactly one way. Zips are
read member by member: paths that escape the folder, symbolic links, encrypted members and
oversized content are refused, and a zip that expands past a cap (a zip bomb) is rejected whole.
Names that cannot be understood are reported as warnings; they never stop the batch.

Identity. A submission's id (its row in `grades.csv`, its report folder) is made from the name
the input gives (`report_name`: accents dropped, ASCII letters, digits and `._@-` only, at
most 100 characters; a name with no letter or digit becomes `student-<hash of the name>`). The
LMS id (Canvas user id, Moodle participant id, Gradescope submission id) is kept on the
submission. Files of one student (same name, same LMS id) are merged; two different
submissions whose ids would be equal, ignoring case, never share one: every one of them gets a
suffix, its LMS id or else a short hash of its input path (`victim-340934`, `victim-1f2e3d`),
and a warning says so. No submission keeps the plain name, so which one comes first, or who
chose a look-alike name on purpose, decides nothing. Every entry of the input folder is graded
or named in a warning with the reason, except the clutter that operating systems and LMSs add
(`.DS_Store`, `__MACOSX`, Moodle's online-text folders, Blackboard's receipts).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import struct
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader.inputs import submitted
from grader.inputs.discover import Submission, holds_modules, read_submission, safe_name
from grader.inputs.safe_read import read_regular
from grader.reports.inert import visible
from grader.tempdirs import owned

SOURCE_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class ZipLimits:
    """Caps on what one zip may expand to."""

    max_zip_bytes: int = 100 << 20
    """size of the zip file itself"""
    max_entries: int = 10_000
    """entries in its central directory (read before anything is parsed)"""
    max_member_bytes: int = 5 << 20
    """uncompressed size of one extracted member (a notebook may be this large)"""
    max_total_bytes: int = 20 << 20
    """uncompressed size of everything extracted; past it the zip is rejected (a bomb)"""
    max_members: int = 200
    """source files extracted"""


STUDENT_ZIP = ZipLimits()
CLASS_ZIP = ZipLimits(max_zip_bytes=4 << 30, max_entries=200_000, max_member_bytes=100 << 20,
                      max_total_bytes=4 << 30, max_members=100_000)

# LMS file and folder names. Each yields `student` and, for files, `file` (the name submitted).
_MOODLE = re.compile(
    r"^(?P<student>.+?)_(?P<id>\d+)_assignsubmission_(?P<kind>file|onlinetext)_(?P<file>.*)$"
)
_BLACKBOARD = re.compile(r"^.+?_(?P<student>[^_]+)_attempt_\d{4}(?:-\d{2}){5}(?:_(?P<file>.+))?$")
_CANVAS = re.compile(r"^(?P<student>[^_]+?)(?:_late)?_(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$", re.IGNORECASE)
_GENERIC_LMS = re.compile(
    r"^(?P<student>.+?)_(?P<id>\d+)_(?P<ts>\d{8}(?:[T_-]?\d{4,6})?|\d{4}-\d{2}-\d{2}(?:[T_-]\d{2}[-:.]?\d{2}(?:[-:.]?\d{2})?)?)"
    r"_(?P<file>.+)$"
)
_RESUBMISSION = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)$")  # Canvas: forward-1.py is the 2nd upload
_SKIP = ("__MACOSX", "__pycache__", ".ipynb_checkpoints")
_CLUTTER = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")
"""entries of an input folder that operating systems add: skipped without a word"""


class ZipRejected(Exception):
    """The whole zip is refused (too large, too many entries, a bomb, not a zip)."""


@dataclass
class Staged:
    """One student's files, in a folder ready for `read_submission`."""

    name: str
    """the submission's id in reports"""
    folder: Path
    """the folder that holds the student's modules (staged or original)"""
    source: Path
    """what the instructor gave: the student's folder, zip or first file"""
    notes: list[str] = field(default_factory=list)
    """what happened to the student's files on the way (shown in their report)"""
    rank: dict[str, int] = field(default_factory=dict)
    """`file name -> resubmission number` of files staged from an LMS export"""
    submitted_at: datetime | None = None
    """when it was submitted, where the layout says (`grader.inputs.submitted`); never a file's mtime"""
    submitted_from: str = ""
    """what says so: `gradescope`, `blackboard` or `git commit`"""
    lms_ids: dict[str, str] = field(default_factory=dict)
    """ids the layout gives beside the name (Gradescope's sid and email)"""
    student: str = ""
    """the student's name as the input gave it (before `report_name`)"""
    lms_id: str = ""
    """the LMS's id that tells this student or submission apart (Canvas user, Moodle participant,
    Gradescope submission), or empty: what `resolve_collisions` suffixes with"""


# ------------------------------------------------------------------ identity


def report_name(raw: str) -> str:
    """The submission id for a student's name: a plain file name, the same for Unicode twins.

    The name is NFKD-normalized and accents are dropped (`José` in either normal form is
    `Jose`), then `grader.inputs.discover.safe_name` keeps ASCII letters, digits and `._@-`. A name
    with no letter or digit left (`..`, `李明`, empty) becomes `student-<8 hex of its sha256>`.
    """
    folded = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    if not re.search(r"[A-Za-z0-9]", folded):
        digest = hashlib.sha256(unicodedata.normalize("NFC", raw).encode("utf-8", "replace")).hexdigest()
        return f"student-{digest[:8]}"
    return safe_name(folded)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:6]


def resolve_collisions(staged: list[Staged], root: Path) -> list[str]:
    """Give every submission its own id; returns a warning per collision.

    Ids that are equal ignoring case (they would share a report folder on a case-insensitive
    disk) all get a suffix: the LMS id when it tells them apart, else a hash of the input path.
    Repeated until no two ids are equal, so a name chosen to equal a suffixed one gains nothing.
    """
    warnings: list[str] = []
    for round_ in range(6):
        groups: dict[str, list[Staged]] = {}
        for s in staged:
            groups.setdefault(s.name.casefold(), []).append(s)
        clashes = [g for g in groups.values() if len(g) > 1]
        if not clashes:
            break
        for group in clashes:
            plain = group[0].name
            ids = [s.lms_id for s in group]
            for s in sorted(group, key=lambda x: str(x.source)):
                where = _relative(s.source, root)
                if round_ == 0 and s.lms_id and ids.count(s.lms_id) == 1:
                    suffix = s.lms_id
                elif round_ < 5:
                    suffix = _short_hash(f"{round_}:{where}")
                else:  # a last resort that cannot collide (distinct hashes of distinct paths did)
                    suffix = str(1 + sorted(group, key=lambda x: str(x.source)).index(s))
                s.name = f"{s.name[: 100 - len(suffix) - 1]}-{suffix}"
                s.notes.append(f"another submission is also named {plain}: yours is graded as {s.name}")
            shown = ", ".join(f"{s.name} (from {_relative(s.source, root)})"
                              for s in sorted(group, key=lambda x: x.name))
            warnings.append(f"{len(group)} submissions would be named {plain}; each is graded under its own "
                            f"name: {shown}")
    return warnings


def _relative(path: Path, root: Path) -> str:
    try:
        return visible(Path(path).relative_to(root).as_posix())
    except ValueError:
        return visible(Path(path).name)


# ------------------------------------------------------------------ names


@dataclass(frozen=True)
class NamedFile:
    """What a file's name says: whose it is and which file of theirs it is."""

    student: str
    file: str
    """the module file name to stage it as (`forward.py`), or the submitted name"""
    rank: int = 0
    """the LMS resubmission number (Canvas `forward-1.py` is 1)"""


def parse_lms_name(name: str) -> tuple[str, str] | None:
    """`(student, submitted file name)` for an LMS export's file name, or None."""
    for pattern in (_MOODLE, _BLACKBOARD, _CANVAS, _GENERIC_LMS):
        m = pattern.match(name)
        if m and m.group("file"):
            return m.group("student"), m.group("file")
    return None


def lms_id(name: str) -> str:
    """The student's id in an LMS export's file or folder name (Canvas user, Moodle participant), or ``."""
    ids = submitted.ids_from_name(name)
    return ids.get("canvas_id") or ids.get("moodle_participant") or ""


def parse_file_name(name: str, modules: set[str]) -> NamedFile | None:
    """Whose file `name` is and what to call it, or None when the name does not say."""
    lms = parse_lms_name(name)
    if lms is not None:
        student, file = lms
        return NamedFile(student, *_module_file(file, modules))
    stem, ext = os.path.splitext(name)
    for module in sorted(modules, key=len, reverse=True):
        for sep in ("_", "-", "."):  # `alice_Forward.py` is alice's forward.py too
            if stem.lower().endswith((sep + module).lower()) and len(stem) > len(module) + 1:
                return NamedFile(stem[: -len(module) - 1], module + ext)
    return None


def _module_file(file: str, modules: set[str]) -> tuple[str, int]:
    """The submitted name as a module file: `forward-1.py` -> (`forward.py`, 1)."""
    stem, ext = os.path.splitext(file)
    lowered = {module.lower(): module for module in modules}  # `Forward-1.py` is forward.py too
    m = _RESUBMISSION.match(stem)
    if m and m.group("stem").lower() in lowered:
        return lowered[m.group("stem").lower()] + ext, int(m.group("n"))
    if stem.lower() in lowered:
        return lowered[stem.lower()] + ext, 0
    for module in modules:  # `alice_forward.py` submitted to Canvas
        if stem.lower().endswith(("_" + module.lower(), "-" + module.lower())):
            return module + ext, 0
    return file, 0


def _student_of_folder(name: str) -> tuple[str, str]:
    """`(student, LMS id)` from an LMS folder name (Moodle), or `(name, "")`."""
    m = re.match(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_?$", name)
    return (m.group("student"), lms_id(name)) if m else (name, "")


# ------------------------------------------------------------------ zips


def _entry_count(path: Path) -> int:
    """Entries in a zip's central directory, read from its end record before parsing it."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - (1 << 16) - 22))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ZipRejected("not a zip file")
    count = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    locator = tail.rfind(b"PK\x06\x07", 0, at)
    if count == 0xFFFF and locator >= 0:  # zip64: the real count sits in the zip64 end record
        offset = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
        with open(path, "rb") as f:
            f.seek(offset)
            record = f.read(56)
        if record[:4] == b"PK\x06\x06":
            count = struct.unpack("<Q", record[32:40])[0]
    return count


def _member_path(raw: str) -> PurePosixPath | None:
    """The member's relative path, or None when it would escape the folder."""
    name = raw.replace("\\", "/")
    if not name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return PurePosixPath(*parts)


def extract_zip(
    path: Path, dest: Path, limits: ZipLimits, suffixes: tuple[str, ...] = SOURCE_SUFFIXES
) -> list[str]:
    """Extract the members of `path` ending in `suffixes` into `dest`; returns notes.

    Raises `ZipRejected` when the zip as a whole is refused. Members that escape the folder,
    symbolic links, encrypted or oversized members are skipped with a note.
    """
    notes: list[str] = []
    label = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ZipRejected(f"cannot be read: {exc.strerror}") from None
    if size > limits.max_zip_bytes:
        raise ZipRejected(f"the zip is larger than {limits.max_zip_bytes >> 20} MiB")
    if _entry_count(path) > limits.max_entries:
        raise ZipRejected(f"the zip has more than {limits.max_entries} entries")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ZipRejected(f"not a readable zip file ({exc})") from None
    too_big = f"larger than {limits.max_member_bytes >> 20} MiB"
    total = extracted = 0
    dest.mkdir(parents=True, exist_ok=True)
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            rel = _member_path(info.filename)
            shown = info.filename[:200]
            if rel is None:
                notes.append(f"{label}: {shown} was refused: its path leads outside the folder")
                continue
            if any(p.startswith(".") or p in _SKIP for p in rel.parts):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"{label}: {shown} was refused: it is a symbolic link")
                continue
            if not rel.name.endswith(suffixes):
                continue
            if info.flag_bits & 0x1:
                notes.append(f"{label}: {shown} was left out: it is encrypted")
                continue
            if info.file_size > limits.max_member_bytes:
                notes.append(f"{label}: {shown} was left out: {too_big}")
                continue
            if extracted >= limits.max_members:
                notes.append(f"{label}: files after the first {limits.max_members} were left out")
                break
            data = bytearray()
            try:
                with archive.open(info) as member:
                    # Stream with a cap: the sizes in the zip's headers may lie.
                    while chunk := member.read(1 << 16):
                        data += chunk
                        total += len(chunk)
                        if total > limits.max_total_bytes:
                            cap = limits.max_total_bytes >> 20
                            raise ZipRejected(f"the zip expands to more than {cap} MiB (a zip bomb?)")
                        if len(data) > limits.max_member_bytes:
                            break
            except ZipRejected:
                raise
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                notes.append(f"{label}: {shown} could not be read ({type(exc).__name__}: {exc})")
                continue
            if len(data) > limits.max_member_bytes:
                notes.append(f"{label}: {shown} was left out: {too_big}")
                continue
            target = dest.joinpath(*rel.parts)
            if target.exists():
                notes.append(f"{label}: {shown} was left out: two members have the same name")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL and O_NOFOLLOW: never write through anything that is already there.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            extracted += 1
    return notes


# ------------------------------------------------------------------ folders


def _module_root(folder: Path, modules: set[str], exclude: Path | None = None, depth: int = 4) -> Path | None:
    """The shallowest folder under `folder` that holds a module (symlinks and `exclude` not followed)."""
    level = [folder]
    for _ in range(depth + 1):
        found = [f for f in level if holds_modules(f, modules)]
        if found:
            return sorted(found)[0]
        below = []
        for f in level:
            try:
                entries = sorted(os.scandir(f), key=lambda e: e.name)
            except OSError:
                continue
            below += [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)
                      and not e.name.startswith(".") and e.name not in _SKIP
                      and (exclude is None or Path(e.path).resolve() != exclude)]
        level = below
    return None


def _copy_regular(src: Path, dest: Path, limit: int) -> str | None:
    """Copy a regular file without following links; returns why not, or None."""
    data = read_regular(src, limit, unit="MiB")
    if isinstance(data, str):
        return data
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return None


class _Stager:
    """Builds the list of `Staged` submissions for one input folder."""

    def __init__(self, modules: set[str], tmp: Path, exclude: Path | None = None) -> None:
        self.modules = modules
        self.tmp = tmp
        self.exclude = exclude
        """the output folder, when it lies inside the input: never a submission"""
        self.staged: list[Staged] = []
        self._flat: dict[tuple[str, str], Staged] = {}
        """`(name, LMS id) -> Staged` of the students staged file by file (flat files, LMS exports)"""
        self.warnings: list[str] = []
        self._n = 0

    def _scratch(self) -> Path:
        self._n += 1
        return self.tmp / f"s{self._n:05d}"

    def _new(self, student: str, source: Path, folder: Path | None = None, lms: str = "") -> Staged:
        staged = Staged(report_name(student), folder or self._scratch(), source, student=student, lms_id=lms)
        self.staged.append(staged)
        return staged

    def folder(self, path: Path, student: str, lms: str = "") -> Staged:
        """A student's folder: the modules at its top, deeper, or in a zip inside it."""
        root = _module_root(path, self.modules, self.exclude)
        if root is not None:
            staged = self._new(student, path, root, lms)
            staged.submitted_at, staged.submitted_from = submitted.git_commit_time(path), "git commit"
            if root != path:
                staged.notes.append(f"graded the files in {root.relative_to(path).as_posix()}/")
            return staged
        zips = sorted(p for p in path.iterdir() if p.suffix.lower() == ".zip" and not p.is_symlink())
        if zips:
            staged = self.zip(zips[0], student, lms)
            staged.source = path
            if len(zips) > 1:
                staged.notes.append(f"{len(zips)} zip files were found; only {zips[0].name} was graded")
            return staged
        staged = self._new(student, path, path, lms)
        staged.notes.append("none of the assignment's files was found in this submission")
        return staged

    def zip(self, path: Path, student: str, lms: str = "") -> Staged:
        """A student's zip: extracted with caps, then treated as their folder."""
        staged = self._new(student, path, lms=lms)
        out = staged.folder
        try:
            staged.notes += extract_zip(path, out, STUDENT_ZIP)
        except ZipRejected as exc:
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            staged.notes.append(f"{path.name} was rejected: {exc}")
            self.warnings.append(f"{path.name} ({staged.student}) was rejected: {exc}")
            return staged
        root = _module_root(out, self.modules)
        if root is None:
            staged.notes.append(f"none of the assignment's files was found in {path.name}")
        else:
            staged.folder = root
            if root != out:
                staged.notes.append(f"graded the files in {path.name}/{root.relative_to(out).as_posix()}/")
        return staged

    def file(self, path: Path, named: NamedFile, lms: str = "") -> None:
        """One file of a flat folder or an LMS export, added to its student's folder."""
        key = (report_name(named.student), lms)
        staged = self._flat.get(key)
        if staged is None:
            staged = self._flat[key] = self._new(named.student, path, lms=lms)
        if named.file.lower().endswith(".zip"):
            self._merge_zip(path, staged)
            return
        target = staged.folder / os.path.basename(named.file)
        if target.exists():
            if staged.rank.get(target.name, 0) >= named.rank:
                staged.notes.append(f"{path.name} was left out: a later {target.name} was graded")
                return
            staged.notes.append(f"an earlier {target.name} was replaced by {path.name}")
            target.unlink()
        why = _copy_regular(path, target, STUDENT_ZIP.max_member_bytes)
        if why:
            staged.notes.append(f"{path.name} was left out: {why}")
            self.warnings.append(f"{path.name} was left out: {why}")
            return
        staged.rank[target.name] = named.rank
        stamp = submitted.time_from_name(path.name)
        if stamp and (staged.submitted_at is None or stamp > staged.submitted_at):
            staged.submitted_at, staged.submitted_from = stamp, "blackboard"
        if target.name != path.name:
            staged.notes.append(f"{path.name} was graded as {target.name}")

    def _merge_zip(self, path: Path, staged: Staged) -> None:
        scratch = self._scratch()
        try:
            staged.notes += extract_zip(path, scratch, STUDENT_ZIP)
        except ZipRejected as exc:
            staged.notes.append(f"{path.name} was rejected: {exc}")
            self.warnings.append(f"{path.name} ({staged.student}) was rejected: {exc}")
            return
        root = _module_root(scratch, self.modules)
        if root is None:
            staged.notes.append(f"none of the assignment's files was found in {path.name}")
            return
        staged.folder.mkdir(parents=True, exist_ok=True)
        for entry in sorted(root.iterdir()):
            if not entry.is_file():
                continue
            if (staged.folder / entry.name).exists():
                staged.notes.append(f"{path.name}: {entry.name} was left out: another {entry.name} was graded")
            else:
                shutil.copyfile(entry, staged.folder / entry.name)

    def gradescope(self, root: Path) -> None:
        """A Gradescope export: `submission_metadata.yml` names the students of each folder."""
        import yaml

        try:
            meta = yaml.safe_load((root / "submission_metadata.yml").read_text(errors="replace"))
        except (yaml.YAMLError, OSError) as exc:
            self.warnings.append(f"submission_metadata.yml could not be read ({exc}); folders named by id")
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        for entry in sorted(root.iterdir(), key=lambda p: p.name):
            if entry.name == "submission_metadata.yml" or entry.name in _CLUTTER:
                continue
            if self._left_out(entry):
                continue
            if entry.is_symlink() or not entry.is_dir():
                self.warnings.append(f"skipped {visible(entry.name)}: not a submission folder")
                continue
            info = meta.get(entry.name)
            names = _submitters(info)
            if not names:
                self.warnings.append(f"{visible(entry.name)} is not in submission_metadata.yml: named by its folder")
            m = re.fullmatch(r"submission_(\d+)", entry.name)
            staged = self.folder(entry, "+".join(names) or entry.name, m.group(1) if m else "")
            staged.submitted_at, staged.submitted_from = submitted.gradescope_time(info), "gradescope"
            staged.lms_ids = submitted.gradescope_ids(info)
            if len(names) > 1:
                staged.notes.append(f"group submission: {', '.join(names)}")

    def _left_out(self, entry: Path) -> bool:
        """Whether `entry` is the output folder (then it is named in a warning)."""
        if self.exclude is None or not entry.is_dir() or entry.is_symlink():
            return False
        if entry.resolve() != self.exclude:
            return False
        self.warnings.append(f"skipped {visible(entry.name)}: it is the output folder (--out), not a submission")
        return True

    def entries(self, root: Path) -> None:
        """Every entry of a class folder, whatever its layout; each is graded or warned about."""
        for entry in sorted(root.iterdir(), key=lambda p: p.name):
            name = entry.name
            shown = visible(name)
            if name in _CLUTTER or name.startswith("._"):
                continue  # what macOS and Windows add to any folder
            if "_assignsubmission_onlinetext_" in name:
                continue  # Moodle's online-text answers hold no code
            if name.lower().endswith(".txt") and "_attempt_" in name:
                continue  # Blackboard's receipt beside each attempt
            if self._left_out(entry):
                continue
            lms_named = _student_of_folder(name)[1] or parse_lms_name(name) is not None
            if (name.startswith((".", "_")) or name in _SKIP) and not lms_named:
                self.warnings.append(f"skipped {shown}: a hidden or private entry (its name starts with "
                                     f"{name[0]!r})")
            elif entry.is_symlink():
                self.warnings.append(f"skipped {shown}: a symbolic link")
            elif entry.is_dir():
                self.folder(entry, *_student_of_folder(name))
            elif name.lower().endswith(".zip"):
                lms = parse_lms_name(name)
                if lms:
                    self.file(entry, NamedFile(*lms), lms_id(name))
                else:
                    self.zip(entry, name[:-4])
            elif name.endswith(SOURCE_SUFFIXES):
                named = parse_file_name(name, self.modules)
                if named is None:
                    example = f"{name.rsplit('.', 1)[0]}_{min(self.modules, default='module')}.py"
                    self.warnings.append(
                        f"skipped {shown}: the name does not say whose file it is and for which module "
                        f"(expected <student>_<module>.py, e.g. {visible(example)})")
                else:
                    self.file(entry, named, lms_id(name))
            else:
                self.warnings.append(f"skipped {shown}: not a submission folder, zip or Python file")


def _submitters(info: object) -> list[str]:
    """The names (or ids) of a Gradescope submission's submitters."""
    if not isinstance(info, dict):
        return []
    people = info.get(":submitters") or info.get("submitters") or []
    names = []
    for p in people if isinstance(people, list) else []:
        if isinstance(p, dict):
            who = p.get(":name") or p.get("name") or p.get(":sid") or p.get("sid") or p.get(":email")
            if who:
                names.append(str(who))
    return names


def stage(root: Path, modules: set[str], tmp: Path, exclude: Path | None = None) -> tuple[list[Staged], list[str]]:
    """Stage the submissions under `root` (a folder or a class zip) into `tmp`, one id each.

    `exclude` (the output folder, resolved) is never taken for a submission.
    """
    root = Path(root)
    stager = _Stager(modules, tmp, exclude)
    if root.is_file():
        if not root.name.lower().endswith(".zip"):
            return [], [f"{visible(root.name)} is not a folder or a zip file"]
        extracted = tmp / "class"
        try:
            stager.warnings += extract_zip(root, extracted, CLASS_ZIP, SOURCE_SUFFIXES + (".zip", ".yml"))
        except ZipRejected as exc:
            return [], [f"{visible(root.name)} was rejected: {exc}"]
        root = extracted
        visible_entries = [p for p in root.iterdir() if not p.name.startswith((".", "_"))]
        if len(visible_entries) == 1 and visible_entries[0].is_dir() and not holds_modules(root, modules):
            root = visible_entries[0]  # the zip held one folder: the class is inside it
    if holds_modules(root, modules):
        name = root.resolve().name
        return [Staged(report_name(name), root, root, student=name)], []
    if not (root / "submission_metadata.yml").exists():
        subdirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
        if len(subdirs) == 1 and (subdirs[0] / "submission_metadata.yml").exists():
            root = subdirs[0]  # assignment_<id>_export/ as downloaded
    if (root / "submission_metadata.yml").exists():
        stager.gradescope(root)
    else:
        stager.entries(root)
    warnings = stager.warnings + resolve_collisions(stager.staged, root)
    return sorted(stager.staged, key=lambda s: s.name), warnings


Reader = Callable[[Path, str], Submission]


def read_staged(staged: Staged, read: Reader = read_submission) -> Submission:
    """Read one staged submission (while its `staged_submissions` context is open)."""
    sub = read(staged.folder, staged.name)
    sub.folder = staged.source
    sub.notes[:0] = staged.notes
    sub.submitted_at = staged.submitted_at
    sub.submitted_from = staged.submitted_from if staged.submitted_at else ""
    sub.lms_ids = {**submitted.ids_from_name(staged.source.name), **staged.lms_ids}
    sub.student = staged.student
    sub.submission_id = staged.lms_id if staged.submitted_from == "gradescope" else ""
    return sub


@contextmanager
def staged_submissions(
    root: Path, modules: set[str], exclude: Path | None = None
) -> Iterator[tuple[list[Staged], list[str]]]:
    """The submissions under `root` staged (sorted by name, not yet read), and warnings, for as
    long as the context is open: `read_staged` reads each in turn, so that a caller can hold one
    at a time. `exclude` is as for `collect_submissions`."""
    with owned("inputs-") as tmp:
        yield stage(Path(root), modules, tmp, Path(exclude).resolve() if exclude else None)


def collect_submissions(
    root: Path, modules: set[str], read: Reader = read_submission, exclude: Path | None = None
) -> tuple[list[Submission], list[str]]:
    """The submissions under `root`, read into memory (sorted by name), and warnings.

    `read` reads one staged folder (default `grader.inputs.discover.read_submission`); `exclude` is
    a folder under `root` to leave out (the output folder), named in a warning when met.
    """
    with staged_submissions(root, modules, exclude) as (staged, warnings):
        submissions = [read_staged(s, read) for s in staged]
    warnings += [f"{sub.name}: {note}" for sub in submissions for note in sub.unused]
    return submissions, warnings


def collect_one(folder: Path, modules: set[str], name: str, read: Reader = read_submission,
                lms: str = "") -> Submission:
    """The one submission in `folder` (its modules at the top, deeper, or in a zip inside it).

    `lms` is the LMS's id of the submission (Gradescope's, in its container), kept on it.
    """
    with owned("inputs-") as tmp:
        stager = _Stager(modules, tmp)
        sub = read_staged(stager.folder(Path(folder), name, lms), read)
        sub.submission_id = lms
        return sub
