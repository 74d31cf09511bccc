"""The optimizers assignment: correct work in any style gets full marks, every bug loses exactly
the points of the functions it breaks, with a named hint; trajectories name the mistakes too."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import (
    SUBMISSIONS,
    assert_full_marks,
    assert_loses_exactly,
    assert_zero_without_crashing,
    mutate,
    reference_source,
    template_source,
)


def grade(course, source: str):
    return course.grade({"optimizers.py": source}, ["optimizers"])


def test_reference_gets_full_marks(course):
    result = grade(course, reference_source("optimizers"))
    assert_full_marks(result)


def test_untouched_template_gets_zero_without_crashing(course):
    result = grade(course, template_source("optimizers"))
    assert_zero_without_crashing(result)


@pytest.mark.parametrize("style", ["optimizers_loops", "optimizers_formulas", "optimizers_flat"])
def test_correct_alternative_styles_get_full_marks(course, style):
    result = grade(course, (SUBMISSIONS / style / "optimizers.py").read_text())
    assert_full_marks(result)


ADAM_T = 't = state["t"] + 1'
ADAM_RETURN = 'return new_params, {"m": m, "v": v, "t": t}'
NORM_CHECK = "    if norm > max_norm:\n        scale = max_norm / norm\n"

# (id, text in reference/optimizers.py, replacement, functions that must lose points, mistake named)
MUTATIONS = [
    ("sgd-plus", "{key: W - lr * grads[key] for key, W in params.items()}",
     "{key: W + lr * grads[key] for key, W in params.items()}", {"sgd_update"}, "+ instead of -"),
    ("sgd-in-place", "    return {key: W - lr * grads[key] for key, W in params.items()}",
     "    for key in params:\n        params[key] -= lr * grads[key]\n    return dict(params)",
     {"sgd_update"}, "input modified in place"),
    ("velocity-ones", "return {key: np.zeros_like(W) for key, W in params.items()}\n    ### END SOLUTION\n\n\ndef momentum",
     "return {key: np.ones_like(W) for key, W in params.items()}\n    ### END SOLUTION\n\n\ndef momentum",
     {"init_velocity"}, None),
    ("momentum-no-one-minus-beta", "beta * velocity[key] + (1 - beta) * grads[key]", "beta * velocity[key] + grads[key]",
     {"momentum_update"}, "momentum without (1 - beta)"),
    ("momentum-old-velocity", "{key: W - lr * new_velocity[key] for", "{key: W - lr * velocity[key] for",
     {"momentum_update"}, "step with the old velocity"),
    ("momentum-velocity-not-returned", "return new_params, new_velocity", "return new_params, dict(velocity)",
     {"momentum_update"}, "velocity not returned updated"),
    ("adam-no-bias-correction", "m_hat = m[key] / (1 - beta1**t)", "m_hat = m[key]", {"adam_update"}, None),
    ("adam-no-correction-at-all", "m_hat = m[key] / (1 - beta1**t)  # bias correction: m, v start at 0\n"
     "        v_hat = v[key] / (1 - beta2**t)", "m_hat = m[key]\n        v_hat = v[key]",
     {"adam_update"}, "Adam without bias correction"),
    ("adam-t-after-use", (ADAM_T, ADAM_RETURN), ('t = state["t"]', 'return new_params, {"m": m, "v": v, "t": t + 1}'),
     {"adam_update"}, "t incremented after use"),
    ("adam-t-never-incremented", ADAM_T, 't = state["t"]', {"adam_update"}, None),
    ("adam-t-not-saved", ADAM_RETURN, 'return new_params, {"m": m, "v": v, "t": state["t"]}', {"adam_update"},
     "t not saved in the new state"),
    ("adam-eps-inside", "m_hat / (np.sqrt(v_hat) + eps)", "m_hat / np.sqrt(v_hat + eps)", {"adam_update"},
     "eps inside the square root"),
    ("adam-hat-stored", ADAM_RETURN,
     'return new_params, {"m": {k: m[k] / (1 - beta1**t) for k in m}, "v": {k: v[k] / (1 - beta2**t) for k in v}, '
     '"t": t}', {"adam_update"}, "bias-corrected moments stored in the state"),
    ("adam-state-in-place", ADAM_RETURN, 'state["t"] = t\n    return new_params, {"m": m, "v": v, "t": t}',
     {"adam_update"}, "input modified in place"),
    ("init-adam-t-1", '"t": 0,', '"t": 1,', {"init_adam"}, None),
    ("step-decay-round", "math.floor(epoch / epochs_per_drop)", "round(epoch / epochs_per_drop)", {"step_decay"},
     "round instead of floor"),
    ("step-decay-no-floor", "math.floor(epoch / epochs_per_drop)", "(epoch / epochs_per_drop)", {"step_decay"},
     "no floor (smooth decay)"),
    ("exponential-positive", "math.exp(-k * epoch)", "math.exp(k * epoch)", {"exponential_decay"}, "positive exponent"),
    ("cosine-no-half", "lr_min + 0.5 * (lr0 - lr_min)", "lr_min + (lr0 - lr_min)", {"cosine_annealing"},
     "cosine schedule without the 0.5"),
    ("cosine-no-lr-min", "return float(lr_min + 0.5 * (lr0 - lr_min)", "return float(0.5 * (lr0 - lr_min)",
     {"cosine_annealing"}, "lr_min not added back"),
    ("clip-per-entry", NORM_CHECK + "        return {key: g * scale for key, g in grads.items()}, norm",
     "    clipped = {}\n    for key, g in grads.items():\n        n = math.sqrt(float(np.sum(np.square(g, dtype=np.float64))))\n"
     "        clipped[key] = g * (max_norm / n) if n > max_norm else g.copy()\n    if norm > max_norm:\n"
     "        return clipped, norm", {"clip_by_global_norm"}, "per-entry instead of global clipping"),
    ("clip-always", "    if norm > max_norm:\n        scale", "    if norm > 0:\n        scale", {"clip_by_global_norm"},
     "always scales to max_norm"),
    ("clip-norm-after", "return {key: g * scale for key, g in grads.items()}, norm",
     "return {key: g * scale for key, g in grads.items()}, float(max_norm)", {"clip_by_global_norm"},
     "norm after clipping returned"),
    ("clip-zero-division", "    if norm > max_norm:\n        scale = max_norm / norm",
     "    scale = max_norm / norm\n    if norm > max_norm:", {"clip_by_global_norm"}, None),
]


@pytest.mark.parametrize("mid,old,new,broken,mistake", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_one_mistake_loses_exactly_its_functions(course, mid, old, new, broken, mistake):
    source = reference_source("optimizers")
    for o, n in zip(*((old, new) if isinstance(old, tuple) else ((old,), (new,))), strict=False):
        source = mutate(source, o, n)
    result = grade(course, source)
    assert_loses_exactly(result, broken, mistake)


def test_a_mistake_that_grows_slowly_fails_the_trajectory_at_a_later_step(course):
    # eps inside the square root changes a step by about eps / sqrt(v_hat): invisible at first
    # on the Rosenbrock function, where the gradients are large, then visible along the path.
    source = mutate(reference_source("optimizers"), "m_hat / (np.sqrt(v_hat) + eps)", "m_hat / np.sqrt(v_hat + eps)")
    result = grade(course, source)
    rosen = next(c for c in result.checks if "Rosenbrock" in c.name)
    assert not rosen.passed and rosen.mistake == "eps inside the square root"
    step = int(rosen.message.split("step ")[1].split(" ")[0])
    assert step > 1, rosen.message


@functools.cache
def _checks_module():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "assignments" / "optimizers" / "checks_visible.py"
    spec = importlib.util.spec_from_file_location("optimizers_checks_copy", path)
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    return checks


@settings(max_examples=200)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=8))
def test_the_checks_rosenbrock_gradient_is_scipys_bit_for_bit(x):
    # The checks carry a copy of `scipy.optimize.rosen_der` (importing scipy.optimize costs every
    # run 0.2 s): the paths the students' steps are compared along are the same.
    from scipy.optimize import rosen_der

    point = np.array(x)
    assert np.array_equal(_checks_module().rosen_der(point), rosen_der(point))
