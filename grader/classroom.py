"""GitHub Classroom's autograding format: the payload the classroom reporter reads.

The reporter (`classroom-resources/autograding-grading-reporter`) reads, for each runner id
`R` given in `runners`, the environment variable `R_RESULTS`: base64 of a JSON object
`{version, status, max_score, tests: [{name, status, score, message, ...}]}`, where the
statuses are `pass`, `fail` or `error`. It sums the tests' scores against `max_score`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from grader.grading import SubmissionResult
from grader.report import check_output

# A check whose code produced no result is an error; a wrong result is a failure.
_ERROR_PROBLEMS = {"import-error", "crash", "timeout", "policy", "judge-error", "bad-output"}


def classroom_payload(result: SubmissionResult) -> dict[str, Any]:
    """The result in the classroom reporter's format."""
    tests = []
    for c in result.checks:
        status = "pass" if c.passed else ("error" if c.problem in _ERROR_PROBLEMS else "fail")
        tests.append({
            "name": c.name,
            "status": status,
            "score": c.score,
            "max_score": c.max_score,
            "message": check_output(c),
            "test_code": c.name,
            "filename": f"{c.module}.py",
            "line_no": 0,
            "execution_time": "",
        })
    return {
        "version": 1,
        "status": "pass" if all(c.passed for c in result.checks) else "fail",
        "max_score": result.max_score,
        "tests": tests,
    }


def encode_payload(payload: dict[str, Any]) -> str:
    """Base64 of the JSON payload (what the workflow puts in `GRADER_RESULTS`)."""
    return base64.b64encode(json.dumps(payload).encode()).decode()


def summary_markdown(result: SubmissionResult) -> str:
    """A job summary: the points, a table of checks, the first failure in full."""
    lines = [f"## Visible checks: {result.score:g} / {result.max_score:g} points", "",
             "| | check | points |", "|---|---|---:|"]
    for c in result.checks:
        lines.append(f"| {'✅' if c.passed else '❌'} | `{c.name}` | {c.score:g} / {c.max_score:g} |")
    failed = [c for c in result.checks if not c.passed]
    if failed:
        lines += ["", f"### First failure: `{failed[0].name}`", "", "```", check_output(failed[0]), "```"]
    lines += ["", "Scores here are advisory: the official grade adds hidden checks after the deadline.", ""]
    return "\n".join(lines)
