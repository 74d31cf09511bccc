"""The perceptron assignment: correct work in any style gets full marks, every bug loses exactly
the points of the functions it breaks (and of their callers), with a named hint."""

from __future__ import annotations

import pytest

from conftest import (
    SUBMISSIONS,
    assert_full_marks,
    assert_loses_exactly,
    assert_zero_without_crashing,
    mutate,
    reference_source,
    template_source,
)


def _grade(course, source):
    return course.grade({"perceptron.py": source}, ["perceptron"])


def test_reference_gets_full_marks(course):
    result = _grade(course, reference_source("perceptron"))
    assert_full_marks(result)


def test_untouched_template_gets_zero_without_crashing(course):
    result = _grade(course, template_source("perceptron"))
    assert_zero_without_crashing(result)


@pytest.mark.parametrize("style", ["perceptron_loops", "perceptron_scipy", "perceptron_tanh"])
def test_correct_alternative_styles_get_full_marks(course, style):
    result = _grade(course, (SUBMISSIONS / style / "perceptron.py").read_text())
    assert_full_marks(result)


LECTURE_SIGN = ("delta = float((y_hat - y) * y_hat", "delta = float((y - y_hat) * y_hat")


def test_the_lectures_sign_is_named_in_both_neuron_functions(course):
    source = mutate(reference_source("perceptron"), *LECTURE_SIGN)
    result = _grade(course, source)
    hints = {c.function: c.hint or "" for c in result.checks if not c.passed}
    assert "lecture" in hints["sigmoid_neuron_grad"] and "lecture" in hints["sigmoid_neuron_step"]


STEP = "np.where(z >= 0, 1.0, 0.0)"
RULE = "    w_new = w + lr * error * x  # a new array: w itself is left alone\n"
RULE += "    b_new = float(b) + lr * error\n"
COUNT = "            if step(w @ X[i] + b) != y[i]:\n                n_errors += 1\n"
UPDATE = "            w, b = perceptron_update(X[i], y[i], w, b, lr)\n"
STOP = "        errors.append(n_errors)\n"
STOP += "        if n_errors == 0:  # a whole pass without a mistake: the data is separated\n"
STOP += "            break\n"
DESCENT = "    w_new = np.asarray(w, dtype=np.float64) - lr * dw\n"
TRAINING = {"step", "perceptron_predict", "perceptron_update", "train_perceptron"}
NEURON = {"sigmoid_neuron_grad", "sigmoid_neuron_step"}

# (id, text in reference/perceptron.py, replacement, functions that must lose points, mistake named)
MUTATIONS = [
    # Right values, with "overflow encountered in exp" for z below -709: the API forbids the warning.
    ("sigmoid-naive-overflows", "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return 1.0 / (1.0 + np.exp(-z))", {"sigmoid"}, "sigmoid overflows in exp (a RuntimeWarning)"),
    ("step-strict-at-zero", STEP, "np.where(z > 0, 1.0, 0.0)", TRAINING, "step(0) = 0"),
    ("step-sign", STEP, "np.where(z >= 0, 1.0, -1.0)", TRAINING, "sign (+1/-1) instead of step (1/0)"),
    ("sigmoid-exp-plus-z", "np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))", {"sigmoid"} | NEURON, "exp(+z) instead of exp(-z)"),
    ("predict-no-bias", "return step(X @ w + b)", "return step(X @ w)", {"perceptron_predict"},
     "bias forgotten"),
    ("predict-sigmoid", "return step(X @ w + b)", "return sigmoid(X @ w + b)", {"perceptron_predict"},
     "sigmoid instead of step"),
    ("update-w-in-place", RULE, "    w += lr * error * x\n    w_new = w\n    b_new = float(b) + lr * error\n",
     {"perceptron_update"}, "w updated in place"),
    ("update-sign-flipped", "error = float(y) - y_hat", "error = y_hat - float(y)",
     {"perceptron_update", "train_perceptron"}, "error sign flipped (yhat - y)"),
    ("update-delta-rule", "y_hat = float(step(w @ x + b))", "y_hat = float(w @ x + b)",
     {"perceptron_update", "train_perceptron"}, "raw z instead of step(z) (delta rule)"),
    ("update-bias-frozen", "b_new = float(b) + lr * error", "b_new = float(b)",
     {"perceptron_update", "train_perceptron"}, "bias not updated"),
    ("train-errors-after-update", COUNT + UPDATE, UPDATE + COUNT, {"train_perceptron"},
     "errors counted after the update"),
    ("train-never-stops", STOP, "        errors.append(n_errors)\n", {"train_perceptron"},
     "does not stop after an error-free epoch"),
    ("train-last-zero-missing", STOP,
     "        if n_errors == 0:\n            break\n        errors.append(n_errors)\n", {"train_perceptron"},
     "error-free epoch not recorded"),
    ("neuron-grad-lecture-sign", *LECTURE_SIGN, NEURON, "the lecture's sign: negated gradient"),
    ("neuron-grad-no-sigma-prime", "delta = float((y_hat - y) * y_hat * (1.0 - y_hat))",
     "delta = float(y_hat - y)", NEURON, "sigma'(z) forgotten"),
    ("neuron-step-uphill", DESCENT + "    b_new = float(b) - lr * db",
     "    w_new = np.asarray(w, dtype=np.float64) + lr * dw\n    b_new = float(b) + lr * db",
     {"sigmoid_neuron_step"}, "steps uphill (w + lr * grad)"),
    ("neuron-step-in-place", DESCENT, "    w_new = np.asarray(w, dtype=np.float64)\n    w_new -= lr * dw\n",
     {"sigmoid_neuron_step"}, "input modified in place"),
]


@pytest.mark.parametrize("mid,old,new,broken,mistake", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_one_mistake_loses_exactly_its_functions(course, mid, old, new, broken, mistake):
    result = _grade(course, mutate(reference_source("perceptron"), old, new))
    assert_loses_exactly(result, broken, mistake)
