"""Plain data on the wire: numbers, strings, arrays, lists, tuples and dicts. Never pickles.

A message is `MAGIC | u32 header length | header JSON | raw array bytes`. The header holds a
tree (`meta`) whose leaves are JSON numbers, strings, `None`, or references to arrays described
by dtype and shape. The reader validates every declaration (dtype kind, shape, byte count,
caps) *before* it allocates or reads anything, so a hostile writer can neither smuggle an
object nor make the reader allocate what it did not announce.

The same tree format stores frozen expected values for `grade check` (`save_tree`,
`load_tree`). This module uses only the standard library and NumPy: the worker imports it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import select
import struct
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

MAGIC = b"GRD1"
_PREFIX = struct.Struct("<4sI")

# Only plain numeric dtypes cross the channel: bool, signed/unsigned ints, floats.
ALLOWED_DTYPES = frozenset(
    ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"]
)


@dataclass(frozen=True)
class MessageLimits:
    """Caps the reader enforces on what it accepts."""

    max_header_bytes: int = 1 << 20
    max_elements: int = 20_000_000
    max_array_bytes: int = 256 << 20
    max_depth: int = 32
    max_string: int = 20_000


DEFAULT_LIMITS = MessageLimits()


class ChannelError(Exception):
    """The data could not be encoded, or a message broke the protocol."""


class Unsupported(ChannelError):
    """A value of a kind that may not cross the channel (say, a generator)."""


class TooLarge(Unsupported):
    """A value with more numbers than the channel accepts (checked before any copy)."""


@dataclass(frozen=True)
class Fn:
    """A function argument, sent to the worker as source and evaluated there.

    `source` is a Python expression over `np` and `math`, for example
    `"lambda x: np.sum(np.sin(x))"`; the trusted side evaluates the same source.
    """

    source: str



def resolve_functions(value: Any) -> Any:
    """Turn every `Fn` in a value tree into the callable its source evaluates to.

    The source comes from the course (trusted); it sees `np` and `math`. The worker and the
    trusted side's reference both call this, so a function argument means the same to both.
    """
    if isinstance(value, Fn):
        return eval(value.source, {"np": np, "math": math})  # noqa: S307 - course-written source
    if isinstance(value, list):
        return [resolve_functions(v) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_functions(v) for v in value)
    if isinstance(value, dict):
        return {k: resolve_functions(v) for k, v in value.items()}
    return value

# ---------------------------------------------------------------- encoding


def encode_tree(value: Any, limits: MessageLimits = DEFAULT_LIMITS) -> tuple[Any, list[np.ndarray]]:
    """Turn `value` into (JSON-able meta, list of C-contiguous plain ndarrays).

    Sizes are checked before anything is copied: a huge (or huge-looking) array is refused
    by its shape, so encoding never allocates more than the reader would accept.
    """
    arrays: list[np.ndarray] = []
    elements = 0

    def enc(x: Any, depth: int) -> Any:
        nonlocal elements
        if depth > limits.max_depth:
            raise Unsupported("a structure nested too deeply")
        if x is None:
            return {"t": "none"}
        if isinstance(x, (bool, np.bool_)):
            return {"t": "bool", "v": bool(x)}
        if isinstance(x, (int, np.integer)):
            return {"t": "int", "v": int(x)}
        if isinstance(x, (float, np.floating)):
            return {"t": "float", "v": _float_to_json(float(x))}
        if isinstance(x, str):
            return {"t": "str", "v": str(x)[: limits.max_string]}
        if isinstance(x, np.ndarray):
            # The base class's own size, not a subclass's (possibly lying) property.
            size = int(np.ndarray.size.__get__(x))
            elements += size
            if elements > limits.max_elements:
                cap = limits.max_elements
                raise TooLarge(f"an array of {size} numbers, more than the {cap} a result may hold")
            # np.array(..., subok=False) drops any ndarray subclass and its overrides.
            arr = np.array(x, subok=False, copy=True, order="C")
            if arr.dtype.kind not in "biuf":
                raise Unsupported(f"a NumPy array of dtype {arr.dtype} (not numeric)")
            arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
            if arr.dtype.str not in ALLOWED_DTYPES:
                raise Unsupported(f"a NumPy array of dtype {arr.dtype}")
            arrays.append(arr)
            return {"t": "arr", "i": len(arrays) - 1}
        if isinstance(x, (list, tuple)):
            return {
                "t": "list" if isinstance(x, list) else "tuple",
                "v": [enc(v, depth + 1) for v in x],
            }
        if isinstance(x, dict):
            keys = list(x.keys())
            if not all(isinstance(k, str) for k in keys):
                raise Unsupported("a dict whose keys are not all strings")
            return {"t": "dict", "k": [str(k) for k in keys], "v": [enc(x[k], depth + 1) for k in keys]}
        if type(x) is Fn:
            return {"t": "fn", "v": x.source}
        raise Unsupported(f"a {type(x).__name__} object")

    return enc(value, 0), arrays


def _float_to_json(v: float) -> Any:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def _float_from_json(v: Any) -> float:
    if isinstance(v, str):
        if v not in ("nan", "inf", "-inf"):
            raise ChannelError(f"bad float literal {v[:20]!r}")
        return float(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ChannelError("bad float value")
    return float(v)


def encode_message(value: Any, extra: dict[str, Any] | None = None, limits: MessageLimits = DEFAULT_LIMITS) -> bytes:
    """One message carrying `value` (and small JSON fields in `extra`)."""
    return b"".join(message_parts(prepare(value, limits), extra))


@dataclass(frozen=True)
class Prepared:
    """A value encoded once, to be sent many times (the same call for every student): the JSON
    of its tree and of its array declarations, and the arrays' raw bytes."""

    tail: str
    """`"meta": ..., "arrays": ...`, the end of a message header"""
    body: bytes
    """the arrays' bytes, one after the other"""

    @property
    def size(self) -> int:
        return len(self.body)


def prepare(value: Any, limits: MessageLimits = DEFAULT_LIMITS) -> Prepared:
    """`value` encoded for `message_parts`, checked and copied once."""
    meta, arrays = encode_tree(value, limits)
    decls = [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]
    tail = f'"meta": {json.dumps(meta, allow_nan=False)}, "arrays": {json.dumps(decls)}'
    return Prepared(tail, b"".join(arrays))  # each is our own C-contiguous copy: joined as it is


def digest(prepared: Prepared) -> str:
    """A fingerprint of an encoded value: two values get the same one exactly when their
    encodings are the same (tree, dtypes, shapes and bytes). A call sent ahead on the condition
    that the call before it returned a given value carries that value's (`grader.worker.serve`)."""
    h = hashlib.blake2b(prepared.tail.encode(), digest_size=16)
    h.update(prepared.body)
    return h.hexdigest()


def same(a: Any, b: Any) -> bool:
    """Whether two plain values (as this module decodes them) are the same data, bit for bit:
    the same kinds of containers, dict keys in the same order, arrays of the same dtype, shape
    and bytes, floats of the same bits (so 0.0 and -0.0 differ, and a NaN is itself)."""
    if type(a) is not type(b):
        return False
    if type(a) is np.ndarray:
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is float:
        return struct.pack("<d", a) == struct.pack("<d", b) or (a != a and b != b)
    return bool(a == b)


def message_parts(prepared: Prepared, extra: dict[str, Any] | None = None) -> list[bytes]:
    """The pieces of one message (write them in order, e.g. with `write_parts`): the same bytes
    as `encode_message` of the prepared value with `extra`, without joining the arrays."""
    fields = json.dumps(dict(extra or {}), allow_nan=False)
    head = (fields[:-1] + (", " if len(fields) > 2 else "") + prepared.tail + "}").encode()
    return [_PREFIX.pack(MAGIC, len(head)), head, prepared.body]


# ---------------------------------------------------------------- decoding


def with_fields(message: bytes, extra: dict[str, Any]) -> bytes:
    """`message` (as `encode_message` made it) with the small JSON fields `extra` added to its header."""
    _, head_len = _PREFIX.unpack_from(message)
    end = _PREFIX.size + head_len
    header = json.loads(message[_PREFIX.size:end])
    head = json.dumps({**header, **extra}, allow_nan=False).encode()
    return _PREFIX.pack(MAGIC, len(head)) + head + message[end:]


_DTYPES = {name: np.dtype(name) for name in ALLOWED_DTYPES}


def _validate_arrays(decls: Any, limits: MessageLimits) -> list[tuple[np.dtype, tuple[int, ...], int]]:
    if not isinstance(decls, list):
        raise ChannelError("array declarations must be a list")
    out = []
    total_bytes = 0
    total_elems = 0
    for d in decls:
        if type(d) is not dict or len(d) != 2 or "dtype" not in d or "shape" not in d:
            raise ChannelError("malformed array declaration")
        dtype_s, shape = d["dtype"], d["shape"]
        dtype = _DTYPES.get(dtype_s) if type(dtype_s) is str else None
        if dtype is None:
            raise ChannelError(f"dtype {str(dtype_s)[:20]!r} is not allowed (only bool, int, float)")
        if type(shape) is not list or len(shape) > 32:
            raise ChannelError("malformed shape")
        n = 1
        for size in shape:  # exact ints only (JSON gives no subclasses; `bool` is excluded)
            if type(size) is not int or size < 0:
                raise ChannelError("malformed shape")
            n *= size
        total_elems += n
        total_bytes += n * dtype.itemsize
        if total_elems > limits.max_elements or total_bytes > limits.max_array_bytes:
            raise ChannelError(
                f"the result is too large ({total_elems} numbers; at most {limits.max_elements})"
            )
        out.append((dtype, tuple(shape), n * dtype.itemsize))
    return out


def clean_text(s: str) -> str:
    """`s` as valid Unicode: lone surrogates (which JSON can carry and UTF-8 cannot) become "?".

    A string from the other side may end up in a report file; it must never fail to encode.
    """
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")


def _build_tree(meta: Any, arrays: list[np.ndarray], allow_fn: bool, limits: MessageLimits) -> Any:
    used: set[int] = set()

    def dec(m: Any, depth: int) -> Any:
        if depth > limits.max_depth or type(m) is not dict:
            raise ChannelError("malformed value tree")
        t = m.get("t")
        if t == "arr":  # the kinds in the order they are most common
            i = m.get("i")
            if type(i) is not int or not 0 <= i < len(arrays) or i in used:
                raise ChannelError("bad array reference")
            used.add(i)
            return arrays[i]
        if t == "dict":
            k, v = m.get("k"), m.get("v")
            if type(k) is not list or type(v) is not list or len(k) != len(v):
                raise ChannelError("malformed dict")
            out: dict[str, Any] = {}
            for key, x in zip(k, v, strict=True):
                key = clean_text(key) if type(key) is str else None
                if key is None or key in out:  # not a string, or twice (also once cleaned)
                    raise ChannelError("malformed dict keys")
                out[key] = dec(x, depth + 1)
            return out
        if t == "float":
            v = m.get("v")
            return v if type(v) is float else _float_from_json(v)
        if t in ("list", "tuple"):
            v = m.get("v")
            if type(v) is not list:
                raise ChannelError("malformed list")
            items = [dec(x, depth + 1) for x in v]
            return items if t == "list" else tuple(items)
        if t == "int":
            v = m.get("v")
            if type(v) is not int or abs(v) > 1 << 64:
                raise ChannelError("malformed int")
            return v
        if t == "none":
            return None
        if t == "bool":
            if not isinstance(m.get("v"), bool):
                raise ChannelError("malformed bool")
            return m["v"]
        if t == "str":
            v = m.get("v")
            if type(v) is not str or len(v) > limits.max_string:
                raise ChannelError("malformed string")
            return clean_text(v)
        if t == "fn" and allow_fn:
            v = m.get("v")
            if type(v) is not str:
                raise ChannelError("malformed function")
            return Fn(v)
        raise ChannelError(f"value kind {str(t)[:20]!r} is not allowed")

    return dec(meta, 0)


def read_message(
    fd: int, deadline: float | None = None, limits: MessageLimits = DEFAULT_LIMITS, allow_fn: bool = False
) -> tuple[dict[str, Any], Any]:
    """Read one message from a pipe, and not a byte more; returns (header without meta/arrays,
    value).

    Raises `EOFError` when the writer is gone, `TimeoutError` past `deadline`
    (a `time.monotonic()` value), and `ChannelError` for anything malformed.
    """
    blocking = deadline is not None and os.get_blocking(fd)
    return _message(lambda n, first: _read_exact(fd, n, deadline, blocking, eof_ok=first), limits, allow_fn)


class Reader:
    """The messages of one pipe, read a chunk at a time: a write of many small messages costs
    one read, not three per message. It reads past the message it returns, so it must be the
    only reader of its pipe from its first message on."""

    CHUNK = 1 << 16
    """bytes asked for at once; a longer array is read straight into a buffer of its own size"""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray()
        self._at = 0
        self._chunk: memoryview | None = None  # where each read lands, made once

    def pending(self) -> bool:
        """Whether bytes already read wait in the buffer (a message may be there: read it
        before waiting on the pipe)."""
        return self._at < len(self._buf)

    def read_message(self, deadline: float | None = None, limits: MessageLimits = DEFAULT_LIMITS,
                     allow_fn: bool = False) -> tuple[dict[str, Any], Any]:
        """`read_message` of the pipe's next message."""
        blocking = deadline is not None and os.get_blocking(self.fd)
        return _message(lambda n, first: self._take(n, deadline, blocking, first), limits, allow_fn)

    def _take(self, n: int, deadline: float | None, blocking: bool, first: bool) -> bytearray:
        have = len(self._buf) - self._at
        if have < n and n - have > self.CHUNK:  # a long array: its own buffer, read into in place
            out = bytearray(n)
            out[:have] = self._buf[self._at:]
            self._buf, self._at = bytearray(), 0
            _fill(self.fd, memoryview(out)[have:], deadline, blocking, eof_ok=first and not have)
            return out
        if have < n:
            del self._buf[: self._at]
            self._at = 0
            if self._chunk is None:
                self._chunk = memoryview(bytearray(self.CHUNK))
            while len(self._buf) < n:
                got = _fill(self.fd, self._chunk, deadline, blocking, eof_ok=first and not self._buf, some=True)
                self._buf += self._chunk[:got]
        out = self._buf[self._at : self._at + n]
        self._at += n
        return out


def _message(take: Any, limits: MessageLimits, allow_fn: bool) -> tuple[dict[str, Any], Any]:
    """One message, its bytes got from `take(n, first)` (`first`: the message's first bytes,
    where the end of the pipe is a clean end)."""
    magic, head_len = _PREFIX.unpack(take(_PREFIX.size, True))
    if magic != MAGIC:
        raise ChannelError("bad message prefix")
    if head_len > limits.max_header_bytes:
        raise ChannelError("message header too large")
    try:
        header = json.loads(str(take(head_len, False), "utf-8"))  # only UTF-8, as written
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[..."
        raise ChannelError("message header is not JSON") from exc
    if not isinstance(header, dict) or "meta" not in header or "arrays" not in header:
        raise ChannelError("malformed message header")
    decls = _validate_arrays(header.pop("arrays"), limits)
    # All the arrays' bytes at once, exactly the declared total (already checked).
    body = take(sum(nbytes for _, _, nbytes in decls), False) if decls else b""
    value = _build_tree(header.pop("meta"), _arrays(body, decls), allow_fn, limits)
    return header, value


ALIGNMENT = 16
"""every array read starts at a multiple of this (as one allocation per array would): NumPy's
loops may take another path for data aligned otherwise"""


def _arrays(body: bytearray | bytes, decls: list[tuple[np.dtype, tuple[int, ...], int]]) -> list[np.ndarray]:
    """The declared arrays, writable, over `body` where they start aligned, else copied out of it."""
    arrays, offset = [], 0
    start = np.frombuffer(body, dtype=np.uint8).ctypes.data if body else 0
    for dtype, shape, nbytes in decls:
        arr = np.frombuffer(body, dtype=dtype, count=nbytes // dtype.itemsize, offset=offset).reshape(shape)
        if nbytes == 0 or (start + offset) % ALIGNMENT:
            arr = arr.copy()
        arrays.append(arr)
        offset += nbytes
    return arrays


def _read_exact(fd: int, n: int, deadline: float | None, blocking: bool, eof_ok: bool = False) -> bytearray:
    """`n` bytes from `fd`, in one buffer of exactly that size (already checked against the caps)."""
    buf = bytearray(n)
    _fill(fd, memoryview(buf), deadline, blocking, eof_ok)
    return buf


def _fill(fd: int, view: memoryview, deadline: float | None, blocking: bool, eof_ok: bool,
          some: bool = False) -> int:
    """Fill `view` from `fd` (with `some`, stop after the first read that gives anything); the
    bytes read. With a deadline (a `time.monotonic()` value), a non-blocking fd is read at once
    and waited on only when it has nothing; a `blocking` one is waited on before each read, so
    that the read cannot outlast the deadline. `eof_ok`: the end of the pipe before any byte is
    a clean `EOFError`, not a message cut short."""
    n, done = len(view), 0
    while done < n:
        if deadline is not None and blocking:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        try:
            got = os.readv(fd, [view[done : done + (1 << 20)]])
        except BlockingIOError:
            wait = (deadline - time.monotonic()) if deadline is not None else None
            if wait is not None and wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError from None
            continue
        if not got:
            if eof_ok and done == 0:
                raise EOFError
            raise EOFError("message cut short")
        done += got
        if some:
            break
    return done


def write_message(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write a whole message to a pipe; with `deadline`, give up (`TimeoutError`) past it.

    A deadline needs a non-blocking fd: a reader that stops reading must not hang the writer.
    """
    view = memoryview(data)
    while view:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [fd], [], wait)[1]:
                raise TimeoutError
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[n:]


def write_parts(fd: int, parts: list[bytes], deadline: float | None = None) -> None:
    """`write_message` of the concatenation of `parts`, without building it (`os.writev`); the
    trusted side's (the worker writes with `write_message`, which needs no builtin a student
    could replace)."""
    views = [memoryview(p) for p in parts if p]
    first = 0  # views before this one are written
    while first < len(views):
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [fd], [], wait)[1]:
                raise TimeoutError
        try:
            n = os.writev(fd, views[first : first + 512])  # IOV_MAX is 1024 on Linux
        except BlockingIOError:
            continue
        while n:
            size = len(views[first])
            if n >= size:
                n -= size
                first += 1
            else:
                views[first], n = views[first][n:], 0


# ---------------------------------------------------------------- what a call did


WARNINGS_CAP = 5
"""RuntimeWarnings accepted from one reply (the worker sends at most this many, distinct)"""
WARNING_CHARS = 300
"""characters kept of each warning's text"""


def reply_effects(header: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    """`(warnings, global_rng)` of an ok reply's header, validated and capped.

    `warnings`: the RuntimeWarnings the call raised, as text; `global_rng`: whether it used
    NumPy's global random state. Anything malformed counts as nothing reported for warnings
    and as use of the global state (a worker that lies gains nothing by it).
    """
    raw = header.get("warnings", [])
    found = tuple(clean_text(w)[:WARNING_CHARS] for w in raw[:WARNINGS_CAP] if isinstance(w, str)) if (
        isinstance(raw, list)) else ()
    flag = header.get("global_rng", False)
    return found, flag if isinstance(flag, bool) else True


def reply_spent(header: dict[str, Any], most: float) -> float:
    """The wall-clock seconds a reply says the student's code ran in its call (0 if it says
    nothing readable), at most `most` (the call's whole time, as the trusted side measured it)."""
    spent = header.get("spent")
    if not isinstance(spent, list) or not spent or type(spent[0]) not in (int, float):
        return 0.0
    return min(max(float(spent[0]), 0.0), most)


# ---------------------------------------------------------------- frozen files


def save_tree(path: os.PathLike[str] | str, value: Any) -> None:
    """Store a value tree in one file (the message format)."""
    with open(path, "wb") as f:
        f.write(encode_message(value))


def load_tree(path: os.PathLike[str] | str) -> Any:
    """Read a value tree written by `save_tree`, with the channel's validation."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        _, value = read_message(fd, limits=MessageLimits(max_header_bytes=64 << 20))
    finally:
        os.close(fd)
    return value


def round_trip(value: Any) -> Any:
    """`value` as the other side of the channel reads it: plain data only (functions as `Fn`)."""
    meta, arrays = encode_tree(value)
    return _build_tree(meta, arrays, allow_fn=True, limits=DEFAULT_LIMITS)
