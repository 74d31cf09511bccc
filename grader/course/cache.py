"""The course's expected values, cached on disk between runs.

Computing the expected data of every check from the reference (`grader.course.loading.compute_expected`)
is most of a run's fixed cost, and it depends on the course alone. So a run stores it in one file
per course and set of assignments, and the next run reads it back instead, as long as nothing it
depends on changed: the key (`fingerprint`) hashes every file of `assignments/` (course.toml,
extensions, settings, checks, mistake catalogs) and of `reference/`, the assignments graded, the
grader's version and every one of its source files, and the versions of Python, NumPy and SciPy.

Where: `$GRADER_COURSE_CACHE`, else `$XDG_CACHE_HOME/nn-grader`, else `~/.cache/nn-grader`.
`GRADER_COURSE_CACHE=off` (or `grade run --no-course-cache`) computes everything afresh.

Trust. The file holds hidden expected values, and a file that could be changed would change
grades. The folder is made private (0700) and each file is written 0600, atomically (a temporary
file, then a rename, so two runs that start at once each write a whole file and either wins).
A file is read only when it is a regular file owned by this user that no one else may read or
write, in a folder no one else may write; its header must name this format and this key, the
digest of its body must match, and the body must decode as plain data (the channel's decoder: no
code, no pickles) holding every check of the course. Anything else is ignored and rebuilt. A
sandboxed worker never sees the folder: tier 1 mounts neither the home folder nor anything of
the grader's user, and in tier 2 as root each worker runs under a uid of its own.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import platform
import stat
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import grader
from grader.course.loading import Assignment, Course
from grader.reports.output import OutputError, write_atomic
from grader.sources import source_files
from grader.worker import codec

CACHE_ENV = "GRADER_COURSE_CACHE"
"""the cache folder, or `off` to compute every run afresh"""
OFF = "off"
FORMAT = b"nn-grader course cache 1"
"""the first words of every cache file; a new layout of the file changes the number"""
MAX_BYTES = 1 << 30
"""a cache file larger than this is not read"""
_SKIPPED_PARTS = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")
_LIMITS = codec.MessageLimits(max_header_bytes=MAX_BYTES, max_array_bytes=MAX_BYTES)


def cache_dir() -> Path | None:
    """The folder of the cache files, or None when `$GRADER_COURSE_CACHE` is `off`."""
    env = os.environ.get(CACHE_ENV, "")
    if env.strip().lower() == OFF:
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nn-grader"


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(s in p.parts for s in _SKIPPED_PARTS))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def fingerprint(course_root: Path, assignments: list[Assignment], twins: bool = True) -> str:
    """The sha256 of everything the expected values of `assignments` depend on."""
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    add("format", FORMAT)
    add("grader", grader.__version__.encode())
    for name, path in source_files(Path(grader.__file__).resolve().parent).items():
        add(name, path.read_bytes())
    add("python", f"{sys.version} {platform.machine()}".encode())
    add("numpy", _version("numpy").encode())
    add("scipy", _version("scipy").encode())
    root = Path(course_root).resolve()
    for part in ("assignments", "reference"):
        for path in _files(root / part):
            add(f"{part}/{path.relative_to(root / part).as_posix()}", path.read_bytes())
    add("graded", "\0".join(a.name for a in assignments).encode())
    add("checks", "\0".join(f"{c.name}\0{c.visible}" for a in assignments for c in a.checks).encode())
    add("twins", str(twins).encode())
    return h.hexdigest()


def cache_file(folder: Path, course_root: Path, assignments: list[Assignment]) -> Path:
    """The one file of `course_root`'s `assignments` and their checks (a new key overwrites it)."""
    checks = "\0".join(c.name for a in assignments for c in a.checks)
    slot = hashlib.sha256(f"{Path(course_root).resolve()}\0{' '.join(a.name for a in assignments)}\0{checks}".encode())
    return Path(folder) / f"expected-{slot.hexdigest()[:24]}.grd"


def _private_folder(folder: Path, create: bool) -> bool:
    """Whether `folder` is ours and no one else may write to it (made 0700 when `create`)."""
    try:
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _header(key: str, body: bytes) -> bytes:
    return FORMAT + b" " + key.encode() + b" " + hashlib.sha256(body).hexdigest().encode() + b"\n"


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: decoding a course's expected data makes some
    100,000 containers, none of them garbage, and the collections they would set off more than
    double the time of reading the file (0.4 s instead of 0.15 s for this course's 9 MB)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def load(path: Path, key: str, check_names: list[str]) -> dict[str, Any] | None:
    """The expected values stored in `path` under `key`, or None when the file is missing,
    foreign, stale, corrupt or not private (see the module's docstring)."""
    if not _private_folder(path.parent, create=False):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077
                or info.st_size > MAX_BYTES):
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            head = f.readline(len(FORMAT) + 200)
            body = f.read()
        if head != _header(key, body):
            return None
        os.lseek(fd, len(head), os.SEEK_SET)
        with _collector_paused():
            _, value = codec.read_message(fd, limits=_LIMITS)
    except Exception:  # whatever is wrong with the file, it is rebuilt  # noqa: BLE001
        return None
    finally:
        os.close(fd)
    if not isinstance(value, dict) or any(name not in value for name in check_names):
        return None
    return value


def store(path: Path, key: str, expected: dict[str, Any]) -> bool:
    """Write `expected` under `key` to `path` (private, atomic); False when the folder is not
    private or the file cannot be written (the run goes on without a cache)."""
    if not _private_folder(path.parent, create=True):
        return False
    body = codec.encode_message(expected, limits=_LIMITS)
    try:
        write_atomic(path, _header(key, body) + body, mode=0o600)
    except OutputError:
        return False
    return True


def _found(course_root: Path, assignments: list[Assignment], folder: Path) -> tuple[str, Path, dict[str, Any] | None]:
    """The key and file of `assignments`' expected data in `folder`, and the data if it is there."""
    key = fingerprint(course_root, assignments)
    path = cache_file(folder, course_root, assignments)
    return key, path, load(path, key, [c.name for a in assignments for c in a.checks])


def cached_expected(
    course_root: Path,
    assignments: list[Assignment],
    compute: Callable[[], dict[str, Any]],
    folder: Path | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """The expected data of `assignments`: read from the cache when it holds this course's,
    else `compute()` and stored. `folder` defaults to `cache_dir()`; `use_cache=False` (or no
    folder) always computes."""
    folder = folder if folder is not None else cache_dir()
    if not use_cache or folder is None:
        return compute()
    key, path, found = _found(course_root, assignments, folder)
    if found is not None:
        return found
    expected = compute()
    store(path, key, expected)
    return expected


def expected_of(course: Course, use_cache: bool = True) -> dict[str, Any]:
    """`course.expected`, read from the cache when it holds this course's (and then kept as
    `course.expected`, so it is never computed on top)."""
    if "expected" in vars(course):  # computed already
        return course.expected
    return _kept(course, cached_expected(course.root, course.assignments, lambda: course.expected,
                                         use_cache=use_cache))


def _kept(course: Course, expected: dict[str, Any]) -> dict[str, Any]:
    """`expected`, kept as `course.expected` (what the `cached_property` would hold), so that it is
    never read or computed again; the reference loaded too (it names its parameters in the
    feedback)."""
    course.reference  # noqa: B018
    vars(course)["expected"] = expected
    return expected


def cached_only(course: Course, use_cache: bool = True) -> dict[str, Any] | None:
    """`course`'s expected values when they need no computing (computed already, or in the
    cache; then kept as `expected_of` keeps them), else None: computes nothing."""
    if "expected" in vars(course):
        return course.expected
    folder = cache_dir() if use_cache else None
    found = None if folder is None else _found(course.root, course.assignments, folder)[2]
    return None if found is None else _kept(course, found)


def warm(course_root: Path, names: list[str] | None = None) -> dict[str, Any]:
    """Compute (or read) the course's expected values into the cache: what Gradescope's
    `setup.sh` runs once, so that no submission's container computes them."""
    return expected_of(Course.load(Path(course_root), names))


if __name__ == "__main__":  # python -m grader.course.cache COURSE [SETTINGS.json]
    import json

    settings = json.loads(Path(sys.argv[2]).read_text()) if len(sys.argv) > 2 else {}
    expected = warm(Path(sys.argv[1]), settings.get("assignments") or None)
    print(f"course cache: the expected values of {len(expected)} checks in {cache_dir()}")
