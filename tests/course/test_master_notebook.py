"""A master notebook in nbgrader's or Otter's format becomes an assignment (examples/master-notebook)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import ROOT
from grader.cli.commands import main
from grader.course.master import convert_master
from grader.course.solutions import MarkerError, make_stub

EXAMPLE = ROOT / "examples" / "master-notebook"
COURSE = EXAMPLE / "course"


def _module(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "converted", "exec"), namespace)
    return namespace


def test_the_nbgrader_notebook_converts_to_the_committed_example():
    converted = convert_master((EXAMPLE / "nbgrader_master.ipynb").read_bytes())
    assert converted.module == (COURSE / "reference" / "softplus.py").read_text()
    assert converted.handout == (COURSE / "assignments" / "softplus" / "README.md").read_text()
    assert [(t.points, t.question) for t in converted.tests] == [(2, "test_softplus"), (1, "test_softplus_grad")]
    stub = make_stub(converted.module)
    assert "log1p" not in stub and "np.where" not in stub and stub.count("raise NotImplementedError") == 2


def test_the_otter_notebook_gives_the_same_functions_and_a_stub_without_them():
    otter = convert_master((EXAMPLE / "otter_master.ipynb").read_bytes())
    nbgrader = convert_master((EXAMPLE / "nbgrader_master.ipynb").read_bytes())
    z = np.array([-1e4, -3.0, 0.0, 0.5, 1e4])
    for name in ("softplus", "softplus_grad"):
        assert np.array_equal(_module(otter.module)[name](z), _module(nbgrader.module)[name](z))
    stub = make_stub(otter.module)
    assert "log1p" not in stub and "np.where" not in stub
    assert 'raise NotImplementedError("softplus_grad: see the handout")' in stub  # Otter's prompt
    assert [(t.hidden, t.question) for t in otter.tests] == [(False, "softplus"), (True, "softplus"),
                                                             (False, "softplus_grad")]
    assert "ASSIGNMENT CONFIG" not in otter.module + otter.handout


def test_the_example_course_validates():
    result = CliRunner().invoke(main, ["validate", "--course", str(COURSE)])
    assert result.exit_code == 0, result.output
    assert "every check passes on the reference and fails on the template" in result.output


def test_a_markerless_solution_cell_with_top_level_code_is_refused_with_its_cell():
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("answer = 42")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False}
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), cell]
    with pytest.raises(MarkerError, match="code cell 2"):
        convert_master(nbformat.writes(nb).encode())


def test_import_notebook_writes_the_course_files_and_never_overwrites_without_force(tmp_path):
    args = ["import-notebook", str(EXAMPLE / "otter_master.ipynb"), "--name", "softplus", "--course", str(tmp_path)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "3 test cell(s) to rewrite as checks" in first.output
    assert (tmp_path / "reference" / "softplus.py").read_text() == convert_master(
        (EXAMPLE / "otter_master.ipynb").read_bytes()).module
    assert (tmp_path / "assignments" / "softplus" / "assignment.toml").exists()
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "exists (--force replaces it)" in again.output
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0
