"""Student code never runs as root by accident: without a sandbox, a grader running as root
drops every worker to an unprivileged uid that can run Python, or refuses in one line, unless
the instructor passes `--unsafe-run-as-root`."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import grader
from grader.isolation import sandbox

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT = str(Path(grader.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": CHECKOUT}

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only a grader running as root can drop to another uid")


def _private_ancestor(path: str) -> str | None:
    """The highest folder above `path` that other users cannot enter (a 0700 home)."""
    for parent in reversed(Path(os.path.realpath(path)).parents):
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return str(parent)
    return None


PRIVATE = _private_ancestor(sys.executable)


def _class(tmp_path: Path) -> Path:
    sub = tmp_path / "class" / "alice"
    sub.mkdir(parents=True)
    shutil.copy(ROOT / "reference" / "forward.py", sub / "forward.py")
    return tmp_path / "class"


@as_root
@pytest.mark.skipif(PRIVATE is None, reason="this Python is reachable by other uids: nothing to refuse")
def test_as_root_without_a_uid_that_can_run_python_grading_unsandboxed_is_refused_in_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "grader", str(_class(tmp_path)), "--sandbox", "none", "-o", str(tmp_path / "out")],
        env=ENV, capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(
        "grade: error: student code would run as root: no unprivileged uid can run this Python (")
    assert "apt-get install bubblewrap" in lines[0] and "--unsafe-run-as-root" in lines[0]
    assert not (tmp_path / "out" / "students" / "alice").exists()


@as_root
@pytest.mark.skipif(PRIVATE is None, reason="this Python is reachable by other uids: workers never run as root")
def test_unsafe_run_as_root_is_explicit_and_the_instructor_is_told_everywhere(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "grader", str(_class(tmp_path)), "--sandbox", "none", "--unsafe-run-as-root",
         "-q", "-a", "forward", "-o", str(tmp_path / "out")],
        env=ENV, capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "It ran as root (--unsafe-run-as-root)" in proc.stderr
    # The instructor reads the detail on the terminal and in the class summary; the student one
    # plain sentence that the run was not sandboxed (their report names no path and no root).
    assert "It ran as root (--unsafe-run-as-root)" in (tmp_path / "out" / "summary.md").read_text()
    feedback = (tmp_path / "out" / "students" / "alice" / "feedback.md").read_text()
    assert "NOT SANDBOXED" in feedback and "root" not in feedback.split("## ")[0]


WHO = """
import os

def f(secret):
    try:
        open(secret).read()
        read = 'read it'
    except PermissionError:
        read = 'PermissionError'
    return [os.getuid(), os.geteuid(), os.getgid(), read]
"""

DRIVER = """
import json, sys
from grader.isolation.runner import Limits, StudentProcess
from grader.model import Call

with StudentProcess({"m.py": sys.argv[1].encode()}, Limits(sandbox="none", runtime_guard=False)) as p:
    print(json.dumps(p.call(Call("m", "f", (sys.argv[2],)))))
"""


@as_root
def test_as_root_workers_run_under_their_own_uid_when_one_can_run_python(tmp_path):
    # The OS layer alone (guard off): the worker is not root, so a root-only file stays closed.
    secret = tmp_path / "private" / "secret.txt"
    secret.parent.mkdir(mode=0o700)
    secret.write_text("instructor only")
    secret.chmod(0o600)
    argv = [sys.executable, "-c", DRIVER, WHO, str(secret)]
    if PRIVATE is not None:
        # Python lives in a private home here: show the worker a copy of the machine where the
        # home's own permissions let other users through to Python (nothing else of it).
        if shutil.which("bwrap") is None:
            pytest.skip("needs bwrap to present a Python that other uids can reach")
        base = os.path.realpath(sys.base_prefix)
        between = [str(p) for p in reversed(Path(base).parents) if str(p).startswith(PRIVATE + "/")]
        argv = ["bwrap", "--dev-bind", "/", "/", "--perms", "0755", "--tmpfs", PRIVATE,
                *(a for p in between for a in ("--perms", "0755", "--dir", p)), "--bind", base, base, "--", *argv]
    proc = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    uid, euid, gid, read = json.loads(proc.stdout.strip().splitlines()[-1])
    assert uid == euid == gid and sandbox.UID_BASE <= uid < sandbox.UID_BASE + sandbox.UID_SLOTS
    assert read == "PermissionError"


@as_root
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_as_root_tier_1_workers_never_run_as_root():
    try:
        sandbox.resolve("bwrap")
    except sandbox.SandboxError as exc:
        pytest.skip(str(exc))
    from grader.isolation.runner import Limits, StudentProcess
    from grader.model import Call

    with StudentProcess({"m.py": WHO.encode()}, Limits(sandbox="bwrap", runtime_guard=False)) as p:
        uid, euid, gid, read = p.call(Call("m", "f", ("/proc/1/environ",)))
    assert uid == euid == gid and sandbox.UID_BASE <= uid < sandbox.UID_BASE + sandbox.UID_SLOTS
    assert read == "PermissionError"  # the sandbox's own init (bwrap), root's process
