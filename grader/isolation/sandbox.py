"""Where a worker runs: the isolation tier, its command line, and the clean-up after it.

Tier 1, `bwrap` (bubblewrap), when it is installed and can create namespaces here (probed once
per process, not assumed): the worker gets its own PID, network, IPC and UTS namespaces (no
network at all), a new session (no terminal), a cleared environment, and a file system built
from scratch: the system and the Python installation read-only, the grader's worker package
read-only, the submission's files read-only in a small writable folder, a small fresh /tmp,
a minimal /proc and /dev. Nothing else of the host is visible: not the reference, not the
assignments' hidden checks, not the output folder, not other submissions, not $HOME. Killing
bwrap kills the PID namespace, so no process the student started survives. When the grader
runs as root, bwrap starts without a user namespace and the worker drops, before any student
code, to an unprivileged uid of its own (root is exempt from RLIMIT_NPROC; a uid is not).

Tier 2, `none`: `python -I` with a cleared environment, a fresh HOME, /tmp and working folder,
stdin from /dev/null, the same resource limits, and the import guard. Other processes' files
are protected only by Unix permissions and the guard; the report says so on every page. As
root, each worker drops to its own unprivileged uid, which must be able to run the Python
installation and the grader (the probe checks); where none can, workers would run as root,
and `check_root` refuses that unless the instructor asked for it (`--unsafe-run-as-root`).
Clean-up kills every process of the worker's uid, or those with a token in their environment;
a keeper process (`grader.worker.keeper`) kills the worker's whole tree when the grader dies.

Python and the grader may be installed anywhere, /tmp included: the sandbox's own /tmp is
mounted first and the installation inside it.

See SECURITY.md for what each tier guarantees and what it does not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import site
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grader.tempdirs import Owned

MODES = ("auto", "bwrap", "none")
GRADER_DIR = Path(__file__).resolve().parent.parent
GRADER_PARENT = str(GRADER_DIR.parent)
WORKER_PACKAGE = "worker"
"""the only grader code a tier-1 worker sees: `grader/worker/` and the package's `__init__.py`"""

# Paths inside a tier-1 sandbox.
BOX_GRADER = "/opt/grader"
BOX_WORK = "/submission"
BOX_TMP = "/tmp"
TMPFS_BYTES = 64 << 20
"""size of each of the sandbox's two writable folders (the working folder and /tmp)"""

UID_BASE = int(os.environ.get("GRADER_SANDBOX_UID_BASE", "2100000"))
"""When the grader runs as root, worker k runs as uid/gid UID_BASE + k (no account needed)."""
UID_SLOTS = 256

ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    # One BLAS thread: threads count against the process limit, and grading is parallel
    # across submissions anyway.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class SandboxError(Exception):
    """`--sandbox bwrap` was asked for, but bubblewrap cannot work here."""


@dataclass(frozen=True)
class Isolation:
    """How workers are isolated in this run (see the module docstring)."""

    tier: str
    """`"bwrap"` or `"none"`"""
    separate_uids: bool = False
    """each worker runs under its own unprivileged uid (the grader runs as root)"""
    reason: str = ""
    """why bwrap is not used, for the notice"""
    as_root: bool = False
    """tier 2 as root with no uid to drop to: workers would run as root, which `check_root`
    refuses unless the instructor asked for it (`--unsafe-run-as-root`)"""
    why_root: str = ""
    """why no unprivileged uid can run Python here (for the refusal)"""

    @property
    def notices(self) -> list[str]:
        """What every student's report of this run says first: one plain sentence, no detail."""
        if self.tier == "bwrap":
            return []
        return ["NOT SANDBOXED: this run graded your code without the usual sandbox; "
                "your score is computed the same way."]

    @property
    def instructor_notices(self) -> list[str]:
        """The detail, for the terminal and the class summary (never a student's report)."""
        if self.tier == "bwrap":
            return []
        caveat = ""
        if self.as_root:
            caveat = (" It ran as root (--unsafe-run-as-root): only the guard kept it from the machine, "
                      "and the number of processes was not capped.")
        return [
            f"NOT SANDBOXED: {self.reason}. The code ran as `python -I` with resource limits and "
            f"the import guard only, without isolation from the rest of the machine.{caveat}"
        ]


_cache: dict[str, Isolation] = {}
_cache_lock = threading.Lock()


def resolve(mode: str = "auto") -> Isolation:
    """The isolation for `mode` (`auto`, `bwrap`, `none`), probed once per process.

    Raises `SandboxError` for `bwrap` when bubblewrap cannot work, with the reason in one line.
    """
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode!r} (use {', '.join(MODES)})")
    with _cache_lock:
        if mode not in _cache:
            _cache[mode] = _resolve(mode)
        return _cache[mode]


def resolve_soon(mode: str = "auto") -> None:
    """Start `resolve(mode)` in a thread of its own: its probe is a sandboxed interpreter that
    runs beside the caller's work (loading the course), and `resolve` then waits for it. Errors
    are left to the caller's own `resolve` to raise. Not a daemon: a run that ends first waits
    for the probe to clean up after itself."""
    def probe() -> None:
        with contextlib.suppress(SandboxError, ValueError):
            resolve(mode)

    threading.Thread(target=probe, name="sandbox-probe").start()


def likely(mode: str = "auto") -> Isolation | None:
    """What `resolve(mode)` returns where bubblewrap works, when nothing else its probe finds
    changes how a worker is launched: a template (`grader.isolation.slots.ahead`) may then be
    launched while the probe still runs, and is used only if the probe agrees. None for
    `none`, without bwrap, and for a user's own bwrap 0.8 or newer (its probe decides whether
    `--disable-userns` is used)."""
    if mode == "none" or shutil.which("bwrap") is None:
        return None
    if os.geteuid() != 0 and _bwrap_version() >= (0, 8):
        return None
    return _bwrap_isolation()


def _bwrap_isolation() -> Isolation:
    """Tier 1 as this process runs it: as root, each worker under a uid of its own."""
    return Isolation("bwrap", separate_uids=os.geteuid() == 0)


def _resolve(mode: str) -> Isolation:
    if mode != "none":
        problem = _probe_bwrap()
        if problem is None:
            return _bwrap_isolation()
        if mode == "bwrap":
            raise SandboxError(f"--sandbox bwrap: {problem}; use --sandbox none to grade without it")
        reason = problem
    else:
        reason = "--sandbox none was chosen"
    why_root = _probe_uid() if os.geteuid() == 0 else None
    separate = why_root is None and os.geteuid() == 0
    _harden_trusted_process()
    return Isolation("none", separate_uids=separate, reason=reason, as_root=why_root is not None,
                     why_root=why_root or "")


def check_root(iso: Isolation, run_as_root: bool) -> None:
    """Refuse, in one line, to run student code as root, unless `run_as_root` asks for it."""
    if iso.as_root and not run_as_root:
        raise SandboxError(
            f"student code would run as root: no unprivileged uid can run this Python ({iso.why_root}); "
            "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or grade with a Python "
            "installed outside a private home folder, or pass --unsafe-run-as-root "
            "(only in a disposable container)"
        )


# ---------------------------------------------------------------- probes


@cache
def _bwrap_version() -> tuple[int, ...]:
    try:
        out = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(x) for x in m.groups(default="0")) if m else ()


_disable_userns = [False]
"""whether bwrap's --disable-userns works here (bwrap 0.8 and a kernel that allows it)"""


def _probe_bwrap() -> str | None:
    """None when bwrap can run a worker here; otherwise the real reason why not (one line)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    if os.geteuid() != 0 and _bwrap_version() >= (0, 8):
        _disable_userns[0] = True
        if _probe_once() is None:
            return None
        _disable_userns[0] = False
    return _probe_once()


def _probe_once() -> str | None:
    """Start a real worker's interpreter in the sandbox; if that fails, a shell in the same
    sandbox, to tell "bwrap cannot work here" from "a worker cannot start in it"."""
    uid = UID_BASE if os.geteuid() == 0 else -1
    code = (  # what a worker does first: import its files, drop its uid, import NumPy
        f"import os, sys; u = int(sys.argv[1]); sys.path.insert(0, {BOX_GRADER!r}); import grader.worker.serve\n"
        "if u >= 0: os.setgroups([]); os.setgid(u); os.setuid(u)\n"
        "import numpy.linalg"
    )
    worker = _probe_run(uid, [sys.executable, "-I", "-c", code, str(uid)])
    if worker is None:
        return None
    if _probe_run(uid, ["/bin/sh", "-c", "exit 0"]) is not None:
        return f"bwrap cannot create a sandbox here ({worker})"
    return (f"bwrap works here, but a worker cannot start inside it ({worker}); "
            f"Python is at {sys.executable}, mounted from {', '.join(_python_roots()) or 'nowhere'}")


def _probe_run(uid: int, inner: list[str]) -> str | None:
    """None when `inner` exits 0 in a worker's sandbox; otherwise its last line of complaint."""
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as scratch:
        os.mkdir(os.path.join(scratch, "work"))
        argv = _bwrap_argv(Isolation("bwrap", uid >= 0), scratch, [], {"HOME": BOX_TMP}, inner)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bwrap could not be started: {exc}"
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return (lines[-1].strip() if lines else f"exit status {proc.returncode}")[:300]


def _probe_uid() -> str | None:
    """As root: None when an unprivileged uid can run this Python, import NumPy and the
    worker's grader files; otherwise why not (one line)."""
    code = f"import sys; sys.path.insert(0, {GRADER_PARENT!r}); import numpy, grader.worker.serve"
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as scratch:
        os.chown(scratch, UID_BASE, UID_BASE)
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-c", code], cwd=scratch, env={**ENV, "HOME": scratch},
                user=UID_BASE, group=UID_BASE, extra_groups=[], capture_output=True, text=True, timeout=30,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"uid {UID_BASE} cannot start {sys.executable}: {exc}"
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return f"uid {UID_BASE}: " + (lines[-1].strip() if lines else f"exit status {proc.returncode}")[:300]


def _harden_trusted_process() -> None:
    """Without a sandbox, hide this process's /proc files (environ, fds, memory) from workers
    running under the same uid: a non-dumpable process needs CAP_SYS_PTRACE to be inspected."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------- uids


class _UidPool:
    """Uids for workers, unique across every grader running on this machine (lock files)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # uid -> fd of its lock file

    def _folder(self) -> str:
        folder = os.path.join(tempfile.gettempdir(), f"nn-grader-uids-{os.geteuid()}")
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise RuntimeError(f"{folder} is not a private folder of this user")
        return folder

    def acquire(self) -> int:
        with self._lock:
            folder = self._folder()
            for uid in range(UID_BASE, UID_BASE + UID_SLOTS):
                if uid in self._held:
                    continue
                path = os.path.join(folder, f"{uid}.lock")
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise RuntimeError(f"more than {UID_SLOTS} workers at once on this machine")

    def release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
            if fd is not None:
                os.close(fd)  # closing drops the lock


uids = _UidPool()


# ---------------------------------------------------------------- launching


@cache
def _python_roots() -> tuple[str, ...]:
    """The folders of the Python installation a worker needs (read-only in the sandbox)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates |= {os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    paths = sysconfig.get_paths()
    candidates |= {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    candidates |= set(site.getsitepackages())
    # Never mount a folder that holds the course checkout or the user's home: that would expose
    # them. (An installed grader's parent is site-packages, which is no secret.)
    private = [os.path.expanduser("~"), os.environ.get("GRADER_COURSE", "")]
    if os.path.basename(GRADER_PARENT) not in ("site-packages", "dist-packages"):
        private.append(GRADER_PARENT)
    private = [os.path.realpath(p) + "/" for p in private if p]
    roots: list[str] = []
    for path in sorted(os.path.realpath(p) for p in candidates if p and os.path.isdir(p)):
        if path in ("/", "/usr") or path.startswith("/usr/") or any(path.startswith(r + "/") for r in roots):
            continue  # the system is mounted already; a root's subfolder comes with it
        if any(p.startswith(path + "/") for p in private):
            continue
        roots.append(path)
    return tuple(roots)


@cache
def _system_binds() -> tuple[str, ...]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return (*args, "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache")


TEMPLATE_CAPS = ("CAP_SYS_ADMIN", "CAP_SETPCAP")
"""what a tier-1 worker template keeps besides CAP_SETUID and CAP_SETGID, for its children to
build their own namespaces and drop their bounding set (`grader.worker.forkserver`)"""


def _bwrap_argv(
    iso: Isolation, scratch: str, files: list[str], env: dict[str, str], inner: list[str],
    extra_caps: tuple[str, ...] = (),
) -> list[str]:
    if iso.separate_uids:
        # As root, no user namespace: the worker then drops to a real unprivileged uid, which
        # RLIMIT_NPROC binds; it keeps only the capability to do that until it has.
        args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-drop", "ALL"]
        for cap in ("CAP_SETUID", "CAP_SETGID", *extra_caps):
            args += ["--cap-add", cap]
    else:
        # A user namespace (always, also where bwrap is setuid), in which RLIMIT_NPROC counts
        # only the sandbox's processes; no further user namespaces inside it.
        args = ["bwrap", "--unshare-all", "--unshare-user"]
        if _disable_userns[0]:
            args.append("--disable-userns")
    # --die-with-parent: the parent is the *thread* that started bwrap, so a worker must be
    # started and stopped by the same thread (grading does one submission per thread).
    args += ["--die-with-parent", "--new-session", "--clearenv"]
    for key, value in {**ENV, "TMPDIR": BOX_TMP, **env}.items():
        args += ["--setenv", key, value]
    args += _system_binds()
    # Both writable folders are sticky and world-writable (like /tmp): a worker that dropped
    # its uid must be able to write there, and only there. They are mounted before the Python
    # installation, so that one installed under /tmp (a virtual environment in CI) is mounted
    # inside the sandbox's own /tmp instead of being hidden by it.
    args += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", BOX_WORK]
    args += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", BOX_TMP]
    # Mount points' parents are created world-traversable (bwrap would copy a 0700 $HOME's
    # mode, and a worker that dropped its uid could not reach a Python installed there).
    mounts = (*_python_roots(), f"{BOX_GRADER}/grader")
    parents = sorted({str(p) for m in mounts for p in Path(m).parents} - {"/", BOX_WORK, BOX_TMP})
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    for root in _python_roots():
        args += ["--ro-bind", root, root]
    args += ["--ro-bind", str(GRADER_DIR / "__init__.py"), f"{BOX_GRADER}/grader/__init__.py"]
    args += ["--ro-bind", str(GRADER_DIR / WORKER_PACKAGE), f"{BOX_GRADER}/grader/{WORKER_PACKAGE}"]
    for name in files:
        args += ["--ro-bind", os.path.join(scratch, "work", name), f"{BOX_WORK}/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--chdir", BOX_WORK]
    # The sandbox's own root and /dev are unbounded tmpfs (RAM) that a worker in a user
    # namespace owns: read-only, so only the two sized folders above take writes.
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    return args + ["--", *inner]


@dataclass
class Launch:
    """How to start one worker: `subprocess.Popen(argv, cwd=cwd, env=env, ...)`. It starts as
    the grader's user; the worker drops to its own uid itself (`config["uid"]`)."""

    argv: list[str]
    cwd: str
    env: dict[str, str]


def prepare_scratch(iso: Isolation, files: dict[str, bytes], uid: int | None) -> Owned:
    """A fresh folder holding `work/` (the submission's copy), `home/` and `tmp/` (held until
    `Owned.remove`: a run killed with -9 leaves it to the next run's `grader.tempdirs.sweep`)."""
    owned = Owned()
    scratch = str(owned.path)
    for sub in ("work", "home", "tmp"):
        os.mkdir(os.path.join(scratch, sub))
    for name, data in files.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", name):
            raise ValueError(f"not a module file name: {name!r}")
        Path(scratch, "work", name).write_bytes(data)
    if iso.tier == "none" and uid is not None:
        for folder in (scratch, *(os.path.join(scratch, s) for s in ("work", "home", "tmp"))):
            os.chown(folder, uid, uid)
    return owned


def launch(iso: Isolation, scratch: str, files: list[str], fds: tuple[int, int], config: dict[str, object],
           uid: int | None, token: str, bootstrap: str) -> Launch:
    """The command line of a worker over the submission copy in `scratch`.

    `config` goes to the worker (limits and the like); this adds the paths it may write, the
    uid it drops to (as root), and in tier 2 its keeper's tie to this process (`grader.worker.keeper`).
    `token` marks the worker's environment.
    """
    config = worker_config(iso, scratch, config, uid)
    if iso.tier == "bwrap":
        inner = [sys.executable, "-I", "-c", bootstrap, BOX_GRADER, *map(str, fds), json.dumps(config)]
        env = {"HOME": BOX_TMP, "GRADER_WORKER": token}
        return Launch(_bwrap_argv(iso, scratch, files, env, inner), scratch, {})
    home, tmp = os.path.join(scratch, "home"), os.path.join(scratch, "tmp")
    argv = [sys.executable, "-I", "-c", bootstrap, GRADER_PARENT, *map(str, fds), json.dumps(config)]
    env = {**ENV, "HOME": home, "TMPDIR": tmp, "GRADER_WORKER": token}
    return Launch(argv, os.path.join(scratch, "work"), env)


def worker_config(iso: Isolation, scratch: str, config: dict[str, object], uid: int | None) -> dict[str, object]:
    """`config` for the worker of the submission in `scratch`, with what its tier adds: the paths
    it may write, the uid it drops to (as root), and in tier 2 its keeper's tie to this process."""
    if iso.tier == "bwrap":
        return {**config, "writable": [BOX_TMP], "uid": uid}
    # Tier 2: the worker splits off a keeper that ties its whole tree to this process's life
    # (`grader.worker.keeper`); as root, the keeper stays root and the worker drops to `uid` itself.
    home, tmp = os.path.join(scratch, "home"), os.path.join(scratch, "tmp")
    return {**config, "writable": [home, tmp], "uid": uid if iso.separate_uids else None,
            "keeper": os.getpid(), "run_as_root": iso.as_root}


def uses_template(iso: Isolation) -> bool:
    """Whether workers are forked from a per-slot template (`grader.worker.forkserver`) in this tier.

    Tier 1 only as root (the template then keeps the capabilities its children need to build
    their own namespaces, see SECURITY.md); in a user namespace each worker gets its own bwrap.
    """
    return iso.tier == "none" or iso.separate_uids


def launch_template(iso: Isolation, control_fd: int, token: str, bootstrap: str) -> Launch:
    """The command line of a worker template (`grader.worker.forkserver`) for this process's workers.

    Tier 1: the sandbox of a worker, without any submission's files (each child mounts its own
    working folder and /tmp), keeping `TEMPLATE_CAPS`. Tier 2: a plain `python -I`. `token`
    marks the environment of the template and of the workers it forks.
    """
    settings = json.dumps({"tier": iso.tier, "grader": os.getpid()})
    if iso.tier == "bwrap":
        inner = [sys.executable, "-I", "-c", bootstrap, BOX_GRADER, str(control_fd), settings]
        env = {"HOME": BOX_TMP, "GRADER_WORKER": token}
        return Launch(_bwrap_argv(iso, "/nonexistent", [], env, inner, TEMPLATE_CAPS), "/", {})
    argv = [sys.executable, "-I", "-c", bootstrap, GRADER_PARENT, str(control_fd), settings]
    return Launch(argv, "/", {**ENV, "HOME": "/nonexistent", "GRADER_WORKER": token})


def child_command(iso: Isolation, scratch: str, token: str) -> dict[str, object]:
    """What a template needs to fork the worker of the submission copied to `scratch`, beside
    its config: tier 1, where to mount its fresh folders; tier 2, its folder and environment."""
    if iso.tier == "bwrap":
        return {"work": BOX_WORK, "tmp": BOX_TMP, "tmpfs": TMPFS_BYTES}
    home, tmp = os.path.join(scratch, "home"), os.path.join(scratch, "tmp")
    return {"cwd": os.path.join(scratch, "work"),
            "env": {**ENV, "HOME": home, "TMPDIR": tmp, "GRADER_WORKER": token}}


def process_headroom(iso: Isolation) -> int:
    """Tasks this user already runs, when RLIMIT_NPROC counts them against a worker too.

    Only tier 2 without a separate uid: there the limit counts every process of the user. In
    tier 1 it counts the sandbox's own user namespace (or the worker's own uid).
    """
    if iso.tier == "bwrap" or iso.separate_uids or os.geteuid() == 0:
        return 0
    uid, count = os.getuid(), 1  # the worker's keeper, not started yet
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


# ---------------------------------------------------------------- clean-up


def reap(iso: Isolation, token: str, uid: int | None, spare: int | None = None, *more: str) -> None:
    """Kill whatever the worker left running, after its process group was killed.

    Tier 1: nothing to do (the PID namespace died with bwrap). Tier 2 under a separate uid:
    every process of that uid. Otherwise: every process whose environment holds `token` (or one
    of `more`), except `spare` (the worker template, whose environment its forks inherit).
    """
    if iso.tier == "bwrap":
        return
    if iso.separate_uids and uid is not None:
        _kill_uid(uid)
        return
    needles = [f"GRADER_WORKER={t}".encode() + b"\0" for t in (token, *more)]
    for _ in range(20):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or entry.name == str(spare):
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as f:
                    environ = f.read(1 << 20)
                marked = any(n in environ for n in needles)
            except OSError:
                continue
            if marked:
                found = True
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.01)


def _kill_uid(uid: int) -> None:
    # kill(-1) sent *as* the uid reaches exactly that uid's processes, and never this one.
    kill = shutil.which("kill")
    code = "import os\ntry: os.kill(-1, 9)\nexcept OSError: raise SystemExit(1)"
    argv = [kill, "-9", "-1"] if kill else [sys.executable, "-I", "-S", "-c", code]
    for _ in range(50):
        try:
            done = subprocess.run(argv, user=uid, group=uid, extra_groups=[], capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return
        if done.returncode != 0:  # nothing left to signal
            return
        time.sleep(0.01)
