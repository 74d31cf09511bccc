"""What a submission may import, and what its code may do while it runs.

Two halves, one rule book:

- `scan` runs on the trusted side before any student code runs: it reads each module with
  `ast` and reports every import outside the assignment's allowlist, with its line number.
- `Guard` runs in the worker: an audit hook (`sys.addaudithook`, which cannot be removed) and
  an import finder that, while student code runs, refuse imports outside the allowlist,
  starting programs, the network, C calls through ctypes, signals to other processes, and
  files outside the submission and its scratch folders.

The guard enforces the course's rules and stops casual escapes; it is not the security
boundary. Code can in principle subvert anything inside its own process (PEP 578 says as much
about audit hooks). The boundary is the sandbox around the whole process (`grader.sandbox`).

Standard library only: the worker imports this module before any student code.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
stand-in instead (`grader.worker`), so `plt.plot(...)` draws nothing, `tqdm(x)` is just `x` and
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


def _imports(tree: ast.AST) -> Iterable[tuple[int, str]]:
    for node in ast.walk(tree):
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
        try:
            tree = ast.parse(files[f"{name}.py"], filename=f"{name}.py")
        except (SyntaxError, ValueError):
            continue
        for line, imported in _imports(tree):
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


_PROCESS = "tried to start another program ({event}): graded code may only compute"
_MESSAGES = {
    **dict.fromkeys(
        ["subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
         "os.forkpty", "pty.spawn", "os.startfile"], _PROCESS),
    **dict.fromkeys(["os.kill", "os.killpg"], "tried to send a signal to another process ({event})"),
    **dict.fromkeys(["gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook",
                     "resource.setrlimit", "resource.prlimit", "sys._current_frames"],
                    "tried to tamper with the grader ({event})"),
}
_PATH_EVENTS = {
    # event -> (indices of paths written, indices of paths read)
    "open": ((), (0,)),  # decided by its flags, see _open
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


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


class Guard:
    """The worker's rule book while student code runs (see the module docstring).

    `start(allowed)` before importing or calling student code, `stop()` after: it returns the
    violations seen in between, even those the student's code caught and ignored.
    """

    def __init__(
        self, root: str, writable: list[str], readable: list[str], own_modules: Iterable[str]
    ) -> None:
        self.root = os.path.realpath(root)
        self.writable = [os.path.realpath(p) for p in [root, *writable]]
        self.readable = self.writable + [os.path.realpath(p) for p in readable]
        self.own = frozenset(own_modules)
        self.allowed: frozenset[str] = frozenset()
        self.listed: tuple[str, ...] = ()
        self.active = False
        self.violations: list[str] = []
        self._busy = False

    # -- switching -----------------------------------------------------------

    def install(self) -> None:
        """Hook in for good: the audit hook, the import finder and the `import` statement."""
        import builtins

        original = builtins.__import__

        def guarded_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                           level: int = 0) -> Any:
            # The only hook that also sees modules already loaded (`signal`, `ctypes`, ...).
            if self.active and level == 0 and not self._busy:
                self._check_import(name)
            return original(name, globals, locals, fromlist, level)

        builtins.__import__ = guarded_import
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]
        sys.addaudithook(self._hook)

    def start(self, allowed: Iterable[str]) -> None:
        self.listed = tuple(allowed)
        self.allowed = allowed_set(self.listed) | self.own
        self.violations = []
        self.active = True

    def stop(self) -> list[str]:
        self.active = False
        return list(self.violations)

    # -- checks ----------------------------------------------------------------

    def _refuse(self, message: str, error: type[Exception] = NotAllowed) -> None:
        frame = sys._getframe(1)
        while frame is not None:
            if self._is_student(frame.f_code.co_filename):
                message += f" (at {os.path.basename(frame.f_code.co_filename)}, line {frame.f_lineno})"
                break
            frame = frame.f_back  # type: ignore[assignment]
        self.violations.append(message)
        raise error(message)

    def _is_student(self, filename: str) -> bool:
        """Whether code from `filename` is the student's (not `<string>`, not a library)."""
        return os.path.isabs(filename) and os.path.realpath(filename).startswith(self.root + os.sep)

    def _student_import(self, via_finder: bool = False) -> bool:
        """Whether the import being made was asked for by the student's code itself.

        The importer is the first frame outside this file. Imports that the import machinery
        makes on its own (frozen importlib frames) or that libraries make are not the student's;
        through the finder, only `importlib.import_module` called by the student is.
        """
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename == __file__:
            frame = frame.f_back  # type: ignore[assignment]
        if via_finder:
            while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
                frame = frame.f_back  # type: ignore[assignment]
            if frame is None or not frame.f_code.co_filename.endswith(_IMPORTLIB_INIT):
                return False
            frame = frame.f_back  # type: ignore[assignment]
        return frame is not None and self._is_student(frame.f_code.co_filename)

    def _check_import(self, fullname: str, via_finder: bool = False) -> None:
        top = fullname.split(".")[0]
        if top in self.allowed:
            return
        self._busy = True
        try:
            student = self._student_import(via_finder)
        finally:
            self._busy = False
        if student:
            self._refuse(explain(top, self.listed), NotAllowedImport)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        """The import-system half: sees `importlib.import_module`, which raises no audit event."""
        if self.active and not self._busy and path is None:
            self._check_import(fullname, via_finder=True)
        return None

    def _path(self, value: object) -> str | None:
        if value is None:
            return os.getcwd()
        if isinstance(value, int):
            return None  # an open file descriptor: its path was checked when it was opened
        try:
            return os.path.realpath(os.fsdecode(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return "?"

    def _hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self.active or self._busy:
            return
        self._busy = True
        try:
            message = self._judge(event, args)
        finally:
            self._busy = False
        if message:
            self._refuse(message, NotAllowedImport if event == "import" else NotAllowed)

    def _judge(self, event: str, args: tuple[object, ...]) -> str | None:
        if event == "import":
            top = str(args[0]).split(".")[0]
            if args[1] is None and top not in self.allowed and self._student_import():
                return explain(top, self.listed)
            if isinstance(args[3], list) and self not in args[3]:
                return "tried to tamper with the grader (removed its import check)"
            return None
        if event in _MESSAGES:
            if event == "os.kill" and args[0] == os.getpid():
                return None  # its own process: harmless
            return _MESSAGES[event].format(event=event)
        if event.startswith("socket."):
            return f"tried to use the network ({event}): graded code has no network"
        if event.startswith("ctypes."):
            return f"tried to call C code through ctypes ({event}): not allowed in graded code"
        paths = _PATH_EVENTS.get(event)
        if paths is None:
            return None
        written, read = paths
        if event == "open":
            flags = args[2] if isinstance(args[2], int) else 0
            mode = args[1] if isinstance(args[1], str) else ""
            if flags & _WRITE_FLAGS or any(c in mode for c in "wax+"):
                written, read = (0,), ()
        for i in written:
            path = self._path(args[i])
            if path is not None and not _under(path, self.writable):
                return (f"tried to write {path}, outside its working folder: "
                        "graded code may only write there and in /tmp")
        for i in read:
            path = self._path(args[i])
            if path is not None and not _under(path, self.readable):
                return (f"tried to read {path}, outside the submission: "
                        "graded code may only read its own files")
        return None
