"""A reproducible wheel of the grader engine, for the student template to install from itself.

Written directly with `zipfile` (a wheel is a zip with `{name}-{version}.dist-info/` holding
METADATA, WHEEL, entry_points.txt and RECORD: the packaging.python.org "Binary distribution
format" specification), so the same sources always give the same bytes: entries sorted, one
fixed timestamp, fixed permissions, no compression (zlib versions differ in their output; git
compresses the file anyway). It holds `grader/` and nothing else: never `reference/`, the
assignments or the hidden checks. Name, version and dependencies come from `pyproject.toml`
(or, for an installed grader, from its own metadata).
"""

from __future__ import annotations

import base64
import hashlib
import re
import tomllib
import zipfile
from pathlib import Path

from grader.sources import source_files

TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""the date of every entry: the earliest a zip can hold, the same on every machine"""

NOTEBOOK_EXTRA = "notebook"
"""the extra that makes the handout notebooks runnable (a Jupyter kernel)"""


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _metadata(project: dict) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {_requirement(d)}" for d in project.get("dependencies", [])]
    for extra, requirements in sorted(project.get("optional-dependencies", {}).items()):
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {_requirement(d)}; extra == "{extra}"' for d in requirements]
    return "\n".join(lines) + "\n"


def _requirement(spec: str) -> str:
    return spec.split(";", 1)[0].strip()


def _project(engine: Path) -> dict:
    """`[project]` of the engine's pyproject.toml, or the same read from its installed metadata."""
    pyproject = engine.parent / "pyproject.toml"
    if pyproject.exists():
        return tomllib.loads(pyproject.read_text())["project"]
    from importlib import metadata

    meta = metadata.metadata("nn-grader")
    extras: dict[str, list[str]] = {e: [] for e in meta.get_all("Provides-Extra") or []}
    plain = []
    for req in meta.get_all("Requires-Dist") or []:
        m = re.search(r';\s*extra\s*==\s*"([^"]+)"', req)
        (extras.setdefault(m.group(1), []) if m else plain).append(req.split(";", 1)[0].strip())
    return {"name": meta["Name"], "version": meta["Version"], "description": meta.get("Summary", ""),
            "requires-python": meta.get("Requires-Python", ">=3.11"), "dependencies": plain,
            "optional-dependencies": extras, "scripts": {"grade": "grader.cli:main"}}


def wheel_name(engine: Path) -> str:
    """The wheel's file name, e.g. `nn_grader-0.1.0-py3-none-any.whl`."""
    project = _project(engine)
    return f"{_dist(project['name'])}-{project['version']}-py3-none-any.whl"


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def build_wheel(engine: Path, dest: Path) -> Path:
    """Write the wheel of the package folder `engine` (the running `grader/`) into `dest`; returns its path."""
    project = _project(engine)
    info = f"{_dist(project['name'])}-{project['version']}.dist-info"
    files: dict[str, bytes] = {}
    for name, path in source_files(engine).items():
        files[name] = path.read_bytes()
    files[f"{info}/METADATA"] = _metadata(project).encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: nn-grader build-template\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    scripts = project.get("scripts", {})
    if scripts:
        files[f"{info}/entry_points.txt"] = ("[console_scripts]\n" + "".join(
            f"{k} = {v}\n" for k, v in sorted(scripts.items()))).encode()
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in sorted(files.items()))
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{_dist(project['name'])}-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, TIMESTAMP)
            entry.create_system = 3  # unix, so the permissions below are read
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, files[name])
    return out
