"""Late work, priced: pure arithmetic on time-zone-aware datetimes (no files, no clock).

A policy says when an assignment is due and what lateness costs:

- `deadline`: an aware datetime (the course's time zone applied by `grader.gradebook.coursepolicy`);
  a student's extension moves it for that student only;
- `grace`: lateness up to this much costs nothing (uploads that finish a minute late);
- `penalty_percent` per started `unit` (a day or an hour) of lateness, counted from the
  deadline, not from the end of the grace period: 10 % a day means 1 minute past the grace
  period costs 10 %, 24 h 1 min late costs 20 %;
- `cap_percent`: the penalty never exceeds this;
- `cutoff`: work later than this after the deadline gets no credit at all.

The penalty is a percentage of the points possible (as Canvas's own late policy deducts), and
the grade never goes below zero. A submission whose time is unknown is never penalized.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
"""the units a penalty may be counted in"""


@dataclass(frozen=True)
class LatePolicy:
    """When one assignment is due and what lateness costs."""

    deadline: datetime
    """when the work is due (time-zone aware)"""
    grace: timedelta = timedelta(0)
    """lateness up to this much is not penalized"""
    penalty_percent: float = 0.0
    """percent of the points possible deducted per started unit of lateness"""
    unit: str = "day"
    """`day` or `hour`: what a started unit of lateness is"""
    cap_percent: float = 100.0
    """the largest penalty, in percent of the points possible"""
    cutoff: timedelta | None = None
    """lateness past which the work gets no credit (None: never)"""

    def __post_init__(self) -> None:
        if self.deadline.tzinfo is None or self.deadline.utcoffset() is None:
            raise ValueError("a deadline needs a time zone")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {self.unit!r}")
        if self.grace < timedelta(0) or self.penalty_percent < 0 or not 0 <= self.cap_percent <= 100:
            raise ValueError("grace and penalty must not be negative, the cap must lie in 0..100")
        if self.cutoff is not None and self.cutoff < timedelta(0):
            raise ValueError("the cutoff must not be negative")


@dataclass(frozen=True)
class Lateness:
    """How late one submission was and what it costs."""

    late_by: timedelta
    """time past the student's deadline (zero when on time or when the time is unknown)"""
    units: int
    """started units of lateness that are charged (zero within the grace period)"""
    penalty_percent: float
    """percent of the points possible deducted (capped); 100 past the cutoff"""
    no_credit: bool = False
    """past the cutoff: the grade is zero whatever the score"""
    known: bool = True
    """False when the submission time is unknown (then nothing is charged)"""

    @property
    def on_time(self) -> bool:
        """Nothing charged: on time, within the grace period, or of unknown time."""
        return self.units == 0 and not self.no_credit

    @property
    def late_days(self) -> float:
        """`late_by` in days (for tables)."""
        return self.late_by / timedelta(days=1)


UNKNOWN = Lateness(timedelta(0), 0, 0.0, known=False)
"""the lateness of a submission whose time the layout did not say"""


def due(policy: LatePolicy, extension: timedelta | datetime | None = None) -> datetime:
    """The student's own deadline: moved by an extension (a length of time or a new deadline).

    Days of extension are days on the course's wall clock: 3 days after 23:59 is 23:59, also
    across a daylight-saving change.
    """
    if extension is None:
        return policy.deadline
    if isinstance(extension, datetime):
        if extension.tzinfo is None:
            raise ValueError("an extension's new deadline needs a time zone")
        return extension
    return policy.deadline + extension


def assess(policy: LatePolicy, submitted_at: datetime | None,
           extension: timedelta | datetime | None = None) -> Lateness:
    """What `policy` charges for work submitted at `submitted_at` (None: unknown, nothing charged)."""
    if submitted_at is None:
        return UNKNOWN
    if submitted_at.tzinfo is None:
        raise ValueError("a submission time needs a time zone")
    # In UTC: Python subtracts two times of the same zone on the wall clock, which is an hour
    # off across a daylight-saving change.
    late_by = submitted_at.astimezone(UTC) - due(policy, extension).astimezone(UTC)
    if late_by <= timedelta(0):
        return Lateness(timedelta(0), 0, 0.0)
    if policy.cutoff is not None and late_by > policy.cutoff:
        return Lateness(late_by, math.ceil(late_by / UNITS[policy.unit]), 100.0, no_credit=True)
    if late_by <= policy.grace:
        return Lateness(late_by, 0, 0.0)
    units = math.ceil(late_by / UNITS[policy.unit])
    return Lateness(late_by, units, min(policy.cap_percent, units * policy.penalty_percent))


def price(raw: float, possible: float, lateness: Lateness) -> tuple[float, float]:
    """`(penalty, grade)` in points (rounded to 6 decimals like scores): a share of `possible`, grade >= 0."""
    if lateness.no_credit:
        return round(raw, 6), 0.0
    penalty = possible * lateness.penalty_percent / 100
    grade = max(0.0, raw - penalty)
    return round(raw - grade, 6), round(grade, 6)
