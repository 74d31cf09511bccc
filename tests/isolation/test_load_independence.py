"""The same class gets the same scores on an idle machine at -j 1 and on a busy one at -j 4.

The busy machine is made here: the grader and all its workers are pinned to one CPU, which
six busy-loop processes (started and stopped by the test) share with them, and the call
limit is short (1 s, while `backprop.train_xor` alone computes for about 0.2 s). Counted on
the wall clock, such a limit would stop correct calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grader
from conftest import ROOT

EXAMPLES = ROOT / "examples" / "submit"
CHECKOUT = str(Path(grader.__file__).resolve().parent.parent)


def _class(folder: Path) -> Path:
    """Two correct submissions and one with a typical mistake, each with forward.py and backprop.py."""
    for name in ("ada_perfect", "cai_softmax_axis"):
        (folder / name).mkdir(parents=True)
        for module in ("forward.py", "backprop.py"):
            shutil.copy(EXAMPLES / name / module, folder / name / module)
    (folder / "ref").mkdir()
    for module in ("forward.py", "backprop.py"):
        shutil.copy(ROOT / "reference" / module, folder / "ref" / module)
    return folder


def _grade(submit: Path, out: Path, jobs: int, cpu: int | None = None) -> list[str]:
    """The rows of grades.csv after `python -m grader` on `submit` (pinned to `cpu` if given)."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    done = subprocess.run(
        [sys.executable, "-m", "grader", str(submit), "--out", str(out), "-a", "forward", "-a", "backprop",
         "-j", str(jobs), "--timeout", "1", "--force", "-q"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": CHECKOUT}, preexec_fn=pin, timeout=900)
    assert done.returncode == 0, done.stderr
    return (out / "grades.csv").read_text().splitlines()


def test_a_busy_machine_at_j4_grades_exactly_like_an_idle_one_at_j1(tmp_path):
    submit = _class(tmp_path / "submit")
    idle = _grade(submit, tmp_path / "idle", jobs=1)
    cpu = min(os.sched_getaffinity(0))
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True,
                              preexec_fn=lambda: os.sched_setaffinity(0, {cpu})) for _ in range(6)]
    try:
        busy = _grade(submit, tmp_path / "busy", jobs=4, cpu=cpu)
    finally:
        for p in loops:
            p.kill()
        for p in loops:
            p.wait()
    assert busy == idle
    rows = {row.split(",")[0]: row for row in idle[2:]}
    assert sorted(rows) == ["ada_perfect", "cai_softmax_axis", "ref"]
    # The correct ones have full marks, with status ok; the buggy one lost points, without a timeout.
    possible = idle[1].split(",")
    assert rows["ref"].split(",")[1:-1] == possible[1:-1] and rows["ref"].endswith(",ok")
    assert rows["ada_perfect"] == rows["ref"].replace("ref", "ada_perfect", 1)
    assert float(rows["cai_softmax_axis"].split(",")[-2]) < float(possible[-2])
    assert rows["cai_softmax_axis"].endswith(",ok")
