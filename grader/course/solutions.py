"""Solution markers: turn a reference module into a student stub, and name its solution lines.

Every form nbgrader (`ClearSolutions`) and Otter (`otter assign`) accept in Python code:

- a block: a line holding `BEGIN SOLUTION` (nbgrader's `### BEGIN SOLUTION`, Otter's
  `# BEGIN SOLUTION`, with any text after it, as nbgrader matches the delimiter anywhere in the
  line) up to a line holding `END SOLUTION`. Inside a function the block becomes
  `raise NotImplementedError(...)` (nbgrader's code stub); at module level it is removed;
- Otter's `# BEGIN SOLUTION NO PROMPT` ... `# END SOLUTION`: the block is removed, nothing replaces it;
- Otter's one-line `# SOLUTION`: `x = value  # SOLUTION` becomes `x = ...`, any other such line `...`;
- Otter's `# SOLUTION NO PROMPT` and `# SEED` lines: removed;
- Otter's prompt, a triple-quoted string from a line ending in `# BEGIN PROMPT` to one ending in
  `# END PROMPT`: a string in the reference, its lines become code in the stub (the two delimiter
  lines are removed).

Anything else that looks like a marker (`# begin solution`, `# BEGIN HIDDEN TESTS`, `# IGNORE`, a
marker after code on the same line, a block that never ends, a nested block) is refused with the
file and the line, because a marker the tool does not understand leaks the solution silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.worker.parsing import parse

STUB_MESSAGE = "Implement {name} (see the handout)"

# Otter's rules (otter/assign/solutions.py), for Python.
_ASSIGNMENT = re.compile(r"(\s*(?:[\w.]+(?=[^\w.])(?:\[['\"]?.*['\"]?\])*(?:,\s*)?)+\s*=).* ?# ?SOLUTION")
_SOLUTION_LINE = re.compile(r"#\s?SOLUTION")
_REMOVED_LINE = ("# SOLUTION NO PROMPT", "# SEED")
# A marker is only ever a comment: nothing but `#`s (and spaces) before it on its line.
_COMMENT_BEFORE = re.compile(r"^\s*#+\s*$")
# What a marker looks like, in any case or spacing: everything matching this must be understood.
_LOOKS_LIKE = re.compile(
    r"#.*\b(?i:(BEGIN|END)\s*(SOLUTION|PROMPT|HIDDEN\s*TESTS|TESTS?|QUESTION|IGNORE|MARK\s*SCHEME))\b"
    r"|#\s*(SOLUTION|SEED|IGNORE|HIDDEN)\b"
)
_TRIVIAL = re.compile(r"^((return|pass|break|continue|else:|try:|finally:|\.\.\.|raise)(\s+\w+)?"
                      r"|(import|from) [\w., ]+( import [\w., ]+)?( as \w+)?)$")


class MarkerError(ValueError):
    """A solution marker that is unbalanced or not one of the accepted forms."""


@dataclass
class Stubbed:
    """A reference module's student stub and the solution lines it leaves out."""

    stub: str
    solution: list[tuple[int, str]] = field(default_factory=list)
    """(line number, text) of every line of solution the stub does not show"""


def _where(filename: str, number: int) -> str:
    return f"{filename}, line {number}"


def _code_part(line: str) -> str:
    """The line without its comment (good enough for telling code from comment-only lines)."""
    return line.split("#", 1)[0].strip()


def strip_solutions(source: str, filename: str = "<reference>") -> Stubbed:
    """The stub of `source` and its solution lines; raises `MarkerError` for any unknown marker."""
    out: list[str] = []
    solution: list[tuple[int, str]] = []
    block: tuple[int, bool] | None = None  # (line of BEGIN, NO PROMPT)
    prompt: int | None = None
    name = "this function"
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.rstrip()
        m = re.match(r"^\s*(?:async\s+)?def (\w+)\(", line)
        if m and block is None:
            name = m.group(1)
        begin, end = "BEGIN SOLUTION" in line, "END SOLUTION" in line
        if begin or end:
            marker = "BEGIN SOLUTION" if begin else "END SOLUTION"
            if begin and end:
                raise MarkerError(f"{_where(filename, number)}: BEGIN SOLUTION and END SOLUTION on one line")
            if not _COMMENT_BEFORE.match(line[: line.index(marker)]):
                raise MarkerError(f"{_where(filename, number)}: `{marker}` must start a comment line of its own "
                                  f"(`### {marker}`), not follow code: {stripped.strip()!r}")
            if begin:
                if block is not None:
                    raise MarkerError(f"{_where(filename, number)}: BEGIN SOLUTION inside the solution block "
                                      f"begun at line {block[0]} (blocks do not nest)")
                no_prompt = line.split("BEGIN SOLUTION", 1)[1].strip().startswith("NO PROMPT")
                block = (number, no_prompt)
                indent = line[: len(line) - len(line.lstrip())]
                if indent and not no_prompt:
                    out.append(f"{indent}# TODO: implement (remove the raise below)")
                    out.append(f'{indent}raise NotImplementedError("{STUB_MESSAGE.format(name=name)}")')
            else:
                if block is None:
                    raise MarkerError(f"{_where(filename, number)}: END SOLUTION without a BEGIN SOLUTION")
                block = None
            continue
        if stripped.endswith("# BEGIN PROMPT") or stripped.endswith("# END PROMPT"):
            opening = stripped.endswith("# BEGIN PROMPT")
            if opening == (prompt is not None):
                raise MarkerError(f"{_where(filename, number)}: "
                                  + ("BEGIN PROMPT inside the prompt begun at line " + str(prompt) if opening
                                     else "END PROMPT without a BEGIN PROMPT"))
            prompt = number if opening else None
            continue
        if block is not None:
            if _LOOKS_LIKE.search(line):
                raise MarkerError(f"{_where(filename, number)}: a marker inside the solution block begun at line "
                                  f"{block[0]}: {stripped.strip()!r}")
            solution.append((number, line))
            continue
        if stripped.endswith(_REMOVED_LINE):
            solution.append((number, line))
            continue
        if _SOLUTION_LINE.search(line):
            if not _code_part(line):
                raise MarkerError(f"{_where(filename, number)}: `# SOLUTION` must end a line of code "
                                  f"(`x = value  # SOLUTION`): {stripped.strip()!r}")
            assignment = _ASSIGNMENT.match(line)
            indent = line[: len(line) - len(line.lstrip())]
            out.append(assignment.group(1) + " ..." if assignment else indent + "...")
            solution.append((number, line))
            continue
        if _LOOKS_LIKE.search(line):
            raise MarkerError(f"{_where(filename, number)}: not a solution marker nbgrader or Otter accepts "
                              f"(e.g. `### BEGIN SOLUTION`, `# BEGIN SOLUTION NO PROMPT`, `x = 1  # SOLUTION`): "
                              f"{stripped.strip()!r}")
        out.append(line)
    if block is not None:
        raise MarkerError(f"{_where(filename, block[0])}: BEGIN SOLUTION has no END SOLUTION")
    if prompt is not None:
        raise MarkerError(f"{_where(filename, prompt)}: BEGIN PROMPT has no END PROMPT")
    stub = "\n".join(out) + "\n"
    try:
        parse(stub)
    except SyntaxError as exc:
        raise MarkerError(f"{filename}: the stub made from it does not parse (stub line {exc.lineno}: {exc.msg}); "
                          "a NO PROMPT block needs a prompt or other code to leave a body") from None
    return Stubbed(stub, solution)


def make_stub(source: str, filename: str = "<reference>") -> str:
    """`source` with every solution marked out (see the module's docstring)."""
    return strip_solutions(source, filename).stub


def solution_lines(source: str, filename: str = "<reference>") -> list[tuple[int, str]]:
    """The non-trivial solution lines of `source` (a leak of any of them is a leak of the answer)."""
    return [(n, line) for n, line in strip_solutions(source, filename).solution if nontrivial(line)]


def normalized(line: str) -> str:
    """A line of code without its comment and without any whitespace (how leaks are compared)."""
    return "".join(line.split("#", 1)[0].split())


def nontrivial(line: str) -> bool:
    """A solution line long and specific enough that its presence elsewhere means a leak."""
    code = normalized(line)
    return len(code) >= 10 and not _TRIVIAL.match(line.split("#", 1)[0].strip())
