"""Messages name a multi-value return as the handout does, and give the shapes of small arrays."""

from __future__ import annotations

import numpy as np

from conftest import ROOT
from grader.checks.judges import Close, Part
from grader.checks.returns import RETURN_NAMES, parse_return_names
from grader.course.loading import load_assignments
from grader.model import Call, describe_value

# From the course's handouts, read by eye (the API's documented return names).
DOCUMENTED = {
    "backprop.dense_backward": ("dA_prev", "dW", "db"),
    "forward.layer_forward": ("A", "Z"),
    "perceptron.perceptron_update": ("w_new", "b_new"),
    "forward.forward": ("Y_hat", "cache"),
    "regularization.regularized_loss_and_grads": ("loss_value", "grads"),
    "optimizers.adam_update": ("new_params", "new_state"),
}


class Student:
    """A student handle that returns a fixed value."""

    def __init__(self, value):
        self.value = value

    def call(self, call, return_args=False):
        return self.value


def test_handout_signatures_give_the_names_also_when_wrapped():
    text = ("- `f(x) -> (a, b)`: two.\n- `g(x) -> float`: one.\n"
            '- `h(X, loss="mse",\n  lam=0.0) -> (loss_value, grads)`:\n- `k(x) -> (p, q)` and `f(y) -> (z, w)`\n')
    assert parse_return_names(text) == {"f": ("a", "b"), "h": ("loss_value", "grads"), "k": ("p", "q")}


def test_the_course_and_the_student_template_register_the_handouts_names():
    RETURN_NAMES.clear()
    load_assignments(ROOT / "student_template" / "checks", hidden=False, mistakes=False)
    from_template = {k: RETURN_NAMES.get(k) for k in DOCUMENTED}
    RETURN_NAMES.clear()
    load_assignments(ROOT / "assignments", mistakes=False)
    assert {k: RETURN_NAMES.get(k) for k in DOCUMENTED} == DOCUMENTED == from_template


def test_a_wrong_second_value_is_named_like_the_handout():
    RETURN_NAMES["backprop.dense_backward"] = ("dA_prev", "dW", "db")
    call = Call("backprop", "dense_backward", (np.ones((2, 3)), np.ones((2, 4)), np.ones((3, 4))))
    right = (np.zeros((2, 4)), np.zeros((3, 4)), np.zeros(3))
    verdict = Close(call).judge(Student((right[0], right[1].T, right[2])), {"value": right, "mistakes": []})
    assert not verdict.passed
    assert "dW (the second of the 3 returned values): expected shape (3, 4), got shape (4, 3)" in verdict.message
    assert "[1]" not in verdict.message
    short = Close(call).judge(Student(right[:2]), {"value": right, "mistakes": []})
    assert "expected 3 values (dA_prev, dW, db), got 2" in short.message


def test_a_dict_inside_a_returned_value_is_named_by_its_path():
    RETURN_NAMES["forward.forward"] = ("Y_hat", "cache")
    call = Call("forward", "forward", ())
    right = (np.zeros((2, 1)), {"A0": np.zeros((2, 2)), "Z1": np.zeros((2, 1))})
    got = (right[0], {"A0": right[1]["A0"], "Z1": np.ones((2, 1))})
    message = Close(call).judge(Student(got), {"value": right, "mistakes": []}).message
    assert "cache['Z1'] (in cache, the second of the 2 returned values): 2 of 2 entries differ" in message


def test_a_part_names_its_value_and_its_inner_check_does_not_misname():
    RETURN_NAMES["backprop.dense_backward"] = ("dA_prev", "dW", "db")
    call = Call("backprop", "dense_backward", ())
    # the part itself is a 3-tuple: it must not be labelled with the whole result's names
    expected = {"value": (1.0, 2.0, 3.0), "mistakes": []}
    verdict = Part(Close(call), 1).judge(Student((0.0, (1.0, 2.0, 4.0), 0.0)), expected)
    assert "(this check looks at dW, the second of the 3 returned values)" in verdict.message
    assert "[2]: expected 3, got 4" in verdict.message and "db (" not in verdict.message


def test_arrays_shown_by_value_carry_their_shape():
    assert describe_value(np.array([[1.0, 2.0, 3.0]])) == "[[1, 2, 3]] (shape (1, 3))"
    assert describe_value(np.array([1.0, 2.0, 3.0])) == "[1, 2, 3] (shape (3,))"
    assert describe_value(np.array([1, 2], dtype=np.int32)) == "[1, 2] (shape (2,) int32)"
    assert describe_value(np.zeros((3, 4))) == "<array (3, 4) float64>"
