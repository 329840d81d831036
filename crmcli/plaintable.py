"""Tables as plain text, for pipes, cron mail and NO_COLOR: the same characters Rich draws for
render.table and render.key_values without colour, without importing Rich (about 35 ms of every
piped `crm list`). A test draws both and compares them.

Layout (Rich's box.SIMPLE_HEAD / box.SIMPLE with ``show_edge=False, pad_edge=False``): cells
padded to their column's width in terminal cells, columns separated by three spaces, a line of
``─`` under the header; a title or caption on its own line, flush left.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import IO


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    """2 for wide (CJK) characters, 1 for narrow ones, 0 for any character whose width we do
    not know as surely as Rich does (combining marks, format characters, emoji …)."""
    if " " <= char <= "~":
        return 1
    category = unicodedata.category(char)
    if category[0] not in "LNPS" or category == "Sk" or unicodedata.combining(char):
        return 0
    east_asian = unicodedata.east_asian_width(char)
    if east_asian in ("W", "F"):
        return 2 if "\u2e80" <= char <= "\uffef" or "\U00020000" <= char <= "\U0003ffff" else 0
    if east_asian in ("Na", "H") or char < "\u0370":
        return 1
    return 0


def cell_len(text: str) -> int:
    """Width of ``text`` in terminal cells (CJK characters take two)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


@lru_cache(maxsize=1)
def _emoji_code() -> re.Pattern[str]:
    return re.compile(r":[^\s:]*[A-Za-z][^\s:]*:")


def plain_enough(text: str) -> bool:
    """Whether this text draws the same here as in Rich: nothing Rich could read as markup
    (``[``) or an emoji code (``:smile:``), no control characters. Callers fall back to Rich
    otherwise."""
    if "[" in text or not all(c == "\n" or _char_width(c) for c in text):
        return False
    # Rich trims and re-pads space at the edges of a justified line ('0 ' right-justified draws
    # as ' 0'): such a cell is left to Rich rather than imitated.
    if text[:1].isspace() or text[-1:].isspace() or " \n" in text or "\n " in text:
        return False
    return ":" not in text or _emoji_code().search(text) is None


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - cell_len(text))
    return gap + text if right else text + gap


def _lines(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], right: Sequence[bool], rule: bool
) -> list[str]:
    split_rows = [[cell.split("\n") for cell in row] for row in ([header] if header is not None else []) + list(rows)]
    widths = [0] * len(right)
    for row in split_rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], *(cell_len(line) for line in cell))
    last = len(widths) - 1
    out: list[str] = []
    for n, row in enumerate(split_rows):
        height = max(len(cell) for cell in row)
        for k in range(height):
            parts = []
            for i, cell in enumerate(row):
                text = _pad(cell[k] if k < len(cell) else "", widths[i], right[i])
                parts.append(text if i == last else text + " ")
            out.append("  ".join(parts))
        if n == 0 and header is not None and rule:
            out.append("─" * (sum(widths) + 3 * last))
    return out


def table_text(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], *, title: str | None, caption: str | None
) -> str | None:
    """The whole table as text, or None when Rich would draw it differently (markup, a title
    wider than the table)."""
    cells = [*header, *(c for row in rows for c in row), title or "", caption or ""]
    if not all(plain_enough(c) for c in cells):
        return None
    lines = _lines(header, rows, right, rule=True)
    width = cell_len(lines[1]) if len(lines) > 1 else 0
    for text in (title, caption):
        if text and ("\n" in text or cell_len(text) > width):
            return None
    return "".join(f"{line}\n" for line in [*([title] if title else []), *lines, *([caption] if caption else [])])


def key_values_text(pairs: Sequence[tuple[str, str]], *, title: str | None) -> str | None:
    cells = [c for pair in pairs for c in pair] + [title or ""]
    if not pairs or not all(plain_enough(c) for c in cells):
        return None
    lines = _lines(None, [list(p) for p in pairs], [False, False], rule=False)
    width = max(cell_len(line) for line in lines)
    if title and ("\n" in title or cell_len(title) > width):
        return None
    return "".join(f"{line}\n" for line in [*([title] if title else []), *lines])


def write_table(
    rows: Iterable[Mapping[str, str]],
    columns: Sequence[tuple[str, str, bool]],
    stream: IO[str],
    *,
    title: str | None,
    caption: str | None,
) -> tuple[int, list[list[str]] | None]:
    """Draw ``rows`` (columns are key, header, right-justified). Returns the row count and, when
    the table could not be drawn as plain text, the rows read so that Rich can draw them."""
    keys = [c[0] for c in columns]
    grid = [["" if row.get(k) is None else str(row.get(k)) for k in keys] for row in rows]
    text = table_text([c[1] for c in columns], grid, [c[2] for c in columns], title=title, caption=caption)
    if text is None:
        return len(grid), grid
    stream.write(text)
    return len(grid), None
