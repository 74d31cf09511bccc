"""The worker template: one process per grading slot that forks a fresh worker per submission.

A worker's start is mostly the interpreter's and NumPy's (`python -I -c "import numpy"` alone
takes about 80 ms). The template pays it once: it imports NumPy and the worker's modules,
runs `grader.worker.serve.prepare()`, and then, for each submission, forks a child that becomes that
submission's worker. No student code ever runs in the template, so each child starts from the
same untouched state: whatever a submission changes (its modules, NumPy, builtins, the
environment, its files, its processes) lives in its own processes, which are all gone before
the next submission's child is forked.

It is started by `grader.isolation.slots` (the trusted side), inside the slot's sandbox in tier 1 or as a
plain `python -I` in tier 2, and talks to it on a Unix socket (`control`): one JSON command
per datagram, with file descriptors attached where a command needs them.

- `start` (fds: request read end, response write end, guard report write end, stdout, stderr):
  fork the submission's worker; answer `{"pid": ...}` with a pidfd of the child attached.
- `wait` (`timeout`): answer `{"status": exit code or null}` once the child has ended (or not,
  within the timeout), and reap it.

The child, per tier:

- tier 1 (`bwrap`, as root: the slot's bwrap keeps CAP_SYS_ADMIN, CAP_SETPCAP, CAP_SETUID and
  CAP_SETGID for the template only): the child unshares a mount, PID and IPC namespace and
  forks an init (PID 1 of the new namespace, which ends with the worker, and the kernel kills
  whatever else is in the namespace then). The init mounts a fresh tmpfs on the working folder
  and on /tmp, and a /proc of the new namespace; it forks the worker, which writes the
  submission's files (root-owned, read-only), drops every capability from its bounding set, and
  then, like any worker, sets its limits, drops to the submission's uid and installs the guard.
  The init ends like bwrap: with the worker's exit status, or 128 + the signal that killed it.
- tier 2 (`none`): the child starts a new session, moves to the submission's scratch folder,
  takes its environment and becomes its keeper and worker (`grader.worker.keeper`), as a fresh worker
  would.

Standard library, NumPy and the worker's modules only: in tier 1 this file is bound into the
sandbox with them.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import signal
import socket
import sys
from typing import Any

from grader.worker import codec, serve

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
CAP_LAST = 63
IDLE_SECONDS = 5.0
"""a template with no submission to serve for this long ends (`grader.isolation.slots` starts another on
next use): a grader that stopped grading keeps no idle process around"""
DATAGRAM = 1 << 16
"""the largest command or answer on the control socket"""
FILES_CAP = 64 << 20
"""bytes of submission files a tier-1 child accepts (its working folder holds 64 MiB)"""

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl({option})")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    enc = (lambda v: None if v is None else v.encode())
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _send(control: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    socket.send_fds(control, [json.dumps(message).encode()], fds or [])


# ---------------------------------------------------------------- the template


def main(argv: list[str]) -> None:
    """`argv`: the control socket's fd, JSON settings (`tier`, `grader`: the grader's pid)."""
    control = socket.socket(fileno=int(argv[0]))
    settings = json.loads(argv[1])
    grader = int(settings["grader"])
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the grader's thread that started it
    if settings["tier"] == "none":
        if os.getppid() != grader:
            os._exit(70)
        _prctl(PR_SET_DUMPABLE, 0)  # a worker of the same uid cannot read or trace it
    serve.prepare()
    _send(control, {"status": "ready"})
    child: int | None = None
    child_fd = -1
    while True:
        if child is None and not select.select([control], [], [], IDLE_SECONDS)[0]:
            os._exit(0)
        try:
            data, fds, _, _ = socket.recv_fds(control, DATAGRAM, 8)
        except OSError:
            data, fds = b"", []
        if not data:
            os._exit(0)  # the grader is done with this slot (a child still running dies with it)
        command = json.loads(data)
        if command.get("op") == "start":
            if child is not None:  # the grader must wait first; make sure the last one is gone
                _end(child, child_fd, kill=True)
            template = os.getpid()
            child = os.fork()
            if child == 0:
                try:
                    _child(control, settings, command, fds, template)
                finally:
                    os._exit(71)
            for fd in fds:
                os.close(fd)
            child_fd = os.pidfd_open(child)
            _send(control, {"pid": child}, [child_fd])
        elif command.get("op") == "wait":
            status = None
            if child is not None:
                if select.select([child_fd], [], [], float(command.get("timeout", 0)))[0]:
                    status = _end(child, child_fd)
                    child = None
            _send(control, {"status": status})


def _end(child: int, child_fd: int, kill: bool = False) -> int:
    """Reap the (ended, or with `kill` killed) child; its exit code as `subprocess` gives it."""
    if kill:
        try:
            signal.pidfd_send_signal(child_fd, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.close(child_fd)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


# ---------------------------------------------------------------- one submission's worker


def _keep_only(fds: list[int]) -> None:
    """Close every fd but 0, 1, 2 and `fds` (the template's socket among them)."""
    keep = {0, 1, 2, *fds}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _child(control: socket.socket, settings: dict[str, Any], command: dict[str, Any], fds: list[int],
           template: int) -> None:
    request, response, report, out, err = fds
    if command.get("cpus"):  # the grader's, now (a fresh worker would inherit them)
        os.sched_setaffinity(0, command["cpus"])
    os.dup2(out, 1)
    os.dup2(err, 2)
    control.detach()
    _keep_only([request, response, report])
    config = {**command["config"], "report_fd": report, "forked": True}
    if settings["tier"] == "none":
        # The keeper this process becomes ends its tree when the template dies too (killed with
        # the grader's workers on Ctrl-C, say), not only when the grader does.
        config["keeper_also"] = template
        _prctl(PR_SET_DUMPABLE, 1)  # as a fresh worker is (the template is not, see `main`)
        os.setsid()
        os.chdir(command["cwd"])
        os.environ.clear()
        os.environ.update(command["env"])
        _serve(request, response, config)
    # Dies with the template (killed with the grader's workers on Ctrl-C, say), and with it the
    # namespace's PID 1 and everything in the namespace.
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != template:
        os._exit(70)
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    init = os.fork()
    if init == 0:
        _init(command, request, response, config)
    for fd in (request, response, report):
        os.close(fd)
    _, status = os.waitpid(init, 0)
    os._exit(_bwrap_code(status))


def _serve(request: int, response: int, config: dict[str, Any]) -> None:
    """Be the worker, then end as a fresh worker's interpreter would: status 0 when its call loop
    returns (its channel closed), 1 after an exception it did not catch (shown on stderr), the
    code of a `SystemExit`."""
    sys.argv[2:] = [str(request), str(response), json.dumps(config)]  # as a fresh worker has it
    code: Any = 0
    try:
        serve.serve(request, response, config)
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        try:
            sys.excepthook(*sys.exc_info())
        except BaseException:
            pass
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        try:
            print(code, file=sys.stderr)
        except BaseException:
            pass
        code = 1
    _exit(code)


def _exit(code: int) -> None:
    """End as an interpreter ends: wait for the student's threads, run the exit handlers
    (under the guard), flush, exit with `code`."""
    if "threading" in sys.modules:
        sys.modules["threading"]._shutdown()  # type: ignore[attr-defined]
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(code)


def _bwrap_code(status: int) -> int:
    """An exit status as bwrap reports it: the code, or 128 + the signal that ended the process."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _init(command: dict[str, Any], request: int, response: int, config: dict[str, Any]) -> None:
    """PID 1 of the submission's namespace: its fresh folders, then the worker; ends with it."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    size = int(command["tmpfs"])
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    for folder in (command["work"], command["tmp"]):
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    pid = os.fork()
    if pid == 0:
        try:
            _worker(command, request, response, config)
        finally:
            os._exit(71)
    for fd in (request, response, int(config["report_fd"])):
        os.close(fd)
    while True:  # reap whatever ends here (orphans come to PID 1) until the worker has
        try:
            ended, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(70)
        if ended == pid:
            os._exit(_bwrap_code(status))


def _worker(command: dict[str, Any], request: int, response: int, config: dict[str, Any]) -> None:
    """The submission's files from the request pipe into the fresh working folder, then a worker."""
    cap = codec.MessageLimits(max_elements=FILES_CAP, max_array_bytes=FILES_CAP)
    _, files = codec.read_message(request, limits=cap)
    work = command["work"]
    os.chdir(work)
    for name, data in files.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", name):
            os._exit(72)
        fd = os.open(os.path.join(work, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o444)
        with os.fdopen(fd, "wb") as f:
            f.write(data.tobytes())
    # Nothing this process could exec may give a capability back (bwrap also set no_new_privs):
    # an empty bounding set, an empty inheritable set. The uid change clears the rest.
    for cap in range(CAP_LAST + 1):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: past the last
            _check(-1, "drop the bounding set")
    _drop_inheritable()
    _serve(request, response, config)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_inheritable() -> None:
    """Empty this process's inheritable capability set (capget/capset, version 3)."""
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(_libc.capget(ctypes.byref(header), data), "capget")
    for half in data:
        half.inheritable = 0
    _check(_libc.capset(ctypes.byref(header), data), "capset")


BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); import grader.worker.forkserver as f; "
    "del sys.path[0]; f.main(sys.argv[2:])"
)
"""The `python -I -c` program that starts a template: argv is grader's parent dir, control fd, settings."""


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
