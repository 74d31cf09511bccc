"""Hidden checks of the regularization assignment: run only when the instructor grades.

They repeat the visible checks on other inputs (one to three layers, a larger network probed
along random directions, float32, lam = 0, other seeds and shapes) and add the edge cases:
sign(0), keep_prob = 1, test-time masks, every shape of validation curve, invalid arguments,
and inputs left unchanged.
"""

from __future__ import annotations

import numpy as np

from grader.authoring import FLOAT32, Checks, sibling

visible = sibling(__file__, "checks_visible")
net, one_hot, generator = visible.net, visible.one_hot, visible.generator
c = Checks("regularization")
rng = np.random.default_rng(4_7_2024)

P1 = net([4, 2], 21)
P3 = net([4, 6, 5, 3], 22)
P3_WIDE = net([8, 16, 16, 4], 23)
P2_F32 = {k: v.astype(np.float32) for k, v in net([3, 5, 2], 24).items()}
X8 = rng.normal(size=(8, 4))
Y8_2 = rng.normal(size=(8, 2))
Y8_3 = rng.normal(size=(8, 3))
Y8_CE = one_hot([0, 1, 2, 2, 1, 0, 0, 1], 3)
X10 = rng.normal(size=(10, 8))
Y10_CE = one_hot([3, 0, 1, 2, 3, 3, 0, 1, 2, 0], 4)
WITH_ZEROS = {"W1": np.array([[0.5, 0.0, -1.5], [0.0, -0.2, 0.0]]), "b1": np.array([0.0, 0.4])}

A_f32 = rng.uniform(-1.0, 1.0, size=(3, 6)).astype(np.float32)
A_3d = rng.normal(size=(2, 3, 4))
A_medium = rng.uniform(-2.0, 2.0, size=(25, 40))
A_large = rng.uniform(-0.5, 1.5, size=(100, 100))
A_small = rng.normal(size=(5, 4))
dA_small = rng.normal(size=(5, 4))
MASK_CLASSIC = visible.dropout_mask((5, 4), 0.6, 8)
MASK_FLOAT = visible.dropout_mask((5, 4), 0.5, 9).astype(np.float64)

STEADY = [1.0, 0.8, 0.7, 0.65, 0.6, 0.58]
PLATEAU = [0.5, 0.5, 0.5, 0.5, 0.5]
TIES = [0.5, 0.4, 0.4, 0.4, 0.6, 0.7, 0.8, 0.9]
TIES_APART = [0.9, 0.4, 0.6, 0.4, 0.4, 0.5, 0.4, 0.7]
LATE = [0.9, 0.5, 0.6, 0.7, 0.8, 0.45, 0.5, 0.55, 0.6, 0.65]
UP_DOWN = [1.0, 0.5, 0.8, 0.7, 0.9, 0.95, 1.0]  # falls from epoch 2 to 3, but never below the best

CHECKS = [
    # penalties
    c.close("l2_penalty", "three layers, lam = 0.01", P3, 0.01),
    c.close("l2_penalty", "lam = 0 gives 0", P3, 0.0),
    c.close("l2_penalty", "float32 parameters", P2_F32, 0.1, tol=FLOAT32),
    c.gradient("l2_grad", "central differences on three layers, lam = 0.5", P3, 0.5,
               expect=visible.penalty_gradient("l2_penalty", P3, 0.5)),
    c.close("l2_grad", "biases get a zero gradient", visible.ONLY_BIASES, 0.3),
    c.close("l2_grad", "float32 parameters", P2_F32, 0.1, tol=FLOAT32),
    c.unchanged("l2_grad", P3, 0.5),
    c.close("l1_penalty", "three layers, lam = 0.01", P3, 0.01),
    c.close("l1_penalty", "biases are not penalized (zero weights give 0)", visible.ONLY_BIASES, 0.1),
    c.close("l1_penalty", "float32 parameters", P2_F32, 0.1, tol=FLOAT32),
    c.gradient("l1_grad", "central differences on three layers, lam = 0.3", P3, 0.3,
               expect=visible.penalty_gradient("l1_penalty", P3, 0.3)),
    c.close("l1_grad", "sign(0) = 0 for zero weights, zeros for biases", WITH_ZEROS, 0.2),
    c.close("l1_grad", "float32 parameters", P2_F32, 0.1, tol=FLOAT32),
    c.unchanged("l1_grad", P3, 0.3),
    # the regularized loss, on one to three layers, both penalties, lam = 0 and above
    *visible.regularized_checks("1 layer (linear), MSE, L2, lam = 0", X8, Y8_2, P1, ["linear"],
                                "mse", 0.0, "l2", points=(1, 1)),
    *visible.regularized_checks("3 layers (tanh, sigmoid, softmax), cross-entropy, L2, lam = 0.01", X8, Y8_CE,
                                P3, ["tanh", "sigmoid", "softmax"], "cross_entropy", 0.01, "l2"),
    *visible.regularized_checks("3 layers (sigmoid, tanh, linear), MSE, L1, lam = 0.2", X8, Y8_3, P3,
                                ["sigmoid", "tanh", "linear"], "mse", 0.2, "l1"),
    *visible.regularized_checks("3 layers of 16 units, cross-entropy, L1, lam = 0", X10, Y10_CE, P3_WIDE,
                                ["tanh", "tanh", "softmax"], "cross_entropy", 0.0, "l1", points=(1, 1),
                                probes={"directions": 4, "coordinates": 12, "seed": 1}),
    *visible.regularized_checks("3 layers of 16 units, MSE, L2, lam = 0.05", X10, rng.normal(size=(10, 4)),
                                P3_WIDE, ["tanh", "sigmoid", "linear"], "mse", 0.05, "l2",
                                probes={"directions": 4, "coordinates": 12, "seed": 2}),
    c.raises("regularized_loss_and_grads", "ValueError for an unknown penalty", X8, Y8_2, P1, ["linear"],
             penalty="l3"),
    c.raises("regularized_loss_and_grads", "ValueError for an unknown loss", X8, Y8_2, P1, ["linear"],
             loss="hinge"),
    c.unchanged("regularized_loss_and_grads", X8, Y8_3, P3, ["sigmoid", "tanh", "linear"], "mse", 0.2, "l1"),
    # dropout
    c.close("dropout_forward", "float32 input", A_f32, 0.6, generator(21), tol=FLOAT32),
    c.close("dropout_forward", "keep_prob = 1 drops nothing", A_small, 1.0, generator(22)),
    c.close("dropout_forward", "a 3-D input", A_3d, 0.5, generator(23)),
    c.close("dropout_forward", "classic, test time: another input", A_3d, 0.25, generator(24), train=False,
            inverted=False),
    c.satisfies("dropout_forward", "classic, test time: A * keep_prob and mask None (any keep_prob)", A_medium,
                0.35, generator(25), train=False, inverted=False, predicate=visible.scaled_copy_at_test,
                expect=lambda ref: {"A": A_medium, "scale": 0.35, "formula": "A * keep_prob"}),
    c.satisfies("dropout_forward", "classic: the mask is 0/1 and A_out is A * mask", A_medium, 0.65,
                generator(26), inverted=False, predicate=visible.mask_and_output_consistent,
                expect=lambda ref: {"A": A_medium, "keep_prob": 0.65, "inverted": False}),
    c.satisfies("dropout_forward", "the kept fraction is near keep_prob = 0.3", A_large, 0.3, generator(27),
                predicate=visible.kept_fraction_near, expect=visible.fraction_expect(A_large.shape, 0.3)),
    c.satisfies("dropout_forward", "classic: the training output's mean is keep_prob * mean(A)", A_large, 0.6,
                generator(28), inverted=False, predicate=visible.mean_near,
                expect=visible.mean_expect(A_large, 0.6, False)),
    c.raises("dropout_forward", "ValueError for keep_prob = 0", A_small, 0.0, generator(29)),
    c.raises("dropout_forward", "ValueError for keep_prob > 1", A_small, 1.5, generator(29)),
    # rng as a keyword: a Generator cannot be sent back to compare, the arrays can.
    c.unchanged("dropout_forward", A_small, 0.5, rng=generator(30)),
    c.gradient("dropout_backward", "classic: central differences of dropout_forward with the same mask",
               dA_small, MASK_CLASSIC, 0.6, inverted=False,
               expect=visible.through_dropout(dA_small, A_small, 0.6, 8, False)),
    c.satisfies("dropout_backward", "classic: gradient only through kept units, unscaled", dA_small,
                MASK_CLASSIC, 0.6, inverted=False, predicate=visible.routes_through_mask,
                expect=visible.backward_expect(dA_small, MASK_CLASSIC, 0.6, False)),
    c.close("dropout_backward", "a 0/1 float mask", dA_small, MASK_FLOAT, 0.5),
    c.close("dropout_backward", "mask None (test time), inverted: dA unchanged", dA_small, None, 0.5),
    c.close("dropout_backward", "mask None (test time), classic: dA * keep_prob", dA_small, None, 0.5,
            inverted=False),
    c.unchanged("dropout_backward", dA_small, MASK_FLOAT, 0.5),
    # early stopping
    c.table("early_stopping", "a steady decrease never stops", [((STEADY, 1), {}), ((STEADY, 3), {})]),
    c.table("early_stopping", "a plateau from the start stops after patience epochs",
            [((PLATEAU, p), {}) for p in (1, 2, 4, 5)]),
    c.table("early_stopping", "ties for the best keep the first best epoch",
            [((TIES, p), {}) for p in (2, 1, 3, 4, 6)] + [((TIES_APART, p), {}) for p in (1, 2, 7)]),
    c.table("early_stopping", "a late improvement resets the count", [((LATE, p), {}) for p in (3, 4, 5)]),
    c.table("early_stopping", "patience 0 and 1",
            [((seq, p), {}) for seq in (STEADY, TIES, [0.3]) for p in (0, 1)]),
    c.table("early_stopping", "compares with the best so far, not with the previous epoch",
            [((UP_DOWN, p), {}) for p in (2, 3)] + [((TIES_APART, 2), {})]),
    c.close("early_stopping", "a NumPy array of losses", np.array(LATE), 4),
    c.raises("early_stopping", "ValueError for a negative patience", STEADY, -1),
]
CHECKS = visible.own_generator_only(CHECKS)
