"""The trusted side of the worker: start it, send calls, enforce timeouts, read plain data back.

One `StudentProcess` serves one submission. A call that times out, crashes the worker or
returns something unreadable fails only that call: the worker is killed (its whole process
group) and started again for the next one. A function that timed out once is not called
again; a module whose import kills the worker is not imported again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import codec
from grader.spec import Call, StudentError
from grader.worker import BOOTSTRAP

GRADER_PARENT = str(Path(__file__).resolve().parent.parent)
OUTPUT_KEEP = 16 * 1024  # bytes of the student's stdout/stderr kept for the report


@dataclass
class Limits:
    """Time limits for one submission."""

    call_timeout: float = 10.0
    """seconds one function call may take"""
    submission_timeout: float = 120.0
    """seconds all calls of one submission may take together"""


@dataclass
class _Running:
    proc: subprocess.Popen[bytes]
    request_fd: int
    response_fd: int


@dataclass
class StudentProcess:
    """Runs the calls of one submission in a worker process (see `grader.worker`)."""

    files: dict[str, bytes]
    """the submission's module files, `name.py -> source`, copied into a fresh folder"""
    limits: Limits = field(default_factory=Limits)
    timeouts: dict[str, float] = field(default_factory=dict)
    """per-module call timeouts (seconds), overriding `limits.call_timeout`"""
    calls: int = 0
    _dir: str | None = None
    _running: _Running | None = None
    _spent: float = 0.0
    _timed_out: set[str] = field(default_factory=set)
    _broken_modules: dict[str, str] = field(default_factory=dict)
    _imported: set[str] = field(default_factory=set)

    # -- lifecycle ---------------------------------------------------------

    def _start(self) -> _Running:
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="grade-")
            work = Path(self._dir, "work")
            work.mkdir()
            for name, data in self.files.items():
                (work / name).write_bytes(data)
        work = os.path.join(self._dir, "work")
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = {"PATH": "/usr/bin:/bin", "HOME": self._dir, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
        with open(os.path.join(self._dir, "stdout"), "ab") as out, open(
            os.path.join(self._dir, "stderr"), "ab"
        ) as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", BOOTSTRAP, GRADER_PARENT, str(req_r), str(resp_w)],
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(req_r, resp_w),
                start_new_session=True,
            )
        os.close(req_r)
        os.close(resp_w)
        self._running = _Running(proc, req_w, resp_r)
        return self._running

    def _kill(self) -> None:
        running, self._running = self._running, None
        if running is None:
            return
        _close_fds(running)
        try:
            os.killpg(running.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        running.proc.wait()

    def close(self) -> None:
        """Stop the worker and delete the submission's copy."""
        if self._running is not None:
            os.close(self._running.request_fd)  # EOF: the worker exits on its own
            self._running.request_fd = -1
            try:
                self._running.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            self._kill()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> StudentProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def output(self) -> str:
        """What the student's code printed (capped, decoded with replacement)."""
        if self._dir is None:
            return ""
        text = []
        for stream in ("stdout", "stderr"):
            path = os.path.join(self._dir, stream)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read(OUTPUT_KEEP + 1)
                if data:
                    cut = "\n[... output cut]" if len(data) > OUTPUT_KEEP else ""
                    text.append(data[:OUTPUT_KEEP].decode("utf-8", "replace") + cut)
        return "\n".join(text)

    # -- calls -------------------------------------------------------------

    def call(self, call: Call, return_args: bool = False) -> Any:
        """Run `call` in the worker and return its plain result, or raise `StudentError`."""
        try:
            return self._call(call, return_args)
        except StudentError as err:
            err.call_text = call.describe()
            raise

    def _call(self, call: Call, return_args: bool) -> Any:
        key = f"{call.module}.{call.function}"
        if call.module in self._broken_modules:
            raise StudentError("crash", self._broken_modules[call.module])
        if key in self._timed_out:
            raise StudentError("skipped", f"not run: an earlier call of {call.function} timed out")
        budget = self.limits.submission_timeout - self._spent
        if budget <= 0:
            raise StudentError("skipped", "not run: the submission used up its total time budget")
        timeout = min(self.timeouts.get(call.module, self.limits.call_timeout), budget)
        running = self._running or self._start()
        self.calls += 1
        request = codec.encode_message(
            {"args": list(call.args), "kwargs": dict(call.kwargs)},
            {"op": "call", "module": call.module, "function": call.function, "return_args": return_args},
        )
        started = time.monotonic()
        try:
            codec.write_message(running.request_fd, request)
            header, value = codec.read_message(running.response_fd, deadline=started + timeout)
        except TimeoutError:
            self._kill()
            self._timed_out.add(key)
            raise StudentError(
                "timeout",
                f"{call.function} did not return within {timeout:g} seconds "
                "(an infinite loop, or far too slow); it was stopped",
            ) from None
        except (EOFError, BrokenPipeError):
            code = running.proc.poll()
            self._kill()
            message = _crash_message(code)
            if not self._module_imported_before(call.module):
                self._broken_modules[call.module] = f"importing {call.module}.py {message}"
                raise StudentError("crash", self._broken_modules[call.module]) from None
            raise StudentError("crash", f"{call.function} {message}") from None
        except codec.ChannelError as exc:
            self._kill()
            raise StudentError("bad-output", f"{call.function} sent back unreadable data: {exc}") from None
        finally:
            self._spent += time.monotonic() - started
        self._imported.add(call.module)
        if header.get("status") == "ok":
            return value
        kind = str(header.get("kind", "exception"))
        message = str(header.get("message", ""))[:2000]
        raise StudentError(kind, message, str(header.get("traceback", ""))[:4000])

    def _module_imported_before(self, module: str) -> bool:
        return module in self._imported


def _close_fds(running: _Running) -> None:
    # Each fd is closed exactly once: with threads, a number closed twice may by then belong
    # to another submission's pipe.
    for attr in ("request_fd", "response_fd"):
        fd = getattr(running, attr)
        if fd >= 0:
            setattr(running, attr, -1)
            os.close(fd)


def _crash_message(returncode: int | None) -> str:
    if returncode is None:
        return "stopped the worker without answering (it closed its channel)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed the Python process ({name})"
    return f"ended the Python process (exit status {returncode}), e.g. with os._exit()"
