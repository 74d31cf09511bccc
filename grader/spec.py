"""The vocabulary of an assignment: calls, checks, verdicts and known mistakes.

An assignment is data plus small functions. Its folder under `assignments/` holds

- `assignment.toml`: the student modules it grades, the import allowlist, the timeouts;
- `checks_visible.py` and `checks_hidden.py`: each defines `CHECKS: list[Check]`;
- `mistakes.py`: defines `MISTAKES = Catalog(module)` and declares each wrong implementation
  with `@MISTAKES.mistake(function, name, hint)`; a student's output equal to one of theirs
  names the student's bug.

The engine never names a neural-network concept: it only moves `Call`s to a worker,
computes expected values with the reference, and asks a `Judge` for a `Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from grader.codec import Fn

__all__ = ["Call", "Catalog", "Check", "Effects", "Fn", "Judge", "Mistake", "StudentError", "Verdict"]


@dataclass(frozen=True)
class Call:
    """One call of an API function: `module.function(*args, **kwargs)`."""

    module: str
    """the student module, e.g. `"forward"`"""
    function: str
    """the API function, e.g. `"softmax"`"""
    args: tuple[Any, ...] = ()
    """positional arguments: plain numbers, strings, arrays, lists, tuples, dicts, `Fn`"""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """keyword arguments, same kinds as `args`"""

    def describe(self, limit: int = 160) -> str:
        """The call for a student: one line when short, else one line per argument by name."""
        names = list(PARAMETER_NAMES.get(f"{self.module}.{self.function}", ()))
        names += [f"argument {i + 1}" for i in range(len(names), len(self.args))]
        pairs = list(zip(names, (describe_value(a) for a in self.args), strict=False))
        pairs += [(k, describe_value(v)) for k, v in self.kwargs.items()]
        short = f"{self.function}({', '.join(f'{k}={v}' for k, v in pairs)})"
        if len(short) <= limit:
            return short
        lines = [f"{self.function} with"]
        for k, v in pairs:
            line = f"  {k} = {v}"
            lines.append(line if len(line) <= limit else line[: limit - 4] + " ...")
        return "\n".join(lines)


PARAMETER_NAMES: dict[str, tuple[str, ...]] = {}
"""`module.function -> parameter names`, read from the reference (or the template's stubs) so
feedback can say `W = ...` instead of `argument 3 = ...`; see `register_parameter_names`."""


def register_parameter_names(module: str, source: str) -> None:
    """Record the parameter names of the top-level functions in `source` (parsed, never run)."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            PARAMETER_NAMES[f"{module}.{node.name}"] = tuple(a.arg for a in node.args.args)


def describe_value(value: Any) -> str:
    """Describe an argument briefly: small arrays in full, large ones by shape and dtype."""
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.size <= 8:  # in full, with its shape (a (1, 3) and a (3,) array look alike)
            body = _nested(value.tolist())
            kind = f"shape {value.shape}" + ("" if value.dtype == np.float64 else f" {value.dtype}")
            return f"{body} ({kind})"
        return f"<array {value.shape} {value.dtype}>"
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {describe_value(v)}" for k, v in value.items())
        if len(inner) > 100:  # long: arrays by shape only, so every key stays in view
            inner = ", ".join(
                f"{k!r}: {f'<array {v.shape}>' if isinstance(v, np.ndarray) else describe_value(v)}"
                for k, v in value.items()
            )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe_value(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, Fn):
        return value.source
    return repr(value)


def _nested(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_nested(v) for v in x) + "]"
    return f"{x:.4g}" if isinstance(x, float) else repr(x)


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation of one API function (trusted side only)."""

    module: str
    function: str
    name: str
    """a short name, e.g. `"softmax over the wrong axis"`"""
    hint: str
    """what the student should change, written for a student at 2 a.m."""
    impl: Callable[..., Any]
    """same signature as the API function; computes the wrong output"""


Impl = TypeVar("Impl", bound=Callable[..., Any])


class Catalog:
    """The known mistakes of one student module, in the order they are declared.

    A `mistakes.py` declares each mistake on its wrong implementation:

        MISTAKES = Catalog("forward")

        @MISTAKES.mistake("softmax", "softmax over the wrong axis",
                          "Normalize each row: ...")
        def softmax_axis0(Z):
            ...

    Iterating gives the `Mistake`s in declaration order (the order the grader runs them in).
    """

    def __init__(self, module: str) -> None:
        self.module = module
        """the student module whose functions the mistakes imitate, e.g. `"forward"`"""
        self._mistakes: list[Mistake] = []

    def mistake(self, function: str, name: str, hint: str) -> Callable[[Impl], Impl]:
        """Declare the decorated function a wrong implementation of `module.function`.

        The function is returned unchanged. A second mistake with the same `name` for the same
        function, or a function declared twice, is a `ValueError`.
        """

        def declare(impl: Impl) -> Impl:
            for m in self._mistakes:
                if m.function == function and m.name == name:
                    raise ValueError(f"{self.module}.{function} has two mistakes named {name!r}")
                if m.impl is impl:
                    raise ValueError(f"{impl.__name__} is declared twice ({m.name!r} and {name!r})")
            self._mistakes.append(Mistake(self.module, function, name, hint, impl))
            return impl

        return declare

    def __iter__(self) -> Iterator[Mistake]:
        return iter(self._mistakes)

    def __len__(self) -> int:
        return len(self._mistakes)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check for one submission."""

    passed: bool
    message: str = ""
    """what was called, expected vs got; empty when passed"""
    hint: str | None = None
    """the named mistake this output matches, when one does"""
    mistake: str | None = None
    """the name of that mistake (counted in class summaries)"""
    findings: tuple[Any, ...] = ()
    """facts relating the wrong output to the expected one and to the inputs, catalogued
    mistakes among them (`grader.diagnosis.Finding`); the grading states one per function,
    once it holds on every failing input of that function"""
    scopes: tuple[str, ...] = ("",)
    """the parts of the result that differ (`""`: the whole result)"""
    degenerate: bool = False
    """the input is too small to tell similar mistakes apart (see `grader.diagnosis.is_degenerate`)"""
    hardcoded: bool = False
    """the check passed on its visible inputs but its hidden twin failed (`grader.twins`)"""
    related: bool = False
    """the judge related the output to an expected value, so `findings` says all it can; a
    failing property check (a statistic, an exception, determinism) says nothing either way"""


@dataclass(frozen=True)
class Effects:
    """What one call of the student's code did besides returning (reported by the worker)."""

    warnings: tuple[str, ...] = ()
    """the RuntimeWarnings it raised, with NumPy's default error settings (at most a few)"""
    global_rng: bool = False
    """whether it used NumPy's global random state (`np.random.seed`, `np.random.normal`, ...)"""


class StudentHandle(Protocol):
    """What a judge may do with the student: call functions, nothing else."""

    last_effects: Effects
    """what the last call that returned did besides returning"""

    def call(self, call: Call, return_args: bool = False) -> Any:
        """Run `call` in the worker; returns plain data, or raises `StudentError`."""
        ...


class ReferenceHandle(Protocol):
    """What a judge may do with the reference, on the trusted side only."""

    def call(self, call: Call) -> Any:
        """Run `call` on the reference (on copies of the arguments)."""
        ...

    def module(self, name: str) -> Any:
        """The reference module `name` (e.g. to call its functions in an `expect`)."""
        ...

    def function(self, call: Call) -> Callable[..., Any]:
        """The reference function `call` names (for its signature)."""
        ...

    def mistake_outputs(self, call: Call, return_args: bool = False) -> list[tuple[str, str, Any]]:
        """`(name, hint, output)` for every catalogued mistake of `call`'s function.

        With `return_args`, each output is `{"result": ..., "args": [...]}` (the positional
        arguments as the mistake left them), like `StudentHandle.call(call, return_args=True)`.
        """
        ...


class Judge(Protocol):
    """How one check calls the student and decides. Expected data is plain data."""

    def expected(self, ref: ReferenceHandle) -> Any:
        """Compute everything the verdict needs from the reference (once per run)."""
        ...

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        """Call the student and compare with `expected`."""
        ...


@dataclass(frozen=True)
class Check:
    """One graded check: `module.function: what`, worth `points`."""

    module: str
    function: str
    what: str
    points: float
    judge: Judge
    visible: bool = True
    """visible checks run in `grade check`; hidden ones only when the instructor grades"""

    @property
    def name(self) -> str:
        return f"{self.module}.{self.function}: {self.what}"


class StudentError(Exception):
    """A call into the student's code did not return usable data.

    `kind` is one of: "missing-module", "missing-function", "import-error", "exception",
    "timeout", "crash", "bad-output", "policy", "skipped".
    """

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail
        self.call_text = ""
        """the call that failed, described for the student (set by the runner)"""
        self.call: Call | None = None
        """the call that failed (set by the runner), for the diagnosis of an exception"""
