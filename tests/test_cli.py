"""The `grade` command on the bundled example class: reports, formats, exit statuses."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ROOT
from grader.cli import main

EXAMPLES = ROOT / "examples" / "submit"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, [str(EXAMPLES), "--out", str(out), "--timeout", "0.5", "-j", "2"])
    return result, out


def test_grading_the_example_class_exits_0_and_prints_a_table(graded):
    result, _ = graded
    assert result.exit_code == 0, result.output
    assert "ada_perfect" in result.output and "points possible" in result.output


def test_every_submission_gets_gradescope_results_and_feedback(graded):
    _, out = graded
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert len(names) >= 8
    for name in names:
        data = json.loads((out / "students" / name / "results.json").read_text())
        assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], (int, float))
        assert isinstance(data["output"], str)
        assert data["tests"], name
        for test in data["tests"]:
            assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
            assert test["status"] in ("passed", "failed")
            assert test["visibility"] in ("visible", "after_published")
            module_function = test["name"].split(":")[0]
            assert "." in module_function and " " not in module_function, test["name"]
        assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-9
        assert (out / "students" / name / "feedback.md").read_text().startswith(f"# Feedback for {name}")


def test_grades_csv_has_points_possible_then_one_row_per_submission(graded):
    _, out = graded
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0][0] == "submission" and rows[0][-2:] == ["total", "status"]
    assert rows[1][0] == "points possible"
    by_name = {r[0]: r for r in rows[2:]}
    assert len(by_name) == len([p for p in EXAMPLES.iterdir() if p.is_dir()])
    assert by_name["ada_perfect"][-2] == rows[1][-2]
    assert by_name["ben_untouched_template"][-2] == "0"
    assert by_name["fay_syntax_error"][-1] == "import-error"
    assert by_name["hal_infinite_loop"][-1] == "timeout"
    assert by_name["oz_imports_torch"][-1] == "policy"
    assert by_name["pia_notebook"][-2] == rows[1][-2]  # a notebook submission, graded in full
    assert by_name["ivy_missing_forward"][-1] == "missing-module"


def test_feedback_names_the_known_mistake(graded):
    _, out = graded
    text = (out / "students" / "cai_softmax_axis" / "feedback.md").read_text()
    assert "softmax over the wrong axis" in text
    assert "expected" in text and "got" in text


def test_a_folder_holding_the_modules_is_one_submission(tmp_path):
    result = CliRunner().invoke(main, [str(EXAMPLES / "ada_perfect"), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["students"]
    assert [p.name for p in (tmp_path / "students").iterdir()] == ["ada_perfect"]


def test_missing_folder_is_a_one_line_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


def test_unknown_assignment_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, [str(EXAMPLES), "-a", "nonexistent", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "no assignment named nonexistent" in result.output


def test_student_check_in_a_copy_of_the_template(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    proc = subprocess.run(["grade", "check", "forward"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "FAIL  forward.sigmoid" in proc.stdout and "First failure" in proc.stdout
    assert "Points so far: 0 /" in proc.stdout
    shutil.copy(ROOT / "reference" / "forward.py", work / "forward.py")
    proc = subprocess.run(["grade", "check", "forward", "--json"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    data = json.loads(proc.stdout)
    assert data["score"] == data["max_score"] > 0
    assert not (work / "reference").exists()


def test_check_outside_a_template_says_where_to_run_it(tmp_path):
    proc = subprocess.run(["grade", "check"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "inside your copy of the student template" in proc.stderr
