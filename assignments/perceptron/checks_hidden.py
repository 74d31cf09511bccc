"""Hidden checks of the perceptron assignment: run only when the instructor grades.

They repeat the visible checks on other inputs (matrices, batches of one, float32, |z| up to
1e4, other learning rates, NAND) so that an implementation tuned to the visible inputs does not
pass by accident, and check that no function modifies its inputs.
"""

import numpy as np

from grader.authoring import EXACT, FLOAT32, Checks, Unchanged, sibling

visible = sibling(__file__, "checks_visible")
c = Checks("perceptron")
rng = np.random.default_rng(1_2024)

Z_mat = rng.normal(0.0, 3.0, size=(4, 5))
Z_f32 = rng.normal(0.0, 3.0, size=(3, 4)).astype(np.float32)
# -0.0 >= 0 is True in IEEE arithmetic: step(-0.0) = 1, like step(0.0).
Z_zeros = np.array([[0.0, -1.0, -0.0], [3.0, 0.0, -1e-12]])
# Overflow: exp(1e4) is inf. The values are exactly 0 and 1 in float64 (no nan).
Z_huge = np.array([[-1e4, -800.0, -30.0], [30.0, 800.0, 1e4]])

# Integer data and lr in {0.5, 1, 2}: every value stays an exact binary float (see checks_visible).
X6 = np.array([[2.0, 1.0, 0.0], [0.0, -1.0, 1.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 1.0], [1.0, -1.0, -1.0],
               [0.0, 0.0, 2.0]])
w3 = np.array([1.0, -1.0, 0.5])

# Generic neurons: |z| < 2 (sigma' not small), y anywhere in [0, 1].
NEURONS = [
    (rng.normal(size=5), 0.3, rng.normal(0.0, 0.3, size=5), -0.2),
    (np.array([2.0]), 0.0, np.array([-0.5]), 0.4),
    (rng.normal(size=4), 1.0, rng.normal(0.0, 0.3, size=4), 0.5),
]
x_f32, w_f32 = rng.normal(size=4).astype(np.float32), rng.normal(0.0, 0.3, size=4).astype(np.float32)

CHECKS = [
    c.close("step", "a matrix with z == 0, -0.0 and -1e-12", Z_zeros),
    c.close("step", "values on a random matrix", Z_mat),
    c.close("step", "float32 input", Z_f32),
    c.close("step", "a negative number gives 0", -2.5, expect=visible.scalar("step", -2.5)),
    c.unchanged("step", Z_mat.copy()),
    c.close("sigmoid", "values on a matrix", Z_mat),
    c.clean(c.close("sigmoid", "|z| up to 1e4: exactly 0 and 1, no nan", Z_huge, points=2),
            hint=visible.OVERFLOW_HINT, mistake=visible.OVERFLOW),
    c.close("sigmoid", "float32 input", Z_f32, tol=FLOAT32),
    c.unchanged("sigmoid", Z_mat.copy()),
    visible.unnamed("perceptron_predict", "a batch of one example", X6[:1], w3, -1.5),
    c.close("perceptron_predict", "six examples, three inputs, two on the boundary", X6, w3, -0.5),
    c.close("perceptron_predict", "float32 inputs", X6.astype(np.float32), w3.astype(np.float32), 0.25),
    c.unchanged("perceptron_predict", X6, w3, -0.5),
    c.close("perceptron_update", "a false positive with lr = 2 moves w and b by 2 * x and 2",
            X6[2], 0, w3, 0.0, 2.0),
    # w @ x + b = 0 exactly and y = 1: yhat = step(0) = 1 is right, nothing changes.
    visible.unnamed("perceptron_update", "z == 0 with y = 1 is correct: nothing changes",
                    X6[0], 1.0, w3, -1.0, 1.0, note=visible.STEP0_NOTE),
    c.close("perceptron_update", "one input", np.array([3.0]), 1, np.array([-1.0]), 0.5, 0.5),
    c.close("perceptron_update", "float32 inputs", X6[1].astype(np.float32), 1, w3.astype(np.float32), -1.0,
            1.0, tol=FLOAT32),
    c.close("train_perceptron", "NAND with lr = 1: w, b and errors exactly", visible.LOGIC_X, visible.NAND,
            lr=1.0, tol=EXACT, points=2),
    c.close("train_perceptron", "AND with lr = 0.5: w, b and errors exactly", visible.LOGIC_X, visible.AND,
            lr=0.5, tol=EXACT),
    c.close("train_perceptron", "OR with max_epochs = 2 stops before separating", visible.LOGIC_X, visible.OR,
            lr=1.0, max_epochs=2, tol=EXACT),
    # Labels chosen so that every catalogued way of counting errors gives a different result.
    c.close("train_perceptron", "six separable examples in three dimensions, lr = 2", X6,
            np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0]), lr=2.0, tol=EXACT),
    c.satisfies("train_perceptron", "XOR with the default max_epochs = 100", visible.LOGIC_X, visible.XOR,
                predicate=visible.never_separates(100)),
    c.unchanged("train_perceptron", visible.LOGIC_X, visible.AND),
    *(c.gradient("sigmoid_neuron_grad", f"central differences of L, neuron {i + 1}", *n,
                 expect=visible.neuron_gradient(*n)) for i, n in enumerate(NEURONS)),
    c.close("sigmoid_neuron_grad", "float32 inputs", x_f32, 0.7, w_f32, 0.1, tol=FLOAT32),
    c.unchanged("sigmoid_neuron_grad", *NEURONS[0]),
    c.close("sigmoid_neuron_step", "values for five inputs, lr = 0.1", *NEURONS[0], 0.1),
    c.satisfies("sigmoid_neuron_step", "one step with lr = 0.1 lowers the loss of one input",
                *NEURONS[1], 0.1,
                predicate=visible.lowers_loss(*NEURONS[1]), hint=visible.SIGN_HINT),
    c.close("sigmoid_neuron_step", "float32 inputs", x_f32, 0.7, w_f32, 0.1, 0.5, tol=FLOAT32),
    c.check("sigmoid_neuron_step", "returns a new w and leaves the caller's w unchanged",
            Unchanged(c.call("sigmoid_neuron_step", *NEURONS[2], 0.5), mistakes=True)),
]
