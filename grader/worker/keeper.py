"""The keeper: in tier 2, what ties a worker and everything it started to the grader's life.

Tier 1 needs none: bwrap dies with the grader (`--die-with-parent`) and takes its PID namespace,
every process the student started included. Tier 2 has no namespace, so the worker's first act,
before any student code, is to split in two (`split`):

- the child goes on to be the worker. It gets SIGKILL when the keeper dies (`PR_SET_PDEATHSIG`,
  set after its uid changed, since a uid change clears it);
- the parent, the keeper, runs no student code. It is a child subreaper
  (`PR_SET_CHILD_SUBREAPER`), so whatever the worker starts, double-forked `setsid` daemons
  included, stays in its tree when its own parent exits. It waits until either the worker ends
  or the grader's process is gone (a pidfd, so the grader's threads coming and going do not
  count, and the grader need not be its parent: a worker template may be; it checks its parent
  pid where pidfds are missing). Then it kills every process left
  in its tree, and ends like the worker did (same exit status, or the same signal), so the
  grader reads the worker's end as before.

When the grader runs as root with separate uids, the keeper stays root and the worker drops
to its uid: student code cannot signal the keeper. Otherwise they share a uid, and code that
got past the guard could kill the keeper first; the grader's own clean-up (`sandbox.reap`)
still finds leftovers by their token while it runs. See SECURITY.md.
"""

from __future__ import annotations

import os
import resource
import select
import signal
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def split(grader: int, channel: tuple[int, ...], also: int = 0) -> int:
    """Fork into keeper and worker. Returns the keeper's pid in the worker; the keeper never returns.

    `grader` is the grader's pid; `channel` are the worker's pipe ends, which the keeper closes
    so that the grader sees the worker's end at once. `also`, if not 0: another process whose
    end ends the worker's tree too (the worker template that forked it, `grader.worker.forkserver`).
    """
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    keeper = os.getpid()
    child = os.fork()
    if child == 0:
        return keeper
    for fd in channel:
        os.close(fd)
    try:
        _keep(child, grader, also)
    finally:
        os._exit(70)  # only reached if the keeper itself failed: the worker is gone by then


def die_with_keeper(keeper: int) -> None:
    """In the worker, after any uid change: SIGKILL when the keeper (its parent) dies."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != keeper:  # it died before the line above
        os._exit(70)


def _keep(child: int, grader: int, also: int = 0) -> None:
    try:
        watched = [os.pidfd_open(child), os.pidfd_open(grader)] + ([os.pidfd_open(also)] if also else [])
    except (AttributeError, OSError):
        watched = []  # no pidfds (Linux < 5.3): poll the parent pid instead
    status = None
    while status is None:
        if watched:
            if set(watched[1:]) & set(select.select(watched, [], [], 5.0)[0]):
                break  # the grader (or the template) is gone
        elif os.getppid() != grader:
            break  # the grader is gone (without a pidfd, the grader must be the parent)
        else:
            time.sleep(0.05)
        pid, code = os.waitpid(child, os.WNOHANG)
        if pid:
            status = code
    _kill_tree()
    _end_like(status)


def _children() -> list[int]:
    me, found = os.getpid(), []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it.
            if int(stat[stat.rindex(b")") + 2:].split()[1]) == me:
                found.append(int(entry.name))
    return found


def _kill_tree() -> None:
    """SIGKILL every process in this subreaper's tree, until none is left.

    Each killed process's children become ours before its own end can be reaped, so when
    `waitpid` finds no child at all, nothing of the tree is left.
    """
    while True:
        for pid in _children():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        time.sleep(0.005)


def _end_like(status: int | None) -> None:
    if status is None:
        os._exit(70)
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        os._exit(code)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        signal.signal(-code, signal.SIG_DFL)
    except (OSError, ValueError):
        pass  # SIGKILL, SIGSTOP: their action is fixed anyway
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [-code])
    os.kill(os.getpid(), -code)
    os._exit(128 - code)
