"""The student template is generated, never hand-edited, and never holds the solution."""

from __future__ import annotations

import filecmp
from pathlib import Path

from conftest import ROOT
from grader.course.template import build_template, make_stub

TEMPLATE = ROOT / "student_template"


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_committed_template_equals_what_build_template_generates(tmp_path):
    build_template(ROOT, tmp_path)
    generated = _files(tmp_path)
    assert generated <= _files(TEMPLATE), f"not committed: {generated - _files(TEMPLATE)}"
    stale = [f for f in generated if not filecmp.cmp(tmp_path / f, TEMPLATE / f, shallow=False)]
    assert stale == [], f"run `grade build-template`: {stale} differ from what the reference generates"


def test_template_holds_no_solution():
    for path in TEMPLATE.rglob("*.py"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text, path
    assert not (TEMPLATE / "reference").exists()
    for stub in TEMPLATE.glob("*.py"):
        assert "raise NotImplementedError" in stub.read_text()


def test_make_stub_keeps_signatures_and_docstrings():
    source = 'def f(x, y=2):\n    """Doc."""\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n'
    stub = make_stub(source)
    assert 'def f(x, y=2):\n    """Doc."""\n' in stub
    assert "return x + y" not in stub
    assert 'raise NotImplementedError("Implement f (see the handout)")' in stub
