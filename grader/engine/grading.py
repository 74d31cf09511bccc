"""Grade one submission: run every check through one worker and collect the results.

Data flows one way: submission files -> worker (student code) -> plain results -> judges
(trusted comparison) -> `SubmissionResult`, which the reports turn into files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from grader.checks.cases import is_degenerate
from grader.checks.diagnosis import error_findings, mistake_key
from grader.checks.findings import Evidence, Finding, diagnose
from grader.checks.judges import (
    calls_on_path,
    case_expected,
    compared,
    expects_error,
    judged_calls,
    planned_calls,
)
from grader.checks.twins import TWIN_SUFFIX, twin_of
from grader.course.loading import Assignment
from grader.inputs.discover import Submission
from grader.isolation.runner import Limits, StudentProcess, prepared_request
from grader.model import Call, Check, CheckResult, Planned, Problem, StudentError, SubmissionResult, Verdict


def describe_error(err: StudentError) -> str:
    """A student-facing account of a call that produced no result."""
    lines = []
    if err.call_text and err.kind in ("exception", "timeout", "crash", "bad-output"):
        lines.append(f"called {err.call_text}")
    lines.append(f"{err.kind.title}: {err.message}")
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
    more: list[Evidence] = []  # what the hidden twins saw, where it is not their check's outcome
    limits = limits or Limits()
    timeouts = {m: min(a.call_timeout, limits.call_timeout) for a in assignments for m in a.modules}
    allowed = {m: a.allowed_imports for a in assignments for m in a.modules}
    with StudentProcess(submission.files, limits, timeouts, allowed) as student:
        for assignment in assignments:
            missing = [m for m in assignment.modules if f"{m}.py" not in submission.files]
            twins = [_twin_of(check, expected) for check in assignment.checks]  # one object each, for both
            plans = call_plans(assignment.checks, twins, missing, expected)
            for i, check in enumerate(assignment.checks):
                if cancelled is not None and cancelled():
                    raise Cancelled(submission.name)
                if i in plans:
                    student.expect(plans[i])
                if check.module in missing:
                    outcome: Verdict | StudentError = StudentError(
                        "missing-module",
                        submission.unreadable.get(
                            check.module, f"{check.module}.py (or {check.module}.ipynb) is not in your submission"
                        ),
                    )
                else:
                    own = run_check(check, student, expected[check.name])
                    outcome, other = _with_twin(own, student, *twins[i])
                    if other is not None and outcome is own:  # the twin's input is another input
                        twin, found = twins[i]
                        more.append(_evidence(twin, other, found["expected"]))
                results.append(_result(assignment.name, check, outcome))
                evidence.append(_evidence(check, outcome, expected.get(check.name)))
        output = student.output()
        notices = student.notices
        spent = (round(student.student_seconds, 4), round(student.timed_out_seconds, 4))
    _apply_diagnoses(results, evidence, more)
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


def _with_twin(outcome: Verdict | StudentError, student: Any, twin: Check | None,
               found: Any) -> tuple[Verdict | StudentError, Verdict | StudentError | None]:
    """A visible check keeps its points only when its hidden twin (`grader.checks.twins`, with its
    expected data `found`) passes too: the check's outcome (the twin's where only the twin
    failed), and the twin's own (None without a twin)."""
    if twin is None:
        return outcome, None
    # Run whatever the visible check gave, so that the calls a submission gets are the course's
    # alone (`call_plans`); its result counts only where the visible check passed.
    other = run_check(twin, student, found["expected"])
    if not (isinstance(outcome, Verdict) and outcome.passed):
        return outcome, other
    if isinstance(other, Verdict) and other.passed:
        return outcome, other
    if isinstance(other, StudentError):
        # Raising on other inputs is the sign of a lookup; a timeout or a crash there is not.
        return Verdict(False, f"{TWIN_FAILED}; there:\n{describe_error(other)}",
                       hardcoded=other.kind == "exception"), other
    return replace(other, message=f"{TWIN_FAILED}; there:\n{other.message}", hardcoded=True), other


def _twin_of(check: Check, expected: dict[str, Any]) -> tuple[Check | None, Any]:
    """The hidden twin of a visible check, with its expected data; `(None, None)` for a check
    without one (hidden, or the course changed since the expected values were computed)."""
    found = expected.get(check.name + TWIN_SUFFIX)
    if not (check.visible and found):
        return None, None
    return _twin(check, int(found["seed"])), found


def _planned(check: Check, expected: Any) -> list[Planned] | None:
    """The calls `check` makes whatever they return (`planned_calls`), else those it makes while
    they return the reference's outputs (`calls_on_path`), else None."""
    calls = planned_calls(check.judge)
    if calls is not None:
        return [Planned(call, return_args) for call, return_args in calls]
    on_path = calls_on_path(check.judge, expected)
    return None if on_path is None else list(on_path)


def call_plans(checks: list[Check], twins: list[tuple[Check | None, Any]], missing: list[str],
               expected: dict[str, Any]) -> dict[int, list[Planned]]:
    """The calls the checks will make: `{i: calls}`, the calls of check `i` (with those of its
    twin, `twins[i]` as `_twin_of` gives it) and of the checks after it, up to the first that
    says nothing of its calls (`_planned`), a check of another module, or a module the
    submission lacks. Given to the worker's handle before check `i` (`StudentProcess.expect`)."""
    plans: dict[int, list[Planned]] = {}
    current: list[Planned] | None = None
    module = None
    for i, check in enumerate(checks):
        calls = None if check.module in missing else _planned(check, expected.get(check.name))
        twin, found = twins[i]
        if calls is not None and twin is not None:
            more = _planned(twin, found["expected"])
            calls = None if more is None else calls + more
        if calls is None:
            current = None
            continue
        if current is None or check.module != module:
            current = plans[i] = []
            module = check.module
        current.extend(calls)
        if expects_error(check.judge):  # the calls sent after it would be answered "not run"
            current = None
    return plans


def prepare_requests(assignments: list[Assignment], expected: dict[str, Any]) -> int:
    """Encode now the arguments of every call that `call_plans` plans (those a correct submission
    gets), so that grading the first submission of a run does not pay for it (some 60 ms for
    this course): each is encoded once per process (`prepared_request`) and the twins and plans
    made here are the objects `grade_submission` uses. The number of calls."""
    n = 0
    for assignment in assignments:
        twins = [_twin_of(check, expected) for check in assignment.checks]
        for plan in call_plans(assignment.checks, twins, [], expected).values():
            for planned in plan:
                prepared_request(planned.call)
            n += len(plan)
    return n


_TWINS: dict[tuple[int, int], tuple[Check, Check | None]] = {}
"""`(id(check), seed) -> (check, its twin)`: a twin depends on its check and seed alone, so it is
drawn once per process, not once per submission (the check is kept, so its id is not reused)"""
TWINS_KEPT = 4096
"""twins remembered at most (a few hundred checks per course)"""


_TWINS_LOCK = threading.Lock()


def _twin(check: Check, seed: int) -> Check | None:
    """`twin_of(check, seed)`, remembered (one object for all grading threads: its calls are
    the same `Call` objects, encoded once)."""
    key = (id(check), seed)
    with _TWINS_LOCK:
        kept = _TWINS.get(key)
        if kept is not None and kept[0] is check:
            return kept[1]
        twin = twin_of(check, seed)
        if len(_TWINS) >= TWINS_KEPT:
            _TWINS.clear()
        _TWINS[key] = (check, twin)
        return twin


def _evidence(check: Check, outcome: Verdict | StudentError, expected: Any) -> Evidence:
    """What one check tells the diagnosis of its function."""
    function = f"{check.module}.{check.function}"
    if isinstance(outcome, Verdict):
        what = compared(check.judge)
        if outcome.passed:
            right_on = judged_calls(check.judge) if what is not None else ()
            failed_on: tuple[Call, ...] = ()
        else:
            right_on, failed_on = outcome.right_on, outcome.failed_on or judged_calls(check.judge)
        return Evidence(function, outcome.passed, outcome.findings, outcome.scopes, outcome.degenerate,
                        neutral=not outcome.related, failed_on=failed_on, right_on=right_on, compared=what)
    # No output, or a property check that raised: nothing to relate, neither for nor against;
    # but the code ran and failed on this input (in a table, on the case that made `call`; a
    # path's later steps, made of the student's outputs, count as its first call).
    call = outcome.call
    judged = judged_calls(check.judge)
    ran = () if outcome.kind not in RAN else (call,) if any(call is c for c in judged) else judged
    if call is not None:
        expected = case_expected(check.judge, expected, call)  # a table: the case that raised
    if outcome.kind != "exception" or not (isinstance(expected, dict) and "raising" in expected):
        return Evidence(function, False, neutral=True, failed_on=ran)
    findings = error_findings(outcome.message, call, outcome.detail, expected)
    raising = expected["raising"]
    # A catalogued mistake that raises on this input too is not contradicted by the exception.
    findings += [Finding(mistake_key(name), "", proven=False, mistake=name) for name in raising]
    return Evidence(function, False, tuple(findings), ("",), call is not None and is_degenerate(call), raised=True,
                    failed_on=ran)


RAN = (Problem.EXCEPTION, Problem.TIMEOUT, Problem.CRASH, Problem.BAD_OUTPUT)
"""the problems of a call that ran the student's function on its input (and failed there)"""


def _apply_diagnoses(results: list[CheckResult], evidence: list[Evidence], more: Sequence[Evidence] = ()) -> None:
    """State each function's diagnosis on its failing checks (and only a confirmed mistake's hint).
    `evidence` is each result's; `more` is what other inputs of the same functions saw (the
    hidden twins of visible checks), which confirms or refutes a diagnosis as any input does."""
    diagnoses = diagnose(list(evidence) + list(more))
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
