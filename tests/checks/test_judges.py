"""The generic judges on their own, with a fake student: each can pass and each can fail.

A judge only calls `student.call(call, return_args)`, so a few lines of Python stand in for
the worker. Expected values are written out by hand from the judges' documented rules
(README "How a check decides"), not computed by the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from grader.checks.build import Checks
from grader.checks.compare import FLOAT32, VALUE, Tolerance
from grader.checks.judges import (
    GRADIENT_ATOL,
    Close,
    Differs,
    Gradient,
    Raises,
    Repeatable,
    Satisfies,
    Unchanged,
)
from grader.model import Call, StudentError


class FakeStudent:
    """A student whose functions are Python callables, called on copies like the worker does."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.calls = 0

    def call(self, call: Call, return_args: bool = False) -> Any:
        self.calls += 1
        args = [a.copy() if isinstance(a, np.ndarray) else a for a in call.args]
        try:
            result = self.fn(*args, **call.kwargs)
        except Exception as exc:
            raise StudentError("exception", f"{type(exc).__name__}: {exc}") from None
        return {"result": result, "args": args} if return_args else result


class FakeReference:
    """A reference holding one function and a catalogue of mistakes `(name, hint, fn)`."""

    def __init__(self, fn: Callable[..., Any], mistakes: tuple = ()) -> None:
        self.fn, self.mistakes = fn, mistakes

    def call(self, call: Call) -> Any:
        return self.fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in call.args], **call.kwargs)

    def function(self, call: Call) -> Callable[..., Any]:
        return self.fn

    def module(self, name: str) -> Any:
        raise AssertionError("not used")

    def mistake_outputs(self, call: Call, return_args: bool = False) -> list:
        out = []
        for name, hint, fn in self.mistakes:
            args = [a.copy() if isinstance(a, np.ndarray) else a for a in call.args]
            result = fn(*args, **call.kwargs)
            out.append((name, hint, {"result": result, "args": args} if return_args else result))
        return out


X = np.array([1.0, -2.0, 3.0])
CALL = Call("mod", "f", (X,))


def _judge(judge, student_fn, reference_fn=None, mistakes=()):
    ref = FakeReference(reference_fn or student_fn, mistakes)
    return judge.judge(FakeStudent(student_fn), judge.expected(ref))


# ------------------------------------------------------------------ Close


def test_close_passes_the_reference_and_fails_a_wrong_value_with_the_call_named():
    double = lambda x: 2 * x
    assert _judge(Close(CALL), double).passed
    verdict = _judge(Close(CALL), lambda x: 2 * x + np.array([0.0, 0.0, 1.0]), double)
    assert not verdict.passed
    assert verdict.message.startswith("called f(")
    assert "1 of 3 entries differs" in verdict.message
    assert verdict.mistake is None and verdict.hint is None


def test_close_names_the_catalogued_mistake_the_output_equals():
    mistakes = (("sign flipped", "Mind the sign.", lambda x: -2 * x), ("tripled", "Two, not three.", lambda x: 3 * x))
    verdict = _judge(Close(CALL), lambda x: 3 * x, lambda x: 2 * x, mistakes)
    # a finding: the grading names it once the function's other failing inputs agree (diagnosis)
    named = [(f.mistake, f.text) for f in verdict.findings if f.mistake]
    assert (verdict.passed, named) == (False, [("tripled", "Two, not three.")])


def test_value_tolerance_is_1e_6_relative_as_documented():
    # README: |got - expected| <= 1e-9 + 1e-6 |expected|. An entry of 1000 may move by 1e-3
    # (plus atol), not by 2e-3; a tolerance ten times wider would let 2e-3 through.
    ref = lambda x: np.array([1000.0])
    assert _judge(Close(Call("mod", "f", (0,))), lambda x: np.array([1000.0009]), ref).passed
    assert not _judge(Close(Call("mod", "f", (0,))), lambda x: np.array([1000.002]), ref).passed
    assert (VALUE.rtol, VALUE.atol) == (1e-6, 1e-9)
    assert (FLOAT32.rtol, FLOAT32.atol) == (1e-4, 1e-6)


# ------------------------------------------------------------------ Raises


def _raise_value_error(x):
    raise ValueError("bad input")


def test_raises_passes_the_declared_exception_only():
    judge = Raises(CALL)
    assert _judge(judge, _raise_value_error).passed
    wrong_type = _judge(judge, lambda x: 1 / 0, _raise_value_error)
    assert not wrong_type.passed and "expected ValueError, but it raised ZeroDivisionError" in wrong_type.message
    returned = _judge(judge, lambda x: x, _raise_value_error)
    assert not returned.passed
    assert "expected ValueError to be raised, but it returned a NumPy array of shape (3,)" in returned.message


def test_raises_refuses_a_reference_that_does_not_raise():
    with pytest.raises(AssertionError, match="does not raise ValueError"):
        Raises(CALL).expected(FakeReference(lambda x: x))


# ------------------------------------------------------------------ Unchanged


def _in_place(x):
    x *= 2
    return x


def test_unchanged_passes_a_copy_and_names_the_argument_changed_in_place():
    judge = Unchanged(CALL)
    assert _judge(judge, lambda x: 2 * x).passed
    verdict = _judge(judge, _in_place, lambda x: 2 * x)
    assert not verdict.passed
    assert "it changed its argument `x` in place" in verdict.message
    assert verdict.mistake == "input modified in place"
    assert verdict.hint == judge.hint


def test_unchanged_names_the_catalogued_mistake_that_changes_the_argument_the_same_way():
    def halves(x):
        x /= 2
        return x

    mistakes = (("halved in place", "Copy first.", halves), ("doubled in place", "Copy, then double.", _in_place))
    verdict = _judge(Unchanged(CALL, mistakes=True), _in_place, lambda x: 2 * x, mistakes)
    named = [(f.mistake, f.text, f.scope) for f in verdict.findings if f.mistake]
    assert (verdict.passed, named) == (False, [("doubled in place", "Copy, then double.", "args")])
    assert verdict.mistake == "input modified in place"  # certain, until the diagnosis names more


def test_unchanged_sees_a_change_inside_a_dict_argument():
    params = {"W": np.eye(2), "b": np.zeros(2)}

    def bump(p):
        p["b"] += 1
        return p

    class DictStudent(FakeStudent):
        def call(self, call, return_args=False):
            args = [{k: v.copy() for k, v in call.args[0].items()}]
            result = self.fn(*args)
            return {"result": result, "args": args} if return_args else result

    judge = Unchanged(Call("mod", "f", (params,)))
    expected = judge.expected(FakeReference(lambda p: p))
    assert judge.judge(DictStudent(lambda p: {k: v + 1 for k, v in p.items()}), expected).passed
    verdict = judge.judge(DictStudent(bump), expected)
    assert not verdict.passed and "['b']" in verdict.message


# ------------------------------------------------------------------ Repeatable and Differs


def test_repeatable_fails_code_that_gives_two_results_for_one_seed():
    rng = np.random.default_rng(0)
    assert _judge(Repeatable(CALL), lambda x: x * 3).passed
    verdict = _judge(Repeatable(CALL), lambda x: x + rng.random())
    assert not verdict.passed
    assert "two identical calls gave different results" in verdict.message


def test_repeatable_calls_the_student_twice():
    student = FakeStudent(lambda x: x)
    Repeatable(CALL).judge(student, None)
    assert student.calls == 2


def test_differs_fails_code_that_ignores_its_seed():
    first, second = Call("mod", "init", (1,)), Call("mod", "init", (2,))
    seeded = lambda seed: np.random.default_rng(seed).random(3)
    assert _judge(Differs(first, second), seeded).passed
    verdict = _judge(Differs(first, second), lambda seed: np.random.default_rng(0).random(3))
    assert not verdict.passed
    assert verdict.message == ("called init(argument 1=1) and init(argument 1=2)\n"
                               "both returned exactly the same result; they should differ")


# ------------------------------------------------------------------ Satisfies


def test_satisfies_passes_when_the_predicate_returns_none_and_fails_with_its_message():
    positive = lambda got, expected: None if np.all(got > expected) else "some entries are not positive"
    judge = Satisfies(CALL, positive, expect=lambda ref: 0.0, hint="Use exp.")
    assert _judge(judge, lambda x: np.exp(x)).passed
    verdict = _judge(judge, lambda x: x)
    assert (verdict.passed, verdict.hint) == (False, "Use exp.")
    assert "some entries are not positive" in verdict.message


def test_a_failing_property_is_related_to_the_references_output_when_the_data_has_it():
    from grader.course.loading import _for_students

    sums_to_one = lambda got, _: None if abs(float(np.sum(got)) - 1.0) < 1e-9 else "does not sum to one"
    judge = Satisfies(Call("m", "f", (np.array([1.0, 2.0, 5.0]),)), sums_to_one)
    normalize = lambda x: x / x.sum()
    data = judge.expected(FakeReference(normalize))
    assert data["reference"]["value"].tolist() == [0.125, 0.25, 0.625]
    # three times the reference's output: the verdict carries that fact for the diagnosis
    tripled = judge.judge(FakeStudent(lambda x: 3 * x / x.sum()), data)
    assert not tripled.passed and tripled.related and any(f.key.startswith("factor") for f in tripled.findings)
    # an output related to nothing stays neutral, as does every failure where the student's
    # template has the property's data only (the reference's output is never frozen)
    unrelated = judge.judge(FakeStudent(lambda x: np.array([0.31, -0.47, 0.93])), data)
    assert not unrelated.passed and not unrelated.related and unrelated.findings == ()
    frozen = _for_students(data)
    assert frozen == {"property": None}
    at_home = judge.judge(FakeStudent(lambda x: 3 * x / x.sum()), frozen)
    assert not at_home.passed and not at_home.related and "does not sum to one" in at_home.message
    # a reference whose own output fails the property is no model to relate to
    assert judge.expected(FakeReference(lambda x: x))["reference"] is None
    # nor is one too large to carry into every run's expected data (with its variants)
    from grader.checks.judges import PROPERTY_DIAGNOSIS_MAX

    big = Satisfies(Call("m", "f", (np.ones(PROPERTY_DIAGNOSIS_MAX + 1),)), sums_to_one)
    assert big.expected(FakeReference(normalize))["reference"] is None


# ------------------------------------------------------------------ Gradient


def _gradient_verdict(got: float, numerical: float):
    judge = Gradient(Call("mod", "g", (0,)), expect=lambda ref: np.array([numerical]))
    return _judge(judge, lambda x: np.array([got]), lambda x: np.array([numerical]))


def test_gradient_relative_error_bound_is_1e_6():
    # |a - n| / (|a| + |n|): 1 + 1e-6 against 1 is 5e-7 (passes); 1 + 4e-6 is 2e-6 (fails).
    assert _gradient_verdict(1 + 1e-6, 1.0).passed
    failed = _gradient_verdict(1 + 4e-6, 1.0)
    assert not failed.passed and "central differences" in failed.message


def test_gradient_absolute_floor_is_1e_8():
    # A tiny entry passes when off by less than 1e-8, whatever its relative error, and fails
    # when off by 5e-8 (relative error 2.5e-5): a floor ten times higher would pass it.
    assert GRADIENT_ATOL == 1e-8
    assert _gradient_verdict(1e-3 + 5e-9, 1e-3).passed
    assert not _gradient_verdict(1e-3 + 5e-8, 1e-3).passed


def test_close_in_relative_mode_uses_the_same_rule():
    tol = Tolerance(rtol=1e-6, atol=1e-8, mode="relative")
    judge = Close(Call("mod", "g", (0,)), tol=tol)
    assert not _judge(judge, lambda x: np.array([1.0 + 4e-6]), lambda x: np.array([1.0])).passed


def test_a_gradient_check_built_by_checks_keeps_its_bound():
    # Checks.gradient(..., max_relative_error=1e-6): 1 + 4e-6 against 1 (relative error 2e-6) fails.
    check = Checks("mod").gradient("g", "a derivative", 0, expect=lambda ref: np.array([1.0]),
                                   max_relative_error=1e-6)
    ref = FakeReference(lambda x: np.array([1.0]))
    assert check.judge.judge(FakeStudent(lambda x: np.array([1.0 + 1e-7])), check.judge.expected(ref)).passed
    assert not check.judge.judge(FakeStudent(lambda x: np.array([1.0 + 4e-6])), check.judge.expected(ref)).passed


# ------------------------------------------------------------------ Trajectory: the gradient per point


def test_a_trajectory_evaluates_its_gradient_once_per_distinct_point_and_judges_alike():
    # Gradient descent on f(x) = x^2 / 2 (gradient x) from x = 1 with lr = 0.5: x halves at each step.
    from grader.checks.judges import Trajectory

    seen: list[bytes] = []

    def gradient(x):
        seen.append(np.asarray(x).tobytes())
        return np.array(x, dtype=np.float64)

    judge = Trajectory(Call("opt", "step", (np.array([1.0]), np.array([1.0]), 0.5)), gradient, steps=4)
    ref = FakeReference(lambda x, g, lr: x - lr * g)
    expected = judge.expected(ref)
    assert [float(p[0]) for p in expected["path"]] == [0.5, 0.25, 0.125, 0.0625]
    points = len(seen)
    assert sorted(set(seen)) == sorted(np.array([v]).tobytes() for v in (1.0, 0.5, 0.25, 0.125))
    first = judge.judge(FakeStudent(lambda x, g, lr: x - lr * g), expected)
    second = judge.judge(FakeStudent(lambda x, g, lr: x - lr * g), expected)
    assert first.passed and second.passed
    assert len(seen) == points  # the same path asks for no new evaluation
    # A path within the tolerance but not bit for bit the reference's gets the gradient at its
    # own points, as before any remembering.
    close = judge.judge(FakeStudent(lambda x, g, lr: x - lr * g + 1e-12), expected)
    assert close.passed
    assert seen[points:] == [np.array([v + 1e-12]).tobytes() for v in (0.5,)] + [
        np.array([(0.5 + 1e-12) / 2 + 1e-12]).tobytes(), np.array([((0.5 + 1e-12) / 2 + 1e-12) / 2 + 1e-12]).tobytes()]
    wrong = judge.judge(FakeStudent(lambda x, g, lr: x - 0.25 * g), expected)
    assert not wrong.passed and "step 1 of 4" in wrong.message


def test_points_that_differ_only_in_the_sign_of_zero_or_the_dtype_are_different_points():
    from grader.checks.judges import _point_key

    assert _point_key(0.0) != _point_key(-0.0)
    assert _point_key(np.zeros(2)) != _point_key(np.zeros(2, dtype=np.int64))  # the same bytes
    assert _point_key({"W": np.zeros(2)}) != _point_key({"W": -np.zeros(2)})
    assert _point_key({"W": np.ones(2)}) == _point_key({"W": np.ones(2)})
    assert _point_key(np.zeros(10_000)) is None  # too large to be worth remembering


def test_a_twin_is_drawn_once_per_check_object_and_seed(monkeypatch):
    import grader.engine.grading as grading
    from grader.checks.twins import twin_of
    from grader.model import Check

    drawn: list[tuple[str, int]] = []

    def counting(check, seed):
        drawn.append((check.what, seed))
        return twin_of(check, seed)

    monkeypatch.setattr(grading, "twin_of", counting)
    rows = Call("mod", "f", (np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),))
    check = Check("mod", "f", "three rows", 1.0, Close(rows))
    twin = grading._twin(check, 7)
    assert grading._twin(check, 7) is twin and drawn == [("three rows", 7)]
    assert twin.judge.call.args[0].tolist() == twin_of(check, 7).judge.call.args[0].tolist()
    assert sorted(twin.judge.call.args[0].tolist()) == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    grading._twin(check, 11)
    same_content = Check("mod", "f", "three rows", 1.0, Close(rows))  # another course's check
    grading._twin(same_content, 7)
    assert drawn == [("three rows", 7), ("three rows", 11), ("three rows", 7)]


def test_a_property_of_a_result_holding_nan_is_judged_without_a_numpy_warning():
    # A student's NaN or inf reaches the check's own arithmetic (a mean, a norm): the check
    # fails, and the instructor's terminal gets no RuntimeWarning from the grader.
    import warnings

    def mean_near_half(got, _expected):
        mean = float(np.asarray(got).mean())
        return None if abs(mean - 0.5) < 0.1 else f"mean {mean}, expected about 0.5"

    judge = Satisfies(Call("m", "f", ()), mean_near_half)
    student = FakeStudent(lambda: np.array([np.inf, -np.inf, 0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = judge.judge(student, None)
    assert not verdict.passed and "mean nan" in verdict.message
