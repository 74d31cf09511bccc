"""The `grade` command (`grade = "grader.cli:main"`)."""

from grader.cli.commands import main

__all__ = ["main"]
