"""IPython syntax in notebook cells: found per logical line by the tokenizer, never in plain Python.

The reference is IPython itself (`IPython.core.inputtransformer2.TransformerManager`, a test
dependency only): the lines `grader.inputs.ipython_syntax.find` marks are exactly those IPython rewrites.
"""

from __future__ import annotations

import ast
import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.inputtransformer2 import TransformerManager

from conftest import ROOT
from grader.inputs.ipython_syntax import blank, dedent, find, split_lines

CELLS = [
    "%matplotlib inline\nimport numpy as np",
    "x = !ls\ny = 1",
    "files = !ls -l\nz = 2",
    "np.sum?\nnp.sum??\n?np.mean\nnp.mean",
    "def f(x):\n    return x @ W.T + b  # W.T or W?",
    "s = '''\n!ls\n%time\nobj?\n'''\nt = 1",
    "a = (1 +\n     2)  # really?\nb = 3",
    "x = 5 % 3\ny = (4\n% 2)\nz = [1,\n!True]",
    "if True:\n    !ls\n    y = 2",
    "%%timeit\nx = 1\ny = 2",
    "\n\n%%bash\necho hi",
    "print('done!')  # %magic ?",
    "d = {'a': 1}\nd?",
    "x = %timeit -o sum(range(10))\ny = x",
    "/print 1 2\nq = 1",
    "a = b != c\nlam = lambda x=1: x",
    "x = 1; y = 2\nx?",
    "for i in range(3):\n    %time i\nk = 0",
    "f(a=1)\ng = {'k': '%d' % 3}",
    "x = 1 \\\n  + 2\n!echo one \\\n  two\nw = 3",
    "#!/usr/bin/env python\nx = 1\n# %time\n# obj?",
    "y = b?",
    "print(1) ; ls?",
    "r = f'{x!r}'\nv = x if x else y",
    'doc = """Is it W or W.T?\n%% not a cell magic\n"""',
    "x = !echo it's\ny = 1",
    "!echo don't\nz = 2",
    "out = !ls \\\n  -l\nw = 1",
]


def _ipython_changed(cell: str) -> set[int]:
    """0-based lines of `cell` that IPython's transformer rewrites (or drops)."""
    before = split_lines(cell if cell.endswith("\n") else cell + "\n")
    after = split_lines(TransformerManager().transform_cell(cell))
    unchanged = set()
    for block in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_matching_blocks():
        unchanged.update(range(block.a, block.a + block.size))
    return {i for i in range(len(before)) if i not in unchanged and before[i].strip()}


def _found_lines(cell: str) -> set[int]:
    return {n for item in find(cell) for n in range(item.start, item.end) if split_lines(cell)[n].strip()}


@pytest.mark.parametrize("cell", CELLS)
def test_the_lines_found_are_exactly_those_ipython_rewrites(cell):
    assert _found_lines(cell) == _ipython_changed(cell)


def test_the_corpus_has_both_ipython_and_plain_cells():
    # Guards the test above against a corpus where nothing (or everything) is IPython syntax.
    kinds = [bool(_ipython_changed(c)) for c in CELLS]
    assert kinds.count(True) >= 12 and kinds.count(False) >= 6


def test_the_kinds_are_named():
    assert [f.kind for f in find("%time x\n!ls\nx?\n/f 1\ny = !pwd\nz = %env")] == [
        "magic", "shell", "help", "autocall", "shell", "magic"]
    assert find("%%time\nx = 1")[0].kind == "cell magic"
    assert find("def f():\n    %time 1")[0].indented is True


def test_a_time_or_capture_cell_keeps_its_body_as_python():
    # IPython runs these bodies in the notebook's namespace: what they define is defined.
    cell = "%%time\ndef f(x):\n    return x  # fast?\n!ls\nf?"
    assert [(f.start, f.end, f.kind) for f in find(cell)] == [(0, 1, "cell magic"), (3, 4, "shell"), (4, 5, "help")]
    assert ast.parse(blank(cell, find(cell))).body[0].name == "f"
    assert [(f.start, f.end) for f in find("\n%%capture out\nx = 1\n")] == [(1, 2)]
    assert [(f.start, f.end) for f in find("%%bash\necho hi\ndef f(): pass\n")] == [(0, 3)]


def test_blank_keeps_line_numbers_and_a_block_parseable():
    cell = "x = !ls\ndef f():\n    %time y = 1\n    return 2\nobj?"
    python = blank(cell, find(cell))
    assert len(split_lines(python)) == len(split_lines(cell))
    tree = ast.parse(python)
    assert [type(n).__name__ for n in tree.body] == ["FunctionDef"]
    assert split_lines(python)[2] == "    pass\n"


def test_the_question_mark_comment_of_the_issue_is_python():
    cell = "def dense(A_prev, W, b):\n    return A_prev @ W.T + b  # W.T or W?\n"
    assert find(cell) == []
    assert blank(cell, []) == cell


def test_every_reference_module_is_plain_python():
    for path in sorted((ROOT / "reference").glob("*.py")):
        source = path.read_text()
        assert find(source) == [], path.name


# ---------------------------------------------------------------- property: plain Python is untouched

_FRAGMENTS = [
    "x = 1  # really?",
    "y = x % 2",
    "z = (x\n% 2)",
    "s = '''\n!not a shell\n%not a magic\nobj?\n'''",
    's = "what? %d!" % 3',
    "t = [1,\n  -1]",
    "u = x != 2",
    "v = not x  # !important",
    "w = {'a?': '!b'}",
    "f = lambda a=1: a % 3",
    "g = x if x else 2  # x?",
    "h = 1 + \\\n    2",
    "k = f'{x!r}?'",
    "m = x @ x if False else 0",
    "# %time this is a comment\nn = 0",
    "p = '''%%bash\n'''",
    "q = dict(a=1)",
    'r = """\n    obj??\n"""',
    "assert x == 1 or True, 'x?'",
]


@st.composite
def _programs(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        fragment = draw(st.sampled_from(_FRAGMENTS))
        if draw(st.booleans()):
            body = "\n".join("    " + line if line else line for line in fragment.split("\n"))
            fragment = f"def f{len(parts)}(x=1):\n{body}\n    return x  # W.T or W?"
        parts.append(fragment)
    return "\n".join(parts) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=300, deadline=None)
@given(_programs())
def test_plain_python_is_never_taken_for_ipython(source):
    ast.parse(source)  # every generated program is valid Python
    assert find(source) == []
    assert blank(source, find(source)) == source


@pytest.mark.parametrize("cell", ["  def f():\n      return 1\n", "\n\n\tx = 1\n\ty = 2\n", "    a = 1\nb = 2\n"])
def test_an_indented_cell_is_dedented_as_ipython_does(cell):
    from IPython.core.inputtransformer2 import leading_empty_lines, leading_indent

    expected = "".join(leading_indent(leading_empty_lines(split_lines(cell))))
    assert dedent(cell).lstrip("\n") == expected
    assert len(split_lines(dedent(cell))) == len(split_lines(cell))  # line numbers kept
