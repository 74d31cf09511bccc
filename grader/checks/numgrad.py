"""Numerical derivatives for the trusted side: the judge of every analytic gradient.

Central differences in float64, `(f(x + h e_i) - f(x - h e_i)) / 2h`, have truncation error
O(h^2) and rounding error O(eps / h); with `h = 1e-5` both are near 1e-10 for functions of
order 1, so an analytic gradient that is right agrees to a relative error far below 1e-6,
and any real mistake (a missing factor, a transposition, a wrong derivative) is far above.
Points are chosen away from kinks (ReLU at 0), where central differences are meaningless.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

H = 1e-5


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = H) -> np.ndarray:
    """The gradient of scalar `f` at `x` (any shape) by central differences, in float64."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = float(f(x))
        flat[i] = old - h
        minus = float(f(x))
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * h)
    return grad


def elementwise_derivative(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray, h: float = H) -> np.ndarray:
    """`f'(z)` entry by entry for an element-wise `f`: two evaluations in all."""
    z = np.asarray(z, dtype=np.float64)
    return (f(z + h) - f(z - h)) / (2 * h)


def dict_gradient(
    loss: Callable[[dict[str, np.ndarray]], float], params: dict[str, np.ndarray], h: float = H
) -> dict[str, np.ndarray]:
    """Central differences of `loss(params)` for every entry of every array in `params`."""
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    grads = {}
    for key in params:
        def along(x: np.ndarray, key: str = key) -> float:
            return loss({**params, key: x})

        grads[key] = central_difference(along, params[key], h)
    return grads


def directional_probes(
    loss: Callable[[dict[str, np.ndarray]], float],
    params: dict[str, np.ndarray],
    directions: int = 3,
    coordinates: int = 6,
    seed: int = 0,
    h: float = H,
) -> dict[str, object]:
    """Probes of the gradient of `loss` at `params` that cost 2 evaluations each.

    Returns `shapes`, unit `directions` (dicts like `params`) with their numerical directional
    derivatives (`directional`), and sampled `coords` (`[key, flat index]`) with their
    numerical partial derivatives (`partial`). `grader.checks.judges.DirectionalGradient` compares a
    student's gradient dict against them.
    """
    rng = np.random.default_rng(seed)
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    probes: list[dict[str, np.ndarray]] = []
    values = []
    for _ in range(directions):
        u = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        norm = np.sqrt(sum(float(np.sum(a * a)) for a in u.values()))
        u = {k: a / norm for k, a in u.items()}
        plus = loss({k: params[k] + h * u[k] for k in params})
        minus = loss({k: params[k] - h * u[k] for k in params})
        probes.append(u)
        values.append((plus - minus) / (2 * h))
    keys = list(params)
    coords = []
    partial = []
    for i in range(coordinates):
        key = keys[i % len(keys)]
        flat = int(rng.integers(params[key].size))
        e = np.zeros(params[key].size)
        e[flat] = h
        e = e.reshape(params[key].shape)
        plus = loss({**params, key: params[key] + e})
        minus = loss({**params, key: params[key] - e})
        coords.append([key, flat])
        partial.append((plus - minus) / (2 * h))
    return {
        "shapes": {k: list(v.shape) for k, v in params.items()},
        "directions": probes,
        "directional": np.array(values),
        "coords": coords,
        "partial": np.array(partial),
    }
