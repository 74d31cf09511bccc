"""The limits a submission runs under, as set from the command line and over a whole submission."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import ROOT, mutate, reference_source, report_dir, unsandboxed
from grader.cli.commands import main
from grader.isolation.runner import StudentProcess
from grader.model import Call, StudentError

# relu reserves 480 MB (60 million float64, never touched, so it costs no time) before answering:
# over a 300 MiB limit of address space, under 1024 MiB.
HUNGRY = mutate(reference_source("forward"), '    """`max(0, z)`, element-wise."""\n',
                '    """`max(0, z)`, element-wise."""\n    np.empty(60_000_000)\n')


def _grade_hungry(tmp_path, *extra: str) -> dict:
    submit = tmp_path / "submit" / "ada"
    submit.mkdir(parents=True)
    (submit / "forward.py").write_text(HUNGRY)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [str(submit.parent), "--out", str(out), "-a", "forward", "-q", *extra])
    assert result.exit_code == 0, result.output
    data = json.loads((report_dir(out, "ada") / "results.json").read_text())
    return {t["name"]: t for t in data["tests"] if t["name"].startswith("forward.relu:")}


def test_memory_option_sets_the_workers_memory_limit(tmp_path):
    relu = _grade_hungry(tmp_path / "small", "--memory", "300")
    assert relu and {t["status"] for t in relu.values()} == {"failed"}
    first = next(iter(relu.values()))["output"]
    assert "ran out of memory (graded code may use at most 300 MiB)" in first
    roomy = _grade_hungry(tmp_path / "default")
    assert roomy and {t["status"] for t in roomy.values()} == {"passed"}


def test_the_memory_option_refuses_less_than_a_worker_needs():
    result = CliRunner().invoke(main, [str(ROOT / "examples" / "submit"), "--memory", "100"])
    assert result.exit_code == 2 and "--memory" in result.output


# Each call burns 0.3 s of CPU (and so at least 0.3 s of wall time): with a 1 s budget for the
# whole submission, whether the budget counts CPU or wall time, at most three calls complete.
# Eight functions, one call each: a function that timed out is skipped for its own reason.
BURN = "import time\n\n\ndef _burn():\n    start = time.process_time()\n" \
       "    while time.process_time() - start < 0.3:\n        pass\n    return 1\n"
BURN += "".join(f"\n\ndef burn{i}():\n    return _burn()\n" for i in range(8))


def test_a_submission_that_uses_up_its_time_budget_has_its_later_calls_skipped():
    outcomes = []
    limits = unsandboxed(call_timeout=30.0, submission_timeout=1.0)
    with StudentProcess({"m.py": BURN.encode()}, limits) as p:
        for i in range(8):
            try:
                outcomes.append(str(p.call(Call("m", f"burn{i}"))))
            except StudentError as err:
                outcomes.append(err.kind)
                if err.kind == "skipped":
                    assert err.message == "not run: the submission used up its total time budget"
    done = outcomes.count("1")
    assert done <= 3, outcomes  # (fewer on a busy machine, if the budget counts wall time)
    # then at most one call cut short by what was left of the budget, and the rest skipped
    rest = outcomes[done:]
    assert rest in (["skipped"] * len(rest), ["timeout"] + ["skipped"] * (len(rest) - 1)), outcomes
    assert rest.count("skipped") >= 4, outcomes


def test_the_per_call_limit_is_the_smaller_of_the_assignments_and_the_command_lines(tmp_path):
    # forward's assignment.toml says 2 s: --timeout 0.75 lowers it, --timeout 60 does not raise it.
    source = mutate(reference_source("forward"), '    """`max(0, z)`, element-wise."""\n',
                    '    """`max(0, z)`, element-wise."""\n    while True:\n        pass\n')
    for timeout, limit in (("0.75", "0.75"), ("60", "2")):  # asserted in turn: a 60 s limit would be slow
        submit = tmp_path / timeout / "submit" / "hal"
        submit.mkdir(parents=True)
        (submit / "forward.py").write_text(source)
        out = tmp_path / timeout / "out"
        result = CliRunner().invoke(main, [str(submit.parent), "--out", str(out), "-a", "forward", "-q",
                                           "--timeout", timeout])
        assert result.exit_code == 0, result.output
        tests = json.loads((report_dir(out, "hal") / "results.json").read_text())["tests"]
        said = [t["output"] for t in tests if "did not return within" in t["output"]]
        assert said and f"relu did not return within {limit} seconds" in said[0], said
