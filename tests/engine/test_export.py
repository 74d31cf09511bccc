"""`grade export gradescope`: the zip Gradescope needs, run in a folder imitating /autograder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from grader.cli.commands import main

EXAMPLES = ROOT / "examples" / "submit"
TIMEOUT = 30
"""the exported per-call limit: no submission here hangs, so one that load cannot reach"""


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    """The exported zip of a course with the forward assignment."""
    tmp = tmp_path_factory.mktemp("export")
    course = tmp / "course"
    shutil.copytree(ROOT / "assignments" / "forward", course / "assignments" / "forward")
    (course / "assignments" / "course.toml").write_text('assignments = ["forward"]\n')
    (course / "reference").mkdir()
    shutil.copy(ROOT / "reference" / "forward.py", course / "reference" / "forward.py")
    out = tmp / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "--out", str(out), "--course", str(course),
                                       "--timeout", str(TIMEOUT)])
    assert result.exit_code == 0, result.output
    return out


def _container(tmp_path: Path, autograder: Path, files: dict[str, bytes]) -> Path:
    """`/autograder` as Gradescope lays it out: source/ (the zip), submission/, results/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(autograder) as z:
        z.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, data in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    metadata = {"id": 1, "users": [{"name": "Ada L", "id": 7}]}
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def _run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    return subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_zip_has_setup_and_run_autograder_at_its_root(autograder):
    with zipfile.ZipFile(autograder) as z:
        names = z.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        setup = z.read("setup.sh").decode()
        settings = json.loads(z.read("settings.json"))
    assert settings == {"assignments": ["forward"], "timeout": TIMEOUT}
    assert {n.split("/")[0] for n in names} == {"setup.sh", "run_autograder", "settings.json", "course", "nn_grader"}
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "course/reference/forward.py" in names and "course/assignments/forward/checks_hidden.py" in names
    assert "nn_grader/pyproject.toml" in names and "nn_grader/grader/worker/serve.py" in names
    assert not any(n.startswith(("tests/", "student_template/", "examples/")) for n in names)
    assert subprocess.run(["bash", "-n"], input=setup, text=True).returncode == 0
    assert "pip install" in setup and "/autograder" in setup


def test_run_autograder_grades_the_submission_into_results_json(tmp_path, autograder):
    cai = (EXAMPLES / "cai_softmax_axis" / "forward.py").read_bytes()
    root = _container(tmp_path, autograder, {"forward.py": cai})
    proc = _run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    # Softmax over the wrong axis breaks exactly the checks of a value computed through softmax
    # (its input is left alone, so "does not modify its inputs" still passes).
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    through_softmax = [t["name"] for t in data["tests"]
                       if "softmax" in t["name"] and "does not modify" not in t["name"]]
    assert [t["name"] for t in failed] == through_softmax != []
    total = sum(t["max_score"] for t in data["tests"])
    assert data["score"] == total - sum(t["max_score"] for t in failed) > 0
    assert {t["visibility"] for t in data["tests"]} == {"visible", "after_published"}
    assert any("softmax over the wrong axis" in t["output"] for t in data["tests"])
    assert f"Ada_L: {data['score']:g} / {total:g}" in proc.stdout
    assert stat.S_IMODE((root / "source" / "course" / "reference" / "forward.py").stat().st_mode) & 0o077 == 0


def test_a_submission_in_a_subfolder_or_missing_still_gets_results(tmp_path, autograder):
    root = _container(tmp_path / "a", autograder,
                      {"repo/src/forward.py": (EXAMPLES / "ada_perfect" / "forward.py").read_bytes()})
    assert _run_autograder(root).returncode == 0
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0

    root = _container(tmp_path / "b", autograder, {"notes.txt": b"I ran out of time"})
    assert _run_autograder(root).returncode == 0
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "is not in your submission" in data["tests"][0]["output"]


def test_exporting_an_unknown_assignment_is_a_clear_error(tmp_path):
    out = tmp_path / "a.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "--out", str(out), "-a", "nope"])
    assert result.exit_code == 1 and "no assignment named nope" in result.output
