"""Grade a whole class: discover submissions, compute expected values once, grade, report.

One submission's failure (a crash, a hang, a hostile file) never stops the batch: each
submission is graded in its own worker, and its reports are written as soon as it is done.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from grader.course import Assignment, Reference, compute_expected, load_assignments
from grader.discover import Submission, find_submissions
from grader.grading import SubmissionResult, grade_submission
from grader.report import write_grades_csv, write_submission_reports
from grader.runner import Limits
from grader.template import stub_hashes


@dataclass
class Course:
    """Where the course material lives."""

    root: Path

    @property
    def assignments_dir(self) -> Path:
        return self.root / "assignments"

    @property
    def reference_dir(self) -> Path:
        return self.root / "reference"


def default_course_root() -> Path:
    """`$GRADER_COURSE`, or the checkout this grader was installed from."""
    env = os.environ.get("GRADER_COURSE")
    return Path(env) if env else Path(__file__).resolve().parent.parent


@dataclass
class BatchResult:
    """What one run graded and where the reports went."""

    results: list[SubmissionResult]
    assignments: list[Assignment]
    warnings: list[str]
    out: Path


def grade_folder(
    root: Path,
    out: Path,
    course: Course,
    names: list[str] | None = None,
    limits: Limits | None = None,
    jobs: int = 1,
    on_done: Callable[[SubmissionResult, int, int], None] | None = None,
) -> BatchResult:
    """Grade every submission under `root`; write per-submission reports and `grades.csv`."""
    assignments = load_assignments(course.assignments_dir, names)
    modules = {m for a in assignments for m in a.modules}
    submissions, warnings = find_submissions(root, modules, stub_hashes(course.root, sorted(modules)))
    reference = Reference(course.reference_dir, [m for a in assignments for m in a.mistakes])
    expected = compute_expected(assignments, reference)
    out.mkdir(parents=True, exist_ok=True)

    def one(sub: Submission) -> SubmissionResult:
        result = grade_submission(sub, assignments, expected, limits)
        write_submission_reports(result, out)
        return result

    results: list[SubmissionResult] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(one, s) for s in submissions]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            if on_done:
                on_done(result, len(results), len(submissions))
    results.sort(key=lambda r: r.submission)
    write_grades_csv(results, [(a.name, a.max_points) for a in assignments], out / "grades.csv")
    return BatchResult(results, assignments, warnings, out)
