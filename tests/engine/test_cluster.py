"""`grade run --cluster`: the same reports as `-j`, every submission once when a worker dies, preflight."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import grader
from conftest import ROOT, processes_running, report_dir
from grader.course.loading import Course, load_assignment
from grader.engine.batch import grade_folder
from grader.engine.cluster import ClusterError, Spec, parse_spec, result_from_json, worker_report
from grader.isolation import sandbox
from grader.model import Limits

EXAMPLES = ROOT / "examples" / "submit"
ENV = {**os.environ, "PYTHONPATH": str(Path(grader.__file__).resolve().parent.parent)}
REPORTS = ("feedback.md", "feedback.html", "results.json")
TIMINGS = ("execution_time",)
"""the fields of results.json documented as timings (Gradescope's schema): they differ run to run"""


def _needs_dask():
    return pytest.importorskip("distributed", reason="the cluster extra is not installed (pip install -e '.[cluster]')")


def _forward_course(tmp_path: Path) -> Path:
    """A copy of the course with only the forward assignment: quick to grade, safe to edit."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "forward", course / "assignments" / "forward")
    (course / "assignments" / "course.toml").write_text('assignments = ["forward"]\n')
    (course / "reference").mkdir()
    shutil.copy(ROOT / "reference" / "forward.py", course / "reference" / "forward.py")
    return course


# ---------------------------------------------------------------- SPEC and the plain data


@pytest.mark.parametrize("text, spec", [
    ("local", Spec("local", workers=3)),
    ("local:1", Spec("local", workers=1)),
    ("local:12", Spec("local", workers=12)),
    ("tcp://10.1.2.3:8786", Spec("address", address="tcp://10.1.2.3:8786")),
    ("tls://sched.example.edu:8786", Spec("address", address="tls://sched.example.edu:8786")),
    ("ssh://lab1,me@lab2:2222", Spec("ssh", hosts=("lab1", "me@lab2:2222"))),
])
def test_a_spec_names_its_cluster(text, spec):
    assert parse_spec(text, cores=3) == spec


@pytest.mark.parametrize("text", ["local:0", "local:-1", "local:two", "tcp://host", "http://h:1", "ssh://",
                                  "ssh://a,,b", "ssh://a b", "lan", "tcp://h:1/x"])
def test_a_bad_spec_is_refused_in_one_line(text):
    with pytest.raises(ClusterError) as err:
        parse_spec(text, cores=2)
    assert "\n" not in str(err.value) and text in str(err.value)


def test_without_dask_cluster_says_in_one_line_what_to_install(tmp_path):
    """Dask hidden from the interpreter (as where the extra is not installed)."""
    code = "import sys; sys.modules['distributed'] = None; from grader.cli.commands import main; main()"
    out = subprocess.run([sys.executable, "-c", code, "run", str(EXAMPLES / "ada_perfect"), "-o", str(tmp_path / "o"),
                          "--cluster", "local:1"], capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "grade: error: --cluster needs Dask: pip install 'nn-grader[cluster]' "
        "(from a checkout: pip install -e '.[cluster]')"]
    assert not (tmp_path / "o").exists()


def test_jobs_and_cluster_together_are_refused(tmp_path):
    out = subprocess.run([sys.executable, "-m", "grader", "run", str(EXAMPLES / "ada_perfect"), "-o", str(tmp_path),
                          "-j", "2", "--cluster", "local:2"], capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 2 and "with --cluster use local:N" in out.stderr


def test_a_result_that_is_not_a_result_is_refused():
    good = {"submission": "s", "checks": [], "execution_time": 1.0, "output": "", "notices": []}
    assert result_from_json(json.dumps(good), "s").submission == "s"
    with pytest.raises(ValueError):
        result_from_json(json.dumps(good), "another")  # a result must come back for its own submission
    extra = {**good, "checks": [{"assignment": "a", "evil": 1}]}
    with pytest.raises((ValueError, TypeError)):
        result_from_json(json.dumps(extra), "s")


# ---------------------------------------------------------------- preflight (what each worker says)


def test_a_worker_host_that_cannot_sandbox_is_refused_unless_sandbox_none(tmp_path, monkeypatch):
    course = _forward_course(tmp_path)
    no_bwrap = sandbox.Isolation("none", separate_uids=False, reason="bubblewrap (bwrap) is not installed")
    monkeypatch.setattr(sandbox, "resolve", lambda mode: no_bwrap)
    refused = worker_report(str(course), ("forward",), "auto")
    assert refused["sandbox"] == "none"
    assert "cannot sandbox" in refused["problem"] and "bwrap) is not installed" in refused["problem"]
    allowed = worker_report(str(course), ("forward",), "none")
    assert allowed["problem"] is None and allowed["version"] == grader.__version__


def test_a_worker_without_the_course_says_where_it_looked(tmp_path):
    report = worker_report(str(tmp_path / "nowhere"), (), "none")
    assert report["fingerprint"] is None and str(tmp_path / "nowhere") in report["problem"]


# ---------------------------------------------------------------- on a real LocalCluster


def _reports(out: Path) -> dict[str, bytes | dict]:
    """Every report file under `out`, results.json without its timing fields."""
    found: dict[str, bytes | dict] = {}
    for folder in sorted(p for p in (out / "students").iterdir() if p.is_dir()):
        for name in REPORTS:
            data = (folder / name).read_bytes()
            if name == "results.json":
                data = {k: v for k, v in json.loads(data).items() if k not in TIMINGS}
            found[f"{folder.name}/{name}"] = data
        found[f"{folder.name}/.grade-hash"] = (folder / ".grade-hash").read_bytes()
    return found


def test_the_example_class_on_local_2_gives_the_same_reports_as_j_2(tmp_path):
    _needs_dask()
    runs = {}
    for label, how in (("j2", ["-j", "2"]), ("cluster", ["--cluster", "local:2"])):
        out = tmp_path / label
        done = subprocess.run([sys.executable, "-m", "grader", "run", str(EXAMPLES), "-o", str(out), "-q",
                               "--timeout", "2", *how], capture_output=True, text=True, env=ENV, timeout=900)
        assert done.returncode == 0, done.stderr
        runs[label] = out
    j2, cl = _reports(runs["j2"]), _reports(runs["cluster"])
    assert len(j2) == 4 * len([p for p in EXAMPLES.iterdir() if p.is_dir()])
    assert j2.keys() == cl.keys()
    different = [k for k in j2 if j2[k] != cl[k]]
    assert different == []
    assert (runs["j2"] / "grades.csv").read_bytes() == (runs["cluster"] / "grades.csv").read_bytes()


def _start(course: Path, workers: int, limits: Limits):
    from grader.engine.cluster import ClusterGrader

    return ClusterGrader(Spec("local", workers=workers), course, None, limits)


def _class(tmp_path: Path, names: dict[str, str]) -> Path:
    submit = tmp_path / "submit"
    for name, example in names.items():
        shutil.copytree(EXAMPLES / example, submit / name)
    return submit


def _count_writes(monkeypatch) -> Counter:
    import grader.engine.batch

    writes: Counter = Counter()
    real = grader.engine.batch.write_submission_reports

    def counting(result, out):
        writes[result.submission] += 1
        return real(result, out)

    monkeypatch.setattr(grader.engine.batch, "write_submission_reports", counting)
    return writes


def _grades(out: Path) -> list[list[str]]:
    return list(csv.reader((out / "grades.csv").open()))[2:]


def test_a_worker_killed_mid_run_loses_no_submission_and_reports_none_twice(tmp_path, monkeypatch):
    _needs_dask()
    course = _forward_course(tmp_path)
    names = {f"s{i}_perfect": "ada_perfect" for i in range(6)} | {"s6_softmax_axis": "cai_softmax_axis"}
    submit, out = _class(tmp_path, names), tmp_path / "out"
    writes = _count_writes(monkeypatch)
    limits = Limits(call_timeout=2)
    with _start(course, 2, limits) as remote:
        pids = remote.client.run(os.getpid)
        batch: dict = {}
        runner = threading.Thread(target=lambda: batch.update(
            done=grade_folder(submit, out, Course.load(course), limits=limits, force=True, cluster=remote)))
        runner.start()
        victim = None
        deadline = time.monotonic() + 300
        while victim is None and time.monotonic() < deadline and runner.is_alive():
            busy = {w: keys for w, keys in remote.client.processing().items() if keys}
            victim = next(iter(busy), None)
            if victim is None:
                time.sleep(0.02)
        assert victim is not None, "no task ever ran on the cluster"
        os.kill(pids[victim], signal.SIGKILL)
        runner.join(600)
        assert not runner.is_alive()
        assert pids[victim] not in remote.client.run(os.getpid).values()  # the killed worker was replaced
        full = sum(c.points for a in remote.assignments for c in a.checks)
    result = batch["done"]
    assert sorted(r.submission for r in result.results) == sorted(names)
    assert writes == Counter(list(names))  # each submission's reports written exactly once
    rows = _grades(out)
    assert sorted(r[0] for r in rows) == sorted(names)
    scores = {r[0]: float(r[-2]) for r in rows}
    assert full > 0 and [n for n in names if scores[n] == full] == [f"s{i}_perfect" for i in range(6)]
    assert scores["s6_softmax_axis"] < full
    for name in names:
        assert all((report_dir(out, name) / f).is_file() for f in REPORTS)


def test_a_task_that_keeps_killing_its_worker_is_that_submissions_crash(tmp_path):
    dask = pytest.importorskip("dask", reason="the cluster extra is not installed")
    _needs_dask()
    course = _forward_course(tmp_path)
    names = {"a_perfect": "ada_perfect", "b_killer": "ada_perfect"}
    submit, out = _class(tmp_path, names), tmp_path / "out"
    limits = Limits(call_timeout=2)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), _start(course, 2, limits) as remote:
        real = remote.task

        def task(course_root, names_, fingerprint, limits_, submission):
            if submission["name"] == "b_killer":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(course_root, names_, fingerprint, limits_, submission)

        remote.task = task
        batch = grade_folder(submit, out, Course.load(course), limits=limits, force=True, cluster=remote)
        max_points = sum(c.points for a in remote.assignments for c in a.checks)
    by_name = {r.submission: r for r in batch.results}
    assert by_name["b_killer"].status == "crash" and by_name["b_killer"].score == 0
    assert by_name["b_killer"].checks and all(c.problem == "crash" for c in by_name["b_killer"].checks)
    assert by_name["a_perfect"].score == max_points > 0
    assert "stopped the cluster's worker" in (report_dir(out, "b_killer") / "feedback.md").read_text()
    assert {r[0]: r[-1] for r in _grades(out)} == {"a_perfect": "ok", "b_killer": "crash"}


def test_preflight_refuses_a_worker_whose_course_differs_and_names_the_host(tmp_path):
    _needs_dask()
    import socket

    course = _forward_course(tmp_path)
    with _start(course, 1, Limits()) as remote:
        assert [h.problem for h in remote.hosts] == [None]
        with (course / "reference" / "forward.py").open("a") as f:
            f.write("\n# edited after the client read the course\n")
        with pytest.raises(ClusterError) as err:
            remote.preflight()
    assert f"worker host {socket.gethostname()}" in str(err.value) and "differs" in str(err.value)


def test_ctrl_c_cancels_the_cluster_tasks_and_keeps_what_was_written(tmp_path):
    _needs_dask()
    course = _forward_course(tmp_path)
    settings = course / "assignments" / "forward" / "assignment.toml"
    settings.write_text(settings.read_text().replace("call_timeout = 2.0", "call_timeout = 60.0"))
    out = tmp_path / "o"
    submit = _class(tmp_path, {"ada_perfect": "ada_perfect", "cai_softmax_axis": "cai_softmax_axis"})
    marker = f"slow-{os.getpid()}-{time.time_ns()}"
    endless = f"def sigmoid(z):\n    '{marker}'\n    while True:\n        pass\n\n\ndef _unused(z):"
    (submit / "zz_slow").mkdir()
    (submit / "zz_slow" / "forward.py").write_text(
        (EXAMPLES / "ada_perfect" / "forward.py").read_text().replace("def sigmoid(z):", endless, 1))
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "run", str(submit), "--out", str(out), "--course", str(course),
         "--cluster", "local:2", "--timeout", "60", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal would (see test_batch)
    deadline = time.monotonic() + 300
    while not (all((report_dir(out, n) / ".grade-hash").exists() for n in ("ada_perfect", "cai_softmax_axis"))
               and processes_running(marker)):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the slow submission never started on the cluster: {proc.communicate()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Interrupted: 2 of 3 submissions graded" in stderr
    assert "Traceback" not in stderr
    assert not report_dir(out, "zz_slow").exists()
    assert [r[0] for r in _grades(out)] == ["ada_perfect", "cai_softmax_axis"]
    assert all((report_dir(out, n) / f).is_file() for n in ("ada_perfect", "cai_softmax_axis") for f in REPORTS)
    deadline = time.monotonic() + 60
    while processes_running(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_running(marker), "the slow submission's sandbox survived Ctrl-C and the cluster's close"


# ---------------------------------------------------------------- ssh://, against an sshd of our own


def _sshd() -> str | None:
    return shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd",) if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ssh_localhost_grades_like_local(tmp_path):
    """`--cluster ssh://127.0.0.1:PORT` against an sshd on 127.0.0.1 that this test starts.

    The keys are the test's own, in a HOME of its own: nothing of the machine's is used.
    """
    _needs_dask()
    pytest.importorskip("asyncssh", reason="ssh:// needs asyncssh (the cluster extra)")
    sshd, keygen = _sshd(), shutil.which("ssh-keygen")
    if sshd is None or keygen is None:
        pytest.skip("no sshd or ssh-keygen here (Debian: apt-get install openssh-server)")
    home, etc = tmp_path / "home", tmp_path / "sshd"
    (home / ".ssh").mkdir(parents=True)
    etc.mkdir()
    for key in (home / ".ssh" / "id_ed25519", etc / "host_ed25519"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (etc / "authorized_keys").write_text((home / ".ssh" / "id_ed25519.pub").read_text())
    port = _free_port()
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {(etc / 'host_ed25519.pub').read_text()}")
    (etc / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {etc / 'host_ed25519'}",
        f"AuthorizedKeysFile {etc / 'authorized_keys'}", f"PidFile {etc / 'sshd.pid'}", "StrictModes no",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
        "UsePAM no", f"SetEnv PYTHONPATH={ENV['PYTHONPATH']}", ""]))
    server = subprocess.Popen([sshd, "-D", "-e", "-f", str(etc / "sshd_config")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        import socket

        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"sshd could not start here: {server.communicate()[1][-300:]}")
                time.sleep(0.05)
        course, out = _forward_course(tmp_path), tmp_path / "out"
        submit = _class(tmp_path, {"ada_perfect": "ada_perfect", "cai_softmax_axis": "cai_softmax_axis"})
        done = subprocess.run([sys.executable, "-m", "grader", "run", str(submit), "-o", str(out), "--course",
                               str(course), "--cluster", f"ssh://127.0.0.1:{port}", "-q"],
                              capture_output=True, text=True, env={**ENV, "HOME": str(home)}, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        rows = {r[0]: r for r in _grades(out)}
        full = sum(c.points for c in load_assignment(course / "assignments" / "forward").checks)
        assert float(rows["ada_perfect"][-2]) == full > float(rows["cai_softmax_axis"][-2])
    finally:
        server.terminate()
        server.wait(30)
