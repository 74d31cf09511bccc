"""The `grade` command on the bundled example class: reports, formats, exit statuses."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from conftest import ROOT, grader_command, grader_env, report_dir
from grader.cli.commands import main

EXAMPLES = ROOT / "examples" / "submit"


HANGS = "hal_infinite_loop"
"""the one example that never returns: graded on its own, with a short limit (see below)"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The example class but HANGS, graded with the course's own limits (no short --timeout:
    correct code must get full marks however busy the machine is)."""
    submit, out = tmp_path_factory.mktemp("submit"), tmp_path_factory.mktemp("reports")
    for folder in EXAMPLES.iterdir():
        if folder.is_dir() and folder.name != HANGS:
            shutil.copytree(folder, submit / folder.name)
    result = CliRunner().invoke(main, [str(submit), "--out", str(out), "-j", "2"])
    return result, out


def _examples() -> list[str]:
    return sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and p.name != HANGS)


def test_grading_the_example_class_exits_0_and_prints_a_table(graded):
    result, _ = graded
    assert result.exit_code == 0, result.output
    assert "ada_perfect" in result.output and "points possible" in result.output


def test_every_submission_gets_gradescope_results_and_feedback(graded):
    _, out = graded
    names = _examples()
    assert len(names) == 15
    for name in names:
        data = json.loads((report_dir(out, name) / "results.json").read_text())
        assert set(data) == {"score", "execution_time", "output", "tests", "visibility", "stdout_visibility",
                             "output_format", "test_output_format", "test_name_format"}
        assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
        assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], (int, float))
        assert isinstance(data["output"], str)
        assert data["tests"], name
        for test in data["tests"]:
            # Gradescope's test fields: the README's six, and `number` and `tags` (both optional there)
            # ... and `output_format` / `name_format`: text, never HTML (names are the students')
            assert set(test) == {"name", "score", "max_score", "status", "output", "visibility", "number", "tags",
                                 "output_format", "name_format"}
            assert test["output_format"] == test["name_format"] == "text"
            assert test["status"] in ("passed", "failed")
            assert test["visibility"] in ("visible", "after_published")
            module_function = test["name"].split(":")[0]
            assert "." in module_function and " " not in module_function, test["name"]
        assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-9
        assert (report_dir(out, name) / "feedback.md").read_text().startswith(f"# Feedback for {name}\n")


def test_grades_csv_has_points_possible_then_one_row_per_submission(graded):
    _, out = graded
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0][0] == "submission" and rows[0][-2:] == ["total", "status"]
    assert rows[1][0] == "points possible"
    by_name = {r[0]: r for r in rows[2:]}
    assert sorted(by_name) == _examples() and len(rows) == 2 + len(by_name)
    assert by_name["ada_perfect"][-2] == rows[1][-2]
    assert by_name["ben_untouched_template"][-2] == "0"
    assert by_name["fay_syntax_error"][-1] == "import-error"
    assert by_name["oz_imports_torch"][-1] == "policy"
    assert by_name["pia_notebook"][-2] == rows[1][-2]  # a notebook submission, graded in full
    assert by_name["ivy_missing_forward"][-1] == "missing-module"


def test_feedback_names_the_known_mistake(graded):
    _, out = graded
    text = (report_dir(out, "cai_softmax_axis") / "feedback.md").read_text()
    section = text.split("### forward.softmax: ", 1)[1].split("\n### ")[0]  # the function's failures
    failure = section.split("#### ✗ rows of a small batch (2 pt)\n", 1)[1].split("####")[0]
    assert "called softmax(Z=<array (4, 3) float64>)\n12 of 12 entries differ; worst at [1, 2]: expected " in failure
    assert "Hint (softmax over the wrong axis): Normalize each row" in failure


def test_an_endless_loop_times_out_and_costs_only_its_checks(tmp_path):
    # A short limit to make the hang quick: only a submission that must time out runs under it.
    result = CliRunner().invoke(main, [str(EXAMPLES / HANGS), "--out", str(tmp_path), "--timeout", "0.5", "-q"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader((tmp_path / "grades.csv").open()))
    assert [r[0] for r in rows[2:]] == [HANGS] and rows[2][-1] == "timeout"
    data = json.loads((report_dir(tmp_path, HANGS) / "results.json").read_text())
    timed_out = [t for t in data["tests"] if "timed out" in t["output"]]
    assert timed_out and 0 < len(timed_out) < len(data["tests"])


def test_a_folder_holding_the_modules_is_one_submission(tmp_path):
    result = CliRunner().invoke(main, [str(EXAMPLES / "ada_perfect"), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["students"]
    assert [p.name for p in (tmp_path / "students").iterdir()] == ["ada_perfect"]


def test_missing_folder_is_a_one_line_usage_error(tmp_path):
    proc = subprocess.run(grader_command(str(tmp_path / "nope")), capture_output=True, text=True, env=grader_env())
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


def test_unknown_assignment_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, [str(EXAMPLES), "-a", "nonexistent", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "no assignment named nonexistent" in result.output


def test_student_check_in_a_copy_of_the_template(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    proc = subprocess.run(grader_command("check", "forward"), cwd=work, capture_output=True, text=True,
                          env=grader_env())
    assert proc.returncode == 1
    assert "FAIL  forward.sigmoid" in proc.stdout and "First failure" in proc.stdout
    assert "Points so far: 0 /" in proc.stdout
    shutil.copy(ROOT / "reference" / "forward.py", work / "forward.py")
    proc = subprocess.run(grader_command("check", "forward", "--json"), cwd=work, capture_output=True,
                          text=True, env=grader_env())
    assert proc.returncode == 0, proc.stdout
    data = json.loads(proc.stdout)
    assert data["score"] == data["max_score"] > 0
    assert not (work / "reference").exists()


def test_student_check_from_a_subfolder_of_the_template(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    (work / "notes").mkdir()
    proc = subprocess.run(grader_command("check", "forward", "--json"), cwd=work / "notes", capture_output=True,
                          text=True, env=grader_env())
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["score"] == 0 < data["max_score"]


def test_check_outside_a_template_says_where_to_run_it(tmp_path):
    proc = subprocess.run(grader_command("check"), cwd=tmp_path, capture_output=True, text=True, env=grader_env())
    assert proc.returncode == 1
    assert "inside your copy of the student template" in proc.stderr
