"""The plain-data channel: everything plain round-trips, nothing else gets through."""

from __future__ import annotations

import json
import os
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.worker import codec

DTYPES = st.sampled_from(["bool", "int8", "int32", "int64", "uint8", "uint64", "float16", "float32", "float64"])
ARRAYS = DTYPES.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(), st.text(max_size=20))
TREES = st.recursive(
    st.one_of(SCALARS, ARRAYS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=12,
)


def _roundtrip(value):
    r, w = os.pipe()
    try:
        codec.write_message(w, codec.encode_message(value))
        os.close(w)
        return codec.read_message(r)[1]
    finally:
        os.close(r)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
            a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(TREES)
def test_plain_data_round_trips_exactly(value):
    assert _same(value, _roundtrip(value))


class FakeArray:
    def __array_function__(self, *a, **k):
        return True

    def __eq__(self, other):
        return True


class Sub(np.ndarray):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value,what", [
    (FakeArray(), "FakeArray"),
    ((x for x in range(3)), "generator"),
    (np.array([object()], dtype=object), "dtype object"),
    (np.array(["a"]), "dtype <U1"),
    (np.array([1 + 2j]), "complex128"),
    ({1: 2}, "keys are not all strings"),
    (set([1]), "set"),
])
def test_anything_not_plain_is_refused_by_name(value, what):
    with pytest.raises(codec.Unsupported, match=what):
        codec.encode_message(value)


def test_an_ndarray_subclass_arrives_as_a_plain_array():
    value = _roundtrip(np.arange(3.0).view(Sub))
    assert type(value) is np.ndarray and value.tolist() == [0.0, 1.0, 2.0]


def _raw(header: dict, payload: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return struct.pack("<4sI", b"GRD1", len(head)) + head + payload


def _read_raw(data: bytes):
    r, w = os.pipe()
    try:
        os.write(w, data)
        os.close(w)
        return codec.read_message(r)
    finally:
        os.close(r)


@pytest.mark.parametrize("data,error", [
    (b"\x80\x04\x95pickle!!", "bad message prefix"),
    (struct.pack("<4sI", b"GRD1", 1 << 30), "header too large"),
    (_raw({"meta": {"t": "arr", "i": 0}, "arrays": [{"dtype": "|O", "shape": [1]}]}), "not allowed"),
    (_raw({"meta": {"t": "arr", "i": 0}, "arrays": [{"dtype": "<f8", "shape": [10**9]}]}), "too large"),
    (_raw({"meta": {"t": "arr", "i": 0}, "arrays": [{"dtype": "<f8", "shape": [-1]}]}), "malformed shape"),
    (_raw({"meta": {"t": "arr", "i": 3}, "arrays": []}), "bad array reference"),
    (_raw({"meta": {"t": "pickle", "v": "..."}, "arrays": []}), "not allowed"),
    (_raw({"meta": {"t": "fn", "v": "lambda: 0"}, "arrays": []}), "not allowed"),
    (_raw({"meta": {"t": "int", "v": 10**100}, "arrays": []}), "malformed int"),
])
def test_forged_messages_are_rejected_before_allocation(data, error):
    # Some declare a gigabyte header or an 8 GB array: rejected with at most a small buffer
    # allocated (tracemalloc sees Python's and NumPy's allocations).
    tracemalloc.start()
    try:
        with pytest.raises(codec.ChannelError, match=error):
            _read_raw(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated"


def test_a_message_cut_short_is_an_eof_not_a_hang():
    whole = codec.encode_message(np.arange(100.0))
    with pytest.raises(EOFError):
        _read_raw(whole[:-8])


def test_frozen_files_are_read_with_the_same_validation(tmp_path):
    path = tmp_path / "expected.grd"
    codec.save_tree(path, {"a": np.eye(2), "b": [1, 2.5, None]})
    assert _same(codec.load_tree(path), {"a": np.eye(2), "b": [1, 2.5, None]})
    link = tmp_path / "link.grd"
    link.symlink_to(path)
    with pytest.raises(OSError):
        codec.load_tree(link)


# ---------------------------------------------------------------- digests and sameness
# A call sent ahead on a path runs only if the call before it returned a value of a given
# digest, and the trusted side asks for it only if the value it read is `same` as that value:
# the two must agree on every value the channel carries.


@settings(max_examples=150, deadline=None)
@given(TREES)
def test_a_value_and_the_value_read_from_it_have_one_digest_and_are_the_same(value):
    read = _roundtrip(value)
    assert codec.digest(codec.prepare(read)) == codec.digest(codec.prepare(value))
    assert codec.same(read, _roundtrip(read))


@settings(max_examples=150, deadline=None)
@given(TREES, TREES)
def test_values_read_differently_have_different_digests(a, b):
    left, right = _roundtrip(a), _roundtrip(b)
    same_digest = codec.digest(codec.prepare(left)) == codec.digest(codec.prepare(right))
    assert same_digest == codec.same(left, right)


@pytest.mark.parametrize("a, b", [
    (0.0, -0.0), (1, 1.0), (True, 1), ([1.0], (1.0,)), ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    (np.zeros(2), np.zeros(2, dtype=np.float32)), (np.zeros(2), np.zeros((1, 2))),
    (np.array([0.0]), np.array([-0.0])), (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 2**-51])),
])
def test_bit_for_bit_means_kind_dtype_shape_order_and_every_bit(a, b):
    assert not codec.same(a, b) and not codec.same(b, a)
    assert codec.digest(codec.prepare(a)) != codec.digest(codec.prepare(b))
    assert codec.same(a, a) and codec.same(float("nan"), float("nan"))


# ---------------------------------------------------------------- a pipe's reader


def _read_all(data: bytes, chunk: int) -> list:
    """Every message in `data`, as one `codec.Reader` with chunks of `chunk` bytes reads them."""
    r, w = os.pipe()
    try:
        os.set_blocking(w, False)
        os.write(w, data)
        os.close(w)
        reader, out = codec.Reader(r), []
        reader.CHUNK = chunk
        while True:
            try:
                out.append(reader.read_message(deadline=None)[1])
            except EOFError as exc:
                if str(exc):  # a message cut short, not a clean end
                    raise
                return out
    finally:
        os.close(r)


@settings(max_examples=60, deadline=None)
@given(st.lists(TREES, min_size=1, max_size=5), st.sampled_from([1, 7, 64, 1 << 16]))
def test_a_reader_gives_the_messages_of_one_write_one_by_one_whatever_its_chunk(values, chunk):
    data = b"".join(codec.encode_message(v) for v in values)
    if len(data) > 60_000:  # within one pipe's capacity: written before anything reads
        return
    got = _read_all(data, chunk)
    assert len(got) == len(values) and all(_same(v, g) for v, g in zip(values, got, strict=True))


def test_a_reader_reads_a_long_array_into_its_own_buffer_and_keeps_what_follows():
    big = np.arange(40_000, dtype=np.float64)  # 320 kB: longer than a chunk and a pipe's buffer
    r, w = os.pipe()
    try:
        reader = codec.Reader(r)
        if os.fork() == 0:
            os.close(r)
            codec.write_message(w, b"".join(codec.encode_message(v) for v in (1.5, {"x": big}, "end")))
            os._exit(0)
        os.close(w)
        assert reader.read_message()[1] == 1.5 and reader.pending()
        value = reader.read_message()[1]["x"]
        assert np.array_equal(value, big) and value.flags.writeable
        assert reader.read_message()[1] == "end" and not reader.pending()
        with pytest.raises(EOFError) as end:
            reader.read_message()
        assert not str(end.value)  # a clean end, between messages
    finally:
        os.close(r)
        os.wait()


def test_a_reader_says_when_a_message_is_cut_short_and_checks_declarations_before_reading():
    message = codec.encode_message({"a": np.zeros(3)})
    with pytest.raises(EOFError, match="cut short"):
        _read_all(message[:-5], 64)
    head = json.dumps({"meta": {"t": "arr", "i": 0}, "arrays": [{"dtype": "<f8", "shape": [10**9]}]}).encode()
    with pytest.raises(codec.ChannelError, match="too large"):
        _read_all(struct.pack("<4sI", codec.MAGIC, len(head)) + head, 64)
