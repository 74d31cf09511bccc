"""The trusted side of the worker: start it, send calls, enforce limits, read plain data back.

One `StudentProcess` serves one submission. A call that times out, crashes the worker or
returns something unreadable fails only that call: the worker is killed (its whole process
tree, see `grader.isolation.sandbox.reap`) and started again for the next one. A function that timed
out once is not called again; a module whose import kills the worker, or that breaks the
import policy, is not imported again.

Time limits count the time a call used, not the time other work on the machine took from it
(`grader.isolation.proctime`): the same submission gets the same score on an idle machine and on a busy one.
"""

from __future__ import annotations

import collections
import fcntl
import math
import os
import secrets
import select
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.isolation import proctime, sandbox, slots
from grader.isolation.sandbox import GRADER_PARENT  # noqa: F401  (re-exported: where the grader package lives)
from grader.model import Call, Effects, Limits, Planned, Problem, StudentError
from grader.tempdirs import Owned
from grader.worker import codec, policy, serve
from grader.worker.serve import BOOTSTRAP

OUTPUT_KEEP = 16 * 1024  # bytes of the student's stdout/stderr kept for the report
START_TIMEOUT = 60.0  # seconds a worker may take to start (the grader's time, not the student's)
KILL_WAIT = 10.0  # seconds to wait for a killed worker to be gone (it is, at once, unless the kernel is stuck)
MiB = 1 << 20
PIPE_BYTES = 1 << 20
"""capacity asked for the request and reply pipes (Linux's default, 64 KiB, makes a 2 MB request
cost dozens of wake-ups of both processes)"""
F_SETPIPE_SZ = 1031
AHEAD_MOST = 64
"""calls written to the worker at once (see `StudentProcess.expect`): the most, reached again by
doubling after each call that returns; a call that does not return brings it back to one, so
that code that raises on every call is not sent 63 calls ahead of each, only to answer them
all 'not run'"""
AHEAD_BYTES = PIPE_BYTES // 2
"""bytes of requests written at once: well below the pipe's capacity, so that the write never
waits for the worker (which may be waiting for its replies to be read)"""


BUDGET_NOTICE = ("Your code used up its time budget: all of its calls together may use {seconds:g} seconds "
                 "of their own time, and the calls after that were stopped or not run.")

WORKER_PROBLEMS = (Problem.MISSING_MODULE, Problem.IMPORT_ERROR, Problem.MISSING_FUNCTION, Problem.EXCEPTION,
                   Problem.BAD_OUTPUT, Problem.POLICY)
"""the kinds of error a worker reports itself (the others are the trusted side's findings)"""


@dataclass
class _Sent:
    """A call sent ahead of its turn (`StudentProcess.expect`), waiting to be asked for."""

    planned: Planned
    seq: int
    clock: proctime.CallClock | None = None
    """started when the reply before it came (set then)"""

    @property
    def call(self) -> Call:
        return self.planned.call

    def answers(self, call: Call, return_args: bool) -> bool:
        return self.planned.call is call and self.planned.return_args == return_args


class _NotRun(Exception):
    """The worker did not run a call sent ahead that is now asked for: it is sent again."""


_DIGESTS: dict[int, tuple[Any, str]] = {}
"""`id(value) -> (value, codec.digest of it)`, for the values calls on a path are planned after"""
DIGESTS_KEPT = 4096


def _digest(value: Any) -> str:
    """`codec.digest` of `value`, remembered per run (the values are the course's expected ones)."""
    kept = _DIGESTS.get(id(value))
    if kept is not None and kept[0] is value:
        return kept[1]
    found = codec.digest(codec.prepare(value))
    if len(_DIGESTS) >= DIGESTS_KEPT:
        _DIGESTS.clear()
    _DIGESTS[id(value)] = (value, found)
    return found


@dataclass
class _Running:
    proc: subprocess.Popen[bytes] | None
    """the worker started fresh (None: forked by a template, see `child`)"""
    request_fd: int
    response_fd: int
    replies: codec.Reader
    """the only reader of `response_fd`"""
    stats: proctime.Schedstat | None = None
    """the scheduler's counters of the worker's Python (under bubblewrap, not `proc.pid`)"""
    report_fd: int = -1
    """the guard's violations, one line each, written the moment they happen"""
    child: slots.Child | None = None
    """the worker as forked by this thread's template"""

    def kill(self) -> None:
        if self.child is not None:
            self.child.kill()
        elif self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def wait(self, timeout: float) -> int | None:
        """The worker's exit status, or None if it has not ended within `timeout` seconds."""
        if self.child is not None:
            return self.child.wait(timeout)
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


_requests: dict[int, tuple[weakref.ref[Call], codec.Prepared]] = {}
_requests_lock = threading.Lock()


def prepared_request(call: Call) -> codec.Prepared:
    """`call`'s arguments encoded once per run: the same calls are made for every student (a
    `Call` is the course's, and is not changed once made)."""
    key = id(call)
    found = _requests.get(key)
    if found is not None and found[0]() is call:
        return found[1]
    prepared = codec.prepare({"args": list(call.args), "kwargs": dict(call.kwargs)})
    with _requests_lock:
        _requests[key] = (weakref.ref(call, lambda _: _requests.pop(key, None)), prepared)
    return prepared


@dataclass
class StudentProcess:
    """Runs the calls of one submission in a worker process (see `grader.worker.serve`)."""

    files: dict[str, bytes]
    """the submission's module files, `name.py -> source`, copied into a fresh folder"""
    limits: Limits = field(default_factory=Limits)
    timeouts: dict[str, float] = field(default_factory=dict)
    """per-module call timeouts (seconds), overriding `limits.call_timeout`"""
    allowed_imports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """per-module import allowlist (default `grader.worker.policy.DEFAULT_ALLOWED`)"""
    calls: int = 0
    last_effects: Effects = field(default_factory=Effects)
    """what the last call that returned did besides returning (warnings, global random state)"""
    _scratch: Owned | None = None
    """the submission's scratch folder, held until `close` removes it"""
    _output: tuple[int, int] | None = None
    """our own fds of the stdout and stderr files: read through these, never by path"""
    _running: _Running | None = None
    _spent: float = 0.0
    _seq: int = 0
    _uid: int | None = None
    _token: str = field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(12)}")
    """marks the worker's environment: the grader's pid, then a random part"""
    _timed_out: set[str] = field(default_factory=set)
    _broken_modules: dict[str, tuple[str, str]] = field(default_factory=dict)
    """module -> (error kind, message) for every later call of it"""
    _imported: set[str] = field(default_factory=set)
    _scanned: set[str] = field(default_factory=set)
    _inert: list[policy.InertImport] = field(default_factory=list)
    """imports of display libraries, which ran as inert stand-ins"""
    _fresh: bool = False
    """start this submission's workers fresh (its forked worker did not start)"""
    _planned: collections.deque[Planned] = field(default_factory=collections.deque)
    """the calls the judges will make next (`expect`)"""
    _ahead: collections.deque[_Sent] = field(default_factory=collections.deque)
    """calls written to the worker and not yet asked for, in order"""
    _window: int = AHEAD_MOST
    """calls to write at once now (see `AHEAD_MOST`)"""
    plan_misses: int = 0
    """times calls sent ahead were run but not asked for (a plan that did not hold: a bug)"""
    student_seconds: float = 0.0
    """wall-clock time the student's code ran inside its calls, as the worker measured it"""
    timed_out_seconds: float = 0.0
    """time (by the calls' clocks) spent in calls that timed out"""
    budget_hit: bool = False
    """a call was cut short, or not run, because the submission used up `limits.submission_timeout`"""

    @property
    def _dir(self) -> str | None:
        """The scratch folder's path, while there is one."""
        return None if self._scratch is None else str(self._scratch.path)

    @property
    def isolation(self) -> sandbox.Isolation:
        return sandbox.resolve(self.limits.sandbox)

    @property
    def notices(self) -> list[str]:
        """Lines every report of this submission shows first (e.g. that it was not sandboxed, or
        that its plotting was skipped)."""
        budget = [BUDGET_NOTICE.format(seconds=self.limits.submission_timeout)] if self.budget_hit else []
        return self.isolation.notices + budget + policy.inert_note(self._inert)

    # -- lifecycle ---------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        lim = self.limits
        cpu = lim.cpu_seconds or math.ceil(lim.submission_timeout) + 5
        return {
            "memory": lim.memory_mb * MiB,
            "cpu": cpu,
            "fsize": lim.file_size_mb * MiB,
            "nofile": lim.open_files,
            "nproc": lim.processes + sandbox.process_headroom(self.isolation),
            "elements": lim.result_elements,
            "guard": lim.runtime_guard,
        }

    def _start(self) -> _Running:
        iso = self.isolation
        try:
            sandbox.check_root(iso, self.limits.unsafe_run_as_root)
        except sandbox.SandboxError as exc:
            raise StudentError("judge-error", str(exc)) from None
        if self._uid is None and iso.separate_uids:
            self._uid = sandbox.uids.acquire()
        if self._scratch is None:
            self._scratch = sandbox.prepare_scratch(iso, self.files, self._uid)
            flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
            self._output = (os.open(os.path.join(self._dir, "stdout"), flags, 0o600),
                            os.open(os.path.join(self._dir, "stderr"), flags, 0o600))
        slot = slots.slot(iso) if self.limits.worker_templates and not self._fresh else None
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        report_r, report_w = os.pipe()
        for fd in (req_w, resp_r):
            try:
                fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:
                pass  # above /proc/sys/fs/pipe-max-size: the default capacity still works
        config = {**self._config(), "report_fd": report_w}
        assert self._output is not None
        child = None
        try:
            if slot is not None:
                child = self._fork(slot, (req_r, resp_w, report_w), config)
            if child is None:
                plan = sandbox.launch(iso, self._dir, sorted(self.files), (req_r, resp_w), config,
                                      self._uid, self._token, BOOTSTRAP)
                proc = subprocess.Popen(
                    plan.argv,
                    cwd=plan.cwd,
                    env=plan.env,
                    stdin=subprocess.DEVNULL,
                    stdout=self._output[0],
                    stderr=self._output[1],
                    pass_fds=(req_r, resp_w, report_w),
                    start_new_session=True,
                )
        except BaseException:
            for fd in (req_w, resp_r, report_r):
                os.close(fd)
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)
            os.close(report_w)
        for fd in (req_w, resp_r, report_r):
            os.set_blocking(fd, False)
        replies = codec.Reader(resp_r)
        self._running = _Running(None if child else proc, req_w, resp_r, replies, report_fd=report_r, child=child)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            if child is not None and iso.tier == "bwrap":  # its files, for its fresh working folder
                files = {name: np.frombuffer(data, dtype=np.uint8) for name, data in sorted(self.files.items())}
                codec.write_message(req_w, codec.encode_message(files), deadline=deadline)
            header, _ = replies.read_message(deadline=deadline)
            if header.get("status") != "ready":
                raise codec.ChannelError("no ready message")
            # Found before any student code runs: the process whose clock counts.
            pid = child.find() if child is not None else proctime.worker_pid(proc.pid)
            self._running.stats = proctime.Schedstat(pid)
            if child is not None:
                slots.started(iso)
        except (EOFError, TimeoutError, BrokenPipeError, codec.ChannelError):
            self._kill()
            if child is not None:  # its code has not run yet: start this one fresh
                slots.failed(iso, f"a forked worker did not start ({self._stderr_tail() or 'no message'})")
                self._fresh = True
                return self._start()
            raise StudentError(
                "judge-error", f"the worker process did not start ({self._stderr_tail() or 'no message'})"
            ) from None
        return self._running

    def _fork(self, slot: slots.Slot, fds: tuple[int, int, int], config: dict[str, Any]) -> slots.Child | None:
        """The worker forked by this thread's template, or None if the template failed (it is
        then discarded, and this worker starts fresh)."""
        assert self._dir is not None and self._output is not None
        iso = self.isolation
        command = {"config": sandbox.worker_config(iso, self._dir, config, self._uid),
                   **sandbox.child_command(iso, self._dir, self._token)}
        try:
            return slot.start([*fds, *self._output], command)
        except slots.TemplateError:
            slot.close()
            return None

    def _stderr_tail(self) -> str:
        lines = self._read_output(1, 4096).decode("utf-8", "replace").strip().splitlines()
        return lines[-1][:300] if lines else ""

    def _read_output(self, stream: int, size: int) -> bytes:
        """The first `size` bytes the worker wrote to stdout (0) or stderr (1), by our own fd:
        whatever the student did to the file's path, this is the file the worker was given."""
        if self._output is None:
            return b""
        try:
            return os.pread(self._output[stream], size, 0)
        except OSError:
            return b""

    def _kill(self) -> None:
        running, self._running = self._running, None
        if running is None:
            return
        # Killed before its pipes close: a worker that saw its channel end first would run its
        # interpreter's exit, and the student's atexit code with it.
        running.kill()
        _close_fds(running)
        if running.stats is not None:
            running.stats.close()
        running.wait(KILL_WAIT)
        if running.child is not None:
            slot = running.child.slot
            running.child.close()
            sandbox.reap(self.isolation, self._token, self._uid, slot.pid, slot.token)
        else:
            sandbox.reap(self.isolation, self._token, self._uid)

    def close(self) -> None:
        """Stop the worker, kill anything it left running and delete the submission's copy."""
        # No graceful exit: the worker has nothing to flush (its output goes straight to our
        # files) and a student's atexit code has no business running; waiting for the
        # interpreter's teardown cost ~30 ms per submission.
        self._kill()
        if self._output is not None:
            for fd in self._output:
                os.close(fd)
            self._output = None
        if self._scratch is not None:
            self._scratch.remove()
            self._scratch = None
        if self._uid is not None:
            sandbox.uids.release(self._uid)
            self._uid = None

    def __enter__(self) -> StudentProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def output(self) -> str:
        """What the student's code printed (capped, decoded with replacement)."""
        self._drop_ahead()
        text = []
        for stream in (0, 1):
            data = self._read_output(stream, OUTPUT_KEEP + 1)
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
            err.call = call
            raise

    def _allowed(self, module: str) -> tuple[str, ...]:
        return tuple(self.allowed_imports.get(module, policy.DEFAULT_ALLOWED))

    def _scan(self, module: str) -> None:
        """The static import check, once per module, before its first call."""
        if module in self._scanned:
            return
        self._scanned.add(module)
        allowed = self._allowed(module)
        found = policy.scan_imports(self.files, module, allowed)
        self._inert += [i for i in found.inert if i not in self._inert]
        if found.violations:
            self._broken_modules[module] = ("policy", found.violations[0].message(allowed))

    # -- calls sent ahead ---------------------------------------------------

    def expect(self, calls: Iterable[Planned]) -> None:
        """Say which calls come next, in this order: the calls the judges will make whatever the
        earlier ones return, as long as each returns a value, or (`Planned.on_path`) as long as
        the one before returns exactly the value planned.

        The worker may then be sent several at once (`AHEAD_MOST`), each after the first marked
        "ahead": the worker runs one of those only if every call before it in the same write
        returned (for a call on a path, the value it names, which the request carries as a
        `codec.digest`) and broke no rule, and answers the others "not run"
        (`grader.worker.serve`). So the worker runs exactly the calls, in exactly the order,
        that one call at a time would have run; only the waiting between them is gone.
        """
        self._drop_ahead()
        self._planned = collections.deque(calls)

    def _drop_ahead(self) -> None:
        """Calls sent ahead that nobody asked for: a plan that did not hold (a bug of a judge's
        `calls()`, counted in `plan_misses`, which the tests keep at zero). The worker that ran
        them is stopped, so that nothing they left behind reaches the calls after them."""
        if self._ahead:
            self.plan_misses += 1
            self._ahead.clear()
            self._kill()

    def _from_plan(self, call: Call, return_args: bool) -> bool:
        """Whether `call` is a planned call; planned calls before it are skipped (a judge that
        stopped after a call raised, a path the student's steps left). A call not planned (a
        step off the path) leaves the plan as it is."""
        for i, planned in enumerate(self._planned):
            if planned.call is call and planned.return_args == return_args:
                for _ in range(i + 1):
                    self._planned.popleft()
                return True
        return False

    def _runnable(self, call: Call) -> str | None:
        """Why `call` would not be sent to the worker now, or None."""
        self._scan(call.module)
        if call.module in self._broken_modules:
            return "broken"
        if f"{call.module}.{call.function}" in self._timed_out:
            return "timed out"
        return None

    def _sent_ahead(self, module: str, own_limit: float, budget: float, size: int) -> list[Planned]:
        """The planned calls to send behind the current one: of the same module, runnable, and
        few enough that they cannot use up the submission's budget before the last of them is
        answered (each may use at most `own_limit`)."""
        room = min(self._window, AHEAD_MOST, int(budget // own_limit)) - 1 if own_limit > 0 else 0
        taken: list[Planned] = []
        while self._planned and len(taken) < room:
            call = self._planned[0].call
            if call.module != module or self._runnable(call) is not None:
                break
            size += prepared_request(call).size
            if size > AHEAD_BYTES:
                break
            taken.append(self._planned.popleft())
        return taken

    # -- one call ------------------------------------------------------------

    def _call(self, call: Call, return_args: bool) -> Any:
        if self._ahead:
            sent = self._ahead[0]
            if sent.answers(call, return_args) and sent.clock is not None:
                self._ahead.popleft()
                try:
                    return self._reply(call, sent.seq, sent.clock, self._own_limit(call), ahead=True)
                except _NotRun:
                    pass  # its turn has come: sent again below
            elif sent.planned.on_path:
                self._settle_ahead()  # the student's step left the path: the worker ran none of them
            else:
                self._drop_ahead()
        planned = bool(self._planned) and self._from_plan(call, return_args)
        why = self._runnable(call)
        if why == "broken":
            raise StudentError(*self._broken_modules[call.module])
        if why == "timed out":
            raise StudentError("skipped", f"not run: an earlier call of {call.function} timed out")
        budget = self.limits.submission_timeout - self._spent
        if budget <= 0:
            self.budget_hit = True
            raise StudentError("skipped", "not run: the submission used up its total time budget")
        own_limit = self._own_limit(call)
        running = self._running or self._start()
        batch = [Planned(call, return_args)]
        if planned:
            batch += self._sent_ahead(call.module, own_limit, budget, prepared_request(call).size)
        parts: list[bytes] = []
        for i, one in enumerate(batch):
            self._seq += 1
            head = {"op": "call", "module": one.call.module, "function": one.call.function,
                    "return_args": one.return_args, "allowed": list(self._allowed(one.call.module)),
                    "seq": self._seq}
            if i:
                head["ahead"] = True
                if one.on_path:
                    head["if_previous"] = _digest(one.after)
                self._ahead.append(_Sent(one, self._seq))
            parts += codec.message_parts(prepared_request(one.call), head)
        timeout = min(own_limit, budget)
        ceiling = proctime.wall_ceiling(timeout)
        started = time.monotonic()
        try:
            codec.write_parts(running.request_fd, parts, deadline=started + ceiling)
        except TimeoutError:  # the worker stopped reading: its call is over time
            self.calls += 1
            self._over_time(call, time.monotonic() - started, timeout, own_limit)
            raise StudentError("timeout", _timeout_message(call.function, timeout, ceiling, None)) from None
        except BrokenPipeError:
            pass  # the worker is gone: reading its reply says how
        clock = proctime.CallClock(running.stats or proctime.Schedstat(-1))  # no stats: the wall clock
        return self._reply(call, self._seq - len(batch) + 1, clock, own_limit)

    def _own_limit(self, call: Call) -> float:
        return self.timeouts.get(call.module, self.limits.call_timeout)

    def _lost_worker(self) -> None:
        """Kill the worker: the calls sent ahead die with it and go back to the plan."""
        self._kill()
        self._give_back_ahead()

    def _give_back_ahead(self) -> None:
        """The calls sent ahead that did not run go back to the front of the plan, in order."""
        while self._ahead:
            sent = self._ahead.pop()
            self._planned.appendleft(sent.planned)

    def _over_time(self, call: Call, used: float, timeout: float, own_limit: float) -> None:
        """`call` used up its time (`used` seconds by its clock): it is stopped, with its worker,
        and its function is not called again. Raises the guard's report if there is one."""
        self._spent += used
        violation = self._violation(call.module)
        self._lost_worker()
        self._timed_out.add(f"{call.module}.{call.function}")
        self.timed_out_seconds += used
        if timeout < own_limit:
            self.budget_hit = True
        if violation:
            raise violation from None

    def _reply(self, call: Call, seq: int, clock: proctime.CallClock, own_limit: float, ahead: bool = False) -> Any:
        """Wait for the reply to call number `seq` (its clock started when it was sent, or when
        the reply before it came), with the call's limits; the value, or `StudentError`
        (`_NotRun` for a call sent `ahead` that the worker did not run)."""
        self.calls += 1
        budget = self.limits.submission_timeout - self._spent
        timeout = min(own_limit, budget)
        ceiling = proctime.wall_ceiling(timeout)
        limits = codec.MessageLimits(max_elements=self.limits.result_elements,
                                     max_array_bytes=self.limits.result_elements * 8)
        running = self._running
        assert running is not None
        used: float | None = None  # the call's time, taken before a timed-out worker is killed (not its time)
        try:
            header, value = _await_reply(running.replies, clock, timeout, ceiling, limits)
            if header.get("seq") != seq:
                raise codec.ChannelError("a reply that does not answer this call")
        except TimeoutError:
            used = clock.spent()
            self._over_time(call, used, timeout, own_limit)
            raise StudentError("timeout", _timeout_message(call.function, timeout, ceiling, clock)) from None
        except (EOFError, BrokenPipeError):
            code = _exit_status(running)
            violation = self._violation(call.module, code)
            self._lost_worker()
            if violation:
                raise violation from None
            message = _crash_message(code, self.isolation.tier, self.limits)
            if not self._module_imported_before(call.module):
                self._broken_modules[call.module] = ("crash", f"importing {call.module}.py {message}")
                raise StudentError(*self._broken_modules[call.module]) from None
            raise StudentError("crash", f"{call.function} {message}") from None
        except codec.ChannelError as exc:
            violation = self._violation(call.module)
            self._lost_worker()
            if violation:
                raise violation from None
            raise StudentError("bad-output", f"{call.function} sent back unreadable data: {exc}") from None
        finally:
            if used is None:  # a timed-out call's time is counted by `_over_time`
                self._spent += clock.spent()
        status = header.get("status")
        self._window = min(AHEAD_MOST, self._window * 2) if status == "ok" else 1
        if self._ahead:
            # The next call sent ahead started when this reply was written: its clock starts now.
            self._ahead[0].clock = proctime.CallClock(running.stats or proctime.Schedstat(-1))
            if status != "ok" or header.get("reported"):
                self._settle_ahead()
        self._imported.add(call.module)
        if not self._ahead or header.get("reported"):
            # With calls still running ahead, the guard's pipe may already hold their reports:
            # it is read when the worker says this call made one, and after the last.
            violation = self._violation(call.module)
            if violation:
                raise violation  # counted even when the student's code caught the error and carried on
        if status == serve.NOT_RUN and ahead:
            raise _NotRun
        self.student_seconds += codec.reply_spent(header, clock.wall())
        if status == "ok":
            warned, global_rng = codec.reply_effects(header)
            self.last_effects = Effects(warned, global_rng)
            return value
        kind = str(header.get("kind", Problem.EXCEPTION))
        message = codec.clean_text(str(header.get("message", "")))[:2000]
        if kind not in WORKER_PROBLEMS:  # only a worker the student's code took over sends another
            raise StudentError(Problem.BAD_OUTPUT, f"{call.function} sent back an unknown kind of error")
        if kind == "policy":
            self._broken_modules[call.module] = ("policy", message)
        raise StudentError(kind, message, codec.clean_text(str(header.get("traceback", "")))[:4000])

    def _settle_ahead(self) -> None:
        """After a reply that stops the calls sent ahead (the call raised, broke a rule, or
        returned another value than the one the next call was planned after), the worker
        answers each of them "not run" at once: read those answers and give the calls back to
        the plan, in order. A worker that ran one anyway broke the protocol."""
        running = self._running
        assert running is not None
        for sent in list(self._ahead):
            try:
                header, _ = running.replies.read_message(deadline=time.monotonic() + START_TIMEOUT)
            except (EOFError, TimeoutError, BrokenPipeError, codec.ChannelError):
                header = {}
            if header.get("seq") != sent.seq or header.get("status") != serve.NOT_RUN:
                self._ahead.clear()
                self._kill()
                self._broken_modules[sent.call.module] = (
                    "policy", f"{sent.call.module}.py: tried to tamper with the grader (ran calls out of turn)")
                return
        self._give_back_ahead()

    def _module_imported_before(self, module: str) -> bool:
        return module in self._imported

    def _violation(self, module: str, exit_status: int | None = None) -> StudentError | None:
        """The guard's first report since the last call (or its exit status saying it caught
        one it could not report), as the module's policy failure."""
        running = self._running
        data = b""
        while running is not None and running.report_fd >= 0 and len(data) < 64 * 1024:
            try:
                chunk = os.read(running.report_fd, 64 * 1024)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            data += chunk
        lines = [line for line in codec.clean_text(data.decode("utf-8", "replace")).splitlines() if line.strip()]
        if not lines and exit_status == policy.TAMPER_EXIT:
            lines = ["tried to tamper with the grader (broke into the worker's own code between calls, "
                     "or closed the guard's report pipe)"]
        if not lines:
            return None
        self._broken_modules[module] = ("policy", f"{module}.py: {lines[0][:1000]}")
        return StudentError(*self._broken_modules[module])


def _await_reply(replies: codec.Reader, clock: proctime.CallClock, limit: float, ceiling: float,
                 limits: codec.MessageLimits) -> tuple[dict[str, Any], Any]:
    """The worker's reply, or `TimeoutError` once the call used more than `limit` seconds by its
    clock or took `ceiling` seconds of wall-clock time."""
    step = min(proctime.SLICE, limit / 2)
    while not replies.pending() and not select.select([replies.fd], [], [], step)[0]:
        if clock.wall() > ceiling or clock.used() > limit:
            raise TimeoutError
    header, value = replies.read_message(deadline=clock.started + ceiling, limits=limits)
    # Decided by the call's clock, not by when this thread looked: a call that computed for more
    # than its limit times out even when its reply came before the next look. (CPU time here: a
    # worker blocked writing a large reply to a slow reader is not computing.)
    if clock.wall() > step and clock.cpu() > limit:
        raise TimeoutError
    return header, value


def _timeout_message(function: str, limit: float, ceiling: float, clock: proctime.CallClock | None) -> str:
    if clock is None or clock.wall() > ceiling:
        return (f"{function} did not return within {ceiling:g} seconds of wall-clock time (waiting for "
                "something that never came, or far too slow); it was stopped")
    return (f"{function} did not return within {limit:g} seconds of its own time "
            "(an infinite loop, or far too slow); it was stopped")


def _close_fds(running: _Running) -> None:
    # Each fd is closed exactly once: with threads, a number closed twice may by then belong
    # to another submission's pipe.
    for attr in ("request_fd", "response_fd", "report_fd"):
        fd = getattr(running, attr)
        if fd >= 0:
            setattr(running, attr, -1)
            os.close(fd)


def _exit_status(running: _Running) -> int | None:
    """The worker's exit status once its channel closed (it may take a moment to exit)."""
    return running.wait(2.0)


def _crash_message(returncode: int | None, tier: str, limits: Limits) -> str:
    if returncode is None:
        return "stopped the worker without answering (it closed its channel)"
    signum = -returncode if returncode < 0 else None
    if tier == "bwrap" and returncode > 128:
        signum = returncode - 128  # bwrap reports a child killed by signal N as 128 + N
    if signum is None:
        return (f"ended the Python process (exit status {returncode}) without returning: "
                "look for os._exit() or an exit in code your function calls")
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if signum == signal.SIGXCPU:
        return f"used up its CPU time and was stopped ({name})"
    if signum == signal.SIGXFSZ:
        return f"wrote a file larger than {limits.file_size_mb} MiB and was stopped ({name})"
    return f"crashed the Python process ({name})"
