"""Find the submissions in a folder and read their files (the trusted side reads, never runs).

`submit/` either holds one folder per student, or is itself one submission (it holds module
files directly). A submission's files are its top-level `.py` files (the API modules and the
student's own helper modules); symlinks, oversized files and anything else are left out with
a note in the report.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

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


def safe_name(name: str) -> str:
    """A folder name usable as a report folder and a CSV cell."""
    cleaned = re.sub(r"[^A-Za-z0-9._@-]+", "_", name).strip("._") or "submission"
    return cleaned[:100]


def holds_modules(folder: Path, modules: set[str]) -> bool:
    """Whether `folder` itself is a submission (it holds an API module file)."""
    return any((folder / f"{m}{ext}").is_file() for m in modules for ext in (".py", ".ipynb"))


def find_submissions(root: Path, modules: set[str]) -> tuple[list[Submission], list[str]]:
    """The submissions under `root` (sorted by name) and warnings about entries skipped."""
    root = Path(root)
    if holds_modules(root, modules):
        return [read_submission(root, safe_name(root.resolve().name))], []
    submissions: list[Submission] = []
    warnings: list[str] = []
    used: set[str] = set()
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_symlink() or not entry.is_dir():
            warnings.append(f"skipped {entry.name}: not a submission folder")
            continue
        name = safe_name(entry.name)
        while name in used:
            name += "_"
        used.add(name)
        submissions.append(read_submission(entry, name))
    return submissions, warnings


def read_submission(folder: Path, name: str) -> Submission:
    """Read the top-level Python files of `folder`, refusing symlinks and huge files."""
    sub = Submission(name=name, folder=folder)
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.name.endswith(".py"):
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", entry.name):
            sub.notes.append(f"{entry.name} was left out: not a valid Python module name")
            continue
        if entry.is_symlink():
            sub.notes.append(f"{entry.name} was left out: it is a symbolic link")
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            sub.notes.append(f"{entry.name} was left out: {exc.strerror}")
            continue
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                sub.notes.append(f"{entry.name} was left out: not a regular file")
                continue
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            sub.notes.append(f"{entry.name} was left out: larger than {MAX_FILE_BYTES // 1024} KiB")
            continue
        if len(sub.files) >= MAX_FILES:
            sub.notes.append(f"{entry.name} was left out: more than {MAX_FILES} Python files")
            continue
        sub.files[entry.name] = data
    return sub
