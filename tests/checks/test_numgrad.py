"""Numerical derivatives against derivatives worked out by hand."""

from __future__ import annotations

import numpy as np

from grader.checks.numgrad import H, central_difference, dict_gradient, directional_probes, elementwise_derivative

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def test_central_difference_of_a_cubic_matches_its_derivative():
    # f(x) = sum(x^3 + 2x): df/dx = 3x^2 + 2. Central differences of a cubic are off by h^2 exactly.
    got = central_difference(lambda x: float(np.sum(x**3 + 2 * x)), X)
    assert got.shape == X.shape
    np.testing.assert_allclose(got, 3 * X**2 + 2, rtol=0, atol=1e-8)


def test_central_difference_leaves_its_input_alone_and_works_on_integers():
    x = np.array([1, 2, 3])
    got = central_difference(lambda v: float(np.sum(v**2)), x)
    np.testing.assert_allclose(got, [2.0, 4.0, 6.0], atol=1e-8)
    assert x.tolist() == [1, 2, 3]


def test_elementwise_derivative_of_tanh():
    np.testing.assert_allclose(elementwise_derivative(np.tanh, X), 1 - np.tanh(X) ** 2, atol=1e-9)


def test_dict_gradient_of_a_two_parameter_loss():
    # loss = sum(W * x)^2 / 2 + sum(b): dW = s * x with s = sum(W * x), db = 1.
    W, b, x = np.array([1.0, -2.0]), np.array([0.5, 0.5, 0.5]), np.array([3.0, 1.0])
    loss = lambda p: 0.5 * float(np.sum(p["W"] * x)) ** 2 + float(np.sum(p["b"]))
    grads = dict_gradient(loss, {"W": W, "b": b})
    assert sorted(grads) == ["W", "b"]
    np.testing.assert_allclose(grads["W"], (1 * 3 - 2 * 1) * x, atol=1e-7)
    np.testing.assert_allclose(grads["b"], np.ones(3), atol=1e-7)


def test_directional_probes_are_unit_directions_with_the_right_derivatives():
    # loss = sum(A^2) + 3 sum(c): gradient 2A and 3; along u the derivative is <grad, u>.
    A, c = np.arange(6.0).reshape(2, 3) - 2.5, np.array([1.0, -1.0])
    loss = lambda p: float(np.sum(p["A"] ** 2) + 3 * np.sum(p["c"]))
    grad = {"A": 2 * A, "c": np.full(2, 3.0)}
    probes = directional_probes(loss, {"A": A, "c": c}, directions=4, coordinates=5, seed=1)
    assert probes["shapes"] == {"A": [2, 3], "c": [2]}
    assert len(probes["directions"]) == 4 and len(probes["partial"]) == 5
    for u, value in zip(probes["directions"], probes["directional"], strict=True):
        norm2 = sum(float(np.sum(u[k] ** 2)) for k in u)
        assert abs(norm2 - 1) < 1e-12
        want = sum(float(np.vdot(grad[k], u[k])) for k in u)
        assert abs(value - want) < 1e-7
    assert [key for key, _ in probes["coords"]] == ["A", "c", "A", "c", "A"]
    for (key, flat), value in zip(probes["coords"], probes["partial"], strict=True):
        assert abs(value - grad[key].ravel()[flat]) < 1e-7


def test_step_is_1e_5():
    # README and numgrad's docstring: h = 1e-5 keeps truncation and rounding near 1e-10.
    assert H == 1e-5
