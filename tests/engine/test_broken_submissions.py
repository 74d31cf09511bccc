"""Broken submissions cost only the affected checks, with a clear message, and the batch goes on."""

from __future__ import annotations

from conftest import failing_functions, mutate, reference_source
from grader.model import Limits

# The forward assignment's own per-call limit: the correct functions of a submission that also
# loops are graded under it, so it is not shortened to make the loop's timeout quicker.
COURSE_LIMIT = Limits(call_timeout=2.0, submission_timeout=60.0)


def _ref() -> str:
    return reference_source("forward")


def test_syntax_error_costs_the_module_with_the_line(course):
    source = _ref().replace("def tanh(z):", "def tanh(z)", 1)
    result = course.grade({"forward.py": source}, ["forward"])
    assert result.score == 0
    assert {c.problem for c in result.checks} == {"import-error"}
    assert "SyntaxError" in result.checks[0].message and "line" in result.checks[0].message
    assert result.status == "import-error"


def test_missing_file_costs_every_check_of_that_module(course):
    result = course.grade({"helpers.py": "x = 1\n"}, ["forward"])
    assert result.score == 0
    assert {c.problem for c in result.checks} == {"missing-module"}
    assert "forward.py" in result.checks[0].message


def test_missing_function_costs_only_that_function(course):
    source = mutate(_ref(), "def count_params(layer_sizes):", "def count_parameters(layer_sizes):")
    result = course.grade({"forward.py": source}, ["forward"])
    assert failing_functions(result) == {"count_params"}
    bad = [c for c in result.checks if not c.passed]
    assert {c.problem for c in bad} == {"missing-function"}
    assert [c.name for c in bad if "count_params" not in c.message] == []


def test_function_that_raises_costs_it_and_its_callers(course):
    source = mutate(_ref(), '"""The hyperbolic tangent, element-wise."""',
                    '"""The hyperbolic tangent, element-wise."""\n    raise RuntimeError("oops")')
    result = course.grade({"forward.py": source}, ["forward"])
    assert failing_functions(result) == {"tanh", "layer_forward", "forward"}
    msg = next(c for c in result.checks if c.function == "tanh").message
    assert "RuntimeError: oops" in msg and "forward.py" in msg and "line" in msg


def test_infinite_loop_times_out_and_the_rest_is_graded(course):
    source = mutate(_ref(), '"""`max(0, z)`, element-wise."""', '"""loops"""\n    while True:\n        pass')
    result = course.grade({"forward.py": source}, ["forward"], COURSE_LIMIT)
    assert failing_functions(result) == {"relu", "layer_forward", "forward"}
    relu = [c for c in result.checks if c.function == "relu"]
    assert len(relu) > 1
    assert relu[0].problem == "timeout" and "did not return within 2 seconds" in relu[0].message
    # Later calls of a function that timed out are skipped, not waited for again: one timeout
    # for each of the three functions that run the loop, and no more.
    assert [c.problem for c in relu[1:]] == ["skipped"] * (len(relu) - 1)
    assert sorted(c.function for c in result.checks if c.problem == "timeout") == ["forward", "layer_forward", "relu"]
    assert result.status == "timeout"


def test_returning_a_list_fails_with_a_clear_message(course):
    source = mutate(_ref(), "return np.maximum(z, 0.0)", "return np.maximum(z, 0.0).tolist()")
    result = course.grade({"forward.py": source}, ["forward"])
    relu = next(c for c in result.checks if c.function == "relu")
    assert not relu.passed
    assert "expected a NumPy array of shape (6,), got a list of length 6" in relu.message


def test_wrong_shape_is_not_broadcast(course):
    source = mutate(_ref(), "return int(sum(", "return np.array([int(sum(")
    source = source.replace("zip(layer_sizes[:-1], layer_sizes[1:])))", "zip(layer_sizes[:-1], layer_sizes[1:])))])")
    result = course.grade({"forward.py": source}, ["forward"])
    assert failing_functions(result) == {"count_params"}
    msg = next(c for c in result.checks if c.function == "count_params").message
    assert "expected a number, got a NumPy array of shape (1,)" in msg


def test_wrong_shape_array_reports_both_shapes(course):
    source = mutate(_ref(), "return A_prev @ W.T + b", "return (A_prev @ W.T + b).T")
    result = course.grade({"forward.py": source}, ["forward"])
    msg = next(c for c in result.checks if c.function == "dense_forward").message
    assert "expected shape (3, 2), got shape (2, 3) (it looks transposed)" in msg


def test_nan_fails_unless_expected(course):
    source = mutate(_ref(), "return np.tanh(z)\n", "return np.tanh(z) * np.nan\n")
    result = course.grade({"forward.py": source}, ["forward"])
    msg = next(c for c in result.checks if c.function == "tanh").message
    assert "not finite" in msg


def test_import_time_crash_and_exit_do_not_stop_grading(course):
    killer = "import os\nos._exit(3)\n"
    result = course.grade({"forward.py": killer}, ["forward"])
    assert result.score == 0
    assert {c.problem for c in result.checks} == {"crash"}
    assert "exit status 3" in result.checks[0].message


def test_sys_exit_inside_a_function_is_an_exception_not_a_pass(course):
    source = mutate(_ref(), "return np.tanh(z)\n", "import sys\n    sys.exit(0)\n")
    result = course.grade({"forward.py": source}, ["forward"])
    assert failing_functions(result) == {"tanh", "layer_forward", "forward"}
    assert "SystemExit" in next(c for c in result.checks if c.function == "tanh").message


def test_print_output_is_captured_and_capped(course):
    source = mutate(_ref(), "return np.tanh(z)\n", "print('x' * 100000)\n    return np.tanh(z)\n")
    result = course.grade({"forward.py": source}, ["forward"])
    assert result.score == result.max_score
    assert 1000 < len(result.output) < 70_000


def test_importing_a_course_module_the_student_lacks_is_not_a_rule_broken(course):
    files = {"regularization.py": reference_source("regularization"), "forward.py": reference_source("forward")}
    result = course.grade(files, ["regularization"])
    assert failing_functions(result) == {"regularized_loss_and_grads"}
    bad = [c for c in result.checks if not c.passed]
    # the import fails when the function runs: an exception (or, in a Raises check, the wrong one)
    assert {c.problem for c in bad} == {"exception", None}
    assert "No module named 'backprop'" in bad[0].message


def test_a_rule_broken_at_run_time_costs_the_whole_module(course):
    # The scan cannot see a computed import; the worker's guard refuses it when tanh runs, and
    # every check of forward.py then loses its points, also those graded before tanh's.
    source = mutate(_ref(), "return np.tanh(z)\n", "__import__('sub' + 'process')\n    return np.tanh(z)\n")
    result = course.grade({"forward.py": source}, ["forward"])
    assert result.checks and {c.problem for c in result.checks} == {"policy"}
    assert result.score == 0 and result.status == "policy"
    assert {c.message for c in result.checks} == {next(c.message for c in result.checks if c.function == "tanh")}
    assert "subprocess" in result.checks[0].message
