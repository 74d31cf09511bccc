"""Who is who: hostile student names never take another student's row, escape the report
folder, or silently drop a file (no worker runs here: this is the collection of inputs).

The batch-level counterpart, graded in both tiers, is `test_reports.py`.
"""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest

from grader.inputs.collect import collect_submissions, report_name
from grader.reports.feedback import STUDENTS, student_folder
from grader.reports.inert import visible

MODULES = {"forward", "backprop"}


def code(token: str) -> bytes:
    """A module whose content says whose it is."""
    return f"WHO = {token!r}\n".encode()


def collect(root: Path):
    subs, warnings = collect_submissions(root, MODULES)
    return subs, warnings


def owner(sub) -> set[str]:
    """The tokens of the files a submission holds."""
    return {data.decode().split("'")[1] for data in sub.files.values()}


def assert_plain_component(name: str) -> None:
    assert name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\0" not in name
    assert len(name) <= 100 and name.isascii() and name.isprintable(), repr(name)
    assert student_folder(Path("/o"), name).parent == Path("/o") / STUDENTS


HOSTILE = [".", "..", "...", "", " ", "\n", "a/b", "../../etc", "x\0y", "a" * 5000, "李明", "\x1b[2J", "CON",
           "\u202etxt.exe", "José", unicodedata.normalize("NFD", "José"), "<img src=x onerror=alert(1)>"]


@pytest.mark.parametrize("raw", HOSTILE, ids=repr)
def test_every_name_becomes_one_plain_file_name(raw):
    assert_plain_component(report_name(raw))


def test_unicode_twins_fold_to_one_id_and_scripts_without_latin_letters_stay_apart():
    assert report_name("José") == report_name(unicodedata.normalize("NFD", "José")) == "Jose"
    assert report_name("李明") != report_name("王芳")
    assert report_name("李明") == report_name("李明")  # deterministic
    assert report_name("..") != report_name("...")


@pytest.mark.parametrize("honest, attacker", [("victim", " victim"), (" victim", "victim"),
                                              ("Bob Smith", "Bob_Smith"), ("Bob_Smith", "Bob Smith"),
                                              ("alice", "ALICE")])
def test_two_names_for_one_id_both_keep_their_own_files_and_nobody_keeps_the_plain_name(tmp_path, honest, attacker):
    for raw, token in ((honest, "honest"), (attacker, "attacker")):
        (tmp_path / raw).mkdir()
        (tmp_path / raw / "forward.py").write_bytes(code(token))
    subs, warnings = collect(tmp_path)
    assert sorted(owner(s).pop() for s in subs) == ["attacker", "honest"]
    plain = report_name(honest).casefold()
    assert plain == report_name(attacker).casefold()
    assert all(s.name.casefold() != plain and s.name.casefold().startswith(plain + "-") for s in subs)
    assert len({s.name.casefold() for s in subs}) == 2
    assert len(warnings) == 1 and f"would be named {plain}" in warnings[0].casefold(), warnings
    for s in subs:
        assert any("another submission is also named" in n and s.name in n for n in s.notes)


def test_the_same_canvas_sortable_name_for_two_users_is_two_rows_named_by_user_id(tmp_path):
    (tmp_path / "smithbob_340934_208490284_forward.py").write_bytes(code("bob-1"))
    (tmp_path / "smithbob_340934_208490284_backprop.py").write_bytes(code("bob-1"))
    (tmp_path / "smithbob_999999_208490999_forward.py").write_bytes(code("bob-2"))
    subs, warnings = collect(tmp_path)
    by = {s.name: s for s in subs}
    assert set(by) == {"smithbob-340934", "smithbob-999999"}
    assert set(by["smithbob-340934"].files) == {"forward.py", "backprop.py"}
    assert owner(by["smithbob-340934"]) == {"bob-1"}
    assert set(by["smithbob-999999"].files) == {"forward.py"} and owner(by["smithbob-999999"]) == {"bob-2"}
    assert by["smithbob-340934"].lms_ids == {"canvas_id": "340934"}
    assert by["smithbob-999999"].lms_ids == {"canvas_id": "999999"}
    assert by["smithbob-340934"].student == "smithbob"
    assert len(warnings) == 1 and "smithbob-340934" in warnings[0] and "smithbob-999999" in warnings[0]


def test_a_name_chosen_to_equal_the_suffixed_one_gains_nothing(tmp_path):
    (tmp_path / "victim_340934_1_forward.py").write_bytes(code("honest"))
    for squatter in ("victim", "victim-340934"):
        (tmp_path / squatter).mkdir()
        (tmp_path / squatter / "forward.py").write_bytes(code(squatter))
    subs, warnings = collect(tmp_path)
    assert len({s.name.casefold() for s in subs}) == 3
    honest = [s for s in subs if owner(s) == {"honest"}]
    assert len(honest) == 1 and honest[0].lms_ids == {"canvas_id": "340934"}
    assert {s.name for s in subs}.isdisjoint({"victim", "victim-340934"})
    assert sorted(t for s in subs for t in owner(s)) == ["honest", "victim", "victim-340934"]
    assert warnings


def test_the_order_the_files_were_made_in_changes_no_id(tmp_path):
    names = ["victim", " victim", "Bob Smith", "Bob_Smith", "José", unicodedata.normalize("NFD", "José"), "carol"]
    mappings = []
    for order, folder in ((names, tmp_path / "a"), (names[::-1], tmp_path / "b")):
        for raw in order:
            (folder / raw).mkdir(parents=True)
            (folder / raw / "forward.py").write_bytes(code(raw))
        subs, _ = collect(folder)
        mappings.append({s.name: owner(s).pop() for s in subs})
    assert mappings[0] == mappings[1]
    assert len(mappings[0]) == len(names) and sorted(mappings[0].values()) == sorted(names)
    assert mappings[0]["carol"] == "carol"  # no collision, no suffix


def test_gradescope_names_with_paths_and_nothing_in_them_stay_inside_and_keep_the_submission_id(tmp_path):
    people = {1001: "../../etc", 1002: "a/b", 1003: ".", 1004: "", 1005: "x\\u0000y", 1006: "../../etc"}
    meta = "".join(f"submission_{i}:\n  :submitters:\n  - :name: \"{n}\"\n" for i, n in people.items())
    (tmp_path / "submission_metadata.yml").write_text(meta)
    for i in people:
        (tmp_path / f"submission_{i}").mkdir()
        (tmp_path / f"submission_{i}" / "forward.py").write_bytes(code(str(i)))
    subs, warnings = collect(tmp_path)
    assert sorted(t for s in subs for t in owner(s)) == sorted(str(i) for i in people)
    for s in subs:
        assert_plain_component(s.name)
        assert s.submission_id == owner(s).pop()
    twins = [s for s in subs if s.submission_id in ("1001", "1006")]
    assert sorted(s.name for s in twins) == ["etc-1001", "etc-1006"]


def test_every_entry_of_the_input_is_graded_or_named_with_a_reason(tmp_path):
    graded = {"alice": "folder", "bob.zip": "zip", "carol_forward.py": "flat",
              "dave_340934_1_forward.py": "canvas"}
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "forward.py").write_bytes(code("alice"))
    with zipfile.ZipFile(tmp_path / "bob.zip", "w") as z:
        z.writestr("hw/forward.py", code("bob"))
    (tmp_path / "carol_forward.py").write_bytes(code("carol"))
    (tmp_path / "dave_340934_1_forward.py").write_bytes(code("dave"))
    odd = ["_private", ".hidden", "notes.txt", "link", "broken.zip", "x.py", "\x1b[2Jevil.pdf"]
    (tmp_path / "_private").mkdir()
    (tmp_path / "_private" / "forward.py").write_bytes(code("private"))
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "link").symlink_to(tmp_path / "alice")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 cut")
    (tmp_path / "x.py").write_bytes(code("x"))
    (tmp_path / "\x1b[2Jevil.pdf").write_bytes(b"%PDF")
    (tmp_path / ".DS_Store").write_bytes(b"")  # clutter the OS adds: the one kind skipped silently
    subs, warnings = collect(tmp_path)
    sources = {s.folder.name for s in subs}
    assert set(graded) <= sources
    for entry in odd:
        assert entry in sources or any(visible(entry) in w for w in warnings), (entry, warnings)
    assert not any("\x1b" in w for w in warnings)
    assert not any(".DS_Store" in w for w in warnings)
