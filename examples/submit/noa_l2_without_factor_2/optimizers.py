"""Assignment 5: optimizers -- gradient descent and its descendants.

Reference solution (hidden from students during the term).

Notation follows the lecture (Module 12, "Gradient Descent Optimization" and "Advanced
Optimizers"): `alpha` (here `lr`) is the learning rate, `g` = dL/dW the gradient,
`beta` the momentum coefficient, `v` the velocity, `m`, `v` Adam's first and second moments.

`params` and `grads` are dicts of arrays with the same keys (`"W1", "b1", ...`); every entry is
updated by the same rule, weights and biases alike. No function here modifies its arguments:
each returns new dicts of new arrays (and a new optimizer state).
"""

from __future__ import annotations

import math

import numpy as np


def sgd_update(params, grads, lr):
    r"""One step of (stochastic) gradient descent.

    $$W := W - \alpha \frac{\partial L}{\partial W}$$

    Args:
        params: dict of parameter arrays.
        grads: dict with the same keys, the gradient of the loss for each entry.
        lr: the learning rate $\alpha > 0$.

    Returns:
        A new dict with the updated parameters.
    """
    return {key: W - lr * grads[key] for key, W in params.items()}


def init_velocity(params):
    """The initial momentum velocity: zeros of each parameter's shape and dtype.

    Returns:
        A new dict with the same keys as `params`.
    """
    return {key: np.zeros_like(W) for key, W in params.items()}


def momentum_update(params, grads, velocity, lr, beta=0.9):
    r"""One step of SGD with momentum, in the lecture's form.

    $$v_t = \beta v_{t-1} + (1 - \beta) \nabla L, \qquad W := W - \alpha v_t$$

    The velocity is an exponential moving average of the gradients; the step uses the NEW
    velocity $v_t$.

    Args:
        params: dict of parameter arrays.
        grads: dict of gradients, same keys.
        velocity: dict $v_{t-1}$, same keys (from `init_velocity` or the previous step).
        lr: the learning rate $\alpha$.
        beta: the momentum coefficient $\beta \in [0, 1)$.

    Returns:
        `(new_params, new_velocity)`, two new dicts.
    """
    new_velocity = {key: beta * velocity[key] + (1 - beta) * grads[key] for key in params}
    new_params = {key: W - lr * new_velocity[key] for key, W in params.items()}
    return new_params, new_velocity


def init_adam(params):
    """The initial Adam state: `{"m": zeros, "v": zeros, "t": 0}`.

    `m` and `v` are dicts with the same keys, shapes and dtypes as `params`; `t` is the
    number of steps taken so far (a Python int).
    """
    return {
        "m": {key: np.zeros_like(W) for key, W in params.items()},
        "v": {key: np.zeros_like(W) for key, W in params.items()},
        "t": 0,
    }


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    r"""One step of Adam (adaptive moments) with bias correction.

    $$t := t + 1$$
    $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g^2$$
    $$\hat{m}_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat{v}_t = \frac{v_t}{1 - \beta_2^t}$$
    $$W := W - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$$

    `t` is incremented FIRST, so the first step uses $t = 1$ (and $\hat{m}_1 = g$,
    $\hat{v}_1 = g^2$: the first step moves each entry by about $\alpha\,\mathrm{sign}(g)$).
    The state keeps the raw (uncorrected) moments $m_t$, $v_t$.

    Args:
        params: dict of parameter arrays.
        grads: dict of gradients, same keys.
        state: `{"m": dict, "v": dict, "t": int}` from `init_adam` or the previous step.
        lr, beta1, beta2, eps: $\alpha$, $\beta_1$, $\beta_2$, $\epsilon$.

    Returns:
        `(new_params, new_state)`: a new dict, and a new state dict
        `{"m": new dict, "v": new dict, "t": t + 1}`.
    """
    t = state["t"] + 1
    m, v = {}, {}
    new_params = {}
    for key, W in params.items():
        g = grads[key]
        m[key] = beta1 * state["m"][key] + (1 - beta1) * g  # first moment (mean of g)
        v[key] = beta2 * state["v"][key] + (1 - beta2) * g**2  # second moment (mean of g^2)
        m_hat = m[key] / (1 - beta1**t)  # bias correction: m, v start at 0
        v_hat = v[key] / (1 - beta2**t)
        new_params[key] = W - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_params, {"m": m, "v": v, "t": t}


def step_decay(lr0, epoch, drop=0.5, epochs_per_drop=10):
    r"""Step decay: multiply the learning rate by `drop` every `epochs_per_drop` epochs.

    $$\alpha_e = \alpha_0 \cdot \mathrm{drop}^{\lfloor e / \mathrm{epochs\_per\_drop} \rfloor}$$

    Returns:
        The learning rate for epoch `epoch` as a Python `float`.
    """
    return float(lr0 * drop ** math.floor(epoch / epochs_per_drop))


def exponential_decay(lr0, epoch, k=0.1):
    r"""Exponential decay: $\alpha_e = \alpha_0 e^{-k e}$.

    Returns:
        The learning rate for epoch `epoch` as a Python `float`.
    """
    return float(lr0 * math.exp(-k * epoch))


def cosine_annealing(lr0, epoch, total_epochs, lr_min=0.0):
    r"""Cosine annealing from `lr0` at epoch 0 down to `lr_min` at epoch `total_epochs`.

    $$\alpha_e = \alpha_{min} + \tfrac{1}{2}(\alpha_0 - \alpha_{min})
      \left(1 + \cos\left(\pi \frac{e}{E}\right)\right)$$

    The formula is used as it stands for every epoch; past `total_epochs` it rises again.

    Returns:
        The learning rate for epoch `epoch` as a Python `float`.
    """
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * epoch / total_epochs)))


def clip_by_global_norm(grads, max_norm):
    r"""Gradient clipping by the global norm of all gradients together.

    $$\|g\| = \sqrt{\sum_{\text{keys}} \sum_{\text{entries}} g^2}, \qquad
      g := g \cdot \frac{\mathrm{max\_norm}}{\|g\|} \text{ if } \|g\| > \mathrm{max\_norm}$$

    Every entry is scaled by the SAME factor, so the direction of the whole gradient is kept;
    when the norm is already at most `max_norm` the gradients are returned unchanged (copied).
    All-zero gradients stay zero, with norm 0.0.

    Args:
        grads: dict of gradient arrays.
        max_norm: the bound, a number $\ge 0$.

    Returns:
        `(clipped, norm)`: a new dict, and the global norm BEFORE clipping as a Python `float`.
    """
    # One norm over every entry of every array (accumulated in float64 for float32 input).
    norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))
    if norm > max_norm:
        scale = max_norm / norm
        return {key: g * scale for key, g in grads.items()}, norm
    return {key: g.copy() for key, g in grads.items()}, norm
