"""Feedback shows each distinct failure once per function, with the checks it also explains."""

from __future__ import annotations

import re

from conftest import mutate, reference_source
from grader.engine.grading import _result, describe_error
from grader.model import Check, CheckResult, StudentError, SubmissionResult
from grader.reports.failures import group_failures
from grader.reports.feedback import feedback_html, feedback_markdown

TRACE = ('  File "forward.py", line 40, in relu\n    raise RuntimeError("not yet")\n'
         "RuntimeError: not yet\n")


def _raised(module: str, function: str, what: str, line: int = 40, text: str = "not yet") -> CheckResult:
    """A check whose call raised, described as the grader describes it (`describe_error`)."""
    err = StudentError("exception", f"RuntimeError: {text}",
                       TRACE.replace("line 40", f"line {line}").replace("not yet", text))
    err.call_text = f"{function}(z=[1, 2])"
    return _result(module, Check(module, function, what, 1.0, judge=None), err)


def _wrong(function: str, what: str, message: str, mistake: str | None = None) -> CheckResult:
    return CheckResult("forward", f"forward.{function}: {what}", "forward", function, 1.0, 0.0, True, False,
                       message=f"called {function}(z=[1])\n{message}", hint="a hint" if mistake else None,
                       mistake=mistake)


def _all_raising(functions: int, checks_each: int) -> SubmissionResult:
    checks = [_raised("forward", f"f{i}", f"input number {j}") for i in range(functions) for j in range(checks_each)]
    return SubmissionResult("stu", checks, 0.1)


def _what_to_fix(md: str) -> str:
    return md.split("## What to fix")[1]


def test_a_traceback_does_not_repeat_the_exception_message():
    text = describe_error(StudentError("exception", "RuntimeError: not yet", TRACE))
    assert text.count("RuntimeError: not yet") == 1
    assert 'File "forward.py", line 40, in relu' in text
    # a message the grader rewrote (say, for a MemoryError) differs from the traceback's: both stay
    other = describe_error(StudentError("exception", "MemoryError: ran out of memory", TRACE))
    assert "MemoryError: ran out of memory" in other and "RuntimeError: not yet" in other


def test_a_function_that_raises_on_every_check_gets_one_block_with_the_count():
    result = _all_raising(functions=3, checks_each=7)
    md = feedback_markdown(result)
    assert md.count("raise RuntimeError") == 3  # one traceback per function, not 21
    for i in range(3):
        assert f"### forward.f{i}: 7 of 7 checks failed (7 pt)" in md
        assert f"All 7 checks of forward.f{i} fail this way (7 pt)." in md
    html = feedback_html(result)
    assert html.count("<pre>") == 3 and html.count("raise RuntimeError") == 3


def test_feedback_size_is_bounded_by_the_functions_not_the_checks():
    few = feedback_markdown(_all_raising(functions=4, checks_each=3))
    many = feedback_markdown(_all_raising(functions=4, checks_each=40))
    assert many.count("raise RuntimeError") == few.count("raise RuntimeError") == 4
    # only the counts in the headings and the score table grow (a digit each), not the text
    assert len(_what_to_fix(many)) - len(_what_to_fix(few)) <= 4 * 3 * 2
    assert len(many) - len(few) <= 100
    more_functions = feedback_markdown(_all_raising(functions=8, checks_each=3))
    assert more_functions.count("raise RuntimeError") == 8


def test_distinct_failures_of_one_function_are_each_shown_once():
    checks = [
        _raised("forward", "relu", "a vector", line=40, text="size 2 is different from 4"),
        _raised("forward", "relu", "a matrix", line=40, text="size 3 is different from 5"),  # the same, other numbers
        _raised("forward", "relu", "float32", line=52, text="size 2 is different from 4"),  # another line
        _wrong("relu", "negative entries", "3 of 6 entries differ; worst at [1]: expected 0, got -1",
               mistake="forgot the max"),
        _wrong("relu", "a batch", "12 of 24 entries differ; worst at [0, 3]: expected 0, got -2",
               mistake="forgot the max"),
        _wrong("relu", "shape", "expected shape (3, 2), got shape (2, 3) (it looks transposed)"),
        CheckResult("forward", "forward.relu: passes", "forward", "relu", 1.0, 1.0, True, True),
    ]
    [subject] = group_failures(checks)
    assert subject.name == "forward.relu" and subject.checks == 7 and subject.failed == 6
    assert [[c.name.split(": ")[1] for c in f.checks] for f in subject.failures] == [
        ["a vector", "a matrix"], ["float32"], ["negative entries", "a batch"], ["shape"]]
    md = feedback_markdown(SubmissionResult("stu", checks, 0.1))
    assert "### forward.relu: 6 of 7 checks failed (6 pt)" in md
    assert md.count("#### ✗ ") == 4
    assert "The same failure also explains 1 other check (1 pt): a matrix." in md
    assert "The same failure also explains 1 other check (1 pt): a batch." in md
    assert md.count("differ; worst") == 1  # the second check of the named mistake is counted, not repeated


def test_a_missing_file_is_one_block_for_the_whole_module():
    missing = StudentError("missing-module", "forward.py (or forward.ipynb) is not in your submission")
    checks = [_result("forward", Check("forward", f, "x", 1.0, judge=None), missing)
              for f in ("relu", "tanh", "softmax", "softmax")]
    md = feedback_markdown(SubmissionResult("stu", checks, 0.1))
    assert md.count("is not in your submission") == 1
    assert "### forward.py: 4 of 4 checks failed (4 pt)" in md


def test_a_real_submission_whose_relu_raises_shows_each_traceback_once(course):
    source = mutate(reference_source("forward"), "    return np.maximum(z, 0.0)\n",
                    '    raise RuntimeError("relu is not written yet")\n')
    result = course.grade({"forward.py": source}, ["forward"])
    failed = [c for c in result.checks if not c.passed]
    functions = {c.function for c in failed}
    assert "relu" in functions and len(failed) > len(functions)  # several checks per function failed
    md = feedback_markdown(result)
    # every failing function shows the exception once (the traceback ends in relu's own line)
    assert md.count('raise RuntimeError("relu is not written yet")') == len(functions)
    assert md.count("RuntimeError: relu is not written yet") == len(functions)
    headings = re.findall(r"^### forward\.(\w+): (\d+) of (\d+) checks failed", md, flags=re.M)
    assert {h[0] for h in headings} == functions
    by_function = {c.function: 0 for c in failed}
    for c in failed:
        by_function[c.function] += 1
    assert {h[0]: int(h[1]) for h in headings} == by_function
