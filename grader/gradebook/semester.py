"""The semester table from the gradebook: which grade counts, late penalties, histories, changes.

Per student and assignment, each distinct submission (content hash) has the score of its
latest grading and the time it was first known to be submitted. The course's rule
(`grader.gradebook.coursepolicy`) picks the one that counts:

- `latest-on-time`: the latest submission made by the student's deadline (grace included);
  when none was, the latest one, with its penalty;
- `latest`: the latest submission, with its penalty;
- `best`: the highest grade after penalties (the later one on a tie).

Submissions are ordered by when the grader first saw them (work graded in an earlier run was
submitted earlier, whatever times the layouts gave), then by their submission time.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from grader.course.loading import Assignment
from grader.gradebook.coursepolicy import CoursePolicy
from grader.gradebook.latepolicy import UNKNOWN, Lateness, assess, due, price
from grader.gradebook.store import Grading
from grader.inputs.discover import Submission


@dataclass
class Attempt:
    """One distinct submission of one student to one assignment, priced by the late policy."""

    student: str
    assignment: str
    content_hash: str
    submitted_at: datetime | None
    """in the course's zone (which naive times are taken to be in), None when unknown"""
    first_seen: int
    """the id of its first grading: the order in which the grader saw the submissions"""
    grading: Grading
    """its latest grading"""
    gradings: int
    """how many times it was graded"""
    lateness: Lateness
    penalty: float
    grade: float

    @property
    def raw(self) -> float:
        return self.grading.score

    @property
    def order(self) -> tuple[int, str]:
        return self.first_seen, self.submitted_at.isoformat() if self.submitted_at else ""


@dataclass
class Counted:
    """The grade that counts for one student on one assignment, and why."""

    attempt: Attempt
    why: str
    attempts: int


def _aware(value: datetime | None, policy: CoursePolicy) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=policy.timezone) if value.tzinfo is None else value


def attempts(gradings: list[Grading], policy: CoursePolicy, ids: dict[str, dict[str, str]] | None = None
             ) -> dict[tuple[str, str], list[Attempt]]:
    """`(student, assignment) -> their submissions`, oldest first, each priced by the late policy."""
    work: dict[tuple[str, str, str], list[Grading]] = {}
    for g in gradings:
        work.setdefault((g.student, g.assignment, g.content_hash), []).append(g)
    out: dict[tuple[str, str], list[Attempt]] = {}
    for (student, assignment, digest), done in work.items():
        latest = max(done, key=lambda g: g.id)
        known = [g.submitted_at for g in done if g.submitted_at is not None]
        when = _aware(known[0], policy).astimezone(policy.timezone) if known else None
        late = policy.of(assignment).late
        names = [student, *(ids or {}).get(student, {}).values()]
        lateness = assess(late, when, policy.extension(names, assignment)) if late else UNKNOWN
        penalty, grade = price(latest.score, latest.max_score, lateness)
        out.setdefault((student, assignment), []).append(Attempt(
            student, assignment, digest, when, min(g.id for g in done), latest, len(done),
            lateness, penalty, grade))
    for found in out.values():
        found.sort(key=lambda a: a.order)
    return out


def counting(found: list[Attempt], rule: str) -> Counted:
    """The attempt that counts under `rule` (see the module's docstring), with the reason."""
    if rule == "best":
        best = max(found, key=lambda a: (a.grade, a.order))
        return Counted(best, f"best of {len(found)}" if len(found) > 1 else "only submission", len(found))
    if rule == "latest-on-time":
        on_time = [a for a in found if a.lateness.on_time]
        if on_time:
            why = "latest on time" if len(found) > 1 else "only submission"
            return Counted(on_time[-1], why, len(found))
        return Counted(found[-1], "none on time: latest", len(found))
    return Counted(found[-1], "latest" if len(found) > 1 else "only submission", len(found))


def semester(gradings: list[Grading], policy: CoursePolicy, ids: dict[str, dict[str, str]] | None = None
             ) -> dict[tuple[str, str], Counted]:
    """`(student, assignment) -> the grade that counts` over the whole gradebook."""
    return {key: counting(found, policy.of(key[1]).counts)
            for key, found in sorted(attempts(gradings, policy, ids).items())}


def _pts(x: float) -> str:
    return f"{x:g}"


def _late(lateness: Lateness) -> str:
    if not lateness.known:
        return "time unknown"
    if lateness.no_credit:
        return f"{lateness.late_days:.2f} d late: past the cutoff, no credit"
    if lateness.late_by.total_seconds() <= 0:
        return "on time"
    if lateness.units == 0:
        return f"{lateness.late_days:.2f} d late, within the grace period"
    return f"{lateness.late_days:.2f} d late: -{lateness.penalty_percent:g}%"


def cell(c: Counted) -> str:
    """`grade` or `grade (raw - penalty)` for the table."""
    a = c.attempt
    return _pts(a.grade) if not a.penalty else f"{_pts(a.grade)} ({_pts(a.raw)}-{_pts(a.penalty)})"


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    return "\n".join(lines + ["  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows])


def semester_text(table: dict[tuple[str, str], Counted], assignments: list[tuple[str, float]]) -> str:
    """Student x assignment: the grade that counts (raw-penalty when penalized), the total, and why."""
    students = sorted({s for s, _ in table})
    head = ["student", *(a for a, _ in assignments), "total"]
    rows = [["points possible", *(_pts(m) for _, m in assignments), _pts(sum(m for _, m in assignments))]]
    notes, stale = [], []
    possible = dict(assignments)
    for s in students:
        mine = [(a, table.get((s, a))) for a, _ in assignments]
        cells = []
        for a, c in mine:
            old = c is not None and c.attempt.grading.max_score != possible[a]
            cells.append("-" if c is None else cell(c) + ("*" if old else ""))
            if old:
                stale.append(f"{s} / {a}")
        rows.append([s, *cells, _pts(round(sum(c.attempt.grade for _, c in mine if c), 6))])
        for a, c in mine:
            if c and (c.attempts > 1 or not c.attempt.lateness.on_time):
                notes.append(f"  {s} / {a}: {c.why} ({c.attempts} submission{'s' if c.attempts > 1 else ''}; "
                             f"{_late(c.attempt.lateness)})")
    text = _table(head, rows)
    if notes:
        text += "\n\nWhy (more than one submission, or late):\n" + "\n".join(notes)
    if stale:
        text += ("\n\n* graded when the assignment had other points possible (the checks changed since): "
                 "grade that submission again. " + ", ".join(stale))
    return text


def history_text(student: str, found: dict[tuple[str, str], list[Attempt]],
                 table: dict[tuple[str, str], Counted], tz: tzinfo = UTC) -> str:
    """Every submission of one student: when (in `tz`), raw score, lateness, penalty, grade, which counts."""
    head = ["assignment", "submitted", "graded", "raw", "late", "penalty", "grade", "counts"]
    rows = []
    for (s, assignment), mine in sorted(found.items()):
        if s != student:
            continue
        counted = table[(s, assignment)].attempt
        for a in mine:
            when = a.submitted_at.isoformat(timespec="minutes") if a.submitted_at else "unknown"
            if a.submitted_at and a.grading.submitted_from:
                when += f" ({a.grading.submitted_from})"
            regraded = f" (graded {a.gradings}x)" if a.gradings > 1 else ""
            graded = a.grading.graded_at.astimezone(tz).isoformat(timespec="minutes")
            rows.append([assignment, when, graded + regraded,
                         f"{_pts(a.raw)}/{_pts(a.grading.max_score)}", _late(a.lateness), _pts(a.penalty),
                         _pts(a.grade), "<- counts" if a.content_hash == counted.content_hash else ""])
    if not rows:
        return f"No submissions of {student} in the gradebook."
    return f"History of {student}\n\n" + _table(head, rows)


@dataclass
class Change:
    """How one regrade moved one student's score on one assignment."""

    student: str
    assignment: str
    before: float
    after: float
    checks: list[tuple[str, str, str]]
    """`(check, status before, status after)` of the checks whose status changed"""

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 6)


def regraded(gradings: list[Grading], run: int) -> int:
    """How many gradings of run `run` regraded work graded before (same student, assignment and content)."""
    seen: set[tuple[str, str, str]] = set()
    count = 0
    for g in sorted(gradings, key=lambda g: g.id):
        key = (g.student, g.assignment, g.content_hash)
        count += g.run == run and key in seen
        seen.add(key)
    return count


def changes(gradings: list[Grading], run: int) -> list[Change]:
    """What run `run` changed by regrading work graded before (same student, assignment and content)."""
    previous: dict[tuple[str, str, str], Grading] = {}
    found = []
    for g in sorted(gradings, key=lambda g: g.id):
        key = (g.student, g.assignment, g.content_hash)
        before = previous.get(key)
        if g.run == run and before is not None:
            moved = [(name, before.checks.get(name, (0, 0, "absent"))[2], status)
                     for name, (_, _, status) in g.checks.items()
                     if before.checks.get(name, (0, 0, "absent"))[2] != status]
            moved += [(name, status, "absent") for name, (_, _, status) in before.checks.items()
                      if name not in g.checks]
            if moved or before.score != g.score:
                found.append(Change(g.student, g.assignment, before.score, g.score, moved))
        previous[key] = g
    return sorted(found, key=lambda c: (-abs(c.delta), c.student, c.assignment))


def changes_text(found: list[Change], run: int, regraded: int) -> str:
    """Who moved, by how much, and which checks."""
    if not found:
        return f"Run {run} regraded {regraded} submission(s); no score or check changed."
    lines = [f"Run {run}: {len(found)} of {regraded} regraded submission(s) changed", ""]
    for c in found:
        lines.append(f"{c.student} / {c.assignment}: {_pts(c.before)} -> {_pts(c.after)} ({c.delta:+g})")
        lines += [f"    {name}: {old} -> {new}" for name, old, new in c.checks]
    return "\n".join(lines)


def write_semester_csv(table: dict[tuple[str, str], Counted], assignments: list[tuple[str, float]],
                       path: Path) -> None:
    """The semester table as CSV: per assignment the raw score, the penalty and the grade."""
    students = sorted({s for s, _ in table})
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        head = ["student"]
        for a, _ in assignments:
            head += [f"{a} raw", f"{a} penalty", a]
        writer.writerow([*head, "total"])
        possible = ["points possible"]
        for _, m in assignments:
            possible += [_pts(m), "", _pts(m)]
        writer.writerow([*possible, _pts(sum(m for _, m in assignments))])
        for s in students:
            row, total = [s], 0.0
            for a, _ in assignments:
                c = table.get((s, a))
                row += [_pts(c.attempt.raw), _pts(c.attempt.penalty), _pts(c.attempt.grade)] if c else ["", "", ""]
                total += c.attempt.grade if c else 0.0
            writer.writerow([*row, _pts(round(total, 6))])


def late_notes(submission: Submission, assignments: list[Assignment], policy: CoursePolicy,
               fallback: datetime | None = None) -> list[str]:
    """What the student's report says about lateness: the penalty per late assignment, before grading.

    `fallback` is the submission time when the layout gives none (`grade --submitted-at`).
    """
    when = _aware(submission.submitted_at or fallback, policy)
    if when is None:
        return []
    notes = []
    names = [submission.name, *submission.lms_ids.values()]
    for a in assignments:
        late = policy.of(a.name).late
        if late is None or not any(f"{m}.py" in submission.files for m in a.modules):
            continue
        extension = policy.extension(names, a.name)
        found = assess(late, when, extension)
        if found.late_by.total_seconds() <= 0 or found.on_time:
            continue
        due_at = due(late, extension).astimezone(policy.timezone)
        head = (f"{a.name}: submitted {when.astimezone(policy.timezone):%Y-%m-%d %H:%M %Z}, "
                f"{found.late_days:.2f} days after the deadline ({due_at:%Y-%m-%d %H:%M %Z})")
        if found.no_credit:
            notes.append(f"{head}: past the cutoff, it gets no credit (grade 0 whatever the score).")
        else:
            points = round(a.max_points * found.penalty_percent / 100, 6)
            notes.append(f"{head}: the late penalty is {found.penalty_percent:g}% of its {a.max_points:g} points, "
                         f"so its grade is its score minus {points:g} (never below 0).")
    return notes
