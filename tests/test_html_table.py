"""The one HTML table helper of the reports: every value escaped, captions and classes where asked, rows checked
against the header."""

from __future__ import annotations

import pytest

from orchestrator.report.html_table import Cell, html_table


def test_every_header_and_cell_is_escaped() -> None:
    page = html_table(["a<b", "c"], [["<script>x</script>", Cell('"q" & r', cls="num", title="t<")]],
                      table_id="t")
    assert "<script>" not in page
    assert "<th>a&lt;b</th>" in page and "<td>&lt;script&gt;x&lt;/script&gt;</td>" in page
    assert '<td class="num" title="t&lt;">&quot;q&quot; &amp; r</td>' in page


def test_none_shows_as_a_dash_and_other_values_as_text() -> None:
    page = html_table(["n", "x", "s"], [[0, None, ""]])
    assert "<td>0</td><td>-</td><td></td>" in page


def test_caption_id_and_classes() -> None:
    page = html_table(["a"], [["1"]], caption="Ratios <to> x", classes=["wide", "num"], table_id="ratios")
    assert page.startswith('<table id="ratios" class="wide num"><caption>Ratios &lt;to&gt; x</caption><thead>')
    assert "<caption>" not in html_table(["a"], [["1"]])


def test_a_list_cell_is_a_list_of_escaped_items() -> None:
    page = html_table(["d"], [[Cell(items=("a<b", "c"))], [Cell(items=())]])
    assert "<td><ul><li>a&lt;b</li><li>c</li></ul></td>" in page and "<td><ul></ul></td>" in page


def test_a_table_without_rows_still_has_its_header() -> None:
    page = html_table(["a", "b"], [], table_id="empty")
    assert "<thead><tr><th>a</th><th>b</th></tr></thead><tbody>" in page and "<td>" not in page


def test_a_row_of_the_wrong_length_names_the_table() -> None:
    with pytest.raises(ValueError, match="table 'summary': row 1 has 1 cells for 2 columns"):
        html_table(["a", "b"], [["1", "2"], ["3"]], table_id="summary")
    with pytest.raises(ValueError, match="table 'Energy'"):
        html_table(["a"], [["1", "2"]], caption="Energy")
    with pytest.raises(ValueError, match="columns a, b"):
        html_table(["a", "b"], [["1", "2", "3"]])
