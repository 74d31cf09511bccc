"""Notebooks grade exactly like the same code in a `.py`: Otter-Grader and nbgrader notebooks,
magics, shell escapes, help and tricky comments included; messages name the notebook cell."""

from __future__ import annotations

import re

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, mutate, reference_source
from grader.engine.grading import grade_submission
from grader.inputs.discover import read_submission
from grader.inputs.notebook import module_from_notebook

MODULES = ["perceptron", "forward", "backprop", "regularization", "optimizers"]
LOCKED = {"deletable": False, "editable": False}


def solution(module: str) -> str:
    """The reference module as a student would hand it in: the solution markers stripped."""
    return "".join(line for line in reference_source(module).splitlines(keepends=True)
                   if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def chunks(source: str) -> list[str]:
    """Top-level blocks of a module (split at its blank-line pairs), one notebook cell each."""
    return [c.strip("\n") for c in source.split("\n\n\n") if c.strip()]


def write(nb: nbformat.NotebookNode, path) -> None:
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb))


def otter_notebook(module: str, code: str) -> nbformat.NotebookNode:
    """What `otter assign` hands students, filled in: an init cell, a check cell after each answer,
    `grader.check_all()` and the export cell (cells locked as Otter locks them)."""
    nb = nbformat.v4.new_notebook()
    init = nbformat.v4.new_code_cell(f'# Initialize Otter\nimport otter\ngrader = otter.Notebook("{module}.ipynb")')
    init.metadata.update(LOCKED)
    cells = [init, nbformat.v4.new_markdown_cell(f"# {module}")]
    for i, chunk in enumerate(chunks(code), 1):
        cells.append(nbformat.v4.new_code_cell(chunk))
        check = nbformat.v4.new_code_cell(f'grader.check("q{i}")')
        check.metadata.update(LOCKED)
        cells.append(check)
    cells += [
        nbformat.v4.new_markdown_cell("---\n\nTo double-check your work, the cell below will rerun all of the "
                                      "autograder tests."),
        nbformat.v4.new_code_cell("grader.check_all()"),
        nbformat.v4.new_markdown_cell("## Submission\n\nMake sure you have run all cells in your notebook."),
        nbformat.v4.new_code_cell("# Save your notebook first, then run this cell to export your submission.\n"
                                  "grader.export(pdf=False, run_tests=True)"),
    ]
    nb.cells = cells
    return nb


def _nbgrader(cell: nbformat.NotebookNode, grade_id: str, *, solution: bool, grade: bool) -> nbformat.NotebookNode:
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id, "locked": not solution,
                                 "schema_version": 3, "solution": solution, "task": False}
    if grade:
        cell.metadata["nbgrader"]["points"] = 1
    return cell


def nbgrader_notebook(module: str) -> nbformat.NotebookNode:
    """An nbgrader student notebook, answered: solution cells (the `### BEGIN SOLUTION` markers
    left in, as students often leave them) each followed by a locked test cell of asserts."""
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_markdown_cell(f"# {module}")]
    for i, chunk in enumerate(chunks(reference_source(module)), 1):
        cells.append(_nbgrader(nbformat.v4.new_code_cell(chunk), f"cell-{i}", solution=True, grade=False))
        test = nbformat.v4.new_code_cell(
            "from nose.tools import assert_equal, assert_true\n"
            "import numpy.testing as npt\n"
            "assert_true(callable(globals().get('np')))\n"
            "### BEGIN HIDDEN TESTS\n"
            "assert_equal(1, 1)\n"
            "### END HIDDEN TESTS")
        cells.append(_nbgrader(test, f"test-{i}", solution=False, grade=True))
    nb.cells = cells
    return nb


def grade_folder(course, folder, modules: list[str]):
    sub = read_submission(folder, "s", modules=modules)
    return sub, grade_submission(sub, course.of(modules), course.expected)


def by_check(result) -> list[tuple[str, float, bool, str | None]]:
    return [(c.name, c.score, c.passed, c.problem) for c in result.checks]


def grade_py_and_notebook(course, tmp_path, module: str, py: str, nb: nbformat.NotebookNode):
    """Grade `module` once from a `.py` and once from a notebook (other modules from the reference)."""
    others = {m: solution(m) for m in MODULES if m != module}
    results = []
    for kind in ("py", "nb"):
        folder = tmp_path / kind
        folder.mkdir()
        for m, code in others.items():
            (folder / f"{m}.py").write_text(code)
        if kind == "py":
            (folder / f"{module}.py").write_text(py)
        else:
            write(nb, folder / f"{module}.ipynb")
        results.append(grade_folder(course, folder, [module]))
    return results


@pytest.mark.parametrize("module", MODULES)
def test_an_otter_notebook_grades_exactly_like_the_py(course, tmp_path, module):
    (py_sub, py), (nb_sub, nb) = grade_py_and_notebook(course, tmp_path, module, solution(module),
                                                       otter_notebook(module, solution(module)))
    assert by_check(nb) == by_check(py)
    assert nb.score == py.score == nb.max_score > 0
    assert any("Otter-Grader's set-up and checks" in n for n in nb_sub.notes)
    assert b"otter" not in nb_sub.files[f"{module}.py"]


@pytest.mark.parametrize("module", ["forward", "backprop"])
def test_an_nbgrader_notebook_grades_exactly_like_the_py(course, tmp_path, module):
    (_, py), (nb_sub, nb) = grade_py_and_notebook(course, tmp_path, module, solution(module),
                                                  nbgrader_notebook(module))
    assert by_check(nb) == by_check(py)
    assert nb.score == nb.max_score > 0
    source = nb_sub.files[f"{module}.py"].decode()
    assert "nose" not in source and "HIDDEN TESTS" not in source and "### BEGIN SOLUTION" in source
    assert any("test cells (nbgrader tests, asserts)" in n for n in nb_sub.notes)


def test_a_mistake_grades_the_same_in_both_forms(course, tmp_path):
    wrong = mutate(solution("forward"), "e / e.sum(axis=-1, keepdims=True)", "e / e.sum(axis=0, keepdims=True)")
    (_, py), (_, nb) = grade_py_and_notebook(course, tmp_path, "forward", wrong, otter_notebook("forward", wrong))
    assert by_check(nb) == by_check(py)
    assert 0 < nb.score < nb.max_score
    assert [c.message for c in nb.checks] == [c.message for c in py.checks]


def test_an_unanswered_stub_fails_like_the_py_template(course, tmp_path):
    unanswered = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    stub = mutate(solution("forward"), "    return np.tanh(z)\n", unanswered)
    (_, py), (_, nb) = grade_py_and_notebook(course, tmp_path, "forward", stub, otter_notebook("forward", stub))
    assert by_check(nb) == by_check(py)
    tanh = [c for c in nb.checks if c.function == "tanh"]
    assert tanh and all(not c.passed and "NotImplementedError" in c.message for c in tanh)
    assert any(c.passed for c in nb.checks)


def _ipython_flavoured(code: str) -> tuple[str, nbformat.NotebookNode]:
    """The same module with trailing `?` comments on every return, strings holding `!`, `%`, `?`
    at line starts, and cells of magics, shell escapes and help between the definitions; and
    the `.py` holding the same Python."""
    commented = re.sub(r"^(    return .*)$", r"\1  # W.T or W?", code, flags=re.M)
    note = 'NOTE = """\n!not a shell command\n%not a magic\nsoftmax?\n"""'
    py = commented + "\n\n" + note + "\n"
    nb = nbformat.v4.new_notebook()
    cells = ["%load_ext autoreload\n%autoreload 2", "!pip install numpy", "files = !ls\nfound = %env"]
    for chunk in chunks(commented):
        cells += [chunk, "np.exp?"]
    cells += [note, "%%time\nfor _ in range(10**9):\n    pass", "softmax??\n?np.mean"]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return py, nb


def test_magics_help_shell_and_question_mark_comments_grade_like_the_py(course, tmp_path):
    py_code, nb = _ipython_flavoured(solution("forward"))
    (_, py), (nb_sub, result) = grade_py_and_notebook(course, tmp_path, "forward", py_code, nb)
    assert by_check(result) == by_check(py)
    assert result.score == result.max_score
    source = nb_sub.files["forward.py"].decode()
    returns = [line for line in py_code.splitlines() if line.startswith("    return ")]
    assert len(returns) > 10
    for line in returns:  # every line of the student's code is there, as written
        assert line in source.splitlines()
    assert "!not a shell command" in source and "pip install" not in source and "%%time" not in source


def test_every_kept_line_is_the_students_own_line_at_its_cell_position(tmp_path):
    _, nb = _ipython_flavoured(solution("backprop"))
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "backprop.ipynb")
    cells = [c.source.split("\n") for c in nb.cells]
    out = extracted.source.split("\n")
    mapped = [(n, origin) for n, origin in enumerate(extracted.cells.lines) if origin is not None]
    assert len(mapped) > 100
    for n, (cell, line) in mapped:
        assert out[n] == cells[cell - 1][line - 1]


# ---------------------------------------------------------------- messages name the cell


def _cells_notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# forward")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_a_policy_violation_names_the_cell_and_its_line(course, tmp_path):
    cells = ["x = 1", "import numpy as np\n# why not torch?\nimport torch", *chunks(solution("forward"))]
    write(_cells_notebook(*cells), tmp_path / "forward.ipynb")
    _, result = grade_folder(course, tmp_path, ["forward"])
    where = 'forward.ipynb, code cell 2 ("import numpy as np"), line 3: importing torch is not allowed'
    assert all(where in c.message for c in result.checks)
    assert not any("forward.py, line" in c.message for c in result.checks)


def test_a_traceback_names_the_cell_and_its_line(course, tmp_path):
    cells = chunks(solution("forward"))
    index = next(i for i, c in enumerate(cells) if c.startswith("def relu("))
    cells[index] = cells[index].replace("    return np.maximum(z, 0.0)", "    x = 1  # why?\n    return 1 / 0")
    write(_cells_notebook("%matplotlib inline", *cells), tmp_path / "forward.ipynb")
    _, result = grade_folder(course, tmp_path, ["forward"])
    relu = [c for c in result.checks if c.function == "relu"]
    line = cells[index].split("\n").index("    return 1 / 0") + 1
    expected = f'File "forward.ipynb", code cell {index + 2} ("def relu(z):"), line {line}, in relu'
    assert relu and all(expected in c.message and "ZeroDivisionError" in c.message for c in relu)
    assert not any('"forward.py"' in c.message for c in result.checks)


def test_a_cell_that_does_not_parse_is_named_with_its_first_line_and_line():
    nb = _cells_notebook("def ok():\n    return 1", "import numpy as np\n\ndef broken(:\n    pass")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "forward.ipynb")
    assert extracted.notes[0].startswith('forward.ipynb, code cell 2 ("import numpy as np") does not parse '
                                         "(line 3 of the cell")
    assert "def ok" in extracted.source


def test_ipython_syntax_inside_a_function_leaves_out_that_function_only():
    nb = _cells_notebook("def timed(x):\n    %time y = x\n    return x\n\ndef plain(x):\n    return x")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "forward.ipynb")
    namespace: dict = {}
    exec(extracted.source, namespace)
    assert "plain" in namespace and "timed" not in namespace
    assert any('code cell 1 ("def timed(x):"), line 2: IPython syntax (magic) inside a block' in n
               for n in extracted.notes)


def test_future_imports_from_a_later_cell_come_first():
    nb = _cells_notebook("import numpy as np", "from __future__ import annotations\n\ndef f(x: Later) -> int:\n"
                         "    return 1")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "m.ipynb")
    compile(extracted.source, "m.py", "exec")
    assert extracted.source.startswith("from __future__ import annotations")


def test_the_template_handout_notebooks_extract_to_their_stubs_definitions():
    for module in MODULES:
        data = (ROOT / "student_template" / f"{module}.ipynb").read_bytes()
        extracted = module_from_notebook(data, f"{module}.ipynb")
        assert extracted.notes == []  # its last cell, `!grade check <module>`, is the notebook's own
        stub = (ROOT / "student_template" / f"{module}.py").read_text()
        for line in extracted.source.splitlines():
            assert line in stub.splitlines(), (module, line)


def test_a_missing_function_names_the_notebook_not_a_py(course, tmp_path):
    cells = [c for c in chunks(solution("forward")) if not c.startswith("def count_params(")]
    write(_cells_notebook(*cells), tmp_path / "forward.ipynb")
    _, result = grade_folder(course, tmp_path, ["forward"])
    missing = [c for c in result.checks if c.function == "count_params"]
    assert missing and all("forward.ipynb has no function count_params" in c.message for c in missing)
    assert not any("forward.py" in c.message for c in result.checks)


def test_otter_imported_inside_a_try_or_under_another_name_is_left_out():
    nb = _cells_notebook("try:\n    import otter\nexcept ImportError:\n    pass",
                         "from otter import Notebook as N\nGRADER = N()",
                         "import numpy as np\nimport otter.check as oc",
                         "def f():\n    return np.ones(2)")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "forward.ipynb")
    assert "otter" not in extracted.source and "GRADER" not in extracted.source
    assert extracted.source.split("\n")[:2] == ["import numpy as np", ""]
    assert any("Otter-Grader's set-up and checks (import otter, grader.check(...)) in code cells 1, 2, 3" in n
               for n in extracted.notes)


_PIECES = st.sampled_from(["def f(x):\n", "    ", "return x", "  # W?", "%time ", "!ls", "?", "x = ", "'''", '"',
                           "\\\n", "(", ")", "\n", "import otter\n", "assert x\n", "\x00", "\t", "%%bash\n", "é",
                           "X = 1\n", "@d\n", "class C:\n", "x = !ls\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=12).map("".join), min_size=1, max_size=4))
def test_any_cell_text_extracts_without_crashing_and_compiles(cells):
    extracted = module_from_notebook(nbformat.writes(_cells_notebook(*cells)).encode(), "m.ipynb")
    compile(extracted.source, "m.py", "exec")  # what is kept is a module that compiles
    assert len(extracted.cells.lines) == extracted.source.count("\n")  # every line mapped (or a blank)


def test_a_test_cell_import_the_students_code_uses_is_kept_and_others_are_not():
    nb = _cells_notebook("def f(n):\n    return np.ones(n)",
                         "import numpy as np\nfrom nose.tools import assert_equal\nassert f(2).shape == (2,)")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "m.ipynb")
    namespace: dict = {}
    exec(extracted.source, namespace)
    assert namespace["f"](3).tolist() == [1.0, 1.0, 1.0]
    assert "nose" not in extracted.source and "assert" not in extracted.source
    assert extracted.cells.lines[extracted.source.split("\n").index("import numpy as np")] == (2, 1)


def test_a_time_cell_defines_what_its_body_defines():
    nb = _cells_notebook("%%time\nimport numpy as np\n\ndef f(n):  # quick?\n    return np.zeros(n)\n\nf(3)")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "m.ipynb")
    namespace: dict = {}
    exec(extracted.source, namespace)
    assert namespace["f"](2).tolist() == [0.0, 0.0]
    assert "def f(n):  # quick?" in extracted.source.split("\n") and "%%time" not in extracted.source


def test_an_unindented_magic_inside_a_function_body_leaves_it_out_too():
    nb = _cells_notebook("def f(x):\nx = !ls\n    return x\n\ndef g():\n    return 2")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "m.ipynb")
    assert "!ls" not in extracted.source and "def f" not in extracted.source and "def g():" in extracted.source
    assert any("line 2: IPython syntax (shell) inside a block" in n for n in extracted.notes)


def test_an_indented_cell_is_read_as_ipython_runs_it():
    nb = _cells_notebook("import numpy as np", "    def f(n):\n        return np.ones(n)  # why?")
    extracted = module_from_notebook(nbformat.writes(nb).encode(), "m.ipynb")
    namespace: dict = {}
    exec(extracted.source, namespace)
    assert namespace["f"](1).tolist() == [1.0]
    assert any('code cell 2 ("def f(n):") is indented' in n for n in extracted.notes)
