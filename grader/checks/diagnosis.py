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
- the output equal to a value the reference computes on the way (its intermediates).

`error_findings` does the same for an exception whose cause is visible from the shapes of the
arguments (a matrix product whose inner dimensions only fit with a transpose).

A finding is a fact about one input. `diagnose` combines the findings of all failing checks of
one function: it states an explanation only when it holds on every failing input of that
function, and only when a non-degenerate input (no axis of length 1, no list of one or two
entries) proves it or two inputs do. The engine knows no neural network: every name in a
finding comes from the call's parameter names and the reference's own variable names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks.compare import VALUE, difference
from grader.model import PARAMETER_NAMES, Call

FACTOR_RTOL = 2e-5
"""how exactly a relation must hold, relative to the largest expected entry (float32 work
rounds to about 1e-7; an accidental relation would have to hold on every entry to this)"""

WHAT = "{what}"
"""the placeholder for the result's name in a finding's text"""

SMALL_CONSTANTS = (-1.0, 2.0, 0.5, -2.0, -0.5, 10.0, 0.1, 100.0, 0.01)
"""factors named even when no input explains them"""


@dataclass(frozen=True)
class Finding:
    """One fact about one failing input."""

    key: str
    """the explanation's identity: the same mistake on another input has the same key"""
    text: str
    """the fact, stated for a student (`"it is exactly the expected one divided by 5 ..."`)"""
    scope: str = ""
    """where in the result it holds (`"[1]"`, `"['W2']"`), empty for the whole result"""
    proven: bool = True
    """False when the input only fails to contradict it (a catalogued mistake that raises where
    the student's code raised): such a finding never stands alone"""
    strong: bool = True
    """False when it rests on a single number (a scalar result): it needs another input"""
    mistake: str | None = None
    """the catalogued mistake's name, for catalog findings"""
    subject: str = "your result"
    """what `{what}` in `text` stands for (a judge of one part of a result names that part)"""

    @property
    def statement(self) -> str:
        """The fact as the feedback states it."""
        return self.text.replace(WHAT, self.subject)


@dataclass(frozen=True)
class Evidence:
    """What one check saw: the findings on its input, or what a passing input refutes."""

    function: str
    """`module.function`"""
    passed: bool
    findings: tuple[Finding, ...] = ()
    scopes: tuple[str, ...] = ("",)
    """the parts of the result that differ (`""`: the whole, or unknown)"""
    degenerate: bool = False
    """the input cannot tell similar mistakes apart (an axis of length 1, a one-layer list)"""
    neutral: bool = False
    """no information: the call timed out, crashed, was skipped, or the module is missing"""
    raised: bool = False
    """the student's code raised: its findings hold for every part of the result"""


@dataclass(frozen=True)
class Diagnosis:
    """What the feedback says once for one function."""

    function: str
    texts: tuple[str, ...]
    """the facts, most specific first"""
    mistake: str | None = None
    """the catalogued mistake's name when one is confirmed"""
    hint: str | None = None
    """that mistake's hint"""


# ---------------------------------------------------------------- names of quantities


def _param_names(call: Call) -> list[str]:
    names = list(PARAMETER_NAMES.get(f"{call.module}.{call.function}", ()))
    names += [f"argument {i + 1}" for i in range(len(names), len(call.args))]
    return names


def _arguments(call: Call) -> list[tuple[str, Any]]:
    return list(zip(_param_names(call), call.args, strict=False)) + list(call.kwargs.items())


def _quantities(call: Call) -> list[tuple[str, str, float]]:
    """`(key, words, value)` of the inputs' positive quantities: axis lengths, list lengths,
    scalar arguments. The key names the quantity whatever the input's shape, so the number of
    examples of a 1-d and of a 2-d argument is one quantity (`X.shape[0]`)."""
    out: list[tuple[str, str, float]] = []
    for name, value in _arguments(call):
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
    return [(k, w, q) for k, w, q in out if np.isfinite(q) and q not in (0.0, 1.0, -1.0)]


def is_degenerate(call: Call) -> bool:
    """An input too small to tell similar mistakes apart: an axis of length 1, a list of one entry
    (or two numbers: one layer's sizes), a dict of one or two entries."""
    for _, value in _arguments(call):
        if isinstance(value, np.ndarray) and value.ndim >= 1 and min(value.shape) <= 1:
            return True
        if isinstance(value, (list, tuple)) and (len(value) == 1 or len(value) == 2 and _as_list_of_numbers(value)):
            return True
        if isinstance(value, dict) and 0 < len(value) <= 2:
            return True
    return False


# ---------------------------------------------------------------- array relations


def _as_array(x: Any) -> np.ndarray | None:
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return x.astype(np.float64)
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return np.asarray(float(x))
    return None


def _equal(a: np.ndarray, b: np.ndarray, rtol: float = FACTOR_RTOL) -> bool:
    if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return False
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-12)
    return bool(np.all(np.abs(a - b) <= rtol * scale + 1e-12))


def _ratio(got: np.ndarray, exp: np.ndarray) -> float | None:
    """`r` with `got == r * exp` everywhere (and exp not all zero), else None."""
    if got.shape != exp.shape or got.size == 0:
        return None
    nz = np.abs(exp) > 1e-12 * max(float(np.max(np.abs(exp), initial=0.0)), 1e-300)
    if not nz.any() or not np.isfinite(got).all():
        return None
    r = float(np.median(got[nz] / exp[nz]))
    if r == 0.0 or not np.isfinite(r) or abs(r - 1.0) < 1e-9:
        return None
    return r if _equal(got, r * exp) else None


def _name_factor(r: float, quantities: list[tuple[str, str, float]]) -> list[tuple[str, str]]:
    """`(key, words)` for every way to name the factor `r`."""
    named: list[tuple[str, str]] = []
    for key, name, q in quantities:
        for mult, how in ((1.0, "times"), (-1.0, "times minus")):
            # The quantity by name only: stated once for all the function's inputs, its value
            # differs from one input to the next.
            if abs(r - mult * q) <= 1e-9 * abs(q):
                named.append((f"x{'-' if mult < 0 else ''}{key}", f"{how} {name}"))
            if abs(r - mult / q) <= 1e-9 / abs(q):
                word = "divided by" if mult > 0 else "divided by minus"
                named.append((f"/{'-' if mult < 0 else ''}{key}", f"{word} {name}"))
        if q > 0 and abs(r - q * q) <= 1e-9 * q * q:
            named.append((f"x{key}^2", f"times {name} squared"))
        if q > 0 and abs(r - 1.0 / (q * q)) <= 1e-9 / (q * q):
            named.append((f"/{key}^2", f"divided by {name} squared"))
    for c in SMALL_CONSTANTS:
        if abs(r - c) <= 1e-9 * abs(c):
            words = "with the opposite sign" if c == -1.0 else f"times {_num(c)}"
            named.append((f"x{c:g}", words))
    return named


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


def _where_fact(what: str, name: str, label: str, n_wrong: int, mask: np.ndarray) -> str:
    return (f"{what} is wrong only where `{name}` {label} ({n_wrong} of {int(mask.sum())} such "
            f"entr{'y' if mask.sum() == 1 else 'ies'}; the others are right): look at that case")


def _pattern_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    """Keys and facts when only some entries of a same-shaped result are wrong."""
    if got.shape != exp.shape or got.size == 0:
        return []
    scale = max(float(np.max(np.abs(exp), initial=0.0)), 1e-12)
    wrong = ~(np.abs(got - exp) <= FACTOR_RTOL * scale + 1e-12)
    if not np.isfinite(got).all():
        wrong |= ~np.isfinite(got)
    n_wrong = int(wrong.sum())
    if n_wrong == 0:
        return []
    out: list[tuple[str, str]] = []
    for name, value in _arguments(call):
        arr = _as_array(value)
        if arr is None or arr.shape != got.shape:
            continue
        relations = [
            ("==0", "is 0", arr == 0), ("!=0", "is not 0", arr != 0), ("<0", "is negative", arr < 0),
            (">0", "is positive", arr > 0), ("<=0", "is 0 or negative", arr <= 0),
            (">=0", "is 0 or positive", arr >= 0),
        ]
        # Wrong entries only where a relation holds (right ones may be there too, where the
        # mistake happens to give the right number); the smallest such set says the most.
        fitting = [r for r in relations if r[2].any() and not (wrong & ~r[2]).any()]
        partial = [r for r in fitting if not r[2].all()]
        if partial:
            relation, label, mask = min(partial, key=lambda r: int(r[2].sum()))
            out.append((f"where:{name}{relation}", _where_fact(what, name, label, n_wrong, mask)))
        else:  # every entry fits every such relation: consistent with each, proof of none
            out += [(f"where:{name}{relation}~", _where_fact(what, name, label, n_wrong, mask))
                    for relation, label, mask in fitting]
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
    if k == n and n >= 2 and _equal(got, np.cumsum(exp)):
        out.append(("cumulative", f"{what} is the running total of the expected per-step values"))
    if k == n and n >= 2 and _equal(np.cumsum(got), exp):
        out.append(("per-step", f"{what} holds per-step values where running totals were expected"))
    return out


def _factor_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    r = _ratio(got, exp)
    if r is None:
        return []
    return [(f"factor{key}", f"{what} is exactly the expected one {words}") for key, words in
            _name_factor(r, _quantities(call))]


def _offset_findings(got: np.ndarray, exp: np.ndarray, what: str, call: Call) -> list[tuple[str, str]]:
    if got.shape != () or exp.shape != ():
        return []
    d = float(got - exp)
    if d == 0 or not np.isfinite(d):
        return []
    out = []
    for key, name, q in [("1", "1", 1.0), *_quantities(call)]:
        label = "1" if key == "1" else name
        if abs(d - q) <= 1e-9 * abs(q):
            out.append((f"offset+{key}", f"{what} is the expected one plus {label}"))
        elif abs(d + q) <= 1e-9 * abs(q):
            out.append((f"offset-{key}", f"{what} is the expected one minus {label}"))
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
        pairs += _factor_findings(g, e, WHAT, call)
        pairs += _product_findings(g, call) if g.ndim == 2 else []
        pairs += _offset_findings(g, e, WHAT, call)
        pairs += _sequence_findings(g, e, WHAT)
        pairs += _pattern_findings(g, e, WHAT, call)
    # A key ending in "~" only fails to contradict its fact (an input of one entry): not proof.
    return [Finding(key.rstrip("~"), text, scope, not key.endswith("~"), strong and _rests_on_several(key, g, e),
                    subject=what) for key, text in pairs]


def _rests_on_several(key: str, got: np.ndarray, exp: np.ndarray) -> bool:
    """Whether a finding rests on several numbers: a pattern on several wrong and several right
    entries, any other relation on several non-zero expected entries."""
    if key.startswith(("where:", "row:", "column:", "entry:")):
        scale = max(float(np.max(np.abs(exp), initial=0.0)), 1e-12)
        wrong = int(np.sum(~(np.abs(got - exp) <= FACTOR_RTOL * scale + 1e-12)))
        return wrong >= 2 and got.size - wrong >= 2
    return exp.size > 1 and int(np.count_nonzero(exp)) > 1


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def part_subject(index: int, scope: str = "") -> str:
    """The subject of a finding about part `index` of a returned tuple (and `scope` within it)."""
    return _what(f"[{index}]") + (f" {scope}" if scope else "")


def _what(scope: str) -> str:
    """`"[1]"` -> `"your second returned value"`, `"['W1']"` -> `"your ['W1']"`."""
    m = re.fullmatch(r"\[(\d+)\]", scope)
    if m and int(m.group(1)) < len(_ORDINALS):
        return f"your {_ORDINALS[int(m.group(1))]} returned value"
    return f"your {scope}" if scope else "your result"


def _differing(got: Any, exp: Any, scope: str = "") -> Iterable[tuple[str, Any, Any]]:
    """`(scope, got, expected)` of the parts that differ, one level into tuples and dicts."""
    if isinstance(exp, (list, tuple)) and isinstance(got, (list, tuple)) and len(got) == len(exp) \
            and not _as_list_of_numbers(exp):
        for i, (g, e) in enumerate(zip(got, exp)):
            if not _same(g, e):
                yield f"{scope}[{i}]", g, e
        return
    yield scope, got, exp


def _as_list_of_numbers(x: Any) -> bool:
    return bool(x) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                           for v in x)


def _same(g: Any, e: Any) -> bool:
    try:
        return difference(g, e, VALUE) is None
    except TypeError:
        return False


def _dict_findings(got: dict, exp: dict, what: str, call: Call, scope: str) -> list[Finding]:
    """Facts about dict results: which keys differ, and a factor common to all of them."""
    if set(got) != set(exp):
        return []
    wrong = [k for k in exp if not _same(got[k], exp[k])]
    if not wrong or len(wrong) == len(exp) and len(exp) <= 1:
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
    ratios = set()
    for k in wrong:
        g, e = _as_array(got[k]), _as_array(exp[k])
        r = None if g is None or e is None else _ratio(g, e)
        ratios.add(None if r is None else round(r, 9))
    if len(ratios) == 1 and None not in ratios:
        (r,) = ratios
        for key, words in _name_factor(float(r), _quantities(call)):
            which = "every wrong entry" if len(wrong) < len(keys) else "every entry"
            out.append(Finding(f"factor{key}", f"in {WHAT}, {which} is exactly the expected one {words}", scope,
                               subject=what))
    return out


def value_findings(got: Any, expected: dict[str, Any], call: Call, label: str = "") -> tuple[list[Finding], list[str]]:
    """The facts relating `got` to `expected["value"]` on `call`, and the scopes that differ.

    `expected` may also carry `"intermediates"` (`[name, value]` pairs the reference computed
    on the way) and `"neighbors"` (`[argument, delta, value]`: the reference's result with an
    integer argument moved by `delta`). `label` names the result (e.g. "second returned value").
    """
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
    findings += _same_as_findings(got, expected, call, label)
    return findings, scopes or [""]


def _same_as_findings(got: Any, expected: dict[str, Any], call: Call, label: str) -> list[Finding]:
    """The output (or a part of it) equals the reference's on a neighbouring integer argument,
    or a value the reference computed on the way."""
    out = []
    what = _what(label)
    for arg, delta, value in expected.get("neighbors", []):
        if value is not None and _same(got, value) and not _same(value, expected.get("value")):
            direction = "one lower" if delta < 0 else "one higher"
            out.append(Finding(f"neighbor:{arg}{delta:+d}",
                               f"{WHAT} is what `{arg}` {direction} should give: an off-by-one in `{arg}` "
                               "(a count or an index starting at the wrong place)", subject=what))
    intermediates = expected.get("intermediates", [])
    for scope, g, e in [("", got, expected.get("value")), *_parts(got, expected.get("value"))]:
        for name, value in intermediates:
            if value is not None and _same(g, value) and not _same(value, e):
                out.append(Finding(f"intermediate:{name}",
                                   f"{WHAT} equals a value the reference solution computes on the way "
                                   f"(it calls it `{name}`), not its final result: a last step is missing "
                                   "or the wrong variable is returned", scope, subject=_what(label or scope)))
    return out


def _parts(got: Any, exp: Any) -> list[tuple[str, Any, Any]]:
    """The differing parts of a returned tuple (none for other results)."""
    if isinstance(exp, (list, tuple)) and not _as_list_of_numbers(exp):
        return [p for p in _differing(got, exp) if p[0]]
    return []


# ---------------------------------------------------------------- exceptions

_MATMUL = re.compile(r"matmul: Input operand 1 has a mismatch in its core dimension 0.*\(size (\d+) is different "
                     r"from (\d+)\)")


def _arrays(call: Call) -> list[tuple[str, np.ndarray]]:
    out = []
    for name, value in _arguments(call):
        if isinstance(value, np.ndarray) and value.ndim == 2:
            out.append((name, value))
        elif isinstance(value, dict):
            out += [(f"{name}[{k!r}]", v) for k, v in value.items() if isinstance(v, np.ndarray) and v.ndim == 2]
    return out


def error_findings(message: str, call: Call | None) -> list[Finding]:
    """Facts about an exception visible from the call's shapes (`A @ W` where `W.T` fits)."""
    if call is None:
        return []
    out = []
    m = _MATMUL.search(message)
    if m:
        rows_b, cols_a = int(m.group(1)), int(m.group(2))
        arrays = _arrays(call)
        for na, a in arrays:
            for nb, b in arrays:
                if a is b or a.shape[1] != cols_a:
                    continue
                if b.shape[0] == rows_b and b.shape[1] == cols_a:  # a @ b failed, a @ b.T fits
                    wrote, fits, shape = f"{na} @ {nb}", f"{na} @ {nb}.T", (a.shape[0], b.shape[0])
                    sizes = f"{a.shape} and {b.shape}"
                elif b.shape[1] == rows_b and b.shape[0] == cols_a:  # a @ b.T failed, a @ b fits
                    wrote, fits, shape = f"{na} @ {nb}.T", f"{na} @ {nb}", (a.shape[0], b.shape[1])
                    sizes = f"{a.shape} and {b.shape[::-1]}"
                else:
                    continue
                out.append(Finding(
                    f"wrote:{wrote}",
                    f"`{wrote}` cannot work with these shapes ({sizes}: the inner sizes {cols_a} and "
                    f"{rows_b} differ); `{fits}` fits, giving shape {shape}"))
    return out


# ---------------------------------------------------------------- per function


def _matches(f: Finding, e: Evidence, key: str, scope: str) -> bool:
    """`f` of evidence `e` is the explanation `(key, scope)` (an exception concerns every part)."""
    return f.key == key and (f.scope == scope or e.raised)


def _stated(key: str, scope: str, failing: list[Evidence]) -> bool:
    """The rule of `diagnose` for one explanation."""
    concerned = [e for e in failing if _concerns(e, scope)]
    if not all(any(_matches(f, e, key, scope) for f in e.findings) for e in concerned):
        return False
    proofs = [(e, any(f.strong for f in e.findings if _matches(f, e, key, scope) and f.proven))
              for e in concerned if any(_matches(f, e, key, scope) and f.proven for f in e.findings)]
    return any(strong and not e.degenerate for e, strong in proofs) or len(proofs) >= 2


def diagnose(evidence: list[Evidence]) -> dict[str, Diagnosis]:
    """The explanation to state once per function, by `module.function`.

    An explanation (a finding's key and scope) is stated when (1) it holds on every failing
    input of the function whose failure touches its scope (inputs that timed out or crashed say
    nothing), and (2) it is proven by a strong finding (one that rests on several numbers) on a
    non-degenerate input, or by findings on two inputs.
    Two catalogued mistakes that both fit are not named: either could be wrong.
    """
    by_function: dict[str, list[Evidence]] = {}
    for e in evidence:
        by_function.setdefault(e.function, []).append(e)
    out: dict[str, Diagnosis] = {}
    for function, items in by_function.items():
        failing = [e for e in items if not e.passed and not e.neutral]
        candidates: dict[tuple[str, str], Finding] = {}
        for e in failing:
            for f in e.findings:
                if f.proven:
                    candidates.setdefault((f.key, f.scope), f)
        stated = [f for (key, scope), f in candidates.items() if _stated(key, scope, failing)]
        catalog = list({f.mistake: f for f in stated if f.mistake}.values())
        if len(catalog) > 1:
            catalog = []  # two catalogued mistakes fit: naming either could be wrong
        generic = _one_per_scope_and_kind([f for f in stated if not f.mistake])
        if not catalog and not generic:
            continue
        out[function] = Diagnosis(function, tuple(f.statement for f in generic),
                                  catalog[0].mistake if catalog else None,
                                  catalog[0].statement if catalog else None)
    return out


ARGS = "args"
"""the scope of facts about the arguments as the call left them (not about the result)"""


def _concerns(e: Evidence, scope: str) -> bool:
    """Whether the failure `e` must show a finding of `scope` for it to be stated."""
    if scope == ARGS:
        return ARGS in e.scopes
    if scope == "":
        return any(s != ARGS for s in e.scopes)
    return scope in e.scopes or "" in e.scopes


def _kind(f: Finding) -> str:
    return "factor" if f.key.startswith("factor") else f.key.split(":")[0]


def _one_per_scope_and_kind(findings: list[Finding]) -> list[Finding]:
    """At most three facts, one per scope and kind. Several namings of one factor are the same
    number, so the first (by argument order) is kept; two facts of another kind that both fit
    (an off-by-one up and down, on an input where both give the same) say nothing: dropped."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.scope, _kind(f)), []).append(f)
    kept = [fs[0] for (_, kind), fs in groups.items() if kind == "factor" or len(fs) == 1]
    return kept[:3]


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
