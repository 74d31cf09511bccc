"""Benchmark: grade a synthetic class and compare with a bare `python -I -c "import numpy"`.

    python benchmarks/grade_class.py                    # 200 submissions, all cores
    python benchmarks/grade_class.py -n 1000 -j 2       # the class-scale target
    python benchmarks/grade_class.py -n 0 --profile     # where one correct submission's time goes
    python benchmarks/grade_class.py -n 40 -j 2 --cluster local:2   # -j 2 beside a Dask cluster

The class covers every assignment of `assignments/course.toml`. Each student has all the
modules: copies of `reference/*.py` with the solution markers removed, changed according to
the student's kind (the mix is printed; per 100 students):

- 40 correct;
- 45 buggy: one or two modules with a one-line mutation of the reference (a wrong axis, a
  missing transpose, a missing 1/m...), or the forward module of one of the buggy examples
  in `examples/submit/`;
- 12 broken: a syntax error, an untouched template stub, a missing module, a function that
  raises;
- 3 hostile: an infinite loop (1%), `os._exit` at import, a flood of output.

It is graded with the real pipeline (`grader.engine.batch.grade_folder`, reports included), and the
figures printed: for one correct submission at -j 1, its wall-clock time, the time spent inside
the student's calls (measured in the worker and sent back with the replies) and the grader's
overhead (wall minus that), with the CPU time of the grader and of the workers, both with
workers forked from a template and started fresh (`--no-templates` grades the class the
second way); the bare NumPy import measured in the same run; for the class, submissions per
second, CPU per submission, the share of the time that went to calls that timed out, and the
peak memory of grader and workers. Every wall-clock figure is printed beside the load average.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import cProfile
import io
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course.loading import Course  # noqa: E402
from grader.course.template import make_stub  # noqa: E402
from grader.engine.batch import default_jobs, grade_folder  # noqa: E402
from grader.engine.grading import grade_submission  # noqa: E402
from grader.inputs.discover import Submission  # noqa: E402
from grader.isolation import proctime  # noqa: E402
from grader.isolation.runner import Limits, StudentProcess  # noqa: E402
from grader.model import Call  # noqa: E402

EXAMPLES = ROOT / "examples" / "submit"
MARKER = re.compile(r"^\s*#{1,3} (BEGIN|END) SOLUTION\s*$")

# One-line mistakes students make, tried in order on a module until one applies.
MUTATIONS = [
    ("axis=-1, keepdims=True", "axis=0, keepdims=True"),
    ("@ W.T", "@ W"),
    ("/ m\n", "\n"),
    ("1.0 - s", "1.0 + s"),
    ("np.maximum(z, 0.0)", "np.maximum(z, 0.01)"),
    ("2 * lam", "lam"),
    ("lam * np.sign(P)", "lam * P"),
    ("beta * ", "(1 - beta) * "),
    ("** 2", "** 3"),
    ("W - lr", "W + lr"),
    ("z >= 0, 1.0, 0.0", "z > 0, 1.0, 0.0"),
    ("math.floor(", "math.ceil("),
    (">= patience", "> patience"),
    ("keep_prob", "(1 - keep_prob)"),
    ("np.sqrt(", "np.square("),
    (" + b", " - b"),
]

PER_100 = {"correct": 40, "buggy": 45, "broken": 12, "hostile": 3}
BUGGY_EXAMPLES = ["cai_softmax_axis", "dee_no_transpose", "eli_sigmoid_grad", "jon_init_variance"]
BROKEN = ["syntax error", "untouched template", "missing module", "raises"]
HOSTILE = ["infinite loop", "os._exit at import", "output flood"]


def correct_sources(modules: list[str]) -> dict[str, str]:
    """`module.py -> source`: the reference with its solution markers removed."""
    out = {}
    for m in modules:
        lines = (ROOT / "reference" / f"{m}.py").read_text().splitlines()
        out[f"{m}.py"] = "\n".join(ln for ln in lines if not MARKER.match(ln)) + "\n"
    return out


def mutate(source: str, k: int) -> str | None:
    """The `k`-th applicable one-line mistake of `source` (cycling) that still parses, or None."""
    applicable = [(old, new) for old, new in MUTATIONS if old in source]
    for j in range(len(applicable)):
        old, new = applicable[(k + j) % len(applicable)]
        mutated = source.replace(old, new, 1)
        try:
            ast.parse(mutated)
        except SyntaxError:
            continue
        return mutated
    return None


def _first_function(source: str) -> str:
    return re.search(r"^def (\w+)\(.*\):\n(?:    \"\"\"(?:.|\n)*?\"\"\"\n)?", source, re.M).group(0)


def student(kind: str, i: int, modules: list[str], correct: dict[str, str]) -> tuple[str, dict[str, str]]:
    """`(subkind, files)` of the `i`-th student of `kind`."""
    files = dict(correct)
    module = modules[i % len(modules)]
    name = f"{module}.py"
    if kind == "correct":
        return "correct", files
    if kind == "buggy":
        if "forward" in modules and i % 5 == 0:
            example = BUGGY_EXAMPLES[(i // 5) % len(BUGGY_EXAMPLES)]
            files["forward.py"] = (EXAMPLES / example / "forward.py").read_text()
            return f"example {example}", files
        count = 1 + (i % 3 == 0)
        for j in range(count):
            target = f"{modules[(i + j) % len(modules)]}.py"
            files[target] = mutate(files[target], i // len(modules)) or files[target]
        return f"{count} mutated module{'s' * (count > 1)}", files
    if kind == "broken":
        sub = BROKEN[i % len(BROKEN)]
        if sub == "syntax error":
            files[name] = files[name].replace("def ", "def (", 1)
        elif sub == "untouched template":
            files[name] = make_stub((ROOT / "reference" / name).read_text())
        elif sub == "missing module":
            del files[name]
        else:
            head = _first_function(files[name])
            files[name] = files[name].replace(head, head + "    raise RuntimeError('not finished')\n", 1)
        return sub, files
    sub = HOSTILE[i % len(HOSTILE)]
    if sub == "infinite loop":
        head = _first_function(files[name])
        files[name] = files[name].replace(head, head + "    while True:\n        pass\n", 1)
    elif sub == "os._exit at import":
        files[name] = "import os\nos._exit(3)\n" + files[name]
    else:
        files[name] = "print('spam ' * 100_000)\n" + files[name]
    return sub, files


def build_class(dest: Path, n: int, modules: list[str]) -> Counter[str]:
    """Write `n` students into `dest`; returns the mix (`kind: subkind -> count`)."""
    pattern = [k for k, count in PER_100.items() for _ in range(count)]
    # Spread the kinds evenly over any n (so that 200 students hold 2 hangs, 1000 hold 10).
    kinds = [pattern[(i * 37) % 100] for i in range(n)]
    correct = correct_sources(modules)
    mix: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for i, kind in enumerate(kinds):
        sub, files = student(kind, seen[kind], modules, correct)
        seen[kind] += 1
        mix[f"{kind}: {sub}"] += 1
        folder = dest / f"s{i:04d}_{kind}"
        folder.mkdir(parents=True)
        for fname, text in files.items():
            (folder / fname).write_text(text)
    return mix


def bare_numpy_import(repeat: int = 7) -> float:
    """Median seconds of `python -I -c "import numpy"`."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def worker_start(limits: Limits, repeat: int = 7) -> float:
    """Median seconds from starting a worker to the answer of one trivial call."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with StudentProcess({"bench_noop.py": b"def f():\n    return 0\n"}, limits) as p:
            p.call(Call("bench_noop", "f"))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def load() -> str:
    """The load average over the last minute, to print beside a wall-clock figure."""
    return f"load {Path('/proc/loadavg').read_text().split()[0]}"


def cpu_now() -> float:
    """CPU seconds (user + sys) of this process (its workers: `WorkerSampler`)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


class WorkerSampler(threading.Thread):
    """Samples the worker processes in /proc: their peak memory and (a lower bound of) their CPU.

    `getrusage(RUSAGE_CHILDREN)` cannot tell: sandboxed workers are not always reaped by us, and
    a forked child's peak RSS starts with the grader's.
    """

    def __init__(self, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_kib = 0
        self.cpu_ticks: dict[int, int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stopped.wait(self.interval):
            # Only this process's own workers: other gradings may run on the same machine.
            for pid in (str(p) for p, _ in proctime.descendants(me) if p != me):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmdline = f.read()
                        if b"grader.worker.serve" not in cmdline and b"grader.worker.forkserver" not in cmdline:
                            continue
                    with open(f"/proc/{pid}/status") as f:
                        hwm = next((int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")), 0)
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except (OSError, ValueError, IndexError):
                    continue
                self.peak_kib = max(self.peak_kib, hwm)
                ticks = int(fields[11]) + int(fields[12])  # utime + stime
                self.cpu_ticks[int(pid)] = max(self.cpu_ticks.get(int(pid), 0), ticks)

    def cpu_seconds(self) -> float:
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")


class Setup:
    def __init__(self) -> None:
        course = Course.load(ROOT)
        self.assignments, self.modules = course.assignments, course.modules
        started = time.perf_counter()
        self.expected = course.expected
        self.expected_seconds = time.perf_counter() - started
        files = {k: v.encode() for k, v in correct_sources(self.modules).items()}
        self.correct = Submission("correct", ROOT, files)

    def grade_correct(self, limits: Limits | None = None) -> float:
        return self.measure_correct(limits)[0]

    def measure_correct(self, limits: Limits | None = None) -> tuple[float, float, float]:
        """(wall seconds, seconds inside the student's calls, grader CPU seconds) of one correct
        submission graded alone."""
        cpu = cpu_now()
        started = time.perf_counter()
        result = grade_submission(self.correct, self.assignments, self.expected, limits)
        elapsed = time.perf_counter() - started
        failed = [c.name for c in result.checks if not c.passed]
        assert not failed, f"the reference lost points: {failed[:3]}"
        return elapsed, result.student_seconds, cpu_now() - cpu


def single_submission(setup: Setup, templates: bool, repeat: int = 7) -> float:
    """Print the figures of one correct submission at -j 1, the median of `repeat`; returns its wall time."""
    limits = Limits(worker_templates=templates)
    setup.grade_correct(limits)  # the thread's template started, caches warm
    sampler = WorkerSampler(interval=0.01)
    sampler.start()
    runs = [setup.measure_correct(limits) for _ in range(repeat)]
    sampler.stopped.set()
    sampler.join()
    worker_cpu = sampler.cpu_seconds()
    wall = statistics.median(r[0] for r in runs)
    inside = statistics.median(r[1] for r in runs)
    grader_cpu = statistics.median(r[2] for r in runs)
    how = "workers forked from a template" if templates else "workers started fresh"
    print(f"one correct submission at -j 1, {how} (median of {repeat}; {load()}):")
    print(f"  wall {wall * 1000:7.1f} ms; inside the student's calls {inside * 1000:7.1f} ms; "
          f"grader's overhead (wall - that) {(wall - inside) * 1000:7.1f} ms (target <= 40 ms)")
    print(f"  CPU: grader process {grader_cpu * 1000:.0f} ms, workers at least {worker_cpu / repeat * 1000:.0f} ms "
          "(sampled every 10 ms)")
    return wall


def one_submission_run(setup: Setup, share: float, repeat: int = 3) -> None:
    """`grade` run on a folder of one correct submission, as Gradescope's `run_autograder` or a
    late resubmission runs it: a fresh process that pays every fixed cost. The first run fills a
    course cache of its own (a temporary folder); the others read it."""
    with tempfile.TemporaryDirectory(prefix="grade-one-") as tmp:
        folder = Path(tmp) / "submit" / "alice"
        folder.mkdir(parents=True)
        for name, text in correct_sources(setup.modules).items():
            (folder / name).write_text(text)
        env = {**os.environ, "GRADER_COURSE_CACHE": str(Path(tmp) / "cache"),
               "GRADER_GRADEBOOK": str(Path(tmp) / "gradebook.sqlite")}
        times = []
        for i in range(repeat + 1):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "grader", str(folder.parent), "--out", str(Path(tmp) / f"out{i}"),
                            "-j", "1"], cwd=ROOT, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
    warm = statistics.median(times[1:])
    print(f"one-submission run (`python -m grader` on a folder of one correct submission, -j 1; {load()}):")
    print(f"  {times[0]:.2f} s filling the course cache, {warm:.2f} s with it (median of {repeat}): "
          f"{warm / share:.1f} times that submission's {share * 1000:.0f} ms in a run (target <= 1.5)")


def profile_correct(setup: Setup, repeat: int = 5) -> None:
    """Where the time of a correct submission goes (trusted side, cProfile)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        setup.grade_correct()
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_name = {f"{Path(f).name}:{fn}": (nc, ct) for (f, _, fn), (_, nc, _, ct, _) in stats.stats.items()}

    def cum(key: str) -> tuple[int, float]:
        return by_name.get(key, (0, 0.0))

    total = cum("grading.py:grade_submission")[1] / repeat
    waiting = cum("runner.py:_await_reply")[1] / repeat
    writing = cum("codec.py:write_parts")[1] / repeat
    starts, start_time = cum("runner.py:_start")
    calls = cum("runner.py:call")[0] / repeat
    writes = cum("codec.py:write_parts")[0] / repeat
    replies = cum("codec.py:read_message")[0] / repeat - cum("runner.py:_start")[0] / repeat
    closing = cum("runner.py:close")[1] / repeat
    print(f"\nprofile of one correct submission (trusted side, mean of {repeat}):")
    print(f"  total                                  {total * 1000:7.1f} ms")
    print(f"  worker started                         {starts / repeat:7.1f} times, "
          f"{start_time / repeat * 1000:.1f} ms (forked from this thread's template)")
    print(f"  calls to the worker                    {calls:7.0f} in {writes:.0f} writes (calls sent ahead, "
          f"StudentProcess.expect); {replies - calls:.0f} answered 'not run' and sent again")
    print(f"  sending the requests (write_parts)     {writing * 1000:7.1f} ms")
    print(f"  waiting for the replies (_await_reply) {waiting * 1000:7.1f} ms "
          "(the student's code, the worker's side of the channel, reading the reply)")
    print(f"  closing the worker                     {closing * 1000:7.1f} ms")
    trusted = total - waiting - writing - start_time / repeat - closing
    print(f"  trusted side (judges, comparisons)     {trusted * 1000:7.1f} ms")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    print("  top functions by own time:")
    for line in out.getvalue().splitlines():
        if re.match(r"\s+\d", line):
            print("   ", line.strip()[:150])
    imports = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "-c",
         f"import sys; sys.path.insert(0, {str(ROOT)!r}); import grader.worker.serve"],
        capture_output=True, text=True).stderr.splitlines()
    rows = []
    for line in imports:
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S.*)$", line)
        if m and m.group(3).strip() in ("numpy", "grader.worker.serve", "grader.worker.codec", "grader", "math", "io"):
            rows.append(f"{m.group(3).strip()} {int(m.group(2)) / 1000:.1f} ms")
    print("  worker imports (cumulative, -X importtime): " + ", ".join(rows))


def on_cluster(spec: str, submit: Path, out: Path, timeout: float, jobs: int, rounds: int) -> None:
    """Grade the class `rounds` times at `-j jobs` and on the Dask cluster `spec`, alternating
    which goes first (the machine's load drifts); print each pair, the spread, the start-up."""
    from grader.engine.cluster import connect

    limits = Limits(call_timeout=timeout)
    started = time.perf_counter()
    with connect(spec, ROOT, None, limits) as remote:
        ready = time.perf_counter() - started
        seconds = ", ".join(f"{h.seconds:.2f}" for h in remote.hosts)
        print(f"\n--cluster {spec}: {len(remote.hosts)} workers started and preflighted in {ready:.1f} s; "
              f"preflight {remote.preflight_seconds:.2f} s (each worker, in parallel: {seconds} s, "
              "most of it computing the expected values there)")
        times: dict[str, list[float]] = {"local": [], "cluster": []}
        scores: dict[str, list] = {}
        cpu: list[float] = []
        for i in range(rounds):
            for how in (("local", "cluster") if i % 2 == 0 else ("cluster", "local")):
                before = resource.getrusage(resource.RUSAGE_SELF)
                t0 = time.perf_counter()
                batch = grade_folder(submit, out / how, Course.load(ROOT), limits=limits, jobs=jobs, force=True,
                                     cluster=remote if how == "cluster" else None)
                times[how].append(time.perf_counter() - t0)
                after = resource.getrusage(resource.RUSAGE_SELF)
                used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                if how == "cluster":
                    cpu.append(used / len(batch.results))
                scores[how] = [(r.submission, r.score, r.status) for r in batch.results]
            here, there = times["local"][-1], times["cluster"][-1]
            print(f"  round {i + 1}: -j {jobs} {here:6.1f} s, --cluster {spec} {there:6.1f} s "
                  f"({(there / here - 1) * 100:+.1f}%)")
    ratios = sorted(c / lo for c, lo in zip(times["cluster"], times["local"]))
    print(f"  -j {jobs}: median {statistics.median(times['local']):.1f} s (range {min(times['local']):.1f}-"
          f"{max(times['local']):.1f}); --cluster {spec}: median {statistics.median(times['cluster']):.1f} s "
          f"(range {min(times['cluster']):.1f}-{max(times['cluster']):.1f}); overhead: median "
          f"{(statistics.median(ratios) - 1) * 100:+.1f}% "
          f"(rounds, sorted: {', '.join(f'{(r - 1) * 100:+.0f}%' for r in ratios)}; "
          f"target <= +10%), start-up not included; scores and statuses "
          f"{'the same' if scores['local'] == scores['cluster'] else 'DIFFERENT'}")
    print(f"  client CPU while grading on the cluster (reading, scheduling, reports; a LocalCluster's "
          f"scheduler runs here too): {statistics.median(cpu) * 1000:.0f} ms per submission")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200, help="submissions in the class (default 200)")
    parser.add_argument("-j", "--jobs", type=int, default=default_jobs(),
                        help="submissions graded at a time (default: the cores)")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-call timeout in seconds (default 2)")
    parser.add_argument("--profile", action="store_true", help="profile one correct submission")
    parser.add_argument("--keep", type=Path, default=None, help="write the class and reports here")
    parser.add_argument("--cluster", default=None, metavar="SPEC",
                        help="also grade the class on this Dask cluster (e.g. local:2) and print both")
    parser.add_argument("--rounds", type=int, default=3, help="with --cluster: -j/cluster pairs to time (default 3)")
    parser.add_argument("--no-templates", action="store_true",
                        help="grade the class with every worker started fresh (no worker templates)")
    args = parser.parse_args()

    # The grader's processes (a one-submission run, the workers) read its compiled modules, as an
    # installed grader's are (pip compiles them): where PYTHONDONTWRITEBYTECODE is set, a module
    # edited since its last compile would otherwise be compiled again in every process timed.
    compileall.compile_dir(ROOT / "grader", quiet=1)
    setup = Setup()
    print(f"assignments: {', '.join(a.name for a in setup.assignments)} "
          f"({sum(len(a.checks) for a in setup.assignments)} checks; "
          f"expected values computed once in {setup.expected_seconds * 1000:.0f} ms)")
    setup.grade_correct()  # warm the file cache
    bare = bare_numpy_import()
    print(f"bare `python -I -c 'import numpy'`:       {bare * 1000:7.1f} ms (median of 7; {load()})")
    for templates in (True, False):
        start = worker_start(Limits(worker_templates=templates))
        print(f"worker start + one trivial call:          {start * 1000:7.1f} ms (median of 7; "
              f"{'forked from a template' if templates else 'started fresh'}; {load()})")
    share = single_submission(setup, True)
    single_submission(setup, False)
    one_submission_run(setup, share)
    if args.profile:
        profile_correct(setup)
    if args.n <= 0:
        return

    tmp = Path(tempfile.mkdtemp(prefix="grade-bench-")) if args.keep is None else args.keep
    try:
        submit, out = tmp / "submit", tmp / "reports"
        mix = build_class(submit, args.n, setup.modules)
        print(f"\nclass of {args.n} (kind: what, count):")
        for key in sorted(mix, key=lambda k: (list(PER_100).index(k.split(":")[0]), k)):
            print(f"  {key:<42} {mix[key]:5d}")
        sampler = WorkerSampler()
        sampler.start()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        limits = Limits(call_timeout=args.timeout, worker_templates=not args.no_templates)
        batch = grade_folder(submit, out, Course.load(ROOT), limits=limits, jobs=args.jobs, force=True)
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        sampler.stopped.set()
        grader_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # The batch streams its results to disk (`batch.results` reads each back): read them
        # once, one at a time, before the class's folder is removed.
        statuses: Counter[str] = Counter()
        slowest: list[tuple[float, str]] = []
        hung = cut = inside = 0.0
        n = 0
        for r in batch.results:
            n += 1
            statuses[r.status] += 1
            slowest = sorted([*slowest, (r.execution_time, r.submission)], reverse=True)[:3]
            hung += r.execution_time if "timeout" in r.status else 0.0
            cut += r.timed_out_seconds
            inside += r.student_seconds
        if args.cluster:
            on_cluster(args.cluster, submit, tmp / "compare", args.timeout, args.jobs, args.rounds)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    worker_mb = sampler.peak_kib / 1024
    print(f"graded {n} at -j {args.jobs}, --timeout {args.timeout:g}"
          f"{', workers started fresh' if args.no_templates else ''}: {elapsed:7.1f} s "
          f"({n / elapsed:.2f} submissions/s; {elapsed / n * 1000:.0f} ms each, "
          f"{elapsed / n * args.jobs * 1000:.0f} ms of one core each; {load()}; "
          f"1000 at this rate: {elapsed / n * 1000:.0f} s)")
    print(f"  statuses: {', '.join(f'{k}: {v}' for k, v in statuses.most_common())}")
    print(f"  slowest: {', '.join(f'{name} {seconds:.1f}s' for seconds, name in slowest)}")
    slots = elapsed * args.jobs
    print(f"  time in submissions that timed out: {hung:.1f} s (all workers together); in the calls that "
          f"timed out: {cut:.1f} s, {cut / slots * 100:.1f}% of the class's {slots:.0f} slot-seconds")
    print(f"  inside the students' calls (as the workers measured it): {inside:.1f} s, "
          f"{inside / slots * 100:.1f}% of the slot-seconds")
    grader_cpu = cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    worker_cpu = sampler.cpu_seconds()
    print(f"  CPU: grader process {grader_cpu:.1f} s ({grader_cpu / n * 1000:.0f} ms per submission, "
          f"under one GIL); workers at least {worker_cpu:.1f} s "
          f"({worker_cpu / n * 1000:.0f} ms per submission; sampled)")
    print(f"peak memory: grader {grader_mb:.0f} MiB, largest worker {worker_mb:.0f} MiB")


if __name__ == "__main__":
    main()
