"""Activations and the forward pass (assignment 2), in the lecture's notation.

Batches are rows: `A_prev` has shape `(m, n_{l-1})`, a layer's weights `W` have shape
`(n_l, n_{l-1})` and its bias `b` shape `(n_l,)`, so one layer computes

    Z = A_prev @ W.T + b        (m, n_l)
    A = g(Z)

which is the lecture's `z = W a + b` applied to every example (row) at once.
"""

import numpy as np

# ---------------------------------------------------------------- activations


def sigmoid(z):
    """The logistic function `1 / (1 + exp(-z))`, element-wise.

    No overflow warning for |z| up to 1e4: `exp` is only ever taken of a non-positive number.
    (The grader checks that no RuntimeWarning is raised, not only the values.)
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement sigmoid (see the handout)")


def tanh(z):
    """The hyperbolic tangent, element-wise."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement tanh (see the handout)")


def relu(z):
    """`max(0, z)`, element-wise."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement relu (see the handout)")


def leaky_relu(z, alpha=0.01):
    """`z` where `z > 0`, else `alpha * z`, element-wise."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement leaky_relu (see the handout)")


def linear(z):
    """The identity, `g(z) = z` (returns a new array, never the input itself)."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement linear (see the handout)")


def softmax(Z):
    """Row-wise softmax over the last axis: `exp(Z_ik) / sum_j exp(Z_ij)`.

    Stable for entries up to 1e4, without a RuntimeWarning: subtracting the row maximum changes
    nothing mathematically (it cancels between numerator and denominator) but keeps every `exp`
    at most 1.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement softmax (see the handout)")


# ---------------------------------------------------------------- derivatives


def sigmoid_grad(z):
    """`sigma'(z) = sigma(z) * (1 - sigma(z))`."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement sigmoid_grad (see the handout)")


def tanh_grad(z):
    """`tanh'(z) = 1 - tanh(z)^2`."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement tanh_grad (see the handout)")


def relu_grad(z):
    """1 where `z > 0`, else 0 (0 at `z == 0`, by the course's convention)."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement relu_grad (see the handout)")


def leaky_relu_grad(z, alpha=0.01):
    """1 where `z > 0`, else `alpha` (`alpha` at `z == 0`)."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement leaky_relu_grad (see the handout)")


def linear_grad(z):
    """The identity's derivative: ones, the shape of `z`."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement linear_grad (see the handout)")


# ---------------------------------------------------------------- layers


def dense_forward(A_prev, W, b):
    """The pre-activation of a dense layer, `Z = A_prev @ W.T + b`.

    A_prev: (m, n_in); W: (n_out, n_in); b: (n_out,). Returns Z: (m, n_out).
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement dense_forward (see the handout)")


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "softmax": softmax,
}


def layer_forward(A_prev, W, b, activation):
    """One layer: `Z = A_prev @ W.T + b`, `A = g(Z)` for the named activation. Returns (A, Z)."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement layer_forward (see the handout)")


def init_params(layer_sizes, method="he", seed=0):
    """Weights `W_l ~ N(0, std^2)` of shape `(n_l, n_{l-1})` and zero biases `b_l`.

    `std = sqrt(2 / n_in)` for "he" (ReLU layers), `sqrt(2 / (n_in + n_out))` for "xavier"
    (sigmoid/tanh layers); any other method raises ValueError.

    The draws are fixed, and graded exactly: one generator, `rng = np.random.default_rng(seed)`,
    made once; then for l = 1, 2, ... in order `W_l = rng.normal(0.0, std, size=(n_l, n_{l-1}))`
    (the same numbers as `rng.standard_normal((n_l, n_{l-1})) * std`); the zero biases draw
    nothing. Never NumPy's global random state (`np.random.seed`, `np.random.randn`, ...): the
    grader sees it.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement init_params (see the handout)")


def count_params(layer_sizes):
    """Number of parameters, `sum_l (n_l * n_{l-1} + n_l)`; 109386 for [784, 128, 64, 10]."""
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement count_params (see the handout)")


def forward(X, params, activations):
    """The forward pass through L layers: `A0 = X`, then `Z_l = A_{l-1} @ W_l.T + b_l`, `A_l = g_l(Z_l)`.

    Returns `(Y_hat, cache)` with `Y_hat = A_L` and `cache = {"A0": X, "Z1": ..., "A1": ..., ...}`,
    everything backpropagation will need.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement forward (see the handout)")
