"""A correct backprop.py: einsum everywhere, a recursive delta, the softmax Jacobian as a matrix."""
import numpy as np

import forward


def mse_loss(Y_hat, Y):
    D = np.asarray(Y_hat, dtype=np.float64) - np.asarray(Y, dtype=np.float64)
    d = D.reshape(-1)
    return float(0.5 * np.einsum("i,i->", d, d) / D.shape[0])


def mse_loss_grad(Y_hat, Y):
    D = np.subtract(Y_hat, Y, dtype=np.float64)
    return D / D.shape[0]


def cross_entropy_loss(P, Y):
    P = np.asarray(P, dtype=np.float64)
    log_P = np.log(np.clip(P, 1e-300, None))
    return float(-np.einsum("ik,ik->", np.asarray(Y, dtype=np.float64), log_P) / P.shape[0])


def softmax_cross_entropy_grad(P, Y):
    return np.subtract(P, Y, dtype=np.float64) / np.shape(P)[0]


def activation_backward(dA, Z, activation):
    table = {"sigmoid": forward.sigmoid_grad, "tanh": forward.tanh_grad, "relu": forward.relu_grad,
             "leaky_relu": forward.leaky_relu_grad, "linear": forward.linear_grad}
    try:
        g_prime = table[activation]
    except KeyError:
        raise ValueError(f"activation_backward cannot handle {activation!r}") from None
    return np.multiply(dA, g_prime(np.asarray(Z, dtype=np.float64)), dtype=np.float64)


def dense_backward(dZ, A_prev, W):
    dZ = np.asarray(dZ, dtype=np.float64)
    dW = np.einsum("ij,ik->jk", dZ, np.asarray(A_prev, dtype=np.float64))
    db = np.einsum("ij->j", dZ)
    dA_prev = np.einsum("ij,jk->ik", dZ, np.asarray(W, dtype=np.float64))
    return dA_prev, dW, db


def _softmax_mse_delta(P, G):
    rows = []
    for p, g in zip(P, G):
        jacobian = np.diag(p) - np.outer(p, p)  # d p_k / d z_j, symmetric
        rows.append(jacobian @ g)
    return np.array(rows)


def backward(Y, cache, params, activations, loss="mse"):
    L = len(activations)
    P = np.asarray(cache[f"A{L}"], dtype=np.float64)
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(loss)
    if loss == "cross_entropy" and activations[-1] != "softmax":
        raise ValueError("cross_entropy requires a softmax output")

    def delta(l):
        """dL/dZ^(l), from the output down (recursive)."""
        if l == L:
            if loss == "cross_entropy":
                return softmax_cross_entropy_grad(P, Y)
            G = mse_loss_grad(P, Y)
            if activations[-1] == "softmax":
                return _softmax_mse_delta(P, G)
            return activation_backward(G, cache[f"Z{L}"], activations[-1])
        upstream = np.einsum("ij,jk->ik", deltas[l + 1], np.asarray(params[f"W{l + 1}"], dtype=np.float64))
        return activation_backward(upstream, cache[f"Z{l}"], activations[l - 1])

    deltas = {}
    for l in range(L, 0, -1):
        deltas[l] = delta(l)
    grads = {}
    for l in range(1, L + 1):
        _, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(deltas[l], cache[f"A{l - 1}"], params[f"W{l}"])
    return {k: grads[k] for k in params}


def numerical_gradient(f, x, h=1e-5):
    flat = x.reshape(-1)  # a view: writing flat[i] writes x
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        keep = flat[i].copy()
        try:
            flat[i] = keep + h
            f_plus = f(x)
            flat[i] = keep - h
            f_minus = f(x)
        finally:
            flat[i] = keep
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad.reshape(x.shape)


def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    num = np.abs(a - b)
    den = np.fmax(np.abs(a) + np.abs(b), 1e-8)
    return float(np.max(num / den, initial=0.0))


def train_xor(hidden=4, lr=1.0, epochs=5000, seed=0):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    params = forward.init_params([2, hidden, 1], "he", seed)
    for _ in range(epochs):
        _, cache = forward.forward(X, params, ["sigmoid", "sigmoid"])
        g = backward(Y, cache, params, ["sigmoid", "sigmoid"], "mse")
        params = {k: v - lr * g[k] for k, v in params.items()}
    return params
