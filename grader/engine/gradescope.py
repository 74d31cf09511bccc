"""`grade export gradescope`: the course as a Gradescope autograder zip.

Gradescope unzips the autograder into `/autograder/source`, runs `setup.sh` once when it builds
the image, and then, in a fresh container per submission, runs `run_autograder`, which must
grade the files in `/autograder/submission` and write `/autograder/results/results.json`.

The zip holds, at its root:

- `setup.sh`: finds (or installs) Python >= 3.11, makes a venv in `/autograder/venv` and
  installs the grader and its dependencies into it;
- `run_autograder`: `grade export gradescope-run` on the submission, with the course below;
- `nn_grader/`: the grader's source (`pyproject.toml`, `grader/`), as installed here;
- `course/`: the assignments (settings, visible and hidden checks, mistake catalogs) and the
  reference solutions, which never leave the container;
- `settings.json`: the assignments graded and the per-call time limit.

Both scripts honour `AUTOGRADER_ROOT` (default `/autograder`), and `run_autograder` also
`AUTOGRADER_PYTHON` (default the venv's python), so that the tests can run it in a folder that
imitates the container.
"""

from __future__ import annotations

import json
import stat
import zipfile
from importlib import metadata
from pathlib import Path

import grader
from grader.course.cache import expected_of
from grader.course.loading import Course, CourseError, load_assignments
from grader.engine.batch import expected_soon
from grader.engine.grading import grade_submission
from grader.inputs.collect import collect_one
from grader.inputs.discover import read_submission
from grader.isolation import sandbox, slots
from grader.model import Limits, SubmissionResult
from grader.reports.feedback import write_gradescope_json
from grader.reports.output import make_dir
from grader.sources import PACKAGE, source_files

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (nn-grader export).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"

PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \\
        && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PYTHON="$candidate"
        break
    fi
done
if [ -z "$PYTHON" ]; then  # older Ubuntu images: Python 3.11 from the archive, else deadsnakes
    apt-get update
    if ! apt-get install -y python3.11 python3.11-venv; then
        apt-get install -y software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        apt-get install -y python3.11 python3.11-venv
    fi
    PYTHON=python3.11
fi
# The worker sandbox uses bubblewrap where the kernel allows it (the grader says when it cannot).
apt-get install -y bubblewrap >/dev/null 2>&1 || true

if ! "$PYTHON" -m venv "$ROOT/venv"; then
    apt-get install -y "$(basename "$PYTHON")-venv" || apt-get install -y python3-venv
    "$PYTHON" -m venv "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --upgrade pip
"$ROOT/venv/bin/python" -m pip install "$SOURCE/nn_grader"
"$ROOT/venv/bin/python" -c "import grader, numpy; print('nn-grader', grader.__version__, 'ready')"
# The expected values of every check, computed once into the image (grader/course/cache.py).
GRADER_COURSE_CACHE="$ROOT/cache" "$ROOT/venv/bin/python" -m grader.course.cache \\
    "$SOURCE/course" "$SOURCE/settings.json"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, in a fresh container (nn-grader export):
# grade $ROOT/submission into $ROOT/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
export GRADER_COURSE="$ROOT/source/course"
export GRADER_COURSE_CACHE="$ROOT/cache"  # filled by setup.sh, private to this user (grader/course/cache.py)
export PYTHONPATH="$ROOT/source/nn_grader${PYTHONPATH:+:$PYTHONPATH}"
# The reference and the hidden checks: readable by the grader only, not by a worker that runs
# under its own uid (the sandbox's tier where bwrap is not available).
chmod -R go-rwx "$ROOT/source/course" 2>/dev/null || true
mkdir -p "$ROOT/results"
exec "$PYTHON" -m grader export gradescope-run \\
    --submission "$ROOT/submission" \\
    --results "$ROOT/results/results.json" \\
    --metadata "$ROOT/submission_metadata.json" \\
    --settings "$ROOT/source/settings.json"
"""

_EPOCH = (1980, 1, 1, 0, 0, 0)  # a fixed time stamp: the same course gives the same zip


def _project_files() -> dict[str, bytes]:
    """The grader's source as an installable project: `pyproject.toml`, `README.md`, `grader/`."""
    package = PACKAGE
    files = {name: path.read_bytes() for name, path in source_files().items()}
    project = package.parent / "pyproject.toml"
    if project.exists():
        files["pyproject.toml"] = project.read_bytes()
        readme = package.parent / "README.md"
        files["README.md"] = readme.read_bytes() if readme.exists() else b"# nn-grader\n"
    else:  # installed from a wheel: describe the project from its metadata
        requires = metadata.requires("nn-grader") or []
        deps = ",\n".join(f'    "{r}"' for r in requires if "extra ==" not in r)
        files["pyproject.toml"] = (
            '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "nn-grader"\nversion = "{grader.__version__}"\nrequires-python = ">=3.11"\n'
            f"dependencies = [\n{deps}\n]\n\n[tool.setuptools]\npackages = [\"grader\"]\n"
        ).encode()
    return files


def autograder_files(
    course_root: Path, names: list[str] | None = None, timeout: float = Limits.call_timeout
) -> dict[str, bytes]:
    """Every file of the autograder zip, by path inside the zip."""
    course_root = Path(course_root)
    assignments = load_assignments(course_root / "assignments", names)
    if not (course_root / "reference").is_dir():
        raise CourseError(f"{course_root} has no reference/ folder: the autograder needs the reference")
    files = {"setup.sh": SETUP_SH.encode(), "run_autograder": RUN_AUTOGRADER.encode()}
    settings = {"assignments": [a.name for a in assignments], "timeout": timeout}
    files["settings.json"] = (json.dumps(settings, indent=2) + "\n").encode()
    files.update({f"nn_grader/{k}": v for k, v in _project_files().items()})
    files["course/assignments/course.toml"] = (course_root / "assignments" / "course.toml").read_bytes()
    for a in assignments:
        assert a.folder is not None
        for path in sorted(a.folder.iterdir()):
            if path.is_file() and path.suffix in (".py", ".toml"):
                files[f"course/assignments/{a.name}/{path.name}"] = path.read_bytes()
    for path in sorted((course_root / "reference").glob("*.py")):
        files[f"course/reference/{path.name}"] = path.read_bytes()
    return files


def build_gradescope_zip(course_root: Path, out: Path, names: list[str] | None = None,
                         timeout: float = Limits.call_timeout) -> list[str]:
    """Write the autograder zip to `out`; returns the paths inside it."""
    files = autograder_files(course_root, names, timeout)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, _EPOCH)
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name])
    return sorted(files)


def _submitter_name(metadata_file: Path | None) -> tuple[str, str]:
    """The submitters' names and the submission id from Gradescope's `submission_metadata.json`.

    `("submission", "")` when the file is missing or unreadable.
    """
    try:
        meta = json.loads(Path(metadata_file).read_text()) if metadata_file else {}
        users = meta["users"] if meta else []
        names = [str(u.get("name") or u.get("email") or "") for u in users if isinstance(u, dict)]
        ident = str(meta.get("id") or "") if isinstance(meta, dict) else ""
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        names, ident = [], ""
    return "+".join(n for n in names if n) or "submission", ident


def run_gradescope(submission: Path, results: Path, course_root: Path, names: list[str] | None = None,
                   timeout: float = Limits.call_timeout, metadata_file: Path | None = None) -> SubmissionResult:
    """Grade the one submission in `submission` and write Gradescope's `results.json`."""
    from grader.course.template import stub_hashes

    limits = Limits(call_timeout=timeout)
    sandbox.resolve_soon(limits.sandbox)  # the probe runs while the course loads
    # and so do the worker's template (for the isolation the probe will most likely find) and,
    # once the course is loaded, the read of the course cache (`grade run` does the same)
    with slots.ahead(sandbox.likely(limits.sandbox), limits):
        course = Course.load(Path(course_root), names)
        ready = expected_soon(course)
        assignments = course.assignments
        modules = set(course.modules)
        stubs = stub_hashes(Path(course_root), sorted(modules))
        name, ident = _submitter_name(metadata_file)
        try:
            isolation = sandbox.resolve(limits.sandbox)
        except sandbox.SandboxError:
            isolation = None  # the worker reports it as the judge's error
        # The worker's template starts (if the one above is not right) while the submission
        # and the expected values are read.
        with slots.ahead(isolation, limits):
            sub = collect_one(Path(submission), modules, name,
                              lambda folder, n: read_submission(folder, n, stubs), ident)
            expected = ready.result() or expected_of(course)
            result = grade_submission(sub, assignments, expected, limits)
    write_gradescope_json(result, make_dir(Path(results).parent) / Path(results).name)
    return result
