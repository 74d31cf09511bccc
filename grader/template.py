"""Generate `student_template/` from `reference/` and `assignments/` (never by hand).

- stubs: each reference module with every `### BEGIN SOLUTION` ... `### END SOLUTION` block
  replaced by `raise NotImplementedError` (Otter's `# BEGIN SOLUTION` works too);
- `checks/`: each assignment's settings, visible checks and their frozen expected values;
- `handouts/`: each assignment's README (and figures); a handout notebook per module;
- `README.md` (from `assignments/student_readme.md`) and the GitHub Classroom workflow
  `.github/workflows/classroom.yml` (from `assignments/classroom.yml`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
from dataclasses import replace
from pathlib import Path

import nbformat

from grader.course import (
    EXPECTED_FILE,
    Assignment,
    Reference,
    compute_expected,
    freeze_expected,
    load_assignments,
)
from grader.notebook import handout_notebook

_BEGIN = re.compile(r"^(\s*)#{1,3} BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*#{1,3} END SOLUTION\s*$")

STUB_MESSAGE = "Implement {name} (see the handout)"


def make_stub(source: str) -> str:
    """`source` with each solution block replaced by `raise NotImplementedError(...)`."""
    out: list[str] = []
    inside = False
    name = "this function"
    for line in source.splitlines():
        m = re.match(r"^\s*def (\w+)\(", line)
        if m and not inside:
            name = m.group(1)
        begin = _BEGIN.match(line)
        if begin and not inside:
            inside = True
            indent = begin.group(1)
            if indent:
                out.append(f"{indent}# TODO: implement (remove the raise below)")
                out.append(f'{indent}raise NotImplementedError("{STUB_MESSAGE.format(name=name)}")')
            continue
        if _END.match(line) and inside:
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise ValueError("a BEGIN SOLUTION marker has no END SOLUTION")
    return "\n".join(out) + "\n"


STUBS_FILE = "stubs.json"
"""in the template's checks/: sha256 of each untouched stub (a notebook replaces an untouched .py)"""


def stub_hashes(course_root: Path, modules: list[str]) -> dict[str, str]:
    """`module -> sha256` of the stub `build_template` generates for it."""
    return {
        m: hashlib.sha256(make_stub((course_root / "reference" / f"{m}.py").read_text()).encode()).hexdigest()
        for m in modules
        if (course_root / "reference" / f"{m}.py").exists()
    }


def build_template(course_root: Path, dest: Path) -> list[Path]:
    """Write the student template for every assignment of the course into `dest`."""
    assignments = load_assignments(course_root / "assignments")
    reference = Reference(course_root / "reference", [m for a in assignments for m in a.mistakes])
    expected = compute_expected([_visible_only(a) for a in assignments], reference)
    settings = tomllib.loads((course_root / "assignments" / "course.toml").read_text())
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)

    for generated in ("checks", "handouts"):
        if (dest / generated).exists():
            shutil.rmtree(dest / generated)
    checks_root = dest / "checks"
    write(checks_root / "course.toml", (course_root / "assignments" / "course.toml").read_text())
    modules = [m for a in assignments for m in a.modules]
    write(checks_root / STUBS_FILE, json.dumps(stub_hashes(course_root, modules), indent=1) + "\n")
    for a in assignments:
        assert a.folder is not None
        for name in ("assignment.toml", "checks_visible.py"):
            write(checks_root / a.name / name, (a.folder / name).read_text())
        freeze_expected(a, expected, checks_root / a.name / EXPECTED_FILE)
        written.append(checks_root / a.name / EXPECTED_FILE)
        handout = (a.folder / "README.md").read_text() if (a.folder / "README.md").exists() else f"# {a.title}\n"
        write(dest / "handouts" / f"{a.name}.md", handout)
        if (a.folder / "figures").is_dir():
            shutil.copytree(a.folder / "figures", dest / "handouts" / "figures", dirs_exist_ok=True)
        for module in a.modules:
            stub = make_stub((course_root / "reference" / f"{module}.py").read_text())
            write(dest / f"{module}.py", stub)
            notebook = handout_notebook(a.title, handout.replace("](figures/", "](handouts/figures/"), stub, a.name)
            write(dest / f"{module}.ipynb", nbformat.writes(notebook) + "\n")
    listing = "\n".join(f"- `{a.name}`: {a.title} (`{'`, `'.join(m + '.py' for m in a.modules)}`; "
                        f"handout: [handouts/{a.name}.md](handouts/{a.name}.md))" for a in assignments)
    readme = (course_root / "assignments" / "student_readme.md").read_text()
    write(dest / "README.md", readme.replace("{assignments}", listing))
    workflow = (course_root / "assignments" / "classroom.yml").read_text()
    write(dest / ".github" / "workflows" / "classroom.yml",
          workflow.replace("{grader_package}", settings.get("grader_package", "nn-grader")))
    return written


def _visible_only(a: Assignment) -> Assignment:
    return replace(a, checks=[c for c in a.checks if c.visible])
