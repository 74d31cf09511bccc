"""A correct perceptron.py built on scipy.special.expit and np.heaviside."""
import numpy as np
from scipy.special import expit


def step(z):
    return np.heaviside(np.asarray(z, dtype=np.float64), 1.0)


def sigmoid(z):
    return expit(np.asarray(z, dtype=np.float64))


def perceptron_predict(X, w, b):
    return step(np.dot(np.asarray(X, dtype=np.float64), np.asarray(w, dtype=np.float64)) + b)


def perceptron_update(x, y, w, b, lr):
    x = np.array(x, dtype=np.float64)
    error = y - step(np.dot(w, x) + b)
    return np.add(w, lr * error * x, dtype=np.float64), float(b + lr * error)


def train_perceptron(X, y, lr=1.0, max_epochs=100):
    X = np.asarray(X, dtype=np.float64)
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    while len(errors) < max_epochs:
        wrong = 0
        for x_i, y_i in zip(X, y):
            wrong += int(perceptron_predict(x_i[None, :], w, b)[0] != y_i)
            w, b = perceptron_update(x_i, y_i, w, b, lr)
        errors.append(wrong)
        if not wrong:
            break
    return w, b, errors


def sigmoid_neuron_grad(x, y, w, b):
    x = np.asarray(x, dtype=np.float64)
    s = expit(np.dot(w, x) + b)
    dz = (s - y) * s * (1 - s)
    return dz * x, float(dz)


def sigmoid_neuron_step(x, y, w, b, lr):
    dw, db = sigmoid_neuron_grad(x, y, w, b)
    return np.asarray(w, dtype=np.float64) - lr * dw, float(b) - lr * db
