"""The leak detector: a template holding a line of a solution is never written, whatever the marker."""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest

import grader.course.template
from conftest import ROOT
from grader.course.leaks import find_leaks, reference_solutions
from grader.course.loading import CourseError
from grader.course.template import build_template
from grader.worker import codec

PLANTED = "planted = np.maximum(z, 0.0) * 1.0 + 0.0"
DOC = '    """`max(0, z)`, element-wise."""\n'
RELU = DOC + "    ### BEGIN SOLUTION\n    return np.maximum(z, 0.0)\n    ### END SOLUTION\n"

# relu's body written in each marker form, the planted line inside the part marked as solution.
BODIES = {
    "nbgrader": f"    ### BEGIN SOLUTION\n    {PLANTED}\n    return planted\n    ### END SOLUTION\n",
    "nbgrader, text after": f"    ### BEGIN SOLUTION (a)\n    {PLANTED}\n    return planted\n    ### END SOLUTION\n",
    "otter": f"    # BEGIN SOLUTION\n    {PLANTED}\n    return planted\n    # END SOLUTION\n",
    "otter NO PROMPT": (f"    # BEGIN SOLUTION NO PROMPT\n    {PLANTED}\n    return planted\n    # END SOLUTION\n"
                        '    """ # BEGIN PROMPT\n    raise NotImplementedError("relu")\n    """; # END PROMPT\n'),
    "otter one line": f"    {PLANTED}  # SOLUTION\n    return planted\n",
    "otter SOLUTION NO PROMPT": f"    {PLANTED}  # SOLUTION NO PROMPT\n    return planted # SOLUTION\n",
}


def course_with(tmp_path, relu_body: str):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments", course / "assignments")
    shutil.copytree(ROOT / "reference", course / "reference")
    toml = course / "assignments" / "course.toml"
    toml.write_text(toml.read_text().replace(
        'assignments = ["perceptron", "forward", "backprop", "regularization", "optimizers"]',
        'assignments = ["forward"]'))
    assert 'assignments = ["forward"]' in toml.read_text()
    ref = course / "reference" / "forward.py"
    assert RELU in ref.read_text()
    ref.write_text(ref.read_text().replace(RELU, DOC + relu_body))
    return course


@pytest.mark.parametrize("form", BODIES)
def test_each_marker_form_builds_a_template_without_the_planted_line(tmp_path, form):
    course = course_with(tmp_path, BODIES[form])
    out = tmp_path / "template"
    build_template(course, out)
    texts = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    assert texts and not any(b"np.maximum(z, 0.0) * 1.0" in t for t in texts)


@pytest.mark.parametrize("form", BODIES)
def test_a_stubber_that_misses_the_form_is_caught_and_nothing_is_written(tmp_path, form, monkeypatch):
    course = course_with(tmp_path, BODIES[form])
    monkeypatch.setattr(grader.course.template, "make_stub", lambda source, filename="": source)  # understands nothing
    out = tmp_path / "template"
    with pytest.raises(CourseError) as raised:
        build_template(course, out)
    message = str(raised.value)
    assert re.search(r"^  forward\.(py:\d+|ipynb \(cell \d+\)) holds the solution line reference/forward\.py:\d+: "
                     + re.escape(PLANTED), message, re.M), message
    assert not out.exists()


def test_the_handouts_notebooks_and_frozen_strings_are_searched(tmp_path):
    course = course_with(tmp_path, BODIES["nbgrader"])
    readme = course / "assignments" / "forward" / "README.md"
    readme.write_text(readme.read_text() + f"\n```python\n{PLANTED}\n```\n")
    with pytest.raises(CourseError) as raised:
        build_template(course, tmp_path / "template")
    assert "handouts/forward.md" in str(raised.value) and "forward.ipynb (cell 1)" in str(raised.value)
    frozen = tmp_path / "alone" / "checks" / "expected.grd"
    frozen.parent.mkdir(parents=True)
    codec.save_tree(frozen, {"forward.relu: x": {"mistakes": [["m", f"try this:\n{PLANTED}"]]}})
    leaks = find_leaks(tmp_path / "alone", reference_solutions(course / "reference"))
    assert len(leaks) == 1 and leaks[0].startswith("checks/expected.grd (a frozen string)")


def test_a_line_the_course_gives_on_purpose_is_allowed_and_only_that_one(tmp_path):
    course = course_with(tmp_path, BODIES["nbgrader"])
    solutions = reference_solutions(course / "reference", given=[PLANTED])
    assert not any("np.maximum(z,0.0)*1.0" in key for key in solutions)
    assert any("np.exp(-np.abs(z))" in key for key in solutions)  # sigmoid's solution is still searched for


def test_a_wheel_holding_anything_but_the_engine_is_a_leak(tmp_path):
    wheel = tmp_path / "t" / ".github" / "grader" / "x-1-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("grader/cli/commands.py", "")
        z.writestr("x-1.dist-info/RECORD", "")
        z.writestr("reference/forward.py", "")
    assert find_leaks(tmp_path / "t", {}) == [f"{wheel.relative_to(tmp_path / 't').as_posix()} holds "
                                               "reference/forward.py, which is not the grader engine"]


def test_grade_validate_reports_a_leak_and_an_unknown_marker(tmp_path):
    from click.testing import CliRunner

    from grader.cli.commands import main

    course = course_with(tmp_path, BODIES["nbgrader"])
    readme = course / "assignments" / "forward" / "README.md"
    readme.write_text(readme.read_text() + f"\n    {PLANTED}\n")
    result = CliRunner().invoke(main, ["validate", "--course", str(course)])
    assert result.exit_code == 1
    assert f"PROBLEM  leak: handouts/forward.md:{len(readme.read_text().splitlines())} holds the solution line " \
           f"reference/forward.py:" in result.output and PLANTED in result.output
    ref = course / "reference" / "forward.py"
    ref.write_text(ref.read_text().replace("### BEGIN SOLUTION\n    planted", "# begin solution\n    planted"))
    refused = CliRunner().invoke(main, ["validate", "--course", str(course)])
    assert refused.exit_code == 1 and "reference/forward.py, line" in refused.output, refused.output
