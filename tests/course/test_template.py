"""The student template is generated, never hand-edited, and never holds the solution."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import Any

import numpy as np

from conftest import ROOT
from grader.course.template import build_template, make_stub
from grader.worker import codec

TEMPLATE = ROOT / "student_template"


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


FLOAT_RTOL, FLOAT_ATOL = 1e-6, 1e-9
"""how far an expected value built on another CPU may be from this one's: NumPy's `exp` and
friends differ in the last bit from one CPU to another (SIMD kernels), and an expected gradient
made by central differences multiplies that by 1/h (seen: 2e-11 absolute, 3e-8 relative, between
two machines of this project's kind); a stale template (a changed input or reference) differs by
far more"""


def _differences(built: Any, committed: Any, where: str = "") -> list[str]:
    """Where two decoded `expected.grd` trees differ: in structure, dtype, shape or text at all,
    in floating-point values by more than `FLOAT_RTOL` / `FLOAT_ATOL`."""
    if type(built) is not type(committed):
        return [f"{where}: {type(built).__name__} vs {type(committed).__name__}"]
    if isinstance(built, dict):
        if list(built) != list(committed):
            return [f"{where}: keys {list(built)[:5]} vs {list(committed)[:5]}"]
        return [d for k in built for d in _differences(built[k], committed[k], f"{where}/{k}")]
    if isinstance(built, (list, tuple)):
        if len(built) != len(committed):
            return [f"{where}: {len(built)} vs {len(committed)} items"]
        return [d for i, (a, b) in enumerate(zip(built, committed)) for d in _differences(a, b, f"{where}[{i}]")]
    if isinstance(built, (np.ndarray, float)):
        a, b = np.asarray(built), np.asarray(committed)
        if a.dtype != b.dtype or a.shape != b.shape:
            return [f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"]
        if a.dtype.kind in "fc":
            close = np.allclose(a, b, rtol=FLOAT_RTOL, atol=FLOAT_ATOL, equal_nan=True)
        else:
            close = np.array_equal(a, b)
        return [] if close else [f"{where}: values differ"]
    return [] if built == committed else [f"{where}: {built!r} vs {committed!r}"]


def test_committed_template_equals_what_build_template_generates(tmp_path):
    build_template(ROOT, tmp_path)
    generated = _files(tmp_path)
    assert generated <= _files(TEMPLATE), f"not committed: {generated - _files(TEMPLATE)}"
    stale = [f for f in generated if not filecmp.cmp(tmp_path / f, TEMPLATE / f, shallow=False)]
    # The expected values are floating-point results of this CPU: equal up to its last bits.
    stale = [f for f in stale if not f.endswith(".grd")
             or _differences(codec.load_tree(tmp_path / f), codec.load_tree(TEMPLATE / f))]
    assert stale == [], f"run `grade build-template`: {stale} differ from what the reference generates"


def test_the_template_comparison_tells_a_stale_expected_value_from_the_last_bits():
    committed = {"check": {"value": np.array([0.5, 1e-3]), "mistakes": [["hint", 2.0]], "n": 3}}
    last_bits = {"check": {"value": np.array([0.5 + 2e-16, 1e-3 + 2e-11]), "mistakes": [["hint", 2.0]], "n": 3}}
    assert _differences(last_bits, committed) == []
    stale = {"check": {"value": np.array([0.5, 1.1e-3]), "mistakes": [["hint", 2.0]], "n": 3}}
    assert _differences(stale, committed) == ["/check/value: values differ"]
    other_int = {"check": {"value": np.array([0.5, 1e-3]), "mistakes": [["hint", 2.0]], "n": 4}}
    assert _differences(other_int, committed) == ["/check/n: 4 vs 3"]
    other_shape = {"check": {"value": np.array([[0.5, 1e-3]]), "mistakes": [["hint", 2.0]], "n": 3}}
    assert _differences(other_shape, committed) == ["/check/value: float64(1, 2) vs float64(2,)"]
    other_hint = {"check": {"value": np.array([0.5, 1e-3]), "mistakes": [["other", 2.0]], "n": 3}}
    assert _differences(other_hint, committed) == ["/check/mistakes[0][0]: 'other' vs 'hint'"]


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
