"""The names of what the API's functions return, as the handouts write them.

A handout states each function's signature once, on a line like
`` `dense_backward(dZ, A_prev, W) -> (dA_prev, dW, db)` ``. Feedback on a multi-value return
uses those names ("dW, the second of the 3 returned values") instead of an index (`[1]`), so
a student reads the words of the handout. The handout is the one place these names live:
they are read from it (never run), for the instructor from `assignments/<name>/README.md`
and in a student template from `handouts/<name>.md`.
"""

from __future__ import annotations

import re
from pathlib import Path

RETURN_NAMES: dict[str, tuple[str, ...]] = {}
"""`module.function -> names of the returned values`, for functions that return several"""

# `name(args) -> (a, b, ...)` inside one inline-code span (the span may wrap over lines)
_SIGNATURE = re.compile(r"`(\w+)\([^`]*?\)\s*->\s*\(([^`()]*)\)`")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def parse_return_names(text: str) -> dict[str, tuple[str, ...]]:
    """`function -> names` for every signature in `text` that returns a tuple of names."""
    found = {}
    for function, inner in _SIGNATURE.findall(text):
        names = tuple(n.strip() for n in inner.split(","))
        if len(names) > 1 and all(n.isidentifier() for n in names):
            found.setdefault(function, names)
    return found


def handout_path(assignment_folder: Path, name: str) -> Path | None:
    """The handout of the assignment in `assignment_folder` (course or student template), if any."""
    for path in (assignment_folder / "README.md", assignment_folder.parent.parent / "handouts" / f"{name}.md"):
        if path.is_file():
            return path
    return None


def register_handout(assignment_folder: Path, name: str, modules: tuple[str, ...]) -> None:
    """Record the return names the assignment's handout gives, for each module it grades."""
    path = handout_path(assignment_folder, name)
    if path is None:
        return
    for function, names in parse_return_names(path.read_text(encoding="utf-8", errors="replace")).items():
        for module in modules:
            RETURN_NAMES[f"{module}.{function}"] = names


def position(index: int, count: int) -> str:
    """`the second of the 3 returned values`."""
    nth = _ORDINALS[index] if index < len(_ORDINALS) else f"number {index + 1}"
    return f"the {nth} of the {count} returned values"
