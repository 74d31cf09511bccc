"""Generic judges: how a check calls the student and decides.

Each judge is a small frozen dataclass with two methods:

- `expected(ref)`: everything the verdict needs, computed from the reference on the trusted
  side, once per run (or frozen into the student template for visible checks);
- `judge(student, expected)`: calls the student through the worker and returns a `Verdict`.

None of them knows anything about neural networks; assignments combine them with their own
inputs, tolerances and predicates.
"""

from __future__ import annotations

import inspect
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from grader.checks.cases import is_degenerate
from grader.checks.compare import EXACT, VALUE, Tolerance, difference, kind_of
from grader.checks.diagnosis import catalog_findings, error_findings, mistake_key, part_subject, value_findings
from grader.checks.findings import ARGS, Finding
from grader.checks.returns import RETURN_NAMES, position
from grader.checks.variants import defaults, reference_variants
from grader.model import Call, Effects, Planned, ReferenceHandle, StudentError, StudentHandle, Verdict, describe_value
from grader.worker import codec

# Central differences with h = 1e-5 carry an absolute error of about eps * |f| / h ~ 1e-11 for
# functions of order 1; entries whose absolute error is below 1e-8 pass whatever their relative
# error (tiny entries), while every real bug shifts the large entries far more.
GRADIENT_ATOL = 1e-8


_DEGENERATE: dict[int, tuple[Call, bool]] = {}
"""`id(call) -> (call, is_degenerate(call))`: a check's calls live as long as the course, and
whether an input is degenerate depends on the call alone"""
DEGENERATE_KEPT = 8192


def planned_calls(judge: Any) -> tuple[tuple[Call, bool], ...] | None:
    """The calls `judge.judge` will make, in order, as `(call, return_args)`, whatever they
    return, as long as each returns a value: a judge may stop early only when a call raises.
    None when they depend on what the student's calls return (or the judge does not say).

    The worker is sent these calls together (`grader.isolation.runner.StudentProcess.expect`):
    a judge that makes calls other than these, or skips one after a call that returned, makes
    the student's code run calls it would not have run (tests/checks/test_planned_calls.py).
    """
    calls = getattr(judge, "calls", None)
    return calls() if callable(calls) else None


def judged_calls(judge: Any) -> tuple[Call, ...]:
    """The calls whose outputs `judge` judges, as written in the check (a trajectory's first step)."""
    if isinstance(judge, Sequence):
        return tuple(c for j in judge.judges for c in judged_calls(j))
    call = getattr(judge, "call", None)
    if isinstance(call, Call):
        return (call,)
    inner = getattr(judge, "inner", None)
    return judged_calls(inner) if inner is not None else ()


WHOLE = ""
"""`compared`: the judge compares whole outputs"""


def compared(judge: Any) -> str | None:
    """What of each output `judge` compares with an expected value, so that passing means it was
    right: `WHOLE`, one part (`"[1]"`: the second returned value), or None for a judge that
    checks a property of the output or of the arguments (or a table that mixes these)."""
    if isinstance(judge, Sequence):
        kinds = {compared(j) for j in judge.judges}
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(judge, Clean):
        return compared(judge.inner)
    if isinstance(judge, Part):
        return f"[{judge.index}]" if compared(judge.inner) == WHOLE else None
    return WHOLE if isinstance(judge, (Close, Gradient, DirectionalGradient, Trajectory)) else None


def calls_on_path(judge: Any, expected: Any) -> tuple[Planned, ...] | None:
    """The calls `judge` makes while the student's calls return the reference's outputs bit for
    bit, for a judge whose calls depend on what they return (`Trajectory.calls_on_path`); None
    for a judge that does not say."""
    on_path = getattr(judge, "calls_on_path", None)
    return on_path(expected) if callable(on_path) and expected is not None else None


def case_expected(judge: Any, expected: Any, call: Call) -> Any:
    """What `judge` expects of `call`: for a table (`Sequence`), the expected data of its case
    that makes `call` (the same object); else `expected`."""
    if isinstance(judge, Satisfies):
        return _property_parts(expected)[1]
    if isinstance(judge, Sequence) and isinstance(expected, list):
        for j, e in zip(judge.judges, expected, strict=False):
            if any(c is call for c, _ in planned_calls(j) or ()):
                return case_expected(j, e, call)
    return expected


def expects_error(judge: Any) -> bool:
    """Whether `judge` expects its call to raise (`Raises`, also inside `Clean` or `Part`): the
    worker stops the calls sent after one that raised, so a plan is better ended there."""
    while not isinstance(judge, Raises) and hasattr(judge, "inner"):
        judge = judge.inner
    return isinstance(judge, Raises)


def _degenerate(call: Call) -> bool:
    """`is_degenerate(call)`, remembered per call object (the call is kept, so its id is not reused)."""
    kept = _DEGENERATE.get(id(call))
    if kept is not None and kept[0] is call:
        return kept[1]
    answer = is_degenerate(call)
    if len(_DEGENERATE) >= DEGENERATE_KEPT:
        _DEGENERATE.clear()
    _DEGENERATE[id(call)] = (call, answer)
    return answer


def _failed(call: Call, message: str, note: str = "") -> str:
    text = f"called {call.describe()}\n{message}"
    return f"{text}\n{note}" if note else text


def _mistake_runs(ref: ReferenceHandle, call: Call) -> list[tuple[str, str, Any, bool]]:
    """`(name, hint, output, raised)`; a handle without `mistake_runs` reports None as raised."""
    runs = getattr(ref, "mistake_runs", None)
    if runs is not None:
        return runs(call)
    return [(name, hint, out, out is None) for name, hint, out in ref.mistake_outputs(call)]


def useful_mistakes(ref: ReferenceHandle, call: Call, correct: Any, tol: Tolerance) -> list[Any]:
    """Mistake outputs on `call` that differ from the correct output (so they can be named);
    a mistake may return None where a value is expected (that is its output, not a failure)."""
    return [
        [name, hint, out]
        for name, hint, out, raised in _mistake_runs(ref, call)
        if not raised and difference(out, correct, tol) is not None
    ]


def returned_names(student: StudentHandle, call: Call) -> tuple[str, ...]:
    """The handout's names of the values `call` returns; none when `student` gives one part (`Part`)."""
    return () if isinstance(student, _PartOfStudent) else RETURN_NAMES.get(f"{call.module}.{call.function}", ())


def verdict_for(got: Any, exp: dict[str, Any], call: Call, tol: Tolerance, note: str = "",
                names: tuple[str, ...] = ()) -> Verdict:
    """Compare `got` with `exp["value"]`; a failure carries the facts that relate the two
    (`grader.checks.diagnosis`), catalogued mistakes whose output `got` equals among them."""
    degenerate = _degenerate(call)
    msg = difference(got, exp["value"], tol, names=names)
    if msg is None:
        return Verdict(True, degenerate=degenerate, related=True)
    findings, scopes = value_findings(got, exp, call)
    findings = catalog_findings(got, exp.get("mistakes", []), tol) + findings
    return Verdict(False, _failed(call, msg, note), findings=tuple(findings), scopes=tuple(scopes),
                   degenerate=degenerate, related=True)


def neighbors(ref: ReferenceHandle, call: Call, value: Any, tol: Tolerance) -> list[list[Any]]:
    """`[argument, change, output]`: the reference's output on a variant of `call` with one argument
    changed, where that differs from `value` (`grader.checks.variants.reference_variants`)."""
    return reference_variants(ref, call, value, tol)


def _reference_gives(ref: ReferenceHandle, call: Call, value: Any, tol: Tolerance) -> bool:
    try:
        return difference(ref.call(call), value, tol) is None
    except Exception:
        return False


def _diagnosis_extras(ref: ReferenceHandle, call: Call, value: Any, tol: Tolerance, with_neighbors: bool) -> dict:
    """Reference values a wrong output may equal: intermediates, results of moved arguments, and
    the catalogued mistakes that raise on this input."""
    extras: dict[str, Any] = {}
    trace = getattr(ref, "intermediates", None)
    if trace is not None:
        extras["intermediates"] = trace(call, value)
    if with_neighbors:
        extras["neighbors"] = neighbors(ref, call, value, tol)
    extras["raising"] = [name for name, _, _, raised in _mistake_runs(ref, call) if raised]
    # the numbers the call leaves to their defaults (`h=1e-5`) name factors as its arguments do
    extras["defaults"] = [[name, v] for name, v in defaults(ref, call).items()
                          if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return extras


@dataclass(frozen=True)
class Close:
    """The student's output equals the reference's (or `expect(ref)`) within `tol`."""

    call: Call
    tol: Tolerance = VALUE
    expect: Callable[[ReferenceHandle], Any] | None = None
    """expected value from the reference; default: the reference on the same call"""
    note: str = ""
    """a sentence added to the feedback when the check fails (e.g. the lecture's values)"""
    mistakes: bool = True
    """False where the input cannot tell mistakes apart (say, a single 0/1 output, which every
    wrong implementation gets by chance half the time): its findings, catalogued mistakes among
    them, prove nothing, but a fact it does not show is contradicted"""

    def expected(self, ref: ReferenceHandle) -> Any:
        value = self.expect(ref) if self.expect else ref.call(self.call)
        named = useful_mistakes(ref, self.call, value, self.tol)  # also to be contradicted (`judge`)
        # Variants of the call are compared with the reference's own function: also where the
        # expected value comes from elsewhere, as long as that function gives it too.
        agrees = self.expect is None or _reference_gives(ref, self.call, value, self.tol)
        extras = _diagnosis_extras(ref, self.call, value, self.tol, agrees)
        if not self.mistakes:
            extras.pop("raising", None)  # an exception here says nothing either way, as before
        return {"value": value, "mistakes": named, **extras}

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.call, False),)

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        verdict = verdict_for(student.call(self.call), expected, self.call, self.tol, self.note,
                              returned_names(student, self.call))
        if self.mistakes or verdict.passed:
            return verdict
        # An input that cannot tell mistakes apart proves none, not even a catalogued one: what
        # it shows only agrees with the other inputs, and what it does not show is not the mistake.
        return replace(verdict, findings=tuple(replace(f, proven=False) for f in verdict.findings))


@dataclass(frozen=True)
class Raises:
    """The call raises `exception` (as the reference does)."""

    call: Call
    exception: str = "ValueError"

    def expected(self, ref: ReferenceHandle) -> Any:
        try:
            ref.call(self.call)
        except Exception as exc:  # the reference must raise the declared exception
            if type(exc).__name__ != self.exception:
                raise
            return self.exception
        raise AssertionError(f"the reference does not raise {self.exception} on {self.call.describe()}")

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.call, False),)

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        try:
            got = student.call(self.call)
        except StudentError as err:
            if err.kind == "exception" and err.message.startswith(f"{expected}:"):
                return Verdict(True)
            if err.kind != "exception":
                raise
            # another exception: what it shows of its cause is a fact about this input as any is
            findings = tuple(error_findings(err.message, self.call, err.detail))
            return Verdict(False, _failed(self.call, f"expected {expected}, but it raised {err.message}"),
                           findings=findings, degenerate=is_degenerate(self.call), related=bool(findings))
        return Verdict(False, _failed(self.call, f"expected {expected} to be raised, but it returned {kind_of(got)}"))


@dataclass(frozen=True)
class Unchanged:
    """The call leaves its array (and dict-of-array) arguments exactly as they were.

    With `mistakes=True`, a change is named after the catalogued mistake that leaves the
    arguments as the student's code did (within `tol`), when one does: its expected data holds,
    for every mistake that changes an argument on this call, the arguments as it leaves them.
    `hint` replaces the general advice (say, for a function that must restore what it perturbs).
    """

    call: Call
    mistakes: bool = False
    hint: str = (
        "Work on copies (`W - lr * dW`, `x.copy()`), never on the arrays you were given: "
        "`x -= ...`, `x[i] = ...` and `d[key] = ...` change the caller's data."
    )
    tol: Tolerance = VALUE

    def _changed(self, after: list[Any]) -> str | None:
        for before, now in zip(self.call.args, after, strict=False):
            if isinstance(before, (np.ndarray, dict, list)):
                msg = difference(now, before, EXACT)
                if msg:
                    return msg
        return None

    def expected(self, ref: ReferenceHandle) -> Any:
        names = list(inspect.signature(ref.function(self.call)).parameters)
        out: dict[str, Any] = {"names": names[: len(self.call.args)]}
        if self.mistakes:
            out["mistakes"] = [
                [name, hint, after["args"]]
                for name, hint, after in ref.mistake_outputs(self.call, return_args=True)
                if after is not None and self._changed(after["args"])
            ]
        return out

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.call, True),)

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        after = student.call(self.call, return_args=True)["args"]
        for name, before, now in zip(expected["names"], self.call.args, after, strict=False):
            if isinstance(before, (np.ndarray, dict, list)):
                msg = difference(now, before, EXACT)
                if msg:
                    text = _failed(self.call, f"it changed its argument `{name}` in place: {msg}")
                    findings = tuple(
                        Finding(mistake_key(m_name), m_hint, scope=ARGS, mistake=m_name)
                        for m_name, m_hint, m_after in expected.get("mistakes", [])
                        if all(
                            difference(got, want, self.tol) is None
                            for b, got, want in zip(self.call.args, after, m_after, strict=False)
                            if isinstance(b, (np.ndarray, dict, list))
                        )
                    )
                    # That the input changed is certain: the general advice stands unless the
                    # diagnosis of the function names the catalogued mistake behind it.
                    return Verdict(False, text, hint=self.hint, mistake="input modified in place",
                                   findings=findings, scopes=(ARGS,), degenerate=_degenerate(self.call),
                                   related=True)
        return Verdict(True)


@dataclass(frozen=True)
class Repeatable:
    """Two identical calls return identical results (e.g. the same seed, the same params)."""

    call: Call

    def expected(self, ref: ReferenceHandle) -> Any:
        return None

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.call, False), (self.call, False))

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        first, second = student.call(self.call), student.call(self.call)
        msg = difference(second, first, EXACT, names=returned_names(student, self.call))
        if msg:
            return Verdict(False, _failed(self.call, f"two identical calls gave different results: {msg}"))
        return Verdict(True)


@dataclass(frozen=True)
class Differs:
    """Two different calls (e.g. two seeds) do not return identical results."""

    first: Call
    second: Call

    def expected(self, ref: ReferenceHandle) -> Any:
        return None

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.first, False), (self.second, False))

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        a, b = student.call(self.first), student.call(self.second)
        if difference(a, b, EXACT) is None:
            return Verdict(
                False,
                f"called {self.first.describe()} and {self.second.describe()}\n"
                "both returned exactly the same result; they should differ",
            )
        return Verdict(True)


PROPERTY_DIAGNOSIS_MAX = 5000
"""numbers a property check's output may hold for the diagnosis to keep the reference's output
and its variants: a large one (a random initialisation of a 784-128-64-10 network) would put
megabytes into every run's expected data for little"""


def _count_numbers(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, dict):
        return sum(_count_numbers(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_count_numbers(v) for v in value)
    return 1


@dataclass(frozen=True)
class Satisfies:
    """The student's output passes `predicate(got, expected) -> message or None`.

    For properties any correct implementation has (statistics, invariants), where the exact
    value is not fixed by the API.
    """

    call: Call
    predicate: Callable[[Any, Any], str | None]
    expect: Callable[[ReferenceHandle], Any] | None = None
    hint: str | None = None

    def expected(self, ref: ReferenceHandle) -> Any:
        """`{"property": expect(ref), "reference": ...}`: what the predicate is given, and the
        reference's own output on the call with what the diagnosis relates a failing output to
        (as `Close` has them; None when the reference's output does not pass the predicate).
        Only the first is frozen into the student template (`TRUSTED_ONLY`)."""
        wanted = self.expect(ref) if self.expect else None
        return {"property": wanted, "reference": self._reference(ref, wanted)}

    def _reference(self, ref: ReferenceHandle, wanted: Any) -> dict[str, Any] | None:
        try:
            value = ref.call(self.call)
            with np.errstate(all="ignore"):
                if self.predicate(value, wanted):
                    return None
        except Exception:  # the reference refuses the call: nothing to relate to
            return None
        if _count_numbers(value) > PROPERTY_DIAGNOSIS_MAX:
            return None
        return {"value": value, "mistakes": useful_mistakes(ref, self.call, value, VALUE),
                **_diagnosis_extras(ref, self.call, value, VALUE, True)}

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.call, False),)

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        """A failing output is also related to the reference's (when the data has it): the facts
        found are evidence for the diagnosis; without a proven one, the check stays neutral."""
        wanted, reference = _property_parts(expected)
        got = student.call(self.call)
        with np.errstate(all="ignore"):  # a student's NaN or inf is judged, not warned about
            msg = self.predicate(got, wanted)
        if not msg:
            return Verdict(True)
        findings: list[Finding] = []
        scopes: list[str] = [""]
        if reference is not None and difference(got, reference["value"], VALUE) is not None:
            findings, scopes = value_findings(got, reference, self.call)
            findings = catalog_findings(got, reference["mistakes"], VALUE) + findings
        if not any(f.proven for f in findings):  # nothing proven (or only what fails to contradict)
            findings = []
        return Verdict(False, _failed(self.call, msg), hint=self.hint, findings=tuple(findings),
                       scopes=tuple(scopes), degenerate=_degenerate(self.call), related=bool(findings))


def _property_parts(expected: Any) -> tuple[Any, dict[str, Any] | None]:
    """`(what the predicate is given, the reference's data or None)` of a `Satisfies`'s expected
    data; data of another form (a test's own, or None) is all the predicate's."""
    if isinstance(expected, dict) and set(expected) == {"property", "reference"}:
        return expected["property"], expected["reference"]
    if isinstance(expected, dict) and set(expected) == {"property"}:  # frozen for students
        return expected["property"], None
    return expected, None


@dataclass(frozen=True)
class Gradient:
    """An analytic gradient equals central differences of the reference's function.

    `expect(ref)` returns the numerical gradient (see `grader.checks.numgrad`); the comparison uses
    the relative error of gradient checking, `|a - n| / max(1e-8, |a| + |n|)`.
    """

    call: Call
    expect: Callable[[ReferenceHandle], Any]
    max_relative_error: float = 1e-6
    note: str = ""
    atol: float = GRADIENT_ATOL

    def expected(self, ref: ReferenceHandle) -> Any:
        value = self.expect(ref)
        extras = _diagnosis_extras(ref, self.call, value, self._tol, True)
        return {"value": value, "mistakes": useful_mistakes(ref, self.call, value, self._tol), **extras}

    @property
    def _tol(self) -> Tolerance:
        return Tolerance(rtol=self.max_relative_error, atol=self.atol, mode="relative")

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.call, False),)

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        note = self.note or (
            f"compared with central differences; relative error must stay below {self.max_relative_error:g}"
        )
        return verdict_for(student.call(self.call), expected, self.call, self._tol, note,
                           returned_names(student, self.call))


@dataclass(frozen=True)
class DirectionalGradient:
    """A large gradient (a dict of arrays) checked along random directions and coordinates.

    `expect(ref)` returns `grader.checks.numgrad.directional_probes(...)`: random directions `u_i`
    with the numerical directional derivatives `(f(p + h u_i) - f(p - h u_i)) / 2h`, and sampled
    coordinates with their numerical partial derivatives. Each costs the trusted side two loss
    evaluations, whatever the number of parameters.
    """

    call: Call
    expect: Callable[[ReferenceHandle], Any]
    max_relative_error: float = 1e-6
    mistakes: bool = True

    def expected(self, ref: ReferenceHandle) -> Any:
        probes = self.expect(ref)
        if self.mistakes:
            outs = ref.mistake_outputs(self.call)
            probes["mistakes"] = [
                [name, hint, project(out, probes)] for name, hint, out in outs if isinstance(out, dict)
            ]
            # the variants of the call (`grader.checks.variants`), projected on the same directions
            tol = Tolerance(rtol=self.max_relative_error, atol=GRADIENT_ATOL, mode="relative")
            probes["neighbors"] = [
                [name, change, project(out, probes)[0]]
                for name, change, out in reference_variants(ref, self.call, ref.call(self.call), tol)
                if _shape_difference(out, probes["shapes"]) is None
            ]
        return probes

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """The calls `judge` makes, in order, whatever they return (see `planned_calls`)."""
        return ((self.call, False),)

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        got = student.call(self.call)
        keys = list(expected["shapes"])
        msg = _shape_difference(got, expected["shapes"])
        if msg:
            return Verdict(False, _failed(self.call, msg))
        projected = project(got, expected)
        tol = Tolerance(rtol=self.max_relative_error, atol=GRADIENT_ATOL, mode="relative")
        for label, g, n in (
            ("directional derivatives along random directions", projected[0], expected["directional"]),
            ("sampled partial derivatives", projected[1], expected["partial"]),
        ):
            msg = difference(g, n, tol)
            if msg:
                detail = msg
                if label.startswith("sampled"):
                    i = int(np.argmax(np.abs(g - n)))
                    key, flat = expected["coords"][i]
                    idx = np.unravel_index(int(flat), tuple(expected["shapes"][key]))
                    detail = (
                        f"d loss / d {key}{list(int(j) for j in idx)}: numerical {n[i]:.6g}, "
                        f"yours {g[i]:.6g}; " + msg
                    )
                findings = catalog_findings(projected, expected.get("mistakes", []), tol)
                along, _ = value_findings(projected[0], {"value": expected["directional"],
                                                         "neighbors": expected.get("neighbors", [])}, self.call)
                findings += [replace(f, subject="your gradient (along random directions)")
                             for f in along if f.key.startswith(("factor", "neighbor:"))]
                note = (
                    f"checked {len(expected['directional'])} random directions and "
                    f"{len(expected['partial'])} coordinates over keys {keys}"
                )
                return Verdict(
                    False,
                    _failed(self.call, f"{label} disagree with central differences: {detail}", note),
                    findings=tuple(findings),
                    degenerate=_degenerate(self.call),
                    related=True,
                )
        return Verdict(True, degenerate=_degenerate(self.call), related=True)


def _shape_difference(got: Any, shapes: dict[str, Any]) -> str | None:
    if not isinstance(got, dict):
        return f"expected a dict with keys {sorted(shapes)}, got {kind_of(got)}"
    if set(got) != set(shapes):
        return f"expected keys {sorted(shapes)}, got keys {sorted(got)}"
    for k, shape in shapes.items():
        g = got[k]
        if not isinstance(g, np.ndarray) or g.shape != tuple(shape):
            return f"[{k!r}]: expected a NumPy array of shape {tuple(shape)}, got {kind_of(g)}"
        if not np.isfinite(g).all():
            return f"[{k!r}]: contains NaN or inf"
    return None


def project(grads: dict[str, Any], probes: dict[str, Any]) -> list[np.ndarray]:
    """`[directional derivatives, sampled partials]` of a gradient dict along `probes`."""
    directional = np.array(
        [sum(float(np.vdot(np.asarray(grads[k], dtype=np.float64), u[k])) for k in u) for u in probes["directions"]]
    )
    partial = np.array([float(np.asarray(grads[k], dtype=np.float64).ravel()[int(i)]) for k, i in probes["coords"]])
    return [directional, partial]


@dataclass(frozen=True)
class Sequence:
    """Several calls judged together: all must pass (e.g. a table of inputs)."""

    judges: tuple[Any, ...] = field(default_factory=tuple)

    def expected(self, ref: ReferenceHandle) -> Any:
        return [j.expected(ref) for j in self.judges]

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """Every case's calls, in order: every case runs, whatever the others return."""
        found = [planned_calls(j) for j in self.judges]
        return None if any(f is None for f in found) else tuple(c for f in found for c in f)  # type: ignore[union-attr]

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        """The first failing case is shown; every case is run, so that a fact about the failure
        is kept only when it holds on all the failing cases of the table."""
        failed: list[Verdict] = []
        failed_on: list[Call] = []
        right_on: list[Call] = []
        for j, e in zip(self.judges, expected, strict=False):
            v = j.judge(student, e)
            if not v.passed:
                failed.append(v)
                failed_on += v.failed_on or judged_calls(j)
            elif compared(j) is not None:
                right_on += judged_calls(j)
        if not failed:
            return Verdict(True)
        first = replace(failed[0], failed_on=tuple(failed_on), right_on=tuple(right_on))
        if len(failed) == 1:
            return first
        keys = [{(f.key, f.scope) for f in v.findings} for v in failed]
        common = set.intersection(*keys)
        findings = tuple(replace(f, strong=True) if not all(v.degenerate for v in failed) else f
                         for f in first.findings if (f.key, f.scope) in common)
        message = f"{first.message}\n({len(failed)} of {len(self.judges)} cases of this table fail)"
        return replace(first, message=message, findings=findings,
                       degenerate=all(v.degenerate for v in failed),
                       related=all(v.related for v in failed))


class _NoPart(Exception):
    """The student's result has no part at the index a `Part` judge looks at."""

    def __init__(self, call: Call, got: Any, index: int) -> None:
        super().__init__(call.function)
        self.call, self.got, self.index = call, got, index


def _part_of(value: Any, index: int) -> Any:
    return value[index] if isinstance(value, (list, tuple)) and len(value) > index else None


class _PartOfStudent:
    """A student handle whose calls return one part of each result."""

    def __init__(self, student: StudentHandle, index: int) -> None:
        self._student, self._index = student, index

    @property
    def last_effects(self) -> Effects:
        return self._student.last_effects

    def call(self, call: Call, return_args: bool = False) -> Any:
        out = self._student.call(call, return_args)
        got = out["result"] if return_args else out
        if not (isinstance(got, (list, tuple)) and len(got) > self._index):
            raise _NoPart(call, got, self._index)
        return {**out, "result": got[self._index]} if return_args else got[self._index]


class _PartOfReference:
    """A reference handle whose call and mistake outputs are one part of each result."""

    def __init__(self, ref: ReferenceHandle, index: int) -> None:
        self._ref, self._index = ref, index

    def call(self, call: Call) -> Any:
        return _part_of(self._ref.call(call), self._index)

    def module(self, name: str) -> Any:
        return self._ref.module(name)

    def function(self, call: Call) -> Callable[..., Any]:
        return self._ref.function(call)

    def mistake_runs(self, call: Call) -> list[tuple[str, str, Any, bool]]:
        return [(name, hint, None if raised else _part_of(out, self._index), raised)
                for name, hint, out, raised in _mistake_runs(self._ref, call)]

    def intermediates(self, call: Call, like: Any) -> list[list[Any]]:
        trace = getattr(self._ref, "intermediates", None)
        return [] if trace is None else trace(call, like)

    def mistake_outputs(self, call: Call, return_args: bool = False) -> list[tuple[str, str, Any]]:
        outputs = self._ref.mistake_outputs(call, return_args)
        if not return_args:
            return [(name, hint, _part_of(out, self._index)) for name, hint, out in outputs]
        return [
            (name, hint, None if out is None else {**out, "result": _part_of(out["result"], self._index)})
            for name, hint, out in outputs
        ]


@dataclass(frozen=True)
class Part:
    """Judge one part of a call's result (say, the second value of a returned pair) with `inner`.

    `inner` is any judge; it sees the reference's output, the catalogued mistakes' outputs and
    the student's output reduced to their element `index`. So a function returning
    `(value, derivative)` can have its value matched by `Close` and its derivative checked by
    `Gradient`, each naming the mistakes of its own part.
    """

    inner: Any
    index: int
    label: str = ""
    """what the part is, for the feedback (e.g. "the second returned value")"""

    def expected(self, ref: ReferenceHandle) -> Any:
        return self.inner.expected(_PartOfReference(ref, self.index))

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """`inner`'s call, if it makes one: a result without the part ends `inner` early."""
        found = planned_calls(self.inner)
        return found if found is not None and len(found) <= 1 else None

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        call = getattr(self.inner, "call", None)
        names = returned_names(student, call) if isinstance(call, Call) else ()
        label = self.label or (f"{names[self.index]}, {position(self.index, len(names))}"
                               if self.index < len(names) else f"returned value number {self.index + 1}")
        try:
            verdict = self.inner.judge(_PartOfStudent(student, self.index), expected)
        except _NoPart as missing:
            return Verdict(False, _failed(
                missing.call,
                f"expected a tuple of at least {missing.index + 1} values, got {kind_of(missing.got)}",
            ))
        if verdict.passed:
            return verdict
        message = f"{verdict.message}\n(this check looks at {label})"
        part = f"[{self.index}]"
        findings = tuple(
            f if f.mistake else replace(f, scope=part + f.scope, subject=part_subject(self.index, f.scope))
            for f in verdict.findings
        )
        return replace(verdict, message=message, findings=findings,
                       scopes=tuple(part + scope for scope in verdict.scopes))


def _point_key(point: Any) -> Any:
    """A key that is equal for two points exactly when they are the same data, bit for bit
    (so 0.0 and -0.0 differ); None for data not worth remembering (large, or of other kinds)."""
    if isinstance(point, np.ndarray):
        return ("a", point.dtype.str, point.shape, point.tobytes()) if point.size <= POINT_ENTRIES else None
    if type(point) is float:
        return ("f", struct.pack("<d", point))
    if isinstance(point, dict):
        parts = tuple((k, _point_key(v)) for k, v in point.items())
        return None if any(not isinstance(k, str) or v is None for k, v in parts) else ("d", parts)
    if isinstance(point, (list, tuple)):
        parts = tuple(_point_key(v) for v in point)
        return None if any(v is None for v in parts) else (type(point).__name__, parts)
    return None


POINT_ENTRIES = 4096
"""points of up to this many entries have their gradient remembered"""
GRADIENTS_KEPT = 4096
_GRADIENTS: dict[tuple[int, Any], tuple[Callable[[Any], Any], Any]] = {}
"""`(id(gradient), point key) -> (gradient, its value there)`"""


ON_PATH_KEPT = 1024
_ON_PATH: dict[tuple[int, int], tuple[Trajectory, Any, tuple[Planned, ...]]] = {}
"""`(id(trajectory), id(expected)) -> (trajectory, expected, its calls on the reference's path)`:
one set of objects for all grading threads, as the plan and the judge must name the same calls"""
_ON_PATH_LOCK = threading.Lock()


def _gradient_at(gradient: Callable[[Any], Any], point: Any) -> Any:
    """`gradient(point)`, remembered per run: every submission whose path is the reference's
    (bit for bit) asks for the same points. The value is shared, and only ever sent."""
    key = _point_key(point)
    if key is None:
        return gradient(point)
    kept = _GRADIENTS.get((id(gradient), key))
    if kept is not None and kept[0] is gradient:
        return kept[1]
    value = gradient(point)
    if len(_GRADIENTS) >= GRADIENTS_KEPT:
        _GRADIENTS.clear()
    _GRADIENTS[(id(gradient), key)] = (gradient, value)
    return value


TRACED_STEPS = 5
"""steps of a trajectory whose reference intermediates the diagnosis has: a step rule's systematic
mistake leaves the path at once (a fading one, later, is named by the variants of its step)"""


@dataclass(frozen=True)
class Trajectory:
    """An update rule iterated `steps` times from a starting point follows the reference's path.

    `call` is the first step. Before every step the trusted side evaluates `gradient(point)`
    (plain data in, plain data out, a function of the point alone: its value at a point is
    remembered for the run) at the point the student's previous step returned, and
    puts it in the argument `grad_arg`. The returned point replaces the argument `point_arg`;
    with `state_arg`, the function returns `(point, state)` and the state replaces that
    argument too. Every step's output is compared with the reference's path within `tol`; the
    first step that differs fails the check. A small error in one step (a scale factor that
    fades, a counter off by one) becomes visible as the path goes on.

    Expected data: the reference's outputs, step by step, and for every catalogued mistake
    that leaves the reference's path, the step where it does and its output there.
    """

    call: Call
    gradient: Callable[[Any], Any]
    steps: int = 100
    point_arg: int = 0
    grad_arg: int = 1
    state_arg: int | None = None
    tol: Tolerance = VALUE
    label: str = ""
    """the function whose gradient drives the steps, for the feedback"""

    def _step_call(self, args: list[Any], point: Any, state: Any) -> Call:
        args[self.point_arg] = point
        args[self.grad_arg] = _gradient_at(self.gradient, point)
        if self.state_arg is not None:
            args[self.state_arg] = state
        return Call(self.call.module, self.call.function, tuple(args), self.call.kwargs)

    def _advance(self, out: Any) -> tuple[Any, Any]:
        return (out, None) if self.state_arg is None else (out[0], out[1])

    def _start(self) -> tuple[list[Any], Any, Any]:
        args = list(self.call.args)
        state = args[self.state_arg] if self.state_arg is not None else None
        return args, args[self.point_arg], state

    def expected(self, ref: ReferenceHandle) -> Any:
        args, point, state = self._start()
        path = []
        # Each mistake runs its own path while it agrees with the reference's; a student's path
        # can only match a mistake at the step where both first leave the reference's path.
        mistakes: list[list[Any]] = []
        live: dict[int, tuple[str, str, Any, Any]] = {}
        for i, (name, hint, _) in enumerate(ref.mistake_outputs(self._step_call(list(args), point, state))):
            live[i] = (name, hint, point, state)
        neighbors_, traces = [], []
        trace = getattr(ref, "intermediates", None)
        for k in range(self.steps):
            call = self._step_call(args, point, state)
            out = ref.call(call)
            # the student's step k starts where the reference's did (its path agreed so far)
            neighbors_.append(neighbors(ref, call, out, self.tol))
            traces.append(trace(call, out) if trace is not None and k < TRACED_STEPS else [])
            for i, (name, hint, m_point, m_state) in list(live.items()):
                m_out = ref.mistake_outputs(self._step_call(list(args), m_point, m_state))[i][2]
                if m_out is None:
                    del live[i]
                elif difference(m_out, out, self.tol) is not None:
                    mistakes.append([name, hint, k, m_out])
                    del live[i]
                else:
                    live[i] = (name, hint, *self._advance(m_out))
            path.append(out)
            point, state = self._advance(out)
        return {"path": path, "mistakes": mistakes, "neighbors": neighbors_, "intermediates": traces}

    def calls(self) -> None:
        """None: each step's arguments are the student's previous step's result."""
        return None

    def calls_on_path(self, expected: Any) -> tuple[Planned, ...]:
        """The steps' calls for a student whose every step returns the reference's output bit
        for bit, each after the first planned on that condition (`Planned.on_path`): the calls
        `judge` makes on that path, the same objects (so encoded once per run)."""
        key = (id(self), id(expected))
        with _ON_PATH_LOCK:
            kept = _ON_PATH.get(key)
            if kept is not None and kept[0] is self and kept[1] is expected:
                return kept[2]
            args, point, state = self._start()
            planned, after = [], None
            for k, out in enumerate(expected["path"]):
                call = self._step_call(args, point, state)
                planned.append(Planned(call, False, on_path=k > 0, after=after))
                after = codec.round_trip(out)  # the student's step as the trusted side reads it
                point, state = self._advance(after)
            if len(_ON_PATH) >= ON_PATH_KEPT:
                _ON_PATH.clear()
            found = tuple(planned)
            _ON_PATH[key] = (self, expected, found)
            return found

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        args, point, state = self._start()
        fed = "point and state" if self.state_arg is not None else "point"
        path = self.calls_on_path(expected)
        on_path = True  # every step so far returned the reference's output, bit for bit
        for k, want in enumerate(expected["path"]):
            before = point
            from_path = on_path  # this step's input is the reference's own step k input
            call = path[k].call if on_path else self._step_call(args, point, state)
            got = student.call(call)
            on_path = on_path and k + 1 < len(path) and codec.same(got, path[k + 1].after)
            msg = difference(got, want, self.tol, names=returned_names(student, self.call))
            if msg:
                where = f" of {self.label}" if self.label else ""
                text = _failed(
                    self.call,
                    f"step {k + 1} of {len(expected['path'])} left the reference's path: {msg}",
                    f"the grader repeated the call {len(expected['path'])} times, each time with the "
                    f"gradient{where} at the point your previous step returned and with your returned "
                    f"{fed}; step {k + 1} started from {describe_value(before)}",
                )
                here = [[n, h, o] for n, h, step, o in expected["mistakes"] if step == k]
                findings = catalog_findings(got, here, self.tol)
                # Where the steps before drifted within the tolerance, this step's input is not
                # the reference's: its output relates to nothing the reference computed, and
                # says nothing of the mistake unless a catalogued one gives it.
                if from_path:
                    data = {"value": want}
                    for extra in ("neighbors", "intermediates"):  # of the reference's step k
                        steps_of = expected.get(extra, [])
                        data[extra] = steps_of[k] if k < len(steps_of) else []
                    findings += value_findings(got, data, call)[0]
                return Verdict(False, text, findings=tuple(findings), degenerate=_degenerate(self.call),
                               related=from_path or bool(findings))
            point, state = self._advance(got)
        return Verdict(True)


# ---------------------------------------------------------------- what a call did besides returning

GLOBAL_RNG = "NumPy's global random state used"
GLOBAL_RNG_HINT = (
    "Draw only from the generator the function is given (`rng`) or makes itself with "
    "`rng = np.random.default_rng(seed)`, once: never `np.random.seed(...)`, `np.random.normal(...)`, "
    "`np.random.rand(...)` or other functions of `np.random` itself, which share one hidden global "
    "state between all code in the program."
)


class _Recording:
    """A student handle that keeps the effects of every call made through it, with the call."""

    def __init__(self, student: StudentHandle) -> None:
        self._student = student
        self.seen: list[tuple[Call, Effects]] = []

    @property
    def last_effects(self) -> Effects:
        return self._student.last_effects

    def call(self, call: Call, return_args: bool = False) -> Any:
        out = self._student.call(call, return_args)
        self.seen.append((call, getattr(self._student, "last_effects", Effects())))
        return out


@dataclass(frozen=True)
class Clean:
    """`inner` decides on the values, and each call it makes must also run cleanly: without a
    RuntimeWarning (`warnings`, e.g. overflow in `exp`) and without NumPy's global random state
    (`global_rng`), as the API demands. The worker reports both for every call.

    A call that used the global random state fails with `GLOBAL_RNG_HINT`, whatever its values;
    one that gave the right values with a warning fails with `hint` (which says how to avoid it).
    """

    inner: Any
    warnings: bool = True
    global_rng: bool = False
    hint: str = ""
    """how to compute without the warning, for a student"""
    mistake: str = ""
    """the name of the warning's mistake, counted in class summaries"""

    def expected(self, ref: ReferenceHandle) -> Any:
        return self.inner.expected(ref)

    def calls(self) -> tuple[tuple[Call, bool], ...] | None:
        """`inner`'s calls."""
        return planned_calls(self.inner)

    def judge(self, student: StudentHandle, expected: Any) -> Verdict:
        recorder = _Recording(student)
        verdict = self.inner.judge(recorder, expected)
        for call, effects in recorder.seen:
            if self.global_rng and effects.global_rng:
                text = _failed(call, "it used NumPy's global random state (a function of np.random itself)")
                if not verdict.passed:
                    text += "\n" + verdict.message
                return Verdict(False, text, GLOBAL_RNG_HINT, GLOBAL_RNG)
        for call, effects in recorder.seen:
            if self.warnings and effects.warnings:
                said = "; ".join(effects.warnings)
                if not verdict.passed:
                    return replace(verdict, message=f"{verdict.message}\nNumPy also warned: {said}")
                text = _failed(call, f"the values are right, but NumPy warned: {said}",
                               "the API asks for no warning on this input")
                return Verdict(False, text, self.hint or None, self.mistake or None)
        return verdict
