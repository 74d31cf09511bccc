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
    ### BEGIN SOLUTION
    z = np.asarray(z)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    # z >= 0: 1 / (1 + e^-z);  z < 0: e^z / (1 + e^z), the same value written stably.
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


def tanh(z):
    """The hyperbolic tangent, element-wise."""
    ### BEGIN SOLUTION
    return np.tanh(z)
    ### END SOLUTION


def relu(z):
    """`max(0, z)`, element-wise."""
    ### BEGIN SOLUTION
    return np.maximum(z, 0.0)
    ### END SOLUTION


def leaky_relu(z, alpha=0.01):
    """`z` where `z > 0`, else `alpha * z`, element-wise."""
    ### BEGIN SOLUTION
    z = np.asarray(z)
    return np.where(z > 0, z, alpha * z)
    ### END SOLUTION


def linear(z):
    """The identity, `g(z) = z` (returns a new array, never the input itself)."""
    ### BEGIN SOLUTION
    return np.array(z, copy=True)
    ### END SOLUTION


def softmax(Z):
    """Row-wise softmax over the last axis: `exp(Z_ik) / sum_j exp(Z_ij)`.

    Stable for entries up to 1e4, without a RuntimeWarning: subtracting the row maximum changes
    nothing mathematically (it cancels between numerator and denominator) but keeps every `exp`
    at most 1.
    """
    ### BEGIN SOLUTION
    Z = np.asarray(Z)
    shifted = Z - Z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


# ---------------------------------------------------------------- derivatives


def sigmoid_grad(z):
    """`sigma'(z) = sigma(z) * (1 - sigma(z))`."""
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1.0 - s)
    ### END SOLUTION


def tanh_grad(z):
    """`tanh'(z) = 1 - tanh(z)^2`."""
    ### BEGIN SOLUTION
    return 1.0 - np.tanh(z) ** 2
    ### END SOLUTION


def relu_grad(z):
    """1 where `z > 0`, else 0 (0 at `z == 0`, by the course's convention)."""
    ### BEGIN SOLUTION
    return (np.asarray(z) > 0).astype(np.result_type(z, np.float32))
    ### END SOLUTION


def leaky_relu_grad(z, alpha=0.01):
    """1 where `z > 0`, else `alpha` (`alpha` at `z == 0`)."""
    ### BEGIN SOLUTION
    z = np.asarray(z)
    return np.where(z > 0, 1.0, alpha).astype(np.result_type(z, np.float32))
    ### END SOLUTION


def linear_grad(z):
    """The identity's derivative: ones, the shape of `z`."""
    ### BEGIN SOLUTION
    return np.ones_like(np.asarray(z, dtype=np.result_type(z, np.float32)))
    ### END SOLUTION


# ---------------------------------------------------------------- layers


def dense_forward(A_prev, W, b):
    """The pre-activation of a dense layer, `Z = A_prev @ W.T + b`.

    A_prev: (m, n_in); W: (n_out, n_in); b: (n_out,). Returns Z: (m, n_out).
    """
    ### BEGIN SOLUTION
    return A_prev @ W.T + b
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    Z = dense_forward(A_prev, W, b)
    return ACTIVATIONS[activation](Z), Z
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if method not in ("he", "xavier"):
        raise ValueError(f"unknown initialization method {method!r}: use 'he' or 'xavier'")
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
        std = np.sqrt(2.0 / n_in) if method == "he" else np.sqrt(2.0 / (n_in + n_out))
        params[f"W{l}"] = rng.normal(0.0, std, size=(n_out, n_in))
        params[f"b{l}"] = np.zeros(n_out)
    return params
    ### END SOLUTION


def count_params(layer_sizes):
    """Number of parameters, `sum_l (n_l * n_{l-1} + n_l)`; 109386 for [784, 128, 64, 10]."""
    ### BEGIN SOLUTION
    return int(sum(n_out * n_in + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])))
    ### END SOLUTION


def forward(X, params, activations):
    """The forward pass through L layers: `A0 = X`, then `Z_l = A_{l-1} @ W_l.T + b_l`, `A_l = g_l(Z_l)`.

    Returns `(Y_hat, cache)` with `Y_hat = A_L` and `cache = {"A0": X, "Z1": ..., "A1": ..., ...}`,
    everything backpropagation will need.
    """
    ### BEGIN SOLUTION
    cache = {"A0": X}
    A = X
    for l, activation in enumerate(activations, start=1):
        A, Z = layer_forward(A, params[f"W{l}"], params[f"b{l}"], activation)
        cache[f"Z{l}"] = Z
        cache[f"A{l}"] = A
    return A, cache
    ### END SOLUTION
