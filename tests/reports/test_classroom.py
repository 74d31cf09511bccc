"""Autograding in a student's repository: GitHub Classroom's payloads and the workflow's steps."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import grader
from conftest import ROOT
from grader.model import CheckResult, SubmissionResult
from grader.reports.classroom import (
    MESSAGE_LINES,
    PAYLOAD_LIMIT,
    RUNNERS_VARIABLE,
    PayloadTooLarge,
    classroom_env,
    classroom_payloads,
    trim_message,
)

WORKFLOW = ROOT / "student_template" / ".github" / "workflows" / "classroom.yml"
CHECKOUT = str(Path(grader.__file__).resolve().parent.parent)


def step_script(name: str, workflow: Path = WORKFLOW) -> str:
    """The `run: |` block of the workflow step called `name`."""
    text = workflow.read_text()
    block = text.split(f"- name: {name}\n", 1)[1]
    lines = block.split("run: |\n", 1)[1].splitlines()
    script = []
    for line in lines:
        if not line.startswith("          "):
            break
        script.append(line.strip())
    return "\n".join(script)


def this_python(script: str) -> str:
    """The script with its `python` being this interpreter (the test must not depend on PATH)."""
    return re.sub(r"(?m)^python ", f'"{sys.executable}" ', script)


def read_env_file(path: Path) -> dict[str, str]:
    """`$GITHUB_ENV`'s `NAME=value` lines, as the runner reads them."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


# An independent account of what the reporter computes (classroom-resources/
# autograding-grading-reporter@v1): src/helpers/test-helpers.js `getTestScore` for the log and
# table, src/notify-classroom.js for the points Classroom records.
def reporter_log_points(runners: list[dict]) -> float:
    return sum(sum(t["status"] == "pass" for t in r["tests"]) / len(r["tests"]) * (r["max_score"] or 0)
               for r in runners)


def classroom_points(runners: list[dict]) -> tuple[float, float]:
    total = maximum = 0.0
    for r in runners:
        if not r["max_score"]:
            continue
        maximum += r["max_score"]
        total += sum(t["score"] for t in r["tests"])
    return total, maximum


def decode_runners(env: dict[str, str]) -> list[dict]:
    """Each runner's payload, found as the reporter finds it: `runners`, then `R_RESULTS`."""
    return [json.loads(base64.b64decode(env[f"{r.strip().upper()}_RESULTS"]))
            for r in env[RUNNERS_VARIABLE].split(",")]


def _check(assignment: str, n: int, points: float, passed: bool, message: str = "") -> CheckResult:
    return CheckResult(assignment, f"{assignment}.f{n}: case {n}", assignment, f"f{n}", points,
                       points if passed else 0.0, True, passed, message=message)


def test_workflow_installs_the_bundled_wheel_and_hands_every_runner_to_the_reporter():
    text = WORKFLOW.read_text()
    assert "run-autograding-tests:" in text
    assert re.search(r"permissions:\n\s+checks: write", text)
    assert "classroom-resources/autograding-grading-reporter@v1" in text
    assert "runners: ${{ env.GRADER_RUNNERS }}" in text
    assert '>> "$GITHUB_ENV"' in step_script("Visible checks")
    install = step_script("Install the grader")
    wheel = re.fullmatch(r'python -m pip install "\./(\.github/grader/[\w.-]+\.whl)"', install)
    assert wheel, install
    assert (ROOT / "student_template" / wheel.group(1)).is_file()
    assert "nn-grader\"" not in text  # never a bare name that whoever registers it would own


def test_the_workflow_steps_emit_payloads_whose_points_agree_in_the_log_and_in_classroom(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    shutil.copy(ROOT / "reference" / "forward.py", work / "forward.py")  # forward done, the others not
    env_file, summary = tmp_path / "env", tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_ENV": str(env_file), "GITHUB_STEP_SUMMARY": str(summary), "PYTHONPATH": CHECKOUT}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", this_python(step_script("Visible checks"))], cwd=work,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    runners = decode_runners(read_env_file(env_file))
    assert len(runners) > 1
    for r in runners:
        assert r["version"] == 1 and r["status"] in ("pass", "fail")
        assert len({t["score"] for t in r["tests"] if t["status"] == "pass"}) <= 1  # one point value per runner
        for test in r["tests"]:
            assert {"name", "status", "score", "message", "line_no"} <= set(test)
            assert test["status"] in ("pass", "fail", "error") and test["line_no"] == 0
    tests = [t for r in runners for t in r["tests"]]
    forward = [t for t in tests if t["name"].startswith("forward.")]
    assert forward and all(t["status"] == "pass" for t in forward)
    assert any(t["status"] != "pass" for t in tests)
    own = json.loads(subprocess.run([sys.executable, "-m", "grader", "check", "--json"], cwd=work, env=env,
                                    capture_output=True, text=True).stdout)
    total, maximum = classroom_points(runners)
    assert (total, maximum) == pytest.approx((own["score"], own["max_score"]))
    assert reporter_log_points(runners) == pytest.approx(total)
    assert f"{own['score']:g} / {own['max_score']:g} points" in summary.read_text()


def test_runners_of_equal_points_make_log_and_classroom_agree_where_one_payload_would_not():
    checks = ([_check("forward", i, 1.0, i % 2 == 0) for i in range(5)]
              + [_check("forward", 10 + i, 3.0, i == 0) for i in range(3)]
              + [_check("backprop", 20 + i, 0.5, True) for i in range(3)]
              + [_check("backprop", 30, 2.0, False)])
    result = SubmissionResult("s", checks, 0.0)
    runners = [json.loads(base64.b64decode(p)) for _, p in classroom_payloads(result)]
    expected = 3 * 1.0 + 1 * 3.0 + 3 * 0.5  # counted by hand from the list above
    assert classroom_points(runners) == pytest.approx((expected, 5 + 9 + 1.5 + 2))
    assert reporter_log_points(runners) == pytest.approx(expected)
    # The single payload of before: 7 of 12 tests passed x 17.5 = 10.2 in the log, 7.5 in Classroom.
    single = [{"max_score": 17.5, "tests": [t for r in runners for t in r["tests"]]}]
    assert reporter_log_points(single) != pytest.approx(classroom_points(single)[0])


def test_runner_ids_are_what_the_reporter_accepts_and_unique():
    checks = [_check("hw-1", 0, 1.0, True), _check("hw_1", 1, 1.0, True), _check("hw-1", 2, 2.5, False)]
    ids = [rid for rid, _ in classroom_payloads(SubmissionResult("s", checks, 0.0))]
    assert ids == ["hw11pt", "hw11pt2", "hw12p5pt"]
    assert all(re.fullmatch(r"[a-zA-Z0-9]+", i) for i in ids)  # the reporter's own runners pattern


def test_payloads_stay_under_the_limit_however_long_the_messages():
    flood = "\n".join(f"line {i}: " + "x" * 5000 for i in range(200))  # 1 MB of message per check
    checks = [_check(f"a{k}", i, 1.0 + k, False, message=flood) for k in range(3) for i in range(120)]
    env = classroom_env(SubmissionResult("s", checks, 0.0))
    values = dict(line.split("=", 1) for line in env.splitlines())
    payloads = [v for k, v in values.items() if k.endswith("_RESULTS")]
    assert len(payloads) == 3
    assert sum(len(p) for p in payloads) <= PAYLOAD_LIMIT
    assert all(len(f"X_RESULTS={p}".encode()) < 128 * 1024 for p in payloads)  # Linux's MAX_ARG_STRLEN
    tests = [t for p in payloads for t in json.loads(base64.b64decode(p))["tests"]]
    assert len(tests) == 360 and all(t["message"].startswith("line 0: x") for t in tests)


def test_a_short_message_is_kept_whole_and_a_long_one_keeps_its_first_lines():
    short = "called forward.relu(z)\nexpected shape (3,), got (3, 1)"
    assert trim_message(short) == short
    long = "\n".join(f"line {i}" for i in range(50))
    kept = trim_message(long)
    assert kept.splitlines() == [f"line {i}" for i in range(MESSAGE_LINES)] + ["…"]
    assert trim_message("y" * 1000, chars=100) == "y" * 100 + "\n…"


def test_a_course_too_large_for_the_payload_is_refused_not_truncated_silently():
    checks = [_check("a", i, 1.0, False) for i in range(50)]
    with pytest.raises(PayloadTooLarge):
        classroom_payloads(SubmissionResult("s", checks, 0.0), limit=2000)


def test_failing_checks_give_fail_and_a_message(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "forward", "--format", "classroom"], cwd=work,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": CHECKOUT})
    assert proc.returncode == 0, proc.stderr
    runners = decode_runners(dict(line.split("=", 1) for line in proc.stdout.splitlines()))
    tests = [t for r in runners for t in r["tests"]]
    assert tests and all(r["status"] == "fail" for r in runners)
    assert all(t["status"] == "fail" and "NotImplementedError" in t["message"] for t in tests)
