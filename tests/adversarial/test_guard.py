"""The runtime guard between calls: student code that acts while the worker's own code runs
(a thread, a signal handler, an exit handler) is judged like code in a call, and counted.

Each submission arms itself in one call and acts when the worker's main thread is blocked
reading the next request (it watches that thread's system call in /proc), which is exactly
when the guard used to be switched off. It prints what happened, so the test can wait for it.
"""

from __future__ import annotations

import time

import pytest

from conftest import available_tiers
from grader.isolation import sandbox
from grader.isolation.runner import Limits, StudentProcess
from grader.model import Call, StudentError

# Waits until the worker's main thread sleeps in a pipe read (its kernel wait channel says so):
# the only pipe it reads is its request pipe, so the worker is between calls, in its own code.
BETWEEN_CALLS = """
import os, sys, time

def between_calls():
    while True:
        with open(f'/proc/self/task/{os.getpid()}/wchan') as f:
            if 'pipe_read' in f.read():
                return
        time.sleep(0.005)
"""


def _limits(tier: str) -> Limits:
    return Limits(sandbox=tier, call_timeout=20.0, unsafe_run_as_root=sandbox.resolve(tier).as_root)




def _wait_for_output(p: StudentProcess, text: str, seconds: float = 60.0) -> str:
    deadline = time.monotonic() + seconds
    while text not in p.output():
        assert time.monotonic() < deadline, f"never printed {text!r}: {p.output()!r}"
        time.sleep(0.02)
    return p.output()


def _calls_around(source: str, tier: str, printed: str) -> tuple[list[StudentError], str]:
    """Call `arm`, wait until the submission printed `printed`, call `probe`: the errors of
    both calls, and the output. The act between calls may happen before or after `arm`'s
    reply is read, so its violation counts against `arm` or else against `probe`."""
    errors: list[StudentError] = []
    with StudentProcess({"m.py": source.encode()}, _limits(tier)) as p:
        def call(function: str) -> None:
            try:
                p.call(Call("m", function))
            except StudentError as exc:
                errors.append(exc)

        call("arm")
        output = _wait_for_output(p, printed)
        call("probe")
    return errors, output


@pytest.mark.parametrize("tier", available_tiers())
def test_a_thread_that_acts_between_calls_is_refused_and_the_next_call_counts_it(tier):
    source = BETWEEN_CALLS + """
def act():
    between_calls()
    try:
        os.system('true')
        print('thread: allowed', flush=True)
    except Exception as exc:
        print(f'thread: refused ({type(exc).__name__})', flush=True)

def arm():
    sys.modules['_thread'].start_new_thread(act, ())
    return 1

def probe():
    return 2
"""
    errors, output = _calls_around(source, tier, "thread: ")
    assert "thread: refused (NotAllowed)" in output
    assert [e.kind for e in errors][-1:] == ["policy"]
    assert errors[0].message.startswith("m.py: tried to start another program (os.system)")


@pytest.mark.parametrize("tier", available_tiers())
def test_a_signal_handler_run_between_calls_is_refused_and_counted(tier):
    source = BETWEEN_CALLS + """
signal = sys.modules['signal']

def handler(signum, frame):
    os.system('true')
    print('handler: allowed', flush=True)

def send():
    between_calls()
    os.kill(os.getpid(), signal.SIGUSR1)
    print('sent', flush=True)

def arm():
    signal.signal(signal.SIGUSR1, handler)
    sys.modules['_thread'].start_new_thread(send, ())
    return 1

def probe():
    return 2
"""
    with StudentProcess({"m.py": source.encode()}, _limits(tier)) as p:
        assert p.call(Call("m", "arm")) == 1
        _wait_for_output(p, "sent")
        with pytest.raises(StudentError) as err:
            p.call(Call("m", "probe"))
        assert "handler: allowed" not in p.output()
    assert err.value.kind == "policy"
    assert err.value.message.startswith("m.py: tried to start another program (os.system)")


@pytest.mark.parametrize("tier", available_tiers())
def test_an_exit_handler_runs_under_the_guard(tier):
    # The call ends the worker's request channel (its fd now reads /dev/null), so the worker's
    # main loop returns and the interpreter runs its exit handlers.
    source = """
import os, sys

def at_exit():
    try:
        os.system('true')
        print('atexit: allowed', flush=True)
    except Exception as exc:
        print(f'atexit: refused ({type(exc).__name__})', flush=True)

def arm():
    sys.modules['atexit'].register(at_exit)
    os.dup2(os.open('/dev/null', os.O_RDONLY), int(sys.argv[2]))
    return 1

def probe():
    return 2
"""
    errors, output = _calls_around(source, tier, "atexit: ")
    assert "atexit: refused (NotAllowed)" in output
    assert [e.kind for e in errors][-1:] == ["policy"]
    assert errors[0].message.startswith("m.py: tried to start another program (os.system)")


@pytest.mark.parametrize("tier", available_tiers())
def test_honest_code_calls_between_refusals_are_unaffected(tier):
    # A violation costs the module it happened in (its later calls fail with it), not the
    # other modules of the same worker.
    files = {
        "bad.py": b"import os\n\ndef f():\n    try:\n        os.system('true')\n    except Exception:\n        pass\n"
                  b"    return 1\n",
        "good.py": b"import numpy as np\n\ndef g():\n    return float(np.tanh(np.float64(0.5)))\n",
    }
    with StudentProcess(files, _limits(tier)) as p:
        with pytest.raises(StudentError) as err:
            p.call(Call("bad", "f"))
        assert p.call(Call("good", "g")) == pytest.approx(0.46211715726000974)
        with pytest.raises(StudentError) as again:
            p.call(Call("bad", "f"))
    assert err.value.kind == again.value.kind == "policy"
