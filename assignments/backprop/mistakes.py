"""Known wrong implementations of the `backprop` module (assignment 3).

Each mistake is declared on its wrong implementation, `@MISTAKES.mistake(function, name, hint)`:
the function has the signature of the API function it imitates and computes the wrong output a
student with that bug would get. When a student's output equals a mistake's output, the grader
shows the mistake's hint; it runs a function's mistakes in the order they are declared here.
The impls are self-contained NumPy (no reference, no `forward` import): a mistake must not
change when another module changes. Helpers shared by several mistakes are plain private
functions.

Most mistakes differ from the reference on generic inputs. Some need a particular input:
- "dW transposed" and "dA_prev uses W.T" differ in shape unless the layer is square; only for
  square layers is the match made on values;
- "mean over every entry" (MSE, cross-entropy) needs more than one output column;
- "the wrong layer's activation" needs neighbouring layers with different activations;
- "softmax treated element-wise" needs loss="mse" with a softmax output;
- "x not restored" / "x restored by arithmetic" are caught by checking x after the call;
  "perturbs a copy of x" only shows with an f that reads x through a closure;
- "no 1e-8 guard" only differs where a and b are both (near) zero.
"""

import numpy as np

from grader.authoring import Catalog

MISTAKES = Catalog("backprop")


# --- private helpers: the forward pieces the wrong impls need ---------------------------------


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_G = {
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
}
_DG = {
    "sigmoid": lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)),
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "relu": lambda z: (z > 0).astype(np.float64),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.01),
    "linear": lambda z: np.ones_like(z),
}
# the derivative written in terms of the output a = g(z), e.g. sigmoid' = a (1 - a)
_DG_OF_A = {
    "sigmoid": lambda a: a * (1.0 - a),
    "tanh": lambda a: 1.0 - a**2,
    "relu": lambda a: (a > 0).astype(np.float64),
    "leaky_relu": lambda a: np.where(a > 0, 1.0, 0.01),
    "linear": lambda a: np.ones_like(a),
}


def _f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


# --- losses -----------------------------------------------------------------------------------


@MISTAKES.mistake("mse_loss", "missing 0.5",
                  "Your MSE is twice the expected value: the 0.5 is missing. This course's MSE is "
                  "(1/m) * sum_i 0.5 * ||yhat_i - y_i||^2; the 0.5 makes its gradient (Yhat - Y)/m.")
def mse_no_half(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return float(np.sum((Y_hat - Y) ** 2) / Y_hat.shape[0])


@MISTAKES.mistake("mse_loss", "summed instead of averaged",
                  "Your MSE is m times too large: you summed over the batch. Divide by m = "
                  "Y_hat.shape[0] (the number of examples): the loss is a mean over the batch.")
def mse_summed(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return float(0.5 * np.sum((Y_hat - Y) ** 2))


@MISTAKES.mistake("mse_loss", "mean over every entry (np.mean)",
                  "np.mean divides by m * k (every entry), but the loss is a mean over examples only: "
                  "0.5 * np.sum((Y_hat - Y)**2) / m with m = Y_hat.shape[0]. The two agree only "
                  "for a single output column.")
def mse_mean_all_entries(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return float(0.5 * np.mean((Y_hat - Y) ** 2))


@MISTAKES.mistake("mse_loss", "differences not squared",
                  "Square each difference before summing: 0.5 * np.sum((Y_hat - Y) ** 2) / m. Summed "
                  "unsquared, errors of opposite signs cancel and the loss can be negative.")
def mse_not_squared(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return float(0.5 * np.sum(Y_hat - Y) / Y_hat.shape[0])


@MISTAKES.mistake("mse_loss_grad", "missing 1/m",
                  "Your gradient is m times too large: the 1/m of the mean is missing. "
                  "d/dYhat of (1/m) sum_i 0.5 ||yhat_i - y_i||^2 is (Y_hat - Y) / m.")
def mse_grad_no_m(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return Y_hat - Y


@MISTAKES.mistake("mse_loss_grad", "divided by every entry (m * k)",
                  "You divided by Y_hat.size (m * k). The mean is over the m examples only: "
                  "(Y_hat - Y) / Y_hat.shape[0].")
def mse_grad_all_entries(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return (Y_hat - Y) / Y_hat.size


@MISTAKES.mistake("mse_loss_grad", "sign flipped",
                  "Your gradient has the wrong sign: d/dyhat of 0.5 (yhat - y)^2 is +(yhat - y). "
                  "Return (Y_hat - Y) / m; (Y - Y_hat) would make gradient descent climb.")
def mse_grad_sign(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return (Y - Y_hat) / Y_hat.shape[0]


@MISTAKES.mistake("mse_loss_grad", "factor 2 kept",
                  "Your gradient is twice too large: with the 0.5 in the loss, the 2 of the square "
                  "cancels. The gradient is (Y_hat - Y) / m.")
def mse_grad_times_two(Y_hat, Y):
    Y_hat, Y = _f64(Y_hat, Y)
    return 2.0 * (Y_hat - Y) / Y_hat.shape[0]


def _log(P):
    return np.log(np.maximum(P, np.finfo(np.float64).tiny))


@MISTAKES.mistake("cross_entropy_loss", "summed instead of averaged",
                  "Your cross-entropy is m times too large: divide the sum by m = P.shape[0]. "
                  "L = -(1/m) * sum_i sum_k Y_ik log P_ik.")
def ce_summed(P, Y):
    P, Y = _f64(P, Y)
    return float(-np.sum(Y * _log(P)))


@MISTAKES.mistake("cross_entropy_loss", "mean over every entry (np.mean)",
                  "np.mean(Y * np.log(P)) divides by m * K (every entry). Sum over the classes, mean "
                  "over the examples: -np.sum(Y * np.log(P)) / P.shape[0].")
def ce_mean_all_entries(P, Y):
    P, Y = _f64(P, Y)
    return float(-np.mean(Y * _log(P)))


@MISTAKES.mistake("cross_entropy_loss", "minus sign forgotten",
                  "Your loss is negative: log(P) <= 0, so the cross-entropy needs its minus sign: "
                  "L = -(1/m) sum Y log P >= 0.")
def ce_no_minus(P, Y):
    P, Y = _f64(P, Y)
    return float(np.sum(Y * _log(P)) / P.shape[0])


@MISTAKES.mistake("cross_entropy_loss", "binary cross-entropy formula",
                  "You used the binary formula with (1 - Y) log(1 - P). For a softmax over K classes "
                  "the categorical cross-entropy has only the -Y log P term: "
                  "-(1/m) sum_i sum_k Y_ik log P_ik.")
def ce_binary_formula(P, Y):
    P, Y = _f64(P, Y)
    return float(-np.sum(Y * _log(P) + (1.0 - Y) * _log(1.0 - P)) / P.shape[0])


@MISTAKES.mistake("softmax_cross_entropy_grad", "missing 1/m",
                  "Your gradient is m times too large: the loss is a mean over the batch, so "
                  "dL/dZ = (P - Y) / m with m = P.shape[0].")
def ce_grad_no_m(P, Y):
    P, Y = _f64(P, Y)
    return P - Y


@MISTAKES.mistake("softmax_cross_entropy_grad", "sign flipped",
                  "Your gradient has the wrong sign. dL/dZ = (P - Y) / m: raising the score of the true "
                  "class lowers the loss, so that entry (P - 1) must be negative.")
def ce_grad_sign(P, Y):
    P, Y = _f64(P, Y)
    return (Y - P) / P.shape[0]


@MISTAKES.mistake("softmax_cross_entropy_grad", "gradient with respect to P, not Z",
                  "You returned -Y / (m P), the gradient with respect to the probabilities P. This "
                  "function returns the gradient with respect to the softmax's input Z, where the "
                  "softmax Jacobian simplifies everything to (P - Y) / m.")
def ce_grad_wrt_p(P, Y):
    P, Y = _f64(P, Y)
    return -Y / np.maximum(P, np.finfo(np.float64).tiny) / P.shape[0]


# --- activation_backward, dense_backward ------------------------------------------------------


@MISTAKES.mistake("activation_backward", "g(Z) instead of g'(Z)",
                  "You multiplied dA by the activation g(Z) itself. The chain rule needs its derivative: "
                  "dZ = dA * g'(Z) (e.g. sigmoid_grad(Z), tanh_grad(Z) from forward.py).")
def act_back_g_not_gprime(dA, Z, activation):
    dA, Z = _f64(dA, Z)
    return dA * _G[activation](Z)


@MISTAKES.mistake("activation_backward", "dA forgotten",
                  "You returned g'(Z) alone. The chain rule multiplies the incoming gradient: "
                  "dZ = dA * g'(Z), element-wise.")
def act_back_no_dA(dA, Z, activation):
    dA, Z = _f64(dA, Z)
    return _DG[activation](Z) * np.ones_like(dA)


@MISTAKES.mistake("activation_backward", "derivative in terms of A, fed Z",
                  "You applied a derivative formula written for the output A to Z, e.g. Z * (1 - Z) for "
                  "the sigmoid or 1 - Z**2 for tanh. Those formulas need A = g(Z): sigmoid'(Z) = "
                  "s (1 - s) with s = sigmoid(Z). Use forward.sigmoid_grad(Z), forward.tanh_grad(Z).")
def act_back_formula_of_a_at_z(dA, Z, activation):
    dA, Z = _f64(dA, Z)
    return dA * _DG_OF_A[activation](Z)  # e.g. Z (1 - Z) for sigmoid


@MISTAKES.mistake("dense_backward", "dW transposed",
                  "Your dW is the transpose of the right one: A_prev.T @ dZ has shape (n_in, n_out). "
                  "dW must have W's shape (n_out, n_in): dW = dZ.T @ A_prev.")
def dense_dW_transposed(dZ, A_prev, W):
    dZ, A_prev, W = _f64(dZ, A_prev, W)
    return dZ @ W, A_prev.T @ dZ, dZ.sum(axis=0)


@MISTAKES.mistake("dense_backward", "db not summed over the batch",
                  "Your db is dZ itself, shape (m, n_out). b is added to every row of the batch, so its "
                  "gradient sums over the rows: db = dZ.sum(axis=0), shape (n_out,).")
def dense_db_not_summed(dZ, A_prev, W):
    dZ, A_prev, W = _f64(dZ, A_prev, W)
    return dZ @ W, dZ.T @ A_prev, dZ.copy()


@MISTAKES.mistake("dense_backward", "db summed over the wrong axis",
                  "You summed dZ over axis=1 (the units). b has one entry per unit, so sum over the "
                  "examples: db = dZ.sum(axis=0), shape (n_out,).")
def dense_db_wrong_axis(dZ, A_prev, W):
    dZ, A_prev, W = _f64(dZ, A_prev, W)
    return dZ @ W, dZ.T @ A_prev, dZ.sum(axis=1)


@MISTAKES.mistake("dense_backward", "db averaged (extra 1/m)",
                  "Your db is m times too small: you took the mean over the batch. The 1/m is already "
                  "inside dZ (it came from the loss gradient); here just sum: db = dZ.sum(axis=0).")
def dense_db_averaged(dZ, A_prev, W):
    dZ, A_prev, W = _f64(dZ, A_prev, W)
    return dZ @ W, dZ.T @ A_prev, dZ.mean(axis=0)


@MISTAKES.mistake("dense_backward", "dW and db averaged (extra 1/m)",
                  "Your dW and db are m times too small: the 1/m is already inside dZ (it came from "
                  "the loss gradient). Do not divide again: dW = dZ.T @ A_prev, db = dZ.sum(axis=0).")
def dense_dW_averaged(dZ, A_prev, W):
    dZ, A_prev, W = _f64(dZ, A_prev, W)
    m = dZ.shape[0]
    return dZ @ W, dZ.T @ A_prev / m, dZ.sum(axis=0) / m


@MISTAKES.mistake("dense_backward", "dA_prev uses W.T",
                  "Your dA_prev multiplies by W.T. Since Z = A_prev @ W.T + b, dL/dA_prev = dZ @ W, "
                  "shape (m, n_in) (the lecture's W^T delta, with examples as rows).")
def dense_dA_with_WT(dZ, A_prev, W):
    dZ, A_prev, W = _f64(dZ, A_prev, W)
    return dZ @ W.T, dZ.T @ A_prev, dZ.sum(axis=0)


# --- backward: one loop, with a switch per flaw -----------------------------------------------


def _backward(Y, cache, params, activations, loss, flaw=None):
    """The correct backward pass, except for the one `flaw` named."""
    L = len(activations)
    Y = np.asarray(Y, dtype=np.float64)
    c = {k: np.asarray(v, dtype=np.float64) for k, v in cache.items()}
    A_L = c[f"A{L}"]
    m = 1 if flaw == "summed loss" else A_L.shape[0]
    if loss == "cross_entropy":
        if activations[-1] != "softmax":
            raise ValueError("cross_entropy needs a softmax output")
        delta = (A_L - Y) / m
        if flaw == "softmax twice":
            delta = delta * A_L * (1.0 - A_L)
    elif loss == "mse":
        dA = (A_L - Y) / m
        if flaw == "no output derivative":
            delta = dA
        elif activations[-1] == "softmax":
            if flaw == "softmax element-wise":
                delta = dA * A_L * (1.0 - A_L)
            else:
                delta = A_L * (dA - np.sum(dA * A_L, axis=1, keepdims=True))
        elif flaw == "g' at A":
            delta = dA * _DG[activations[-1]](A_L)  # e.g. sigmoid_grad(A) for sigmoid_grad(Z)
        else:
            delta = dA * _DG[activations[-1]](c[f"Z{L}"])
    else:
        raise ValueError(f"unknown loss {loss!r}")
    grads = {}
    for layer in range(L, 0, -1):
        W = np.asarray(params[f"W{layer}"], dtype=np.float64)
        grads[f"W{layer}"] = delta.T @ c[f"A{layer - 1}"]
        grads[f"b{layer}"] = delta.sum(axis=0)
        if layer > 1:
            dA_prev = delta @ W
            name = activations[layer - 2]
            if flaw == "off by one":
                name = activations[layer - 1]  # layer l's activation applied to Z^(l-1)
            if flaw == "no hidden derivative":
                delta = dA_prev
            elif flaw == "g' at A":
                delta = dA_prev * _DG[name](c[f"A{layer - 1}"])
            else:
                delta = dA_prev * _DG[name](c[f"Z{layer - 1}"])
    return {key: grads[key] for key in params}


@MISTAKES.mistake("backward", "output-activation derivative forgotten",
                  "Your output error is dL/dA^(L) = (Yhat - Y)/m, without the output activation's "
                  "derivative. With MSE, delta^(L) = (Yhat - Y)/m * g_L'(Z^(L)) (for softmax: the "
                  "Jacobian product, see the handout). Only softmax + cross-entropy gives (P - Y)/m "
                  "alone.")
def backward_no_output_derivative(Y, cache, params, activations, loss="mse"):
    return _backward(Y, cache, params, activations, loss, "no output derivative")


@MISTAKES.mistake("backward", "the wrong layer's activation (off by one)",
                  "You used the activation of layer l for Z^(l-1). Going back from layer l to l-1, "
                  "delta^(l-1) = (delta^(l) @ W^(l)) * g'_{l-1}(Z^(l-1)), and layer l-1's name is "
                  "activations[l - 2] (the list is 0-based, layers are 1-based).")
def backward_off_by_one(Y, cache, params, activations, loss="mse"):
    return _backward(Y, cache, params, activations, loss, "off by one")


@MISTAKES.mistake("backward", "g' evaluated at A instead of Z",
                  "You evaluated the derivative at the activation A^(l) instead of the pre-activation "
                  "Z^(l): use cache['Z' + str(l)] with forward's *_grad functions, which take Z.")
def backward_gprime_at_A(Y, cache, params, activations, loss="mse"):
    return _backward(Y, cache, params, activations, loss, "g' at A")


@MISTAKES.mistake("backward", "hidden-layer derivative forgotten",
                  "Between layers you passed dA_prev = delta @ W straight on as the next delta. Each "
                  "hidden layer's activation needs its derivative: "
                  "delta^(l-1) = (delta^(l) @ W^(l)) * g'(Z^(l-1)).")
def backward_no_hidden_derivative(Y, cache, params, activations, loss="mse"):
    return _backward(Y, cache, params, activations, loss, "no hidden derivative")


@MISTAKES.mistake("backward", "gradient of the summed loss (missing 1/m)",
                  "Your gradients are m times too large: they are those of the summed loss. The loss is "
                  "a mean over the batch; start from mse_loss_grad / softmax_cross_entropy_grad, which "
                  "include the 1/m.")
def backward_summed_loss(Y, cache, params, activations, loss="mse"):
    return _backward(Y, cache, params, activations, loss, "summed loss")


@MISTAKES.mistake("backward", "softmax derivative applied after (P - Y)/m",
                  "With cross-entropy you multiplied (P - Y)/m by P(1 - P) again. (P - Y)/m already is "
                  "dL/dZ^(L): the softmax's Jacobian is inside it. Use it as delta^(L) directly.")
def backward_softmax_twice(Y, cache, params, activations, loss="mse"):
    return _backward(Y, cache, params, activations, loss, "softmax twice")


@MISTAKES.mistake("backward", "softmax treated element-wise (mse)",
                  "With MSE and a softmax output you used P(1 - P) as if softmax were element-wise. "
                  "Each softmax output depends on every z in its row; use the Jacobian product "
                  "dZ = P * (dA - sum(dA * P, axis=1, keepdims=True)).")
def backward_softmax_elementwise(Y, cache, params, activations, loss="mse"):
    return _backward(Y, cache, params, activations, loss, "softmax element-wise")


# --- numerical_gradient -----------------------------------------------------------------------


@MISTAKES.mistake("numerical_gradient", "forward instead of centred differences",
                  "You used (f(x + h) - f(x)) / h, whose error is O(h). Use centred differences, "
                  "(f(x + h e_i) - f(x - h e_i)) / (2h), error O(h^2): about 1e-10 instead of 1e-5.")
def numgrad_forward_difference(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(*np.shape(x)):
        old = x[idx]
        f0 = float(f(x))
        x[idx] = old + h
        f_plus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f0) / h
    return grad


@MISTAKES.mistake("numerical_gradient", "x not restored",
                  "Your numerical_gradient leaves x changed (each entry ends at x_i - h). Save "
                  "old = x[idx] before perturbing and put it back, x[idx] = old, after the two "
                  "evaluations (a try/finally keeps it safe even if f raises).")
def numgrad_not_restored(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(*np.shape(x)):
        old = x[idx]
        x[idx] = old + h
        f_plus = float(f(x))
        x[idx] = old - h
        f_minus = float(f(x))
        grad[idx] = (f_plus - f_minus) / (2 * h)  # x[idx] is left at old - h
    return grad


@MISTAKES.mistake("numerical_gradient", "x restored by arithmetic, not exactly",
                  "You restore x by adding h back (x + h - 2h + h), which is not always exactly x in "
                  "floating point. Save old = x[idx] and assign it back: x[idx] = old.")
def numgrad_restored_by_arithmetic(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(*np.shape(x)):
        x[idx] += h
        f_plus = float(f(x))
        x[idx] -= 2 * h
        f_minus = float(f(x))
        x[idx] += h  # (x + h - 2h) + h is not always exactly x
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


@MISTAKES.mistake("numerical_gradient", "divided by h instead of 2h",
                  "Your gradient is twice too large: the centred difference spans from x - h to x + h, "
                  "a distance of 2h. Divide by 2 * h.")
def numgrad_over_h(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(*np.shape(x)):
        old = x[idx]
        x[idx] = old + h
        f_plus = float(f(x))
        x[idx] = old - h
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / h
    return grad


@MISTAKES.mistake("numerical_gradient", "perturbs a copy of x",
                  "You perturb a copy of x, so an f that reads x through a closure (e.g. "
                  "lambda _: loss(params) with x = params['W1']) never sees the change and your "
                  "gradient is 0. Perturb x itself, in place, and restore it exactly.")
def numgrad_perturbs_copy(f, x, h=1e-5):
    xc = np.array(x, dtype=np.float64)
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(*np.shape(x)):
        old = xc[idx]
        xc[idx] = old + h
        f_plus = float(f(xc))
        xc[idx] = old - h
        f_minus = float(f(xc))
        xc[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


# --- relative_error ---------------------------------------------------------------------------


@MISTAKES.mistake("relative_error", "no 1e-8 guard in the denominator",
                  "Where a and b are both 0 you divide 0 by 0 and get nan. Guard the denominator: "
                  "np.maximum(1e-8, np.abs(a) + np.abs(b)).")
def relerr_no_guard(a, b):
    a, b = _f64(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


@MISTAKES.mistake("relative_error", "max(|a|, |b|) instead of |a| + |b|",
                  "Your denominator is max(|a|, |b|). This course's relative error divides by the sum: "
                  "|a - b| / max(1e-8, |a| + |b|).")
def relerr_max_not_sum(a, b):
    a, b = _f64(a, b)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))


@MISTAKES.mistake("relative_error", "|a + b| instead of |a| + |b|",
                  "Your denominator is |a + b|, which can be 0 when a = -b. Use |a| + |b|: "
                  "np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)).")
def relerr_abs_of_sum(a, b):
    a, b = _f64(a, b)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))


@MISTAKES.mistake("relative_error", "array returned, not its max",
                  "You returned the element-wise errors. relative_error returns one number, the "
                  "largest of them, as a Python float: float(np.max(...)).")
def relerr_no_max(a, b):
    a, b = _f64(a, b)
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


@MISTAKES.mistake("relative_error", "mean instead of max",
                  "You averaged the element-wise errors. Take the max: one wrong entry among many right "
                  "ones must not hide in an average.")
def relerr_mean(a, b):
    a, b = _f64(a, b)
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@MISTAKES.mistake("relative_error", "norm-based relative error",
                  "You computed ||a - b|| / (||a|| + ||b||) over whole arrays. This course's version is "
                  "element-wise, then the max: max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|).")
def relerr_norms(a, b):
    a, b = _f64(a, b)
    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))
