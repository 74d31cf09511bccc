"""Notebooks: read a student's notebook as a module, and write handout notebooks.

A submitted notebook is read with nbformat (trusted side, never executed) and its code turned
into a module: imports, function and class definitions and constant assignments are kept,
each line exactly as written; top-level experiments (training loops, prints, plots) are left
out, and the feedback says so. A notebook full of experiments grades as fast as the `.py`.

IPython syntax (magics, shell escapes, help) is found per logical line by
`grader.inputs.ipython_syntax`. Notebooks made for other graders grade like the same code in a `.py`:
Otter-Grader's set-up and check cells and nbgrader's test cells are left out, with a note.
`CellMap` remembers which cell and line each line of the module came from, and `translate`
turns a message about `forward.py, line 12` into one about the notebook's cell.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import nbformat  # imported where used: it costs ~80 ms at every start of `grade`


from grader.inputs import ipython_syntax
from grader.inputs.ipython_syntax import split_lines
from grader.worker.parsing import compiles, parse

MAX_NOTEBOOK_BYTES = 5 << 20
CHECK_MAGIC = "%run -e -m grader.__main__ check"
"""the handout's check cell: the grader run by the kernel's own interpreter, whatever PATH says
(`-m grader.__main__`, as IPython's `%run -m` runs a package's `__init__`; `-e`: a failing check's
exit status is not shown as an error)"""


class NotebookError(Exception):
    """The notebook cannot be read as a notebook."""


@dataclass
class CellMap:
    """Where each line of a notebook's extracted module came from."""

    notebook: str
    """the notebook's file name, as the student named it"""
    lines: list[tuple[int, int] | None] = field(default_factory=list)
    """`lines[n - 1]`: (code cell number, line within the cell) of the module's line n"""
    first_lines: dict[int, str] = field(default_factory=dict)
    """code cell number -> its first line, so a message can show which cell it means"""

    def cell(self, number: int) -> str:
        """`code cell 3 ("def softmax(z):")`."""
        return f'code cell {number} ("{self.first_lines.get(number, "")}")'

    def where(self, line: int, quote: str = "") -> str | None:
        """`forward.ipynb, code cell 3 ("def softmax(z):"), line 2` for the module's `line`
        (`quote` around the notebook's name, as in a traceback's `File "..."`)."""
        if not 0 < line <= len(self.lines):
            return None
        # A blank line between two cells' code (nothing raises there) counts as the one before.
        origin = next((o for o in reversed(self.lines[:line]) if o is not None), None)
        if origin is None:
            return None
        return f"{quote}{self.notebook}{quote}, {self.cell(origin[0])}, line {origin[1]}"


@dataclass
class Extracted:
    """The module source taken from a notebook, what was left out, and where each line came from."""

    source: str
    notes: list[str] = field(default_factory=list)
    cells: CellMap | None = None


def translate(text: str, maps: dict[str, CellMap]) -> str:
    """`text` with every `forward.py, line 12` (policy scan, guard, syntax error, traceback
    `File "forward.py", line 12`, warning `forward.py:12:`) naming the notebook cell instead,
    and any other mention of `forward.py` naming the notebook, for each `forward.py` in `maps`
    (the modules that came from notebooks): the student never saw that `.py`."""
    if not maps or not text:
        return text
    names = "|".join(re.escape(name) for name in sorted(maps, key=len, reverse=True))
    located = re.compile(rf'(?<![\w.])(?P<q>"?)(?P<file>{names})(?P=q)(?P<sep>, line |:)(?P<line>\d+)')
    bare = re.compile(rf"(?<![\w.])(?P<file>{names})(?!\w)")

    def replace(m: re.Match[str]) -> str:
        where = maps[m.group("file")].where(int(m.group("line")), m.group("q"))
        return m.group(0) if where is None else where

    text = located.sub(replace, text)
    return bare.sub(lambda m: maps[m.group("file")].notebook, text)


def _first_line(code: str) -> str:
    line = next((ln.strip() for ln in code.splitlines() if ln.strip()), "")
    line = "".join(ch if ch.isprintable() and ch not in '`"' else " " for ch in line)
    return line if len(line) <= 60 else line[:57] + "..."


def _is_upper(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id.isupper()


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _keep(node: ast.stmt) -> bool:
    """Definitions, imports and constants; nothing that computes or shows anything at top level."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if value is None:
            return True
        calls = any(isinstance(n, ast.Call) for n in ast.walk(value))
        # `ALPHA = 0.01`, `ACTIVATIONS = {"relu": relu}` stay; `history = train(...)` goes.
        # UPPER_CASE constants may call (e.g. `SQRT2 = np.sqrt(2)`): a convention for constants.
        return not calls or all(_is_upper(t) for t in targets)
    if isinstance(node, ast.Try):
        return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body)
    return False


# ------------------------------------------------------------ other graders' notebooks

OTTER = "otter"
"""Otter-Grader's client package: `import otter; grader = otter.Notebook(...)`, then
`grader.check("q1")`, `grader.check_all()`, `grader.export(...)` cells (what `otter assign`
writes into a student notebook)."""


def _otter_names(node: ast.stmt, names: set[str]) -> bool:
    """Whether `node` imports Otter or uses a name bound to it; adds the names it binds."""
    if isinstance(node, ast.Import):
        mine = [a for a in node.names if a.name.split(".")[0] == OTTER]
        names.update((a.asname or a.name).split(".")[0] for a in mine)
        return bool(mine)
    if isinstance(node, ast.ImportFrom):
        if node.level == 0 and (node.module or "").split(".")[0] == OTTER:
            names.update(a.asname or a.name for a in node.names)
            return True
        return False
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False  # a definition is the student's; it only fails if it is called
    inner = [n for n in ast.walk(node) if n is not node and isinstance(n, (ast.Import, ast.ImportFrom))]
    if any([_otter_names(n, names) for n in inner]):  # `try: import otter` (every one of them seen)
        return True
    used = any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))
    if used:
        names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return used


def _is_test_cell(cell: dict[str, Any], tree: ast.Module | None, code: str) -> bool:
    """An instructor's test cell: nbgrader's autograder tests, or a cell of asserts.

    nbgrader marks cells in `metadata.nbgrader`: `grade: true, solution: false` is an
    autograded test cell (its `### BEGIN HIDDEN TESTS` part is removed from student copies).
    """
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    if isinstance(meta, dict) and meta.get("grade") is True and not meta.get("solution"):
        return True
    if "### BEGIN HIDDEN TESTS" in code:
        return True
    if tree is None:
        return False
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom)) and not _is_docstring(n)]
    return bool(body) and all(isinstance(n, ast.Assert) for n in body)


# ------------------------------------------------------------ extraction


def _segment(lines: list[str], code: str, node: ast.stmt) -> tuple[int, str]:
    """The first cell line (1-based) of `node` and its exact text, decorators and a trailing
    comment on its last line included: the student's lines, unaltered."""
    decorators = getattr(node, "decorator_list", None)
    start = decorators[0].lineno if decorators else node.lineno
    text = ast.get_source_segment(code, node) or ""
    if decorators:
        text = "".join(lines[start - 1 : node.lineno - 1]) + lines[node.lineno - 1][: _char_col(lines, node)] + text
    last = lines[(node.end_lineno or node.lineno) - 1].rstrip("\r\n")
    rest = last[_char_col(lines, node, end=True):]
    if rest.strip().startswith("#") or (rest and not rest.strip()):
        text += rest
    return start, text


def _char_col(lines: list[str], node: ast.stmt, end: bool = False) -> int:
    """A node's column as characters (ast counts UTF-8 bytes)."""
    line = lines[((node.end_lineno or node.lineno) if end else node.lineno) - 1]
    col = node.end_col_offset if end else node.col_offset
    return len(line.encode("utf-8")[: col or 0].decode("utf-8", "replace"))


@dataclass
class _Report:
    """What was left out of a notebook, by kind, for the notes."""

    filename: str
    cells: CellMap
    left_out: list[int] = field(default_factory=list)
    magic_cells: list[int] = field(default_factory=list)
    otter_cells: list[int] = field(default_factory=list)
    test_cells: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        name, out = self.filename, list(self.notes)
        if self.otter_cells:
            out.append(f"{name}: Otter-Grader's set-up and checks (import otter, grader.check(...)) in code cells "
                       f"{_cells(self.otter_cells)} were left out: this grader runs its own checks")
        if self.test_cells:
            out.append(f"{name}: test cells (nbgrader tests, asserts) in code cells {_cells(self.test_cells)} were "
                       "left out: this grader runs its own checks")
        if self.left_out:
            out.append(f"{name}: top-level statements in code cells {_cells(self.left_out)} (experiments, prints, "
                       "plots) were not run; only imports, functions, classes and constants are graded")
        if self.magic_cells:
            out.append(f"{name}: magics and shell commands in code cells {_cells(self.magic_cells)} were ignored "
                       "(IPython syntax: %magic, !command, obj?)")
        return out


def _read(data: bytes, filename: str) -> nbformat.NotebookNode:
    import nbformat

    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{filename} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    if not data.strip():
        raise NotebookError(f"{filename} is empty")
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookError(f"{filename} is not a valid notebook (it is not JSON: {exc})") from None
    except Exception as exc:  # nbformat raises several kinds for malformed structure
        raise NotebookError(f"{filename} is not a valid notebook ({type(exc).__name__}: {exc})") from None


def module_from_notebook(data: bytes, filename: str = "notebook.ipynb") -> Extracted:
    """The module a notebook defines, notes on what was left out, and where each line came from.

    Raises NotebookError when `data` is not a notebook with code cells.
    """
    nb = _read(data, filename)
    code_cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if not code_cells:
        raise NotebookError(f"{filename} has no code cells")
    cells = CellMap(filename)
    report = _Report(filename, cells)
    otter: set[str] = set()
    kept: list[_Kept] = []
    for number, cell in enumerate(code_cells, 1):
        code = str(cell.get("source", ""))
        cells.first_lines[number] = _first_line(code)
        kept += _cell_definitions(number, cell, code, otter, report)
    kept = _imports_of_test_cells_if_used(kept)
    # `from __future__` imports first, as a module needs them (IPython takes them in any cell).
    kept.sort(key=lambda k: not k.text.startswith("from __future__"))
    out: list[str] = []
    for number, start, text, _ in kept:
        if out:
            out.append("")
            cells.lines.append(None)
        for k, line in enumerate(split_lines(text)):
            out.append(line.rstrip("\r\n"))
            cells.lines.append((number, start + k))
    return Extracted("".join(line + "\n" for line in out), report.summary(), cells)


def _cell_definitions(number: int, cell: dict[str, Any], code: str, otter: set[str],
                      report: _Report) -> list[_Kept]:
    """The kept statements of one code cell."""
    if ipython_syntax.dedent(code) != code:
        code = ipython_syntax.dedent(code)
        report.notes.append(f"{report.filename}, {report.cells.cell(number)} is indented: it was read as IPython "
                            "runs it, without that indentation")
    found = ipython_syntax.find(code)
    python = ipython_syntax.blank(code, found)
    if any(not _is_grade_check(code, f) for f in found):
        report.magic_cells.append(number)
    fails = "does not parse"
    try:
        tree: ast.Module | None = parse(python)
        fails = "does not compile"  # parsed, but Jupyter would run nothing of it either
        compiles(tree)
        why = ""
    except SyntaxError as exc:
        tree, why = None, f"line {exc.lineno} of the cell: {exc.msg}"
    except ValueError as exc:  # a null byte, on Python < 3.12
        tree, why = None, str(exc)
    if _is_test_cell(cell, tree, code):
        report.test_cells.append(number)
        # Its imports ran in the notebook too: kept if the student's code uses them (see below).
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))] if tree else []
        return [_Kept(number, *_segment(split_lines(code), code, n), test_import=True) for n in imports]
    if tree is None:
        report.notes.append(f"{report.filename}, {report.cells.cell(number)} {fails} ({why}); "
                            "it was left out, with everything it defines")
        return []
    lines = split_lines(code)
    kept: list[_Kept] = []
    dropped = False
    for node in tree.body:
        if _otter_names(node, otter):
            if number not in report.otter_cells:
                report.otter_cells.append(number)
            continue
        if not _keep(node):
            dropped = dropped or not _is_docstring(node)
            continue
        first = _segment(lines, code, node)[0]
        inside = [f for f in found if first - 1 <= f.start < (node.end_lineno or node.lineno)]
        if inside:
            what = getattr(node, "name", type(node).__name__.lower())
            report.notes.append(
                f"{report.filename}, {report.cells.cell(number)}, line {inside[0].start + 1}: IPython syntax "
                f"({inside[0].kind}) inside a block, which a .py file cannot hold; {what} was left out")
            continue
        kept.append(_Kept(number, *_segment(lines, code, node)))
    if dropped:
        report.left_out.append(number)
    return kept


class _Kept(NamedTuple):
    """One statement kept from a cell: its cell, first line in the cell and exact text."""

    cell: int
    start: int
    text: str
    test_import: bool = False
    """an import of a test cell: kept only if the student's code uses it"""


def _imports_of_test_cells_if_used(kept: list[_Kept]) -> list[_Kept]:
    """`kept` with each import of a test cell kept only when the rest uses a name it binds.

    A test cell's `import numpy as np` may be the only one the student's functions rely on; its
    `from nose.tools import assert_equal` serves only the tests (and would break the rules).
    """
    used = set()
    for k in kept:
        if not k.test_import:
            used |= {n.id for n in ast.walk(parse(k.text)) if isinstance(n, ast.Name)}
    out = []
    for k in kept:
        if k.test_import:
            node = parse(k.text).body[0]
            names = node.names if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            if not {(a.asname or a.name).split(".")[0] for a in names} & used:
                continue
        out.append(k)
    return out


def _is_grade_check(code: str, found: ipython_syntax.IPythonLine) -> bool:
    """The handout notebook's own check cell (`CHECK_MAGIC forward`, or the older `!grade check
    forward`): nothing to report."""
    return split_lines(code)[found.start].lstrip().startswith(("!grade ", CHECK_MAGIC))


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """`notebook` as the text of an .ipynb file (nbformat's JSON, a newline at the end)."""
    import nbformat

    return nbformat.writes(notebook) + "\n"


def _cells(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:10]) + (" ..." if len(numbers) > 10 else "")


def handout_notebook(title: str, handout: str, stub_source: str, assignment: str) -> nbformat.NotebookNode:
    import nbformat

    """A handout notebook: the handout's text, the stubs one function per cell, a check cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [nbformat.v4.new_markdown_cell(handout)]
    # One cell per function or class; consecutive other statements (imports, constants) share
    # a cell. Source order is kept, so the notebook runs top to bottom.
    tree = parse(stub_source)
    lines = stub_source.splitlines()
    group: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring: the handout says it all
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
        text = "\n".join(lines[start:node.end_lineno])
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if group:
                cells.append(nbformat.v4.new_code_cell("\n".join(group)))
                group = []
            cells.append(nbformat.v4.new_code_cell(text))
        else:
            group.append(text)
    if group:
        cells.append(nbformat.v4.new_code_cell("\n".join(group)))
    cells.append(nbformat.v4.new_markdown_cell(
        f"## Check your work\n\nSave the notebook, then run the cell below: it runs the visible checks of "
        f"`{assignment}` on this notebook (`{assignment}.py` must be absent or the untouched template), "
        f"with the Python of this notebook's kernel (the same as `python -m grader check {assignment}`)."))
    cells.append(nbformat.v4.new_code_cell(f"{CHECK_MAGIC} {assignment}"))
    for i, cell in enumerate(cells):
        cell["id"] = f"{assignment}-{i}"  # deterministic, so a rebuild changes nothing
    nb.cells = cells
    return nb
