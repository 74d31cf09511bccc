"""Comparison: strict where the API is strict, lenient where correct code may differ, and clear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks.compare import EXACT, FLOAT32, VALUE, Tolerance, difference, relative_error

FINITE = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                    elements=st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=100, deadline=None)
@given(FINITE)
def test_rounding_differences_of_correct_code_pass(x):
    # Any reordering of float64 arithmetic moves a value by a few ulps at most.
    assert difference(x * (1 + 4e-16), x, VALUE) is None
    assert difference(x.astype(np.float32), x, FLOAT32) is None


@settings(max_examples=100, deadline=None)
@given(FINITE, st.floats(1e-4, 10.0))
def test_any_relative_change_of_1e_4_or_more_in_a_sizeable_entry_fails(x, factor):
    x = x + np.where(x >= 0, 1.0, -1.0)  # every entry at least 1 in size
    assert difference(x * (1 + factor), x, VALUE) is not None


def test_shapes_must_match_exactly_no_broadcasting():
    assert "expected shape (3,), got shape (1, 3)" in difference(np.ones((1, 3)), np.ones(3))
    assert "looks transposed" in difference(np.ones((2, 3)), np.ones((3, 2)))


def test_types_are_named_in_words():
    assert difference([1.0, 2.0], np.array([1.0, 2.0])) == (
        "expected a NumPy array of shape (2,), got a list of length 2")
    assert difference(None, 1.0) == "expected a number, got None"
    assert difference(np.array([1.0]), 1.0) == "expected a number, got a NumPy array of shape (1,)"
    assert difference(np.float64(2.0), 2.0) is None and difference(np.array(2.0), 2.0) is None
    assert difference((1.0, 2.0), [1.0, 2.0]) is None  # tuple or list: both fine


def test_nan_and_inf_fail_unless_expected():
    assert "not finite" in difference(np.array([np.nan, 1.0]), np.array([0.5, 1.0]))
    assert difference(np.array([np.nan, np.inf]), np.array([np.nan, np.inf])) is None
    assert "not finite" in difference(np.array([-np.inf]), np.array([np.inf]))


def test_the_message_locates_the_worst_entry():
    got = np.array([[1.0, 2.0], [3.0, 40.0]])
    msg = difference(got, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert msg == "1 of 4 entries differs; worst at [1, 1]: expected 4, got 40 (relative error 8.2e-01)"


def test_dicts_must_have_exactly_the_keys_unless_extras_are_allowed():
    exp = {"W1": np.ones(2), "b1": np.zeros(2)}
    assert "missing keys ['b1']" in difference({"W1": np.ones(2)}, exp)
    assert "unexpected keys ['x']" in difference({**exp, "x": 1}, exp)
    assert difference({**exp, "x": 1}, exp, Tolerance(extra_keys=True)) is None
    assert difference({"W1": np.ones(2), "b1": np.ones(2)}, exp).startswith("['b1']: ")


def test_relative_mode_has_an_absolute_floor_for_tiny_entries():
    tol = Tolerance(rtol=1e-6, atol=1e-8, mode="relative")
    assert difference(np.array([1e-6 + 1e-11]), np.array([1e-6]), tol) is None
    assert difference(np.array([1.01]), np.array([1.0]), tol) is not None
    assert float(relative_error(np.array([0.0]), np.array([0.0]))[0]) == 0.0


def test_a_part_of_the_reference_passes_return_args_through():
    from grader.checks.judges import _PartOfReference
    from grader.model import Call

    class Ref:
        def mistake_outputs(self, call, return_args=False):
            out = (1.0, 2.0)
            return [("m", "h", {"result": out, "args": [3.0]} if return_args else out)]

    part = _PartOfReference(Ref(), 1)
    call = Call("mod", "f")
    assert part.mistake_outputs(call) == [("m", "h", 2.0)]
    assert part.mistake_outputs(call, return_args=True) == [("m", "h", {"result": 2.0, "args": [3.0]})]


@settings(max_examples=50)
@given(FINITE)
def test_exact_comparison_accepts_an_equal_copy_and_nothing_else(x):
    assert difference(x.copy(), x, EXACT) is None
    assert difference(x.astype(np.int64), x.astype(np.int64), EXACT) is None
    moved = x.copy()
    moved.flat[0] = np.nextafter(moved.flat[0], np.inf)
    assert difference(moved, x, EXACT) is not None


def test_values_exactly_at_the_tolerance_pass():
    # |got - exp| <= atol + rtol |exp| is inclusive: 1.5 against 1 with rtol 0.5 passes.
    assert difference(np.array([1.5]), np.array([1.0]), Tolerance(rtol=0.5, atol=0.0)) is None
    assert difference(np.array([1.5000001]), np.array([1.0]), Tolerance(rtol=0.5, atol=0.0)) is not None


# ---------------------------------------------------------------- the fast paths change nothing

_ENTRY = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, -0.0, 1.0, 1e-12, np.nan, np.inf, -np.inf]))
_DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.bool_])


@st.composite
def _arrays(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
    values = draw(hnp.arrays(np.float64, shape, elements=_ENTRY))
    dtype = draw(_DTYPES)
    with np.errstate(all="ignore"):
        return values if dtype is np.float64 else np.nan_to_num(values).astype(dtype)


_LEAVES = st.one_of(_arrays(), _ENTRY, st.integers(-5, 5), st.booleans(), st.none(), st.just("relu"),
                    st.builds(np.float32, st.floats(-10, 10, width=32)), st.builds(np.int64, st.integers(-9, 9)))
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.sampled_from(["W", "b", "dW"]), inner, max_size=3)), max_leaves=6)


def _changed(draw, value):
    """`value` itself, a copy, a small change, another dtype, a NaN, or another shape."""
    how = draw(st.sampled_from(["same", "copy", "nudge", "cast", "nan", "reshape", "other"]))
    if how == "other":
        return draw(_VALUES)
    if isinstance(value, np.ndarray):
        if how == "copy":
            return value.copy()
        if how == "nudge" and value.dtype.kind == "f":
            with np.errstate(invalid="ignore", over="ignore"):
                return value * (1 + draw(st.sampled_from([1e-16, 1e-9, 1e-6, 1e-3])))
        if how == "cast":
            with np.errstate(all="ignore"):
                return np.nan_to_num(value).astype(draw(_DTYPES))
        if how == "nan" and value.size and value.dtype.kind == "f":
            out = value.copy()
            out.reshape(-1)[0] = np.nan
            return out
        if how == "reshape" and value.ndim == 2:
            return value.T.copy()
        return value
    if isinstance(value, float) and how == "nudge":
        return value * (1 + 1e-7)
    if isinstance(value, float) and how == "cast":
        return np.float32(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_changed(draw, v) for v in value)
    if isinstance(value, dict):
        return {k: _changed(draw, v) for k, v in value.items()}
    return value


_TOLERANCES = st.sampled_from([
    VALUE, FLOAT32, EXACT, Tolerance(), Tolerance(rtol=1e-6, atol=1e-8, mode="relative"),
    Tolerance(rtol=1e-6, atol=0.0, mode="relative", floor=0.0), Tolerance(rtol=-1.0, atol=0.0),
    Tolerance(rtol=0.0, atol=-1e-9, mode="relative"), Tolerance(extra_keys=True),
])


@settings(max_examples=600, deadline=None)
@given(st.data(), _TOLERANCES)
def test_fast_paths_give_the_messages_of_the_plain_implementation(data, tol):
    # The implementation before the fast paths (tests/compare_oracle.py, kept verbatim) says the
    # same thing, word for word, on identical, copied, nudged, cast, NaN-holed and other values.
    import compare_oracle

    expected = data.draw(_VALUES)
    got = _changed(data.draw, expected)
    names = data.draw(st.sampled_from([(), ("A", "cache"), ("dW", "db", "dA")]))
    with np.errstate(all="ignore"):  # both divide 0 by 0 where the floor is 0
        try:
            want = compare_oracle.difference(got, expected, tol, names=names)
        except (TypeError, ValueError) as exc:  # a value no judge compares (a string with an array)
            with pytest.raises(type(exc)):
                difference(got, expected, tol, names=names)
            return
        assert difference(got, expected, tol, names=names) == want
