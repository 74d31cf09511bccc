"""Grade on a Dask cluster (`grade run --cluster SPEC`): the same grading, on other processes or hosts.

The client (this process, the instructor's machine) reads the submissions, decides what to
regrade and writes every report; `grader.engine.batch` drives it exactly as with `-j`, one thread per
submission in flight. A cluster task (`grade_on_worker`) grades one submission with the same
code as `-j`: on the worker host it starts the same sandboxed worker process, judges against
expected values computed there once per course (cached per Dask worker process) and returns
the result as a JSON string, so only plain data crosses the Dask boundary back. What is sent
there is the submission's file bytes, its name and notes, the limits and the course's path.

SPEC is `local[:N]` (a `LocalCluster` of N worker processes here), `tcp://HOST:PORT` or
`tls://HOST:PORT` (a running scheduler: Slurm with dask-jobqueue, Kubernetes...) or
`ssh://HOST1,HOST2,...` (an `SSHCluster`; the first host also runs the scheduler). Dask is the
optional extra `cluster`; without it `--cluster` fails in one line saying what to install.

Before any task, `preflight` asks every worker for its grader version, course fingerprint and
sandbox; a mismatch, or a host that cannot sandbox (unless `--sandbox none`), stops the run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grader
from grader.course.cache import expected_of
from grader.course.loading import Assignment, Course, CourseError, load_assignments
from grader.engine.grading import Cancelled, grade_submission
from grader.engine.regrade import course_fingerprint
from grader.inputs.discover import Submission
from grader.isolation import sandbox
from grader.model import CheckResult, Limits, SubmissionResult

INSTALL_HINT = "--cluster needs Dask: pip install 'nn-grader[cluster]' (from a checkout: pip install -e '.[cluster]')"
"""what `--cluster` says when Dask is not installed"""

RETRIES = 1
"""times Dask reruns a task that raised (a worker that died is `distributed.scheduler.allowed-failures`)"""

POLL = 0.1
"""seconds between looks at Ctrl-C while a task runs on the cluster"""

CRASH_MESSAGE = "grading it stopped the cluster's worker process every time it was tried"
"""what a student reads when a task kept killing its Dask worker (`KilledWorker`)"""


class ClusterError(Exception):
    """The cluster cannot grade this course (bad SPEC, Dask missing, a worker host refused)."""


@dataclass(frozen=True)
class Spec:
    """A parsed `--cluster` SPEC."""

    kind: str
    """`local`, `address` (a running scheduler) or `ssh`"""
    workers: int = 0
    """worker processes of a `local` cluster"""
    address: str = ""
    """the scheduler's address (`tcp://...` or `tls://...`)"""
    hosts: tuple[str, ...] = ()
    """`ssh` hosts, each `[user@]host[:port]`; the first also runs the scheduler"""


_HOST = re.compile(r"(?:[A-Za-z0-9._-]+@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def parse_spec(text: str, cores: int) -> Spec:
    """`local[:N]`, `tcp://HOST:PORT`, `tls://HOST:PORT` or `ssh://HOST1,HOST2,...` (`cores`: N's default)."""
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2] or str(cores)
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f"--cluster {text}: N in local:N must be a whole number of at least 1")
        return Spec("local", workers=int(count))
    if re.fullmatch(r"(tcp|tls)://[^\s/:]+(:\d{1,5})", text):
        return Spec("address", address=text)
    if text.startswith("ssh://"):
        hosts = tuple(h for h in text[len("ssh://"):].split(","))
        bad = [h for h in hosts if not _HOST.fullmatch(h)]
        if not hosts or bad:
            raise ClusterError(f"--cluster {text}: not a host: {bad[0]!r}" if bad else f"--cluster {text}: no host")
        return Spec("ssh", hosts=hosts)
    raise ClusterError(f"--cluster {text}: use local[:N], tcp://HOST:PORT, tls://HOST:PORT or ssh://HOST1,HOST2,...")


def _ssh_host(host: str) -> tuple[str, dict[str, Any]]:
    """`[user@]host[:port]` -> (host, asyncssh connect options)."""
    user, _, rest = host.rpartition("@")
    m = re.fullmatch(r"(\[[^\]]+\]|[^:]+)(?::(\d+))?", rest)
    assert m is not None  # parse_spec checked the form
    options: dict[str, Any] = {"username": user} if user else {}
    if m.group(2):
        options["port"] = int(m.group(2))
    return m.group(1).strip("[]"), options


# ---------------------------------------------------------------- on the worker host


_course_cache: dict[tuple[str, tuple[str, ...]], tuple[str, list[Assignment], dict[str, Any]]] = {}
_course_lock = threading.Lock()


def _course(course_root: str, names: tuple[str, ...], fresh: bool = False
            ) -> tuple[str, list[Assignment], dict[str, Any]]:
    """(fingerprint, assignments, expected values) of the course here, computed once per process.

    `fresh` loads it again (preflight does, at the start of every run, so that a long-lived
    worker never judges with the expected values of a course edited since).
    """
    with _course_lock:
        cached = None if fresh else _course_cache.get((course_root, names))
        if cached is None:
            root = Path(course_root)
            course = Course.load(root, list(names) or None)
            cached = (course_fingerprint(root, course.assignments), course.assignments, expected_of(course))
            _course_cache[(course_root, names)] = cached
        return cached


def worker_report(course_root: str, names: tuple[str, ...], sandbox_mode: str) -> dict[str, Any]:
    """What preflight asks of each worker: host, grader version, course fingerprint, sandbox.

    Plain data only. Loading the course also computes its expected values, so that the first
    task on this worker does not pay for it.
    """
    started = time.perf_counter()
    report: dict[str, Any] = {"host": socket.gethostname(), "version": grader.__version__,
                              "python": sys.version.split()[0], "fingerprint": None, "sandbox": None,
                              "problem": None, "seconds": 0.0}
    report["problem"] = _check_worker(report, course_root, names, sandbox_mode)
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def _check_worker(report: dict[str, Any], course_root: str, names: tuple[str, ...], sandbox_mode: str) -> str | None:
    """Fill `report`'s fingerprint and sandbox; why this worker may not grade, or None."""
    try:
        report["fingerprint"] = _course(course_root, names, fresh=True)[0]
    except (CourseError, OSError) as exc:
        return f"the course at {course_root} cannot be loaded there: {exc}"
    try:
        isolation = sandbox.resolve(sandbox_mode)
    except sandbox.SandboxError as exc:
        return str(exc)
    report["sandbox"] = isolation.tier
    if isolation.tier != "bwrap" and sandbox_mode != "none":
        return f"it cannot sandbox student code ({isolation.reason}); use --sandbox none to grade there"
    return None


def grade_on_worker(course_root: str, names: tuple[str, ...], fingerprint: str, limits: dict[str, Any],
                    submission: dict[str, Any]) -> str:
    """A cluster task: grade one submission here, exactly as `-j` does; the result as JSON.

    `submission` is `{name, files: {module.py: bytes}, notes, unreadable}`; `limits` is
    `Limits`'s fields. The student's code runs in the sandboxed worker process that
    `grade_submission` starts, never in this (Dask worker) process. A worker whose course is
    not the client's `fingerprint` (one that joined after preflight) refuses with `CourseError`.
    """
    mine, assignments, expected = _course(course_root, names)
    if mine != fingerprint:
        raise CourseError(f"worker host {socket.gethostname()}: its grader or course at {course_root} "
                          "differs from the client's")
    sub = Submission(name=submission["name"], folder=Path("."), files=dict(submission["files"]),
                     notes=list(submission["notes"]), unreadable=dict(submission["unreadable"]))
    try:
        result = grade_submission(sub, assignments, expected, Limits(**limits), _task_cancelled())
    except Cancelled:  # nobody waits for this result any more (Ctrl-C on the client)
        return "null"
    return json.dumps(dataclasses.asdict(result))


def _task_cancelled() -> Callable[[], bool]:
    """Whether the client has cancelled the Dask task running in this thread (asked between checks)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
    except (ImportError, ValueError):  # not in a Dask task
        return lambda: False
    return lambda: getattr(worker.state.tasks.get(key), "state", "forgotten") in ("cancelled", "released", "forgotten")


# ---------------------------------------------------------------- on the client


def result_from_json(text: str, name: str) -> SubmissionResult:
    """Rebuild a task's result, refusing anything but the fields and types a result has."""
    data = json.loads(text)
    fields = {f.name: f.type for f in dataclasses.fields(CheckResult)}
    checks = []
    for c in data.pop("checks"):
        if set(c) != set(fields):
            raise ValueError(f"a check result with fields {sorted(c)}")
        checks.append(CheckResult(**c))
    result = SubmissionResult(checks=checks, **data)
    if result.submission != name:
        raise ValueError(f"the result of {result.submission!r} came back for {name!r}")
    if not isinstance(result.execution_time, int | float) or not isinstance(result.output, str):
        raise ValueError("a result of the wrong types")
    return result


def crashed_result(submission: Submission, assignments: list[Assignment], why: str) -> SubmissionResult:
    """The result of a submission the cluster could not grade: every check a `crash`, 0 points."""
    checks = [CheckResult(a.name, c.name, c.module, c.function, c.points, 0.0, c.visible, False,
                          f"crashed: {why}", problem="crash")
              for a in assignments for c in a.checks]
    return SubmissionResult(submission.name, checks, 0.0, notices=list(submission.notes))


@dataclass
class HostReport:
    """One worker's preflight answer, as the client judged it."""

    worker: str
    """the Dask worker's address"""
    host: str
    problem: str | None
    """why this worker may not grade, or None"""
    seconds: float = 0.0
    """how long its preflight took there (loading the course, computing the expected values, probing bwrap)"""


class ClusterGrader:
    """A connected, preflighted cluster that grades one submission per call (thread-safe).

    Use as a context manager: leaving it cancels what is still queued and, for a cluster it
    started (`local`, `ssh`), stops the cluster.
    """

    def __init__(self, spec: Spec, course_root: Path, names: list[str] | None, limits: Limits,
                 connect_timeout: float = 30.0) -> None:
        try:
            import distributed
        except ImportError:
            raise ClusterError(INSTALL_HINT) from None
        self._distributed = distributed
        self.course_root = str(Path(course_root).resolve())
        self.names = tuple(names or ())
        self.assignments = load_assignments(Path(self.course_root) / "assignments", list(self.names) or None)
        self.fingerprint = course_fingerprint(Path(self.course_root), self.assignments)
        self.limits = dataclasses.asdict(limits)
        self.tier = "none" if limits.sandbox == "none" else "bwrap"
        """the tier every worker uses (preflight refuses the others): part of the regrade hash"""
        self.hosts: list[HostReport] = []
        self.preflight_seconds = 0.0
        """seconds preflight took (every worker answers at once)"""
        self.task: Callable[..., str] = grade_on_worker
        """the function a task runs (`grade_on_worker`; the fault tests put one that kills its worker)"""
        self._cluster: Any = None
        self.client: Any = None
        try:
            self._connect(spec, connect_timeout)
            started = time.perf_counter()
            self.hosts = self.preflight()
            self.preflight_seconds = time.perf_counter() - started
        except BaseException:
            self.close()
            raise

    def _connect(self, spec: Spec, timeout: float) -> None:
        d = self._distributed
        if spec.kind == "local":
            # One thread per worker process: a task keeps one core busy through its student process.
            self._cluster = d.LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
            self.client = d.Client(self._cluster)
        elif spec.kind == "ssh":
            # The first host runs the scheduler and, like every other host, one Dask worker with a
            # thread per core there (Dask's default): `-j` on each host. Python and the grader must
            # be at the same path as here (Dask starts `sys.executable` on each host).
            hosts = [_ssh_host(h) for h in (spec.hosts[0], *spec.hosts)]
            try:
                self._cluster = d.SSHCluster([h for h, _ in hosts], connect_options=[o for _, o in hosts],
                                             scheduler_options={"dashboard_address": None})
            except ImportError as exc:  # SSHCluster needs asyncssh
                raise ClusterError(f"ssh:// needs asyncssh ({exc}): {INSTALL_HINT}") from None
            self.client = d.Client(self._cluster)
        else:
            try:
                self.client = d.Client(spec.address, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"cannot reach the scheduler at {spec.address}: {exc}") from None
        try:
            self.client.wait_for_workers(1, timeout=2 * timeout)
        except TimeoutError:
            raise ClusterError(f"no Dask worker joined the scheduler within {2 * timeout:g} s "
                               "(start some: `dask worker SCHEDULER-ADDRESS` on each host)") from None

    def preflight(self) -> list[HostReport]:
        """Ask every worker for its version, course fingerprint and sandbox; refuse on any mismatch."""
        answers = self.client.run(worker_report, self.course_root, self.names, self.limits["sandbox"])
        reports = []
        for worker, a in sorted(answers.items()):
            problem = a.get("problem")
            if problem is None and a.get("version") != grader.__version__:
                problem = f"it runs grader {a.get('version')}, this machine {grader.__version__}"
            elif problem is None and a.get("fingerprint") != self.fingerprint:
                problem = (f"its grader or course at {self.course_root} differs from this machine's "
                           "(install the same grader and copy the same course there)")
            reports.append(HostReport(worker, str(a.get("host")), problem, float(a.get("seconds") or 0.0)))
        refused = [r for r in reports if r.problem]
        if refused:
            r = refused[0]
            more = f" (and {len(refused) - 1} more worker(s))" if len(refused) > 1 else ""
            raise ClusterError(f"worker host {r.host} ({r.worker}) refused: {r.problem}{more}")
        return reports

    @property
    def slots(self) -> int:
        """Submissions in flight: one per thread of the cluster, no more.

        Dask sends a task to a worker as soon as it is submitted (each submission's task is its
        own group, so the scheduler does not hold it back): with more in flight, a worker would
        hold a second submission behind a hanging one while another worker sat idle. With one
        per thread, the next submission goes to the worker that just finished.
        """
        return max(1, sum(self.client.nthreads().values()))

    def grade(self, submission: Submission, cancelled: Callable[[], bool]) -> SubmissionResult:
        """Grade `submission` on the cluster; a task Dask gave up on is that submission's crash.

        Raises `grader.engine.grading.Cancelled` (after cancelling the task) once `cancelled()` says so.
        """
        data = {"name": submission.name, "files": dict(submission.files), "notes": list(submission.notes),
                "unreadable": dict(submission.unreadable)}
        for _ in range(1 + RETRIES):
            text = self._run(submission, data, cancelled)
            if text is None:
                return crashed_result(submission, self.assignments, CRASH_MESSAGE)
            if text != "null":
                return result_from_json(text, submission.name)
        # The worker saw its task cancelled although this client did not cancel it (a worker
        # being retired, say) every time: nothing was graded.
        return crashed_result(submission, self.assignments, "the cluster stopped grading it every time it was tried")

    def _run(self, submission: Submission, data: dict[str, Any], cancelled: Callable[[], bool]) -> str | None:
        """One task's JSON (`"null"`: the worker stopped it); None when it kept killing its worker."""
        future = self.client.submit(self.task, self.course_root, self.names, self.fingerprint, self.limits, data,
                                    pure=False, retries=RETRIES, key=f"grade-{submission.name}-{os.urandom(4).hex()}")
        finished = threading.Event()
        # Not `future.result(timeout=...)` in a loop: Dask's sync() can then lose the result to a
        # cancelled wait (UnboundLocalError in distributed.utils.sync, distributed 2026.8).
        future.add_done_callback(lambda _: finished.set())
        try:
            while not finished.wait(POLL):
                if cancelled():
                    raise Cancelled(submission.name)
            try:
                return future.result()
            except self._distributed.KilledWorker:
                return None
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        """Disconnect; stop the cluster when this process started it."""
        for thing in (self.client, self._cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # a cluster half gone already; nothing to keep
                    pass
        self.client = self._cluster = None

    def __enter__(self) -> ClusterGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(text: str, course_root: Path, names: list[str] | None, limits: Limits) -> ClusterGrader:
    """Parse SPEC (`local` alone: one worker per core here), start or join the cluster, preflight it.

    Raises `ClusterError` with the reason in one line.
    """
    return ClusterGrader(parse_spec(text, len(os.sched_getaffinity(0))), course_root, names, limits)
