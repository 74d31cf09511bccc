"""The call clock reads the worker's own time from /proc: computing and sleeping count, and the
worker is the deepest process under the one the runner started (bubblewrap's child's child)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.isolation import proctime

SLEEPER = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"
SPINNER = "import time\nprint('ready', flush=True)\nwhile True:\n    pass\n"


def _started(code: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def _after(clock: proctime.CallClock, seconds: float) -> None:
    while clock.wall() < seconds:
        time.sleep(0.01)


def test_a_sleeping_worker_uses_its_time_but_no_cpu():
    proc = _started(SLEEPER)
    try:
        stats = proctime.Schedstat(proc.pid)
        clock = proctime.CallClock(stats)
        _after(clock, 0.3)
        used, cpu = clock.used(), clock.cpu()
        stats.close()
    finally:
        proc.kill()
        proc.wait()
    assert used >= 0.3  # sleeping is never waiting for a CPU: all of the wall time counts
    assert cpu < used / 2


TICKS = 0.01
"""seconds: two scheduler ticks at HZ=250, the granularity of /proc/<pid>/schedstat's counters
for a task that is running on another CPU"""


def test_a_computing_worker_uses_cpu_time():
    proc = _started(SPINNER)
    try:
        stats = proctime.Schedstat(proc.pid)
        clock = proctime.CallClock(stats)
        _after(clock, 0.3)
        # CPU first: the clock read later includes the CPU time read before (the spinner keeps
        # computing in between, so the other order can fail on a busy machine)
        cpu = clock.cpu()
        used = clock.used()
        stats.close()
    finally:
        proc.kill()
        proc.wait()
    # Its own time is at least the time it computed, within the kernel's accounting: a running
    # task's counters in /proc are brought up to date at scheduler ticks (a few ms apart), and
    # a 1% margin (3 ms) was once missed by 0.3 ms on a busy machine.
    assert cpu > 0 and used >= cpu - TICKS


def test_without_proc_the_clock_is_the_wall_clock():
    clock = proctime.CallClock(proctime.Schedstat(-1))
    _after(clock, 0.05)
    assert clock.used() >= 0.05 and clock.cpu() >= 0.05


def test_the_worker_is_the_deepest_process_under_the_launched_one(tmp_path: Path):
    marker = tmp_path / "pid"
    inner = f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    launcher = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {inner!r}])"
    outer = subprocess.Popen([sys.executable, "-c", launcher])
    inner_pid = None
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()):
            assert time.monotonic() < deadline, "the inner process did not start"
            time.sleep(0.01)
        inner_pid = int(marker.read_text())
        assert proctime.worker_pid(outer.pid) == inner_pid
        assert proctime.worker_pid(inner_pid) == inner_pid
    finally:
        if inner_pid is not None:
            os.kill(inner_pid, signal.SIGKILL)
        outer.kill()
        outer.wait()


def test_descendants_finds_children_of_every_thread_and_their_children_with_depths() -> None:
    import threading

    from grader.isolation.proctime import _descendants_by_scan, descendants

    sleeper = [sys.executable, "-c", "import subprocess, sys, time; "
               "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
               "print(p.pid, flush=True); time.sleep(60)"]
    started: list[subprocess.Popen] = []
    # One child started by the main thread, one by another thread: each has a grandchild.
    def start() -> None:
        started.append(subprocess.Popen(sleeper, stdout=subprocess.PIPE, text=True))

    start()
    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    grandchildren: list[int] = []
    try:
        grandchildren += [int(p.stdout.readline()) for p in started]
        me = os.getpid()
        expected = {(me, 0)} | {(p.pid, 1) for p in started} | {(g, 2) for g in grandchildren}
        found = set(descendants(me))
        assert expected <= found
        assert found == set(_descendants_by_scan(me))
    finally:
        for p in started:
            p.kill()
            p.wait()
        for g in grandchildren:
            try:
                os.kill(g, 9)
            except ProcessLookupError:
                pass
