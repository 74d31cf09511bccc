"""Progress of a batch: a one-line bar on a terminal, one plain line per submission otherwise."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from grader.model import SubmissionResult
from grader.reports.inert import visible


def _fmt(x: float) -> str:
    return f"{x:g}"


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class Progress:
    """Call `update` once per finished submission, then `close`.

    On a terminal the bar is redrawn in place (`\\r`); in a log or a pipe each submission gets
    a line: `[12/200] alice: 7.5/10 (ok, 0.4s)`.
    """

    def __init__(self, total: int, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = 0
        self.skipped = 0
        self.started = time.monotonic()
        self._drawn = False

    def update(self, result: SubmissionResult, skipped: bool = False) -> None:
        self.done += 1
        self.skipped += skipped
        if self.tty:
            self._draw(visible(result.submission))
            return
        how = "unchanged, not regraded" if skipped else f"{result.status}, {result.execution_time:.1f}s"
        self.stream.write(f"[{self.done}/{self.total}] {visible(result.submission)}: "
                          f"{_fmt(result.score)}/{_fmt(result.max_score)} ({how})\n")
        self.stream.flush()

    def _draw(self, last: str) -> None:
        width = shutil.get_terminal_size((80, 20)).columns
        elapsed = time.monotonic() - self.started
        graded = self.done - self.skipped
        rate = graded / elapsed if elapsed > 0 and graded else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        tail = f" {self.done}/{self.total}"
        tail += f"  {rate:.1f}/s  eta {_clock(left)}" if rate else ""
        tail += f"  {last}"
        bar_w = max(10, min(40, width - len(tail) - 3))
        filled = round(bar_w * self.done / self.total) if self.total else bar_w
        line = f"[{'#' * filled}{'.' * (bar_w - filled)}]{tail}"
        self.stream.write("\r" + line[: width - 1] + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (on a terminal) so that what follows starts on its own line."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
