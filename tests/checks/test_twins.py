"""Hidden twins: a module that only replays the visible checks' expected values earns nothing.

The replay module is built from the course itself: for every visible value check, its call's
arguments and the expected output (exactly what `expected.grd` holds for students), looked up
by exact equality of the arguments. It passes every visible check it can answer when graded
the way a student's `grade check` does, and must earn no points when the instructor grades.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, reference_source
from grader.checks.judges import Clean, Close, Gradient, Part, Sequence
from grader.checks.twins import SEEDS, TWIN_SUFFIX, fresh_call, twin_of
from grader.course.loading import Course
from grader.engine.grading import grade_submission
from grader.inputs.discover import Submission
from grader.model import Call, Fn, Limits
from grader.reports.summary import summarize

ASSIGNMENTS = ["perceptron", "forward", "backprop", "regularization"]


def literal(value) -> str:
    """Python source that rebuilds `value` exactly (arrays through their bytes)."""
    if isinstance(value, np.ndarray):
        return (f"np.frombuffer(bytes.fromhex({value.tobytes().hex()!r}), dtype=np.{value.dtype}).reshape("
                f"{value.shape!r}).copy()")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + "".join(f"{literal(v)}, " for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, float):
        return f"float({repr(value)!r})"
    if isinstance(value, Fn):
        return "None"
    return repr(value)


def _answers(judge, data):
    """`(call, output)` pairs a replay can give (parts of a result as `(index, value)`)."""
    if isinstance(judge, Sequence):
        return [a for j, d in zip(judge.judges, data) for a in _answers(j, d)]
    if isinstance(judge, Part):
        return [(call, (judge.index, out)) for call, out in _answers(judge.inner, data)]
    if isinstance(judge, Clean):
        return _answers(judge.inner, data)
    if isinstance(judge, (Close, Gradient)):
        return [(judge.call, (None, data["value"]))]
    return []


def replay_module(module: str, checks, expected) -> str:
    """A module whose functions return the frozen expected value of the visible call they are
    given (matched exactly), and raise for any other input."""
    table: dict[str, list[tuple[Call, list]]] = {}
    for check in checks:
        for call, (index, out) in _answers(check.judge, expected[check.name]):
            rows = table.setdefault(call.function, [])
            row = next((r for r in rows if _same(r[0], call)), None)
            if row is None:
                row = (call, [])
                rows.append(row)
            row[1].append((index, out))
    lines = ["import numpy as np", "", "def _eq(a, b):",
             "    if b is None: return True  # a function argument: not compared",
             "    if isinstance(b, np.ndarray): return isinstance(a, np.ndarray) and a.shape == b.shape "
             "and np.array_equal(a, b)",
             "    if isinstance(b, dict): return isinstance(a, dict) and a.keys() == b.keys() and "
             "all(_eq(a[k], b[k]) for k in b)",
             "    if isinstance(b, (list, tuple)): return isinstance(a, (list, tuple)) and len(a) == len(b) and "
             "all(_eq(x, y) for x, y in zip(a, b))",
             "    return type(a) is type(b) and a == b", "", "TABLE = {}"]
    for function, rows in table.items():
        entries = []
        for call, outs in rows:
            whole = [o for i, o in outs if i is None]
            if whole:
                out = literal(whole[0])
            else:
                parts = dict(outs)
                out = literal(tuple(parts.get(i, 0.0) for i in range(max(parts) + 1)))
            entries.append(f"({literal(list(call.args))}, {literal(dict(call.kwargs))}, {out})")
        lines.append(f"TABLE[{function!r}] = [{', '.join(entries)}]")
        lines += [f"def {function}(*args, **kwargs):",
                  f"    for a, k, out in TABLE[{function!r}]:",
                  "        if _eq(list(args), a) and _eq(kwargs, k): return out",
                  "    raise NotImplementedError('not a visible input')", ""]
    return "\n".join(lines)


def _same(a: Call, b: Call) -> bool:
    from grader.checks.compare import EXACT, difference

    try:
        return difference(list(a.args), list(b.args), EXACT) is None and \
            difference(dict(a.kwargs), dict(b.kwargs), EXACT) is None
    except TypeError:
        return False


@pytest.fixture(scope="module")
def full_course():
    course = Course.load(ROOT, ASSIGNMENTS)
    return course.assignments, course.expected


def _submission(course) -> Submission:
    assignments, expected = course
    files = {}
    for a in assignments:
        visible = [c for c in a.checks if c.visible]
        files[f"{a.name}.py"] = replay_module(a.name, visible, expected).encode()
    return Submission("replay", Path("."), files)


def test_a_replay_of_the_frozen_values_passes_visible_checks_without_twins(full_course):
    """The premise: without the twins, the replay would earn most visible points."""
    assignments, expected = full_course
    without = {k: v for k, v in expected.items() if not k.endswith(TWIN_SUFFIX)}
    result = grade_submission(_submission(full_course), assignments, without, Limits(sandbox="auto"))
    visible = [c for c in result.checks if c.visible]
    earned = sum(c.score for c in visible)
    assert earned >= 0.8 * sum(c.max_score for c in visible), [c.name for c in visible if not c.passed]


# What a replay still earns: visible checks no twin can be made for (a property judged against
# an expectation computed from the visible inputs, inputs that are functions only, an empty
# list), and a hidden check that only asks that a visible input be left unchanged.
NO_TWIN = {
    "backprop.numerical_gradient: f reads x through a closure: x itself is perturbed",
    "backprop.numerical_gradient: x is exactly the same afterwards",
    "backprop.numerical_gradient: x is exactly the same afterwards, for a 3-d x",
    "regularization.dropout_backward: inverted: gradient only through kept units, scaled by 1/keep_prob",
    "regularization.early_stopping: an empty list gives None",
}


def test_replaying_the_frozen_values_earns_no_points(full_course):
    assignments, expected = full_course
    result = grade_submission(_submission(full_course), assignments, expected, Limits(sandbox="auto"))
    earned = {c.name for c in result.checks if c.score > 0}
    assert earned <= NO_TWIN, sorted(earned - NO_TWIN)
    assert sum(c.score for c in result.checks) <= 6
    flagged = [c.name for c in result.checks if c.hardcoded]
    assert len(flagged) >= 30, flagged
    summary = summarize([result], [(a.name, a.max_points) for a in assignments])
    assert summary.hardcoded == [("replay", flagged)]


def test_the_reference_passes_every_twin(full_course):
    assignments, expected = full_course
    files = {f"{a.name}.py": reference_source(a.name).encode() for a in assignments}
    result = grade_submission(Submission("ref", Path("."), files), assignments, expected, Limits(sandbox="auto"))
    assert [c.name for c in result.checks if not c.passed] == []
    assert not any(c.hardcoded for c in result.checks)


def test_most_visible_value_checks_have_a_twin(full_course):
    assignments, expected = full_course
    value_checks = [c for a in assignments for c in a.checks if c.visible and _answers(c.judge, expected[c.name])]
    twinned = [c for c in value_checks if c.name + TWIN_SUFFIX in expected]
    missing = sorted(c.name for c in value_checks if c not in twinned)
    # The ones left have inputs that neither a shuffle nor other numbers change in a way the
    # reference's output shows; they are listed by `grade validate`.
    assert len(twinned) >= 0.9 * len(value_checks), missing


def test_a_twin_keeps_every_value_and_shape():
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    call = Call("m", "f", (X, y, 3, "relu"), {"lr": 0.5})
    twin = fresh_call(call, SEEDS[0])
    assert twin.args[0].shape == X.shape and not np.array_equal(twin.args[0], X)
    assert sorted(map(tuple, twin.args[0])) == sorted(map(tuple, X))  # the same rows
    assert sorted(twin.args[1]) == sorted(y)
    assert twin.args[2:] == (3, "relu") and twin.kwargs == {"lr": 0.5}


def test_dicts_beside_an_array_are_left_alone():
    X = np.arange(6.0).reshape(3, 2)
    cache = {"A0": np.arange(6.0).reshape(3, 2), "Z1": np.arange(3.0)}
    twin = fresh_call(Call("m", "f", (X, cache)), SEEDS[0])
    assert twin.args[1] is cache


def test_a_call_of_plain_numbers_gets_other_numbers():
    call = Call("m", "f", (0.1, 4, [784, 10], True, 0.0))
    assert fresh_call(call, 0).args == (0.1 * 0.75, 5, [785, 11], True, 0.5)


def test_a_property_check_has_no_twin():
    from grader.checks.build import Checks

    c = Checks("forward")
    check = c.satisfies("init_params", "stats", [3, 2], predicate=lambda got, exp: None)
    assert twin_of(check, SEEDS[0]) is None


def test_the_template_path_is_untouched(tmp_path: Path):
    """Frozen expected values never carry twins or the trusted-only diagnosis data."""
    from grader.worker.codec import load_tree

    frozen = load_tree(ROOT / "student_template" / "checks" / "forward" / "expected.grd")
    assert not [k for k in frozen if k.endswith(TWIN_SUFFIX)]
    text = repr(frozen)
    assert "intermediates" not in text and "neighbors" not in text
