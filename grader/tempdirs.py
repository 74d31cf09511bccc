"""The grader's temporary folders, and the removal of those left behind by a killed run.

Each folder the grader makes in the temporary directory (a worker's scratch copy of a
submission, the spool of a batch, the staging of a class's inputs) holds a lock file that its
owner keeps locked (`flock`) for as long as the folder lives. A `grade` run killed with -9, or
a machine that lost power, cannot remove its folders; the next run's `sweep` does: a folder of
the grader's whose lock nobody holds is left over. A folder without the lock file, or whose
lock file another user made, is never touched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "grade-"
"""every such folder's name starts with this"""

LOCK = ".grade-owner"
"""the lock file in each folder"""


class Owned:
    """A temporary folder of the grader's, held (its lock taken) until `remove`."""

    def __init__(self, kind: str = "") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX + kind))
        # Locked before it gets its name: a sweep never sees the lock file free in a live folder.
        pending = self.path / (LOCK + ".new")
        self._fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.rename(pending, self.path / LOCK)

    def remove(self) -> None:
        """Delete the folder and everything in it, then let go of its lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@contextmanager
def owned(kind: str = "") -> Iterator[Path]:
    """A temporary folder of the grader's (`Owned`) for the length of the `with` block."""
    folder = Owned(kind)
    try:
        yield folder.path
    finally:
        folder.remove()


def sweep(base: str | os.PathLike[str] | None = None) -> int:
    """Remove the grader's temporary folders (in `base`, default the temporary directory) that
    no running grader holds; how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(base or tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        try:
            if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            fd = os.open(os.path.join(entry.path, LOCK), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # no lock file: not ours to judge
        try:
            if os.fstat(fd).st_uid != os.getuid():
                continue  # made by someone else (a student's process): never ours to remove
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its owner is running
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    return removed
