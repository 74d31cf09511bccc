"""Writing the output folder: every file atomically, every failure as one `OutputError`.

A report is written to a temporary file beside it, flushed to disk, then renamed over the old
one, so a reader (or a rerun after a full disk) sees either the old file or the new one, never
half of one. Whatever goes wrong on the way (a full disk, a read-only folder, a file where a
folder should be) is raised as `OutputError`, which names the path and the cause in one line.
"""

from __future__ import annotations

import os
from pathlib import Path


class OutputError(Exception):
    """A file or folder of the output could not be written."""

    def __init__(self, path: Path | str, cause: str) -> None:
        self.path = Path(path)
        self.cause = cause
        super().__init__(f"cannot write {path}: {cause}")


def _cause(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def make_dir(path: Path) -> Path:
    """`mkdir -p path`, or `OutputError` naming the folder that could not be made."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(path, "a file is in the way (a folder is needed)") from None
    except OSError as exc:
        raise OutputError(exc.filename or path, _cause(exc)) from None
    if not Path(path).is_dir():
        raise OutputError(path, "a file is in the way (a folder is needed)")
    return Path(path)


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Replace `path` with `data` (text is UTF-8) in one step: a temporary file, then a rename.
    The file gets `mode` (less the umask for the default; exactly, for a private 0o600).

    Raises `OutputError` naming `path` and the cause (the temporary file is removed).
    """
    path = Path(path)
    # A lone surrogate (a file name that is not UTF-8) is written as `\udcff`, never a crash.
    raw = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            if mode != 0o644:  # also when a stale temporary file was there with another mode
                os.fchmod(fd, mode)
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)  # a full disk shows here at the latest, before the old file is replaced
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise OutputError(path, _cause(exc)) from None


def remove(path: Path) -> None:
    """Remove `path` if it is there, or `OutputError`."""
    try:
        Path(path).unlink(missing_ok=True)
    except IsADirectoryError:
        raise OutputError(path, "a folder is in the way (a file is needed)") from None
    except OSError as exc:
        raise OutputError(path, _cause(exc)) from None
