"""The leak detector: no line of a reference solution may reach anything a student gets.

The solution lines are what the markers mark out of each `reference/*.py` (see
`grader.course.solutions`), less the trivial ones (`return out`, `import forward`). A file of the
student template holds one when one of its lines, compared without comments and whitespace,
equals it: the stubs, checks and handouts line by line, the handout notebooks cell by cell
(outputs too), the frozen expected values string by string (hints and labels), other binary
files (figures) by searching their bytes. The grader's wheel must hold only `grader/` and its
metadata (the engine itself is public). A course may list in course.toml, under
`[template] given`, solution lines its handouts or checks show on purpose.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course.solutions import normalized, solution_lines
from grader.worker import codec


@dataclass(frozen=True)
class SolutionLine:
    """One non-trivial line of a reference solution."""

    file: str
    line: int
    text: str


def reference_solutions(reference: Path, given: list[str] | None = None) -> dict[str, SolutionLine]:
    """`normalized line -> where it is` for every solution line of `reference/*.py` not in `given`."""
    allowed = {normalized(line) for line in given or []}
    found: dict[str, SolutionLine] = {}
    for path in sorted(reference.glob("*.py")):
        for number, text in solution_lines(path.read_text(), f"reference/{path.name}"):
            if normalized(text) not in allowed:
                found.setdefault(normalized(text), SolutionLine(f"reference/{path.name}", number, text.strip()))
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _text_lines(data: bytes, where: str) -> Iterator[tuple[str, str]]:
    """`(place, line)` for each line of a text file; notebooks cell by cell, wheels member by member."""
    text = data.decode("utf-8", "replace")
    if where.endswith(".ipynb"):
        try:
            cells = json.loads(text)["cells"]
        except (ValueError, KeyError, TypeError):
            cells = None
        if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
            for number, line in enumerate(text.splitlines(), 1):  # not a notebook after all: as text
                yield f"{where}:{number}", line
            return
        for number, cell in enumerate(cells, 1):
            parts = [cell.get("source", "")] + [o.get("text", "") for o in cell.get("outputs", [])]
            for part in parts:
                for line in ("".join(part) if isinstance(part, list) else str(part)).splitlines():
                    yield f"{where} (cell {number})", line
        return
    for number, line in enumerate(text.splitlines(), 1):
        yield f"{where}:{number}", line


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in data


def _wheel_strays(data: bytes, where: str) -> list[str]:
    """Members of a wheel other than the engine (`grader/`) and its `.dist-info/` metadata."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    return [f"{where} holds {name}, which is not the grader engine" for name in names
            if not (name.startswith("grader/") or name.split("/", 1)[0].endswith(".dist-info"))]


def find_leaks(template: Path, solutions: dict[str, SolutionLine]) -> list[str]:
    """Every place in `template` that holds a solution line, as a sentence naming both."""
    leaks = []
    for path in sorted(p for p in template.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        where = path.relative_to(template).as_posix()
        data = path.read_bytes()
        if where.endswith(".whl"):
            leaks += _wheel_strays(data, where)
        elif where.endswith(".grd"):
            for text in _strings(codec.load_tree(path)):
                for line in text.splitlines():
                    hit = solutions.get(normalized(line))
                    if hit is not None:
                        leaks.append(f"{where} (a frozen string) holds the solution line {hit.file}:{hit.line}: "
                                     f"{hit.text}")
        elif _is_text(data):
            for place, line in _text_lines(data, where):
                hit = solutions.get(normalized(line))
                if hit is not None:
                    leaks.append(f"{place} holds the solution line {hit.file}:{hit.line}: {hit.text}")
        else:  # binary (frozen expected values, figures): search the bytes
            for hit in solutions.values():
                code = hit.text.split("#", 1)[0].strip().encode()
                if code and code in data:
                    leaks.append(f"{where} holds the solution line {hit.file}:{hit.line}: {hit.text}")
    return leaks
