"""Grades out of the gradebook into an LMS: rosters, matching students by id, Canvas and Moodle CSV.

Canvas (Grades -> Import) reads the columns of its own gradebook export: `Student, ID, SIS User
ID, SIS Login ID, Section`, then one column per assignment named as Canvas names it (`Title
(assignment id)`, or the title), and a `Points Possible` row. It finds a student by `ID` (the
Canvas user id), then SIS User ID, then SIS Login ID, and only then by name; a blank cell
changes nothing. (Read from canvas-lms `app/models/gradebook_importer.rb` and its spec.)

Moodle (Grades -> Import -> CSV file) maps one column to a user field (`Map from` -> `Map to`:
email address, ID number, username or user id) and each other column to a grade item. A
Moodle assignment download names folders `Full Name_<participant id>_assignsubmission_file_`,
and the assignment's grading worksheet names the same id `Participant <id>`. (Read from Moodle
`grade/import/csv/classes/load_data.php` and `mod/assign/gradingtable.php`.)

A student is matched to the roster by an id only: the Canvas user id or Moodle participant id
from the download's names, an email or student id from Gradescope's metadata, or the
submission's own name when it is a login (SIS Login ID, username, ID number or email: a folder
per student named by login). A display name alone never matches; whoever cannot be matched is
listed, never guessed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.gradebook.semester import Counted

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Person:
    """One student of a roster, with every id the roster gives (empty when it gives none)."""

    name: str = ""
    """the display name (`Student` in Canvas, first and last name or `Full name` in Moodle)"""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""
    id_number: str = ""
    username: str = ""
    participant: str = ""
    """Moodle's participant id of the assignment (the grading worksheet's `Participant N`)"""
    first: str = ""
    last: str = ""

    def logins(self) -> set[str]:
        """The ids a folder named by the student's login may carry (lower case)."""
        return {x.lower() for x in (self.sis_login_id, self.username, self.id_number, self.email) if x}


class RosterError(Exception):
    """The roster file is not a Canvas or Moodle export this grader reads."""


def _columns(header: list[str]) -> dict[str, int]:
    return {h.strip().lstrip("\ufeff").lower(): i for i, h in enumerate(header)}


def read_roster(path: Path) -> list[Person]:
    """The students of a Canvas gradebook export, a Moodle grade export or a Moodle grading worksheet."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"{path}: cannot be read ({exc})") from None
    if not rows:
        raise RosterError(f"{path} is empty")
    col = _columns(rows[0])

    def get(row: list[str], *names: str) -> str:
        for name in names:
            i = col.get(name)
            if i is not None and i < len(row) and row[i].strip():
                return row[i].strip()
        return ""

    people = []
    if "student" in col and "id" in col:  # Canvas
        for row in rows[1:]:
            name = get(row, "student")
            if not any(cell.strip() for cell in row) or "points possible" in name.lower():
                continue
            if name.lower() in ("student, test", "test student") or all(c.strip() in ("", "Muted") for c in row):
                continue
            people.append(Person(name=name, canvas_id=get(row, "id"), sis_user_id=get(row, "sis user id"),
                                 sis_login_id=get(row, "sis login id"), section=get(row, "section")))
        return people
    if "email address" in col or "id number" in col or "identifier" in col:  # Moodle
        for row in rows[1:]:
            if not any(cell.strip() for cell in row):
                continue
            first, last = get(row, "first name"), get(row, "last name")
            ident = re.search(r"(\d+)\s*$", get(row, "identifier"))
            people.append(Person(name=get(row, "full name") or f"{first} {last}".strip(),
                                 email=get(row, "email address"), id_number=get(row, "id number"),
                                 username=get(row, "username"),
                                 participant=ident.group(1) if ident else "", first=first, last=last))
        return people
    raise RosterError(f"{path}: not a Canvas gradebook export (Student, ID, ...) or a Moodle export "
                      "(Email address / ID number / Identifier columns)")


@dataclass
class Match:
    """Who in the gradebook is who in the roster."""

    matched: dict[str, Person] = field(default_factory=dict)
    """`gradebook student -> roster person`"""
    unmatched: list[str] = field(default_factory=list)
    """gradebook students no id of the roster matches (with the reason)"""
    ungraded: list[Person] = field(default_factory=list)
    """roster students with no grade in the gradebook"""


def match_students(students: dict[str, dict[str, str]], roster: list[Person]) -> Match:
    """Match gradebook students (`name -> LMS ids`) to `roster` by ids only (see the module's docstring)."""
    result = Match()
    claimed: dict[int, list[str]] = {}
    for student, ids in sorted(students.items()):
        found = _find(student, ids, roster)
        if found is None:
            same_name = [p.name for p in roster if p.name and _plain(p.name) == _plain(student)]
            hint = f" (the roster has a {same_name[0]!r}, but names alone are never matched)" if same_name else ""
            result.unmatched.append(f"{student}: no id of theirs is in the roster{hint}")
            continue
        claimed.setdefault(id(found), []).append(student)
        result.matched[student] = found
    for names in claimed.values():
        if len(names) > 1:
            for name in names:
                del result.matched[name]
                others = ", ".join(n for n in names if n != name)
                result.unmatched.append(f"{name}: matches the same roster entry as {others}")
    taken = {id(p) for p in result.matched.values()}
    result.ungraded = [p for p in roster if id(p) not in taken]
    return result


def _find(student: str, ids: dict[str, str], roster: list[Person]) -> Person | None:
    """The roster person one of the student's ids names, the strongest id first."""
    tests = [
        lambda p: bool(ids.get("canvas_id")) and ids["canvas_id"] == p.canvas_id,
        lambda p: bool(ids.get("moodle_participant")) and ids["moodle_participant"] == p.participant,
        lambda p: bool(ids.get("email")) and ids["email"].lower() == p.email.lower(),
        lambda p: bool(ids.get("sid")) and ids["sid"] in (p.sis_user_id, p.id_number),
        lambda p: student.lower() in p.logins(),
    ]
    for test in tests:
        for person in roster:
            if test(person):
                return person
    return None


def _plain(name: str) -> str:
    """A name reduced to its letters, in order, for the hint only."""
    parts = re.split(r"[^a-z]+", name.lower())
    return "".join(sorted(p for p in parts if p))


def _text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _pts(x: float) -> str:
    return f"{x:g}"


def canvas_people(students: dict[str, dict[str, str]]) -> tuple[list[tuple[str, Person]], list[str]]:
    """Without a roster: each student with a Canvas user id from the download's names, and the others."""
    found, missing = [], []
    for student, ids in sorted(students.items()):
        if ids.get("canvas_id"):
            found.append((student, Person(name=student, canvas_id=ids["canvas_id"])))
        else:
            missing.append(f"{student}: no Canvas user id (not from a Canvas download; give --roster)")
    return found, missing


def write_canvas(path: Path, rows: Iterable[tuple[str | None, Person]], columns: list[tuple[str, str, float]],
                 table: dict[tuple[str, str], Counted]) -> int:
    """Canvas's gradebook import CSV; `columns` are `(assignment, Canvas column name, points)`.

    `rows` pairs each roster person with their gradebook name (None: no grade, blank cells).
    Returns the number of rows written.
    """
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *(_text(c) for _, c, _ in columns)])
        w.writerow(["Points Possible", "", "", "", "", *(_pts(p) for _, _, p in columns)])
        for student, p in rows:
            cells = []
            for assignment, _, _ in columns:
                counted = table.get((student, assignment)) if student else None
                cells.append(_pts(counted.attempt.grade) if counted else "")
            w.writerow([_text(p.name), p.canvas_id, p.sis_user_id, p.sis_login_id, _text(p.section), *cells])
            n += 1
    return n


def write_moodle(path: Path, rows: Iterable[tuple[str, Person]], columns: list[tuple[str, str, float]],
                 table: dict[tuple[str, str], Counted]) -> int:
    """Moodle's grade import CSV: the user's ids, then one column per grade item; returns the rows written."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Email address", "ID number", "Username", "First name", "Last name",
                    *(_text(c) for _, c, _ in columns)])
        for student, p in rows:
            cells = []
            for assignment, _, _ in columns:
                counted = table.get((student, assignment))
                cells.append(_pts(counted.attempt.grade) if counted else "")
            w.writerow([_text(p.email), _text(p.id_number), _text(p.username), _text(p.first or p.name),
                        _text(p.last), *cells])
            n += 1
    return n
