"""Every `grade` command the README shows parses as written in a fresh clone.

Each command line of the README's code blocks is parsed by the real command (paths must exist,
options and values must be accepted, assignment names must be the course's); nothing is graded
here (tests/cli/test_cli.py grades the example class). `submit/` stands for the instructor's own
folder, as the README says, and is read as `examples/submit/`.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib

import click
import pytest

from conftest import ROOT
from grader.cli import commands as cli

README = (ROOT / "README.md").read_text()
COURSE = tomllib.loads((ROOT / "assignments" / "course.toml").read_text())["assignments"]


def _command_lines() -> list[str]:
    blocks = re.findall(r"^```bash\n(.*?)^```", README, flags=re.S | re.M)
    lines = [ln.split("  #")[0].strip() for b in blocks for ln in b.splitlines()]
    # `python -m grader ...` is the `grade` command run by that interpreter
    lines = [re.sub(r"^python3? -m grader\b", "grade", ln) for ln in lines]
    return [ln for ln in lines if "grade " in ln or ln == "grade"]


LINES = _command_lines()


def test_the_readme_shows_the_commands_this_test_reads():
    assert "grade examples/submit --out reports" in LINES[0]  # the first of the README's two commands
    assert sum(ln.startswith("grade check") for ln in LINES) >= 4 and len(LINES) >= 15


@pytest.mark.parametrize("line", LINES)
def test_a_readme_command_parses_as_written(line, tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    for part in line.split("&&"):
        words = shlex.split(re.sub(r"(?<![\w/])submit/", "examples/submit/", part))
        if words[:3] == ["python3", "-m", "zipfile"]:  # makes the zip the next command grades
            subprocess.run([sys.executable, *words[1:]], check=True, capture_output=True)
            continue
        if words[0] != "grade":
            continue
        args = words[1:]
        if args in (["--help"], ["-h"]):
            continue  # tests/cli/test_cli_help.py reads the help
        name = args[0] if args and args[0] in cli.main.commands else "run"
        rest = args[1:] if args and args[0] == name else args
        command = cli.main.commands[name]
        try:
            ctx = command.make_context(f"grade {name}", list(rest))
        except click.ClickException as exc:
            pytest.fail(f"{line!r}: {exc.format_message()}")
        named = list(ctx.params.get("names") or ())
        assert set(named) <= set(COURSE), (line, named)
