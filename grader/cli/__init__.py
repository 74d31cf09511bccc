"""The `grade` command (`grade = "grader.cli:main"`)."""

from grader.cli.main import main

__all__ = ["main"]
