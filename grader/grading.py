"""Grade one submission: run every check through one worker and collect the results.

Data flows one way: submission files -> worker (student code) -> plain results -> judges
(trusted comparison) -> `SubmissionResult`, which the reports turn into files.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from grader.course import Assignment
from grader.diagnosis import Evidence, Finding, diagnose, error_findings, is_degenerate, mistake_key
from grader.discover import Submission
from grader.runner import Limits, StudentProcess
from grader.spec import Check, StudentError, Verdict
from grader.twins import TWIN_SUFFIX, twin_of

# What a student reads when the worker could not produce a result, by error kind.
_PROBLEM_TITLES = {
    "missing-module": "file missing",
    "missing-function": "function missing",
    "import-error": "module does not import",
    "exception": "raised an exception",
    "timeout": "timed out",
    "crash": "crashed",
    "bad-output": "returned something that is not plain numeric data",
    "policy": "broke the rules",
    "skipped": "not run",
    "judge-error": "could not be judged (a grader problem; tell your instructor)",
}

# Error kinds that make a submission's grading status worth an instructor's look.
PROBLEM_KINDS = ("import-error", "timeout", "crash", "policy", "missing-module", "bad-output")


@dataclass
class CheckResult:
    """The outcome of one check for one submission."""

    assignment: str
    name: str
    module: str
    function: str
    max_score: float
    score: float
    visible: bool
    passed: bool
    message: str = ""
    hint: str | None = None
    mistake: str | None = None
    problem: str | None = None
    """the error kind when the student's code produced no result (see `StudentError`)"""
    diagnosis: str | None = None
    """facts about the function's mistake that hold on all its failing inputs (`grader.diagnosis`)"""
    hardcoded: bool = False
    """passed on the visible inputs, failed on its hidden twin's: answers may be hard-coded"""


@dataclass
class SubmissionResult:
    """Everything graded about one submission, ready for the reports."""

    submission: str
    checks: list[CheckResult]
    execution_time: float
    output: str = ""
    """what the student's code printed (capped)"""
    notices: list[str] = field(default_factory=list)
    """lines every report shows first (e.g. that the run was not sandboxed)"""
    student_seconds: float = 0.0
    """wall-clock time the student's code ran inside its calls (measured in the worker)"""
    timed_out_seconds: float = 0.0
    """time spent in calls that timed out"""

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    def assignment_scores(self) -> dict[str, tuple[float, float]]:
        """`{assignment: (score, max_score)}` in grading order."""
        out: dict[str, tuple[float, float]] = {}
        for c in self.checks:
            s, m = out.get(c.assignment, (0.0, 0.0))
            out[c.assignment] = (round(s + c.score, 6), round(m + c.max_score, 6))
        return out

    @property
    def status(self) -> str:
        """`ok`, or the kinds of problem met, most frequent first (e.g. `timeout; crash`)."""
        kinds = Counter(c.problem for c in self.checks if c.problem in PROBLEM_KINDS)
        return "; ".join(k for k, _ in kinds.most_common()) or "ok"


def describe_error(err: StudentError) -> str:
    """A student-facing account of a call that produced no result."""
    lines = []
    if err.call_text and err.kind in ("exception", "timeout", "crash", "bad-output"):
        lines.append(f"called {err.call_text}")
    lines.append(f"{_PROBLEM_TITLES.get(err.kind, err.kind)}: {err.message}")
    detail = err.detail.rstrip()
    if err.message and detail.endswith(err.message.rstrip()):  # a traceback ends with the message above
        detail = detail[: -len(err.message.rstrip())].rstrip()
    if detail:
        lines.append(detail)
    return "\n".join(lines)


def run_check(check: Check, student: Any, expected: Any) -> Verdict | StudentError:
    """Judge one check; a failure of the student's code comes back as the `StudentError`."""
    try:
        return check.judge.judge(student, expected)
    except StudentError as err:
        return err
    except Exception as exc:  # a bug in the judge must not stop the batch
        return StudentError("judge-error", f"{type(exc).__name__}: {exc}")


class Cancelled(BaseException):
    """Grading was stopped from outside (Ctrl-C on a batch); the result would be incomplete."""


def grade_submission(
    submission: Submission,
    assignments: list[Assignment],
    expected: dict[str, Any],
    limits: Limits | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> SubmissionResult:
    """Run every check of `assignments` on `submission` in one worker process.

    `cancelled` is asked before each check; when it says yes, `Cancelled` is raised (and the
    worker stopped) instead of returning a result that lacks the remaining checks.
    """
    started = time.monotonic()
    results: list[CheckResult] = []
    evidence: list[Evidence] = []
    limits = limits or Limits()
    timeouts = {m: min(a.call_timeout, limits.call_timeout) for a in assignments for m in a.modules}
    allowed = {m: a.allowed_imports for a in assignments for m in a.modules}
    with StudentProcess(submission.files, limits, timeouts, allowed) as student:
        for assignment in assignments:
            missing = [m for m in assignment.modules if f"{m}.py" not in submission.files]
            for check in assignment.checks:
                if cancelled is not None and cancelled():
                    raise Cancelled(submission.name)
                if check.module in missing:
                    outcome: Verdict | StudentError = StudentError(
                        "missing-module",
                        submission.unreadable.get(
                            check.module, f"{check.module}.py (or {check.module}.ipynb) is not in your submission"
                        ),
                    )
                else:
                    outcome = run_check(check, student, expected[check.name])
                    outcome = _with_twin(check, outcome, student, expected)
                results.append(_result(assignment.name, check, outcome))
                evidence.append(_evidence(check, outcome, expected.get(check.name)))
        output = student.output()
        notices = student.notices
        spent = (round(student.student_seconds, 4), round(student.timed_out_seconds, 4))
    _apply_diagnoses(results, evidence)
    for c in results:  # a line of a notebook's module is named by its cell (`Submission.translate`)
        c.message = submission.translate(c.message)
    return SubmissionResult(
        submission=submission.name,
        checks=_policy_costs_the_module(results),
        execution_time=round(time.monotonic() - started, 3),
        output=submission.translate(output),
        notices=notices + list(submission.notes),
        student_seconds=spent[0],
        timed_out_seconds=spent[1],
    )


TWIN_FAILED = (
    "passed on the visible inputs, but not on its hidden twin: the same kind of inputs with the "
    "same values in another order, run when your work is graded (code that only works for the "
    "visible inputs earns no points)"
)


def _with_twin(
    check: Check, outcome: Verdict | StudentError, student: Any, expected: dict[str, Any]
) -> Verdict | StudentError:
    """A visible check keeps its points only when its hidden twin (`grader.twins`) passes too."""
    found = expected.get(check.name + TWIN_SUFFIX)
    if not (check.visible and found and isinstance(outcome, Verdict) and outcome.passed):
        return outcome
    twin = twin_of(check, int(found["seed"]))
    if twin is None:  # the course changed since the expected values were computed
        return outcome
    other = run_check(twin, student, found["expected"])
    if isinstance(other, Verdict) and other.passed:
        return outcome
    if isinstance(other, StudentError):
        # Raising on other inputs is the sign of a lookup; a timeout or a crash there is not.
        return Verdict(False, f"{TWIN_FAILED}; there:\n{describe_error(other)}",
                       hardcoded=other.kind == "exception")
    return replace(other, message=f"{TWIN_FAILED}; there:\n{other.message}", hardcoded=True)


def _evidence(check: Check, outcome: Verdict | StudentError, expected: Any) -> Evidence:
    """What one check tells the diagnosis of its function."""
    function = f"{check.module}.{check.function}"
    if isinstance(outcome, Verdict):
        return Evidence(function, outcome.passed, outcome.findings, outcome.scopes, outcome.degenerate,
                        neutral=not outcome.related)
    # No output, or a property check that raised: nothing to relate, neither for nor against.
    if outcome.kind != "exception" or not (isinstance(expected, dict) and "raising" in expected):
        return Evidence(function, False, neutral=True)
    call = outcome.call
    findings = error_findings(outcome.message, call)
    raising = expected["raising"]
    # A catalogued mistake that raises on this input too is not contradicted by the exception.
    findings += [Finding(mistake_key(name), "", proven=False, mistake=name) for name in raising]
    return Evidence(function, False, tuple(findings), ("",), call is not None and is_degenerate(call), raised=True)


def _apply_diagnoses(results: list[CheckResult], evidence: list[Evidence]) -> None:
    """State each function's diagnosis on its failing checks (and only a confirmed mistake's hint)."""
    diagnoses = diagnose(evidence)
    for c, e in zip(results, evidence):
        if c.passed or e.neutral:
            continue
        d = diagnoses.get(e.function)
        if d is None:
            continue
        c.diagnosis = "\n".join(d.texts) or None
        if d.mistake and any(f.mistake == d.mistake for f in e.findings):
            c.hint, c.mistake = d.hint, d.mistake


def _policy_costs_the_module(results: list[CheckResult]) -> list[CheckResult]:
    """A module that broke the import policy loses all its points, also those checked before."""
    broken = {}
    for c in results:
        if c.problem == "policy":
            broken.setdefault(c.module, c.message)
    for c in results:
        if c.module in broken and c.problem != "policy":
            c.score, c.passed, c.problem, c.hint, c.mistake = 0.0, False, "policy", None, None
            c.message = broken[c.module]
    return results


def _result(assignment: str, check: Check, outcome: Verdict | StudentError) -> CheckResult:
    common = dict(
        assignment=assignment,
        name=check.name,
        module=check.module,
        function=check.function,
        max_score=check.points,
        visible=check.visible,
    )
    if isinstance(outcome, StudentError):
        return CheckResult(**common, score=0.0, passed=False, message=describe_error(outcome), problem=outcome.kind)
    return CheckResult(
        **common,
        score=check.points if outcome.passed else 0.0,
        passed=outcome.passed,
        message=outcome.message,
        hint=outcome.hint,
        mistake=outcome.mistake,
        hardcoded=outcome.hardcoded,
    )
