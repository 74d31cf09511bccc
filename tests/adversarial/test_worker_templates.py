"""Nothing of one submission reaches the next one forked from the same worker template.

Each case grades submission A, which tries to leave something behind (files, a process, an
environment variable, a patched NumPy or builtins, a module, an open file), and then, in the
same thread and so from the same template, submission B, which reports what it sees. B's
report is compared with what B reports when it is the first submission of a fresh template
and with what B reports when its worker starts fresh (no template): all three must be equal,
and the test checks on its own that A did leave what it meant to in its own process.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import threading
from pathlib import Path

import pytest

from conftest import available_tiers, unsandboxed
from grader.isolation import sandbox, slots
from grader.isolation.runner import StudentProcess
from grader.model import Call, Limits

MARK = "left-" + secrets.token_hex(6)

# What B reports: everything A might have left, as plain data.
PROBE = f"""
import os, sys
import numpy as np
_b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)

def look():
    here = sorted(os.listdir('.'))
    tmp = os.environ.get('TMPDIR', '/tmp')
    home = os.environ.get('HOME', '')
    fds = sorted(os.listdir('/proc/self/fd'))
    return {{
        'cwd': here,
        'tmp': sorted(os.listdir(tmp)) if os.path.isdir(tmp) else ['missing'],
        'home': sorted(os.listdir(home)) if os.path.isdir(home) else ['missing'],
        'env': sorted(k for k in os.environ if 'LEFT' in k or '{MARK}' in os.environ[k]),
        'numpy': [hasattr(np, 'LEFT'), bool(np.allclose(1.0, 2.0))],
        'builtins': ['LEFT' in _b, round(2.6)],
        'modules': sorted(m for m in sys.modules if 'left' in m or m == 'attacker'),
        'fds': len(fds),
        'argv': len(sys.argv),
    }}
"""

ATTACKS = {
    "files": """
def attack():
    import os
    tmp = os.environ.get('TMPDIR', '/tmp')
    for folder in ('.', tmp, os.environ['HOME']):
        with open(os.path.join(folder, 'LEFT_{mark}.txt'), 'w') as f:
            f.write('from A')
        os.chmod(os.path.join(folder, 'LEFT_{mark}.txt'), 0o666)
    return sorted(os.listdir('.'))
""",
    "environment": """
def attack():
    import os
    os.environ['LEFT_{mark}'] = '{mark}'
    os.putenv('LEFT_PUT', '{mark}')
    return os.environ['LEFT_{mark}']
""",
    "memory": """
import sys, types
import numpy as np
_b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)

def attack():
    np.LEFT = 1
    np.allclose = lambda *a, **k: True
    _b['LEFT'] = 1
    _b['round'] = lambda *a: 0
    sys.modules['left_behind'] = types.ModuleType('left_behind')
    return [np.allclose(1.0, 2.0), round(2.6)]
""",
    "open_files": """
import os
kept = []

def attack():
    for _ in range(5):
        kept.append(os.open(os.path.join(os.getcwd(), 'attack.py'), os.O_RDONLY))
    os.dup2(kept[0], 40)
    return len(os.listdir('/proc/self/fd'))
""",
}
EXPECTED_IN_A = {
    "files": lambda got: f"LEFT_{MARK}.txt" in got,
    "environment": lambda got: got == MARK,
    "memory": lambda got: got == [True, 0],
    "open_files": lambda got: got >= 9,
}




def _limits(tier: str, **more) -> Limits:
    return Limits(sandbox="bwrap", **more) if tier == "bwrap" else unsandboxed(**more)


def _look(limits: Limits) -> dict:
    with StudentProcess({"probe.py": PROBE.encode()}, limits) as b:
        seen = b.call(Call("probe", "look"))
        assert (b._running.child is not None) == (limits.worker_templates and sandbox.uses_template(b.isolation))
        return seen


@pytest.fixture(params=available_tiers())
def tier(request) -> str:
    iso = sandbox.resolve("bwrap" if request.param == "bwrap" else "none")
    if not sandbox.uses_template(iso):
        pytest.skip("this tier starts every worker fresh here (see SECURITY.md)")
    return request.param


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_what_a_submission_leaves_is_not_seen_by_the_next(tier: str, attack: str) -> None:
    limits = _limits(tier)
    slots.close_all()
    first = _look(limits)  # the first submission of a fresh template
    with StudentProcess({"attack.py": ATTACKS[attack].format(mark=MARK).encode()}, limits) as a:
        assert EXPECTED_IN_A[attack](a.call(Call("attack", "attack"))), "the attack did not work in A itself"
        assert a._running.child is not None, "A was not forked from the template"
    after = _look(limits)
    fresh = _look(_limits(tier, worker_templates=False))
    assert after == first == fresh
    assert after["env"] == [] and after["modules"] == []
    assert after["numpy"] == [False, False] and after["builtins"] == [False, 3]
    assert f"LEFT_{MARK}.txt" not in after["cwd"] + after["tmp"] + after["home"]


def _marked_processes(mark: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if mark.encode() in Path(f"/proc/{entry.name}/cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


DAEMON = """
import os, time

def attack():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv('/bin/sh', ['/bin/sh', '-c', 'while :; do sleep 1; done; : {mark}'])
        os._exit(0)
    time.sleep(0.2)
    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
"""

PROCESSES = """
import os

def look():
    mine = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                with open(f'/proc/{{p}}/cmdline', 'rb') as f:
                    mine.append(b'{mark}' in f.read())
            except OSError:
                pass
    return any(mine)
"""


def test_a_daemon_of_one_submission_is_gone_before_the_next(tier: str) -> None:
    """With the guard off (the OS layer alone, as in the suite's second batch): a double-forked
    `setsid` daemon that exec'd a shell is killed with its submission, and the next submission,
    forked from the same template, neither sees it nor shares anything with it."""
    mark = "daemon-" + secrets.token_hex(6)
    limits = _limits(tier, runtime_guard=False)
    slots.close_all()
    with StudentProcess({"attack.py": DAEMON.format(mark=mark).encode()}, limits) as a:
        a.call(Call("attack", "attack"))
        assert a._running.child is not None
        assert _marked_processes(mark), "the daemon did not start"
    assert _marked_processes(mark) == []  # killed with A, before A's close returned
    with StudentProcess({"probe.py": PROCESSES.format(mark=mark).encode()}, limits) as b:
        assert b.call(Call("probe", "look")) is False
        assert b._running.child is not None


def test_each_submission_runs_in_a_new_process_of_its_own(tier: str) -> None:
    limits = _limits(tier)
    slots.close_all()
    source = b"import os\ndef me():\n    return [os.getpid(), os.getppid()]\n"
    pids = []
    for _ in range(2):
        with StudentProcess({"me.py": source}, limits) as p:
            p.call(Call("me", "me"))
            assert p._running.child is not None
            pids.append(p._running.child.find())
    assert pids[0] != pids[1]


CAPS = b"""
import os

def caps():
    with open('/proc/self/status') as f:
        fields = dict(line.split(':', 1) for line in f if ':' in line)
    return {k: fields[k].strip() for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs')} | {
        'uid': os.getuid()}
"""


def test_a_forked_sandboxed_worker_holds_no_capability_and_can_gain_none() -> None:
    """The tier-1 template keeps CAP_SYS_ADMIN and CAP_SETPCAP for its children's namespaces:
    the worker itself ends with none, not even in its bounding set, and no_new_privs."""
    if "bwrap" not in available_tiers() or not sandbox.uses_template(sandbox.resolve("bwrap")):
        pytest.skip("no tier-1 template here")
    with StudentProcess({"c.py": CAPS}, Limits(sandbox="bwrap")) as p:
        got = p.call(Call("c", "caps"))
        assert p._running.child is not None
    zero = "0" * 16
    assert got == {"CapInh": zero, "CapPrm": zero, "CapEff": zero, "CapBnd": zero, "CapAmb": zero,
                   "NoNewPrivs": "1", "uid": got["uid"]}
    assert got["uid"] >= sandbox.UID_BASE


def test_a_submission_whose_files_do_not_fit_is_graded_fresh_and_the_template_stays() -> None:
    """More files than a forked worker's 64 MiB working folder holds: that submission's worker
    starts fresh (its files are bound in, not copied), and the next one is forked again."""
    if "bwrap" not in available_tiers() or not sandbox.uses_template(sandbox.resolve("bwrap")):
        pytest.skip("no tier-1 template here")
    module = b"def f():\n    return 7\n"
    big = {f"pad{i}.py": b"#" * (1 << 20) for i in range(66)} | {"m.py": module}
    slots.close_all()
    with StudentProcess(big, Limits(sandbox="bwrap")) as p:
        assert p.call(Call("m", "f")) == 7
        assert p._running.child is None
    with StudentProcess({"m.py": module}, Limits(sandbox="bwrap")) as q:
        assert q.call(Call("m", "f")) == 7
        assert q._running.child is not None


def test_a_forked_worker_runs_on_the_cpus_its_grader_thread_may_use_when_it_starts(tier: str) -> None:
    """As a worker started fresh inherits them (the template was started with other CPUs)."""
    everywhere = os.sched_getaffinity(0)
    if len(everywhere) < 2:
        pytest.skip("one CPU: nothing to narrow")
    source = b"import os\ndef cpus():\n    return sorted(os.sched_getaffinity(0))\n"
    limits = _limits(tier)
    slots.close_all()
    with StudentProcess({"c.py": source}, limits) as first:  # starts the template on every CPU
        assert first.call(Call("c", "cpus")) == sorted(everywhere)
    one = {min(everywhere)}
    os.sched_setaffinity(0, one)
    try:
        with StudentProcess({"c.py": source}, limits) as p:
            assert p.call(Call("c", "cpus")) == sorted(one)
            assert p._running.child is not None
    finally:
        os.sched_setaffinity(0, everywhere)


def _launched_ahead(tier: str) -> slots.Slot:
    with slots._ahead_lock:
        return slots._ahead[tier]


def _in_a_thread(work):
    """`work()` run in a thread of its own (as a grading thread runs it); its result."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join(60)
    assert out, "the thread did not finish"
    return out[0]


def test_a_template_launched_ahead_serves_the_first_grading_thread_and_only_it(tier: str) -> None:
    """`slots.ahead` (used by `grade_folder` while it reads the expected values): the first
    thread that needs a template adopts the one launched ahead, the next starts its own, and
    a submission forked from the adopted one sees nothing of the submission before it."""
    limits = _limits(tier)
    iso = sandbox.resolve(limits.sandbox)
    source = b"def f():\n    return 7\n"

    def template_pid() -> int:
        with StudentProcess({"m.py": source}, limits) as p:
            assert p.call(Call("m", "f")) == 7
            assert p._running.child is not None
            return p._running.child.slot.pid

    def attacked_then_looked() -> dict:
        with StudentProcess({"attack.py": ATTACKS["files"].format(mark=MARK).encode()}, limits) as a:
            assert EXPECTED_IN_A["files"](a.call(Call("attack", "attack")))
        return _look(limits)

    with slots.ahead(iso, limits):
        launched = _launched_ahead(iso.tier).pid
        assert _in_a_thread(template_pid) == launched
        assert _in_a_thread(template_pid) != launched  # taken: the next thread starts its own
    with slots.ahead(iso, limits):
        seen = _in_a_thread(attacked_then_looked)
    assert seen == _look(_limits(tier, worker_templates=False))


def test_a_template_launched_ahead_that_no_thread_adopted_ends_with_the_block(tier: str) -> None:
    limits = _limits(tier)
    iso = sandbox.resolve(limits.sandbox)
    with slots.ahead(iso, limits):
        launched = _launched_ahead(iso.tier)
        assert launched.alive()
    assert launched.proc.poll() is not None
    with slots._ahead_lock:
        assert iso.tier not in slots._ahead
    with slots.ahead(iso, _limits(tier, worker_templates=False)):  # workers started fresh: none
        with slots._ahead_lock:
            assert iso.tier not in slots._ahead


def test_one_submission_graded_at_j1_starts_one_template_and_forks_its_worker(tier: str, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`grade_folder` launches the first template while it reads the expected values: one
    submission at `-j 1` starts that one template and no other, and its worker is forked."""
    from grader.course.loading import Course
    from grader.engine.batch import grade_folder

    launched: list[bool] = []
    forked: list[bool] = []
    real_init, real_start = slots.Slot.__init__, StudentProcess._start

    def counting_init(self, iso, wait=True):
        launched.append(wait)
        real_init(self, iso, wait)

    def noting_start(self):
        running = real_start(self)
        forked.append(running.child is not None)
        return running

    monkeypatch.setattr(slots.Slot, "__init__", counting_init)
    monkeypatch.setattr(StudentProcess, "_start", noting_start)
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "submit" / "ada").mkdir(parents=True)
    (tmp_path / "submit" / "ada" / "perceptron.py").write_bytes((root / "reference" / "perceptron.py").read_bytes())
    batch = grade_folder(tmp_path / "submit", tmp_path / "out", Course.load(root, ["perceptron"]), _limits(tier),
                         jobs=1, course_cache=False)
    [row] = batch.rows
    assert row.score == row.max_score
    assert launched == [False]  # launched ahead, not waited for; no second template
    assert forked and all(forked)


def test_no_template_is_launched_ahead_for_workers_that_may_not_run_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """As root with no uid to drop to, workers are refused (`sandbox.check_root`) unless
    `--unsafe-run-as-root`: no template is launched for them either."""
    launched: list[object] = []
    monkeypatch.setattr(slots, "Slot", lambda iso, wait=True: launched.append(iso) or pytest.fail("launched"))
    refused = sandbox.Isolation("none", as_root=True, why_root="a test")
    with slots.ahead(refused, Limits(sandbox="none")):
        with slots._ahead_lock:
            assert "none" not in slots._ahead
    assert launched == []


def test_a_template_launched_ahead_for_the_same_isolation_is_the_one_adopted(tier: str) -> None:
    """`grade run` launches a template for `sandbox.likely` while the probe runs; `grade_folder`'s
    own `slots.ahead`, for the isolation the probe found, keeps that one when it is the same
    isolation, and launches its own for another."""
    limits = _limits(tier)
    iso = sandbox.resolve(limits.sandbox)
    with slots.ahead(iso, limits):
        first = _launched_ahead(iso.tier)
        with slots.ahead(iso, limits):
            assert _launched_ahead(iso.tier) is first
        assert first.alive()  # the inner block did not close what it did not launch
        other = dataclasses.replace(iso, reason="another isolation of the same tier")
        with slots.ahead(other, limits):
            replaced = _launched_ahead(iso.tier)
            assert replaced is not first and replaced.iso == other and not first.alive()
    with slots._ahead_lock:
        assert iso.tier not in slots._ahead


def test_the_likely_isolation_is_the_probe_s_where_nothing_else_the_probe_finds_changes_a_launch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert sandbox.likely("none") is None
    if shutil.which("bwrap") is not None and sandbox.resolve("auto").tier == "bwrap" and (
            os.geteuid() == 0 or sandbox._bwrap_version() < (0, 8)):
        assert sandbox.likely("auto") == sandbox.resolve("auto") == sandbox.likely("bwrap")
    # a user's own bwrap 0.8 or newer: the probe decides whether --disable-userns is used
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox, "_bwrap_version", lambda: (0, 9, 0))
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: "/usr/bin/bwrap")
    assert sandbox.likely("auto") is None
    monkeypatch.setattr(sandbox, "_bwrap_version", lambda: (0, 6, 2))
    assert sandbox.likely("auto") == sandbox.Isolation("bwrap", separate_uids=False)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert sandbox.likely("auto") is None


def test_grade_run_on_one_submission_starts_one_template_launched_while_the_probe_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's template for `sandbox.likely` is the one its only grading thread forks
    from: one template in all, launched before the probe ended."""
    from click.testing import CliRunner

    from grader.cli.commands import main

    iso = sandbox.resolve("auto")
    if sandbox.likely("auto") != iso or not sandbox.uses_template(iso):
        pytest.skip("no template launched ahead of the probe here")
    launched: list[tuple[bool, bool]] = []
    real_init = slots.Slot.__init__

    def counting_init(self, iso, wait=True):
        launched.append((wait, "auto" in sandbox._cache))  # (waited for, launched after the probe)
        real_init(self, iso, wait)

    monkeypatch.setattr(slots.Slot, "__init__", counting_init)
    monkeypatch.setattr(sandbox, "_cache", {})  # the command probes afresh
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "submit" / "ada").mkdir(parents=True)
    (tmp_path / "submit" / "ada" / "perceptron.py").write_bytes((root / "reference" / "perceptron.py").read_bytes())
    result = CliRunner().invoke(main, ["run", str(tmp_path / "submit"), "--out", str(tmp_path / "out"),
                                       "-a", "perceptron", "-j", "1", "-q", "--no-gradebook"])
    assert result.exit_code == 0, result.output
    assert "ada" in (tmp_path / "out" / "grades.csv").read_text()
    assert launched == [(False, False)]
