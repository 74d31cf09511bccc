"""Class summary and HTML reports: the right figures, in the right order, all text escaped."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from conftest import mutate, reference_source
from grader.model import CheckResult, SubmissionResult
from grader.reports.feedback import feedback_html, feedback_markdown, gradescope_results
from grader.reports.summary import histogram_svg, summarize, write_summary

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _check(name: str, passed: bool, mistake: str | None = None, problem: str | None = None,
           message: str = "", assignment: str = "forward") -> CheckResult:
    module, rest = name.split(".", 1)
    return CheckResult(assignment=assignment, name=name, module=module, function=rest.split(":")[0],
                       max_score=1.0, score=1.0 if passed else 0.0, visible=True, passed=passed,
                       message=message, hint="Sum over axis=1." if mistake else None, mistake=mistake,
                       problem=problem)


NAMES = ["forward.softmax: rows", "forward.relu: vector", "forward.tanh: vector"]
"""the summary's order, worked out by hand below: pass rates 1/4, 2/4 and 2/4 (a tie, broken by name)"""


def _class() -> list[SubmissionResult]:
    softmax, relu, tanh = NAMES

    def sub(who: str, outcome: list[CheckResult], output: str = "") -> SubmissionResult:
        # Every submission lists its checks in the reverse of the summary's order, so that
        # order can only come from sorting.
        return SubmissionResult(who, sorted(outcome, key=lambda c: NAMES.index(c.name), reverse=True), 0.1, output)

    return [
        sub("ada", [_check(n, True) for n in NAMES]),
        sub("ben", [_check(softmax, False, mistake="softmax over the wrong axis"),
                    _check(relu, True), _check(tanh, False, mistake="tanh as sigmoid")]),
        sub("cai", [_check(softmax, False, mistake="softmax over the wrong axis"),
                    _check(relu, False, problem="timeout", message="called relu(x)\ntimed out: 2 s"),
                    _check(tanh, True)]),
        sub(HOSTILE, [_check(softmax, False, problem="policy", message=HOSTILE),
                      _check(relu, False, problem="import-error"), _check(tanh, False)], HOSTILE),
    ]


def test_checks_are_sorted_by_wrong_answers_among_answers_and_mistakes_counted():
    s = summarize(_class(), [("forward", 3.0)])
    # Ranked by wrong answers among the submissions whose code answered, counted by hand from
    # _class: softmax 2 of 3 (the policy breach gave no answer), tanh 2 of 4, relu 0 of 2 (a
    # timeout and an import error gave none).
    softmax, relu, tanh = NAMES
    assert [c.name for c in s.checks] == [softmax, tanh, relu]
    # passed / graded / failed with a wrong answer (no problem kind)
    assert [(c.passed, c.graded, c.wrong) for c in s.checks] == [(1, 4, 2), (2, 4, 2), (2, 4, 0)]
    # the tanh mistake is met first (ben lists tanh first) but made by fewer submissions
    assert [(m.name, m.function, m.submissions, m.checks) for m in s.mistakes] == [
        ("softmax over the wrong axis", "forward.softmax", 2, 2), ("tanh as sigmoid", "forward.tanh", 1, 1)]
    assert [(name, dict(kinds)) for name, kinds, _ in s.rule_breakers] == [
        ("cai", {"timeout": 1}), (HOSTILE, {"policy": 1})]
    assert s.not_run == {"import-error": [HOSTILE]}
    # scores 3, 1, 1 and 0 of 3: tenths 10 (the last bin), 3, 3 and 0
    assert s.histogram() == [1, 0, 0, 2, 0, 0, 0, 0, 0, 1]


def test_a_mistake_made_twice_in_one_submission_counts_one_submission():
    twice = SubmissionResult("dee", [_check("forward.softmax: rows", False, mistake="m"),
                                     _check("forward.softmax: cols", False, mistake="m")], 0.1)
    (m,) = summarize([twice], [("forward", 2.0)]).mistakes
    assert (m.submissions, m.checks) == (1, 2)


def test_summary_pages_say_what_the_class_did_not_understand(tmp_path):
    write_summary(_class(), [("forward", 3.0)], tmp_path, warnings=["skipped notes.txt: not a submission"])
    md = (tmp_path / "summary.md").read_text()
    glance = md.split("## At a glance")[1].split("##")[0]
    assert "- 4 submissions; median 1 of 3 points (33%); 1 with full marks, 1 with none." in glance
    assert ("- Most wrong answers (of the submissions whose code answered): forward.softmax: rows (2 of 3 wrong); "
            "forward.tanh: vector (2 of 4 wrong).") in glance
    # at a glance, only mistakes made by more than one submission: tanh as sigmoid (1) is not
    assert "- Most common mistakes (submissions): softmax over the wrong axis in forward.softmax (2)." in glance
    assert "1 with a timeout" in glance and "1 broke the rules" in glance
    assert md.index(NAMES[0] + " |") < md.index(NAMES[2] + " |") < md.index(NAMES[1] + " |")
    assert "| cai | timeout (1) | timed out: 2 s |" in md
    assert "![Histogram of total scores](score_histogram.svg)" in md
    assert "skipped notes.txt" in md
    ET.fromstring((tmp_path / "score_histogram.svg").read_text())  # a well-formed picture
    html = (tmp_path / "summary.html").read_text()
    assert "<svg" in html and "softmax over the wrong axis" in html
    assert html.index(">" + NAMES[0] + "<") < html.index(">" + NAMES[2] + "<") < html.index(">" + NAMES[1] + "<")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_histogram_bars_match_the_counts():
    svg = ET.fromstring(histogram_svg([0, 5, 10], 20))
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") == "#3b6fb6"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == 0 and abs(heights[2] - 2 * heights[1]) < 0.2


def test_feedback_html_escapes_hostile_output_and_messages():
    result = _class()[3]
    result.notices = [HOSTILE]
    page = feedback_html(result)
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert page.count("&lt;script&gt;") >= 3  # the name, the message, the printed output, the notice
    assert "Content-Security-Policy" in page and "<style>" in page
    assert "<link" not in page and "http" not in page.split("</style>")[1]  # nothing remote


def test_student_output_cannot_close_the_markdown_fence():
    result = _class()[0]
    result.output = "```\n![tracker](http://evil.example/x.png)\n```"
    md = feedback_markdown(result)
    fence = md.split("## What your code printed")[1].strip().splitlines()[0]
    assert fence == "````"


def test_feedback_html_of_a_real_run_with_printed_markup(course):
    source = mutate(reference_source("forward"), "def relu(z):\n",
                    "print('<b>debug</b> & <script>x()</script>')\n\n\ndef relu(z):\n")
    # the whole softmax over axis 0 (max and sum), which is exactly the catalogued mistake
    source = mutate(source, "e.sum(axis=-1, keepdims=True)", "e.sum(axis=0, keepdims=True)")
    source = mutate(source, "Z.max(axis=-1, keepdims=True)", "Z.max(axis=0, keepdims=True)")
    result = course.grade({"forward.py": source}, ["forward"])
    page = feedback_html(result)
    assert "&lt;b&gt;debug&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "<script" not in page
    assert "softmax over the wrong axis" in page


def test_gradescope_results_hide_hidden_checks_until_published():
    visible = _check("forward.relu: vector", True)
    hidden = dataclasses.replace(_check("forward.tanh: vector", False, message="called tanh(x)"), visible=False)
    data = gradescope_results(SubmissionResult("ada", [visible, hidden], 0.5, "", ["NOT SANDBOXED"]))
    assert [(t["name"], t["visibility"], t["status"], t["score"]) for t in data["tests"]] == [
        ("forward.relu: vector", "visible", "passed", 1.0), ("forward.tanh: vector", "after_published", "failed", 0.0)]
    assert data["score"] == 1.0 and data["output"] == "Score: 1 / 2\nNOT SANDBOXED"
