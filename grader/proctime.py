"""How long a worker's call has run, counted so that other work on the machine does not count.

A call's time limit measures the time the call itself used: the time its worker process ran on
a CPU or chose to wait (sleeping, blocked on input), but not the time it stood ready in the
kernel's run queue while other processes held every CPU. Read from Linux's `/proc`:

- `/proc/<pid>/stat`: CPU time of the worker (all its threads, and the children it reaped);
- `/proc/<pid>/schedstat`: the worker's main thread's time waiting in a run queue.

So `used = max(CPU time, wall time - run-queue wait)`: a busy loop, a sleep and a blocked read
all count in full, and a machine busy with other work does not make a call slower by this
clock. Where `/proc` cannot be read, `used` is the wall-clock time.

Against a call that the clock cannot see progress in, a wall-clock ceiling stops any call in
the end (`wall_ceiling`, the one place it is defined).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

WALL_FACTOR = 10.0
WALL_SLACK = 30.0
SLICE = 0.05
"""seconds between two looks at a running call's clock"""

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def wall_ceiling(limit: float) -> float:
    """Wall-clock seconds after which a call with a time limit of `limit` is stopped, whatever
    its clock says: 10 times the limit plus 30 s (generous: on a loaded machine a call that uses
    its whole limit still fits, while nothing waits for ever)."""
    return WALL_FACTOR * limit + WALL_SLACK


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].decode().split()
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time of process `pid`: user and system, its threads and reaped children included."""
    fields = _stat(pid)
    if fields is None:
        return None
    try:
        return sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICK  # utime stime cutime cstime
    except (ValueError, IndexError):
        return None


def run_queue_seconds(pid: int) -> float | None:
    """Seconds the main thread of `pid` waited, ready to run, for a CPU held by other work."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def descendants(pid: int) -> list[tuple[int, int]]:
    """`(pid, depth)` of every process under `pid` (read from `/proc`), `pid` itself at depth 0."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return [(pid, 0)]
    for entry in entries:
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [(pid, 0)]
    while todo:
        p, depth = todo.pop()
        found.append((p, depth))
        todo += [(c, depth + 1) for c in children.get(p, []) if c != p]
    return found


def worker_pid(launched: int) -> int:
    """The process that runs the worker's Python: the deepest under `launched` (which is the
    worker itself without a sandbox, and bubblewrap with one). Ask before student code runs."""
    return max(descendants(launched), key=lambda item: item[1])[0]


@dataclass
class CallClock:
    """The clock of one call in worker process `pid`, started when it is made."""

    pid: int
    started: float = field(default_factory=time.monotonic)
    _cpu0: float | None = None
    _queue0: float | None = None

    def __post_init__(self) -> None:
        self._cpu0 = cpu_seconds(self.pid)
        self._queue0 = run_queue_seconds(self.pid)

    def wall(self) -> float:
        """Wall-clock seconds since the call was made."""
        return time.monotonic() - self.started

    def used(self) -> float:
        """Seconds the call has used: CPU time, or wall time minus run-queue wait if more."""
        wall = self.wall()
        cpu, queue = cpu_seconds(self.pid), run_queue_seconds(self.pid)
        if cpu is None or queue is None or self._cpu0 is None or self._queue0 is None:
            return wall
        return max(cpu - self._cpu0, wall - (queue - self._queue0))

    def spent(self) -> float:
        """`used()`, except that a call shorter than one `SLICE` counts its wall time (no need to
        read `/proc` for the many calls that take a millisecond)."""
        wall = self.wall()
        return wall if wall < SLICE else self.used()
