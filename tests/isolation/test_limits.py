"""Time limits count the time a call used, whatever else the machine is doing.

The load here is made by the tests themselves: busy-loop processes pinned, together with the
worker, to one CPU, so the worker gets at most a fraction of it (the kernel shares a CPU fairly
between the tasks that want it). They are stopped at the end of each test.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from conftest import available_tiers, unsandboxed
from grader.isolation import proctime, sandbox
from grader.isolation.runner import Limits, StudentProcess
from grader.model import Call, StudentError

BURN = """
import time


def burn(seconds):
    '''Compute for `seconds` of this process's own CPU time, however long that takes.'''
    start = time.process_time()
    n = 0
    while time.process_time() - start < seconds:
        n += 1
    return n > 0


def nap(seconds):
    time.sleep(seconds)
    return True
"""


def _limits(tier: str, call_timeout: float) -> Limits:
    return Limits(call_timeout=call_timeout, sandbox=tier, unsafe_run_as_root=sandbox.resolve(tier).as_root)




@contextlib.contextmanager
def busy_cpu(loops: int) -> Iterator[None]:
    """Pin this process to one CPU and run `loops` busy loops there; whatever this process
    starts meanwhile (a worker) shares that CPU with them. Everything is undone after."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # Each in its own session, like the worker: where the kernel groups tasks by session
        # (autogroup), every loop then weighs as much as the worker.
        procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
                 for _ in range(loops)]
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        os.sched_setaffinity(0, before)


@pytest.mark.parametrize("tier", available_tiers())
def test_a_call_keeps_its_limit_on_a_cpu_shared_with_four_busy_loops(tier):
    with busy_cpu(4), StudentProcess({"m.py": BURN.encode()}, _limits(tier, 1.0)) as p:
        p.call(Call("m", "nap", (0.0,)))  # the worker is started, on the busy CPU
        started = time.monotonic()
        assert p.call(Call("m", "burn", (0.3,))) is True
        waited = time.monotonic() - started
    # The setup was real: 0.3 s of computing took longer than the 1 s limit on the wall clock
    # (one fifth of a CPU at most), and the call was not stopped for it.
    assert waited > 1.0


@pytest.mark.parametrize("tier", available_tiers())
def test_computing_past_the_limit_is_stopped_on_a_busy_cpu_too(tier):
    with busy_cpu(2), StudentProcess({"m.py": BURN.encode()}, _limits(tier, 0.5)) as p:
        with pytest.raises(StudentError) as err:
            p.call(Call("m", "burn", (30.0,)))
    assert err.value.kind == "timeout"
    assert "did not return within 0.5 seconds of its own time" in err.value.message


def test_sleeping_counts_against_the_limit():
    # The wall-clock ceiling for a 0.5 s limit is 35 s: were sleep not counted, this call would
    # return after 30 s instead of timing out.
    assert proctime.wall_ceiling(0.5) > 30
    with StudentProcess({"m.py": BURN.encode()}, unsandboxed(call_timeout=0.5)) as p:
        with pytest.raises(StudentError) as err:
            p.call(Call("m", "nap", (30.0,)))
    assert err.value.kind == "timeout"
    assert "of its own time" in err.value.message


def test_the_submission_budget_counts_the_calls_own_time():
    limits = unsandboxed(call_timeout=5.0, submission_timeout=1.0)
    with busy_cpu(3), StudentProcess({"m.py": BURN.encode()}, limits) as p:
        # 0.4 + 0.4 s of computing fits the 1 s budget however slow the CPU share makes it...
        assert p.call(Call("m", "burn", (0.4,))) is True
        assert p.call(Call("m", "burn", (0.4,))) is True
        # ...and the third call gets only what is left of it.
        with pytest.raises(StudentError) as err:
            p.call(Call("m", "burn", (0.4,)))
    assert err.value.kind == "timeout"


def test_the_wall_clock_ceiling_is_generous_and_defined_once():
    assert proctime.wall_ceiling(2.0) == 2.0 * proctime.WALL_FACTOR + proctime.WALL_SLACK
    assert proctime.wall_ceiling(2.0) >= 10 * 2.0
