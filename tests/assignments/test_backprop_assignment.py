"""The backpropagation assignment: correct work in any style gets full marks, every bug loses
exactly the points of the functions it breaks (and of their callers), with a named hint.

backprop.py imports the student's own forward.py: every submission here comes with the
reference forward.py, and only the backprop assignment is graded.
"""

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
    return course.grade({"backprop.py": source, "forward.py": reference_source("forward")}, ["backprop"])


def test_reference_gets_full_marks(course):
    result = _grade(course, reference_source("backprop"))
    assert_full_marks(result)


def test_untouched_template_gets_zero_without_crashing(course):
    result = _grade(course, template_source("backprop"))
    assert_zero_without_crashing(result)


@pytest.mark.parametrize("style", ["backprop_loops", "backprop_einsum", "backprop_from_activations"])
def test_correct_alternative_styles_get_full_marks(course, style):
    result = _grade(course, (SUBMISSIONS / style / "backprop.py").read_text())
    assert_full_marks(result)


def test_the_big_network_is_checked_along_directions(course):
    """A wrong factor on the 784-128-64-10 network fails the directional check, with its name."""
    source = mutate(reference_source("backprop"), "dA = mse_loss_grad(A_L, Y)", "dA = A_L - Y")
    result = _grade(course, source)
    big = [c for c in result.checks if "784-128-64-10" in c.name]
    assert len(big) == 2
    mse = next(c for c in big if "MSE" in c.name)
    assert not mse.passed and "random directions" in mse.message
    assert mse.mistake == "gradient of the summed loss (missing 1/m)"
    assert next(c for c in big if "cross-entropy" in c.name).passed


RESTORE = "            x[idx] = original  # the very same value, not (original + h) - h\n"
CENTRED = "            x[idx] = original - h\n            f_minus = float(f(x))\n        finally:\n" + RESTORE
CENTRED += "        grad[idx] = (f_plus - f_minus) / (2.0 * h)\n"
FORWARD = CENTRED.replace("original - h", "original").replace("(2.0 * h)", "h")
BACKWARD = {"backward", "train_xor"}

# (id, text in reference/backprop.py, replacement, functions that must lose points, mistake named)
MUTATIONS = [
    ("mse-no-half", "float(0.5 * np.sum((Y_hat - Y) ** 2) / m)", "float(np.sum((Y_hat - Y) ** 2) / m)",
     {"mse_loss"}, "missing 0.5"),
    ("mse-summed", "float(0.5 * np.sum((Y_hat - Y) ** 2) / m)", "float(0.5 * np.sum((Y_hat - Y) ** 2))",
     {"mse_loss"}, "summed instead of averaged"),
    ("mse-mean-of-entries", "float(0.5 * np.sum((Y_hat - Y) ** 2) / m)",
     "float(0.5 * np.mean((Y_hat - Y) ** 2))", {"mse_loss"}, "mean over every entry (np.mean)"),
    ("mse-grad-no-1/m", "    return (Y_hat - Y) / m\n", "    return Y_hat - Y\n",
     {"mse_loss_grad", "backward"}, "missing 1/m"),
    ("mse-grad-in-place", "    return (Y_hat - Y) / m\n", "    Y_hat -= Y\n    return Y_hat / m\n",
     {"mse_loss_grad", "backward"}, "input modified in place"),
    ("ce-summed", "float(-np.sum(Y * log_P) / m)", "float(-np.sum(Y * log_P))", {"cross_entropy_loss"},
     "summed instead of averaged"),
    ("ce-grad-no-1/m", "    return (P - Y) / m\n", "    return P - Y\n",
     {"softmax_cross_entropy_grad", "backward"}, "missing 1/m"),
    ("activation-backward-no-dA", "return dA * derivatives[activation](Z)",
     "return derivatives[activation](Z)", {"activation_backward"} | BACKWARD, "dA forgotten"),
    ("dense-dW-transposed", "dW = dZ.T @ A_prev", "dW = A_prev.T @ dZ", {"dense_backward"} | BACKWARD,
     "dW transposed"),
    ("dense-db-not-summed", "db = dZ.sum(axis=0)", "db = dZ", {"dense_backward"} | BACKWARD,
     "db not summed over the batch"),
    ("dense-extra-1/m", "db = dZ.sum(axis=0)", "db = dZ.mean(axis=0)", {"dense_backward", "backward"},
     "db averaged (extra 1/m)"),
    ("backward-no-output-derivative", 'delta = activation_backward(dA, cache[f"Z{L}"], activations[-1])',
     "delta = dA", {"backward"}, "output-activation derivative forgotten"),
    ("backward-wrong-layer-activation", "activations[layer - 2])", "activations[layer - 1])", {"backward"},
     "the wrong layer's activation (off by one)"),
    ("backward-summed-loss", "dA = mse_loss_grad(A_L, Y)", "dA = A_L - Y", {"backward"},
     "gradient of the summed loss (missing 1/m)"),
    ("backward-softmax-elementwise", "delta = A_L * (dA - np.sum(dA * A_L, axis=1, keepdims=True))",
     "delta = dA * A_L * (1.0 - A_L)", {"backward"}, "softmax treated element-wise (mse)"),
    ("backward-softmax-twice", "delta = softmax_cross_entropy_grad(A_L, Y)",
     "delta = softmax_cross_entropy_grad(A_L, Y) * A_L * (1.0 - A_L)", {"backward"},
     "softmax derivative applied after (P - Y)/m"),
    ("numgrad-forward-differences", CENTRED, FORWARD, {"numerical_gradient"},
     "forward instead of centred differences"),
    ("numgrad-not-restored", RESTORE, "            pass\n", {"numerical_gradient"}, "x not restored"),
    ("numgrad-over-h", "/ (2.0 * h)", "/ h", {"numerical_gradient"}, "divided by h instead of 2h"),
    ("numgrad-perturbs-a-copy", "    grad = np.zeros(np.shape(x), dtype=np.float64)\n",
     "    x = np.array(x, dtype=np.float64)\n    grad = np.zeros(np.shape(x), dtype=np.float64)\n",
     {"numerical_gradient"}, "perturbs a copy of x"),
    ("relerr-no-guard", "np.maximum(1e-8, np.abs(a) + np.abs(b))", "(np.abs(a) + np.abs(b))",
     {"relative_error"}, "no 1e-8 guard in the denominator"),
    ("relerr-mean", "return float(np.max(error))", "return float(np.mean(error))", {"relative_error"},
     "mean instead of max"),
]


@pytest.mark.parametrize("mid,old,new,broken,mistake", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_one_mistake_loses_exactly_its_functions(course, mid, old, new, broken, mistake):
    result = _grade(course, mutate(reference_source("backprop"), old, new))
    assert_loses_exactly(result, broken, mistake)
