"""Visible checks of the regularization assignment: students run these with `grade check`.

Every input is fixed here (seeded), so a student sees exactly what is called; the expected
values are frozen from the reference into `expected.grd` by `grade build-template`.

Gradients are judged against central differences of the REFERENCE's loss (see
`grader.checks.numgrad`), never against the reference's own analytic gradient. Dropout is judged two
ways: the API fixes how the mask is drawn (`rng.random(A.shape) < keep_prob`), so for a given
seed the mask must match exactly; and properties every correct implementation has (a 0/1
mask, the kept fraction, the mean, the test-time scaling, the backward routing) are checked
with predicates, so the feedback says which property is broken.
"""

from __future__ import annotations

import math

import numpy as np

from grader.authoring import (
    VALUE,
    Checks,
    Close,
    DirectionalGradient,
    Fn,
    Gradient,
    Part,
    dict_gradient,
    difference,
    directional_probes,
    elementwise_derivative,
)

c = Checks("regularization")
rng = np.random.default_rng(4_2024)

# Failure probability allowed to the statistical checks (kept fraction, mean): a correct
# implementation fails one of them, whatever its mask, with probability below 1e-9.
DELTA = 1e-9

# Regularized gradients: the loss is smooth where we evaluate it (tanh, sigmoid, softmax, no
# weight within 0.1 of L1's kink at 0), so central differences with h = 1e-5 have an ABSOLUTE
# error near 1e-11 for losses of order 1; relative to an entry g that is about 1e-11 / |g|.
# Measured on every network of both files: below 3e-9 for entries above 1e-3, and 1e-7 at worst,
# on an entry of 1.6e-5 where the L1 penalty nearly cancels the data gradient. A correct
# student's analytic gradient differs from the reference's by rounding only (1e-15), so 1e-6
# leaves a margin of ten on that worst entry; every catalogued mistake is off by more than 1e-2.
GRAD_ERROR = 1e-6


def net(sizes, seed):
    """Parameters of a network with `sizes` units per layer.

    Weights have |W| in [0.1, 0.9] (so L1's kink at 0 is far from any central difference) and
    random signs; biases are nonzero, so a penalized bias shows.
    """
    r = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        shape = (sizes[l], sizes[l - 1])
        params[f"W{l}"] = r.choice([-1.0, 1.0], size=shape) * r.uniform(0.1, 0.9, size=shape)
        params[f"b{l}"] = r.uniform(-0.5, 0.5, size=sizes[l])
    return params


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels)]


def load_reference(ref):
    """The reference's regularization module, with the forward and backprop it imports by name."""
    ref.module("forward")
    ref.module("backprop")
    return ref.module("regularization")


def penalty_gradient(penalty, params, lam):
    """Expected: central differences of the reference's `l2_penalty` or `l1_penalty`."""
    return lambda ref: dict_gradient(lambda p: getattr(load_reference(ref), penalty)(p, lam), params)


def loss_gradient(X, Y, params, activations, loss, lam, penalty):
    """Expected: central differences of the reference's regularized loss, every entry."""

    def expect(ref):
        reg = load_reference(ref)
        return dict_gradient(
            lambda p: reg.regularized_loss_and_grads(X, Y, p, activations, loss, lam, penalty)[0], params
        )

    return expect


def regularized_checks(what, X, Y, params, activations, loss, lam, penalty, points=(1, 2), probes=None):
    """Two checks of `regularized_loss_and_grads` on one network: the loss value and the gradients.

    `probes`: for a large network, `grader.authoring.directional_probes` settings instead of
    every entry's central difference (see `DirectionalGradient`).
    """
    call = c.call("regularized_loss_and_grads", X, Y, params, activations,
                  loss=loss, lam=lam, penalty=penalty)

    def reference_loss(ref):
        load_reference(ref)
        return ref.call(call)

    if probes is None:
        grads = Gradient(call, loss_gradient(X, Y, params, activations, loss, lam, penalty), GRAD_ERROR)
    else:
        def probe(ref):
            reg = load_reference(ref)
            return directional_probes(
                lambda p: reg.regularized_loss_and_grads(X, Y, p, activations, loss, lam, penalty)[0],
                params, **probes)

        grads = DirectionalGradient(call, probe, GRAD_ERROR)
    return [
        c.check("regularized_loss_and_grads", f"loss value, {what}",
                Part(Close(call, expect=reference_loss), 0, "the loss value, the first of the pair"),
                points[0]),
        c.check("regularized_loss_and_grads", f"gradients match central differences, {what}",
                Part(grads, 1, "the gradients, the second of the pair"), points[1]),
    ]


# ------------------------------------------------------------------ dropout properties
#
# Each predicate gets the student's `(A_out, mask)` (or `dA_prev`) and plain expected data, and
# returns None or a message for the student. The project's tests check with hypothesis that
# they accept every correct output and reject the catalogued mistakes.


def fraction_bound(n, delta=DELTA):
    """Hoeffding: the fraction of n independent Bernoulli(p) draws is within this of p with
    probability at least 1 - delta, for every p."""
    return math.sqrt(math.log(2 / delta) / (2 * n))


def mean_bound(A, keep_prob, delta=DELTA):
    """Hoeffding: the mean of inverted dropout's output, entries A_i r_i / p with r_i in {0, 1},
    is within this of mean(A) with probability at least 1 - delta."""
    A = np.asarray(A, dtype=np.float64)
    ranges = np.abs(A) / keep_prob
    return math.sqrt(math.log(2 / delta) * float(np.sum(ranges**2)) / 2) / A.size


def _pair(got, shape):
    """`(A_out, mask)` as float arrays, or a message saying what is wrong with `got`."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return "expected a pair (A_out, mask)"
    A_out, mask = got
    for name, value in (("A_out", A_out), ("mask", mask)):
        if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
            got = getattr(value, "shape", type(value).__name__)
            return f"{name}: expected an array of shape {tuple(shape)}, got {got}"
    mask = mask.astype(np.float64)
    if not np.all((mask == 0) | (mask == 1)):
        return "the mask must hold only 0 and 1 (or False and True)"
    return A_out.astype(np.float64), mask


def mask_and_output_consistent(got, expected):
    """The mask is 0/1 of A's shape and A_out is A * mask (/ keep_prob when inverted)."""
    A = np.asarray(expected["A"], dtype=np.float64)
    pair = _pair(got, A.shape)
    if isinstance(pair, str):
        return pair
    A_out, mask = pair
    p = expected["keep_prob"]
    formula, want = ("A * mask / keep_prob", A * mask / p) if expected["inverted"] else ("A * mask", A * mask)
    msg = difference(A_out, want, VALUE)
    if msg:
        return f"A_out is not {formula} for the mask you returned: {msg}"
    return None


def kept_fraction_near(got, expected):
    """The fraction of ones in the mask is within Hoeffding's bound of keep_prob."""
    pair = _pair(got, expected["shape"])
    if isinstance(pair, str):
        return pair
    kept = float(pair[1].mean())
    p, bound = expected["keep_prob"], expected["bound"]
    if abs(kept - p) > bound:
        extra = " (that is about 1 - keep_prob: keep_prob is the probability of KEEPING a unit)" \
            if abs(kept - (1 - p)) <= bound else ""
        return (f"the mask keeps {kept:.4f} of the units; keep_prob is {p}, so expected within "
                f"{bound:.4f} of it{extra}")
    return None


def mean_near(got, expected):
    """The mean of A_out is within Hoeffding's bound of `expected["mean"]`."""
    pair = _pair(got, expected["shape"])
    if isinstance(pair, str):
        return pair
    mean = float(pair[0].mean())
    want, bound = expected["mean"], expected["bound"]
    # Plus the value tolerance of every other check, for the rounding of the mean itself.
    if abs(mean - want) > bound + VALUE.atol + VALUE.rtol * abs(want):
        return (f"the mean of A_out is {mean:.4f}; expected {want:.4f} (within {bound:.4f}). "
                f"{expected['why']}")
    return None


def scaled_copy_at_test(got, expected):
    """At test time: mask is None and A_out is `scale * A`."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return "expected a pair (A_out, mask)"
    A_out, mask = got
    if mask is not None:
        return "at test time (train=False) no mask is drawn: return None as the mask"
    A = np.asarray(expected["A"], dtype=np.float64)
    msg = difference(A_out, expected["scale"] * A, VALUE)
    if msg:
        return f"at test time A_out must be {expected['formula']}: {msg}"
    return None


def routes_through_mask(got, expected):
    """dA_prev is 0 where the mask dropped a unit and `scale * dA` where it kept one."""
    dA = np.asarray(expected["dA"], dtype=np.float64)
    mask = np.asarray(expected["mask"], dtype=bool)
    if not isinstance(got, np.ndarray) or got.shape != dA.shape:
        return f"expected an array of shape {dA.shape}, got {getattr(got, 'shape', type(got).__name__)}"
    got = got.astype(np.float64)
    leaked = (~mask) & (got != 0)
    if leaked.any():
        i = [int(j) for j in np.argwhere(leaked)[0]]
        return f"a dropped unit (mask 0 at {i}) receives gradient {got[tuple(i)]:.4g}; it must get 0"
    msg = difference(got[mask], expected["scale"] * dA[mask], VALUE)
    if msg:
        return f"kept units must receive {expected['formula']}: {msg}"
    return None


def dropout_mask(shape, keep_prob, seed):
    """The mask the API prescribes for `np.random.default_rng(seed)`."""
    return np.random.default_rng(seed).random(shape) < keep_prob


def generator(seed):
    """A `numpy.random.Generator`, built in the worker (a Generator cannot cross the channel)."""
    return Fn(f"np.random.default_rng({seed})")


def fraction_expect(shape, keep_prob):
    return lambda ref: {"shape": list(shape), "keep_prob": keep_prob,
                        "bound": fraction_bound(int(np.prod(shape)))}


def mean_expect(A, keep_prob, inverted):
    """Inverted: the mean of A; classic: keep_prob times it (what the test-time output has)."""
    why = ("Inverted dropout divides by keep_prob so that the output keeps A's mean."
           if inverted else "Classic dropout's training output has mean keep_prob * mean(A).")
    target = float(A.mean()) if inverted else keep_prob * float(A.mean())
    bound = mean_bound(A, keep_prob) if inverted else keep_prob * mean_bound(A, keep_prob)
    return lambda ref: {"shape": list(A.shape), "mean": target, "bound": bound, "why": why}


def backward_expect(dA, mask, keep_prob, inverted):
    scale, formula = (1 / keep_prob, "dA / keep_prob") if inverted else (1.0, "dA")
    return lambda ref: {"dA": dA, "mask": mask, "scale": scale, "formula": formula}


def through_dropout(dA, A, keep_prob, seed, inverted):
    """Expected: central differences of sum(dA * dropout_forward(A)) with the same seed, entry by
    entry (dropout is element-wise for a fixed mask), i.e. what dropout_backward must return."""

    def expect(ref):
        fwd = load_reference(ref).dropout_forward
        return elementwise_derivative(
            lambda a: dA * fwd(a, keep_prob, np.random.default_rng(seed), inverted=inverted)[0], A)

    return expect


# ------------------------------------------------------------------ inputs

P2 = net([3, 4, 2], 1)
X5 = rng.normal(size=(5, 3))
Y5 = rng.normal(size=(5, 2))
P2_CE = net([3, 4, 3], 2)
Y5_CE = one_hot([0, 2, 1, 1, 0], 3)
ONLY_BIASES = {"W1": np.zeros((4, 3)), "b1": np.array([0.5, -1.0, 2.0, 0.3]),
               "W2": np.zeros((2, 4)), "b2": np.array([-0.7, 1.5])}

A_small = rng.uniform(-1.0, 1.0, size=(4, 5))
A_medium = rng.uniform(-2.0, 2.0, size=(30, 40))
A_large = rng.uniform(0.5, 1.5, size=(100, 100))
dA_small = rng.normal(size=(4, 5))
MASK_SMALL = dropout_mask((4, 5), 0.7, 3)

# The handout's worked example of early stopping.
WORKED = [0.90, 0.70, 0.62, 0.62, 0.65, 0.61, 0.63, 0.64, 0.66]

CHECKS = [
    c.close("l2_penalty", "two layers, lam = 0.1", P2, 0.1),
    c.close("l2_penalty", "biases are not penalized (zero weights give 0)", ONLY_BIASES, 0.1),
    c.gradient("l2_grad", "matches central differences of l2_penalty", P2, 0.1,
               expect=penalty_gradient("l2_penalty", P2, 0.1), points=2),
    c.close("l1_penalty", "two layers, lam = 0.1", P2, 0.1),
    c.gradient("l1_grad", "matches central differences of l1_penalty", P2, 0.1,
               expect=penalty_gradient("l1_penalty", P2, 0.1), points=2),
    *regularized_checks("2 layers (tanh, linear), MSE, L2, lam = 0.1", X5, Y5, P2, ["tanh", "linear"],
                        "mse", 0.1, "l2"),
    *regularized_checks("2 layers (sigmoid, softmax), cross-entropy, L1, lam = 0.05", X5, Y5_CE, P2_CE,
                        ["sigmoid", "softmax"], "cross_entropy", 0.05, "l1"),
    c.close("dropout_forward", "inverted, training: the mask and output for seed 3", A_small, 0.7,
            generator(3), points=2,
            note="The mask must be exactly rng.random(A.shape) < keep_prob: one call of rng.random."),
    c.close("dropout_forward", "classic, training: the mask and output for seed 3", A_small, 0.7,
            generator(3), inverted=False),
    c.close("dropout_forward", "inverted, test time: A unchanged and mask None", A_small, 0.7,
            generator(3), train=False),
    c.close("dropout_forward", "classic, test time: A * keep_prob and mask None", A_small, 0.6,
            generator(5), train=False, inverted=False),
    c.satisfies("dropout_forward", "the mask is 0/1 and A_out is A * mask / keep_prob", A_medium, 0.5,
                generator(11), predicate=mask_and_output_consistent,
                expect=lambda ref: {"A": A_medium, "keep_prob": 0.5, "inverted": True}),
    c.satisfies("dropout_forward", "the kept fraction is near keep_prob on a 100 x 100 input", A_large, 0.8,
                generator(12), predicate=kept_fraction_near, expect=fraction_expect(A_large.shape, 0.8)),
    c.satisfies("dropout_forward", "inverted dropout keeps the mean of a 100 x 100 input", A_large, 0.8,
                generator(13), predicate=mean_near, expect=mean_expect(A_large, 0.8, True)),
    c.gradient("dropout_backward", "inverted: central differences of dropout_forward with the same mask",
               dA_small, MASK_SMALL, 0.7, expect=through_dropout(dA_small, A_small, 0.7, 3, True), points=2),
    c.satisfies("dropout_backward", "inverted: gradient only through kept units, scaled by 1/keep_prob",
                dA_small, MASK_SMALL, 0.7, predicate=routes_through_mask,
                expect=backward_expect(dA_small, MASK_SMALL, 0.7, True)),
    # Patience 2 first: there the usual mistakes all give different epochs, so the first
    # failing case names the right one.
    c.table("early_stopping", "the handout's worked example, patience 0 to 4",
            [((WORKED, patience), {}) for patience in (2, 0, 1, 3, 4)], points=2),
    c.close("early_stopping", "an empty list gives None", [], 2),
]


def own_generator_only(checks):
    """Every dropout_forward check also requires that NumPy's global random state is left alone:
    the mask comes only from the generator passed in (`grader.authoring.Clean`)."""
    return [c.clean(check, warnings=False, global_rng=True) if check.function == "dropout_forward" else check
            for check in checks]


CHECKS = own_generator_only(CHECKS)
