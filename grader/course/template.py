"""Generate `student_template/` from `reference/` and `assignments/` (never by hand).

- stubs: each reference module with its solutions marked out (every marker form nbgrader and
  Otter accept, see `grader.course.solutions`; anything else is refused with the file and the line);
- `checks/`: each assignment's settings, visible checks and their frozen expected values;
- `handouts/`: each assignment's README (and figures); a handout notebook per module;
- `README.md` (from `assignments/student_readme.md`) and the GitHub Classroom workflow
  `.github/workflows/classroom.yml` (from `assignments/classroom.yml`), both with the same
  install line: by default the grader engine's own wheel, written into `.github/grader/`.

Everything is generated into a temporary folder first and checked by the leak detector
(`grader.course.leaks`): a template that holds a line of a solution is never written.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import grader
from grader.course.leaks import find_leaks, reference_solutions
from grader.course.loading import (
    EXPECTED_FILE,
    Course,
    CourseError,
    freeze_expected,
)
from grader.course.solutions import STUB_MESSAGE, MarkerError, make_stub
from grader.course.wheel import NOTEBOOK_EXTRA, build_wheel
from grader.inputs.notebook import handout_notebook, notebook_text

__all__ = ["STUB_MESSAGE", "STUBS_FILE", "build_template", "generate_template", "install_command", "make_stub",
           "stub_hashes"]

WHEEL_FOLDER = Path(".github") / "grader"
"""where in the template the engine's wheel goes (the workflow and the README install it)"""
GENERATED = ("checks", "handouts", str(WHEEL_FOLDER))
"""folders of the template that are replaced whole on every build"""

# An exact source a course may give instead of the bundled wheel: a git URL pinned to a commit,
# or an https URL of a wheel with its sha256.
_PINNED = re.compile(r"^(\S+ @ )?(git\+https://\S+@[0-9a-f]{40}|https://\S+\.whl#sha256=[0-9a-f]{64})$")


def install_command(settings: dict, wheel: str, extra: str | None = None) -> str:
    """The pip command that installs the grader in a student's copy (workflow and README alike).

    Without `grader_package` in course.toml: the wheel bundled in the template. With it: that
    exact source, which must be pinned (a bare name would install whatever owns it on the index).
    """
    source = settings.get("grader_package")
    if not source:
        target = f"./{(WHEEL_FOLDER / wheel).as_posix()}" + (f"[{extra}]" if extra else "")
        return f'python -m pip install "{target}"'
    if not isinstance(source, str) or not _PINNED.match(source):
        raise CourseError(
            f"course.toml: grader_package = {source!r} is not an exact source: give a git URL pinned to a "
            "commit (git+https://host/repo.git@<40 hex digits>) or a wheel URL with #sha256=..., or leave "
            "grader_package out to bundle the grader's wheel in the template")
    name = source.split(" @ ", 1)[0] if " @ " in source else "nn-grader"
    url = source.split(" @ ", 1)[-1]
    return f'python -m pip install "{name}{f"[{extra}]" if extra else ""} @ {url}"'


STUBS_FILE = "stubs.json"
"""in the template's checks/: sha256 of each untouched stub (a notebook replaces an untouched .py)"""


def stub_hashes(course_root: Path, modules: list[str]) -> dict[str, str]:
    """`module -> sha256` of the stub `build_template` generates for it."""
    return {
        m: hashlib.sha256(_stub(course_root, m).encode()).hexdigest()
        for m in modules
        if (course_root / "reference" / f"{m}.py").exists()
    }


def build_template(course_root: Path, dest: Path) -> list[Path]:
    """Write the student template for every assignment of the course into `dest`.

    Raises `CourseError` for a marker that is not understood and when the generated template
    would hold a line of a reference solution (then nothing is written).
    """
    with tempfile.TemporaryDirectory(prefix="grader-template-") as tmp:
        staged = Path(tmp)
        relative = generate_template(course_root, staged)
        leaks = template_leaks(course_root, staged)
        if leaks:
            raise CourseError("the template would give away the solution, so nothing was written:\n  "
                              + "\n  ".join(leaks[:20]) + (f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20
                                                            else ""))
        for generated in GENERATED:
            if (dest / generated).exists():
                shutil.rmtree(dest / generated)
        for rel in relative:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staged / rel, dest / rel)
    return [dest / rel for rel in relative]


_DEFAULT_README = """# Your assignments

{assignments}

```bash
{install}   # once, in this folder
python -m grader check           # the visible checks of every assignment
```
"""
"""the student README of a course without assignments/student_readme.md"""


def template_leaks(course_root: Path, template: Path) -> list[str]:
    """What the leak detector finds in `template` (lines listed as `[template] given` allowed)."""
    settings = tomllib.loads((course_root / "assignments" / "course.toml").read_text())
    given = settings.get("template", {}).get("given", [])
    try:
        solutions = reference_solutions(course_root / "reference", given)
    except MarkerError as exc:
        raise CourseError(str(exc)) from None
    return find_leaks(template, solutions)


def generate_template(course_root: Path, dest: Path) -> list[Path]:
    """Write every file of the template into the empty folder `dest` (no leak check); paths relative to it."""
    course = Course.load(course_root, visible_only=True)
    assignments, expected = course.assignments, course.expected
    settings = tomllib.loads((course_root / "assignments" / "course.toml").read_text())
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)

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
            for figure in sorted((a.folder / "figures").iterdir()):
                if figure.is_file():
                    (dest / "handouts" / "figures").mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(figure, dest / "handouts" / "figures" / figure.name)
                    written.append(dest / "handouts" / "figures" / figure.name)
        for module in a.modules:
            stub = _stub(course_root, module)
            write(dest / f"{module}.py", stub)
            notebook = handout_notebook(a.title, handout.replace("](figures/", "](handouts/figures/"), stub, a.name)
            write(dest / f"{module}.ipynb", notebook_text(notebook))
    wheel = None
    if not settings.get("grader_package"):
        wheel = build_wheel(Path(grader.__file__).parent, dest / WHEEL_FOLDER)
        written.append(wheel)
    wheel_file = wheel.name if wheel else ""
    listing = "\n".join(f"- `{a.name}`: {a.title} (`{'`, `'.join(m + '.py' for m in a.modules)}`; "
                        f"handout: [handouts/{a.name}.md](handouts/{a.name}.md))" for a in assignments)
    readme_file = course_root / "assignments" / "student_readme.md"
    readme = readme_file.read_text() if readme_file.exists() else _DEFAULT_README
    write(dest / "README.md", readme.replace("{assignments}", listing).replace(
        "{install}", install_command(settings, wheel_file, NOTEBOOK_EXTRA)))
    workflow_file = course_root / "assignments" / "classroom.yml"
    if workflow_file.exists():  # a course without it gets no GitHub Classroom workflow
        write(dest / ".github" / "workflows" / "classroom.yml",
              workflow_file.read_text().replace("{install}", install_command(settings, wheel_file)))
    return [p.relative_to(dest) for p in written]


def _stub(course_root: Path, module: str) -> str:
    path = course_root / "reference" / f"{module}.py"
    try:
        return make_stub(path.read_text(), f"reference/{module}.py")
    except MarkerError as exc:
        raise CourseError(str(exc)) from None

