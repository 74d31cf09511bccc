"""How long a worker's call has run, counted so that other work on the machine does not count.

A call's time limit measures the time the call itself used: the time its worker process ran on
a CPU or chose to wait (sleeping, blocked on input), but not the time it stood ready in the
kernel's run queue while other processes held every CPU. Linux counts that wait for every task
(`/proc/<pid>/schedstat`, its second field), so

    used = wall-clock time - time waiting in a run queue        (of the worker's main thread)

A busy loop, a sleep and a blocked read all count in full, and a machine busy with other work
does not make a call slower by this clock. The trusted side looks every `SLICE`; a reply that
arrives between two looks still times out if the call computed (field 1, CPU time) for longer
than its limit. Where `/proc` cannot be read, the wall clock is used. (Threads and child
processes of the worker are not counted beyond the main thread's own time: the guard refuses
them, and `RLIMIT_CPU` bounds the worker's CPU time as a whole.)

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


class Schedstat:
    """`/proc/<pid>/schedstat` of one worker, open for the worker's life (one read per look)."""

    def __init__(self, pid: int) -> None:
        try:
            self._fd: int | None = os.open(f"/proc/{pid}/schedstat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._fd = None

    def read(self) -> tuple[float, float] | None:
        """`(cpu, queue)`: seconds the worker's main thread has run on a CPU, and waited, ready
        to run, for a CPU held by other work."""
        if self._fd is None:
            return None
        try:
            fields = os.pread(self._fd, 128, 0).split()
            return int(fields[0]) / 1e9, int(fields[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")
"""whether the kernel lists a task's children in `/proc/<pid>/task/<tid>/children`"""


def _children(pid: int) -> list[int]:
    """The children of `pid`, from `/proc/<pid>/task/*/children`: a few reads instead of one per
    process on the machine. A process or thread that is gone has none."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                found += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return found


def descendants(pid: int) -> list[tuple[int, int]]:
    """`(pid, depth)` of every process under `pid` (read from `/proc`), `pid` itself at depth 0."""
    if not _CHILDREN_FILES:
        return _descendants_by_scan(pid)
    found, todo = [], [(pid, 0)]
    while todo:
        p, depth = todo.pop()
        found.append((p, depth))
        todo += [(c, depth + 1) for c in _children(p) if c != p]
    return found


def _descendants_by_scan(pid: int) -> list[tuple[int, int]]:
    """`descendants` from every process's `/proc/<pid>/stat`."""
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
    """The clock of one call in a worker, started when the call is made."""

    stats: Schedstat
    started: float = field(default_factory=time.monotonic)
    _start: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        self._start = self.stats.read()

    def wall(self) -> float:
        """Wall-clock seconds since the call was made."""
        return time.monotonic() - self.started

    def used(self) -> float:
        """Seconds the call has used: wall time minus the time it waited for a CPU."""
        wall = self.wall()
        now = self.stats.read()
        if now is None or self._start is None:
            return wall
        return wall - (now[1] - self._start[1])

    def cpu(self) -> float:
        """CPU seconds the call's worker has run since the call was made (the wall clock where
        `/proc` cannot be read)."""
        now = self.stats.read()
        if now is None or self._start is None:
            return self.wall()
        return now[0] - self._start[0]

    def spent(self) -> float:
        """`used()`, except that a call shorter than one `SLICE` counts its wall time (no need to
        read `/proc` again for the many calls that take a millisecond)."""
        wall = self.wall()
        return wall if wall < SLICE else self.used()
