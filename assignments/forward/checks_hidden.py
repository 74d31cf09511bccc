"""Hidden checks of the forward-pass assignment: run only when the instructor grades.

They repeat the visible checks on other inputs (matrices, batches of one, float32, extreme
values) so that an implementation tuned to the visible inputs does not pass by accident.
"""

from dataclasses import replace

import numpy as np

from grader.authoring import FLOAT32, VALUE, Checks, Differs, elementwise_derivative, sibling

c = Checks("forward")
rng = np.random.default_rng(7_2024)
CACHE_TOL = replace(VALUE, extra_keys=True)

Z_mat = rng.normal(0.0, 3.0, size=(5, 4))
Z_f32 = rng.normal(0.0, 2.0, size=(3, 4)).astype(np.float32)
Z_huge = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1.0, 5.0], [1e4, 1e4, 1e4]])
Z_kinks = np.array([[-1.0, 0.0, 1.0], [0.0, -2.0, 0.0]])
# Away from the kink at 0, as central differences require.
Z_smooth = rng.uniform(0.2, 3.0, size=(3, 5)) * rng.choice([-1.0, 1.0], size=(3, 5))


def derivative_of(name, z, **kw):
    return lambda ref: elementwise_derivative(lambda t: getattr(ref.module("forward"), name)(t, **kw), z)


def rows_sum_to_one(got, expected):
    if not isinstance(got, np.ndarray) or got.shape != (1, 6):
        return "expected an array of shape (1, 6)"
    if abs(float(got.sum()) - 1.0) > 1e-9:
        return f"the row sums to {float(got.sum()):.6g}, not 1"
    return None


def net(sizes, seed):
    r = np.random.default_rng(seed)
    return {
        **{f"W{l}": r.normal(0, 0.5, size=(sizes[l], sizes[l - 1])) for l in range(1, len(sizes))},
        **{f"b{l}": r.normal(0, 0.1, size=sizes[l]) for l in range(1, len(sizes))},
    }


X5 = rng.normal(size=(5, 4))
P3 = net([4, 6, 5, 3], 1)
visible = sibling(__file__, "checks_visible")

CHECKS = [
    c.close("sigmoid", "values on a matrix", Z_mat),
    c.clean(c.close("sigmoid", "no overflow for |z| up to 1e4", Z_huge),
            hint=visible.OVERFLOW_HINT, mistake=visible.OVERFLOW),
    c.close("sigmoid", "float32 input", Z_f32, tol=FLOAT32),
    c.close("tanh", "values on a matrix", Z_mat),
    c.close("relu", "values on a matrix with zeros", Z_kinks),
    c.close("relu", "float32 input", Z_f32, tol=FLOAT32),
    c.close("leaky_relu", "values on a matrix with zeros", Z_kinks),
    c.close("leaky_relu", "alpha = 0.2", Z_mat, alpha=0.2),
    c.close("linear", "values on a matrix", Z_mat),
    c.unchanged("linear", Z_mat),
    c.clean(c.close("softmax", "stable for entries up to 1e4", Z_huge, points=2),
            hint=visible.SOFTMAX_HINT, mistake="softmax raises a RuntimeWarning on large entries"),
    c.close("softmax", "a batch of one row", Z_mat[:1]),
    c.satisfies("softmax", "a single row sums to one", rng.normal(size=(1, 6)), predicate=rows_sum_to_one),
    c.close("softmax", "float32 input", Z_f32, tol=FLOAT32),
    c.unchanged("softmax", Z_mat),
    c.gradient("sigmoid_grad", "central differences on a matrix", Z_smooth,
               expect=derivative_of("sigmoid", Z_smooth)),
    c.gradient("tanh_grad", "central differences on a matrix", Z_smooth,
               expect=derivative_of("tanh", Z_smooth)),
    c.gradient("relu_grad", "central differences on a matrix", Z_smooth,
               expect=derivative_of("relu", Z_smooth)),
    c.close("relu_grad", "0 at every kink of a matrix", Z_kinks),
    c.gradient("leaky_relu_grad", "central differences with alpha = 0.2", Z_smooth, alpha=0.2,
               expect=derivative_of("leaky_relu", Z_smooth, alpha=0.2)),
    c.close("leaky_relu_grad", "alpha at every kink of a matrix", Z_kinks),
    c.gradient("linear_grad", "central differences on a matrix", Z_smooth,
               expect=derivative_of("linear", Z_smooth)),
    c.close("dense_forward", "a batch of one example", rng.normal(size=(1, 5)), rng.normal(size=(3, 5)),
            rng.normal(size=3)),
    c.close("dense_forward", "float32 inputs", *(a.astype(np.float32) for a in
            (rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2))), tol=FLOAT32),
    c.unchanged("dense_forward", rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)),
    *(c.close("layer_forward", f"{act} layer", X5, P3["W1"], P3["b1"], act)
      for act in ("tanh", "relu", "leaky_relu", "linear", "softmax")),
    c.satisfies("init_params", "xavier: shapes, zero biases, std sqrt(2/(n_in+n_out))", [300, 400, 20],
                method="xavier", seed=3, predicate=visible.param_stats,
                expect=visible.init_stats([300, 400, 20], "xavier"), points=2),
    c.satisfies("init_params", "he on four layers", [500, 100, 60, 50], method="he", seed=1,
                predicate=visible.param_stats, expect=visible.init_stats([500, 100, 60, 50], "he")),
    visible.draws("xavier, seed 11: exactly the draws the API fixes, four layers", [5, 4, 3, 2],
                  method="xavier", seed=11),
    visible.draws("the default method and seed (he, 0): exactly the draws the API fixes", [6, 5, 2]),
    c.check("init_params", "different seeds give different parameters",
            Differs(c.call("init_params", [5, 4, 3], method="he", seed=1),
                    c.call("init_params", [5, 4, 3], method="he", seed=2))),
    c.raises("init_params", "ValueError for an unknown method", [3, 2], method="uniform"),
    c.close("count_params", "the lecture's 2-2-1 network", [2, 2, 1]),
    c.close("count_params", "a single layer", [10, 1]),
    c.close("count_params", "five layers", [3, 7, 7, 7, 2]),
    c.close("forward", "three layers: relu, tanh, softmax", X5, P3, ["relu", "tanh", "softmax"],
            points=2, tol=CACHE_TOL),
    c.close("forward", "one linear layer", X5, net([4, 2], 2), ["linear"], tol=CACHE_TOL),
    c.close("forward", "a batch of one example", X5[:1], P3, ["sigmoid", "leaky_relu", "sigmoid"],
            tol=CACHE_TOL),
    c.unchanged("forward", X5, P3, ["relu", "tanh", "softmax"]),
]
