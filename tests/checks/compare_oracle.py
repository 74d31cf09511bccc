"""The comparison as it was before its fast paths (grader/compare.py at d8c8119), kept verbatim
as the oracle of tests/test_compare.py::test_fast_paths_give_the_messages_of_the_plain_implementation."""


from __future__ import annotations

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
    got_f = got.astype(np.float64)
    exp_f = exp.astype(np.float64)
    finite_exp = np.isfinite(exp_f)
    bad_nonfinite = ~finite_exp & (got_f != exp_f) & ~(np.isnan(exp_f) & np.isnan(got_f))
    bad_nonfinite |= finite_exp & ~np.isfinite(got_f)
    if bad_nonfinite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0])
        count = int(bad_nonfinite.sum())
        return (
            f"{where}{count} entr{'y' if count == 1 else 'ies'} not finite where expected "
            f"(e.g. at {list(idx)}: expected {_fmt(exp_f[idx])}, got {_fmt(got_f[idx])})"
        )
    if got.size == 0:
        return None
    g = np.where(finite_exp, got_f, 0.0)
    e = np.where(finite_exp, exp_f, 0.0)
    rel = relative_error(g, e, tol.floor)
    if tol.mode == "relative":
        excess = np.minimum(rel - tol.rtol, np.abs(g - e) - tol.atol)
    else:
        excess = np.abs(g - e) - (tol.atol + tol.rtol * np.abs(e))
    if (excess <= 0).all():
        return None
    bad = int((excess > 0).sum())
    idx = np.unravel_index(int(np.argmax(excess)), excess.shape)
    at = f" at {list(int(i) for i in idx)}" if got.ndim else ""
    return (
        f"{where}{bad} of {got.size} entr{'y' if got.size == 1 else 'ies'} differ{'s' if bad == 1 else ''}; "
        f"worst{at}: expected {_fmt(e[idx])}, got {_fmt(g[idx])} "
        f"(relative error {rel[idx]:.1e})"
    )


def difference(got: Any, expected: Any, tol: Tolerance = Tolerance(), where: str = "",
               names: Sequence[str] = (), context: str = "") -> str | None:
    """`None` if `got` matches `expected` within `tol`, else a message saying how it differs.

    `names`: what the values of an expected tuple are called (a function's returned values, as
    the handout names them), so a message says `dW (the second of the 3 returned values)`
    rather than `[1]`. `where` and `context` say which part of the whole is being compared.
    """
    label = f"{where} ({context}): " if context else f"{where}: " if where else ""
    inner = f"in {where}, {context}" if context and not context.startswith("in ") else context
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"{label}expected a NumPy array of shape {expected.shape}, got {kind_of(got)}"
        return _array_difference(got, expected, tol, label)
    if isinstance(expected, bool):
        bool_array = isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind == "b"
        if isinstance(got, (bool, np.bool_)) or bool_array:
            return None if bool(got) == expected else f"{label}expected {expected}, got {bool(got)}"
        return f"{label}expected {expected} (a bool), got {kind_of(got)}"
    if isinstance(expected, _SCALAR_TYPES):
        if isinstance(got, np.ndarray) and got.shape == ():
            got = got[()]
        if not isinstance(got, _SCALAR_TYPES):
            return f"{label}expected a number, got {kind_of(got)}"
        msg = _array_difference(np.asarray(got), np.asarray(expected), tol, "")
        return None if msg is None else f"{label}expected {_fmt(float(expected))}, got {_fmt(float(got))}"
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
