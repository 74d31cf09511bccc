"""Variants of a call whose reference results a wrong output may equal (for `grader.diagnosis`).

A student's mistake often makes the function compute the right thing on slightly different
inputs: a count one too high (`epoch + 1`), a sign error on one argument (`X @ w - b`,
`Y_hat + Y`), an argument that divides where it should multiply (`lr0 / drop ** k`, or entry by
entry `lr / grads`), a loop that skips the last example, or pairs of a list taken the wrong way
round (`zip(sizes[1:], sizes[:-1])`: the result for the list reversed). Each variant here is the call with
ONE argument changed in such a way; the judges run the reference on it (on the trusted side,
once per run) and the diagnosis names the variant whose result equals the student's.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from grader.checks.compare import Tolerance, difference
from grader.model import PARAMETER_NAMES, Call, ReferenceHandle

NEIGHBOR_MAX = 1000
"""integer arguments up to this are moved by one to name off-by-one mistakes (larger ones, say
5000 epochs, would cost two more runs of the reference for little)"""

NEGATED = "negated"
RECIPROCAL = "reciprocal"
WITHOUT_LAST = "without-last"
REVERSED = "reversed"
CHANGES = (NEGATED, RECIPROCAL, WITHOUT_LAST, REVERSED)
"""the changes of an argument other than a move by one (an int delta)"""


def _is_int(a: Any) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def _is_float(a: Any) -> bool:
    return isinstance(a, (float, np.floating))


def _float_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size > 0 and bool(np.any(a != 0))


def _negated(a: Any) -> Any | None:
    """`-a` for a non-zero float, a float array or a dict of float arrays; else None."""
    if _is_float(a) and a != 0 and np.isfinite(a):
        return -a
    if _float_array(a):
        return -a
    if isinstance(a, dict) and a and all(_float_array(v) for v in a.values()):
        return {k: -v for k, v in a.items()}
    return None


def _invertible(a: Any) -> bool:
    """A float array with no zero and no non-finite entry, not all of them 1 or -1."""
    return (_float_array(a) and bool(np.all(np.isfinite(a))) and bool(np.all(a != 0))
            and bool(np.any(np.abs(a) != 1)))


def _reciprocal(a: Any) -> Any | None:
    """`1 / a` for a float other than 0, 1 and -1, an integer from 2 to `NEIGHBOR_MAX` (or as
    far below 0), a float array without zeros (entry by entry:
    `lr / grads` for `lr * grads`) or a dict of such arrays; else None."""
    if _is_float(a) and np.isfinite(a) and a not in (0.0, 1.0, -1.0):
        return 1.0 / a
    if _is_int(a) and 1 < abs(int(a)) <= NEIGHBOR_MAX:  # `k / epoch` for `k * epoch`
        return 1.0 / int(a)
    if _invertible(a):
        return 1.0 / a
    if isinstance(a, dict) and a and all(_invertible(v) for v in a.values()):
        return {k: 1.0 / v for k, v in a.items()}
    return None


def _slots(call: Call) -> list[tuple[int | str, str, Any]]:
    names = list(PARAMETER_NAMES.get(f"{call.module}.{call.function}", ()))
    slots: list[tuple[int | str, str, Any]] = [
        (i, names[i] if i < len(names) else f"argument {i + 1}", a) for i, a in enumerate(call.args)]
    return slots + [(k, k, a) for k, a in call.kwargs.items()]


def _with(call: Call, changes: dict[int | str, Any]) -> Call:
    args, kwargs = list(call.args), dict(call.kwargs)
    for slot, value in changes.items():
        if isinstance(slot, int):
            args[slot] = value
        else:
            kwargs[slot] = value
    return Call(call.module, call.function, tuple(args), kwargs)


def defaults(ref: ReferenceHandle, call: Call) -> dict[str, Any]:
    """The reference's default arguments that `call` leaves out (a mistake in `drop` shows on a
    call that does not pass it as much as on one that does)."""
    try:
        parameters = list(inspect.signature(ref.function(call)).parameters.values())
    except (TypeError, ValueError, AttributeError):
        return {}
    given = set(call.kwargs) | {p.name for p in parameters[: len(call.args)]}
    return {p.name: p.default for p in parameters
            if p.default is not inspect.Parameter.empty and p.name not in given
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def variants(call: Call, defaults: dict[str, Any] | None = None) -> Iterator[tuple[str, int | str, Call]]:
    """`(argument, change, call)`: `change` is -1 or +1 (an integer argument moved by one), or one
    of `CHANGES`. `defaults` (arguments the call leaves to their default) are changed too, passed
    by name. `REVERSED` reads a list of numbers backwards (one that reads the same both ways has
    no such variant). `WITHOUT_LAST` drops the last entry of a list of numbers, or the last row of
    every array argument that has the same number of rows (examples and their labels together);
    its `argument` then names them all, each in backquotes (`"`X`, `y`"`)."""
    slots = _slots(call)
    for slot, name, a in slots + [(k, k, v) for k, v in (defaults or {}).items()]:
        if _is_int(a) and 0 <= a <= NEIGHBOR_MAX:
            for delta in (-1, 1):
                yield name, delta, _with(call, {slot: int(a) + delta})
        negated = _negated(a)
        if negated is not None:
            yield name, NEGATED, _with(call, {slot: negated})
        reciprocal = _reciprocal(a)
        if reciprocal is not None:
            yield name, RECIPROCAL, _with(call, {slot: reciprocal})
        if isinstance(a, list) and len(a) >= 2 and all(_is_int(v) or _is_float(v) for v in a):
            yield name, WITHOUT_LAST, _with(call, {slot: a[:-1]})
            if a != a[::-1]:
                yield name, REVERSED, _with(call, {slot: a[::-1]})
    rows: dict[int, list[tuple[int | str, str, np.ndarray]]] = {}
    for slot, name, a in slots:
        if isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[0] >= 3:
            rows.setdefault(a.shape[0], []).append((slot, name, a))
    for group in rows.values():
        names = ", ".join(f"`{name}`" for _, name, _ in group)
        yield names, WITHOUT_LAST, _with(call, {slot: a[:-1] for slot, _, a in group})


def reference_variants(ref: ReferenceHandle, call: Call, value: Any, tol: Tolerance) -> list[list[Any]]:
    """`[argument, change, output]` of the reference on every variant of `call` (`variants`) whose
    output differs from `value`; variants the reference refuses are left out. A variant may take
    the reference outside its domain (`1 / beta`): its warnings are nobody's business."""
    out: list[list[Any]] = []
    for name, change, other_call in variants(call, defaults(ref, call)):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                other = ref.call(other_call)
        except Exception:  # the reference refuses the changed argument: nothing to name
            continue
        try:
            if difference(other, value, tol) is not None:
                out.append([name, change, other])
        except TypeError:
            continue
    return out
