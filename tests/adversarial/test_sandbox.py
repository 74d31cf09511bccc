"""The pieces behind the adversarial suite: the tier choice on the command line, the static
import check, the runtime guard's allowances, and the limits' settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import available_tiers
from grader.cli.commands import main
from grader.isolation import sandbox
from grader.isolation.runner import Limits, StudentProcess
from grader.model import Call, StudentError
from grader.worker import policy

ROOT = Path(__file__).resolve().parents[2]
PERFECT = (ROOT / "reference" / "forward.py").read_bytes()


def test_grade_with_sandbox_none_says_so_on_the_terminal_and_in_every_report(tmp_path):
    sub = tmp_path / "class" / "alice"
    sub.mkdir(parents=True)
    (sub / "forward.py").write_bytes(PERFECT)
    as_root = ["--unsafe-run-as-root"] if sandbox.resolve("none").as_root else []
    result = CliRunner().invoke(main, [str(tmp_path / "class"), "--sandbox", "none", "-a", "forward", "-q",
                                       "--out", str(tmp_path / "out"), *as_root])
    assert result.exit_code == 0, result.output
    assert "WARNING: NOT SANDBOXED: --sandbox none was chosen" in result.output
    assert "NOT SANDBOXED" in (tmp_path / "out" / "students" / "alice" / "feedback.md").read_text()


def test_sandbox_bwrap_without_bwrap_fails_in_one_line(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    (tmp_path / "forward.py").write_bytes(PERFECT)
    proc = subprocess.run(
        [sys.executable, "-m", "grader", str(tmp_path), "--sandbox", "bwrap", "-o", str(tmp_path / "o")],
        env={**os.environ, "PATH": str(bin_dir)}, capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "grade: error: --sandbox bwrap: bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install "
        "bubblewrap); use --sandbox none to grade without it"
    ]


def test_the_static_check_follows_the_students_own_modules_and_names_the_line():
    files = {
        "forward.py": b"import numpy as np\nfrom helpers import f\n\ndef g():\n    import scipy.special\n",
        "helpers.py": b"import math\n\n\ndef f():\n    return __import__('torch')\n",
        "unused.py": b"import socket\n",
    }
    found = policy.scan(files, "forward", ["numpy", "scipy", "math"])
    assert [(v.file, v.line, v.module) for v in found] == [("helpers.py", 5, "torch")]
    assert found[0].message(["numpy"]).startswith("helpers.py, line 5: importing torch is not allowed")
    assert policy.scan({"forward.py": b"def broken(:\n"}, "forward", ["numpy"]) == []
    narrow = policy.scan(files, "forward", ["numpy"])
    assert [(v.line, v.module) for v in narrow] == [(5, "scipy"), (5, "torch")]


def _limits(tier: str, **more) -> Limits:
    """The tier's limits; tier 2 as root where no other uid can run Python must ask to run as root."""
    return Limits(sandbox=tier, unsafe_run_as_root=sandbox.resolve(tier).as_root, **more)




@pytest.mark.parametrize("tier", available_tiers())
def test_an_assignments_allowlist_is_enforced_and_may_be_empty(tier):
    files = {"m.py": b"import numpy as np\n\ndef f():\n    return 1\n"}
    with StudentProcess(files, _limits(tier), allowed_imports={"m": ()}) as p:
        with pytest.raises(StudentError) as err:
            p.call(Call("m", "f"))
    assert err.value.kind == "policy" and "m.py, line 1: importing numpy is not allowed" in err.value.message


@pytest.mark.parametrize("tier", available_tiers())
def test_the_guard_lets_honest_code_work(tier):
    source = b"""
import os
import numpy as np


def f():
    import scipy.special                      # a library's own imports are not checked
    with open("notes.txt", "w") as out:       # the working folder is writable
        out.write("x")
    with open(os.path.join(os.environ["TMPDIR"], "t"), "w") as out:
        out.write("y")
    here = open(__file__).read()              # its own files are readable
    return [float(scipy.special.expit(0.0)), len(here) > 0, sorted(os.listdir("."))]
"""
    with StudentProcess({"m.py": source}, _limits(tier)) as p:
        assert p.call(Call("m", "f")) == [0.5, True, ["m.py", "notes.txt"]]


@pytest.mark.parametrize("tier", available_tiers())
def test_the_memory_limit_is_a_setting(tier):
    source = b"import numpy as np\n\ndef f():\n    return float(np.ones(60_000_000).sum())\n"
    with StudentProcess({"m.py": source}, _limits(tier, memory_mb=300)) as p:
        with pytest.raises(StudentError) as err:
            p.call(Call("m", "f"))
    assert "ran out of memory (graded code may use at most 300 MiB)" in err.value.message
    with StudentProcess({"m.py": source}, _limits(tier, memory_mb=1024)) as p:
        assert p.call(Call("m", "f")) == 60_000_000.0
