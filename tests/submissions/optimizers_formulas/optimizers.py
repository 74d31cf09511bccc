"""A correct optimizers.py with different but equivalent formulas (a student's style)."""

import math

import numpy as np


def sgd_update(params, grads, lr):
    return {k: np.subtract(W, np.multiply(lr, grads[k])) for k, W in params.items()}


def init_velocity(params):
    return {k: 0.0 * W for k, W in params.items()}


def momentum_update(params, grads, velocity, lr, beta=0.9):
    # (1 - beta) * g expanded: v = beta * v + g - beta * g
    v = {k: beta * velocity[k] + grads[k] - beta * grads[k] for k in params}
    return {k: params[k] - lr * v[k] for k in params}, v


def init_adam(params):
    return dict(m=init_velocity(params), v=init_velocity(params), t=0)


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    c1 = 1 - beta1**t
    c2 = 1 - beta2**t
    m = {k: beta1 * state["m"][k] + (1 - beta1) * g for k, g in grads.items()}
    v = {k: beta2 * state["v"][k] + (1 - beta2) * np.square(g) for k, g in grads.items()}
    # m_hat / (sqrt(v_hat) + eps) with the corrections moved around
    new = {k: params[k] - lr * (m[k] / c1) / (np.sqrt(v[k]) / math.sqrt(c2) + eps) for k in params}
    return new, {"m": m, "v": v, "t": t}


def step_decay(lr0, epoch, drop=0.5, epochs_per_drop=10):
    return lr0 * drop ** (epoch // epochs_per_drop)


def exponential_decay(lr0, epoch, k=0.1):
    return lr0 * float(np.exp(-k * epoch))


def cosine_annealing(lr0, epoch, total_epochs, lr_min=0.0):
    # 0.5 * (1 + cos x) == cos(x / 2) ** 2
    return lr_min + (lr0 - lr_min) * math.cos(math.pi * epoch / (2 * total_epochs)) ** 2


def clip_by_global_norm(grads, max_norm):
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: g * scale for k, g in grads.items()}, norm
