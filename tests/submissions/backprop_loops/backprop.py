"""A correct backprop.py with loops over examples, np.nditer and the math module."""
import math

import numpy as np

import forward

_GRADS = {
    "sigmoid": forward.sigmoid_grad,
    "tanh": forward.tanh_grad,
    "relu": forward.relu_grad,
    "leaky_relu": forward.leaky_relu_grad,
    "linear": forward.linear_grad,
}


def mse_loss(Y_hat, Y):
    Y_hat, Y = np.asarray(Y_hat, dtype=float), np.asarray(Y, dtype=float)
    total = 0.0
    for i in range(Y_hat.shape[0]):
        for d in np.ravel(Y_hat[i] - Y[i]):
            total += 0.5 * d * d
    return total / Y_hat.shape[0]


def mse_loss_grad(Y_hat, Y):
    Y_hat, Y = np.asarray(Y_hat, dtype=float), np.asarray(Y, dtype=float)
    out = np.empty_like(Y_hat)
    for idx in np.ndindex(Y_hat.shape):
        out[idx] = (Y_hat[idx] - Y[idx]) / Y_hat.shape[0]
    return out


def cross_entropy_loss(P, Y):
    total = 0.0
    for p_row, y_row in zip(P, Y):
        for p, y in zip(p_row, y_row):
            if y != 0:
                total -= float(y) * math.log(max(float(p), 1e-300))
    return total / len(P)


def softmax_cross_entropy_grad(P, Y):
    P, Y = np.asarray(P, dtype=float), np.asarray(Y, dtype=float)
    return (P - Y) / len(P)


def activation_backward(dA, Z, activation):
    if activation not in _GRADS:
        raise ValueError(f"no derivative for {activation}")
    return np.asarray(dA, dtype=float) * _GRADS[activation](np.asarray(Z, dtype=float))


def dense_backward(dZ, A_prev, W):
    dZ, A_prev, W = (np.asarray(a, dtype=float) for a in (dZ, A_prev, W))
    dW = np.zeros(W.shape)
    db = np.zeros(W.shape[0])
    dA_prev = np.zeros(A_prev.shape)
    for i in range(dZ.shape[0]):  # one example at a time: the sum over the batch
        dW += np.outer(dZ[i], A_prev[i])
        db += dZ[i]
        dA_prev[i] = W.T @ dZ[i]
    return dA_prev, dW, db


def backward(Y, cache, params, activations, loss="mse"):
    L = len(activations)
    A_L = np.asarray(cache["A" + str(L)], dtype=float)
    Y = np.asarray(Y, dtype=float)
    if loss == "cross_entropy":
        if activations[-1] != "softmax":
            raise ValueError("cross-entropy needs softmax")
        delta = softmax_cross_entropy_grad(A_L, Y)
    elif loss == "mse":
        G = mse_loss_grad(A_L, Y)
        if activations[-1] == "softmax":
            delta = np.zeros_like(G)
            for i in range(G.shape[0]):
                p, g = A_L[i], G[i]
                delta[i] = p * (g - np.dot(g, p))
        else:
            delta = activation_backward(G, cache["Z" + str(L)], activations[-1])
    else:
        raise ValueError("unknown loss")
    grads = {}
    for l in range(L, 0, -1):
        dA_prev, grads["W" + str(l)], grads["b" + str(l)] = dense_backward(delta, cache["A" + str(l - 1)],
                                                                           params["W" + str(l)])
        if l > 1:
            delta = activation_backward(dA_prev, cache["Z" + str(l - 1)], activations[l - 2])
    return {k: grads[k] for k in params}


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        old = float(x[idx])
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
        it.iternext()
    return grad


def relative_error(a, b):
    a = np.ravel(np.asarray(a, dtype=float))
    b = np.ravel(np.asarray(b, dtype=float))
    worst = 0.0
    for ai, bi in zip(a, b):
        worst = max(worst, abs(ai - bi) / max(1e-8, abs(ai) + abs(bi)))
    return float(worst)


def train_xor(hidden=4, lr=1.0, epochs=5000, seed=0):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [0]], dtype=float)
    acts = ["sigmoid", "sigmoid"]
    params = forward.init_params([2, hidden, 1], method="he", seed=seed)
    for _ in range(epochs):
        _, cache = forward.forward(X, params, acts)
        grads = backward(Y, cache, params, acts)
        for k in params:
            params[k] = params[k] - lr * grads[k]
    return params
