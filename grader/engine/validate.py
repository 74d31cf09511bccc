"""`grade validate`: every check can pass and every check can fail.

The reference, submitted as a student would submit it, must score full marks on every check;
the generated template must score zero on every check (a check the template passes cannot
fail, so it grades nothing). The generated template must hold no line of a solution (the leak
detector, `grader.course.leaks`), and the visible checks' GitHub Classroom payload must fit its limit.
Catalogued mistakes that no check's inputs can reveal are listed too: their hints would never
be shown.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.course.loading import Course, CourseError
from grader.course.solutions import MarkerError, make_stub
from grader.course.template import generate_template, template_leaks
from grader.engine.grading import grade_submission
from grader.inputs.discover import Submission
from grader.model import SubmissionResult
from grader.reports.classroom import PayloadTooLarge, classroom_payloads


@dataclass
class Validation:
    """What `grade validate` found."""

    checks: int = 0
    problems: list[str] = field(default_factory=list)
    """checks the reference fails or the template passes"""
    unseen_mistakes: list[str] = field(default_factory=list)
    """catalogued mistakes that no check distinguishes from the correct output"""


def validate_course(course_root: Path) -> Validation:
    """Grade the reference and the template on every check of the course."""
    course = Course.load(course_root)
    assignments, expected = course.assignments, course.expected
    sources = {p.name: p.read_text() for p in sorted((course_root / "reference").glob("*.py"))}
    ref_files = {name: text.encode() for name, text in sources.items()}
    try:
        stub_files = {name: make_stub(text, f"reference/{name}").encode() for name, text in sources.items()}
    except MarkerError as exc:
        raise CourseError(str(exc)) from None
    found = Validation()
    with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
        generate_template(course_root, Path(tmp))
        found.problems += [f"leak: {leak}" for leak in template_leaks(course_root, Path(tmp))]
    as_ref = grade_submission(Submission("reference", course_root, ref_files), assignments, expected)
    as_stub = grade_submission(Submission("template", course_root, stub_files), assignments, expected)
    found.checks = len(as_ref.checks)
    for c in as_ref.checks:
        if not c.passed:
            found.problems.append(f"the reference fails {c.name}:\n    " + c.message.replace("\n", "\n    "))
    for c in as_stub.checks:
        if c.passed:
            found.problems.append(f"the untouched template passes {c.name}: this check cannot fail")
    visible = SubmissionResult("template", [c for c in as_stub.checks if c.visible], 0.0)
    try:
        classroom_payloads(visible)
    except PayloadTooLarge as exc:
        found.problems.append(str(exc))
    named = {name for e in expected.values() for name in _mistake_names(e)}
    found.unseen_mistakes = [
        f"{m.module}.{m.function}: {m.name}" for a in assignments for m in a.mistakes if m.name not in named
    ]
    return found


def _mistake_names(expected: Any) -> set[str]:
    """The catalogued mistakes a check's expected data can name (at any depth: tables, parts)."""
    names: set[str] = set()
    if isinstance(expected, dict):
        for key, value in expected.items():
            if key == "mistakes" and isinstance(value, list):
                names |= {m[0] for m in value if isinstance(m, (list, tuple)) and m and isinstance(m[0], str)}
            else:
                names |= _mistake_names(value)
    elif isinstance(expected, (list, tuple)):
        for value in expected:
            names |= _mistake_names(value)
    return names
