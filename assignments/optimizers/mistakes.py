"""Known wrong implementations of the `optimizers` module (assignment 5).

Each mistake is declared on its wrong implementation, `@MISTAKES.mistake(function, name, hint)`:
the function has the signature of the API function it imitates and computes the wrong output a
student with that bug would get. When a student's output equals a mistake's output, the grader
shows the mistake's hint; it runs a function's mistakes in the order they are declared here.
The impls are self-contained NumPy (no reference): a mistake must not change when the reference
changes. Helpers shared by several mistakes are plain private functions.

Each makes ONE typical mistake. Hints are written for a student at 2 a.m.: name the bug, say
what to change.
"""

import math

import numpy as np

from grader.authoring import Catalog

MISTAKES = Catalog("optimizers")


# --- sgd_update -------------------------------------------------------------------------------


@MISTAKES.mistake("sgd_update", "+ instead of -",
                  "Your step goes uphill. Gradient DESCENT subtracts: W - lr * dW.")
def sgd_plus_instead_of_minus(params, grads, lr):
    return {k: W + lr * grads[k] for k, W in params.items()}


@MISTAKES.mistake("sgd_update", "biases not updated",
                  "Only your weights moved. Every entry of params gets the same rule, biases too: "
                  "params[k] - lr * grads[k] for every key k.")
def sgd_biases_not_updated(params, grads, lr):
    return {k: W - lr * grads[k] if k.startswith("W") else W.copy() for k, W in params.items()}


# --- momentum_update --------------------------------------------------------------------------


@MISTAKES.mistake("momentum_update", "momentum without (1 - beta)",
                  "You wrote v = beta * v + g. This course uses the lecture's form "
                  "v = beta * v + (1 - beta) * g (an average of the gradients): multiply g by "
                  "(1 - beta).")
def momentum_without_one_minus_beta(params, grads, velocity, lr, beta=0.9):
    v = {k: beta * velocity[k] + grads[k] for k in params}
    return {k: W - lr * v[k] for k, W in params.items()}, v


@MISTAKES.mistake("momentum_update", "beta and 1 - beta swapped",
                  "beta belongs to the old velocity and (1 - beta) to the gradient: "
                  "v = beta * v + (1 - beta) * g.")
def momentum_beta_swapped(params, grads, velocity, lr, beta=0.9):
    v = {k: (1 - beta) * velocity[k] + beta * grads[k] for k in params}
    return {k: W - lr * v[k] for k, W in params.items()}, v


@MISTAKES.mistake("momentum_update", "velocity not returned updated",
                  "You return the old velocity, so next step starts from scratch again. Return the NEW "
                  "velocity v = beta * v + (1 - beta) * g as the second result.")
def momentum_velocity_not_updated(params, grads, velocity, lr, beta=0.9):
    v = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
    return {k: W - lr * v[k] for k, W in params.items()}, {k: V.copy() for k, V in velocity.items()}


@MISTAKES.mistake("momentum_update", "step with the old velocity",
                  "Compute the new velocity first, then step with it: W - lr * v_new "
                  "(you used the velocity from before this step).")
def momentum_step_with_old_velocity(params, grads, velocity, lr, beta=0.9):
    v = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
    return {k: W - lr * velocity[k] for k, W in params.items()}, v


@MISTAKES.mistake("momentum_update", "step with the gradient",
                  "You updated the velocity but stepped with the raw gradient (plain SGD). "
                  "The parameters move by W - lr * v, the new velocity.")
def momentum_step_with_gradient(params, grads, velocity, lr, beta=0.9):
    v = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
    return {k: W - lr * grads[k] for k, W in params.items()}, v


# --- adam_update ------------------------------------------------------------------------------


def _adam(params, grads, state, lr, beta1, beta2, eps, *, t_used, t_saved, correct_m=True,
          correct_v=True, eps_inside=False, store_hat=False):
    """Adam with switches for the usual mistakes; all switches off is the correct update."""
    m, v, new_params = {}, {}, {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, W in params.items():
            g = grads[k]
            m_k = beta1 * state["m"][k] + (1 - beta1) * g
            v_k = beta2 * state["v"][k] + (1 - beta2) * g**2
            m_hat = m_k / (1 - beta1**t_used) if correct_m else m_k
            v_hat = v_k / (1 - beta2**t_used) if correct_v else v_k
            denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
            new_params[k] = W - lr * m_hat / denom
            m[k], v[k] = (m_hat, v_hat) if store_hat else (m_k, v_k)
    return new_params, {"m": m, "v": v, "t": t_saved}


@MISTAKES.mistake("adam_update", "Adam without bias correction",
                  "You stepped with m / (sqrt(v) + eps), as on the lecture slide. m and v start at 0, "
                  "so in the first steps both are biased towards 0 (your first step is about 3x too "
                  "big with the default betas): divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                  "before the step.")
def adam_no_bias_correction(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    return _adam(params, grads, state, lr, beta1, beta2, eps, t_used=t, t_saved=t,
                 correct_m=False, correct_v=False)


@MISTAKES.mistake("adam_update", "bias correction only on m",
                  "Correct BOTH moments: m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t); "
                  "you corrected only m.")
def adam_bias_correction_only_m(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999,
                                eps=1e-8):
    t = state["t"] + 1
    return _adam(params, grads, state, lr, beta1, beta2, eps, t_used=t, t_saved=t,
                 correct_v=False)


@MISTAKES.mistake("adam_update", "t incremented after use",
                  "Increment t FIRST (t = state['t'] + 1), then use it in the bias correction. With "
                  "t = 0, 1 - beta1**0 is 0 and you divide by zero on the first step.")
def adam_t_incremented_after_use(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999,
                                 eps=1e-8):
    t = state["t"]
    return _adam(params, grads, state, lr, beta1, beta2, eps, t_used=t, t_saved=t + 1)


@MISTAKES.mistake("adam_update", "t not saved in the new state",
                  "Your returned state still has the old t. Return {'m': m, 'v': v, 't': t} with the "
                  "incremented t, or the bias correction never decays.")
def adam_t_not_saved(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    return _adam(params, grads, state, lr, beta1, beta2, eps, t_used=t, t_saved=state["t"])


@MISTAKES.mistake("adam_update", "eps inside the square root",
                  "Put eps outside the square root: m_hat / (np.sqrt(v_hat) + eps), "
                  "not m_hat / np.sqrt(v_hat + eps).")
def adam_eps_inside_sqrt(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    return _adam(params, grads, state, lr, beta1, beta2, eps, t_used=t, t_saved=t,
                 eps_inside=True)


@MISTAKES.mistake("adam_update", "bias-corrected moments stored in the state",
                  "Store the raw moments m and v in the state; m_hat and v_hat are only for the step. "
                  "Storing the corrected ones corrects them again on every later step.")
def adam_corrected_moments_stored(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999,
                                  eps=1e-8):
    t = state["t"] + 1
    return _adam(params, grads, state, lr, beta1, beta2, eps, t_used=t, t_saved=t,
                 store_hat=True)


# --- learning-rate schedules ------------------------------------------------------------------


@MISTAKES.mistake("step_decay", "round instead of floor",
                  "Use math.floor(epoch / epochs_per_drop), not round(...): the rate drops only once a "
                  "full epochs_per_drop epochs have passed.")
def step_decay_round(lr0, epoch, drop=0.5, epochs_per_drop=10):
    return float(lr0 * drop ** round(epoch / epochs_per_drop))


@MISTAKES.mistake("step_decay", "no floor (smooth decay)",
                  "Step decay drops in steps: the exponent is math.floor(epoch / epochs_per_drop), an "
                  "integer. Without the floor you get a smooth decay.")
def step_decay_no_floor(lr0, epoch, drop=0.5, epochs_per_drop=10):
    return float(lr0 * drop ** (epoch / epochs_per_drop))


@MISTAKES.mistake("step_decay", "drop multiplied by the number of drops, not raised to it",
                  "After k drops the rate is lr0 * drop ** k: `**` (a power), not `*`. With `*` the "
                  "rate is 0 before the first drop and grows with every drop after it.")
def step_decay_times_not_power(lr0, epoch, drop=0.5, epochs_per_drop=10):
    return float(lr0 * drop * math.floor(epoch / epochs_per_drop))


@MISTAKES.mistake("exponential_decay", "positive exponent",
                  "Your learning rate grows. Exponential decay is lr0 * exp(-k * epoch): mind the minus.")
def exponential_decay_positive_exponent(lr0, epoch, k=0.1):
    return float(lr0 * math.exp(k * epoch))


@MISTAKES.mistake("exponential_decay", "time-based decay instead",
                  "lr0 / (1 + k * epoch) is time-based decay. This function is "
                  "lr0 * math.exp(-k * epoch).")
def exponential_decay_time_based(lr0, epoch, k=0.1):
    return float(lr0 / (1 + k * epoch))


@MISTAKES.mistake("cosine_annealing", "cosine schedule without the 0.5",
                  "Your rate starts at twice lr0. 1 + cos(...) goes from 2 to 0, so multiply by 0.5: "
                  "lr_min + 0.5 * (lr0 - lr_min) * (1 + cos(pi * epoch / total_epochs)).")
def cosine_without_half(lr0, epoch, total_epochs, lr_min=0.0):
    return float(lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * epoch / total_epochs)))


@MISTAKES.mistake("cosine_annealing", "lr_min not added back",
                  "Add lr_min in front: lr_min + 0.5 * (lr0 - lr_min) * (1 + cos(...)). Without it the "
                  "schedule ends at 0 instead of lr_min.")
def cosine_lr_min_not_added(lr0, epoch, total_epochs, lr_min=0.0):
    return float(0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * epoch / total_epochs)))


@MISTAKES.mistake("cosine_annealing", "pi missing",
                  "The angle is pi * epoch / total_epochs (math.pi), so that the cosine goes from 1 to "
                  "-1 over the run.")
def cosine_without_pi(lr0, epoch, total_epochs, lr_min=0.0):
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(epoch / total_epochs)))


@MISTAKES.mistake("cosine_annealing", "1 - cos: the schedule runs backwards",
                  "Your rate starts at lr_min and rises to lr0. The factor is 1 + cos(pi * epoch / "
                  "total_epochs): 2 at epoch 0 (the rate is lr0), 0 at total_epochs (lr_min).")
def cosine_backwards(lr0, epoch, total_epochs, lr_min=0.0):
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1 - math.cos(math.pi * epoch / total_epochs)))


# --- clip_by_global_norm ----------------------------------------------------------------------


def _global_norm(grads):
    return math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values()))


@MISTAKES.mistake("clip_by_global_norm", "per-entry instead of global clipping",
                  "You clipped each array by its own norm. Compute ONE norm over all arrays together "
                  "(sqrt of the sum of all squared entries) and scale every array by the same "
                  "max_norm / norm, so the gradient keeps its direction.")
def clip_per_entry(grads, max_norm):
    clipped = {}
    for k, g in grads.items():
        n = float(np.linalg.norm(g.astype(np.float64)))
        clipped[k] = g * (max_norm / n) if n > max_norm else g.copy()
    return clipped, _global_norm(grads)


@MISTAKES.mistake("clip_by_global_norm", "clipping by value",
                  "np.clip clips each entry to [-max_norm, max_norm] (clipping by value). Clipping by "
                  "global norm scales every entry by max_norm / norm when norm > max_norm.")
def clip_by_value(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, _global_norm(grads)


@MISTAKES.mistake("clip_by_global_norm", "always scales to max_norm",
                  "Scale only when norm > max_norm. Gradients that are already small enough must come "
                  "back unchanged (and all-zero gradients stay zero, with no division by zero).")
def clip_always_scales(grads, max_norm):
    norm = _global_norm(grads)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {k: g * (max_norm / norm if norm else np.nan) for k, g in grads.items()}, norm


@MISTAKES.mistake("clip_by_global_norm", "norm after clipping returned",
                  "Return the global norm BEFORE clipping (the one you measured), not max_norm.")
def clip_returns_norm_after_clipping(grads, max_norm):
    norm = _global_norm(grads)
    if norm > max_norm:
        return {k: g * (max_norm / norm) for k, g in grads.items()}, float(max_norm)
    return {k: g.copy() for k, g in grads.items()}, norm


@MISTAKES.mistake("clip_by_global_norm", "norm not square-rooted",
                  "Your norm is the sum of squares. The L2 norm is its square root: "
                  "math.sqrt(sum of all squared entries).")
def clip_norm_not_square_rooted(grads, max_norm):
    norm = _global_norm(grads) ** 2
    if norm > max_norm:
        return {k: g * (max_norm / norm) for k, g in grads.items()}, norm
    return {k: g.copy() for k, g in grads.items()}, norm
