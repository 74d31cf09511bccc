"""Generic diagnosis: each kind of fact is named from a submission's outputs, only when every
failing input of the function confirms it, and never for correct or unrelated outputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SUBMISSIONS, mutate, reference_source
from grader.checks.diagnosis import Evidence, Finding, diagnose, error_findings, is_degenerate, value_findings
from grader.model import Call

DEPENDS = {"backprop": ["forward"], "regularization": ["forward", "backprop"], "optimizers": ["forward", "backprop"]}


def grade_mutant(course, module: str, old: str, new: str):
    files = {f"{module}.py": mutate(reference_source(module), old, new)}
    for dep in DEPENDS.get(module, []):
        files[f"{dep}.py"] = reference_source(dep)
    return course.grade(files, [module])


def diagnoses(result, function: str) -> set[str]:
    return {c.diagnosis for c in result.checks if c.function == function and not c.passed and c.diagnosis}


def the_diagnosis(result, function: str) -> str:
    found = diagnoses(result, function)
    assert len(found) == 1, found
    return found.pop()


# ---------------------------------------------------------------- kinds, from real submissions


def test_a_missing_division_by_the_batch_size_is_named_as_that_factor(course):
    result = grade_mutant(course, "backprop", "dZ = (P - Y) / m" if "dZ = (P - Y) / m" in reference_source("backprop")
                          else "return (P - Y) / m", "return (P - Y)")
    text = the_diagnosis(result, "softmax_cross_entropy_grad")
    assert "times `P.shape[0]`" in text


def test_a_sign_error_is_named(course):
    result = grade_mutant(course, "forward", "return 1.0 - np.tanh(z) ** 2", "return np.tanh(z) ** 2 - 1.0")
    assert "opposite sign" in the_diagnosis(result, "tanh_grad")


def test_a_transposed_gradient_is_named(course):
    result = grade_mutant(course, "backprop", "dW = dZ.T @ A_prev", "dW = A_prev.T @ dZ")
    text = the_diagnosis(result, "dense_backward")
    assert "second returned value" in text and "transposed" in text


def test_an_extra_axis_is_named(course):
    result = grade_mutant(course, "backprop", "db = dZ.sum(axis=0)", "db = dZ.sum(axis=0, keepdims=True)")
    assert "extra axis of length 1" in the_diagnosis(result, "dense_backward")


def test_an_exception_whose_cause_the_shapes_show_is_named(course):
    result = grade_mutant(course, "backprop", "dA_prev = dZ @ W\n", "dA_prev = dZ @ W.T\n")
    text = the_diagnosis(result, "dense_backward")
    # the fact stated comes from a square input (the product computed) or from a non-square one
    # (the exception): the same explanation
    assert "`dZ @ W.T`" in text


def test_only_the_entries_at_the_kink_wrong_are_named(course):
    result = grade_mutant(course, "forward", "return (np.asarray(z) > 0).astype", "return (np.asarray(z) >= 0).astype")
    assert "wrong only where `z` is 0 (" in the_diagnosis(result, "relu_grad")


def test_an_off_by_one_in_an_integer_argument_is_named(course):
    result = grade_mutant(course, "optimizers", "math.cos(math.pi * epoch / total_epochs)",
                          "math.cos(math.pi * (epoch + 1) / total_epochs)")
    assert "`epoch` one higher" in the_diagnosis(result, "cosine_annealing")


def test_biases_treated_like_weights_are_named_as_the_b_entries(course):
    result = grade_mutant(course, "regularization", "2 * lam * P if _is_weight(key) else np.zeros_like(P)",
                          "2 * lam * P")
    assert "exactly the `b` entries are wrong" in the_diagnosis(result, "l2_grad")


def test_an_intermediate_returned_instead_of_the_result_is_named(course):
    source = reference_source("forward")
    start = source.index("def layer_forward")
    body = source[start:]
    ret = next(line for line in body.splitlines() if line.strip().startswith("return"))
    result = grade_mutant(course, "forward", ret, ret.replace(ret.strip(), "return Z, Z"))
    text = the_diagnosis(result, "layer_forward")
    assert "first returned value equals a value the reference solution computes on the way" in text
    assert "`Z`" in text


# ---------------------------------------------------------------- what is never said


@pytest.mark.parametrize("style", sorted(p.name for p in SUBMISSIONS.iterdir() if p.is_dir()))
def test_a_correct_style_gets_no_diagnosis_and_no_hint(course, style):
    folder = SUBMISSIONS / style
    module = style.split("_")[0]
    files = {p.name: p.read_text() for p in folder.glob("*.py")}
    for dep in DEPENDS.get(module, []):
        files.setdefault(f"{dep}.py", reference_source(dep))
    result = course.grade(files, [module])
    assert [c.name for c in result.checks if not c.passed] == []
    assert [c.name for c in result.checks if c.diagnosis or c.hint] == []


def test_unrelated_wrong_values_get_no_diagnosis(course):
    # softmax replaced by a fixed function of the input that no simple relation explains
    unrelated = "def softmax(Z):\n    return np.cos(3 * np.asarray(Z)) + 0.3\n\n\ndef _unused(Z):"
    result = grade_mutant(course, "forward", "def softmax(Z):", unrelated)
    failing = [c for c in result.checks if c.function == "softmax" and not c.passed]
    assert failing
    assert [c.diagnosis for c in failing if c.diagnosis] == []


def test_a_diagnosis_names_only_the_function_it_is_about(course):
    result = grade_mutant(course, "backprop", "dW = dZ.T @ A_prev", "dW = A_prev.T @ dZ")
    named = {c.function for c in result.checks if c.diagnosis}
    assert named == {"dense_backward"}


# ---------------------------------------------------------------- the rule, on evidence


def _finding(key="factorx2", strong=True, mistake=None):
    return Finding(key, f"{{what}} is {key}", strong=strong, mistake=mistake)


def test_a_fact_from_one_degenerate_input_alone_is_not_stated():
    ev = [Evidence("m.f", False, (_finding(),), degenerate=True)]
    assert diagnose(ev) == {}


def test_a_second_input_confirms_a_degenerate_one():
    ev = [Evidence("m.f", False, (_finding(),), degenerate=True)] * 2
    assert diagnose(ev)["m.f"].texts == ("your result is factorx2",)


def test_a_fact_that_one_failing_input_contradicts_is_not_stated():
    ev = [Evidence("m.f", False, (_finding(),)), Evidence("m.f", False, (_finding("factorx3"),))]
    assert diagnose(ev) == {}


def test_inputs_that_timed_out_or_passed_neither_confirm_nor_contradict():
    ev = [Evidence("m.f", False, (_finding(),)), Evidence("m.f", False, neutral=True), Evidence("m.f", True)]
    assert diagnose(ev)["m.f"].texts == ("your result is factorx2",)


def test_a_fact_resting_on_one_number_needs_a_second_input():
    assert diagnose([Evidence("m.f", False, (_finding(strong=False),))]) == {}
    two = [Evidence("m.f", False, (_finding(strong=False),)), Evidence("m.f", False, (_finding(strong=False),))]
    assert "m.f" in diagnose(two)


def test_two_catalogued_mistakes_that_both_fit_are_not_named():
    both = (_finding("mistake:a", mistake="a"), _finding("mistake:b", mistake="b"))
    assert diagnose([Evidence("m.f", False, both)]) == {}


def test_a_consistent_but_unproven_finding_never_stands_alone():
    unproven = Finding("mistake:a", "", proven=False, mistake="a")
    assert diagnose([Evidence("m.f", False, (unproven,)), Evidence("m.f", False, (unproven,))]) == {}


# ---------------------------------------------------------------- the relations, as properties

MATRICES = st.tuples(st.integers(2, 5), st.integers(2, 5), st.integers(0, 2**32 - 1)).map(
    lambda t: np.random.default_rng(t[2]).normal(size=(t[0], t[1])))


@settings(max_examples=40)
@given(MATRICES, st.sampled_from([2.0, 0.5, -1.0, 10.0]))
def test_a_constant_factor_is_always_found(x, r):
    findings, _ = value_findings(r * x, {"value": x}, Call("m", "f", (x,)))
    assert any(f.key == f"factorx{r:g}" for f in findings), [f.key for f in findings]


@settings(max_examples=40)
@given(MATRICES)
def test_a_factor_equal_to_the_rows_of_an_argument_is_named_as_such(x):
    m = x.shape[0]
    findings, _ = value_findings(x / m, {"value": x}, Call("m", "f", (x,)))
    said = {f.statement for f in findings if f.key.startswith("factor/")}
    assert m > 1 and any("divided by `argument 1.shape[0]`" in t for t in said), said


def test_the_number_of_examples_is_one_quantity_for_1d_and_2d_arguments():
    one_d, two_d = np.arange(1.0, 6.0), np.arange(1.0, 16.0).reshape(5, 3)  # five examples each
    keys_1d = {f.key for f in value_findings(5.0 * 2, {"value": 2.0}, Call("m", "f", (one_d,)))[0]}
    keys_2d = {f.key for f in value_findings(5.0 * 2, {"value": 2.0}, Call("m", "f", (two_d,)))[0]}
    assert "factorxargument 1.shape[0]" in keys_1d & keys_2d


@settings(max_examples=40)
@given(MATRICES, MATRICES)
def test_unrelated_matrices_of_the_same_shape_have_no_factor(x, y):
    if y.shape != x.shape:
        y = np.resize(y, x.shape) + 0.5
    findings, _ = value_findings(y, {"value": x}, Call("m", "f", (x,)))
    assert not [f.key for f in findings if f.key.startswith("factor")]


@settings(max_examples=40)
@given(MATRICES)
def test_a_transpose_is_found_unless_the_matrix_is_symmetric(x):
    findings, _ = value_findings(x.T, {"value": x}, Call("m", "f", ()))
    transposed = [f.key for f in findings if f.key == "transposed"]
    assert transposed == (["transposed"] if x.shape != x.T.shape or not np.allclose(x, x.T) else [])


def test_sequence_relations():
    exp = np.array([3.0, 2.0, 2.0, 1.0, 0.0])
    cases = {"one-short": exp[:-1], "shifted-later": np.r_[9.0, exp[:-1]], "cumulative": np.cumsum(exp)}
    for key, got in cases.items():
        findings, _ = value_findings(got, {"value": exp}, Call("m", "f", ()))
        assert key in {f.key for f in findings}, key


def test_an_exception_is_explained_only_when_the_shapes_prove_it():
    A, W = np.ones((3, 4)), np.ones((2, 4))
    message = ("matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
               "(n?,k),(k,m?)->(n?,m?) (size 2 is different from 4)")
    found = error_findings(message, Call("forward", "dense_forward", (A, W, np.zeros(2))))
    assert [f.key for f in found] == ["matmul:argument 1 @ argument 2.T"] or any("@" in f.key for f in found)
    assert error_findings("ValueError: something else", Call("m", "f", (A, W))) == []


def test_degenerate_inputs():
    assert is_degenerate(Call("m", "f", (np.ones((1, 3)),)))
    assert is_degenerate(Call("m", "f", ([10, 1],)))
    assert is_degenerate(Call("m", "f", ({"W1": np.ones((2, 2)), "b1": np.ones(2)},)))
    assert not is_degenerate(Call("m", "f", (np.ones((3, 2)), [4, 3, 2], ["relu", "tanh"])))
