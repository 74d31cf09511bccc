"""Known wrong implementations of the `forward` module (assignment 2).

Each mistake is declared on its wrong implementation, `@MISTAKES.mistake(function, name, hint)`:
the function has the signature of the API function it imitates and computes the wrong output a
student with that bug would get. When a student's output equals a mistake's output, the grader
shows the mistake's hint; it runs a function's mistakes in the order they are declared here.
The impls are self-contained NumPy (no reference): a mistake must not change when the reference
changes. Helpers shared by several mistakes are plain private functions.
"""

import numpy as np

from grader.authoring import Catalog

MISTAKES = Catalog("forward")


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


# --- softmax ----------------------------------------------------------------------------------


@MISTAKES.mistake("softmax", "softmax over the wrong axis",
                  "Normalize each row: take max and sum with axis=-1 (or axis=1) and keepdims=True, "
                  "so every row of the result sums to 1. axis=0 normalizes columns.")
def softmax_axis0(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@MISTAKES.mistake("softmax", "softmax normalized over the whole batch",
                  "Sum over each row separately (axis=-1, keepdims=True), not over the whole array: "
                  "each example gets its own probability distribution.")
def softmax_global_sum(Z):
    e = np.exp(Z - Z.max())
    return e / e.sum()


@MISTAKES.mistake("softmax", "softmax without subtracting the row max",
                  "exp(1000) overflows to inf and inf/inf is nan. Subtract each row's maximum before "
                  "exp: Z - Z.max(axis=-1, keepdims=True). It cancels out mathematically.")
def softmax_unstable(Z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(Z)
        return e / e.sum(axis=-1, keepdims=True)


# --- the activations' derivatives -------------------------------------------------------------


@MISTAKES.mistake("sigmoid_grad", "sigma'(z) computed as z * (1 - z)",
                  "The formula sigma(z) * (1 - sigma(z)) needs sigma(z), not z: compute s = sigmoid(z) first.")
def sigmoid_grad_z_one_minus_z(z):
    return np.asarray(z) * (1 - np.asarray(z))


@MISTAKES.mistake("tanh_grad", "tanh'(z) computed as 1 - z**2",
                  "The derivative is 1 - tanh(z)**2: apply tanh to z before squaring.")
def tanh_grad_one_minus_z_squared(z):
    return 1 - np.asarray(z) ** 2


@MISTAKES.mistake("tanh_grad", "tanh'(z) computed as 1 - tanh(z), not squared",
                  "The derivative is 1 - tanh(z)**2: square tanh(z) before subtracting it from 1. "
                  "1 - tanh(z) is near 2 for very negative z, where tanh is flat (slope 0).")
def tanh_grad_not_squared(z):
    return 1 - np.tanh(np.asarray(z, dtype=np.float64))


@MISTAKES.mistake("relu_grad", "relu'(0) = 1",
                  "The course defines relu'(0) = 0: use z > 0, not z >= 0.")
def relu_grad_one_at_zero(z):
    return (np.asarray(z) >= 0).astype(float)


@MISTAKES.mistake("leaky_relu_grad", "leaky_relu'(0) = 1",
                  "The course defines leaky_relu'(0) = alpha: use z > 0 for the slope-1 side.")
def leaky_relu_grad_one_at_zero(z, alpha=0.01):
    return np.where(np.asarray(z) >= 0, 1.0, alpha)


@MISTAKES.mistake("leaky_relu_grad", "leaky_relu' is 0 for negative z",
                  "For z <= 0 the slope of leaky ReLU is alpha, not 0 (that would be ReLU).")
def leaky_relu_grad_zero_below(z, alpha=0.01):
    return (np.asarray(z) > 0).astype(float)


# --- leaky_relu -------------------------------------------------------------------------------


@MISTAKES.mistake("leaky_relu", "leaky_relu ignores alpha (plain ReLU)",
                  "For z <= 0 leaky ReLU returns alpha * z, not 0.")
def leaky_relu_without_alpha(z, alpha=0.01):
    return np.maximum(z, 0.0)


# --- dense_forward, layer_forward -------------------------------------------------------------


@MISTAKES.mistake("dense_forward", "W used instead of W.T",
                  "W has shape (n_out, n_in) and rows of A_prev are examples: Z = A_prev @ W.T + b.")
def dense_forward_w_not_transposed(A_prev, W, b):
    return A_prev @ W + b


@MISTAKES.mistake("dense_forward", "bias missing",
                  "Add the bias: Z = A_prev @ W.T + b (b broadcasts over the rows).")
def dense_forward_no_bias(A_prev, W, b):
    return A_prev @ W.T


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


@MISTAKES.mistake("layer_forward", "(Z, A) returned instead of (A, Z)",
                  "layer_forward returns the activation first: return A, Z.")
def layer_forward_z_first(A_prev, W, b, activation):
    return _layer(A_prev, W, b, activation)[::-1]


# --- init_params, count_params ----------------------------------------------------------------


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


@MISTAKES.mistake("init_params", "a new generator for every layer",
                  "Make the generator once, before the loop: rng = np.random.default_rng(seed). A new "
                  "default_rng(seed) in every layer starts the same numbers again for each layer.")
def init_rng_per_layer(layer_sizes, method="he", seed=0):
    return _init(layer_sizes, method, lambda l, shape, std: np.random.default_rng(seed).normal(0.0, std, size=shape))


@MISTAKES.mistake("init_params", "a differently seeded generator for every layer",
                  "Make one generator, rng = np.random.default_rng(seed), before the loop and draw every layer "
                  "from it in order; seeding each layer (seed + l, ...) gives other numbers than the API fixes.")
def init_seed_plus_layer(layer_sizes, method="he", seed=0):
    return _init(layer_sizes, method,
                 lambda l, shape, std: np.random.default_rng(seed + l).normal(0.0, std, size=shape))


@MISTAKES.mistake("init_params", "weights drawn in shape (n_in, n_out) and transposed",
                  "Draw W_l directly in its shape (n_l, n_{l-1}): rng.normal(0.0, std, size=(n_out, n_in)). "
                  "Drawing (n_in, n_out) and transposing puts the same numbers in other places.")
def init_transposed(layer_sizes, method="he", seed=0):
    rng = np.random.default_rng(seed)
    return _init(layer_sizes, method, lambda l, shape, std: rng.normal(0.0, std, size=shape[::-1]).T)


@MISTAKES.mistake("init_params", "the legacy generator (np.random.seed / RandomState) instead of default_rng",
                  "Use the new generator: rng = np.random.default_rng(seed), then rng.normal(0.0, std, size=...). "
                  "np.random.seed, np.random.randn and RandomState use another algorithm and give other numbers.")
def init_legacy(layer_sizes, method="he", seed=0):
    """What np.random.seed(seed) then np.random.normal(...) draws (the same stream, no global state touched)."""
    legacy = np.random.RandomState(seed)
    return _init(layer_sizes, method, lambda l, shape, std: legacy.normal(0.0, std, size=shape))


@MISTAKES.mistake("count_params", "biases not counted",
                  "Each layer has n_l * n_{l-1} weights plus n_l biases.")
def count_params_no_biases(layer_sizes):
    return int(sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))


# --- forward ----------------------------------------------------------------------------------


@MISTAKES.mistake("forward", "the first activation used for every layer",
                  "Layer l uses activations[l - 1]: look the name up inside the loop.")
def forward_same_activation(X, params, activations):
    """Every layer uses the first activation."""
    cache = {"A0": X}
    A = X
    for l in range(1, len(activations) + 1):
        A, Z = _layer(A, params[f"W{l}"], params[f"b{l}"], activations[0])
        cache[f"Z{l}"], cache[f"A{l}"] = Z, A
    return A, cache
