"""A correct optimizers.py written with loops and explicit divisions (a student's style)."""

import math

import numpy as np


def sgd_update(params, grads, lr):
    new = {}
    for k in params:
        new[k] = params[k] - lr * grads[k]
    return new


def init_velocity(params):
    v = {}
    for k in params:
        v[k] = np.zeros(params[k].shape, dtype=params[k].dtype)
    return v


def momentum_update(params, grads, velocity, lr, beta=0.9):
    new_params, new_v = {}, {}
    for k in params:
        new_v[k] = beta * velocity[k] + (1.0 - beta) * grads[k]
        new_params[k] = params[k] - lr * new_v[k]
    return new_params, new_v


def init_adam(params):
    return {"m": init_velocity(params), "v": init_velocity(params), "t": 0}


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    new_params, m, v = {}, {}, {}
    for k in params:
        g = grads[k]
        m[k] = beta1 * state["m"][k] + (1 - beta1) * g
        v[k] = beta2 * state["v"][k] + (1 - beta2) * (g * g)
        m_hat = m[k] / (1.0 - math.pow(beta1, t))
        v_hat = v[k] / (1.0 - math.pow(beta2, t))
        denominator = np.sqrt(v_hat) + eps
        new_params[k] = params[k] - lr * (m_hat / denominator)
    return new_params, {"m": m, "v": v, "t": t}


def step_decay(lr0, epoch, drop=0.5, epochs_per_drop=10):
    drops = 0
    e = epoch
    while e >= epochs_per_drop:
        e -= epochs_per_drop
        drops += 1
    lr = lr0
    for _ in range(drops):
        lr = lr * drop
    return float(lr)


def exponential_decay(lr0, epoch, k=0.1):
    return float(lr0 / math.exp(k * epoch))


def cosine_annealing(lr0, epoch, total_epochs, lr_min=0.0):
    progress = epoch / total_epochs
    return float(lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress)) / 2)


def clip_by_global_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(g).astype(np.float64) for g in grads.values()])
    norm = float(np.linalg.norm(flat))
    clipped = {}
    for k in grads:
        if norm > max_norm:
            clipped[k] = grads[k] * (max_norm / norm)
        else:
            clipped[k] = np.array(grads[k], copy=True)
    return clipped, norm
