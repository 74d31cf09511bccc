"""Hidden checks of the backpropagation assignment: run only when the instructor grades.

They repeat the visible checks on other inputs: every output activation under MSE, softmax with
cross-entropy, networks of 1 to 4 layers with different activations side by side, batches of
one, float32, and the lecture's 784-128-64-10 network, checked along random directions. And
they check that no function modifies its inputs. The tolerances are the visible file's.
"""

import numpy as np

from grader.authoring import FLOAT32, Checks, DirectionalGradient, Fn, Gradient, Unchanged, directional_probes, sibling

visible = sibling(__file__, "checks_visible")
c = Checks("backprop")
CLOSURE_X2 = "np.linspace(0.5, 2.0, 6).reshape(2, 3)"
CLOSURE_F2 = "lambda a: float(np.sum((a.base if a.base is not None else np.linspace(0.5, 2.0, 6)) ** 2))"
rng = np.random.default_rng(9_2024)
backward_check, network = visible.backward_check, visible.network
softmax, one_hot = visible.softmax, visible.one_hot


def f32(*arrays):
    return [np.asarray(a, dtype=np.float32) for a in arrays]


def big_network_check(what, activations, loss, m, seed, points):
    """The lecture's 784-128-64-10 network (109,386 parameters), inputs in [0, 1) like MNIST's pixels.

    A full central-difference gradient would take 2 x 109,386 loss evaluations; instead
    `directional_probes` takes 3 random unit directions (the derivative along each costs two
    evaluations, whatever the number of parameters) and 6 sampled coordinates, one per key.
    A directional derivative is about |grad| / sqrt(109386) (1e-4..1e-2 here), and the central
    differences of a loss of order 1 are off by about 1e-10, so the relative error of a correct
    gradient stays below 1e-6 (and the absolute floor of 1e-8 covers the rest). A wrong factor on
    any one layer moves every random direction by a share of that layer's gradient.
    """
    Y, cache, params = network([784, 128, 64, 10], activations, m, loss, seed, pixels=True)

    def expect(ref):
        loss_of = visible.reference_loss(ref, cache["A0"], Y, activations, loss)
        return directional_probes(loss_of, params, directions=3, coordinates=6, seed=seed)

    call = c.call("backward", Y, cache, params, activations, loss=loss)
    return c.check("backward", what, DirectionalGradient(call, expect), points)


# Inputs --------------------------------------------------------------------------------------

Y_hat1, Y1 = rng.normal(size=(1, 2)), rng.normal(size=(1, 2))
Y_hat_vec, Y_vec = rng.uniform(0.0, 1.0, size=6), rng.uniform(0.0, 1.0, size=6)
Y_hat5, Y5 = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
Z1_cls, Y1_cls = rng.normal(size=(1, 5)), one_hot([3], 5)
Z6_cls, Y6_cls = rng.normal(0.0, 2.0, size=(6, 4)), one_hot([0, 1, 2, 3, 3, 1], 4)
Z_act = rng.uniform(0.1, 2.5, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5))
dA_act = rng.normal(size=(4, 5))
Z_row = rng.uniform(0.1, 2.0, size=(1, 6)) * rng.choice([-1.0, 1.0], size=(1, 6))
dA_row = rng.normal(size=(1, 6))
dZ1, A1, W1, b1 = (rng.normal(size=s) for s in [(1, 2), (1, 5), (2, 5), 2])
dZ4, A4, W4, b4 = (rng.normal(size=s) for s in [(6, 4), (6, 4), (4, 4), 4])
x_3d = rng.uniform(-1.2, 1.2, size=(2, 2, 3))

CE_BODY = (
    "float(-np.sum(Y * (x - x.max(axis=1, keepdims=True) - np.log(np.sum(np.exp(x - x.max(axis=1, "
    "keepdims=True)), axis=1, keepdims=True)))) / x.shape[0])"
)
CE_LABELS = [2, 0, 1, 1]
CE_Z = rng.normal(0.0, 1.0, size=(4, 3))


def ce_gradient(Z):
    return (softmax(Z) - one_hot(CE_LABELS, 3)) / Z.shape[0]


NET_SMALL = network([4, 5, 3], ["relu", "tanh"], 3, seed=11)

CHECKS = [
    # losses
    c.close("mse_loss", "a batch of one example", Y_hat1, Y1),
    c.close("mse_loss", "a 1-D batch of 6 single outputs", Y_hat_vec, Y_vec),
    c.close("mse_loss", "float32 inputs", *f32(Y_hat5, Y5), tol=FLOAT32),
    c.unchanged("mse_loss", Y_hat5, Y5),
    c.gradient("mse_loss_grad", "central differences, batch of one", Y_hat1, Y1,
               expect=visible.loss_gradient("mse_loss", Y_hat1, Y1)),
    c.gradient("mse_loss_grad", "central differences, batch of 5 with 4 outputs", Y_hat5, Y5,
               expect=visible.loss_gradient("mse_loss", Y_hat5, Y5)),
    c.close("mse_loss_grad", "float32 inputs", *f32(Y_hat5, Y5), tol=FLOAT32),
    c.unchanged("mse_loss_grad", Y_hat5, Y5),
    c.close("cross_entropy_loss", "a batch of one example", softmax(Z1_cls), Y1_cls),
    c.close("cross_entropy_loss", "a batch of 6 with 4 classes", softmax(Z6_cls), Y6_cls),
    c.close("cross_entropy_loss", "float32 inputs", *f32(softmax(Z6_cls), Y6_cls), tol=FLOAT32),
    c.unchanged("cross_entropy_loss", softmax(Z6_cls), Y6_cls),
    c.gradient("softmax_cross_entropy_grad", "central differences, batch of one", softmax(Z1_cls), Y1_cls,
               expect=visible.softmax_ce_gradient(Z1_cls, Y1_cls)),
    c.gradient("softmax_cross_entropy_grad", "central differences, batch of 6", softmax(Z6_cls), Y6_cls,
               expect=visible.softmax_ce_gradient(Z6_cls, Y6_cls)),
    c.close("softmax_cross_entropy_grad", "float32 inputs", *f32(softmax(Z6_cls), Y6_cls), tol=FLOAT32),
    c.unchanged("softmax_cross_entropy_grad", softmax(Z6_cls), Y6_cls),
    # one layer backwards
    *(c.gradient("activation_backward", f"{act}: central differences", dA_act, Z_act, act,
                 expect=visible.activation_gradient(dA_act, Z_act, act))
      for act in ("tanh", "leaky_relu", "linear")),
    c.gradient("activation_backward", "sigmoid on a batch of one", dA_row, Z_row, "sigmoid",
               expect=visible.activation_gradient(dA_row, Z_row, "sigmoid")),
    c.close("activation_backward", "float32 inputs", *f32(dA_act, Z_act), "tanh", tol=FLOAT32),
    c.raises("activation_backward", "ValueError for an unknown activation", dA_act, Z_act, "swish"),
    c.unchanged("activation_backward", dA_act, Z_act, "relu"),
    c.gradient("dense_backward", "a batch of one example", dZ1, A1, W1,
               expect=visible.dense_gradient(dZ1, A1, W1, b1)),
    c.gradient("dense_backward", "a square 4 -> 4 layer, batch of 6", dZ4, A4, W4,
               expect=visible.dense_gradient(dZ4, A4, W4, b4)),
    c.close("dense_backward", "float32 inputs", *f32(dZ4, A4, W4), tol=FLOAT32),
    c.unchanged("dense_backward", dZ4, A4, W4),
    # the backward pass: every output activation with MSE, 1 to 4 layers, batches of 1 and more
    backward_check("3 layers relu -> tanh -> linear, MSE, batch of 5", [4, 6, 5, 3],
                   ["relu", "tanh", "linear"], 5, seed=21, points=2),
    backward_check("leaky_relu -> tanh output, MSE, batch of 1", [3, 5, 2], ["leaky_relu", "tanh"], 1,
                   seed=22),
    backward_check("sigmoid -> relu output, MSE, batch of 6", [3, 6, 3], ["sigmoid", "relu"], 6, seed=23),
    backward_check("4 layers tanh -> sigmoid -> relu -> leaky_relu, MSE, batch of 3", [5, 4, 4, 3, 3],
                   ["tanh", "sigmoid", "relu", "leaky_relu"], 3, seed=24, points=2),
    backward_check("one sigmoid layer, MSE, batch of 4", [5, 3], ["sigmoid"], 4, seed=25),
    backward_check("relu -> softmax output with MSE (the softmax Jacobian), batch of 4", [4, 5, 3],
                   ["relu", "softmax"], 4, seed=26, points=2),
    backward_check("one softmax layer, cross-entropy, batch of 1", [4, 3], ["softmax"], 1,
                   loss="cross_entropy", seed=27),
    backward_check("4 layers leaky_relu -> sigmoid -> tanh -> softmax, cross-entropy, batch of 6",
                   [5, 6, 4, 4, 3], ["leaky_relu", "sigmoid", "tanh", "softmax"], 6, loss="cross_entropy",
                   seed=28, points=2),
    big_network_check("784-128-64-10, relu -> relu -> softmax, cross-entropy, batch of 8",
                      ["relu", "relu", "softmax"], "cross_entropy", 8, seed=31, points=3),
    big_network_check("784-128-64-10, sigmoid -> tanh -> sigmoid, MSE, batch of 3",
                      ["sigmoid", "tanh", "sigmoid"], "mse", 3, seed=32, points=2),
    c.close("backward", "float32 inputs, relu -> tanh", *f32(NET_SMALL[0]),
            {k: v.astype(np.float32) for k, v in NET_SMALL[1].items()},
            {k: v.astype(np.float32) for k, v in NET_SMALL[2].items()}, ["relu", "tanh"], tol=FLOAT32),
    c.raises("backward", "ValueError for an unknown loss", *NET_SMALL, ["relu", "tanh"], loss="hinge"),
    c.raises("backward", "ValueError for softmax in a hidden layer",
             *network([3, 4, 2], ["softmax", "sigmoid"], 2, seed=29), ["softmax", "sigmoid"]),
    c.unchanged("backward", *NET_SMALL, ["relu", "tanh"]),
    # gradient checking
    visible.numgrad_check("softmax cross-entropy of a 4 x 3 matrix", CE_BODY.replace(
        "Y", f"np.eye(3)[{CE_LABELS}]"), ce_gradient, CE_Z),
    visible.numgrad_check("sum of sines of a 2 x 2 x 3 array", visible.SINES, np.cos, x_3d),
    visible.numgrad_check("a quadratic of a 0-d array", visible.QUADRATIC, visible.quadratic_gradient,
                          np.array(0.4)),
    visible.numgrad_check("a quadratic of a 2 x 3 matrix", visible.QUADRATIC, visible.quadratic_gradient,
                          np.array([[0.1, -0.2, 0.4], [0.0, -0.3, 0.05]])),
    # h is the step: with h = 0.1 central differences of the sines are off by h^2/6 ~ 2e-3,
    # so the reference's own output (not the exact cosine) is the judge, at the value tolerance.
    c.close("numerical_gradient", "uses the given h (h = 0.1)", visible.fn(visible.SINES), x_3d, h=0.1),
    # A second closure, so that a copy perturbed instead of x is named from two inputs (a gradient
    # of zeros alone could be many things).
    c.check("numerical_gradient", "f reads a 2 x 3 x through a closure: x itself is perturbed",
            Gradient(c.call("numerical_gradient", Fn(CLOSURE_F2), Fn(CLOSURE_X2)),
                     lambda ref: 2.0 * np.linspace(0.5, 2.0, 6).reshape(2, 3), note=visible.CLOSURE_NOTE)),
    c.check("numerical_gradient", "x is exactly the same afterwards, for a 3-d x",
            Unchanged(c.call("numerical_gradient", Fn(visible.RESTORE_F), x_3d), mistakes=True,
                      hint=visible.RESTORE_HINT)),
    c.close("relative_error", "a matrix with zeros in both arrays",
            *(rng.normal(size=(3, 4)) * (rng.random((3, 4)) > 0.3) for _ in range(2))),
    c.close("relative_error", "one array all zeros gives 1", np.zeros(4), np.array([0.0, 1e-3, -2.0, 5.0])),
    c.close("relative_error", "close arrays of very different magnitudes",
            np.array([1e-6, 1.0, 1e4]), np.array([1.1e-6, 1.0 + 1e-9, 1e4 + 1e-3])),
    c.close("relative_error", "float32 inputs", *f32([0.5, -1.0, 0.0, 2.0], [0.5, -1.5, 0.0, 2.25]),
            tol=FLOAT32),
    c.unchanged("relative_error", np.array([0.5, -1.0, 0.0]), np.array([0.5, -1.5, 0.0])),
]
