"""Grade a whole class: discover submissions, compute expected values once, grade, report.

One submission's failure (a crash, a hang, a hostile file) never stops the batch: each
submission is graded in its own worker, and its reports are written as soon as it is done.
Submissions run in parallel on threads, each driving its own worker process; unchanged
submissions are not regraded (`grader.regrade`); Ctrl-C keeps every report already written.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader import sandbox
from grader.course import Assignment, Reference, compute_expected, load_assignments
from grader.discover import Submission, read_submission
from grader.grading import Cancelled, SubmissionResult, grade_submission
from grader.inputs import collect_submissions
from grader.regrade import course_fingerprint, load_unchanged, save_state, submission_fingerprint
from grader.report import write_grades_csv, write_submission_reports
from grader.runner import Limits
from grader.summary import write_summary
from grader.template import stub_hashes

if TYPE_CHECKING:
    from grader.cluster import ClusterGrader


@dataclass
class Course:
    """Where the course material lives."""

    root: Path

    @property
    def assignments_dir(self) -> Path:
        return self.root / "assignments"

    @property
    def reference_dir(self) -> Path:
        return self.root / "reference"


def default_course_root() -> Path:
    """`$GRADER_COURSE`, or the checkout this grader was installed from."""
    env = os.environ.get("GRADER_COURSE")
    return Path(env) if env else Path(__file__).resolve().parent.parent


@dataclass
class BatchResult:
    """What one run graded and where the reports went."""

    results: list[SubmissionResult]
    assignments: list[Assignment]
    warnings: list[str]
    out: Path
    total: int = 0
    """submissions found (more than `results` when the run was interrupted)"""
    skipped: int = 0
    """submissions not regraded: unchanged since their last report"""
    interrupted: bool = False
    """stopped by Ctrl-C: `results` holds what was graded before"""


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def grade_folder(
    root: Path,
    out: Path,
    course: Course,
    names: list[str] | None = None,
    limits: Limits | None = None,
    jobs: int | None = None,
    on_done: Callable[[SubmissionResult, int, int, bool], None] | None = None,
    force: bool = False,
    cluster: ClusterGrader | None = None,
) -> BatchResult:
    """Grade every submission under `root` (see `grader.inputs` for the layouts understood).

    Writes per-submission reports as each finishes, then `grades.csv` and the class summary.
    `jobs` submissions are graded at a time (default: the machine's cores). A submission whose
    files and course material are unchanged since its last report is not graded again unless
    `force`. `on_done(result, done, total, skipped)` is called as each submission finishes.

    Ctrl-C (KeyboardInterrupt) stops the batch: running workers are killed, the submissions
    they were grading get no report, and `grades.csv` and the summary cover what was graded.
    With `cluster` (`grader.cluster`), submissions are graded there, `cluster.slots` at a time.
    """
    assignments = load_assignments(course.assignments_dir, names)
    modules = {m for a in assignments for m in a.modules}
    stubs = stub_hashes(course.root, sorted(modules))
    submissions, warnings = collect_submissions(root, modules, lambda f, n: read_submission(f, n, stubs))
    limits = limits or Limits()
    out.mkdir(parents=True, exist_ok=True)
    # The tier actually used (not "auto") belongs to the result: a report graded without a
    # sandbox must not be reused once bwrap works.
    tier = cluster.tier if cluster else sandbox.resolve(limits.sandbox).tier
    course_hash = course_fingerprint(course.root, assignments, (limits, tier))
    total = len(submissions)
    results: list[SubmissionResult] = []
    todo: list[tuple[Submission, str]] = []
    for sub in submissions:
        digest = submission_fingerprint(sub, course_hash)
        cached = None if force else load_unchanged(out / sub.name, digest)
        if cached is None:
            todo.append((sub, digest))
            continue
        results.append(cached)
        if on_done:
            on_done(cached, len(results), total, True)
    skipped = len(results)
    interrupted = False
    if todo:
        try:
            if cluster:
                grade, jobs = cluster.grade, cluster.slots
            else:
                reference = Reference(course.reference_dir, [m for a in assignments for m in a.mistakes])
                expected = compute_expected(assignments, reference)
                grade = lambda sub, cancelled: grade_submission(sub, assignments, expected, limits, cancelled)

            def graded(r: SubmissionResult) -> None:
                if on_done:
                    on_done(r, len(results), total, False)

            jobs = jobs or default_jobs()
            interrupted = _grade_all(todo, grade, jobs, out, results, graded)
        except KeyboardInterrupt:
            interrupted = True
    results.sort(key=lambda r: r.submission)
    table = [(a.name, a.max_points) for a in assignments]
    write_grades_csv(results, table, out / "grades.csv")
    note = f"interrupted: {len(results)} of {total} submissions graded" if interrupted else ""
    write_summary(results, table, out, warnings, note)
    return BatchResult(results, assignments, warnings, out, total, skipped, interrupted)


def _grade_all(
    todo: list[tuple[Submission, str]],
    grade: Callable[[Submission, Callable[[], bool]], SubmissionResult],
    jobs: int,
    out: Path,
    results: list[SubmissionResult],
    done: Callable[[SubmissionResult], None],
) -> bool:
    """Grade `todo` on `jobs` threads (each drives one worker, here or on a cluster); True when interrupted."""
    stop = threading.Event()

    def one(sub: Submission, digest: str) -> SubmissionResult:
        result = grade(sub, stop.is_set)
        if stop.is_set():  # its worker may have been killed under it: the result is not to be trusted
            raise Cancelled(sub.name)
        folder = write_submission_reports(result, out)
        save_state(folder, result, digest)
        return result

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade")
    futures = [pool.submit(one, sub, digest) for sub, digest in todo]
    counted: set[Future[SubmissionResult]] = set()
    try:
        for future in as_completed(futures):
            results.append(future.result())
            counted.add(future)
            done(results[-1])
        return False
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        try:
            stop.set()
            for future in futures:
                future.cancel()
            pending = [f for f in futures if not f.done()]
            while pending:
                _kill_workers()
                _, still = wait(pending, timeout=0.05)
                pending = list(still)
            for future in futures:
                if future not in counted and not future.cancelled() and future.exception() is None:
                    results.append(future.result())  # finished before the stop, not yet counted
        finally:
            signal.signal(signal.SIGINT, previous)
        return True
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


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
