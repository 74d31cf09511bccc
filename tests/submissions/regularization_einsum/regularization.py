"""A correct regularization.py with einsum, np.linalg.norm and float masks (a student's style)."""

import numpy as np
from backprop import backward, cross_entropy_loss, mse_loss
from forward import forward as forward_pass


def _weights(params):
    return [(k, v) for k, v in params.items() if k.startswith("W")]


def l2_penalty(params, lam):
    return float(lam * sum(np.einsum("ij,ij->", W, W) for _, W in _weights(params)))


def l2_grad(params, lam):
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    grads.update({k: lam * W * 2.0 for k, W in _weights(params)})
    return grads


def l1_penalty(params, lam):
    return float(sum(lam * np.linalg.norm(W.ravel(), 1) for _, W in _weights(params)))


def l1_grad(params, lam):
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    grads.update({k: np.where(W > 0, lam, np.where(W < 0, -lam, 0.0)).astype(W.dtype) for k, W in _weights(params)})
    return grads


PENALTIES = {"l2": (l2_penalty, l2_grad), "l1": (l1_penalty, l1_grad)}
LOSSES = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}


def regularized_loss_and_grads(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    if penalty not in PENALTIES or loss not in LOSSES:
        raise ValueError(f"bad penalty {penalty!r} or loss {loss!r}")
    value_fn, grad_fn = PENALTIES[penalty]
    Y_hat, cache = forward_pass(X, params, activations)
    grads = backward(Y, cache, params, activations, loss=loss)
    extra = grad_fn(params, lam)
    return float(LOSSES[loss](Y_hat, Y) + value_fn(params, lam)), {k: g + extra[k] for k, g in grads.items()}


def dropout_forward(A, keep_prob, rng, train=True, inverted=True):
    if not (0.0 < keep_prob <= 1.0):
        raise ValueError("keep_prob")
    if not train:
        scale = 1.0 if inverted else keep_prob
        return A * scale, None
    mask = (rng.random(A.shape) < keep_prob).astype(A.dtype)
    scale = 1.0 / keep_prob if inverted else 1.0
    return A * (mask * scale), mask


def dropout_backward(dA, mask, keep_prob, inverted=True):
    if mask is None:
        return dA * (1.0 if inverted else keep_prob)
    return dA * (mask * (1.0 / keep_prob if inverted else 1.0))


def early_stopping(val_losses, patience):
    if patience < 0:
        raise ValueError("negative patience")
    vals = np.asarray(val_losses, dtype=float)
    if vals.size == 0:
        return None
    epochs = np.arange(vals.size)
    previous_best = np.concatenate([[np.inf], np.minimum.accumulate(vals)[:-1]])
    best_e = np.maximum.accumulate(np.where(vals < previous_best, epochs, 0))
    stops = np.nonzero(epochs - best_e >= patience)[0]
    return int(stops[0]) if stops.size else None
