"""`grade validate` proves every check can pass and can fail; the wheel and sdist hold no solution."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile

from click.testing import CliRunner

from conftest import ROOT
from grader.cli import main


def test_every_check_passes_on_the_reference_and_fails_on_the_template():
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "every check passes on the reference and fails on the template" in result.output


BROKEN_CHECKS = """

from grader.spec import Verdict


class _AlwaysPasses:
    def expected(self, ref):
        return None

    def judge(self, student, expected):
        return Verdict(True)


CHECKS.append(c.check("linear", "never calls the student", _AlwaysPasses()))
CHECKS.append(c.close("sigmoid", "a wrong expectation", np.zeros(3), expect=lambda ref: np.ones(3)))
"""


def test_validate_names_checks_that_cannot_fail_or_cannot_pass(tmp_path):
    import shutil

    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments", course / "assignments")
    shutil.copytree(ROOT / "reference", course / "reference")
    toml = course / "assignments" / "course.toml"
    toml.write_text(re.sub(r"(?m)^assignments = .*$", 'assignments = ["forward"]', toml.read_text()))
    checks = course / "assignments" / "forward" / "checks_hidden.py"
    checks.write_text(checks.read_text() + BROKEN_CHECKS)
    result = CliRunner().invoke(main, ["validate", "--course", str(course)])
    assert result.exit_code == 1
    assert "the untouched template passes forward.linear: never calls the student" in result.output
    assert "the reference fails forward.sigmoid: a wrong expectation" in result.output
    assert "2 problem(s)" in result.output


def test_reference_and_hidden_checks_are_not_in_the_sdist_or_the_wheel(tmp_path):
    subprocess.run([sys.executable, "-c", f"from setuptools import build_meta as b; b.build_sdist({str(tmp_path)!r})"],
                   cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    names = []
    for archive in tmp_path.iterdir():
        if archive.suffix == ".whl":
            names += zipfile.ZipFile(archive).namelist()
        elif archive.name.endswith(".tar.gz"):
            names += tarfile.open(archive).getnames()
    assert any(n.endswith("grader/cli.py") for n in names)
    leaked = [n for n in names if "reference" in n or "checks_hidden" in n or "mistakes.py" in n]
    assert leaked == []


def test_every_catalogued_mistake_can_be_named_by_some_check():
    result = CliRunner().invoke(main, ["validate"])
    assert "no check's inputs reveal" not in result.output
