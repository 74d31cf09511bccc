"""The command line a newcomer meets: the help shows how to grade, errors are one line."""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import grader
from conftest import ROOT, unsandboxed_args
from grader.cli import commands as cli
from grader.model import Limits

CHECKOUT = Path(grader.__file__).resolve().parent.parent


def grade(*args: str, cwd: Path = CHECKOUT) -> subprocess.CompletedProcess[str]:
    """`python -m grader ARGS` from this checkout, whatever PATH holds."""
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def _listing(help_text: str) -> dict[str, str]:
    """`command -> description` from a help page's Commands section, wrapped lines joined."""
    section = help_text.split("Commands:\n", 1)[1]
    entries: dict[str, str] = {}
    last = ""
    for line in section.splitlines():
        m = re.match(r"^  (\S+)\s{2,}(.*)$", line)
        if m:
            last = m.group(1)
            entries[last] = m.group(2).strip()
        elif line.startswith("    ") and last:
            entries[last] += " " + line.strip()
    return entries


def _first_paragraph(cmd: click.Command) -> str:
    return " ".join(inspect.getdoc(cmd.callback).split("\n\n")[0].split())


def test_top_level_help_shows_the_usage_line_and_every_grading_option():
    proc = grade("--help")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("Usage: grade SUBMISSIONS [OPTIONS]\n   or: grade COMMAND [ARGS]...\n")
    grading = text.split("Grading options", 1)[1].split("\nOptions:", 1)[0]
    options = [p for p in cli.run.params if isinstance(p, click.Option) and p.name != "help"]
    assert len(options) >= 8
    for option in options:
        assert ", ".join(option.opts) in grading or option.opts[-1] in grading, option.opts
    assert "--timeout" in grading and "--out" in grading and "-j, --jobs" in grading
    assert grade().stdout == text  # `grade` alone shows the same help and exits 0
    assert grade("-h").stdout == text


@pytest.mark.parametrize("args", [(), ("export",)])
def test_each_command_line_in_a_listing_is_a_whole_sentence(args):
    proc = grade(*args, "--help")
    assert proc.returncode == 0, proc.stderr
    listed = _listing(proc.stdout)
    group = cli.main if not args else cli.main.commands[args[0]]
    visible = {n for n, c in group.commands.items() if not c.hidden}
    assert set(listed) == visible
    for name, text in listed.items():
        cmd = group.commands[name]
        assert text == (cmd.short_help or _first_paragraph(cmd)), name
        assert text.endswith(".") and not text.endswith("..."), (name, text)
    if not args:
        assert "grade run SUBMISSIONS" in listed["run"]


def test_a_new_command_in_the_group_is_listed_whole():
    group = cli.Group("demo")

    @group.command("gradebook")
    def gradebook() -> None:
        """Write the gradebook for an LMS (e.g. Canvas or Moodle), one row per student, with every
        assignment's points.

        More text that the listing leaves out.
        """

    listed = _listing(CliRunner().invoke(group, ["--help"], terminal_width=80).output)
    assert listed == {"gradebook": "Write the gradebook for an LMS (e.g. Canvas or Moodle), one row per student, "
                                   "with every assignment's points."}


def test_option_defaults_are_the_limits_defaults():
    defaults = {f.name: f.default for f in dataclasses.fields(Limits)}
    for command in (cli.run, cli.check):
        params = {p.name: p for p in command.params}
        assert params["timeout"].default == defaults["call_timeout"]
        assert params["sandbox_mode"].default == defaults["sandbox"]
    assert {p.name: p for p in cli.run.params}["memory"].default == defaults["memory_mb"]
    gradescope = {p.name: p for p in cli.main.commands["export"].commands["gradescope"].params}
    assert gradescope["timeout"].default == defaults["call_timeout"]


@pytest.mark.parametrize("args", [
    ("no/such/folder",),
    ("examples/submit", "--no-such-option"),
    ("examples/submit", "-j", "0"),
    ("examples/submit", "--sandbox", "docker"),
    ("chek",),
    ("run",),
    ("check", "--format", "xml"),
    ("export", "gradescope", "--timeout", "0"),
    ("examples/submit", "-a", "nonexistent", "--out", "{tmp}"),
])
def test_an_error_is_one_line(args, tmp_path):
    proc = grade(*(a.replace("{tmp}", str(tmp_path / "out")) for a in args))
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("grade: error: "), lines[0]
    assert "Usage:" not in proc.stderr and "Traceback" not in proc.stderr


def test_usage_errors_exit_2_and_say_where_help_is():
    proc = grade("no/such/folder")
    assert proc.returncode == 2
    assert proc.stderr == ("grade: error: Invalid value for 'SUBMISSIONS': Path 'no/such/folder' does not exist. "
                           "Try `grade run --help`.\n")
    assert "did you mean `grade check`?" in grade("chek").stderr


def test_check_outside_a_template_prints_no_sandbox_notice(tmp_path):
    proc = grade("check", *unsandboxed_args(), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "grade: error: no checks/ folder here: run `grade check` inside your copy of the student template"]


def test_check_prints_the_sandbox_notice_once(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "student_template", work)
    proc = grade("check", "forward", *unsandboxed_args(), cwd=work)
    assert proc.returncode == 1
    assert (proc.stdout + proc.stderr).count("NOT SANDBOXED") == 1
    assert proc.stderr.startswith("WARNING: NOT SANDBOXED")
    # the first failure, shown once, with its traceback not repeating the message
    assert proc.stdout.count("NotImplementedError: Implement sigmoid (see the handout)") == 1
