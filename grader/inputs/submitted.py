"""When a submission was made and who made it, as far as its layout says (read on the trusted side).

What each layout provides (checked against each LMS's download format):

| layout | submission time | ids |
|---|---|---|
| Gradescope export | `:created_at:` of the submission in `submission_metadata.yml` | `:sid:`, `:email:` |
| Blackboard | the `attempt_YYYY-MM-DD-HH-MM-SS` in the name (local time: the course's zone) | - |
| Canvas | none (the name carries only `_late_`, no date) | the Canvas user id |
| Moodle | none | the assignment's participant id |
| a git repository (`alice/.git`) | the last commit's committer date | - |
| a folder, zip or flat files | none | - |

A file's modification time is never a submission time: unzipping, copying or checking out sets
it. A git commit date is what the student's own machine said when committing (`git commit
--date` sets anything), so it is only as trustworthy as the student; a server's receipt
(Gradescope's, Blackboard's) is not.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

_BLACKBOARD_TIME = re.compile(r"_attempt_(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})(?:_|$)")
_CANVAS_IDS = re.compile(r"^[^_]+?(?:_late)?_(?P<user>\d+)_(?P<attachment>\d+)_", re.IGNORECASE)
_MOODLE_IDS = re.compile(r"^.+?_(?P<participant>\d+)_assignsubmission_(?:file|onlinetext)_")
GIT_TIMEOUT = 10.0
"""seconds `git log` may take on one student's repository"""


def time_from_name(name: str) -> datetime | None:
    """The submission time a file name carries (Blackboard's attempt stamp), naive; or None."""
    m = _BLACKBOARD_TIME.search(name)
    if not m:
        return None
    try:
        return datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None


def ids_from_name(name: str) -> dict[str, str]:
    """The LMS ids an export's file or folder name carries: Canvas's user id, Moodle's participant id."""
    m = _MOODLE_IDS.match(name)
    if m:
        return {"moodle_participant": m.group("participant")}
    m = _CANVAS_IDS.match(name)
    if m:
        return {"canvas_id": m.group("user")}
    return {}


def gradescope_time(info: object) -> datetime | None:
    """`:created_at:` of one submission's entry in Gradescope's `submission_metadata.yml`."""
    if not isinstance(info, dict):
        return None
    value = info.get(":created_at") or info.get("created_at")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return value if isinstance(value, datetime) else None


def gradescope_ids(info: object) -> dict[str, str]:
    """The first submitter's `sid` and `email` (a group's others are in the notes)."""
    people = info.get(":submitters") or info.get("submitters") if isinstance(info, dict) else None
    if not isinstance(people, list) or not people or not isinstance(people[0], dict):
        return {}
    first = people[0]
    ids = {"sid": first.get(":sid") or first.get("sid"), "email": first.get(":email") or first.get("email")}
    return {k: str(v) for k, v in ids.items() if v}


def git_commit_time(folder: Path, timeout: float = GIT_TIMEOUT) -> datetime | None:
    """The last commit's committer date of the repository at `folder` (`folder/.git`), or None.

    Runs `git log -1 --format=%cI` with no configuration but the repository's own, nothing that
    could run a program the repository names (no pager, no fsmonitor, no signature check, no
    hooks: `log` runs none), no prompt and a timeout.
    """
    if not (Path(folder) / ".git").is_dir() or os.path.islink(Path(folder) / ".git"):
        return None
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
           "HOME": os.devnull, "LC_ALL": "C"}
    command = ["git", "--no-pager", "-c", "core.fsmonitor=false", "-c", "log.showSignature=false",
               "-c", f"safe.directory={Path(folder).resolve()}", "-C", str(folder),
               "log", "-1", "--no-show-signature", "--no-mailmap", "--format=%cI"]
    try:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        return datetime.fromisoformat(done.stdout.decode("ascii", "replace").strip()) if done.returncode == 0 else None
    except ValueError:
        return None
