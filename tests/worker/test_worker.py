"""The worker's call path on its own (`grader.worker.serve._run`): each way a call can end is one reply.

The worker is the only place student code runs; here its request handling is driven in the test
process with small trusted modules, so each reply kind is reached directly and read back through
the codec exactly as the trusted side reads it.
"""

from __future__ import annotations

import itertools
import os
import sys

import numpy as np
import pytest

from grader.worker import codec
from grader.worker import serve as worker

_names = itertools.count()


def _decode(data: bytes):
    r, w = os.pipe()
    try:
        os.write(w, data)
        os.close(w)
        return codec.read_message(r)
    finally:
        os.close(r)


@pytest.fixture
def module(tmp_path, monkeypatch):
    """Write `source` as a fresh module in a folder on sys.path; returns (name, root)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(source: str) -> tuple[str, str]:
        name = f"student_{os.getpid()}_{next(_names)}"
        (tmp_path / f"{name}.py").write_text(source)
        made.append(name)
        return name, str(tmp_path)

    yield make
    for name in made:
        sys.modules.pop(name, None)


def _call(module_name: str, root: str, function: str, *args, return_args: bool = False):
    header = {"module": module_name, "function": function, "seq": 7, "return_args": return_args}
    reply, returned = worker._run(header, list(args), {}, root, codec.DEFAULT_LIMITS)
    decoded = _decode(reply)
    # what tells the call loop to run the calls sent ahead: the value the reply carries, if any
    assert (returned is not None) == (decoded[0]["status"] == "ok")
    if returned is not None:  # the digest a call planned after this one names is the reply's value's
        assert codec.digest(returned) == codec.digest(codec.prepare(decoded[1]))
    return decoded


def test_a_call_that_returns_sends_the_value_and_the_sequence_number(module):
    name, root = module("import numpy as np\n\ndef double(x):\n    return 2 * x\n")
    header, value = _call(name, root, "double", np.arange(3.0))
    assert (header["status"], header["seq"]) == ("ok", 7)
    assert value.tolist() == [0.0, 2.0, 4.0]


def test_return_args_sends_the_arguments_as_the_call_left_them(module):
    name, root = module("def bump(x):\n    x += 1\n    return None\n")
    header, value = _call(name, root, "bump", np.zeros(2), return_args=True)
    assert header["status"] == "ok"
    assert value["result"] is None and value["args"][0].tolist() == [1.0, 1.0]


def test_a_missing_module_is_named(module, tmp_path):
    header, _ = _call("no_such_student_module", str(tmp_path), "f")
    assert (header["status"], header["kind"]) == ("error", "missing-module")
    assert header["message"] == "no_such_student_module.py was not found"


def test_a_module_that_fails_to_import_is_an_import_error_with_its_own_traceback(module):
    name, root = module("x = 1\n\n\ndef f(:\n    pass\n")
    header, _ = _call(name, root, "f")
    assert (header["kind"], header["type"]) == ("import-error", "SyntaxError")
    assert root not in header["traceback"]  # paths relative to the submission


def test_an_import_of_a_module_that_is_not_there_is_an_import_error_not_a_missing_module(module):
    name, root = module("import no_such_helper_module\n")
    header, _ = _call(name, root, "f")
    assert header["kind"] == "import-error" and "no_such_helper_module" in header["message"]


def test_a_name_that_is_not_a_function_is_a_missing_function(module):
    name, root = module("sigmoid = 0.5\n")
    header, _ = _call(name, root, "sigmoid")
    assert (header["kind"], header["message"]) == ("missing-function", f"{name}.py has no function sigmoid")
    header, _ = _call(name, root, "relu")
    assert header["kind"] == "missing-function"


def test_an_exception_comes_back_with_the_student_frames_only(module):
    name, root = module("def f(x):\n    return helper(x)\n\n\ndef helper(x):\n    raise ValueError('bad x')\n")
    header, _ = _call(name, root, "f", 1)
    assert (header["kind"], header["type"], header["message"]) == ("exception", "ValueError", "ValueError: bad x")
    frames = [ln for ln in header["traceback"].splitlines() if ln.strip().startswith("File ")]
    assert len(frames) == 2 and all(f'File "{name}.py"' in ln for ln in frames)


@pytest.mark.parametrize("raised", ["SystemExit(3)", "KeyboardInterrupt()"])
def test_exit_and_interrupt_raised_by_the_student_are_exceptions_too(module, raised):
    name, root = module(f"def f():\n    raise {raised}\n")
    header, _ = _call(name, root, "f")
    assert header["kind"] == "exception"


def test_a_value_that_is_not_plain_data_is_bad_output(module):
    name, root = module("def f():\n    return object()\n")
    header, _ = _call(name, root, "f")
    assert header["kind"] == "bad-output" and "not plain numeric data" in header["message"]


def test_a_value_over_the_size_limit_is_bad_output(module):
    name, root = module("import numpy as np\n\ndef f():\n    return np.zeros(100)\n")
    small = codec.MessageLimits(max_elements=10, max_array_bytes=80)
    data, returned = worker._run({"module": name, "function": "f", "seq": 1}, [], {}, root, small)
    header, _ = _decode(data)
    assert header["kind"] == "bad-output"
    assert returned is None


def test_error_messages_are_capped():
    header, _ = _decode(worker._error("exception", None, "/x", "m" * 5000, seq=1))
    assert len(header["message"]) == 2000


def test_the_output_stream_keeps_only_its_cap():
    r, w = os.pipe()
    try:
        stream = worker._CappedStream(w, 10)
        assert stream.write("hello ") == 6
        assert stream.write("world, and more") == 15  # reports everything written, keeps the cap
        stream.write("dropped")
        os.close(w)
        assert os.read(r, 100) == b"hello worl"
    finally:
        os.close(r)
