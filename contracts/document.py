"""A tiny document model (headings, paragraphs, bullet lists, tables) rendered to Markdown or HTML.

`icarflex.contracts.guide` describes the regenerated guide once, as blocks; this module turns
the blocks into either format, escaping every piece of text for it, so the guide's
content cannot differ between the two. The HTML is one self-contained page (inline
CSS, no external asset, no script).
"""
from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """An identifier of the contract (row id, status id, error code)."""

    text: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Em:
    text: str


Inline = str | Code | Strong | Em
Text = Inline | tuple[Inline, ...]


@dataclass(frozen=True)
class Heading:
    level: int
    text: Text


@dataclass(frozen=True)
class Paragraph:
    text: Text


@dataclass(frozen=True)
class Item:
    """A bullet with sub-bullets (the guide's §1 hierarchy)."""

    text: Text
    items: tuple[Text | Item, ...] = ()


@dataclass(frozen=True)
class Bullets:
    items: tuple[Text | Item, ...]


@dataclass(frozen=True)
class Ordered:
    """A numbered list (the guide's Sommaire)."""

    items: tuple[Text, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Text, ...], ...]
    # One CSS class per row (HTML only), e.g. "changed" for a row a profile overrides.
    row_classes: tuple[str, ...] = ()


Block = Heading | Paragraph | Bullets | Ordered | Table


def _parts(text: Text) -> tuple[Inline, ...]:
    return text if isinstance(text, tuple) else (text,)


# --- Markdown ---------------------------------------------------------------------
# Characters with a meaning in CommonMark/GFM; an underscore only at a word edge
# (intraword underscores, as in row ids, are literal).
_MD_SPECIAL = re.compile(r"[\\`*|<>\[\]]|(?<!\w)_|_(?!\w)")
_MD_LINE_START = re.compile(r"^(?:[#+=-]|\d+[.)])")


def escape_md(text: str) -> str:
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), re.sub(r"\s+", " ", text))


def _md_inline(part: Inline) -> str:
    if isinstance(part, Code):
        fence = "``" if "`" in part.text else "`"
        return f"{fence}{part.text}{fence}" if part.text else ""
    if isinstance(part, Strong):
        return f"**{escape_md(part.text)}**" if part.text else ""
    if isinstance(part, Em):
        return f"*{escape_md(part.text)}*" if part.text else ""
    return escape_md(part)


def _md_text(text: Text, line_start: bool = True) -> str:
    """Inline text; at a line start, a leading `#`, `-`, `1.`… is escaped (no heading or list)."""
    out = "".join(_md_inline(p) for p in _parts(text))
    return "\\" + out if line_start and _MD_LINE_START.match(out) else out


def _md_table(table: Table) -> list[str]:
    lines = ["| " + " | ".join(escape_md(h) for h in table.headers) + " |",
             "|" + "|".join("---" for _ in table.headers) + "|"]
    for row in table.rows:
        cells = ["".join(_md_inline(p) for p in _parts(cell)) for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _md_bullets(items: Sequence[Text | Item], depth: int) -> list[str]:
    lines = []
    for item in items:
        text, subs = (item.text, item.items) if isinstance(item, Item) else (item, ())
        lines.append("  " * depth + f"- {_md_text(text)}")
        lines += _md_bullets(subs, depth + 1)
    return lines


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + _md_text(block.text, line_start=False), ""]
        elif isinstance(block, Paragraph):
            out += [_md_text(block.text), ""]
        elif isinstance(block, Bullets):
            out += _md_bullets(block.items, 0) + [""]
        elif isinstance(block, Ordered):
            out += [f"{index}. {_md_text(item, line_start=False)}"
                    for index, item in enumerate(block.items, start=1)] + [""]
        else:
            out += _md_table(block) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML -------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;
 padding:0 1rem;color:#1d2733;line-height:1.45}
h1{color:#0b4f8a;border-bottom:3px solid #0b4f8a;padding-bottom:.3rem}
h2{color:#0b4f8a;margin-top:2.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem;font-size:.92rem}
th,td{border:1px solid #c9d3de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f8}
tr.changed td{background:#fff4d6}
tr.tbd td:last-child{color:#a15c00;font-weight:600}
code{background:#f1f3f5;padding:0 .25rem;border-radius:3px;font-size:.88em}
em{color:#6b4f00}
"""


def _html_inline(part: Inline) -> str:
    if isinstance(part, Code):
        return f"<code>{html.escape(part.text)}</code>"
    if isinstance(part, Strong):
        return f"<strong>{html.escape(part.text)}</strong>"
    if isinstance(part, Em):
        return f"<em>{html.escape(part.text)}</em>"
    return html.escape(part)


def _html_text(text: Text) -> str:
    return "".join(_html_inline(p) for p in _parts(text))


def _html_table(table: Table) -> list[str]:
    lines = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
             + "</tr></thead>", "<tbody>"]
    for index, row in enumerate(table.rows):
        css = table.row_classes[index] if index < len(table.row_classes) else ""
        attr = f' class="{html.escape(css)}"' if css else ""
        lines.append(f"<tr{attr}>" + "".join(f"<td>{_html_text(c)}</td>" for c in row) + "</tr>")
    return lines + ["</tbody>", "</table>"]


def _html_bullets(items: Sequence[Text | Item]) -> list[str]:
    lines = ["<ul>"]
    for item in items:
        if isinstance(item, Item):
            lines += [f"<li>{_html_text(item.text)}", *_html_bullets(item.items), "</li>"]
        else:
            lines.append(f"<li>{_html_text(item)}</li>")
    return lines + ["</ul>"]


def to_html(blocks: Sequence[Block], title: str) -> str:
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 6)
            body.append(f"<h{level}>{_html_text(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_html_text(block.text)}</p>")
        elif isinstance(block, Bullets):
            body += _html_bullets(block.items)
        elif isinstance(block, Ordered):
            body += ["<ol>", *(f"<li>{_html_text(item)}</li>" for item in block.items), "</ol>"]
        else:
            body += _html_table(block)
    head = (f'<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>")
    return "\n".join([head, *body, "</body>\n</html>"]) + "\n"
