"""A correct perceptron.py: sigmoid through tanh, einsum, boolean masks."""
import numpy as np


def step(z):
    return (np.asarray(z) >= 0).astype(np.float64)


def sigmoid(z):
    # sigma(z) = (1 + tanh(z / 2)) / 2: tanh never overflows
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def perceptron_predict(X, w, b):
    z = np.einsum("ij,j->i", np.asarray(X, dtype=np.float64), np.asarray(w, dtype=np.float64)) + b
    return step(z)


def perceptron_update(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.array(w, dtype=np.float64)  # a copy
    y_hat = step(np.einsum("j,j->", w, x) + b)
    if y_hat != y:
        sign = 1.0 if y > y_hat else -1.0
        w += sign * lr * x  # only the copy changes
        b = b + sign * lr
    return w, float(b)


def train_perceptron(X, y, lr=1.0, max_epochs=100):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    b = 0.0
    errors = []
    for _ in range(max_epochs):
        mistakes = 0  # an error is exactly an example whose update changes (w, b)
        for x_i, y_i in zip(X, y):
            w_old, b_old = w, b
            w, b = perceptron_update(x_i, y_i, w, b, lr)
            mistakes += int(not (np.array_equal(w, w_old) and b == b_old))
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


def sigmoid_neuron_grad(x, y, w, b):
    x = np.asarray(x, dtype=np.float64)
    y_hat = sigmoid(np.einsum("j,j->", np.asarray(w, dtype=np.float64), x) + b)
    d_z = -(y - y_hat) * y_hat * (1.0 - y_hat)
    return d_z * x, float(d_z)


def sigmoid_neuron_step(x, y, w, b, lr):
    d_w, d_b = sigmoid_neuron_grad(x, y, w, b)
    return np.asarray(w, dtype=np.float64) - lr * d_w, float(b - lr * d_b)
