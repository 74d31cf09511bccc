"""A class at scale: regrades skip what is unchanged, Ctrl-C keeps what was graded, progress."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, grader_command, grader_env, processes_running, report_dir
from grader.cli.commands import main
from grader.course.loading import Course, load_assignment
from grader.engine.batch import grade_folder
from grader.model import Limits
from grader.reports.progress import Progress

EXAMPLES = ROOT / "examples" / "submit"
SKIPPED = "(unchanged, not regraded)"
FORWARD_POINTS = sum(c.points for c in load_assignment(ROOT / "assignments" / "forward").checks)
"""full marks on the forward assignment: the points its checks declare"""


def _class(tmp_path: Path, names=("ada_perfect", "cai_softmax_axis")) -> Path:
    submit = tmp_path / "submit"
    for name in names:
        shutil.copytree(EXAMPLES / name, submit / name)
    return submit


# No submission here hangs: a per-call limit no load can reach, so full marks never depend on
# how busy the machine is. (Hanging submissions have their own tests, with short limits.)
ROOMY = 60.0


def _course(tmp_path: Path) -> Path:
    """A copy of the course with only the forward assignment (so edits do not touch the real one),
    its per-call limit raised to ROOMY."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "forward", course / "assignments" / "forward")
    (course / "assignments" / "course.toml").write_text('assignments = ["forward"]\n')
    (course / "reference").mkdir()
    shutil.copy(ROOT / "reference" / "forward.py", course / "reference" / "forward.py")
    settings = course / "assignments" / "forward" / "assignment.toml"
    text = settings.read_text()
    assert text.count("call_timeout = 2.0") == 1
    settings.write_text(text.replace("call_timeout = 2.0", f"call_timeout = {ROOMY}"))
    return course


def _grade(submit: Path, out: Path, course: Path, *extra: str):
    timeout = [] if "--timeout" in extra else ["--timeout", str(ROOMY)]
    return CliRunner().invoke(main, [str(submit), "--out", str(out), "--course", str(course), *timeout, *extra])


def test_regrading_skips_unchanged_submissions_and_force_regrades_all(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    first = _grade(submit, out, course)
    assert first.exit_code == 0, first.output
    assert (report_dir(out, "ada_perfect") / ".grade-hash").exists()
    stamp = (report_dir(out, "ada_perfect") / "results.json").stat().st_mtime_ns

    again = _grade(submit, out, course)
    assert again.exit_code == 0, again.output
    assert again.output.count(SKIPPED) == 2
    assert (report_dir(out, "ada_perfect") / "results.json").stat().st_mtime_ns == stamp
    rows = list(csv.reader((out / "grades.csv").open()))
    assert [r[0] for r in rows[2:]] == ["ada_perfect", "cai_softmax_axis"]
    assert rows[2][-2] == rows[1][-2]  # the stored result still counts in grades.csv

    with (submit / "cai_softmax_axis" / "forward.py").open("a") as f:
        f.write("\n# fixed later\n")
    changed = _grade(submit, out, course)
    assert changed.output.count(SKIPPED) == 1
    assert f"ada_perfect: {FORWARD_POINTS:g}/{FORWARD_POINTS:g} {SKIPPED}" in changed.output

    forced = _grade(submit, out, course, "--force")
    assert SKIPPED not in forced.output
    assert (report_dir(out, "ada_perfect") / "results.json").stat().st_mtime_ns != stamp


def test_a_change_in_the_checks_or_the_time_limit_regrades_everyone(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    assert _grade(submit, out, course).exit_code == 0
    with (course / "assignments" / "forward" / "mistakes.py").open("a") as f:
        f.write("\n# a new mistake, one day\n")
    assert SKIPPED not in _grade(submit, out, course).output
    assert _grade(submit, out, course).output.count(SKIPPED) == 2
    assert SKIPPED not in _grade(submit, out, course, "--timeout", str(ROOMY + 1)).output


def test_an_edited_reference_regrades_everyone(tmp_path):
    # README: "a rerun after a fix to one assignment regrades everyone" -- the reference included.
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    assert _grade(submit, out, course).exit_code == 0
    assert _grade(submit, out, course).output.count(SKIPPED) == 2
    with (course / "reference" / "forward.py").open("a") as f:
        f.write("\n# a comment in the reference\n")
    again = _grade(submit, out, course)
    assert again.exit_code == 0, again.output
    assert SKIPPED not in again.output
    assert again.output.count(f"ada_perfect: {FORWARD_POINTS:g}/{FORWARD_POINTS:g} (ok") == 1


def test_a_half_written_report_is_regraded(tmp_path):
    submit, out, course = _class(tmp_path, ["ada_perfect"]), tmp_path / "out", _course(tmp_path)
    assert _grade(submit, out, course).exit_code == 0
    (report_dir(out, "ada_perfect") / "feedback.html").unlink()
    result = _grade(submit, out, course)
    assert SKIPPED not in result.output and (report_dir(out, "ada_perfect") / "feedback.html").exists()


def test_class_reports_and_progress_lines_when_not_a_terminal(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    result = _grade(submit, out, course, "-j", "2")
    assert result.exit_code == 0
    assert "[1/2] " in result.output and "[2/2] " in result.output
    for name in ("grades.csv", "summary.md", "summary.html", "score_histogram.svg"):
        assert (out / name).exists(), name
    assert (report_dir(out, "cai_softmax_axis") / "feedback.html").read_text().startswith("<!DOCTYPE html>")
    assert "softmax over the wrong axis" in (out / "summary.md").read_text()


def test_progress_bar_on_a_terminal_redraws_one_line():
    class Tty:
        text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

        def isatty(self):
            return True

    from grader.model import SubmissionResult

    stream = Tty()
    bar = Progress(3, stream)
    for name in ("a", "b", "c"):
        bar.update(SubmissionResult(name, [], 0.1))
    bar.close()
    assert stream.text.count("\r") == 3 and stream.text.endswith("\n") and stream.text.count("\n") == 1
    frames = stream.text.rstrip("\n").split("\r")[1:]
    bars = [f[1:f.index("]")] for f in frames]
    # one third, two thirds, then all of the bar filled (rounded to whole characters)
    assert [b.count("#") for b in bars] == [round(len(b) * k / 3) for k, b in enumerate(bars, 1)]
    assert set(bars[-1]) == {"#"} and len(bars[-1]) >= 10
    assert [f.split("]")[1].split()[0] for f in frames] == ["1/3", "2/3", "3/3"]


def test_jobs_default_to_the_cores_this_process_may_use():
    # Pinned to one core, a process may use one, however many the machine has.
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this system")
    program = ("import os; from grader.engine.batch import default_jobs; "
               "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); print(default_jobs())")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=grader_env())
    assert proc.stdout.strip() == "1", proc.stderr


def test_a_zip_of_the_class_is_graded(tmp_path):
    import zipfile

    course = _course(tmp_path)
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(EXAMPLES / "ada_perfect" / "forward.py", "adaperfect_11_21_forward.py")
        z.write(EXAMPLES / "cai_softmax_axis" / "forward.py", "caisoftmax_late_12_22_forward-1.py")
        z.writestr("notes.txt", "not a submission")
    batch = grade_folder(archive, tmp_path / "out", Course.load(course), limits=Limits(call_timeout=ROOMY), jobs=2)
    assert [r.submission for r in batch.results] == ["adaperfect", "caisoftmax"]
    assert batch.results[0].score == batch.results[0].max_score > batch.results[1].score


def test_ctrl_c_stops_cleanly_and_keeps_the_reports_already_written(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    # The course copy allows ROOMY seconds a call and the command 30: the slow submission is
    # still running when Ctrl-C comes, however loaded the machine is.
    marker = f"slow-{os.getpid()}-{time.time_ns()}"
    endless = f"def sigmoid(z):\n    '{marker}'\n    while True:\n        pass\n\n\ndef _unused(z):"
    slow = (EXAMPLES / "ada_perfect" / "forward.py").read_text().replace("def sigmoid(z):", endless, 1)
    (submit / "zz_slow").mkdir()
    (submit / "zz_slow" / "forward.py").write_text(slow)
    proc = subprocess.Popen(
        grader_command(str(submit), "--out", str(out), "--course", str(course), "-j", "3", "--timeout", "30"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=grader_env(),
        # A test run started in the background inherits SIGINT ignored, and Python then keeps it
        # ignored: give the child the default disposition a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    quick_ones_done = lambda: all(
        (report_dir(out, n) / ".grade-hash").exists() for n in ("ada_perfect", "cai_softmax_axis"))
    if not _poll(lambda: proc.poll() is not None or (quick_ones_done() and processes_running(marker)), 120):
        proc.kill()
        raise AssertionError(f"the batch did not get to the slow submission in time: {proc.communicate()}")
    assert proc.poll() is None and quick_ones_done(), proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert "Interrupted: 2 of 3 submissions graded" in stderr
    assert (report_dir(out, "ada_perfect") / "results.json").exists()
    assert (report_dir(out, "cai_softmax_axis") / "feedback.md").exists()
    assert not report_dir(out, "zz_slow").exists()
    rows = list(csv.reader((out / "grades.csv").open()))
    assert [r[0] for r in rows[2:]] == ["ada_perfect", "cai_softmax_axis"]
    assert "interrupted" in (out / "summary.md").read_text()
    assert _poll(lambda: not processes_running(marker), 10), "the slow submission's worker survived Ctrl-C"


def _poll(condition, seconds: float) -> bool:
    """Whether `condition()` became true before `seconds` passed (asked every 50 ms)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_batch_keeps_no_result_in_memory_and_reads_each_back_whole(tmp_path, monkeypatch):
    # The class reports are counted as results come; each full result (its messages) is dropped
    # once its reports are written, and `BatchResult.results` reads it back from the folder.
    import gc
    import weakref

    import grader.engine.batch
    from grader.model import CheckResult, SubmissionResult

    submit = tmp_path / "submit"
    for i in range(24):
        (submit / f"s{i:02d}").mkdir(parents=True)
        (submit / f"s{i:02d}" / "forward.py").write_text(f"X = {i}\n")
    alive: list[weakref.ref] = []

    def result_of(name: str) -> SubmissionResult:
        k = int(name[1:])
        checks = [CheckResult("forward", f"forward.f: case {j}", "forward", "f", 1.0, float(j < k % 5), True,
                              j < k % 5, message="x" * 5000 if j >= k % 5 else "") for j in range(4)]
        return SubmissionResult(name, checks, 0.25, output=f"printed by {name}")

    def fake_grade(sub, assignments, expected, limits, cancelled):
        result = result_of(sub.name)
        alive.append(weakref.ref(result))
        return result

    monkeypatch.setattr(grader.engine.batch, "grade_submission", fake_grade)
    monkeypatch.setattr(grader.engine.batch, "expected_of", lambda *a, **k: {})
    batch = grade_folder(submit, tmp_path / "out", Course.load(_course(tmp_path)), jobs=2, force=True)
    gc.collect()
    assert len(alive) == 24 and [r for r in alive if r() is not None] == []
    assert [r.submission for r in batch.rows] == [f"s{i:02d}" for i in range(24)]
    assert [r.score for r in batch.rows] == [float(i % 5 if i % 5 < 4 else 4) for i in range(24)]
    assert list(batch.results) == [result_of(f"s{i:02d}") for i in range(24)]
    assert batch.results[3] == result_of("s03") and batch.results[-1].output == "printed by s23"
    with open(tmp_path / "out" / "grades.csv", newline="") as f:
        assert len(list(csv.reader(f))) == 2 + 24
    assert batch.summary is not None and len(batch.summary.results) == 24


def test_a_batch_holds_only_the_files_being_read_or_graded_and_grades_what_it_read(tmp_path, monkeypatch):
    # Every submission is read before any is graded, but its files wait on disk (the spool):
    # in memory are only those of the submission being read and of those being graded. What is
    # graded is what was read and fingerprinted, even if the input changes during the batch.
    import threading

    import grader.engine.batch as batch
    from grader.model import SubmissionResult

    submit = tmp_path / "submit"
    sources = {f"s{i:02d}": f"X = {i}\n# {'pad ' * (50 * i)}\n".encode() for i in range(12)}
    for name, source in sources.items():
        (submit / name).mkdir(parents=True)
        (submit / name / "forward.py").write_bytes(source)
    seen: list = []
    holding: list[int] = []
    graded: dict[str, dict[str, bytes]] = {}
    lock = threading.Lock()
    read_staged = batch.read_staged

    def reading(staged, read):
        sub = read_staged(staged, read)
        with lock:
            seen.append(sub)
            holding.append(sum(bool(s.files) for s in seen))
        return sub

    def fake_grade(sub, assignments, expected, limits, cancelled):
        with lock:
            holding.append(sum(bool(s.files) for s in seen))
            graded[sub.name] = dict(sub.files)
        if sub.name == "s00":  # another student's file changes on disk after it was read
            (submit / "s07" / "forward.py").write_bytes(b"X = 'changed'\n")
        return SubmissionResult(sub.name, [], 0.01)

    monkeypatch.setattr(batch, "read_staged", reading)
    monkeypatch.setattr(batch, "grade_submission", fake_grade)
    monkeypatch.setattr(batch, "expected_of", lambda *a, **k: {})
    course = Course.load(_course(tmp_path))
    grade_folder(submit, tmp_path / "out", course, jobs=2)
    assert len(holding) == 24 and holding[:12] == [1] * 12  # while reading: the one just read
    assert 1 <= max(holding[12:]) <= 2  # while grading: at most one per job
    assert graded == {name: {"forward.py": source} for name, source in sources.items()}
    assert all(s.files == {} for s in seen)
    # a rerun regrades only the submission whose file changed, with its new content
    graded.clear()
    again = grade_folder(submit, tmp_path / "out", course, jobs=2)
    assert again.skipped == 11 and graded == {"s07": {"forward.py": b"X = 'changed'\n"}}


def test_a_batch_killed_with_minus_9_leaves_no_temporary_folder_after_the_next_run(tmp_path):
    # kill -9 gives the batch no chance to remove its spool, its inputs' staging or the
    # scratch copy of the submission being graded; the next run removes them (grader.tempdirs).
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    base = tmp_path / "tmp"
    base.mkdir()
    marker = f"slow-{os.getpid()}-{time.time_ns()}"
    endless = f"def sigmoid(z):\n    '{marker}'\n    while True:\n        pass\n\n\ndef _unused(z):"
    slow = (EXAMPLES / "ada_perfect" / "forward.py").read_text().replace("def sigmoid(z):", endless, 1)
    (submit / "zz_slow").mkdir()
    (submit / "zz_slow" / "forward.py").write_text(slow)
    command = grader_command(str(submit), "--out", str(out), "--course", str(course), "-j", "1", "--timeout", "30")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=grader_env(TMPDIR=str(base)))
    try:
        assert _poll(lambda: proc.poll() is None and processes_running(marker), 120), "the slow one never ran"
        left = sorted(p.name.split("-")[1] if p.name.count("-") > 1 else "scratch" for p in base.glob("grade-*"))
        assert "spool" in left and "scratch" in left, left
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _poll(lambda: not processes_running(marker), 30), "the slow submission's worker survived the grader"
    assert list(base.glob("grade-*")), "kill -9 should have left the folders behind"
    shutil.rmtree(submit / "zz_slow")
    again = subprocess.run(command, capture_output=True, text=True, env=grader_env(TMPDIR=str(base)), timeout=300)
    assert again.returncode == 0, again.stderr
    assert list(base.glob("grade-*")) == []
