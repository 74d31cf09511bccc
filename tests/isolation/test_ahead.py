"""Calls sent ahead (`StudentProcess.expect`): the worker runs exactly the calls, in exactly the
order, that one call at a time would have run; only the waiting between them is gone."""

from __future__ import annotations

import pytest

from grader.isolation import runner
from grader.isolation.runner import StudentProcess
from grader.model import Call, Limits, Planned, StudentError
from grader.worker import codec

SOURCE = b"""
import numpy as np

def first(x):
    print("ran first", x)
    return x + 1

def second(x):
    print("ran second", x)
    return 2 * x

def third(x):
    print("ran third", x)
    return x - 1

def raises(x):
    print("ran raises", x)
    raise ValueError("no")

def sneaky(x):
    print("ran sneaky", x)
    try:
        __import__("so" + "cket")
    except BaseException:
        pass
    return x

def loop(x):
    print("ran loop", x)
    while True:
        pass

def walk(x):
    print("ran walk", x)
    return x + 1 if x != 3 else x + 1.0  # 4.0 where the path has 4: equal, but not bit for bit
"""

FIRST, SECOND, THIRD = Call("m", "first", (1,)), Call("m", "second", (2,)), Call("m", "third", (3,))
RAISES, SNEAKY, LOOP = Call("m", "raises", (4,)), Call("m", "sneaky", (5,)), Call("m", "loop", (6,))


def _limits(**more) -> Limits:
    from grader.isolation import sandbox

    return Limits(sandbox="none", unsafe_run_as_root=sandbox.resolve("none").as_root, **more)


@pytest.fixture
def writes(monkeypatch) -> list[int]:
    """The number of calls in each write to a worker."""
    counted: list[int] = []
    original = codec.write_parts

    def write_parts(fd, parts, deadline=None):
        counted.append(sum(1 for p in parts if len(p) == 8 and p[:4] == codec.MAGIC))
        return original(fd, parts, deadline)

    monkeypatch.setattr(codec, "write_parts", write_parts)
    return counted


def _ran(student: StudentProcess) -> list[str]:
    return [line for line in student.output().splitlines() if line.startswith("ran ")]


def _plan(*calls: Call) -> list[Planned]:
    return [Planned(c) for c in calls]


def test_planned_calls_go_in_one_write_and_each_reply_answers_its_own_call(writes) -> None:
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        student.expect(_plan(FIRST, SECOND, THIRD))
        assert [student.call(FIRST), student.call(SECOND), student.call(THIRD)] == [2, 4, 2]
        assert writes == [3]
        assert _ran(student) == ["ran first 1", "ran second 2", "ran third 3"]
        assert student.calls == 3 and student.plan_misses == 0


def test_after_a_call_that_raises_the_calls_sent_behind_it_wait_for_their_turn(writes) -> None:
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        student.expect(_plan(FIRST, RAISES, SECOND, THIRD))
        assert student.call(FIRST) == 2
        with pytest.raises(StudentError) as caught:
            student.call(RAISES)
        assert caught.value.kind == "exception" and "ValueError: no" in caught.value.message
        assert _ran(student) == ["ran first 1", "ran raises 4"]  # second and third did not run
        assert student.call(SECOND) == 4 and student.call(THIRD) == 2
        assert writes == [4, 1, 1]  # their turn came: sent again (after an error, one at a time at first)
        assert _ran(student) == ["ran first 1", "ran raises 4", "ran second 2", "ran third 3"]
        assert student.plan_misses == 0


def test_a_planned_call_the_judge_skips_after_an_error_is_never_run(writes) -> None:
    # A judge that makes two calls stops after the first raises: its second is not asked for.
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        student.expect(_plan(RAISES, RAISES, FIRST))
        with pytest.raises(StudentError):
            student.call(RAISES)
        assert student.call(FIRST) == 2
        assert _ran(student) == ["ran raises 4", "ran first 1"]
        assert student.plan_misses == 0


def test_a_rule_broken_and_caught_is_reported_on_its_own_call_and_stops_the_rest(writes) -> None:
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        if not student.limits.runtime_guard:
            pytest.skip("the guard is off")
        student.expect(_plan(FIRST, SNEAKY, SECOND))
        assert student.call(FIRST) == 2
        with pytest.raises(StudentError) as caught:
            student.call(SNEAKY)  # it caught the refusal and returned: the report still counts
        assert caught.value.kind == "policy" and "socket" in caught.value.message
        with pytest.raises(StudentError) as after:
            student.call(SECOND)
        assert after.value.kind == "policy"
        assert _ran(student) == ["ran first 1", "ran sneaky 5"]


def test_a_call_sent_ahead_that_hangs_times_out_as_itself_and_the_rest_run_after(writes) -> None:
    with StudentProcess({"m.py": SOURCE}, _limits(call_timeout=0.5)) as student:
        student.expect(_plan(FIRST, LOOP, SECOND))
        assert student.call(FIRST) == 2
        with pytest.raises(StudentError) as caught:
            student.call(LOOP)
        assert caught.value.kind == "timeout" and "loop did not return within 0.5 seconds" in caught.value.message
        assert student.call(SECOND) == 4  # in a fresh worker, sent again
        assert _ran(student) == ["ran first 1", "ran loop 6", "ran second 2"]
        assert student.timed_out_seconds >= 0.5


def test_no_more_calls_are_sent_at_once_than_the_budget_can_pay_for(writes) -> None:
    calls = [Call("m", "first", (i,)) for i in range(10)]
    with StudentProcess({"m.py": SOURCE}, _limits(call_timeout=1.0, submission_timeout=3.5)) as student:
        student.expect(_plan(*calls))
        assert [student.call(c) for c in calls] == [i + 1 for i in range(10)]
    # each may use a whole second: never more calls in flight than the seconds left
    assert max(writes) == 3 and sum(writes) == 10


@pytest.mark.plan_misses
def test_a_plan_the_judges_did_not_follow_stops_its_worker_and_is_counted(writes) -> None:
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        student.expect(_plan(FIRST, SECOND))
        assert student.call(FIRST) == 2
        assert student.call(THIRD) == 2  # not the planned one: `second` ran for nothing
        assert student.plan_misses == 1
        assert student.call(SECOND) == 4  # asked later, it runs again, in a fresh worker


def test_without_room_to_send_ahead_every_call_is_its_own_write(writes, monkeypatch) -> None:
    monkeypatch.setattr(runner, "AHEAD_MOST", 1)
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        student.expect(_plan(FIRST, SECOND, THIRD))
        assert [student.call(FIRST), student.call(SECOND), student.call(THIRD)] == [2, 4, 2]
    assert writes == [1, 1, 1]


def _path(start: int, steps: int) -> list[Planned]:
    """`walk` from `start`, each step after the first planned on the previous one returning the
    path's next integer (as `Trajectory.calls_on_path` plans its steps)."""
    calls = [Call("m", "walk", (x,)) for x in range(start, start + steps)]
    return [Planned(c, on_path=i > 0, after=start + i if i else None) for i, c in enumerate(calls)]


def _walk(student: StudentProcess, path: list[Planned]) -> list:
    """A judge following `path` while the student returns its values, then its own steps."""
    got, on_path, out = None, True, []
    for k in range(len(path)):
        call = path[k].call if on_path else Call("m", "walk", (got,))
        got = student.call(call)
        on_path = on_path and k + 1 < len(path) and codec.same(got, path[k + 1].after)
        out.append(got)
    return out


def test_steps_on_the_reference_path_go_in_one_write_with_the_calls_after_them(writes) -> None:
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        path = _path(0, 3)
        student.expect(path + [Planned(FIRST)])
        assert _walk(student, path) == [1, 2, 3] and student.call(FIRST) == 2
        assert writes == [4]
        assert _ran(student) == ["ran walk 0", "ran walk 1", "ran walk 2", "ran first 1"]
        assert student.plan_misses == 0


def test_a_step_that_leaves_the_path_stops_the_steps_planned_on_it_and_they_are_made_from_its_value(writes) -> None:
    with StudentProcess({"m.py": SOURCE}, _limits()) as student:
        path = _path(2, 3)  # walk(2) = 3, walk(3) = 4.0 (not 4), then walk(4.0), not the planned walk(4)
        student.expect(path + [Planned(FIRST)])
        out = _walk(student, path)
        assert out == [3, 4, 5] and type(out[1]) is float
        assert student.call(FIRST) == 2
        assert _ran(student) == ["ran walk 2", "ran walk 3", "ran walk 4.0", "ran first 1"]
        assert writes == [4, 1, 1]  # the planned walk(4) and `first` were answered "not run"
        assert student.plan_misses == 0


def test_a_step_planned_on_the_path_that_the_worker_did_not_run_is_sent_again_when_asked_for(writes) -> None:
    # The judge reads 4.0 as on the path here (a path planned after 4.0, the worker sent 4):
    # the worker did not run the step, so the step is sent again on its own.
    with StudentProcess({"m.py": SOURCE.replace(b"x + 1.0", b"x + 1")}, _limits()) as student:
        calls = [Call("m", "walk", (x,)) for x in (3, 4)]
        student.expect([Planned(calls[0]), Planned(calls[1], on_path=True, after=4.0)])
        assert student.call(calls[0]) == 4
        assert student.call(calls[1]) == 5
        assert writes == [2, 1]
        assert _ran(student) == ["ran walk 3", "ran walk 4"] and student.plan_misses == 0


def test_after_a_call_that_raises_fewer_calls_go_at_once_then_twice_as_many_after_each_that_returns(writes) -> None:
    # Code that raises on every call is not sent 63 calls ahead of each only to answer them "not run".
    raising = [Call("m", "raises", (i,)) for i in range(6)]
    returning = [Call("m", "first", (i,)) for i in range(8)]
    with StudentProcess({"m.py": SOURCE}, _limits(call_timeout=1.0, submission_timeout=60.0)) as student:
        student.expect(_plan(*raising, *returning))
        for call in raising:
            with pytest.raises(StudentError):
                student.call(call)
        assert [student.call(c) for c in returning] == [i + 1 for i in range(8)]
        assert student.plan_misses == 0
    assert writes == [14, 1, 1, 1, 1, 1, 1, 2, 5]
