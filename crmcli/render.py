"""All output: Rich tables for people, JSON/JSONL/CSV/TSV/IDs for scripts, masking on display.

Rich is imported only when a table is drawn; machine formats never load it.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from . import parsing, phones, textsafe
from .fields import BY_KEY
from .options import OptionSet

FORMATS = ("table", "json", "jsonl", "csv", "tsv", "ids")
COMPACT = (",", ":")
"""JSON objects are written compactly, the way SQLite's json_object writes them (see jsonsql),
so every listing prints the same bytes whichever path built it."""
STATUS_STYLES = {"lost": "red", "active": "green", "paused": "yellow", "intent": "cyan"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    justify: str = "left"
    flexible: bool | None = None
    """Long free text that may be cut with an ellipsis (or wrapped under ``--wide``) to fit a
    terminal. None: decided from the key (see :func:`is_flexible`). Everything else — IDs, codes,
    labels, names of people, dates, amounts, numbers — is never wrapped or cut."""


# Free-text columns that are not customer fields (history, today --explain, grade, archive…).
FLEXIBLE_EXTRAS = frozenset({"summary", "how", "note", "reason", "content", "result", "filters", "columns", "sort"})
# Which columns stay when a terminal is too narrow for all of them: most important first; columns
# not named here come after, in the order asked for. The first column (the ID) always stays.
PRIORITY = (
    "id", "rank", "name", "status", "days_overdue", "next_date", "score", "days_inactive", "last_contact",
    "days_since_contact", "owner", "amount", "phone", "contact", "grade", "last_followup", "next_step", "when",
    "kind", "by", "summary", "industry",
)
COLUMN_GAP = 3  # box.SIMPLE_HEAD without edges: one cell of padding each side plus the divider
MIN_FLEX = 12  # narrowest a free-text column is cut to before columns are dropped instead
FLEX_READABLE = 24  # free text gets this much before fixed columns widen to fit their headers


def is_flexible(col: Column) -> bool:
    if col.flexible is not None:
        return col.flexible
    spec = BY_KEY.get(col.key)
    if spec is None:
        return col.key in FLEXIBLE_EXTRAS
    return spec.kind in ("longtext", "email") or (spec.kind == "text" and (spec.max_len or 0) > 50)


@dataclass(frozen=True)
class Layout:
    """Which columns a terminal of ``width`` cells shows, and how wide each is."""

    columns: list[Column]
    widths: list[int]
    hidden: list[Column]


def fit_columns(columns: Sequence[Column], rows: Sequence[Mapping[str, str]], width: int, *, wide: bool = False) -> Layout:
    """Fit a table into ``width`` cells: fixed columns get their widest value (never cut),
    free-text ones what is left (cut with an ellipsis, at least MIN_FLEX); when even that does
    not fit, columns are dropped, least important first (PRIORITY). ``wide`` drops nothing (the
    free text wraps in its share instead; the table may then be wider than ``width``)."""
    from rich.cells import cell_len

    def natural(col: Column) -> int:
        return max([cell_len(col.header), *(cell_len(str(r.get(col.key, "") or "")) for r in rows)])

    def header_word(col: Column) -> int:
        return max((cell_len(w) for w in col.header.split()), default=0)

    def minimum(col: Column) -> int:
        values = max((cell_len(str(r.get(col.key, "") or "")) for r in rows), default=0)
        if is_flexible(col):
            return min(natural(col), max(MIN_FLEX, header_word(col)))
        return max(values, header_word(col))  # a header may wrap onto two lines; values never

    order = {key: i for i, key in enumerate(PRIORITY)}
    kept = list(columns)
    hidden: list[Column] = []

    def total(cols: list[Column]) -> int:
        return sum(minimum(c) for c in cols) + COLUMN_GAP * max(len(cols) - 1, 0)

    while not wide and len(kept) > 1 and total(kept) > width:
        # The least important: highest PRIORITY rank (unnamed ones rank after all named, later
        # columns before earlier), never the first column.
        victim = max(kept[1:], key=lambda c: (order.get(c.key, len(PRIORITY)), kept.index(c)))
        kept.remove(victim)
        hidden.append(victim)
    widths = [minimum(c) for c in kept]
    spare = width - total(kept)
    # Share what is left: free text up to a readable width, then fixed columns up to their
    # whole header (one line), then free text up to its longest value.
    for flexible_pass, cap in ((True, FLEX_READABLE), (False, None), (True, None)):
        for i, col in enumerate(kept):
            if spare <= 0:
                break
            if is_flexible(col) != flexible_pass:
                continue
            target = natural(col) if cap is None else min(natural(col), cap)
            grow = min(target - widths[i], spare)
            if grow > 0:
                widths[i] += grow
                spare -= grow
    return Layout(kept, widths, [c for c in columns if c in hidden])


def hidden_note(hidden: Sequence[Column], lang: str) -> str:
    n = len(hidden)
    names = ", ".join(c.key for c in hidden)
    if lang == "zh":
        return f"隐藏了 {n} 列；请用 --columns 或更宽的终端（隐藏：{names}；--wide 显示全部）"
    what = "1 column hidden" if n == 1 else f"{n} columns hidden"
    return f"{what}; --columns or a wider terminal (hidden: {names}; --wide shows all)"


def machine_projector(options: OptionSet, lang: str, reveal: bool) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function turning a customer into what scripts see: field keys, codes plus
    ``<key>_label``, yuan as numbers, phones masked unless ``reveal``.

    Labels and field kinds are looked up once here, not per row: exports and ``stale`` stream
    hundreds of thousands of rows through this.
    """
    labels = {field: {o.code: o.label(lang) for o in opts} for field, opts in options.by_field.items()}
    kinds: dict[str, str] = {}
    mask = phones.mask_phone
    to_yuan = parsing.fen_to_yuan

    def project(rec: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in rec.items():
            kind = kinds.get(key)
            if kind is None:
                spec = BY_KEY.get(key)
                kind = kinds[key] = "skip" if key in ("archived_at", "phone_key") else (spec.kind if spec else "text")
            if kind == "skip":
                continue
            if value is not None:
                if kind == "phone":
                    value = value if reveal else mask(value)
                elif kind == "amount":
                    value = to_yuan(value)
                elif kind == "flag":
                    value = bool(value)
            out[key] = value
            if kind == "choice":
                out[f"{key}_label"] = labels.get(key, {}).get(value, value) if value else None
        return out

    return project


def customer_machine(rec: Mapping[str, Any], options: OptionSet, lang: str, reveal: bool) -> dict[str, Any]:
    """One customer as scripts see it (see :func:`machine_projector`, which is faster for many)."""
    return machine_projector(options, lang, reveal)(rec)


def customer_display(rec: Mapping[str, Any], options: OptionSet, lang: str, reveal: bool) -> dict[str, str]:
    """A customer as a person reads it: labels, masked phone, formatted money."""
    out: dict[str, str] = {}
    for key, value in rec.items():
        spec = BY_KEY.get(key)
        if value is None or value == "":
            out[key] = ""
        elif spec is None:
            out[key] = str(value)
        elif spec.kind == "choice":
            out[key] = options.label(key, value, lang)
        elif spec.kind == "phone":
            out[key] = value if reveal else phones.mask_phone(value)
        elif spec.kind == "amount":
            out[key] = parsing.format_amount(value)
        elif spec.kind == "flag":
            out[key] = "✓" if value else ""
        else:
            out[key] = str(value)
    return out


def customer_columns(keys: Sequence[str], lang: str) -> list[Column]:
    cols = []
    for key in keys:
        spec = BY_KEY.get(key)
        header = spec.label(lang) if spec else key
        cols.append(Column(key, header, "right" if spec and spec.kind == "amount" else "left"))
    return cols


def write_machine(rows: Iterable[Mapping[str, Any]], fmt: str, out: IO[str], keys: Sequence[str] | None = None) -> int:
    """Stream rows in a machine format; returns how many were written. ``keys`` picks and orders
    the CSV/TSV columns (JSON keeps every key of each row)."""
    n = 0
    if fmt == "json":
        # The first row is read before anything is written: a query that fails (at its first
        # step) leaves stdout empty instead of a dangling "[".
        rows = iter(rows)
        first_row = next(rows, None)
        out.write("[")
        for n, row in enumerate(_chain(first_row, rows) if first_row is not None else (), start=1):
            out.write("\n  " if n == 1 else ",\n  ")
            out.write(safe_json(json.dumps(row, ensure_ascii=False, separators=COMPACT)))
        out.write("\n]\n" if n else "]\n")
    elif fmt == "jsonl":
        for n, row in enumerate(rows, start=1):
            out.write(safe_json(json.dumps(row, ensure_ascii=False, separators=COMPACT)) + "\n")
    elif fmt in ("csv", "tsv"):
        writer = csv.writer(out, dialect="excel-tab" if fmt == "tsv" else "excel", lineterminator="\n")
        it: Iterator[Mapping[str, Any]] = iter(rows)
        first = next(it, None)
        header = list(keys) if keys else (list(first) if first else [])
        if header:
            writer.writerow(header)
        if first is not None:
            for n, row in enumerate(_chain(first, it), start=1):
                writer.writerow([_cell(row.get(k)) for k in header])
    elif fmt == "ids":
        for n, row in enumerate(rows, start=1):
            out.write(f"{row['id']}\n")
    else:
        raise ValueError(fmt)
    out.flush()
    return n


def write_json_strings(objects: Iterable[str], fmt: str, out: IO[str]) -> int:
    """Stream objects that are already JSON text (built by SQLite) as ``json`` or ``jsonl``."""
    n = 0
    if fmt == "jsonl":
        for n, obj in enumerate(objects, start=1):
            out.write(safe_json(obj) + "\n")
    else:
        objects = iter(objects)
        first = next(objects, None)  # before "[": a failing query leaves stdout empty
        out.write("[")
        for n, obj in enumerate(_chain_text(first, objects) if first is not None else (), start=1):
            out.write("\n  " if n == 1 else ",\n  ")
            out.write(safe_json(obj))
        out.write("\n]\n" if n else "]\n")
    out.flush()
    return n


def safe_json(text: str) -> str:
    """JSON text without raw C1 controls or bidi overrides (JSON writers escape only U+0000–U+001F)."""
    return textsafe.escape_json(text)


def _chain(first: Mapping[str, Any], rest: Iterator[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    yield first
    yield from rest


def _chain_text(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _cell(value: Any) -> str:
    """A CSV/TSV cell: the same spreadsheet-formula neutralising as ``crm export`` (these listings
    are mailed by cron jobs) and no raw control characters. Numbers are never prefixed: ``-3`` is a
    number to a spreadsheet, not a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        return textsafe.csv_cell(json.dumps(value, ensure_ascii=False))
    return textsafe.csv_cell(str(value))


def use_colour(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


UNBOUNDED = 100_000  # the width of a console that is not a terminal: lines are never wrapped


def console(stream: IO[str] | None = None) -> Any:
    """A Rich console: the terminal's width on a TTY (coloured unless NO_COLOR); plain and
    unwrapped otherwise, so cron mail and pipes get stable text. FORCE_COLOR stands in for a
    terminal (colour, and the width of $COLUMNS or 80)."""
    from rich.console import Console

    stream = stream or sys.stdout
    terminal = _isatty(stream)
    if terminal or use_colour(stream):
        colour = use_colour(stream)
        return Console(file=stream, highlight=False, force_terminal=True if colour else None,
                       color_system="auto" if colour else None, no_color=not colour)
    return Console(file=stream, color_system=None, width=UNBOUNDED, highlight=False, soft_wrap=True)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def table(
    rows: Iterable[Mapping[str, str]],
    columns: Sequence[Column],
    *,
    stream: IO[str] | None = None,
    row_style: Callable[[Mapping[str, str]], str | None] | None = None,
    title: str | None = None,
    caption: str | None = None,
    wide: bool = False,
    lang: str | None = None,
) -> int:
    """Draw a Rich table (CJK widths handled by Rich's cell measurement). Returns the row count.

    On a terminal the table fits its width: IDs, codes, dates and amounts are never wrapped or
    cut, free text is cut with an ellipsis, and columns that still do not fit are dropped by
    PRIORITY with a note on stderr. ``wide`` shows every column, wrapping free text instead.
    Off a terminal nothing is fitted: every line is whole, for pipes and cron mail, and the same
    text is drawn without importing Rich (a terminal with NO_COLOR is still fitted, by Rich)."""
    out = stream or sys.stdout
    if not use_colour(out) and not _isatty(out):
        from . import plaintable

        n, unplain = plaintable.write_table(
            rows, [(c.key, c.header, c.justify == "right") for c in columns], out,
            title=title, caption=caption,
        )
        if unplain is None:
            return n
        rows = [dict(zip((c.key for c in columns), cells)) for cells in unplain]
    from rich import box
    from rich.table import Table
    from rich.text import Text

    con = console(stream)
    coloured = con.color_system is not None
    fitted = con.width < UNBOUNDED
    materialised = [dict(r) for r in rows]
    shown = list(columns)
    widths: list[int | None] = [None] * len(shown)
    layout = None
    if fitted:
        layout = fit_columns(shown, materialised, con.width, wide=wide)
        shown, widths = layout.columns, list(layout.widths)
        # --wide: wider than the terminal rather than cutting or dropping anything.
        con.width = max(con.width, sum(layout.widths) + COLUMN_GAP * max(len(shown) - 1, 0))
    tbl = Table(
        box=box.SIMPLE_HEAD, title=_plain_title(title), caption=_plain_title(caption), header_style="bold" if coloured else "",
        title_justify="left", caption_justify="left", pad_edge=False, show_edge=False,
    )
    flexible = [is_flexible(c) for c in shown]
    for col, width, flex in zip(shown, widths, flexible):
        if not fitted:
            tbl.add_column(col.header, justify=col.justify, no_wrap=True, overflow="fold")  # type: ignore[arg-type]
        elif flex:
            tbl.add_column(col.header, justify=col.justify, width=width, overflow="fold" if wide else "ellipsis",  # type: ignore[arg-type]
                           no_wrap=not wide)
        else:
            # Never wrapped, never cut: as wide as the widest value (the header may wrap).
            from rich.cells import cell_len

            need = max((cell_len(str(r.get(col.key, "") or "")) for r in materialised), default=1)
            tbl.add_column(Text(col.header, overflow="fold"), justify=col.justify,  # type: ignore[arg-type]
                           width=width, min_width=need, overflow="ellipsis")

    def cell(value: object, col: Column, flex: bool) -> Any:
        if not isinstance(value, str):
            value = "" if value is None else str(value)
        # Stored text is drawn literally (never as Rich markup), control characters escaped.
        text = textsafe.escape(value)
        if not fitted:
            return Text(text)
        justify: Any = col.justify
        if flex:
            return Text(text, justify=justify, no_wrap=not wide, overflow="fold" if wide else "ellipsis")
        return Text(text, justify=justify, no_wrap=True, overflow="ellipsis")  # never reached: width >= value

    for row in materialised:
        style = row_style(row) if (row_style and coloured) else None
        tbl.add_row(*(cell(row.get(c.key, ""), c, f) for c, f in zip(shown, flexible)), style=style)
    con.print(tbl)
    if layout is not None and layout.hidden:
        from . import i18n

        sys.stderr.write(hidden_note(layout.hidden, lang or i18n.detect()) + "\n")
        sys.stderr.flush()
    return len(materialised)


def _plain_cell(value: Any) -> Any:
    """A table cell as drawn: stored text taken literally (``[red]`` is not Rich markup) and its
    control characters escaped, so a name can never retitle or clear the terminal."""
    if not isinstance(value, str):
        return value
    from rich.text import Text

    return Text(textsafe.escape(value))


def _plain_title(title: str | None) -> Any:
    return None if title is None else _plain_cell(title)


def key_values(pairs: Sequence[tuple[str, str]], *, stream: IO[str] | None = None, title: str | None = None) -> None:
    """A two-column label/value view for ``show``."""
    if not use_colour(stream or sys.stdout):
        from . import plaintable

        text = plaintable.key_values_text(pairs, title=title)
        if text is not None:
            (stream or sys.stdout).write(text)
            return
    from rich import box
    from rich.table import Table

    con = console(stream)
    tbl = Table(box=box.SIMPLE, show_header=False, title=_plain_title(title), title_justify="left", pad_edge=False, show_edge=False)
    tbl.add_column(style="bold" if con.color_system else "", no_wrap=True)
    tbl.add_column(overflow="fold")
    for label, value in pairs:
        tbl.add_row(label, _plain_cell(value))
    con.print(tbl)


def status_style(raw_status: str | None) -> str | None:
    return STATUS_STYLES.get(raw_status or "")


def bar_chart(
    items: Sequence[tuple[str, float | int | None]],
    *,
    stream: IO[str] | None = None,
    title: str | None = None,
    width: int = 40,
    fmt: Callable[[float | int], str] = str,
) -> None:
    """Horizontal bars, one per (label, value), scaled to the largest value. Coloured on a TTY;
    plain block characters otherwise (cron mail and pipes stay readable)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    con = console(stream)
    coloured = con.color_system is not None
    peak = max((v for _, v in items if v), default=0)
    tbl = Table(box=box.SIMPLE, show_header=False, title=_plain_title(title), title_justify="left", pad_edge=False, show_edge=False)
    tbl.add_column(no_wrap=True)
    tbl.add_column(no_wrap=True)
    tbl.add_column(justify="right", no_wrap=True)
    for label, value in items:
        eighths = round((value or 0) / peak * width * 8) if peak else 0
        full, part = divmod(eighths, 8)
        bar = "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
        tbl.add_row(_plain_cell(label), Text(bar, style="cyan" if coloured else ""), "" if value is None else fmt(value))
    con.print(tbl)
