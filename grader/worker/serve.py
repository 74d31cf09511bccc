"""The worker: the only place student code runs.

Started by `grader.isolation.runner` (command line from `grader.isolation.sandbox`) as `python -I` in a copy of one
submission. Before any student code it confines itself for good: resource limits (memory, CPU,
file size, open files, processes), an unprivileged uid when asked, and the import and
system-call guard of `grader.worker.policy`. Then it reads call requests from one pipe, imports the
student's module, calls the function and writes back only plain data (see `grader.worker.codec`) on
another pipe. It judges nothing and writes no report; whatever it sends is validated by the
trusted side, which also owns every timeout.
"""

from __future__ import annotations

import _signal
import dis
import errno
import importlib
import importlib.util
import io
import json
import os
import resource
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from grader.worker import codec, policy

OUTPUT_CAP = 64 * 1024  # bytes of print() output kept per stream; the rest is dropped
_limits: dict[str, Any] = {}


class _CappedStream(io.TextIOBase):
    """A text stream over a file descriptor that silently drops output past a cap."""

    def __init__(self, fd: int, cap: int) -> None:
        self._fd = fd
        self._left = cap

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if self._left > 0 and s:
            # Cut before encoding: a gigabyte string costs no more than the cap.
            data = str(s)[: self._left].encode("utf-8", "replace")[: self._left]
            self._left -= len(data)
            try:
                os.write(self._fd, data)
            except OSError:
                self._left = 0
        return len(s)


# ---------------------------------------------------------------- inert display libraries

_UNPACK_SEQUENCE = dis.opmap["UNPACK_SEQUENCE"]
_UNPACK_EX = dis.opmap["UNPACK_EX"]


_EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]


def _unpacking(frame: Any) -> int:
    """How many values the instruction `frame` is executing unpacks (`fig, ax = ...`), else 0."""
    code, i = frame.f_code.co_code, frame.f_lasti
    if code[i] not in (_UNPACK_SEQUENCE, _UNPACK_EX):
        return 0
    arg, j, shift = code[i + 1], i - 2, 8
    while j >= 0 and code[j] == _EXTENDED_ARG:  # arguments above 255 are spread over prefixes
        arg |= code[j + 1] << shift
        j, shift = j - 2, shift + 8
    if code[i] == _UNPACK_EX:  # a, *rest, b = ...: the starred part gets nothing
        return (arg & 0xFF) + (arg >> 8)
    return arg


class Inert:
    """Whatever a display library offers, doing nothing: attributes, calls, `with`, indexing.

    A call whose first argument is iterable (`tqdm(x)`, `pandas.Series(x)`) gives an object that
    iterates over that argument, so `for i in tqdm(range(n))` runs the loop; `trange(n)` iterates
    over `range(n)`. Otherwise iterating gives nothing, except where the values are unpacked:
    `fig, ax = plt.subplots()` gets two inert objects.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Any = None) -> None:
        object.__setattr__(self, "_items", items)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Trange() if name == "trange" else Inert()

    def __setattr__(self, name: str, value: Any) -> None:
        pass

    def __delattr__(self, name: str) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> Inert:
        first = args[0] if args else kwargs.get("iterable")
        if first is not None and not isinstance(first, Inert) and hasattr(first, "__iter__"):
            return Inert(first)
        return Inert()

    def __iter__(self) -> Iterator[Any]:
        if self._items is not None:
            return iter(self._items)
        return iter([Inert() for _ in range(_unpacking(sys._getframe(1)))])

    def __len__(self) -> int:
        try:
            return len(self._items) if self._items is not None else 0
        except TypeError:
            return 0

    def __getitem__(self, key: Any) -> Inert:
        return Inert()

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __enter__(self) -> Inert:
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "<nothing: display libraries are inert while graded>"

    def __format__(self, spec: str) -> str:
        return ""


class _Trange(Inert):
    """`tqdm.trange(*args)`: an inert progress bar over `range(*args)`."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Inert:
        try:
            return Inert(range(*args))
        except TypeError:
            return Inert()


def _inert_attribute(name: str) -> Any:
    """A stand-in module's `__getattr__` (PEP 562): every name is inert."""
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return _Trange() if name == "trange" else Inert()


class InertFinder:
    """An import finder that gives `policy.INERT_MODULES` (and their submodules) inert modules,
    except where the submission has a module of that name itself."""

    def __init__(self, own: list[str]) -> None:
        self.own = frozenset(own)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> Any:
        top = fullname.split(".")[0]
        if policy.is_inert(fullname) and top not in self.own:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> Any:
        module = type(sys)(spec.name)
        module.__getattr__ = _inert_attribute  # type: ignore[method-assign]
        module.__all__ = []  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: Any) -> None:
        pass


# ---------------------------------------------------------------- what a call did

WARNINGS_KEPT = 5  # distinct RuntimeWarnings reported per call; the trusted side caps them again
_NUMPY_DEFAULT_ERRORS = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
_global_rng_used: list[bool] = [False]
"""set when the student's code uses NumPy's global random state (see `_watch_global_rng`)"""


def _flagging(name: str, original: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _global_rng_used[0] = True
        return original(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = original.__doc__
    return wrapper


def _watch_global_rng() -> None:
    """Replace every function of `np.random` that draws from, seeds or sets NumPy's global
    generator (`np.random.normal`, `np.random.seed`, ...) by one that notes its use first.
    Installed before student code is imported, so `from numpy.random import rand` gets it too."""
    shared = getattr(np.random.mtrand, "_rand", None)
    for name in dir(np.random):
        original = getattr(np.random, name)
        if getattr(original, "__self__", None) is shared and name != "get_state":
            wrapper = _flagging(name, original)
            setattr(np.random, name, wrapper)
            if getattr(np.random.mtrand, name, None) is original:
                setattr(np.random.mtrand, name, wrapper)
    for name in ("seed", "set_bit_generator"):  # plain functions of mtrand, not methods of the generator
        if hasattr(np.random, name):
            wrapper = _flagging(name, getattr(np.random, name))
            setattr(np.random, name, wrapper)
            setattr(np.random.mtrand, name, wrapper)


class _Watch:
    """Records, around one call, the RuntimeWarnings raised (with NumPy's default error
    settings, whatever the student's module set at import) and whether NumPy's global random
    state was used (drawn from, seeded or restored)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.warnings: list[str] = []
        self.global_rng = False

    def _show(self, message: Any, category: Any, filename: str, lineno: int, *rest: Any) -> None:
        if not issubclass(category, RuntimeWarning) or len(self.warnings) >= WARNINGS_KEPT:
            return
        text = f"{category.__name__}: {message}"
        path = os.path.abspath(str(filename))
        if path.startswith(self.root + os.sep):
            text += f" ({path[len(self.root) + 1:]}, line {lineno})"
        if text not in self.warnings:
            self.warnings.append(text[:300])

    def __enter__(self) -> _Watch:
        self._errstate = np.errstate(**_NUMPY_DEFAULT_ERRORS)
        self._errstate.__enter__()
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("always", RuntimeWarning)
        warnings.showwarning = self._show
        _global_rng_used[0] = False
        return self

    def __exit__(self, *exc: Any) -> None:
        self._catch.__exit__(None, None, None)
        self._errstate.__exit__(None, None, None)
        self.global_rng = _global_rng_used[0]

    def header(self) -> dict[str, Any]:
        return {"warnings": self.warnings, "global_rng": self.global_rng}


# ---------------------------------------------------------------- confinement


def _confine(config: dict[str, Any], keeper: int | None) -> None:
    """Resource limits, then the uid: set before any student code runs, and never raised again.

    With a keeper (tier 2, `grader.worker.keeper`), the worker then dies with it: set after the uid
    change, which would clear it."""
    wanted = [
        (resource.RLIMIT_AS, config.get("memory")),
        (resource.RLIMIT_CPU, config.get("cpu")),
        (resource.RLIMIT_FSIZE, config.get("fsize")),
        (resource.RLIMIT_NOFILE, config.get("nofile")),
        (resource.RLIMIT_NPROC, config.get("nproc")),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in wanted:
        if value is None:
            continue
        _, hard = resource.getrlimit(which)
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        # CPU: SIGXCPU at the soft limit, SIGKILL a second later.
        top = value
        if which == resource.RLIMIT_CPU and (hard == resource.RLIM_INFINITY or value < hard):
            top = value + 1
        resource.setrlimit(which, (value, top))
    # Past the file-size limit a write fails with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    uid = config.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        with open("/proc/self/status") as f:
            caps = [line.split()[1] for line in f if line.startswith(("CapEff", "CapPrm", "CapAmb"))]
        if os.getuid() != uid or any(int(c, 16) for c in caps):
            raise SystemExit("worker: could not drop privileges")
    if os.geteuid() == 0 and not config.get("run_as_root"):
        raise SystemExit("worker: refusing to run student code as root")
    if keeper is not None:
        from grader.worker import keeper as keeping

        keeping.die_with_keeper(keeper)
    _limits.update(config)


def _readable() -> list[str]:
    """What the guard lets student code read besides its own folders: the Python installation."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths |= {p for p in sys.path if p and os.path.isabs(p)}
    paths |= {os.path.dirname(os.path.dirname(np.__file__))}
    # The grader's own package (public source, no course material): the interpreter reads it to
    # show a traceback through the worker's code.
    paths |= {os.path.dirname(os.path.abspath(policy.__file__))}
    pid = os.getpid()
    return sorted(paths) + [
        "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", f"/proc/{pid}", "/proc/self",
        "/sys/devices/system/cpu",
    ]


# ---------------------------------------------------------------- one call


def _student_traceback(exc: BaseException, root: str) -> str:
    """The traceback frames that lie in the student's files, most recent last."""
    # Choose the frames before reading any source line: the guard lets only the student's
    # own files be read while their code runs.
    mine = [
        (frame, line) for frame, line in traceback.walk_tb(exc.__traceback__)
        if os.path.abspath(frame.f_code.co_filename).startswith(root + os.sep)
    ]
    lines = traceback.format_list(traceback.StackSummary.extract(mine[-4:]))
    lines += traceback.format_exception_only(type(exc), exc)
    # Paths relative to the submission: the student knows "forward.py", not our temp folder.
    return "".join(lines).replace(root + os.sep, "")[-4000:]


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError):
        mib = int(_limits.get("memory", 0)) >> 20
        text = f"MemoryError: ran out of memory (graded code may use at most {mib} MiB)"
    elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        mib = int(_limits.get("fsize", 0)) >> 20
        text += f" (graded code may write at most {mib} MiB to a file or to its output)"
    return text


def _error(kind: str, exc: BaseException | None, root: str, message: str = "", seq: Any = None,
           spent: list[float] | None = None) -> bytes:
    extra: dict[str, Any] = {"status": "error", "kind": kind, "message": message[:2000], "seq": seq}
    if spent is not None:
        extra["spent"] = spent
    if exc is not None:
        extra["type"] = type(exc).__name__
        extra["message"] = (message or _describe(exc))[:2000]
        extra["traceback"] = _student_traceback(exc, root)
    return codec.encode_message(None, extra)


Returned = tuple[bytes, codec.Prepared | None]
"""a reply, with the value it carries when the call returned one (else None)"""


def _run(header: dict[str, Any], args: list[Any], kwargs: dict[str, Any], root: str,
         limits: codec.MessageLimits) -> Returned:
    """Import the module and make the call: the reply, and the value if the call returned one."""
    module_name = str(header.get("module"))
    function_name = str(header.get("function"))
    seq = header.get("seq")
    # The time the student's code ran (its import, then the call), sent back for the
    # benchmark's account of where time goes; the trusted side's clock alone enforces limits.
    wall, cpu = time.perf_counter(), time.process_time()

    def spent() -> list[float]:
        return [time.perf_counter() - wall, time.process_time() - cpu]

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return _error("missing-module", None, root, f"{module_name}.py was not found", seq, spent()), None
        return _error("import-error", exc, root, seq=seq, spent=spent()), None
    except BaseException as exc:  # SyntaxError, SystemExit, anything at import time
        return _error("import-error", exc, root, seq=seq, spent=spent()), None
    function = getattr(module, function_name, None)
    if not callable(function):
        message = f"{module_name}.py has no function {function_name}"
        return _error("missing-function", None, root, message, seq, spent()), None
    watch = _Watch(root)
    try:
        with watch:
            result = function(*args, **kwargs)
    except BaseException as exc:  # includes SystemExit and KeyboardInterrupt raised by the student
        return _error("exception", exc, root, seq=seq, spent=spent()), None
    took = spent()
    value = {"result": result, "args": list(args)} if header.get("return_args") else result
    try:
        prepared = codec.prepare(value, limits)
        extra = {"status": "ok", "seq": seq, "spent": took, **watch.header()}
        return b"".join(codec.message_parts(prepared, extra)), prepared
    except codec.TooLarge as exc:
        return _error("bad-output", None, root, f"returned {exc}", seq), None
    except codec.Unsupported as exc:
        return _error("bad-output", None, root, f"returned {exc}, which is not plain numeric data", seq), None
    except BaseException as exc:  # a hostile object whose conversion raises
        message = f"returned a value that could not be read ({type(exc).__name__})"
        return _error("bad-output", exc, root, message, seq), None


NOT_RUN = "not-run"
"""the status of the reply to a call sent ahead (`"ahead": true` in its request) that the worker
did not run: a call since the last one not sent ahead raised, or broke a rule, or the call before
it did not return the value its request names (`"if_previous"`: the `codec.digest` of the value
that call must have returned, bit for bit; a `Trajectory`'s steps along the reference's path
are sent that way, each on the condition that the step before it returned the reference's
output, and so with the very arguments the trusted side would have sent next). The trusted side
sends calls ahead only where it would have made them next whatever the earlier ones returned,
so that nothing runs that the one-call-at-a-time protocol would not have run, and in no other
order (`grader.isolation.runner.StudentProcess.expect`)."""

_SIGNALS = signal.valid_signals()
# The C function itself: `signal.pthread_sigmask` turns the old mask it returns into a set of
# enum members, 60 of them twice per call, which was 40% of a short call's time in the worker.
_sigmask = _signal.pthread_sigmask


def _handle(header: dict[str, Any], payload: Any, root: str, guarded: bool,
            limits: codec.MessageLimits) -> Returned:
    args = codec.resolve_functions(payload["args"])
    kwargs = codec.resolve_functions(payload["kwargs"])
    if guarded:
        # The guard reports violations itself, on its own pipe; this only sets the allowlist.
        policy.begin(header.get("allowed", policy.DEFAULT_ALLOWED))
    # Signal handlers the student's code set run in its calls only (the main loop blocks signals
    # otherwise); a signal that arrived in between is handled here, where its errors are caught.
    try:
        _sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        return _run(header, args, kwargs, root, limits)
    except BaseException as exc:  # a student's signal handler, before or after the call
        return _error("exception", exc, root, seq=header.get("seq")), None
    finally:
        _sigmask(signal.SIG_BLOCK, _SIGNALS)
        if guarded:
            policy.end()


_prepared: list[bool] = []


def prepare() -> None:
    """What a worker does before anything else, once per process: a worker template
    (`grader.worker.forkserver`) does it before it forks the workers of many submissions."""
    if not _prepared:
        _watch_global_rng()
        _prepared.append(True)


def main(argv: list[str]) -> None:
    """`argv`: request fd, response fd, JSON settings. The working directory is the submission's copy."""
    request_fd, response_fd = int(argv[0]), int(argv[1])
    config = json.loads(argv[2]) if len(argv) > 2 else {}
    prepare()
    serve(request_fd, response_fd, config)


def _callers() -> tuple[Any, ...]:
    """The code objects of the frames below the caller's, from the caller's own to the bottom of
    the stack: the only chain of frames under which `policy.begin` is accepted."""
    frame, codes = sys._getframe(1), []
    while frame is not None:
        codes.append(frame.f_code)
        frame = frame.f_back
    return tuple(codes)


def serve(request_fd: int, response_fd: int, config: dict[str, Any]) -> None:
    """Confine this process for good, then answer call requests until the channel closes.

    Runs in a fresh process (`main`) or in one forked from a worker template, which has done
    `prepare()` and nothing else; either way no student code has run in it yet."""
    keeper = None
    if config.get("keeper"):
        from grader.worker import keeper as keeping

        keeper = keeping.split(int(config["keeper"]), (request_fd, response_fd, int(config["report_fd"])),
                               int(config.get("keeper_also", 0)))
    _confine(config, keeper)
    root = os.path.abspath(os.getcwd())
    sys.dont_write_bytecode = True
    own = [name[:-3] for name in os.listdir(root) if name.endswith(".py")]
    if config.get("forked"):
        # A fork shares its template's random state: NumPy's global generator is seeded again
        # from the system, as in a fresh interpreter (Python's `random` does so itself at fork).
        np.random.mtrand._rand.seed()
    # The inert stand-ins' finder first, then the guard, which puts its own finder before it.
    sys.meta_path.insert(0, InertFinder(own))  # type: ignore[arg-type]
    guarded = bool(config.get("guard", True))
    if guarded:
        guard = policy.Guard(root, list(config.get("writable", [])), _readable(), own, int(config["report_fd"]),
                             (_handle.__code__, _callers()))
        guard.install()
    sys.path.insert(0, root)
    sys.stdout = _CappedStream(1, OUTPUT_CAP)
    sys.stderr = _CappedStream(2, OUTPUT_CAP)
    elements = int(config.get("elements", codec.DEFAULT_LIMITS.max_elements))
    limits = codec.MessageLimits(max_elements=elements, max_array_bytes=elements * 8)
    # Start-up is the grader's time, not the student's: the first call's clock starts after this.
    codec.write_message(response_fd, codec.encode_message(None, {"status": "ready"}))
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    reports = guard.reports if guarded else (lambda: 0)
    clean, reported = True, reports()
    returned: codec.Prepared | None = None
    requests = codec.Reader(request_fd)  # the only reader of the requests from here on
    while True:
        try:
            header, payload = requests.read_message(allow_fn=True)
        except EOFError:
            return
        except BaseException:
            # Not the channel's fault: student code (a thread, a handler run here in the main
            # thread) broke into the worker's own work. The channel may be cut mid-message.
            os._exit(policy.TAMPER_EXIT)
        # A call sent ahead runs only if the one before it returned (the value it names, if it
        # names one) and nothing broke a rule since.
        if header.get("ahead") and not (clean and reports() == reported and _follows(header, returned)):
            reply = codec.encode_message(None, {"status": NOT_RUN, "seq": header.get("seq")})
            clean, returned = False, None
        else:
            before = reports()
            reply, returned = _handle(header, payload, root, guarded, limits)
            reported = reports()
            clean = returned is not None and reported == before
            if reported != before:  # the trusted side reads the guard's pipe now, not later
                reply = codec.with_fields(reply, {"reported": True})
        try:
            codec.write_message(response_fd, reply)
        except BaseException:
            os._exit(policy.TAMPER_EXIT)


def _follows(header: dict[str, Any], returned: codec.Prepared | None) -> bool:
    """Whether the call before this one returned the value the request names, if it names one."""
    wanted = header.get("if_previous")
    return wanted is None or (returned is not None and codec.digest(returned) == wanted)


BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); import grader.worker.serve as w; "
    "del sys.path[0]; w.main(sys.argv[2:])"
)
"""The `python -I -c` program that starts a worker: argv is grader's parent dir, fds, settings."""
