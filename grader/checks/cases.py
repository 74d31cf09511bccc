"""What kind of input a call is, in words: the facts about its arguments that choose a branch of
the code ("`loss` is 'mse'", "the last of `activations` is 'softmax'", "`activations` has 1 entry").

`grader.checks.findings.diagnose` states from them where a function fails ("`backward` fails only
on inputs where `loss` is 'mse'"): every failing input has each fact it names, and for each fact a
passing input proves that the fact matters (see `findings._only_where`).

Only arguments that name a choice give facts: strings, `True`/`False`/`None`, and lists of strings
(by their last entry and their length). An argument the call leaves out is read at its default, as
the reference declares it (`grader.model.PARAMETER_DEFAULTS`).
"""

from __future__ import annotations

from typing import Any

from grader.model import PARAMETER_DEFAULTS, PARAMETER_NAMES, Call


def _arguments(call: Call) -> list[tuple[str, Any]]:
    """`(name, value)` of every argument: given by position or by name, else its literal default."""
    key = f"{call.module}.{call.function}"
    names = PARAMETER_NAMES.get(key, ())
    given = [(names[i] if i < len(names) else f"argument {i + 1}", a) for i, a in enumerate(call.args)]
    given += list(call.kwargs.items())
    named = {name for name, _ in given}
    return given + [(k, v) for k, v in PARAMETER_DEFAULTS.get(key, {}).items() if k not in named]


def _choice(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool))


def _facts(name: str, value: Any) -> list[str]:
    if _choice(value):
        return [f"`{name}` is {value!r}"]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        entries = "1 entry" if len(value) == 1 else f"{len(value)} entries"
        return [f"the last of `{name}` is {value[-1]!r}", f"`{name}` has {entries}"]
    return []


def features(call: Call) -> tuple[str, ...]:
    """The facts about `call`'s arguments that name a choice, in the order of the arguments."""
    return tuple(fact for name, value in _arguments(call) for fact in _facts(name, value))
