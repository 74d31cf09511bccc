"""An instructor's master notebook (nbgrader's or Otter's format) as the source of an assignment.

`grade import-notebook MASTER.ipynb --name NAME` turns it into this course's files:

- `reference/NAME.py`: the notebook's code cells, in order, solution markers kept (so
  `grade build-template` makes the stubs, see `grader.course.solutions`);
- `assignments/NAME/README.md`: the handout, from the notebook's Markdown cells;
- `assignments/NAME/notebook_tests.py`: the notebook's test cells, word for word, to be
  rewritten as checks (`checks_visible.py`, `checks_hidden.py`): their asserts run student
  code in the judging process, which this grader never does;
- `assignments/NAME/assignment.toml` and empty check files, when missing.

nbgrader: a code cell with `nbgrader.solution` is a solution cell (its `### BEGIN SOLUTION`
blocks are kept; without a block, each function's body becomes one, as nbgrader replaces the
whole cell); a cell with `nbgrader.grade` and no `solution` is a test cell (its points kept);
a Markdown solution cell (a written answer) is left out. Otter (v1 format): raw delimiter cells
`# BEGIN QUESTION` (with its YAML config), `# BEGIN PROMPT`, `# BEGIN SOLUTION`, `# BEGIN TESTS`
and their `# END` cells; code cells between `# BEGIN TESTS` and `# END TESTS` are tests (`# HIDDEN`
first: hidden); code prompt cells are left out (the stub comes from the solution's markers);
cells starting with `# IGNORE` and `# ASSIGNMENT CONFIG` are left out. Anything not understood
is refused with the cell's number.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.solutions import MarkerError, strip_solutions
from grader.worker.parsing import parse
from grader.worker.policy import DEFAULT_ALLOWED

_OTTER_BOUNDARY = re.compile(r"#\s+(begin|end)\s+(question|prompt|solution|tests)\b", re.IGNORECASE)


@dataclass
class NotebookTest:
    """One test cell of the master notebook."""

    cell: int
    source: str
    points: float | None = None
    hidden: bool = False
    question: str = ""


@dataclass
class Converted:
    """What a master notebook becomes."""

    module: str
    handout: str
    tests: list[NotebookTest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _unfenced(cell: dict) -> dict:
    """Otter's fenced config: a Markdown cell that is one ```otter block counts as a raw cell."""
    lines = _source(cell).strip().splitlines()
    if cell.get("cell_type") == "markdown" and len(lines) >= 2 and lines[0].strip() == "```otter" \
            and lines[-1].strip() == "```":
        return {"cell_type": "raw", "source": "\n".join(lines[1:-1]), "metadata": {}}
    return cell


def _wrap_bodies(code: str, number: int) -> str:
    """nbgrader's whole-cell solution: each function's body (after its docstring) as a solution block."""
    tree = parse(code)
    lines = code.splitlines()
    inserts: list[tuple[int, int, str]] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            raise MarkerError(f"code cell {number}: a solution cell without BEGIN/END SOLUTION may only define "
                              "functions (nbgrader would replace the whole cell); mark its solution explicitly")
        body = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) and isinstance(
            getattr(node.body[0], "value", None), ast.Constant) and isinstance(node.body[0].value.value, str) \
            else node.body
        if not body:
            continue
        indent = lines[body[0].lineno - 1][: body[0].col_offset]
        inserts.append((body[0].lineno - 1, node.end_lineno or body[-1].end_lineno, indent))
    for start, end, indent in reversed(inserts):
        lines[end:end] = [f"{indent}### END SOLUTION"]
        lines[start:start] = [f"{indent}### BEGIN SOLUTION"]
    return "\n".join(lines)


def convert_master(data: bytes, filename: str = "master.ipynb") -> Converted:
    """The reference module, handout and test cells of a master notebook (raises `MarkerError`)."""
    import nbformat  # here: it costs ~80 ms at every start of `grade`

    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:
        raise MarkerError(f"{filename} is not a notebook ({type(exc).__name__}: {exc})") from None
    code: list[str] = []
    handout: list[str] = []
    out = Converted("", "")
    block: str | None = None  # the Otter block we are in: question, prompt, solution, tests
    question = ""
    for number, raw_cell in enumerate(nb.cells, 1):
        cell = _unfenced(raw_cell)
        kind, text = cell.get("cell_type"), _source(cell)
        first = text.strip().splitlines()[0] if text.strip() else ""
        meta = cell.get("metadata", {}).get("nbgrader", {})
        boundary = _OTTER_BOUNDARY.match(first) if kind == "raw" else None
        if boundary:
            which, what = boundary.group(1).lower(), boundary.group(2).lower()
            if which == "begin":
                if what == "question":
                    config = text.strip().split("\n", 1)[1] if "\n" in text.strip() else ""
                    names = re.findall(r"(?m)^name:\s*(\S+)", config)
                    question = names[0] if names else f"cell {number}"
                block = what
            else:
                block = None
                question = "" if what == "question" else question
            continue
        if kind == "raw" and re.match(r"#\s+assignment\s+config", first, re.IGNORECASE):
            continue
        if re.match(r"#\s*ignore\b", first, re.IGNORECASE):
            continue
        if kind == "markdown":
            if meta.get("solution") or block in ("solution", "tests"):
                out.notes.append(f"cell {number}: a written answer (Markdown solution) was left out")
            else:
                handout.append(text.strip())
            continue
        if kind != "code":
            continue
        where = f"{filename}, code cell {number}"
        if block == "tests" or (meta.get("grade") and not meta.get("solution")):
            hidden = first.strip().upper() == "# HIDDEN"
            points = meta.get("points")
            config = re.search(r"points:\s*([\d.]+)", text) if block == "tests" else None
            out.tests.append(NotebookTest(number, text, float(config.group(1)) if config else points, hidden,
                                          question or meta.get("grade_id", "")))
            continue
        if block == "prompt":
            out.notes.append(f"cell {number}: an Otter code prompt was left out (the stub comes from the solution)")
            continue
        if meta.get("solution") and "BEGIN SOLUTION" not in text:
            try:
                text = _wrap_bodies(text, number)
            except SyntaxError as exc:
                raise MarkerError(f"{where} does not parse (line {exc.lineno}: {exc.msg})") from None
        if re.search(r"(?m)^\s*[%!]", text):
            text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
            out.notes.append(f"{where}: magics and shell commands were left out (a module cannot hold them)")
        code.append(text.rstrip())
    out.module = "\n\n\n".join(code) + "\n"
    out.handout = "\n\n".join(handout) + "\n"
    strip_solutions(out.module, filename)  # refuses unknown markers now, not at build time
    try:
        parse(out.module)
    except SyntaxError as exc:
        raise MarkerError(f"{filename}: its code cells do not make a module (line {exc.lineno}: {exc.msg})") from None
    return out


def notebook_tests_file(name: str, tests: list[NotebookTest]) -> str:
    """The test cells, word for word, as a Python file of strings for the instructor to rewrite as checks."""
    parts = [f'"""The test cells of {name}\'s master notebook, word for word (never run).', "",
             "Rewrite each as a check in checks_visible.py or checks_hidden.py: see",
             'examples/master-notebook/README.md for a worked example.', '"""', "", "CELLS = ["]
    for t in tests:
        hidden = "yes" if t.hidden else ("partly" if "BEGIN HIDDEN TESTS" in t.source else "no")
        parts.append(f"    # code cell {t.cell}; points: {t.points}; hidden: {hidden}; question: {t.question!r}")
        lines = t.source.splitlines(keepends=True) or [""]
        parts.append("    (\n" + "".join(f"        {json.dumps(line)}\n" for line in lines) + "    ),")
    parts.append("]\n")
    return "\n".join(parts)


def write_course_files(course: Path, name: str, converted: Converted, force: bool = False) -> list[Path]:
    """Write the converted notebook into `course` (reference/, assignments/NAME/); returns what was written."""
    folder = course / "assignments" / name
    files = {
        course / "reference" / f"{name}.py": converted.module,
        folder / "README.md": converted.handout,
        folder / "notebook_tests.py": notebook_tests_file(name, converted.tests),
    }
    missing_only = {
        folder / "assignment.toml": f'name = "{name}"\ntitle = "{name}"\nmodules = ["{name}"]\n'
                                    f'allowed_imports = {json.dumps(list(DEFAULT_ALLOWED))}\n',
        folder / "checks_visible.py": f'from grader.authoring import Checks\n\nc = Checks("{name}")\n\nCHECKS = []\n',
        folder / "checks_hidden.py": f'from grader.authoring import Checks\n\nc = Checks("{name}")\n\nCHECKS = []\n',
    }
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} exists (--force replaces it)")
    written = []
    for path, text in [*files.items(), *((p, t) for p, t in missing_only.items() if not p.exists())]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
