"""Adding an assignment touches only `assignments/<new>/`, `reference/<new>.py` and `course.toml`.

A throwaway sixth assignment, `metrics`, is written into a copy of the course, the way the
README's "Writing or changing an assignment" says, and then validated, turned into a template
and graded: no grader file changes, and a correct and a wrong submission get what they earned.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, grader_command, grader_env, report_dir, unsandboxed_args

REFERENCE = '''"""Assignment 6: classification metrics (reference solution)."""

import numpy as np


def accuracy(P, Y):
    """The share of rows whose largest probability is on the true class.

    Args:
        P: (m, k) predicted probabilities, one example per row.
        Y: (m, k) one-hot labels.
    Returns:
        a Python float in [0, 1].
    """
    ### BEGIN SOLUTION
    return float(np.mean(np.argmax(P, axis=1) == np.argmax(Y, axis=1)))
    ### END SOLUTION
'''

HANDOUT = """# Assignment 6: classification metrics

Implement `accuracy(P, Y) -> acc` in `metrics.py`: the share of the m rows of `P` whose largest
probability is on the class that `Y` (one-hot) marks, as a Python float.
"""

SETTINGS = 'name = "metrics"\ntitle = "Classification metrics"\nmodules = ["metrics"]\ncall_timeout = 2.0\n'

VISIBLE = '''import numpy as np

from grader.authoring import Checks, Close

c = Checks("metrics")
P = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]])
Y = np.eye(3)[[0, 2, 1, 2]]

CHECKS = [c.check("accuracy", "three of four rows right", Close(c.call("accuracy", P, Y)), 2)]
'''

HIDDEN = '''import numpy as np

from grader.authoring import Checks, Close

c = Checks("metrics")
rng = np.random.default_rng(6)
P = rng.dirichlet(np.ones(4), size=50)
Y = np.eye(4)[rng.integers(0, 4, size=50)]

CHECKS = [c.check("accuracy", "fifty random rows of four classes", Close(c.call("accuracy", P, Y)))]
'''

MISTAKES = '''import numpy as np

from grader.authoring import Catalog

MISTAKES = Catalog("metrics")


@MISTAKES.mistake("accuracy", "argmax over the batch", "Take the argmax of each row: axis=1.")
def accuracy_over_the_batch(P, Y):
    return float(np.mean(np.argmax(P, axis=0) == np.argmax(Y, axis=0)))
'''

WRONG = "import numpy as np\n\n\ndef accuracy(P, Y):\n    return float(np.mean(np.argmax(P, axis=0) == np.argmax(Y, axis=0)))\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course with `metrics` added, as the README's walk-through does."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "assignments", root / "assignments")
    shutil.copytree(ROOT / "reference", root / "reference")
    folder = root / "assignments" / "metrics"
    folder.mkdir()
    (folder / "assignment.toml").write_text(SETTINGS)
    (folder / "README.md").write_text(HANDOUT)
    (folder / "checks_visible.py").write_text(VISIBLE)
    (folder / "checks_hidden.py").write_text(HIDDEN)
    (folder / "mistakes.py").write_text(MISTAKES)
    (root / "reference" / "metrics.py").write_text(REFERENCE)
    toml = root / "assignments" / "course.toml"
    text = toml.read_text()
    old = 'assignments = ["perceptron", "forward", "backprop", "regularization", "optimizers"]'
    assert old in text
    toml.write_text(text.replace(old, old[:-1] + ', "metrics"]'))
    return root


def _grade(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*grader_command(), *args], capture_output=True, text=True, env=grader_env(), cwd=cwd)


def test_the_new_assignment_validates(course):
    done = _grade("validate", "--course", str(course), cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_template_gets_the_new_stub_handout_and_visible_check(course, tmp_path):
    out = tmp_path / "template"
    done = _grade("build-template", "--course", str(course), "--out", str(out), cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    stub = (out / "metrics.py").read_text()
    assert "def accuracy(P, Y):" in stub and "np.argmax" not in stub
    assert (out / "handouts" / "metrics.md").read_text() == HANDOUT
    assert (out / "checks" / "metrics" / "checks_visible.py").read_text() == VISIBLE
    assert not (out / "checks" / "metrics" / "checks_hidden.py").exists()


def test_a_correct_and_a_wrong_submission_of_the_new_assignment_get_what_they_earned(course, tmp_path):
    submit = tmp_path / "submit"
    (submit / "right").mkdir(parents=True)
    (submit / "wrong").mkdir()
    right = REFERENCE.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")
    (submit / "right" / "metrics.py").write_text(right)
    (submit / "wrong" / "metrics.py").write_text(WRONG)
    out = tmp_path / "out"
    done = _grade(str(submit), "--course", str(course), "-a", "metrics", "-o", str(out), "-j", "1",
                  *unsandboxed_args(), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    scores = {}
    for name in ("right", "wrong"):
        result = json.loads((report_dir(out, name) / "results.json").read_text())
        scores[name] = (result["score"], sum(t["max_score"] for t in result["tests"]))
    assert scores["right"] == (3.0, 3.0)
    assert scores["wrong"][0] == 0.0
    feedback = (report_dir(out, "wrong") / "feedback.md").read_text()
    assert "Take the argmax of each row: axis=1." in feedback  # the new catalog's hint
    assert "argmax of each row" not in (report_dir(out, "right") / "feedback.md").read_text()
