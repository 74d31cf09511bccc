"""The semester's rules from `assignments/course.toml`: deadlines, late policy, which grade counts.

    [gradebook]
    timezone = "America/New_York"     # deadlines without an offset are in this zone
    counts = "latest"                 # latest | latest-on-time | best
    extensions = "extensions.toml"    # beside course.toml (optional)

    [gradebook.late]                  # every assignment's late policy unless it says otherwise
    grace_minutes = 15
    penalty_percent = 10              # of the points possible, per started day (or hour)
    per = "day"                       # day | hour
    cap_percent = 50
    cutoff_days = 7                   # later than this: no credit (leave out: never)

    [gradebook.assignments.forward]
    deadline = 2026-10-05T23:59:00    # a TOML datetime; local time in `timezone` or with an offset
    canvas = "Forward pass (40512)"   # the column as Canvas's own export names it
    moodle = "Forward pass"           # the grade item's name in Moodle
    counts = "best"                   # and any key of [gradebook.late], for this assignment only

The extensions file gives a student more time, by their name in the gradebook (or an LMS id):

    [ada_perfect]
    backprop = 2                      # days
    forward = 2026-10-09T12:00:00     # a new deadline
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader.course.loading import CourseError
from grader.gradebook.latepolicy import UNITS, LatePolicy

RULES = ("latest-on-time", "latest", "best")
"""which of a student's submissions counts: see `grader.gradebook.semester.counting`"""
DEFAULT_RULE = "latest"
_LATE_KEYS = ("grace_minutes", "penalty_percent", "per", "cap_percent", "cutoff_days")
_ASSIGNMENT_KEYS = ("deadline", "canvas", "moodle", "counts", *_LATE_KEYS)


@dataclass(frozen=True)
class AssignmentPolicy:
    """What the semester says about one assignment."""

    late: LatePolicy | None
    """its deadline and late policy (None: no deadline, nothing is ever late)"""
    counts: str = DEFAULT_RULE
    """which submission's grade counts (one of `RULES`)"""
    canvas: str | None = None
    """its column name in Canvas (default: the assignment's title)"""
    moodle: str | None = None
    """its grade item's name in Moodle (default: the assignment's title)"""


@dataclass
class CoursePolicy:
    """Deadlines, late policies, extensions and counting rules of a course."""

    timezone: ZoneInfo
    assignments: dict[str, AssignmentPolicy] = field(default_factory=dict)
    extensions: dict[tuple[str, str], timedelta | datetime] = field(default_factory=dict)
    """`(student or LMS id, assignment) -> more time or a new deadline`"""

    def of(self, assignment: str) -> AssignmentPolicy:
        """The assignment's policy (no deadline when course.toml gives none)."""
        return self.assignments.get(assignment, AssignmentPolicy(None))

    def extension(self, names: list[str], assignment: str) -> timedelta | datetime | None:
        """The extension of the first of `names` (a student's name, then their ids) that has one."""
        for name in names:
            found = self.extensions.get((name, assignment))
            if found is not None:
                return found
        return None


def _aware(value: Any, tz: ZoneInfo, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise CourseError(f"{where}: {value!r} is not a date and time (e.g. 2026-10-05T23:59:00)") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise CourseError(f"{where}: give a time as well as the date (e.g. {value}T23:59:00)")
    if not isinstance(value, datetime):
        raise CourseError(f"{where}: {value!r} is not a date and time")
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _number(table: dict[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CourseError(f"{where}: {key} must be a number, not {value!r}")
    return float(value)


def _late(table: dict[str, Any], deadline: datetime, where: str) -> LatePolicy:
    per = table.get("per", "day")
    if per not in UNITS:
        raise CourseError(f"{where}: per must be one of {', '.join(UNITS)}, not {per!r}")
    cutoff = table.get("cutoff_days")
    try:
        return LatePolicy(
            deadline=deadline,
            grace=timedelta(minutes=_number(table, "grace_minutes", 0, where)),
            penalty_percent=_number(table, "penalty_percent", 0, where),
            unit=per,
            cap_percent=_number(table, "cap_percent", 100, where),
            cutoff=None if cutoff is None else timedelta(days=_number(table, "cutoff_days", 0, where)),
        )
    except ValueError as exc:
        raise CourseError(f"{where}: {exc}") from None


def parse_policy(config: dict[str, Any], where: str = "course.toml",
                 extensions: dict[str, Any] | None = None) -> CoursePolicy:
    """The `[gradebook]` table of course.toml (and the extensions file's data) as a `CoursePolicy`."""
    book = config.get("gradebook", {})
    zone = book.get("timezone", "UTC")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"{where}: unknown time zone {zone!r} (an IANA name such as Europe/Berlin)") from None
    rule = book.get("counts", DEFAULT_RULE)
    defaults = book.get("late", {})
    unknown = sorted(set(defaults) - set(_LATE_KEYS))
    if unknown:
        raise CourseError(f"{where}: [gradebook.late] does not know {', '.join(unknown)}")
    policy = CoursePolicy(tz)
    for name, table in book.get("assignments", {}).items():
        here = f"{where} [gradebook.assignments.{name}]"
        unknown = sorted(set(table) - set(_ASSIGNMENT_KEYS))
        if unknown:
            raise CourseError(f"{here}: unknown key {', '.join(unknown)} (known: {', '.join(_ASSIGNMENT_KEYS)})")
        counts = table.get("counts", rule)
        if counts not in RULES:
            raise CourseError(f"{here}: counts must be one of {', '.join(RULES)}, not {counts!r}")
        late = None
        if "deadline" in table:
            late = _late({**defaults, **table}, _aware(table["deadline"], tz, f"{here} deadline"), here)
        policy.assignments[name] = AssignmentPolicy(late, counts, table.get("canvas"), table.get("moodle"))
    if rule not in RULES:
        raise CourseError(f"{where}: counts must be one of {', '.join(RULES)}, not {rule!r}")
    for student, table in (extensions or {}).items():
        if not isinstance(table, dict):
            raise CourseError(f"extensions: [{student}] must be a table of assignment = days or a new deadline")
        for assignment, value in table.items():
            here = f"extensions [{student}] {assignment}"
            if isinstance(value, int | float) and not isinstance(value, bool):
                policy.extensions[(student, assignment)] = timedelta(days=value)
            else:
                policy.extensions[(student, assignment)] = _aware(value, tz, here)
    return policy


def load_policy(assignments_dir: Path) -> CoursePolicy:
    """The course's policy from `assignments/course.toml` and its extensions file."""
    path = Path(assignments_dir) / "course.toml"
    try:
        config = tomllib.loads(path.read_text()) if path.exists() else {}
        name = config.get("gradebook", {}).get("extensions")
        extensions = tomllib.loads((path.parent / name).read_text()) if name else {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: {exc}") from None
    return parse_policy(config, str(path), extensions)
