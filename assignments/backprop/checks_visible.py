"""Visible checks of the backpropagation assignment: students run these with `grade check`.

Every input is fixed here (seeded), so a student sees exactly what is called; the expected
values are frozen from the reference into `expected.grd` by `grade build-template`.

Every gradient is judged against central differences of the REFERENCE's loss (see
`grader.checks.numgrad`), never against the reference's own analytic gradient: the `Gradient` judge
accepts a relative error up to 1e-6 per entry, and any entry whose absolute error is below
1e-8 (the rounding floor of central differences). Why that passes every correct gradient and
fails every real bug:

- the losses here are smooth and of order 1, in float64; with h = 1e-5 central differences
  are off by h^2 |f'''| / 6 + eps |f| / h, about 1e-11 in absolute terms, so an entry of
  size 1e-3 or more has a relative error near 1e-8 or less, and smaller entries pass on the
  absolute floor;
- ReLU and leaky ReLU have a kink at 0, where a difference step may cross it: every network
  below is drawn so that no pre-activation of a (leaky) ReLU layer is within 1e-3 of 0, while
  a step of h = 1e-5 moves a pre-activation by less than 1e-4;
- a correct analytic gradient differs from the reference's by rounding only (1e-15), and every
  catalogued mistake (a missing 1/m or 0.5, a transposition, a forgotten or misplaced
  derivative) changes some entry by 10% or more.

The student's own `numerical_gradient` is judged the other way round: against gradients known
in closed form, with the same tolerance (see `CLOSED_FORM`).
"""

import numpy as np

from grader.authoring import (
    Checks,
    Fn,
    Gradient,
    Unchanged,
    central_difference,
    dict_gradient,
    elementwise_derivative,
    kind_of,
)

c = Checks("backprop")
rng = np.random.default_rng(3_2024)

# --------------------------------------------------------------------------- networks
# A trusted forward pass, written here so that the inputs of `backward` (its cache) are plain
# data fixed in this file. The expected gradients come from the reference's loss.


def sigmoid(z):
    """The logistic function as `scipy.special.expit` computes it, `1 / (1 + exp(-z))` (NumPy's
    `exp` may differ from the C library's in the last bit). Not `scipy.special` itself: importing
    it cost every run 0.1 to 0.2 s. Not forward's reference either: this file ships to students."""
    with np.errstate(over="ignore"):  # exp(-z) = inf for z < -709: the value is 0, as expit's
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def softmax(Z):
    """Row-wise softmax over the last axis, as `scipy.special.softmax(Z, axis=-1)` computes it."""
    e = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
    "softmax": softmax,
}
KINK_MARGIN = 1e-3
"""no pre-activation of a (leaky) ReLU layer is closer than this to 0"""


def forward_cache(X, params, activations):
    """The API's cache: {"A0": X, "Z1": ..., "A1": ..., ..., "ZL": ..., "AL": ...}."""
    cache = {"A0": X}
    A = X
    for l, act in enumerate(activations, start=1):
        Z = A @ params[f"W{l}"].T + params[f"b{l}"]
        A = ACTIVATIONS[act](Z)
        cache[f"Z{l}"], cache[f"A{l}"] = Z, A
    return cache


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels)]


def network(sizes, activations, m, loss="mse", seed=0, pixels=False):
    """A network and a batch for `backward`: (Y, cache, params), away from every ReLU kink.

    Weights are N(0, 1/n_in) (pre-activations of order 1, so no unit saturates), biases
    N(0, 0.3^2), inputs N(0, 1) (or uniform in [0, 1), like pixel intensities); seeds are tried
    in turn until no pre-activation of a (leaky) ReLU layer is within KINK_MARGIN of 0. Targets
    fit the output: one-hot for softmax, in (0, 1) for sigmoid, in (-1, 1) for tanh, N(0, 1)
    otherwise.
    """
    for attempt in range(1000):
        r = np.random.default_rng([seed, attempt])
        params = {}
        for l in range(1, len(sizes)):
            params[f"W{l}"] = r.normal(0.0, 1.0 / np.sqrt(sizes[l - 1]), size=(sizes[l], sizes[l - 1]))
            params[f"b{l}"] = r.normal(0.0, 0.3, size=sizes[l])
        X = r.uniform(0.0, 1.0, size=(m, sizes[0])) if pixels else r.normal(size=(m, sizes[0]))
        cache = forward_cache(X, params, activations)
        kinks = [
            np.min(np.abs(cache[f"Z{l}"]))
            for l, act in enumerate(activations, start=1)
            if act in ("relu", "leaky_relu")
        ]
        if min(kinks, default=1.0) >= KINK_MARGIN:
            break
    else:  # pragma: no cover - a course-author error, caught when the checks are loaded
        raise AssertionError(f"no kink-free network {sizes} {activations}")
    out, k = activations[-1], sizes[-1]
    if out == "softmax":
        Y = one_hot(r.integers(k, size=m), k)
    elif out == "sigmoid":
        Y = r.uniform(0.05, 0.95, size=(m, k))
    elif out == "tanh":
        Y = r.uniform(-0.9, 0.9, size=(m, k))
    else:
        Y = r.normal(size=(m, k))
    return Y, cache, params


def reference_loss(ref, X, Y, activations, loss):
    """The reference's mean loss as a function of the parameters."""
    fw, bp = ref.module("forward"), ref.module("backprop")
    loss_of = bp.mse_loss if loss == "mse" else bp.cross_entropy_loss
    return lambda params: loss_of(fw.forward(X, params, activations)[0], Y)


def backward_check(what, sizes, activations, m, loss="mse", seed=0, points=1.0):
    """`backward` against central differences of the reference's loss, for every parameter."""
    Y, cache, params = network(sizes, activations, m, loss, seed)

    def expect(ref):
        return dict_gradient(reference_loss(ref, cache["A0"], Y, activations, loss), params)

    return c.gradient("backward", what, Y, cache, params, activations, loss=loss, expect=expect,
                      points=points)


# --------------------------------------------------------------------------- one layer


def activation_gradient(dA, Z, activation):
    """Expected dZ: the gradient of sum(dA * g(Z)) in Z, by central differences of the
    reference's g, entry by entry (g is element-wise, so two evaluations do it all)."""
    return lambda ref: dA * elementwise_derivative(getattr(ref.module("forward"), activation), Z)


def dense_gradient(dZ, A_prev, W, b):
    """Expected (dA_prev, dW, db): central differences of sum(dZ * dense_forward(A_prev, W, b))."""

    def expect(ref):
        dense = ref.module("forward").dense_forward

        def loss(A, W_, b_):
            return float(np.sum(dZ * dense(A, W_, b_)))

        return [
            central_difference(lambda v: loss(v, W, b), A_prev),
            central_difference(lambda v: loss(A_prev, v, b), W),
            central_difference(lambda v: loss(A_prev, W, v), b),
        ]

    return expect


def loss_gradient(loss, Y_hat, Y):
    """Expected dL/dY_hat: central differences of the reference's `loss`."""
    return lambda ref: central_difference(lambda v: getattr(ref.module("backprop"), loss)(v, Y), Y_hat)


def softmax_ce_gradient(Z, Y):
    """Expected dL/dZ for P = softmax(Z): central differences of Z -> CE(softmax(Z), Y), reference's."""

    def expect(ref):
        fw, bp = ref.module("forward"), ref.module("backprop")
        return central_difference(lambda z: bp.cross_entropy_loss(fw.softmax(z), Y), Z)

    return expect


# --------------------------------------------------------------------------- gradient checking

# CLOSED_FORM: the student's numerical_gradient (central differences, h = 1e-5) against the
# exact gradient, with the `Gradient` judge's tolerance (relative error 1e-6, absolute 1e-8).
# Correct central differences are off by about 1e-10 here. The functions are chosen so that the
# catalogued mistakes fail clearly: forward differences are off by h |f''| / 2, which the
# quadratic below (large curvature, small gradient) turns into a relative error of 1e-4 and the
# sines into 3e-5; dividing by h instead of 2h doubles everything; and the quadratic couples
# all entries through sum(x)^2, so an x left at x - h after each entry shifts the later entries'
# gradients by 2e-4 relative.
QUADRATIC = "float(np.sum((x - 0.25) ** 2) + np.sum(x) ** 2)"


def quadratic_gradient(x):
    return 2.0 * (x - 0.25) + 2.0 * np.sum(x)


SINES = "float(np.sum(np.sin(x)))"


def fn(body):
    """`f(x) = body`, sent to the worker as source."""
    return Fn(f"lambda x: {body}")


def closed_form(gradient, x):
    return lambda ref: gradient(np.asarray(x, dtype=np.float64))


def numgrad_check(what, body, gradient, x, points=1.0, note=""):
    call = c.call("numerical_gradient", fn(body), x)
    return c.check("numerical_gradient", what, Gradient(call, closed_form(gradient, x), note=note), points)


# An f that reads x through a closure, as in `lambda _: loss(params)` with x = params["W1"].
# The worker builds x as a view of a buffer (`...reshape(3, 4)`); f reads that buffer (`a.base`)
# whatever array it is given, and for an array that is not a view of it (a copy of x), the
# values x had, as a closure over x would. Perturbing a copy then gives a gradient of 0.
CLOSURE_X = "np.linspace(-1.0, 1.0, 12).reshape(3, 4)"
CLOSURE_F = "lambda a: float(np.sum(np.sin(a.base if a.base is not None else np.linspace(-1.0, 1.0, 12))))"
CLOSURE_NOTE = (
    "f reads x's memory, not the values of its argument, as a closure over x would (e.g. "
    "lambda _: loss(params) with x = params['W1']): perturb x itself, in place, and restore it."
)

# For the check that x is unchanged, the worker sends the arguments back after the call, and a
# plain function cannot cross the channel: f is an (empty) dict with a __call__ method.
RESTORE_F = 'type("f", (dict,), {"__call__": lambda self, x: float(np.sum(x ** 3))})()'
# Values for which restoring by arithmetic ((x + h) - 2h + h) is not exact in floating point.
RESTORE_X = np.array([[0.1, 0.7, -0.3], [1.9, -2.2, 0.35]])
RESTORE_HINT = (
    "numerical_gradient may change x while it works, but must put every entry back exactly: "
    "save old = x[idx], set x[idx] = old + h, then old - h, and finally x[idx] = old "
    "(a try/finally keeps it safe even if f raises)."
)

# --------------------------------------------------------------------------- train_xor

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])
XOR_SHAPES = {"W1": (4, 2), "b1": (4,), "W2": (1, 4), "b2": (1,)}


def classifies_xor(got, expected):
    """The returned params, run through a sigmoid-sigmoid forward pass, classify XOR."""
    if not isinstance(got, dict) or sorted(got) != sorted(XOR_SHAPES):
        return f"expected a dict with keys {sorted(XOR_SHAPES)}, got {kind_of(got)}"
    for key, shape in XOR_SHAPES.items():
        if not isinstance(got[key], np.ndarray) or got[key].shape != shape:
            return f"{key}: expected an array of shape {shape}, got {kind_of(got[key])}"
        if not np.all(np.isfinite(got[key])):
            return f"{key} contains nan or inf: the training diverged"
    A1 = sigmoid(XOR_X @ got["W1"].T + got["b1"])
    out = sigmoid(A1 @ got["W2"].T + got["b2"]).ravel()
    if not np.array_equal(out > 0.5, XOR_Y > 0.5):
        return (
            f"the outputs for [0,0], [0,1], [1,0], [1,1] are {np.round(out, 3).tolist()}; "
            "they must be above 0.5 exactly for [0,1] and [1,0]"
        )
    return None


XOR_HINT = (
    "If the outputs are all near 0.5, the network did not learn: check your gradients with "
    "numerical_gradient first (a wrong sign or factor), and start from forward.init_params(...) "
    "with the given seed, not from zeros (all hidden units would stay identical)."
)

# --------------------------------------------------------------------------- inputs

Y_hat = rng.uniform(-1.0, 1.0, size=(4, 3))
Y_reg = rng.uniform(-1.0, 1.0, size=(4, 3))
Z_cls = rng.normal(0.0, 1.5, size=(4, 3))
Y_cls = one_hot([0, 2, 1, 2], 3)
# Pre-activations for activation_backward: away from relu's kink (|z| >= 0.1).
Z_act = rng.uniform(0.1, 2.5, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
dA_act = rng.normal(size=(3, 4))
# dense_backward on a non-square layer (4 -> 3) and a square one (3 -> 3): only on a square layer
# does a transposed dW have the right shape, so only there must the values tell.
dZ_43, A_43, W_43, b_43 = (rng.normal(size=s) for s in [(5, 3), (5, 4), (3, 4), 3])
dZ_33, A_33, W_33, b_33 = (rng.normal(size=s) for s in [(4, 3), (4, 3), (3, 3), 3])

CHECKS = [
    # losses: several outputs per example, so that a mean over every entry differs from the API's
    c.close("mse_loss", "a batch of 4 with 3 outputs", Y_hat, Y_reg, points=2),
    c.gradient("mse_loss_grad", "central differences of mse_loss, batch of 4", Y_hat, Y_reg,
               expect=loss_gradient("mse_loss", Y_hat, Y_reg), points=2),
    c.close("cross_entropy_loss", "softmax outputs of a batch of 4, one-hot targets", softmax(Z_cls), Y_cls,
            points=2),
    c.gradient("softmax_cross_entropy_grad", "central differences of cross_entropy_loss(softmax(Z), Y) in Z",
               softmax(Z_cls), Y_cls, expect=softmax_ce_gradient(Z_cls, Y_cls), points=2),
    # one layer backwards
    c.gradient("activation_backward", "sigmoid: central differences", dA_act, Z_act, "sigmoid",
               expect=activation_gradient(dA_act, Z_act, "sigmoid")),
    c.gradient("activation_backward", "relu: central differences (away from 0)", dA_act, Z_act, "relu",
               expect=activation_gradient(dA_act, Z_act, "relu")),
    c.raises("activation_backward", "ValueError for softmax", dA_act, Z_act, "softmax"),
    c.gradient("dense_backward", "a 4 -> 3 layer, batch of 5: central differences", dZ_43, A_43, W_43,
               expect=dense_gradient(dZ_43, A_43, W_43, b_43), points=2),
    c.gradient("dense_backward", "a square 3 -> 3 layer, batch of 4: central differences", dZ_33, A_33, W_33,
               expect=dense_gradient(dZ_33, A_33, W_33, b_33), points=2),
    # the backward pass
    backward_check("the lecture's 4-layer sigmoid network, MSE, batch of 5", [3, 4, 4, 3, 2],
                   ["sigmoid"] * 4, 5, seed=1, points=3),
    backward_check("relu -> sigmoid, MSE, batch of 4", [4, 5, 2], ["relu", "sigmoid"], 4, seed=2, points=2),
    backward_check("tanh -> softmax, cross-entropy, batch of 5", [4, 6, 3], ["tanh", "softmax"], 5,
                   loss="cross_entropy", seed=3, points=2),
    backward_check("one linear layer, MSE, batch of 1", [3, 2], ["linear"], 1, seed=4),
    c.raises("backward", "ValueError for cross-entropy without a softmax output",
             *network([3, 2], ["sigmoid"], 2, seed=5), ["sigmoid"], loss="cross_entropy"),
    # gradient checking
    numgrad_check("a quadratic of a vector", QUADRATIC, quadratic_gradient,
                  np.array([0.3, -0.1, 0.2, -0.35, 0.05]), points=2),
    numgrad_check("sum of sines of a 3 x 4 matrix", SINES, np.cos, rng.uniform(-1.5, 1.5, size=(3, 4))),
    c.check("numerical_gradient", "f reads x through a closure: x itself is perturbed",
            Gradient(c.call("numerical_gradient", Fn(CLOSURE_F), Fn(CLOSURE_X)),
                     lambda ref: np.cos(np.linspace(-1.0, 1.0, 12).reshape(3, 4)), note=CLOSURE_NOTE),
            points=2),
    c.check("numerical_gradient", "x is exactly the same afterwards",
            Unchanged(c.call("numerical_gradient", Fn(RESTORE_F), RESTORE_X), mistakes=True,
                      hint=RESTORE_HINT),
            points=2),
    c.close("relative_error", "both entries 0 gives 0, not nan", np.zeros(3), np.zeros(3)),
    c.close("relative_error", "a table with zeros, opposite signs and different magnitudes",
            np.array([0.0, 1.0, -2.0, 1e-3, 0.0, 5.0]), np.array([0.0, 1.0 + 1e-7, 2.0, 1.1e-3, 1e-9, 5.0]),
            points=2),
    c.close("relative_error", "two numbers", 1.0, 1.0 + 1e-6),
    # a first trained network: the only call of train_xor (about 0.2 s)
    c.satisfies("train_xor", "the default arguments classify all four XOR points", predicate=classifies_xor,
                hint=XOR_HINT, points=3),
]
