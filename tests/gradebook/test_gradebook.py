"""The gradebook: runs recorded whole, regrades, late resubmissions, concurrent runs, migration."""

from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import grader
from conftest import ROOT
from grader.cli.commands import main
from grader.course.loading import Assignment, Course
from grader.engine.batch import grade_folder
from grader.gradebook.coursepolicy import AssignmentPolicy, CoursePolicy, load_policy
from grader.gradebook.latepolicy import LatePolicy
from grader.gradebook.semester import attempts, changes, semester
from grader.gradebook.store import (
    SCHEMA_VERSION,
    GradebookError,
    Target,
    content_hash,
    course_modules,
    load_gradings,
    load_students,
    open_gradebook,
    record_run,
)
from grader.inputs.discover import Submission, read_submission
from grader.model import CheckResult, Limits, SubmissionResult

EXAMPLES = ROOT / "examples" / "submit"
NY = ZoneInfo("America/New_York")
MODULES = {"forward", "backprop"}
FORWARD = Assignment("forward", "Forward", ("forward",), [])
BACKPROP = Assignment("backprop", "Backprop", ("backprop",), [])


def _check(assignment: str, name: str, points: float, passed: bool, problem: str | None = None) -> CheckResult:
    return CheckResult(assignment, name, assignment, "f", points, points if passed else 0.0, True, passed,
                       problem=problem)


def _result(name: str, passes: dict[str, bool]) -> SubmissionResult:
    """One result with checks `forward.a` (2 pt), `forward.b` (3 pt), `backprop.c` (5 pt)."""
    points = {"forward.a": 2, "forward.b": 3, "backprop.c": 5}
    return SubmissionResult(name, [_check(n.split(".")[0], n, points[n], passes.get(n, False)) for n in points], 0.1)


def _sub(name: str, files: dict[str, bytes], when: datetime | None = None, **ids: str) -> Submission:
    return Submission(name, Path("."), files, submitted_at=when, submitted_from="gradescope" if when else "",
                      lms_ids=dict(ids))


def _record(db: Path, subs: list[Submission], results: list[SubmissionResult], course: str = "c1", **kw) -> int:
    return record_run(db, subs, results, [FORWARD, BACKPROP], course, MODULES, **kw)


def test_a_run_records_each_submitted_assignment_with_its_checks_time_and_ids(tmp_path):
    db = tmp_path / "gb.db"
    when = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    _record(db, [_sub("ada", {"forward.py": b"f1", "helper.py": b"h"}, when, canvas_id="77")],
            [_result("ada", {"forward.a": True})])
    [g] = load_gradings(db)  # backprop.py was not submitted: no grading of backprop
    assert (g.student, g.assignment, g.score, g.max_score, g.status) == ("ada", "forward", 2, 5, "ok")
    assert g.submitted_at == when and g.submitted_from == "gradescope"
    assert g.checks == {"forward.a": (2, 2, "passed"), "forward.b": (0, 3, "failed")}
    assert load_students(db) == {"ada": {"canvas_id": "77"}}


def test_the_content_hash_covers_the_assignments_own_modules_and_helpers_only(tmp_path):
    db = tmp_path / "gb.db"
    base = {"forward.py": b"f1", "backprop.py": b"b1", "helper.py": b"h1"}
    variants = [base, {**base, "backprop.py": b"b2"}, {**base, "helper.py": b"h2"}, {**base, "forward.py": b"f2"}]
    for i, files in enumerate(variants):
        _record(db, [_sub("ada", files)], [_result("ada", {})], course=f"c{i}")
    hashes = [g.content_hash for g in load_gradings(db) if g.assignment == "forward"]
    # another assignment's module changed: the same forward submission; a helper or forward.py: a new one
    assert hashes[0] == hashes[1] and len({hashes[1], hashes[2], hashes[3]}) == 3


def test_rerunning_unchanged_work_adds_nothing_and_a_regrade_adds_a_grading_of_the_same_work(tmp_path):
    db = tmp_path / "gb.db"
    files = {"forward.py": b"f1"}
    _record(db, [_sub("ada", files)], [_result("ada", {"forward.a": True})])
    _record(db, [_sub("ada", files)], [_result("ada", {"forward.a": True})])  # same course: nothing new
    assert len(load_gradings(db)) == 1
    # the check forward.b was fixed (a new course fingerprint): ada now passes it
    run = _record(db, [_sub("ada", files)], [_result("ada", {"forward.a": True, "forward.b": True})], course="c2")
    gradings = load_gradings(db)
    assert [g.score for g in gradings] == [2, 5] and len({g.content_hash for g in gradings}) == 1
    [change] = changes(gradings, run)
    assert (change.student, change.before, change.after, change.delta) == ("ada", 2, 5, 3)
    assert change.checks == [("forward.b", "failed", "passed")]
    policy = CoursePolicy(UTC)
    assert semester(gradings, policy)[("ada", "forward")].attempt.raw == 5  # the latest grading counts
    assert len(attempts(gradings, policy)[("ada", "forward")]) == 1  # one submission, graded twice


def test_a_late_resubmission_is_priced_and_the_rule_decides_which_counts(tmp_path):
    db = tmp_path / "gb.db"
    deadline = datetime(2026, 10, 5, 23, 59, tzinfo=NY)
    late = LatePolicy(deadline, timedelta(minutes=10), penalty_percent=10, cap_percent=50)
    _record(db, [_sub("ada", {"forward.py": b"v1"}, deadline - timedelta(hours=2))],
            [_result("ada", {"forward.a": True})])  # on time: 2 of 5
    _record(db, [_sub("ada", {"forward.py": b"v2"}, deadline + timedelta(days=1, hours=3))],
            [_result("ada", {"forward.a": True, "forward.b": True})])  # 27 h late: 2 started days, -20 %
    gradings = load_gradings(db)

    def counted(rule: str):
        policy = CoursePolicy(NY, {"forward": AssignmentPolicy(late, rule)})
        return semester(gradings, policy)[("ada", "forward")]

    on_time = counted("latest-on-time")
    assert (on_time.attempt.raw, on_time.attempt.grade, on_time.why) == (2, 2, "latest on time")
    latest = counted("latest")
    assert (latest.attempt.raw, latest.attempt.penalty, latest.attempt.grade) == (5, 1, 4)  # 20 % of 5 points
    assert latest.attempt.lateness.units == 2
    best = counted("best")
    assert best.attempt.grade == 4 and best.why == "best of 2"
    extended = CoursePolicy(NY, {"forward": AssignmentPolicy(late, "latest")}, {("ada", "forward"): timedelta(days=2)})
    assert semester(gradings, extended)[("ada", "forward")].attempt.grade == 5


def test_a_resubmission_keeps_the_time_its_work_was_first_seen_with(tmp_path):
    db = tmp_path / "gb.db"
    first = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    _record(db, [_sub("ada", {"forward.py": b"v1"})], [_result("ada", {})], submitted_at=first)
    # a regrade (new course) of the same work, told another time: the first one stays
    _record(db, [_sub("ada", {"forward.py": b"v1"})], [_result("ada", {})], course="c2",
            submitted_at=first + timedelta(days=9))
    times = [(g.submitted_at, g.submitted_from) for g in load_gradings(db)]
    assert times == [(first, "--submitted-at"), (first, "--submitted-at")]


def _hammer(db: str, writer: int, runs: int) -> None:
    for i in range(runs):
        name = f"w{writer}-{i}"
        _record(Path(db), [_sub(name, {"forward.py": name.encode()})], [_result(name, {"forward.a": True})])


def test_two_writers_at_once_lose_nothing_and_leave_a_sound_file(tmp_path):
    db = tmp_path / "gb.db"
    open_gradebook(db).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(str(db), w, 15)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    assert sorted(g.student for g in load_gradings(db)) == sorted(f"w{w}-{i}" for w in range(2) for i in range(15))
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (30,)


def test_a_gradebook_of_the_first_schema_is_migrated_with_its_data(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as con:  # the file a grader of schema version 1 wrote
        con.executescript("""
            CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, grader TEXT NOT NULL,
                               course TEXT NOT NULL);
            CREATE TABLE grades (id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id),
                                 student TEXT NOT NULL, assignment TEXT NOT NULL, content_hash TEXT NOT NULL,
                                 submitted_at TEXT, graded_at TEXT NOT NULL, score REAL NOT NULL,
                                 max_score REAL NOT NULL, status TEXT NOT NULL);
            CREATE TABLE checks (grade INTEGER NOT NULL REFERENCES grades(id), name TEXT NOT NULL,
                                 score REAL NOT NULL, max_score REAL NOT NULL, status TEXT NOT NULL,
                                 PRIMARY KEY (grade, name));
            INSERT INTO runs VALUES (1, '2026-09-01T10:00:00+00:00', 'g', 'c0');
            INSERT INTO grades VALUES (1, 1, 'bea', 'forward', 'h1', '2026-09-01T08:00:00+00:00',
                                       '2026-09-01T10:00:00+00:00', 3, 5, 'ok');
            INSERT INTO checks VALUES (1, 'forward.b', 3, 3, 'passed');
            PRAGMA user_version = 1;
        """)
    _record(db, [_sub("ada", {"forward.py": b"f"})], [_result("ada", {})])  # opens, migrates, writes
    gradings = load_gradings(db)
    old = gradings[0]
    assert (old.student, old.score, old.submitted_at, old.submitted_from) == (
        "bea", 3, datetime(2026, 9, 1, 8, 0, tzinfo=UTC), "")
    assert old.checks == {"forward.b": (3, 3, "passed")}
    assert [g.student for g in gradings] == ["bea", "ada"]
    assert load_students(db) == {"ada": {}, "bea": {}}
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_newer_or_foreign_database_is_refused_not_changed(tmp_path):
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        con.execute("CREATE TABLE x (y)")
    with pytest.raises(GradebookError, match="schema version"):
        open_gradebook(newer)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE notes (text)")
    with pytest.raises(GradebookError, match="not a gradebook"):
        open_gradebook(foreign)
    with sqlite3.connect(foreign) as con:
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["notes"]


# ------------------------------------------------------------------ through `grade`


def _course(tmp_path: Path, policy: str = "") -> Path:
    """A copy of the course with only the forward assignment (and the given [gradebook] tables)."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "forward", course / "assignments" / "forward")
    (course / "assignments" / "course.toml").write_text('assignments = ["forward"]\n' + policy)
    (course / "reference").mkdir()
    shutil.copy(ROOT / "reference" / "forward.py", course / "reference" / "forward.py")
    return course


POLICY = """
[gradebook]
timezone = "America/New_York"
counts = "latest"
[gradebook.late]
penalty_percent = 10
[gradebook.assignments.forward]
deadline = 2026-10-05T23:59:00
"""


def _gradescope(folder: Path, student: str, source: Path, created_at: str) -> Path:
    (folder / "submission_1").mkdir(parents=True)
    shutil.copy(source, folder / "submission_1" / "forward.py")
    (folder / "submission_metadata.yml").write_text(
        f"submission_1:\n  :submitters:\n  - :name: {student}\n    :sid: '4242'\n    :email: ada@uni.edu\n"
        f"  :created_at: {created_at}\n")
    return folder


def test_a_late_gradescope_resubmission_through_grade_and_grades_csv_agrees(tmp_path):
    course, db = _course(tmp_path, POLICY), tmp_path / "gb.db"
    buggy, fixed = EXAMPLES / "cai_softmax_axis" / "forward.py", EXAMPLES / "ada_perfect" / "forward.py"
    week1 = _gradescope(tmp_path / "week1", "Ada Lovelace", buggy, "2026-10-05 20:00:00.0 -07:00")  # 23:00 EDT
    week2 = _gradescope(tmp_path / "week2", "Ada Lovelace", fixed, "2026-10-07 10:00:00.0 -07:00")  # 1 d 13 h late
    for week in (week1, week2):
        batch = grade_folder(week, tmp_path / "out", Course.load(course), limits=Limits(call_timeout=2), jobs=1,
                             gradebook=Target(db))
        [result] = batch.results
        rows = list(csv.reader((tmp_path / "out" / "grades.csv").open()))
        gradings = [g for g in load_gradings(db) if g.run == max(g.run for g in load_gradings(db))]
        assert [(g.student, f"{g.score:g}", g.status) for g in gradings] == [
            (r[0], r[1], r[-1]) for r in rows[2:]]  # the run's gradebook rows are grades.csv's
    assert load_students(db) == {"Ada_Lovelace": {"email": "ada@uni.edu", "sid": "4242"}}
    first, second = load_gradings(db)
    assert first.score < second.score == second.max_score
    table = semester(load_gradings(db), load_policy(course / "assignments"))
    counted = table[("Ada_Lovelace", "forward")].attempt
    assert counted.lateness.late_by == timedelta(days=1, hours=13, minutes=1)
    assert (counted.raw, counted.penalty) == (second.max_score, pytest.approx(0.2 * second.max_score))
    shown = CliRunner().invoke(main, ["gradebook", "--gradebook", str(db), "--course", str(course),
                                      "--student", "Ada_Lovelace"])
    assert shown.exit_code == 0, shown.output
    assert "1.54 d late: -20%" in shown.output and "2026-10-07T13:00-04:00 (gradescope)" in shown.output
    feedback = (tmp_path / "out" / "students" / "Ada_Lovelace" / "feedback.md").read_text()
    assert (f"forward: submitted 2026-10-07 13:00 EDT, 1.54 days after the deadline (2026-10-05 23:59 EDT): the late "
            f"penalty is 20% of its {second.max_score:g} points, so its grade is its score minus "
            f"{0.2 * second.max_score:g}") in feedback


def test_two_grade_commands_at_once_both_land_in_the_gradebook(tmp_path):
    course, db = _course(tmp_path), tmp_path / "gb.db"
    env = {**os.environ, "PYTHONPATH": str(Path(grader.__file__).resolve().parent.parent)}
    procs = []
    for name in ("ada_perfect", "cai_softmax_axis"):
        shutil.copytree(EXAMPLES / name, tmp_path / name / name)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "grader", str(tmp_path / name), "--out", str(tmp_path / f"out-{name}"),
             "--course", str(course), "--gradebook", str(db), "-q", "-j", "1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    gradings = load_gradings(db)
    assert sorted(g.student for g in gradings) == ["ada_perfect", "cai_softmax_axis"]
    assert len({g.run for g in gradings}) == 2
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_example_class_has_deadlines_but_no_submission_times_so_nothing_is_late():
    from grader.course.loading import load_assignments
    from grader.gradebook.semester import late_notes
    from grader.inputs.collect import collect_submissions

    assignments = load_assignments(ROOT / "assignments", mistakes=False)
    policy = load_policy(ROOT / "assignments")
    assert all(policy.of(a.name).late is not None for a in assignments)
    subs, _ = collect_submissions(EXAMPLES, {m for a in assignments for m in a.modules})
    assert len(subs) == 16 and [s.name for s in subs if s.submitted_at is not None] == []
    assert [n for s in subs for n in late_notes(s, assignments, policy)] == []
    # the same class handed in a day after the last deadline would be late everywhere
    late = datetime(2026, 11, 11, 12, 0, tzinfo=NY)
    ada = next(s for s in subs if s.name == "ada_perfect")
    assert len(late_notes(ada, assignments, policy, late)) == len(assignments)


def test_the_semester_table_and_its_csv_show_raw_penalty_and_grade(tmp_path):
    db = tmp_path / "gb.db"
    course = _course(tmp_path, POLICY)  # forward due 2026-10-05 23:59 New York, 10 % a started day
    on_time = datetime(2026, 10, 5, 12, 0, tzinfo=NY)
    three_days = datetime(2026, 10, 8, 20, 0, tzinfo=NY)
    forward_only = [FORWARD]
    record_run(db, [_sub("ada", {"forward.py": b"a"}, on_time), _sub("bob", {"forward.py": b"b"}, three_days)],
               [_result("ada", {"forward.a": True}), _result("bob", {"forward.a": True, "forward.b": True})],
               forward_only, "c", MODULES)
    out = tmp_path / "semester.csv"
    shown = CliRunner().invoke(main, ["gradebook", "--gradebook", str(db), "--course", str(course), "--csv", str(out)])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[2].split() == ["points", "possible", "5", "5"]  # the gradings' points, not the course's
    assert lines[3].split() == ["ada", "2", "2"]
    assert lines[4].split() == ["bob", "3.5", "(5-1.5)", "3.5"]  # 2 d 20 h 1 min late: 3 started days, 30 %
    assert "bob / forward: only submission (1 submission; 2.83 d late: -30%)" in shown.output
    with open(out, newline="") as f:
        assert list(csv.reader(f)) == [["student", "forward raw", "forward penalty", "forward", "total"],
                                       ["points possible", "5", "", "5", "5"],
                                       ["ada", "2", "0", "2", "2"],
                                       ["bob", "5", "1.5", "3.5", "3.5"]]


def test_grade_gradebook_changed_names_who_moved_and_which_checks(tmp_path):
    db = tmp_path / "gb.db"
    files = {"forward.py": b"f"}
    _record(db, [_sub("ada", files), _sub("bob", {"forward.py": b"g"})],
            [_result("ada", {"forward.a": True}), _result("bob", {"forward.b": True})])
    _record(db, [_sub("ada", files), _sub("bob", {"forward.py": b"g"})],
            [_result("ada", {"forward.a": True, "forward.b": True}), _result("bob", {"forward.b": True})],
            course="c2")
    shown = CliRunner().invoke(main, ["gradebook", "--gradebook", str(db), "--course", str(_course(tmp_path)),
                                      "--changed"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines() == ["Run 2: 1 of 2 regraded submission(s) changed", "",
                                         "ada / forward: 2 -> 5 (+3)", "    forward.b: failed -> passed"]


def test_a_batch_lets_go_of_each_submission_s_files_and_its_gradebook_rows_hash_them_all_the_same(
        tmp_path, monkeypatch):
    # A class's files are never all in memory at once: each submission's are let go once its
    # reports are written, after its work's hashes were taken for the gradebook.
    import grader.engine.batch as batch

    course, db, folder = _course(tmp_path), tmp_path / "gb.db", tmp_path / "submit"
    for name in ("ada_perfect", "cai_softmax_axis", "dee_no_transpose"):
        shutil.copytree(EXAMPLES / name, folder / name)
    graded: list[Submission] = []
    original = batch.grade_submission

    def grading(sub, *args, **kwargs):
        graded.append(sub)
        assert sub.files  # the worker gets them
        return original(sub, *args, **kwargs)

    monkeypatch.setattr(batch, "grade_submission", grading)
    loaded = Course.load(course)
    grade_folder(folder, tmp_path / "out", loaded, limits=Limits(call_timeout=2), jobs=2, gradebook=Target(db))
    assert sorted(s.name for s in graded) == ["ada_perfect", "cai_softmax_axis", "dee_no_transpose"]
    assert all(s.files == {} for s in graded)
    modules = course_modules(course / "assignments")
    [forward] = loaded.assignments
    found = {g.student: g.content_hash for g in load_gradings(db)}
    assert found == {s.name: content_hash(read_submission(folder / s.name, s.name), forward, modules) for s in graded}
    # a rerun finds them unchanged (their files let go at once) and records nothing new
    again = grade_folder(folder, tmp_path / "out", Course.load(course), limits=Limits(call_timeout=2), jobs=2,
                         gradebook=Target(db))
    assert again.skipped == 3 and len(load_gradings(db)) == 3


class _LockedAtFirst:
    """A connection whose first `fails` journal-mode statements find the file locked, as when
    another run is setting the gradebook up at that moment (SQLite does not wait for that lock)."""

    def __init__(self, db: sqlite3.Connection, fails: int, message: str = "database is locked") -> None:
        self.db, self.fails, self.message, self.asked = db, fails, message, 0

    def execute(self, sql: str, *args):
        if sql.startswith("PRAGMA journal_mode"):
            self.asked += 1
            if self.asked <= self.fails:
                raise sqlite3.OperationalError(self.message)
        return self.db.execute(sql, *args)


def test_a_gradebook_being_set_up_by_another_run_is_waited_for(tmp_path, monkeypatch):
    import grader.gradebook.store as store

    db = sqlite3.connect(tmp_path / "gb.db", isolation_level=None)
    locked = _LockedAtFirst(db, fails=3)
    store._use_wal(locked, tmp_path / "gb.db")
    # three refusals, then the mode read ("delete": a new file) and set
    assert locked.asked == 5 and db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    settled = _LockedAtFirst(db, fails=0)
    store._use_wal(settled, tmp_path / "gb.db")
    assert settled.asked == 1  # a gradebook already in WAL mode is only read
    # another error is not waited on, and a lock that outlasts the busy timeout is reported
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        store._use_wal(_LockedAtFirst(db, fails=1, message="disk I/O error"), tmp_path / "gb.db")
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)
    forever = _LockedAtFirst(db, fails=10**9)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store._use_wal(forever, tmp_path / "gb.db")
    assert 2 <= forever.asked <= 50 / (1000 * store.WAL_RETRY_S) + 2
    db.close()
