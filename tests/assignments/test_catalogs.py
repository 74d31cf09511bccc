"""The mistake catalogs: a mistake is declared by a decorator on its wrong implementation.

`grader.authoring.Catalog` keeps each declared mistake once, in declaration order, and hands the
function back unchanged; every `assignments/*/mistakes.py` of the course is one, and the loader
refuses a catalog that is not. The API a mistake may name is read from the student template's
stubs (the functions handed to students), not from the reference.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from conftest import ROOT
from grader.authoring import Catalog, Mistake
from grader.course.loading import CourseError, Reference, load_assignment

COURSE = tomllib.loads((ROOT / "assignments" / "course.toml").read_text())["assignments"]


def _load(path: Path, label: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(label, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _modules_of(assignment: str) -> list[str]:
    settings = tomllib.loads((ROOT / "assignments" / assignment / "assignment.toml").read_text())
    return settings.get("modules", [assignment])


def _api(module: str) -> dict[str, list[str]]:
    """`function -> parameter names` of the stub handed to students (`student_template/<module>.py`)."""
    tree = ast.parse((ROOT / "student_template" / f"{module}.py").read_text())
    return {n.name: [a.arg for a in n.args.args] for n in tree.body
            if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def _decorated_in_source(path: Path) -> list[str]:
    """The functions of `path` decorated with `@MISTAKES.mistake(...)`, in source order."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                if isinstance(d, ast.Call) and ast.unparse(d.func) == "MISTAKES.mistake":
                    names.append(node.name)
    return names


# ------------------------------------------------------------------ the declaration contract


def test_the_decorator_returns_the_function_itself():
    catalog = Catalog("forward")

    def relu_wrong(z):
        return z * 2

    declared = catalog.mistake("relu", "doubled", "Do not double.")(relu_wrong)
    assert declared is relu_wrong
    assert declared(3) == 6


def test_mistakes_are_kept_once_each_in_declaration_order():
    catalog = Catalog("forward")

    @catalog.mistake("tanh_grad", "z squared", "hint one")
    def one(z):
        return z

    @catalog.mistake("relu", "plain", "hint two")
    def two(z):
        return z

    @catalog.mistake("tanh_grad", "abs", "hint three")
    def three(z):
        return z

    expected = [Mistake("forward", "tanh_grad", "z squared", "hint one", one),
                Mistake("forward", "relu", "plain", "hint two", two),
                Mistake("forward", "tanh_grad", "abs", "hint three", three)]
    assert list(catalog) == expected
    assert list(catalog) == expected  # iterating does not consume it
    assert len(catalog) == 3


def test_a_second_mistake_of_one_function_with_the_same_name_is_refused():
    catalog = Catalog("forward")
    catalog.mistake("relu", "plain", "first")(lambda z: z)
    catalog.mistake("tanh", "plain", "another function may reuse the name")(lambda z: -z)
    with pytest.raises(ValueError, match="forward.relu has two mistakes named 'plain'"):
        catalog.mistake("relu", "plain", "second")(lambda z: z + 1)
    assert [m.hint for m in catalog] == ["first", "another function may reuse the name"]


def test_a_function_declared_as_two_mistakes_is_refused():
    catalog = Catalog("forward")

    def wrong(z):
        return z

    catalog.mistake("relu", "one", "first")(wrong)
    with pytest.raises(ValueError, match="wrong is declared twice"):
        catalog.mistake("tanh", "other", "second")(wrong)
    assert len(catalog) == 1


# ------------------------------------------------------------------ the course's catalogs


def test_the_course_has_five_assignments_each_with_a_catalog():
    assert COURSE == ["perceptron", "forward", "backprop", "regularization", "optimizers"]
    assert all((ROOT / "assignments" / a / "mistakes.py").is_file() for a in COURSE)


@pytest.mark.parametrize("assignment", COURSE)
def test_each_catalog_is_a_catalog_of_its_assignments_module(assignment):
    module = _load(ROOT / "assignments" / assignment / "mistakes.py", f"_test_catalogs_{assignment}")
    assert isinstance(module.MISTAKES, Catalog)
    assert module.MISTAKES.module in _modules_of(assignment)
    assert len(module.MISTAKES) > 0


@pytest.mark.parametrize("assignment", COURSE)
def test_every_decorated_function_is_registered_once_in_source_order(assignment):
    path = ROOT / "assignments" / assignment / "mistakes.py"
    module = _load(path, f"_test_catalogs_order_{assignment}")
    registered = [m.impl for m in module.MISTAKES]
    assert [f.__name__ for f in registered] == _decorated_in_source(path)
    # each impl is the module's own named function, not a lambda or a copy
    assert all(getattr(module, f.__name__) is f for f in registered)


@pytest.mark.parametrize("assignment", COURSE)
def test_every_mistake_imitates_a_function_of_the_api_with_its_parameters(assignment):
    module = _load(ROOT / "assignments" / assignment / "mistakes.py", f"_test_catalogs_api_{assignment}")
    api = _api(module.MISTAKES.module)
    assert api  # the stub has functions to compare with
    for m in module.MISTAKES:
        assert m.function in api, f"{m.module}.{m.function} ({m.name}) is not a function of the API"
        # same names, so a check that calls by keyword reaches the mistake as it reaches the student
        assert list(inspect.signature(m.impl).parameters) == api[m.function], m.name


@pytest.mark.parametrize("assignment", COURSE)
def test_names_are_unique_within_each_function(assignment):
    module = _load(ROOT / "assignments" / assignment / "mistakes.py", f"_test_catalogs_names_{assignment}")
    pairs = [(m.function, m.name) for m in module.MISTAKES]
    assert len(pairs) == len(set(pairs))
    assert all(m.name and m.hint for m in module.MISTAKES)


# ------------------------------------------------------------------ the loader refuses the rest


def _assignment(tmp_path: Path, mistakes: str) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "assignment.toml").write_text('name = "demo"\nmodules = ["forward"]\n')
    (folder / "mistakes.py").write_text(mistakes)
    return folder


def test_the_loader_reads_a_catalog_in_its_order(tmp_path):
    folder = _assignment(tmp_path, (
        "from grader.authoring import Catalog\n"
        "MISTAKES = Catalog('forward')\n"
        "@MISTAKES.mistake('relu', 'second in the alphabet', 'h1')\n"
        "def b(z):\n    return z\n"
        "@MISTAKES.mistake('relu', 'first in the alphabet', 'h2')\n"
        "def a(z):\n    return -z\n"))
    loaded = load_assignment(folder)
    assert [(m.module, m.function, m.name, m.hint, m.impl.__name__) for m in loaded.mistakes] == [
        ("forward", "relu", "second in the alphabet", "h1", "b"),
        ("forward", "relu", "first in the alphabet", "h2", "a")]


def test_the_loader_refuses_a_plain_list_of_mistakes(tmp_path):
    folder = _assignment(tmp_path, (
        "from grader.authoring import Mistake\n"
        "MISTAKES = [Mistake('forward', 'relu', 'plain', 'hint', lambda z: z)]\n"))
    with pytest.raises(CourseError, match="must define MISTAKES = Catalog"):
        load_assignment(folder)


def test_the_loader_refuses_a_catalog_of_a_module_the_assignment_does_not_grade(tmp_path):
    folder = _assignment(tmp_path, "from grader.authoring import Catalog\nMISTAKES = Catalog('backprop')\n")
    with pytest.raises(CourseError, match="a Catalog of 'backprop', a module demo does not grade"):
        load_assignment(folder)


def test_a_duplicate_name_stops_the_loading_with_the_files_name(tmp_path):
    folder = _assignment(tmp_path, (
        "from grader.authoring import Catalog\n"
        "MISTAKES = Catalog('forward')\n"
        "MISTAKES.mistake('relu', 'same', 'h')(lambda z: z)\n"
        "MISTAKES.mistake('relu', 'same', 'h')(lambda z: -z)\n"))
    with pytest.raises(CourseError, match=r"mistakes\.py: ValueError: forward.relu has two mistakes named 'same'"):
        load_assignment(folder)


def test_the_reference_refuses_a_mistake_of_a_function_it_does_not_define():
    def wrong(z):
        return z

    Reference(ROOT / "reference", [Mistake("forward", "relu", "known", "h", wrong)])  # a real function: accepted
    with pytest.raises(CourseError, match=r"forward\.relu_typo \(misspelt\)"):
        Reference(ROOT / "reference", [Mistake("forward", "relu_typo", "misspelt", "h", wrong)])
