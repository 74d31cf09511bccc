"""A correct regularization.py written with explicit loops (a student's style)."""

import numpy as np


def l2_penalty(params, lam):
    total = 0.0
    for key in params:
        if key[0] == "W":
            W = params[key]
            for w in W.ravel():
                total += float(w) * float(w)
    return lam * total


def l2_grad(params, lam):
    grads = {}
    for key in params:
        if key[0] == "W":
            grads[key] = 2 * lam * params[key]
        else:
            grads[key] = np.zeros(params[key].shape, dtype=params[key].dtype)
    return grads


def l1_penalty(params, lam):
    total = 0.0
    for key in params:
        if key[0] == "W":
            for w in params[key].ravel():
                total += abs(float(w))
    return lam * total


def l1_grad(params, lam):
    grads = {}
    for key in params:
        W = params[key]
        g = np.zeros(W.shape, dtype=W.dtype)
        if key[0] == "W":
            flat = g.reshape(-1)
            for i, w in enumerate(W.ravel()):
                if w > 0:
                    flat[i] = lam
                elif w < 0:
                    flat[i] = -lam
        grads[key] = g
    return grads


def regularized_loss_and_grads(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    import backprop
    import forward

    if penalty == "l2":
        pen, pen_grad = l2_penalty(params, lam), l2_grad(params, lam)
    elif penalty == "l1":
        pen, pen_grad = l1_penalty(params, lam), l1_grad(params, lam)
    else:
        raise ValueError("unknown penalty")
    Y_hat, cache = forward.forward(X, params, activations)
    if loss == "mse":
        data = backprop.mse_loss(Y_hat, Y)
    elif loss == "cross_entropy":
        data = backprop.cross_entropy_loss(Y_hat, Y)
    else:
        raise ValueError("unknown loss")
    grads = backprop.backward(Y, cache, params, activations, loss)
    out = {}
    for key in params:
        out[key] = grads[key] + pen_grad[key]
    return data + pen, out


def dropout_forward(A, keep_prob, rng, train=True, inverted=True):
    if keep_prob <= 0 or keep_prob > 1:
        raise ValueError("keep_prob must be in (0, 1]")
    if train:
        mask = rng.random(A.shape) < keep_prob
        out = np.zeros_like(A)
        flat_out, flat_a, flat_m = out.reshape(-1), A.reshape(-1), mask.reshape(-1)
        for i in range(flat_a.size):
            if flat_m[i]:
                flat_out[i] = flat_a[i] / keep_prob if inverted else flat_a[i]
        return out, mask
    if inverted:
        return np.array(A), None
    return keep_prob * A, None


def dropout_backward(dA, mask, keep_prob, inverted=True):
    if mask is None:
        if inverted:
            return np.array(dA)
        return keep_prob * dA
    out = np.zeros_like(dA)
    for idx in np.ndindex(dA.shape):
        if mask[idx]:
            out[idx] = dA[idx] / keep_prob if inverted else dA[idx]
    return out


def early_stopping(val_losses, patience):
    if patience < 0:
        raise ValueError("patience must be >= 0")
    losses = list(val_losses)
    for e in range(len(losses)):
        best_e = 0
        for i in range(e + 1):
            if losses[i] < losses[best_e]:
                best_e = i
        if e - best_e >= patience:
            return e
    return None
