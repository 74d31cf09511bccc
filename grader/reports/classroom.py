"""GitHub Classroom's autograding format: the payloads the classroom reporter reads.

The reporter (`classroom-resources/autograding-grading-reporter@v1`) reads, for each runner id
`R` of its `runners` input, the environment variable `R_RESULTS` (upper case): base64 of a JSON
object `{version, status, max_score, tests: [{name, status, score, message, line_no}]}`, with
statuses `pass`, `fail` or `error`. It counts a runner's points twice, differently:

- its log and table (`src/helpers/test-helpers.js`, `getTestScore`): passed tests / tests x
  the runner's `max_score`, so every test of a runner weighs the same;
- Classroom (`src/notify-classroom.js`): the sum of the tests' `score` against the `max_score`s.

Both agree when every test of a runner is worth the same, so the checks are split into one
runner per assignment and point value (`forward2pt`: forward's 2-point checks). The workflow
appends `grade check --format classroom`'s output to `$GITHUB_ENV`, which sets each `R_RESULTS`
and `GRADER_RUNNERS` (the list) for the reporter's step.

An environment variable's value is capped by Linux at 128 KiB, so the payloads are small by
construction: a message keeps its first lines, and the messages shrink until all payloads
together fit in `PAYLOAD_LIMIT`.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from grader.model import CheckResult, Problem, SubmissionResult
from grader.reports.feedback import check_output

PAYLOAD_LIMIT = 64 * 1024
"""bytes of base64, all runners together: half of Linux's 128 KiB for one environment string"""
MESSAGE_LINES = 8
MESSAGE_CHARS = 600
NAME_CHARS = 120
RUNNERS_VARIABLE = "GRADER_RUNNERS"
"""the environment variable that lists the runner ids for the reporter's `runners` input"""

# A check whose code produced no result is an error; a wrong result is a failure.
_ERROR_PROBLEMS = {Problem.IMPORT_ERROR, Problem.CRASH, Problem.TIMEOUT, Problem.POLICY, Problem.JUDGE_ERROR,
                   Problem.BAD_OUTPUT}


class PayloadTooLarge(ValueError):
    """Even without messages, the checks' names do not fit in `PAYLOAD_LIMIT`."""


def _status(c: CheckResult) -> str:
    return "pass" if c.passed else ("error" if c.problem in _ERROR_PROBLEMS else "fail")


def trim_message(text: str, chars: int = MESSAGE_CHARS, lines: int = MESSAGE_LINES) -> str:
    """The first `lines` lines of `text`, at most `chars` characters; a last line `…` when cut."""
    kept = text.splitlines()
    out = "\n".join(kept[:lines])
    cut = len(kept) > lines or len(out) > chars
    out = out[:chars]
    return out + "\n…" if cut and out else out


def _runner_id(assignment: str, points: float, taken: set[str]) -> str:
    base = (re.sub(r"[^A-Za-z0-9]", "", assignment) or "checks") + f"{points:g}".replace(".", "p") + "pt"
    rid, n = base, 2
    while rid.upper() in taken:
        rid, n = f"{base}{n}", n + 1
    taken.add(rid.upper())
    return rid


def runner_groups(result: SubmissionResult) -> list[tuple[str, list[CheckResult]]]:
    """The checks split by assignment and point value, in grading order, each with its runner id."""
    groups: dict[tuple[str, float], list[CheckResult]] = {}
    for c in result.checks:
        groups.setdefault((c.assignment, c.max_score), []).append(c)
    taken: set[str] = set()
    return [(_runner_id(a, p, taken), checks) for (a, p), checks in groups.items()]


def _payload(checks: list[CheckResult], message_chars: int, name_chars: int) -> dict[str, Any]:
    tests = [{
        "name": c.name if len(c.name) <= name_chars else c.name[: name_chars - 1] + "…",
        "status": _status(c),
        "score": c.score,
        "message": "" if c.passed else trim_message(check_output(c), message_chars),
        "line_no": 0,  # the reporter prints " - line N" unless this is 0
    } for c in checks]
    return {
        "version": 1,
        "status": "pass" if all(c.passed for c in checks) else "fail",
        "max_score": round(sum(c.max_score for c in checks), 6),
        "tests": tests,
    }


def encode_payload(payload: dict[str, Any]) -> str:
    """Base64 of the JSON payload (the value of a runner's `R_RESULTS`)."""
    return base64.b64encode(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()).decode()


def classroom_payloads(result: SubmissionResult, limit: int = PAYLOAD_LIMIT) -> list[tuple[str, str]]:
    """`(runner id, base64 payload)` per runner, all together at most `limit` bytes of base64."""
    groups = runner_groups(result)
    message_chars, name_chars = MESSAGE_CHARS, NAME_CHARS
    while True:
        encoded = [(rid, encode_payload(_payload(checks, message_chars, name_chars))) for rid, checks in groups]
        if sum(len(e) for _, e in encoded) <= limit:
            return encoded
        if message_chars > 0:
            message_chars //= 2
        elif name_chars > 40:
            name_chars = 40
        else:
            raise PayloadTooLarge(
                f"{len(result.checks)} checks do not fit in GitHub Classroom's payload ({limit} bytes) even "
                "without messages: split the course into several assignments")


def classroom_env(result: SubmissionResult, limit: int = PAYLOAD_LIMIT) -> str:
    """The lines to append to `$GITHUB_ENV`: `GRADER_RUNNERS=...` and one `R_RESULTS=...` per runner."""
    payloads = classroom_payloads(result, limit)
    lines = [f"{RUNNERS_VARIABLE}={','.join(rid for rid, _ in payloads)}"]
    lines += [f"{rid.upper()}_RESULTS={encoded}" for rid, encoded in payloads]
    return "\n".join(lines)


def summary_markdown(result: SubmissionResult) -> str:
    """A job summary: the points, a table of checks, the first failure in full."""
    lines = [f"## Visible checks: {result.score:g} / {result.max_score:g} points", "",
             "| | check | points |", "|---|---|---:|"]
    for c in result.checks:
        lines.append(f"| {'✅' if c.passed else '❌'} | `{c.name}` | {c.score:g} / {c.max_score:g} |")
    failed = [c for c in result.checks if not c.passed]
    if failed:
        lines += ["", f"### First failure: `{failed[0].name}`", "", "```", check_output(failed[0]), "```"]
    lines += ["", "GitHub Classroom and the reporter's log count these same points (one runner per assignment "
              "and point value, so every test of a runner weighs the same).",
              "Scores here are advisory: the official grade adds hidden checks after the deadline.", ""]
    return "\n".join(lines)
