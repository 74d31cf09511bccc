"""The gradebook's commands: `grade gradebook` and `grade export canvas` / `grade export moodle`.

    grade gradebook [--student NAME | --changed] [--csv FILE]   the semester table, a history, a regrade
    grade export canvas --out FILE [--roster CANVAS.csv]      Canvas's gradebook import CSV
    grade export moodle --out FILE --roster MOODLE.csv        Moodle's grade import CSV
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from grader.course.loading import CourseError, default_course_root, load_assignments
from grader.gradebook.coursepolicy import CoursePolicy, load_policy
from grader.gradebook.lms import (
    Match,
    Person,
    RosterError,
    canvas_people,
    match_students,
    read_roster,
    write_canvas,
    write_moodle,
)
from grader.gradebook.semester import (
    Counted,
    attempts,
    changes,
    changes_text,
    history_text,
    regraded,
    semester,
    semester_text,
    write_semester_csv,
)
from grader.gradebook.store import GradebookError, Grading, default_path, latest_run, load_gradings, load_students

COURSE_OPTION = click.option(
    "--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
    help="Course folder (default: $GRADER_COURSE or this checkout).")
GRADEBOOK_OPTION = click.option(
    "--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The semester's gradebook  [default: $GRADER_GRADEBOOK or COURSE/gradebook.db]")


@dataclass
class Semester:
    """Everything the gradebook's views need, loaded once."""

    policy: CoursePolicy
    assignments: list[tuple[str, str, float]]
    """`(name, title, points possible)` in the course's order, then any only the gradebook knows;
    the points are those of the assignment's latest grading (the course's when it has none)"""
    gradings: list[Grading]
    ids: dict[str, dict[str, str]]
    table: dict[tuple[str, str], Counted]

    @property
    def points(self) -> list[tuple[str, float]]:
        return [(a, p) for a, _, p in self.assignments]


def load_semester(course: Path | None, gradebook: Path | None) -> Semester:
    """The course's policy and assignments and the gradebook's contents; a usage error when unusable."""

    root = course or default_course_root()
    path = gradebook or default_path(root)
    try:
        policy = load_policy(root / "assignments")
        course_assignments = load_assignments(root / "assignments")
        gradings = load_gradings(path)
        ids = load_students(path)
    except (CourseError, GradebookError) as exc:
        raise click.ClickException(str(exc)) from exc
    graded = {g.assignment: g.max_score for g in gradings}  # the latest grading's points possible
    listed = [(a.name, a.title, graded.get(a.name, a.max_points)) for a in course_assignments]
    known = {a for a, _, _ in listed}
    listed += [(a, a, points) for a, points in graded.items() if a not in known]
    return Semester(policy, listed, gradings, ids, semester(gradings, policy, ids))


@click.command("gradebook")
@GRADEBOOK_OPTION
@COURSE_OPTION
@click.option("--student", default=None, help="One student's history: every submission, score and late days.")
@click.option("--changed", is_flag=True,
              help="What the last run's regrade changed: who moved, by how much, which checks.")
@click.option("--run", "run_id", type=int, default=None, help="With --changed: this run instead of the last.")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the semester table (raw, penalty, grade per assignment) to this CSV.")
def gradebook_cmd(gradebook: Path | None, course: Path | None, student: str | None, changed: bool,
                  run_id: int | None, csv_out: Path | None) -> None:
    """The semester table: per student and assignment the grade that counts (raw - penalty) and why."""
    sem = load_semester(course, gradebook)
    if not sem.gradings:
        click.echo("The gradebook is empty: grade a class first.")
        return
    if student:
        click.echo(history_text(student, attempts(sem.gradings, sem.policy, sem.ids), sem.table,
                                sem.policy.timezone))
        return
    if changed:

        run = run_id or latest_run(gradebook or default_path(course or default_course_root()))
        run = run or 0
        click.echo(changes_text(changes(sem.gradings, run), run, regraded(sem.gradings, run)))
        return
    click.echo(semester_text(sem.table, sem.points))
    if csv_out:
        write_semester_csv(sem.table, sem.points, csv_out)
        click.echo(f"\nWrote {csv_out}")


def _columns(sem: Semester, names: tuple[str, ...], lms: str) -> list[tuple[str, str, float]]:
    """`(assignment, LMS column name, points)`: the assignments asked for, or those with a grade."""
    graded = {a for _, a in sem.table}
    unknown = [n for n in names if n not in {a for a, _, _ in sem.assignments}]
    if unknown:
        raise click.UsageError(f"no assignment named {', '.join(unknown)}")
    out = []
    for name, title, points in sem.assignments:
        if (names and name in names) or (not names and name in graded):
            policy = sem.policy.of(name)
            out.append((name, (policy.canvas if lms == "canvas" else policy.moodle) or title, points))
    return out


def _report(written: int, out: Path, unmatched: list[str], ungraded: list[Person]) -> None:
    click.echo(f"Wrote {out}: {written} student rows.")
    if ungraded:
        click.echo(f"{len(ungraded)} roster student(s) have no grade (blank cells): "
                   + ", ".join(p.name or p.email or p.canvas_id for p in ungraded))
    if unmatched:
        click.echo(f"{len(unmatched)} graded student(s) could not be matched and are NOT in the file:", err=True)
        for line in unmatched:
            click.echo(f"  {line}", err=True)


OUT_OPTION = click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
                          help="The CSV file to import.")
ASSIGNMENT_OPTION = click.option("--assignment", "-a", "names", multiple=True,
                                 help="Only this assignment (repeatable; default: every assignment with a grade).")


def _roster(path: Path) -> list[Person]:
    try:
        return read_roster(path)
    except RosterError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("canvas")
@OUT_OPTION
@GRADEBOOK_OPTION
@COURSE_OPTION
@ASSIGNMENT_OPTION
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Canvas's gradebook export (Grades -> Export): every student, matched by id.")
def export_canvas(out: Path, gradebook: Path | None, course: Path | None, names: tuple[str, ...],
                  roster: Path | None) -> None:
    """Canvas's gradebook import CSV (Grades -> Import) of the grades that count.

    Columns as Canvas's own export has them: Student, ID, SIS User ID, SIS Login ID, Section,
    then one per assignment (name it as Canvas does with `canvas = "Title (id)"` in course.toml),
    and the Points Possible row. Without --roster, the Canvas user ids of the download's file
    names identify the students.
    """
    sem = load_semester(course, gradebook)
    columns = _columns(sem, names, "canvas")
    graded = {s for s, _ in sem.table}
    students = {s: ids for s, ids in sem.ids.items() if s in graded}
    if roster is None:
        found, unmatched = canvas_people(students)
        rows: list[tuple[str | None, Person]] = list(found)
        ungraded: list[Person] = []
    else:
        match = match_students(students, _roster(roster))
        by_person = {id(p): s for s, p in match.matched.items()}
        rows = [(by_person.get(id(p)), p) for p in _roster_order(match)]
        unmatched, ungraded = match.unmatched, match.ungraded
    _report(write_canvas(out, rows, columns, sem.table), out, unmatched, ungraded)


def _roster_order(match: Match) -> list[Person]:
    """The roster's people (matched or not) by name, as Canvas's export lists them."""
    people = list(match.matched.values()) + match.ungraded
    return sorted(people, key=lambda p: (p.name.lower(), p.canvas_id))


@click.command("moodle")
@OUT_OPTION
@GRADEBOOK_OPTION
@COURSE_OPTION
@ASSIGNMENT_OPTION
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Moodle's grade export (Email address, ID number, ...) or the assignment's grading worksheet.")
def export_moodle(out: Path, gradebook: Path | None, course: Path | None, names: tuple[str, ...],
                  roster: Path) -> None:
    """Moodle's grade import CSV (Grades -> Import -> CSV file) of the grades that count.

    In Moodle, identify users by `Email address` (Map from) -> `Email address` (Map to), or by
    ID number, and map each grade column to its grade item (name it with `moodle = "..."` in
    course.toml). Only students with a grade get a row; a blank cell may clear a grade in
    Moodle, so export one assignment at a time (-a) when some are not yet graded.
    """
    sem = load_semester(course, gradebook)
    columns = _columns(sem, names, "moodle")
    graded = {s for s, _ in sem.table}
    match = match_students({s: ids for s, ids in sem.ids.items() if s in graded}, _roster(roster))
    rows = sorted(match.matched.items(), key=lambda sp: (sp[1].last.lower(), sp[1].first.lower(), sp[1].email))
    no_id = [f"{s}: the roster gives them no email address or ID number" for s, p in rows
             if not p.email and not p.id_number]
    rows = [(s, p) for s, p in rows if p.email or p.id_number]
    _report(write_moodle(out, rows, columns, sem.table), out, match.unmatched + no_id, match.ungraded)
