"""`ast.parse` under one lock, for every parse the grader does (and `compiles`, which turns a
tree into code the same way).

CPython 3.11 keeps the AST constructor's recursion depth in state shared by all threads of the
interpreter, so two threads parsing at once can fail with "SystemError: AST constructor
recursion depth mismatch" (python/cpython#106905). The grader parses submissions on several
threads at once (one per graded submission): unserialized, a correct submission could be
failed by such an error. Parsing is fast next to grading, so one lock costs nothing measurable.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(source, filename)`, one thread at a time."""
    with _LOCK:
        return ast.parse(source, filename=filename)


def compiles(tree: ast.Module, filename: str = "<unknown>") -> None:
    """Raise `SyntaxError` where `tree` parses but would not compile: `return` or `yield` outside
    a function, `nonlocal` at the top level, `await` outside `async def`... (the compiler's checks,
    which `ast.parse` does not make). Nothing is run."""
    with _LOCK:
        compile(tree, filename, "exec", dont_inherit=True)
