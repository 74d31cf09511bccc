"""The regularization assignment: correct work in any style gets full marks, every bug loses
exactly the points of the functions it breaks (and of their callers), with a named hint; the
dropout property predicates accept every correct output and reject the catalogued mistakes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import (
    ROOT,
    SUBMISSIONS,
    assert_full_marks,
    assert_loses_exactly,
    assert_zero_without_crashing,
    mutate,
    reference_source,
    template_source,
)
from grader.checks.build import sibling

# regularized_loss_and_grads imports the student's forward.py and backprop.py: the reference's
# stand in for them, so that only regularization.py is under test.
HELPERS = {"forward.py": reference_source("forward"), "backprop.py": reference_source("backprop")}


def grade(course, source: str):
    return course.grade({**HELPERS, "regularization.py": source}, ["regularization"])


def test_reference_gets_full_marks(course):
    result = grade(course, reference_source("regularization"))
    assert_full_marks(result)


def test_untouched_template_gets_zero_without_crashing(course):
    result = grade(course, template_source("regularization"))
    assert_zero_without_crashing(result)


@pytest.mark.parametrize("style", ["regularization_loops", "regularization_einsum", "regularization_where"])
def test_correct_alternative_styles_get_full_marks(course, style):
    result = grade(course, (SUBMISSIONS / style / "regularization.py").read_text())
    assert_full_marks(result)


RLG = "regularized_loss_and_grads"

# (id, text in reference/regularization.py, replacement, functions that must lose points, mistake named)
MUTATIONS = [
    # Every training-mode mask comes out different, and the global state is named as the cause.
    ("dropout-global-rng", "mask = rng.random(A.shape) < keep_prob", "mask = np.random.random(A.shape) < keep_prob",
     {"dropout_forward"}, "NumPy's global random state used"),
    ("dropout-global-seed", "mask = rng.random(A.shape) < keep_prob",
     "np.random.seed(0)\n    mask = rng.random(A.shape) < keep_prob", {"dropout_forward"}, "NumPy's global random state used"),
    ("l2-penalty-biases", "dtype=np.float64))) for key, W in params.items()\n                if _is_weight(key))",
     "dtype=np.float64))) for key, W in params.items())", {"l2_penalty", RLG}, "biases penalized"),
    ("l2-penalty-half", "np.sum(np.square(W, dtype=np.float64))", "0.5 * np.sum(np.square(W, dtype=np.float64))",
     {"l2_penalty", RLG}, "factor 1/2 added"),
    ("l2-grad-no-factor-2", "{key: 2 * lam * P if", "{key: lam * P if", {"l2_grad", RLG},
     "gradient without the factor 2"),
    ("l2-grad-biases", "{key: 2 * lam * P if _is_weight(key)", "{key: 2 * lam * P if True", {"l2_grad", RLG},
     "biases penalized"),
    ("l1-penalty-no-abs", "np.sum(np.abs(W), dtype=np.float64)", "np.sum(W, dtype=np.float64)",
     {"l1_penalty", RLG}, "absolute value missing"),
    ("l1-grad-abs", "lam * np.sign(P)", "lam * np.abs(P)", {"l1_grad", RLG}, "abs instead of sign"),
    ("l1-grad-factor-2", "lam * np.sign(P)", "2 * lam * np.sign(P)", {"l1_grad", RLG}, "factor 2 copied from L2"),
    ("l1-grad-biases", "{key: lam * np.sign(P) if _is_weight(key)", "{key: lam * np.sign(P) if True",
     {"l1_grad", RLG}, "biases penalized"),
    ("rlg-swapped", 'penalties = {"l2": (l2_penalty, l2_grad), "l1": (l1_penalty, l1_grad)}',
     'penalties = {"l1": (l2_penalty, l2_grad), "l2": (l1_penalty, l1_grad)}', {RLG}, "l1 and l2 swapped"),
    ("rlg-penalty-not-in-grads", "{key: data_grads[key] + reg_grads[key] for key in params}",
     "{key: data_grads[key] for key in params}", {RLG}, "penalty missing from the gradients"),
    ("rlg-penalty-not-in-loss", " + penalty_value(params, lam)", "", {RLG}, "penalty missing from the loss"),
    ("rlg-divided-by-m", "penalty_value, penalty_grad = penalties[penalty]",
     "penalty_value, penalty_grad = penalties[penalty]\n    lam = lam / X.shape[0]", {RLG},
     "penalty divided by the batch size"),
    ("rlg-no-valueerror", 'raise ValueError(f"penalty must be', 'print(f"penalty must be', {RLG}, None),
    ("dropout-no-rescale", "A_out = A_out / keep_prob  #", "A_out = A_out  #", {"dropout_forward"},
     "inverted dropout without 1/keep_prob"),
    ("dropout-mask-wrong-way", "mask = rng.random(A.shape) < keep_prob  #", "mask = rng.random(A.shape) > keep_prob  #",
     {"dropout_forward"}, "mask compared the wrong way"),
    ("dropout-drop-rate", "A_out = A_out / keep_prob  #", "A_out = A_out / (1 - keep_prob)  #",
     {"dropout_forward"}, "divided by the drop rate"),
    ("dropout-classic-test-unscaled", "(A.copy() if inverted else A * keep_prob), None", "A.copy(), None",
     {"dropout_forward"}, "classic dropout not scaled at test time"),
    ("dropout-inverted-test-scaled", "(A.copy() if inverted else A * keep_prob), None", "A * keep_prob, None",
     {"dropout_forward"}, "inverted dropout scaled at test time"),
    ("dropout-in-place", "A_out = A * mask  #", "A *= mask\n    A_out = A  #", {"dropout_forward"},
     "input modified in place"),
    ("dropout-backward-no-rescale", "dA_prev = dA_prev / keep_prob", "dA_prev = dA_prev", {"dropout_backward"},
     "inverted backward without 1/keep_prob"),
    ("dropout-backward-mask-forgotten", "dA_prev = dA * mask  #", "dA_prev = dA * 1.0  #", {"dropout_backward"},
     "mask not applied"),
    ("dropout-backward-classic-rescaled", "    if inverted:\n        dA_prev = dA_prev / keep_prob",
     "    dA_prev = dA_prev / keep_prob", {"dropout_backward"}, "classic backward divided by keep_prob"),
    ("early-stopping-off-by-one", "if e - best_e >= patience:", "if e - best_e > patience:", {"early_stopping"},
     "off by one (> instead of >=)"),
    ("early-stopping-ties", "if loss < best_loss:", "if loss <= best_loss:", {"early_stopping"},
     "last best epoch on ties"),
    ("early-stopping-returns-best", "            return e\n    return None", "            return best_e\n    return None",
     {"early_stopping"}, "returns the best epoch"),
    ("early-stopping-last-epoch", "            return e\n    return None",
     "            return e\n    return len(val_losses) - 1 if len(val_losses) else None", {"early_stopping"},
     "last epoch instead of None"),
]


@pytest.mark.parametrize("mid,old,new,broken,mistake", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_one_mistake_loses_exactly_its_functions(course, mid, old, new, broken, mistake):
    result = grade(course, mutate(reference_source("regularization"), old, new))
    assert_loses_exactly(result, broken, mistake)


# ---------------------------------------------------------------- the dropout property predicates

CHECKS = sibling(str(ROOT / "assignments" / "regularization" / "checks_visible.py"), "checks_visible")


def _load(path, label):
    spec = importlib.util.spec_from_file_location(label, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _load(ROOT / "reference" / "regularization.py", "_reference_regularization_for_tests")
WRONG = _load(ROOT / "assignments" / "regularization" / "mistakes.py", "_regularization_mistakes_for_tests")

keep_probs = st.floats(0.05, 1.0)
seeds = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=25)
# Any values for "accepts every correct output" (subnormals included) ...
activations = hnp.arrays(np.float64, SHAPES, elements=st.floats(-10, 10, allow_nan=False))
# ... and values a wrong factor visibly changes for "rejects the mistakes": below about 1e-9 every
# output is within the checks' absolute tolerance of 0, right or wrong.
visible_values = hnp.arrays(np.float64, SHAPES, elements=st.one_of(
    st.just(0.0), st.floats(1e-3, 10), st.floats(-10, -1e-3)))
PROPERTY = settings(max_examples=60, deadline=None)


def gen(seed):
    return np.random.default_rng(seed)


@PROPERTY
@given(A=activations, p=keep_probs, seed=seeds, inverted=st.booleans())
def test_training_predicates_accept_every_correct_output(A, p, seed, inverted):
    out = REF.dropout_forward(A, p, gen(seed), inverted=inverted)
    # A 0/1 float mask is as good as a boolean one.
    for got in (out, (out[0], out[1].astype(np.float64))):
        assert CHECKS.mask_and_output_consistent(got, {"A": A, "keep_prob": p, "inverted": inverted}) is None
        assert CHECKS.kept_fraction_near(got, CHECKS.fraction_expect(A.shape, p)(None)) is None
        assert CHECKS.mean_near(got, CHECKS.mean_expect(A, p, inverted)(None)) is None


@PROPERTY
@given(A=activations, p=keep_probs, seed=seeds)
def test_test_time_predicate_accepts_every_correct_output(A, p, seed):
    classic = REF.dropout_forward(A, p, gen(seed), train=False, inverted=False)
    assert CHECKS.scaled_copy_at_test(classic, {"A": A, "scale": p, "formula": "A * keep_prob"}) is None
    inverted = REF.dropout_forward(A, p, gen(seed), train=False, inverted=True)
    assert CHECKS.scaled_copy_at_test(inverted, {"A": A, "scale": 1.0, "formula": "A"}) is None


@PROPERTY
@given(dA=activations, p=keep_probs, seed=seeds, inverted=st.booleans())
def test_backward_predicate_accepts_every_correct_output(dA, p, seed, inverted):
    mask = CHECKS.dropout_mask(dA.shape, p, seed)
    for m in (mask, mask.astype(np.float64)):
        got = REF.dropout_backward(dA, m, p, inverted=inverted)
        assert CHECKS.routes_through_mask(got, CHECKS.backward_expect(dA, mask, p, inverted)(None)) is None


def _seed_where(ok, shape, p, seed):
    """The first seed from `seed` on whose mask satisfies `ok`: inputs built so that a property's
    precondition holds (instead of asserting only when it happens to)."""
    for candidate in range(seed, seed + 10_000):
        mask = CHECKS.dropout_mask(shape, p, candidate)
        if ok(mask):
            return candidate, mask
    raise AssertionError(f"no seed in 10000 gives such a mask for shape {shape}, keep_prob {p}")


# Entries that are never 0 (a wrong factor changes every kept one by more than the tolerance).
nonzero_values = hnp.arrays(np.float64, SHAPES, elements=st.one_of(st.floats(1e-3, 10), st.floats(-10, -1e-3)))
# keep_prob away from 0.5, where dividing by keep_prob and by the drop rate agree.
not_half = st.one_of(st.floats(0.05, 0.49), st.floats(0.51, 0.99))


@PROPERTY
@given(A=nonzero_values, p=not_half, seed=seeds)
def test_consistency_predicate_rejects_a_missing_or_wrong_rescale(A, p, seed):
    seed, _ = _seed_where(np.any, A.shape, p, seed)  # at least one unit kept
    consistent = {"A": A, "keep_prob": p, "inverted": True}
    unscaled = WRONG.dropout_forward_inverted_not_rescaled(A, p, gen(seed))
    assert CHECKS.mask_and_output_consistent(unscaled, consistent) is not None
    by_drop_rate = WRONG.dropout_forward_divide_by_drop_rate(A, p, gen(seed))
    assert CHECKS.mask_and_output_consistent(by_drop_rate, consistent) is not None


# The statistical predicates reject a mistake once its effect exceeds twice their bound: inputs
# large enough, and keep_prob far enough from 0.5, that it does.
LARGE = hnp.array_shapes(min_dims=2, max_dims=2, min_side=20, max_side=40)


@PROPERTY
@given(shape=LARGE, p=st.one_of(st.floats(0.05, 0.3), st.floats(0.7, 0.99)), seed=seeds)
def test_kept_fraction_predicate_rejects_a_mask_compared_the_wrong_way(shape, p, seed):
    A = np.random.default_rng(seed).uniform(-1, 1, shape)
    expected = CHECKS.fraction_expect(shape, p)(None)
    assert abs(1 - 2 * p) > 2 * expected["bound"]  # the precondition, true by construction
    wrong_way = WRONG.dropout_forward_mask_wrong_way(A, p, gen(seed))
    assert CHECKS.kept_fraction_near(wrong_way, expected) is not None


@PROPERTY
@given(shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=90, max_side=120), p=st.floats(0.2, 0.8),
       sign=st.sampled_from([1.0, -1.0]), seed=seeds)
def test_mean_predicate_rejects_inverted_dropout_without_rescale(shape, p, sign, seed):
    A = sign * np.random.default_rng(seed).uniform(1, 2, shape)
    mean = CHECKS.mean_expect(A, p, True)(None)
    assert (1 - p) * abs(float(A.mean())) > 2 * mean["bound"]  # the precondition, true by construction
    unscaled = WRONG.dropout_forward_inverted_not_rescaled(A, p, gen(seed))
    assert CHECKS.mean_near(unscaled, mean) is not None


@PROPERTY
@given(A=visible_values, p=st.floats(0.05, 0.99), seed=seeds)
def test_test_time_predicate_rejects_the_mistakes(A, p, seed):
    assume(np.any(A != 0))
    classic = {"A": A, "scale": p, "formula": "A * keep_prob"}
    plain = {"A": A, "scale": 1.0, "formula": "A"}
    assert CHECKS.scaled_copy_at_test(
        WRONG.dropout_forward_classic_not_scaled_at_test(A, p, gen(seed), train=False, inverted=False), classic)
    assert CHECKS.scaled_copy_at_test(
        WRONG.dropout_forward_inverted_scaled_at_test(A, p, gen(seed), train=False, inverted=True), plain)
    assert CHECKS.scaled_copy_at_test(
        WRONG.dropout_forward_applied_at_test(A, p, gen(seed), train=False, inverted=True), plain)


@PROPERTY
@given(dA=nonzero_values.filter(lambda a: a.size >= 2), p=st.floats(0.05, 0.99), seed=seeds)
def test_backward_predicate_rejects_the_mistakes(dA, p, seed):
    # a mask that keeps some units and drops others, over entries that are never 0
    _, mask = _seed_where(lambda m: m.any() and not m.all(), dA.shape, p, seed)
    got = WRONG.dropout_backward_not_rescaled(dA, mask, p, inverted=True)
    assert CHECKS.routes_through_mask(got, CHECKS.backward_expect(dA, mask, p, True)(None))
    got = WRONG.dropout_backward_classic_rescaled(dA, mask, p, inverted=False)
    assert CHECKS.routes_through_mask(got, CHECKS.backward_expect(dA, mask, p, False)(None))
    for inverted in (True, False):
        got = WRONG.dropout_backward_mask_forgotten(dA, mask, p, inverted=inverted)
        assert CHECKS.routes_through_mask(got, CHECKS.backward_expect(dA, mask, p, inverted)(None))
