"""The grader's own source: the files a wheel or a Gradescope zip ships, and their digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
"""the running `grader/` package folder"""


def source_files(package: Path | None = None) -> dict[str, Path]:
    """Every module of the package (default: the running one), by its path in a project
    (`grader/engine/batch.py`), sorted."""
    package = package or PACKAGE
    found = (p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return {"grader/" + p.relative_to(package).as_posix(): p for p in sorted(found)}


def source_digest(version: str) -> str:
    """The sha256 of the grader's version and every source file (what a result depends on)."""
    h = hashlib.sha256(version.encode())
    for name, path in source_files().items():
        h.update(name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
