"""The semester's gradebook: every graded submission of every run, in one SQLite file.

One row of `grades` is one grading of one student's work on one assignment: the content hash
of the files that assignment grades (its own modules and the student's helper modules), when
it was submitted (where the layout says), when it was graded, by which grader and course
(fingerprints), the score and status, and every check's score and status in `checks`. A
submission is a distinct content hash; regrading it (a fixed check) adds a grading of the same
hash, and the latest grading of a hash is its score.

Writes are one transaction per run (`BEGIN IMMEDIATE`); the database is in WAL mode with a
busy timeout, so two `grade` runs at once wait for each other instead of failing or corrupting
it. `PRAGMA user_version` is the schema version; `open_gradebook` migrates older files.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grader
from grader.course.loading import Assignment
from grader.inputs.discover import Submission
from grader.model import SubmissionResult
from grader.sources import source_digest

SCHEMA_VERSION = 2
"""the version `open_gradebook` creates and migrates to"""
DEFAULT_NAME = "gradebook.db"
"""the gradebook's file name beside the course (`<course root>/gradebook.db`)"""
BUSY_TIMEOUT_MS = 120_000
"""how long a writer waits for another run's transaction before giving up"""

# Version 1, the first schema: runs, gradings and checks; students by name only.
SCHEMA_V1 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, grader TEXT NOT NULL,
                   course TEXT NOT NULL);
CREATE TABLE grades (id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id),
                     student TEXT NOT NULL, assignment TEXT NOT NULL, content_hash TEXT NOT NULL,
                     submitted_at TEXT, graded_at TEXT NOT NULL, score REAL NOT NULL,
                     max_score REAL NOT NULL, status TEXT NOT NULL);
CREATE TABLE checks (grade INTEGER NOT NULL REFERENCES grades(id), name TEXT NOT NULL,
                     score REAL NOT NULL, max_score REAL NOT NULL, status TEXT NOT NULL,
                     PRIMARY KEY (grade, name));
"""

# Version 2: students with their LMS ids, where a submission time comes from, which assignments
# a run graded, the mistake a failed check named, and one grading per (run, student, assignment).
MIGRATE_V1_TO_V2 = """
CREATE TABLE students (name TEXT PRIMARY KEY, ids TEXT NOT NULL DEFAULT '{}');
INSERT OR IGNORE INTO students (name) SELECT DISTINCT student FROM grades;
ALTER TABLE runs ADD COLUMN assignments TEXT NOT NULL DEFAULT '[]';
ALTER TABLE grades ADD COLUMN submitted_from TEXT NOT NULL DEFAULT '';
ALTER TABLE checks ADD COLUMN mistake TEXT;
CREATE UNIQUE INDEX grades_once_per_run ON grades (run, student, assignment);
CREATE INDEX grades_by_work ON grades (student, assignment, content_hash);
"""

MIGRATIONS = {1: MIGRATE_V1_TO_V2}
"""`version -> the SQL that takes a gradebook from it to the next version`"""


class GradebookError(Exception):
    """The gradebook file cannot be used (not a gradebook, newer than this grader)."""


@dataclass
class Grading:
    """One grading of one student's work on one assignment, as stored."""

    id: int
    run: int
    student: str
    assignment: str
    content_hash: str
    submitted_at: datetime | None
    """when it was submitted (naive: the course's time zone), None when unknown"""
    submitted_from: str
    graded_at: datetime
    score: float
    max_score: float
    status: str
    checks: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    """`check name -> (score, max_score, status)`; status is passed, failed or a problem kind"""


def grader_fingerprint() -> str:
    """The grader's version and source (what a result depends on besides the course)."""
    return source_digest(grader.__version__)


def course_modules(assignments_dir: Path) -> set[str]:
    """Every module any assignment of the course grades (helpers are the student's other files)."""
    folder = Path(assignments_dir)
    order_file = folder / "course.toml"
    names = tomllib.loads(order_file.read_text()).get("assignments", []) if order_file.exists() else []
    modules = set()
    for name in names:
        settings = folder / name / "assignment.toml"
        if settings.exists():
            modules.update(tomllib.loads(settings.read_text()).get("modules", [name]))
    return modules


def content_hash(submission: Submission, assignment: Assignment, all_modules: set[str]) -> str | None:
    """The hash of what `assignment` grades in `submission`, or None when none of its modules is there.

    Its own module files and the student's helper modules (files that are no module of the
    course) count; the other assignments' modules do not, so resubmitting one assignment is
    not a resubmission of the others.
    """
    own = [f"{m}.py" for m in assignment.modules]
    if not any(f in submission.files or f[:-3] in submission.unreadable for f in own):
        return None
    h = hashlib.sha256()
    for name in sorted(submission.files):
        if name in own or name[:-3] not in all_modules:
            data = submission.files[name]
            h.update(f"{name}\0{len(data)}\0".encode() + data)
    for module in sorted(m for m in submission.unreadable if f"{m}.py" in own):
        h.update(f"unreadable/{module}\0{submission.unreadable[module]}".encode())
    return h.hexdigest()


def work_hashes(submission: Submission, assignments: list[Assignment], all_modules: set[str]) -> dict[str, str | None]:
    """`content_hash` of each assignment's work in `submission`, by assignment name: taken while
    its files are at hand, for a `record_run` after they are let go."""
    return {a.name: content_hash(submission, a, all_modules) for a in assignments}


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def open_gradebook(path: Path) -> sqlite3.Connection:
    """Open (creating or migrating) the gradebook at `path`, in WAL mode."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = _connect(path)
    except (OSError, sqlite3.Error) as exc:
        raise GradebookError(f"{path}: cannot be opened ({exc})") from None
    try:
        _use_wal(db, path)
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and not db.execute("SELECT name FROM sqlite_master").fetchall():
            _run_script(db, SCHEMA_V1)
            version = 1
        elif version == 0:
            raise GradebookError(f"{path} is an SQLite file but not a gradebook")
        if version > SCHEMA_VERSION:
            raise GradebookError(f"{path} has schema version {version}; this grader knows up to {SCHEMA_VERSION}")
        while version < SCHEMA_VERSION:
            _run_script(db, MIGRATIONS[version])
            version += 1
            db.execute(f"PRAGMA user_version = {version}")
        db.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.close()
        raise GradebookError(f"{path}: {exc}") from None
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.close()
        raise
    return db


WAL_RETRY_S = 0.02
"""how long a run waits before it asks again for the lock that changing the journal mode takes"""


def _use_wal(db: sqlite3.Connection, path: Path) -> None:
    """Put the gradebook in WAL mode. The mode is kept in the file, so only the run that creates
    it changes it; the others find it set. Changing it takes a lock that SQLite's busy timeout
    does not wait for: a run that meets another one doing so (two `grade` runs creating the
    gradebook at once) asks again, until `BUSY_TIMEOUT_MS`."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode").fetchone()[0].lower()
            if mode != "wal":
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_RETRY_S)
    if mode != "wal":
        raise GradebookError(f"{path}: cannot use write-ahead logging here")


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run `script` statement by statement inside the current transaction (executescript commits)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def record_run(
    path: Path,
    submissions: Iterable[Submission],
    results: Iterable[SubmissionResult],
    assignments: list[Assignment],
    course_hash: str,
    all_modules: set[str],
    submitted_at: datetime | None = None,
    now: datetime | None = None,
    hashes: Mapping[str, Mapping[str, str | None]] | None = None,
) -> int:
    """Record one run's results in the gradebook at `path`; returns the run's id.

    A grading is added for each student and assignment whose modules were submitted, unless
    the same work was already graded with the same course and grader (a rerun that changed
    nothing adds nothing). `submitted_at` stands for the submissions whose layout gives no time
    (`grade --submitted-at`); work already in the gradebook keeps the time it was first seen
    with. One transaction: a run is recorded whole or not at all. `hashes` holds the
    `work_hashes` of submissions whose files were let go, by name (the others are hashed here).
    """
    now = now or datetime.now(UTC)
    by_name = {s.name: s for s in submissions}
    grader_hash = grader_fingerprint()
    db = open_gradebook(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        run = db.execute("INSERT INTO runs (started_at, grader, course, assignments) VALUES (?, ?, ?, ?)",
                         (now.isoformat(), grader_hash, course_hash,
                          json.dumps([a.name for a in assignments]))).lastrowid
        for result in results:
            sub = by_name.get(result.submission)
            if sub is None:
                continue
            _record_student(db, sub)
            checks = {a.name: [c for c in result.checks if c.assignment == a.name] for a in assignments}
            known = (hashes or {}).get(sub.name)
            for assignment in assignments:
                digest = known[assignment.name] if known is not None else content_hash(sub, assignment, all_modules)
                if digest is None or not checks[assignment.name]:
                    continue
                _record_grading(db, run, sub, assignment.name, digest, checks[assignment.name],
                                course_hash, grader_hash, sub.submitted_at or submitted_at, now)
        db.execute("COMMIT")
        return int(run)
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()


def _record_student(db: sqlite3.Connection, sub: Submission) -> None:
    row = db.execute("SELECT ids FROM students WHERE name = ?", (sub.name,)).fetchone()
    ids = {**(json.loads(row[0]) if row else {}), **sub.lms_ids}
    db.execute("INSERT INTO students (name, ids) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET ids = excluded.ids",
               (sub.name, json.dumps(ids, sort_keys=True)))


def _record_grading(db: sqlite3.Connection, run: int, sub: Submission, assignment: str, digest: str,
                    checks: list, course_hash: str, grader_hash: str, submitted_at: datetime | None,
                    now: datetime) -> None:
    same = db.execute(
        "SELECT 1 FROM grades g JOIN runs r ON r.id = g.run WHERE g.student = ? AND g.assignment = ? "
        "AND g.content_hash = ? AND r.course = ? AND r.grader = ?",
        (sub.name, assignment, digest, course_hash, grader_hash)).fetchone()
    if same:
        return
    first = db.execute(
        "SELECT submitted_at, submitted_from FROM grades WHERE student = ? AND assignment = ? AND content_hash = ? "
        "AND submitted_at IS NOT NULL ORDER BY id LIMIT 1", (sub.name, assignment, digest)).fetchone()
    when, source = (first[0], first[1]) if first else (
        _iso(submitted_at), (sub.submitted_from if sub.submitted_at else "--submitted-at") if submitted_at else "")
    score = round(sum(c.score for c in checks), 6)
    possible = round(sum(c.max_score for c in checks), 6)
    status = SubmissionResult(sub.name, checks, 0.0).status  # as grades.csv says it, for this assignment
    grade = db.execute(
        "INSERT INTO grades (run, student, assignment, content_hash, submitted_at, submitted_from, graded_at, "
        "score, max_score, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run, sub.name, assignment, digest, when, source, now.isoformat(), score, possible, status)).lastrowid
    db.executemany(
        "INSERT INTO checks (grade, name, score, max_score, status, mistake) VALUES (?, ?, ?, ?, ?, ?)",
        [(grade, c.name, c.score, c.max_score, "passed" if c.passed else (c.problem or "failed"), c.mistake)
         for c in checks])


def default_path(course_root: Path) -> Path:
    """`$GRADER_GRADEBOOK`, or `gradebook.db` beside the course."""
    env = os.environ.get("GRADER_GRADEBOOK")
    return Path(env) if env else Path(course_root) / DEFAULT_NAME


@dataclass
class Target:
    """Where a run records its results, and what it knows beyond the layout."""

    path: Path
    submitted_at: datetime | None = None
    """the submission time of work whose layout gives none (`grade --submitted-at`)"""


def record_batch(target: Target, assignments_dir: Path, submissions: list[Submission],
                 results: list[SubmissionResult], assignments: list[Assignment], course_hash: str,
                 hashes: Mapping[str, Mapping[str, str | None]] | None = None) -> int:
    """`record_run` for one batch of `grader.engine.batch.grade_folder` (what it calls after the reports)."""
    return record_run(target.path, submissions, results, assignments, course_hash,
                      course_modules(assignments_dir), target.submitted_at, hashes=hashes)


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def load_gradings(path: Path, student: str | None = None) -> list[Grading]:
    """Every grading in the gradebook (of one student when given), oldest first."""
    if not Path(path).exists():
        raise GradebookError(f"no gradebook at {path} (grade a class first, or give --gradebook)")
    db = open_gradebook(path)
    try:
        query = ("SELECT id, run, student, assignment, content_hash, submitted_at, submitted_from, graded_at, "
                 "score, max_score, status FROM grades")
        rows = db.execute(query + (" WHERE student = ?" if student else "") + " ORDER BY id",
                          (student,) if student else ()).fetchall()
        gradings = {r[0]: Grading(r[0], r[1], r[2], r[3], r[4], _when(r[5]), r[6], _when(r[7]) or datetime.min,
                                  r[8], r[9], r[10]) for r in rows}
        for grade, name, score, possible, status in db.execute(
                "SELECT grade, name, score, max_score, status FROM checks ORDER BY grade, rowid"):
            if grade in gradings:
                gradings[grade].checks[name] = (score, possible, status)
        return list(gradings.values())
    finally:
        db.close()


def load_students(path: Path) -> dict[str, dict[str, str]]:
    """`student -> their LMS ids` as the inputs gave them."""
    db = open_gradebook(path)
    try:
        return {name: json.loads(ids) for name, ids in db.execute("SELECT name, ids FROM students ORDER BY name")}
    finally:
        db.close()


def latest_run(path: Path) -> int | None:
    """The id of the last run recorded."""
    db = open_gradebook(path)
    try:
        row = db.execute("SELECT max(id) FROM runs").fetchone()
        return row[0]
    finally:
        db.close()
