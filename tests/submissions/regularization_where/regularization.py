"""A correct regularization.py with np.where, norms and a while loop (a student's style)."""

import math

import numpy as np


def l2_penalty(params, lam):
    s = 0.0
    for k, v in sorted(params.items()):
        if k.startswith("W"):
            s += np.linalg.norm(v) ** 2
    return float(lam) * float(s)


def l2_grad(params, lam):
    return {k: (2 * lam) * v if k.startswith("W") else 0 * v for k, v in params.items()}


def l1_penalty(params, lam):
    return lam * math.fsum(float(np.abs(v).sum()) for k, v in params.items() if k.startswith("W"))


def l1_grad(params, lam):
    return {k: np.sign(v) * lam if k.startswith("W") else np.zeros(v.shape, v.dtype) for k, v in params.items()}


def regularized_loss_and_grads(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    import backprop
    import forward

    if penalty not in ("l1", "l2"):
        raise ValueError("penalty must be l1 or l2")
    if loss not in ("mse", "cross_entropy"):
        raise ValueError("loss must be mse or cross_entropy")
    P, cache = forward.forward(X, params, activations)
    data = backprop.mse_loss(P, Y) if loss == "mse" else backprop.cross_entropy_loss(P, Y)
    g = backprop.backward(Y, cache, params, activations, loss)
    if penalty == "l2":
        return data + l2_penalty(params, lam), {k: g[k] + (2 * lam * v if k[0] == "W" else 0) for k, v in params.items()}
    return data + l1_penalty(params, lam), {k: g[k] + (lam * np.sign(v) if k[0] == "W" else 0) for k, v in params.items()}


def dropout_forward(A, keep_prob, rng, train=True, inverted=True):
    if keep_prob <= 0 or keep_prob > 1:
        raise ValueError(f"bad keep_prob {keep_prob}")
    if not train:
        return (np.copy(A) if inverted else np.multiply(A, keep_prob)), None
    u = rng.random(A.shape)
    mask = np.where(u < keep_prob, True, False)
    kept = A / keep_prob if inverted else A
    return np.where(mask, kept, 0.0).astype(A.dtype), mask


def dropout_backward(dA, mask, keep_prob, inverted=True):
    if mask is None:
        return np.copy(dA) if inverted else keep_prob * dA
    routed = np.where(np.asarray(mask, dtype=bool), dA, 0.0)
    return routed / keep_prob if inverted else routed


def early_stopping(val_losses, patience):
    if patience < 0:
        raise ValueError("patience < 0")
    best_loss, best_e, e = None, 0, 0
    while e < len(val_losses):
        if best_loss is None or val_losses[e] < best_loss:
            best_loss, best_e = val_losses[e], e
        if e - best_e >= patience:
            return e
        e += 1
    return None
