"""Text a student chose, made inert for where it is shown: a terminal, Markdown, a CSV cell.

Students choose file and folder names, exception messages and printed output. None of it may
move a terminal's cursor, become markup in a Markdown viewer, or a formula in a spreadsheet.
(HTML is escaped by `grader.reports.htmlpage`.)
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
"""Unicode categories that draw nothing or steer the display (controls, bidi overrides, ...)"""


def _shown(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC, ␊ for a newline
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: object, keep: str = "") -> str:
    """`text` with every control or format character drawn as a visible symbol.

    ESC becomes `␛`, a newline `␊` (unless in `keep`, e.g. `keep="\\n\\t"` for a block of
    output), a right-to-left override `\\u202e`: nothing can steer a terminal or a page.
    """
    out = []
    for ch in str(text):
        if ch in keep or unicodedata.category(ch) not in _INVISIBLE or ch == " ":
            out.append(ch)
        else:
            out.append(_shown(ch))
    return "".join(out)


_MD_SPECIAL = re.compile(r"([\\`*\[\]|#!])")


def md_inline(text: object) -> str:
    """`text` for one line of Markdown: no HTML, link, image, emphasis, table cell or new line.

    `&`, `<` and `>` become entities; every other character that Markdown could read as
    syntax gets a backslash, and control characters are made visible.
    """
    shown = visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", shown)


def md_block(text: object) -> str:
    """`text` for the inside of a code fence: lines and tabs kept, other controls made visible."""
    return visible(text, keep="\n\t")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
"""what makes a spreadsheet read a cell as a formula (OWASP CSV injection; ASVS 1.2.10)"""
_AFTER_SEPARATOR = re.compile(r"([,;|\t])(\s*[\"']?)(?=[=+\-@])")
"""a formula character after a separator: a cell of its own for a reader that splits there"""
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def csv_cell(value: object) -> str:
    """A CSV cell that no spreadsheet runs: a leading `'` when it could start a formula.

    The same `'` goes after a separator (`,` `;` `|`) followed by a formula character, for a
    spreadsheet that splits cells there. Numbers (also negative ones, such as `-0.5`) stay
    numbers. Control characters are drawn visibly, so a cell cannot end a row either.
    """
    text = str(value)
    if _NUMBER.match(text):
        return text
    text = _AFTER_SEPARATOR.sub(r"\1\2'", visible(text))
    return "'" + text if text.startswith(FORMULA_START) else text
