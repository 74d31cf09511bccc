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

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from grader.worker.codec import Fn
from grader.worker.parsing import parse

__all__ = [
    "NEEDS_A_LOOK", "Call", "Catalog", "Check", "CheckResult", "Effects", "Fn", "Judge", "Limits", "Mistake",
    "Planned", "Problem", "StudentError", "SubmissionResult", "Verdict",
]


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

PARAMETER_DEFAULTS: dict[str, dict[str, Any]] = {}
"""`module.function -> {parameter: default}` for the defaults that are plain literals (numbers,
strings, True, False, None), read with the names: what a call that leaves them out passes"""


@dataclass(frozen=True)
class Planned:
    """A call a judge will make next, given to the worker's handle before it is asked for, so
    that it can be sent ahead (`grader.isolation.runner.StudentProcess.expect`)."""

    call: Call
    return_args: bool = False
    """asked for with the arguments as the call left them"""
    on_path: bool = False
    """made only if the call planned before it returned exactly `after`, bit for bit (a
    `Trajectory`'s next step along the reference's path); else made whatever that call returned"""
    after: Any = None
    """the value the call before must have returned, when `on_path`"""


def register_parameter_names(module: str, source: str) -> None:
    """Record the parameter names of the top-level functions in `source` (parsed, never run),
    and their literal defaults."""
    import ast

    try:
        tree = parse(source)
    except (SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            positional = node.args.args
            PARAMETER_NAMES[f"{module}.{node.name}"] = tuple(a.arg for a in positional)
            given = list(zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults))
            given += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
            PARAMETER_DEFAULTS[f"{module}.{node.name}"] = {
                a.arg: d.value for a, d in given if isinstance(d, ast.Constant)}


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
    mistakes among them (`grader.checks.findings.Finding`); the grading states one per function,
    once it holds on every failing input of that function"""
    scopes: tuple[str, ...] = ("",)
    """the parts of the result that differ (`""`: the whole result)"""
    degenerate: bool = False
    """the input is too small to tell similar mistakes apart (see `grader.checks.cases.is_degenerate`)"""
    hardcoded: bool = False
    """the check passed on its visible inputs but its hidden twin failed (`grader.checks.twins`)"""
    related: bool = False
    """the judge related the output to an expected value, so `findings` says all it can; a
    failing property check (a statistic, an exception, determinism) says nothing either way"""
    failed_on: tuple[Call, ...] = ()
    """a failing table's cases that failed (their calls); empty: every call the check judged"""
    right_on: tuple[Call, ...] = ()
    """a failing table's cases whose whole outputs were right (their calls)"""


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


@dataclass
class Limits:
    """Time, resource and isolation limits for one submission: the one place their defaults live
    (the command line, the course files and the Gradescope export read them from here)."""

    call_timeout: float = 10.0
    """seconds one function call may use: its wall-clock time minus the time it waited for a CPU
    held by other work (see `grader.isolation.proctime`)"""
    submission_timeout: float = 120.0
    """seconds all calls of one submission may use together, counted the same way: bounds what
    a hanging submission costs (its report says so when it is used up,
    `grader.isolation.runner.BUDGET_NOTICE`)"""
    memory_mb: int = 1024
    """address space of the worker, MiB (NumPy needs about 256)"""
    cpu_seconds: int | None = None
    """CPU seconds of one worker process; default: the submission timeout plus 5"""
    file_size_mb: int = 16
    """largest file the worker may write, MiB (its stdout and stderr files included)"""
    open_files: int = 64
    """file descriptors the worker may hold"""
    processes: int = 32
    """processes and threads the worker may run (itself included)"""
    result_elements: int = 4_000_000
    """numbers one reply may carry"""
    sandbox: str = "auto"
    """`auto`, `bwrap` or `none` (see `grader.isolation.sandbox`)"""
    runtime_guard: bool = True
    """the worker's import and system-call guard (`grader.worker.policy.Guard`); off only in tests
    that prove the sandbox holds without it"""
    unsafe_run_as_root: bool = False
    """let student code run as root (tier 2, grading as root, no unprivileged uid can run
    Python): refused otherwise (`grader.isolation.sandbox.check_root`; `--unsafe-run-as-root`)"""
    worker_templates: bool = True
    """fork each submission's worker from a template per grading thread
    (`grader.worker.forkserver`), where the tier allows (`grader.isolation.sandbox.uses_template`),
    instead of starting an interpreter"""


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


class Problem(StrEnum):
    """Why a call into a student's code produced no result: the one list of problem kinds.

    The value is what results.json, the CSVs and the payloads show; `title` is what a student
    reads. A `StudentError` carries one, and `CheckResult.problem` is one (or None).
    """

    MISSING_MODULE = "missing-module"
    MISSING_FUNCTION = "missing-function"
    IMPORT_ERROR = "import-error"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    CRASH = "crash"
    BAD_OUTPUT = "bad-output"
    POLICY = "policy"
    SKIPPED = "skipped"
    JUDGE_ERROR = "judge-error"

    @property
    def title(self) -> str:
        """The heading a student reads, e.g. "module does not import"."""
        return _TITLES[self]


_TITLES = {
    Problem.MISSING_MODULE: "file missing",
    Problem.MISSING_FUNCTION: "function missing",
    Problem.IMPORT_ERROR: "module does not import",
    Problem.EXCEPTION: "raised an exception",
    Problem.TIMEOUT: "timed out",
    Problem.CRASH: "crashed",
    Problem.BAD_OUTPUT: "returned something that is not plain numeric data",
    Problem.POLICY: "broke the rules",
    Problem.SKIPPED: "not run",
    Problem.JUDGE_ERROR: "could not be judged (a grader problem; tell your instructor)",
}

NEEDS_A_LOOK = (Problem.IMPORT_ERROR, Problem.TIMEOUT, Problem.CRASH, Problem.POLICY, Problem.MISSING_MODULE,
                Problem.BAD_OUTPUT)
"""the kinds that make a submission's grading status worth an instructor's look (`SubmissionResult.status`)"""


class StudentError(Exception):
    """A call into the student's code did not return usable data; `kind` says why (a `Problem`)."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = Problem(kind)
        self.message = message
        self.detail = detail
        self.call_text = ""
        """the call that failed, described for the student (set by the runner)"""
        self.call: Call | None = None
        """the call that failed (set by the runner), for the diagnosis of an exception"""


@dataclass
class CheckResult:
    """The outcome of one check for one submission."""

    assignment: str
    name: str
    module: str
    function: str
    max_score: float
    score: float
    visible: bool
    passed: bool
    message: str = ""
    hint: str | None = None
    mistake: str | None = None
    problem: str | None = None
    """the error kind when the student's code produced no result (see `StudentError`)"""
    diagnosis: str | None = None
    """facts about the function's mistake that hold on all its failing inputs (`grader.checks.diagnosis`)"""
    hardcoded: bool = False
    """passed on the visible inputs, failed on its hidden twin's: answers may be hard-coded"""


@dataclass
class SubmissionResult:
    """Everything graded about one submission, ready for the reports."""

    submission: str
    checks: list[CheckResult]
    execution_time: float
    output: str = ""
    """what the student's code printed (capped)"""
    notices: list[str] = field(default_factory=list)
    """lines every report shows first (e.g. that the run was not sandboxed)"""
    student_seconds: float = 0.0
    """wall-clock time the student's code ran inside its calls (measured in the worker)"""
    timed_out_seconds: float = 0.0
    """time spent in calls that timed out"""

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    def assignment_scores(self) -> dict[str, tuple[float, float]]:
        """`{assignment: (score, max_score)}` in grading order."""
        out: dict[str, tuple[float, float]] = {}
        for c in self.checks:
            s, m = out.get(c.assignment, (0.0, 0.0))
            out[c.assignment] = (round(s + c.score, 6), round(m + c.max_score, 6))
        return out

    @property
    def status(self) -> str:
        """`ok`, or the kinds of problem met, most frequent first (e.g. `timeout; crash`)."""
        kinds = Counter(c.problem for c in self.checks if c.problem in NEEDS_A_LOOK)
        return "; ".join(k for k, _ in kinds.most_common()) or "ok"
