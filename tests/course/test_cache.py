"""The course cache: a warm run grades exactly as a cold one, any change of what the expected
values depend on invalidates it, and a file that is corrupt, foreign or not private is never
read but rebuilt."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import grader
import grader.course.loading
from conftest import ROOT, grader_env, report_dir
from grader.course import cache as coursecache
from grader.course.loading import Course, load_assignments
from grader.engine.batch import grade_folder
from grader.model import Limits

EXAMPLES = ROOT / "examples" / "submit"


def _course(tmp_path: Path) -> Path:
    """A copy of the course with two assignments (edits must not touch the real one)."""
    course = tmp_path / "course"
    for name in ("perceptron", "forward"):
        shutil.copytree(ROOT / "assignments" / name, course / "assignments" / name)
        shutil.copy(ROOT / "reference" / f"{name}.py", (course / "reference").mkdir(exist_ok=True) or
                    course / "reference" / f"{name}.py")
    (course / "assignments" / "course.toml").write_text('assignments = ["perceptron", "forward"]\n')
    return course


class Computing:
    """A stand-in for `compute_expected`: counts its calls, returns data shaped like the real."""

    def __init__(self, assignments) -> None:
        self.assignments, self.calls = assignments, 0

    def __call__(self) -> dict:
        self.calls += 1
        return {c.name: {"value": np.arange(3.0) * self.calls, "mistakes": [["m", "hint", 1.5]]}
                for a in self.assignments for c in a.checks}


@pytest.fixture
def setup(tmp_path):
    course = _course(tmp_path)
    assignments = load_assignments(course / "assignments")
    folder = tmp_path / "cache"
    return course, assignments, folder, Computing(assignments)


def _expected(setup):
    course, assignments, folder, compute = setup
    return coursecache.cached_expected(course, assignments, compute, folder)


def test_the_second_run_reads_what_the_first_computed_into_a_private_file(setup):
    course, assignments, folder, compute = setup
    first = _expected(setup)
    second = _expected(setup)
    assert compute.calls == 1
    assert second.keys() == first.keys() and len(first) == sum(len(a.checks) for a in assignments)
    name = assignments[0].checks[0].name
    assert second[name]["value"].tolist() == [0.0, 1.0, 2.0] and second[name]["mistakes"] == [["m", "hint", 1.5]]
    files = list(folder.iterdir())
    assert len(files) == 1
    assert folder.stat().st_mode & 0o777 == 0o700 and files[0].stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("collecting", [True, False])
def test_reading_the_file_leaves_the_garbage_collector_as_it_found_it(setup, collecting):
    # The collector is paused while the file decodes (its containers are no garbage), and only
    # then: a run that had turned it off keeps it off, and a damaged file changes nothing.
    import gc

    _expected(setup)
    was = gc.isenabled()
    try:
        (gc.enable if collecting else gc.disable)()
        assert _expected(setup) and gc.isenabled() is collecting
        # a body that fails to decode, under a header whose digest matches it
        course, assignments = setup[0], setup[1]
        file, body = next(setup[2].iterdir()), b"not a message"
        file.write_bytes(coursecache._header(coursecache.fingerprint(course, assignments), body) + body)
        assert _expected(setup) and gc.isenabled() is collecting
        assert setup[3].calls == 2
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("edit", ["reference", "check", "mistakes", "settings", "extensions", "course.toml"])
def test_an_edit_of_any_course_file_invalidates(setup, edit):
    course, _, _, compute = setup
    _expected(setup)
    path = {
        "reference": course / "reference" / "forward.py",
        "check": course / "assignments" / "forward" / "checks_hidden.py",
        "mistakes": course / "assignments" / "perceptron" / "mistakes.py",
        "settings": course / "assignments" / "forward" / "assignment.toml",
        "extensions": course / "assignments" / "extensions.toml",
        "course.toml": course / "assignments" / "course.toml",
    }[edit]
    with open(path, "a") as f:
        f.write("\n# an edit\n")
    again = _expected(setup)
    assert compute.calls == 2
    assert next(iter(again.values()))["value"].tolist() == [0.0, 2.0, 4.0]  # the new computation's
    _expected(setup)
    assert compute.calls == 2  # and that is cached in turn


def test_another_grader_version_source_or_numpy_invalidates(setup, monkeypatch, tmp_path):
    course, assignments, _, _ = setup
    key = coursecache.fingerprint(course, assignments)
    assert coursecache.fingerprint(course, assignments) == key
    monkeypatch.setattr(grader, "__version__", grader.__version__ + ".post1")
    assert coursecache.fingerprint(course, assignments) != key
    monkeypatch.undo()
    # The grader's source: a copy of the package whose one file differs.
    package = tmp_path / "pkg" / "grader"
    shutil.copytree(Path(grader.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(grader, "__file__", str(package / "__init__.py"))
    assert coursecache.fingerprint(course, assignments) == key
    with open(package / "judges.py", "a") as f:
        f.write("\n")
    assert coursecache.fingerprint(course, assignments) != key
    monkeypatch.undo()
    real = coursecache._version
    monkeypatch.setattr(coursecache, "_version", lambda p: "0.0" if p == "numpy" else real(p))
    assert coursecache.fingerprint(course, assignments) != key


def test_grading_fewer_assignments_uses_a_file_of_its_own(setup):
    course, assignments, folder, compute = setup
    _expected(setup)
    only = [a for a in assignments if a.name == "forward"]
    coursecache.cached_expected(course, only, Computing(only), folder)
    _expected(setup)
    assert compute.calls == 1 and len(list(folder.iterdir())) == 2


def _damage_flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _damage_garbage(path: Path) -> None:
    path.write_bytes(b"\x00" * 100)


def _damage_group_writable(path: Path) -> None:
    path.chmod(0o620)


def _damage_world_readable(path: Path) -> None:
    path.chmod(0o604)


def _damage_symlink(path: Path) -> None:
    target = path.with_name("elsewhere.grd")
    path.rename(target)
    path.symlink_to(target)


@pytest.mark.parametrize("damage", [_damage_flip, _damage_truncate, _damage_garbage, _damage_group_writable,
                                    _damage_world_readable, _damage_symlink], ids=lambda f: f.__name__[8:])
def test_a_damaged_or_not_private_file_is_ignored_and_rebuilt(setup, damage):
    course, assignments, folder, compute = setup
    _expected(setup)
    path = coursecache.cache_file(folder, course, assignments)
    damage(path)
    again = _expected(setup)
    assert compute.calls == 2 and next(iter(again.values()))["value"].tolist() == [0.0, 2.0, 4.0]
    assert path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o777 == 0o600
    _expected(setup)
    assert compute.calls == 2  # the rebuilt file is read


def test_a_foreign_file_is_not_read(setup, tmp_path):
    # A well-formed cache file of another course (or of this one before an edit), put in its place.
    course, assignments, folder, compute = setup
    other = tmp_path / "other"
    shutil.copytree(course, other)
    with open(other / "reference" / "forward.py", "a") as f:
        f.write("\n# another reference\n")
    coursecache.cached_expected(other, assignments, Computing(assignments), folder)
    path = coursecache.cache_file(folder, course, assignments)
    shutil.copy(coursecache.cache_file(folder, other, assignments), path)
    _expected(setup)
    assert compute.calls == 1


def test_a_file_without_every_check_is_not_read(setup):
    course, assignments, folder, compute = setup
    key = coursecache.fingerprint(course, assignments)
    path = coursecache.cache_file(folder, course, assignments)
    partial = dict(list(compute().items())[1:])  # the right key, but one check missing
    assert coursecache.store(path, key, partial)
    compute.calls = 0
    assert len(_expected(setup)) == len(partial) + 1 and compute.calls == 1


def test_a_folder_others_may_write_is_neither_read_nor_written(setup):
    course, assignments, folder, compute = setup
    _expected(setup)
    folder.chmod(0o777)
    try:
        _expected(setup)
        _expected(setup)
        assert compute.calls == 3
        assert [p.name for p in folder.iterdir()] == [coursecache.cache_file(folder, course, assignments).name]
    finally:
        folder.chmod(0o700)


def test_off_computes_every_time(setup, monkeypatch):
    course, assignments, _, compute = setup
    monkeypatch.setenv(coursecache.CACHE_ENV, "off")
    assert coursecache.cache_dir() is None
    coursecache.cached_expected(course, assignments, compute)
    coursecache.cached_expected(course, assignments, compute)
    assert compute.calls == 2


def test_runs_writing_at_once_never_leave_a_half_file(setup, tmp_path):
    # Two processes rewrite the file again and again while this one reads it: every read finds
    # a whole file (the rename is atomic), never a torn one.
    course, assignments, folder, compute = setup
    key = coursecache.fingerprint(course, assignments)
    path = coursecache.cache_file(folder, course, assignments)
    value = compute()
    assert coursecache.store(path, key, value)
    script = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from grader.course import cache as coursecache\n"
        "names = sys.argv[3].split('\\x1f')\n"
        "value = {n: {'value': np.arange(20000.0)} for n in names}\n"
        "for _ in range(15):\n"
        "    assert coursecache.store(Path(sys.argv[1]), sys.argv[2], value)\n"
    )
    names = "\x1f".join(value)
    writers = [subprocess.Popen([sys.executable, "-c", script, str(path), key, names], env=grader_env())
               for _ in range(2)]
    reads = 0
    deadline = time.monotonic() + 120
    while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
        found = coursecache.load(path, key, list(value))
        assert found is not None and found.keys() == value.keys()
        reads += 1
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    assert reads >= 1
    assert coursecache.load(path, key, list(value))[next(iter(value))]["value"].shape == (20000,)
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left behind


# ---------------------------------------------------------------- the batch, end to end


def _results(batch) -> list:
    return [(r.submission, r.score, r.status, [dataclasses.asdict(c) for c in r.checks], r.output)
            for r in batch.results]


def test_a_warm_batch_grades_exactly_as_a_cold_one_and_as_one_without_the_cache(tmp_path, monkeypatch):
    course = _course(tmp_path)
    submit = tmp_path / "submit"
    for name in ("ada_perfect", "cai_softmax_axis"):
        shutil.copytree(EXAMPLES / name, submit / name)
    monkeypatch.setenv(coursecache.CACHE_ENV, str(tmp_path / "cache"))
    limits = Limits(call_timeout=60.0)

    def grade(out: str, **options):
        return grade_folder(submit, tmp_path / out, Course.load(course), limits=limits, jobs=1, force=True,
                            **options)

    plain = grade("plain", course_cache=False)
    assert not (tmp_path / "cache").exists()
    cold = grade("cold")
    assert len(list((tmp_path / "cache").iterdir())) == 1

    def no_computing(*args, **kwargs):
        raise AssertionError("a warm run computed the expected values")

    monkeypatch.setattr(grader.course.loading, "compute_expected", no_computing)
    warm = grade("warm")
    assert _results(warm) == _results(cold) == _results(plain)
    assert {r.submission: r.score for r in warm.results}["ada_perfect"] == sum(
        c.points for a in load_assignments(course / "assignments") for c in a.checks)
    assert {r.status for r in warm.results} == {"ok"}
    for name in ("ada_perfect", "cai_softmax_axis"):
        for report in ("feedback.md", "feedback.html"):
            text = (report_dir(tmp_path / "warm", name) / report).read_text()
            assert text == (report_dir(tmp_path / "plain", name) / report).read_text()
    hinted = (report_dir(tmp_path / "warm", "cai_softmax_axis") / "feedback.md").read_text()
    assert "softmax over the wrong axis" in hinted


def test_cached_only_reads_what_the_cache_holds_and_computes_nothing(tmp_path, monkeypatch):
    # What a batch reads in a thread of its own before it knows whether anything needs grading.
    course = _course(tmp_path)
    monkeypatch.setenv(coursecache.CACHE_ENV, str(tmp_path / "cache"))
    computed = []
    real = grader.course.loading.compute_expected
    monkeypatch.setattr(grader.course.loading, "compute_expected", lambda *a, **k: computed.append(1) or real(*a, **k))
    cold = Course.load(course)
    assert coursecache.cached_only(cold) is None and computed == [] and "expected" not in vars(cold)
    filled = coursecache.expected_of(Course.load(course))
    assert computed == [1]
    warm = Course.load(course)
    found = coursecache.cached_only(warm)
    assert computed == [1] and found is not None and found.keys() == filled.keys()
    assert coursecache.expected_of(warm) is found  # kept: never read or computed again
    assert coursecache.cached_only(Course.load(course), use_cache=False) is None


def test_the_command_line_can_bypass_the_cache(tmp_path):
    course = _course(tmp_path)
    env = grader_env(GRADER_COURSE_CACHE=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "grader", "run", str(EXAMPLES / "ada_perfect"), "--out", str(tmp_path / "out"),
               "--course", str(course), "--no-gradebook", "-q", "--timeout", "60", "-a", "perceptron"]
    done = subprocess.run([*command, "--no-course-cache"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "cache").exists()
    done = subprocess.run([*command, "--force"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "cache").iterdir())) == 1
    assert os.stat(tmp_path / "cache").st_mode & 0o777 == 0o700


def test_gradescope_setup_fills_the_cache_that_each_submission_reads(tmp_path, monkeypatch):
    # setup.sh runs `python -m grader.course.cache COURSE SETTINGS` once; run_autograder then
    # grades without computing any expected value.
    from grader.engine.gradescope import RUN_AUTOGRADER, SETUP_SH, run_gradescope

    assert 'GRADER_COURSE_CACHE="$ROOT/cache"' in SETUP_SH and 'GRADER_COURSE_CACHE="$ROOT/cache"' in RUN_AUTOGRADER
    course = _course(tmp_path)
    settings = tmp_path / "settings.json"
    settings.write_text('{"assignments": ["perceptron"], "timeout": 60}')
    env = grader_env(GRADER_COURSE_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "grader.course.cache", str(course), str(settings)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "the expected values of" in done.stdout and len(list((tmp_path / "cache").iterdir())) == 1
    monkeypatch.setenv(coursecache.CACHE_ENV, str(tmp_path / "cache"))

    def no_computing(*args, **kwargs):
        raise AssertionError("a submission's container computed the expected values")

    monkeypatch.setattr(grader.course.loading, "compute_expected", no_computing)
    result = run_gradescope(EXAMPLES / "ada_perfect", tmp_path / "results" / "results.json", course,
                            ["perceptron"], 60.0)
    assert result.status == "ok" and result.score == result.max_score > 0
