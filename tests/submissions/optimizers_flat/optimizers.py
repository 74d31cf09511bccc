"""A correct optimizers.py that flattens every dict into one vector (a student's style)."""

import math

import numpy as np


def _flatten(d, keys):
    return np.concatenate([np.ravel(d[k]) for k in keys])


def _unflatten(x, like):
    out, i = {}, 0
    for k, a in like.items():
        out[k] = x[i:i + a.size].reshape(a.shape).astype(a.dtype, copy=False)
        i += a.size
    return out


def sgd_update(params, grads, lr):
    keys = list(params)
    return _unflatten(_flatten(params, keys) - lr * _flatten(grads, keys), params)


def init_velocity(params):
    return _unflatten(np.zeros(sum(a.size for a in params.values())), params)


def momentum_update(params, grads, velocity, lr, beta=0.9):
    keys = list(params)
    v = beta * _flatten(velocity, keys) + (1 - beta) * _flatten(grads, keys)
    return _unflatten(_flatten(params, keys) - lr * v, params), _unflatten(v, params)


def init_adam(params):
    return {"m": init_velocity(params), "v": init_velocity(params), "t": 0}


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    keys = list(params)
    t = int(state["t"]) + 1
    g = _flatten(grads, keys)
    m = beta1 * _flatten(state["m"], keys) + (1 - beta1) * g
    v = beta2 * _flatten(state["v"], keys) + (1 - beta2) * g**2
    m_hat = m * (1 / (1 - beta1**t))
    v_hat = v * (1 / (1 - beta2**t))
    x = _flatten(params, keys) - lr * m_hat / (v_hat**0.5 + eps)
    return _unflatten(x, params), {"m": _unflatten(m, params), "v": _unflatten(v, params), "t": t}


def step_decay(lr0, epoch, drop=0.5, epochs_per_drop=10):
    return float(lr0 * np.power(drop, np.floor(epoch / epochs_per_drop)))


def exponential_decay(lr0, epoch, k=0.1):
    return float(np.exp(np.log(lr0) - k * epoch))


def cosine_annealing(lr0, epoch, total_epochs, lr_min=0.0):
    return float(lr0 - (lr0 - lr_min) * (1 - np.cos(np.pi * epoch / total_epochs)) / 2)


def clip_by_global_norm(grads, max_norm):
    keys = list(grads)
    flat = _flatten(grads, keys).astype(np.float64)
    norm = float(np.sqrt(flat @ flat))
    if norm > max_norm:
        flat = flat * (max_norm / norm)
    return _unflatten(flat, grads), norm
