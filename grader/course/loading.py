"""Load a course: its assignments (checks, mistakes, settings) and the reference.

A course folder holds `assignments/` (one folder per assignment, see `grader.model`) and,
on the instructor's side only, `reference/`. A student template holds the same assignment
folders with only the visible checks and a file of frozen expected values instead.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.checks.compare import EXACT, difference
from grader.checks.returns import register_handout
from grader.checks.twins import find_twin
from grader.model import PARAMETER_NAMES, Call, Catalog, Check, Limits, Mistake, register_parameter_names
from grader.worker import codec
from grader.worker.policy import DEFAULT_ALLOWED

EXPECTED_FILE = "expected.grd"
"""frozen expected values of the visible checks, in the student template"""


class CourseError(Exception):
    """The course material itself is broken (an instructor's problem, not a student's)."""


@dataclass
class Assignment:
    """One assignment: the modules it grades, its checks and its known mistakes."""

    name: str
    title: str
    modules: tuple[str, ...]
    checks: list[Check]
    mistakes: list[Mistake] = field(default_factory=list)
    allowed_imports: tuple[str, ...] = DEFAULT_ALLOWED
    call_timeout: float = Limits.call_timeout
    folder: Path | None = None

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)


def _load_file(path: Path, label: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(label, path)
    if spec is None or spec.loader is None:
        raise CourseError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise CourseError(f"{path}: {type(exc).__name__}: {exc}") from exc
    return module


def load_assignment(folder: Path, hidden: bool = True, mistakes: bool = True) -> Assignment:
    """Read one assignment folder; `hidden=False` keeps only the visible checks."""
    settings_path = folder / "assignment.toml"
    if not settings_path.exists():
        raise CourseError(f"{folder}: no assignment.toml")
    settings = tomllib.loads(settings_path.read_text())
    name = settings.get("name", folder.name)
    checks: list[Check] = []
    files = ["checks_visible.py"] + (["checks_hidden.py"] if hidden else [])
    for file in files:
        path = folder / file
        if path.exists():
            found = getattr(_load_file(path, f"_course_{name}_{path.stem}"), "CHECKS", None)
            if not isinstance(found, list):
                raise CourseError(f"{path}: must define CHECKS, a list of Check")
            # The file decides visibility: checks_visible.py ships to students, the other not.
            checks += [replace(c, visible=(file == "checks_visible.py")) for c in found]
    catalog: list[Mistake] = []
    if mistakes and (folder / "mistakes.py").exists():
        path = folder / "mistakes.py"
        found = getattr(_load_file(path, f"_course_{name}_mistakes"), "MISTAKES", None)
        if not isinstance(found, Catalog):
            raise CourseError(f"{path}: must define MISTAKES = Catalog(module), see grader.authoring.Catalog")
        if found.module not in settings.get("modules", [name]):
            raise CourseError(f"{path}: MISTAKES is a Catalog of {found.module!r}, a module {name} does not grade")
        catalog = list(found)
    register_handout(folder, name, tuple(settings.get("modules", [name])))  # names of returned values
    return Assignment(
        name=name,
        title=settings.get("title", name),
        modules=tuple(settings.get("modules", [name])),
        checks=checks,
        mistakes=catalog,
        allowed_imports=tuple(settings.get("allowed_imports", DEFAULT_ALLOWED)),
        call_timeout=float(settings.get("call_timeout", Limits.call_timeout)),
        folder=folder,
    )


def load_assignments(
    folder: Path, names: list[str] | None = None, hidden: bool = True, mistakes: bool = True
) -> list[Assignment]:
    """Every assignment under `folder`, in the order of `course.toml` (or by name)."""
    folder = Path(folder)
    order_file = folder / "course.toml"
    if order_file.exists():
        order = tomllib.loads(order_file.read_text()).get("assignments", [])
    else:
        order = sorted(p.name for p in folder.iterdir() if (p / "assignment.toml").exists())
    # A module may import the course's other modules (backprop imports forward), even ones the
    # student has not written or that are not graded in this run: a missing file is reported as
    # missing, not as a broken rule.
    course_modules = tuple(
        m for n in order if (folder / n / "assignment.toml").exists()
        for m in tomllib.loads((folder / n / "assignment.toml").read_text()).get("modules", [n])
    )
    if names:
        unknown = [n for n in names if n not in order]
        if unknown:
            raise CourseError(f"no assignment named {', '.join(unknown)} (there are: {', '.join(order)})")
        order = [n for n in order if n in names]
    assignments = [load_assignment(folder / n, hidden, mistakes) for n in order]
    for a in assignments:
        a.allowed_imports = tuple(dict.fromkeys((*a.allowed_imports, *course_modules)))
    seen: set[str] = set()
    for a in assignments:
        for c in a.checks:
            if c.name in seen:
                raise CourseError(f"two checks are named {c.name!r}")
            seen.add(c.name)
    return assignments


# ---------------------------------------------------------------- the reference


def to_plain(value: Any) -> Any:
    """The value as it would arrive through the channel (plain data only)."""
    return codec.round_trip(value)


class Reference:
    """The reference solution, imported in the trusted process, and the mistake catalogs."""

    def __init__(self, folder: Path, mistakes: list[Mistake]) -> None:
        self.folder = Path(folder)
        for path in sorted(self.folder.glob("*.py")):
            register_parameter_names(path.stem, path.read_text())
        unknown = [f"{m.module}.{m.function} ({m.name})" for m in mistakes
                   if f"{m.module}.{m.function}" not in PARAMETER_NAMES]
        if unknown:
            raise CourseError(f"mistakes of functions the reference does not define: {', '.join(unknown)}")
        self._modules: dict[str, ModuleType] = {}
        self._mistakes: dict[tuple[str, str], list[Mistake]] = {}
        for m in mistakes:
            self._mistakes.setdefault((m.module, m.function), []).append(m)

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            path = str(self.folder)
            sys.path.insert(0, path)
            try:
                self._modules[name] = importlib.import_module(name)
            except ImportError as exc:
                raise CourseError(f"the reference has no module {name} in {self.folder}") from exc
            finally:
                sys.path.remove(path)
        return self._modules[name]

    def function(self, call: Call) -> Callable[..., Any]:
        return getattr(self.module(call.module), call.function)

    def _run(self, fn: Callable[..., Any], call: Call, return_args: bool = False) -> Any:
        args = codec.resolve_functions(copy.deepcopy(call.args))
        kwargs = codec.resolve_functions(copy.deepcopy(call.kwargs))
        out = fn(*args, **kwargs)
        if return_args:  # as the worker answers `return_args` (functions do not cross: None)
            return to_plain({"result": out, "args": [None if callable(a) else a for a in args]})
        return to_plain(out)

    def call(self, call: Call) -> Any:
        return self._run(self.function(call), call)

    def intermediates(self, call: Call, like: Any) -> list[list[Any]]:
        """`[name, value]` for values of the kind of `like` that the reference computes on the way
        to its result on `call` but does not return: the local variables of the called function
        when it returns, and what the reference's own functions it calls return (traced once per
        run, on the trusted side). A student's output equal to one of them names the mistake."""
        return trace_intermediates(self.function(call), call, str(self.folder.resolve()), like, self._run)

    def mistake_runs(self, call: Call, return_args: bool = False) -> list[tuple[str, str, Any, bool]]:
        """`(name, hint, output, raised)` for every catalogued mistake of `call`'s function."""
        outputs = []
        for m in self._mistakes.get((call.module, call.function), []):
            try:
                outputs.append((m.name, m.hint, self._run(m.impl, call, return_args), False))
            except Exception:  # a mistake that cannot run on this input names nothing by value
                outputs.append((m.name, m.hint, None, True))
        return outputs

    def mistake_outputs(self, call: Call, return_args: bool = False) -> list[tuple[str, str, Any]]:
        return [(name, hint, out) for name, hint, out, _ in self.mistake_runs(call, return_args)]


INTERMEDIATES_CAP = 12
"""intermediate values kept per check (the most recent ones of each name)"""


def _like(value: Any, like: Any) -> bool:
    if isinstance(like, (tuple, list)) and like and not all(isinstance(x, (int, float)) for x in like):
        return any(_like(value, part) for part in like)  # a returned tuple: like any of its parts
    if isinstance(like, np.ndarray):
        return isinstance(value, np.ndarray) and value.shape == like.shape and value.dtype.kind in "biuf"
    if isinstance(like, dict):
        return isinstance(value, dict) and set(value) == set(like)
    if isinstance(like, (int, float, np.integer, np.floating)) and not isinstance(like, bool):
        if isinstance(value, np.ndarray):  # a 0-d array (what `sigmoid(z)` gives for a number)
            return value.shape == () and value.dtype.kind in "iuf"
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return False


def trace_intermediates(fn: Callable[..., Any], call: Call, folder: str, like: Any,
                        run: Callable[..., Any]) -> list[list[Any]]:
    """Trace `run(fn, call)` and collect intermediates of the kind of `like` (see
    `Reference.intermediates`)."""
    found: dict[str, Any] = {}
    top: list[Any] = []

    def keep(name: str, value: Any) -> None:
        if _like(value, like) and name not in found and len(found) < 4 * INTERMEDIATES_CAP:
            found[name] = copy.deepcopy(value)

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "return":
            if frame is top[0]:
                for name, value in frame.f_locals.items():
                    keep(name, value)
            elif frame.f_back is top[0]:
                keep(f"{frame.f_code.co_name}(...)", arg)
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if not frame.f_code.co_filename.startswith(folder):
            return None
        if not top:
            top.append(frame)
        elif frame.f_back is not top[0]:
            return None
        return local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = run(fn, call)
    except Exception:
        return []
    finally:
        sys.settrace(previous)
    out: list[list[Any]] = []
    # The reference's own variable names first: `Z` says more than `dense_forward(...)`.
    for name, value in sorted(found.items(), key=lambda item: item[0].endswith("(...)")):
        plain = to_plain(value)
        # A number 0 is kept under each of its names, even where the result is 0 too: a
        # student's division by it explains their ZeroDivisionError
        # (`grader.checks.diagnosis.error_findings`), and which name is 0 on every input where
        # they raise tells which number they divided by.
        zero = isinstance(plain, (int, float)) and not isinstance(plain, bool) and plain == 0
        if not zero and any(difference(plain, kept, EXACT) is None for _, kept in out if _like(kept, plain)):
            continue
        try:
            if not zero and (difference(plain, result, EXACT) is None
                             or difference(plain, to_plain(like), EXACT) is None):
                continue
        except TypeError:
            continue
        out.append([name, plain])
    return out[:INTERMEDIATES_CAP]


def compute_expected(assignments: list[Assignment], reference: Reference, twins: bool = True) -> dict[str, Any]:
    """Expected data of every check, by check name: computed once per run.

    With `twins`, every visible check that can have a hidden twin (`grader.checks.twins`) also gets
    `expected[name + TWIN_SUFFIX] = {"seed": ..., "expected": ...}`.
    """
    expected = {}
    for a in assignments:
        for check in a.checks:
            try:
                expected[check.name] = to_plain(check.judge.expected(reference))
                found = find_twin(check, reference, expected[check.name]) if twins and check.visible else None
                if found is not None:
                    seed, twin, data = found
                    expected[twin.name] = {"seed": seed, "expected": to_plain(data)}
            except CourseError:
                raise
            except Exception as exc:
                raise CourseError(f"computing the expected value of {check.name!r} failed: {exc!r}") from exc
    return expected


def default_course_root() -> Path:
    """`$GRADER_COURSE`, or the checkout this grader was installed from."""
    env = os.environ.get("GRADER_COURSE")
    return Path(env) if env else Path(__file__).resolve().parent.parent.parent


class Course:
    """A course on disk: its assignments, its reference and the expected value of every check.

    `Course.load(root)` is the one way to load one. The reference and the expected values are
    computed the first time they are asked for, once: a rerun whose submissions are all
    unchanged never needs them.
    """

    def __init__(self, root: Path, assignments: list[Assignment]) -> None:
        self.root = Path(root)
        self.assignments = assignments
        """in the order of `course.toml`"""

    @classmethod
    def load(cls, root: Path, names: list[str] | None = None, visible_only: bool = False) -> Course:
        """The course under `root` (its `assignments/` and `reference/`); only the assignments
        `names` if given; with `visible_only`, only the checks a student's `grade check` runs."""
        assignments = load_assignments(Path(root) / "assignments", names)
        if visible_only:
            assignments = [replace(a, checks=[c for c in a.checks if c.visible]) for a in assignments]
        return cls(root, assignments)

    @property
    def assignments_dir(self) -> Path:
        return self.root / "assignments"

    @property
    def reference_dir(self) -> Path:
        return self.root / "reference"

    @property
    def modules(self) -> list[str]:
        """The student modules of the loaded assignments, in order."""
        return [m for a in self.assignments for m in a.modules]

    @cached_property
    def reference(self) -> Reference:
        """The reference solution, with every loaded assignment's catalogued mistakes."""
        return Reference(self.reference_dir, [m for a in self.assignments for m in a.mistakes])

    @cached_property
    def expected(self) -> dict[str, Any]:
        """`compute_expected` of every loaded check (twins included)."""
        return compute_expected(self.assignments, self.reference)


TRUSTED_ONLY = ("intermediates", "neighbors", "raising", "reference", "defaults")
"""keys of expected data that serve the diagnosis on the instructor's side and are not frozen
into the student template (the reference's intermediate values are nobody's business)"""


def _for_students(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _for_students(v) for k, v in value.items() if k not in TRUSTED_ONLY}
    if isinstance(value, list):
        return [_for_students(v) for v in value]
    return value


def freeze_expected(assignment: Assignment, expected: dict[str, Any], path: Path) -> None:
    """Write the expected data of `assignment`'s visible checks to `path`."""
    codec.save_tree(path, {c.name: _for_students(expected[c.name]) for c in assignment.checks if c.visible})


def load_frozen(path: Path) -> dict[str, Any]:
    """Read frozen expected data (written by `freeze_expected`)."""
    value = codec.load_tree(path)
    if not isinstance(value, dict):
        raise CourseError(f"{path} is not a frozen expected-values file")
    return value
