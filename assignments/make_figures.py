"""Draw the handout figures of the regularization and optimizers assignments (instructor tool).

    python assignments/make_figures.py

Uses the reference solutions in `reference/` and needs matplotlib, which the grader itself does
not (`pip install matplotlib`). Writes

- `assignments/regularization/figures/regularization_curves.png`: training and validation loss
  of a small network on 15 noisy points, without regularization, with L2 and with dropout;
- `assignments/optimizers/figures/rosenbrock_paths.png`: the paths of SGD, momentum and Adam on
  the Rosenbrock function.

Everything is seeded, so the figures are the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "reference"))

import backprop  # noqa: E402
import forward  # noqa: E402
import optimizers  # noqa: E402
import regularization  # noqa: E402

# -- figure 1: overfitting, L2 and dropout ------------------------------------------------------

LAYERS = [1, 64, 64, 1]
ACTIVATIONS = ["tanh", "tanh", "linear"]
EPOCHS = 4000
PATIENCE = 500


def make_data(seed=0):
    """15 noisy training points and 200 validation points of y = sin(3x)."""
    rng = np.random.default_rng(seed)

    def sample(m):
        X = rng.uniform(-1, 1, size=(m, 1))
        return X, np.sin(3 * X) + 0.3 * rng.normal(size=(m, 1))

    return sample(15), sample(200)


def loss_and_grads_with_dropout(X, Y, params, keep_prob, rng):
    """MSE and its gradients with inverted dropout on every hidden layer's output."""
    L = len(ACTIVATIONS)
    A, cache = X, []
    for layer in range(1, L + 1):
        A_prev = A
        W, b = params[f"W{layer}"], params[f"b{layer}"]
        A, Z = forward.layer_forward(A_prev, W, b, ACTIVATIONS[layer - 1])
        mask = None
        if layer < L:  # hidden layers only, never the output
            A, mask = regularization.dropout_forward(A, keep_prob, rng)
        cache.append((A_prev, Z, mask))
    grads = {}
    dA = backprop.mse_loss_grad(A, Y)
    for layer in range(L, 0, -1):
        A_prev, Z, mask = cache[layer - 1]
        if mask is not None:
            dA = regularization.dropout_backward(dA, mask, keep_prob)
        dZ = backprop.activation_backward(dA, Z, ACTIVATIONS[layer - 1])
        dA, dW, db = backprop.dense_backward(dZ, A_prev, params[f"W{layer}"])
        grads[f"W{layer}"], grads[f"b{layer}"] = dW, db
    return grads


def train(data, lam=0.0, keep_prob=1.0, lr=3e-3, seed=0):
    """Full-batch Adam; returns the training and validation data loss of every epoch."""
    (X, Y), (X_val, Y_val) = data
    params = forward.init_params(LAYERS, method="xavier", seed=seed)
    state = optimizers.init_adam(params)
    rng = np.random.default_rng(seed)
    train_curve, val_curve = [], []
    for _ in range(EPOCHS):
        train_curve.append(backprop.mse_loss(forward.forward(X, params, ACTIVATIONS)[0], Y))
        val_curve.append(backprop.mse_loss(forward.forward(X_val, params, ACTIVATIONS)[0], Y_val))
        if keep_prob < 1.0:
            grads = loss_and_grads_with_dropout(X, Y, params, keep_prob, rng)
        else:
            _, grads = regularization.regularized_loss_and_grads(X, Y, params, ACTIVATIONS,
                                                                 lam=lam, penalty="l2")
        params, state = optimizers.adam_update(params, grads, state, lr=lr)
    return params, train_curve, val_curve


def figure_regularization(plt, path):
    data = make_data()
    runs = [("no regularization", {}, "tab:red"),
            (r"L2, $\lambda = 10^{-3}$", {"lam": 1e-3}, "tab:blue"),
            ("dropout, keep_prob = 0.8", {"keep_prob": 0.8}, "tab:green")]
    fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(10, 4))
    grid = np.linspace(-1, 1, 200)[:, None]
    for label, kwargs, color in runs:
        params, train_curve, val_curve = train(data, **kwargs)
        ax_loss.plot(train_curve, color=color, ls="--", lw=1)
        ax_loss.plot(val_curve, color=color, lw=1.5, label=label)
        stop = regularization.early_stopping(val_curve, patience=PATIENCE)
        if stop is not None:
            ax_loss.plot(stop, val_curve[stop], "o", color=color, ms=7, mec="black", zorder=3)
        ax_fit.plot(grid[:, 0], forward.forward(grid, params, ACTIVATIONS)[0][:, 0],
                    color=color, label=label)
    (X, Y), _ = data
    ax_loss.set(yscale="log", xlabel="epoch", ylabel="MSE",
                title="validation (solid) and training (dashed) loss")
    ax_loss.plot([], [], "o", color="gray", ms=7, mec="black",
                 label=f"early stopping (patience {PATIENCE}) stops here")
    ax_loss.legend(fontsize=8)
    ax_fit.plot(grid[:, 0], np.sin(3 * grid[:, 0]), color="black", ls=":", label="sin(3x)")
    ax_fit.plot(X[:, 0], Y[:, 0], "ko", ms=4, label="training points")
    ax_fit.set(xlabel="x", ylabel="y", title=f"fitted functions after {EPOCHS} epochs",
               ylim=(-2, 2))
    ax_fit.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# -- figure 2: optimizers on the Rosenbrock function --------------------------------------------

START = np.array([-1.2, 1.0])  # the classic starting point
STEPS = 1000
MARK_EVERY = 100  # the grader compares 100-step trajectories


def path_of(step, steps=STEPS):
    """Apply `step(params, grads) -> params` to the Rosenbrock function from START."""
    from scipy.optimize import rosen_der

    params = {"W": START.copy()}
    points = [params["W"]]
    for _ in range(steps):
        params = step(params, {"W": rosen_der(params["W"])})
        points.append(params["W"])
    return np.array(points)


def figure_rosenbrock(plt, path):
    from scipy.optimize import rosen

    velocity = optimizers.init_velocity({"W": START})
    state = optimizers.init_adam({"W": START})

    def momentum(params, grads):
        nonlocal velocity
        params, velocity = optimizers.momentum_update(params, grads, velocity, lr=4e-3, beta=0.9)
        return params

    def adam(params, grads):
        nonlocal state
        params, state = optimizers.adam_update(params, grads, state, lr=0.05)
        return params

    # SGD runs at about the largest rate that is stable near the start; momentum's averaging
    # damps the zig-zag across the valley, so it tolerates a larger one.
    runs = [("SGD, lr = 0.001", path_of(lambda p, g: optimizers.sgd_update(p, g, 1e-3)),
             "tab:red", 3.5),
            (r"momentum, lr = 0.004, $\beta$ = 0.9", path_of(momentum), "tab:blue", 2.2),
            ("Adam, lr = 0.05", path_of(adam), "tab:green", 1.2)]

    x, y = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    z = rosen(np.array([x, y]))
    fig, (ax, ax_f) = plt.subplots(1, 2, figsize=(11, 4.8), width_ratios=[1, 1.1])
    ax.contour(x, y, z, levels=np.logspace(-1, 3.5, 16), colors="gray", linewidths=0.6,
               alpha=0.6)
    for label, points, color, width in runs:
        ax.plot(points[:, 0], points[:, 1], color=color, lw=width, alpha=0.85, label=label)
        marks = points[MARK_EVERY::MARK_EVERY]
        ax.plot(marks[:, 0], marks[:, 1], "o", color=color, ms=5, mec="black", mew=0.5)
        ax_f.plot(rosen(points.T), color=color, lw=1.5, label=label)
    ax.plot(*START, "ks", ms=6, label=f"start ({START[0]:g}, {START[1]:g})")
    ax.plot(1, 1, "k*", ms=12, label="minimum (1, 1)")
    ax.plot([], [], "o", color="gray", ms=5, mec="black", mew=0.5,
            label=f"every {MARK_EVERY} steps")
    ax.set(xlabel="$w_1$", ylabel="$w_2$", xlim=(-2, 2), ylim=(-1, 3),
           title=f"{STEPS} steps on the Rosenbrock function")
    ax.legend(fontsize=8, loc="upper center")
    ax_f.axvline(MARK_EVERY, color="gray", ls=":", lw=1)
    ax_f.set(yscale="log", xlabel="step $t$", ylabel="$f(w_t)$",
             title="function value along each path")
    ax_f.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    try:
        import matplotlib
    except ImportError:
        print("make_figures.py needs matplotlib, which the grader does not install.\n"
              "Install it with `pip install matplotlib` and run this script again.",
              file=sys.stderr)
        return 1
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = [(figure_regularization, ROOT / "assignments/regularization/figures",
                "regularization_curves.png"),
               (figure_rosenbrock, ROOT / "assignments/optimizers/figures", "rosenbrock_paths.png")]
    for draw, folder, name in outputs:
        folder.mkdir(parents=True, exist_ok=True)
        draw(plt, folder / name)
        print(f"wrote {(folder / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
