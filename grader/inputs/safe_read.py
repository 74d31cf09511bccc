"""Reading a file a student chose, safely: no symbolic link followed, nothing but a regular file,
never more than a limit."""

from __future__ import annotations

import errno
import os
import stat

_UNITS = {"KiB": 10, "MiB": 20}


def read_regular(path: str | os.PathLike[str], limit: int, unit: str = "KiB") -> bytes | str:
    """The bytes of the regular file at `path`, or why not, e.g. "it is a symbolic link" or
    "larger than 64 KiB" (`limit` in bytes, shown in `unit`)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        return "it is a symbolic link" if exc.errno == errno.ELOOP else str(exc.strerror)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return "not a regular file"
        data = f.read(limit + 1)
    return data if len(data) <= limit else f"larger than {limit >> _UNITS[unit]} {unit}"
