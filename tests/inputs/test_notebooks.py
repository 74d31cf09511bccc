"""Notebook submissions: read with nbformat, definitions kept, experiments left out."""

from __future__ import annotations

import hashlib
import json

import nbformat
import pytest

from conftest import ROOT, reference_source, template_source
from grader.inputs.discover import read_submission
from grader.inputs.notebook import NotebookError, module_from_notebook


def _notebook(*cells: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# My work")] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb).encode()


def _reference_as_notebook_cells() -> list[str]:
    source = reference_source("forward")
    return [chunk for chunk in source.split("\n\n\n") if chunk.strip()]


def test_definitions_kept_experiments_magics_and_plots_left_out():
    data = _notebook(
        "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt",
        "ALPHA = 0.01\nSQRT2 = np.sqrt(2)\nhistory = train(100)\nacts = {'a': 1}",
        "def relu(z):\n    return np.maximum(z, 0)",
        "for epoch in range(10**9):\n    print(epoch)\nplt.plot([1, 2])\n!pip install torch\nrelu?",
    )
    extracted = module_from_notebook(data, "forward.ipynb")
    ns: dict = {}
    exec(compile(extracted.source.replace("import matplotlib.pyplot as plt", ""), "nb", "exec"), ns)
    assert ns["ALPHA"] == 0.01 and abs(ns["SQRT2"] - 2**0.5) < 1e-12 and ns["acts"] == {"a": 1}
    assert "relu" in ns and "history" not in ns
    assert "range(10**9)" not in extracted.source and "plt.plot" not in extracted.source
    text = " ".join(extracted.notes)
    assert "code cells 2, 4" in text and "were not run" in text
    assert "magics and shell commands in code cells 1, 4" in text


@pytest.mark.parametrize("data,why", [
    (b"", "is empty"),
    (b"{not json", "not a valid notebook"),
    (b'{"cells": "nope"}', "not a valid notebook"),
    (b"x" * (6 << 20), "larger than"),
])
def test_corrupt_empty_or_huge_notebooks_get_a_clear_error(data, why):
    with pytest.raises(NotebookError, match=why):
        module_from_notebook(data, "forward.ipynb")


def test_a_cell_that_does_not_parse_is_reported_not_fatal():
    extracted = module_from_notebook(_notebook("def f(:\n    pass", "def g():\n    return 1"), "x.ipynb")
    assert "def g" in extracted.source and "def f" not in extracted.source
    assert 'x.ipynb, code cell 1 ("def f(:") does not parse (line 1 of the cell' in extracted.notes[0]


@pytest.mark.parametrize("cell", ["yield 3", "def g():\n    pass\nnonlocal g", "for i in []:\n    pass\nbreak",
                                  "class K:\n    def m(self):\n        pass\n    return 1"])
def test_a_cell_that_parses_but_does_not_compile_is_left_out_as_jupyter_runs_none_of_it(cell):
    extracted = module_from_notebook(_notebook("def f():\n    return 1", cell), "x.ipynb")
    compile(extracted.source, "x.py", "exec")
    assert "def f" in extracted.source and cell.splitlines()[0] not in extracted.source
    assert any("code cell 2" in n and "does not compile (line" in n for n in extracted.notes)


def test_a_notebook_submission_grades_like_the_py(course, tmp_path):
    cells = _reference_as_notebook_cells() + ["X = np.random.rand(2000, 2000)\nfor _ in range(100000):\n    X @ X"]
    (tmp_path / "forward.ipynb").write_bytes(_notebook(*cells))
    sub = read_submission(tmp_path, "nb")
    result = course.grade({k: v for k, v in sub.files.items()}, ["forward"])
    assert result.score == result.max_score
    assert any("were not run" in n for n in sub.notes)


def test_corrupt_notebook_costs_only_its_module(course, tmp_path):
    (tmp_path / "forward.ipynb").write_text("{broken")
    sub = read_submission(tmp_path, "nb")
    assert "forward" in sub.unreadable and "forward.py" not in sub.files
    from grader.engine.grading import grade_submission
    result = grade_submission(sub, course.of(["forward"]), course.expected)
    assert result.score == 0 and result.checks
    assert [c.name for c in result.checks if "not a valid notebook" not in c.message] == []


def test_untouched_py_beside_a_notebook_yields_to_the_notebook(tmp_path):
    stub = template_source("forward")
    (tmp_path / "forward.py").write_text(stub)
    (tmp_path / "forward.ipynb").write_bytes(_notebook(*_reference_as_notebook_cells()))
    stubs = json.loads((ROOT / "student_template" / "checks" / "stubs.json").read_text())
    assert stubs["forward"] == hashlib.sha256(stub.encode()).hexdigest()
    sub = read_submission(tmp_path, "s", stubs)
    assert b"NotImplementedError" not in sub.files["forward.py"]
    (tmp_path / "forward.py").write_text(stub + "\n# edited\n")
    sub = read_submission(tmp_path, "s", stubs)
    assert b"NotImplementedError" in sub.files["forward.py"]
    assert any("forward.py was graded" in n for n in sub.notes)


def test_template_handout_notebook_runs_top_to_bottom_and_ends_with_the_check():
    nb = nbformat.read(ROOT / "student_template" / "forward.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and "forward pass" in nb.cells[0].source
    assert nb.cells[-1].source == "%run -e -m grader.__main__ check forward"  # the kernel's own interpreter
    code = "\n\n".join(c.source for c in nb.cells[:-1] if c.cell_type == "code")
    ns: dict = {}
    exec(compile(code, "nb", "exec"), ns)  # definitions only: the stubs raise when called
    assert callable(ns["forward"]) and callable(ns["softmax"])


def test_the_handout_check_cell_is_not_reported_as_an_ignored_magic():
    from grader.inputs.notebook import module_from_notebook

    data = (ROOT / "student_template" / "forward.ipynb").read_bytes()
    extracted = module_from_notebook(data, "forward.ipynb")
    assert nbformat.reads(data.decode(), as_version=4).cells[-1].source.startswith("%run -e -m grader.__main__")
    assert not any("magics" in note for note in extracted.notes), extracted.notes
