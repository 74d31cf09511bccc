"""The tree is the architecture: packages import one way, and the worker is a closed boundary.

`LAYERS` is the order of `grader/`'s packages and top-level modules: each may import only from
those before it. The worker package, the only grader code bound into the sandbox, may import
only the standard library, NumPy and itself (and `grader/__init__.py`, which imports nothing).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import grader

PACKAGE = Path(grader.__file__).resolve().parent

LAYERS = ["__init__", "sources", "tempdirs", "worker", "model", "checks", "authoring", "reports", "inputs", "course",
          "isolation", "gradebook", "engine", "cli", "__main__"]
"""bottom first: the worker knows nothing of the rest; the command line knows everything"""


def imported_modules(source: str) -> list[tuple[int, str]]:
    """`(line, module)` of every import in `source`, lazy ones inside functions included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, "." * node.level + (node.module or "")))
            elif node.module == "grader":
                found += [(node.lineno, f"grader.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module or ""))
    return found


def unit_of(path: Path, package: Path = PACKAGE) -> str:
    """The layer a file of the package belongs to: its subpackage, or its module's name."""
    rel = path.relative_to(package)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def layer_violations(package: Path = PACKAGE, layers: list[str] = LAYERS) -> list[str]:
    """`file:line imports X` for every import of a grader unit that is not below the importer."""
    bad = []
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        unit = unit_of(path, package)
        for line, module in imported_modules(path.read_text()):
            if module.startswith("."):
                bad.append(f"{path.relative_to(package)}:{line} uses a relative import")
                continue
            parts = module.split(".")
            if parts[0] != "grader":
                continue
            target = parts[1] if len(parts) > 1 else "__init__"
            if target == "__version__":
                target = "__init__"
            if target == unit:
                continue
            if target not in layers or unit not in layers or layers.index(target) > layers.index(unit):
                bad.append(f"{path.relative_to(package)}:{line} imports {module}")
    return bad


def boundary_violations(package: Path = PACKAGE) -> list[str]:
    """Imports in `grader/worker/` (and `grader/__init__.py`) of anything but the standard
    library, NumPy and the worker package."""
    files = sorted((package / "worker").glob("*.py")) + [package / "__init__.py"]
    bad = []
    for path in files:
        for line, module in imported_modules(path.read_text()):
            top = module.split(".")[0]
            if module.startswith("grader.worker") or top in sys.stdlib_module_names or top == "numpy":
                continue
            bad.append(f"{path.relative_to(package)}:{line} imports {module}")
    return bad


def test_every_unit_of_the_package_has_a_layer():
    units = {unit_of(p) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    assert units == set(LAYERS)


def test_packages_import_only_the_layers_below_them():
    assert layer_violations() == []


def test_the_worker_imports_only_the_standard_library_numpy_and_itself():
    assert boundary_violations() == []


def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "grader"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


@pytest.mark.parametrize("line", ["import grader.course.loading", "from grader.reports import feedback",
                                  "import scipy", "from grader import model", "from . import codec"])
def test_the_boundary_scan_finds_a_worker_import_from_outside(tmp_path, line):
    package = _fake_package(tmp_path, {"__init__.py": "", "worker/serve.py": f"import os\n\ndef f():\n    {line}\n"})
    found = boundary_violations(package)
    assert len(found) == 1 and found[0].startswith("worker/serve.py:4 ")


def test_the_layer_scan_finds_an_import_upwards_and_a_relative_one(tmp_path):
    package = _fake_package(tmp_path, {
        "__init__.py": "", "model.py": "from grader.worker import codec\n",
        "worker/codec.py": "import numpy\nfrom grader.model import Call\n",
        "checks/judges.py": "from . import compare\n",
    })
    assert layer_violations(package) == [
        "checks/judges.py:1 uses a relative import",
        "worker/codec.py:2 imports grader.model",
    ]


def test_the_worker_imports_with_nothing_but_its_own_files(tmp_path):
    """What the tier-1 sandbox binds (`grader/__init__.py` and `grader/worker/`) is enough to
    start a worker, and starting one loads no other grader module."""
    package = tmp_path / "grader"
    (package / "worker").mkdir(parents=True)
    (package / "__init__.py").write_bytes((PACKAGE / "__init__.py").read_bytes())
    for path in (PACKAGE / "worker").glob("*.py"):
        (package / "worker" / path.name).write_bytes(path.read_bytes())
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import grader.worker.serve, grader.worker.keeper; "
            "print(sorted(m for m in sys.modules if m.startswith('grader')))")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path)], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout
    loaded = ast.literal_eval(out)
    assert "grader.worker.serve" in loaded
    assert [m for m in loaded if m != "grader" and not m.startswith("grader.worker")] == []
