"""Workers die with the grader: after `kill -9` of the grading process, nothing that ran
student code is left, in either tier, whatever the student's code started (a child, a
double-forked `setsid` daemon that exec'd another program)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import grader
from conftest import available_tiers
from grader.isolation import sandbox

ROOT = Path(__file__).resolve().parents[2]
REF = (ROOT / "reference" / "forward.py").read_text()
CHECKOUT = str(Path(grader.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": CHECKOUT}




def _processes(grader_pid: int, mark: bytes) -> list[int]:
    """Processes whose environment carries the token of `grader_pid`'s workers (every worker
    and all it starts inherit it), or whose command line holds `mark`."""
    token = f"GRADER_WORKER={grader_pid}-".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == grader_pid:
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry.name}/environ").read_bytes()
        except OSError:
            continue
        if token in environ or mark in cmdline:
            found.append(int(entry.name))
    return found


def _poll(condition, what: str, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _kill_and_check(proc: subprocess.Popen, mark: bytes, started) -> None:
    try:
        _poll(lambda: started(_processes(proc.pid, mark)), "the worker to start")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 60
        left = _processes(proc.pid, mark)
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = _processes(proc.pid, mark)
        assert left == [], f"still running after the grader was killed: {[_describe(p) for p in left]}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _processes(proc.pid, mark):  # leave the machine clean, whatever happened
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _describe(pid: int) -> str:
    try:
        return f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()[:120]!r}"
    except OSError:
        return f"{pid}: gone"


def _root_flag(tier: str) -> list[str]:
    return ["--unsafe-run-as-root"] if sandbox.resolve(tier).as_root else []


@pytest.mark.parametrize("tier", available_tiers())
def test_kill_9_of_grade_leaves_no_worker_running(tier, tmp_path):
    sub = tmp_path / "class" / "slow"
    sub.mkdir(parents=True)
    slow = REF.replace("def relu(z):\n", "def relu(z):\n    import time\n    time.sleep(3600)\n", 1)
    assert slow != REF
    (sub / "forward.py").write_text(slow)
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", str(tmp_path / "class"), "-o", str(tmp_path / "out"), "-a", "forward",
         "-q", "-j", "1", "--timeout", "3000", "--sandbox", tier, *_root_flag(tier)],
        env=ENV, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    _kill_and_check(proc, b"\0never-in-a-command-line\0", lambda found: found)


FORKS = """
import os, time

def f():
    if os.fork() == 0:  # a child that waits
        time.sleep(3600)
        os._exit(0)
    if os.fork() == 0:  # a daemon in its own session, another program
        os.setsid()
        if os.fork() == 0:
            os.execv('/bin/sleep', ['sleep', 'MARK'])
        os._exit(0)
    time.sleep(3600)
"""

DRIVER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from grader.isolation.runner import Limits, StudentProcess
from grader.model import Call

tier, source, as_root = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
limits = Limits(sandbox=tier, runtime_guard=False, call_timeout=3000, submission_timeout=3000,
                unsafe_run_as_root=as_root)

def grade():
    with StudentProcess({"m.py": source.encode()}, limits) as p:
        p.call(Call("m", "f"))

with ThreadPoolExecutor(1) as pool:  # a grading thread starts the worker, as in a batch
    pool.submit(grade).result()
"""


@pytest.mark.parametrize("tier", available_tiers())
def test_kill_9_of_the_grader_kills_what_the_student_started(tier):
    # The OS layer alone (the guard off, as if student code got past it): a fork and a daemon.
    mark = f"{86000 + secrets.randbelow(300)}.{secrets.randbelow(10**6):06d}"
    source = FORKS.replace("MARK", mark)
    as_root = "1" if sandbox.resolve(tier).as_root else "0"
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, tier, source, as_root], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def started(found: list[int]) -> bool:
        # The daemon runs `sleep MARK`, and the worker plus its waiting child are there too.
        return len(found) >= 3 and any(mark.encode() in _cmdline(p) for p in found)

    _kill_and_check(proc, mark.encode(), started)
