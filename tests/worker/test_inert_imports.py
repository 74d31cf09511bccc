"""Plotting, display and progress libraries never cost points: they are inert while graded."""

from __future__ import annotations

import pytest

from conftest import assert_full_marks, mutate, reference_source, unsandboxed
from grader.isolation.runner import StudentProcess
from grader.model import Call
from grader.worker import policy
from grader.worker.serve import Inert, InertFinder

HEADER = """import matplotlib.pyplot as plt
import seaborn as sns
from tqdm import tqdm, trange
from tqdm.auto import tqdm as auto_tqdm
import pandas as pd
from IPython.display import display
import plotly.express as px
"""


def _with_plots(source: str) -> str:
    """The reference forward.py with display imports on top and plotting inside graded functions."""
    source = HEADER + source
    source = mutate(source, "    cache = {\"A0\": X}\n", (
        "    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))\n"
        "    ax1.set_title('activations')\n"
        "    cache = {\"A0\": X}\n"))
    source = mutate(source, "    for l, activation in enumerate(activations, start=1):",
                    "    for l, activation in tqdm(enumerate(activations, start=1), desc='layers'):")
    source = mutate(source, "    return A, cache\n", (
        "    with auto_tqdm(total=1) as bar:\n"
        "        bar.update(1)\n"
        "    display(pd.DataFrame({'layer': list(range(len(activations)))}))\n"
        "    plt.plot([0, 1], [1, 0]); plt.savefig('/etc/plot.png'); plt.show()\n"
        "    px.line(x=[0, 1], y=[1, 0]).show(); sns.heatmap(A)\n"
        "    return A, cache\n"))
    count = "    return int(sum(n_out * n_in + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])))"
    return mutate(source, count,
                  "    total = 0\n"
                  "    for n_in, n_out in tqdm(list(zip(layer_sizes[:-1], layer_sizes[1:]))):\n"
                  "        total += n_out * n_in + n_out\n"
                  "    for _ in trange(2):\n"
                  "        total += 0\n"
                  "    return int(total)")


def test_plotting_inside_graded_functions_keeps_full_marks_and_says_it_was_skipped(course):
    result = course.grade({"forward.py": _with_plots(reference_source("forward"))}, ["forward"])
    assert_full_marks(result)
    notes = [n for n in result.notices if "plotting/display skipped" in n]
    assert notes == [
        "forward.py: plotting/display skipped: matplotlib.pyplot (line 1), seaborn (line 2), tqdm (line 3), "
        "tqdm.auto (line 4), pandas (line 5), IPython.display (line 6), plotly.express (line 7); these "
        "libraries do nothing while your code is graded, and cost no points"
    ]


def test_a_library_that_does_the_work_still_breaks_the_rules_with_its_line(course):
    source = HEADER + "import torch\n" + reference_source("forward")
    result = course.grade({"forward.py": source}, ["forward"])
    assert result.score == 0
    assert {c.problem for c in result.checks} == {"policy"}
    assert "forward.py, line 8: importing torch is not allowed" in result.checks[0].message


def test_the_scan_sorts_imports_into_inert_and_forbidden():
    files = {"m.py": b"import numpy\nimport matplotlib.pyplot as plt\ndef f():\n    import tqdm.notebook\n"
                     b"    import socket\n", "helper.py": b"from pandas import DataFrame\n"}
    files["m.py"] += b"import helper\n"
    found = policy.scan_imports(files, "m", ("numpy",))
    assert [(v.file, v.line, v.module) for v in found.violations] == [("m.py", 5, "socket")]
    assert [(i.file, i.line, i.module) for i in found.inert] == [
        ("m.py", 2, "matplotlib.pyplot"), ("m.py", 4, "tqdm.notebook"), ("helper.py", 1, "pandas")]
    assert policy.scan(files, "m", ("numpy",)) == found.violations


def test_the_stand_in_iterates_over_what_it_wraps_and_unpacks_to_what_is_asked():
    tqdm = Inert()
    assert list(tqdm(range(4))) == [0, 1, 2, 3]
    assert [i for i in tqdm(iterable="ab")] == ["a", "b"]
    assert list(Inert().trange(3)) == [0, 1, 2]
    fig, ax = Inert().subplots()
    first, *rest, last = Inert().subplots(2, 2)
    assert all(isinstance(x, Inert) for x in (fig, ax, first, last)) and rest == []
    assert list(Inert().plot([1, 2])) == [1, 2] and list(Inert()) == [] and len(Inert()) == 0
    with Inert()(total=3) as bar:
        bar.update(1)
        bar.n = 5
    assert isinstance(bar.n, Inert) and isinstance(Inert()["loss"][0], Inert)
    with pytest.raises(AttributeError):
        Inert().__array__  # noqa: B018 - NumPy must not take a stand-in for an array
    with pytest.raises(ZeroDivisionError):
        with Inert():
            1 / 0  # noqa: B018 - an error inside `with` is not swallowed


def test_the_submissions_own_module_of_that_name_is_not_replaced():
    finder = InertFinder(["tqdm"])
    assert finder.find_spec("tqdm") is None and finder.find_spec("tqdm.auto") is None
    assert finder.find_spec("matplotlib.pyplot") is not None and finder.find_spec("numpy") is None
    files = {"m.py": b"import tqdm\ndef f():\n    return tqdm.mine(3)\n",
             "tqdm.py": b"def mine(n):\n    return n + 1\n"}
    with StudentProcess(files, unsandboxed()) as p:
        assert p.call(Call("m", "f")) == 4
        assert p.notices[1:] == []  # the first notice says the run was not sandboxed


def test_a_value_computed_with_pandas_is_not_numeric_data():
    files = {"m.py": b"import pandas as pd\ndef f(x):\n    return pd.Series(x).mean()\n"}
    with StudentProcess(files, unsandboxed()) as p:
        with pytest.raises(Exception) as err:
            p.call(Call("m", "f", ([1.0, 2.0],)))
    assert getattr(err.value, "kind", None) == "bad-output"
