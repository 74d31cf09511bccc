"""Known wrong implementations of the `perceptron` module (assignment 1).

Each `Mistake.impl` has the signature of the API function it imitates and computes the wrong
output a student with that bug would get. When a student's output equals a mistake's output,
the grader shows the mistake's hint. The impls are self-contained NumPy on purpose: they must not
depend on the reference (nor on each other's correctness).

Most mistakes differ from the reference on generic inputs. Some need a special input to show:
- "step(0) = 0" only differs where z == 0 exactly;
- "w updated in place" returns the right values: it is caught by checking the arguments after
  the call, and this entry supplies its hint.
"""

import numpy as np

from grader.authoring import Mistake


def _step(z):
    return np.where(np.asarray(z) >= 0, 1.0, 0.0)


def _sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --- step ------------------------------------------------------------------------------------


def step_strict(z):
    return np.where(np.asarray(z) > 0, 1.0, 0.0)


def step_sign(z):
    return np.where(np.asarray(z) >= 0, 1.0, -1.0)


# --- sigmoid ---------------------------------------------------------------------------------


def sigmoid_flipped(z):
    return _sigmoid(-np.asarray(z, dtype=np.float64))  # 1 / (1 + exp(+z))


# --- perceptron_predict ----------------------------------------------------------------------


def predict_no_bias(X, w, b):
    return _step(np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64))


def predict_bias_subtracted(X, w, b):
    return _step(np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) - b)


def predict_raw_scores(X, w, b):
    return np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b


def predict_sigmoid(X, w, b):
    return _sigmoid(np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b)


# --- perceptron_update -----------------------------------------------------------------------


def update_in_place(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    error = y - float(_step(w @ x + b))
    w += lr * error * x  # modifies the caller's array
    b += lr * error
    return w, b


def update_sign_flipped(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    error = float(_step(w @ x + b)) - y  # (yhat - y): pushes the wrong way
    return w + lr * error * x, float(b) + lr * error


def update_raw_z(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    error = y - float(w @ x + b)  # the delta (LMS) rule: no step
    return w + lr * error * x, float(b) + lr * error


def update_no_bias(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    error = y - float(_step(w @ x + b))
    return w + lr * error * x, float(b)


def update_hebbian(x, y, w, b, lr):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    return w + lr * y * x, float(b) + lr * y  # updates even when the example is right


# --- train_perceptron ------------------------------------------------------------------------


def _rule(x, y, w, b, lr):
    error = y - float(_step(w @ x + b))
    return w + lr * error * x, b + lr * error


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


# --- sigmoid_neuron_grad ---------------------------------------------------------------------


def neuron_grad_lecture_sign(x, y, w, b):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    y_hat = float(_sigmoid(w @ x + b))
    delta = (y - y_hat) * y_hat * (1.0 - y_hat)  # the slide's (y - yhat): the negative gradient
    return delta * x, delta


def neuron_grad_no_sigma_prime(x, y, w, b):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    delta = float(_sigmoid(w @ x + b)) - y
    return delta * x, delta


def neuron_grad_sigma_prime_of_z(x, y, w, b):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    z = float(w @ x + b)
    delta = (float(_sigmoid(z)) - y) * z * (1.0 - z)  # z(1 - z) instead of s(1 - s)
    return delta * x, delta


# --- sigmoid_neuron_step ---------------------------------------------------------------------


def _true_grad(x, y, w, b):
    y_hat = float(_sigmoid(w @ x + b))
    delta = (y_hat - y) * y_hat * (1.0 - y_hat)
    return delta * x, delta


def neuron_step_uphill(x, y, w, b, lr):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    dw, db = _true_grad(x, y, w, b)
    return w + lr * dw, float(b) + lr * db


def neuron_step_no_sigma_prime(x, y, w, b, lr):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    delta = float(_sigmoid(w @ x + b)) - y
    return w - lr * delta * x, float(b) - lr * delta


_SIGN_BOX = "(the handout's box 'The lecture's sign' derives it)"

MISTAKES: list[Mistake] = [
    Mistake(
        module="perceptron",
        function="step",
        name="step(0) = 0",
        hint=(
            "Your step returns 0 at z = 0, but the perceptron's step is 1 where z >= 0 (lecture: "
            "'1 if z >= 0'). Use `z >= 0`, not `z > 0`. It matters: from w = 0, b = 0 every first "
            "prediction is step(0)."
        ),
        impl=step_strict,
    ),
    Mistake(
        module="perceptron",
        function="step",
        name="sign (+1/-1) instead of step (1/0)",
        hint=(
            "Your step returns -1 for negative z. In this course the labels are 0 and 1, so the "
            "step is 1.0 where z >= 0 and 0.0 elsewhere (np.where(z >= 0, 1.0, 0.0))."
        ),
        impl=step_sign,
    ),
    Mistake(
        module="perceptron",
        function="sigmoid",
        name="exp(+z) instead of exp(-z)",
        hint=(
            "Your sigmoid computes 1/(1 + exp(z)) = sigma(-z) = 1 - sigma(z): it decreases. "
            "sigma(z) = 1/(1 + exp(-z)); check: sigma(0.52) ~ 0.627 (the lecture's example). For "
            "no overflow use exp(-|z|): 1/(1+e) where z >= 0 and e/(1+e) where z < 0."
        ),
        impl=sigmoid_flipped,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_predict",
        name="bias forgotten",
        hint=(
            "Your predictions ignore b. The perceptron predicts step(w^T x + b) for each row: "
            "step(X @ w + b)."
        ),
        impl=predict_no_bias,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_predict",
        name="bias subtracted (threshold form)",
        hint=(
            "You computed step(X @ w - b): that treats b as a threshold. In this course b is a "
            "bias that is added: step(X @ w + b)."
        ),
        impl=predict_bias_subtracted,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_predict",
        name="scores returned without the step",
        hint=(
            "You return X @ w + b, the raw scores z. The prediction is the class: apply step, "
            "1.0 where z >= 0, else 0.0."
        ),
        impl=predict_raw_scores,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_predict",
        name="sigmoid instead of step",
        hint=(
            "You return sigmoid(X @ w + b). The perceptron's prediction uses the step function "
            "(0 or 1), not the sigmoid."
        ),
        impl=predict_sigmoid,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_update",
        name="w updated in place",
        hint=(
            "Your perceptron_update changes the caller's w (w += ... or w[...] = ...). Return a "
            "new array instead: w_new = w + lr * (y - yhat) * x. In-place updates silently "
            "change arrays the caller still uses (e.g. the previous weights you wanted to keep)."
        ),
        impl=update_in_place,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_update",
        name="error sign flipped (yhat - y)",
        hint=(
            "Your update moves w the wrong way: you used (yhat - y). The perceptron rule is "
            "w + lr * (y - yhat) * x and b + lr * (y - yhat): a missed positive (y=1, yhat=0) "
            "must add x to w."
        ),
        impl=update_sign_flipped,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_update",
        name="raw z instead of step(z) (delta rule)",
        hint=(
            "You used yhat = w @ x + b without the step: that is the LMS / delta rule, not the "
            "perceptron rule. Take yhat = step(w @ x + b), so correct examples give y - yhat = 0 "
            "and change nothing."
        ),
        impl=update_raw_z,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_update",
        name="bias not updated",
        hint=(
            "Your b never changes. The bias learns too: b_new = b + lr * (y - yhat) (it is the "
            "weight of a constant input 1)."
        ),
        impl=update_no_bias,
    ),
    Mistake(
        module="perceptron",
        function="perceptron_update",
        name="y instead of (y - yhat)",
        hint=(
            "Your update adds lr * y * x whatever the prediction was. The perceptron only learns "
            "from its errors: use (y - yhat), which is 0 for a correctly classified example."
        ),
        impl=update_hebbian,
    ),
    Mistake(
        module="perceptron",
        function="train_perceptron",
        name="errors counted after the update",
        hint=(
            "Your errors[e] counts examples misclassified by the weights *after* their own update. "
            "Judge each example before updating: if step(w @ x_i + b) != y_i, count it, then call "
            "perceptron_update."
        ),
        impl=train_errors_after_update,
    ),
    Mistake(
        module="perceptron",
        function="train_perceptron",
        name="errors counted at the end of the epoch",
        hint=(
            "Your errors[e] counts mistakes of the final weights of the epoch (a predict over all "
            "of X after the loop). Count during the epoch instead: each example judged just "
            "before its own update. That also changes when training stops."
        ),
        impl=train_errors_end_of_epoch,
    ),
    Mistake(
        module="perceptron",
        function="train_perceptron",
        name="does not stop after an error-free epoch",
        hint=(
            "Your training always runs max_epochs epochs. Stop right after the first epoch with 0 "
            "errors (record that 0 first): len(errors) is the number of epochs actually run."
        ),
        impl=train_never_stops,
    ),
    Mistake(
        module="perceptron",
        function="train_perceptron",
        name="error-free epoch not recorded",
        hint=(
            "Your errors list stops before the epoch with 0 errors. Append the epoch's count "
            "first, then break if it is 0: on separable data errors[-1] must be 0."
        ),
        impl=train_last_epoch_missing,
    ),
    Mistake(
        module="perceptron",
        function="sigmoid_neuron_grad",
        name="the lecture's sign: negated gradient",
        hint=(
            "Your gradient has the wrong sign: you used (y - yhat), as on the lecture's slide. "
            "With L = 0.5 (y - yhat)^2, dL/dyhat = -(y - yhat) = (yhat - y), so "
            f"dw = (yhat - y) * sigma'(z) * x and db = (yhat - y) * sigma'(z) {_SIGN_BOX}."
        ),
        impl=neuron_grad_lecture_sign,
    ),
    Mistake(
        module="perceptron",
        function="sigmoid_neuron_grad",
        name="sigma'(z) forgotten",
        hint=(
            "Your gradient lacks the sigmoid's derivative. Chain rule: dL/dz = (yhat - y) * "
            "sigma'(z) with sigma'(z) = sigma(z) (1 - sigma(z)); then dw = dL/dz * x, db = dL/dz."
        ),
        impl=neuron_grad_no_sigma_prime,
    ),
    Mistake(
        module="perceptron",
        function="sigmoid_neuron_grad",
        name="sigma' computed as z(1 - z)",
        hint=(
            "You computed sigma'(z) as z * (1 - z). The formula s(1 - s) holds for s = sigma(z), "
            "the output, not for z: use yhat * (1 - yhat)."
        ),
        impl=neuron_grad_sigma_prime_of_z,
    ),
    Mistake(
        module="perceptron",
        function="sigmoid_neuron_step",
        name="steps uphill (w + lr * grad)",
        hint=(
            "Your step increases the loss. Gradient descent goes against the gradient: "
            "w_new = w - lr * dL/dw with dL/dw = (yhat - y) sigma'(z) x. Writing the lecture's "
            "w - lr (y - yhat) sigma'(z) x, or w + lr * dL/dw, climbs uphill "
            f"{_SIGN_BOX}."
        ),
        impl=neuron_step_uphill,
    ),
    Mistake(
        module="perceptron",
        function="sigmoid_neuron_step",
        name="sigma'(z) forgotten in the step",
        hint=(
            "Your step uses (yhat - y) * x without sigma'(z). The gradient of "
            "0.5 (y - sigma(z))^2 is (yhat - y) * sigma(z)(1 - sigma(z)) * x; reuse "
            "sigmoid_neuron_grad."
        ),
        impl=neuron_step_no_sigma_prime,
    ),
]
