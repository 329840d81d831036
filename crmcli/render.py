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


def console(stream: IO[str] | None = None) -> Any:
    """A Rich console: colour and terminal width on a TTY; plain and unwrapped otherwise, so
    cron mail and pipes get stable text."""
    from rich.console import Console

    stream = stream or sys.stdout
    if use_colour(stream):
        return Console(file=stream, highlight=False)
    return Console(file=stream, color_system=None, width=100_000, highlight=False, soft_wrap=True)


def table(
    rows: Iterable[Mapping[str, str]],
    columns: Sequence[Column],
    *,
    stream: IO[str] | None = None,
    row_style: Callable[[Mapping[str, str]], str | None] | None = None,
    title: str | None = None,
    caption: str | None = None,
) -> int:
    """Draw a Rich table (CJK widths handled by Rich's cell measurement). Returns the row count.
    Without colour (pipes, cron, NO_COLOR) the same text is drawn without importing Rich."""
    if not use_colour(stream or sys.stdout):
        from . import plaintable

        n, unplain = plaintable.write_table(
            rows, [(c.key, c.header, c.justify == "right") for c in columns], stream or sys.stdout,
            title=title, caption=caption,
        )
        if unplain is None:
            return n
        rows = [dict(zip((c.key for c in columns), cells)) for cells in unplain]
    from rich import box
    from rich.table import Table

    con = console(stream)
    coloured = con.color_system is not None
    tbl = Table(
        box=box.SIMPLE_HEAD, title=_plain_title(title), caption=_plain_title(caption), header_style="bold" if coloured else "",
        title_justify="left", caption_justify="left", pad_edge=False, show_edge=False,
    )
    for col in columns:
        tbl.add_column(col.header, justify=col.justify, no_wrap=not coloured, overflow="fold")  # type: ignore[arg-type]
    n = 0
    for n, row in enumerate(rows, start=1):
        style = row_style(row) if (row_style and coloured) else None
        tbl.add_row(*(_plain_cell(row.get(c.key, "")) for c in columns), style=style)
    con.print(tbl)
    return n


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
