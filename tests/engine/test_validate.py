"""`grade validate` proves every check can pass and can fail; the wheel and sdist hold no solution."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from grader.cli.commands import main
from grader.course.loading import load_assignments
from grader.engine.validate import validate_course


def _course_copy(tmp_path: Path, names: list[str]) -> Path:
    """A copy of the course with only the assignments `names`."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments", course / "assignments")
    shutil.copytree(ROOT / "reference", course / "reference")
    listed = ", ".join(f'"{n}"' for n in names)
    toml = course / "assignments" / "course.toml"  # its other settings ([template] given, ...) stay
    toml.write_text(re.sub(r"(?m)^assignments = .*$", f"assignments = [{listed}]", toml.read_text()))
    return course


@pytest.fixture(scope="module")
def validation():
    return validate_course(ROOT)


def test_every_check_passes_on_the_reference_and_fails_on_the_template(validation):
    assert validation.problems == []
    # Every check of the course was graded, counted from the assignments themselves.
    assert validation.checks == sum(len(a.checks) for a in load_assignments(ROOT / "assignments")) > 0


def test_every_catalogued_mistake_can_be_named_by_some_check(validation):
    assert validation.unseen_mistakes == []


def test_validate_command_says_so_and_exits_0(tmp_path):
    course = _course_copy(tmp_path, ["perceptron"])
    checks = len(load_assignments(course / "assignments")[0].checks)
    result = CliRunner().invoke(main, ["validate", "--course", str(course)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"{checks} checks: every check passes on the reference and fails on the template.")


UNSEEN_MISTAKE = """

@MISTAKES.mistake("step", "the correct step", "None needed.")
def step_right_after_all(z):
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)
"""


def test_a_mistake_no_check_can_reveal_is_listed(tmp_path):
    course = _course_copy(tmp_path, ["perceptron"])
    mistakes = course / "assignments" / "perceptron" / "mistakes.py"
    mistakes.write_text(mistakes.read_text() + UNSEEN_MISTAKE)
    result = CliRunner().invoke(main, ["validate", "--course", str(course)])
    assert result.exit_code == 0, result.output
    assert "note     no check's inputs reveal the catalogued mistake perceptron.step: the correct step" in (
        result.output.splitlines())


BROKEN_CHECKS = """

from grader.model import Verdict


class _AlwaysPasses:
    def expected(self, ref):
        return None

    def judge(self, student, expected):
        return Verdict(True)


CHECKS.append(c.check("linear", "never calls the student", _AlwaysPasses()))
CHECKS.append(c.close("sigmoid", "a wrong expectation", np.zeros(3), expect=lambda ref: np.ones(3)))
"""


def test_validate_names_checks_that_cannot_fail_or_cannot_pass(tmp_path):
    course = _course_copy(tmp_path, ["forward"])
    checks = course / "assignments" / "forward" / "checks_hidden.py"
    checks.write_text(checks.read_text() + BROKEN_CHECKS)
    result = CliRunner().invoke(main, ["validate", "--course", str(course)])
    assert result.exit_code == 1
    assert "the untouched template passes forward.linear: never calls the student" in result.output
    assert "the reference fails forward.sigmoid: a wrong expectation" in result.output
    assert "2 problem(s)" in result.output


# What a build leaves behind, and caches: the copy that is built holds the rest of the checkout.
NOT_SOURCES = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
                                     ".pytest_cache", ".benchmarks", ".ruff_cache", ".venv")


def test_reference_and_hidden_checks_are_not_in_the_sdist_or_the_wheel(tmp_path):
    # Built from a copy: setuptools writes build/ and *.egg-info beside pyproject.toml.
    source, dist = tmp_path / "src", tmp_path / "dist"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    assert (source / "reference").is_dir() and (source / "assignments" / "forward" / "checks_hidden.py").exists()
    subprocess.run([sys.executable, "-c", f"from setuptools import build_meta as b; b.build_sdist({str(dist)!r})"],
                   cwd=source, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)],
                   check=True, capture_output=True)
    archives = sorted(dist.iterdir())
    assert [a.name.endswith((".whl", ".tar.gz")) for a in archives] == [True, True], archives
    for archive in archives:
        if archive.suffix == ".whl":
            names = zipfile.ZipFile(archive).namelist()
        else:
            names = tarfile.open(archive).getnames()
        assert any(n.endswith("grader/cli/commands.py") for n in names), archive.name
        leaked = [n for n in names if "reference" in n or "checks_hidden" in n or "mistakes.py" in n]
        assert leaked == [], archive.name
