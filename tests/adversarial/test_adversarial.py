# ruff: noqa: E501  (the cases are a table of code)
"""Hostile and broken submissions, graded in batches beside perfect ones.

Every case is a mutation of the reference `forward.py` (or a file planted beside it). Each
asserts its exact outcome and the words the student reads; every batch must complete, and the
perfect submissions graded in the same batch must get exactly the report they get alone.

Two layers are proven separately:
- the batches with the runtime guard on (the normal configuration) run in every tier;
- the batches with the guard off run only what the OS layer must hold on its own: in tier 1
  (bwrap) the file system, the network, /proc, processes; in tier 2 only what it promises
  (limits, killing leftovers). See SECURITY.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, available_tiers, report_dir
from grader.course.loading import Course
from grader.engine.batch import grade_folder
from grader.isolation import sandbox
from grader.model import Limits, SubmissionResult

REFERENCE = ROOT / "reference" / "forward.py"
REF = REFERENCE.read_text()
SECRET = "s3cr3t-" + hashlib.sha256(str(os.getpid()).encode()).hexdigest()[:16]
TOP_LINE = REF.splitlines().index("import numpy as np") + 2  # where at_top() puts its first line
CALL_LIMIT = 2.0
"""seconds per call: the forward assignment's own limit. The perfect submissions graded in the
same batches must get full marks under it, so it is not shortened to make the hangs quicker."""


def mutate(old: str, new: str, source: str = REF) -> str:
    assert old in source, f"mutation target not found: {old!r}"
    return source.replace(old, new, 1)


def inject(function: str, code: str, source: str = REF) -> str:
    """`code` (lines, indented by 4) run first in `function`'s body."""
    start = source.index(f"def {function}(")
    at = source.index("### BEGIN SOLUTION\n", start) + len("### BEGIN SOLUTION\n")
    body = "".join(f"    {line}\n" for line in code.strip("\n").splitlines())
    return source[:at] + body + source[at:]


def at_top(code: str, source: str = REF) -> str:
    return mutate("import numpy as np\n", "import numpy as np\n" + code.strip("\n") + "\n", source)


@dataclass
class Ctx:
    """What a hostile case may know about the machine: everything, in the worst case."""

    out: Path
    submissions: Path
    port: int
    marker: Path


@dataclass
class Case:
    id: str
    files: Callable[[Ctx], dict[str, str | bytes]]
    check: Callable[[SubmissionResult, Ctx, str], None]
    """asserts the exact outcome, given the tier"""
    guard: bool = True
    """False: in the batch that runs with the runtime guard off (the OS layer alone)"""
    tiers: tuple[str, ...] = ("bwrap", "none")
    symlink: bool = False


# ---------------------------------------------------------------- outcome helpers


def by_function(result: SubmissionResult) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in result.checks:
        out.setdefault(c.function, []).append(c)
    return out


def only(fails: dict[str, str | None], says: str, every: bool = False, mistake: str | None = None):
    """Exactly the checks of the functions in `fails` fail (all of them when `every`); the
    first failing check of each has the problem kind given (None: the value was judged wrong);
    the first one's message contains `says`."""

    def check(result: SubmissionResult, ctx: Ctx, tier: str) -> None:
        failing = {c.function for c in result.checks if not c.passed}
        assert failing == set(fails), _show(result)
        groups = by_function(result)
        for function, kind in fails.items():
            bad = [c for c in groups[function] if not c.passed]
            assert bad[0].problem == kind, _show(result)
            if every:
                assert len(bad) == len(groups[function]), _show(result)
        first = next(c for c in result.checks if not c.passed and c.function == next(iter(fails)))
        assert says in first.message, _show(result)
        if mistake:
            assert first.mistake == mistake, _show(result)

    return check


def every_check(kind: str, says: str):
    def check(result: SubmissionResult, ctx: Ctx, tier: str) -> None:
        assert result.score == 0, _show(result)
        assert {c.problem for c in result.checks} == {kind}, _show(result)
        assert says in result.checks[0].message, _show(result)

    return check


def per_tier(**checks: Callable[[SubmissionResult, Ctx, str], None]):
    """A different outcome per tier: in tier 1 the OS stops what the guard stops in tier 2."""

    def check(result: SubmissionResult, ctx: Ctx, tier: str) -> None:
        checks[tier](result, ctx, tier)

    return check


def write_refused_in_the_box(target: Callable[[Ctx], Path]):
    """Tier 1's outcome for a write to `target(ctx)`, a folder outside the box. The guard lets
    code write under the box's own /tmp: a target there (pytest's temporary folders usually are)
    does not exist in the box; a target anywhere else is refused by the guard."""

    def check(result: SubmissionResult, ctx: Ctx, tier: str) -> None:
        if str(target(ctx)).startswith("/tmp/"):
            only({"count_params": "exception"}, "No such file or directory", every=True)(result, ctx, tier)
        else:
            every_check("policy", "tried to write")(result, ctx, tier)

    return check


def read_refused_in_the_box(target: Path):
    """Tier 1's outcome for a read of `target`, outside the box: under /tmp (a checkout there, as
    CI's may be) it does not exist in the box's own /tmp; anywhere else the guard refuses it."""
    if str(target).startswith("/tmp/"):
        return only({"count_params": "exception"}, "No such file or directory", every=True)
    return every_check("policy", f"tried to read {target}, outside the submission")


def full_marks(extra: Callable[[SubmissionResult, Ctx, str], None] | None = None):
    def check(result: SubmissionResult, ctx: Ctx, tier: str) -> None:
        assert result.score == result.max_score, _show(result)
        if extra:
            extra(result, ctx, tier)

    return check


def _show(result: SubmissionResult) -> str:
    lines = [f"{result.submission}: {result.score}/{result.max_score} {result.status}"]
    lines += [f"  {c.name} [{c.problem}] {c.message[:300]!r}" for c in result.checks if not c.passed][:12]
    return "\n".join(lines)


# ---------------------------------------------------------------- the cases

SOCKET = "__import__('so' + 'cket')"  # dodges the static scan: only the runtime layers see it


def forge(header: str) -> str:
    """Code that writes a message with this JSON header straight onto the worker's reply pipe
    (the student's process can always find it: it is in sys.argv and /proc/self/fd)."""
    return (
        "import os, sys\n"
        f"head = {header!r}.encode()\n"
        "os.write(int(sys.argv[3]), b'GRD1' + len(head).to_bytes(4, 'little') + head)"
    )

CASES = [
    # -- broken, the honest way
    Case("syntax_error", lambda c: {"forward.py": mutate("def tanh(z):", "def tanh(z)")},
         every_check("import-error", "SyntaxError")),
    Case("renamed_function", lambda c: {"forward.py": mutate("def count_params(", "def count_parameters(")},
         only({"count_params": "missing-function"}, "forward.py has no function count_params", every=True)),
    Case("import_time_exception", lambda c: {"forward.py": at_top("raise RuntimeError('boom at import')")},
         every_check("import-error", "RuntimeError: boom at import")),
    Case("wrong_shape", lambda c: {"forward.py": mutate("return A_prev @ W.T + b", "return (A_prev @ W.T + b).T")},
         only({"dense_forward": None, "layer_forward": None, "forward": "exception"}, "(it looks transposed)")),
    Case("wrong_dtype_object", lambda c: {"forward.py": inject("relu_grad", "return np.array([object()] * np.size(z))")},
         only({"relu_grad": "bad-output"}, "dtype object", every=True)),
    Case("returns_list", lambda c: {"forward.py": inject("tanh_grad", "return (1.0 - np.tanh(z) ** 2).tolist()")},
         only({"tanh_grad": None}, "got a list")),
    Case("returns_tuple", lambda c: {"forward.py": inject("linear_grad", "return tuple(np.ones_like(z))")},
         only({"linear_grad": None}, "got a tuple")),
    Case("returns_none", lambda c: {"forward.py": inject("sigmoid_grad", "return None")},
         only({"sigmoid_grad": None}, "got None", every=True)),
    Case("returns_generator", lambda c: {"forward.py": inject("leaky_relu_grad", "return (x for x in z)")},
         only({"leaky_relu_grad": "bad-output"}, "returned a generator object, which is not plain numeric data",
              every=True)),
    Case("nan", lambda c: {"forward.py": inject("tanh_grad", "return np.full(np.shape(z), np.nan)")},
         only({"tanh_grad": None}, "not finite", every=True)),
    Case("inf", lambda c: {"forward.py": inject("sigmoid_grad", "return np.full(np.shape(z), np.inf)")},
         only({"sigmoid_grad": None}, "not finite", every=True)),
    Case("mutates_inputs", lambda c: {"forward.py": mutate(
        "shifted = Z - Z.max(axis=-1, keepdims=True)", "Z -= Z.max(axis=-1, keepdims=True)\n    shifted = Z")},
        only({"softmax": None, "layer_forward": None, "forward": None}, "it changed its argument `Z` in place",
             mistake="input modified in place")),
    # -- time
    Case("infinite_loop", lambda c: {"forward.py": inject("relu_grad", "while True:\n    pass")},
         only({"relu_grad": "timeout"}, f"did not return within {CALL_LIMIT:g} seconds", every=True)),
    Case("ten_times_too_slow", lambda c: {"forward.py": inject(
        "linear_grad", "import time\ntime.sleep(10)")},
        only({"linear_grad": "timeout"}, "far too slow", every=True)),
    Case("input_at_top", lambda c: {"forward.py": at_top("name = input('your name? ')")},
         every_check("import-error", "EOFError")),
    Case("sys_exit_at_top", lambda c: {"forward.py": at_top("import sys\nsys.exit(0)")},
         every_check("import-error", "SystemExit: 0")),
    Case("os_exit_in_function", lambda c: {"forward.py": inject("count_params", "import os\nos._exit(0)")},
         only({"count_params": "crash"}, "ended the Python process (exit status 0)", every=True)),
    Case("deep_recursion", lambda c: {"forward.py": inject(
        "init_params", "def down(n):\n    return down(n + 1)\ndown(0)")},
        only({"init_params": "exception"}, "RecursionError", every=True)),
    # -- output
    Case("gigabytes_of_stdout_fd", lambda c: {"forward.py": inject(
        "tanh_grad", "import os\nfor _ in range(2048):\n    os.write(1, b'x' * (1 << 20))")},
        only({"tanh_grad": "exception"}, "at most 16 MiB", every=True)),
    Case("gigabytes_of_print", lambda c: {"forward.py": inject(
        "relu_grad", "for _ in range(1000):\n    print('y' * (1 << 20))")},
        full_marks(lambda r, c, t: (len(r.output) < 20_000) or pytest.fail("output not capped"))),
    Case("non_utf8_output", lambda c: {"forward.py": at_top(
        "import os\nos.write(1, b'\\xff\\xfe\\x80 bytes that are not UTF-8 \\xc3(')\nprint('\\udcff lone surrogate')")},
        full_marks(lambda r, c, t: ("\ufffd" in r.output) or pytest.fail(repr(r.output)))),
    Case("fake_results_json", lambda c: {"forward.py": at_top(
        "print('{\"score\": 1000, \"tests\": []}')\nimport sys\n"
        "sys.stderr.write('{\"score\": 1000, \"output\": \"all passed\"}')")},
        full_marks(lambda r, c, t: ('"score": 1000' in r.output) or pytest.fail("print lost"))),
    Case("surrogates_in_the_error", lambda c: {"forward.py": inject(
        "relu_grad", "raise ValueError('half a character: \\udcff \\ud800')")},
        only({"relu_grad": "exception"}, "ValueError: half a character: ? ?", every=True)),
    Case("surrogates_in_the_result", lambda c: {"forward.py": inject(
        "count_params", "return {'k\\udcff': 'v\\ud800'}")},
        only({"count_params": None}, "expected a number, got a dict", every=True)),
    # -- the channel
    Case("a_billion_numbers", lambda c: {"forward.py": inject(
        "count_params", "return np.broadcast_to(np.float64(1.0), (10 ** 9,))")},
        only({"count_params": "bad-output"}, "returned an array of 1000000000 numbers, more than the 4000000",
             every=True)),
    Case("array_function_object", lambda c: {"forward.py": inject("relu_grad", "return Liar()", at_top(
        "class Liar:\n    def __array_function__(self, *a, **k):\n        return True\n"
        "    def __array__(self, *a, **k):\n        return np.zeros(3)\n"
        "    def __eq__(self, other):\n        return True"))},
        only({"relu_grad": "bad-output"}, "returned a Liar object, which is not plain numeric data", every=True)),
    Case("ndarray_subclass", lambda c: {"forward.py": at_top(
        "class Sneaky(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
        "    def __array_function__(self, *a, **k):\n        return True\n"
        "    @property\n    def size(self):\n        return 0")
        .replace("return np.ones_like(np.asarray(z, dtype=np.result_type(z, np.float32)))",
                 "return np.zeros(np.shape(z)).view(Sneaky)")},
        only({"linear_grad": None}, "entries differ; worst")),
    Case("pickle_on_the_channel", lambda c: {"forward.py": inject(
        "relu_grad", "import os, sys\nos.write(int(sys.argv[3]), b'\\x80\\x04\\x95\\x10\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"
                     " b'\\x8c\\x05posix\\x94\\x8c\\x06system\\x94\\x93.')")},
        only({"relu_grad": "bad-output"}, "bad message prefix", every=True)),
    Case("object_array_header", lambda c: {"forward.py": inject("relu_grad", forge(
        '{"status": "ok", "seq": 1, "meta": {"t": "arr", "i": 0}, "arrays": [{"dtype": "|O", "shape": [6]}]}'))},
        only({"relu_grad": "bad-output"}, "dtype '|O' is not allowed", every=True)),
    Case("forged_reply_out_of_sequence", lambda c: {"forward.py": inject("relu_grad", forge(
        '{"status": "ok", "seq": 1000000, "meta": {"t": "int", "v": 1}, "arrays": []}'))},
        only({"relu_grad": "bad-output"}, "a reply that does not answer this call", every=True)),
    Case("forged_huge_declaration", lambda c: {"forward.py": inject("relu_grad", forge(
        '{"status": "ok", "seq": 1, "meta": {"t": "arr", "i": 0}, "arrays": [{"dtype": "<f8", "shape": [1000000000000]}]}'))},
        only({"relu_grad": "bad-output"}, "too large", every=True)),
    Case("deeply_nested_header", lambda c: {"forward.py": inject("relu_grad", forge("[" * 500_000))},
         only({"relu_grad": "bad-output"}, "not JSON", every=True)),
    # -- cheating inside the process
    Case("monkeypatch_numpy", lambda c: {"forward.py": at_top(
        "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\nnp.isclose = lambda a, b, **k: np.ones_like(a, bool)")
        .replace("return 1.0 - np.tanh(z) ** 2", "return np.zeros_like(z)")},
        only({"tanh_grad": None}, "entries differ; worst")),
    Case("monkeypatch_builtins", lambda c: {"forward.py": at_top(
        "_b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)\n"
        "_b['isinstance'] = lambda *a: True\n_b['len'] = lambda *a: 0")},
        # The worker itself needs isinstance: it dies, and the module counts as crashing on import.
        every_check("crash", "importing forward.py ended the Python process (exit status 1)")),
    # -- switching the guard off (each route ends with a forbidden act that must still count)
    Case("switches_the_finder_off", lambda c: {"forward.py": inject("count_params", """
import sys, os
for finder in list(sys.meta_path):
    for name, value in (('active', False), ('_busy', True), ('violations', [])):
        try:
            setattr(finder, name, value)
        except Exception:
            pass
os.system('true')
""")}, every_check("policy", "tried to start another program (os.system)")),
    Case("guard_in_a_frames_locals", lambda c: {"forward.py": inject("count_params", """
import os
try:
    try:
        raise ValueError
    except ValueError as e:
        f = e.__traceback__.tb_frame
    while f is not None:
        for v in list(f.f_locals.values()):
            for name in ('active', 'guarded', 'guard'):
                try:
                    setattr(v, name, False)
                except Exception:
                    pass
        f = f.f_back
except Exception:
    pass
os.system('true')
""")}, every_check("policy", "tried to tamper with the grader (object.__getattr__ tb_frame)")),
    Case("worker_frames_through_a_library", lambda c: {"forward.py": inject("count_params", """
import os, sys
f = sys.modules['inspect'].currentframe()  # a library asks for the frame: allowed
while f is not None:
    for key in list(f.f_locals):
        if key in ('guard', 'guarded'):
            f.f_locals[key] = False
    f = f.f_back
os.system('true')
""")}, every_check("policy", "tried to start another program (os.system)")),
    Case("patches_the_guard_through_sys_modules", lambda c: {"forward.py": inject("count_params", """
import os, sys
policy = sys.modules['grader.worker.policy']
for name, value in list(vars(policy).items()):
    if isinstance(value, type):
        for attr, member in list(vars(value).items()):
            if callable(member) and not attr.startswith('__'):
                setattr(value, attr, lambda *a, **k: None)
    elif callable(value):
        setattr(policy, name, lambda *a, **k: None)
policy._MESSAGES.clear()
policy._PATH_EVENTS.clear()
os.path.realpath = lambda p, *a, **k: os.getcwd()
os.system('true')
""")}, every_check("policy", "tried to start another program (os.system)")),
    Case("fools_the_path_check", lambda c: {"forward.py": inject("count_params", f"""
import os
here = os.getcwd() + '/forward.py'
os.path.realpath = os.path.abspath = os.path.normpath = lambda p, *a, **k: here
os.fspath = os.fsdecode = lambda p: here
exec(open({str(REFERENCE)!r}).read(), globals())
""")}, per_tier(bwrap=read_refused_in_the_box(REFERENCE),
                none=every_check("policy", f"tried to read {REFERENCE}, outside the submission"))),
    Case("restores_the_original_import", lambda c: {"forward.py": inject("count_params", """
b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
b['__import__'] = next(c.cell_contents for c in b['__import__'].__closure__
                       if getattr(c.cell_contents, '__name__', '') == '__import__')
sig = __import__('sig' + 'nal')
sig.signal(sig.SIGTERM, sig.SIG_IGN)
""")}, every_check("policy", "tried to tamper with the grader (replaced the import statement's check)")),
    Case("patches_the_import_checks_closure", lambda c: {"forward.py": inject("count_params", """
b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
for cell in b['__import__'].__closure__:
    if getattr(cell.cell_contents, '__name__', '') == 'audit':
        cell.cell_contents = lambda *a: None
sub = __import__('sub' + 'process')
""")}, every_check("policy", "tried to tamper with the grader (patched its import check)")),
    Case("widens_its_own_allowlist", lambda c: {"forward.py": inject("count_params", """
import sys
try:
    sys.modules['grader.worker.policy'].begin(['subprocess', 'socket', 'torch'])
except Exception:
    pass
sub = __import__('sub' + 'process')
""")}, every_check("policy", "tried to tamper with the grader (changed its allowlist)")),
    Case("traces_every_frame", lambda c: {"forward.py": inject("count_params", """
import sys
try:
    sys.setprofile(lambda frame, event, arg: None)
except Exception:
    pass
""")}, every_check("policy", "tried to tamper with the grader (sys.setprofile)")),
    Case("code_under_a_librarys_name", lambda c: {"forward.py": inject("count_params", """
exec(compile('import sub' + 'process', '/usr/lib/python3/dist-packages/six.py', 'exec'))
""")}, every_check("policy", "tried to tamper with the grader (compiled code under another file's name)")),
    Case("import_in_an_exec_string", lambda c: {"forward.py": inject("count_params", "exec('import sub' + 'process')")},
         every_check("policy", "importing subprocess is not allowed")),
    Case("closes_the_guards_report_pipe", lambda c: {"forward.py": inject("count_params", """
import os, sys
os.close(int(sys.argv[4].split('"report_fd": ')[1].split(',')[0].split('}')[0]))
try:
    os.system('true')
except Exception:
    pass
""")}, every_check("policy", "tried to tamper with the grader (broke into the worker's own code between calls, or closed")),
    Case("replaces_the_guards_report_pipe", lambda c: {"forward.py": inject("count_params", """
import os, sys
r, w = os.pipe()
os.dup2(w, int(sys.argv[4].split('"report_fd": ')[1].split(',')[0].split('}')[0]))
try:
    os.system('true')
except Exception:
    pass
""")}, every_check("policy", "tried to tamper with the grader (broke into the worker's own code between calls, or closed")),
    # -- the import policy
    Case("imports_torch", lambda c: {"forward.py": at_top("import torch")},
         every_check("policy", f"forward.py, line {TOP_LINE}: importing torch is not allowed: it computes gradients")),
    Case("imports_subprocess_in_helper", lambda c: {
        "forward.py": at_top("import helpers"), "helpers.py": "x = 1\nimport subprocess\n"},
        every_check("policy", "helpers.py, line 2: importing subprocess is not allowed")),
    Case("dynamic_import_of_a_loaded_module", lambda c: {"forward.py": inject(
        "relu_grad", "sig = __import__('sig' + 'nal')\nsig.signal(sig.SIGTERM, sig.SIG_IGN)")},
        every_check("policy", "importing signal is not allowed")),
    Case("starts_a_program", lambda c: {"forward.py": inject("count_params", "import os\nos.system('true')")},
         every_check("policy", "tried to start another program (os.system)")),
    Case("ctypes_through_numpy", lambda c: {"forward.py": inject(
        "count_params", "np.ctypeslib.ctypes.CDLL(None).getpid()")},
        every_check("policy", "tried to call C code through ctypes")),
    Case("kills_the_grader", lambda c: {"forward.py": inject("count_params", "import os\nos.kill(os.getppid(), 9)")},
         every_check("policy", "tried to send a signal to another process (os.kill)")),
    Case("fork_caught", lambda c: {"forward.py": inject("count_params", "import os\nos.fork()")},
         every_check("policy", "tried to start another program (os.fork)")),
    Case("network", lambda c: {"forward.py": inject(
        "count_params", f"s = {SOCKET}.create_connection(('127.0.0.1', {c.port}), timeout=0.5)")},
        every_check("policy", "importing socket is not allowed: graded code has no network")),
    Case("writes_the_output_folder", lambda c: {"forward.py": inject(
        "count_params", f"open({str(report_dir(c.out, 'aaa_perfect') / 'results.json')!r}, 'w').write('{{\"score\": 0}}')")},
        per_tier(bwrap=write_refused_in_the_box(lambda c: c.out), none=every_check("policy", "tried to write"))),
    Case("writes_another_submission", lambda c: {"forward.py": inject(
        "count_params", f"open({str(c.submissions / 'zzz_perfect' / 'forward.py')!r}, 'a').write('raise SystemExit')")},
        per_tier(bwrap=write_refused_in_the_box(lambda c: c.submissions), none=every_check("policy", "tried to write"))),
    Case("symlink_to_the_output", lambda c: {"forward.py": inject("count_params", f"""
import os
os.symlink({str(report_dir(c.out, 'aaa_perfect') / 'feedback.md')!r}, 'feedback.md')
open('feedback.md', 'w').write('# Feedback: 100/100')
""")}, per_tier(bwrap=write_refused_in_the_box(lambda c: c.out), none=every_check("policy", "tried to write"))),
    Case("searches_the_disk_for_the_reference", lambda c: {"forward.py": inject("count_params", """
import os
for top, dirs, files in os.walk('/'):
    if 'forward.py' in files and top.endswith('reference'):
        exec(open(os.path.join(top, 'forward.py')).read(), globals())
        break
""")}, every_check("policy", "tried to read /")),
    Case("reads_the_graders_environ", lambda c: {"forward.py": inject(
        "count_params", "import os\nopen(f'/proc/{os.getppid()}/environ', 'rb').read()\nos.listdir(f'/proc/{os.getppid()}/fd')")},
        every_check("policy", "tried to read /proc/")),
    # -- resources
    Case("memory_bomb", lambda c: {"forward.py": inject("init_params", "hog = np.ones(10 ** 10)")},
         only({"init_params": "exception"}, "ran out of memory (graded code may use at most 1024 MiB)", every=True)),
    Case("huge_file", lambda c: {"forward.py": inject(
        "sigmoid_grad", "with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'0' * (1 << 20))")},
        only({"sigmoid_grad": "exception"}, "File too large (graded code may write at most 16 MiB", every=True)),
    # -- planted files
    Case("symlinked_module", lambda c: {"forward.py": str(REFERENCE)},
         lambda r, c, t: ({x.problem for x in r.checks} == {"missing-module"}
                          and any("symbolic link" in n for n in r.notices)) or pytest.fail(_show(r)),
         symlink=True),
    Case("sitecustomize_and_usercustomize", lambda c: {
        "forward.py": REF,
        "sitecustomize.py": f"open({str(c.marker)!r}, 'w').write('sitecustomize ran')\nraise SystemExit(9)\n",
        "usercustomize.py": f"open({str(c.marker)!r}, 'w').write('usercustomize ran')\nraise SystemExit(9)\n"},
        full_marks(lambda r, c, t: not c.marker.exists() or pytest.fail(c.marker.read_text()))),
    Case("numpy_py_beside_it", lambda c: {
        "forward.py": REF, "numpy.py": "allclose = lambda *a, **k: True\nraise SystemExit('fake numpy')\n"},
        full_marks()),
    Case("conftest_py", lambda c: {
        "forward.py": REF,
        "conftest.py": f"open({str(c.marker)!r}, 'w').write('conftest ran')\nimport pytest\n"},
        full_marks(lambda r, c, t: not c.marker.exists() or pytest.fail(c.marker.read_text()))),
    # ---------------------------------------------------------------- the OS layer alone (guard off)
    Case("ignores_sigterm", lambda c: {"forward.py": inject(
        "relu_grad", "sig = __import__('sig' + 'nal')\nsig.signal(sig.SIGTERM, sig.SIG_IGN)\nwhile True:\n    pass")},
        only({"relu_grad": "timeout"}, f"did not return within {CALL_LIMIT:g} seconds", every=True), guard=False),
    Case("background_process", lambda c: {"forward.py": inject("count_params", """
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/bin/sleep', ['sleep', '86399.25'])
    os._exit(0)
os.wait()
""")}, full_marks(), guard=False),
    Case("fork_bomb", lambda c: {"forward.py": inject("count_params", """
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            while True:
                time.sleep(1)
        n += 1
except OSError as e:
    raise RuntimeError(f'fork refused after {n} processes: {e.strerror}')
""")}, only({"count_params": "exception"}, "fork refused after", every=True), guard=False),
    Case("os_memory_bomb", lambda c: {"forward.py": inject("init_params", "hog = bytearray(4 << 30)")},
         only({"init_params": "exception"}, "ran out of memory", every=True), guard=False),
    Case("os_huge_file", lambda c: {"forward.py": inject(
        "sigmoid_grad", "import os\nwith open(os.environ['TMPDIR'] + '/big.bin', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'0' * (1 << 20))")},
        only({"sigmoid_grad": "exception"}, "File too large", every=True), guard=False),
    Case("os_fills_memory_through_files", lambda c: {"forward.py": inject("count_params", """
import os
written = 0
for folder in ('/', '/dev/shm', '/opt', os.environ['TMPDIR'], os.getcwd()):
    try:
        for i in range(64):
            with open(os.path.join(folder, f'fill{i}'), 'wb') as f:
                f.write(b'0' * (8 << 20))
            written += 8
    except OSError:
        pass
raise RuntimeError(f'wrote {written} MiB')
""")}, lambda r, c, t: only({"count_params": "exception"}, "wrote ", every=True)(r, c, t) or (
        int(next(x for x in r.checks if not x.passed).message.split("wrote ")[1].split(" MiB")[0]) <= 128
        or pytest.fail(_show(r))), guard=False, tiers=("bwrap",)),
    Case("os_network", lambda c: {"forward.py": inject(
        "count_params", f"s = {SOCKET}.create_connection(('127.0.0.1', {c.port}), timeout=0.5)")},
        only({"count_params": "exception"}, "Error: [Errno", every=True), guard=False, tiers=("bwrap",)),
    Case("os_reads_the_reference", lambda c: {"forward.py": inject(
        "count_params", f"exec(open({str(REFERENCE)!r}).read(), globals())")},
        only({"count_params": "exception"}, "FileNotFoundError", every=True), guard=False, tiers=("bwrap",)),
    Case("os_searches_the_disk", lambda c: {"forward.py": inject("count_params", """
import os
seen = []
for top, dirs, files in os.walk('/'):
    dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev', 'usr', 'site-packages', 'python3.11')]
    seen += [os.path.join(top, f) for f in files]
course = ('reference/forward.py', 'checks_hidden.py', 'checks_visible.py', '.grd', 'assignment.toml', 'results.json')
hits = [p for p in seen if p.endswith(course)]
raise RuntimeError(f'found {len(hits)} course files: {hits[:3]}')
""")}, only({"count_params": "exception"}, "found 0 course files", every=True), guard=False, tiers=("bwrap",)),
    Case("os_writes_the_output_folder", lambda c: {"forward.py": inject(
        "count_params", f"open({str(report_dir(c.out, 'aaa_perfect') / 'results.json')!r}, 'w').write('{{}}')")},
        only({"count_params": "exception"}, "FileNotFoundError", every=True), guard=False, tiers=("bwrap",)),
    Case("os_reads_the_graders_environ", lambda c: {"forward.py": inject("count_params", """
import os
found = []
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        found.append(open(f'/proc/{pid}/environ', 'rb').read())
    except OSError:
        pass
raise RuntimeError(f'{len(found)} environments, secret found: {any(b"GRADER_TEST_SECRET" in e for e in found)}')
""")}, only({"count_params": "exception"}, "secret found: False", every=True), guard=False, tiers=("bwrap",)),
]

GUARDED = [c for c in CASES if c.guard]
UNGUARDED = [c for c in CASES if not c.guard]


# ---------------------------------------------------------------- batches




TIERS = available_tiers()


def _process_cap_holds(tier: str) -> bool:
    iso = sandbox.resolve(tier)
    return iso.tier == "bwrap" or iso.separate_uids or os.geteuid() != 0


def _limits(tier: str, guard: bool) -> Limits:
    # Tier 2 as root where no other uid can run Python (this repository's CI machine has its
    # Python under /root): student code would run as root, which the grader refuses unless asked.
    return Limits(call_timeout=CALL_LIMIT, submission_timeout=30.0, sandbox=tier, runtime_guard=guard,
                  unsafe_run_as_root=sandbox.resolve(tier).as_root)


def _write(folder: Path, files: dict[str, str | bytes], symlink: bool) -> None:
    folder.mkdir(parents=True)
    for name, data in files.items():
        if symlink:
            (folder / name).symlink_to(data)
        else:
            (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)


class Listener:
    """A TCP server on 127.0.0.1 that records whoever connects (nobody should)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()


@dataclass
class Batch:
    tier: str
    ctx: Ctx
    cases: list[Case]
    results: dict[str, SubmissionResult] = field(default_factory=dict)
    seconds: float = 0.0
    connections: int = 0
    sources_before: dict[str, str] = field(default_factory=dict)


def _digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())).hexdigest()


def _run_batch(tmp: Path, tier: str, cases: list[Case], guard: bool) -> Batch:
    subs, out = tmp / "submit", tmp / "out"
    listener = Listener()
    ctx = Ctx(out=out, submissions=subs, port=listener.port, marker=tmp / "marker")
    for name in ("aaa_perfect", "zzz_perfect"):
        _write(subs / name, {"forward.py": REF}, False)
    for case in cases:
        _write(subs / case.id, case.files(ctx), case.symlink)
    batch = Batch(tier, ctx, cases)
    batch.sources_before = {name: _digest(subs / name) for name in ("aaa_perfect", "zzz_perfect")}
    os.environ["GRADER_TEST_SECRET"] = SECRET  # in the grader's environment: no worker may see it
    started = time.monotonic()
    try:
        graded = grade_folder(subs, out, Course.load(ROOT, ["forward"]), _limits(tier, guard), jobs=2)
    finally:
        del os.environ["GRADER_TEST_SECRET"]
        listener.close()
    batch.seconds = time.monotonic() - started
    batch.connections = listener.connections
    batch.results = {r.submission: r for r in graded.results}
    return batch


def _report(out: Path, name: str) -> tuple[dict, str]:
    data = json.loads((report_dir(out, name) / "results.json").read_text())
    data.pop("execution_time")
    return data, (report_dir(out, name) / "feedback.md").read_text()


@pytest.fixture(scope="module", params=TIERS)
def tier(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def alone(tier, tmp_path_factory) -> tuple[dict, str]:
    """The perfect submission's report when it is graded on its own."""
    batch = _run_batch(tmp_path_factory.mktemp(f"alone-{tier}"), tier, [], True)
    return _report(batch.ctx.out, "aaa_perfect")


@pytest.fixture(scope="module")
def guarded(tier, tmp_path_factory) -> Batch:
    return _run_batch(tmp_path_factory.mktemp(f"guarded-{tier}"), tier, [c for c in GUARDED if tier in c.tiers], True)


@pytest.fixture(scope="module")
def unguarded(tier, tmp_path_factory) -> Batch:
    cases = [c for c in UNGUARDED if tier in c.tiers]
    if not _process_cap_holds(tier):
        cases = [c for c in cases if c.id != "fork_bomb"]  # never without a process cap in force
    return _run_batch(tmp_path_factory.mktemp(f"unguarded-{tier}"), tier, cases, False)


# ---------------------------------------------------------------- the tests


def test_the_cases_have_distinct_ids_and_the_readme_counts_them():
    # Results are keyed by case id; the README tells instructors how many cases there are.
    assert len({c.id for c in CASES}) == len(CASES)
    assert f"{len(CASES)} hostile or broken submissions" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("case", GUARDED, ids=lambda c: c.id)
def test_hostile_submission_gets_exactly_its_outcome(guarded, case):
    if guarded.tier not in case.tiers:
        pytest.skip(f"not run in tier {guarded.tier}")
    result = guarded.results[case.id]
    case.check(result, guarded.ctx, guarded.tier)
    for c in result.checks:
        if not c.passed:
            assert c.message.strip(), f"{c.name}: a failing check must say why"
            assert c.problem != "judge-error", _show(result)


@pytest.mark.parametrize("case", UNGUARDED, ids=lambda c: c.id)
def test_the_os_layer_holds_without_the_guard(unguarded, case):
    if unguarded.tier not in case.tiers:
        pytest.skip(f"tier {unguarded.tier} does not promise this without the guard (see SECURITY.md)")
    if case.id not in unguarded.results:
        pytest.skip("no process cap can be enforced here (root, no sandbox): the fork bomb is not run")
    case.check(unguarded.results[case.id], unguarded.ctx, unguarded.tier)


@pytest.mark.parametrize("which", ["guarded", "unguarded"])
def test_the_batch_completes_and_the_perfect_submissions_are_untouched(request, which, alone):
    batch: Batch = request.getfixturevalue(which)
    assert set(batch.results) == {"aaa_perfect", "zzz_perfect", *(c.id for c in batch.cases)}
    for name in ("aaa_perfect", "zzz_perfect"):
        result = batch.results[name]
        assert result.score == result.max_score > 0, _show(result)
        assert _report(batch.ctx.out, name) == (
            {**alone[0]}, alone[1].replace("# Feedback for aaa_perfect", f"# Feedback for {name}"))
        assert _digest(batch.ctx.submissions / name) == batch.sources_before[name]
    assert batch.connections == 0, "a submission reached the network"
    reports = [p for p in batch.ctx.out.rglob("*") if p.is_file()]
    assert len(reports) > 3 * len(batch.results)
    for report in reports:
        assert SECRET not in report.read_text(errors="replace"), f"the grader's secret leaked into {report}"


def test_nothing_the_students_started_is_left_running(guarded, unguarded):
    # Killed process trees may take a moment to be reaped: look again until a deadline.
    deadline = time.monotonic() + 10
    while _students_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _students_processes() == [], "processes left running"


def _students_processes() -> list[str]:
    left = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            try:
                environ = Path(f"/proc/{entry.name}/environ").read_bytes()
            except OSError:
                environ = b""
            # Every worker, and whatever it started, carries GRADER_WORKER=<our pid>-<random>.
            if b"86399.25" in cmdline or f"GRADER_WORKER={os.getpid()}-".encode() in environ:
                left.append(entry.name)
    return left


def test_a_run_without_the_sandbox_says_so_in_every_report(guarded):
    for result in guarded.results.values():
        if guarded.tier == "none":
            assert any(n.startswith("NOT SANDBOXED") for n in result.notices)
            folder = report_dir(guarded.ctx.out, result.submission)
            assert "NOT SANDBOXED" in (folder / "feedback.md").read_text()
            assert "NOT SANDBOXED" in (folder / "feedback.html").read_text()
            assert "NOT SANDBOXED" in json.loads((folder / "results.json").read_text())["output"]
        else:
            assert not any(n.startswith("NOT SANDBOXED") for n in result.notices)
