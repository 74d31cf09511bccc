"""Every parse the grader does goes through one lock (`grader.worker.parsing`).

CPython 3.11's AST constructor keeps its recursion depth in state all threads share, and a
batch parses submissions on several threads: a CI run under load once failed a perfect
submission with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).
"""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import grader
from grader.worker import parsing

PACKAGE = Path(grader.__file__).resolve().parent


def _direct_parses(package: Path) -> list[str]:
    """`file:line` of every `ast.parse(...)` call outside `grader/worker/parsing.py`."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts or path == package / "worker" / "parsing.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "ast"):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    return found


def test_no_module_of_the_grader_calls_ast_parse_directly():
    assert _direct_parses(PACKAGE) == []


def test_the_scan_finds_a_direct_parse(tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "x.py").write_text("import ast\n\n\ndef f(s):\n    return ast.parse(s)\n")
    assert _direct_parses(tmp_path) == ["inputs/x.py:5"]


def test_parses_on_several_threads_never_overlap(monkeypatch):
    inside, overlaps = [0], []
    real = ast.parse

    def slow_parse(source, filename="<unknown>"):
        inside[0] += 1
        overlaps.append(inside[0])
        time.sleep(0.002)  # a thread switch while "parsing"
        inside[0] -= 1
        return real(source, filename=filename)

    monkeypatch.setattr(parsing, "ast", SimpleNamespace(parse=slow_parse))  # only parsing.py sees it
    threads = [threading.Thread(target=lambda: [parsing.parse("x = 1") for _ in range(20)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(overlaps) == 80 and max(overlaps) == 1
