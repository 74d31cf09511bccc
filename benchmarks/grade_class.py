"""Benchmark: grade a synthetic class and compare with a bare `python -I -c "import numpy"`.

    python benchmarks/grade_class.py                 # 200 submissions, all cores
    python benchmarks/grade_class.py -n 1000 -j 2    # the class-scale target

The class is built from `examples/submit/` (correct, buggy, broken and hostile submissions
mixed; see --mix) in a temporary folder, graded with the real pipeline (`grader.batch`), and
the figures printed: submissions per second, the time of one correct submission at -j 1 beside
the bare NumPy import measured in the same run, and the peak memory of grader and workers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch import Course, grade_folder  # noqa: E402
from grader.course import Reference, compute_expected, load_assignments  # noqa: E402
from grader.discover import read_submission  # noqa: E402
from grader.grading import grade_submission  # noqa: E402
from grader.runner import Limits  # noqa: E402

EXAMPLES = ROOT / "examples" / "submit"
PERFECT = "ada_perfect"


def bare_numpy_import(repeat: int = 7) -> float:
    """Median seconds of `python -I -c "import numpy"`."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def one_correct_submission(repeat: int = 7) -> float:
    """Median seconds to grade the perfect example at -j 1 (expected values precomputed)."""
    assignments = load_assignments(ROOT / "assignments")
    reference = Reference(ROOT / "reference", [m for a in assignments for m in a.mistakes])
    expected = compute_expected(assignments, reference)
    submission = read_submission(EXAMPLES / PERFECT, PERFECT)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = grade_submission(submission, assignments, expected)
        times.append(time.perf_counter() - started)
        assert result.score == result.max_score, "the perfect example lost points"
    return statistics.median(times)


def build_class(dest: Path, n: int, mix: list[str]) -> None:
    """`n` submissions cycling through the example submissions named in `mix`."""
    for i in range(n):
        source = EXAMPLES / mix[i % len(mix)]
        shutil.copytree(source, dest / f"s{i:04d}_{source.name}")


def default_mix() -> list[str]:
    """Every example once per ten submissions: about 10% perfect, the rest buggy or broken."""
    return sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200, help="submissions in the class (default 200)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-call timeout (seconds)")
    parser.add_argument("--mix", nargs="*", default=None, help="example submissions to cycle through")
    args = parser.parse_args()

    bare = bare_numpy_import()
    single = one_correct_submission()
    print(f"bare `python -I -c 'import numpy'`:        {bare * 1000:7.1f} ms (median of 7)")
    print(f"one correct submission, -j 1:             {single * 1000:7.1f} ms "
          f"({single / bare:.2f}x the bare import; target <= 1.5x)")

    mix = args.mix or default_mix()
    with tempfile.TemporaryDirectory() as tmp:
        submit, out = Path(tmp, "submit"), Path(tmp, "reports")
        submit.mkdir()
        build_class(submit, args.n, mix)
        started = time.perf_counter()
        batch = grade_folder(submit, out, Course(ROOT), limits=Limits(call_timeout=args.timeout), jobs=args.jobs)
        elapsed = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for r in batch.results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    grader_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"class of {len(batch.results)} submissions, -j {args.jobs}:    {elapsed:7.1f} s "
          f"({len(batch.results) / elapsed:.1f} submissions/s; {elapsed / len(batch.results) * 1000:.0f} ms each)")
    print(f"  statuses: {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}")
    print(f"peak memory: grader {grader_mb:.0f} MiB, largest worker {worker_mb:.0f} MiB")


if __name__ == "__main__":
    main()
