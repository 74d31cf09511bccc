"""Failed checks grouped for feedback: each distinct failure once, with the checks it explains.

A function whose code raises fails every check that calls it, and one wrong formula fails
every input it is tried on: the student needs the explanation once, and the count of checks
that the same fix repairs. Failures are grouped by *subject*, the function they call (or the
module, for problems of a whole file: missing, not importing, breaking the rules), and, within
a subject, by what went wrong: the named mistake when one is recognized, else the message
with the call and every number left out, except where a traceback says which line failed (so
"size 2 is different from 4" on one input and "size 3 is different from 5" on another, raised at
the same line, are one failure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.model import CheckResult, Problem

MODULE_PROBLEMS = (Problem.MISSING_MODULE, Problem.IMPORT_ERROR, Problem.POLICY)
"""problem kinds that concern a whole file, whatever function the check calls"""

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def subject_of(c: CheckResult) -> str:
    """What a failure is about: `module.function`, or `module.py` for a problem of the whole file."""
    return f"{c.module}.py" if c.problem in MODULE_PROBLEMS else f"{c.module}.{c.function}"


def _without_call(message: str) -> list[str]:
    """The lines of a check's message after the description of the call it made."""
    lines = message.splitlines()
    if lines and lines[0].startswith("called "):
        rest = lines[1:]
        if lines[0].endswith(" with"):  # one argument per indented line follows
            while rest and rest[0].startswith("  ") and not rest[0].lstrip().startswith("File "):
                rest = rest[1:]
        return rest
    return lines


def failure_key(c: CheckResult) -> tuple[str, ...]:
    """Failed checks of one subject with equal keys fail the same way (see the module docstring)."""
    if c.mistake:
        return ("mistake", c.mistake)
    # numbers vary with the inputs; a traceback's file and line say where it went wrong: kept
    body = [ln if ln.lstrip().startswith('File "') else _NUMBER.sub("#", ln) for ln in _without_call(c.message)]
    return (c.problem or "wrong", "\n".join(body))


@dataclass
class Failure:
    """One distinct failure: the check shown in full and the others it also explains."""

    shown: CheckResult
    others: list[CheckResult] = field(default_factory=list)

    @property
    def checks(self) -> list[CheckResult]:
        return [self.shown, *self.others]

    @property
    def points(self) -> float:
        return sum(c.max_score for c in self.checks)


@dataclass
class Subject:
    """The failures of one function (or file), with how many of its checks there are in all."""

    name: str
    failures: list[Failure]
    checks: int
    """all checks of this subject in the report, passed or not"""

    @property
    def failed(self) -> int:
        return sum(len(f.checks) for f in self.failures)

    @property
    def points(self) -> float:
        return sum(f.points for f in self.failures)


def group_failures(checks: list[CheckResult]) -> list[Subject]:
    """The failed checks among `checks`, by subject in the order first met, then by failure."""
    failures: dict[str, dict[tuple[str, ...], Failure]] = {}
    for c in checks:
        if not c.passed:
            same = failures.setdefault(subject_of(c), {})
            key = failure_key(c)
            if key in same:
                same[key].others.append(c)
            else:
                same[key] = Failure(c)
    subjects = []
    for name, by_key in failures.items():
        module_wide = name.endswith(".py")
        total = sum(1 for c in checks if (f"{c.module}.py" if module_wide else f"{c.module}.{c.function}") == name)
        subjects.append(Subject(name, list(by_key.values()), total))
    return subjects


def short_name(c: CheckResult, subject: str) -> str:
    """The check's name without the subject it is listed under (`module.` or `module.function: `)."""
    prefix = f"{subject}: " if not subject.endswith(".py") else f"{subject[:-3]}."
    name = c.name[len(prefix):] if c.name.startswith(prefix) else c.name
    return name if c.visible else f"{name} (hidden check)"
