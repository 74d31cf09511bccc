"""Submissions' files kept on disk from the moment they are read until their turn to be graded.

A batch reads every submission before it grades any (to name collisions, to skip the unchanged
ones), but holds only one at a time in memory: each submission's files go to the spool as
soon as they are read, and come back, byte for byte the same, when a grading thread takes it.
What is graded is therefore exactly what was fingerprinted, even if the input folder changes
during the batch. The spool is a private temporary folder (mode 0700), removed with the batch
(`grader.tempdirs`: a batch killed with -9 leaves it to the next run to remove).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from grader.inputs.discover import Submission
from grader.reports.output import OutputError
from grader.tempdirs import Owned


class Spool:
    """A temporary folder holding the files of submissions that wait to be graded.

    `put(sub)` writes `sub.files` to one file of the spool and empties `sub.files`; `take(sub)`
    reads them back into `sub.files`. Use it as a context manager: the folder is removed on exit.
    """

    def __init__(self) -> None:
        self._owned = Owned("spool-")
        self.folder = self._owned.path
        self._index: dict[int, tuple[Submission, Path, list[tuple[str, int]]]] = {}
        """`id(submission) -> (the submission, its file in the spool, [(file name, length)])`: by
        identity, not by name, so two submissions can never trade files (the entry keeps the
        submission alive, so its id is not reused)"""

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Remove the spool's folder and everything in it."""
        self._index.clear()
        self._owned.remove()

    def put(self, sub: Submission) -> None:
        """Move `sub.files` to the spool (`OutputError` when they cannot be written)."""
        path = self.folder / f"{len(self._index)}.bin"
        names = [(name, len(data)) for name, data in sub.files.items()]
        try:
            with open(path, "wb") as f:
                for data in sub.files.values():
                    f.write(data)
        except OSError as exc:
            raise OutputError(path, exc.strerror or type(exc).__name__) from None
        self._index[id(sub)] = (sub, path, names)
        sub.files = {}

    def take(self, sub: Submission) -> None:
        """Give `sub` back the files `put` moved to the spool (nothing for one never put)."""
        entry = self._index.pop(id(sub), None)
        if entry is None:
            return
        _, path, names = entry
        try:
            with open(path, "rb") as f:
                sub.files = {name: f.read(length) for name, length in names}
            path.unlink()
        except OSError as exc:
            cause = exc.strerror or type(exc).__name__
            raise OutputError(path, f"its files could not be read back ({cause})") from None
