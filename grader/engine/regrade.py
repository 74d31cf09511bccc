"""Skip what was already graded: a content hash of everything a submission's result depends on.

Beside each submission's reports, `OUT/students/<submission>/.grade-hash` holds the sha256 of

- the submission's files as graded (after notebooks are turned into modules) and its notes;
- the assignments' settings, checks and mistake catalogs (`*.toml`, `*.py` of each folder)
  and `course.toml`;
- the reference modules;
- the grader itself (its version and its source files) and the time limits.

`OUT/students/<submission>/.grade-result.json` keeps the full result, so that an unchanged
submission still counts in `grades.csv` and the class summary without running again. The hash
is removed before a submission's reports are rewritten (`forget`) and written last
(`save_state`), each file atomically: a run stopped half-way, or by a full disk, leaves no hash,
and the submission is regraded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import grader
from grader.course.loading import Assignment
from grader.inputs.discover import Submission
from grader.model import CheckResult, SubmissionResult
from grader.reports.feedback import REPORT_FILES
from grader.reports.output import remove, write_atomic
from grader.sources import source_files

HASH_FILE = ".grade-hash"
RESULT_FILE = ".grade-result.json"


def _add(h: Any, label: str, data: bytes) -> None:
    h.update(f"{label}\0{len(data)}\0".encode())
    h.update(data)


def course_fingerprint(course_root: Path, assignments: list[Assignment], settings: Any = None) -> str:
    """The hash of everything but the submission that a result depends on."""
    h = hashlib.sha256()
    _add(h, "version", grader.__version__.encode())
    for name, path in source_files().items():
        _add(h, name, path.read_bytes())
    course_toml = Path(course_root) / "assignments" / "course.toml"
    if course_toml.exists():
        _add(h, "course.toml", course_toml.read_bytes())
    for a in assignments:
        _add(h, "assignment", a.name.encode())
        if a.folder is not None:
            for path in sorted(a.folder.iterdir()):
                if path.is_file() and path.suffix in (".py", ".toml"):
                    _add(h, f"{a.name}/{path.name}", path.read_bytes())
    for path in sorted((Path(course_root) / "reference").glob("*.py")):
        _add(h, f"reference/{path.name}", path.read_bytes())
    if settings is not None:
        _add(h, "settings", repr(settings).encode())
    return h.hexdigest()


def submission_fingerprint(submission: Submission, course: str) -> str:
    """The hash of one submission's result: its files and notes, and the course's hash."""
    h = hashlib.sha256()
    _add(h, "course", course.encode())
    for name in sorted(submission.files):
        _add(h, f"file/{name}", submission.files[name])
    for note in submission.notes:
        _add(h, "note", note.encode())
    for module, why in sorted(getattr(submission, "unreadable", {}).items()):
        _add(h, f"unreadable/{module}", why.encode())
    return h.hexdigest()


def load_unchanged(folder: Path, digest: str) -> SubmissionResult | None:
    """The stored result when `folder`'s reports are complete and were made from `digest`."""
    try:
        if (folder / HASH_FILE).read_text().strip() != digest:
            return None
        if not all((folder / name).is_file() for name in REPORT_FILES):
            return None
        return load_result(folder)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def load_result(folder: Path) -> SubmissionResult:
    """The result `save_state` stored in `folder` (raises OSError, ValueError, TypeError or KeyError)."""
    data = json.loads((folder / RESULT_FILE).read_text())
    data["checks"] = [CheckResult(**c) for c in data["checks"]]
    return SubmissionResult(**data)


def forget(folder: Path) -> None:
    """Remove the hash of `folder`'s reports (call before rewriting them)."""
    if folder.is_dir():
        remove(folder / HASH_FILE)


def save_state(folder: Path, result: SubmissionResult, digest: str) -> None:
    """Store the result and then its hash (call after the reports are written).

    Raises `grader.reports.output.OutputError` when a file cannot be written.
    """
    remove(folder / HASH_FILE)
    write_atomic(folder / RESULT_FILE, json.dumps(dataclasses.asdict(result)))
    write_atomic(folder / HASH_FILE, digest + "\n")
