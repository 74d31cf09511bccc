"""Self-contained HTML pages for the reports: one file, inline style, no script, all text escaped.

Student output is untrusted text. Every string goes through `esc` unless it is built here as
`Html`: markup characters become entities and control or format characters (ESC, a
right-to-left override) are drawn visibly (`grader.reports.inert.visible`). The pages also carry a
Content-Security-Policy that forbids scripts and remote content, so a page opened from a mail
attachment cannot run or fetch anything.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from grader.reports.inert import visible

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1rem; margin-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: .6rem; overflow-x: auto;
      white-space: pre-wrap; word-break: break-word; }
.score { font-size: 1.3rem; font-weight: 600; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .4rem .8rem; margin: .4rem 0; }
.fail { color: #b00020; } .pass { color: #1b7a2f; } .muted { color: #666; }
.bar { display: inline-block; height: .8rem; background: #c62828; vertical-align: middle; }
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class Html(str):
    """Markup built by this module: inserted as is, never escaped again."""


def esc(value: object) -> Html:
    """`value` as text that cannot become markup nor steer the display."""
    return value if isinstance(value, Html) else Html(html.escape(visible(value, keep="\n\t"), quote=True))


def tag(name: str, content: object = "", **attrs: str) -> Html:
    """`<name attrs>content</name>` with `content` and attribute values escaped."""
    text = "".join(f' {k.rstrip("_")}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
    return Html(f"<{name}{text}>{esc(content)}</{name}>")


def join(parts: Iterable[object]) -> Html:
    return Html("".join(esc(p) for p in parts))


def pre(text: str) -> Html:
    return tag("pre", text)


def table(head: list[str], rows: list[list[object]], numeric: Iterable[int] = ()) -> Html:
    """A table; cells are escaped unless they are `Html`; columns in `numeric` align right."""
    right = set(numeric)

    def cells(row: list[object], kind: str) -> Html:
        return join(tag(kind, c, class_="num") if i in right else tag(kind, c) for i, c in enumerate(row))

    body = [tag("tr", cells(head, "th"))] + [tag("tr", cells(r, "td")) for r in rows]
    return tag("table", join(body))


def page(title: str, body: object) -> str:
    """A whole HTML document."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n{esc(body)}\n</body></html>\n"
    )
