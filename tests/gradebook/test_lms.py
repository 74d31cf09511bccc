"""Exports an LMS imports as they are: rosters, matching by id only, Canvas and Moodle CSV; LMS ids and times."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from grader.cli.commands import main
from grader.course.loading import Assignment
from grader.gradebook.lms import Person, match_students, read_roster
from grader.gradebook.store import record_run
from grader.inputs.collect import collect_submissions
from grader.inputs.discover import Submission
from grader.inputs.submitted import git_commit_time, time_from_name
from grader.model import CheckResult, SubmissionResult

EXAMPLES = ROOT / "examples"
FORWARD = Assignment("forward", "Forward pass", ("forward",), [])


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_the_example_canvas_roster_reads_as_canvas_exports_it():
    people = read_roster(EXAMPLES / "roster-canvas.csv")
    assert len(people) == 17  # 16 example students and one who submitted nothing; no points row, no test student
    ada = next(p for p in people if p.sis_login_id == "ada_perfect")
    assert (ada.name, ada.canvas_id, ada.sis_user_id, ada.section) == ("Perfect, Ada", "2001", "S260001",
                                                                        "NN-101 Section 1")
    assert not [p for p in people if "Points Possible" in p.name or p.name == "Student, Test"]


def test_moodle_rosters_read_from_the_grade_export_and_from_the_grading_worksheet(tmp_path):
    people = read_roster(EXAMPLES / "roster-moodle.csv")
    assert len(people) == 17
    ada = next(p for p in people if p.id_number == "ada_perfect")
    assert (ada.first, ada.last, ada.email, ada.name) == ("Ada", "Perfect", "ada@example.edu", "Ada Perfect")
    worksheet = tmp_path / "worksheet.csv"  # mod/assign's grading worksheet: "Participant <unique id>"
    worksheet.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade\n"
                         "Participant 123456,Bob Smith,bob@uni.edu,Submitted for grading,,100.00\n")
    [bob] = read_roster(worksheet)
    assert (bob.participant, bob.name, bob.email) == ("123456", "Bob Smith", "bob@uni.edu")


def test_a_file_that_is_no_roster_is_refused_in_one_line(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("name,score\nada,3\n")
    result = CliRunner().invoke(main, ["export", "moodle", "--roster", str(other), "--out", str(tmp_path / "o.csv"),
                                       "--gradebook", str(_gradebook(tmp_path, {"ada": {}}))])
    assert result.exit_code == 1 and "not a Canvas gradebook export" in result.output


def test_students_match_by_id_only_strongest_first_and_never_by_display_name():
    roster = [Person(name="Smith, Bob", canvas_id="11", sis_login_id="bsmith"),
              Person(name="Perfect, Ada", canvas_id="12", sis_login_id="ada_perfect", email="ada@uni.edu"),
              Person(name="Lovelace, Ada", sis_user_id="S7", email="al@uni.edu")]
    found = match_students({
        "smithbob": {"canvas_id": "11"},
        "bsmith_lookalike": {"canvas_id": "12"},  # the id wins over any name
        "ada_perfect": {},  # a folder named by the login
        "Ada_Lovelace": {"sid": "S7"},
        "Perfect_Ada": {},  # the display name only: never matched
    }, roster)
    assert {s: p.name for s, p in found.matched.items()} == {"smithbob": "Smith, Bob", "Ada_Lovelace": "Lovelace, Ada"}
    assert sorted(found.unmatched) == [
        "Perfect_Ada: no id of theirs is in the roster (the roster has a 'Perfect, Ada', but names alone are "
        "never matched)",
        "ada_perfect: matches the same roster entry as bsmith_lookalike",
        "bsmith_lookalike: matches the same roster entry as ada_perfect",
    ]
    assert [p.name for p in found.ungraded] == ["Perfect, Ada"]  # claimed twice: left for the instructor


def _gradebook(tmp_path: Path, students: dict[str, dict[str, str]], scores: dict[str, float] | None = None) -> Path:
    """A gradebook with one forward grading per student (score out of 10; default 7)."""
    db = tmp_path / "gb.db"
    subs = [Submission(s, Path("."), {"forward.py": s.encode()}, lms_ids=ids) for s, ids in students.items()]
    results = [SubmissionResult(s, [CheckResult("forward", "forward.x", "forward", "f", 10, (scores or {}).get(s, 7),
                                                True, True)], 0.1) for s in students]
    record_run(db, subs, results, [FORWARD], "c", {"forward"})
    return db


def _course(tmp_path: Path, extra: str = "") -> Path:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "forward", course / "assignments" / "forward")
    (course / "assignments" / "course.toml").write_text(
        'assignments = ["forward"]\n[gradebook.assignments.forward]\ncanvas = "Forward pass (10002)"\n'
        'moodle = "Forward pass"\n' + extra)
    return course


def _canvas_import(path: Path, roster: list[Person]) -> dict[str, dict[str, str]]:
    """What Canvas's GradebookImporter (canvas-lms app/models/gradebook_importer.rb) reads from `path`.

    A header whose columns 0-4 are Student, ID, SIS User ID, SIS Login ID, Section; a row whose
    first cell matches /Points Possible/ gives the points; each other row is a student found by
    ID, then SIS User ID, then SIS Login ID, then name. Returns `roster name -> {column: grade}`.
    """
    rows = _rows(path)
    head = rows[0]
    assert re.search("Student", head[0]) and re.search("ID", head[1]) and re.search(r"SIS\s+User\s+ID", head[2])
    assert re.search(r"SIS\s+Login\s+ID", head[3]) and re.search("Section", head[4])
    columns = head[5:]
    out: dict[str, dict[str, str]] = {}
    for row in rows[1:]:
        if re.search("Points Possible", row[0]):
            out["points possible"] = dict(zip(columns, row[5:]))
            continue
        person = (next((p for p in roster if row[1] and p.canvas_id == row[1]), None)
                  or next((p for p in roster if row[2] and p.sis_user_id == row[2]), None)
                  or next((p for p in roster if row[3] and p.sis_login_id == row[3]), None)
                  or next((p for p in roster if row[0] and p.name == row[0]), None))
        assert person is not None, f"Canvas would create a new student for {row}"
        out[person.name] = dict(zip(columns, row[5:]))
    return out


def test_canvas_export_with_the_example_roster_imports_into_the_right_students(tmp_path):
    db = _gradebook(tmp_path, {"ada_perfect": {}, "smithbob": {"canvas_id": "2003"}, "Stranger": {}},
                    {"ada_perfect": 10, "smithbob": 6.5})
    out = tmp_path / "canvas.csv"
    result = CliRunner().invoke(main, ["export", "canvas", "--gradebook", str(db), "--course", str(_course(tmp_path)),
                                       "--roster", str(EXAMPLES / "roster-canvas.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    roster = read_roster(EXAMPLES / "roster-canvas.csv")
    imported = _canvas_import(out, roster)
    by_id = {p.canvas_id: p.name for p in roster}
    assert imported["points possible"] == {"Forward pass (10002)": "10"}
    assert imported["Perfect, Ada"] == {"Forward pass (10002)": "10"}  # by SIS Login ID = her folder
    assert imported[by_id["2003"]] == {"Forward pass (10002)": "6.5"}  # by the Canvas user id
    assert imported["Quinn, Rae"] == {"Forward pass (10002)": ""}  # no grade: blank, Canvas changes nothing
    assert len(imported) == 1 + len(roster)
    assert "1 graded student(s) could not be matched" in result.output and "Stranger:" in result.output


def test_canvas_export_without_a_roster_uses_the_user_ids_of_the_download(tmp_path):
    db = _gradebook(tmp_path, {"smithbob": {"canvas_id": "340934"}, "alice": {}})
    out = tmp_path / "canvas.csv"
    result = CliRunner().invoke(main, ["export", "canvas", "--gradebook", str(db), "--course", str(_course(tmp_path)),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _rows(out) == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Forward pass (10002)"],
                          ["Points Possible", "", "", "", "", "10"],
                          ["smithbob", "340934", "", "", "", "7"]]
    assert "alice: no Canvas user id" in result.output


def test_moodle_export_matches_by_id_number_or_email_and_lists_the_rest(tmp_path):
    db = _gradebook(tmp_path, {"ada_perfect": {}, "Ben_U": {"email": "BEN@example.edu"}, "Perfect_Ada": {}},
                    {"ada_perfect": 9.25})
    out = tmp_path / "moodle.csv"
    result = CliRunner().invoke(main, ["export", "moodle", "--gradebook", str(db), "--course", str(_course(tmp_path)),
                                       "--roster", str(EXAMPLES / "roster-moodle.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _rows(out) == [
        ["Email address", "ID number", "Username", "First name", "Last name", "Forward pass"],
        ["ada@example.edu", "ada_perfect", "", "Ada", "Perfect", "9.25"],
        ["ben@example.edu", "ben_untouched_template", "", "Ben", "Untouched", "7"],
    ]
    assert "Perfect_Ada: no id of theirs is in the roster" in result.output


def test_the_penalized_grade_is_what_the_lms_gets(tmp_path):
    db = tmp_path / "gb.db"
    late = datetime(2026, 10, 7, 12, 0, tzinfo=timezone(timedelta(hours=-4)))  # 1.5 days after the deadline
    record_run(db, [Submission("ada_perfect", Path("."), {"forward.py": b"x"}, submitted_at=late)],
               [SubmissionResult("ada_perfect", [CheckResult("forward", "forward.x", "forward", "f", 10, 10, True,
                                                             True)], 0.1)], [FORWARD], "c", {"forward"})
    course = _course(tmp_path, 'deadline = 2026-10-05T23:59:00\npenalty_percent = 10\n[gradebook]\n'
                               'timezone = "America/New_York"\n')
    out = tmp_path / "moodle.csv"
    result = CliRunner().invoke(main, ["export", "moodle", "--gradebook", str(db), "--course", str(course),
                                       "--roster", str(EXAMPLES / "roster-moodle.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _rows(out)[1][-1] == "8"  # 10 points, 2 started days late at 10 % of 10 points a day


def test_a_roster_name_that_looks_like_a_formula_is_written_as_text(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"=HYPERLINK(""http://x"")",5,,ada,+S1\n')
    db = _gradebook(tmp_path, {"ada": {}})
    out = tmp_path / "canvas.csv"
    result = CliRunner().invoke(main, ["export", "canvas", "--gradebook", str(db), "--course", str(_course(tmp_path)),
                                       "--roster", str(roster), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _rows(out)[2] == ["'=HYPERLINK(\"http://x\")", "5", "", "ada", "'+S1", "7"]


# ------------------------------------------------------------------ what the layouts give


def test_canvas_and_moodle_downloads_give_their_ids(tmp_path):
    (tmp_path / "smithbob_late_340934_208490284_forward-1.py").write_text("x = 1\n")
    folder = tmp_path / "Jane Doe_123456_assignsubmission_file_"
    folder.mkdir()
    (folder / "forward.py").write_text("x = 2\n")
    subs, _ = collect_submissions(tmp_path, {"forward"})
    assert {s.name: (s.lms_ids, s.submitted_at) for s in subs} == {
        "smithbob": ({"canvas_id": "340934"}, None),  # Canvas names carry no time
        "Jane_Doe": ({"moodle_participant": "123456"}, None),
    }


def test_blackboard_names_give_the_attempt_time():
    assert time_from_name("HW3_bsmith_attempt_2024-01-31-23-59-59_forward.py") == datetime(2024, 1, 31, 23, 59, 59)
    assert time_from_name("HW3_bsmith_attempt_2024-13-31-23-59-59_forward.py") is None
    assert time_from_name("alice_forward.py") is None


def _git(folder: Path, *args: str, **env: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "s",
                        "GIT_AUTHOR_EMAIL": "s@x", "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@x", **env})


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_repository_gives_its_last_commit_date_and_runs_nothing_it_names(tmp_path):
    repo = tmp_path / "class" / "alice"
    repo.mkdir(parents=True)
    (repo / "forward.py").write_text("x = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "forward.py")
    _git(repo, "commit", "-qm", "done", GIT_COMMITTER_DATE="2026-10-05T22:10:00-04:00")
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    for key in ("core.fsmonitor", "core.pager", "gpg.program"):
        _git(repo, "config", key, str(script))
    _git(repo, "config", "log.showSignature", "true")
    [alice], _ = collect_submissions(tmp_path / "class", {"forward"})
    assert alice.submitted_at == datetime(2026, 10, 5, 22, 10, tzinfo=timezone(timedelta(hours=-4)))
    assert alice.submitted_from == "git commit"
    assert not marker.exists()
    assert git_commit_time(tmp_path) is None  # no repository here
