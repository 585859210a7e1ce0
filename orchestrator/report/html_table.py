"""One way to write an HTML table: every header and cell escaped, a cell optionally carrying a CSS class, a
title (tooltip) or a list of items, and every row checked against the header's length.

The report page, the history page and the report's sections (energy, fairness, the cost of Keras) all build
their tables here, so no caller assembles <tr>/<td> by hand and no value reaches the page unescaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

MISSING = "-"  # what a cell whose value is None shows


@dataclass(frozen=True)
class Cell:
    """A table cell: its value (None shows as '-'), a CSS class, a title, or a list of items (shown as <ul>)."""

    value: Any = None
    cls: str = ""
    title: str = ""
    items: tuple[str, ...] | None = None


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str | None = None,
               classes: Iterable[str] | None = None, table_id: str | None = None) -> str:
    """`<table>` with a header row and one body row per row; a row's entries are plain values or `Cell`s.

    Raises ValueError, naming the table, when a row has not as many cells as there are headers."""
    name = _name(table_id, caption, headers)
    body = [_row(row, len(headers), name, i) for i, row in enumerate(rows)]
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (f"<table{_attributes(table_id, ' '.join(classes or ()))}>{caption_html}<thead><tr>{head}</tr></thead>"
            "<tbody>\n" + "\n".join(body) + "\n</tbody></table>")


def _name(table_id: str | None, caption: str | None, headers: Sequence[str]) -> str:
    if table_id:
        return f"table {table_id!r}"
    if caption:
        return f"table {caption!r}"
    return f"table with columns {', '.join(map(str, headers))}"


def _row(row: Sequence[Any], width: int, name: str, index: int) -> str:
    if len(row) != width:
        raise ValueError(f"{name}: row {index} has {len(row)} cells for {width} columns")
    return "<tr>" + "".join(_cell(c if isinstance(c, Cell) else Cell(c)) for c in row) + "</tr>"


def _cell(cell: Cell) -> str:
    if cell.items is not None:
        text = "<ul>" + "".join(f"<li>{escape(str(item))}</li>" for item in cell.items) + "</ul>"
    else:
        text = escape(MISSING if cell.value is None else str(cell.value))
    return f"<td{_attributes(None, cell.cls, cell.title)}>{text}</td>"


def _attributes(id_: str | None, cls: str = "", title: str = "") -> str:
    pairs = (("id", id_), ("class", cls), ("title", title))
    return "".join(f' {key}="{escape(value)}"' for key, value in pairs if value)
