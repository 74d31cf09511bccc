"""The worker: the only place student code runs.

Started by `grader.runner` as `python -I` in a temporary copy of one submission, it reads call
requests from one pipe, imports the student's module, calls the function and writes back only
plain data (see `grader.codec`) on another pipe. It judges nothing and writes no report;
whatever it sends is validated by the trusted side, which also owns every timeout.
"""

from __future__ import annotations

import importlib
import io
import math
import os
import sys
import traceback
from typing import Any

import numpy as np

from grader import codec

OUTPUT_CAP = 64 * 1024  # bytes of print() output kept per stream; the rest is dropped


class _CappedStream(io.TextIOBase):
    """A text stream over a file descriptor that silently drops output past a cap."""

    def __init__(self, fd: int, cap: int) -> None:
        self._fd = fd
        self._left = cap

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if self._left > 0 and s:
            data = str(s).encode("utf-8", "replace")[: self._left]
            self._left -= len(data)
            try:
                os.write(self._fd, data)
            except OSError:
                self._left = 0
        return len(s)


def _student_traceback(exc: BaseException, root: str) -> str:
    """The traceback frames that lie in the student's files, most recent last."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename).startswith(root)
    ]
    lines = traceback.format_list(frames[-4:])
    lines += traceback.format_exception_only(type(exc), exc)
    # Paths relative to the submission: the student knows "forward.py", not our temp folder.
    return "".join(lines).replace(root + os.sep, "")[-4000:]


def _error(kind: str, exc: BaseException | None, root: str, message: str = "") -> bytes:
    extra: dict[str, Any] = {"status": "error", "kind": kind, "message": message[:2000]}
    if exc is not None:
        extra["type"] = type(exc).__name__
        extra["message"] = (message or f"{type(exc).__name__}: {exc}")[:2000]
        extra["traceback"] = _student_traceback(exc, root)
    return codec.encode_message(None, extra)


def _resolve_functions(value: Any) -> Any:
    """Turn `Fn` sources from the trusted side into callables."""
    if isinstance(value, codec.Fn):
        return eval(value.source, {"np": np, "math": math, "__builtins__": __builtins__})  # noqa: S307
    if isinstance(value, list):
        return [_resolve_functions(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve_functions(v) for v in value)
    if isinstance(value, dict):
        return {k: _resolve_functions(v) for k, v in value.items()}
    return value


def _handle(header: dict[str, Any], payload: Any, root: str) -> bytes:
    module_name = str(header.get("module"))
    function_name = str(header.get("function"))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return _error("missing-module", None, root, f"{module_name}.py was not found")
        return _error("import-error", exc, root)
    except BaseException as exc:  # SyntaxError, SystemExit, anything at import time
        return _error("import-error", exc, root)
    function = getattr(module, function_name, None)
    if not callable(function):
        return _error("missing-function", None, root, f"{module_name}.py has no function {function_name}")
    args = _resolve_functions(payload["args"])
    kwargs = _resolve_functions(payload["kwargs"])
    try:
        result = function(*args, **kwargs)
    except BaseException as exc:  # includes SystemExit and KeyboardInterrupt raised by the student
        return _error("exception", exc, root)
    value = {"result": result, "args": list(args)} if header.get("return_args") else result
    try:
        return codec.encode_message(value, {"status": "ok"})
    except codec.Unsupported as exc:
        return _error("bad-output", None, root, f"returned {exc}, which is not plain numeric data")
    except BaseException as exc:  # a hostile object whose conversion raises
        return _error("bad-output", exc, root, f"returned a value that could not be read ({type(exc).__name__})")


def main(argv: list[str]) -> None:
    """`argv`: request fd, response fd. The working directory is the submission's copy."""
    request_fd, response_fd = int(argv[0]), int(argv[1])
    root = os.path.abspath(os.getcwd())
    sys.path.insert(0, root)
    sys.dont_write_bytecode = True
    sys.stdout = _CappedStream(1, OUTPUT_CAP)
    sys.stderr = _CappedStream(2, OUTPUT_CAP)
    while True:
        try:
            header, payload = codec.read_message(request_fd, allow_fn=True)
        except EOFError:
            return
        reply = _handle(header, payload, root)
        codec.write_message(response_fd, reply)


BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); import grader.worker as w; "
    "del sys.path[0]; w.main(sys.argv[2:])"
)
"""The `python -I -c` program that starts a worker: argv is grader's parent dir, then fds."""
