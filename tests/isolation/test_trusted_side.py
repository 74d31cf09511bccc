"""The trusted side never waits for ever: one BLAS thread per grading thread, and Ctrl-C stops a
parallel run promptly, also while its threads are judging."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import grader
from conftest import ROOT, unsandboxed_args

CHECKOUT = str(Path(grader.__file__).resolve().parent.parent)
COUNT_THREADS = (
    "import os, numpy as np\n"
    "a = np.ones((600, 600)); a @ a\n"
    "print(len(os.listdir('/proc/self/task')))\n"
)


def _threads_after_a_product(first: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", first + COUNT_THREADS], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": CHECKOUT}, cwd=CHECKOUT, timeout=120, check=True)
    return int(done.stdout)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="OpenBLAS runs one thread on one CPU anyway")
def test_the_grader_runs_numpy_with_one_blas_thread():
    assert _threads_after_a_product("") > 1  # without the grader, OpenBLAS starts a thread per CPU
    assert _threads_after_a_product("import grader.cli.commands\n") == 1


def test_ctrl_c_stops_a_parallel_run_while_it_judges(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", str(ROOT / "examples" / "submit"), *unsandboxed_args(), "--force",
         "-j", "4", "-a", "backprop", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": CHECKOUT},
        # A test run started in the background inherits SIGINT ignored: give the child a terminal's default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("students/*/results.json")):  # grading is under way: some are done, others judged
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no submission was graded in 300 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # Sixteen submissions at four at a time: most are still to grade when the first is done.
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Interrupted:" in stderr
