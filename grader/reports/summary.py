"""The class summary: what the class did not understand, readable in one minute.

`summary.md` and `summary.html` (and `score_histogram.svg`, the picture `summary.md` shows):

1. at a glance: how many, the median, the checks most often answered wrongly (by the code that
   gave an answer), the mistakes more than one submission made;
2. the score histogram;
3. per assignment: mean, median, full marks, zero;
4. per check: pass rates, sorted by the share of wrong answers, with the mistake most often behind it;
5. the named mistakes (from the assignments' catalogs), by how many submissions made them;
6. the submissions that timed out, crashed or broke the rules, and those that did not import
   or lacked a file;
7. what in the input folder was skipped.

Only trusted-side data is used (`SubmissionResult`); every string is escaped in the HTML and
in the Markdown (`grader.reports.inert`), where names and messages that students chose appear.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from grader.model import CheckResult, Problem, SubmissionResult
from grader.reports.htmlpage import Html, esc, join, page, table, tag
from grader.reports.inert import md_block, md_inline
from grader.reports.output import make_dir, write_atomic

RULE_PROBLEMS = (Problem.TIMEOUT, Problem.CRASH, Problem.POLICY)
"""problems an instructor should look at by hand"""
SETUP_PROBLEMS = (Problem.IMPORT_ERROR, Problem.MISSING_MODULE)
"""problems of a submission that could not be run at all"""
BINS = 10
T = TypeVar("T")


def _pts(x: float) -> str:
    return f"{x:g}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


@dataclass
class CheckStats:
    name: str
    assignment: str
    visible: bool
    graded: int
    passed: int
    mistakes: Counter[str]
    wrong: int = 0
    """failed with a wrong result (the code ran): the ones that say what was not understood"""

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 1.0

    @property
    def answered(self) -> int:
        """submissions whose code gave an answer (right or wrong)"""
        return self.passed + self.wrong

    @property
    def wrong_rate(self) -> float:
        """the share of wrong answers among the answers: what the class did not understand"""
        return self.wrong / self.answered if self.answered else 0.0

    def top_mistake(self) -> tuple[str, int] | None:
        """The mistake most often behind a failure (ties: by name)."""
        return min(self.mistakes.items(), key=lambda kv: (-kv[1], kv[0]), default=None)


@dataclass
class MistakeStats:
    name: str
    function: str
    hint: str
    submissions: int
    checks: int


@dataclass
class ClassSummary:
    """The figures both pages show."""

    results: list[Row]
    """one row per submission (scores and status)"""
    assignments: list[tuple[str, float]]
    warnings: list[str]
    checks: list[CheckStats]
    mistakes: list[MistakeStats]
    rule_breakers: list[tuple[str, Counter[str], str]]
    """`(submission, problem kinds -> checks, first message)` for timeouts, crashes, policy"""
    not_run: dict[str, list[str]]
    """`problem kind -> submissions` for import errors and missing files"""
    note: str = ""
    hardcoded: list[tuple[str, list[str]]] = field(default_factory=list)
    """`(submission, checks)` whose visible checks passed while their hidden twins failed"""
    notices: list[str] = field(default_factory=list)
    """what the instructor must know about the run itself (e.g. that it was not sandboxed)"""

    @property
    def max_points(self) -> float:
        return sum(m for _, m in self.assignments)

    def fractions(self) -> list[float]:
        total = self.max_points
        return [r.score / total if total else 0.0 for r in self.results]

    def histogram(self) -> list[int]:
        """Submissions per tenth of the points (the last bin includes full marks)."""
        counts = [0] * BINS
        for f in self.fractions():
            counts[min(BINS - 1, int(f * BINS + 1e-9))] += 1
        return counts


@dataclass(frozen=True)
class Row:
    """What the class reports keep of one submission: its scores and status, not its messages
    (a class's results are counted as they come, and each is dropped once its reports are written)."""

    submission: str
    score: float
    max_score: float
    status: str
    execution_time: float
    scores: dict[str, tuple[float, float]]

    @classmethod
    def of(cls, r: SubmissionResult | Row) -> Row:
        return cls(r.submission, r.score, r.max_score, r.status, r.execution_time, r.assignment_scores())

    def assignment_scores(self) -> dict[str, tuple[float, float]]:
        """`{assignment: (score, max_score)}` in grading order, as `SubmissionResult` says."""
        return self.scores


class Summarizer:
    """The class summary, counted one submission at a time: only each submission's `Row` (and the
    lines about the few that broke rules) is kept, whatever the size of the class.

    The submissions are listed in the order they were added, or, with `by_name`, by name (a batch
    adds them as they finish); the summary is then the same as `summarize` of the sorted results.
    """

    def __init__(self, by_name: bool = False) -> None:
        self.by_name = by_name
        self._count = 0
        self._rows: list[tuple[Any, Row]] = []
        self._checks: dict[str, CheckStats] = {}
        self._mistakes: dict[tuple[str, str], tuple[Any, MistakeStats]] = {}
        self._breakers: list[tuple[Any, tuple[str, Counter[str], str]]] = []
        self._not_run: dict[str, list[tuple[Any, str]]] = defaultdict(list)
        self._hardcoded: list[tuple[Any, tuple[str, list[str]]]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, r: SubmissionResult) -> Row:
        """Count `r` (its checks, mistakes and problems); returns its `Row`."""
        rank: Any = r.submission if self.by_name else self._count
        self._count += 1
        seen: set[tuple[str, str]] = set()
        for c in r.checks:
            s = self._checks.get(c.name)
            if s is None:
                s = self._checks[c.name] = CheckStats(c.name, c.assignment, c.visible, 0, 0, Counter())
            s.graded += 1
            s.passed += c.passed
            s.wrong += not c.passed and c.problem is None
            if c.mistake and not c.passed:
                s.mistakes[c.mistake] += 1
                key = (c.mistake, f"{c.module}.{c.function}")
                first, m = self._mistakes.get(key, (None, None))
                if m is None:
                    m = MistakeStats(c.mistake, key[1], (c.hint or "").strip(), 0, 0)
                    self._mistakes[key] = (rank, m)
                elif rank < first:  # the hint of the first submission in the order of the listing
                    self._mistakes[key] = (rank, replace(m, hint=(c.hint or "").strip()))
                    m = self._mistakes[key][1]
                m.checks += 1
                if key not in seen:
                    seen.add(key)
                    m.submissions += 1
        kinds = Counter(c.problem for c in r.checks if c.problem in RULE_PROBLEMS)
        if kinds:
            first_bad = next(c for c in r.checks if c.problem in RULE_PROBLEMS)
            self._breakers.append((rank, (r.submission, kinds, _first_line(first_bad))))
        for kind in SETUP_PROBLEMS:
            if any(c.problem == kind for c in r.checks):
                self._not_run[kind].append((rank, r.submission))
        if any(c.hardcoded for c in r.checks):
            self._hardcoded.append((rank, (r.submission, [c.name for c in r.checks if c.hardcoded])))
        row = Row.of(r)
        self._rows.append((rank, row))
        return row

    def rows(self) -> list[Row]:
        """The submissions' rows, in the order of the listing."""
        return _ordered(self._rows)

    def summary(self, assignments: list[tuple[str, float]], warnings: Sequence[str] = (), note: str = "",
                notices: Sequence[str] = ()) -> ClassSummary:
        checks = sorted(self._checks.values(),
                        key=lambda s: (-s.wrong_rate, -s.wrong, s.rate, s.assignment, s.name))
        ranked = sorted((m for _, m in self._mistakes.values()),
                        key=lambda m: (-m.submissions, -m.checks, m.name, m.function))
        # Kinds in the order they first occur in the listing (in a submission: SETUP_PROBLEMS's order).
        kinds = sorted(self._not_run,
                       key=lambda k: (min(rank for rank, _ in self._not_run[k]), SETUP_PROBLEMS.index(k)))
        not_run = {kind: _ordered(self._not_run[kind]) for kind in kinds}
        return ClassSummary(self.rows(), assignments, list(warnings), checks, ranked, _ordered(self._breakers),
                            not_run, note, _ordered(self._hardcoded), list(notices))


def _ordered(items: list[tuple[Any, T]]) -> list[T]:
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def summarize(
    results: Sequence[SubmissionResult], assignments: list[tuple[str, float]], warnings: Sequence[str] = (),
    note: str = "", notices: Sequence[str] = (),
) -> ClassSummary:
    """Count passes, mistakes and problems over the class."""
    counted = Summarizer()
    for r in results:
        counted.add(r)
    return counted.summary(assignments, warnings, note, notices)


HARDCODED_NOTE = (
    "These submissions passed visible checks whose hidden twins (the same inputs in another order, "
    "run only when grading) failed: the answers may be copied from the frozen expected values. "
    "Those checks earned no points; read the code before deciding more."
)


def _first_line(c: CheckResult) -> str:
    lines = [ln for ln in c.message.splitlines() if ln.strip() and not ln.startswith("called ")]
    return (lines[0] if lines else c.problem or "")[:160]


# ------------------------------------------------------------------ the histogram


def histogram_svg(counts: list[int], max_points: float) -> str:
    """The score histogram as a standalone SVG picture (no library, no script)."""
    width, height, left, bottom, top = 640, 260, 44, 44, 20
    plot_w, plot_h = width - left - 12, height - bottom - top
    peak = max(counts) or 1
    bar_w = plot_w / len(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img" '
        f'aria-label="Histogram of total scores">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        x = left + i * bar_w
        parts.append(f'<rect x="{x + 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 4:.1f}" '
                     f'height="{h:.1f}" fill="#3b6fb6"><title>{n} submissions</title></rect>')
        if n:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 4:.1f}" '
                         f'text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle">'
                     f'{i * 100 // len(counts)}–{(i + 1) * 100 // len(counts)}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                 f'total score, % of {esc(_pts(max_points))} points</text>')
    parts.append(f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">submissions</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _text_histogram(counts: list[int]) -> list[str]:
    peak = max(counts) or 1
    return [f"{i * 100 // BINS:>3}–{(i + 1) * 100 // BINS:<3}% | {'█' * round(30 * n / peak):<30} {n}"
            for i, n in enumerate(counts)]


# ------------------------------------------------------------------ shared figures


GLANCE_TOP = 3
"""how many checks and mistakes the glance names (more when several tie with the last one)"""
GLANCE_MAX = 5
"""never more than this many, however many tie"""


def _leaders(items: list[T], count: Callable[[T], tuple[int, ...]]) -> tuple[list[T], int]:
    """The first `GLANCE_TOP` of `items` (sorted, best first) and all that tie with the last one,
    at most `GLANCE_MAX`; and how many more tie but are left out."""
    if len(items) <= GLANCE_TOP:
        return items, 0
    last = count(items[GLANCE_TOP - 1])
    tied = GLANCE_TOP + sum(1 for x in items[GLANCE_TOP:] if count(x) == last)
    return items[: min(tied, GLANCE_MAX)], max(0, tied - GLANCE_MAX)


def _more(left_out: int) -> str:
    return f"; and {left_out} more as often" if left_out else ""


def glance(s: ClassSummary) -> list[str]:
    """Plain sentences for the top of both pages."""
    fr = s.fractions()
    lines = []
    if fr:
        median = statistics.median(r.score for r in s.results)
        lines.append(f"{len(fr)} submissions; median {_pts(round(median, 2))} of {_pts(s.max_points)} points "
                     f"({_pct(statistics.median(fr))}); {sum(f >= 1 - 1e-9 for f in fr)} with full marks, "
                     f"{sum(f <= 1e-9 for f in fr)} with none.")
    hard, left_out = _leaders([c for c in s.checks if c.wrong], lambda c: (c.wrong, c.answered))
    if hard:
        lines.append("Most wrong answers (of the submissions whose code answered): " + "; ".join(
            f"{c.name} ({c.wrong} of {c.answered} wrong)" for c in hard) + _more(left_out) + ".")
    shared, left_out = _leaders([m for m in s.mistakes if m.submissions > 1], lambda m: (m.submissions,))
    if shared:
        lines.append("Most common mistakes (submissions): " + "; ".join(
            f"{m.name} in {m.function} ({m.submissions})" for m in shared) + _more(left_out) + ".")
    elif s.mistakes:
        lines.append(f"No named mistake was made by more than one submission ({len(s.mistakes)} made by one: "
                     "see Named mistakes).")
    kinds = Counter(k for _, ks, _ in s.rule_breakers for k in ks)
    trouble = [f"{n} broke the rules" if k == "policy" else f"{n} with a {k}" for k, n in sorted(kinds.items())]
    trouble += [f"{len(s.not_run[k])} with {k}" for k in sorted(s.not_run)]
    if trouble:
        lines.append("Look by hand: " + ", ".join(trouble) + ".")
    return lines


def _assignment_rows(s: ClassSummary) -> list[list[str]]:
    rows = []
    for name, max_pts in s.assignments:
        scores = [r.assignment_scores().get(name, (0.0, max_pts))[0] for r in s.results]
        if not scores:
            continue
        rows.append([name, _pts(max_pts), _pts(round(statistics.mean(scores), 2)),
                     _pts(round(statistics.median(scores), 2)),
                     str(sum(x >= max_pts - 1e-9 for x in scores)), str(sum(x <= 1e-9 for x in scores))])
    return rows


def _check_rows(s: ClassSummary) -> list[list[str]]:
    rows = []
    for c in s.checks:
        top = c.top_mistake()
        failed = c.graded - c.passed
        rows.append([c.name, "visible" if c.visible else "hidden", f"{c.passed}/{c.graded}", _pct(c.rate),
                     f"{c.wrong} / {failed - c.wrong}", f"{top[0]} ({top[1]})" if top else ""])
    return rows


# ------------------------------------------------------------------ pages


def _md_cell(text: object) -> str:
    return md_inline(text)


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def _when(s: ClassSummary) -> str:
    return f"{datetime.now():%Y-%m-%d %H:%M}" + (f" — {s.note}" if s.note else "")


def summary_markdown(s: ClassSummary, histogram_file: str | None = "score_histogram.svg") -> str:
    lines = ["# Class summary", "", f"_{md_inline(_when(s))}_", ""]
    lines += [f"> **Note:** {md_inline(n)}" for n in s.notices] + ([""] if s.notices else [])
    lines += ["## At a glance", ""] + [f"- {md_inline(ln)}" for ln in glance(s)] + [""]
    lines += ["## Scores", ""]
    if histogram_file:
        lines += [f"![Histogram of total scores]({histogram_file})", ""]
    lines += ["```", md_block("\n".join(_text_histogram(s.histogram()))), "```", ""]
    lines += _md_table(["assignment", "points", "mean", "median", "full marks", "zero"], _assignment_rows(s))
    lines += ["## Checks, most often answered wrongly first", ""]
    lines += ["Failed: _wrong_ results (the code ran and answered wrongly) / _no result_ (an exception, a "
              "timeout, a missing file...). Sorted by the share of wrong answers among the answers, so a "
              "check that only missing or broken files failed comes last.", ""]
    lines += _md_table(["check", "", "passed", "rate", "failed: wrong / no result", "most common mistake"],
                       _check_rows(s))
    lines += ["## Named mistakes", ""]
    if s.mistakes:
        lines += _md_table(["mistake", "function", "submissions", "checks", "hint"],
                           [[m.name, m.function, str(m.submissions), str(m.checks), m.hint]
                            for m in s.mistakes])
    else:
        lines += ["No known mistake was recognized.", ""]
    lines += ["## Timed out, crashed or broke the rules", ""]
    if s.rule_breakers:
        lines += _md_table(["submission", "problems (checks)", "first message"],
                           [[n, ", ".join(f"{k} ({v})" for k, v in ks.most_common()), msg]
                            for n, ks, msg in s.rule_breakers])
    else:
        lines += ["None.", ""]
    for kind, names in s.not_run.items():
        lines += [f"**{md_inline(kind)}** ({len(names)}): " + md_inline(", ".join(names)), ""]
    if s.hardcoded:
        lines += ["## Answers may be hard-coded", "", HARDCODED_NOTE, ""]
        lines += _md_table(["submission", "visible checks whose hidden twin failed"],
                           [[n, "; ".join(names)] for n, names in s.hardcoded])
    if s.warnings:
        lines += ["## Skipped in the input", ""] + [f"- {_md_cell(w)}" for w in s.warnings] + [""]
    return "\n".join(lines)


BAR_PX = 60
"""the width of a full pass-rate bar"""


def _pass_bar(rate: float) -> Html:
    """A bar whose green part grows with the pass rate, on a grey track of the full width."""
    green = round(BAR_PX * rate)
    return Html(f'<span class="bar" style="width:{green}px;background:#2e7d32"></span>'
                f'<span class="bar" style="width:{BAR_PX - green}px;background:#e0e0e0"></span> ')


def summary_html(s: ClassSummary) -> str:
    parts: list[object] = [tag("h1", "Class summary")]
    parts.append(tag("p", _when(s), class_="muted"))
    parts += [tag("p", Html(f"<strong>Note:</strong> {tag('span', n)}"), class_="note") for n in s.notices]
    parts += [tag("h2", "At a glance"), tag("ul", join(tag("li", ln) for ln in glance(s)))]
    parts += [tag("h2", "Scores"), Html(histogram_svg(s.histogram(), s.max_points))]
    parts.append(table(["assignment", "points", "mean", "median", "full marks", "zero"], _assignment_rows(s),
                       numeric=range(1, 6)))
    parts.append(tag("h2", "Checks, most often answered wrongly first"))
    rows = []
    for row, c in zip(_check_rows(s), s.checks, strict=True):
        rows.append([row[0], row[1], row[2], join([_pass_bar(c.rate), row[3]]), row[4], row[5]])
    parts.append(tag("p", "Failed: wrong results (the code ran and answered wrongly) / no result "
                          "(an exception, a timeout, a missing file...). Sorted by the share of wrong "
                          "answers among the answers. The green bar is the share that passed: the "
                          "longer, the more passed.", class_="muted"))
    head = ["check", "", "passed", "pass rate (green: passed)", "failed: wrong / no result", "most common mistake"]
    parts.append(table(head, rows, numeric=(2, 4)))
    parts.append(tag("h2", "Named mistakes"))
    if s.mistakes:
        parts.append(table(["mistake", "function", "submissions", "checks", "hint"],
                           [[m.name, m.function, m.submissions, m.checks, m.hint] for m in s.mistakes],
                           numeric=(2, 3)))
    else:
        parts.append(tag("p", "No known mistake was recognized."))
    parts.append(tag("h2", "Timed out, crashed or broke the rules"))
    if s.rule_breakers:
        parts.append(table(["submission", "problems (checks)", "first message"],
                           [[n, ", ".join(f"{k} ({v})" for k, v in ks.most_common()), msg]
                            for n, ks, msg in s.rule_breakers]))
    else:
        parts.append(tag("p", "None."))
    for kind, names in s.not_run.items():
        parts.append(tag("p", join([tag("strong", f"{kind} ({len(names)}): "), ", ".join(names)])))
    if s.hardcoded:
        parts += [tag("h2", "Answers may be hard-coded"), tag("p", HARDCODED_NOTE),
                  table(["submission", "visible checks whose hidden twin failed"],
                        [[n, "; ".join(names)] for n, names in s.hardcoded])]
    if s.warnings:
        parts += [tag("h2", "Skipped in the input"), tag("ul", join(tag("li", w) for w in s.warnings))]
    return page("Class summary", join(parts))


def write_summary(
    results: Sequence[SubmissionResult], assignments: list[tuple[str, float]], out: Path,
    warnings: Sequence[str] = (), note: str = "", notices: Sequence[str] = (),
) -> ClassSummary:
    """Write `summary.md`, `summary.html` and `score_histogram.svg` into `out`, each atomically.

    Raises `grader.reports.output.OutputError` when a file cannot be written.
    """
    return write_class_summary(summarize(results, assignments, warnings, note, notices), out)


def write_class_summary(s: ClassSummary, out: Path) -> ClassSummary:
    """`write_summary` of a summary already counted (`Summarizer`)."""
    out = make_dir(Path(out))
    write_atomic(out / "score_histogram.svg", histogram_svg(s.histogram(), s.max_points))
    write_atomic(out / "summary.md", summary_markdown(s))
    write_atomic(out / "summary.html", summary_html(s))
    return s
