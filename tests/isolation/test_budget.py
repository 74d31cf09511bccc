"""A submission's time budget: all its calls together, reported when it is used up."""

from __future__ import annotations

import pytest

from grader.isolation.runner import BUDGET_NOTICE, StudentProcess
from grader.model import Call, Limits, StudentError

LOOPS = b"""
def a():
    while True:
        pass

def b():
    while True:
        pass

def quick():
    return 1
"""


def _error(student: StudentProcess, function: str) -> StudentError:
    with pytest.raises(StudentError) as caught:
        student.call(Call("m", function))
    return caught.value


def test_the_budget_cuts_the_call_that_reaches_it_and_skips_the_rest() -> None:
    limits = Limits(call_timeout=0.6, submission_timeout=1.0, sandbox="none", unsafe_run_as_root=True)
    with StudentProcess({"m.py": LOOPS}, limits) as student:
        first = _error(student, "a")  # its own limit (0.6 s) comes first: no budget hit yet
        assert first.kind == "timeout" and "0.6 seconds" in first.message
        assert not student.budget_hit and BUDGET_NOTICE[:30] not in " ".join(student.notices)
        second = _error(student, "b")  # 0.4 s of budget left: cut there
        assert second.kind == "timeout"
        assert student.budget_hit
        third = _error(student, "quick")
        assert third.kind == "skipped" and "total time budget" in third.message
        assert BUDGET_NOTICE.format(seconds=1.0) in student.notices
        assert student.timed_out_seconds >= 1.0  # both cut calls, by their own clocks


def test_a_submission_within_its_budget_has_no_notice_and_counts_its_calls_time() -> None:
    limits = Limits(sandbox="none", unsafe_run_as_root=True)
    with StudentProcess({"m.py": LOOPS}, limits) as student:
        assert student.call(Call("m", "quick")) == 1
        assert not student.budget_hit and student.timed_out_seconds == 0.0
        assert student.notices == limits_notices(student)
        assert 0.0 < student.student_seconds


def limits_notices(student: StudentProcess) -> list[str]:
    """The notices a submission has whatever its time: the tier's."""
    return student.isolation.notices
