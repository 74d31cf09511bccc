"""Generic diagnosis: relate a wrong output to the expected one and to the call's inputs.

For every failing check, before any mistake catalog is consulted, `value_findings` looks for
facts that hold between what the student returned and what was expected:

- a constant factor or a sign (`2`, `1/2`, `-1`), or a factor that is a quantity of the inputs
  (the number of rows of an argument, the length of a list, a scalar argument such as `lr`);
- an additive offset by such a quantity (for counts);
- a transposed result, an extra or a missing axis of length 1, the right numbers in another
  shape, a result broadcast to more entries than expected;
- a sequence shifted by one, one entry too few or too many, cumulative instead of per step;
- the result the reference gives for an integer argument one lower or one higher (an
  off-by-one in an epoch or a step count);
- only some entries wrong, in a pattern: one row, one column, the entries where an input is
  zero, negative or not positive, some keys of a dict (all `b*` keys, the last layer's);
- the output equal to a value the reference computes on the way (its intermediates);
- the result, the change from an argument, or every wrong entry of a dict, scaled entry by
  entry by an argument or an intermediate (or its square, or their inverses), or shifted by a
  small multiple of one; one number no input names that scales every entry.

`error_findings` does the same for an exception whose cause is visible from the shapes of the
arguments (a matrix product whose inner dimensions only fit with a transpose).

A finding is a fact about one input (`grader.checks.findings.Finding`); `findings.diagnose`
combines the findings of all failing checks of one function into what the feedback states.
The engine knows no neural network: every name in a finding comes from the call's parameter
names and the reference's own variable names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from grader.checks.cases import arguments, is_number_list
from grader.checks.compare import VALUE, difference
from grader.checks.findings import WHAT, Finding
from grader.checks.returns import RETURN_NAMES
from grader.checks.variants import NEGATED, RECIPROCAL, REVERSED, WITHOUT_LAST
from grader.model import Call

FACTOR_RTOL = 2e-5
"""how exactly a relation must hold, relative to the largest expected entry (float32 work
rounds to about 1e-7; an accidental relation would have to hold on every entry to this)"""

SMALL_CONSTANTS = (-1.0, 2.0, 0.5, -2.0, -0.5, 10.0, 0.1, 100.0, 0.01)
"""factors named even when no input explains them"""

COMBINED_CONSTANTS = (2.0, 0.5, 4.0, 0.25)
"""constants named together with a quantity (`2 * m`, `h / 2`, `4 * h ** 2`)"""

NAMING_RTOL = 1e-6
"""how close a measured factor must be to a named one for that name to be tried (the name is
then checked on every entry, to `FACTOR_RTOL`)"""


# ---------------------------------------------------------------- names of quantities


def _quantities(call: Call) -> list[tuple[str, str, float]]:
    """`(key, words, value)` of the inputs' positive quantities: axis lengths, list lengths,
    scalar arguments. The key names the quantity whatever the input's shape, so the number of
    examples of a 1-d and of a 2-d argument is one quantity (`X.shape[0]`)."""
    out: list[tuple[str, str, float]] = []
    for name, value in arguments(call):
        if isinstance(value, np.ndarray):
            for k, size in enumerate(value.shape):
                out.append((f"{name}.shape[{k}]", f"`{name}.shape[{k}]`", float(size)))
            if value.ndim >= 2:
                out.append((f"{name}.size", f"the number of entries of `{name}`", float(value.size)))
        elif isinstance(value, (list, tuple)) and value and not isinstance(value[0], (list, tuple, dict)):
            out.append((f"len({name})", f"the length of `{name}`", float(len(value))))
            out.append((f"len({name})-1", f"the length of `{name}` minus 1", float(len(value) - 1)))
            if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
                out.append((f"{name}[-1]", f"the last entry of `{name}`", float(value[-1])))
                out.append((f"{name}[0]", f"the first entry of `{name}`", float(value[0])))
        elif isinstance(value, dict) and value:
            out.append((f"len({name})", f"the number of entries of `{name}`", float(len(value))))
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            out.append((name, f"`{name}`", float(value)))
    return [(k, w, q) for k, w, q in out if np.isfinite(q) and q != 0.0]


def _named(q: float) -> bool:
    """A quantity that names a factor or an offset by itself (not 1 or -1, which change nothing
    or only a sign)."""
    return q not in (1.0, -1.0)


# ---------------------------------------------------------------- array relations


def _as_array(x: Any) -> np.ndarray | None:
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return x.astype(np.float64)
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return np.asarray(float(x))
    if isinstance(x, list) and is_number_list(x):  # a list of per-step numbers: a sequence
        return np.asarray(x, dtype=np.float64)
    return None


def _equal(a: np.ndarray, b: np.ndarray, rtol: float = FACTOR_RTOL, slack: float = 0.0) -> bool:
    """`a == b` to `rtol` of the largest entry of `b`, give or take `slack` (see `_rounding`)."""
    if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return False
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-12)
    return bool(np.all(np.abs(a - b) <= rtol * scale + 1e-12 + slack))


def _rounding(start: Any) -> float:
    """How far a step from `start` may be off by rounding alone: a float32 result `start + d`
    holds `d` only to float32's precision of `start` (a step of 1e-3 from weights near 1 keeps
    four digits), so a relation between two such steps holds to that much, not to `FACTOR_RTOL`."""
    values = start.values() if isinstance(start, dict) else [start]
    worst = 0.0
    for v in values:
        if isinstance(v, (np.ndarray, np.floating)) and v.dtype == np.float32 and v.size:
            worst = max(worst, 4 * float(np.finfo(np.float32).eps) * float(np.max(np.abs(v))))
    return worst


def _ratio(got: np.ndarray, exp: np.ndarray, slack: float = 0.0) -> float | None:
    """`r` with `got == r * exp` everywhere (and exp not all zero), else None."""
    if got.shape != exp.shape or got.size == 0:
        return None
    nz = np.abs(exp) > 1e-12 * max(float(np.max(np.abs(exp), initial=0.0)), 1e-300)
    if not nz.any() or not np.isfinite(got).all():
        return None
    r = float(np.median(got[nz] / exp[nz]))
    if r == 0.0 or not np.isfinite(r) or abs(r - 1.0) < 1e-9:
        return None
    return r if _equal(got, r * exp, slack=slack) else None


def _namings(quantities: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """`(key, words, value)` of every way the inputs' quantities name a factor: each quantity
    and its reciprocal, with either sign, the square of each one not negative and its
    reciprocal, the ratio of two axis lengths of one argument, the small constants. The one place
    of these keys and words, also for the findings an exception leaves uncontradicted (a
    quantity's value may then be 0, or NaN for an axis the input lacks)."""
    named: list[tuple[str, str, float]] = []
    for key, name, q in [x for x in quantities if _named(x[2])]:
        # The quantity by name only: stated once for all the function's inputs, its value
        # differs from one input to the next.
        for mult, how in ((1.0, "times"), (-1.0, "times minus")):
            named.append((f"x{'-' if mult < 0 else ''}{key}", f"{how} {name}", mult * q))
            word = "divided by" if mult > 0 else "divided by minus"
            named.append((f"/{'-' if mult < 0 else ''}{key}", f"{word} {name}", mult / q if q else np.inf))
        if q >= 0:
            named.append((f"x{key}^2", f"times {name} squared", q * q))
            named.append((f"/{key}^2", f"divided by {name} squared", 1.0 / (q * q) if q else np.inf))
    axes = [(k, w, q) for k, w, q in quantities if ".shape[" in k]  # lengths 1 included: a batch of one
    for ka, wa, qa in axes:  # a mean over the wrong axis of one argument: n_a / n_b
        for kb, wb, qb in axes:
            if ka != kb and ka.split(".shape[")[0] == kb.split(".shape[")[0] and qa != qb:
                named.append((f"x{ka}/{kb}", f"times {wa} divided by {wb}", qa / qb))
    for c in SMALL_CONSTANTS:
        named.append((f"x{c:g}", "with the opposite sign" if c == -1.0 else f"times {_num(c)}", c))
    # A quantity with a factor of 2 (or 4) about it: `/ m` where `/ (2 * m)` belongs, `* (2 * h)`
    # where `/ (2 * h)` does (the expected one times 4 `h` squared). Last: a plain naming of the
    # same number is kept first.
    for key, name, q in [x for x in quantities if _named(x[2]) and x[2] > 0]:
        for c in COMBINED_CONSTANTS:
            named.append((f"x{c:g}*{key}", f"times {_num(c)} times {name}", c * q))
            named.append((f"x{c:g}/{key}", f"times {_num(c)} divided by {name}", c / q))
            named.append((f"x{c:g}*{key}^2", f"times {_num(c)} times {name} squared", c * q * q))
            named.append((f"x{c:g}/{key}^2", f"times {_num(c)} divided by {name} squared", c / (q * q)))
    return named


def _name_factor(r: float, quantities: list[tuple[str, str, float]],
                 rtol: float = NAMING_RTOL) -> list[tuple[str, str, float]]:
    """`(key, words, value)` for every way to name a factor within `rtol` of `r` (`_namings`; the
    caller checks that `value` itself relates the arrays: `r` may carry the rounding of a
    numerical expected value, or of a float32 step)."""
    return [(key, words, c) for key, words, c in _namings(quantities)
            if c != 0 and np.isfinite(c) and abs(r - c) <= rtol * abs(c)]


UNNAMED_LEFT = 0.01
"""an unnamed factor must explain the whole difference: what it leaves is under this share of it"""


def _unnamed(r: float, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[str, str, float]]:
    """`r` by its value alone (key `x?`), whether or not a quantity names it: one number that
    scales every entry, stated only for at least two non-zero expected numbers in all, when it
    is not within 0.1% of 1 and leaves less than `UNNAMED_LEFT` of the difference unexplained.
    A mistake in a normalising constant (Adam's `1 + beta1**t` for `1 - beta1**t`) scales the
    result by a number no input names, and a different one on each input."""
    if not np.isfinite(r) or abs(r - 1.0) < 1e-3 or not _several(e for _, e in pairs):
        return []
    for g, e in pairs:
        if not np.max(np.abs(g - r * e), initial=0.0) <= UNNAMED_LEFT * np.max(np.abs(g - e), initial=0.0):
            return []
    # Not "that no input names": on this input one may, and not on the others.
    return [("x?", f"times {r:.4g}, one number for every entry (on another input it may be another number)", r)]


def _num(q: float) -> str:
    return str(int(q)) if float(q).is_integer() else f"{q:g}"


def _shape_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    """Keys and facts when the shapes differ."""
    out: list[tuple[str, str]] = []
    gs, es = got.shape, exp.shape
    if got.ndim == 2 and gs == es[::-1] and _equal(got.T, exp):
        out.append(("transposed", f"{what} is the expected result transposed: shape {gs} instead of {es}"))
    squeezed_g = tuple(s for s in gs if s != 1)
    squeezed_e = tuple(s for s in es if s != 1)
    if got.size == exp.size and squeezed_g == squeezed_e and got.ndim != exp.ndim:
        if _equal(got.reshape(es), exp):
            if got.ndim > exp.ndim:
                out.append(("extra-axis", f"{what} has the right numbers but an extra axis of length 1: "
                            f"shape {gs} instead of {es} (what `keepdims=True` or `reshape(1, -1)` gives)"))
            else:
                out.append(("missing-axis", f"{what} has the right numbers but lacks an axis of length 1: "
                            f"shape {gs} instead of {es}"))
    elif got.size == exp.size and gs != es and not out and _equal(got.reshape(es), exp):
        out.append(("reshaped", f"{what} has the right numbers in the wrong shape: {gs} instead of {es}"))
    if got.size > exp.size and got.ndim == exp.ndim + 1 and exp.ndim >= 1 and es[0] in gs:
        out.append(("broadcast", f"{what} has shape {gs} where {es} was expected: NumPy broadcast two arrays "
                    f"against each other (an array of shape {es} meets one of shape ({es[0]}, 1) and gives "
                    f"({es[0]}, {es[0]}))" if gs == (es[0], es[0]) else
                    f"{what} has shape {gs} where {es} was expected: more entries than expected, "
                    "as when NumPy broadcasts arrays of different shapes against each other"))
    elif got.size > exp.size and got.ndim == exp.ndim == 2 and 1 in es and gs[0] == gs[1] == max(es):
        out.append(("broadcast", f"{what} has shape {gs} where {es} was expected: NumPy broadcast an array of "
                    f"shape ({max(es)},) against one of shape ({max(es)}, 1)"))
    return out


def _where_fact(what: str, name: str, label: str) -> str:
    """`name` is an argument's name, or words already quoted (a value of the reference's). No
    counts: the fact is stated once for all the function's failing inputs."""
    quoted = name if "`" in name else f"`{name}`"
    return f"{what} is wrong only where {quoted} {label}, and right everywhere else: look at that case"


def _where_keys(wrong: np.ndarray, arr: np.ndarray, name: str, words: str, what: str) -> list[tuple[str, str]]:
    """`(key, fact)` for every relation of `arr`'s entries (`_RELATIONS`) that the wrong entries
    follow (right ones may be there too, where the mistake happens to give the right number);
    one whose mask is every entry only fails to contradict (key "~")."""
    out = []
    for relation, label, test in _RELATIONS:
        mask = test(arr)
        if mask.any() and not (wrong & ~mask).any():
            key = f"where:{name}{relation}" + ("" if not mask.all() else "~")
            out.append((key, _where_fact(what, words, label)))
    return out


_RELATIONS = (
    ("==0", "is 0", lambda a: a == 0), ("!=0", "is not 0", lambda a: a != 0), ("<0", "is negative", lambda a: a < 0),
    (">0", "is positive", lambda a: a > 0), ("<=0", "is 0 or negative", lambda a: a <= 0),
    (">=0", "is 0 or positive", lambda a: a >= 0),
)
"""`(key, words, mask)` of the relations of an argument's entries that a pattern of wrong entries may follow"""


def _wrong_mask(got: np.ndarray, exp: np.ndarray) -> np.ndarray:
    scale = max(float(np.max(np.abs(exp), initial=0.0)), 1e-12)
    wrong = ~(np.abs(got - exp) <= FACTOR_RTOL * scale + 1e-12)
    return wrong | ~np.isfinite(got)


def _pattern_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    """Keys and facts when only some entries of a same-shaped result are wrong."""
    if got.shape != exp.shape or got.size == 0:
        return []
    wrong = _wrong_mask(got, exp)
    n_wrong = int(wrong.sum())
    if n_wrong == 0:
        return []
    out: list[tuple[str, str]] = []
    for name, value in arguments(call):
        arr = _as_array(value)
        if arr is not None and arr.shape == got.shape:
            # `diagnose` states the narrowest relation that holds on every input
            out += _where_keys(wrong, arr, name, name, what)
    if n_wrong < got.size and n_wrong >= 2 and np.isfinite(got).all():
        r = _ratio(got[wrong], exp[wrong])
        if r is not None:
            out += [(f"wrongfactor{key}", f"{what} is right except some entries, and every wrong entry is exactly "
                     f"the expected one {words}") for key, words, c in
                    _name_factor(r, _quantities(call)) + _unnamed(r, [(got[wrong], exp[wrong])])
                    if _equal(got[wrong], c * exp[wrong])]
    if 2 <= n_wrong < got.size and np.isfinite(got).all():
        v = float(np.median(got[wrong]))
        if _equal(got[wrong], np.full(n_wrong, v), slack=FACTOR_RTOL * max(float(np.max(np.abs(exp))), 1e-12)):
            out.append((f"wrongvalue{v:.6g}", f"{what} is right except some entries, and every wrong entry is "
                        f"{v:.6g}"))
    if n_wrong == got.size or got.size < 2:  # every entry wrong: no pattern of rows or entries
        return out
    if got.ndim == 2 and got.shape[0] >= 2:
        rows = np.flatnonzero(wrong.any(axis=1))
        if rows.size == 1 and wrong[rows[0]].sum() == wrong.sum():
            which = "last" if rows[0] == got.shape[0] - 1 else ("first" if rows[0] == 0 else f"number {rows[0] + 1}")
            out.append((f"row:{which}", f"{what} is right except in its {which} row (row index {rows[0]})"))
    if got.ndim == 2 and got.shape[1] >= 2:
        cols = np.flatnonzero(wrong.any(axis=0))
        if cols.size == 1:
            which = "last" if cols[0] == got.shape[1] - 1 else ("first" if cols[0] == 0 else f"number {cols[0] + 1}")
            out.append((f"column:{which}", f"{what} is right except in its {which} column (column index {cols[0]})"))
    if got.ndim == 1 and got.size >= 3:
        idx = np.flatnonzero(wrong)
        if idx.size == 1 and idx[0] in (0, got.size - 1):
            which = "first" if idx[0] == 0 else "last"
            out.append((f"entry:{which}", f"{what} is right except its {which} entry"))
    return out


def _sequence_findings(got: np.ndarray, exp: np.ndarray, what: str) -> list[tuple[str, str]]:
    """Keys and facts for one-dimensional results (a sequence of per-step values)."""
    if got.ndim != 1 or exp.ndim != 1 or exp.size < 2:
        return []
    out: list[tuple[str, str]] = []
    n, k = exp.size, got.size
    if k == n - 1 and _equal(got, exp[:-1]):
        out.append(("one-short", f"{what} stops one step early: {k} entries where {n} were expected; "
                    f"the first {k} are right"))
    if k == n + 1 and _equal(got[:-1], exp):
        out.append(("one-long", f"{what} goes one step too far: {k} entries where {n} were expected; "
                    f"the first {n} are right"))
    if k == n - 1 and _equal(got, exp[1:]):
        out.append(("drops-first", f"{what} misses the first entry: it equals the expected sequence from its "
                    "second entry on"))
    if k == n and n >= 3 and _equal(got[1:], exp[:-1]) and not _equal(got, exp):
        out.append(("shifted-later", f"{what} is shifted by one step: each entry is the expected one of the "
                    "step before"))
    if k == n and n >= 3 and _equal(got[:-1], exp[1:]) and not _equal(got, exp):
        out.append(("shifted-earlier", f"{what} is shifted by one step: each entry is the expected one of the "
                    "step after"))
    # Also one step short or long: on another input the same stopping condition may cut more
    # (the more precise fact is stated instead where every input shows it, `findings.IMPLIED`).
    if 1 <= k < n and _equal(got, exp[:k]):
        out.append(("stops-early", f"{what} stops too early: {k} entries where {n} were expected; "
                    f"the first {k} are right (a stopping condition that fires too soon)"))
    if k > n and _equal(got[:n], exp):
        out.append(("goes-on", f"{what} goes on too long: {k} entries where {n} were expected; "
                    f"the first {n} are right (a stopping condition that fires too late or never)"))
    if k == n and n >= 2 and _equal(got, np.cumsum(exp)):
        out.append(("cumulative", f"{what} is the running total of the expected per-step values"))
    if k == n and n >= 2 and _equal(np.cumsum(got), exp):
        out.append(("per-step", f"{what} holds per-step values where running totals were expected"))
    return out


def _zero_findings(got: np.ndarray, exp: np.ndarray, what: str) -> list[tuple[str, str]]:
    """Every entry is exactly 0 where the expected result is not all zeros (a sum over an empty
    slice, `f(x + h) - f(x + h)`): stated as the fact alone, as its causes are many."""
    if got.size == 0 or np.any(got) or not np.any(exp[np.isfinite(exp)]):
        return []
    # one wording for a number and an array: the same fact on inputs of either kind
    return [("zeros", f"{what} is exactly 0 everywhere, where the expected one is not")]


def _factor_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    r = _ratio(got, exp)
    if r is None:
        return []
    return [(f"factor{key}", f"{what} is exactly the expected one {words}") for key, words, c in
            _name_factor(r, _quantities(call)) + _unnamed(r, [(got, exp)]) if _equal(got, c * exp)]


def _offset_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    """The same number added to every entry: 1, a small constant or a quantity of the inputs."""
    if got.shape != exp.shape or got.size == 0 or not np.isfinite(got).all():
        return []
    diff = got - exp
    d = float(np.median(diff))
    if d == 0 or not np.isfinite(d) or not _equal(got, exp + d):
        return []
    out = []
    every = "" if got.shape == () else "every entry of "
    for key, name, q in [("1", "1", 1.0), ("0.5", "0.5", 0.5), ("2", "2", 2.0), *filter(lambda x: _named(x[2]),
                                                                                          _quantities(call))]:
        for sign, word in ((1.0, "plus"), (-1.0, "minus")):
            if abs(d - sign * q) <= NAMING_RTOL * abs(q) and _equal(got, exp + sign * q):
                key_ = f"offset{'+' if sign > 0 else '-'}{key}"
                out.append((key_, f"{every}{what} is the expected one {word} {name}"))
    return out


AFFINE_SLOPES = (-1.0, 2.0, 0.5, -2.0, -0.5)
"""slopes of `got = a * expected + c` that `_affine_findings` names (1 is an offset, see
`_offset_findings`)"""

AFFINE_OFFSETS = (1.0, -1.0, 2.0, -2.0, 0.5, -0.5)
"""offsets `c` that `_affine_findings` names (0 is a factor, see `_factor_findings`)"""


def _affine_findings(got: np.ndarray, exp: np.ndarray, what: str) -> list[tuple[str, str]]:
    """Every entry is a small constant times the expected one plus another (`2 - e`: a `+`
    where `1 - t ** 2` has a `-`). Only on at least three distinct expected numbers spread wide
    enough that the named slopes (0.5 apart at least) cannot both fit them: the two constants
    are read off the lowest and the highest expected entry, then checked on every entry."""
    if got.shape != exp.shape or not np.isfinite(got).all() or np.unique(exp).size < 3:
        return []
    e, g = exp.ravel(), got.ravel()
    lo, hi = int(np.argmin(e)), int(np.argmax(e))
    a = (g[hi] - g[lo]) / (e[hi] - e[lo])
    c = g[lo] - a * e[lo]
    tol = FACTOR_RTOL * (float(np.max(np.abs(g))) + 1.0)
    if not e[hi] - e[lo] > 40 * tol:  # 0.5 * spread: a wrong slope would miss by 20 times the tolerance
        return []
    out = []
    for slope in AFFINE_SLOPES:
        for off in AFFINE_OFFSETS:
            if abs(a - slope) <= 1e-3 and abs(c - off) <= 1e-3 and _equal(got, slope * exp + off,
                                                                          slack=FACTOR_RTOL):
                if slope == -1.0:
                    words = f"{_num(off)} minus the expected one"
                else:
                    words = f"{_num(slope)} times the expected one {'plus' if off > 0 else 'minus'} {_num(abs(off))}"
                out.append((f"affine{slope:g},{off:g}", f"every entry of {what} is exactly {words}"))
    return out


def _step_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    """The change from an argument of the result's shape (`new - old`) off by a named factor:
    a step taken the wrong way, or scaled, while the starting point is right."""
    out = []
    for name, value in arguments(call):
        if not _is_start(value):  # a float (an array of weights, a learning rate): not a count
            continue
        old = _as_array(value)
        if old is None or old.shape != got.shape:
            continue
        slack = _rounding(value)
        r = _ratio(got - old, exp - old, slack)
        if r is None:
            continue
        out += [(f"step:{name}{key}", _step_fact(what, name, words)) for key, words, c in
                _name_factor(r, _quantities(call), _naming_rtol(slack, [exp - old]))
                + _unnamed(r, [(got - old, exp - old)])
                if _equal(got - old, c * (exp - old), slack=slack)]
    return out


def _product_findings(got: np.ndarray, call: Call) -> list[tuple[str, str]]:
    """The result equals a product of two matrix arguments, one of them transposed or not."""
    out = []
    arrays = _arrays(call)
    for na, a in arrays:
        for nb, b in arrays:
            if a is b:
                continue
            for text, left, right in ((f"{na} @ {nb}", a, b), (f"{na} @ {nb}.T", a, b.T), (f"{na}.T @ {nb}", a.T, b)):
                if left.shape[1] == right.shape[0] and (left.shape[0], right.shape[1]) == got.shape \
                        and _equal(got, left @ right):
                    out.append((f"wrote:{text}", f"{WHAT} equals `{text}`"))
    return out


def _leaf_findings(got: Any, exp: Any, what: str, call: Call, scope: str, strong: bool) -> list[Finding]:
    g, e = _as_array(got), _as_array(exp)
    if g is None or e is None:
        return []
    pairs: list[tuple[str, str]] = []
    if g.shape != e.shape:
        pairs += _shape_findings(g, e, WHAT, call)
        pairs += _sequence_findings(g, e, WHAT)
    else:
        if g.ndim == 2 and g.shape[0] == g.shape[1] >= 2 and _equal(g.T, e) and not _equal(g, e):
            pairs.append(("transposed", f"{WHAT} is the expected result transposed (a square matrix, so its "
                          "shape could not show it)"))
        pairs += _zero_findings(g, e, WHAT)
        pairs += _factor_findings(g, e, WHAT, call)
        pairs += _product_findings(g, call) if g.ndim == 2 else []
        pairs += _offset_findings(g, e, WHAT, call)
        pairs += _affine_findings(g, e, WHAT)
        pairs += _step_findings(g, e, WHAT, call)
        pairs += _sequence_findings(g, e, WHAT)
        pairs += _pattern_findings(g, e, WHAT, call)
    # A key ending in "~" only fails to contradict its fact (an input of one entry): not proof.
    return [Finding(key.rstrip("~"), text, scope, not key.endswith("~"), strong and _rests_on_several(key, g, e),
                    subject=what) for key, text in pairs]


SEQUENCE_KEYS = ("one-short", "one-long", "drops-first", "shifted-later", "shifted-earlier", "stops-early",
                 "goes-on", "cumulative", "per-step")
"""keys of `_sequence_findings`"""

INFORMATIVE_BITS = 8.0
"""how much an equality must rest on to prove a fact alone: about 1 in 256 for a coincidence"""


def _numbers(x: Any) -> list[float]:
    if isinstance(x, dict):
        return [v for value in x.values() for v in _numbers(value)]
    if isinstance(x, (list, tuple)) and not is_number_list(x):
        return [v for value in x for v in _numbers(value)]
    a = _as_array(x)
    return [] if a is None else [float(v) for v in a.ravel()]


def informative(x: Any) -> bool:
    """Whether equal to `x` is unlikely by chance: several numbers, carrying at least
    `INFORMATIVE_BITS` together. A number with many digits counts for 20 bits; a round one (a
    multiple of 1/2 up to 100: counts, labels, weights of a perceptron) for the log2 of how many
    distinct values the result holds, so `[0.5, -1.0]` or a 0/1 vector of four says little."""
    values = _numbers(x)
    if len(values) < 2:
        return False
    distinct = len(set(values))
    bits = 0.0
    for v in values:
        round_ = np.isfinite(v) and abs(v) <= 100 and float(2 * v).is_integer()
        bits += float(np.log2(max(2, distinct))) if round_ else 20.0
    return bits >= INFORMATIVE_BITS


def _rests_on_several(key: str, got: np.ndarray, exp: np.ndarray) -> bool:
    """Whether a finding rests on several numbers: a pattern on several wrong and several right
    entries, a sequence relation on an informative result, any other relation on several
    non-zero expected entries."""
    if key in SEQUENCE_KEYS:
        return informative(got)
    if key.startswith(("where:", "row:", "column:", "entry:", "wrongfactor", "wrongvalue")):
        scale = max(float(np.max(np.abs(exp), initial=0.0)), 1e-12)
        wrong = int(np.sum(~(np.abs(got - exp) <= FACTOR_RTOL * scale + 1e-12)))
        return wrong >= 2 and got.size - wrong >= 2
    return exp.size > 1 and int(np.count_nonzero(exp)) > 1


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def part_subject(index: int, scope: str = "") -> str:
    """The subject of a finding about part `index` of a returned tuple (and `scope` within it)."""
    return _what(f"[{index}]") + (f" {scope}" if scope else "")


def _index(scope: str) -> int | None:
    """`"[1]"` -> 1: the returned value a scope is about; None for another scope."""
    m = re.fullmatch(r"\[(\d+)\]", scope)
    return int(m.group(1)) if m else None


def _what(scope: str) -> str:
    """`"[1]"` -> `"your second returned value"`, `"['W1']"` -> `"your ['W1']"`."""
    i = _index(scope)
    if i is not None and i < len(_ORDINALS):
        return f"your {_ORDINALS[i]} returned value"
    return f"your {scope}" if scope else "your result"


def _differing(got: Any, exp: Any, scope: str = "") -> Iterable[tuple[str, Any, Any]]:
    """`(scope, got, expected)` of the parts that differ, one level into tuples and dicts."""
    if isinstance(exp, (list, tuple)) and isinstance(got, (list, tuple)) and len(got) == len(exp) \
            and not is_number_list(exp):
        for i, (g, e) in enumerate(zip(got, exp)):
            if not _same(g, e):
                yield f"{scope}[{i}]", g, e
        return
    yield scope, got, exp


def _same(g: Any, e: Any) -> bool:
    try:
        return difference(g, e, VALUE) is None
    except (TypeError, ValueError):  # values of kinds that do not compare (an array and a str)
        return False


def _numbered(keys: Iterable[Any]) -> dict[str, set[int]]:
    """`{prefix: numbers}` of keys like `"W1"`, `"b12"`."""
    out: dict[str, set[int]] = {}
    for k in keys:
        m = re.fullmatch(r"([A-Za-z_]+)(\d+)", str(k)) if isinstance(k, str) else None
        if m:
            out.setdefault(m.group(1), set()).add(int(m.group(2)))
    return out


def _key_set_findings(got: dict, exp: dict, what: str, scope: str) -> list[Finding]:
    """Numbered keys missing or extra at one end of the expected numbers, the same for every
    prefix (`W3` and `b3` missing: the last layer's; `W0` and `b0` extra: one below the first)."""
    missing, extra = set(exp) - set(got), set(got) - set(exp)
    if not set(got) & set(exp):  # nothing in common (an empty dict): no pattern to name
        return []
    if not (missing or extra) or not all(isinstance(k, str) for k in missing | extra):
        return []
    have, gone, more = _numbered(exp), _numbered(missing), _numbered(extra)
    if set(gone) | set(more) > set(have) or len(_numbered(missing | extra)) < 1:
        return []
    if len(missing) + len(extra) != sum(len(v) for v in gone.values()) + sum(len(v) for v in more.values()):
        return []  # some key that is not numbered: no pattern of numbers
    ends = set()
    for prefix, numbers in have.items():
        lo, hi = min(numbers), max(numbers)
        g, x = gone.get(prefix, set()), more.get(prefix, set())
        if g and x:
            return []
        if g == set(range(hi - len(g) + 1, hi + 1)) and g:
            ends.add(("lacks", "last", len(g)))
        elif g == set(range(lo, lo + len(g))) and g:
            ends.add(("lacks", "first", len(g)))
        elif x == set(range(hi + 1, hi + 1 + len(x))) and x:
            ends.add(("extra", "past the last", len(x)))
        elif x == set(range(lo - len(x), lo)) and x:
            ends.add(("extra", "below the first", len(x)))
        else:  # this kind of entry changed otherwise, or not at all: not one pattern for all
            return []
    if len(ends) != 1:
        return []
    ((how, end, n),) = ends
    listed = ", ".join(f"`{k}`" for k in sorted(map(str, missing | extra)))
    if how == "lacks":
        numbers = "number" if n == 1 else f"{n} numbers"
        text = (f"{WHAT} lacks the {end} {numbers} of every kind of entry ({listed}), as when a loop over "
                "the numbers stops or starts a step off")
    else:
        text = (f"{WHAT} has extra entries numbered {end} ({listed}), as when a loop over the numbers "
                "starts or stops a step off")
    return [Finding(f"keyset:{how}:{end}:{n}", text, scope, subject=what)]


def _dict_findings(got: dict, exp: dict, what: str, call: Call, scope: str) -> list[Finding]:
    """Facts about dict results: which keys differ, and a factor common to all of them."""
    if set(got) != set(exp):
        return _key_set_findings(got, exp, what, scope)
    wrong = [k for k in exp if not _same(got[k], exp[k])]
    if not wrong:
        return []
    out: list[Finding] = []
    keys = list(exp)
    if len(wrong) < len(keys) and len(keys) >= 3:
        prefixes = {re.sub(r"\d+$", "", str(k)) for k in wrong}
        numbers = {re.findall(r"\d+$", str(k))[0] if re.findall(r"\d+$", str(k)) else "" for k in wrong}
        listed = ", ".join(f"`{k}`" for k in wrong)
        if len(prefixes) == 1:
            p = prefixes.pop()
            same_prefix = [k for k in keys if re.sub(r"\d+$", "", str(k)) == p]
            if sorted(map(str, same_prefix)) == sorted(map(str, wrong)) and len(same_prefix) >= 2:
                out.append(Finding(f"keys:{p}*", f"in {WHAT}, exactly the `{p}` entries are wrong ({listed}); "
                                   "the others are right", scope, subject=what))
        all_numbers = [re.findall(r"\d+$", str(k)) for k in keys]
        if all(all_numbers) and len(numbers) == 1:
            last = max(int(n[0]) for n in all_numbers)
            first = min(int(n[0]) for n in all_numbers)
            (num,) = numbers
            with_num = [k for k in keys if re.findall(r"\d+$", str(k)) == [num]]
            if sorted(map(str, with_num)) == sorted(map(str, wrong)) and last > first:
                which = "last" if int(num) == last else ("first" if int(num) == first else f"number {num}")
                out.append(Finding(f"keys:{which}-number", f"in {WHAT}, only the entries numbered {num} "
                                   f"(the {which}) are wrong ({listed}); the others are right", scope, subject=what))
        if not out and len(wrong) == 1:
            out.append(Finding(f"keys:only-{wrong[0]}", f"in {WHAT}, only `{wrong[0]}` is wrong; the others "
                               "are right", scope, strong=False, subject=what))
    out += _dict_relations(got, exp, wrong, len(wrong) < len(keys), what, call, scope)
    return out


def _dict_relations(got: dict, exp: dict, wrong: list, some_right: bool, what: str, call: Call,
                    scope: str) -> list[Finding]:
    """A factor common to every wrong entry; the same for the change from a dict argument with
    the same keys (`new - old`); the wrong numbers only where a dict argument's entry is 0, ..."""
    pairs = [(_as_array(got[k]), _as_array(exp[k])) for k in wrong]
    if any(g is None or e is None or g.shape != e.shape for g, e in pairs):
        return []
    which = "every wrong entry" if some_right else "every entry"
    out = [Finding(f"factor{key}", f"in {WHAT}, {which} is exactly the expected one {words}", scope, subject=what)
           for key, words in _common_factor(pairs, call)]
    for name, value in arguments(call):
        if isinstance(value, dict) and set(value) == set(exp):
            olds = [_as_array(value[k]) for k in wrong]
            if any(o is None or o.shape != g.shape for o, (g, _) in zip(olds, pairs)):
                continue
            steps = [(g - o, e - o) for o, (g, e) in zip(olds, pairs)]
            out += [Finding(f"step:{name}{key}", _step_fact(what, name, words), scope, subject=what)
                    for key, words in _common_factor(steps, call, _rounding(value))]
            out += _dict_where(pairs, olds, name, what, scope)
    return out


def _common_factor(pairs: list[tuple[np.ndarray, np.ndarray]], call: Call,
                   slack: float = 0.0) -> list[tuple[str, str]]:
    """`(key, words)` of a named factor `c` with `got == c * expected` on every pair."""
    ratios = [_ratio(g, e, slack) for g, e in pairs]
    if not ratios or None in ratios:
        return []
    r = float(ratios[0])
    named = _name_factor(r, _quantities(call), _naming_rtol(slack, [e for _, e in pairs]))
    return [(key, words) for key, words, c in named + _unnamed(r, pairs)
            if all(_equal(g, c * e, slack=slack) for g, e in pairs)]


def _naming_rtol(slack: float, expected: list[np.ndarray]) -> float:
    """How close a measured factor must be to a named one, when the relation holds only to
    `slack` (`_rounding`): the ratio carries that rounding, relative to the expected numbers."""
    if slack == 0.0:
        return NAMING_RTOL
    scale = max((float(np.max(np.abs(e), initial=0.0)) for e in expected), default=0.0)
    return max(NAMING_RTOL, 4 * slack / scale) if scale > 0 else NAMING_RTOL


def _step_fact(what: str, name: str, words: str) -> str:
    return (f"{what} changes `{name}` by exactly the expected change {words} (what you return minus "
            f"`{name}`, compared with what should be returned minus `{name}`)")


def _dict_where(pairs: list[tuple[np.ndarray, np.ndarray]], olds: list[np.ndarray], name: str, what: str,
                scope: str) -> list[Finding]:
    """The wrong numbers of every wrong entry lie where `name`'s entry is 0 (negative, ...)."""
    wrongs = [_wrong_mask(g, e) for g, e in pairs]
    out = []
    for relation, label, test in _RELATIONS:
        masks = [test(o) for o in olds]
        if all(not (w & ~m).any() for w, m in zip(wrongs, masks)) and any(m.any() for m in masks):
            proven = any(not m.all() for m in masks)
            n_wrong = sum(int(w.sum()) for w in wrongs)
            n_right = sum(w.size for w in wrongs) - n_wrong
            out.append(Finding(f"where:{name}{relation}", _where_fact(what, f"{name}[...]", label),
                               scope, proven, n_wrong >= 2 and n_right >= 2, subject=what))
    return out


# ---------------------------------------------------------------- relations through a value


POWERS = ((1, "times {q}"), (-1, "divided by {q}"), (2, "times {q} squared"), (-2, "divided by {q} squared"))
"""how a value may scale the result entry by entry (`lr * error / x` for `lr * error * x`: the
expected one divided by `x` squared)"""

ADDED = (1.0, -1.0, 2.0, -2.0, 0.5, -0.5)
"""how many times a value (or its square) may be added to the result (`s * (2 - s)` for
`s * (1 - s)`: plus `s`; `s * (1 + s)`: plus 2 times `s` squared)"""


def _through(call: Call, expected: dict[str, Any]) -> list[tuple[str, str, Any, bool]]:
    """`(key, words, value, telling)` of the values a wrong result may be scaled by or shifted
    by: the number arrays (and dicts of arrays) among the arguments, and the numbers, arrays and
    dicts the reference computes on the way (its intermediates). A value that is all 0, 1 or -1
    is not `telling`: a relation through it restates a sign or nothing, so it proves nothing,
    but it can still be contradicted (that input does not show it)."""
    out: list[tuple[str, str, Any]] = []
    args = arguments(call)
    for name, value in args:
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" or \
                isinstance(value, dict) and value and all(isinstance(v, np.ndarray) for v in value.values()):
            out.append((f"`{name}`", f"`{name}`", value))
    names = {name for name, _ in args}
    for name, value in expected.get("intermediates", []):
        if name not in names:
            out.append((f"ref:{name}", f"the value the reference solution calls `{name}`", value))
    return [(k, w, v, _telling(v)) for k, w, v in out if _finite_values(v)]


def _finite_values(value: Any) -> bool:
    """Whether `value` is a number, or a non-empty array or dict of arrays, all finite."""
    if isinstance(value, dict):
        return bool(value) and all(_finite_values(v) for v in value.values())
    a = _as_array(value)
    return a is not None and a.size > 0 and bool(np.isfinite(a).all())


def _telling(value: Any) -> bool:
    """Whether some entry of `value` (finite, see `_finite_values`) is not 0, 1 or -1."""
    if isinstance(value, dict):
        return all(_telling(v) for v in value.values())
    a = _as_array(value)
    return a is not None and bool(np.any((a != 0) & (np.abs(a) != 1)))


def _fits(q: np.ndarray, e: np.ndarray) -> bool:
    """Whether `q` broadcasts against `e` entry by entry as its trailing axes (a number, a row)."""
    return q.ndim <= e.ndim and q.shape == e.shape[e.ndim - q.ndim:]


def _scaled(pairs: list[tuple[np.ndarray, np.ndarray]], by: list[np.ndarray], power: int) -> bool:
    """`got == expected * q ** power` on every pair, entry by entry. A power below 0 of a zero of
    `q` is inf or NaN: there `got` must not be finite (the student's division by 0), and the
    other entries must hold. Where every expected entry is 0 it holds without proving anything
    (`_proves`)."""
    for (g, e), q in zip(pairs, by):
        if not _fits(q, e):
            return False
        q = q.astype(np.float64)
        target = e * q**power
        zero = np.broadcast_to(q == 0, e.shape) if power < 0 else None
        if zero is not None and zero.any():
            if zero.all() or np.isfinite(g[zero]).any() or not _equal(g[~zero], target[~zero]):
                return False
        elif not _equal(g, target):
            return False
    return True


def _proves(pairs: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether a relation that scales the expected values is proven by them: some is not 0."""
    return any(np.any(e != 0) for _, e in pairs)


def _several(arrays: Iterable[np.ndarray]) -> bool:
    """Whether a relation rests on several numbers: more than one non-zero entry in all."""
    return sum(int(np.count_nonzero(a)) for a in arrays) > 1


def _shifted(pairs: list[tuple[np.ndarray, np.ndarray]], by: list[np.ndarray], c: float) -> bool:
    """`got == expected + c * q` on every pair."""
    for (g, e), q in zip(pairs, by):
        if not _fits(q, e) or not _equal(g, e + c * q):
            return False
    return True


def _relation_findings(got: Any, expected: dict[str, Any], call: Call, label: str) -> list[Finding]:
    """The result (or each wrong part of it, or each wrong entry of a dict) is the expected one
    scaled entry by entry by a value (`POWERS`), or plus a multiple of one (`ADDED`), or it
    changes an argument by the expected change so scaled; the value is an argument or one the
    reference computes on the way (`_through`)."""
    through = _through(call, expected)
    if not through:
        return []
    out: list[Finding] = []
    for scope, g, e in _differing(got, expected.get("value")):
        if isinstance(e, dict) and isinstance(g, dict) and set(g) == set(e):
            keys: list[Any] = [k for k in e if not _same(g[k], e[k])]
            which = "every wrong entry of " if len(keys) < len(e) else "every entry of "
        else:
            keys, which = [None], ""
        gs, es = _entries(g, keys), _entries(e, keys)
        if not keys or gs is None or es is None or any(a.shape != b.shape for a, b in zip(gs, es)):
            continue
        pairs = list(zip(gs, es))
        starts = [(name, o) for name, v in arguments(call) if _is_start(v) and (o := _entries(v, keys)) is not None
                  and all(a.shape == b.shape for a, b in zip(o, gs))]
        for key, words, value, telling in through:
            by = _entries(value, keys)
            if by is not None:
                out += [Finding(k, which + text if k.startswith(("factor", "offset")) else text, scope,
                                strong=strong, proven=proven and telling, subject=_what(label or scope))
                        for k, text, strong, proven in _through_one(pairs, starts, by, key, words)]
    return out


def _entries(x: Any, keys: list[Any]) -> list[np.ndarray] | None:
    """`x` as arrays: `[x]` for `keys == [None]`, else the entries `x[k]` of a dict; None when
    `x` does not fit."""
    if keys == [None]:
        a = None if isinstance(x, dict) else _as_array(x)
        return None if a is None else [a]
    if not isinstance(x, dict):
        return None
    parts = [_as_array(x.get(k)) for k in keys]
    return None if any(a is None for a in parts) else parts


def _through_one(pairs: list[tuple[np.ndarray, np.ndarray]], starts: list[tuple[str, list[np.ndarray]]],
                 by: list[np.ndarray], key: str, words: str) -> list[tuple[str, str, bool, bool]]:
    """`(key, fact, strong, proven)` of the relations of `_relation_findings` through one value `by`."""
    es = [e for _, e in pairs]
    # the expected result itself (or its negative) under another name would only restate a
    # factor, or say `0 == e - e` (a step may well be a multiple of a value)
    itself = any(q.shape == b.shape and (_equal(q, b) or _equal(-q, b)) for q, b in zip(by, es))
    entrywise = " entry by entry" if any(q.ndim > 0 for q in by) else ""
    out = []
    for power, how in POWERS:
        how = how.format(q=words)
        if not itself and _scaled(pairs, by, power):
            out.append((f"factor@{key}^{power}", f"{WHAT} is exactly the expected one {how}{entrywise}",
                        _several(es), _proves(pairs)))
        for name, old in starts:
            steps = [(a - o, b - o) for (a, b), o in zip(pairs, old)]
            if _scaled(steps, by, power):
                out.append((f"step:{name}@{key}^{power}", _step_fact(WHAT, name, how + entrywise),
                            _several(b for _, b in steps), _proves(steps)))
    squares = [q.astype(np.float64) ** 2 for q in by]
    for c in ADDED if not itself else ():
        times = "" if abs(c) == 1.0 else f"{_num(abs(c))} times "
        sign = "plus" if c > 0 else "minus"
        if _shifted(pairs, by, c):
            out.append((f"offset@{c:g}{key}", f"{WHAT} is exactly the expected one {sign} {times}{words}",
                        _several(by), True))
        elif _shifted(pairs, squares, c):  # `s * (1 + s)` for `s * (1 - s)`: plus 2 s**2
            out.append((f"offset@{c:g}{key}^2", f"{WHAT} is exactly the expected one {sign} {times}{words} squared",
                        _several(by), True))
    return out


def _is_start(value: Any) -> bool:
    """A value a result may be a step from: a float array, or a dict of them."""
    if isinstance(value, dict):
        return bool(value) and all(isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in value.values())
    return isinstance(value, (float, np.floating)) or isinstance(value, np.ndarray) and value.dtype.kind == "f"


def value_findings(got: Any, expected: dict[str, Any], call: Call, label: str = "") -> tuple[list[Finding], list[str]]:
    """The facts relating `got` to `expected["value"]` on `call`, and the scopes that differ.

    `expected` may also carry `"intermediates"` (`[name, value]` pairs the reference computed
    on the way), `"neighbors"` (`[argument, change, value]`: the reference's result on a variant
    of the call, `grader.checks.variants`) and `"defaults"` (`[name, number]` of the arguments
    the call leaves to their defaults). `label` names the result (e.g. "second returned value").
    """
    given = {name for name, _ in arguments(call)}
    left = {name: v for name, v in expected.get("defaults", []) if name not in given}
    if left:  # the numbers left to their defaults name factors as the arguments do (`h` squared)
        call = Call(call.module, call.function, call.args, {**call.kwargs, **left})
    with np.errstate(all="ignore"):  # a wrong output may hold inf or NaN: relating it warns nobody
        return _value_findings(got, expected, call, label)


def _value_findings(got: Any, expected: dict[str, Any], call: Call, label: str) -> tuple[list[Finding], list[str]]:
    exp = expected.get("value")
    findings: list[Finding] = []
    scopes: list[str] = []
    for scope, g, e in _differing(got, exp):
        scopes.append(scope)
        what = _what(label or scope)
        if isinstance(e, dict) and isinstance(g, dict):
            findings += _dict_findings(g, e, what, call, scope)
        else:
            findings += _leaf_findings(g, e, what, call, scope, strong=True)
    findings += _together_findings(got, exp, call) if not label else []
    findings += _same_as_findings(got, expected, call, label)
    findings += _relation_findings(got, expected, call, label)
    findings += _where_through_findings(got, expected, call, label)
    findings += _parts_findings(exp, call, scopes) if not label else []
    return findings, scopes or [""]


TOGETHER = "each value you return"
"""the subject of a fact about all the returned values together (`_together_findings`)"""


def _together_findings(got: Any, exp: Any, call: Call) -> list[Finding]:
    """Several returned values, each exactly the expected one times the same number: the mistake
    is in a factor they share (`delta` of `dw = delta * x, db = delta`), not in how each is made
    from it. Each value alone may be one number (a bias) and prove nothing; together they do."""
    if not (isinstance(exp, (list, tuple)) and isinstance(got, (list, tuple)) and len(got) == len(exp) >= 2) \
            or is_number_list(exp):
        return []
    pairs = []
    for g, e in zip(got, exp):
        ga, ea = _as_array(g), _as_array(e)
        if ga is None or ea is None or ga.shape != ea.shape:
            return []
        pairs.append((ga.ravel(), ea.ravel()))
    if sum(1 for _, e in pairs if np.any(e != 0)) < 2:  # one value carries it all: its own findings say so
        return []
    g, e = np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs])
    r = _ratio(g, e)
    if r is None:
        return []
    strong = int(np.count_nonzero(e)) > 2
    return [Finding(f"factor{key}", f"{WHAT} is exactly the expected one {words}", "", strong=strong, subject=TOGETHER)
            for key, words, c in _name_factor(r, _quantities(call)) + _unnamed(r, pairs)
            if all(_equal(a, c * b) for a, b in pairs)]


def _parts_findings(exp: Any, call: Call, scopes: list[str]) -> list[Finding]:
    """Of several returned values, some wrong (`scopes`, as `_differing` found them) and the
    others right: where the mistake is not (`adam_update` whose new state is right: its step from
    the moments is wrong). Named as the handout names them (`grader.checks.returns`). Right by
    chance says little: the right values must be informative, or another input must confirm them."""
    wrong = [_index(scope) for scope in scopes]
    if not scopes or None in wrong or not isinstance(exp, (list, tuple)):
        return []
    right = [i for i in range(len(exp)) if i not in wrong]
    if not right:
        return []
    names = RETURN_NAMES.get(f"{call.module}.{call.function}", ())

    def listed(indices: list[int]) -> str:
        return " and ".join(f"`{names[i]}`" if len(names) == len(exp) else part_subject(i)
                            for i in indices)

    verb = "is" if len(wrong) == 1 else "are"
    text = (f"of the {len(exp)} values you return, only {listed(wrong)} {verb} wrong; {listed(right)} "
            f"{'is' if len(right) == 1 else 'are'} right")
    return [Finding("parts:" + ",".join(map(str, wrong)), text,
                    strong=informative([exp[i] for i in right]), subject=_what(""))]


def _where_through_findings(got: Any, expected: dict[str, Any], call: Call, label: str) -> list[Finding]:
    """Only the entries of a wrong result (or part) where an array the reference computes on the
    way is 0 (or not, or negative, ...) are wrong: `A / mask` for `A * mask` is wrong exactly where
    the dropout mask is 0. As `_pattern_findings` does with the arguments."""
    names = {name for name, _ in arguments(call)}
    values = [(name, v) for name, v in expected.get("intermediates", [])
              if name not in names and isinstance(v, np.ndarray) and v.dtype.kind in "biuf" and v.size >= 2]
    out: list[Finding] = []
    for scope, g, e in _differing(got, expected.get("value")) if values else ():
        ga, ea = _as_array(g), _as_array(e)
        if ga is None or ea is None or ga.shape != ea.shape or ga.size < 2:
            continue
        wrong = _wrong_mask(ga, ea)
        # Right exactly where the expected entries are 0 (a softmax's underflow): any pattern
        # would only say that zeros stayed zeros.
        if not wrong.any() or np.array_equal(~wrong, ea == 0):
            continue
        for name, v in values:
            # the expected result itself under another name relates nothing (`_through_one`)
            q = v.astype(np.float64)
            if q.shape == ga.shape and not (_equal(q, ea) or _equal(-q, ea)):
                for key, text in _where_keys(wrong, q, f"ref:{name}",
                                             f"the value the reference solution calls `{name}`", WHAT):
                    out.append(Finding(key.rstrip("~"), text, scope, not key.endswith("~"),
                                       _rests_on_several(key, ga, ea), subject=_what(label or scope)))
    return out


def _same_as_findings(got: Any, expected: dict[str, Any], call: Call, label: str) -> list[Finding]:
    """The output (or a part of it) equals the reference's on a variant of the call (one argument
    changed, `grader.checks.variants`), or a value the reference computed on the way, or an
    array argument as it was given. An equality with a value many mistakes give (`_commonplace`:
    zeros, or an argument untouched) proves nothing: a perceptron update that never happens
    returns `w` as it was, which is also what the correct update gives for `-w` on some inputs."""
    out = []
    exp = expected.get("value")
    parts = [("", got, exp), *_parts(got, exp)]
    for arg, change, value in expected.get("neighbors", []):
        if value is None or _same(value, exp):
            continue
        for scope, g, e in parts:
            v = value if not scope else _part_of(value, scope)
            # NaN where a variant leaves the formula's domain equals any other NaN: no proof
            if v is not None and _finite(g) and _same(g, v) and not _same(v, e):
                out.append(Finding(f"neighbor:{arg}:{change}", _variant_fact(arg, change), scope,
                                   strong=informative(g), proven=not _commonplace(v, call),
                                   subject=_what(label or scope)))
                break  # the whole output is the variant's: its parts need no second fact
    out += _reciprocal_of_zero_findings(got, exp, call, label)
    intermediates = expected.get("intermediates", [])
    for scope, g, e in parts:
        for name, value in intermediates:
            if value is not None and _finite(g) and _same(g, value) and not _same(value, e):
                out.append(Finding(f"intermediate:{name}",
                                   f"{WHAT} equals a value the reference solution computes on the way "
                                   f"(it calls it `{name}`), not its final result: a last step is missing "
                                   "or the wrong variable is returned", scope, strong=informative(g),
                                   proven=not _commonplace(value, call), subject=_what(label or scope)))
        for name, value in arguments(call):
            if _is_start(value) and not isinstance(value, (float, np.floating)) and _finite(g) \
                    and _same(g, value) and not _same(value, e):
                # Round numbers (a perceptron's weights) stay put under many mistakes: no proof.
                out.append(Finding(f"unchanged:{name}", f"{WHAT} is `{name}` exactly as it was given",
                                   scope, strong=informative(g), proven=informative(g),
                                   subject=_what(label or scope)))
    return out


def _commonplace(value: Any, call: Call) -> bool:
    """A value that many mistakes give: all zeros, or one of the call's arguments as it was given
    (or several returned values, each of them such)."""
    if isinstance(value, (list, tuple)) and value and not is_number_list(value):
        return all(_commonplace(v, call) for v in value)
    return _zeros(value) or any(_same(value, a) for _, a in arguments(call) if not isinstance(a, (str, bytes)))


def _zeros(value: Any) -> bool:
    """Whether `value` holds numbers, all of them 0."""
    if isinstance(value, dict):
        return bool(value) and all(_zeros(v) for v in value.values())
    if isinstance(value, (list, tuple)) and not is_number_list(value):
        return bool(value) and all(_zeros(v) for v in value)
    a = _as_array(value)
    return a is not None and a.size > 0 and a.dtype.kind in "biuf" and not np.any(a)


def _has_zero(value: Any) -> bool:
    """A float array (or a dict of them) with a zero entry: its reciprocal is no variant."""
    if isinstance(value, dict):
        return bool(value) and all(isinstance(v, np.ndarray) for v in value.values()) and \
            any(_has_zero(v) for v in value.values())
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size > 0 and bool(np.any(value == 0))


def _reciprocal_of_zero_findings(got: Any, exp: Any, call: Call, label: str) -> list[Finding]:
    """An output with inf or NaN where the expected one is finite, on an input where an array
    argument has a 0, does not contradict "what `1 / that argument` gives" (`beta / velocity`
    from a zero velocity): unproven findings, which other inputs must prove."""
    if _finite(got) or not _finite(exp):
        return []
    return [Finding(f"neighbor:{name}:{RECIPROCAL}", _variant_fact(name, RECIPROCAL), proven=False,
                    subject=_what(label)) for name, value in arguments(call) if _has_zero(value)]


def _finite(x: Any) -> bool:
    """No inf or NaN among the numbers of `x` (as `_numbers` finds them)."""
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, (list, tuple)) and not is_number_list(x):
        return all(_finite(v) for v in x)
    a = _as_array(x)
    return a is None or bool(np.isfinite(a).all())


def _part_of(value: Any, scope: str) -> Any:
    i = _index(scope)
    return value[i] if i is not None and isinstance(value, (list, tuple)) and i < len(value) else None


def _variant_fact(arg: str, change: int | str) -> str:
    """What equal to the reference's result on a variant of the call says (`grader.checks.variants`)."""
    if change == NEGATED:
        return (f"{WHAT} is exactly what the correct function gives for `-{arg}`: a sign error where "
                f"`{arg}` enters the formula (a `+` for a `-`, or the reverse)")
    if change == RECIPROCAL:
        return (f"{WHAT} is exactly what the correct function gives for `1 / {arg}`: `{arg}` divides where "
                "it should multiply, or the reverse")
    if change == WITHOUT_LAST:
        what = f"the last row of {arg}" if "`" in arg else f"the last entry of `{arg}`"
        return (f"{WHAT} is exactly what the correct function gives without {what}: a loop or a slice "
                "that stops one step early")
    if change == REVERSED:
        return (f"{WHAT} is exactly what the correct function gives for `{arg}` reversed: its entries are "
                "paired or read the wrong way round")
    direction = "one lower" if int(change) < 0 else "one higher"
    return (f"{WHAT} is what `{arg}` {direction} should give: an off-by-one in `{arg}` "
            "(a count or an index starting at the wrong place)")


def _parts(got: Any, exp: Any) -> list[tuple[str, Any, Any]]:
    """The differing parts of a returned tuple (none for other results)."""
    if isinstance(exp, (list, tuple)) and not is_number_list(exp):
        return [p for p in _differing(got, exp) if p[0]]
    return []


# ---------------------------------------------------------------- exceptions

_MATMUL = re.compile(r"matmul: Input operand 1 has a mismatch in its core dimension 0.*\(size (\d+) is different "
                     r"from (\d+)\)")


def _arrays(call: Call) -> list[tuple[str, np.ndarray]]:
    out = []
    for name, value in arguments(call):
        if isinstance(value, np.ndarray) and value.ndim == 2:
            out.append((name, value))
        elif isinstance(value, dict):
            out += [(f"{name}[{k!r}]", v) for k, v in value.items() if isinstance(v, np.ndarray) and v.ndim == 2]
    return out


_KEYERROR = re.compile(r"KeyError: '([A-Za-z_]+)(-?\d+)'")


def _key_findings(message: str, call: Call) -> list[Finding]:
    """A `KeyError` for a numbered key (`'Z0'`, `'A5'`) outside the numbers a dict argument has for
    that prefix: an index off by one (or more), below the first or past the last."""
    m = _KEYERROR.search(message)
    if not m:
        return []
    prefix, number = m.group(1), int(m.group(2))
    out = []
    for name, value in arguments(call):
        if not isinstance(value, dict):
            continue
        numbers = sorted(int(k[len(prefix):]) for k in value if isinstance(k, str) and
                         re.fullmatch(rf"{re.escape(prefix)}\d+", k))
        if number in numbers:  # the argument has it: the lookup was in a dict of the code's own
            out.append(Finding(f"keyerror:stored:{prefix}", f"your code looked up `{prefix}{number}` in a dict "
                               f"that lacks it, though `{name}` has it: that key was never stored there (a loop "
                               "over the numbers that skips it?) or was removed"))
            continue
        if not numbers:
            continue
        first, last = numbers[0], numbers[-1]
        if number < first:
            where, by = "below the first", first - number
        elif number > last:
            where, by = "past the last", number - last
        else:
            continue
        which = f"`{prefix}{first}`" if where.endswith("first") else f"`{prefix}{last}`"
        out.append(Finding(f"keyerror:{name}:{prefix}:{where}:{by}",
                           f"your code asks `{name}` for a `{prefix}` key numbered {by} {where} one it has (it "
                           f"asked for `{prefix}{number}`, and {which} is the {where.split()[-1]}): an index off by "
                           f"{by}, say a layer number `l - 1` for `l`, or a loop that starts or stops a step off"))
    return out


_BROADCAST = re.compile(r"operands could not be broadcast together with shapes \((\d+),(\d+)\) \((\d+),\)"
                        r"|operands could not be broadcast together with shapes \((\d+),\) \((\d+),(\d+)\)")


def _broadcast_findings(message: str) -> list[Finding]:
    """A matrix `(m, k)` meeting a vector `(m,)`: NumPy lines the vector up with the last axis
    (k entries), so a value per row, which needs shape `(m, 1)`, does not fit."""
    m = _BROADCAST.search(message)
    if not m:
        return []
    rows, cols, n = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(6), m.group(4))
    if rows != n or rows == cols:
        return []
    return [Finding("broadcast:per-row",
                    f"NumPy could not combine an array of shape ({rows}, {cols}) with one of shape ({n},): a "
                    f"1-d array lines up with the LAST axis (of length {cols}), not with the {rows} rows; to pair "
                    f"one value with each row it needs shape ({n}, 1), what `keepdims=True` or `[:, None]` gives")]


_FRAME = re.compile(r'^  File "([^"]+)", line (\d+), in \S+\n    (.*)$', re.MULTILINE)


def _own_raise_findings(message: str, traceback: str) -> list[Finding]:
    """A `ValueError` the student's own `raise` statement raised (the innermost frame of their
    traceback is that statement, naming that type), on an input the correct function returns a
    result for: the `raise` is reached for valid arguments."""
    frames = _FRAME.findall(traceback)
    if not frames or not message.startswith("ValueError:"):
        return []
    file, line, source = frames[-1]
    if not re.match(r"raise\s+ValueError\b", source.strip()):
        return []
    return [Finding("own-raise:ValueError",
                    f"your code raises ValueError itself (the `raise` at line {line} of {file[-60:]}) on an "
                    "input the correct function accepts and returns a result for: this `raise` is reached for "
                    "valid arguments, so the check of the arguments before it is wrong")]


def _zero_division_findings(message: str, call: Call, expected: dict[str, Any] | None) -> list[Finding]:
    """A `ZeroDivisionError` (Python numbers only raise it) on an input where a number argument,
    or a number the reference computes on the way, is 0 does not contradict a result divided by
    that number (`lam / total` for `lam * total`, where the weights are all 0): unproven findings
    of those relations, which other inputs must prove."""
    if not message.startswith("ZeroDivisionError") or expected is None:
        return []
    # a number argument names a factor as `_name_factor` does (`divided by lam`), a number of the
    # reference's through `_relation_findings` (`divided by the value ... calls total`)
    zero_args = [(name, f"`{name}`", 0.0) for name, v in arguments(call)
                 if isinstance(v, (float, np.floating)) and v == 0]
    out = [Finding(f"factor{key}", f"{WHAT} is exactly the expected one {words}", proven=False)
           for key, words, _ in _namings(zero_args) if key.startswith("/")]
    names = {name for name, _ in arguments(call)}
    zeros = [(f"ref:{name}", f"the value the reference solution calls `{name}`")
             for name, v in expected.get("intermediates", []) if name not in names
             and isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and v == 0]
    out += [Finding(f"factor@{key}^{power}", f"{WHAT} is exactly the expected one {how.format(q=words)}",
                    proven=False) for key, words in zeros for power, how in POWERS if power < 0]
    return out + _zero_where_findings(zeros)


def _zero_where_findings(zeros: list[tuple[str, str]]) -> list[Finding]:
    """Where a `ZeroDivisionError` happens: each number the reference computes on the way that
    is 0 on this input (`zeros`, as `(key, words)`; `lr / error` raises exactly where the example
    is classified right). Each rests on one number, so two inputs must show it; two such numbers
    that are 0 together on every input are not stated (`findings._one_per_scope_and_kind`).

    Not the arguments: `-k / epoch` raises at epoch 0 and returns wrong values at every other
    epoch, which a fact about where it raises does not explain (on the checks' inputs, tables
    that hold an epoch 0, only the raising showed)."""
    return [Finding(f"zero-division:{key.removeprefix('ref:')}", f"your code divides by zero on every input where "
                    f"{words} is 0 (it raises `ZeroDivisionError` there): a division by it, or by a number that "
                    "is 0 with it", strong=False) for key, words in zeros]


def _missing_axis_findings(message: str, call: Call) -> list[Finding]:
    """`IndexError: tuple index out of range` on an input with an array argument of d axes (`Y`
    of shape `(6,)`) does not contradict a result scaled by its axis d (`Y.shape[1]`, a mean over
    the wrong axis of a 2-d input): unproven findings of those factors, which other inputs must
    prove. The keys and texts are `_namings`'."""
    if not message.startswith("IndexError: tuple index out of range"):
        return []
    out = []
    for name, value in arguments(call):
        if not isinstance(value, np.ndarray):
            continue
        missing = f"{name}.shape[{value.ndim}]"
        axes = [(f"{name}.shape[{k}]", f"`{name}.shape[{k}]`", float(n)) for k, n in enumerate(value.shape)]
        out += [Finding(f"factor{key}", f"{WHAT} is exactly the expected one {words}", proven=False)
                for key, words, _ in _namings(axes + [(missing, f"`{missing}`", np.nan)]) if missing in key]
    return out


_INNERMOST = re.compile(r'^  File "[^"]+", line (\d+), in (\S+)\n    (.*)$', re.MULTILINE)
_SUBSCRIPT = re.compile(r"(?:(?<![\w.])([A-Za-z_]\w*)|[\w)\]'\"])\s*\[")
"""a subscript `x[`: group 1 is a plain name's (`layer_sizes[`), empty for any other (`f()[`, `a.b[`, `x[i][`)"""

_OUT_OF_BOUNDS = re.compile(r"IndexError: index (\d+) is out of bounds for axis (\d+) with size (\d+)")


def _index_findings(message: str, call: Call, traceback: str) -> list[Finding]:
    """An index outside a sequence, named from the message and the student's own line:
    - NumPy's `index 4 is out of bounds for axis 0 with size 4`: the index is the axis's size,
      one past its last entry (`range(m + 1)`, `x[i + 1]` at the last `i`);
    - `list index out of range` on a line of the called function itself (not a helper of its)
      whose every subscript is of one list argument (`layer_sizes[l + 1]`): an index outside that
      list as it was passed, whose length the fact states."""
    frames = _INNERMOST.findall(traceback)
    if not frames or frames[-1][1] != call.function:
        return []
    line, _, source = frames[-1]
    m = _OUT_OF_BOUNDS.search(message)
    if m and m.group(1) == m.group(3):
        return [Finding("index:one-past-end",
                        f"your code reads index {m.group(1)} of an axis of {m.group(3)} entries (at line {line}), one "
                        f"past its last entry, {int(m.group(3)) - 1}: a loop or an index "
                        "that goes one step too far")]
    if not message.startswith("IndexError: list index out of range"):
        return []
    names = {m.group(1) for m in _SUBSCRIPT.finditer(source)}
    lists = {name: value for name, value in arguments(call) if isinstance(value, list)}
    if len(names) != 1 or None in names or not names <= set(lists):
        return []
    name = names.pop()
    n = len(lists[name])
    return [Finding(f"index:{name}:outside",
                    f"your code reads `{name}` at an index it does not have (at line {line}); "
                    f"as passed it has {n} {'entry' if n == 1 else 'entries'}, at 0 to {n - 1} (or -{n} to -1): an "
                    "index off by one or more, or a loop that runs a step too far")]


def _range_step_findings(message: str, traceback: str) -> list[Finding]:
    """`range(start, stop, 0)`: Python's `range() arg 3 must not be zero`, named by the student's
    line that made it (`range(L, 0, -1 + 1)`)."""
    frames = _INNERMOST.findall(traceback)
    if not frames or not message.startswith("ValueError: range() arg 3 must not be zero"):
        return []
    line = frames[-1][0]
    return [Finding("range:step-0", f"the `range` at line {line} of your code is given a step of 0, its "
                    "third argument: a range must move by a step that is not 0 (1 counts up, -1 down)")]


def _matmul_findings(message: str, call: Call, traceback: str) -> list[Finding]:
    """A matrix product whose inner sizes differ (NumPy names the last size of the left operand and
    the first of the right one) that a transpose of one operand mends, among the 2-d array
    arguments: the right operand's (`A @ W` where `A @ W.T` fits), or else the left one's
    (`dZ @ A_prev` where `dZ.T @ A_prev` fits), which is named only when one pair of arguments
    fits that way and no line of the student's says otherwise (a batch size is shared by many
    arrays). Where the innermost line of the student's `traceback` names some of these products
    (`dW = dZ @ A_prev`), only those count; where it names none (`dZ @ dZ`), no left operand is."""
    m = _MATMUL.search(message)
    if not m:
        return []
    rows_b, cols_a = int(m.group(1)), int(m.group(2))
    arrays = _arrays(call)
    right, left = [], []
    for na, a in arrays:
        for nb, b in arrays:
            if a is b:
                continue
            if a.shape[1] == cols_a and b.shape[0] == rows_b and b.shape[1] == cols_a:  # a @ b.T fits
                right.append((f"{na} @ {nb}", f"{na} @ {nb}.T", (a.shape[0], b.shape[0]), f"{a.shape} and {b.shape}"))
            elif a.shape[1] == cols_a and b.shape[1] == rows_b and b.shape[0] == cols_a:  # a @ b fits
                right.append((f"{na} @ {nb}.T", f"{na} @ {nb}", (a.shape[0], b.shape[1]),
                              f"{a.shape} and {b.shape[::-1]}"))
            if a.shape == (rows_b, cols_a) and b.shape[0] == rows_b:  # a @ b failed, a.T @ b fits
                left.append((f"{na} @ {nb}", f"{na}.T @ {nb}", (cols_a, b.shape[1]), f"{a.shape} and {b.shape}"))
            elif a.shape == (cols_a, rows_b) and b.shape[0] == rows_b:  # a.T @ b failed, a @ b fits
                left.append((f"{na}.T @ {nb}", f"{na} @ {nb}", (cols_a, b.shape[1]),
                             f"{a.shape[::-1]} and {b.shape}"))
    # the student's own line, where it names the operands, tells which pair it was
    frames = _FRAME.findall(traceback)
    line = re.sub(r"\s+", "", frames[-1][2]) if frames else ""
    named = [c for c in right + left
             if re.search(rf"(?<![\w.]){re.escape(c[0].replace(' ', ''))}(?![\w.])", line)]
    fitting = named or right + (left if len(left) == 1 and not line else [])
    # the key is what was written, as `_product_findings`' (a square input computes the product)
    return [Finding(f"wrote:{wrote}", f"`{wrote}` cannot work with these shapes ({sizes}: the inner sizes "
                    f"{cols_a} and {rows_b} differ); `{fits}` fits, giving shape {shape}")
            for wrote, fits, shape, sizes in fitting]


def error_findings(message: str, call: Call | None, traceback: str = "",
                   expected: dict[str, Any] | None = None) -> list[Finding]:
    """Facts about an exception raised on a call the correct function returns a result for, visible
    from the call's arguments, the student's `traceback` (`StudentError.detail`) or the call's
    `expected` data: a matrix product whose inner sizes only fit with a transpose (`A @ W` where
    `W.T` fits), a numbered key outside a dict argument's numbers, a `ValueError` raised by the
    student's own check, a division by a number that is 0 here, an index outside a list argument
    or one past an axis's end, a `range` with a step of 0."""
    if call is None:
        return []
    out = _key_findings(message, call) + _broadcast_findings(message) + _own_raise_findings(message, traceback)
    out += _zero_division_findings(message, call, expected) + _missing_axis_findings(message, call)
    out += _index_findings(message, call, traceback) + _range_step_findings(message, traceback)
    return out + _matmul_findings(message, call, traceback)


def catalog_findings(got: Any, mistakes: list[Any], tol: Any, subject: str = "your result") -> list[Finding]:
    """A finding for every catalogued mistake whose output `got` equals (`[name, hint, output]`)."""
    out = []
    for name, hint, output in mistakes:
        if difference(got, output, tol) is None:
            single = _as_array(output) is not None and int(np.count_nonzero(_as_array(output))) <= 1
            out.append(Finding(mistake_key(name), hint, "", True, not single, name, subject))
    return out


def mistake_key(name: str) -> str:
    """The key of a catalogued mistake's finding."""
    return f"mistake:{name}"
