"""Hidden checks of softplus: the notebook's `### BEGIN HIDDEN TESTS` part, and more inputs."""

import numpy as np

from grader.checks.build import Checks
from grader.checks.numgrad import elementwise_derivative

c = Checks("softplus")
Z = np.linspace(-3.0, 3.0, 7)

CHECKS = [
    c.close("softplus", "large negative entries give 0, not nan", np.array([-30.0, -1e3, -1e4])),
    c.close("softplus_grad", "a vector across both signs, up to |z| = 1e4",
            np.array([-1e4, -5.0, -0.5, 0.5, 5.0, 1e4])),
    c.gradient("softplus_grad", "central differences of the reference's softplus", Z,
               expect=lambda ref: elementwise_derivative(ref.module("softplus").softplus, Z)),
]
