"""The forward-pass assignment: correct work in any style gets full marks, every bug loses
exactly the points of the functions it breaks (and of their callers), with a named hint."""

from __future__ import annotations

import pytest

from conftest import (
    SUBMISSIONS,
    assert_full_marks,
    assert_loses_exactly,
    assert_zero_without_crashing,
    mutate,
    reference_source,
    template_source,
)


def test_reference_gets_full_marks(course):
    result = course.grade({"forward.py": reference_source("forward")}, ["forward"])
    assert_full_marks(result)


def test_untouched_template_gets_zero_without_crashing(course):
    result = course.grade({"forward.py": template_source("forward")}, ["forward"])
    assert_zero_without_crashing(result)


@pytest.mark.parametrize("style", ["forward_loops", "forward_scipy", "forward_einsum"])
def test_correct_alternative_styles_get_full_marks(course, style):
    source = (SUBMISSIONS / style / "forward.py").read_text()
    result = course.grade({"forward.py": source}, ["forward"])
    assert_full_marks(result)


# (id, text in reference/forward.py, replacement, functions that must lose points, mistake named)
MUTATIONS = [
    ("softmax-axis0", "Z.max(axis=-1, keepdims=True)\n    e = np.exp(shifted)\n    return e / e.sum(axis=-1,",
     "Z.max(axis=0, keepdims=True)\n    e = np.exp(shifted)\n    return e / e.sum(axis=0,",
     {"softmax", "layer_forward", "forward"}, "softmax over the wrong axis"),
    ("softmax-unstable", "shifted = Z - Z.max(axis=-1, keepdims=True)", "shifted = Z",
     {"softmax"}, "softmax without subtracting the row max"),
    ("softmax-in-place", "shifted = Z - Z.max(axis=-1, keepdims=True)",
     "Z -= Z.max(axis=-1, keepdims=True)\n    shifted = Z",
     {"softmax", "layer_forward", "forward"}, "input modified in place"),
    ("sigmoid-sign", "np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))", {"sigmoid", "layer_forward", "forward"}, None),
    ("sigmoid-grad-of-z", "s = sigmoid(z)\n    return s * (1.0 - s)", "return z * (1.0 - z)",
     {"sigmoid_grad"}, "sigma'(z) computed as z * (1 - z)"),
    ("tanh-grad-of-z", "return 1.0 - np.tanh(z) ** 2", "return 1.0 - z ** 2",
     {"tanh_grad"}, "tanh'(z) computed as 1 - z**2"),
    ("relu-grad-at-0", "(np.asarray(z) > 0).astype", "(np.asarray(z) >= 0).astype",
     {"relu_grad"}, "relu'(0) = 1"),
    ("leaky-grad-at-0", "np.where(z > 0, 1.0, alpha)", "np.where(z >= 0, 1.0, alpha)",
     {"leaky_relu_grad"}, "leaky_relu'(0) = 1"),
    ("leaky-fixed-alpha", "np.where(z > 0, z, alpha * z)", "np.where(z > 0, z, 0.01 * z)",
     {"leaky_relu"}, None),
    ("dense-W-not-transposed", "return A_prev @ W.T + b", "return A_prev @ W + b",
     {"dense_forward", "layer_forward", "forward"}, "W used instead of W.T"),
    ("dense-no-bias", "return A_prev @ W.T + b", "return A_prev @ W.T",
     {"dense_forward", "layer_forward", "forward"}, "bias missing"),
    ("layer-returns-Z-A", "return ACTIVATIONS[activation](Z), Z", "return Z, ACTIVATIONS[activation](Z)",
     {"layer_forward", "forward"}, "(Z, A) returned instead of (A, Z)"),
    ("init-variance-as-std", "std = np.sqrt(2.0 / n_in) if", "std = (2.0 / n_in) if", {"init_params"}, None),
    ("init-xavier-wrong", "np.sqrt(2.0 / (n_in + n_out))", "np.sqrt(1.0 / n_in)", {"init_params"}, None),
    ("init-nonzero-bias", 'params[f"b{l}"] = np.zeros(n_out)', 'params[f"b{l}"] = np.full(n_out, 0.01)',
     {"init_params"}, None),
    ("init-global-rng", "rng.normal(0.0, std, size=(n_out, n_in))", "np.random.normal(0.0, std, size=(n_out, n_in))",
     {"init_params"}, "NumPy's global random state used"),
    ("init-global-seed", "rng = np.random.default_rng(seed)", "np.random.seed(seed)\n    rng = np.random",
     {"init_params"}, "NumPy's global random state used"),
    ("init-rng-per-layer", "params[f\"W{l}\"] = rng.normal(", "params[f\"W{l}\"] = np.random.default_rng(seed).normal(",
     {"init_params"}, "a new generator for every layer"),
    ("init-seed-per-layer", "params[f\"W{l}\"] = rng.normal(", "params[f\"W{l}\"] = np.random.default_rng(seed + l).normal(",
     {"init_params"}, "a differently seeded generator for every layer"),
    ("init-transposed-draws", "rng.normal(0.0, std, size=(n_out, n_in))", "rng.normal(0.0, std, size=(n_in, n_out)).T",
     {"init_params"}, "weights drawn in shape (n_in, n_out) and transposed"),
    ("init-legacy-generator", "rng = np.random.default_rng(seed)", "rng = np.random.RandomState(seed)",
     {"init_params"}, "the legacy generator (np.random.seed / RandomState) instead of default_rng"),
    ("sigmoid-naive-overflows", "e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n    # z >= 0: 1 / (1 + e^-z);  "
     "z < 0: e^z / (1 + e^z), the same value written stably.\n    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return 1.0 / (1.0 + np.exp(-z))", {"sigmoid"}, "sigmoid overflows in exp (a RuntimeWarning)"),
    ("softmax-warns", "e = np.exp(shifted)\n    return e / e.sum(axis=-1, keepdims=True)",
     "e = np.exp(shifted)\n    out = e / e.sum(axis=-1, keepdims=True)\n    np.log(out * 0.0)\n    return out",
     {"softmax"}, "softmax raises a RuntimeWarning on large entries"),
    ("init-no-valueerror", "raise ValueError(f\"unknown initialization method {method!r}: use 'he' or 'xavier'\")",
     "method = 'xavier'", {"init_params"}, None),
    ("count-no-biases", "n_out * n_in + n_out for", "n_out * n_in for", {"count_params"}, "biases not counted"),
    ("forward-first-activation", 'params[f"b{l}"], activation)', 'params[f"b{l}"], activations[0])',
     {"forward"}, "the first activation used for every layer"),
    ("forward-no-A0", 'cache = {"A0": X}', "cache = {}", {"forward"}, None),
]


@pytest.mark.parametrize("mid,old,new,broken,mistake", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_one_mistake_loses_exactly_its_functions(course, mid, old, new, broken, mistake):
    source = mutate(reference_source("forward"), old, new)
    result = course.grade({"forward.py": source}, ["forward"])
    assert_loses_exactly(result, broken, mistake)
