"""Reports, written only by the trusted side after the worker is gone.

Per submission, in `OUT/students/<submission>/`: `results.json` in Gradescope's autograder
schema, `feedback.md` for the student and `feedback.html`, the same as one self-contained page
(for students who get their feedback by mail). For the class, in `OUT/` itself: `grades.csv`,
with a first row of the points possible (and `summary.md` / `summary.html`, see
`grader.reports.summary`). Student reports live in their own folder, so no student's name can ever be
the name of a class report.

Every file is written atomically (`grader.reports.output`), and every string a student chose is made
inert where it lands: escaped in HTML and Markdown, plain text for Gradescope, no formula in
the CSV (`grader.reports.inert`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from grader.model import CheckResult, SubmissionResult
from grader.reports.failures import Failure, Subject, group_failures, short_name
from grader.reports.htmlpage import Html, join, page, pre, table, tag
from grader.reports.inert import csv_cell, md_block, md_inline, visible
from grader.reports.output import make_dir, write_atomic

STUDENTS = "students"
"""the folder of `OUT/` that holds one folder per submission"""
REPORT_FILES = ("results.json", "feedback.md", "feedback.html")
"""what `write_submission_reports` writes into a submission's folder"""
TEXT = "text"
"""Gradescope's output format that renders nothing: no HTML, Markdown or ANSI"""


def student_folder(out: Path, name: str) -> Path:
    """`OUT/students/<name>`: where one submission's reports go.

    `name` is a submission id (`grader.inputs.collect` makes it a plain file name); anything that
    could leave the folder is refused here as well.
    """
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"not a submission id: {name!r}")
    return Path(out) / STUDENTS / name


def _points(x: float) -> str:
    return f"{x:g}"


def check_output(c: CheckResult, diagnosis: bool = True) -> str:
    """The feedback text of one check: its message, the diagnosis of its function (unless the
    report states it once above) and, if any, the hint that names the bug."""
    parts = [c.message] if c.message else []
    if c.diagnosis and diagnosis:
        parts.append(f"Diagnosis: {c.diagnosis}")
    if c.hint:
        parts.append(f"Hint ({c.mistake}): {c.hint}" if c.mistake else f"Hint: {c.hint}")
    return "\n".join(parts)


def _subject_title(subject: Subject) -> str:
    return f"{subject.name}: {subject.failed} of {subject.checks} checks failed ({_points(subject.points)} pt)"


def _failure_title(failure: Failure, subject: Subject) -> str:
    return f"✗ {short_name(failure.shown, subject.name)} ({_points(failure.shown.max_score)} pt)"


def explains(failure: Failure, subject: Subject) -> str:
    """What else the failure shown explains: the count (and names) of the checks failing the same way."""
    if not failure.others:
        return ""
    pts = _points(failure.points)
    if len(failure.checks) == subject.checks:
        return f"All {subject.checks} checks of {subject.name} fail this way ({pts} pt)."
    n = len(failure.others)
    names = "; ".join(short_name(c, subject.name) for c in failure.others)
    return (f"The same failure also explains {n} other check{'s' if n > 1 else ''} "
            f"({_points(sum(c.max_score for c in failure.others))} pt): {names}.")


def diagnosis_of(subject: Subject) -> str:
    """The diagnosis of a subject's function (the same on each of its failing checks)."""
    return next((c.diagnosis for f in subject.failures for c in f.checks if c.diagnosis), "") or ""


def gradescope_results(result: SubmissionResult) -> dict[str, object]:
    """The submission in Gradescope's results.json schema.

    Hidden checks get visibility `after_published`: students see them once grades are out.
    Every name and output is declared `text` (Gradescope renders the top-level output as
    HTML by default, and it holds names the student chose).
    """
    tests = [
        {
            "name": c.name,
            "name_format": TEXT,
            "number": str(i),
            "score": c.score,
            "max_score": c.max_score,
            "status": "passed" if c.passed else "failed",
            "output": visible(check_output(c), keep="\n\t"),
            "output_format": TEXT,
            "visibility": "visible" if c.visible else "after_published",
            "tags": [c.assignment],
        }
        for i, c in enumerate(result.checks, 1)
    ]
    summary = [f"Score: {_points(result.score)} / {_points(result.max_score)}"] + result.notices
    return {
        "score": result.score,
        "execution_time": result.execution_time,
        "output": visible("\n".join(summary), keep="\n\t"),
        "output_format": TEXT,
        "test_output_format": TEXT,
        "test_name_format": TEXT,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _fenced(text: str) -> list[str]:
    """`text` in a code fence longer than any run of backticks in it (so it cannot close it)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, md_block(text), fence]


def feedback_markdown(result: SubmissionResult, visible_only: bool = False) -> str:
    """A readable report: the notices, a score table per assignment, then each failure in full."""
    checks = [c for c in result.checks if c.visible or not visible_only]
    lines = [f"# Feedback for {md_inline(result.submission)}", ""]
    for notice in result.notices:
        lines.append(f"> **Note:** {md_inline(notice)}")
    if result.notices:
        lines.append("")
    lines.append(f"**Score: {_points(sum(c.score for c in checks))} / {_points(sum(c.max_score for c in checks))}**")
    lines.append("")
    lines += ["| Assignment | Points | Checks passed |", "|---|---:|---:|"]
    for name in dict.fromkeys(c.assignment for c in checks):
        mine = [c for c in checks if c.assignment == name]
        score = sum(c.score for c in mine)
        total = sum(c.max_score for c in mine)
        passed = sum(c.passed for c in mine)
        lines.append(f"| {name} | {_points(score)} / {_points(total)} | {passed} / {len(mine)} |")
    lines.append("")
    subjects = group_failures(checks)
    if not subjects:
        lines.append("Every check passed. Well done.")
    else:
        lines += ["## What to fix", ""]
        for subject in subjects:
            lines += [f"### {_subject_title(subject)}", ""]
            said = diagnosis_of(subject)
            if said:
                lines += [f"**Diagnosis:** {'; '.join(md_inline(t) for t in said.splitlines())}", ""]
            for failure in subject.failures:
                lines.append(f"#### {_failure_title(failure, subject)}")
                lines += ["", *_fenced(check_output(failure.shown, diagnosis=False)), ""]
                also = explains(failure, subject)
                if also:
                    lines += [also, ""]
    passed = [c for c in checks if c.passed]
    if passed:
        lines += ["## Passed", ""] + [f"- ✓ {c.name}" for c in passed] + [""]
    if result.output.strip():
        lines += ["## What your code printed", "", *_fenced(result.output.rstrip()[:4000]), ""]
    return "\n".join(lines)


def feedback_html(result: SubmissionResult, visible_only: bool = False) -> str:
    """`feedback_markdown` as one self-contained HTML page; every string from a run is escaped."""
    checks = [c for c in result.checks if c.visible or not visible_only]
    parts: list[object] = [tag("h1", f"Feedback for {result.submission}")]
    parts += [tag("p", Html(f"<strong>Note:</strong> {tag('span', n)}"), class_="note")
              for n in result.notices]
    score, total = sum(c.score for c in checks), sum(c.max_score for c in checks)
    parts.append(tag("p", f"Score: {_points(score)} / {_points(total)}", class_="score"))
    rows = []
    for name in dict.fromkeys(c.assignment for c in checks):
        mine = [c for c in checks if c.assignment == name]
        points = f"{_points(sum(c.score for c in mine))} / {_points(sum(c.max_score for c in mine))}"
        rows.append([name, points, f"{sum(c.passed for c in mine)} / {len(mine)}"])
    parts.append(table(["Assignment", "Points", "Checks passed"], rows, numeric=(1, 2)))
    subjects = group_failures(checks)
    if not subjects:
        parts.append(tag("p", "Every check passed. Well done.", class_="pass"))
    else:
        parts.append(tag("h2", "What to fix"))
        for subject in subjects:
            parts.append(tag("h3", _subject_title(subject)))
            said = diagnosis_of(subject)
            if said:
                parts.append(tag("p", join([tag("strong", "Diagnosis: "), "; ".join(said.splitlines())])))
            for failure in subject.failures:
                parts += [tag("h4", _failure_title(failure, subject), class_="fail"),
                          pre(check_output(failure.shown, diagnosis=False))]
                also = explains(failure, subject)
                if also:
                    parts.append(tag("p", also))
    passed = [c for c in checks if c.passed]
    if passed:
        items = join(tag("li", f"✓ {c.name}", class_="pass") for c in passed)
        parts += [tag("h2", "Passed"), tag("ul", items)]
    if result.output.strip():
        parts += [tag("h2", "What your code printed"), pre(result.output.rstrip()[:4000])]
    return page(f"Feedback for {result.submission}", join(parts))


def write_gradescope_json(result: SubmissionResult, path: Path) -> None:
    """`results.json` for Gradescope, written atomically."""
    write_atomic(path, json.dumps(gradescope_results(result), indent=2))


def write_submission_reports(result: SubmissionResult, out: Path) -> Path:
    """Write `OUT/students/<submission>/` `results.json`, `feedback.md`, `feedback.html`; returns the folder.

    Raises `grader.reports.output.OutputError` when a file cannot be written.
    """
    folder = make_dir(student_folder(out, result.submission))
    write_gradescope_json(result, folder / "results.json")
    write_atomic(folder / "feedback.md", feedback_markdown(result))
    write_atomic(folder / "feedback.html", feedback_html(result))
    return folder


def grades_csv(results: list[SubmissionResult], assignments: list[tuple[str, float]]) -> str:
    """One row per submission (points per assignment, total, status); first row: points possible.

    Scores are numbers; every other cell goes through `grader.reports.inert.csv_cell`.
    """
    total = sum(m for _, m in assignments)
    f = io.StringIO(newline="")
    writer = csv.writer(f)
    writer.writerow([csv_cell(x) for x in ["submission", *(a for a, _ in assignments), "total", "status"]])
    writer.writerow(["points possible"] + [_points(m) for _, m in assignments] + [_points(total), ""])
    for r in results:
        scores = r.assignment_scores()
        row = [csv_cell(r.submission)] + [_points(scores.get(a, (0.0, 0.0))[0]) for a, _ in assignments]
        writer.writerow(row + [_points(r.score), csv_cell(r.status)])
    return f.getvalue()


def write_grades_csv(results: list[SubmissionResult], assignments: list[tuple[str, float]], path: Path) -> None:
    """`grades_csv` written atomically to `path`."""
    write_atomic(path, grades_csv(results, assignments))
