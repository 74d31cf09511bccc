"""Visible checks of the perceptron assignment: students run these with `grade check`.

Every input is fixed here, so a student sees exactly what is called; the expected values are
frozen from the reference into `expected.grd` by `grade build-template`.

Exactness: the perceptron only ever adds +-lr * x to w, so with integer data and lr a power of
two every intermediate value is an exact binary float, whatever the order of operations (loops,
`np.dot`, `@`). The decision at z == 0, which the API fixes to 1, then never depends on
rounding, and `train_perceptron` can be compared exactly, epoch by epoch.
"""

import numpy as np

from grader.authoring import EXACT, VALUE, Checks, Close, Gradient, Unchanged, central_difference, kind_of

c = Checks("perceptron")

# The four points of the two-input logic functions, and their labels.
LOGIC_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND = np.array([0.0, 0.0, 0.0, 1.0])
OR = np.array([0.0, 1.0, 1.0, 1.0])
NAND = np.array([1.0, 1.0, 1.0, 0.0])
XOR = np.array([0.0, 1.0, 1.0, 0.0])

STEP0_NOTE = "Here w @ x + b == 0 exactly, and step(0) = 1."
OVERFLOW_HINT = (
    "For z far below 0, np.exp(-z) overflows to inf: 1 / (1 + inf) = 0 is the right value, but "
    "NumPy warns 'overflow encountered in exp', and the API asks for no warning up to |z| = 1e4. "
    "Exponentiate only numbers <= 0: e = np.exp(-np.abs(z)), then 1 / (1 + e) where z >= 0 and "
    "e / (1 + e) where z < 0 (the handout, section 1)."
)
OVERFLOW = "sigmoid overflows in exp (a RuntimeWarning)"
SIGN_HINT = (
    "Your step made the loss larger: it goes uphill. Gradient descent subtracts the gradient, "
    "w - lr * dL/dw with dL/dw = (yhat - y) * sigma'(z) * x. The lecture's update line has the "
    "sign backwards (the handout's box 'The lecture's update line has its sign backwards')."
)


def unnamed(function, what, *args, points=1.0, tol=VALUE, note="", **kwargs):
    """A value check whose input proves no mistake: for inputs where several bugs give the same
    output (at z == 0 the delta rule's yhat = z = 0 is also what a step with step(0) = 0 gives;
    a single 0/1 prediction is matched by half of all bugs), a name would mislead. What such an
    input shows still rules out the mistakes that would give another output."""
    judge = Close(c.call(function, *args, **kwargs), tol, note=note, mistakes=False)
    return c.check(function, what, judge, points)


def scalar(function, z):
    """Expected: the reference on a Python number, as a number (a 0-d array or a float both pass)."""
    return lambda ref: float(getattr(ref.module("perceptron"), function)(z))


def neuron_loss(sigmoid, x, y, w, b):
    """L = 0.5 * (y - sigmoid(w @ x + b))**2, with the given sigmoid."""
    return 0.5 * (y - float(sigmoid(np.dot(w, x) + b))) ** 2


def neuron_gradient(x, y, w, b):
    """Expected: central differences of the REFERENCE's loss in w and in b, as [dw, db].

    Tolerance (the `Gradient` judge's, relative error 1e-6 with an absolute floor of 1e-8): L is
    smooth and of order 0.1 here, so central differences with h = 1e-5 are off by about 1e-11
    (h^2 L''' / 6 plus eps * L / h); every entry is at least 1e-3, and a correct analytic
    gradient differs from them by far less than 1e-6 relative. The catalogued mistakes (the
    slide's sign, a forgotten sigma') are off by 100% or more.
    """

    def expect(ref):
        sigmoid = ref.module("perceptron").sigmoid
        dw = central_difference(lambda v: neuron_loss(sigmoid, x, y, v, b), w)
        db = central_difference(lambda v: neuron_loss(sigmoid, x, y, w, float(v)), np.array(b))
        return [dw, float(db)]

    return expect


def never_separates(max_epochs):
    """XOR: `errors` has max_epochs entries, all positive counts (no epoch can be error-free)."""

    def predicate(got, expected):
        if not isinstance(got, (list, tuple)) or len(got) != 3:
            return f"expected (w, b, errors), got {kind_of(got)}"
        errors = got[2]
        if not isinstance(errors, (list, tuple)):
            return f"errors: expected a list of ints, got {kind_of(errors)}"
        if len(errors) != max_epochs:
            return (
                f"errors has {len(errors)} entries, expected max_epochs = {max_epochs}: XOR is not "
                "linearly separable, so every epoch has an error and training never stops early"
            )
        if any(isinstance(e, bool) or not isinstance(e, (int, float, np.number)) or e <= 0 for e in errors):
            return (
                f"errors = {list(errors)}: every entry must be a positive count, since no line "
                "separates XOR (the handout's proof), so no epoch can be free of errors"
            )
        return None

    return predicate


def lowers_loss(x, y, w, b):
    """sigmoid_neuron_step's (w_new, b_new) has a lower loss than (w, b)."""

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def predicate(got, expected):
        if not isinstance(got, (list, tuple)) or len(got) != 2:
            return f"expected (w_new, b_new), got {kind_of(got)}"
        w_new, b_new = got
        if not isinstance(w_new, np.ndarray) or w_new.shape != np.shape(w):
            return f"w_new: expected an array of shape {np.shape(w)}, got {kind_of(w_new)}"
        try:
            b_new = float(b_new)
        except (TypeError, ValueError):
            return f"b_new: expected a number, got {kind_of(b_new)}"
        before = neuron_loss(sigmoid, x, y, w, b)
        after = neuron_loss(sigmoid, x, y, w_new, b_new)
        if not after < before:
            return f"the loss went from {before:.6g} to {after:.6g}; one gradient-descent step must lower it"
        return None

    return predicate


# The handout's numbers: x = (1), w = (0), b = 0, y = 1 gives yhat = 0.5, dL/dw = dL/db = -0.125,
# and with lr = 1 the step gives w = b = 0.125 (the slide's sign gives -0.125).
HANDOUT = (np.array([1.0]), 1.0, np.array([0.0]), 0.0)
HANDOUT_NOTE = (
    "The handout's example: yhat = 0.5, sigma'(0) = 0.25, dL/dw = dL/db = (0.5 - 1) * 0.25 = -0.125."
)
# A generic neuron: three inputs, |z| < 1, so sigma'(z) is not small and no entry is tiny.
NEURON = (np.array([0.5, -1.0, 2.0]), 0.0, np.array([0.3, 0.2, -0.1]), 0.1)

CHECKS = [
    c.close("step", "1 where z >= 0 (z == 0 included), 0 elsewhere", np.array([-3.0, -0.5, 0.0, 0.25, 2.0]),
            points=2),
    c.close("step", "a number: step(0.0) is 1", 0.0, expect=scalar("step", 0.0)),
    c.close("sigmoid", "values on a vector", np.array([-5.0, -1.0, 0.0, 0.52, 2.0, 8.0])),
    c.close("sigmoid", "a number: sigmoid(0.52) ~ 0.627, the lecture's example", 0.52,
            expect=scalar("sigmoid", 0.52)),
    c.clean(c.close("sigmoid", "no overflow warning for |z| up to 1e4", np.array([-1e4, -745.0, 0.0, 745.0, 1e4])),
            hint=OVERFLOW_HINT, mistake=OVERFLOW),
    # z = X @ w + b = [1, 0.5, 0, 3, -2]: the third row sits exactly on the boundary (step(0) = 1);
    # the rows also tell apart a forgotten bias (X @ w = [0, -0.5, -1, 2, -3]) and a subtracted one.
    c.close("perceptron_predict", "a batch of five, one exactly on the boundary",
            np.array([[0.0, 0.0], [0.0, 0.25], [1.0, 1.0], [2.0, 0.0], [1.0, 2.0]]),
            np.array([1.0, -2.0]), 1.0, points=2),
    c.close("perceptron_update", "a missed positive (y = 1, yhat = 0) adds lr * x",
            np.array([1.0, 2.0]), 1, np.array([0.5, -1.0]), 0.0, 1.0),
    # w @ x + b = 0 exactly, so yhat = step(0) = 1 and the label 0 makes it an error.
    unnamed("perceptron_update", "a false positive at z == 0 (yhat = 1, y = 0) subtracts lr * x",
            np.array([2.0, 1.0]), 0, np.array([1.0, -1.0]), -1.0, 0.5, note=STEP0_NOTE),
    c.close("perceptron_update", "a correctly classified example (z = 2.5) changes nothing",
            np.array([1.0, 2.0]), 1, np.array([0.5, 1.0]), 0.0, 1.0),
    c.check("perceptron_update", "returns a new w and leaves the caller's w unchanged",
            Unchanged(c.call("perceptron_update", np.array([1.0, 2.0]), 1, np.array([0.5, -1.0]), 0.0, 1.0),
                      mistakes=True)),
    c.close("train_perceptron", "AND with lr = 1: w, b and errors exactly (the handout's example)",
            LOGIC_X, AND, lr=1.0, tol=EXACT, points=3),
    c.close("train_perceptron", "OR with lr = 1: w, b and errors exactly", LOGIC_X, OR, lr=1.0, tol=EXACT,
            points=2),
    c.satisfies("train_perceptron", "XOR: every epoch has errors, all max_epochs = 25 epochs run",
                LOGIC_X, XOR, lr=1.0, max_epochs=25, predicate=never_separates(25), points=2),
    c.check("sigmoid_neuron_grad", "the handout's example: dL/dw = dL/db = -0.125",
            Gradient(c.call("sigmoid_neuron_grad", *HANDOUT), neuron_gradient(*HANDOUT),
                     note=HANDOUT_NOTE + " Compared with central differences of L."), points=2),
    c.gradient("sigmoid_neuron_grad", "central differences of L for three inputs", *NEURON,
               expect=neuron_gradient(*NEURON), points=2),
    c.close("sigmoid_neuron_step", "the handout's example with lr = 1: w = b = 0.125", *HANDOUT, 1.0,
            note=HANDOUT_NOTE, points=2),
    c.satisfies("sigmoid_neuron_step", "one step with lr = 0.5 lowers the loss", *NEURON, 0.5,
                predicate=lowers_loss(*NEURON), hint=SIGN_HINT),
]
