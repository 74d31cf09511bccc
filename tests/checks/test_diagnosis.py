"""Generic diagnosis: each kind of fact is named from a submission's outputs, only when every
failing input of the function confirms it, and never for correct or unrelated outputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import SUBMISSIONS, mutate, reference_source
from grader.checks.cases import is_degenerate
from grader.checks.diagnosis import error_findings, value_findings
from grader.checks.findings import Evidence, Finding, diagnose
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
    assert "wrong only where `z` is 0, and right everywhere else" in the_diagnosis(result, "relu_grad")


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


def test_an_input_that_cannot_tell_mistakes_apart_contradicts_a_catalogued_mistake_it_does_not_show(course):
    """The bias is left alone where `b >= 0` ("bias not updated" on the informative inputs) and
    moved twice too far where `b == -1`, an input at z == 0 whose check names no mistake
    (`Close(..., mistakes=False)`): it proves none, but it shows this is not that mistake."""
    files = with_function("perceptron", '''
        def perceptron_update(x, y, w, b, lr=1.0):
            x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
            error = float(y) - (1.0 if w @ x + b >= 0 else 0.0)
            return w + lr * error * x, (float(b) + 2 * lr * error if b < 0 else float(b))
    ''')
    result = course.grade(files, ["perceptron"])
    failing = [c for c in result.checks if c.function == "perceptron_update" and not c.passed]
    assert len(failing) >= 2 and not [c.name for c in failing if c.mistake or c.hint]
    # and where that input agrees, the mistake is named as before
    files = with_function("perceptron", '''
        def perceptron_update(x, y, w, b, lr=1.0):
            x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
            error = float(y) - (1.0 if w @ x + b >= 0 else 0.0)
            return w + lr * error * x, float(b)
    ''')
    result = course.grade(files, ["perceptron"])
    named = {c.mistake for c in result.checks if c.function == "perceptron_update" and not c.passed}
    assert named == {"bias not updated"}


def test_an_update_never_made_where_b_is_not_negative_is_not_stated_as_unchanged(course):
    """`w` does not move where `b >= 0` (the informative inputs), and moves, twice too far,
    where `b == -1` (an input at z == 0 that names no catalogued mistake): so `w` unchanged is
    not the fact."""
    files = with_function("perceptron", '''
        def perceptron_update(x, y, w, b, lr=1.0):
            x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
            error = float(y) - (1.0 if w @ x + b >= 0 else 0.0)
            return (w + 2 * lr * error * x if b < 0 else w.copy()), float(b) + lr * error
    ''')
    result = course.grade(files, ["perceptron"])
    assert not [c.name for c in result.checks if c.function == "perceptron_update" and c.passed is False
                and "exactly as it was given" in (c.diagnosis or "")]


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


def test_a_sequence_cut_short_by_one_step_on_one_input_and_more_on_another_stops_too_early():
    """A stopping condition that fires too soon cuts each input's sequence where it fires: one
    step short on one input is also "stops too early", the fact every input then shares; where
    every input is one step short, that precise fact is stated, and not both."""
    call = Call("m", "f", ())

    def evidence(got, exp):
        findings, _ = value_findings(np.array(got), {"value": np.array(exp)}, call)
        return Evidence("m.f", False, tuple(findings))

    one_short = evidence([2.0, 1.0], [2.0, 1.0, 0.0])
    assert {"one-short", "stops-early"} <= {f.key for f in one_short.findings}
    cut = evidence([4.0], [4.0, 3.0, 1.0, 0.0])
    [stated] = diagnose([one_short, cut])["m.f"].texts
    assert "stops too early" in stated
    both_one_short = [one_short, evidence([5.0, 3.0, 2.0], [5.0, 3.0, 2.0, 0.0])]
    [stated] = diagnose(both_one_short)["m.f"].texts
    assert "stops one step early" in stated
    one_long = evidence([2.0, 1.0, 0.0, 0.0], [2.0, 1.0, 0.0])
    assert {"one-long", "goes-on"} <= {f.key for f in one_long.findings}
    [stated] = diagnose([one_long, evidence([3.0, 1.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0])])["m.f"].texts
    assert "goes on too long" in stated


def test_a_quantity_with_a_factor_of_two_about_it_is_named(course):
    """`/ h ** 2` where `/ (2 * h)` belongs: the gradient is the expected one times 2 divided by
    `h` (the step the call leaves to its default), on every input, the 0-d one included."""
    files = with_function("backprop", '''
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros(np.shape(x))
            flat, out = x.reshape(-1), grad.reshape(-1)
            for i in range(flat.size):
                keep = flat[i]
                flat[i] = keep + h
                up = f(x)
                flat[i] = keep - h
                down = f(x)
                flat[i] = keep
                out[i] = (up - down) / h ** 2
            return grad
    ''')
    result = course.grade(files, ["backprop"])
    assert "times 2 divided by `h`" in the_diagnosis(result, "numerical_gradient")


def test_a_constant_times_a_quantity_is_named_and_a_plain_constant_keeps_its_name():
    X = np.ones((5, 3))
    call = Call("m", "f", (X,))
    exp = np.arange(1.0, 7.0)

    def keys(got):
        return {f.key for f in value_findings(got, {"value": exp}, call)[0]}

    assert "factorx0.5*argument 1.shape[0]" in keys(exp * 2.5)  # half the 5 rows
    assert "factorx4/argument 1.shape[1]^2" in keys(exp * 4 / 9)  # 4 over the 3 columns squared
    # 10 is a constant of its own (and 2 times the 5 rows): the plain name comes first, and one
    # naming per scope is stated (`grader.checks.findings`)
    found = [f.key for f in value_findings(exp * 10.0, {"value": exp}, call)[0] if f.key.startswith("factor")]
    assert found.index("factorx10") < found.index("factorx2*argument 1.shape[0]")
    [stated] = diagnose([Evidence("m.f", False, tuple(value_findings(exp * 10.0, {"value": exp}, call)[0]))] * 2)[
        "m.f"].texts
    assert stated.endswith("times 10")


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


# ---------------------------------------------------------------- kinds, from one-mistake submissions of our own


def with_function(module: str, source: str) -> dict[str, str]:
    """The reference's files for `module` (and what it depends on) with one function replaced by
    `source` (a whole `def`, written here: not an edit the mutation benchmark makes)."""
    import ast
    import textwrap

    source = textwrap.dedent(source).strip() + "\n"
    name = source.split("(", 1)[0].removeprefix("def ").strip()
    text = reference_source(module)
    lines = text.splitlines(keepends=True)
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)
    files = {f"{module}.py": "".join(lines[: node.lineno - 1]) + source + "".join(lines[node.end_lineno:])}
    for dep in DEPENDS.get(module, []):
        files[f"{dep}.py"] = reference_source(dep)
    return files


def test_a_sign_error_on_one_argument_is_named_as_that_argument_negated(course):
    files = with_function("forward", '''
        def dense_forward(A_prev, W, b):
            return np.einsum("mi,oi->mo", A_prev, W) - b
    ''')
    text = the_diagnosis(course.grade(files, ["forward"]), "dense_forward")
    assert "what the correct function gives for `-b`" in text


def test_an_argument_that_divides_instead_of_multiplying_is_named_as_its_reciprocal(course):
    files = with_function("optimizers", '''
        def step_decay(lr0, epoch, drop=0.5, epochs_per_drop=10):
            drops = epoch // epochs_per_drop
            return float(lr0 * (1.0 / drop) ** drops)
    ''')
    text = the_diagnosis(course.grade(files, ["optimizers"]), "step_decay")
    assert "what the correct function gives for `1 / drop`" in text


def test_an_array_that_divides_instead_of_multiplying_is_named_as_its_reciprocal(course):
    files = with_function("optimizers", '''
        def sgd_update(params, grads, lr):
            return {k: params[k] - lr / grads[k] for k in params}
    ''')
    text = the_diagnosis(course.grade(files, ["optimizers"]), "sgd_update")
    assert "what the correct function gives for `1 / grads`" in text


def test_an_integer_that_multiplies_where_it_should_divide_is_named_as_its_reciprocal(course):
    files = with_function("optimizers", '''
        def step_decay(lr0, epoch, drop=0.5, epochs_per_drop=10):
            return float(lr0 * drop ** math.floor(epoch * epochs_per_drop))
    ''')
    text = the_diagnosis(course.grade(files, ["optimizers"]), "step_decay")
    assert "what the correct function gives for `1 / epochs_per_drop`" in text


def test_a_loop_that_skips_the_last_example_is_named(course):
    files = with_function("perceptron", '''
        def train_perceptron(X, y, lr=1.0, max_epochs=100):
            X = np.asarray(X, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            w, b, errors = np.zeros(X.shape[1]), 0.0, []
            for _ in range(max_epochs):
                wrong = 0
                for x_i, y_i in zip(X[:-1], y[:-1]):
                    wrong += int(step(w @ x_i + b) != y_i)
                    w, b = perceptron_update(x_i, y_i, w, b, lr)
                errors.append(wrong)
                if not wrong:
                    break
            return w, b, errors
    ''')
    text = the_diagnosis(course.grade(files, ["perceptron"]), "train_perceptron")
    assert "without the last row of `X`, `y`" in text


def test_a_mean_over_the_wrong_axis_is_named_as_a_ratio_of_axis_lengths(course):
    files = with_function("backprop", '''
        def mse_loss(Y_hat, Y):
            d = np.asarray(Y_hat, dtype=np.float64) - np.asarray(Y, dtype=np.float64)
            return float(0.5 * np.sum(d * d) / d.shape[-1])
    ''')
    text = the_diagnosis(course.grade(files, ["backprop"]), "mse_loss")
    assert "times `Y_hat.shape[0]` divided by `Y_hat.shape[1]`" in text


def test_a_numbered_key_one_below_the_first_is_named(course):
    files = with_function("forward", '''
        def forward(X, params, activations):
            cache, A = {"A0": X}, X
            for l in range(len(activations)):  # layers numbered from 0: one below the first key
                A, Z = layer_forward(A, params[f"W{l}"], params[f"b{l}"], activations[l])
                cache[f"Z{l}"], cache[f"A{l}"] = Z, A
            return A, cache
    ''')
    text = the_diagnosis(course.grade(files, ["forward"]), "forward")
    assert "asks `params` for a `W` key numbered 1 below the first one it has (it asked for `W0`" in text


def test_a_constant_added_to_every_entry_is_named(course):
    files = with_function("forward", '''
        def tanh_grad(z):
            t = np.tanh(z)
            return 2.0 - t * t
    ''')
    assert "is the expected one plus 1" in the_diagnosis(course.grade(files, ["forward"]), "tanh_grad")


def test_a_step_taken_uphill_is_named_as_the_change_from_the_argument(course):
    files = with_function("perceptron", '''
        def sigmoid_neuron_step(x, y, w, b, lr):
            dw, db = sigmoid_neuron_grad(x, y, w, b)
            return np.asarray(w, dtype=np.float64) + lr * dw, float(b) - lr * db
    ''')
    text = the_diagnosis(course.grade(files, ["perceptron"]), "sigmoid_neuron_step")
    assert "changes `w` by exactly the expected change with the opposite sign" in text


def test_a_pattern_seen_on_one_degenerate_input_only_is_not_stated(course):
    # sign(0) taken as +1: only the check with zero weights fails, and its params hold one
    # layer (W1, b1): "wrong only where params is 0" holds there, but nothing confirms it
    files = with_function("regularization", '''
        def l1_grad(params, lam):
            return {k: lam * np.where(P >= 0, 1.0, -1.0) if k.startswith("W") else np.zeros_like(P)
                    for k, P in params.items()}
    ''')
    result = course.grade(files, ["regularization"])
    failing = [c for c in result.checks if c.function == "l1_grad" and not c.passed]
    assert len(failing) == 1
    assert failing[0].diagnosis is None


def test_wrong_entries_of_a_dict_only_where_an_argument_is_zero_are_named():
    rng = np.random.default_rng(8)
    evidence = []
    for shapes in ([(3, 4), (4,), (2, 3), (2,)], [(4, 4), (4,), (1, 4), (1,)]):
        params = {f"{p}{i // 2 + 1}": rng.normal(size=s) for i, (p, s) in enumerate(zip("WbWb", shapes))}
        params["W1"][0, :2] = 0.0
        exp = {k: 0.1 * np.sign(P) if k.startswith("W") else np.zeros_like(P) for k, P in params.items()}
        got = {k: 0.1 * np.where(P >= 0, 1.0, -1.0) if k.startswith("W") else np.zeros_like(P)
               for k, P in params.items()}
        findings, _ = value_findings(got, {"value": exp}, Call("m", "f", (), {"params": params, "lam": 0.1}))
        evidence.append(Evidence("m.f", False, tuple(findings)))
    texts = diagnose(evidence)["m.f"].texts
    assert any("wrong only where `params[...]` is 0, and right everywhere else" in t for t in texts), texts
    assert not any("0 or negative" in t or "0 or positive" in t for t in texts), texts


def test_the_narrowest_pattern_that_holds_on_every_input_is_named_with_its_factor(course):
    # wrong only for z > 0 (twice the value there): inputs without a zero fit `z >= 0` as well
    files = with_function("forward", '''
        def sigmoid(z):
            z = np.asarray(z)
            e = np.exp(-np.abs(z))
            return np.where(z > 0, 2.0 / (1.0 + e), e / (1.0 + e))
    ''')
    text = the_diagnosis(course.grade(files, ["forward"]), "sigmoid")
    assert "wrong only where `z` is positive" in text and "0 or positive" not in text
    assert "every wrong entry is exactly the expected one times 2" in text


# ---------------------------------------------------------------- the new kinds, as relations


def test_a_sequence_that_stops_early_or_goes_on_is_named():
    exp = np.array([4.0, 3.0, 2.0, 1.0, 0.0])
    for key, got in {"stops-early": exp[:2], "goes-on": np.r_[exp, 1.0, 0.0]}.items():
        findings, _ = value_findings(got, {"value": exp}, Call("m", "f", ()))
        assert key in {f.key for f in findings}, key


def test_a_list_of_counts_is_related_like_an_array():
    findings, _ = value_findings([6, 4, 2, 0], {"value": [3, 2, 1, 0]}, Call("m", "f", ()))
    assert "factorx2" in {f.key for f in findings}


def test_a_factor_measured_on_a_numerical_expected_value_is_still_named():
    x = np.random.default_rng(5).normal(size=(4, 3))
    numerical = x * (1 + 1e-8 * np.random.default_rng(6).normal(size=x.shape))  # central differences' rounding
    findings, _ = value_findings(-x, {"value": numerical}, Call("m", "f", (x,)))
    assert "factorx-1" in {f.key for f in findings}


def test_a_numbered_key_is_explained_only_by_the_numbers_of_a_dict_argument():
    cache = {"A0": 0, "Z1": 0, "A1": 0, "Z2": 0, "A2": 0}
    assert [f.key for f in error_findings("KeyError: 'Z3'", Call("m", "f", (cache,)))] == \
        ["keyerror:argument 1:Z:past the last:1"]
    # a key the argument has: looked up elsewhere, in a dict that lacks it
    assert [f.key for f in error_findings("KeyError: 'Z2'", Call("m", "f", (cache,)))] == ["keyerror:stored:Z"]
    assert error_findings("KeyError: 'W1'", Call("m", "f", (cache,))) == []  # no `W` keys to compare with
    assert error_findings("KeyError: 'Z3'", Call("m", "f", (np.ones(3),))) == []  # no dict argument


def test_an_equality_with_a_variant_on_a_result_of_few_round_numbers_needs_a_second_input():
    # [0.5, -1.0] equals a variant's result by chance all too easily: not proof on its own
    expected = {"value": np.array([1.0, 0.0]), "neighbors": [["lr", "negated", np.array([0.5, -1.0])]]}
    findings, _ = value_findings(np.array([0.5, -1.0]), expected, Call("m", "f", ()))
    (f,) = [f for f in findings if f.key == "neighbor:lr:negated"]
    assert not f.strong
    assert diagnose([Evidence("m.f", False, (f,))]) == {}
    assert "m.f" in diagnose([Evidence("m.f", False, (f,))] * 2)


def test_a_variant_seen_on_one_degenerate_input_only_is_not_stated():
    x = np.random.default_rng(7).normal(size=(1, 3))  # a batch of one
    expected = {"value": x, "neighbors": [["b", "negated", -x]]}
    findings, _ = value_findings(-x, expected, Call("m", "f", (x,)))
    assert "neighbor:b:negated" in {f.key for f in findings}
    assert diagnose([Evidence("m.f", False, tuple(findings), degenerate=True)]) == {}


def test_a_pattern_consistent_with_two_relations_states_the_narrower_only():
    z_with_zero = np.array([-2.0, 0.0, 1.0, 3.0])
    z_without = np.array([-1.0, -0.5, 2.0, 4.0])
    evidence = []
    for z in (z_with_zero, z_without):
        exp = np.tanh(z)
        got = np.where(z > 0, 3 * exp, exp)
        findings, _ = value_findings(got, {"value": exp}, Call("m", "f", (z,)))
        evidence.append(Evidence("m.f", False, tuple(findings)))
    texts = diagnose(evidence)["m.f"].texts
    assert any("`argument 1` is positive" in t for t in texts), texts
    assert not any("0 or positive" in t or "is not 0" in t for t in texts), texts


def test_a_dict_that_lacks_its_last_numbered_entries_is_named(course):
    files = with_function("forward", '''
        def init_params(layer_sizes, method="he", seed=0):
            if method not in ("he", "xavier"):
                raise ValueError(method)
            rng = np.random.default_rng(seed)
            params = {}
            pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))[:-1]  # the output layer forgotten
            for l, (n_in, n_out) in enumerate(pairs, start=1):
                std = np.sqrt(2.0 / n_in) if method == "he" else np.sqrt(2.0 / (n_in + n_out))
                params[f"W{l}"] = rng.normal(0.0, std, size=(n_out, n_in))
                params[f"b{l}"] = np.zeros(n_out)
            return params
    ''')
    text = the_diagnosis(course.grade(files, ["forward"]), "init_params")
    assert "lacks the last number of every kind of entry" in text


def test_a_step_of_an_optimizer_followed_for_many_steps_is_named_on_the_path_too(course):
    # the path check feeds the student's own steps back: the failing step is compared with the
    # variants of the reference's step at that point
    files = with_function("optimizers", '''
        def momentum_update(params, grads, velocity, lr, beta=0.9):
            v = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
            return {k: params[k] + lr * v[k] for k in params}, v
    ''')
    result = course.grade(files, ["optimizers"])
    failing = [c for c in result.checks if c.function == "momentum_update" and not c.passed]
    assert any("steps" in c.name for c in failing)  # the path check fails too, and does not block
    assert "what the correct function gives for `-lr`" in the_diagnosis(result, "momentum_update")


def test_a_step_scaled_by_a_value_on_the_way_is_named_on_the_path_too(course):
    # The path check relates its failing step to the reference's intermediates at that step
    # (the velocity after step 1 from zero velocity), as the single-step checks do.
    files = with_function("optimizers", '''
        def momentum_update(params, grads, velocity, lr, beta=0.9):
            v = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
            return {k: params[k] - lr * v[k] * v[k] for k in params}, v
    ''')
    result = course.grade(files, ["optimizers"])
    failing = [c for c in result.checks if c.function == "momentum_update" and not c.passed]
    text = the_diagnosis(result, "momentum_update")
    assert "times the value the reference solution calls `new_velocity`" in text
    assert all(c.diagnosis == text for c in failing if "steps" in c.name)


def test_variants_are_compared_where_the_expected_value_comes_from_elsewhere(course):
    # the loss value's check computes its expected value from the reference's forward pass and
    # loss; the reference's own function gives the same, so its variants are compared too
    files = with_function("regularization", '''
        def regularized_loss_and_grads(X, Y, params, activations, loss="mse", lam=0.0, penalty="l2"):
            import backprop
            import forward
            value, _ = _reference_pair(X, Y, params, activations, loss, lam, penalty)
            _, grads = _reference_pair(X, Y, params, activations, loss, lam, penalty)
            l2 = lam * sum(float(np.sum(P * P)) for k, P in params.items() if k.startswith("W"))
            l1 = lam * sum(float(np.sum(np.abs(P))) for k, P in params.items() if k.startswith("W"))
            return value - 2 * (l2 if penalty == "l2" else l1), grads


        def _reference_pair(X, Y, params, activations, loss, lam, penalty):
            import backprop
            import forward
            penalties = {"l2": (l2_penalty, l2_grad), "l1": (l1_penalty, l1_grad)}
            data = {"mse": backprop.mse_loss, "cross_entropy": backprop.cross_entropy_loss}
            value_of, grad_of = penalties[penalty]
            Y_hat, cache = forward.forward(X, params, activations)
            g = backprop.backward(Y, cache, params, activations, loss)
            r = grad_of(params, lam)
            return float(data[loss](Y_hat, Y)) + value_of(params, lam), {k: g[k] + r[k] for k in params}
    ''')
    result = course.grade(files, ["regularization"])
    assert "what the correct function gives for `-lam`" in the_diagnosis(result, "regularized_loss_and_grads")


def test_a_per_row_value_broadcast_against_the_last_axis_is_explained_by_the_shapes():
    message = "ValueError: operands could not be broadcast together with shapes (4,3) (4,) "
    (f,) = error_findings(message, Call("m", "f", ()))
    assert "shape (4, 1)" in f.statement and "keepdims=True" in f.statement
    # (3,) against (4, 3) lines up with the last axis as meant: nothing to explain
    assert error_findings("ValueError: operands could not be broadcast together with shapes (4,3) (3,) ",
                          Call("m", "f", ())) == []


def test_key_sets_changed_at_no_single_end_are_not_named():
    exp = {"W1": 1, "b1": 1, "W2": 1, "b2": 1, "W3": 1, "b3": 1}
    cases = [
        {k: v for k, v in exp.items() if k != "W1"},  # one kind only: not "every kind"
        {},  # nothing in common
        {"W0": 1, "b0": 1, "W1": 1, "b1": 1, "W2": 1, "b2": 1},  # shifted: one extra, one missing
    ]
    for got in cases:
        findings, _ = value_findings(got, {"value": exp}, Call("m", "f", ()))
        assert [f.key for f in findings if f.key.startswith("keyset")] == [], got
    lacking = {k: v for k, v in exp.items() if not k.endswith("3")}
    keys = [f.key for f in value_findings(lacking, {"value": exp}, Call("m", "f", ()))[0]]
    assert keys == ["keyset:lacks:last:1"]


def test_the_variants_of_a_call_change_one_argument_each():
    from grader.checks.variants import NEGATED, RECIPROCAL, REVERSED, WITHOUT_LAST, variants

    X, y, w = np.ones((4, 2)), np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.5, -1.0])
    call = Call("m", "f", (X, y, w, 0.5, 3, [2, 3, 1]), {"flag": True})
    found = {(name, change): c for name, change, c in variants(call, {"drop": 0.1})}
    assert set(found) == {
        ("argument 1", NEGATED), ("argument 2", NEGATED), ("argument 3", NEGATED), ("argument 3", RECIPROCAL),
        ("argument 4", NEGATED), ("argument 4", RECIPROCAL), ("argument 5", -1), ("argument 5", 1),
        ("argument 5", RECIPROCAL),
        ("argument 6", WITHOUT_LAST), ("argument 6", REVERSED), ("drop", NEGATED), ("drop", RECIPROCAL),
        ("`argument 1`, `argument 2`", WITHOUT_LAST),  # the examples and their labels together
    }
    assert found[("argument 6", REVERSED)].args[5] == [1, 3, 2]
    assert not any(change == REVERSED for _, change, _ in variants(Call("m", "f", ([2, 3, 2],))))  # a palindrome
    assert found[("argument 4", RECIPROCAL)].args[3] == 2.0
    # entry by entry, for an array without zeros that is not all ones (X) and has no zero (y has)
    assert found[("argument 3", RECIPROCAL)].args[2].tolist() == [2.0, -1.0]
    assert found[("argument 5", RECIPROCAL)].args[4] == 1 / 3  # an integer's too
    assert found[("argument 6", WITHOUT_LAST)].args[5] == [2, 3]
    rows = found[("`argument 1`, `argument 2`", WITHOUT_LAST)]
    assert rows.args[0].shape == (3, 2) and rows.args[1].tolist() == [0.0, 1.0, 1.0] and rows.args[2] is w
    assert found[("drop", RECIPROCAL)].kwargs == {"flag": True, "drop": 10.0}
    assert np.array_equal(found[("argument 3", NEGATED)].args[2], -w) and call.args[2] is w  # never in place


def test_a_key_looked_up_in_the_codes_own_dict_is_named_as_never_stored(course):
    files = with_function("backprop", '''
        def backward(Y, cache, params, activations, loss="mse"):
            L = len(activations)
            A_L = np.asarray(cache[f"A{L}"], dtype=np.float64)
            if loss == "cross_entropy":
                if activations[-1] != "softmax":
                    raise ValueError("cross_entropy needs softmax")
                delta = softmax_cross_entropy_grad(A_L, Y)
            elif loss == "mse":
                dA = mse_loss_grad(A_L, Y)
                if activations[-1] == "softmax":
                    delta = A_L * (dA - np.sum(dA * A_L, axis=1, keepdims=True))
                else:
                    delta = activation_backward(dA, cache[f"Z{L}"], activations[-1])
            else:
                raise ValueError(f"unknown loss {loss!r}")
            grads = {}
            for layer in range(L, 1, -1):  # stops before layer 1
                dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = dense_backward(
                    delta, cache[f"A{layer - 1}"], params[f"W{layer}"])
                delta = activation_backward(dA_prev, cache[f"Z{layer - 1}"], activations[layer - 2])
            return {key: grads[key] for key in params}
    ''')
    text = the_diagnosis(course.grade(files, ["backprop"]), "backward")
    assert "looked up `W1` in a dict that lacks it, though `params` has it" in text


# ---------------------------------------------------------------- relations through a value


def test_a_result_scaled_entry_by_entry_by_an_argument_is_named(course):
    files = with_function("forward", '''
        def tanh_grad(z):
            t = np.tanh(z)
            return (1.0 - t * t) * z
    ''')
    text = the_diagnosis(course.grade(files, ["forward"]), "tanh_grad")
    assert "is exactly the expected one times `z` entry by entry" in text


def test_a_result_scaled_by_a_value_the_reference_computes_on_the_way_is_named(course):
    files = with_function("perceptron", '''
        def sigmoid_neuron_grad(x, y, w, b):
            x = np.asarray(x, dtype=np.float64)
            p = sigmoid(np.asarray(w, dtype=np.float64) @ x + b)
            delta = float((p - y) * p * p * (1.0 - p))  # one factor p too many
            return delta * x, delta
    ''')
    text = the_diagnosis(course.grade(files, ["perceptron"]), "sigmoid_neuron_grad")
    assert "is exactly the expected one times the value the reference solution calls `y_hat`" in text


def test_a_result_shifted_by_a_multiple_of_a_value_on_the_way_is_named(course):
    files = with_function("forward", '''
        def sigmoid_grad(z):
            s = sigmoid(z)
            return s * (1.5 - s)
    ''')
    text = the_diagnosis(course.grade(files, ["forward"]), "sigmoid_grad")
    assert "is exactly the expected one plus 0.5 times the value the reference solution calls `s`" in text


def test_a_result_shifted_by_the_square_of_a_value_on_the_way_is_named(course):
    files = with_function("forward", '''
        def sigmoid_grad(z):
            s = sigmoid(z)
            return s - 2 * s * s
    ''')
    text = the_diagnosis(course.grade(files, ["forward"]), "sigmoid_grad")
    assert text.startswith("your result is exactly the expected one minus the value the reference solution "
                           "calls `s` squared")


def test_a_step_of_dict_entries_scaled_by_an_argument_dict_is_named(course):
    files = with_function("optimizers", '''
        def momentum_update(params, grads, velocity, lr, beta=0.9):
            new_velocity = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
            return {k: params[k] - lr * new_velocity[k] * grads[k] for k in params}, new_velocity
    ''')
    text = the_diagnosis(course.grade(files, ["optimizers"]), "momentum_update")
    assert "changes `params` by exactly the expected change times `grads` entry by entry" in text


def test_the_expected_result_under_another_name_relates_nothing():
    # The reference may keep its result in a local (`w`): the student's zeros are not "the
    # expected one minus `w`", and twice the result is a factor, not "plus `w`".
    e = np.array([0.5, -1.5, 2.0])
    call = Call("m", "f", (np.array([1.0, 2.0, 3.0]),))
    for got in (np.zeros(3), 2 * e, e * e):
        findings, _ = value_findings(got, {"value": e, "intermediates": [["w", e.copy()], ["u", -e]]}, call)
        assert not [f.key for f in findings if "ref:" in f.key], [f.statement for f in findings]


@settings(max_examples=60)
@given(MATRICES, st.integers(0, 2**32 - 1), st.sampled_from([1, -1, 2, -2]))
def test_a_result_scaled_by_an_argument_to_a_power_is_found_and_nothing_else_through_it(x, seed, power):
    q = np.random.default_rng(seed).uniform(0.5, 2.0, size=x.shape) * np.sign(x + 1e-3)
    call = Call("m", "f", (q,))
    findings, _ = value_findings(x * q ** power, {"value": x}, call)
    through = {f.key for f in findings if "@" in f.key}
    assert through == {f"factor@`argument 1`^{power}"}, through
    # an unrelated result of the same shape is related to nothing through the argument
    other = np.random.default_rng(seed + 1).normal(size=x.shape)
    assert not [f.key for f in value_findings(other, {"value": x}, call)[0] if "@" in f.key]


def test_a_step_scaled_by_a_number_no_input_names_is_stated_as_one_number_per_input(course):
    # bias correction without the power of t: each step is the expected one times
    # (1 - beta1**t) / (1 - beta1), a different number at each t (and 1 at t = 1, where it passes)
    files = with_function("optimizers", '''
        def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            t = state["t"] + 1
            m = {k: beta1 * state["m"][k] + (1 - beta1) * grads[k] for k in params}
            v = {k: beta2 * state["v"][k] + (1 - beta2) * grads[k] ** 2 for k in params}
            new = {k: params[k] - lr * (m[k] / (1 - beta1)) / (np.sqrt(v[k] / (1 - beta2**t)) + eps)
                   for k in params}
            return new, {"m": m, "v": v, "t": t}
    ''')
    text = the_diagnosis(course.grade(files, ["optimizers"]), "adam_update")
    assert "changes `params` by exactly the expected change times " in text
    assert "one number for every entry (on another input it may be another number)" in text


def test_a_factor_no_input_names_needs_two_numbers_and_must_explain_the_whole_difference():
    call = Call("m", "f", (np.array([1.0, 2.0, 3.0]),))
    e = np.array([0.5, -1.5, 2.0, 0.25])
    assert "factorx?" in {f.key for f in value_findings(0.37 * e, {"value": e}, call)[0]}
    assert "factorx?" in {f.key for f in value_findings({"w": 0.37 * e}, {"value": {"w": e}}, call)[0]}
    for got, exp in ((3.7, 1.3), (np.array([0.0, 3.7]), np.array([0.0, 1.3])),  # one number
                     (1.0005 * e, e),  # within 0.1% of 1: rounding, not a factor
                     (0.37 * e + np.array([0.0, 0.0, 0.0, 0.02]), e),  # not one factor at all
                     # one factor near 1 to FACTOR_RTOL, but leaving 1.6% of the difference
                     (1.0011 * e + np.array([0.0, 0.0, 0.0, 3.5e-5]), e)):
        keys = {f.key for f in value_findings(got, {"value": exp}, call)[0]}
        assert "factorx?" not in keys, (got, keys)


def test_a_step_from_float32_weights_is_related_to_float32_s_precision():
    w = np.random.default_rng(3).uniform(0.5, 1.5, size=(4, 3)).astype(np.float32)
    d = np.random.default_rng(4).normal(scale=1e-3, size=(4, 3))
    right, wrong = (w + d).astype(np.float32), (w + 2 * d).astype(np.float32)  # a step twice as long
    call = Call("m", "f", (w,))
    keys = {f.key for f in value_findings(wrong, {"value": right}, call)[0]}
    assert "step:argument 1x2" in keys, keys
    # in float64 the same rounding would be a difference, not a factor of the step
    keys64 = {f.key for f in value_findings(wrong.astype(np.float64), {"value": right.astype(np.float64)},
                                            Call("m", "f", (w.astype(np.float64),)))[0]}
    assert "step:argument 1x2" not in keys64, keys64


# ---------------------------------------------------------------- the student's own `raise`


def test_a_validation_that_rejects_a_valid_method_is_named_as_the_students_own_raise(course):
    # "xavier" is valid, but this check lets only "he" through: every xavier call raises.
    result = grade_mutant(course, "forward", 'if method not in ("he", "xavier"):', 'if method != "he":')
    text = the_diagnosis(result, "init_params")
    assert "raises ValueError itself" in text and "line" in text and "forward.py" in text


def test_a_validation_too_strict_inside_a_table_is_named(course):
    # Only tables of patiences reach 5: the case that raises is related like a single call.
    result = grade_mutant(course, "regularization", "if patience < 0:", "if patience < 0 or patience > 4:")
    assert "raises ValueError itself" in the_diagnosis(result, "early_stopping")


def _traceback(*frames: tuple[str, int, str]) -> str:
    return "".join(f'  File "{f}", line {n}, in g\n    {src}\n' for f, n, src in frames)


def test_only_a_raise_statement_of_the_students_naming_the_error_is_their_own():
    call = Call("regularization", "dropout_forward", (np.ones((2, 2)), 0.5))
    own = _traceback(("regularization.py", 12, "x = check(p)"), ("helpers.py", 3, "raise ValueError(f'bad {p}')"))
    (f,) = error_findings("ValueError: bad 0.5", call, own)
    assert f.key == "own-raise:ValueError" and "line 3 of helpers.py" in f.statement
    # NumPy raised it: the innermost frame of the student's is the call into NumPy
    assert error_findings("ValueError: operands could not be broadcast", call,
                          _traceback(("regularization.py", 7, "return A * mask.T"))) == []
    # a stub, or another error type, raised by the student's own statement
    assert error_findings("NotImplementedError: write me", call,
                          _traceback(("regularization.py", 7, "raise NotImplementedError('write me')"))) == []
    assert error_findings("TypeError: no", call, _traceback(("regularization.py", 7, "raise TypeError('no')"))) == []
    # the `raise` line failed before raising (its message names an undefined variable)
    assert error_findings("NameError: name 'kp' is not defined", call,
                          _traceback(("regularization.py", 7, "raise ValueError(kp)"))) == []
    # a ValueError raised while evaluating another line, or no traceback at all
    assert error_findings("ValueError: x", call, _traceback(("regularization.py", 7, "raise_if_bad(p)"))) == []
    assert error_findings("ValueError: x", call, "") == []


def test_a_property_check_relates_its_failure_to_the_references_output(course):
    # One epoch fewer fails the XOR property checks ("all max_epochs epochs run") and one value
    # check of degenerate information; the property checks' outputs prove the fact.
    result = grade_mutant(course, "perceptron", "for _epoch in range(max_epochs):",
                          "for _epoch in range(1, max_epochs):")
    text = the_diagnosis(result, "train_perceptron")
    assert "stops one step early" in text
    xor = [c for c in result.checks if c.function == "train_perceptron" and "XOR" in c.name and not c.passed]
    assert xor and all(c.diagnosis == text for c in xor)


# ---------------------------------------------------------------- a division by a number that is 0


def test_a_division_by_a_sum_that_is_0_on_one_input_is_named_through_the_others(course):
    # `total ** -1` raises ZeroDivisionError where every weight is 0 (total = 0): that input
    # does not contradict "divided by total squared", which the other inputs prove.
    source = reference_source("regularization")
    files = {"regularization.py": source.replace("return float(lam * total)", "return float(lam * total ** -1)", 1),
             "forward.py": reference_source("forward"), "backprop.py": reference_source("backprop")}
    result = course.grade(files, ["regularization"])
    text = the_diagnosis(result, "l2_penalty")
    assert "divided by the value the reference solution calls `total` squared" in text
    raised = [c for c in result.checks if c.function == "l2_penalty" and "ZeroDivisionError" in c.message]
    assert raised and all(c.diagnosis == text for c in raised)


def test_a_zero_division_does_not_contradict_only_divisions_by_a_number_that_is_0_there():
    call = Call("m", "f", ({"W1": np.zeros((2, 2))}, 0.0))  # argument 2 is `lam`
    data = {"value": 0.0, "intermediates": [["total", 0.0], ["n", 4.0]]}
    found = error_findings("ZeroDivisionError: float division by zero", call, "", data)
    assert {(f.key, f.proven) for f in found} == {
        ("factor@ref:total^-1", False), ("factor@ref:total^-2", False),
        ("factor/argument 2", False), ("factor/-argument 2", False), ("factor/argument 2^2", False),
        # where it raised: each number of the reference's that is 0 here, stated only if every
        # raising input shows it (not the arguments: see `_zero_where_findings`)
        ("zero-division:total", True)}
    assert not any(f.strong for f in found if f.key.startswith("zero-division"))  # one number: two inputs needed
    # the keys a number argument leaves uncontradicted are those a division by it is proven by
    lam = Call("m", "f", ({"W1": np.ones((2, 2))}, 0.25))
    proven = {f.key for f in value_findings(4.0 / 0.25, {"value": 4.0}, lam)[0]}
    assert "factor/argument 2" in proven
    assert error_findings("ValueError: math domain error", call, "", data) == []
    assert error_findings("ZeroDivisionError: float division by zero", call, "") == []  # no data: nothing
    # with the relation proven on two other inputs it is stated; where the number is not 0 the
    # exception contradicts it
    proof = Finding("factor@ref:total^-2", "{what} is exactly the expected one divided by ... squared", strong=False)
    fn = "regularization.l2_penalty"
    two = [Evidence(fn, False, (proof,)), Evidence(fn, False, (proof,))]
    raised = Evidence(fn, False, tuple(found), raised=True)
    assert fn in diagnose(two + [raised])
    elsewhere = error_findings("ZeroDivisionError: float division by zero", call, "",
                               {"value": 0.0, "intermediates": [["total", 2.0]]})
    assert fn not in diagnose(two + [Evidence(fn, False, tuple(elsewhere), raised=True)])


def test_wrong_entries_only_where_a_value_on_the_way_is_0_are_named(course):
    # Dropped units keep a small leak of A instead of 0: only the entries where the reference's
    # mask is 0 are wrong, a pattern no argument shows.
    result = grade_mutant(course, "regularization", "A_out = A * mask  # r (.) a",
                          "A_out = np.where(mask, A, 0.01 * A)")
    text = the_diagnosis(result, "dropout_forward")
    assert "wrong only where the value the reference solution calls `mask` is 0" in text


def test_a_boolean_value_on_the_way_is_related_as_numbers():
    # NumPy refuses `-` on booleans: the pattern through a boolean mask must not raise
    e = np.array([0.0, 2.0, 0.0, 4.0])
    mask = np.array([False, True, False, True])
    call = Call("m", "f", (np.array([1.0, 2.0, 3.0, 4.0]),))
    findings, _ = value_findings(np.array([1.0, 2.0, 3.0, 4.0]), {"value": e, "intermediates": [["mask", mask]]}, call)
    assert "where:ref:mask==0" in {f.key for f in findings if f.proven}


def test_inf_from_an_argument_that_is_0_does_not_contradict_its_reciprocal(course):
    # `1 / velocity` is inf from a zero velocity (the first step, the path check), and exactly
    # the reciprocal variant where the velocity has no zero: stated, and only as that.
    files = with_function("optimizers", '''
        def momentum_update(params, grads, velocity, lr, beta=0.9):
            with np.errstate(divide="ignore"):
                v = {k: beta * (1.0 / velocity[k]) + (1 - beta) * grads[k] for k in params}
            return {k: params[k] - lr * v[k] for k in params}, v
    ''')
    result = course.grade(files, ["optimizers"])
    text = the_diagnosis(result, "momentum_update")
    assert "what the correct function gives for `1 / velocity`" in text
    first = next(c for c in result.checks if c.function == "momentum_update" and "zero velocity" in c.name)
    assert not first.passed and first.diagnosis == text


def test_inf_relates_to_no_reciprocal_where_no_argument_is_0():
    # argument 3 is the velocity
    call = Call("m", "f", ({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.full(2, 0.5)}, 0.1))
    findings, _ = value_findings({"w": np.array([np.inf, 1.0])}, {"value": {"w": np.ones(2)}}, call)
    assert not [f for f in findings if f.key.endswith(":reciprocal")]
    call = Call("m", "f", ({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.zeros(2)}, 0.1))
    found = value_findings({"w": np.array([np.inf, 1.0])}, {"value": {"w": np.ones(2)}}, call)[0]
    assert [(f.key, f.proven) for f in found if f.key.endswith(":reciprocal")] == [
        ("neighbor:argument 3:reciprocal", False)]
    # a finite wrong output is no such case
    found = value_findings({"w": np.array([3.0, 1.0])}, {"value": {"w": np.ones(2)}}, call)[0]
    assert not [f for f in found if f.key.endswith(":reciprocal")]


def test_a_factor_named_by_an_argument_left_to_its_default_is_named(course):
    # No check passes `h`: its default (1e-5) names the factor as a passed argument would.
    result = grade_mutant(course, "backprop", "(f_plus - f_minus) / (2.0 * h)", "(f_plus - f_minus) / 2.0")
    assert "your result is exactly the expected one times `h`" in the_diagnosis(result, "numerical_gradient")


def test_a_division_by_an_argument_with_zeros_is_proven_by_the_other_entries():
    # `e / q**2` is inf where `q` is 0 (the student's division by 0) and exact elsewhere
    q = np.array([0.0, 2.0, -0.5, 4.0])
    e = np.array([1.0, -3.0, 2.0, 0.5])
    call = Call("m", "f", (q,))
    with np.errstate(divide="ignore"):
        got = e / q**2
    keys = {f.key for f in value_findings(got, {"value": e}, call)[0] if f.proven}
    assert "factor@`argument 1`^-2" in keys
    finite_there = got.copy()
    finite_there[0] = 7.0  # a number where the division by 0 would give none: no such relation
    keys = {f.key for f in value_findings(finite_there, {"value": e}, call)[0] if f.proven}
    assert not [k for k in keys if "^-" in k]


def test_a_mean_over_an_axis_a_1d_input_lacks_is_named_through_the_others(course):
    # `np.shape(Y)[1]` raises IndexError for a 1-D batch: that input does not contradict the
    # ratio of axis lengths the 2-D inputs prove.
    result = grade_mutant(course, "backprop", "m = Y_hat.shape[0]", "m = np.shape(Y)[1]")
    text = the_diagnosis(result, "mse_loss")
    assert "divided by `Y_hat.shape[1]`" in text or "divided by `Y.shape[1]`" in text
    assert any("IndexError" in c.message and c.diagnosis == text for c in result.checks if c.function == "mse_loss")


def test_an_index_error_on_a_tuple_leaves_only_factors_of_a_missing_axis_uncontradicted():
    call = Call("m", "f", (np.ones(6), np.zeros(6)))  # `Y_hat` and `Y` of a 1-D batch
    found = error_findings("IndexError: tuple index out of range", call)
    keys = {f.key for f in found}
    assert {"factorxargument 1.shape[0]/argument 1.shape[1]", "factorxargument 2.shape[1]"} <= keys
    assert all(not f.proven for f in found) and not [k for k in keys if "shape[0]" in k and "shape[1]" not in k]
    assert error_findings("IndexError: list index out of range", call) == []


def test_a_pattern_through_a_value_on_the_way_that_only_keeps_zeros_is_not_stated():
    # wrong exactly where the expected entries are not 0: "only where `e` is positive" would
    # only say that the zeros stayed zeros
    e = np.array([0.0, 0.5, 0.0, 0.25])
    call = Call("m", "f", (np.array([1.0, 2.0, 3.0, 4.0]),))
    data = {"value": e, "intermediates": [["e", np.array([0.0, 3.0, 0.0, 1.0])]]}
    findings, _ = value_findings(np.array([0.0, 0.9, 0.0, 0.7]), data, call)
    assert not [f for f in findings if "ref:" in f.key]


def test_a_pattern_is_stated_in_the_same_words_for_every_input():
    # The fact is stated once above all the function's failing checks: no counts of one input.
    def statement(z, got):
        exp = np.maximum(z, 0.0)
        found = value_findings(got, {"value": exp}, Call("m", "f", (z,)))[0]
        return {f.statement for f in found if f.key == "where:argument 1<0"}

    a = statement(np.array([-1.0, 2.0, -3.0]), np.array([1.0, 2.0, 3.0]))
    b = statement(np.array([-1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert a == b == {"your result is wrong only where `argument 1` is negative, and right everywhere else: "
                      "look at that case"}


# ---------------------------------------------------------------- commonplace values prove nothing


def test_an_update_that_never_happens_is_not_stated_as_a_sign_error(course):
    """The error is compared with itself, so it is always 0 and `w` never moves. On an input
    where the correct update changes `w`, the correct function given `-x` (or `-w`) may well
    leave it alone too: an equality with `w` as it was given proves no variant. (Nor does it
    prove that `w` is returned unchanged: the perceptron's round weights stay put under many
    mistakes.)"""
    files = with_function("perceptron", '''
        def perceptron_update(x, y, w, b, lr=1.0):
            w = np.array(w, dtype=float)
            guess = 1.0 if float(np.dot(w, x)) + b >= 0 else 0.0
            miss = guess - guess
            return w + lr * miss * np.asarray(x, dtype=float), b + lr * miss
    ''')
    result = course.grade(files, ["perceptron"])
    assert [c for c in result.checks if c.function == "perceptron_update" and not c.passed]
    assert diagnoses(result, "perceptron_update") == set()


def test_parameters_returned_as_given_are_stated_as_such(course):
    files = with_function("optimizers", '''
        def sgd_update(params, grads, lr):
            return {key: np.array(value, dtype=float) for key, value in params.items()}
    ''')
    text = the_diagnosis(course.grade(files, ["optimizers"]), "sgd_update")
    assert text == "your result is `params` exactly as it was given"


def test_an_equality_with_zeros_or_an_untouched_argument_proves_no_variant_and_no_value_on_the_way():
    call = Call("m", "f", (np.array([0.5, -2.0, 3.25]), 0.75))
    w = call.args[0]
    expected = {"value": (w + 1.0, 1.75), "neighbors": [["x", "negated", (w.copy(), 0.75)]],
                "intermediates": [["total", 0.0], ["w", w.copy()]]}
    for got in ((w.copy(), 0.75), (w.copy(), 0.0)):
        found = value_findings(got, expected, call)[0]
        tied = [f for f in found if f.key.startswith(("neighbor:", "intermediate:"))]
        assert tied and not [f.key for f in tied if f.proven]
        assert [f.key for f in found if f.key.startswith("unchanged:")] == ["unchanged:argument 1"]
    # the same equalities with values no argument holds prove as before
    moved = w * 1.5
    expected = {"value": (w + 1.0, 1.75), "neighbors": [["x", "negated", (moved, 0.75)]],
                "intermediates": [["total", 2.5]]}
    found = value_findings((moved, 2.5), expected, call)[0]
    assert {f.key for f in found if f.proven} >= {"neighbor:x:negated", "intermediate:total"}
    assert not [f for f in found if f.key.startswith("unchanged:")]


def test_a_number_returned_as_given_is_not_stated_as_unchanged():
    """A number equals another by chance too often (`b = 0.0`): only arrays are `unchanged`."""
    call = Call("m", "f", (np.array([0.5, -2.0]), 0.75))
    found = value_findings((np.array([9.0, 9.5]), 0.75), {"value": (np.array([1.0, 2.0]), 1.75)}, call)[0]
    assert not [f for f in found if f.key.startswith("unchanged:")]


def test_a_value_on_the_way_is_related_beside_a_text_argument():
    """`layer_forward(A, W, b, "tanh")` returning `(Z, Z)`: comparing `Z` with the arguments to
    see whether it is one of them never compares an array with the activation's name."""
    Z = np.array([[1.0, -2.0], [0.5, 3.0]])
    call = Call("forward", "layer_forward", (np.eye(2), np.eye(2), np.zeros(2), "tanh"))
    found = value_findings((Z, Z), {"value": (np.tanh(Z), Z), "intermediates": [["Z", Z]]}, call)[0]
    assert [f.proven for f in found if f.key == "intermediate:Z"] == [True]


def test_an_integer_array_argument_names_a_factor_entry_by_entry():
    """Features given as integers (`x = [1, 2, 3]`) scale a result as float ones do."""
    call = Call("m", "f", (np.array([1, 2, 3]), np.array([0.5, -1.25, 2.0])))
    e = np.array([0.5, -1.25, 2.0])
    found = value_findings(e / np.array([1, 2, 3]) ** 2, {"value": e}, call)[0]
    assert "factor@`argument 1`^-2" in {f.key for f in found if f.proven}


def test_a_relation_on_expected_zeros_holds_without_proving():
    """Expected all 0: `got = expected / x**2` holds (NaN where `x` is 0), as it would for many
    mistakes; such an input does not contradict the factor, and does not prove it."""
    call = Call("m", "f", (np.array([0.0, 2.0, 3.0]),))
    with np.errstate(all="ignore"):
        got = np.zeros(3) / np.array([0.0, 2.0, 3.0]) ** 2
    found = value_findings(got, {"value": np.zeros(3)}, call)[0]
    assert [f.proven for f in found if f.key == "factor@`argument 1`^-2"] == [False]


# ---------------------------------------------------------------- where a function fails


def test_a_mistake_in_one_branch_is_stated_as_the_inputs_it_fails_on(course):
    """A leaky ReLU with slope 0.1 below zero instead of 0.01: only the leaky_relu input fails,
    and the other activations pass, so the branch is named."""
    result = grade_mutant(course, "backprop", '"leaky_relu": forward.leaky_relu_grad,',
                          '"leaky_relu": lambda z: np.where(z > 0, 1.0, 0.1),')
    text = the_diagnosis(result, "activation_backward")
    assert "`activation_backward` fails only on inputs where `activation` is 'leaky_relu'; " \
           "where that is not so, it passes" in text


def test_the_inputs_a_mistake_fails_on_come_with_what_it_returns_there(course):
    """The cross-entropy branch of `backward` doubled: a factor, and the loss it fails for (the
    inputs that omit `loss` are read at its default, 'mse', and pass)."""
    result = grade_mutant(course, "backprop", "delta = softmax_cross_entropy_grad(A_L, Y)",
                          "delta = 2 * softmax_cross_entropy_grad(A_L, Y)")
    lines = the_diagnosis(result, "backward").splitlines()
    assert "`backward` fails only on inputs where `loss` is 'cross_entropy'; where that is not so, it passes" in lines
    assert len(lines) >= 2  # and what it returns there


def test_a_mistake_on_every_input_names_no_inputs(course):
    result = grade_mutant(course, "forward", "return 1.0 - np.tanh(z) ** 2", "return np.tanh(z) ** 2 - 1.0")
    assert "fails only on inputs" not in the_diagnosis(result, "tanh_grad")


def _at(passed, degenerate=False, values=True, ran=True, compared="", **kwargs):
    """The evidence of a check of `m.f(**kwargs)` (a degenerate input: with an array of one row)
    that compares `compared` of the output (`""` the whole, `"[0]"` its first part)."""
    call = Call("m", "f", (np.ones((1 if degenerate else 3, 2)),), kwargs)
    return Evidence("m.f", passed, neutral=not passed, failed_on=(call,) if ran and not passed else (),
                    right_on=(call,) if passed and values else (), compared=compared if values else None)


def _where(evidence) -> str | None:
    texts = diagnose(evidence).get("m.f")
    found = [t for t in (texts.texts if texts else ()) if "fails only on inputs" in t]
    return found[0] if found else None


def test_each_fact_named_is_proven_to_matter_by_a_passing_input_that_lacks_only_it():
    ev = [_at(False, loss="mse", out="softmax"), _at(False, loss="mse", out="softmax"),
          _at(True, loss="mse", out="sigmoid"), _at(True, loss="ce", out="softmax")]
    assert _where(ev) == ("`f` fails only on inputs where `loss` is 'mse' and `out` is 'softmax'; "
                          "where one of these is not so, it passes")
    # no passing input has 'mse' without 'softmax': that 'mse' matters is not proven
    ev = [_at(False, loss="mse", out="softmax"), _at(True, loss="ce", out="sigmoid"),
          _at(True, loss="ce", out="softmax")]
    assert _where(ev) == "`f` fails only on inputs where `loss` is 'mse'; where that is not so, it passes"


def test_a_fact_every_input_shares_or_one_failing_input_lacks_is_not_named():
    assert _where([_at(False, loss="mse"), _at(True, loss="mse")]) is None
    assert _where([_at(False, loss="mse"), _at(False, loss="ce"), _at(True, loss="hinge")]) is None


def test_inputs_it_fails_on_whatever_the_failure_count_but_unrun_checks_say_nothing():
    timed_out = _at(False, loss="ce")  # ran, and failed: a timeout is a failure on that input
    assert _where([_at(False, loss="mse"), timed_out, _at(True, loss="hinge")]) is None
    unrun = _at(False, loss="ce", ran=False)  # skipped: neither for nor against
    assert _where([_at(False, loss="mse"), unrun, _at(True, loss="ce")]) is not None


def test_the_passing_input_that_proves_a_fact_must_be_a_whole_value_of_a_telling_input():
    fails = _at(False, loss="mse")
    assert _where([fails, _at(True, loss="ce", values=False)]) is None  # a property held, not the value
    assert _where([fails, _at(True, loss="ce", degenerate=True)]) is None  # a batch of one proves nothing alone
    assert _where([fails, _at(True, loss="ce", degenerate=True), _at(True, loss="ce", degenerate=True)]) is not None


def test_the_facts_of_an_input_are_its_choices_read_at_their_defaults():
    from grader.checks.cases import features
    from grader.model import register_parameter_names

    register_parameter_names("m", "def g(X, acts, y, loss='mse', *, flag=False, seed=0, lr=0.1):\n    pass\n")
    call = Call("m", "g", (np.ones(2), ["relu", "softmax"], 0), {"lr": 0.0})
    assert features(call) == ("the last of `acts` is 'softmax'", "`acts` has 2 entries", "`acts` has more than 1 entry",
                              "`lr` is 0", "`loss` is 'mse'", "`flag` is False")  # `y` is data, `seed` a count
    assert features(Call("m", "g", (np.ones(2), ["tanh"], 1, "cross_entropy"))) == (
        "the last of `acts` is 'tanh'", "`acts` has 1 entry", "`loss` is 'cross_entropy'", "`flag` is False",
        "`lr` is not 0")


def test_inputs_where_the_code_hangs_are_inputs_it_fails_on(course):
    """Wrong on MSE inputs, and hanging on cross-entropy ones of more than five examples (right on
    the others): it fails for both losses, so no loss is named as the one it fails on."""
    from grader.isolation.runner import Limits

    source = mutate(reference_source("backprop"), "delta = softmax_cross_entropy_grad(A_L, Y)",
                    "while len(Y) > 5:\n            pass\n        delta = softmax_cross_entropy_grad(A_L, Y)")
    source = mutate(source, "dA = mse_loss_grad(A_L, Y)  # dL/dA^(L)", "dA = 2 * mse_loss_grad(A_L, Y)")
    result = course.grade({"backprop.py": source, "forward.py": reference_source("forward")}, ["backprop"],
                          Limits(call_timeout=0.5))
    failed = [c for c in result.checks if c.function == "backward" and not c.passed]
    assert {c.problem for c in failed} >= {None, "timeout"}
    assert not [c.diagnosis for c in failed if c.diagnosis and "fails only on inputs" in c.diagnosis]


def test_checks_not_run_after_a_hang_say_nothing_of_where_it_fails(course):
    """Wrong on MSE inputs, and hanging on one of three examples: the calls of `backward` after it
    are not run (cross-entropy ones among them), so they neither confirm nor contradict that
    it fails only for MSE."""
    from grader.isolation.runner import Limits

    source = mutate(reference_source("backprop"), "dA = mse_loss_grad(A_L, Y)  # dL/dA^(L)",
                    "dA = 2 * mse_loss_grad(A_L, Y)\n        while len(Y) == 3:\n            pass")
    result = course.grade({"backprop.py": source, "forward.py": reference_source("forward")}, ["backprop"],
                          Limits(call_timeout=0.5))
    failed = [c for c in result.checks if c.function == "backward" and not c.passed]
    assert {"timeout", "skipped"} <= {c.problem for c in failed}
    assert "`backward` fails only on inputs where `loss` is 'mse'; where that is not so, it passes" in \
        {line for c in failed for line in (c.diagnosis or "").splitlines()}


def test_the_cases_of_a_table_count_one_by_one_for_where_a_function_fails(course):
    """Cosine annealing that forgets `lr_min`: within one table, the cases with `lr_min = 0` pass,
    and so do those at epoch 0 (where every schedule gives `lr0`); the others fail. `epoch` is
    data (it has no default), so that it is not 0 where the function fails is not stated."""
    result = grade_mutant(course, "optimizers", "return float(lr_min + 0.5 * (lr0 - lr_min) * (1 + ",
                          "return float(0.5 * lr0 * (1 + ")
    assert "`cosine_annealing` fails only on inputs where `lr_min` is not 0; where that is not so, it passes" \
        in the_diagnosis(result, "cosine_annealing").splitlines()


def test_a_part_found_right_proves_where_only_failures_of_that_part_are():
    first_wrong = _at(False, compared="[0]", loss="ce")
    first_right = _at(True, compared="[0]", loss="mse")
    assert _where([first_wrong, first_right]) == \
        "`f` fails only on inputs where `loss` is 'ce'; where that is not so, it passes"
    # a failure of the whole output, or of another part, may lie where the part found right is not
    assert _where([first_wrong, _at(False, loss="ce"), first_right]) is None
    assert _where([first_wrong, _at(False, compared="[1]", loss="ce"), first_right]) is None
    assert _where([_at(False, loss="ce"), _at(True, loss="mse")]) is not None  # a whole output proves any


def test_whether_a_number_of_the_data_is_0_is_never_named_as_where_it_fails(course):
    """A perceptron update that refuses to update where the prediction is right: the inputs it
    fails on are the ones classified right, which here all have `y = 1`; `y` is data, so that
    is not named (a fresh input classified right with `y = 0` fails too)."""
    result = grade_mutant(course, "perceptron", "    w_new = w + lr * error * x",
                          "    if error == 0:\n        raise ValueError('nothing to learn')\n"
                          "    w_new = w + lr * error * x")
    failed = [c for c in result.checks if c.function == "perceptron_update" and not c.passed]
    assert failed
    assert not [c.diagnosis for c in failed if c.diagnosis and "`y`" in c.diagnosis]


def test_a_seed_is_no_choice_so_it_does_not_hide_the_method_that_fails(course):
    """Xavier's variance halved: the xavier checks (seeds 3 and 11) fail, the he checks pass, the
    ones compared value by value with seed 0. That the seed is not 0 where it fails is no fact
    to name, so the method is named, proven by the he inputs."""
    result = grade_mutant(course, "forward", "np.sqrt(2.0 / (n_in + n_out))", "np.sqrt(1.0 / (n_in + n_out))")
    lines = {line for c in result.checks if c.function == "init_params" and not c.passed
             for line in (c.diagnosis or "").splitlines()}
    assert "`init_params` fails only on inputs where `method` is 'xavier'; where that is not so, it passes" in lines


def test_a_mistake_in_the_loop_over_hidden_layers_is_stated_as_failing_with_more_than_one_layer(course):
    """The hidden layers' activation derivative forgotten: every one-layer network passes (the
    three are degenerate, so together they prove it), every deeper one fails."""
    result = grade_mutant(course, "backprop",
                          'delta = activation_backward(dA_prev, cache[f"Z{layer - 1}"], activations[layer - 2])',
                          "delta = dA_prev")
    assert "`backward` fails only on inputs where `activations` has more than 1 entry; where that is not so, " \
           "it passes" in the_diagnosis(result, "backward").splitlines()


def test_only_checks_that_compare_values_count_as_inputs_found_right(course):
    """A passing check proves where a function fails only when it compared the output with the
    expected one: a whole value (a gradient, a value, a path), one part of it marked as that part;
    not an unchanged argument, a property, a raise or a determinism check."""
    from grader.checks.judges import Differs, Part, Raises, Repeatable, Satisfies, Unchanged
    from grader.engine.grading import _evidence
    from grader.model import Verdict

    kinds = {}
    for a in course.assignments:
        for check in a.checks:
            e = _evidence(check, Verdict(True), None)
            kinds.setdefault(type(check.judge).__name__, set()).add((bool(e.right_on), e.compared))
            if isinstance(check.judge, Part):
                assert e.compared == f"[{check.judge.index}]" or e.compared is None
    assert kinds["Gradient"] == {(True, "")} and kinds["Close"] == {(True, "")}
    for judge in (Unchanged, Satisfies, Raises, Repeatable, Differs):
        assert kinds.get(judge.__name__, {(False, None)}) == {(False, None)}, judge
    assert {"Unchanged", "Satisfies", "Raises"} <= set(kinds)
    assert (True, "[0]") in kinds["Part"]


def test_a_call_made_of_the_students_outputs_counts_as_the_checks_own_call(course):
    """A path's later step is built from what the student's previous step returned (a state that
    could be any string); where it raised, the check's own first call stands for it, so nothing
    the student returned can become a fact about where the function fails."""
    from grader.checks.judges import Trajectory
    from grader.engine.grading import _evidence
    from grader.model import StudentError

    check = next(ch for a in course.assignments for ch in a.checks if isinstance(ch.judge, Trajectory))
    err = StudentError("exception", "ValueError: no")
    err.call = Call(check.judge.call.module, check.judge.call.function, ("<b>mine</b>",) * len(check.judge.call.args))
    assert _evidence(check, err, None).failed_on == (check.judge.call,)


# ---------------------------------------------------------------- which returned values are right


def test_of_several_returned_values_the_right_ones_are_named(course):
    # the step taken with the OLD velocity: the new velocity is right, the parameters are not
    files = with_function("optimizers", '''
        def momentum_update(params, grads, velocity, lr, beta=0.9):
            new_velocity = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
            new_params = {k: W - lr * velocity[k] for k, W in params.items()}
            return new_params, new_velocity
    ''')
    text = the_diagnosis(course.grade(files, ["optimizers"]), "momentum_update")
    assert "of the 2 values you return, only `new_params` is wrong; `new_velocity` is right" in text


def test_which_returned_values_are_right_is_a_fact_of_every_failing_input():
    def evidence(got, exp):
        findings, scopes = value_findings(got, {"value": exp}, Call("m", "f", (np.ones((3, 3)),), {}))
        return Evidence("m.f", False, tuple(findings), tuple(scopes))

    a, b = np.arange(6.0).reshape(2, 3) / 7, np.linspace(0.1, 0.9, 5)
    first_wrong = evidence((a + 1, b), (a, b))
    assert any("only your first returned value is wrong; your second returned value is right" in t
               for t in diagnose([first_wrong])["m.f"].texts)
    both = diagnose([first_wrong, evidence((a + 1, b + 1), (a, b))]).get("m.f")
    assert both is None or not any("values you return" in t for t in both.texts)
    # a right value of few round numbers (a label, an unchanged count) may be right by chance
    few = [f for f in evidence((a + 1, np.array([1.0, 0.0])), (a, np.array([1.0, 0.0]))).findings
           if "values you return" in f.statement]
    assert len(few) == 1 and not few[0].strong and diagnose([Evidence("m.f", False, tuple(few))]) == {}


# ---------------------------------------------------------------- patterns of entries on small inputs


def test_a_pattern_of_dict_entries_rests_on_several_wrong_and_several_right_entries():
    params = {"W1": np.array([[0.5, 0.0, -1.5], [0.0, -0.2, 0.7]]), "b1": np.array([0.3, 0.4]),
              "W2": np.array([[0.1, -0.3]]), "b2": np.array([0.2])}

    def stated(zeros: list[tuple[str, tuple[int, ...]]]) -> bool:
        ps = {k: v.copy() for k, v in params.items()}
        for key, at in zeros:
            ps[key][at] = 0.0
        ex = {k: np.sign(v) for k, v in ps.items()}
        got = {k: np.where(v == 0, np.nan, ex[k]) for k, v in ps.items()}
        findings, scopes = value_findings(got, {"value": ex}, Call("m", "f", (), {"params": ps}))
        result = diagnose([Evidence("m.f", False, tuple(findings), tuple(scopes))])
        return bool(result) and any("wrong only where `params[...]` is 0" in t for t in result["m.f"].texts)

    assert stated([])  # two wrong entries, eight right
    assert not stated([("W1", (0, 0)), ("W1", (0, 2)), ("W1", (1, 1)), ("W1", (1, 2)), ("b1", (0,)),
                       ("b1", (1,)), ("W2", (0, 0)), ("b2", (0,))])  # nine wrong, one right


# ---------------------------------------------------------------- a product of the wrong operands


def test_a_product_whose_left_operand_needs_a_transpose_is_named(course):
    files = with_function("backprop", '''
        def dense_backward(dZ, A_prev, W):
            m = dZ.shape[0]
            return dZ @ W, (A_prev @ dZ).T, dZ.sum(axis=0)
    ''')
    text = the_diagnosis(course.grade(files, ["backprop"]), "dense_backward")
    assert "`A_prev @ dZ` cannot work" in text and "`A_prev.T @ dZ` fits" in text, text


def test_the_left_operand_is_named_only_when_one_pair_fits_or_the_line_names_it():
    dZ, A_prev, W = np.ones((5, 3)), np.ones((5, 4)), np.ones((3, 4))
    call = Call("m", "f", (dZ, A_prev, W), {})
    message = "ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc " \
              "signature (n?,k),(k,m?)->(n?,m?) (size 5 is different from 3)"
    (only,) = error_findings(message, call)
    assert "`argument 1.T @ argument 2` fits, giving shape (3, 4)" in only.text
    # a second array of 5 rows: two pairs fit, and nothing says which was written ...
    crowded = Call("m", "f", (dZ, A_prev, W, np.ones((5, 2))), {})
    assert error_findings(message, crowded) == []
    # ... unless the student's line does
    tb = 'Traceback (most recent call last):\n  File "backprop.py", line 9, in dense_backward\n' \
         '    dW = argument 1 @ argument 4\n'
    (named,) = error_findings(message, crowded, tb)
    assert "`argument 1.T @ argument 4` fits, giving shape (3, 2)" in named.text
    # a line that names another product (`dZ @ dZ`) is not the pair that fits
    other = tb.replace("argument 1 @ argument 4", "argument 1 @ argument 1")
    assert error_findings(message, call, other) == []


def test_the_hidden_twin_of_a_failing_visible_check_is_a_second_input_that_confirms(course, monkeypatch):
    """`b` as a threshold (`X @ w >= b`): of perceptron_predict's inputs only one is informative
    and fails (a 0/1 output proves little alone: not strong); its hidden twin, the same input
    drawn afresh, fails the same way, and that second input names the mistake."""
    from grader.engine import grading

    files = with_function("perceptron", '''
        def perceptron_predict(X, w, b):
            return np.where(np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) >= b, 1, 0)
    ''')
    named = {c.mistake for c in course.grade(files, ["perceptron"]).checks
             if c.function == "perceptron_predict" and not c.passed}
    assert named == {"bias subtracted (threshold form)"}
    # without what the twins saw, the one informative input is not enough
    apply = grading._apply_diagnoses
    monkeypatch.setattr(grading, "_apply_diagnoses", lambda results, evidence, more=(): apply(results, evidence))
    alone = {c.mistake for c in course.grade(files, ["perceptron"]).checks
             if c.function == "perceptron_predict" and not c.passed}
    assert alone == {None}


def test_a_twin_that_replaces_its_visible_check_s_outcome_is_not_counted_twice(course):
    """Where only the twin fails (code that looks its answers up), its outcome is the check's
    own: one input, counted once (`grader.engine.grading.grade_submission`)."""
    from grader.engine import grading

    seen = []
    apply = grading._apply_diagnoses

    def spy(results, evidence, more=()):
        seen.append((list(evidence), list(more)))
        return apply(results, evidence, more)

    files = with_function("perceptron", '''
        def perceptron_predict(X, w, b):
            X = np.asarray(X, dtype=float)
            if X.tolist() == [[0, 0], [0, 0.25], [1, 1], [2, 0], [1, 2]]:  # the visible input's answer
                return np.array([1, 1, 1, 1, 0])
            return np.where(X @ np.asarray(w, dtype=float) - b >= 0, 1, 0)  # elsewhere, b as a threshold
    ''')
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(grading, "_apply_diagnoses", spy)
        result = course.grade(files, ["perceptron"])
    [(evidence, more)] = seen
    looked_up = "perceptron.perceptron_predict: a batch of five, one exactly on the boundary"
    [check] = [c for c in result.checks if c.name == looked_up]
    assert not check.passed and check.hardcoded
    # its evidence is the twin's failure, and the twin is not added a second time
    [own] = [e for c, e in zip(result.checks, evidence) if c.name == looked_up]
    assert not own.passed and own.findings
    twins_of_predict = [e for e in more if e.function == "perceptron.perceptron_predict"]
    assert len(twins_of_predict) == len([c for c in result.checks if c.function == "perceptron_predict"
                                        and c.visible]) - 1


# ---------------------------------------------------------------- relations added on 2026-12-02


def test_returned_values_scaled_by_one_shared_number_are_stated_together(course):
    """`sigmoid_neuron_grad` without the sigmoid's derivative in `delta`: dw and db are both off by
    1 / (1 - yhat), another number on each input; a bias alone is one number and proves nothing,
    the two values together do."""
    result = grade_mutant(course, "perceptron", "* y_hat * (1.0 - y_hat))", ")")
    text = the_diagnosis(result, "sigmoid_neuron_grad")
    assert text.startswith("each value you return is exactly the expected one times ")
    doubled = grade_mutant(course, "perceptron", "return delta * x, delta", "return 2 * delta * x, 2 * delta")
    doubled = the_diagnosis(doubled, "sigmoid_neuron_grad")
    assert doubled.startswith("each value you return is exactly the expected one times 2")
    assert "returned value" not in doubled  # dw's own factor 2, proven too, is not restated


def test_values_scaled_by_different_numbers_are_not_stated_together():
    call = Call("m", "f", (np.array([0.5, -1.0, 2.0]), 0.3))
    dw, db = np.array([50.0, -100.0, 200.0]), 0.001  # db tiny beside dw: each is related on its own scale
    keys = lambda got: {(f.key, f.scope) for f in value_findings(got, {"value": (dw, db)}, call)[0]}  # noqa: E731
    assert ("factorx2", "") in keys((2 * dw, 2 * db))
    together = lambda got: [k for k in keys(got) if k[1] == "" and k[0].startswith("factor")]  # noqa: E731
    assert not together((2 * dw, 3 * db))
    assert not together((2 * dw, db))  # a right bias: the factor is dw's alone
    assert ("factorx2", "[0]") in keys((2 * dw, db))


def test_wrong_entries_that_all_hold_one_number_are_named(course):
    result = grade_mutant(course, "forward", "return np.maximum(z, 0.0)", "return np.where(z > 0, z, 0.01)")
    text = the_diagnosis(result, "relu")
    assert "every wrong entry is 0.01" in text


def test_wrong_entries_of_different_values_or_one_wrong_entry_name_no_value():
    call = Call("m", "f", (np.array([-1.0, 2.0, -3.0, 4.0]),))
    e = np.array([0.0, 2.0, 0.0, 4.0])
    keys = lambda got: {f.key for f in value_findings(got, {"value": e}, call)[0]}  # noqa: E731
    assert "wrongvalue0.5" in keys(np.array([0.5, 2.0, 0.5, 4.0]))
    assert not [k for k in keys(np.array([0.5, 2.0, 0.7, 4.0])) if k.startswith("wrongvalue")]
    assert not [k for k in keys(np.array([0.5, 2.0, 0.0, 4.0])) if k.startswith("wrongvalue")]


def test_a_constant_minus_the_expected_result_is_named(course):
    result = grade_mutant(course, "forward", "return s * (1.0 - s)", "return 1.0 - s * (1.0 - s)")
    assert "every entry of your result is exactly 1 minus the expected one" in the_diagnosis(result, "sigmoid_grad")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False, allow_subnormal=False), min_size=3, max_size=8, unique=True),
       st.sampled_from([(-1.0, 2.0), (2.0, -1.0), (0.5, 0.5), (-0.5, 1.0)]))
@example([0.0, 1e-6, 3e-6], (-1.0, 2.0))  # spread too little to tell the slopes apart
@example([0.001, 1.2e-7, 0.0], (-1.0, 2.0))
def test_an_affine_relation_is_named_on_three_distinct_values_and_only_as_it_holds(values, relation):
    e = np.array(values)
    a, c = relation
    call = Call("m", "f", (np.arange(e.size) + 7.0,))
    found = {f.key for f in value_findings(a * e + c, {"value": e}, call)[0]}
    if np.ptp(e) > 0.01:
        assert f"affine{a:g},{c:g}" in found
    elif np.ptp(e) < 1e-4:  # so little spread that any named slope would fit: none is named
        assert not [k for k in found if k.startswith("affine")]
    nudged = a * e + c
    nudged[np.argsort(e)[1]] += 5e-4  # a middle entry off by more than rounding
    bents = [nudged] + ([a * e + c + 0.01 * e ** 2] if np.ptp(e) >= 2 else [])  # a bend well above rounding
    for bent in bents:  # not affine: never named
        assert not [k for k in (f.key for f in value_findings(bent, {"value": e}, call)[0]) if k.startswith("affine")]
    two = np.array([1.0, 3.0, 1.0])  # two distinct values: any two constants fit them
    assert not [f for f in value_findings(a * two + c, {"value": two}, call)[0] if f.key.startswith("affine")]


# ---------------------------------------------------------------- facts added on 2026-12-03


def test_a_result_of_zeros_is_stated_as_such_and_not_where_zeros_are_expected():
    call = Call("m", "f", (np.ones(3),))
    keys = {f.key for f in value_findings(np.zeros(3), {"value": np.array([1.0, 2.0, 3.0])}, call)[0]}
    assert "zeros" in keys
    assert "zeros" not in {f.key for f in value_findings(np.array([0.0, 0.0, 1.0]),
                                                       {"value": np.array([1.0, 2.0, 3.0])}, call)[0]}
    assert "zeros" not in {f.key for f in value_findings(np.zeros(3), {"value": np.zeros(3) + np.nan}, call)[0]}
    assert "zeros" in {f.key for f in value_findings(0, {"value": 11}, Call("m", "f", ([10, 1],)))[0]}


def test_a_count_over_an_empty_slice_and_a_reversed_list_are_diagnosed(course):
    source = reference_source("forward")
    line = "zip(layer_sizes[:-1], layer_sizes[1:])"
    assert line in source
    empty = course.grade({"forward.py": source.replace(line, "zip(layer_sizes[:0], layer_sizes[1:])", 1)},
                         ["forward"])
    assert the_diagnosis(empty, "count_params") == "your result is exactly 0 everywhere, where the expected one is not"
    backwards = course.grade({"forward.py": source.replace(line, "zip(layer_sizes[1:], layer_sizes[:-1])", 1)},
                             ["forward"])
    assert "for `layer_sizes` reversed" in the_diagnosis(backwards, "count_params")


def test_a_division_by_a_number_that_is_0_where_the_code_raises_is_named(course):
    source = reference_source("perceptron")
    line = "w_new = w + lr * error * x"
    assert line in source
    result = course.grade({"perceptron.py": source.replace(line, "w_new = w + lr / error * x", 1)}, ["perceptron"])
    text = the_diagnosis(result, "perceptron_update")
    assert "divides by zero on every input where the value the reference solution calls `error` is 0" in text
    # an argument that is 0 on one raising input and not on another is not named
    assert "`b` is 0" not in text


# ---------------------------------------------------------------- facts added on 2026-12-03 (evening)


def _frame(line: int, function: str, source: str) -> str:
    return f'  File "forward.py", line {line}, in {function}\n    {source}\n'


def test_a_list_argument_read_past_its_end_is_named_only_from_a_line_that_reads_it_alone():
    call = Call("forward", "init_params", (), {"layer_sizes": [4, 3, 2], "seed": 0})
    message = "IndexError: list index out of range"
    found = error_findings(message, call, _frame(9, "init_params", "n_out = layer_sizes[i + 1]"))
    assert [f.key for f in found] == ["index:layer_sizes:outside"]
    assert "as passed it has 3 entries, at 0 to 2" in found[0].statement
    # a line that also reads another list, a helper's line, or an index of an index: no fact
    for function, source in [("init_params", "pair = (layer_sizes[i], sizes[i + 1])"),
                             ("_shapes", "n_out = layer_sizes[i + 1]"),
                             ("init_params", "n_out = layer_sizes[i][1]"),
                             ("init_params", "n_out = self.layer_sizes[i]")]:
        assert not [f for f in error_findings(message, call, _frame(9, function, source))
                    if f.key.startswith("index")], source


def test_an_index_one_past_an_axis_and_a_range_of_step_0_are_named():
    call = Call("perceptron", "train_perceptron", (np.zeros((4, 2)), np.zeros(4)))
    tb = _frame(12, "train_perceptron", "xi = X[k]")
    found = error_findings("IndexError: index 4 is out of bounds for axis 0 with size 4", call, tb)
    assert [f.key for f in found] == ["index:one-past-end"]
    assert "one past its last entry, 3" in found[0].statement
    # an index further out says nothing of one step too far
    assert not error_findings("IndexError: index 6 is out of bounds for axis 0 with size 4", call, tb)
    found = error_findings("ValueError: range() arg 3 must not be zero", call, tb)
    assert [f.key for f in found] == ["range:step-0"] and "line 12" in found[0].statement


def test_a_layer_loop_one_step_too_far_is_named_on_every_failing_check(course):
    source = reference_source("forward")
    old = "        n_in, n_out = layer_sizes[l - 1], layer_sizes[l]\n"
    new = ("        n_in = layer_sizes[l - 1]\n"
           "        n_out = layer_sizes[l]\n")
    loop = "for l in range(1, len(layer_sizes)):"
    student = mutate(mutate(source, old, new), loop, "for l in range(1, len(layer_sizes) + 1):")
    result = course.grade({"forward.py": student}, ["forward"])
    assert "your code reads `layer_sizes` at an index it does not have" in the_diagnosis(result, "init_params")


def test_a_backward_loop_with_a_step_of_0_is_named(course):
    source = reference_source("backprop")
    loop = "for layer in range(L, 0, -1):"
    student = mutate(source, loop, "step = 0\n    for layer in range(L, 0, step):")
    result = course.grade({"backprop.py": student, "forward.py": reference_source("forward")}, ["backprop"])
    assert "is given a step of 0" in the_diagnosis(result, "backward")


@pytest.mark.parametrize("module, old, new, function, mistake", [
    ("forward", "return 1.0 - np.tanh(z) ** 2", "t = np.tanh(z)\n    return 1.0 - t",
     "tanh_grad", "tanh'(z) computed as 1 - tanh(z), not squared"),
    ("backprop", "return float(0.5 * np.sum((Y_hat - Y) ** 2) / m)", "return float(np.sum(Y_hat - Y) / (2 * m))",
     "mse_loss", "differences not squared"),
    ("optimizers", "return float(lr0 * drop ** math.floor(epoch / epochs_per_drop))",
     "return lr0 * (drop * (epoch // epochs_per_drop))",
     "step_decay", "drop multiplied by the number of drops, not raised to it"),
    ("optimizers", "return float(lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * epoch / total_epochs)))",
     "return lr_min + (lr0 - lr_min) * (1 - math.cos(epoch / total_epochs * math.pi)) / 2",
     "cosine_annealing", "1 - cos: the schedule runs backwards"),
])
def test_the_mistakes_catalogued_on_2026_12_03_are_named_in_another_style(course, module, old, new, function, mistake):
    result = grade_mutant(course, module, old, new)
    failing = [c for c in result.checks if c.function == function and not c.passed]
    assert failing and all(c.mistake == mistake for c in failing), [(c.name, c.mistake) for c in failing]
