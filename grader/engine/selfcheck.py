"""`grade check`: a student runs the visible checks on their own files, with no reference.

The checks and their frozen expected values come from the template's `checks/` folder; the
student's code runs in the same kind of worker as in official grading.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.course.loading import EXPECTED_FILE, Assignment, CourseError, load_assignments, load_frozen
from grader.course.template import STUBS_FILE
from grader.engine.grading import grade_submission
from grader.inputs.discover import read_submission
from grader.model import Limits, SubmissionResult, register_parameter_names


def find_checks_dir(start: Path) -> Path:
    """The `checks/` folder of the student's copy of the template (here or above)."""
    for folder in [start, *start.parents]:
        if (folder / "checks" / "course.toml").exists():
            return folder / "checks"
    raise CourseError(
        "no checks/ folder here: run `grade check` inside your copy of the student template"
    )


def run_visible_checks(
    work: Path, names: list[str] | None = None, limits: Limits | None = None
) -> tuple[SubmissionResult, list[Assignment]]:
    """Grade the student's files in `work` on the visible checks of `names` (default: all)."""
    checks_dir = find_checks_dir(work)
    assignments = load_assignments(checks_dir, names, hidden=False, mistakes=False)
    expected = {}
    for a in assignments:
        frozen = load_frozen(checks_dir / a.name / EXPECTED_FILE)
        missing = [c.name for c in a.checks if c.name not in frozen]
        if missing:
            raise CourseError(f"{a.name}: no frozen expected value for {missing[0]!r}")
        expected.update(frozen)
    stubs_file = checks_dir / STUBS_FILE
    stubs = json.loads(stubs_file.read_text()) if stubs_file.exists() else {}
    submission = read_submission(checks_dir.parent, "your work", stubs)
    for name, source in submission.files.items():
        register_parameter_names(name[: -len(".py")], source.decode("utf-8", "replace"))
    return grade_submission(submission, assignments, expected, limits), assignments
