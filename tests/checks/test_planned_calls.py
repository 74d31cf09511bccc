"""`planned_calls`: every judge of the course makes exactly the calls it declares, whatever the
student's calls return, and stops early only where one raises.

The worker is sent a check's declared calls together (`StudentProcess.expect`); a judge that
asked for other calls, or skipped one after a call that returned, would make the student's code
run calls that one call at a time would not have run. Here each judge of every check (and of
every hidden twin) meets fake students that return the reference's output, a wrong value of the
same shape, a value of the wrong kind, or raise, and the calls it asks for are recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.judges import Close, Raises, Sequence, Trajectory, calls_on_path, expects_error, planned_calls
from grader.engine.grading import _twin_of, call_plans
from grader.model import Call, Effects, StudentError
from grader.worker import codec


def _off(value: Any) -> Any:
    """A wrong value of the same structure: every number moved."""
    if isinstance(value, np.ndarray):
        return value * 2 + 1 if value.dtype.kind in "fiu" else value
    if isinstance(value, dict):
        return {k: _off(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_off(v) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value * 2 + 1
    return value


class Recorder:
    """A fake student answering every call from `answer(reference output)`, recording the calls."""

    def __init__(self, course: Any, answer: Any, raise_after: int | None = None) -> None:
        self.course, self.answer, self.raise_after = course, answer, raise_after
        self.asked: list[tuple[Call, bool]] = []
        self.last_effects = Effects()

    def call(self, call: Call, return_args: bool = False) -> Any:
        self.asked.append((call, return_args))
        if self.raise_after is not None and len(self.asked) > self.raise_after:
            raise StudentError("exception", "ValueError: planted")
        reference = self.course.reference
        try:
            out = reference._run(reference.function(call), call, return_args)
        except Exception as exc:  # a call the reference raises on (a `Raises` check)
            raise StudentError("exception", f"{type(exc).__name__}: {exc}") from None
        if return_args:
            return {"result": self.answer(out["result"]), "args": out["args"]}
        return self.answer(out)


def _every_check(course: Any) -> list[tuple[Any, Any]]:
    """`(check, expected)` of every check of the course and of every hidden twin."""
    found = []
    for assignment in course.assignments:
        for check in assignment.checks:
            found.append((check, course.expected[check.name]))
            twin, data = _twin_of(check, course.expected)
            if twin is not None:
                found.append((twin, data["expected"]))
    return found


ANSWERS = {"right": lambda out: out, "off": _off, "wrong kind": lambda out: "not a number"}


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_every_judge_asks_for_exactly_its_declared_calls(course, answer) -> None:
    planned_checks = 0
    for check, expected in _every_check(course):
        declared = planned_calls(check.judge)
        if declared is None:
            continue
        planned_checks += 1
        student = Recorder(course, ANSWERS[answer])
        try:
            check.judge.judge(student, expected)
        except StudentError:
            assert expects_error(check.judge) or answer != "right", check.name
        assert [(id(c), r) for c, r in student.asked] == [(id(c), r) for c, r in declared], check.name
    assert planned_checks > 200  # nearly every check of the course is planned


def test_a_judge_whose_call_raises_asks_for_a_prefix_of_its_declared_calls(course) -> None:
    for check, expected in _every_check(course):
        declared = planned_calls(check.judge)
        if not declared:
            continue
        for raise_after in range(len(declared)):
            student = Recorder(course, ANSWERS["right"], raise_after=raise_after)
            try:
                check.judge.judge(student, expected)
            except StudentError:
                pass
            asked = [(id(c), r) for c, r in student.asked]
            assert asked == [(id(c), r) for c, r in declared][: len(asked)], check.name
            assert len(asked) == raise_after + 1, check.name  # and it stopped at the one that raised


def test_a_trajectory_is_never_planned_and_a_table_plans_all_its_cases() -> None:
    step = Call("m", "step", (1.0,))
    assert planned_calls(Trajectory(step, gradient=lambda p: p)) is None
    cases = Sequence((Close(Call("m", "f", (1,))), Close(Call("m", "f", (2,)))))
    assert [c.args for c, _ in planned_calls(cases)] == [(1,), (2,)]
    assert planned_calls(Sequence((Close(step), Trajectory(step, gradient=lambda p: p)))) is None
    assert planned_calls(object()) is None  # a judge that does not say
    assert expects_error(Raises(step)) and not expects_error(Close(step))


def test_plans_follow_the_checks_and_stop_where_calls_depend_on_results(course) -> None:
    for assignment in course.assignments:
        twins = [_twin_of(check, course.expected) for check in assignment.checks]
        plans = call_plans(assignment.checks, twins, [], course.expected)
        flat = [(id(p.call), p.return_args, p.on_path) for i in sorted(plans) for p in plans[i]]
        made = []
        for i, check in enumerate(assignment.checks):
            twin, found = twins[i]
            for judge, expected in [(check.judge, course.expected[check.name])] + (
                    [(twin.judge, found["expected"])] if twin is not None else []):
                declared = planned_calls(judge)
                if declared is not None:
                    made += [(id(c), r, False) for c, r in declared]
                else:  # a trajectory: its steps along the reference's path, each after the first on a condition
                    made += [(id(p.call), p.return_args, p.on_path) for p in calls_on_path(judge, expected)]
        assert flat == made, assignment.name
        for i, plan in plans.items():
            assert {p.call.module for p in plan} == {assignment.checks[i].module}
        assert call_plans(assignment.checks, twins, assignment.modules, course.expected) == {}  # all missing


def _nudged(value: Any) -> Any:
    """Within any tolerance of `value`, but not the same bit for bit."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value * (1 + 1e-12) + 1e-300
    if isinstance(value, dict):
        return {k: _nudged(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_nudged(v) for v in value)
    return value


def test_a_trajectory_asks_for_its_calls_on_the_path_exactly_while_the_student_is_on_it(course) -> None:
    trajectories = [(c, e) for c, e in _every_check(course) if isinstance(c.judge, Trajectory)]
    assert len(trajectories) >= 2
    for check, expected in trajectories:
        path = calls_on_path(check.judge, expected)
        assert path is calls_on_path(check.judge, expected)  # the same objects for every student
        assert [p.on_path for p in path] == [False] + [True] * (len(path) - 1)
        on = Recorder(course, codec.round_trip)  # the reference's outputs, as a worker's reply reads
        assert check.judge.judge(on, expected).passed, check.name
        assert [id(c) for c, _ in on.asked] == [id(p.call) for p in path], check.name
        off = Recorder(course, _nudged)
        assert check.judge.judge(off, expected).passed, check.name  # right within the tolerance
        assert off.asked[0][0] is path[0].call
        assert all(c is not p.call for (c, _), p in zip(off.asked[1:], path[1:], strict=True))
        # each step after the first starts from the student's own previous point
        first = _nudged(codec.round_trip(course.reference.call(path[0].call)))
        point = first if check.judge.state_arg is None else first[0]
        assert codec.same(off.asked[1][0].args[check.judge.point_arg], point), check.name
