"""Benchmark: the same class graded on an idle machine and on a busy one must get the same scores.

    python benchmarks/load_independence.py                  # 8 students, 6 busy loops on one CPU, --timeout 1
    python benchmarks/load_independence.py -n 20 --loops 8 --timeout 0.5

Builds a class of copies of the example submissions (`examples/submit/`), grades it with
`python -m grader` at `-j 1` on the idle machine, then again at `-j 4` with the grader, its
workers and `--loops` busy-loop processes all pinned to one CPU (the busy loops are started
here and stopped at the end), and compares the two `grades.csv` row by row. It prints the wall
time of both runs and every row that differs; the exit status is 1 when any does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "submit"


def make_class(folder: Path, students: int) -> None:
    """`students` copies of the example submissions, round robin."""
    examples = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    for i in range(students):
        shutil.copytree(examples[i % len(examples)], folder / f"s{i:03d}_{examples[i % len(examples)].name}")


def grade(submit: Path, out: Path, jobs: int, timeout: float, cpu: int | None) -> tuple[list[str], float]:
    """The rows of grades.csv and the wall time of one run of the grader."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "grader", str(submit), "--out", str(out), "-j", str(jobs),
                    "--timeout", str(timeout), "--force", "-q"], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=pin)
    return (out / "grades.csv").read_text().splitlines(), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=8, help="students in the class")
    parser.add_argument("--loops", type=int, default=6, help="busy-loop processes on the grader's CPU")
    parser.add_argument("--timeout", type=float, default=1.0, help="the grader's --timeout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        work = Path(tmp)
        make_class(work / "submit", args.n)
        idle, idle_s = grade(work / "submit", work / "idle", 1, args.timeout, None)
        cpu = min(os.sched_getaffinity(0))
        loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True,
                                  preexec_fn=lambda: os.sched_setaffinity(0, {cpu})) for _ in range(args.loops)]
        try:
            busy, busy_s = grade(work / "submit", work / "busy", 4, args.timeout, cpu)
        finally:
            for p in loops:
                p.kill()
            for p in loops:
                p.wait()
    print(f"idle, -j 1: {idle_s:.1f} s; busy (one CPU, {args.loops} busy loops), -j 4: {busy_s:.1f} s; "
          f"{args.n} students, --timeout {args.timeout:g}")
    differ = [(a, b) for a, b in zip(idle, busy) if a != b] + [(a, "") for a in idle[len(busy):]]
    for a, b in differ:
        print(f"  idle: {a}\n  busy: {b}")
    print("same scores" if not differ and len(idle) == len(busy) else f"{len(differ)} rows differ")
    return 1 if differ or len(idle) != len(busy) else 0


if __name__ == "__main__":
    sys.exit(main())
