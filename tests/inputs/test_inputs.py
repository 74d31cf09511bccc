"""What instructors download becomes submissions: folders, zips, flat files, LMS exports."""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest

from grader.inputs.collect import (
    NamedFile,
    ZipLimits,
    ZipRejected,
    collect_submissions,
    extract_zip,
    parse_file_name,
    parse_lms_name,
)

MODULES = {"forward", "backprop"}
CODE = b"def f():\n    return 1\n"


def _zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def _collect(root: Path):
    subs, warnings = collect_submissions(root, MODULES)
    return {s.name: s for s in subs}, warnings


def test_per_student_folders_including_nested_and_zipped_work(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "forward.py").write_bytes(CODE)
    (tmp_path / "bob" / "hw3" / "src").mkdir(parents=True)
    (tmp_path / "bob" / "hw3" / "src" / "forward.py").write_bytes(CODE)
    (tmp_path / "cai").mkdir()
    _zip(tmp_path / "cai" / "my work.zip", {"work/forward.py": CODE, "work/backprop.py": CODE})
    subs, warnings = _collect(tmp_path)
    assert set(subs) == {"alice", "bob", "cai"} and warnings == []
    assert subs["alice"].files == {"forward.py": CODE}
    assert subs["bob"].files == {"forward.py": CODE}
    assert "graded the files in hw3/src/" in subs["bob"].notes
    assert set(subs["cai"].files) == {"forward.py", "backprop.py"}


def test_one_zip_per_student(tmp_path):
    _zip(tmp_path / "alice.zip", {"forward.py": CODE, "__MACOSX/._forward.py": b"junk",
                                  ".ipynb_checkpoints/forward-checkpoint.ipynb": b"{}"})
    _zip(tmp_path / "bob.zip", {"bob/forward.py": CODE, "bob/notes.txt": b"hi"})
    subs, warnings = _collect(tmp_path)
    assert set(subs) == {"alice", "bob"} and warnings == []
    assert subs["alice"].files == {"forward.py": CODE}
    assert subs["bob"].files == {"forward.py": CODE}
    assert subs["alice"].folder == tmp_path / "alice.zip"


def test_zip_paths_that_escape_the_folder_are_refused(tmp_path, monkeypatch):
    # Staging happens in a temporary folder: make it one under tmp_path, so that whatever
    # escaped from it would still be found below.
    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    submit = tmp_path / "a" / "b" / "submit"
    submit.mkdir(parents=True)
    absolute = tmp_path / "absolute_escape.py"
    _zip(submit / "mallory.zip", {"forward.py": CODE, "../../escaped.py": b"x = 1\n",
                                  str(absolute): b"x = 1\n", "..\\windows_escape.py": b"x = 1\n"})
    subs, _ = _collect(submit)
    assert subs["mallory"].files == {"forward.py": CODE}
    assert subs["mallory"].notes == [f"mallory.zip: {name} was refused: its path leads outside the folder"
                                     for name in ("../../escaped.py", str(absolute), "..\\windows_escape.py")]
    assert list(staging.iterdir()) == []  # staged, read, and cleaned up
    assert sorted(p.name for p in tmp_path.rglob("*.py")) == [], list(tmp_path.rglob("*.py"))
    assert not absolute.exists()


def test_extracting_a_zip_writes_only_inside_its_destination(tmp_path):
    dest = tmp_path / "x" / "y" / "dest"
    archive = _zip(tmp_path / "m.zip", {"ok/forward.py": CODE, "../../up.py": b"1", "../sideways.py": b"1",
                                         str(tmp_path / "abs.py"): b"1", "ok/../../../up2.py": b"1"})
    notes = extract_zip(archive, dest, ZipLimits())
    assert len([n for n in notes if "leads outside the folder" in n]) == 4, notes
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py"))
    assert written == ["x/y/dest/ok/forward.py"]


def _flag_encrypted(path: Path, member: str) -> None:
    """Set the 'encrypted' bit of `member` in its local header and central directory entry
    (zipfile cannot write encrypted members; the grader must refuse them unread)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    patched = 0
    for signature, name_len_at, name_at, flag_at in ((b"PK\x03\x04", 26, 30, 6), (b"PK\x01\x02", 28, 46, 8)):
        at = data.find(signature)
        while at >= 0:
            length = int.from_bytes(data[at + name_len_at:at + name_len_at + 2], "little")
            if bytes(data[at + name_at:at + name_at + length]) == name:
                data[at + flag_at] |= 0x1
                patched += 1
            at = data.find(signature, at + 4)
    assert patched == 2
    path.write_bytes(bytes(data))


def test_encrypted_zip_members_are_left_out_with_a_note(tmp_path):
    archive = _zip(tmp_path / "eve.zip", {"forward.py": CODE, "backprop.py": CODE})
    _flag_encrypted(archive, "forward.py")
    with zipfile.ZipFile(archive) as z:
        assert [i.flag_bits & 1 for i in z.infolist()] == [1, 0]
    subs, _ = _collect(tmp_path)
    assert subs["eve"].files == {"backprop.py": CODE}
    assert "eve.zip: forward.py was left out: it is encrypted" in subs["eve"].notes


def test_zip_symlinks_are_refused(tmp_path):
    _zip(tmp_path / "mallory.zip", {"backprop.py": CODE}, symlinks={"forward.py": "/etc/passwd"})
    subs, _ = _collect(tmp_path)
    assert subs["mallory"].files == {"backprop.py": CODE}
    assert any("forward.py was refused: it is a symbolic link" in n for n in subs["mallory"].notes)


def test_a_zip_bomb_is_rejected_whole_and_reported(tmp_path):
    zeros = b"\0" * (4 << 20)
    _zip(tmp_path / "bomb.zip", {f"m{i}.py": zeros for i in range(6)} | {"forward.py": CODE})
    assert (tmp_path / "bomb.zip").stat().st_size < 200_000
    subs, warnings = _collect(tmp_path)
    assert subs["bomb"].files == {}
    assert any("zip bomb" in n for n in subs["bomb"].notes)
    assert any("bomb.zip" in w and "rejected" in w for w in warnings)


def test_zip_caps_on_members_and_entries(tmp_path):
    big = _zip(tmp_path / "big.zip", {"forward.py": b"#" * 3000})
    notes = extract_zip(big, tmp_path / "out1", ZipLimits(max_member_bytes=1000))
    assert any("larger than" in n for n in notes) and not (tmp_path / "out1" / "forward.py").exists()
    many = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(50)})
    with pytest.raises(ZipRejected, match="more than 20 entries"):
        extract_zip(many, tmp_path / "out2", ZipLimits(max_entries=20))
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    with pytest.raises(ZipRejected, match="not a zip"):
        extract_zip(tmp_path / "fake.zip", tmp_path / "out3", ZipLimits())


def test_flat_folder_of_student_module_files(tmp_path):
    (tmp_path / "alice_forward.py").write_bytes(CODE)
    (tmp_path / "alice_backprop.py").write_bytes(CODE)
    (tmp_path / "bob_smith-forward.py").write_bytes(CODE)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "carol.py").write_bytes(CODE)
    (tmp_path / "dan_helpers.py").write_bytes(CODE)
    subs, warnings = _collect(tmp_path)
    assert set(subs) == {"alice", "bob_smith"}
    assert set(subs["alice"].files) == {"forward.py", "backprop.py"}
    assert set(subs["bob_smith"].files) == {"forward.py"}
    assert any(w.startswith("skipped notes.txt") for w in warnings)
    assert any(w.startswith("skipped carol.py") and "<student>_<module>.py" in w for w in warnings)
    assert any(w.startswith("skipped dan_helpers.py") for w in warnings)


@pytest.mark.parametrize("name, student, file", [
    ("smithbob_340934_208490284_forward.py", "smithbob", "forward.py"),
    ("smithbob_late_340934_208490284_forward-1.py", "smithbob", "forward-1.py"),
    ("Bob Smith_123456_assignsubmission_file_forward.py", "Bob Smith", "forward.py"),
    ("HW3_bsmith_attempt_2024-01-31-23-59-59_forward.py", "bsmith", "forward.py"),
    ("bob_42_2024-01-31T23-59_forward.ipynb", "bob", "forward.ipynb"),
])
def test_lms_names(name, student, file):
    assert parse_lms_name(name) == (student, file)


def test_file_names_map_to_modules():
    assert parse_file_name("alice_forward.py", MODULES) == NamedFile("alice", "forward.py")
    assert parse_file_name("bob_late_1_2_forward-2.py", MODULES) == NamedFile("bob", "forward.py", 2)
    assert parse_file_name("smithbob_1_2_my_forward.ipynb", MODULES) == NamedFile("smithbob", "forward.ipynb")
    assert parse_file_name("alice.py", MODULES) is None


def test_canvas_export_keeps_the_latest_resubmission(tmp_path):
    (tmp_path / "smithbob_340934_208490284_forward.py").write_bytes(b"old = 1\n")
    (tmp_path / "smithbob_340934_208490284_forward-1.py").write_bytes(CODE)
    (tmp_path / "doejane_late_340935_208490285_backprop.py").write_bytes(CODE)
    _zip(tmp_path / "leeann_340936_208490286_work.zip", {"work/forward.py": CODE})
    subs, warnings = _collect(tmp_path)
    assert set(subs) == {"smithbob", "doejane", "leeann"} and warnings == []
    assert subs["smithbob"].files == {"forward.py": CODE}
    assert subs["doejane"].files == {"backprop.py": CODE}
    assert subs["leeann"].files == {"forward.py": CODE}


def test_moodle_export_folders(tmp_path):
    folder = tmp_path / "Bob Smith_123456_assignsubmission_file_"
    folder.mkdir()
    (folder / "forward.py").write_bytes(CODE)
    (tmp_path / "Bob Smith_123456_assignsubmission_onlinetext_").mkdir()
    subs, warnings = _collect(tmp_path)
    assert list(subs) == ["Bob_Smith"] and warnings == []


def test_gradescope_export(tmp_path):
    export = tmp_path / "assignment_123_export"
    (export / "submission_1001").mkdir(parents=True)
    (export / "submission_1001" / "forward.py").write_bytes(CODE)
    (export / "submission_1002").mkdir()
    (export / "submission_1002" / "forward.ipynb").write_text("{}")
    (export / "submission_1003").mkdir()
    (export / "submission_metadata.yml").write_text(
        "submission_1001:\n  :submitters:\n  - :name: Solo Student\n    :sid: '100'\n    :email: solo@x.edu\n"
        "  :created_at: 2024-01-31 23:00:00.000000000 -08:00\n  :score: 0.0\n"
        "submission_1002:\n  :submitters:\n  - :name: Pair One\n    :sid: '200'\n  - :name: Pair Two\n"
        "    :sid: '201'\n"
    )
    subs, warnings = _collect(tmp_path)
    assert set(subs) == {"Solo_Student", "Pair_One_Pair_Two", "submission_1003"}
    assert subs["Solo_Student"].files == {"forward.py": CODE}
    assert any("group submission: Pair One, Pair Two" in n for n in subs["Pair_One_Pair_Two"].notes)
    assert any("submission_1003 is not in submission_metadata.yml" in w for w in warnings)


def test_a_whole_class_as_one_zip(tmp_path):
    inner = _zip(tmp_path / "inner.zip", {"forward.py": CODE})
    _zip(tmp_path / "submissions.zip", {
        "smithbob_1_2_forward.py": CODE,
        "doejane_3_4_hw.zip": inner.read_bytes(),
        "../evil.py": b"x = 1\n",
    })
    subs, warnings = _collect(tmp_path / "submissions.zip")
    assert set(subs) == {"smithbob", "doejane"}
    assert subs["doejane"].files == {"forward.py": CODE}
    assert any("leads outside the folder" in w for w in warnings)
    assert not (tmp_path.parent / "evil.py").exists()


def test_odd_entries_are_reported_not_crashed_on(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "forward.py").write_bytes(CODE)
    os.symlink(tmp_path / "alice", tmp_path / "link")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "\u00e9l\u00e8ve_forward.py").write_bytes(CODE)
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    (tmp_path / ".DS_Store").write_bytes(b"")
    subs, warnings = _collect(tmp_path)
    assert "alice" in subs and "broken" in subs and len(subs) == 3
    assert subs["broken"].files == {} and any("rejected" in n for n in subs["broken"].notes)
    assert any("link" in w for w in warnings) and any("report.pdf" in w for w in warnings)
