"""What a submission may import, and what its code may do while it runs.

Two halves, one rule book:

- `scan` runs on the trusted side before any student code runs: it reads each module with
  `ast` and reports every import outside the assignment's allowlist, with its line number.
- `Guard` runs in the worker: an audit hook (`sys.addaudithook`, which cannot be removed) and
  an import finder that, from before the first line of student code until the process ends
  (calls, threads, signal and exit handlers alike), refuse imports outside the allowlist,
  starting programs, the network, C calls through ctypes, signals to other processes, files
  outside the submission and its scratch folders, and attempts to switch the guard off. Each
  violation goes at once to the trusted side on a pipe of its own.

The guard enforces the course's rules and stops casual escapes; it is not the security
boundary. Code can in principle subvert anything inside its own process (PEP 578 says as much
about audit hooks). The boundary is the sandbox around the whole process (`grader.isolation.sandbox`).

Standard library only: the worker imports this module before any student code.
"""

from __future__ import annotations

import ast
import functools
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from grader.worker.parsing import parse

DEFAULT_ALLOWED = ("numpy", "scipy", "math")
"""what an assignment allows when its `assignment.toml` has no `allowed_imports`"""

ALWAYS_ALLOWED = frozenset(
    """__future__ abc bisect cmath collections contextlib copy dataclasses decimal enum fractions
    functools heapq itertools math numbers operator os random re statistics string sys textwrap time
    types typing typing_extensions warnings""".split()
)
"""Plain standard-library helpers that compute and touch nothing outside the process: always
allowed, whatever an assignment's `allowed_imports` says (which adds to this set). `os` and
`sys` are here because students import them for harmless things (`os.path`,
`sys.float_info`); what they could do beyond that (programs, signals, files elsewhere) the
guard refuses when it is tried."""

INERT_MODULES = frozenset(
    """matplotlib mpl_toolkits pylab seaborn plotly bokeh altair IPython ipywidgets tqdm pandas""".split()
)
"""Plotting, display and progress libraries: a submission may import them anywhere (a demo, a
training loop that draws its losses), and while it is graded the worker hands it an inert
stand-in instead (`grader.worker.serve`), so `plt.plot(...)` draws nothing, `tqdm(x)` is just `x` and
`pandas.DataFrame(...)` computes nothing. They never cost points; the feedback says in one line
that plotting was skipped. A value that the graded code computes with one of them is inert too,
and is reported as not plain numeric data."""

# Why some modules are refused, in words for a student. Anything else not allowed gets the
# generic reason.
_AUTODIFF = (
    "it computes gradients or whole networks for you, and this course asks you to write that maths yourself"
)
_REASONS = {
    **dict.fromkeys(
        ["torch", "jax", "jaxlib", "tensorflow", "keras", "autograd", "sklearn", "theano", "mxnet",
         "paddle", "flax", "chainer", "cupy", "numba", "tinygrad", "micrograd"], _AUTODIFF),
    **dict.fromkeys(
        ["subprocess", "shutil", "pathlib", "io", "pty", "signal", "multiprocessing",
         "threading", "_thread", "concurrent", "asyncio", "_posixsubprocess", "posix", "resource",
         "fcntl", "mmap", "glob", "tempfile"],
        "graded code computes; it may not run programs or reach into files and the system"),
    **dict.fromkeys(
        ["socket", "_socket", "ssl", "http", "urllib", "requests", "ftplib", "smtplib", "select",
         "selectors", "xmlrpc", "socketserver", "telnetlib"],
        "graded code has no network"),
    **dict.fromkeys(
        ["ctypes", "_ctypes", "cffi", "importlib", "builtins", "gc", "inspect", "pickle", "marshal",
         "code", "codeop", "runpy", "pydoc", "grader", "conftest", "pytest"],
        "it reaches into the interpreter or the grader instead of computing"),
}


def allowed_set(allowed: Iterable[str]) -> frozenset[str]:
    """The top-level modules a submission may import: `allowed`, `ALWAYS_ALLOWED` and the
    `INERT_MODULES` (which the worker replaces by stand-ins)."""
    return ALWAYS_ALLOWED | INERT_MODULES | {str(a).split(".")[0] for a in allowed}


def is_inert(name: str) -> bool:
    """Whether importing `name` (dotted) gets the worker's inert stand-in."""
    return name.split(".")[0] in INERT_MODULES


def explain(name: str, allowed: Iterable[str]) -> str:
    """Why importing `name` is not allowed, and what is."""
    top = name.split(".")[0]
    reason = _REASONS.get(top, "it is not on this assignment's list of allowed modules")
    listed = ", ".join(sorted(set(allowed) - ALWAYS_ALLOWED)) or "nothing beyond the standard helpers"
    return (
        f"importing {top} is not allowed: {reason}. Allowed here: {listed}, plain helpers such as "
        "math, functools, itertools and collections, and your own modules."
    )


# ---------------------------------------------------------------- the static scan


@dataclass(frozen=True)
class Violation:
    """One import outside the allowlist, found in the source."""

    file: str
    line: int
    module: str
    """the top-level module imported"""

    def message(self, allowed: Iterable[str]) -> str:
        return f"{self.file}, line {self.line}: {explain(self.module, allowed)}"


@dataclass(frozen=True)
class InertImport:
    """One import of a plotting, display or progress library (see `INERT_MODULES`)."""

    file: str
    line: int
    module: str
    """the module as imported, dotted (e.g. `matplotlib.pyplot`)"""


@dataclass(frozen=True)
class ImportScan:
    """What `scan_imports` found: the imports that break the rules and the inert ones."""

    violations: list[Violation]
    inert: list[InertImport]


def inert_note(found: list[InertImport]) -> list[str]:
    """One feedback line per file saying which display imports did nothing while graded."""
    by_file: dict[str, list[str]] = {}
    for item in found:
        text = f"{item.module} (line {item.line})"
        if text not in by_file.setdefault(item.file, []):
            by_file[item.file].append(text)
    return [
        f"{file}: plotting/display skipped: {', '.join(items)}; these libraries do nothing while "
        "your code is graded, and cost no points"
        for file, items in sorted(by_file.items())
    ]


_BLOCKS = (ast.stmt, ast.excepthandler, ast.match_case)
"""the nodes that can hold statements (an import statement is one)"""


def _statements(tree: ast.AST) -> Iterable[ast.AST]:
    """The statements of `tree` (and what holds them), in `ast.walk`'s order: an expression
    holds no statement, so this skips most of the tree and keeps the relative order."""
    todo, done = [tree], 0  # a queue (no import: this module's names are the worker's too)
    while done < len(todo):
        node = todo[done]
        done += 1
        todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, _BLOCKS))
        yield node


def _imports(tree: ast.AST, source: bytes | str) -> Iterable[tuple[int, str]]:
    # `__import__("x")` is an expression, anywhere: the whole tree is walked for a source that
    # names it, or that is not ASCII (identifiers are NFKC-normalized: `__ｉｍｐｏｒｔ__` is it too).
    raw = source.encode("utf-8", "surrogateescape") if isinstance(source, str) else bytes(source)
    nodes = ast.walk(tree) if b"__import__" in raw or not raw.isascii() else _statements(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


CACHED_SOURCE_BYTES = 1 << 18
"""sources up to this size keep their imports (`imports_in`), 64 of them at most (16 MiB)"""


def imports_in(source: bytes) -> tuple[tuple[int, str], ...] | None:
    """`(line, module)` of every import `source` makes (`import a.b` names `a.b`; also
    `__import__("x")`), or None when it does not parse. A module is scanned for every graded
    module that imports it, and its listing is read once more: each source is parsed once."""
    return _imports_cached(source) if len(source) <= CACHED_SOURCE_BYTES else _imports_of(source)


def _imports_of(source: bytes) -> tuple[tuple[int, str], ...] | None:
    try:
        tree = parse(source)
    except (SyntaxError, ValueError):
        return None
    return tuple(_imports(tree, source))


_imports_cached = functools.lru_cache(maxsize=64)(_imports_of)


def scan(files: dict[str, bytes], module: str, allowed: Iterable[str]) -> list[Violation]:
    """Imports outside `allowed` in `module.py` and in the student's own modules it imports."""
    return scan_imports(files, module, allowed).violations


def scan_imports(files: dict[str, bytes], module: str, allowed: Iterable[str]) -> ImportScan:
    """The imports of `module.py` and of the student's own modules it imports: those outside
    `allowed` (violations) and those of `INERT_MODULES` (allowed, and inert while graded).

    A file that does not parse is skipped: the worker reports the syntax error itself.
    """
    permitted = allowed_set(allowed)
    own = {name[:-3] for name in files if name.endswith(".py")}
    found: list[Violation] = []
    inert: list[InertImport] = []
    todo, seen = [module], set()
    while todo:
        name = todo.pop()
        if name in seen or f"{name}.py" not in files:
            continue
        seen.add(name)
        for line, imported in imports_in(bytes(files[f"{name}.py"])) or ():
            top = imported.split(".")[0]
            if top in own:
                todo.append(top)
            elif top in INERT_MODULES:
                inert.append(InertImport(f"{name}.py", line, imported))
            elif top not in permitted:
                found.append(Violation(f"{name}.py", line, top))
    first = f"{module}.py"
    return ImportScan(sorted(found, key=lambda v: (v.file != first, v.file, v.line)),
                      sorted(inert, key=lambda v: (v.file != first, v.file, v.line)))


# ---------------------------------------------------------------- the runtime guard


class NotAllowed(PermissionError):
    """Raised inside student code by the guard."""


class NotAllowedImport(ImportError):
    """Raised inside student code by the guard for an import."""


TAMPER_EXIT = 86
"""The worker's exit status when the guard caught a violation it could no longer report (the
student's code closed or replaced the guard's report pipe): the trusted side counts it as one."""

BEGIN_EVENT = "nn_grader.begin"
"""The audit event by which the worker's own call loop (and nothing else) sets the allowlist."""
END_EVENT = "nn_grader.end"
_IMPORT_EVENT = "nn_grader.import"

_PROCESS = "tried to start another program ({event}): graded code may only compute"
_TAMPER = "tried to tamper with the grader ({event})"
_MESSAGES = {
    **dict.fromkeys(
        ["subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
         "os.forkpty", "pty.spawn", "os.startfile"], _PROCESS),
    **dict.fromkeys(["os.kill", "os.killpg"], "tried to send a signal to another process ({event})"),
    # Refused whoever calls them: nothing in a worker needs them, and each can reach the guard or
    # the worker's frames (a trace or profile function sees every frame of every thread).
    **dict.fromkeys(["gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook",
                     "resource.setrlimit", "resource.prlimit", "sys._current_frames",
                     "sys._current_exceptions", "sys.settrace", "sys.setprofile",
                     "sys._settraceallthreads", "sys._setprofileallthreads",
                     "sys.monitoring.register_callback"], _TAMPER),
}
_STUDENT_TAMPER = frozenset(
    # Refused when the student's own code does it: the ways to a frame (and from there to the
    # worker's locals), to a function's code, or to code that passes for a library's.
    ["sys._getframe", "object.__getattr__", "object.__setattr__", "object.__delattr__", "code.__new__",
     "function.__new__"]
)
_PATH_EVENTS = {
    # event -> (indices of paths written, indices of paths read)
    "open": ((), (0,)),  # decided by its flags, see _judge
    "os.listdir": ((), (0,)),
    "os.scandir": ((), (0,)),
    "glob.glob": ((), (0,)),
    "os.chdir": ((), (0,)),
    "os.remove": ((0,), ()),
    "os.rmdir": ((0,), ()),
    "os.mkdir": ((0,), ()),
    "os.rename": ((0, 1), ()),
    "os.link": ((0, 1), ()),
    "os.symlink": ((1,), ()),
    "os.truncate": ((0,), ()),
    "os.chmod": ((0,), ()),
    "os.chown": ((0,), ()),
    "os.utime": ((0,), ()),
    "os.mkfifo": ((0,), ()),
    "os.mknod": ((0,), ()),
    "os.setxattr": ((0,), ()),
    "os.removexattr": ((0,), ()),
    "shutil.rmtree": ((0,), ()),
}
_IMPORTLIB_INIT = os.path.join("importlib", "__init__.py")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def begin(allowed: Iterable[str]) -> None:
    """Set the allowlist for the call about to run. Only the worker's own call loop may: the
    guard checks who asks, and counts anyone else's attempt as tampering."""
    sys.audit(BEGIN_EVENT, tuple(str(a) for a in allowed))


def end() -> None:
    """After each call: lets the guard check it is still in place before the reply goes out
    (anyone may raise this event; it only triggers that check)."""
    sys.audit(END_EVENT)


def _frozen(function: Any, namespace: dict[str, Any]) -> Any:
    """`function` reading its globals from `namespace` (a private copy) instead of this module."""
    return type(function)(function.__code__, namespace, function.__name__, function.__defaults__)


class Guard:
    """The worker's rule book for student code (see the module docstring).

    `install()` hooks it in for good, before the first line of student code. From then on it
    judges every audited action of every thread, signal handler and exit handler: there is no
    "off". Its state lives only in the closure of an audit hook, which no Python code can reach;
    everything it uses is bound at install time, so rebinding a module's function or a builtin
    changes nothing. The `import` statement's wrapper and the import finder are stateless: they
    raise an audit event, and the hook checks on every event that both are still in place
    (putting them back if not, and counting that as tampering).

    Each violation is written at once, one line, to `report_fd` (a pipe to the trusted side):
    the student's code cannot take it back, even when it catches the error and carries on.
    `trusted` is the code object of the worker's call handler and those of the frames under it,
    from its call loop to the bottom of the main thread's stack: the only chain of callers
    `begin` accepts.
    """

    def __init__(self, root: str, writable: list[str], readable: list[str], own_modules: Iterable[str],
                 report_fd: int, trusted: tuple[Any, tuple[Any, ...]]) -> None:
        self.root = os.path.realpath(root)
        self.writable = [os.path.realpath(p) for p in [root, *writable]]
        self.readable = self.writable + [os.path.realpath(p) for p in readable]
        self.own = frozenset(own_modules)
        self.report_fd = report_fd
        self.trusted = trusted
        self.reports: Callable[[], int] = lambda: 0
        """how many violations the guard has reported so far (set by `install`; the worker's call
        loop reads it to stop the calls sent ahead after one, see `grader.worker.serve`)"""

    def install(self) -> None:  # noqa: C901  (one closure on purpose: see the class docstring)
        """Hook in for good: the audit hook, the import finder and the `import` statement."""
        import _stat
        import _thread
        import builtins
        import posix

        namespace = {**globals(), "__builtins__": dict(vars(builtins))}
        explain_, allowed_set_ = _frozen(explain, namespace), _frozen(allowed_set, namespace)
        audit, getframe, get_ident, main_thread = sys.audit, sys._getframe, _thread.get_ident, _thread.get_ident()
        lstat, readlink, getcwd, getpid, fspath = posix.lstat, posix.readlink, posix.getcwd, posix.getpid, posix.fspath
        fstat, write, exit_, is_link = posix.fstat, posix.write, posix._exit, _stat.S_ISLNK
        isinstance_, str_, bytes_, int_, list_, type_, len_ = isinstance, str, bytes, int, list, type, len
        not_allowed, not_allowed_import, os_error = NotAllowed, NotAllowedImport, OSError
        messages, path_events = dict(_MESSAGES), dict(_PATH_EVENTS)
        frozenset_, delattr_, bool_, sys_ = frozenset, delattr, bool, sys
        student_tamper, write_flags, importlib_init = _STUDENT_TAMPER, _WRITE_FLAGS, _IMPORTLIB_INIT
        this_file = __file__
        root, own = self.root, self.own
        writable, readable = tuple(self.writable), tuple(self.readable)
        begin_code, (handle_code, loop_codes) = begin.__code__, self.trusted
        expected_callers = (begin_code, handle_code, *loop_codes)
        report_fd = self.report_fd
        info = fstat(report_fd)
        report_id = (info.st_dev, info.st_ino)
        posix.set_blocking(report_fd, False)
        state = {"listed": DEFAULT_ALLOWED, "allowed": allowed_set_(DEFAULT_ALLOWED) | own}
        busy: set[int] = set()  # threads inside the hook: its own actions are not judged
        original_import = builtins.__import__

        def import_check(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                         level: int = 0) -> Any:
            # The only hook that also sees modules already loaded (`signal`, `ctypes`, ...).
            if level == 0:
                audit(_IMPORT_EVENT, name, False)
            return original_import(name, globals, locals, fromlist, level)

        class Finder:
            """The import-system half: sees `importlib.import_module`, which raises no audit event."""

            __slots__ = ()

            @staticmethod
            def find_spec(fullname: str, path: object = None, target: object = None) -> None:
                if path is None:
                    audit(_IMPORT_EVENT, fullname, True)
                return None

        finder = Finder()
        find_spec = Finder.__dict__["find_spec"]
        finder_keys = frozenset(Finder.__dict__)
        finder_size = len(finder_keys)
        cells = [(c, c.cell_contents) for f in (import_check, find_spec.__func__) for c in f.__closure__ or ()]

        # -- helpers (every name they use is bound above) ----------------------------------

        def real(path: str) -> str:
            """`os.path.realpath`, from functions bound at install time."""
            if not path.startswith("/"):
                path = getcwd() + "/" + path
            parts, resolved, links = [p for p in path.split("/") if p and p != "."], "", 0
            while parts:
                name = parts.pop(0)
                if name == "..":
                    resolved = resolved[: resolved.rfind("/")]
                    continue
                candidate = resolved + "/" + name
                try:
                    link = is_link(lstat(candidate).st_mode)
                except (os_error, ValueError):
                    link = False
                if not link:
                    resolved = candidate
                    continue
                links += 1
                if links > 40:
                    return "?"
                target = readlink(candidate)
                if target.startswith("/"):
                    resolved = ""
                parts = [p for p in target.split("/") if p and p != "."] + parts
            return resolved or "/"

        def under(path: str, roots: tuple[str, ...]) -> bool:
            for r in roots:
                if path == r or path.startswith(r.rstrip("/") + "/"):
                    return True
            return False

        def as_path(value: object) -> str | None:
            if value is None:
                return getcwd()
            if isinstance_(value, int_):
                return None  # an open file descriptor: its path was checked when it was opened
            try:
                value = fspath(value)
                if isinstance_(value, bytes_):
                    value = value.decode("utf-8", "surrogateescape")
                return real(value)
            except (TypeError, ValueError, os_error):
                return "?"

        def is_student(filename: object) -> bool:
            """Whether code from `filename` is the student's: their files, and code compiled at
            run time (`<string>` and the like), which only the student's code makes on purpose."""
            if not isinstance_(filename, str_) or filename.startswith("<frozen "):
                return False
            if not filename.startswith("/"):
                return True
            return real(filename).startswith(root + "/")

        def student_import(frame: Any, via_finder: bool) -> bool:
            """Whether the import being made was asked for by the student's code itself.

            The importer is the first frame outside this file. Imports the import machinery makes
            on its own (frozen importlib frames) or that libraries make are not the student's;
            through the finder, only `importlib.import_module` called by the student is.
            """
            while frame is not None and frame.f_code.co_filename == this_file:
                frame = frame.f_back
            if via_finder:
                while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
                    frame = frame.f_back
                if frame is None or not frame.f_code.co_filename.endswith(importlib_init):
                    return False
                frame = frame.f_back
            return frame is not None and is_student(frame.f_code.co_filename)

        def check_import(fullname: object, frame: Any, via_finder: bool) -> str | None:
            top = str_(fullname).split(".")[0]
            if top in state["allowed"] or not student_import(frame, via_finder):
                return None
            return explain_(top, state["listed"])

        def from_the_call_loop(frame: Any) -> bool:
            """`begin` called by the worker's call handler, from its call loop, with exactly the
            frames under it that it had when the guard was installed, down to the bottom of the
            main thread's stack: no other caller can fake that chain of frames."""
            for code in expected_callers:
                if frame is None or frame.f_code is not code:
                    return False
                frame = frame.f_back
            return frame is None and get_ident() == main_thread

        def repair() -> str | None:
            """Put back what student code removed or replaced; say what it was."""
            found = None
            meta_path = sys_.meta_path
            if type_(meta_path) is not list_:
                sys_.meta_path = meta_path = [m for m in list_(meta_path) if m is not finder]
                found = "replaced sys.meta_path"
            if not meta_path or meta_path[0] is not finder:
                if finder in meta_path:
                    meta_path.remove(finder)
                meta_path.insert(0, finder)
                found = "moved or removed its import check"
            methods = Finder.__dict__
            if type_(finder) is not Finder or len_(methods) != finder_size or methods.get("find_spec") is not find_spec:
                for key in frozenset_(methods) - finder_keys:
                    delattr_(Finder, key)
                Finder.find_spec = find_spec
                found = "patched its import check"
            if builtins.__import__ is not import_check:
                builtins.__import__ = import_check
                found = "replaced the import statement's check"
            for cell, value in cells:
                if cell.cell_contents is not value:
                    cell.cell_contents = value
                    found = "patched its import check"
            return found

        reported = [0]

        def report(message: str) -> None:
            """One line to the trusted side, now: caught or not, the violation counts."""
            reported[0] += 1
            try:
                info = fstat(report_fd)
                intact = (info.st_dev, info.st_ino) == report_id
            except os_error:
                intact = False
            if not intact:
                exit_(TAMPER_EXIT)
            try:
                write(report_fd, (message.replace("\n", " ")[:1000] + "\n").encode("utf-8", "replace"))
            except BlockingIOError:
                pass  # the pipe is full of earlier reports: one more adds nothing
            except os_error:
                exit_(TAMPER_EXIT)

        def locate(frame: Any) -> str:
            while frame is not None and frame.f_back is not None:  # not the worker's bootstrap
                filename = frame.f_code.co_filename
                if is_student(filename):
                    return f" (at {filename.rsplit('/', 1)[-1]}, line {frame.f_lineno})"
                frame = frame.f_back
            return ""

        def judge(event: str, args: tuple[Any, ...], frame: Any) -> str | None:
            if event == _IMPORT_EVENT:
                return check_import(args[0], frame, bool_(args[1]))
            if event == BEGIN_EVENT:
                if not from_the_call_loop(frame):
                    return "tried to tamper with the grader (changed its allowlist)"
                listed = tuple(str_(a) for a in args[0])
                state["listed"], state["allowed"] = listed, allowed_set_(listed) | own
                return None
            if event == "import":
                if args[1] is None:
                    return check_import(args[0], frame, False)
                return None
            if event in messages:
                if event == "os.kill" and args[0] == getpid():
                    return None  # its own process: harmless
                return messages[event].format(event=event)
            if event.startswith("socket."):
                return f"tried to use the network ({event}): graded code has no network"
            if event.startswith("ctypes."):
                return f"tried to call C code through ctypes ({event}): not allowed in graded code"
            if event in student_tamper or event == "compile":
                if frame is None or not is_student(frame.f_code.co_filename):
                    return None
                if event == "compile":
                    name = args[1]
                    if isinstance_(name, bytes_):
                        name = name.decode("utf-8", "replace")
                    if not isinstance_(name, str_) or not name.startswith("/") or is_student(name):
                        return None  # a made-up name: still judged as the student's code
                    return "tried to tamper with the grader (compiled code under another file's name)"
                detail = f"{event} {args[1]}" if event.startswith("object.") and len_(args) > 1 else event
                return f"tried to tamper with the grader ({detail})"
            paths = path_events.get(event)
            if paths is None:
                return None
            written, read = paths
            if event == "open":
                flags = args[2] if isinstance_(args[2], int_) else 0
                mode = args[1] if isinstance_(args[1], str_) else ""
                if flags & write_flags or "w" in mode or "a" in mode or "x" in mode or "+" in mode:
                    written, read = (0,), ()
            for i in written:
                path = as_path(args[i])
                if path is not None and not under(path, writable):
                    return (f"tried to write {path}, outside its working folder: "
                            "graded code may only write there and in /tmp")
            for i in read:
                path = as_path(args[i])
                if path is not None and not under(path, readable):
                    return (f"tried to read {path}, outside the submission: "
                            "graded code may only read its own files")
            return None

        def hook(event: str, args: tuple[Any, ...]) -> None:
            me = get_ident()
            if me in busy:
                return
            busy.add(me)
            message = None
            try:
                try:
                    frame = getframe(1)  # the code that raised the event
                except ValueError:
                    frame = None  # raised by C code with no Python caller (a thread starting)
                tampered = repair()
                if tampered:
                    report(f"tried to tamper with the grader ({tampered})" + locate(frame))
                message = judge(event, args, frame)
                if message:
                    message += locate(frame)
                    report(message)
            finally:
                busy.discard(me)
            if message:
                raise (not_allowed_import if event in ("import", _IMPORT_EVENT) else not_allowed)(message)

        self.reports = lambda: reported[0]
        builtins.__import__ = import_check
        sys.meta_path.insert(0, finder)  # type: ignore[arg-type]
        sys.addaudithook(hook)
