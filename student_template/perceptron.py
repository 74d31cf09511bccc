"""Assignment 1: the perceptron rule and the sigmoid neuron (reference solution).

Notation (lecture, "Perceptron: Mathematical Formulation"): one example is a vector
$x = [x_1, ..., x_n]^T$, the weights are $w$ and the bias is $b$,

    z = w^T x + b,        yhat = sigma(z),

where sigma is the step function (Rosenblatt's perceptron) or the sigmoid (the modern neuron).
A batch holds one example per row: `X` has shape (m, n), so all the z's at once are `X @ w + b`.

Every function returns new arrays (float64) and leaves its inputs untouched; float32 inputs
are accepted and computed in float64.
"""

import numpy as np


def step(z):
    """The perceptron's activation: 1.0 where z >= 0, else 0.0.

        step(z) = 1 if z >= 0 else 0          (note: step(0) = 1)

    Args:
        z: array (any shape) or number.
    Returns:
        float64 array of the same shape as `z` holding 0.0 and 1.0.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement step (see the handout)")


def sigmoid(z):
    """The logistic sigmoid sigma(z) = 1 / (1 + exp(-z)), element-wise, without overflow.

    The textbook form overflows for z < -709 (exp(-z) = inf, with a RuntimeWarning).
    The stable form only ever exponentiates a non-positive number, e = exp(-|z|) in (0, 1]:

        sigma(z) = 1 / (1 + e)     for z >= 0
        sigma(z) = e / (1 + e)     for z <  0    (multiply top and bottom by exp(z))

    No RuntimeWarning for |z| up to 1e4: the grader checks for it, so a sigmoid that gives the
    right values while NumPy warns "overflow encountered in exp" loses those points.

    Args:
        z: array (any shape) or number; |z| up to 1e4 and beyond is fine.
    Returns:
        float64 array of the same shape as `z`, values in [0, 1].
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement sigmoid (see the handout)")


def perceptron_predict(X, w, b):
    """The perceptron's predictions for a batch: yhat_i = step(w^T x_i + b).

    Args:
        X: array (m, n), one example per row.
        w: array (n,), the weights.
        b: number, the bias.
    Returns:
        float64 array (m,) of 0.0 / 1.0, i.e. `step(X @ w + b)`.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement perceptron_predict (see the handout)")


def perceptron_update(x, y, w, b, lr):
    """One step of the perceptron rule on one example (x, y), y in {0, 1}.

        yhat  = step(w^T x + b)
        w_new = w + lr * (y - yhat) * x
        b_new = b + lr * (y - yhat)

    A correctly classified example (y == yhat) leaves w and b unchanged; a missed positive
    (y=1, yhat=0) adds lr * x to w, a false positive (y=0, yhat=1) subtracts it.

    Args:
        x: array (n,), one example.  y: its label, 0 or 1.
        w: array (n,), the weights (not modified).  b: number, the bias.
        lr: the learning rate alpha > 0.
    Returns:
        (w_new, b_new): a new float64 array (n,) and a Python float.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement perceptron_update (see the handout)")


def train_perceptron(X, y, lr=1.0, max_epochs=100):
    """Train a perceptron with the perceptron rule, online, one example at a time.

    Starts from w = 0 (shape (n,)) and b = 0.0. Each epoch visits the examples in order
    0, 1, ..., m-1 and applies `perceptron_update` to each. An example counts as an error of
    the epoch when it is misclassified by the weights *before* its own update. Training stops
    after the first epoch with no error (the data is then separated), or after `max_epochs`.

    For linearly separable data (AND, OR, NAND) the perceptron convergence theorem guarantees
    an error-free epoch after finitely many updates; for XOR no line separates the classes,
    so every epoch has an error and all `max_epochs` epochs run.

    Args:
        X: array (m, n), one example per row.  y: array (m,) of labels in {0, 1}.
        lr: the learning rate.  max_epochs: the most epochs to run.
    Returns:
        (w, b, errors): w a float64 array (n,), b a Python float, errors a list of Python ints,
        errors[e] = number of examples misclassified during epoch e (one entry per epoch run).
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement train_perceptron (see the handout)")


def sigmoid_neuron_grad(x, y, w, b):
    """Gradient of the squared loss of one sigmoid neuron on one example (x, y).

        z = w^T x + b,   yhat = sigma(z),   L = 0.5 * (y - yhat)^2

    Chain rule, with sigma'(z) = sigma(z) * (1 - sigma(z)):

        dL/dyhat = -(y - yhat) = (yhat - y)
        dL/dz    = (yhat - y) * sigma'(z)
        dL/dw    = (yhat - y) * sigma'(z) * x        (dz/dw = x)
        dL/db    = (yhat - y) * sigma'(z)            (dz/db = 1)

    Mind the sign: the lecture's slide writes (y - yhat) here, which is the *negative*
    gradient. The numerical gradient of L is the judge.

    Args:
        x: array (n,).  y: the target (a number).  w: array (n,).  b: number.
    Returns:
        (dw, db): a float64 array (n,) and a Python float.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement sigmoid_neuron_grad (see the handout)")


def sigmoid_neuron_step(x, y, w, b, lr):
    """One gradient-descent step on L = 0.5 * (y - sigma(w^T x + b))^2 for one example.

        w_new = w - lr * dL/dw = w - lr * (yhat - y) * sigma'(z) * x
        b_new = b - lr * dL/db = b - lr * (yhat - y) * sigma'(z)

    (Downhill: minus the gradient. The step lowers L for a small enough lr.)

    Args:
        x: array (n,).  y: the target.  w: array (n,) (not modified).  b: number.
        lr: the learning rate alpha > 0.
    Returns:
        (w_new, b_new): a new float64 array (n,) and a Python float.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement sigmoid_neuron_step (see the handout)")
