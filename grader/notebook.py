"""Notebooks: read a student's notebook as a module, and write handout notebooks.

A submitted notebook is read with nbformat (trusted side, never executed) and its code turned
into a module: imports, function and class definitions and constant assignments are kept;
magics, shell escapes, plotting and top-level experiments (training loops, prints) are left
out, and the feedback says so. A notebook full of experiments grades as fast as the `.py`.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field

import nbformat

MAX_NOTEBOOK_BYTES = 5 << 20
CHECK_MAGIC = "%run -e -m grader.__main__ check"
"""the handout's check cell: the grader run by the kernel's own interpreter, whatever PATH says
(`-m grader.__main__`, as IPython's `%run -m` runs a package's `__init__`; `-e`: a failing check's
exit status is not shown as an error)"""


class NotebookError(Exception):
    """The notebook cannot be read as a notebook."""


@dataclass
class Extracted:
    """The module source taken from a notebook, and what was left out."""

    source: str
    notes: list[str] = field(default_factory=list)


def _strip_ipython(code: str) -> tuple[str, int]:
    """Remove magics (`%`, `%%`) and shell escapes (`!`); returns the code and lines removed."""
    if code.lstrip().startswith("%%"):
        return "", len(code.splitlines())
    kept, removed = [], 0
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("!grade ", CHECK_MAGIC)):
            kept.append("")  # the handout notebook's own check cell: nothing to report
        elif stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#")):
            kept.append("")  # keep line numbers stable
            removed += 1
        else:
            kept.append(line)
    return "\n".join(kept), removed


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


def module_from_notebook(data: bytes, filename: str = "notebook.ipynb") -> Extracted:
    """The module a notebook defines, and notes on what was left out (raises NotebookError)."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{filename} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    if not data.strip():
        raise NotebookError(f"{filename} is empty")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookError(f"{filename} is not a valid notebook (it is not JSON: {exc})") from None
    except Exception as exc:  # nbformat raises several kinds for malformed structure
        raise NotebookError(f"{filename} is not a valid notebook ({type(exc).__name__}: {exc})") from None
    parts: list[str] = []
    left_out: list[int] = []
    magic_cells: list[int] = []
    notes: list[str] = []
    code_cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, 1):
        code, removed = _strip_ipython(str(cell.get("source", "")))
        if removed:
            magic_cells.append(number)
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            notes.append(f"code cell {number} of {filename} does not parse (line {exc.lineno}: {exc.msg}); "
                         "it was left out, with everything it defines")
            continue
        kept = [node for node in tree.body if _keep(node)]
        if any(not _keep(node) and not _is_docstring(node) for node in tree.body):
            left_out.append(number)
        if kept:
            body = "\n\n".join(ast.get_source_segment(code, n) or "" for n in kept)
            parts.append(f"# --- code cell {number}\n{body}")
    if not code_cells:
        raise NotebookError(f"{filename} has no code cells")
    if left_out:
        notes.append(f"{filename}: top-level statements in code cells {_cells(left_out)} (experiments, prints, "
                     "plots) were not run; only imports, functions, classes and constants are graded")
    if magic_cells:
        notes.append(f"{filename}: magics and shell commands in code cells {_cells(magic_cells)} were ignored")
    return Extracted("\n\n\n".join(parts) + "\n", notes)


def _cells(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:10]) + (" ..." if len(numbers) > 10 else "")


def handout_notebook(title: str, handout: str, stub_source: str, assignment: str) -> nbformat.NotebookNode:
    """A handout notebook: the handout's text, the stubs one function per cell, a check cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [nbformat.v4.new_markdown_cell(handout)]
    # One cell per function or class; consecutive other statements (imports, constants) share
    # a cell. Source order is kept, so the notebook runs top to bottom.
    tree = ast.parse(stub_source)
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
