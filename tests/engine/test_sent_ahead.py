"""Grading with calls sent ahead (`StudentProcess.expect`) gives the same results, and runs the
same calls in the same order, as one call at a time: shown by code that prints every call it
gets, with a counter, in every function of every module, with mistakes that raise, give wrong
values, break a rule and hang."""

from __future__ import annotations

import ast

import pytest

from conftest import reference_source, unsandboxed
from grader.isolation import runner
from grader.model import Limits

MODULES = ["perceptron", "forward", "backprop", "regularization", "optimizers"]


TRACE = """
import functools

DEPTH = [0]
SEEN = [0]


def traced(f):
    @functools.wraps(f)
    def call(*args, **kwargs):
        if DEPTH[0] == 0:  # a call from the grader, not from the student's own code
            SEEN[0] += 1
            print(f.__name__[:4], SEEN[0])
        DEPTH[0] += 1
        try:
            return f(*args, **kwargs)
        finally:
            DEPTH[0] -= 1

    return call
"""


def traced(source: str) -> str:
    """`source` whose every top-level function prints, when the grader calls it, the start of its
    name and how many calls the submission has had (`TRACE`, shared by all its modules)."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            node.decorator_list.append(ast.parse("_trace.traced").body[0].value)
    after = next(i for i, node in enumerate(tree.body)  # after the docstring and `from __future__`
                 if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
                 and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))
    tree.body.insert(after, ast.parse("import _trace").body[0])
    return ast.unparse(ast.fix_missing_locations(tree))


def _replace(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new, 1)


def _submission(kind: str) -> dict[str, str]:
    files = {f"{m}.py": traced(reference_source(m)) for m in MODULES} | {"_trace.py": TRACE}
    if kind == "mistakes":
        files["forward.py"] = _replace(files["forward.py"], "def relu_grad(z):\n", (
            "def relu_grad(z):\n    if np.size(z) > 3:\n        raise ValueError('too long')\n"))
        files["forward.py"] = _replace(files["forward.py"], "def count_params(layer_sizes):\n",
                                       "def count_params(layer_sizes):\n    return 7\n")
        files["regularization.py"] = _replace(files["regularization.py"], "def l2_penalty(params, lam):\n", (
            "def l2_penalty(params, lam):\n    try:\n        __import__('so' + 'cket')\n"
            "    except BaseException:\n        pass\n"))
        files["optimizers.py"] = _replace(files["optimizers.py"], "def step_decay(", (
            "def step_decay(lr0, epoch, drop=0.5, epochs_per_drop=10):\n    while True:\n        pass\n\n"
            "def _old_step_decay("))
    if kind == "off the path":
        # Right within the tolerance, but not bit for bit: every trajectory step is made one at
        # a time from the student's own point, none of the steps planned on the reference's path.
        files["optimizers.py"] = _replace(files["optimizers.py"], "    return (new_params, new_velocity)\n", (
            "    return {k: W * (1 + 1e-13) for k, W in new_params.items()}, new_velocity\n"))
    if kind == "leaves the path":
        # On the reference's path, bit for bit, until a later step gives a wrong value or raises.
        files["optimizers.py"] = _replace(files["optimizers.py"], "    return (new_params, new_velocity)\n", (
            "    MOMENTUM[0] += 1\n    if MOMENTUM[0] == 37:\n"
            "        return {k: W + 0.5 for k, W in new_params.items()}, new_velocity\n"
            "    return (new_params, new_velocity)\n"))
        adam_return = "    return (new_params, {'m': m, 'v': v, 't': t})\n"
        files["optimizers.py"] = _replace(files["optimizers.py"], adam_return, (
            '    ADAM[0] += 1\n    if ADAM[0] == 61:\n        raise ValueError("tired")\n' + adam_return))
        files["optimizers.py"] += "\nMOMENTUM = [0]\nADAM = [0]\n"
    return files


@pytest.fixture
def grade_both(course, monkeypatch):
    """Grade files twice, with calls sent ahead and one at a time: both results, and the plan
    misses of the first run."""

    def grade(files: dict[str, str], limits: Limits):
        misses: list[int] = []
        close = runner.StudentProcess.close

        def counting_close(self):
            misses.append(self.plan_misses)
            close(self)

        with monkeypatch.context() as m:
            m.setattr(runner.StudentProcess, "close", counting_close)
            ahead = course.grade(files, MODULES, limits)
        with monkeypatch.context() as m:
            m.setattr(runner, "AHEAD_MOST", 1)
            alone = course.grade(files, MODULES, limits)
        return ahead, alone, misses

    return grade


def _seen(result) -> list[tuple]:
    return [(c.name, c.score, c.passed, c.problem, c.message, c.hint, c.diagnosis) for c in result.checks]


@pytest.mark.parametrize("kind", ["correct", "mistakes", "off the path", "leaves the path"])
def test_sent_ahead_or_one_at_a_time_the_same_calls_run_and_the_same_grade_comes_out(grade_both, kind) -> None:
    ahead, alone, misses = grade_both(_submission(kind), unsandboxed(call_timeout=3.0))
    assert misses and set(misses) == {0}
    assert _seen(ahead) == _seen(alone)
    assert ahead.output == alone.output
    calls = ahead.output.splitlines()
    assert len(calls) > 400 and "[... output cut]" not in ahead.output  # every call printed
    if kind == "correct":
        assert calls[-1].endswith(f" {len(calls)}") and len(calls) > 700  # one worker all along
        assert ahead.score == ahead.max_score
    elif kind == "off the path":
        assert ahead.score == ahead.max_score
    elif kind == "leaves the path":
        failed = [c for c in ahead.checks if not c.passed]
        assert {c.function for c in failed} == {"momentum_update", "adam_update"}
        assert any("step" in c.message and "left the reference's path" in c.message for c in failed)
        assert any(c.problem == "exception" for c in failed)
    else:
        broken = {c.function for c in ahead.checks if not c.passed}
        assert {"relu_grad", "count_params", "step_decay", "l2_penalty"} <= broken
        assert any(c.problem == "timeout" for c in ahead.checks if c.function == "step_decay")
        assert all(c.problem == "policy" for c in ahead.checks if c.module == "regularization")


def test_a_visible_check_that_fails_still_runs_its_twin(grade_both) -> None:
    # The calls a submission gets are the course's alone: a failing visible check's hidden twin
    # runs too (its result does not count), so that nothing sent ahead depends on a verdict.
    files = {"forward.py": _replace(traced(reference_source("forward")), "def count_params(layer_sizes):\n",
                                    "def count_params(layer_sizes):\n    return 7\n"), "_trace.py": TRACE}
    right = {"forward.py": traced(reference_source("forward")), "_trace.py": TRACE}
    ahead, _, _ = grade_both(files, unsandboxed())
    correct, _, _ = grade_both(right, unsandboxed())

    def calls_of(result) -> int:
        return sum(1 for line in result.output.splitlines() if line.startswith("coun "))

    assert calls_of(ahead) == calls_of(correct) > 0


def test_the_requests_encoded_before_grading_are_the_ones_a_correct_submission_is_sent(course) -> None:
    # `prepare_requests` (run by a batch while the sandbox's probe runs) encodes each planned
    # call's arguments; grading a correct submission afterwards encodes none: its calls are
    # the same objects, with the same twins and plans.
    from grader.engine.grading import prepare_requests

    runner._requests.clear()
    planned = prepare_requests(course.assignments, course.expected)
    encoded = set(runner._requests)
    assert planned > 500 and len(encoded) > 500  # some calls are planned twice (a twin's, say)
    result = course.grade({f"{m}.py": reference_source(m) for m in MODULES}, MODULES, unsandboxed())
    assert result.score == sum(c.points for a in course.assignments for c in a.checks)
    assert set(runner._requests) == encoded
