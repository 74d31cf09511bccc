"""The sandbox works wherever the grader and Python are installed, /tmp included (a virtual
environment in CI), and when a worker cannot start in it, the fallback says why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import grader
from grader.isolation import sandbox

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT = Path(grader.__file__).resolve().parents[1]


def _bwrap_works() -> bool:
    try:
        sandbox.resolve("bwrap")
        return True
    except sandbox.SandboxError:
        return False


needs_bwrap = pytest.mark.skipif(not _bwrap_works(), reason="bubblewrap cannot run here at all")


@pytest.fixture
def under_tmp():
    """A fresh folder under /tmp itself (the sandbox's own /tmp used to hide it)."""
    folder = Path(tempfile.mkdtemp(prefix="nn-grader-install-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _grade_one(python: Path, grader_parent: Path, work: Path, mode: str, *more: str) -> subprocess.CompletedProcess:
    sub = work / "class" / "alice"
    sub.mkdir(parents=True)
    shutil.copy(ROOT / "reference" / "forward.py", sub / "forward.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONPATH=str(grader_parent), GRADER_COURSE=str(ROOT))
    return subprocess.run(
        [str(python), "-m", "grader", str(work / "class"), "-o", str(work / "out"), "-a", "forward", "-q",
         "--sandbox", mode, *more], env=env, cwd=work, capture_output=True, text=True, timeout=600,
    )


def _full_marks(work: Path) -> bool:
    data = json.loads((work / "out" / "students" / "alice" / "results.json").read_text())
    return data["score"] == sum(t["max_score"] for t in data["tests"]) > 0


@needs_bwrap
def test_grading_from_a_virtual_environment_under_tmp_is_sandboxed(under_tmp):
    venv = under_tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=300)
    done = _grade_one(venv / "bin" / "python", CHECKOUT, under_tmp / "work", "auto")
    assert done.returncode == 0, done.stderr
    assert "NOT SANDBOXED" not in done.stderr, done.stderr  # auto chose bwrap: it works from here
    assert _full_marks(under_tmp / "work")


@needs_bwrap
def test_python_in_one_folder_under_tmp_and_the_grader_in_another(under_tmp):
    # A copied interpreter in /tmp/.../python (its standard library still the base one), and a
    # copy of the grader package in /tmp/.../grader-copy: neither is hidden by the sandbox.
    venv = under_tmp / "python"
    subprocess.run([sys.executable, "-m", "venv", "--copies", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=300)
    assert not (venv / "bin" / "python").is_symlink()
    shutil.copytree(CHECKOUT / "grader", under_tmp / "grader-copy" / "grader")
    done = _grade_one(venv / "bin" / "python", under_tmp / "grader-copy", under_tmp / "work", "bwrap")
    assert done.returncode == 0, done.stderr
    assert _full_marks(under_tmp / "work")


@needs_bwrap
def test_a_worker_that_cannot_start_in_bwrap_is_told_apart_from_bwrap_not_working(monkeypatch):
    # The Python installation left out of the sandbox: bwrap works, the worker cannot start.
    monkeypatch.setattr(sandbox, "_python_roots", lambda: ())
    problem = sandbox._probe_bwrap()
    assert problem is not None
    assert problem.startswith("bwrap works here, but a worker cannot start inside it (")
    assert "No such file or directory" in problem
    assert f"Python is at {sys.executable}, mounted from nowhere" in problem


def test_grading_from_a_virtual_environment_under_tmp_without_the_sandbox(under_tmp):
    venv = under_tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=300)
    # As root here, the venv's folder (0700, from mkdtemp) and this machine's Python may be out of
    # other uids' reach: then only the explicit flag lets it run (test_root.py covers the refusal).
    more = ["--unsafe-run-as-root"] if os.geteuid() == 0 else []
    done = _grade_one(venv / "bin" / "python", CHECKOUT, under_tmp / "work", "none", *more)
    assert done.returncode == 0, done.stderr
    assert "NOT SANDBOXED: --sandbox none was chosen" in done.stderr
    assert _full_marks(under_tmp / "work")
