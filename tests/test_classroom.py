"""Autograding in a student's repository: GitHub Classroom's payload and the workflow's steps."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

from conftest import ROOT, grade_on_path, grader_command, grader_env

WORKFLOW = ROOT / "student_template" / ".github" / "workflows" / "classroom.yml"


def _step_script(name: str) -> str:
    """The `run: |` block of the workflow step called `name`."""
    text = WORKFLOW.read_text()
    block = text.split(f"- name: {name}\n", 1)[1]
    lines = block.split("run: |\n", 1)[1].splitlines()
    script = []
    for line in lines:
        if not line.startswith("          "):
            break
        script.append(line.strip())
    return "\n".join(script)


def test_workflow_has_the_classroom_job_permissions_and_reporter():
    text = WORKFLOW.read_text()
    assert "run-autograding-tests:" in text
    assert re.search(r"permissions:\n\s+checks: write", text)
    assert "classroom-resources/autograding-grading-reporter@v1" in text
    assert 'GRADER_RESULTS: "${{ steps.grader.outputs.result }}"' in text and "runners: grader" in text


def test_running_the_workflow_step_emits_a_valid_payload(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    shutil.copy(ROOT / "reference" / "forward.py", work / "forward.py")  # forward done, others not
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    env = {**grade_on_path(tmp_path / "bin"), "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", _step_script("Visible checks")], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    line = output.read_text().strip()
    assert line.startswith("result=")
    payload = json.loads(base64.b64decode(line[len("result="):]))
    assert payload["version"] == 1 and payload["status"] in ("pass", "fail")
    assert isinstance(payload["max_score"], (int, float)) and payload["max_score"] > 0
    for test in payload["tests"]:
        assert {"name", "status", "score", "message"} <= set(test)
        assert test["status"] in ("pass", "fail", "error")
    forward = [t for t in payload["tests"] if t["name"].startswith("forward.")]
    assert forward and all(t["status"] == "pass" for t in forward)
    assert sum(t["score"] for t in payload["tests"]) <= payload["max_score"]
    assert "Visible checks:" in summary.read_text()


def test_failing_checks_give_fail_and_a_message(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    proc = subprocess.run(grader_command("check", "forward", "--format", "classroom"), cwd=work,
                          capture_output=True, text=True, env=grader_env())
    assert proc.returncode == 0
    payload = json.loads(base64.b64decode(proc.stdout.strip()))
    assert payload["status"] == "fail"
    assert all(t["status"] == "fail" and "NotImplementedError" in t["message"] for t in payload["tests"])
