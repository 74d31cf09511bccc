"""Late policy arithmetic: time zones, daylight saving, grace, caps, cutoffs, extensions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.course.loading import CourseError
from grader.gradebook.coursepolicy import parse_policy
from grader.gradebook.latepolicy import LatePolicy, assess, price

NY = ZoneInfo("America/New_York")
ZONES = [ZoneInfo(z) for z in ("UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata")]


def _policy(**kw) -> LatePolicy:
    base = dict(deadline=datetime(2026, 10, 5, 23, 59, tzinfo=NY), grace=timedelta(minutes=15),
                penalty_percent=10, unit="day", cap_percent=50, cutoff=timedelta(days=7))
    return LatePolicy(**{**base, **kw})


def test_lateness_is_counted_in_started_days_from_the_deadline_not_from_the_end_of_the_grace():
    p = _policy()
    d = p.deadline
    assert assess(p, d).penalty_percent == 0
    assert assess(p, d + timedelta(minutes=15)).penalty_percent == 0  # the last minute of the grace period
    assert assess(p, d + timedelta(minutes=16)).penalty_percent == 10  # one started day
    assert assess(p, d + timedelta(hours=24)).penalty_percent == 10
    assert assess(p, d + timedelta(hours=24, minutes=1)).penalty_percent == 20
    assert assess(p, d + timedelta(days=4, hours=1)).penalty_percent == 50  # 5 days: 50 %, the cap
    assert assess(p, d + timedelta(days=6, hours=1)).penalty_percent == 50  # 7 days would be 70 %: capped
    past = assess(p, d + timedelta(days=7, seconds=1))
    assert past.no_credit and past.penalty_percent == 100


def test_a_deadline_across_the_start_of_daylight_saving_counts_real_hours():
    # 2026-03-08 02:00 EST -> 03:00 EDT in New York: the night is 23 hours long.
    p = _policy(deadline=datetime(2026, 3, 7, 23, 59, tzinfo=NY), grace=timedelta(0))
    # 00:30 EDT on the 9th is 23 h 31 min after 23:59 EST on the 7th (the wall clock says 24 h 31 min).
    on_the_9th = assess(p, datetime(2026, 3, 9, 0, 30, tzinfo=NY))
    assert on_the_9th.late_by == timedelta(hours=23, minutes=31)
    assert on_the_9th.units == 1 and on_the_9th.penalty_percent == 10


def test_submission_times_in_other_zones_are_compared_as_instants():
    p = _policy(grace=timedelta(0))
    # Gradescope writes -07:00 (Pacific daylight time): 20:59 PDT is 23:59 EDT, exactly the deadline.
    pacific = timezone(timedelta(hours=-7))
    assert assess(p, datetime(2026, 10, 5, 20, 59, tzinfo=pacific)).on_time
    one_minute_late = assess(p, datetime(2026, 10, 5, 21, 0, tzinfo=pacific))
    assert one_minute_late.late_by == timedelta(minutes=1) and one_minute_late.penalty_percent == 10
    assert assess(p, datetime(2026, 10, 6, 3, 59, tzinfo=UTC)).on_time  # 03:59 UTC = 23:59 EDT


def test_hourly_penalty_and_no_cutoff():
    p = _policy(unit="hour", penalty_percent=2, cap_percent=100, cutoff=None, grace=timedelta(0))
    assert assess(p, p.deadline + timedelta(minutes=59)).penalty_percent == 2
    assert assess(p, p.deadline + timedelta(hours=10, minutes=1)).penalty_percent == 22
    assert assess(p, p.deadline + timedelta(days=30)).penalty_percent == 100
    assert not assess(p, p.deadline + timedelta(days=30)).no_credit


def test_an_extension_moves_the_deadline_by_wall_clock_days_or_to_a_new_time():
    p = _policy(grace=timedelta(0))
    three_days_late = p.deadline + timedelta(days=3, hours=1)
    assert assess(p, three_days_late).penalty_percent == 40
    assert assess(p, three_days_late, timedelta(days=3)).penalty_percent == 10
    assert assess(p, three_days_late, datetime(2026, 10, 10, tzinfo=NY)).on_time


def test_the_penalty_is_a_share_of_the_points_possible_and_the_grade_never_negative():
    p = _policy()
    two_days = assess(p, p.deadline + timedelta(days=1, hours=2))
    assert price(40, 50, two_days) == (10, 30)  # 20 % of 50 points
    assert price(6, 50, two_days) == (6, 0)  # the penalty takes only what there is
    past = assess(p, p.deadline + timedelta(days=8))
    assert price(50, 50, past) == (50, 0)


def test_an_unknown_submission_time_is_never_penalized():
    unknown = assess(_policy(), None)
    assert not unknown.known and unknown.on_time and price(7, 10, unknown) == (0, 7)


def test_naive_times_are_refused_by_the_arithmetic():
    with pytest.raises(ValueError):
        LatePolicy(deadline=datetime(2026, 10, 5, 23, 59))
    with pytest.raises(ValueError):
        assess(_policy(), datetime(2026, 10, 5, 23, 59))


@st.composite
def policies(draw):
    zone = draw(st.sampled_from(ZONES))
    deadline = draw(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1))).replace(tzinfo=zone)
    cutoff = draw(st.none() | st.integers(0, 40 * 24 * 60).map(lambda m: timedelta(minutes=m)))
    return LatePolicy(deadline=deadline, grace=timedelta(minutes=draw(st.integers(0, 600))),
                      penalty_percent=draw(st.floats(0, 100)), unit=draw(st.sampled_from(["day", "hour"])),
                      cap_percent=draw(st.floats(0, 100)), cutoff=cutoff)


lateness = st.integers(-5 * 24 * 3600, 50 * 24 * 3600).map(lambda s: timedelta(seconds=s))


def _charged(p: LatePolicy, late: timedelta) -> float:
    return assess(p, p.deadline.astimezone(UTC) + late).penalty_percent


@given(policies(), lateness, lateness)
def test_the_penalty_never_decreases_with_lateness(p, a, b):
    early, later = sorted((a, b))
    assert _charged(p, early) <= _charged(p, later)


@given(policies(), lateness)
def test_the_penalty_is_capped_except_past_the_cutoff(p, late):
    found = assess(p, p.deadline.astimezone(UTC) + late)
    past_cutoff = p.cutoff is not None and late > p.cutoff
    assert found.no_credit == past_cutoff
    assert found.penalty_percent == (100 if past_cutoff else min(found.penalty_percent, p.cap_percent))


@given(policies(), st.floats(0, 1))
def test_nothing_is_charged_within_the_grace_period(p, share):
    late = p.grace * share
    if p.cutoff is not None:
        late = min(late, p.cutoff)
    assert _charged(p, late) == 0


@given(policies(), lateness, st.floats(0, 100), st.floats(0, 1))
def test_the_grade_lies_between_zero_and_the_raw_score(p, late, possible, share):
    raw = possible * share
    penalty, grade = price(raw, possible, assess(p, p.deadline.astimezone(UTC) + late))
    assert 0 <= grade <= raw + 1e-6  # both rounded to 6 decimals, as scores are
    assert abs(penalty + grade - raw) < 1e-6


def test_course_toml_policy_applies_the_time_zone_and_the_defaults():
    config = {"gradebook": {
        "timezone": "Europe/Berlin", "late": {"penalty_percent": 5, "per": "hour", "cap_percent": 30},
        "assignments": {"forward": {"deadline": datetime(2026, 10, 25, 12, 0), "grace_minutes": 5},
                        "backprop": {"deadline": datetime(2026, 11, 1, 9, 0, tzinfo=UTC), "counts": "best"}}}}
    policy = parse_policy(config, extensions={"ada": {"forward": 1.5}})
    forward = policy.of("forward").late
    assert forward.deadline == datetime(2026, 10, 25, 11, 0, tzinfo=UTC)  # CET after the change that night
    assert (forward.grace, forward.penalty_percent, forward.unit, forward.cap_percent) == (
        timedelta(minutes=5), 5, "hour", 30)
    assert policy.of("backprop").counts == "best" and policy.of("forward").counts == "latest"
    assert policy.of("perceptron").late is None
    assert policy.extension(["someone", "ada"], "forward") == timedelta(days=1.5)


@pytest.mark.parametrize("config, message", [
    ({"gradebook": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
    ({"gradebook": {"assignments": {"forward": {"deadline": "tomorrow"}}}}, "not a date and time"),
    ({"gradebook": {"assignments": {"forward": {"deadlin": datetime(2026, 1, 1)}}}}, "unknown key deadlin"),
    ({"gradebook": {"counts": "worst"}}, "counts must be one of"),
    ({"gradebook": {"late": {"per": "week"}, "assignments": {"forward": {"deadline": datetime(2026, 1, 1)}}}},
     "per must be one of"),
])
def test_a_broken_course_policy_is_named_in_one_line(config, message):
    with pytest.raises(CourseError, match=message):
        parse_policy(config)
