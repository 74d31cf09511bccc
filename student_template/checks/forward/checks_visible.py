"""Visible checks of the forward-pass assignment: students run these with `grade check`.

Every input is fixed here (seeded), so a student sees exactly what is called. The expected
values are frozen from the reference into `expected.grd` by `grade build-template`.
"""

from dataclasses import replace

import numpy as np

from grader.authoring import VALUE, Checks, Close, Repeatable, elementwise_derivative

c = Checks("forward")
# forward's cache may hold extra entries of the student's own; the API's must be right.
CACHE_TOL = replace(VALUE, extra_keys=True)
rng = np.random.default_rng(2024)

z_vec = np.array([-3.0, -1.0, -0.25, 0.5, 2.0, 4.0])
Z_batch = rng.normal(0.0, 2.0, size=(4, 3))

# The lecture's hand-worked 2-2-1 network.
LECTURE_X = np.array([[0.5, 0.8]])
LECTURE_PARAMS = {
    "W1": np.array([[0.2, 0.4], [0.3, 0.1]]),
    "b1": np.array([0.1, 0.2]),
    "W2": np.array([[0.6, 0.5]]),
    "b2": np.array([0.3]),
}
LECTURE_NOTE = (
    "The lecture's worked example: Z1 = [[0.52, 0.43]], A1 ~ [[0.627, 0.606]], "
    "Z2 ~ [[0.979]], Y_hat ~ [[0.727]]."
)

# Points for derivative checks sit away from ReLU's kink at 0 (|z| >= 0.1), where central
# differences are exact up to O(h^2).
z_smooth = np.array([-2.5, -0.7, -0.1, 0.1, 0.9, 3.0])


OVERFLOW_HINT = (
    "For z far below 0, np.exp(-z) overflows to inf: 1 / (1 + inf) = 0 is the right value, but NumPy "
    "warns 'overflow encountered in exp', and the API asks for no warning up to |z| = 1e4. Exponentiate "
    "only numbers <= 0: e = np.exp(-np.abs(z)), then 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0."
)
OVERFLOW = "sigmoid overflows in exp (a RuntimeWarning)"
SOFTMAX_HINT = (
    "Subtract each row's maximum before exp (Z - Z.max(axis=-1, keepdims=True)): then every exp is at "
    "most 1 and nothing overflows, divides by zero or becomes nan."
)
DRAWS_NOTE = (
    "The API fixes the draws: rng = np.random.default_rng(seed), made once, then for l = 1, 2, ... in "
    "order W_l = rng.normal(0.0, std, size=(n_l, n_{l-1})) (the same numbers as "
    "rng.standard_normal((n_l, n_{l-1})) * std) and b_l = np.zeros(n_l), which draws nothing."
)


def draws(what, sizes, points=1.0, **kwargs):
    """init_params must return exactly the draws the API fixes, from its own generator only."""
    judge = Close(c.call("init_params", sizes, **kwargs), note=DRAWS_NOTE)
    return c.clean(c.check("init_params", what, judge, points), warnings=False, global_rng=True)


def derivative_of(name: str, z: np.ndarray):
    """Expected: central differences of the reference activation `name` at `z`."""
    return lambda ref: elementwise_derivative(getattr(ref.module("forward"), name), z)


def param_stats(got, expected):
    """Every W has the reference's shape and the prescribed std within 10%; biases are 0."""
    if not isinstance(got, dict):
        return f"expected a dict of parameters, got {type(got).__name__}"
    if sorted(got) != sorted(expected):
        return f"expected keys {sorted(expected)}, got keys {sorted(got)}"
    for key, (shape, std) in expected.items():
        value = got[key]
        if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
            return f"{key}: expected an array of shape {tuple(shape)}, got {getattr(value, 'shape', value)!r}"
        if key.startswith("b"):
            if np.any(value != 0):
                return f"{key}: biases start at 0, got nonzero entries"
            continue
        measured = float(np.std(value))
        # The sample std of n >= 3000 normal draws is within 10% of the true std with
        # probability > 1 - 1e-12 (relative standard error 1/sqrt(2n) <= 1.3%).
        if abs(measured - std) > 0.10 * std:
            hint = ""
            if abs(measured - std**2) < 0.10 * std**2:
                hint = " (this is std**2: did you use 2/n as the std instead of sqrt(2/n)?)"
            return f"{key}: sample std {measured:.4g}, expected about {std:.4g}{hint}"
        if abs(float(np.mean(value))) > 5 * std / np.sqrt(value.size):
            return f"{key}: the mean {np.mean(value):.3g} is too far from 0"
    return None


def init_stats(sizes, method):
    """Expected: per key, the shape and the std the method prescribes (from the reference's shapes)."""

    def expect(ref):
        params = ref.module("forward").init_params(sizes, method=method, seed=0)
        out = {}
        for key, value in params.items():
            std = 0.0
            if key.startswith("W"):
                n_out, n_in = value.shape
                std = np.sqrt(2.0 / n_in) if method == "he" else np.sqrt(2.0 / (n_in + n_out))
            out[key] = [list(value.shape), float(std)]
        return out

    return expect


CHECKS = [
    c.close("sigmoid", "values on a vector", z_vec),
    c.clean(c.close("sigmoid", "no overflow warning for |z| up to 1e4", np.array([-1e4, -745.0, 0.0, 745.0, 1e4])),
            hint=OVERFLOW_HINT, mistake=OVERFLOW),
    c.close("tanh", "values on a vector", z_vec),
    c.close("relu", "values on a vector", z_vec),
    c.close("leaky_relu", "values on a vector (default alpha)", z_vec),
    c.close("linear", "values on a vector", z_vec),
    c.close("softmax", "rows of a small batch", Z_batch, points=2),
    c.gradient("sigmoid_grad", "matches central differences of sigmoid", z_smooth,
               expect=derivative_of("sigmoid", z_smooth)),
    c.gradient("tanh_grad", "matches central differences of tanh", z_smooth,
               expect=derivative_of("tanh", z_smooth)),
    c.gradient("relu_grad", "matches central differences of relu (away from 0)", z_smooth,
               expect=derivative_of("relu", z_smooth)),
    c.close("relu_grad", "is 0 at z == 0", np.array([0.0])),
    c.gradient("leaky_relu_grad", "matches central differences of leaky_relu (away from 0)", z_smooth,
               expect=derivative_of("leaky_relu", z_smooth)),
    c.close("leaky_relu_grad", "is alpha at z == 0", np.array([0.0])),
    c.gradient("linear_grad", "matches central differences of linear", z_smooth,
               expect=derivative_of("linear", z_smooth)),
    c.close("dense_forward", "a batch of 3 through a 4 -> 2 layer",
            rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=2), points=2),
    c.close("dense_forward", "a square 3 -> 3 layer", rng.normal(size=(2, 3)), rng.normal(size=(3, 3)),
            rng.normal(size=3)),
    c.close("layer_forward", "sigmoid layer returns (A, Z)",
            rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=2), "sigmoid"),
    c.satisfies("init_params", "he: shapes, zero biases, std sqrt(2/n_in)", [400, 300, 10],
                method="he", seed=0, predicate=param_stats, expect=init_stats([400, 300, 10], "he"), points=2),
    draws("he, seed 0: exactly the draws the API fixes, layer by layer", [4, 3, 2], method="he", seed=0,
          points=2),
    c.check("init_params", "the same seed gives the same parameters",
            Repeatable(c.call("init_params", [5, 4, 3], method="he", seed=7))),
    c.close("count_params", "[784, 128, 64, 10] has 109386 parameters", [784, 128, 64, 10]),
    c.close("forward", "the lecture's worked 2-2-1 example", LECTURE_X, LECTURE_PARAMS,
            ["sigmoid", "sigmoid"], points=3, tol=CACHE_TOL, note=LECTURE_NOTE),
]
