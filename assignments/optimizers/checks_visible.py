"""Visible checks of the optimizers assignment: students run these with `grade check`.

Every input is fixed here, so a student sees exactly what is called; the expected values are
frozen from the reference into `expected.grd` by `grade build-template`.

One-step checks compare the new parameters AND the returned optimizer state (velocity, Adam's
m, v, t) with the reference's. Trajectory checks call the student's update 100 times, each
time with the gradient the grader computes at the point the student's previous step returned
(Rosenbrock's `scipy.optimize.rosen_der`, or a quadratic bowl), and compare the whole path.
"""

from __future__ import annotations

import numpy as np

from grader.authoring import Checks, Tolerance

c = Checks("optimizers")
rng = np.random.default_rng(5_2024)

# Trajectories: a correct update written differently (loops, m_hat by explicit division,
# (1 - beta) * g expanded, everything flattened into one vector) differs from the reference by
# rounding, about 1e-16 relative per step. Measured along the 100-step paths of both files (and
# of Adam on the bowl): a relative perturbation of the starting point grows at most 5e3-fold,
# so rounding stays below 1e-10 relative, and the alternative styles of the project's tests
# differ by at most 3e-13. rtol 1e-7 keeps a margin of 1e3 over that worst case and is still far
# below the catalogued mistakes, which leave the path by 1e-3 relative or more at the first
# step (eps inside the square root: by 1e-7 only after about 60 steps on the Rosenbrock
# function, which is why the path is long). atol covers entries that pass near 0.
PATH = Tolerance(rtol=1e-7, atol=1e-10)


def layers(seed, scale=1.0):
    """A dict shaped like a 2-3-1 network's parameters, with entries of size `scale`."""
    r = np.random.default_rng(seed)
    shapes = {"W1": (3, 2), "b1": (3,), "W2": (1, 3), "b2": (1,)}
    return {k: scale * r.normal(size=s) for k, s in shapes.items()}


def rosen_der(x):
    """`scipy.optimize.rosen_der`, the same arithmetic in the same order (so the same bits): one
    function copied instead of importing `scipy.optimize`, which costs every run 0.2 s."""
    p = np.asarray(x, dtype=np.float64)
    xm, xm_m1, xm_p1 = p[1:-1], p[:-2], p[2:]
    der = np.zeros_like(p)
    der[1:-1] = 200 * (xm - xm_m1**2) - 400 * (xm_p1 - xm**2) * xm - 2 * (1 - xm)
    der[0] = -400 * p[0] * (p[1] - p[0] ** 2) - 2 * (1 - p[0])
    der[-1] = 200 * (p[-1] - p[-2] ** 2)
    return der


def rosenbrock_gradient(point):
    """The gradient of `scipy.optimize.rosen` at `point["w"]`, computed by the grader."""
    return {"w": rosen_der(np.asarray(point["w"], dtype=np.float64))}


def zeros_like(params):
    return {k: np.zeros_like(v) for k, v in params.items()}


P = layers(1)
G = layers(2)
V = layers(3, 0.5)
# Gradients of very different sizes: Adam's first step must move every entry by about lr,
# and an eps inside the square root shows on the small ones (sqrt(1e-8 + 1e-8) vs 1e-4).
G_MIXED = {"W1": np.array([[2.0, -0.5], [1e-4, -3e-4], [40.0, -7.0]]), "b1": np.array([1e-3, -1e-4, 0.3]),
           "W2": np.array([[-2e-4, 5.0, 0.01]]), "b2": np.array([-1.0])}
# A state after three steps (raw moments, t = 3), for a step where the bias correction is partial.
STATE_3 = {"m": layers(4, 0.1), "v": {k: np.abs(v) for k, v in layers(5, 0.2).items()}, "t": 3}

ROSEN_START = {"w": np.array([-1.2, 1.0])}
ADAM_START = {"m": zeros_like(ROSEN_START), "v": zeros_like(ROSEN_START), "t": 0}

CLIP_ABOVE = {"W1": np.array([[3.0, 1.0], [-2.0, 0.5]]), "b1": np.array([1.0, -2.5]), "W2": np.array([[0.25, -1.5]])}
CLIP_BELOW = {"W1": np.array([[0.3, -0.1]]), "b1": np.array([0.2])}
CLIP_EQUAL = {"W1": np.array([3.0]), "b1": np.array([4.0])}  # global norm exactly 5
CLIP_ZERO = {"W1": np.zeros((2, 2)), "b1": np.zeros(2)}

STEP_EPOCHS = [0, 1, 5, 6, 9, 10, 11, 15, 19, 20, 25, 40]

CHECKS = [
    c.close("sgd_update", "one step on four keys of different shapes", P, G, 0.1),
    c.close("init_velocity", "zeros of every shape", P),
    c.close("momentum_update", "one step from a nonzero velocity: parameters and new velocity", P, G, V, 0.1,
            beta=0.9, points=2),
    c.close("init_adam", "zero moments of every shape and t = 0", P),
    c.close("adam_update", "the first step from init_adam's state (bias-corrected): parameters and state",
            P, G_MIXED, {"m": zeros_like(P), "v": zeros_like(P), "t": 0}, lr=0.01, points=2,
            note="With bias correction the first step moves every entry by about lr."),
    c.close("adam_update", "a step from t = 3 with beta1 = 0.8, beta2 = 0.99: parameters and state", P, G, STATE_3,
            lr=0.05, beta1=0.8, beta2=0.99),
    c.trajectory("adam_update", "100 steps on the Rosenbrock function follow the reference path",
                 ROSEN_START, rosenbrock_gradient(ROSEN_START), ADAM_START, gradient=rosenbrock_gradient,
                 state_arg=2, label="scipy.optimize.rosen", tol=PATH, points=3, lr=0.02),
    c.table("step_decay", "epochs 0 to 40, before and after each drop (defaults)",
            [((0.1, e), {}) for e in STEP_EPOCHS], points=2),
    c.table("exponential_decay", "epochs 0, 1, 10 and 25 (k = 0.1)", [((0.1, e), {}) for e in (0, 1, 10, 25)]),
    c.table("cosine_annealing", "epochs 0 to total_epochs, with lr_min 0 and 0.001",
            [((0.1, e, 100), {"lr_min": m}) for m in (0.0, 0.001) for e in (0, 25, 50, 75, 100)], points=2),
    c.close("clip_by_global_norm", "norm above the bound: every entry scaled by the same factor",
            CLIP_ABOVE, 2.0),
    c.close("clip_by_global_norm", "norm below the bound: unchanged", CLIP_BELOW, 1.0),
    c.close("clip_by_global_norm", "norm equal to the bound: unchanged", CLIP_EQUAL, 5.0),
    c.close("clip_by_global_norm", "all-zero gradients stay zero, with norm 0", CLIP_ZERO, 1.0),
]
