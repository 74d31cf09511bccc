"""Shared fixtures: the course loaded once, and a helper that grades files given as text."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

import grader
from grader.course import loading
from grader.engine.grading import grade_submission
from grader.inputs.discover import Submission
from grader.model import Limits, SubmissionResult

ROOT = Path(grader.__file__).resolve().parent.parent
"""the checkout under test: the one whose grader is imported"""
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"

# Hypothesis: nothing written into the checkout (its folder moves to the system's temporary one,
# and there is no example database), no deadline (a busy machine is not a failure), and the
# seed of a failure printed so it can be replayed. In CI (`CI` set) the examples are
# derandomized: the same run on every push.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"nn-grader-hypothesis-{os.getuid()}"))
settings.register_profile("dev", database=None, deadline=None, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# pytest-benchmark, when installed, makes an empty `.benchmarks/` in the working folder at
# start-up (this suite has no benchmarks): removed at the end if this run made it.
_BENCHMARKS = Path.cwd() / ".benchmarks"
_BENCHMARKS_BEFORE = _BENCHMARKS.exists()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _BENCHMARKS_BEFORE and _BENCHMARKS.is_dir() and not any(_BENCHMARKS.iterdir()):
        _BENCHMARKS.rmdir()


def grader_command(*args: str) -> list[str]:
    """The grader's command line, through this interpreter (never a `grade` found on PATH)."""
    return [sys.executable, "-m", "grader", *args]


def grader_env(**extra: str) -> dict[str, str]:
    """The environment for a grader subprocess: this checkout's grader first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def grade_on_path(folder: Path) -> dict[str, str]:
    """An environment whose PATH starts with a `grade` that is this checkout's grader run by this
    interpreter (for scripts that call `grade` by name, such as the Classroom workflow's step)."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "grade"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m grader "$@"\n')
    shim.chmod(0o755)
    return grader_env(PATH=f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")


def report_dir(out: Path, submission: str) -> Path:
    """Where a batch writes one submission's reports (one place to change if that moves)."""
    return Path(out) / "students" / submission


class Course(loading.Course):
    """The real course, with expected values computed once for the whole test session."""

    def __init__(self) -> None:
        super().__init__(ROOT, loading.Course.load(ROOT).assignments)
        self.expected  # noqa: B018  (computed now, once)

    def of(self, names: list[str]) -> list:
        return [a for a in self.assignments if a.name in names]

    def grade(self, files: dict[str, str | bytes], names: list[str], limits: Limits | None = None,
              name: str = "s") -> SubmissionResult:
        """Grade in-memory files on the assignments `names`."""
        data = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
        return grade_submission(Submission(name, Path("."), data), self.of(names), self.expected, limits)


def _environment_of_the_session(name: str, value: Path):
    """Set the environment variable `name` to `value` while the session runs (subprocesses
    inherit it), then put back what was there."""
    before = os.environ.get(name)
    os.environ[name] = str(value)
    yield
    if before is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = before


@pytest.fixture(autouse=True, scope="session")
def _gradebook_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory):
    """`grade` records each run in a gradebook beside the course by default: the tests' go elsewhere."""
    yield from _environment_of_the_session("GRADER_GRADEBOOK", tmp_path_factory.mktemp("gradebook") / "gradebook.db")


@pytest.fixture(autouse=True)
def _no_plan_misses(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Every test that grades in this process fails if calls sent ahead were run but not asked
    for (`StudentProcess.plan_misses`: a judge whose `calls()` do not hold), unless it says it
    makes them on purpose (`@pytest.mark.plan_misses`)."""
    from grader.isolation.runner import StudentProcess

    missed: list[str] = []
    drop = StudentProcess._drop_ahead

    def watched(self: StudentProcess) -> None:
        if self._ahead:
            missed.append(", ".join(f"{s.call.module}.{s.call.function}" for s in self._ahead))
        drop(self)

    monkeypatch.setattr(StudentProcess, "_drop_ahead", watched)
    yield
    if request.node.get_closest_marker("plan_misses") is None:
        assert not missed, f"calls sent ahead and never asked for: {missed}"


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
    """Points are lost on exactly the functions `broken`, each with a message; the catalogued
    `mistake` is named in a hint, or, when `mistake` is None (not in the catalog), no failed
    check names any mistake."""
    assert failing_functions(result) == broken
    assert 0 < result.score < result.max_score
    named = {c.mistake for c in result.checks if not c.passed}
    if mistake is None:
        assert named == {None}, f"no catalogued mistake should be named, got {named}"
    else:
        assert mistake in named, f"expected a hint naming {mistake!r}, got {named}"
    assert [c.name for c in result.checks if not c.passed and not c.message.strip()] == []


def unsandboxed(**more) -> Limits:
    """Limits of the unsandboxed tier, with `--unsafe-run-as-root` only where this machine needs
    it (grading as root where no other uid can run Python, e.g. Python under /root)."""
    from grader.isolation import sandbox

    return Limits(sandbox="none", unsafe_run_as_root=sandbox.resolve("none").as_root, **more)


def unsandboxed_args() -> list[str]:
    """`--sandbox none`, plus `--unsafe-run-as-root` where this machine needs it (see `unsandboxed`)."""
    from grader.isolation import sandbox

    return ["--sandbox", "none"] + (["--unsafe-run-as-root"] if sandbox.resolve("none").as_root else [])


def processes_running(marker: str) -> list[int]:
    """Processes whose working directory holds a forward.py containing `marker` (a slow
    submission's worker, found whatever it runs as)."""
    import os

    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cwd/forward.py").read_text():
                found.append(int(pid))
        except (OSError, UnicodeDecodeError):
            continue
    return found


@pytest.fixture(autouse=True, scope="session")
def _course_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory):
    """The course cache (`grader.course.cache`) of the tests' runs: a private folder of the session,
    not the user's ~/.cache (subprocesses inherit it)."""
    yield from _environment_of_the_session("GRADER_COURSE_CACHE", tmp_path_factory.mktemp("course-cache") / "cache")


def available_tiers() -> list[str]:
    """The isolation tiers this machine can grade in: `bwrap` where it works, and `none`."""
    from grader.isolation import sandbox

    try:
        sandbox.resolve("bwrap")
        return ["bwrap", "none"]
    except sandbox.SandboxError:
        return ["none"]
