# ruff: noqa: E501  (the cases are a table of names)
"""What reaches a student or an instructor, graded through `python -m grader` in both tiers.

- one student, one report: names shaped like class reports, names that collide, hostile
  names, two Canvas users with one sortable name; every input accounted for;
- an output folder inside the submissions is never graded as a student;
- faults of the output (a full disk, a read-only folder, a file in the way) end in one line
  and a non-zero status, lose nothing, and a rerun regrades exactly what was not finished;
- what is written is inert: Markdown (checked by rendering it with markdown-it-py, a
  CommonMark parser), the terminal, the CSV (OWASP's CSV-injection rule), Gradescope's
  `output_format`, and the NOT SANDBOXED notice says one plain sentence to students.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import grader
from grader.isolation import sandbox
from grader.reports.feedback import REPORT_FILES

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT = Path(grader.__file__).resolve().parents[1]
REF = (ROOT / "reference" / "forward.py").read_text()
CLASS_REPORTS = {"grades.csv", "summary.md", "summary.html", "score_histogram.svg"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""what must never reach a terminal or a file: C0 and C1 controls but tab and newline, bidi overrides"""


def tiers() -> list[str]:
    found = ["none"]
    try:
        sandbox.resolve("bwrap")
        found.insert(0, "bwrap")
    except sandbox.SandboxError:
        pass
    return found


@pytest.fixture(scope="module", params=tiers())
def tier(request) -> str:
    return request.param


def grade(*args: object) -> subprocess.CompletedProcess[str]:
    """`python -m grader ARGS` from this checkout, as an instructor runs it (not a terminal)."""
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=900)


def grade_class(submit: Path, out: Path, tier: str, *extra: object) -> subprocess.CompletedProcess[str]:
    as_root = ["--unsafe-run-as-root"] if sandbox.resolve(tier).as_root else []  # only where this machine needs it
    return grade(submit, "--out", out, "-a", "forward", "--timeout", "1", "--sandbox", tier, "-j", "2", *as_root,
                 *extra)


def identified(token: str, source: str = REF) -> str:
    """`source` that prints whose it is when imported (the report shows what the code printed)."""
    return source.replace("import numpy as np\n", f"import numpy as np\nprint('identity: {token}')\n", 1)


def broken(source: str = REF) -> str:
    """A worse submission: count_params answers 0."""
    assert "def count_params(layer_sizes):\n" in source
    return source.replace("def count_params(layer_sizes):\n", "def count_params(layer_sizes):\n    return 0\n", 1)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The stderr line that reports the fault; asserts it is the only line of its kind."""
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("grade: ")]
    assert len(lines) == 1, proc.stderr
    assert proc.stderr.rstrip().endswith(lines[0]), proc.stderr  # it is the last word
    return lines[0]


# ---------------------------------------------------------------- the hostile class


@dataclass
class Entry:
    raw: str
    """the folder (or file) name in the input"""
    token: str
    perfect: bool = True
    flat: bool = False
    """a file of an LMS export, not a folder"""


NFC, NFD = "José", unicodedata.normalize("NFD", "José")
ENTRIES = [
    *(Entry(name, f"class-report-{i}") for i, name in enumerate(sorted(CLASS_REPORTS))),
    Entry("students", "students-folder"),
    Entry("victim", "victim-honest"),
    Entry(" victim", "victim-attacker", perfect=False),
    Entry("Bob Smith", "bob-space"),
    Entry("Bob_Smith", "bob-underscore", perfect=False),
    Entry(NFC, "jose-nfc"),
    Entry(NFD, "jose-nfd", perfect=False),
    Entry("a" * 240, "long"),
    Entry("李明", "cjk"),
    Entry("..._555_assignsubmission_file_", "dots"),  # Moodle, for a student whose name is only dots
    Entry("evil\n# Score: 100%", "newline"),
    Entry("\x1b[31mred\x1b[0m\x1b]0;title\x07", "escape"),
    Entry("<img src=x onerror=alert(1)>", "html"),
    Entry("-1+2", "minus"),
    Entry("@SUM(A1)", "at"),
    Entry("=cmd|' -C calc'!A0", "equals"),
    Entry("CON", "windows"),
    Entry(os.fsdecode(b"\xff\xfe-not-utf8"), "bytes"),
    Entry("\u202egnp.exe", "bidi"),
    Entry("smithbob_340934_208490284_forward.py", "canvas-a", flat=True),
    Entry("smithbob_999999_208490999_forward.py", "canvas-b", perfect=False, flat=True),
    Entry("raiser", "raiser", perfect=False),
]
RAISES = "<img src=x onerror=alert(1)> [link](http://evil.example) \x1b[2J\x1b[31m"
ODD_FILE = "<img src=x onerror=alert(2)>\x1b[2J\n# pwned.py"
SKIPPED = "report<img src=x onerror=alert(3)>\x1b[2J.pdf"
NOT_UTF8 = os.fsdecode(b"bad-\xff\xfe-bytes.pdf")


def build_class(submit: Path) -> None:
    submit.mkdir(parents=True)
    for e in ENTRIES:
        source = identified(e.token, REF if e.perfect else broken())
        if e.raw == "raiser":
            assert "def relu_grad(z):\n" in REF
            source = identified(e.token, REF.replace(
                "def relu_grad(z):\n", f"def relu_grad(z):\n    raise ValueError({RAISES!r})\n", 1))
        if e.flat:
            (submit / e.raw).write_text(source)
            continue
        (submit / e.raw).mkdir()
        (submit / e.raw / "forward.py").write_text(source)
    (submit / "<img src=x onerror=alert(1)>" / ODD_FILE).write_text("x = 1\n")
    (submit / SKIPPED).write_bytes(b"%PDF")
    (submit / NOT_UTF8).write_bytes(b"%PDF")


@dataclass
class Graded:
    tier: str
    submit: Path
    out: Path
    proc: subprocess.CompletedProcess[str]

    def folders(self) -> dict[str, Path]:
        return {p.name: p for p in (self.out / "students").iterdir()}

    def by_token(self) -> dict[str, tuple[str, dict]]:
        """`token -> (report folder name, stored result)`, from what each student's code printed."""
        found: dict[str, tuple[str, dict]] = {}
        for name, folder in self.folders().items():
            result = json.loads((folder / ".grade-result.json").read_text())
            tokens = re.findall(r"identity: (\S+)", result["output"])
            assert len(tokens) == 1, (name, result["output"])
            assert tokens[0] not in found, f"{tokens[0]} has two reports"
            found[tokens[0]] = (name, result)
        return found


@pytest.fixture(scope="module")
def hostile(tier, tmp_path_factory) -> Graded:
    tmp = tmp_path_factory.mktemp(f"hostile-{tier}")
    build_class(tmp / "submit")
    proc = grade_class(tmp / "submit", tmp / "out", tier)
    return Graded(tier, tmp / "submit", tmp / "out", proc)


def score(result: dict) -> float:
    return sum(c["score"] for c in result["checks"])


def max_score(result: dict) -> float:
    return sum(c["max_score"] for c in result["checks"])


def test_the_hostile_class_is_graded_with_exit_0_and_class_reports_beside_students(hostile):
    assert hostile.proc.returncode == 0, hostile.proc.stderr[-3000:]
    assert {p.name for p in hostile.out.iterdir()} == CLASS_REPORTS | {"students"}
    for name in CLASS_REPORTS:
        assert (hostile.out / name).is_file(), name
    assert {p.name for p in hostile.out.parent.iterdir()} == {"submit", "out"}  # nothing written elsewhere


def test_every_student_has_exactly_one_report_of_their_own_code(hostile):
    found = hostile.by_token()
    assert set(found) == {e.token for e in ENTRIES}
    for e in ENTRIES:
        name, result = found[e.token]
        assert (score(result) == max_score(result)) == e.perfect, (e.raw, name, score(result))
        for report in REPORT_FILES:
            assert (hostile.out / "students" / name / report).is_file()
    rows = list(csv.reader((hostile.out / "grades.csv").open()))[2:]
    assert sorted(r[0].lstrip("'") for r in rows) == sorted(hostile.folders())


def test_report_folders_are_plain_names_inside_students(hostile):
    for name, folder in hostile.folders().items():
        assert folder.is_dir() and not folder.is_symlink()
        assert folder.resolve().parent == (hostile.out / "students").resolve()
        assert name.isascii() and name.isprintable() and 0 < len(name) <= 100 and name not in (".", "..")


def test_colliding_names_all_get_a_suffix_and_the_canvas_users_keep_their_ids(hostile):
    found = hostile.by_token()
    names = {token: name for token, (name, _) in found.items()}
    for a, b, plain in (("victim-honest", "victim-attacker", "victim"), ("bob-space", "bob-underscore", "Bob_Smith"),
                        ("jose-nfc", "jose-nfd", "Jose")):
        assert names[a] != names[b]
        assert names[a].startswith(plain + "-") and names[b].startswith(plain + "-"), (names[a], names[b])
    assert names["canvas-a"] == "smithbob-340934" and names["canvas-b"] == "smithbob-999999"
    assert "victim" not in hostile.folders()
    warned = [ln for ln in hostile.proc.stderr.splitlines() if "would be named" in ln]
    assert len(warned) == 4, hostile.proc.stderr  # victim, Bob_Smith, Jose, smithbob


def test_names_shaped_like_class_reports_are_ordinary_students(hostile):
    names = {token: name for token, (name, _) in hostile.by_token().items()}
    assert {names[f"class-report-{i}"] for i in range(4)} == CLASS_REPORTS
    assert names["students-folder"] == "students"


def test_the_terminal_gets_no_control_characters(hostile):
    for stream in (hostile.proc.stdout, hostile.proc.stderr):
        assert not CONTROL.search(stream), repr(CONTROL.search(stream))
    assert "skipped report<img src=x" in hostile.proc.stderr and "␛[2J.pdf" in hostile.proc.stderr


def _markdown_files(g: Graded) -> list[Path]:
    return [g.out / "summary.md"] + [f / "feedback.md" for f in g.folders().values()]


def test_markdown_reports_render_no_html_no_link_no_image_and_no_forged_heading(hostile):
    md = MarkdownIt("commonmark").enable("table")
    for path in _markdown_files(hostile):
        text = path.read_text()
        assert not CONTROL.search(text), (path, repr(CONTROL.search(text)))
        tokens = md.parse(text)
        every = tokens + [c for t in tokens for c in (t.children or [])]
        assert not {t.type for t in every} & {"html_block", "html_inline", "link_open"}, path
        images = [t.attrs.get("src") for t in every if t.type == "image"]
        assert images == (["score_histogram.svg"] if path.name == "summary.md" else []), (path, images)
        h1 = [t for t in tokens if t.type == "heading_open" and t.tag == "h1"]
        assert len(h1) == 1, path
        html = md.render(text).replace('<img src="score_histogram.svg" alt="Histogram of total scores" />', "")
        assert "<img" not in html and "<script" not in html and "<a " not in html, path


def test_a_hostile_file_name_reaches_its_own_report_as_one_visible_line(hostile):
    name, _ = hostile.by_token()["html"]
    text = (hostile.out / "students" / name / "feedback.md").read_text()
    note = [ln for ln in text.splitlines() if "pwned.py" in ln]
    assert len(note) == 1 and "␛" in note[0] and "␊" in note[0], note
    summary = (hostile.out / "summary.md").read_text()
    assert [ln for ln in summary.splitlines() if "alert(3)" in ln] and "<img" not in summary
    shown = MarkdownIt("commonmark").render(summary)  # a name that is not UTF-8 is shown, not a crash
    assert "bad-\\udcff\\udcfe-bytes.pdf" in shown
    page = (hostile.out / "summary.html").read_text()
    assert "bad-\\udcff\\udcfe-bytes.pdf" in page and "<img src=x" not in page


def test_student_output_in_fences_and_pages_is_escaped(hostile):
    name, _ = hostile.by_token()["raiser"]
    folder = hostile.out / "students" / name
    md = (folder / "feedback.md").read_text()
    assert "ValueError: <img src=x onerror=alert(1)>" in md  # inside a code fence: shown, not rendered
    assert "\x1b" not in md and "␛[2J" in md
    page = (folder / "feedback.html").read_text()
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_gradescope_output_is_declared_text_everywhere(hostile):
    for folder in hostile.folders().values():
        data = json.loads((folder / "results.json").read_text())
        assert (data["output_format"], data["test_output_format"], data["test_name_format"]) == ("text",) * 3
        assert data["tests"] and all(t["output_format"] == "text" and t["name_format"] == "text"
                                     for t in data["tests"])
        assert not CONTROL.search(json.dumps(data, ensure_ascii=False))
    name, _ = hostile.by_token()["raiser"]
    data = json.loads((hostile.out / "students" / name / "results.json").read_text())
    assert any("␛[2J" in t["output"] for t in data["tests"])


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def test_grades_csv_has_no_formula_and_scores_stay_numbers(hostile):
    rows = list(csv.reader((hostile.out / "grades.csv").open(newline="")))
    assert len(rows) == 2 + len(ENTRIES)
    assert rows[0] == ["submission", "forward", "total", "status"]
    for row in rows[1:]:
        assert not row[0].startswith(FORMULA), row
        assert all(float(x) >= 0 for x in row[1:-1])  # points per assignment and total: numbers
        assert not row[-1].startswith(FORMULA)
    names = {token: name for token, (name, _) in hostile.by_token().items()}
    first = {r[0] for r in rows}
    assert "'" + names["minus"] in first and names["minus"] == "-1_2"
    assert "'" + names["at"] in first and names["at"] == "@SUM_A1"


def test_the_not_sandboxed_notice_is_one_sentence_for_students_and_the_detail_for_instructors(hostile):
    iso = sandbox.resolve(hostile.tier)
    student, detail = iso.notices, iso.instructor_notices
    if hostile.tier == "bwrap":
        assert student == [] and detail == []
        assert "NOT SANDBOXED" not in hostile.proc.stderr
        return
    assert len(student) == 1 and len(detail) == 1 and student[0] != detail[0]
    assert "python -I" in detail[0] and "python -I" not in student[0] and str(ROOT) not in student[0]
    for folder in hostile.folders().values():
        for report in REPORT_FILES:
            text = (folder / report).read_text()
            assert "NOT SANDBOXED" in text and "python -I" not in text and "ran as root" not in text, folder
    assert "python -I" in (hostile.out / "summary.md").read_text()
    assert "python -I" in (hostile.out / "summary.html").read_text()
    assert f"WARNING: {detail[0]}" in hostile.proc.stderr


# ---------------------------------------------------------------- the output folder among the submissions


def _two_students(submit: Path) -> None:
    for name in ("ann", "ben"):
        (submit / name).mkdir(parents=True)
        (submit / name / "forward.py").write_text(REF)


def test_an_output_folder_inside_the_submissions_is_never_a_student(tier, tmp_path):
    submit = tmp_path / "submit"
    _two_students(submit)
    for run in range(2):
        proc = grade_class(submit, submit / "reports", tier)
        assert proc.returncode == 0, proc.stderr
        assert sorted(p.name for p in (submit / "reports" / "students").iterdir()) == ["ann", "ben"]
        rows = list(csv.reader((submit / "reports" / "grades.csv").open()))
        assert [r[0] for r in rows[2:]] == ["ann", "ben"], run
    assert "skipped reports: it is the output folder" in proc.stderr


@pytest.mark.parametrize("where", ["the submissions", "above the submissions"])
def test_an_output_folder_that_holds_the_submissions_is_refused_in_one_line(tier, tmp_path, where):
    submit = tmp_path / "class" / "submit"
    _two_students(submit)
    out = submit if where == "the submissions" else tmp_path / "class"
    proc = grade_class(submit, out, tier)
    assert proc.returncode == 1
    assert one_line_error(proc) == (f"grade: error: cannot write {out}: the submissions ({submit}) are inside it; "
                                    "choose an --out outside them")
    assert not (out / "students").exists() and not (out / "grades.csv").exists()


# ---------------------------------------------------------------- faults of the output


def _can_mount() -> str:
    """Why tmpfs mounts cannot be used here, or ''."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (CI runs this as root)"
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"grade-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], check=True)
    except FileNotFoundError:
        ok = False
    finally:
        probe.rmdir()
    return "" if ok else "this machine does not allow mounting a tmpfs (no CAP_SYS_ADMIN)"


MOUNT = _can_mount()
needs_mount = pytest.mark.skipif(bool(MOUNT), reason=MOUNT)


class Tmpfs:
    """A tmpfs of a given size on `path`, unmounted at the end."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True)

    def close(self) -> None:
        subprocess.run(["umount", str(self.path)], check=True)


def _disk_use(folder: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*")) + 4096 * (1 + len(list(folder.rglob("*"))))


def _assert_nothing_half_written(out: Path) -> set[str]:
    """Every file there is complete; returns the submissions whose reports are final (hash written)."""
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "a temporary file was left behind"
    final = set()
    for folder in (out / "students").iterdir():
        if (folder / "results.json").exists():
            json.loads((folder / "results.json").read_text())  # complete, or absent
        if (folder / ".grade-hash").exists():
            assert all((folder / f).is_file() for f in REPORT_FILES), folder
            json.loads((folder / ".grade-result.json").read_text())
            final.add(folder.name)
    return final


def _progress(proc: subprocess.CompletedProcess[str]) -> tuple[set[str], set[str]]:
    """`(not regraded, graded)` submission names from the progress lines."""
    lines = re.findall(r"^\[\d+/\d+\] (\S+): .*\((.*)\)$", proc.stderr, re.MULTILINE)
    return ({n for n, how in lines if how.startswith("unchanged")},
            {n for n, how in lines if not how.startswith("unchanged")})


@needs_mount
def test_a_full_disk_ends_in_one_line_and_a_rerun_grades_exactly_the_rest(tier, tmp_path):
    submit = tmp_path / "submit"
    names = [f"s{i}" for i in range(6)]
    for name in names:
        (submit / name).mkdir(parents=True)
        (submit / name / "forward.py").write_text(REF)
    sizing = tmp_path / "sizing"
    (sizing / "one").mkdir(parents=True)
    (sizing / "one" / "forward.py").write_text(REF)
    assert grade_class(sizing, tmp_path / "sizing-out", tier).returncode == 0
    per_student = _disk_use(tmp_path / "sizing-out" / "students" / "one")
    disk = Tmpfs(tmp_path / "out", int(2.5 * per_student))  # room for two or so of the six
    try:
        first = grade_class(submit, disk.path, tier, "-j", "1")
        assert first.returncode == 1
        line = one_line_error(first)
        assert re.fullmatch(rf"grade: error: cannot write {re.escape(str(disk.path))}/\S+: No space left on device", line), line
        done = _assert_nothing_half_written(disk.path)
        assert 1 <= len(done) < len(names), done
        assert not (disk.path / "grades.csv").exists()
        disk.remount("size=16m")
        second = grade_class(submit, disk.path, tier)
        assert second.returncode == 0, second.stderr
        unchanged, graded = _progress(second)
        assert unchanged == done and graded == set(names) - done
        assert _assert_nothing_half_written(disk.path) == set(names)
        assert len(list(csv.reader((disk.path / "grades.csv").open()))) == 2 + len(names)
    finally:
        disk.close()


@needs_mount
def test_a_read_only_output_ends_in_one_line_and_keeps_the_reports(tier, tmp_path):
    submit = tmp_path / "submit"
    _two_students(submit)
    disk = Tmpfs(tmp_path / "out", 16 << 20)
    try:
        assert grade_class(submit, disk.path, tier).returncode == 0
        before = {p: p.read_bytes() for p in disk.path.rglob("*") if p.is_file()}
        (submit / "ben" / "forward.py").write_text(broken())  # a late fix: ben must be regraded
        disk.remount("ro")
        proc = grade_class(submit, disk.path, tier)
        assert proc.returncode == 1
        line = one_line_error(proc)
        assert line.startswith(f"grade: error: cannot write {disk.path}/students/ben/") and line.endswith(
            ": Read-only file system"), line
        assert {p: p.read_bytes() for p in disk.path.rglob("*") if p.is_file()} == before
        disk.remount("rw")
        again = grade_class(submit, disk.path, tier)
        assert again.returncode == 0
        assert _progress(again) == ({"ann"}, {"ben"})
    finally:
        disk.close()


@pytest.mark.parametrize("in_the_way", ["students", "students/ann", "grades.csv"])
def test_a_file_or_folder_where_the_other_should_be_ends_in_one_line(tier, tmp_path, in_the_way):
    submit, out = tmp_path / "submit", tmp_path / "out"
    _two_students(submit)
    blocker = out / in_the_way
    blocker.parent.mkdir(parents=True)
    if in_the_way == "grades.csv":
        blocker.mkdir()  # a folder where the class's CSV goes
    else:
        blocker.write_text("not a folder")
    proc = grade_class(submit, out, tier)
    assert proc.returncode == 1
    line = one_line_error(proc)
    assert line.startswith(f"grade: error: cannot write {blocker}"), line
    assert line.endswith(("a file is in the way (a folder is needed)", "Is a directory", "Not a directory")), line
