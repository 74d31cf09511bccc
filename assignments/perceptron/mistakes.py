"""Known wrong implementations of the `perceptron` module (assignment 1).

Each mistake is declared on its wrong implementation, `@MISTAKES.mistake(function, name, hint)`:
the function has the signature of the API function it imitates and computes the wrong output a
student with that bug would get. When a student's output equals a mistake's output, the grader
shows the mistake's hint; it runs a function's mistakes in the order they are declared here.
The impls are self-contained NumPy (no reference): a mistake must not change when the reference
changes, nor depend on another mistake's correctness. Helpers shared by several mistakes are
plain private functions.

Most mistakes differ from the reference on generic inputs. Some need a special input to show:
- "step(0) = 0" only differs where z == 0 exactly;
- "w updated in place" returns the right values: it is caught by checking the arguments after
  the call, and this entry supplies its hint.
"""

import numpy as np

from grader.authoring import Catalog

MISTAKES = Catalog("perceptron")

_SIGN_BOX = "(the handout's box 'The lecture's sign' derives it)"


def _step(z):
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)


def _sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --- step -------------------------------------------------------------------------------------


@MISTAKES.mistake("step", "step(0) = 0",
                  "Your step returns 0 at z = 0, but the perceptron's step is 1 where z >= 0 (lecture: "
                  "'1 if z >= 0'). Use `z >= 0`, not `z > 0`. It matters: from w = 0, b = 0 every first "
                  "prediction is step(0).")
def step_strict(z):
    return np.where(np.asarray(z) > 0, 1.0, 0.0)


@MISTAKES.mistake("step", "sign (+1/-1) instead of step (1/0)",
                  "Your step returns -1 for negative z. In this course the labels are 0 and 1, so the "
                  "step is 1.0 where z >= 0 and 0.0 elsewhere (np.where(z >= 0, 1.0, 0.0)).")
def step_sign(z):
    return np.where(np.asarray(z) >= 0, 1.0, -1.0)


# --- sigmoid ----------------------------------------------------------------------------------


@MISTAKES.mistake("sigmoid", "exp(+z) instead of exp(-z)",
                  "Your sigmoid computes 1/(1 + exp(z)) = sigma(-z) = 1 - sigma(z): it decreases. "
                  "sigma(z) = 1/(1 + exp(-z)); check: sigma(0.52) ~ 0.627 (the lecture's example). For "
                  "no overflow use exp(-|z|): 1/(1+e) where z >= 0 and e/(1+e) where z < 0.")
def sigmoid_flipped(z):
    return _sigmoid(-np.asarray(z, dtype=np.float64))  # 1 / (1 + exp(+z))


# --- perceptron_predict -----------------------------------------------------------------------


@MISTAKES.mistake("perceptron_predict", "bias forgotten",
                  "Your predictions ignore b. The perceptron predicts step(w^T x + b) for each row: "
                  "step(X @ w + b).")
def predict_no_bias(X, w, b):
    return _step(np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64))


@MISTAKES.mistake("perceptron_predict", "bias subtracted (threshold form)",
                  "You computed step(X @ w - b): that treats b as a threshold. In this course b is a "
                  "bias that is added: step(X @ w + b).")
def predict_bias_subtracted(X, w, b):
    return _step(np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) - b)


@MISTAKES.mistake("perceptron_predict", "scores returned without the step",
                  "You return X @ w + b, the raw scores z. The prediction is the class: apply step, "
                  "1.0 where z >= 0, else 0.0.")
def predict_raw_scores(X, w, b):
    return np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b


@MISTAKES.mistake("perceptron_predict", "sigmoid instead of step",
                  "You return sigmoid(X @ w + b). The perceptron's prediction uses the step function "
                  "(0 or 1), not the sigmoid.")
def predict_sigmoid(X, w, b):
    return _sigmoid(np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b)


# --- perceptron_update ------------------------------------------------------------------------


@MISTAKES.mistake("perceptron_update", "w updated in place",
                  "Your perceptron_update changes the caller's w (w += ... or w[...] = ...). Return a "
                  "new array instead: w_new = w + lr * (y - yhat) * x. In-place updates silently "
                  "change arrays the caller still uses (e.g. the previous weights you wanted to keep).")
def update_in_place(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    error = y - float(_step(w @ x + b))
    w += lr * error * x  # modifies the caller's array
    b += lr * error
    return w, b


@MISTAKES.mistake("perceptron_update", "error sign flipped (yhat - y)",
                  "Your update moves w the wrong way: you used (yhat - y). The perceptron rule is "
                  "w + lr * (y - yhat) * x and b + lr * (y - yhat): a missed positive (y=1, yhat=0) "
                  "must add x to w.")
def update_sign_flipped(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    error = float(_step(w @ x + b)) - y  # (yhat - y): pushes the wrong way
    return w + lr * error * x, float(b) + lr * error


@MISTAKES.mistake("perceptron_update", "raw z instead of step(z) (delta rule)",
                  "You used yhat = w @ x + b without the step: that is the LMS / delta rule, not the "
                  "perceptron rule. Take yhat = step(w @ x + b), so correct examples give y - yhat = 0 "
                  "and change nothing.")
def update_raw_z(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    error = y - float(w @ x + b)  # the delta (LMS) rule: no step
    return w + lr * error * x, float(b) + lr * error


@MISTAKES.mistake("perceptron_update", "bias not updated",
                  "Your b never changes. The bias learns too: b_new = b + lr * (y - yhat) (it is the "
                  "weight of a constant input 1).")
def update_no_bias(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    error = y - float(_step(w @ x + b))
    return w + lr * error * x, float(b)


@MISTAKES.mistake("perceptron_update", "y instead of (y - yhat)",
                  "Your update adds lr * y * x whatever the prediction was. The perceptron only learns "
                  "from its errors: use (y - yhat), which is 0 for a correctly classified example.")
def update_hebbian(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    return w + lr * y * x, float(b) + lr * y  # updates even when the example is right


# --- train_perceptron -------------------------------------------------------------------------


def _rule(x, y, w, b, lr):
    error = y - float(_step(w @ x + b))
    return w + lr * error * x, b + lr * error


@MISTAKES.mistake("train_perceptron", "errors counted after the update",
                  "Your errors[e] counts examples misclassified by the weights *after* their own update. "
                  "Judge each example before updating: if step(w @ x_i + b) != y_i, count it, then call "
                  "perceptron_update.")
def train_errors_after_update(X, y, lr=1.0, max_epochs=100):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(max_epochs):
        n_errors = 0
        for i in range(len(X)):
            w, b = _rule(X[i], y[i], w, b, lr)
            n_errors += int(_step(w @ X[i] + b) != y[i])  # judged with the updated weights
        errors.append(n_errors)
        if n_errors == 0:
            break
    return w, b, errors


@MISTAKES.mistake("train_perceptron", "errors counted at the end of the epoch",
                  "Your errors[e] counts mistakes of the final weights of the epoch (a predict over all "
                  "of X after the loop). Count during the epoch instead: each example judged just "
                  "before its own update. That also changes when training stops.")
def train_errors_end_of_epoch(X, y, lr=1.0, max_epochs=100):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(max_epochs):
        for i in range(len(X)):
            w, b = _rule(X[i], y[i], w, b, lr)
        n_errors = int(np.sum(_step(X @ w + b) != y))  # the final weights of the epoch
        errors.append(n_errors)
        if n_errors == 0:
            break
    return w, b, errors


@MISTAKES.mistake("train_perceptron", "does not stop after an error-free epoch",
                  "Your training always runs max_epochs epochs. Stop right after the first epoch with 0 "
                  "errors (record that 0 first): len(errors) is the number of epochs actually run.")
def train_never_stops(X, y, lr=1.0, max_epochs=100):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(max_epochs):
        n_errors = 0
        for i in range(len(X)):
            n_errors += int(_step(w @ X[i] + b) != y[i])
            w, b = _rule(X[i], y[i], w, b, lr)
        errors.append(n_errors)
    return w, b, errors


@MISTAKES.mistake("train_perceptron", "error-free epoch not recorded",
                  "Your errors list stops before the epoch with 0 errors. Append the epoch's count "
                  "first, then break if it is 0: on separable data errors[-1] must be 0.")
def train_last_epoch_missing(X, y, lr=1.0, max_epochs=100):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(max_epochs):
        n_errors = 0
        for i in range(len(X)):
            n_errors += int(_step(w @ X[i] + b) != y[i])
            w, b = _rule(X[i], y[i], w, b, lr)
        if n_errors == 0:
            break  # before recording the error-free epoch
        errors.append(n_errors)
    return w, b, errors


# --- sigmoid_neuron_grad ----------------------------------------------------------------------


@MISTAKES.mistake("sigmoid_neuron_grad", "the lecture's sign: negated gradient",
                  "Your gradient has the wrong sign: you used (y - yhat), as on the lecture's slide. "
                  "With L = 0.5 (y - yhat)^2, dL/dyhat = -(y - yhat) = (yhat - y), so "
                  f"dw = (yhat - y) * sigma'(z) * x and db = (yhat - y) * sigma'(z) {_SIGN_BOX}.")
def neuron_grad_lecture_sign(x, y, w, b):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    y_hat = float(_sigmoid(w @ x + b))
    delta = (y - y_hat) * y_hat * (1.0 - y_hat)  # the slide's (y - yhat): the negative gradient
    return delta * x, delta


@MISTAKES.mistake("sigmoid_neuron_grad", "sigma'(z) forgotten",
                  "Your gradient lacks the sigmoid's derivative. Chain rule: dL/dz = (yhat - y) * "
                  "sigma'(z) with sigma'(z) = sigma(z) (1 - sigma(z)); then dw = dL/dz * x, db = dL/dz.")
def neuron_grad_no_sigma_prime(x, y, w, b):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    delta = float(_sigmoid(w @ x + b)) - y
    return delta * x, delta


@MISTAKES.mistake("sigmoid_neuron_grad", "sigma' computed as z(1 - z)",
                  "You computed sigma'(z) as z * (1 - z). The formula s(1 - s) holds for s = sigma(z), "
                  "the output, not for z: use yhat * (1 - yhat).")
def neuron_grad_sigma_prime_of_z(x, y, w, b):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    z = float(w @ x + b)
    delta = (float(_sigmoid(z)) - y) * z * (1.0 - z)  # z(1 - z) instead of s(1 - s)
    return delta * x, delta


# --- sigmoid_neuron_step ----------------------------------------------------------------------


def _true_grad(x, y, w, b):
    y_hat = float(_sigmoid(w @ x + b))
    delta = (y_hat - y) * y_hat * (1.0 - y_hat)
    return delta * x, delta


@MISTAKES.mistake("sigmoid_neuron_step", "steps uphill (w + lr * grad)",
                  "Your step increases the loss. Gradient descent goes against the gradient: "
                  "w_new = w - lr * dL/dw with dL/dw = (yhat - y) sigma'(z) x. Writing the lecture's "
                  "w - lr (y - yhat) sigma'(z) x, or w + lr * dL/dw, climbs uphill "
                  f"{_SIGN_BOX}.")
def neuron_step_uphill(x, y, w, b, lr):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    dw, db = _true_grad(x, y, w, b)
    return w + lr * dw, float(b) + lr * db


@MISTAKES.mistake("sigmoid_neuron_step", "sigma'(z) forgotten in the step",
                  "Your step uses (yhat - y) * x without sigma'(z). The gradient of "
                  "0.5 (y - sigma(z))^2 is (yhat - y) * sigma(z)(1 - sigma(z)) * x; reuse "
                  "sigmoid_neuron_grad.")
def neuron_step_no_sigma_prime(x, y, w, b, lr):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    delta = float(_sigmoid(w @ x + b)) - y
    return w - lr * delta * x, float(b) - lr * delta
