"""The one module an assignment imports: checks, judges, tolerances, gradients and mistakes.

An assignment's `checks_visible.py` / `checks_hidden.py` build its checks with `Checks`, and its
`mistakes.py` declares the known wrong implementations. Everything they need is named here, so
the engine's modules can move without touching a course:

    from grader.authoring import Checks, Close, Gradient, VALUE, elementwise_derivative
"""

from grader.checks.build import Checks, sibling
from grader.checks.compare import EXACT, FLOAT32, VALUE, Tolerance, difference, kind_of
from grader.checks.judges import (
    Clean,
    Close,
    Differs,
    DirectionalGradient,
    Gradient,
    Part,
    Raises,
    Repeatable,
    Satisfies,
    Sequence,
    Trajectory,
    Unchanged,
)
from grader.checks.numgrad import central_difference, dict_gradient, directional_probes, elementwise_derivative
from grader.model import Call, Catalog, Fn, Mistake

__all__ = [
    "EXACT", "FLOAT32", "VALUE", "Call", "Catalog", "Checks", "Clean", "Close", "DirectionalGradient", "Differs", "Fn",
    "Gradient", "Mistake", "Part", "Raises", "Repeatable", "Satisfies", "Sequence", "Tolerance", "Trajectory",
    "Unchanged", "central_difference", "dict_gradient", "difference", "directional_probes",
    "elementwise_derivative", "kind_of", "sibling",
]
