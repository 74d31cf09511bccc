"""Known wrong implementations of the `regularization` module (assignment 4).

Each mistake is declared on its wrong implementation, `@MISTAKES.mistake(function, name, hint)`:
the function has the signature of the API function it imitates and computes the wrong output a
student with that bug would get. When a student's output equals a mistake's output, the grader
shows the mistake's hint; it runs a function's mistakes in the order they are declared here.
The impls are self-contained NumPy (no reference): a mistake must not change when the reference
changes. Helpers shared by several mistakes are plain private functions.

Each makes ONE typical mistake. Hints are written for a student at 2 a.m.: name the bug, say
what to change.
"""

import numpy as np

from grader.authoring import Catalog

MISTAKES = Catalog("regularization")


# --- helpers: correct building blocks the wrong implementations share -------------------------


def _is_weight(key):
    return key.startswith("W")


def _weights(params):
    return [P for key, P in params.items() if _is_weight(key)]


def _act(Z, name):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if name == "linear":
        return Z.copy()
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=-1, keepdims=True))
        return E / E.sum(axis=-1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")


def _act_grad(Z, name):
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-Z))
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(Z) ** 2
    if name == "relu":
        return (Z > 0).astype(Z.dtype)
    if name == "leaky_relu":
        return np.where(Z > 0, 1.0, 0.01).astype(Z.dtype)
    if name == "linear":
        return np.ones_like(Z)
    raise ValueError(f"no element-wise derivative for {name!r}")


def _data_loss_and_grads(X, Y, params, activations, loss):
    """Correct data loss (mean over the batch) and its gradients, no penalty."""
    m = X.shape[0]
    A, cache = X, [(X, None)]
    for layer, name in enumerate(activations, start=1):
        Z = A @ params[f"W{layer}"].T + params[f"b{layer}"]
        A = _act(Z, name)
        cache.append((A, Z))
    if loss == "mse":
        value = 0.5 * np.sum((A - Y) ** 2) / m
        dA = (A - Y) / m
        if activations[-1] == "softmax":  # Jacobian-vector product of the row-wise softmax
            dZ = A * (dA - np.sum(dA * A, axis=1, keepdims=True))
        else:
            dZ = dA * _act_grad(cache[-1][1], activations[-1])
    elif loss == "cross_entropy":
        if activations[-1] != "softmax":
            raise ValueError("cross_entropy needs a softmax output layer")
        value = -np.sum(Y * np.log(A)) / m
        dZ = (A - Y) / m
    else:
        raise ValueError(f"unknown loss {loss!r}")
    grads = {}
    for layer in range(len(activations), 0, -1):
        A_prev = cache[layer - 1][0]
        grads[f"W{layer}"] = dZ.T @ A_prev
        grads[f"b{layer}"] = dZ.sum(axis=0)
        if layer > 1:
            dZ = (dZ @ params[f"W{layer}"]) * _act_grad(cache[layer - 1][1], activations[layer - 2])
    return float(value), grads


def _penalty_and_grad(params, lam, penalty):
    """Correct penalty value and gradient (weights only)."""
    if penalty == "l2":
        value = lam * sum(float(np.sum(W.astype(np.float64) ** 2)) for W in _weights(params))
        grad = {k: 2 * lam * P if _is_weight(k) else np.zeros_like(P) for k, P in params.items()}
    elif penalty == "l1":
        value = lam * sum(float(np.sum(np.abs(W.astype(np.float64)))) for W in _weights(params))
        grad = {k: lam * np.sign(P) if _is_weight(k) else np.zeros_like(P)
                for k, P in params.items()}
    else:
        raise ValueError(f"unknown penalty {penalty!r}")
    return float(value), grad


# --- l2_penalty -------------------------------------------------------------------------------


@MISTAKES.mistake("l2_penalty", "biases penalized",
                  "Your penalty includes the biases. L2 regularization penalizes only the weights: "
                  "sum over the keys that start with 'W' and skip 'b1', 'b2', ....")
def l2_penalty_biases_penalized(params, lam):
    return float(lam * sum(float(np.sum(P.astype(np.float64) ** 2)) for P in params.values()))


@MISTAKES.mistake("l2_penalty", "norm not squared",
                  "You added ||W|| (np.linalg.norm) instead of ||W||^2. The penalty is "
                  "lam * sum of the SQUARED entries: lam * np.sum(W ** 2) for each weight matrix.")
def l2_penalty_norm_not_squared(params, lam):
    return float(lam * sum(float(np.linalg.norm(W.astype(np.float64))) for W in _weights(params)))


@MISTAKES.mistake("l2_penalty", "factor 1/2 added",
                  "Your penalty is half the expected value: you used the lam/2 convention. This course "
                  "uses lam * sum ||W||_F^2, with no 1/2 (that is why the gradient is 2 * lam * W).")
def l2_penalty_half(params, lam):
    return float(0.5 * lam * sum(float(np.sum(W.astype(np.float64) ** 2))
                                 for W in _weights(params)))


# --- l2_grad ----------------------------------------------------------------------------------


@MISTAKES.mistake("l2_grad", "gradient without the factor 2",
                  "Your L2 gradient is half of what it should be. The derivative of lam * W^2 is "
                  "2 * lam * W: multiply by 2.")
def l2_grad_no_factor_2(params, lam):
    return {k: lam * P if _is_weight(k) else np.zeros_like(P) for k, P in params.items()}


@MISTAKES.mistake("l2_grad", "biases penalized",
                  "Your gradient is non-zero for the biases. Biases are not penalized, so their entries "
                  "must be zeros (np.zeros_like(b)); only the 'W' keys get 2 * lam * W.")
def l2_grad_biases_penalized(params, lam):
    return {k: 2 * lam * P for k, P in params.items()}


@MISTAKES.mistake("l2_grad", "bias keys missing",
                  "Your dict has no entries for the biases. Return the same keys as params: "
                  "2 * lam * W for each 'W' key and np.zeros_like(b) for each 'b' key.")
def l2_grad_bias_keys_missing(params, lam):
    return {k: 2 * lam * P for k, P in params.items() if _is_weight(k)}


# --- l1_penalty -------------------------------------------------------------------------------


@MISTAKES.mistake("l1_penalty", "biases penalized",
                  "Your penalty includes the biases. L1 regularization penalizes only the weights: "
                  "sum |W| over the keys that start with 'W'.")
def l1_penalty_biases_penalized(params, lam):
    return float(lam * sum(float(np.sum(np.abs(P.astype(np.float64)))) for P in params.values()))


@MISTAKES.mistake("l1_penalty", "absolute value missing",
                  "You summed the weights themselves, so positive and negative weights cancel. "
                  "The L1 penalty is lam * sum of |W|: use np.abs.")
def l1_penalty_no_abs(params, lam):
    return float(lam * sum(float(np.sum(W.astype(np.float64))) for W in _weights(params)))


# --- l1_grad ----------------------------------------------------------------------------------


@MISTAKES.mistake("l1_grad", "abs instead of sign",
                  "You used |W| where the derivative needs sign(W). The derivative of lam * |w| is "
                  "lam * sign(w) (+lam for positive, -lam for negative): use np.sign, not np.abs.")
def l1_grad_abs_instead_of_sign(params, lam):
    return {k: lam * np.abs(P) if _is_weight(k) else np.zeros_like(P) for k, P in params.items()}


@MISTAKES.mistake("l1_grad", "biases penalized",
                  "Your gradient is non-zero for the biases. Biases are not penalized: their entries "
                  "must be zeros; only the 'W' keys get lam * np.sign(W).")
def l1_grad_biases_penalized(params, lam):
    return {k: lam * np.sign(P) for k, P in params.items()}


@MISTAKES.mistake("l1_grad", "factor 2 copied from L2",
                  "Your L1 gradient is twice too large. The factor 2 belongs to L2 (from W^2); the "
                  "derivative of lam * |w| is just lam * sign(w).")
def l1_grad_factor_2(params, lam):
    return {k: 2 * lam * np.sign(P) if _is_weight(k) else np.zeros_like(P)
            for k, P in params.items()}


# --- regularized_loss_and_grads ---------------------------------------------------------------


@MISTAKES.mistake("regularized_loss_and_grads", "penalty missing from the gradients",
                  "Your loss includes the penalty but your gradients do not. Add l2_grad (or l1_grad) "
                  "to the gradients from backprop.backward, key by key.")
def rlg_penalty_not_in_grads(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    value, grads = _data_loss_and_grads(X, Y, params, activations, loss)
    pen, _ = _penalty_and_grad(params, lam, penalty)
    return value + pen, grads


@MISTAKES.mistake("regularized_loss_and_grads", "penalty missing from the loss",
                  "Your gradients include the penalty but the returned loss does not. The loss value is "
                  "the data loss PLUS l2_penalty (or l1_penalty).")
def rlg_penalty_not_in_loss(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    value, grads = _data_loss_and_grads(X, Y, params, activations, loss)
    _, pgrad = _penalty_and_grad(params, lam, penalty)
    return value, {k: grads[k] + pgrad[k] for k in params}


@MISTAKES.mistake("regularized_loss_and_grads", "penalty divided by the batch size",
                  "You scaled lam by 1/m (some courses write lam/(2m)). Here the data loss is already a "
                  "mean; add lam * sum ||W||^2 (or lam * sum |W|) without dividing by m.")
def rlg_penalty_divided_by_m(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    value, grads = _data_loss_and_grads(X, Y, params, activations, loss)
    m = X.shape[0]
    pen, pgrad = _penalty_and_grad(params, lam / m, penalty)
    return value + pen, {k: grads[k] + pgrad[k] for k in params}


@MISTAKES.mistake("regularized_loss_and_grads", "biases penalized",
                  "You penalized the biases too. Only the weights ('W' keys) are penalized; the bias "
                  "gradients are the plain backprop gradients.")
def rlg_biases_penalized(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    value, grads = _data_loss_and_grads(X, Y, params, activations, loss)
    everything = {"W" + k: P for k, P in params.items()}  # treat every entry as a weight
    pen, pgrad = _penalty_and_grad(everything, lam, penalty)
    return value + pen, {k: grads[k] + pgrad["W" + k] for k in params}


@MISTAKES.mistake("regularized_loss_and_grads", "l1 and l2 swapped",
                  "penalty='l2' must use l2_penalty/l2_grad and penalty='l1' l1_penalty/l1_grad; "
                  "yours are the other way round.")
def rlg_penalties_swapped(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    value, grads = _data_loss_and_grads(X, Y, params, activations, loss)
    pen, pgrad = _penalty_and_grad(params, lam, {"l2": "l1", "l1": "l2"}[penalty])
    return value + pen, {k: grads[k] + pgrad[k] for k in params}


# --- dropout_forward --------------------------------------------------------------------------


@MISTAKES.mistake("dropout_forward", "inverted dropout without 1/keep_prob",
                  "In inverted mode you multiply by the mask but forget to divide by keep_prob. "
                  "Training output must be A * mask / keep_prob, so its expected value stays A.")
def dropout_forward_inverted_not_rescaled(A, keep_prob, rng, train=True, inverted=True):
    if not train:
        return (A.copy() if inverted else A * keep_prob), None
    mask = rng.random(A.shape) < keep_prob
    return A * mask, mask


@MISTAKES.mistake("dropout_forward", "mask compared the wrong way",
                  "Your mask keeps a unit with probability 1 - keep_prob. Use exactly "
                  "mask = rng.random(A.shape) < keep_prob (less than): keep_prob is the probability "
                  "of KEEPING a unit.")
def dropout_forward_mask_wrong_way(A, keep_prob, rng, train=True, inverted=True):
    if not train:
        return (A.copy() if inverted else A * keep_prob), None
    mask = rng.random(A.shape) > keep_prob
    return (A * mask / keep_prob if inverted else A * mask), mask


@MISTAKES.mistake("dropout_forward", "divided by the drop rate",
                  "You divided by (1 - keep_prob), the drop rate. Inverted dropout divides by the "
                  "keep probability: A * mask / keep_prob.")
def dropout_forward_divide_by_drop_rate(A, keep_prob, rng, train=True, inverted=True):
    if not train:
        return (A.copy() if inverted else A * keep_prob), None
    mask = rng.random(A.shape) < keep_prob
    with np.errstate(divide="ignore", invalid="ignore"):  # keep_prob = 1 divides by 0
        return (A * mask / (1 - keep_prob) if inverted else A * mask), mask


@MISTAKES.mistake("dropout_forward", "classic dropout not scaled at test time",
                  "Classic dropout (inverted=False) must scale at test time: return A * keep_prob. "
                  "During training each unit was on only with probability keep_prob, so the next "
                  "layer expects inputs that much smaller.")
def dropout_forward_classic_not_scaled_at_test(A, keep_prob, rng, train=True, inverted=True):
    if not train:
        return A.copy(), None
    mask = rng.random(A.shape) < keep_prob
    return (A * mask / keep_prob if inverted else A * mask), mask


@MISTAKES.mistake("dropout_forward", "inverted dropout scaled at test time",
                  "Inverted dropout already rescaled during training (divide by keep_prob), so at test "
                  "time (train=False, inverted=True) return A unchanged, not A * keep_prob.")
def dropout_forward_inverted_scaled_at_test(A, keep_prob, rng, train=True, inverted=True):
    if not train:
        return A * keep_prob, None
    mask = rng.random(A.shape) < keep_prob
    return (A * mask / keep_prob if inverted else A * mask), mask


@MISTAKES.mistake("dropout_forward", "mask applied at test time",
                  "With train=False dropout must not drop anything: draw no mask, return mask=None, "
                  "and A (inverted) or A * keep_prob (classic).")
def dropout_forward_applied_at_test(A, keep_prob, rng, train=True, inverted=True):
    mask = rng.random(A.shape) < keep_prob
    return (A * mask / keep_prob if inverted else A * mask), mask


# --- dropout_backward -------------------------------------------------------------------------


def _test_time_backward(dA, keep_prob, inverted):
    return dA.copy() if inverted else dA * keep_prob


@MISTAKES.mistake("dropout_backward", "inverted backward without 1/keep_prob",
                  "The forward pass divided by keep_prob, so the backward pass must too: "
                  "dA * mask / keep_prob when inverted=True.")
def dropout_backward_not_rescaled(dA, mask, keep_prob, inverted=True):
    if mask is None:
        return _test_time_backward(dA, keep_prob, inverted)
    return dA * mask


@MISTAKES.mistake("dropout_backward", "mask not applied",
                  "Dropped units contributed nothing to the output, so they get no gradient: multiply "
                  "dA by the mask (dA * mask, then / keep_prob when inverted).")
def dropout_backward_mask_forgotten(dA, mask, keep_prob, inverted=True):
    if mask is None:
        return _test_time_backward(dA, keep_prob, inverted)
    return dA / keep_prob if inverted else dA.copy()


@MISTAKES.mistake("dropout_backward", "classic backward divided by keep_prob",
                  "Classic dropout (inverted=False) did not divide by keep_prob in the forward pass, so "
                  "its backward pass is just dA * mask.")
def dropout_backward_classic_rescaled(dA, mask, keep_prob, inverted=True):
    if mask is None:
        return _test_time_backward(dA, keep_prob, inverted)
    return dA * mask / keep_prob


# --- early_stopping ---------------------------------------------------------------------------


@MISTAKES.mistake("early_stopping", "off by one (> instead of >=)",
                  "You stop one epoch late. Stop at the FIRST epoch e with e - best_e >= patience "
                  "(greater than or equal); with patience=0 that is epoch 0.")
def early_stopping_strict_inequality(val_losses, patience):
    best_e, best = 0, np.inf
    for e, loss in enumerate(val_losses):
        if loss < best:
            best_e, best = e, loss
        if e - best_e > patience:
            return e
    return None


@MISTAKES.mistake("early_stopping", "last best epoch on ties",
                  "A loss equal to the best so far is not an improvement: update best_e only when the "
                  "loss is strictly lower (<, not <=), so ties keep the first best epoch.")
def early_stopping_last_best_on_ties(val_losses, patience):
    best_e, best = 0, np.inf
    for e, loss in enumerate(val_losses):
        if loss <= best:
            best_e, best = e, loss
        if e - best_e >= patience:
            return e
    return None


@MISTAKES.mistake("early_stopping", "returns the best epoch",
                  "You return the epoch of the best loss (the one to restore). The function returns "
                  "the epoch at which training STOPS: the first e with e - best_e >= patience.")
def early_stopping_returns_best_epoch(val_losses, patience):
    best_e, best = 0, np.inf
    for e, loss in enumerate(val_losses):
        if loss < best:
            best_e, best = e, loss
        if e - best_e >= patience:
            return best_e
    return None


@MISTAKES.mistake("early_stopping", "compared with the previous epoch, not the best",
                  "You count epochs whose loss did not drop compared with the PREVIOUS epoch. Compare "
                  "with the BEST loss so far: stop at the first e with e - best_e >= patience.")
def early_stopping_compares_with_previous(val_losses, patience):
    bad = 0
    for e, loss in enumerate(val_losses):
        bad = bad + 1 if e > 0 and loss >= val_losses[e - 1] else 0
        if bad >= patience:
            return e
    return None


@MISTAKES.mistake("early_stopping", "last epoch instead of None",
                  "When the rule never fires, return None (training was not stopped early), not the "
                  "last epoch's index.")
def early_stopping_last_epoch_instead_of_none(val_losses, patience):
    best_e, best = 0, np.inf
    for e, loss in enumerate(val_losses):
        if loss < best:
            best_e, best = e, loss
        if e - best_e >= patience:
            return e
    return len(val_losses) - 1 if len(val_losses) else None
