"""Compare what a student returned with what was expected, and say how they differ.

`difference(got, expected, tol)` returns `None` when `got` matches and otherwise a message
for a student: where in the result (`dW`, `["W2"]`), expected vs got shapes, the worst entry
and its relative error. Matching is strict where the API is strict (exact shapes, no
broadcasting, numeric dtypes, NaN or inf only where expected) and lenient where any correct
implementation may differ (list vs tuple, Python vs NumPy scalars, int vs float).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks.returns import position


@dataclass(frozen=True)
class Tolerance:
    """Entry-wise closeness.

    `mode="close"`: `|got - exp| <= atol + rtol * |exp|` (NumPy's `isclose`).
    `mode="relative"`: `|got - exp| / max(floor, |got| + |exp|) <= rtol`, the relative error of
    gradient checking (CS231n's convention), used against numerical gradients; an entry also
    passes when `|got - exp| <= atol`, because central differences carry an absolute rounding
    error (about `eps * |f| / h`, 1e-11 for losses of order 1) that dominates the relative
    error of tiny entries.
    """

    rtol: float = 1e-6
    atol: float = 1e-9
    mode: str = "close"
    floor: float = 1e-8
    extra_keys: bool = False
    """dicts may hold keys beyond the expected ones (e.g. a cache with extra entries)"""


EXACT = Tolerance(rtol=0.0, atol=0.0)

# Default tolerance for value matching against a float64 reference. Correct implementations
# differ only by floating-point rounding in the order of operations (loops vs vectorized,
# einsum, scipy.special.expit, log-sum-exp variants): relative differences of 1e-15..1e-12.
# Every real bug we know changes some entry by far more than 1e-6 relative. atol covers
# entries that should be exactly 0 but come out as 1e-17 through cancellation.
VALUE = Tolerance(rtol=1e-6, atol=1e-9)

# Float32 inputs: a correct implementation may compute in float32 (eps 6e-8); errors grow
# with the length of sums, so we allow 1e-4 relative, still far below any real bug.
FLOAT32 = Tolerance(rtol=1e-4, atol=1e-6)

_SCALAR_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)


def kind_of(value: Any) -> str:
    """A student-facing name for the kind of a value."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, _SCALAR_TYPES):
        return "a number"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return f"a {type(value).__name__}"


def relative_error(got: np.ndarray, expected: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """Entry-wise `|got - exp| / max(floor, |got| + |exp|)`."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return np.abs(got - expected) / np.maximum(floor, np.abs(got) + np.abs(expected))


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _identical_passes(tol: Tolerance) -> bool:
    """Whether entries identical to the expected ones (NaN and inf where expected included)
    always pass `tol`: true for every tolerance that is not negative (or NaN)."""
    return tol.rtol >= 0 and tol.atol >= 0 and (tol.mode != "relative" or tol.floor > 0)


def _array_difference(got: np.ndarray, exp: np.ndarray, tol: Tolerance, where: str) -> str | None:
    if got.shape != exp.shape:
        extra = ""
        if got.ndim == exp.ndim == 2 and got.shape == exp.shape[::-1]:
            extra = " (it looks transposed)"
        elif got.size == exp.size:
            extra = " (same number of entries, arranged differently)"
        return f"{where}expected shape {exp.shape}, got shape {got.shape}{extra}"
    if got.dtype.kind not in "biuf":
        return f"{where}expected numbers, got an array of dtype {got.dtype}"
    if exp.dtype.kind == "b" and got.dtype.kind not in "biu" and not np.all((got == 0) | (got == 1)):
        return f"{where}expected 0/1 (boolean) values"
    # The common case of a correct answer, decided without arithmetic: the same bytes.
    if got.dtype == exp.dtype and _identical_passes(tol) and got.tobytes() == exp.tobytes():
        return None
    got_f = np.asarray(got, dtype=np.float64)  # read only below: no copy when already float64
    exp_f = np.asarray(exp, dtype=np.float64)
    finite_exp = np.isfinite(exp_f)
    finite_got = np.isfinite(got_f)
    if finite_exp.all() and finite_got.all():
        g, e = got_f, exp_f
    else:
        bad_nonfinite = ~finite_exp & (got_f != exp_f) & ~(np.isnan(exp_f) & np.isnan(got_f))
        bad_nonfinite |= finite_exp & ~finite_got
        if bad_nonfinite.any():
            idx = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0])
            count = int(bad_nonfinite.sum())
            return (
                f"{where}{count} entr{'y' if count == 1 else 'ies'} not finite where expected "
                f"(e.g. at {list(idx)}: expected {_fmt(exp_f[idx])}, got {_fmt(got_f[idx])})"
            )
        g = np.where(finite_exp, got_f, 0.0)
        e = np.where(finite_exp, exp_f, 0.0)
    if got.size == 0:
        return None
    diff = np.abs(g - e)
    rel = diff / np.maximum(tol.floor, np.abs(g) + np.abs(e)) if tol.mode == "relative" else None
    if rel is not None:
        excess = np.minimum(rel - tol.rtol, diff - tol.atol)
    else:
        excess = diff - (tol.atol + tol.rtol * np.abs(e))
    if (excess <= 0).all():
        return None
    if rel is None:
        rel = relative_error(g, e, tol.floor)
    bad = int((excess > 0).sum())
    idx = np.unravel_index(int(np.argmax(excess)), excess.shape)
    at = f" at {list(int(i) for i in idx)}" if got.ndim else ""
    return (
        f"{where}{bad} of {got.size} entr{'y' if got.size == 1 else 'ies'} differ{'s' if bad == 1 else ''}; "
        f"worst{at}: expected {_fmt(e[idx])}, got {_fmt(g[idx])} "
        f"(relative error {rel[idx]:.1e})"
    )


_SMALL_INT = 2**62
"""integers below this in size are exact in an int64 array (larger ones take the long way)"""


def _identical(got: Any, exp: Any) -> bool:
    """`got` is `exp` entry for entry, of the same types (so it matches whatever the tolerance,
    when that is not negative): decided without arithmetic, stopping at the first difference."""
    kind = type(exp)
    if type(got) is not kind:
        return False
    if kind is np.ndarray:
        return (got.dtype == exp.dtype and got.shape == exp.shape and exp.dtype.kind in "biuf"
                and got.tobytes() == exp.tobytes())
    if kind is float:
        return got == exp and math.isfinite(exp)
    if kind is list or kind is tuple:
        return len(got) == len(exp) and all(map(_identical, got, exp))
    if kind is dict:
        return got.keys() == exp.keys() and all(_identical(got[k], e) for k, e in exp.items())
    if kind is int:
        return got == exp and -_SMALL_INT < exp < _SMALL_INT
    return (kind is bool or kind is str or exp is None) and got == exp


def _label(where: str, context: str) -> str:
    """The prefix of a message about the part `where` of the whole (`context`)."""
    return f"{where} ({context}): " if context else f"{where}: " if where else ""


def difference(got: Any, expected: Any, tol: Tolerance = Tolerance(), where: str = "",
               names: Sequence[str] = (), context: str = "") -> str | None:
    """`None` if `got` matches `expected` within `tol`, else a message saying how it differs.

    `names`: what the values of an expected tuple are called (a function's returned values, as
    the handout names them), so a message says `dW (the second of the 3 returned values)`
    rather than `[1]`. `where` and `context` say which part of the whole is being compared.
    """
    if _identical(got, expected) and _identical_passes(tol):
        return None  # the common case of a correct answer, whatever its structure
    # The prefix is built only for a message: most comparisons pass.
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"{_label(where, context)}expected a NumPy array of shape {expected.shape}, got {kind_of(got)}"
        return _array_difference(got, expected, tol, _label(where, context))
    if isinstance(expected, bool):
        bool_array = isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind == "b"
        if isinstance(got, (bool, np.bool_)) or bool_array:
            return None if bool(got) == expected else f"{_label(where, context)}expected {expected}, got {bool(got)}"
        return f"{_label(where, context)}expected {expected} (a bool), got {kind_of(got)}"
    if isinstance(expected, _SCALAR_TYPES):
        if isinstance(got, np.ndarray) and got.shape == ():
            got = got[()]
        if not isinstance(got, _SCALAR_TYPES):
            return f"{_label(where, context)}expected a number, got {kind_of(got)}"
        if isinstance(got, float) and isinstance(expected, float) and got == expected and _identical_passes(tol) \
                and math.isfinite(got):
            return None  # the common case, without building arrays (float covers np.float64)
        if _array_difference(np.asarray(got), np.asarray(expected), tol, "") is None:
            return None
        return f"{_label(where, context)}expected {_fmt(float(expected))}, got {_fmt(float(got))}"
    inner = f"in {where}, {context}" if context and not context.startswith("in ") else context
    label = _label(where, context)
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{label}expected {kind_of(expected)}, got {kind_of(got)}"
        named = len(names) == len(expected)
        if len(got) != len(expected):
            listed = f" ({', '.join(names)})" if named else ""
            return f"{label}expected {len(expected)} values{listed}, got {len(got)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=False)):
            if named:
                msg = difference(g, e, tol, names[i], context=position(i, len(expected)))
            else:
                msg = difference(g, e, tol, f"{where}[{i}]", context=inner)
            if msg:
                return msg
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{label}expected a dict with keys {sorted(expected)}, got {kind_of(got)}"
        missing = [k for k in expected if k not in got]
        extra = [] if tol.extra_keys else [k for k in got if k not in expected]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if extra:
                parts.append(f"unexpected keys {extra}")
            return f"{label}{' and '.join(parts)}"
        for k, e in expected.items():
            msg = difference(got[k], e, tol, f"{where}[{k!r}]", context=inner)
            if msg:
                return msg
        return None
    if expected is None:
        return None if got is None else f"{label}expected None, got {kind_of(got)}"
    if isinstance(expected, str):
        return None if got == expected else f"{label}expected {expected!r}, got {got!r}"
    raise TypeError(f"cannot compare against {type(expected).__name__}")
