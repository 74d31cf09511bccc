"""Shared fixtures: the course loaded once, and a helper that grades files given as text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.course import Reference, compute_expected, load_assignments
from grader.discover import Submission
from grader.grading import SubmissionResult, grade_submission
from grader.runner import Limits

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"


class Course:
    """The real course, with expected values computed once for the whole test session."""

    def __init__(self) -> None:
        self.assignments = load_assignments(ROOT / "assignments")
        self.reference = Reference(ROOT / "reference", [m for a in self.assignments for m in a.mistakes])
        self.expected = compute_expected(self.assignments, self.reference)

    def of(self, names: list[str]) -> list:
        return [a for a in self.assignments if a.name in names]

    def grade(self, files: dict[str, str | bytes], names: list[str], limits: Limits | None = None,
              name: str = "s") -> SubmissionResult:
        """Grade in-memory files on the assignments `names`."""
        data = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
        return grade_submission(Submission(name, Path("."), data), self.of(names), self.expected, limits)


@pytest.fixture(autouse=True, scope="session")
def _gradebook_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory):
    """`grade` records each run in a gradebook beside the course by default: the tests' go elsewhere."""
    before = os.environ.get("GRADER_GRADEBOOK")
    os.environ["GRADER_GRADEBOOK"] = str(tmp_path_factory.mktemp("gradebook") / "gradebook.db")
    yield
    if before is None:
        os.environ.pop("GRADER_GRADEBOOK", None)
    else:
        os.environ["GRADER_GRADEBOOK"] = before


@pytest.fixture(scope="session")
def course() -> Course:
    return Course()


def reference_source(module: str) -> str:
    return (ROOT / "reference" / f"{module}.py").read_text()


def template_source(module: str) -> str:
    return (ROOT / "student_template" / f"{module}.py").read_text()


def failing_functions(result: SubmissionResult) -> set[str]:
    """The API functions that lost points."""
    return {c.function for c in result.checks if not c.passed}


def mutate(source: str, old: str, new: str) -> str:
    """`source` with `old` replaced by `new`; fails loudly if `old` is not there."""
    assert old in source, f"mutation target not found: {old!r}"
    return source.replace(old, new)


def assert_full_marks(result: SubmissionResult) -> None:
    """Every check passed; otherwise the failing checks are shown with their messages."""
    assert [c.name + "\n" + c.message for c in result.checks if not c.passed] == []
    assert result.score == result.max_score > 0


def assert_zero_without_crashing(result: SubmissionResult) -> None:
    """The untouched template: every check fails on its NotImplementedError, nothing else."""
    assert result.score == 0
    assert [c.name for c in result.checks if "NotImplementedError" not in c.message] == []
    assert result.status == "ok"


def assert_loses_exactly(result: SubmissionResult, broken: set[str], mistake: str | None) -> None:
    """Points are lost on exactly the functions `broken`, each with a message, and the
    catalogued `mistake` (when given) is named in a hint."""
    assert failing_functions(result) == broken
    assert 0 < result.score < result.max_score
    if mistake:
        named = {c.mistake for c in result.checks if not c.passed}
        assert mistake in named, f"expected a hint naming {mistake!r}, got {named}"
    assert [c.name for c in result.checks if not c.passed and not c.message.strip()] == []


def unsandboxed(**more) -> Limits:
    """Limits of the unsandboxed tier, with `--unsafe-run-as-root` only where this machine needs
    it (grading as root where no other uid can run Python, e.g. Python under /root)."""
    from grader import sandbox

    return Limits(sandbox="none", unsafe_run_as_root=sandbox.resolve("none").as_root, **more)


def unsandboxed_args() -> list[str]:
    """`--sandbox none`, plus `--unsafe-run-as-root` where this machine needs it (see `unsandboxed`)."""
    from grader import sandbox

    return ["--sandbox", "none"] + (["--unsafe-run-as-root"] if sandbox.resolve("none").as_root else [])
