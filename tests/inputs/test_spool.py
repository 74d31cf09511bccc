"""The spool: submissions' files wait on disk, not in memory, and come back byte for byte."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.inputs.discover import Submission
from grader.inputs.spool import Spool
from grader.reports.output import OutputError
from grader.tempdirs import LOCK

FILES = st.dictionaries(st.text(min_size=1, max_size=12), st.binary(max_size=300), max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.lists(FILES, min_size=1, max_size=4))
def test_files_put_in_the_spool_come_back_the_same_and_are_not_held_meanwhile(classes):
    # every submission is named alike: the spool tells them apart by identity, never by name
    subs = [Submission("same-name", Path("."), dict(files)) for files in classes]
    with Spool() as spool:
        for sub in subs:
            spool.put(sub)
            assert sub.files == {}
        for sub, files in reversed(list(zip(subs, classes, strict=True))):  # any order
            spool.take(sub)
            assert sub.files == files and list(sub.files) == list(files)
        assert [p.name for p in spool.folder.iterdir()] == [LOCK]  # each taken file is gone at once


def test_the_spool_is_private_and_removed_with_what_was_never_taken(tmp_path):
    with Spool() as spool:
        folder = spool.folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        spool.put(Submission("ada", Path("."), {"forward.py": b"x = 1\n"}))
        assert len(list(folder.iterdir())) == 2  # its file and the folder's lock
        lone = Submission("never-put", Path("."), {"forward.py": b"y"})
        spool.take(lone)  # a submission never put keeps its files
        assert lone.files == {"forward.py": b"y"}
    assert not folder.exists()


def test_a_spool_that_cannot_be_written_or_read_back_says_so_in_one_error(tmp_path):
    spool = Spool()
    try:
        shutil.rmtree(spool.folder)  # the folder is gone (a cleaner, a full disk): nothing can be written
        with pytest.raises(OutputError, match="grade-spool-"):
            spool.put(Submission("ada", Path("."), {"forward.py": b"x"}))
        spool.folder.mkdir()
        sub = Submission("bob", Path("."), {"forward.py": b"y"})
        spool.put(sub)
        for path in spool.folder.glob("*.bin"):
            path.unlink()
        with pytest.raises(OutputError, match="could not be read back"):
            spool.take(sub)
    finally:
        spool.close()
    assert not spool.folder.exists()
