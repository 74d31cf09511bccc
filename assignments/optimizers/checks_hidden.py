"""Hidden checks of the optimizers assignment: run only when the instructor grades.

They repeat the visible checks on other inputs (float32, other coefficients, a quadratic bowl
for the trajectories), add the other schedules' parameters, and check that no function changes
its inputs (parameters, gradients, velocity, Adam's state).
"""

from __future__ import annotations

import numpy as np

from grader.authoring import FLOAT32, Checks, sibling

visible = sibling(__file__, "checks_visible")
layers, zeros_like = visible.layers, visible.zeros_like
c = Checks("optimizers")
CLIP_BELOW_MANY = {
    "W1": np.array([[0.3, -0.1], [0.2, 0.1]]),
    "b1": np.array([0.1, -0.2]),
    "W2": np.array([[0.05, 0.1], [-0.3, 0.2]]),
}  # global norm about 0.62

# A quadratic bowl f(x) = 0.5 (x - x*)^T H (x - x*) over the 9 entries of {"W": (2, 3), "b": (3,)}
# taken in order, with H = diag(1..10) + 0.25 * ones: positive definite, condition number
# about 12, coupled entries. Built without any LAPACK call, so it is the same everywhere.
BOWL_SHAPES = {"W": (2, 3), "b": (3,)}
BOWL_H = np.diag(np.linspace(1.0, 10.0, 9)) + 0.25
BOWL_MIN = np.linspace(-1.0, 1.0, 9)


def bowl_gradient(point):
    """The gradient H (x - x*) of the quadratic bowl, as a dict shaped like `point`."""
    x = np.concatenate([np.asarray(point[k], dtype=np.float64).ravel() for k in BOWL_SHAPES])
    g = BOWL_H @ (x - BOWL_MIN)
    out, i = {}, 0
    for k, shape in BOWL_SHAPES.items():
        n = int(np.prod(shape))
        out[k] = g[i:i + n].reshape(shape)
        i += n
    return out


BOWL_START = {"W": np.array([[2.0, -1.5, 0.5], [1.0, 3.0, -2.0]]), "b": np.array([0.0, -1.0, 2.5])}

P = layers(11)
G = layers(12)
V = layers(13, 0.5)
P32 = {k: v.astype(np.float32) for k, v in P.items()}
G32 = {k: v.astype(np.float32) for k, v in G.items()}
STATE_7 = {"m": layers(14, 0.1), "v": {k: np.abs(v) for k, v in layers(15, 0.05).items()}, "t": 7}
# Small gradients and a large eps: where eps inside or outside the square root matters.
G_SMALL = layers(16, 1e-3)
ADAM_FRESH = {"m": zeros_like(P), "v": zeros_like(P), "t": 0}
CLIP_MANY = {"W1": np.full((3, 4), 0.5), "b1": np.array([-1.0, 2.0, 0.0]), "W2": np.array([[4.0, -4.0, 1.0]]),
             "b2": np.array([0.1])}

CHECKS = [
    c.close("sgd_update", "float32 parameters and gradients", P32, G32, 0.05, tol=FLOAT32),
    c.close("sgd_update", "a large learning rate", P, G, 3.0),
    c.unchanged("sgd_update", P, G, 0.1),
    c.close("init_velocity", "2-D and 3-D entries", {"W": np.ones((2, 3, 4)), "b": np.ones(4)}),
    c.close("momentum_update", "the first step from zero velocity, beta = 0.5", P, G, zeros_like(P), 0.2,
            beta=0.5),
    c.close("momentum_update", "float32 inputs", P32, G32, {k: v.astype(np.float32) for k, v in V.items()},
            0.1, tol=FLOAT32),
    c.unchanged("momentum_update", P, G, V, 0.1),
    # One trajectory per file: each costs 100 round trips to the worker, most of a correct
    # submission's grading time. Adam's runs on the Rosenbrock function (visible checks).
    c.trajectory("momentum_update", "100 steps on a quadratic bowl follow the reference path",
                 BOWL_START, bowl_gradient(BOWL_START), zeros_like(BOWL_START), 0.1, beta=0.8,
                 gradient=bowl_gradient, state_arg=2, label="a quadratic bowl", tol=visible.PATH, points=2),
    c.close("init_adam", "2-D and 3-D entries", {"W": np.ones((2, 3, 4)), "b": np.ones(4)}),
    c.close("adam_update", "a step from t = 7 (default coefficients): parameters and state", P, G, STATE_7),
    c.close("adam_update", "small gradients, eps = 1e-3 (eps outside the square root)", P, G_SMALL, ADAM_FRESH,
            lr=0.01, eps=1e-3),
    c.close("adam_update", "float32 inputs", P32, G32, {"m": zeros_like(P32), "v": zeros_like(P32), "t": 0},
            lr=0.01, tol=FLOAT32),
    c.unchanged("adam_update", P, G, STATE_7),
    c.table("step_decay", "drop = 0.1 every 3 epochs",
            [((0.5, e), {"drop": 0.1, "epochs_per_drop": 3}) for e in (0, 2, 3, 4, 5, 6, 8, 9, 30)]),
    c.table("exponential_decay", "k = 0.5 and k = 0", [((0.2, e), {"k": k}) for k in (0.5, 0.0) for e in (0, 3, 7)]),
    c.table("cosine_annealing", "10 epochs down to lr_min = 0.01, and past total_epochs",
            [((0.05, e, 10), {"lr_min": 0.01}) for e in (0, 1, 3, 5, 9, 10, 15)]),
    c.close("clip_by_global_norm", "four keys, norm above the bound", CLIP_MANY, 1.5),
    c.close("clip_by_global_norm", "float32 gradients", {k: v.astype(np.float32) for k, v in CLIP_MANY.items()},
            3.0, tol=FLOAT32),
    c.close("clip_by_global_norm", "max_norm = 0 clips everything to 0", visible.CLIP_BELOW, 0.0),
    # The visible below-the-bound input is one small layer; this one has three 2-d keys, so a
    # mistake it reveals is named with confidence.
    c.close("clip_by_global_norm", "three keys, norm below the bound: unchanged", CLIP_BELOW_MANY, 2.0),
    c.unchanged("clip_by_global_norm", CLIP_MANY, 1.5),
]
