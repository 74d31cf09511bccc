"""Assignment 3: backpropagation, gradient checking and a first trained network (reference).

Notation (lecture, "Backpropagation", written for a batch with one example per row):

    A^(0) = X                              shape (m, n_0)
    Z^(l) = A^(l-1) W^(l)T + b^(l)         shape (m, n_l),  W^(l): (n_l, n_{l-1}),  b^(l): (n_l,)
    A^(l) = g_l(Z^(l))                     g_l = the activation of layer l
    Yhat  = A^(L)

The error term of layer l is delta^(l) = dL/dZ^(l), an (m, n_l) array (row i: example i).
With the loss a *mean* over the batch, the 1/m enters once, in delta^(L), and then

    dL/dW^(l)   = delta^(l)T A^(l-1)                   (n_l, n_{l-1})   -- sums over examples
    dL/db^(l)   = sum over rows of delta^(l)           (n_l,)
    dL/dA^(l-1) = delta^(l) W^(l)                      (m, n_{l-1})
    delta^(l-1) = (delta^(l) W^(l)) * g'_{l-1}(Z^(l-1))     (* = element-wise)

which is the lecture's delta^(l-1) = (W^(l))^T delta^(l) (.) sigma'(z^(l-1)) with every vector
turned into a row of a batch.

Every function returns new float64 arrays and leaves its inputs untouched (float32 is accepted);
`numerical_gradient` is the exception by design: it perturbs `x` in place and restores it.
"""

import numpy as np

import forward


def mse_loss(Y_hat, Y):
    """Mean squared error over the batch: L = (1/m) * sum_i 0.5 * ||yhat_i - y_i||^2.

    Args:
        Y_hat: array (m, k) (or (m,)), the predictions.  Y: array of the same shape, targets.
    Returns:
        L as a Python float. m = Y_hat.shape[0]: the mean is over examples, not entries.
    """
    Y_hat = np.asarray(Y_hat, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    m = Y_hat.shape[0]
    return float(0.5 * np.sum((Y_hat - Y) ** 2) / m)


def mse_loss_grad(Y_hat, Y):
    """Gradient of `mse_loss` with respect to Y_hat: dL/dYhat = (Yhat - Y) / m.

    (The 0.5 cancels the 2 of the square; the 1/m is the mean over the batch.)

    Args:
        Y_hat: array (m, k).  Y: array (m, k).
    Returns:
        float64 array (m, k).
    """
    Y_hat = np.asarray(Y_hat, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    m = Y_hat.shape[0]
    return (Y_hat - Y) / m


def cross_entropy_loss(P, Y):
    """Mean cross-entropy over the batch: L = -(1/m) * sum_i sum_k Y_ik * log(P_ik).

    Args:
        P: array (m, K) of predicted probabilities (rows of a softmax, entries > 0).
        Y: array (m, K), one-hot targets (any non-negative weights work the same way).
    Returns:
        L as a Python float. An entry P_ik == 0 is read as the smallest positive float64
        (log = -708) so the result stays finite; entries with Y_ik == 0 contribute nothing.
    """
    P = np.asarray(P, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    m = P.shape[0]
    log_P = np.log(np.maximum(P, np.finfo(np.float64).tiny))  # log(0) would be -inf
    return float(-np.sum(Y * log_P) / m)


def softmax_cross_entropy_grad(P, Y):
    """Gradient of the mean cross-entropy with respect to the softmax's input Z: (P - Y) / m.

    With P = softmax(Z) row-wise and one-hot Y, the softmax Jacobian and the -Y/P of the
    log cancel to the famous delta^(L) = (P - Y) / m (the rows of Y sum to 1).

    Args:
        P: array (m, K), softmax outputs.  Y: array (m, K), one-hot targets.
    Returns:
        float64 array (m, K): dL/dZ^(L).
    """
    P = np.asarray(P, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    m = P.shape[0]
    return (P - Y) / m


def activation_backward(dA, Z, activation):
    """Back through an element-wise activation A = g(Z): dZ = dA * g'(Z).

    Args:
        dA: array (m, n), dL/dA.  Z: array (m, n), the layer's pre-activation (from the cache).
        activation: "sigmoid", "tanh", "relu", "leaky_relu" (alpha 0.01) or "linear".
    Returns:
        float64 array (m, n): dL/dZ.
    Raises:
        ValueError for "softmax" (it is not element-wise: its gradient is handled with the
        loss, see `softmax_cross_entropy_grad` and `backward`) and for unknown names.
    """
    derivatives = {
        "sigmoid": forward.sigmoid_grad,
        "tanh": forward.tanh_grad,
        "relu": forward.relu_grad,
        "leaky_relu": forward.leaky_relu_grad,  # default alpha = 0.01
        "linear": forward.linear_grad,
    }
    if activation not in derivatives:
        raise ValueError(
            f"activation_backward: no element-wise derivative for {activation!r} "
            f"(softmax is handled together with the loss)"
        )
    dA = np.asarray(dA, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    return dA * derivatives[activation](Z)  # chain rule, element by element


def dense_backward(dZ, A_prev, W):
    """Back through Z = A_prev @ W.T + b, given dZ = dL/dZ.

        dW      = dZ.T @ A_prev       (n_out, n_in)   same shape as W; sums over the batch
        db      = dZ.sum(axis=0)      (n_out,)        b was broadcast to every row
        dA_prev = dZ @ W              (m, n_in)

    Args:
        dZ: array (m, n_out).  A_prev: array (m, n_in).  W: array (n_out, n_in).
    Returns:
        (dA_prev, dW, db), float64 arrays.
    """
    dZ = np.asarray(dZ, dtype=np.float64)
    A_prev = np.asarray(A_prev, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    dW = dZ.T @ A_prev  # entry (j, k) = sum_i dZ_ij * A_prev_ik
    db = dZ.sum(axis=0)
    dA_prev = dZ @ W
    return dA_prev, dW, db


def backward(Y, cache, params, activations, loss="mse"):
    """Backpropagation: the gradients of the mean loss for every W^(l) and b^(l).

        delta^(L)   = dL/dZ^(L)                                       (the output error)
        delta^(l-1) = (delta^(l) @ W^(l)) * g'_{l-1}(Z^(l-1))         for l = L, ..., 2
        dW^(l) = delta^(l).T @ A^(l-1),  db^(l) = delta^(l).sum(axis=0)

    The output error delta^(L) depends on the loss and on the output activation g_L:
    - "mse" with an element-wise g_L:  delta^(L) = (Yhat - Y)/m * g_L'(Z^(L)).
    - "mse" with "softmax": softmax is not element-wise, so the full Jacobian is used,
      as a Jacobian-vector product per row: with G = (Yhat - Y)/m and P = Yhat,
      delta^(L) = P * (G - sum_k(G * P, per row)), i.e. dZ_ij = P_ij (G_ij - sum_k G_ik P_ik).
    - "cross_entropy" (requires g_L = "softmax"): delta^(L) = (P - Y)/m.

    Args:
        Y: array (m, n_L), the targets (one-hot for cross-entropy).
        cache: dict from `forward.forward`: "A0" (= X), "Z1", "A1", ..., "ZL", "AL".
        params: dict "W1", "b1", ..., "WL", "bL".
        activations: list of L activation names, one per layer; "softmax" only last.
        loss: "mse" or "cross_entropy".
    Returns:
        grads: dict with the keys of `params`, each the same shape as its parameter.
    Raises:
        ValueError for an unknown loss, for "cross_entropy" when the output activation is not
        "softmax", and (from `activation_backward`) for softmax in a hidden layer.
    """
    L = len(activations)
    Y = np.asarray(Y, dtype=np.float64)
    A_L = np.asarray(cache[f"A{L}"], dtype=np.float64)  # Yhat (= P for a softmax output)

    # 1. the output error delta^(L) = dL/dZ^(L)
    if loss == "cross_entropy":
        if activations[-1] != "softmax":
            raise ValueError(
                f"loss='cross_entropy' needs a 'softmax' output layer, got {activations[-1]!r}"
            )
        delta = softmax_cross_entropy_grad(A_L, Y)
    elif loss == "mse":
        dA = mse_loss_grad(A_L, Y)  # dL/dA^(L)
        if activations[-1] == "softmax":
            # softmax Jacobian-vector product, row by row: dZ = P * (dA - <dA, P>)
            delta = A_L * (dA - np.sum(dA * A_L, axis=1, keepdims=True))
        else:
            delta = activation_backward(dA, cache[f"Z{L}"], activations[-1])
    else:
        raise ValueError(f"unknown loss {loss!r}: use 'mse' or 'cross_entropy'")

    # 2. walk back through the layers, l = L, ..., 1
    grads = {}
    for layer in range(L, 0, -1):  # layer = l in the lecture
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = dense_backward(
            delta, cache[f"A{layer - 1}"], params[f"W{layer}"]
        )
        if layer > 1:
            # layer l-1's activation is activations[layer - 2] (the list is 0-based)
            delta = activation_backward(dA_prev, cache[f"Z{layer - 1}"], activations[layer - 2])
    return {key: grads[key] for key in params}  # same order as params


def numerical_gradient(f, x, h=1e-5):
    """Central-difference estimate of the gradient of a scalar function f at x.

        df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)        error O(h^2)

    Each entry of `x` is perturbed *in place* (so an `f` that reads x through a closure,
    e.g. `lambda _: loss(params)` with x = params["W1"], sees the change) and restored to
    its exact original value afterwards, even if `f` raises.

    Args:
        f: function taking x and returning a number.
        x: float array (any shape; use float64: in float32, h=1e-5 drowns in rounding).
        h: the step.
    Returns:
        float64 array of x's shape, the estimated gradient. On return x is as it was.
    """
    grad = np.zeros(np.shape(x), dtype=np.float64)
    for idx in np.ndindex(*np.shape(x)):
        original = x[idx]
        try:
            x[idx] = original + h
            f_plus = float(f(x))
            x[idx] = original - h
            f_minus = float(f(x))
        finally:
            x[idx] = original  # the very same value, not (original + h) - h
        grad[idx] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a, b):
    """The largest element-wise relative error between two arrays.

        max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)

    The 1e-8 floor keeps 0/0 out where both entries are (near) zero. Rules of thumb for a
    gradient check in float64: < 1e-7 great, < 1e-5 fine near kinks, > 1e-3 a bug.

    Args:
        a, b: arrays of the same shape (or numbers).
    Returns:
        a Python float (0.0 for empty arrays).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0 and b.size == 0:
        return 0.0
    error = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(error))


def train_xor(hidden=4, lr=1.0, epochs=5000, seed=0):
    """Train a 2-hidden-1 network, sigmoid on both layers, on XOR by full-batch gradient descent.

    Data: X = [[0,0],[0,1],[1,0],[1,1]], Y = [[0],[1],[1],[0]]. Initialisation from
    `forward.init_params([2, hidden, 1], "he", seed)`, mean squared error, and `epochs`
    steps of W^(l) := W^(l) - lr * dL/dW^(l), b^(l) := b^(l) - lr * dL/db^(l).

    Args:
        hidden: width of the hidden layer.  lr: learning rate.  epochs: gradient steps.
        seed: seed of the initialisation.
    Returns:
        params: dict "W1", "b1", "W2", "b2" that classify all four points right
        (output > 0.5 means 1) with the default arguments.
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    activations = ["sigmoid", "sigmoid"]
    # The lecture pairs Xavier with sigmoid; on this 2-input net He's wider start (std 1 in
    # layer 1) breaks the symmetry between hidden units more reliably (fewer stuck seeds).
    params = forward.init_params([2, hidden, 1], method="he", seed=seed)
    for _epoch in range(epochs):
        _, cache = forward.forward(X, params, activations)
        grads = backward(Y, cache, params, activations, loss="mse")
        params = {key: params[key] - lr * grads[key] for key in params}  # gradient descent
    return params
