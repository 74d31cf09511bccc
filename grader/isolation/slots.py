"""Worker templates on the trusted side: one per grading thread and tier, started on first use.

A template (`grader.worker.forkserver`) forks each submission's worker, so that a submission pays a
fork instead of an interpreter's start and `import numpy`. A grading thread grades one
submission at a time, so its template serves one child at a time; the template is tied to the
thread that started it (bwrap's `--die-with-parent`, or `PR_SET_PDEATHSIG` in tier 2) and ends
with it. A template that died (killed on Ctrl-C, say) is started again on next use; one that
cannot start at all is not tried again in this process, and workers start fresh instead. A
template left idle ends on its own (`grader.forkserver.IDLE_SECONDS`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from grader.isolation import proctime, sandbox
from grader.model import Limits
from grader.worker.forkserver import BOOTSTRAP, DATAGRAM

START_TIMEOUT = 60.0
"""seconds a template may take to start (the grader's time, once per slot)"""
ANSWER_TIMEOUT = 10.0
"""seconds a running template may take to answer a command, beyond what the command waits"""


class TemplateError(Exception):
    """The template did not answer as it should; it is discarded."""


@dataclass
class Child:
    """One submission's worker as forked by a template: the template's child (tier 1: the
    namespace's parent, tier 2: the keeper)."""

    slot: Slot
    pid: int
    """its pid in this process's PID namespace"""
    pidfd: int
    init_fd: int = -1
    """tier 1: a pidfd of PID 1 of the submission's namespace, once found (`find`)"""
    ended: int | None = None

    def find(self) -> int:
        """Once the worker reported ready (before any student code): the pid of the process
        that runs its Python, whose clock counts; in tier 1 also notes the namespace's init."""
        tree = proctime.descendants(self.pid)
        if self.slot.tier == "bwrap":
            init = [p for p, depth in tree if depth == 1]
            if len(init) == 1:
                try:
                    self.init_fd = os.pidfd_open(init[0])
                except OSError:
                    pass
        return max(tree, key=lambda item: item[1])[0]

    def kill(self) -> None:
        """SIGKILL: in tier 1 to the namespace's init (the kernel then kills everything in the
        namespace), in tier 2 to the keeper and its process group (`sandbox.reap` does the rest)."""
        for fd in (self.init_fd, self.pidfd):
            if fd >= 0:
                try:
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
                except (ProcessLookupError, OSError):
                    pass
        if self.slot.tier == "none" and self.ended is None:
            try:  # not reaped yet (the template waits for our `wait`): the group is still its
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def wait(self, timeout: float) -> int | None:
        """Its exit status (as `subprocess` gives it: tier 1 as bwrap reports it) once it has
        ended, or None if it has not within `timeout` seconds."""
        if self.ended is None:
            try:
                self.ended = self.slot.wait(timeout)
            except TemplateError:
                self.slot.close()
        return self.ended

    def close(self) -> None:
        for attr in ("init_fd", "pidfd"):
            fd = getattr(self, attr)
            if fd >= 0:
                setattr(self, attr, -1)
                os.close(fd)


class Slot:
    """One worker template, driven by one grading thread."""

    def __init__(self, iso: sandbox.Isolation, wait: bool = True) -> None:
        """Launch a template; with `wait`, also wait until it is ready (else `ready` does)."""
        self.iso = iso
        """the isolation it was launched for"""
        self.tier = iso.tier
        self.token = f"{os.getpid()}-{secrets.token_hex(12)}"
        """marks the environment of the template and its forks (`sandbox.reap`)"""
        self._waiting = True
        """launched, and its ready message not read yet"""
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        plan = sandbox.launch_template(iso, theirs.fileno(), self.token, BOOTSTRAP)
        try:
            self.proc = subprocess.Popen(
                plan.argv, cwd=plan.cwd, env=plan.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), start_new_session=True,
            )
        except BaseException:
            self.control.close()
            raise
        finally:
            theirs.close()
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait for the template's ready message (once); TemplateError (and the template closed)
        if it does not come."""
        if not self._waiting:
            return
        try:
            answer, _ = self._receive(START_TIMEOUT)
        except TemplateError:
            self.close()
            raise
        if answer.get("status") != "ready":
            self.close()
            raise TemplateError("no ready message")
        self._waiting = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None and self.control.fileno() >= 0

    def _receive(self, timeout: float) -> tuple[dict[str, Any], list[int]]:
        self.control.settimeout(timeout)
        try:
            data, fds, _, _ = socket.recv_fds(self.control, DATAGRAM, 4)
        except (OSError, TimeoutError) as exc:
            raise TemplateError(f"no answer ({exc})") from None
        if not data:
            raise TemplateError("the template ended")
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            for fd in fds:
                os.close(fd)
            raise TemplateError("an unreadable answer")
        return answer, fds

    def _command(self, command: dict[str, Any], fds: list[int], timeout: float) -> tuple[dict[str, Any], list[int]]:
        try:
            self.control.settimeout(ANSWER_TIMEOUT)
            socket.send_fds(self.control, [json.dumps(command).encode()], fds)
        except OSError as exc:
            raise TemplateError(f"cannot reach the template ({exc})") from None
        return self._receive(timeout + ANSWER_TIMEOUT)

    def start(self, fds: list[int], command: dict[str, Any]) -> Child:
        """Fork a worker over `fds` (request read end, response write end, report write end,
        stdout, stderr); `command` holds its config and, per tier, its folders."""
        # The CPUs this thread may use now, as a worker it started itself would inherit them.
        command = {**command, "cpus": sorted(os.sched_getaffinity(0))}
        answer, got = self._command({"op": "start", **command}, fds, 0.0)
        if len(got) != 1 or not isinstance(answer.get("pid"), int):
            for fd in got:
                os.close(fd)
            raise TemplateError("no child")
        # The pid as this process sees it (in tier 1 the template's is the sandbox's own).
        pid = answer["pid"]
        try:
            with open(f"/proc/self/fdinfo/{got[0]}") as f:
                pid = next(int(line.split()[1]) for line in f if line.startswith("Pid:"))
        except (OSError, StopIteration, ValueError):
            if self.tier == "bwrap":
                os.close(got[0])
                raise TemplateError("cannot tell the child's pid") from None
        return Child(self, pid, got[0])

    def wait(self, timeout: float) -> int | None:
        answer, got = self._command({"op": "wait", "timeout": timeout}, [], timeout)
        for fd in got:
            os.close(fd)
        status = answer.get("status")
        return status if isinstance(status, int) else None

    def close(self) -> None:
        """Stop the template (and with it any child still running in tier 1)."""
        if self.proc.poll() is None:  # not reaped yet: its group id is still its own
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.control.close()


_local = threading.local()
_failed: dict[str, str] = {}
"""tier -> why its template could not start in this process (then workers start fresh)"""


def slot(iso: sandbox.Isolation) -> Slot | None:
    """This thread's template for `iso`, started if needed; None where templates are not used
    or cannot start here."""
    if not sandbox.uses_template(iso) or iso.tier in _failed:
        return None
    slots: dict[str, Slot] = _local.__dict__.setdefault("slots", {})
    found = slots.get(iso.tier)
    if found is not None and found.alive():
        return found
    if found is not None:
        found.close()
    try:
        with _ahead_lock:
            adopted = _ahead.pop(iso.tier, None)
        if adopted is not None and adopted.alive():
            adopted.ready()
            slots[iso.tier] = adopted
        else:
            if adopted is not None:
                adopted.close()
            slots[iso.tier] = Slot(iso)
    except (OSError, TemplateError) as exc:
        _failed[iso.tier] = str(exc)
        slots.pop(iso.tier, None)
        return None
    return slots[iso.tier]


_ahead: dict[str, Slot] = {}
"""tier -> the template launched ahead (`ahead`), until a grading thread adopts it"""
_ahead_lock = threading.Lock()


@contextlib.contextmanager
def ahead(iso: sandbox.Isolation | None, limits: Limits) -> Iterator[None]:
    """Launch one template of `iso`'s tier now, without waiting for it, while the caller goes on
    (reading the expected values, say); the first grading thread that needs a template adopts
    it (`slot`). A run that grades one submission then pays a fork, not a template's start. The
    template is tied to the calling thread, which must outlive the grading (as `grade_folder`'s
    does); one that nobody adopted is closed on exit. Where a template launched ahead for the
    same isolation still waits (`grade run` launches one for `sandbox.likely` while the probe
    runs), that one is adopted, and no other is launched. Nothing is launched where the workers
    are not forked here: no tier (`iso` None: they run elsewhere, or the sandbox is refused),
    `limits.worker_templates` off, a tier without templates, or workers that may not run at all
    (as root, `sandbox.check_root`)."""
    if iso is None:
        yield
        return
    try:
        sandbox.check_root(iso, limits.unsafe_run_as_root)
        wanted = limits.worker_templates and sandbox.uses_template(iso) and iso.tier not in _failed
    except sandbox.SandboxError:
        wanted = False
    with _ahead_lock:
        waiting = _ahead.get(iso.tier)
    if wanted and waiting is not None and waiting.iso == iso and waiting.alive():
        wanted = False  # launched already for this isolation (`sandbox.likely`): it stays the one
    if not wanted:
        yield
        return
    try:
        launched: Slot | None = Slot(iso, wait=False)
    except OSError:
        launched = None  # the grading threads start their own
    if launched is not None:
        with _ahead_lock:
            previous = _ahead.pop(iso.tier, None)
            _ahead[iso.tier] = launched
        if previous is not None:
            previous.close()
    try:
        yield
    finally:
        with _ahead_lock:
            left = _ahead.get(iso.tier)
            if left is not None and left is launched:
                del _ahead[iso.tier]
            else:
                left = None
        if left is not None:
            left.close()


FAILURES_ALLOWED = 3
"""forked workers in a row that may fail to start before a tier's templates are given up"""
_failures: dict[str, int] = {}


def started(iso: sandbox.Isolation) -> None:
    """A forked worker of `iso`'s tier started."""
    _failures[iso.tier] = 0


def failed(iso: sandbox.Isolation, reason: str) -> None:
    """A forked worker did not start (that submission's worker then starts fresh). After
    `FAILURES_ALLOWED` in a row, no more templates for this tier in this process: one odd
    submission (its files too large for the working folder, say) does not switch them off."""
    _failures[iso.tier] = _failures.get(iso.tier, 0) + 1
    found = _local.__dict__.get("slots", {}).pop(iso.tier, None)
    if found is not None:
        found.close()
    if _failures[iso.tier] >= FAILURES_ALLOWED:
        _failed[iso.tier] = reason


def close_all() -> None:
    """Stop this thread's templates."""
    for found in _local.__dict__.pop("slots", {}).values():
        found.close()
