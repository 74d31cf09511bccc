"""Hidden twins: every visible check also runs on fresh inputs when the instructor grades.

A visible check's expected values are frozen into the student template, so a module that only
replays them (`if x equals the visible input: return the frozen output`) would pass it. At
grading time each visible check therefore has a twin: the same judge on inputs drawn the same
way, with the same values in another order (the rows of each array argument, or of each array in
dict arguments when there is no array argument, shuffled); a call of plain numbers only (an
epoch, layer sizes) gets other numbers of the same kind. The visible check earns its points
only when its twin passes too; a submission whose visible checks pass while their twins fail is
flagged in the class summary as "answers may be hard-coded".

Shuffling keeps every value the check's author chose (points away from a kink, entries of 1e4,
zeros, one-hot rows, probabilities that sum to one), so the twin tests the same thing. A twin
is only made when the judge's expectation can be recomputed from the call alone: for a value
check with a custom expectation, the reference's own output must reproduce that expectation on
the visible inputs (`valid_twin`), or the check has no twin. `grade validate` lists the visible
checks without one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from grader.checks.compare import Tolerance, difference
from grader.model import Call, Check, Fn, ReferenceHandle

TWIN_SUFFIX = " [fresh inputs]"
"""appended to a visible check's name to name its twin (never shown as a check of its own)"""

SEEDS = (7, 11, 13, 0, -1)
"""draws tried until one is valid: three shuffles, then other plain numbers (0: a zero becomes
0.5, -1: it becomes -0.5), for inputs a shuffle cannot change"""


def _shuffled(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same entries, rows shuffled (entries of a single row or a vector shuffled)."""
    if value.ndim == 0 or value.size < 2:
        return value
    if value.ndim >= 2 and value.shape[0] >= 2:
        return value[rng.permutation(value.shape[0])]
    flat = value.reshape(value.shape[0] if value.ndim == 1 else -1)
    return flat[rng.permutation(flat.size)].reshape(value.shape)


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size >= 2


def _float_list(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 2 and all(
        isinstance(v, float) and not isinstance(v, bool) for v in value
    )


def fresh_call(call: Call, seed: int) -> Call:
    """`call` with its float array arguments' rows (or float lists) shuffled.

    Arrays inside dict arguments are shuffled only when the call has no array argument of its
    own: a dict beside an array is often derived from it (a forward pass's cache beside its
    labels), and shuffling both independently would give inputs no correct code can agree on.
    """
    if seed <= 0:
        zero = 0.5 if seed == 0 else -0.5
        return replace(call, args=tuple(_moved(a, zero) for a in call.args),
                       kwargs={k: _moved(v, zero) for k, v in call.kwargs.items()})
    rng = np.random.default_rng(seed)
    values = list(call.args) + list(call.kwargs.values())
    top = any(_is_float_array(v) or _float_list(v) for v in values)

    def fresh(v: Any) -> Any:
        if _is_float_array(v):
            return _shuffled(v, rng)
        if _float_list(v):
            return [v[i] for i in rng.permutation(len(v))]
        if isinstance(v, dict) and not top:
            return {k: _shuffled(x, rng) if _is_float_array(x) else x for k, x in v.items()}
        return v

    return replace(call, args=tuple(fresh(a) for a in call.args),
                   kwargs={k: fresh(v) for k, v in call.kwargs.items()})


def _moved(v: Any, zero: float = 0.5) -> Any:
    """Other numbers of the same kind, for calls a shuffle cannot change: floats times 0.75 (0
    becomes `zero`), positive integers plus one, an all-zero float array evenly spaced values."""
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return v * 0.75 if v != 0.0 else zero
    if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size and not v.any():
        return np.linspace(-1.0, 1.0, v.size + 1)[1:].reshape(v.shape).astype(v.dtype)
    if isinstance(v, dict):
        return {k: _moved(x, zero) for k, x in v.items()}
    if isinstance(v, int) and v >= 1:
        return v + 1
    if isinstance(v, list) and v and all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in v):
        return [x + 1 for x in v]
    return v


def _twin_judge(judge: Any, seed: int) -> Any | None:
    """The judge on fresh inputs, when its expectation can be recomputed from the call."""
    from grader.checks.judges import GRADIENT_ATOL, Clean, Close, Gradient, Part, Sequence, Trajectory, Unchanged

    if isinstance(judge, Unchanged):
        return replace(judge, call=fresh_call(judge.call, seed))
    if isinstance(judge, Clean):
        inner = _twin_judge(judge.inner, seed)
        return None if inner is None else replace(judge, inner=inner)
    if isinstance(judge, Close):
        return Close(fresh_call(judge.call, seed), judge.tol, None, judge.note, judge.mistakes)
    if isinstance(judge, Gradient):
        tol = Tolerance(rtol=judge.max_relative_error, atol=GRADIENT_ATOL, mode="relative")
        return Close(fresh_call(judge.call, seed), tol, None, judge.note)
    if isinstance(judge, Part):
        inner = _twin_judge(judge.inner, seed)
        return None if inner is None else replace(judge, inner=inner)
    if isinstance(judge, Sequence):
        inner = [_twin_judge(j, seed) for j in judge.judges]
        return None if any(j is None for j in inner) else Sequence(tuple(inner))
    if isinstance(judge, Trajectory):
        return replace(judge, call=fresh_call(judge.call, seed))
    return None


def _calls(judge: Any) -> list[Call]:
    from grader.checks.judges import Clean, Part, Sequence

    if isinstance(judge, (Part, Clean)):
        return _calls(judge.inner)
    if isinstance(judge, Sequence):
        return [c for j in judge.judges for c in _calls(j)]
    call = getattr(judge, "call", None)
    return [call] if isinstance(call, Call) else []


def twin_of(check: Check, seed: int) -> Check | None:
    """The twin of a visible check drawn with `seed` (None when its judge cannot have one, or
    when no argument can be shuffled)."""
    judge = _twin_judge(check.judge, seed)
    if judge is None:
        return None
    if all(_same_inputs(a, b) for a, b in zip(_calls(check.judge), _calls(judge))):
        return None
    return replace(check, what=check.what + TWIN_SUFFIX, judge=judge, visible=False)


def find_twin(check: Check, ref: ReferenceHandle, own: Any) -> tuple[int, Check, Any] | None:
    """The first seed of `SEEDS` whose twin is valid (see `valid_twin`), the twin and its
    expected data. `own` is the check's expected data."""
    for seed in SEEDS:
        twin = twin_of(check, seed)
        if twin is None:
            continue
        try:
            data = twin.judge.expected(ref)
        except Exception:  # the reference refuses the shuffled input: try another
            continue
        if isinstance(data, dict) and "value" in data and isinstance(own, dict) and "value" in own:
            data = {**data, "value": _in_form(data["value"], own["value"])}
        if valid_twin(check, twin, ref, own, data):
            return seed, twin, data
    return None


def _same_inputs(a: Call, b: Call) -> bool:
    def plain(v: Any) -> Any:  # a function argument is the same when its source is
        if isinstance(v, Fn):
            return v.source
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    try:
        return difference(plain(list(b.args)), plain(list(a.args)), Tolerance(0.0, 0.0)) is None and \
            difference(plain(dict(b.kwargs)), plain(dict(a.kwargs)), Tolerance(0.0, 0.0)) is None
    except TypeError:
        return False


def _value(judge: Any, data: Any) -> Any:
    """The expected output inside a judge's expected data."""
    from grader.checks.judges import Clean, Part, Sequence, Trajectory

    if isinstance(judge, (Part, Clean)):
        return _value(judge.inner, data)
    if isinstance(judge, Sequence):
        return [_value(j, d) for j, d in zip(judge.judges, data)]
    if isinstance(judge, Trajectory):
        return data["path"]
    return data["value"]


def _reference_value(judge: Any, ref: ReferenceHandle) -> Any:
    """What the reference returns on the judge's calls (the way a twin expects)."""
    from grader.checks.judges import Clean, Part, Sequence, Trajectory, _PartOfReference

    if isinstance(judge, Clean):
        return _reference_value(judge.inner, ref)
    if isinstance(judge, Part):
        return _reference_value(judge.inner, _PartOfReference(ref, judge.index))
    if isinstance(judge, Sequence):
        return [_reference_value(j, ref) for j in judge.judges]
    if isinstance(judge, Trajectory):
        return judge.expected(ref)["path"]
    return ref.call(judge.call)


def valid_twin(check: Check, twin: Check, ref: ReferenceHandle, own: Any, data: Any) -> bool:
    """The twin's way of expecting (the reference's output on the call) gives the check's own
    expectation `own` on the visible inputs (`data` is the twin's expected data).

    A custom expectation (the lecture's rounded values, a numerical gradient) that the
    reference's output does not reproduce within the check's tolerance makes no twin. A judge
    of the arguments only (`Unchanged`) needs nothing recomputed.
    """
    from grader.checks.judges import Unchanged

    if isinstance(twin.judge, Unchanged):
        return True
    tol = _tolerance(twin.judge)
    try:
        wanted = _value(check.judge, own)
        recomputed = _in_form(_reference_value(_rebuild_on(twin.judge, _calls(check.judge)), ref), wanted)
        # Both ways: a custom expectation may be looser (a Python float where the reference
        # returns a 0-d array), and the twin must not be stricter than the check.
        return difference(recomputed, wanted, tol) is None and difference(wanted, recomputed, tol) is None
    except Exception:  # the reference refuses the input, or the data have another form: no twin
        return False


def _in_form(value: Any, like: Any) -> Any:
    """`value` as a Python number where the check's own expectation is one (a custom expectation
    of `float(...)` where the reference returns a 0-d array)."""
    if isinstance(like, (int, float)) and not isinstance(like, bool) and isinstance(value, (np.ndarray, np.number)) \
            and np.ndim(value) == 0:
        return float(value)
    return value


def _tolerance(judge: Any) -> Tolerance:
    from grader.checks.compare import VALUE
    from grader.checks.judges import Clean, Part, Sequence

    if isinstance(judge, (Part, Clean)):
        return _tolerance(judge.inner)
    if isinstance(judge, Sequence):
        return _tolerance(judge.judges[0]) if judge.judges else VALUE
    return getattr(judge, "tol", VALUE)


def _rebuild_on(judge: Any, calls: list[Call]) -> Any:
    """`judge` (a twin judge) with its calls replaced by `calls`, in order."""
    from grader.checks.judges import Clean, Part, Sequence

    pending = list(calls)

    def rebuild(j: Any) -> Any:
        if isinstance(j, (Part, Clean)):
            return replace(j, inner=rebuild(j.inner))
        if isinstance(j, Sequence):
            return Sequence(tuple(rebuild(x) for x in j.judges))
        return replace(j, call=pending.pop(0))

    return rebuild(judge)
