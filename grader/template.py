"""Generate `student_template/` from `reference/` and `assignments/` (never by hand).

- stubs: each reference module with every `### BEGIN SOLUTION` ... `### END SOLUTION` block
  replaced by `raise NotImplementedError` (Otter's `# BEGIN SOLUTION` works too);
- `checks/`: each assignment's settings, visible checks and their frozen expected values;
- `handouts/`: each assignment's README.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

from grader.course import EXPECTED_FILE, Assignment, Reference, compute_expected, freeze_expected, load_assignments

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


def build_template(course_root: Path, dest: Path) -> list[Path]:
    """Write the student template for every assignment of the course into `dest`."""
    assignments = load_assignments(course_root / "assignments")
    reference = Reference(course_root / "reference", [m for a in assignments for m in a.mistakes])
    expected = compute_expected([_visible_only(a) for a in assignments], reference)
    written: list[Path] = []
    checks_root = dest / "checks"
    if checks_root.exists():
        shutil.rmtree(checks_root)
    checks_root.mkdir(parents=True)
    shutil.copyfile(course_root / "assignments" / "course.toml", checks_root / "course.toml")
    (dest / "handouts").mkdir(exist_ok=True)
    for a in assignments:
        assert a.folder is not None
        folder = checks_root / a.name
        folder.mkdir()
        for name in ("assignment.toml", "checks_visible.py"):
            shutil.copyfile(a.folder / name, folder / name)
        freeze_expected(a, expected, folder / EXPECTED_FILE)
        written += [folder / "checks_visible.py", folder / EXPECTED_FILE]
        for module in a.modules:
            source = (course_root / "reference" / f"{module}.py").read_text()
            (dest / f"{module}.py").write_text(make_stub(source))
            written.append(dest / f"{module}.py")
        handout = a.folder / "README.md"
        if handout.exists():
            shutil.copyfile(handout, dest / "handouts" / f"{a.name}.md")
            written.append(dest / "handouts" / f"{a.name}.md")
    return written


def _visible_only(a: Assignment) -> Assignment:
    return replace(a, checks=[c for c in a.checks if c.visible])
