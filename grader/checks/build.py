"""Short constructors for the checks an assignment declares.

    from grader.checks.build import Checks
    c = Checks("forward")
    CHECKS = [
        c.close("softmax", "rows of a small batch", Z, points=2),
        c.raises("init_params", "ValueError for an unknown method", [2, 3], method="nope"),
    ]
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.checks.compare import VALUE, Tolerance
from grader.checks.judges import Clean, Close, Gradient, Raises, Satisfies, Sequence, Trajectory, Unchanged
from grader.model import Call, Check, Judge, ReferenceHandle


def sibling(file: str, name: str) -> ModuleType:
    """Load the module `name` beside `file` (e.g. hidden checks reusing visible helpers)."""
    path = Path(file).with_name(f"{name}.py")
    label = f"_sibling_{path.parent.name}_{name}"
    if label not in sys.modules:
        spec = importlib.util.spec_from_file_location(label, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[label] = module
        spec.loader.exec_module(module)
    return sys.modules[label]


@dataclass(frozen=True)
class Checks:
    """Builds the checks of one student module."""

    module: str

    def call(self, function: str, *args: Any, **kwargs: Any) -> Call:
        return Call(self.module, function, tuple(args), dict(kwargs))

    def check(self, function: str, what: str, judge: Judge, points: float = 1.0) -> Check:
        return Check(self.module, function, what, points, judge)

    def close(
        self,
        function: str,
        what: str,
        *args: Any,
        points: float = 1.0,
        tol: Tolerance = VALUE,
        note: str = "",
        expect: Callable[[ReferenceHandle], Any] | None = None,
        **kwargs: Any,
    ) -> Check:
        """The output equals the reference's on these arguments, within `tol`."""
        judge = Close(self.call(function, *args, **kwargs), tol, expect, note)
        return self.check(function, what, judge, points)

    def clean(self, check: Check, *, warnings: bool = True, global_rng: bool = False, hint: str = "",
              mistake: str = "") -> Check:
        """`check`, whose calls must also raise no RuntimeWarning (`warnings`) and leave NumPy's
        global random state alone (`global_rng`); see `grader.checks.judges.Clean`."""
        return replace(check, judge=Clean(check.judge, warnings, global_rng, hint, mistake))

    def gradient(
        self,
        function: str,
        what: str,
        *args: Any,
        expect: Callable[[ReferenceHandle], Any],
        points: float = 1.0,
        max_relative_error: float = 1e-6,
        **kwargs: Any,
    ) -> Check:
        """The output equals a numerical gradient computed by `expect` (relative error)."""
        judge = Gradient(self.call(function, *args, **kwargs), expect, max_relative_error)
        return self.check(function, what, judge, points)

    def raises(self, function: str, what: str, *args: Any, exception: str = "ValueError",
               points: float = 1.0, **kwargs: Any) -> Check:
        """The call raises `exception`, as the reference does."""
        return self.check(function, what, Raises(self.call(function, *args, **kwargs), exception), points)

    def unchanged(self, function: str, *args: Any, points: float = 1.0, **kwargs: Any) -> Check:
        """The call leaves its arguments as they were."""
        judge = Unchanged(self.call(function, *args, **kwargs))
        return self.check(function, "does not modify its inputs", judge, points)

    def satisfies(
        self,
        function: str,
        what: str,
        *args: Any,
        predicate: Callable[[Any, Any], str | None],
        expect: Callable[[ReferenceHandle], Any] | None = None,
        points: float = 1.0,
        hint: str | None = None,
        **kwargs: Any,
    ) -> Check:
        """`predicate(got, expected)` returns None (pass) or a message saying what is wrong."""
        judge = Satisfies(self.call(function, *args, **kwargs), predicate, expect, hint)
        return self.check(function, what, judge, points)

    def table(
        self,
        function: str,
        what: str,
        cases: list[tuple[tuple[Any, ...], dict[str, Any]]],
        points: float = 1.0,
        tol: Tolerance = VALUE,
    ) -> Check:
        """The output equals the reference's on every `(args, kwargs)` of `cases` (all must pass)."""
        judges = tuple(Close(self.call(function, *args, **kwargs), tol) for args, kwargs in cases)
        return self.check(function, what, Sequence(judges), points)

    def trajectory(
        self,
        function: str,
        what: str,
        *args: Any,
        gradient: Callable[[Any], Any],
        steps: int = 100,
        state_arg: int | None = None,
        label: str = "",
        points: float = 1.0,
        tol: Tolerance = VALUE,
        **kwargs: Any,
    ) -> Check:
        """`steps` calls fed back their own output, with `gradient` of the returned point as
        the second argument (see `grader.checks.judges.Trajectory`), compared with the reference's path."""
        judge = Trajectory(self.call(function, *args, **kwargs), gradient, steps, 0, 1, state_arg, tol, label)
        return self.check(function, what, judge, points)
