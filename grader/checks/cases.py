"""What kind of input a call is: too small to tell mistakes apart (`is_degenerate`), and, in
words, the facts about its arguments that choose what the code does (`features`: "`loss` is
'mse'", "the last of `activations` is 'softmax'", "`activations` has 1 entry", "`lam` is 0").

`grader.checks.findings.diagnose` states from the features where a function fails ("`backward`
fails only on inputs where `loss` is 'mse'"): every failing input has each feature it names, and
for each one a passing input proves that it matters (see `findings._only_where`).

Features come from the arguments that name a choice: strings, `True`/`False`/`None`, lists of
strings (by their last entry, their length, and whether they have more than one entry: a loop
over layers that only a one-layer network skips), and real-valued settings by whether they are 0,
which turns them off (`lr_min = 0`, `lam = 0`). A real-valued setting is a parameter whose
default the reference declares as a float literal. Other numbers are data or counts: whether a
label `y`, an epoch or a seed is 0 tells of the data, not of a branch (a perceptron's inputs
that happen to be classified right may all have `y = 1`; the checks with seed 0 may all be of
one method). An argument the call leaves out is read at its default, as the reference declares
it (`grader.model.PARAMETER_DEFAULTS`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.model import PARAMETER_DEFAULTS, PARAMETER_NAMES, Call


def arguments(call: Call, defaults: bool = False) -> list[tuple[str, Any]]:
    """`(name, value)` of every argument the call gives, by position (named as the reference
    names its parameters, else `argument 3`) or by name; with `defaults`, also the literal
    default of each parameter it leaves out."""
    key = f"{call.module}.{call.function}"
    names = PARAMETER_NAMES.get(key, ())
    given = [(names[i] if i < len(names) else f"argument {i + 1}", a) for i, a in enumerate(call.args)]
    given += list(call.kwargs.items())
    if not defaults:
        return given
    named = {name for name, _ in given}
    return given + [(k, v) for k, v in PARAMETER_DEFAULTS.get(key, {}).items() if k not in named]


def is_number_list(x: Any) -> bool:
    """A non-empty list (or tuple) of plain numbers, not booleans."""
    return bool(x) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                           for v in x)


def is_degenerate(call: Call) -> bool:
    """An input too small to tell similar mistakes apart: an axis of length 1, a list of one entry
    (or two numbers: one layer's sizes), a dict of one or two entries."""
    for _, value in arguments(call):
        if isinstance(value, np.ndarray) and value.ndim >= 1 and min(value.shape) <= 1:
            return True
        if isinstance(value, (list, tuple)) and (len(value) == 1 or len(value) == 2 and is_number_list(value)):
            return True
        if isinstance(value, dict) and 0 < len(value) <= 2:
            return True
    return False


def _facts(name: str, value: Any, setting: bool) -> list[str]:
    if value is None or isinstance(value, (str, bool)):
        return [f"`{name}` is {value!r}"]
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not setting or not np.isfinite(value):
            return []
        return [f"`{name}` is 0" if value == 0 else f"`{name}` is not 0"]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        if len(value) == 1:
            return [f"the last of `{name}` is {value[-1]!r}", f"`{name}` has 1 entry"]
        return [f"the last of `{name}` is {value[-1]!r}", f"`{name}` has {len(value)} entries",
                f"`{name}` has more than 1 entry"]
    return []


def features(call: Call) -> tuple[str, ...]:
    """The facts about `call`'s arguments that name a choice, in the order of the arguments."""
    defaults = PARAMETER_DEFAULTS.get(f"{call.module}.{call.function}", {})
    return tuple(fact for name, value in arguments(call, defaults=True)
                 for fact in _facts(name, value, isinstance(defaults.get(name), float)))
