"""The grader's temporary folders: held while in use, removed by a later run once their owner
is gone, and nothing else ever removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import grader_env
from grader.tempdirs import LOCK, PREFIX, Owned, owned, sweep

HOLD = "import sys, time; from grader.tempdirs import Owned; print(Owned('t-').path, flush=True); time.sleep(120)"


def _holder(base: Path) -> tuple[subprocess.Popen, Path]:
    """A process that makes a folder in `base` and holds it until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True,
                            env=grader_env(TMPDIR=str(base)))
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_folder_whose_owner_was_killed_is_removed_and_one_in_use_is_kept(tmp_path):
    base = tmp_path / "tmp"
    base.mkdir()
    (killed, gone), (alive, kept) = _holder(base), _holder(base)
    try:
        (gone / "work").mkdir()
        (gone / "work" / "forward.py").write_text("x = 1\n")
        assert gone.parent == base and gone.name.startswith(PREFIX + "t-") and (gone / LOCK).is_file()
        assert sweep(base) == 0 and gone.exists() and kept.exists()  # both owners run
        killed.kill()  # SIGKILL: no chance to clean up
        killed.wait()
        assert sweep(base) == 1
        assert not gone.exists() and kept.exists()
    finally:
        for proc in (killed, alive):
            proc.kill()
            proc.wait()


def test_only_the_grader_s_own_folders_are_ever_removed(tmp_path):
    base = tmp_path / "tmp"
    base.mkdir()
    no_lock = base / f"{PREFIX}no-lock"  # not made by `Owned` (an older grader, another tool)
    no_lock.mkdir()
    other_name = base / "elsewhere"  # a folder not named like ours, with a free lock file
    other_name.mkdir()
    (other_name / LOCK).write_text("")
    target = tmp_path / "precious"  # a link named like ours, to a folder with a free lock file
    target.mkdir()
    (target / LOCK).write_text("")
    (base / f"{PREFIX}link").symlink_to(target)
    assert sweep(base) == 0
    assert no_lock.exists() and other_name.exists() and (target / LOCK).exists()


@pytest.mark.skipif(os.getuid() != 0, reason="making a file of another user needs root")
def test_a_lock_file_another_user_made_keeps_its_folder(tmp_path):
    # A student's process (another uid) may make a folder named like ours in /tmp: a sweep
    # never removes it, whatever it holds.
    base = tmp_path / "tmp"
    base.mkdir()
    theirs = base / f"{PREFIX}theirs"
    theirs.mkdir()
    (theirs / LOCK).write_text("")
    os.chown(theirs / LOCK, 65534, 65534)
    assert sweep(base) == 0 and theirs.exists()


def test_a_folder_is_removed_with_its_block_and_never_swept_while_held(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with owned("x-") as path:
        (path / "data").write_text("x")
        assert sweep(tmp_path) == 0 and path.exists()
    assert not path.exists()
    held = Owned()
    assert sweep(tmp_path) == 0 and held.path.exists()
    held.remove()
    assert not held.path.exists()
