"""Assignment 4: regularization -- L1, L2, dropout and early stopping.

Reference solution (hidden from students during the term).

Notation follows the lecture (Module 12, "L1 and L2 Regularization" and "Dropout"):

- `W^(l)`, `b^(l)`: weights and biases of layer `l`; in code the keys `"W1", "b1", ...`.
  Every key that starts with `"W"` is a weight, every key that starts with `"b"` a bias.
- `lambda` (here `lam`): the regularization strength.
- L2 (ridge):  L_total = L_data + lambda * sum_l ||W^(l)||_F^2,  dL/dW^(l) += 2 lambda W^(l)
- L1 (lasso):  L_total = L_data + lambda * sum_l ||W^(l)||_1,    dL/dW^(l) += lambda sign(W^(l))
- Dropout: a mask `r ~ Bernoulli(p)` with `p = keep_prob`, the probability a unit is KEPT.

Biases are never penalized: they shift a unit's input and do not make the model more complex.
No function here modifies its arguments; each returns new arrays and new dicts.
"""

from __future__ import annotations

import numpy as np


def _is_weight(key: str) -> bool:
    """True for a weight matrix key (`"W1"`, `"W2"`, ...), False for biases (`"b1"`, ...)."""
    return key.startswith("W")


def l2_penalty(params, lam):
    r"""The L2 (ridge) penalty of a network's weights.

    $$\Omega_{L2} = \lambda \sum_l \|W^{(l)}\|_F^2 = \lambda \sum_l \sum_{i,j} (W^{(l)}_{ij})^2$$

    Args:
        params: dict `{"W1", "b1", ..., "WL", "bL"}` of arrays (float64 or float32).
        lam: the strength $\lambda \ge 0$.

    Returns:
        The penalty as a Python `float`. Only weights (keys starting with `"W"`) count;
        biases are not penalized. Note: no factor 1/2 and no division by the batch size.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement l2_penalty (see the handout)")


def l2_grad(params, lam):
    r"""The gradient of `l2_penalty` with respect to every parameter.

    $$\frac{\partial \Omega_{L2}}{\partial W^{(l)}} = 2\lambda W^{(l)}, \qquad
      \frac{\partial \Omega_{L2}}{\partial b^{(l)}} = 0$$

    Args:
        params: dict of arrays, as for `l2_penalty`.
        lam: the strength $\lambda$.

    Returns:
        A new dict with the same keys as `params`, each entry the same shape and dtype as the
        parameter: `2 * lam * W` for weights, zeros for biases.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement l2_grad (see the handout)")


def l1_penalty(params, lam):
    r"""The L1 (lasso) penalty of a network's weights.

    $$\Omega_{L1} = \lambda \sum_l \|W^{(l)}\|_1 = \lambda \sum_l \sum_{i,j} |W^{(l)}_{ij}|$$

    Args:
        params: dict `{"W1", "b1", ...}` of arrays.
        lam: the strength $\lambda \ge 0$.

    Returns:
        The penalty as a Python `float`; weights only, biases are not penalized.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement l1_penalty (see the handout)")


def l1_grad(params, lam):
    r"""The (sub)gradient of `l1_penalty` with respect to every parameter.

    $$\frac{\partial \Omega_{L1}}{\partial W^{(l)}} = \lambda\,\mathrm{sign}(W^{(l)}), \qquad
      \frac{\partial \Omega_{L1}}{\partial b^{(l)}} = 0$$

    $|w|$ has no derivative at $w = 0$; we use the subgradient $\mathrm{sign}(0) = 0$
    (what `np.sign` returns).

    Returns:
        A new dict with the same keys, shapes and dtypes as `params`.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement l1_grad (see the handout)")


def regularized_loss_and_grads(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
    r"""The regularized loss of a network on a batch, and its gradients.

    $$L_{total} = L_{data}(\hat{Y}, Y) + \Omega(W), \qquad
      \frac{\partial L_{total}}{\partial W^{(l)}} = \frac{\partial L_{data}}{\partial W^{(l)}}
      + \frac{\partial \Omega}{\partial W^{(l)}}$$

    where $L_{data}$ is the mean MSE or cross-entropy over the batch (assignment 3) and
    $\Omega$ is `l2_penalty` or `l1_penalty` (weights only).

    Uses your own `forward.forward` (assignment 2) and `backprop.backward` (assignment 3):
    import them inside this function (`import forward`, `import backprop`).

    Args:
        X: inputs, shape `(m, n_in)`.
        Y: targets, shape `(m, n_out)` (one-hot for cross-entropy).
        params: dict `{"W1", "b1", ..., "WL", "bL"}`.
        activations: list of activation names, one per layer.
        loss: `"mse"` or `"cross_entropy"` (the latter needs a `"softmax"` output layer).
        lam: the strength $\lambda$; `lam=0` gives the plain data loss and gradients.
        penalty: `"l2"` or `"l1"`.

    Returns:
        `(loss_value, grads)`: a Python `float` and a new dict with the same keys as `params`.

    Raises:
        ValueError: for an unknown `loss` or `penalty`.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement regularized_loss_and_grads (see the handout)")


def dropout_forward(A, keep_prob, rng, train=True, inverted=True):
    r"""Dropout on a layer's activations `A`.

    Training (`train=True`) draws the mask $r \sim \mathrm{Bernoulli}(p)$, $p$ = `keep_prob`,
    exactly as `mask = rng.random(A.shape) < keep_prob` (one draw from `rng`, of `A`'s shape):

    - inverted (modern frameworks): $\tilde{A} = r \odot A / p$, so $E[\tilde{A}] = A$;
    - classic (the lecture's): $\tilde{A} = r \odot A$.

    At test time (`train=False`) every unit is kept, `rng` is not used and `mask` is `None`:

    - inverted: $\tilde{A} = A$ (a copy);
    - classic: $\tilde{A} = p A$ (the lecture scales by $p$ so the expected input of the
      next layer matches training).

    Args:
        A: activations, any shape.
        keep_prob: $p \in (0, 1]$, the probability that a unit is kept (NOT the drop rate).
        rng: a `numpy.random.Generator`, the only source of randomness: never NumPy's global
            random state (`np.random.seed`, `np.random.rand`, ...), which the grader detects.
        train: training or test mode.
        inverted: inverted (default) or classic dropout.

    Returns:
        `(A_out, mask)`: a new array of `A`'s shape and dtype, and the boolean mask
        (`True` = kept) or `None` at test time.

    Raises:
        ValueError: if `keep_prob` is not in (0, 1].
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement dropout_forward (see the handout)")


def dropout_backward(dA, mask, keep_prob, inverted=True):
    r"""Backward pass of `dropout_forward`: the gradient with respect to its input `A`.

    Dropout is element-wise multiplication by a constant, so the gradient is multiplied by the
    same constant:

    - training, inverted: $dA_{prev} = r \odot dA / p$;
    - training, classic:  $dA_{prev} = r \odot dA$;
    - `mask is None` (the forward pass ran at test time): $dA$ (a copy) when inverted,
      $p \, dA$ when classic.

    Args:
        dA: gradient of the loss with respect to dropout's output.
        mask: the mask `dropout_forward` returned (boolean or 0/1 floats), or `None`.
        keep_prob: the same $p$ as in the forward pass.
        inverted: the same mode as in the forward pass.

    Returns:
        A new array, the gradient with respect to dropout's input `A`.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement dropout_backward (see the handout)")


def early_stopping(val_losses, patience):
    r"""The epoch at which early stopping ends training.

    Training stops at the first epoch $e$ with $e - e^* \ge$ `patience`, where $e^*$ is the
    epoch of the lowest validation loss in `val_losses[: e + 1]` (the earliest one on ties).
    In words: stop once `patience` epochs have passed without a new best.
    With `patience=0` this is epoch 0.

    Args:
        val_losses: sequence of validation losses, one per epoch (list or 1-D array).
        patience: a non-negative int.

    Returns:
        The stopping epoch as a Python `int`, or `None` if the rule never fires
        (including for an empty sequence).

    Raises:
        ValueError: if `patience` is negative.
    """
    # TODO: implement (remove the raise below)
    raise NotImplementedError("Implement early_stopping (see the handout)")
