"""Find the IPython syntax in a notebook cell, with Python's own tokenizer (trusted side).

A notebook cell is IPython, not Python: `%magic`, `%%cell_magic`, `!shell`, `x = !cmd`,
`x = %magic`, `obj?`, `?obj` and the autocall escapes `/f 1`, `,f a`, `;f a`. IPython
recognises them per *logical* line, from the tokens (`IPython.core.inputtransformer2`); so does
this module, so text inside strings, comments and continuation lines is never taken for IPython
syntax, and a cell of plain Python is never changed (none of these forms is valid Python).

`find` says which lines are IPython syntax; `blank` gives the cell with those lines emptied (or,
inside a block, made `pass`), line numbers unchanged, so the rest parses as Python.
"""

from __future__ import annotations

import re
import tokenize
from dataclasses import dataclass

ESCAPES = ("!", "?", "%", "/", ",", ";")
"""what makes a logical line IPython syntax when it starts with it (IPython's ESCAPE_SINGLES)"""

PYTHON_CELL_MAGICS = ("time", "capture")
"""cell magics that run their body as ordinary code in the notebook's namespace: what the body
defines exists in the notebook, so it is kept (only the `%%time` line is IPython syntax)"""

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_SKIP = {tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER}


@dataclass(frozen=True)
class IPythonLine:
    """One logical line of IPython syntax in a cell (0-based physical lines `start` to `end`)."""

    start: int
    end: int
    """exclusive"""
    kind: str
    """`cell magic`, `magic`, `shell`, `help` or `autocall`"""
    indented: bool
    """inside a block (a function, a loop): a `.py` could not hold it there"""


def split_lines(code: str) -> list[str]:
    """The physical lines of `code` with their endings, split as Python splits them."""
    return _LINE.findall(code)


def _escape_kind(text: str) -> str:
    if text.startswith("%"):
        return "magic"
    if text.startswith("!"):
        return "shell"
    if text.startswith("?"):
        return "help"
    return "autocall"


def _continued(line: str) -> bool:
    return line.rstrip("\r\n").endswith("\\")


def _logical_tokens(lines: list[str], start: int) -> tuple[int, list[tokenize.TokenInfo], bool]:
    """The end (exclusive) of the logical line that starts at `start`, its tokens, and whether
    it tokenized to its end.

    When the rest of the cell does not tokenize (an unterminated string or bracket, bad
    indentation) the tokens read so far come back with False: what follows is not Python
    either, and is left to the parser to report.
    """
    rest = iter(lines[start:])
    tokens: list[tokenize.TokenInfo] = []
    depth = 0
    try:
        for tok in tokenize.generate_tokens(lambda: next(rest, "")):
            if tok.type == tokenize.ERRORTOKEN and not tok.string.strip():
                continue  # Python < 3.12: the space before an unknown character
            tokens.append(tok)
            if tok.type == tokenize.ENDMARKER:
                break
            if tok.type == tokenize.NEWLINE or (tok.type == tokenize.NL and depth <= 0):
                return start + tok.end[0], tokens, True
            if tok.string in "([{" and tok.type == tokenize.OP:
                depth += 1
            elif tok.string in ")]}" and tok.type == tokenize.OP and depth > 0:
                depth -= 1
    except (tokenize.TokenError, SyntaxError, ValueError):  # ValueError: a null byte, Python < 3.12
        return len(lines), tokens, False
    return len(lines), tokens, True


def _continued_extent(lines: list[str], start: int) -> int:
    """The end (exclusive) of the line at `start` with its backslash continuations: how far
    IPython takes an escaped command or a `x = !cmd` / `x = %magic` assignment."""
    end = start + 1
    while end < len(lines) and _continued(lines[end - 1]):
        end += 1
    return end


def _assign_kind(tokens: list[tokenize.TokenInfo]) -> str | None:
    """`x = !cmd` (shell) or `x = %magic` (magic), decided after the first top-level `=`."""
    significant = [t for t in tokens if t.type not in _SKIP]
    depth = 0
    for i, tok in enumerate(significant):
        if tok.string in ("(", "[", "{"):
            depth += 1
        elif tok.string in (")", "]", "}"):
            depth = max(depth - 1, 0)
        elif tok.string == "=" and depth == 0:
            after = significant[i + 1 : i + 3]
            if after and after[0].string == "!" and i > 0:
                return "shell"
            if len(after) == 2 and after[0].string == "%" and after[1].type == tokenize.NAME:
                return "magic"
            return None
    return None


def dedent(code: str) -> str:
    """The cell as IPython runs it when its first line is indented (IPython's `leading_indent`):
    that first line's indentation removed from every line that starts with it."""
    lines = split_lines(code)
    first = next((line for line in lines if line.strip()), "")
    space = first[: len(first) - len(first.lstrip(" \t"))]
    if not space:
        return code
    return "".join(line[len(space):] if line.startswith(space) else line for line in lines)


def find(code: str) -> list[IPythonLine]:
    """The IPython-syntax lines of one cell, in order (empty for a cell of plain Python)."""
    lines = split_lines(code)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = re.match(r"%%(\w*)", lines[first].lstrip())
        if name and name.group(1) in PYTHON_CELL_MAGICS:
            body = first + 1
            return [IPythonLine(first, body, "cell magic", False)] + [
                IPythonLine(f.start + body, f.end + body, f.kind, f.indented) for f in find("".join(lines[body:]))]
        return [IPythonLine(first, len(lines), "cell magic", False)]
    found: list[IPythonLine] = []
    i = 0
    while i < len(lines):
        text = lines[i].lstrip(" \t\f")
        indented = text != lines[i]
        if not text.strip() or text.startswith("#"):
            i += 1
            continue
        if text.startswith(ESCAPES):
            end = _continued_extent(lines, i)
            found.append(IPythonLine(i, end, _escape_kind(text), indented))
            i = end
            continue
        end, tokens, complete = _logical_tokens(lines, i)
        kind = _assign_kind(tokens)
        significant = [t for t in tokens if t.type not in _SKIP]
        if kind:  # the command may hold what Python cannot tokenize (`x = !echo it's`)
            end = _continued_extent(lines, i)
            found.append(IPythonLine(i, end, kind, indented))
        elif not complete:
            break
        elif significant and significant[-1].string == "?":
            found.append(IPythonLine(i, end, "help", indented))
        i = max(end, i + 1)
    return found


def blank(code: str, found: list[IPythonLine]) -> str:
    """`code` with the lines `found` emptied (`pass` at their indentation inside a block)."""
    lines = split_lines(code)
    for item in found:
        for n in range(item.start, item.end):
            ending = lines[n][len(lines[n].rstrip("\r\n")):] or "\n"
            stub = ""
            if n == item.start and item.indented:
                stub = lines[n][: len(lines[n]) - len(lines[n].lstrip(" \t\f"))] + "pass"
            lines[n] = stub + ending
    return "".join(lines)
