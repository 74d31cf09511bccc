"""Which file is graded as which module: case differences, subfolders, copies; every file that is
not used is named to the student and the instructor; a missing module is one block of feedback."""

from __future__ import annotations

import nbformat

from conftest import reference_source
from grader.engine.grading import grade_submission
from grader.inputs.collect import collect_submissions
from grader.inputs.discover import read_submission
from grader.reports.feedback import feedback_html, feedback_markdown

MODULES = {"perceptron", "forward", "backprop", "regularization", "optimizers"}


def _notebook(source: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in source.split("\n\n\n") if c.strip()]
    return nbformat.writes(nb)


def _scores(result) -> list[tuple[str, float]]:
    return [(c.name, c.score) for c in result.checks]


def test_a_module_named_in_another_case_is_graded_as_that_module(course, tmp_path):
    (tmp_path / "Forward.py").write_text(reference_source("forward"))
    (tmp_path / "Backprop.ipynb").write_text(_notebook(reference_source("backprop")))
    sub = read_submission(tmp_path, "s", modules=MODULES)
    assert set(sub.files) == {"forward.py", "backprop.py"}
    assert sub.files["forward.py"] == reference_source("forward").encode()
    assert any(n.startswith("Forward.py was graded as forward.py (file names are case-sensitive") for n in sub.notes)
    assert any(n.startswith("Backprop.ipynb was graded as backprop.ipynb") for n in sub.notes)
    result = grade_submission(sub, course.of(["forward", "backprop"]), course.expected)
    assert result.score == result.max_score > 0


def test_the_exact_name_wins_over_a_case_variant_and_the_variant_is_named(tmp_path):
    (tmp_path / "forward.py").write_text("A = 1\n")
    (tmp_path / "Forward.py").write_text("A = 2\n")
    sub = read_submission(tmp_path, "s", modules=MODULES)
    assert sub.files == {"forward.py": b"A = 1\n"}
    assert sub.unused == ["Forward.py was not used: forward was graded from another file"]


def test_two_case_variants_choose_by_name_whatever_the_order_they_were_written(tmp_path):
    for order in (["forward.PY", "FORWARD.py", "Forward.py"], ["Forward.py", "FORWARD.py", "forward.PY"]):
        folder = tmp_path / "-".join(order)
        folder.mkdir()
        for name in order:
            (folder / name).write_text(f"WHO = {name!r}\n")
        sub = read_submission(folder, "s", modules=MODULES)
        # Sorted by name (ASCII: upper case first), the first one wins.
        assert sub.files == {"forward.py": b"WHO = 'FORWARD.py'\n"}
        assert "FORWARD.py was graded as forward.py (file names are case-sensitive: name it forward.py, " \
               "at the top of your submission)" in sub.notes
        assert sorted(sub.unused) == ["Forward.py was not used: forward was graded from another file",
                                      "forward.PY was not used: forward was graded from another file"]


def test_copies_and_renamed_files_are_not_graded_but_named_with_a_hint(course, tmp_path):
    (tmp_path / "forward (1).py").write_text(reference_source("forward"))
    (tmp_path / "backprop.py.txt").write_text(reference_source("backprop"))
    (tmp_path / "foward.ipynb").write_text(_notebook("X = 1"))
    (tmp_path / "perceptron.py").write_text(reference_source("perceptron"))
    (tmp_path / "notes.md").write_text("my notes")
    sub = read_submission(tmp_path, "s", modules=MODULES)
    assert set(sub.files) == {"perceptron.py"}
    assert sorted(sub.unused) == [
        "backprop.py.txt was not used: did you mean backprop.py? Name it exactly backprop.py (or backprop.ipynb)",
        "forward (1).py was not used: did you mean forward.py? Name it exactly forward.py (or forward.ipynb)",
        "foward.ipynb was not used: did you mean forward.py? Name it exactly forward.py (or forward.ipynb)",
    ]
    assert all(note in sub.notes for note in sub.unused)


def test_a_helper_no_graded_module_imports_is_named(tmp_path):
    (tmp_path / "forward.py").write_text("import numpy as np\nimport helpers\n")
    (tmp_path / "helpers.py").write_text("import deep\n")
    (tmp_path / "deep.py").write_text("X = 1\n")
    (tmp_path / "scratch.py").write_text("X = 2\n")
    sub = read_submission(tmp_path, "s", modules=MODULES)
    assert set(sub.files) == {"forward.py", "helpers.py", "deep.py", "scratch.py"}
    assert sub.unused == ["scratch.py was not used: no graded module imports it"]


def test_a_module_only_in_a_subfolder_is_graded_from_there(course, tmp_path):
    (tmp_path / "forward.py").write_text(reference_source("forward"))
    (tmp_path / "part2").mkdir()
    (tmp_path / "part2" / "backprop.py").write_text(reference_source("backprop"))
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "forward.py").write_text("broken(")
    sub = read_submission(tmp_path, "s", modules=MODULES)
    assert sub.files["forward.py"] == reference_source("forward").encode()
    assert sub.files["backprop.py"] == reference_source("backprop").encode()
    assert "part2/backprop.py was graded as backprop.py (it was the only one: name it backprop.py, at the top " \
           "of your submission)" in sub.notes
    assert sub.unused == ["old/forward.py was not used: forward was graded from another file"]
    result = grade_submission(sub, course.of(["backprop"]), course.expected)
    assert result.score == result.max_score > 0


def test_unused_files_reach_the_instructors_warnings(tmp_path):
    for student in ("ann", "bob"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "forward.py").write_text("X = 1\n")
    (tmp_path / "bob" / "forward (1).py").write_text("X = 2\n")
    (tmp_path / "ann" / "Backprop.py").write_text("X = 3\n")
    subs, warnings = collect_submissions(tmp_path, MODULES, lambda f, n: read_submission(f, n, modules=MODULES))
    assert [s.name for s in subs] == ["ann", "bob"]
    assert warnings == ["bob: forward (1).py was not used: forward was graded from another file"]
    assert set(subs[0].files) == {"forward.py", "backprop.py"}


def test_a_folder_holding_only_a_case_variant_is_found_as_the_submission(tmp_path):
    (tmp_path / "cai" / "hw3").mkdir(parents=True)
    (tmp_path / "cai" / "hw3" / "FORWARD.ipynb").write_text(_notebook("def f():\n    return 1"))
    subs, _ = collect_submissions(tmp_path, MODULES, lambda f, n: read_submission(f, n, modules=MODULES))
    assert [s.name for s in subs] == ["cai"] and set(subs[0].files) == {"forward.py"}


def test_flat_files_with_a_case_variant_module_name_belong_to_their_student(tmp_path):
    (tmp_path / "alice_Forward.py").write_text("X = 1\n")
    (tmp_path / "bob-BACKPROP.ipynb").write_text(_notebook("Y = 2"))
    subs, warnings = collect_submissions(tmp_path, MODULES, lambda f, n: read_submission(f, n, modules=MODULES))
    assert warnings == []
    assert {s.name: set(s.files) for s in subs} == {"alice": {"forward.py"}, "bob": {"backprop.py"}}


def test_a_missing_module_is_one_block_of_feedback_not_one_per_check(course, tmp_path):
    (tmp_path / "perceptron.py").write_text(reference_source("perceptron"))
    sub = read_submission(tmp_path, "s", modules=MODULES)
    result = grade_submission(sub, course.of(["perceptron", "forward"]), course.expected)
    forward_checks = [c for c in result.checks if c.module == "forward"]
    assert len(forward_checks) > 10 and all(c.problem == "missing-module" for c in forward_checks)
    text = feedback_markdown(result)
    assert text.count("forward.py (or forward.ipynb) is not in your submission") == 1
    points = sum(c.max_score for c in forward_checks)
    n = len(forward_checks)
    assert f"### forward.py: {n} of {n} checks failed ({points:g} pt)" in text
    assert f"All {n} checks of forward.py fail this way" in text
    assert feedback_html(result).count("forward.py (or forward.ipynb) is not in your submission") == 1
    assert result.score == sum(c.max_score for c in result.checks if c.module == "perceptron")


def test_a_notebook_at_the_top_wins_over_a_py_in_a_subfolder(tmp_path):
    (tmp_path / "forward.ipynb").write_text(_notebook("A = 1"))
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "forward.py").write_text("A = 2\n")
    sub = read_submission(tmp_path, "s", modules=MODULES)
    assert sub.files["forward.py"].decode().strip() == "A = 1"
    assert sub.unused == ["old/forward.py was not used: forward was graded from another file"]
    assert not any("was graded as" in n for n in sub.notes)


def test_an_edited_py_beside_a_case_variant_notebook_is_graded_and_the_notebook_named(tmp_path):
    (tmp_path / "forward.py").write_text("A = 1\n")
    (tmp_path / "Forward.ipynb").write_text(_notebook("A = 2"))
    sub = read_submission(tmp_path, "s", {"forward": "not the hash of this file"})
    assert sub.files == {"forward.py": b"A = 1\n"}
    assert sub.unused == ["both forward.py and Forward.ipynb are present: forward.py was graded"]
    assert not any("Forward.ipynb was graded as" in n for n in sub.notes)


def test_a_py_whose_name_cannot_be_imported_is_named(tmp_path):
    (tmp_path / "forward.py").write_text("X = 1\n")
    (tmp_path / "my helpers.py").write_text("Y = 1\n")
    (tmp_path / "data.ipynb").write_text(_notebook("Z = 1"))
    sub = read_submission(tmp_path, "s", modules=MODULES)
    assert set(sub.files) == {"forward.py"}
    assert sorted(sub.unused) == ["data.ipynb was not used: it is not one of the assignment's files",
                                  "my helpers.py was not used: its name is not a Python module name, so nothing "
                                  "can import it"]
