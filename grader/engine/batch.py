"""Grade a whole class: discover submissions, compute expected values once, grade, report.

One submission's failure (a crash, a hang, a hostile file) never stops the batch: each
submission is graded in its own worker, and its reports are written as soon as it is done.
Submissions run in parallel on threads, each driving its own worker process; unchanged
submissions are not regraded (`grader.engine.regrade`); Ctrl-C keeps every report already written.

The output folder: `OUT/students/<submission>/` per submission, `OUT/grades.csv` and the
summary beside `students/`. Only the output itself can stop a batch: a file that cannot be
written (a full disk, a read-only folder) stops it with `grader.reports.output.OutputError`, after the
reports already written, each complete, and their regrade hashes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence as SequenceABC
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from grader.course.cache import cached_only, expected_of
from grader.course.loading import Assignment, Course
from grader.course.template import stub_hashes
from grader.engine.grading import Cancelled, grade_submission, prepare_requests
from grader.engine.regrade import (
    course_fingerprint,
    forget,
    load_result,
    load_unchanged,
    save_state,
    submission_fingerprint,
)
from grader.gradebook.coursepolicy import load_policy
from grader.gradebook.semester import late_notes
from grader.gradebook.store import Target, course_modules, record_batch, work_hashes
from grader.inputs.collect import read_staged, staged_submissions
from grader.inputs.discover import Submission, read_submission
from grader.inputs.spool import Spool
from grader.isolation import sandbox, slots
from grader.model import Limits, SubmissionResult
from grader.reports.feedback import STUDENTS, student_folder, write_grades_csv, write_submission_reports
from grader.reports.output import OutputError, make_dir
from grader.reports.summary import ClassSummary, Row, Summarizer, write_class_summary
from grader.tempdirs import sweep

CANCEL_WAIT = 10.0
"""seconds Ctrl-C waits for the grading threads to notice (their workers are killed at once)"""

if TYPE_CHECKING:
    from grader.engine.cluster import ClusterGrader


class StoredResults(SequenceABC[SubmissionResult]):
    """The full results of a batch, read back one at a time from the reports folder (each
    submission's `.grade-result.json`), so a class's results are never all in memory at once."""

    def __init__(self, out: Path, names: list[str]) -> None:
        self.out, self.names = out, names

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, index: int) -> SubmissionResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[SubmissionResult]: ...

    def __getitem__(self, index: int | slice) -> SubmissionResult | list[SubmissionResult]:
        if isinstance(index, slice):
            return [load_result(student_folder(self.out, name)) for name in self.names[index]]
        return load_result(student_folder(self.out, self.names[index]))


@dataclass
class BatchResult:
    """What one run graded and where the reports went."""

    results: SequenceABC[SubmissionResult]
    """every result, in the order of `rows` (read from the reports folder when asked for)"""
    assignments: list[Assignment]
    warnings: list[str]
    out: Path
    total: int = 0
    """submissions found (more than `results` when the run was interrupted)"""
    skipped: int = 0
    """submissions not regraded: unchanged since their last report"""
    interrupted: bool = False
    """stopped by Ctrl-C: `results` holds what was graded before"""
    rows: list[Row] = field(default_factory=list)
    """each result's scores and status, by submission"""
    summary: ClassSummary | None = None
    """the class summary of `results`"""


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def output_inside(root: Path, out: Path) -> Path | None:
    """The output folder when it lies inside the submissions folder (to be left out), else None.

    Raises `OutputError` when the submissions lie inside the output folder (or are it): the
    reports would be written among them.
    """
    if not Path(root).is_dir():
        return None  # a class zip: nothing of the output can be read back as a submission
    where, into = Path(root).resolve(), Path(out).resolve()
    if where == into or where.is_relative_to(into):
        raise OutputError(out, f"the submissions ({root}) are inside it; choose an --out outside them")
    return into if into.is_relative_to(where) else None


def grade_folder(
    root: Path,
    out: Path,
    course: Course,
    limits: Limits | None = None,
    jobs: int | None = None,
    on_done: Callable[[SubmissionResult, int, int, bool], None] | None = None,
    force: bool = False,
    gradebook: Target | None = None,
    cluster: ClusterGrader | None = None,
    course_cache: bool = True,
    ready: Future[dict[str, Any] | None] | None = None,
) -> BatchResult:
    """Grade every submission under `root` against `course` (`Course.load(root, names)`); see
    `grader.inputs.collect` for the layouts understood.

    Writes per-submission reports as each finishes, then `grades.csv` and the class summary.
    `jobs` submissions are graded at a time (default: the machine's cores). A submission whose
    files and course material are unchanged since its last report is not graded again unless
    `force`. `on_done(result, done, total, skipped)` is called as each submission finishes.

    Ctrl-C (KeyboardInterrupt) stops the batch: running workers are killed, the submissions
    they were grading get no report, and `grades.csv` and the summary cover what was graded.
    An output folder inside `root` is left out of the submissions (with a warning).
    `OutputError` (a report cannot be written) stops the batch the same way and is raised.
    With `cluster` (`grader.engine.cluster`), submissions are graded there, `cluster.slots` at a time.
    The expected values come from the course cache (`grader.course.cache`) unless `course_cache`
    is False; `ready` is a read of it that the caller started already (`expected_soon`).
    """
    sweep()  # the temporary folders of runs that were killed with -9
    # What the course cache holds is read, and the calls' requests encoded, while the sandbox's
    # probe runs and the submissions are read (see `expected_soon`).
    if ready is None and cluster is None:
        ready = expected_soon(course, course_cache)
    assignments = course.assignments
    modules = {m for a in assignments for m in a.modules}
    stubs = stub_hashes(course.root, sorted(modules))
    inside = output_inside(root, out)
    limits = limits or Limits()
    make_dir(out / STUDENTS)
    # The tier actually used (not "auto") belongs to the result: a report graded without a
    # sandbox must not be reused once bwrap works.
    # With a cluster, the workers' hosts sandbox (checked by its preflight); here, this machine.
    isolation = None if cluster else sandbox.resolve(limits.sandbox)
    tier = cluster.tier if cluster else isolation.tier
    course_hash = course_fingerprint(course.root, assignments, (limits, tier))
    # Each result is counted for the class reports as it comes, and not kept: its reports and
    # `.grade-result.json` hold it (`StoredResults` reads it back when asked).
    counted = Summarizer(by_name=True)
    lock = threading.Lock()
    closed = threading.Event()

    def keep(result: SubmissionResult) -> Row | None:
        with lock:
            return None if closed.is_set() else counted.add(result)

    all_modules = course_modules(course.assignments_dir) if gradebook is not None else set()
    policy = load_policy(course.assignments_dir) if gradebook is not None else None
    hashes: dict[str, dict[str, str | None]] = {}

    def release(sub: Submission) -> None:
        """Let go of `sub`'s files once it is graded (or found unchanged): a class's files are
        never all in memory at once. The gradebook needs only their hashes, taken first."""
        if gradebook is not None:
            hashes[sub.name] = work_hashes(sub, assignments, all_modules)
        sub.files = {}

    submissions: list[Submission] = []
    todo: list[tuple[Submission, str]] = []
    interrupted = False
    with Spool() as spool:
        # Read one submission at a time: skip it if unchanged, else spool its files until its turn.
        with staged_submissions(root, modules, inside) as (staged, warnings):
            total = len(staged)
            read = lambda folder, name: read_submission(folder, name, stubs)
            for one_staged in staged:
                sub = read_staged(one_staged, read)
                submissions.append(sub)
                warnings += [f"{sub.name}: {note}" for note in sub.unused]
                if gradebook is not None:  # each late submission's report says its penalty
                    sub.notes += late_notes(sub, assignments, policy, gradebook.submitted_at)
                digest = submission_fingerprint(sub, course_hash)
                cached = None if force else load_unchanged(student_folder(out, sub.name), digest)
                if cached is None:
                    spool.put(sub)
                    todo.append((sub, digest))
                    continue
                release(sub)
                keep(cached)
                if on_done:
                    on_done(cached, len(counted), total, True)
        skipped = len(counted)
        if todo:
            try:
                # The first worker template starts while the expected values are read.
                with slots.ahead(isolation, limits):
                    if cluster:
                        grade, jobs = cluster.grade, cluster.slots
                    else:
                        expected = ready.result() or expected_of(course, use_cache=course_cache)
                        grade = lambda sub, cancelled: grade_submission(sub, assignments, expected, limits, cancelled)

                    def graded(r: Row) -> None:
                        if on_done:
                            on_done(r, len(counted), total, False)

                    jobs = jobs or default_jobs()
                    interrupted = _grade_all(todo, grade, jobs, out, keep, graded, release, spool.take)
            except KeyboardInterrupt:
                interrupted = True
    with lock:
        closed.set()  # a thread left behind by Ctrl-C changes nothing from here on
    rows = counted.rows()
    table = [(a.name, a.max_points) for a in assignments]
    write_grades_csv(rows, table, out / "grades.csv")
    note = f"interrupted: {len(rows)} of {total} submissions graded" if interrupted else ""
    summary = counted.summary(table, warnings, note, isolation.instructor_notices if isolation else [])
    write_class_summary(summary, out)
    results = StoredResults(out, [r.submission for r in rows])
    if gradebook is not None:  # the semester's record (grader.gradebook.store), from the same results
        record_batch(gradebook, course.assignments_dir, submissions, results, assignments, course_hash, hashes)
    return BatchResult(results, assignments, warnings, out, total, skipped, interrupted, rows, summary)


def expected_soon(course: Course, use_cache: bool = True) -> Future[dict[str, Any] | None]:
    """Start reading `course`'s expected values from the course cache, and then encoding the
    requests of the calls they plan (`prepare_requests`), in a thread of its own: the
    expected values, or None when the cache does not hold them (then nothing is computed there:
    a run with nothing to grade must not pay for it). A daemon: a run that grades nothing does
    not wait for it, and it writes nothing. `grade run` starts it as soon as the course is
    loaded, so that it runs while the sandbox's probe does; `grade_folder` takes it as `ready`."""
    future: Future[dict[str, Any] | None] = Future()
    future.set_running_or_notify_cancel()

    def work() -> None:
        try:
            expected = cached_only(course, use_cache)
        except BaseException as exc:  # noqa: BLE001  (raised where the result is asked for)
            future.set_exception(exc)
            return
        if expected is not None:
            with contextlib.suppress(Exception):  # only a head start: grading encodes what is left
                prepare_requests(course.assignments, expected)
        future.set_result(expected)

    threading.Thread(target=work, name="expected", daemon=True).start()
    return future


def _grade_all(
    todo: list[tuple[Submission, str]],
    grade: Callable[[Submission, Callable[[], bool]], SubmissionResult],
    jobs: int,
    out: Path,
    keep: Callable[[SubmissionResult], Row | None],
    done: Callable[[Row], None],
    release: Callable[[Submission], None],
    load: Callable[[Submission], None],
) -> bool:
    """Grade `todo` on `jobs` threads (each drives one worker, here or on a cluster); True when
    interrupted. Each submission's files are loaded (`load`) when its turn comes. Each result
    is passed to `keep` once its reports are written (and not kept here: a thread returns only
    its `Row`), and the submission to `release`; `done` is told of each as the main thread sees it."""
    stop = threading.Event()

    def one(sub: Submission, digest: str) -> Row | None:
        if stop.is_set():
            raise Cancelled(sub.name)
        load(sub)
        result = grade(sub, stop.is_set)
        if stop.is_set():  # its worker may have been killed under it: the result is not to be trusted
            raise Cancelled(sub.name)
        forget(student_folder(out, sub.name))  # no hash while the reports are being replaced
        folder = write_submission_reports(result, out)
        save_state(folder, result, digest)
        release(sub)
        return keep(result)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade")
    futures = [pool.submit(one, sub, digest) for sub, digest in todo]
    try:
        for future in as_completed(futures):
            row = future.result()
            if row is not None:
                done(row)
        return False
    except KeyboardInterrupt:
        _stop(futures, stop)
        return True
    except OutputError:
        _stop(futures, stop)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _stop(futures: list[Future[Row | None]], stop: threading.Event) -> None:
    """Cancel what has not started, kill the running workers; what finished meanwhile was kept
    by its thread."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None  # a 2nd Ctrl-C must not cut it
    try:
        stop.set()
        for future in futures:
            future.cancel()
        pending = [f for f in futures if not f.done()]
        deadline = time.monotonic() + CANCEL_WAIT
        while pending and time.monotonic() < deadline:
            _kill_workers()
            _, still = wait(pending, timeout=0.05)
            pending = list(still)
        # A thread still stuck past the deadline is left behind (its result is not counted).
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _kill_workers() -> None:
    """Kill the worker process groups started by this process (Linux; elsewhere they time out).

    Workers run in their own session (`start_new_session=True`), so Ctrl-C on the terminal does
    not reach them: they are found as children of this process that lead their own group.
    """
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid, ppid, pgid = int(entry), int(fields[1]), int(fields[2])
        if ppid == me and pgid == pid:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
