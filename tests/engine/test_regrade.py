"""The regrade fingerprint: every input the README lists changes it, nothing else does.

README: "Regrading skips a submission whose files, checks, mistake catalogs, reference, time
limit and grader version are all unchanged since its last report". Each of those is changed
here on its own, in a copy of the course (and of the grader's source), and must change the hash.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import grader
import grader.sources
from conftest import ROOT
from grader.course.loading import load_assignments
from grader.engine.regrade import (
    HASH_FILE,
    REPORT_FILES,
    RESULT_FILE,
    course_fingerprint,
    load_unchanged,
    save_state,
    submission_fingerprint,
)
from grader.inputs.discover import Submission
from grader.model import CheckResult, SubmissionResult


@pytest.fixture
def course(tmp_path) -> Path:
    """A copy of the course with the forward assignment only."""
    root = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "forward", root / "assignments" / "forward")
    (root / "assignments" / "course.toml").write_text('assignments = ["forward"]\n')
    (root / "reference").mkdir()
    shutil.copy(ROOT / "reference" / "forward.py", root / "reference" / "forward.py")
    return root


@pytest.fixture
def grader_copy(tmp_path, monkeypatch) -> Path:
    """The grader's source copied aside; `grader.__file__` and `grader.sources.PACKAGE` point at the copy."""
    package = tmp_path / "grader_copy" / "grader"
    shutil.copytree(Path(grader.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(grader, "__file__", str(package / "__init__.py"))
    monkeypatch.setattr(grader.sources, "PACKAGE", package)
    return package


def _hash(root: Path, settings=("limits", 2.0)) -> str:
    return course_fingerprint(root, load_assignments(root / "assignments"), settings)


def _append(path: Path, text: str = "\n# edited\n") -> None:
    with path.open("a") as f:
        f.write(text)


def test_the_same_course_hashes_the_same(course, grader_copy):
    assert _hash(course) == _hash(course)


@pytest.mark.parametrize("edit", [
    "reference/forward.py",
    "assignments/forward/checks_hidden.py",
    "assignments/forward/checks_visible.py",
    "assignments/forward/mistakes.py",
    "assignments/forward/assignment.toml",
    "assignments/course.toml",
])
def test_editing_a_course_file_changes_the_hash(course, grader_copy, edit):
    before = _hash(course)
    _append(course / edit)
    assert _hash(course) != before


def test_a_new_reference_module_changes_the_hash(course, grader_copy):
    before = _hash(course)
    (course / "reference" / "helpers.py").write_text("X = 1\n")
    assert _hash(course) != before


@pytest.mark.parametrize("module", ["checks/judges.py", "checks/compare.py", "worker/serve.py", "model.py"])
def test_a_new_grader_source_changes_the_hash(course, grader_copy, module):
    before = _hash(course)
    _append(grader_copy / module)
    assert _hash(course) != before


def test_a_new_grader_version_changes_the_hash(course, grader_copy, monkeypatch):
    before = _hash(course)
    monkeypatch.setattr(grader, "__version__", grader.__version__ + ".post1")
    assert _hash(course) != before


def test_the_time_limit_changes_the_hash(course, grader_copy):
    assert _hash(course, ("limits", 2.0)) != _hash(course, ("limits", 2.5))


def test_a_file_beside_the_checks_that_is_not_code_does_not_change_the_hash(course, grader_copy):
    before = _hash(course)
    (course / "assignments" / "forward" / "notes.txt").write_text("draft ideas\n")
    assert _hash(course) == before


# ------------------------------------------------------------------ one submission


def _sub(files=None, notes=(), unreadable=None) -> Submission:
    files = {"forward.py": b"x = 1\n"} if files is None else files
    return Submission("ada", Path("."), files, list(notes), dict(unreadable or {}))


def test_a_submission_hash_follows_its_files_notes_and_the_course():
    base = submission_fingerprint(_sub(), "course-a")
    assert submission_fingerprint(_sub(), "course-a") == base
    different = [
        submission_fingerprint(_sub(), "course-b"),
        submission_fingerprint(_sub({"forward.py": b"x = 2\n"}), "course-a"),
        submission_fingerprint(_sub({"backprop.py": b"x = 1\n"}), "course-a"),
        submission_fingerprint(_sub({"forward.py": b"x = 1\n", "backprop.py": b""}), "course-a"),
        submission_fingerprint(_sub(notes=["skipped a.txt"]), "course-a"),
        submission_fingerprint(_sub(unreadable={"forward": "corrupt notebook"}), "course-a"),
    ]
    assert len({base, *different}) == 1 + len(different)


def test_a_submission_hash_does_not_depend_on_the_order_files_were_read():
    a = _sub({"forward.py": b"1", "backprop.py": b"2"})
    b = _sub({"backprop.py": b"2", "forward.py": b"1"})
    assert submission_fingerprint(a, "c") == submission_fingerprint(b, "c")


def test_file_boundaries_are_part_of_the_hash():
    # Hashed as plain label + data, one file holding what looks like the next file's label would
    # hash like two files: "file/a.py" "x" "file/b.py" "y" == "file/a.py" "xfile/b.pyy".
    two = _sub({"a.py": b"x", "b.py": b"y"})
    one = _sub({"a.py": b"xfile/b.pyy"})
    assert submission_fingerprint(two, "c") != submission_fingerprint(one, "c")


# ------------------------------------------------------------------ stored state


def _result() -> SubmissionResult:
    check = CheckResult("forward", "forward.relu: vector", "forward", "relu", 2.0, 0.0, True, False,
                        "called relu(z=...)", "Use max.", "min instead of max", None)
    return SubmissionResult("ada", [check], 0.25, "printed", ["NOT SANDBOXED"])


def _stored(folder: Path, digest: str = "abc") -> Path:
    folder.mkdir()
    for name in REPORT_FILES:
        (folder / name).write_text("report")
    save_state(folder, _result(), digest)
    return folder


def test_a_stored_result_comes_back_equal(tmp_path):
    folder = _stored(tmp_path / "ada")
    assert (folder / HASH_FILE).read_text() == "abc\n"
    assert load_unchanged(folder, "abc") == _result()


def test_a_stored_result_is_not_used_for_another_digest(tmp_path):
    assert load_unchanged(_stored(tmp_path / "ada"), "abd") is None


@pytest.mark.parametrize("report", REPORT_FILES)
def test_a_missing_report_means_regrade(tmp_path, report):
    folder = _stored(tmp_path / "ada")
    (folder / report).unlink()
    assert load_unchanged(folder, "abc") is None


def test_a_corrupt_stored_result_means_regrade(tmp_path):
    folder = _stored(tmp_path / "ada")
    (folder / RESULT_FILE).write_text("{not json")
    assert load_unchanged(folder, "abc") is None
    (folder / RESULT_FILE).write_text('{"submission": "ada"}')
    assert load_unchanged(folder, "abc") is None


def test_no_folder_means_regrade(tmp_path):
    assert load_unchanged(tmp_path / "nobody", "abc") is None
