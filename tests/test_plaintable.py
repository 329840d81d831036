"""Plain tables (pipes, cron, NO_COLOR) are drawn without Rich, character for character as Rich
draws them without colour."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcli import plaintable, render


def rich_table(rows, columns, title=None, caption=None) -> str:
    from rich import box
    from rich.table import Table

    buf = io.StringIO()
    con = render.Console(file=buf, color_system=None, width=100_000, highlight=False, soft_wrap=True) if hasattr(render, "Console") else None
    if con is None:
        from rich.console import Console

        con = Console(file=buf, color_system=None, width=100_000, highlight=False, soft_wrap=True)
    from rich.text import Text

    from crmcli import textsafe

    def literal(text):  # stored text is drawn literally (never as markup), control characters escaped
        return None if text is None else Text(textsafe.escape(text))

    tbl = Table(box=box.SIMPLE_HEAD, title=literal(title), caption=literal(caption), header_style="", title_justify="left",
                caption_justify="left", pad_edge=False, show_edge=False)
    for col in columns:
        tbl.add_column(col.header, justify=col.justify, no_wrap=True, overflow="fold")
    for row in rows:
        tbl.add_row(*(literal(row.get(c.key, "")) for c in columns))
    con.print(tbl)
    return buf.getvalue()


def plain_table(rows, columns, title=None, caption=None) -> str:
    buf = io.StringIO()
    render.table(rows, columns, stream=buf, title=title, caption=caption)
    return buf.getvalue()


COLUMNS = [render.Column("id", "Customer ID"), render.Column("name", "客户名称"), render.Column("amount", "Amount", "right")]
ROWS = [
    {"id": "XS2024001", "name": "深圳市华鑫电子有限公司", "amount": "12,000.50"},
    {"id": "XS2024002", "name": "王强", "amount": ""},
    {"id": "XS2024003", "name": "Acme 公司 (北京)\n第二行", "amount": "5"},
    {"id": "XS2024004", "name": "09:00:00 ½ é ｱ", "amount": "0"},
]


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], []])
@pytest.mark.parametrize(("title", "caption"), [(None, None), ("客户", "4 rows"), (None, "x")])
def test_plain_table_is_what_rich_draws(monkeypatch, rows, title, caption):
    monkeypatch.setenv("NO_COLOR", "1")
    assert plain_table(rows, COLUMNS, title, caption) == rich_table(rows, COLUMNS, title, caption)


def test_plain_key_values_are_what_rich_draws(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    pairs = [("Customer name", "深圳市华鑫电子有限公司"), ("Phone", "138****5678"), ("Notes", "")]
    buf = io.StringIO()
    render.key_values(pairs, stream=buf, title="XS2024001  华鑫")
    from rich import box
    from rich.console import Console
    from rich.table import Table

    want = io.StringIO()
    con = Console(file=want, color_system=None, width=100_000, highlight=False, soft_wrap=True)
    tbl = Table(box=box.SIMPLE, show_header=False, title="XS2024001  华鑫", title_justify="left", pad_edge=False, show_edge=False)
    tbl.add_column(style="", no_wrap=True)
    tbl.add_column(overflow="fold")
    for label, value in pairs:
        tbl.add_row(label, value)
    con.print(tbl)
    assert buf.getvalue() == want.getvalue()


def test_markup_and_emoji_codes_go_to_rich(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    rows = [{"id": "[bold]x[/bold]", "name": ":smile:", "amount": "1"}]
    assert not plaintable.plain_enough("[bold]x") and not plaintable.plain_enough(":smile:")
    assert plain_table(rows, COLUMNS) == rich_table(rows, COLUMNS)
    assert "[bold]x[/bold]" in plain_table(rows, COLUMNS) and ":smile:" in plain_table(rows, COLUMNS)  # literal


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn", "Zl", "Zp")), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, TEXT), max_size=4))
def test_plain_and_rich_agree_on_any_text(cells):
    rows = [{"id": a, "name": b, "amount": c} for a, b, c in cells]
    import os

    os.environ["NO_COLOR"] = "1"
    assert plain_table(rows, COLUMNS) == rich_table(rows, COLUMNS)


@pytest.mark.parametrize("cell", ["0 ", " 0", "a \nb", "a\n b"])
def test_space_at_the_edge_of_a_cell_draws_as_rich_does(cell):
    import os

    os.environ["NO_COLOR"] = "1"
    rows = [{"id": "X1", "name": cell, "amount": cell}]
    assert plain_table(rows, COLUMNS) == rich_table(rows, COLUMNS)
