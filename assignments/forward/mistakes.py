"""Known mistakes in forward.py: when a student's output equals one of these, the feedback names it.

Each `impl` has the API function's signature and reproduces one realistic bug.
"""

import numpy as np

from grader.authoring import Mistake


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def _softmax_axis0(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_global_sum(Z):
    e = np.exp(Z - Z.max())
    return e / e.sum()


def _softmax_unstable(Z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(Z)
        return e / e.sum(axis=-1, keepdims=True)


def _layer(A_prev, W, b, activation):
    from_name = {
        "sigmoid": _sigmoid,
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
        "softmax": lambda z: np.exp(z - z.max(axis=-1, keepdims=True))
        / np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True),
    }
    Z = A_prev @ W.T + b
    return from_name.get(activation, lambda z: z)(Z), Z


def _forward_same_activation(X, params, activations):
    """Every layer uses the first activation."""
    cache = {"A0": X}
    A = X
    for l in range(1, len(activations) + 1):
        A, Z = _layer(A, params[f"W{l}"], params[f"b{l}"], activations[0])
        cache[f"Z{l}"], cache[f"A{l}"] = Z, A
    return A, cache


def _init(layer_sizes, method, draw):
    """init_params with the API's stds and zero biases, and weights from `draw(l, shape, std)`."""
    if method not in ("he", "xavier"):
        raise ValueError(method)
    params = {}
    for l in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
        std = np.sqrt(2.0 / n_in) if method == "he" else np.sqrt(2.0 / (n_in + n_out))
        params[f"W{l}"] = draw(l, (n_out, n_in), std)
        params[f"b{l}"] = np.zeros(n_out)
    return params


def _init_rng_per_layer(layer_sizes, method="he", seed=0):
    return _init(layer_sizes, method, lambda l, shape, std: np.random.default_rng(seed).normal(0.0, std, size=shape))


def _init_seed_plus_layer(layer_sizes, method="he", seed=0):
    return _init(layer_sizes, method,
                 lambda l, shape, std: np.random.default_rng(seed + l).normal(0.0, std, size=shape))


def _init_transposed(layer_sizes, method="he", seed=0):
    rng = np.random.default_rng(seed)
    return _init(layer_sizes, method, lambda l, shape, std: rng.normal(0.0, std, size=shape[::-1]).T)


def _init_legacy(layer_sizes, method="he", seed=0):
    """What np.random.seed(seed) then np.random.normal(...) draws (the same stream, no global state touched)."""
    legacy = np.random.RandomState(seed)
    return _init(layer_sizes, method, lambda l, shape, std: legacy.normal(0.0, std, size=shape))


MISTAKES = [
    Mistake("forward", "softmax", "softmax over the wrong axis",
            "Normalize each row: take max and sum with axis=-1 (or axis=1) and keepdims=True, "
            "so every row of the result sums to 1. axis=0 normalizes columns.", _softmax_axis0),
    Mistake("forward", "softmax", "softmax normalized over the whole batch",
            "Sum over each row separately (axis=-1, keepdims=True), not over the whole array: "
            "each example gets its own probability distribution.", _softmax_global_sum),
    Mistake("forward", "softmax", "softmax without subtracting the row max",
            "exp(1000) overflows to inf and inf/inf is nan. Subtract each row's maximum before "
            "exp: Z - Z.max(axis=-1, keepdims=True). It cancels out mathematically.", _softmax_unstable),
    Mistake("forward", "sigmoid_grad", "sigma'(z) computed as z * (1 - z)",
            "The formula sigma(z) * (1 - sigma(z)) needs sigma(z), not z: compute s = sigmoid(z) first.",
            lambda z: np.asarray(z) * (1 - np.asarray(z))),
    Mistake("forward", "tanh_grad", "tanh'(z) computed as 1 - z**2",
            "The derivative is 1 - tanh(z)**2: apply tanh to z before squaring.",
            lambda z: 1 - np.asarray(z) ** 2),
    Mistake("forward", "relu_grad", "relu'(0) = 1",
            "The course defines relu'(0) = 0: use z > 0, not z >= 0.",
            lambda z: (np.asarray(z) >= 0).astype(float)),
    Mistake("forward", "leaky_relu_grad", "leaky_relu'(0) = 1",
            "The course defines leaky_relu'(0) = alpha: use z > 0 for the slope-1 side.",
            lambda z, alpha=0.01: np.where(np.asarray(z) >= 0, 1.0, alpha)),
    Mistake("forward", "leaky_relu_grad", "leaky_relu' is 0 for negative z",
            "For z <= 0 the slope of leaky ReLU is alpha, not 0 (that would be ReLU).",
            lambda z, alpha=0.01: (np.asarray(z) > 0).astype(float)),
    Mistake("forward", "leaky_relu", "leaky_relu ignores alpha (plain ReLU)",
            "For z <= 0 leaky ReLU returns alpha * z, not 0.",
            lambda z, alpha=0.01: np.maximum(z, 0.0)),
    Mistake("forward", "dense_forward", "W used instead of W.T",
            "W has shape (n_out, n_in) and rows of A_prev are examples: Z = A_prev @ W.T + b.",
            lambda A_prev, W, b: A_prev @ W + b),
    Mistake("forward", "dense_forward", "bias missing",
            "Add the bias: Z = A_prev @ W.T + b (b broadcasts over the rows).",
            lambda A_prev, W, b: A_prev @ W.T),
    Mistake("forward", "layer_forward", "(Z, A) returned instead of (A, Z)",
            "layer_forward returns the activation first: return A, Z.",
            lambda A_prev, W, b, activation: _layer(A_prev, W, b, activation)[::-1]),
    Mistake("forward", "init_params", "a new generator for every layer",
            "Make the generator once, before the loop: rng = np.random.default_rng(seed). A new "
            "default_rng(seed) in every layer starts the same numbers again for each layer.", _init_rng_per_layer),
    Mistake("forward", "init_params", "a differently seeded generator for every layer",
            "Make one generator, rng = np.random.default_rng(seed), before the loop and draw every layer "
            "from it in order; seeding each layer (seed + l, ...) gives other numbers than the API fixes.",
            _init_seed_plus_layer),
    Mistake("forward", "init_params", "weights drawn in shape (n_in, n_out) and transposed",
            "Draw W_l directly in its shape (n_l, n_{l-1}): rng.normal(0.0, std, size=(n_out, n_in)). Drawing "
            "(n_in, n_out) and transposing puts the same numbers in other places.", _init_transposed),
    Mistake("forward", "init_params", "the legacy generator (np.random.seed / RandomState) instead of default_rng",
            "Use the new generator: rng = np.random.default_rng(seed), then rng.normal(0.0, std, size=...). "
            "np.random.seed, np.random.randn and RandomState use another algorithm and give other numbers.",
            _init_legacy),
    Mistake("forward", "count_params", "biases not counted",
            "Each layer has n_l * n_{l-1} weights plus n_l biases.",
            lambda sizes: int(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))),
    Mistake("forward", "forward", "the first activation used for every layer",
            "Layer l uses activations[l - 1]: look the name up inside the loop.", _forward_same_activation),
]
