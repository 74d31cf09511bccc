"""What a call did besides returning comes back as plain data: its RuntimeWarnings (with NumPy's
default error settings) and whether it used NumPy's global random state."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import unsandboxed
from grader.checks.judges import GLOBAL_RNG, Clean, Close
from grader.isolation.runner import StudentProcess
from grader.model import Call, Effects
from grader.worker import codec

MODULE = b"""
import warnings
import numpy as np
from numpy.random import randn

np.seterr(all="ignore")               # set at import: the grader restores NumPy's defaults per call
warnings.filterwarnings("ignore")     # likewise hidden from nothing


def naive(z):
    return 1 / (1 + np.exp(-z))


def stable(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def silenced(z):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


def many(n):
    for k in range(n):
        warnings.warn(f"warning number {k}", RuntimeWarning)
    warnings.warn("not a runtime warning", UserWarning)
    return n


def draws(n):
    return np.random.normal(size=n)


def seeds(n):
    np.random.seed(0)
    return np.random.default_rng(0).normal(size=n)


def polite(n):
    saved = np.random.get_state()
    np.random.seed(n)
    x = np.random.normal(size=n)
    np.random.set_state(saved)
    return x


def imported(n):
    return randn(n)


def own(n):
    return np.random.default_rng(n).normal(size=n)
"""
HUGE = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])


@pytest.fixture(scope="module")
def worker():
    with StudentProcess({"m.py": MODULE}, unsandboxed()) as p:
        yield p


def effects(worker, function, *args):
    worker.call(Call("m", function, args))
    return worker.last_effects


def test_an_overflow_is_reported_even_when_the_module_silenced_numpy_at_import(worker):
    found = effects(worker, "naive", HUGE)
    assert found == Effects(("RuntimeWarning: overflow encountered in exp (m.py, line 11)",), False)
    assert effects(worker, "stable", HUGE) == Effects()
    # Silenced inside the call itself: the API's "no warning" holds, literally.
    assert effects(worker, "silenced", HUGE) == Effects()
    # Each call is reported on its own: the same warning comes back again, the next call is clean.
    assert effects(worker, "naive", HUGE).warnings and effects(worker, "stable", HUGE) == Effects()


def test_warnings_are_capped_and_only_runtime_warnings_count(worker):
    found = effects(worker, "many", 50)
    assert len(found.warnings) == codec.WARNINGS_CAP
    assert found.warnings[0].startswith("RuntimeWarning: warning number 0 (m.py, line")
    assert not any("not a runtime warning" in w for w in found.warnings)


@pytest.mark.parametrize("function", ["draws", "seeds", "polite", "imported"])
def test_every_use_of_the_global_random_state_is_seen_every_time(worker, function):
    # Twice: a call that seeds the global state puts it back where the previous one left it.
    assert effects(worker, function, 3).global_rng is True
    assert effects(worker, function, 3).global_rng is True
    assert effects(worker, "own", 3).global_rng is False


def test_a_forged_or_oversized_report_is_capped_and_read_strictly():
    header = {"warnings": ["x" * 10_000] * 100 + [7], "global_rng": "no"}
    found, used = codec.reply_effects(header)
    assert len(found) == codec.WARNINGS_CAP and {len(w) for w in found} == {codec.WARNING_CHARS}
    assert used is True  # anything but a plain boolean counts as use
    assert codec.reply_effects({"warnings": "RuntimeWarning", "global_rng": False}) == ((), False)
    assert codec.reply_effects({}) == ((), False)


class _Student:
    """A student handle that returns `value` with `effects` for every call."""

    def __init__(self, value, effects):
        self.value, self.last_effects = value, effects

    def call(self, call, return_args=False):
        return self.value


def test_clean_fails_right_values_with_a_warning_and_names_the_global_state():
    call = Call("m", "f", (1.0,))
    right = {"value": 2.0, "mistakes": []}
    judge = Clean(Close(call), hint="exponentiate only numbers <= 0", mistake="overflow")
    clean = judge.judge(_Student(2.0, Effects()), right)
    assert clean.passed and clean.message == "" and clean.hint is None and clean.mistake is None
    warned = judge.judge(_Student(2.0, Effects(("RuntimeWarning: overflow encountered in exp",))), right)
    assert not warned.passed and warned.mistake == "overflow" and warned.hint == "exponentiate only numbers <= 0"
    assert "the values are right, but NumPy warned: RuntimeWarning: overflow encountered in exp" in warned.message
    wrong = judge.judge(_Student(3.0, Effects(("RuntimeWarning: overflow",))), right)
    assert not wrong.passed and "NumPy also warned: RuntimeWarning: overflow" in wrong.message
    assert Clean(Close(call), warnings=False).judge(_Student(2.0, Effects(("RuntimeWarning: x",))), right).passed
    rng = Clean(Close(call), warnings=False, global_rng=True).judge(_Student(2.0, Effects((), True)), right)
    assert not rng.passed and rng.mistake == GLOBAL_RNG and "global random state" in rng.message
