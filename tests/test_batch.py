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

from click.testing import CliRunner

from conftest import ROOT
from grader.batch import Course, default_jobs, grade_folder
from grader.cli import main
from grader.course import load_assignments
from grader.progress import Progress
from grader.runner import Limits

EXAMPLES = ROOT / "examples" / "submit"
SKIPPED = "(unchanged, not regraded)"


def _class(tmp_path: Path, names=("ada_perfect", "cai_softmax_axis")) -> Path:
    submit = tmp_path / "submit"
    for name in names:
        shutil.copytree(EXAMPLES / name, submit / name)
    return submit


def _course(tmp_path: Path) -> Path:
    """A copy of the course with only the forward assignment (so edits do not touch the real one)."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "forward", course / "assignments" / "forward")
    (course / "assignments" / "course.toml").write_text('assignments = ["forward"]\n')
    (course / "reference").mkdir()
    shutil.copy(ROOT / "reference" / "forward.py", course / "reference" / "forward.py")
    return course


def _grade(submit: Path, out: Path, course: Path, *extra: str):
    return CliRunner().invoke(main, [str(submit), "--out", str(out), "--course", str(course),
                                     "--timeout", "0.5", *extra])


def test_regrading_skips_unchanged_submissions_and_force_regrades_all(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    first = _grade(submit, out, course)
    assert first.exit_code == 0, first.output
    assert (out / "students" / "ada_perfect" / ".grade-hash").exists()
    stamp = (out / "students" / "ada_perfect" / "results.json").stat().st_mtime_ns

    again = _grade(submit, out, course)
    assert again.exit_code == 0, again.output
    assert again.output.count(SKIPPED) == 2
    assert (out / "students" / "ada_perfect" / "results.json").stat().st_mtime_ns == stamp
    rows = list(csv.reader((out / "grades.csv").open()))
    assert [r[0] for r in rows[2:]] == ["ada_perfect", "cai_softmax_axis"]
    assert rows[2][-2] == rows[1][-2]  # the stored result still counts in grades.csv

    with (submit / "cai_softmax_axis" / "forward.py").open("a") as f:
        f.write("\n# fixed later\n")
    changed = _grade(submit, out, course)
    assert changed.output.count(SKIPPED) == 1
    full = sum(c.points for c in load_assignments(course / "assignments")[0].checks)
    assert f"ada_perfect: {full:g}/{full:g} {SKIPPED}" in changed.output

    forced = _grade(submit, out, course, "--force")
    assert SKIPPED not in forced.output
    assert (out / "students" / "ada_perfect" / "results.json").stat().st_mtime_ns != stamp


def test_a_change_in_the_checks_or_the_time_limit_regrades_everyone(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    assert _grade(submit, out, course).exit_code == 0
    with (course / "assignments" / "forward" / "mistakes.py").open("a") as f:
        f.write("\n# a new mistake, one day\n")
    assert SKIPPED not in _grade(submit, out, course).output
    assert _grade(submit, out, course).output.count(SKIPPED) == 2
    assert SKIPPED not in _grade(submit, out, course, "--timeout", "0.6").output


def test_a_half_written_report_is_regraded(tmp_path):
    submit, out, course = _class(tmp_path, ["ada_perfect"]), tmp_path / "out", _course(tmp_path)
    assert _grade(submit, out, course).exit_code == 0
    (out / "students" / "ada_perfect" / "feedback.html").unlink()
    result = _grade(submit, out, course)
    assert SKIPPED not in result.output and (out / "students" / "ada_perfect" / "feedback.html").exists()


def test_class_reports_and_progress_lines_when_not_a_terminal(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    result = _grade(submit, out, course, "-j", "2")
    assert result.exit_code == 0
    assert "[1/2] " in result.output and "[2/2] " in result.output
    for name in ("grades.csv", "summary.md", "summary.html", "score_histogram.svg"):
        assert (out / name).exists(), name
    assert (out / "students" / "cai_softmax_axis" / "feedback.html").read_text().startswith("<!DOCTYPE html>")
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

    from grader.grading import SubmissionResult

    stream = Tty()
    bar = Progress(3, stream)
    for name in ("a", "b", "c"):
        bar.update(SubmissionResult(name, [], 0.1))
    bar.close()
    assert stream.text.count("\r") == 3 and stream.text.endswith("\n") and stream.text.count("\n") == 1
    assert "3/3" in stream.text and "[" + "#" * 10 in stream.text


def test_jobs_default_to_the_cores_available():
    assert default_jobs() == len(os.sched_getaffinity(0))


def test_a_zip_of_the_class_is_graded(tmp_path):
    import zipfile

    course = _course(tmp_path)
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(EXAMPLES / "ada_perfect" / "forward.py", "adaperfect_11_21_forward.py")
        z.write(EXAMPLES / "cai_softmax_axis" / "forward.py", "caisoftmax_late_12_22_forward-1.py")
        z.writestr("notes.txt", "not a submission")
    batch = grade_folder(archive, tmp_path / "out", Course(course), limits=Limits(call_timeout=0.5), jobs=2)
    assert [r.submission for r in batch.results] == ["adaperfect", "caisoftmax"]
    assert batch.results[0].score == batch.results[0].max_score > batch.results[1].score


def test_ctrl_c_stops_cleanly_and_keeps_the_reports_already_written(tmp_path):
    submit, out, course = _class(tmp_path), tmp_path / "out", _course(tmp_path)
    # The forward assignment stops a call after 2 s: allow 30 here, so the slow submission is
    # still running when Ctrl-C comes, however loaded the machine is.
    settings = course / "assignments" / "forward" / "assignment.toml"
    settings.write_text(settings.read_text().replace("call_timeout = 2.0", "call_timeout = 30.0"))
    marker = f"slow-{os.getpid()}-{time.time_ns()}"
    endless = f"def sigmoid(z):\n    '{marker}'\n    while True:\n        pass\n\n\ndef _unused(z):"
    slow = (EXAMPLES / "ada_perfect" / "forward.py").read_text().replace("def sigmoid(z):", endless, 1)
    (submit / "zz_slow").mkdir()
    (submit / "zz_slow" / "forward.py").write_text(slow)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", str(submit), "--out", str(out), "--course", str(course),
         "-j", "3", "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # A test run started in the background inherits SIGINT ignored, and Python then keeps it
        # ignored: give the child the default disposition a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not all((out / "students" / n / ".grade-hash").exists() for n in ("ada_perfect", "cai_softmax_axis")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the two quick submissions were not graded in time: {proc.communicate()}")
        time.sleep(0.05)
    time.sleep(0.3)  # the slow submission is inside its endless loop by now
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert "Interrupted: 2 of 3 submissions graded" in stderr
    assert (out / "students" / "ada_perfect" / "results.json").exists()
    assert (out / "students" / "cai_softmax_axis" / "feedback.md").exists()
    assert not (out / "students" / "zz_slow").exists()
    rows = list(csv.reader((out / "grades.csv").open()))
    assert [r[0] for r in rows[2:]] == ["ada_perfect", "cai_softmax_axis"]
    assert "interrupted" in (out / "summary.md").read_text()
    time.sleep(0.2)
    assert not _processes_running(marker), "the slow submission's worker survived Ctrl-C"


def _processes_running(marker: str) -> list[int]:
    """Processes whose working directory holds a forward.py containing `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cwd/forward.py").read_text():
                found.append(int(pid))
        except (OSError, UnicodeDecodeError):
            continue
    return found
