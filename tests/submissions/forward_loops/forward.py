"""A correct forward.py written with explicit Python loops and the math module."""
import math

import numpy as np


def _map(f, z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        out[idx] = f(z[idx])
    return out


def _sig(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def sigmoid(z):
    return _map(_sig, z)


def tanh(z):
    return _map(math.tanh, z)


def relu(z):
    return _map(lambda x: x if x > 0 else 0.0, z)


def leaky_relu(z, alpha=0.01):
    return _map(lambda x: x if x > 0 else alpha * x, z)


def linear(z):
    return _map(lambda x: x, z)


def softmax(Z):
    Z = np.asarray(Z, dtype=float)
    out = np.empty_like(Z)
    for i in range(Z.shape[0]):
        row = Z[i]
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        total = sum(exps)
        for j in range(len(row)):
            out[i, j] = exps[j] / total
    return out


def sigmoid_grad(z):
    return _map(lambda x: _sig(x) * (1 - _sig(x)), z)


def tanh_grad(z):
    return _map(lambda x: 1 - math.tanh(x) ** 2, z)


def relu_grad(z):
    return _map(lambda x: 1.0 if x > 0 else 0.0, z)


def leaky_relu_grad(z, alpha=0.01):
    return _map(lambda x: 1.0 if x > 0 else alpha, z)


def linear_grad(z):
    return _map(lambda x: 1.0, z)


def dense_forward(A_prev, W, b):
    m, n_in = A_prev.shape
    n_out = W.shape[0]
    Z = np.zeros((m, n_out))
    for i in range(m):
        for j in range(n_out):
            s = b[j]
            for k in range(n_in):
                s += A_prev[i, k] * W[j, k]
            Z[i, j] = s
    return Z


def layer_forward(A_prev, W, b, activation):
    Z = dense_forward(A_prev, W, b)
    funcs = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu,
             "linear": linear, "softmax": softmax}
    return funcs[activation](Z), Z


def init_params(layer_sizes, method="he", seed=0):
    if method == "he":
        stds = [math.sqrt(2 / layer_sizes[i]) for i in range(len(layer_sizes) - 1)]
    elif method == "xavier":
        stds = [math.sqrt(2 / (layer_sizes[i] + layer_sizes[i + 1])) for i in range(len(layer_sizes) - 1)]
    else:
        raise ValueError("method must be 'he' or 'xavier'")
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        params["W" + str(l)] = rng.standard_normal((layer_sizes[l], layer_sizes[l - 1])) * stds[l - 1]
        params["b" + str(l)] = np.zeros(layer_sizes[l])
    return params


def count_params(layer_sizes):
    total = 0
    for l in range(1, len(layer_sizes)):
        total += layer_sizes[l] * layer_sizes[l - 1] + layer_sizes[l]
    return total


def forward(X, params, activations):
    cache = {"A0": X}
    A = X
    for l in range(1, len(activations) + 1):
        A, Z = layer_forward(A, params["W%d" % l], params["b%d" % l], activations[l - 1])
        cache["Z%d" % l] = Z
        cache["A%d" % l] = A
    return A, cache
