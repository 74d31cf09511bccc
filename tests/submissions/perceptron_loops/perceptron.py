"""A correct perceptron.py written with explicit Python loops and the math module."""
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


def step(z):
    return _map(lambda v: 1.0 if v >= 0 else 0.0, z)


def sigmoid(z):
    return _map(_sig, z)


def _dot(w, x):
    total = 0.0
    for wj, xj in zip(w, x):
        total += float(wj) * float(xj)
    return total


def perceptron_predict(X, w, b):
    out = np.zeros(len(X))
    for i, row in enumerate(X):
        out[i] = 1.0 if _dot(w, row) + b >= 0 else 0.0
    return out


def perceptron_update(x, y, w, b, lr):
    y_hat = 1.0 if _dot(w, x) + b >= 0 else 0.0
    error = y - y_hat
    w_new = np.array([float(wj) + lr * error * float(xj) for wj, xj in zip(w, x)])
    return w_new, float(b) + lr * error


def train_perceptron(X, y, lr=1.0, max_epochs=100):
    n = len(X[0])
    w, b = np.zeros(n), 0.0
    errors = []
    for _ in range(max_epochs):
        count = 0
        for i in range(len(X)):
            if (1.0 if _dot(w, X[i]) + b >= 0 else 0.0) != y[i]:
                count += 1
            w, b = perceptron_update(X[i], y[i], w, b, lr)
        errors.append(count)
        if count == 0:
            break
    return w, b, errors


def sigmoid_neuron_grad(x, y, w, b):
    y_hat = _sig(_dot(w, x) + b)
    delta = (y_hat - y) * y_hat * (1.0 - y_hat)
    return np.array([delta * float(xj) for xj in x]), float(delta)


def sigmoid_neuron_step(x, y, w, b, lr):
    dw, db = sigmoid_neuron_grad(x, y, w, b)
    return np.array([float(wj) - lr * g for wj, g in zip(w, dw)]), float(b) - lr * db
