"""Export of customers and follow-ups: CSV/TSV, XLSX, JSON, JSONL. Streamed; files are written
through :mod:`crmcli.outputs` (0600, never over the database or an existing file, renamed into
place when complete).

Spreadsheet safety (OWASP CSV injection): a CSV/TSV cell starting with ``=``, ``+``, ``-``, ``@``,
tab or CR gets a leading ``'``, which ``crm import`` strips again, so ``+86…`` phones round-trip.
XLSX cells are written as typed strings and need no prefix. Phones are masked unless ``reveal``;
a reveal is written to the audit trail before anything is exported.

Custom fields (:mod:`crmcli.custom_fields`, retired ones too) follow the built-in columns in every
format, named and valued like them: integers and decimals as numbers (decimals written in full in
text formats, never as ``1e-05``), dates as dates, choice fields as codes or labels.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from . import parsing, phones
from .customers import PORTABLE_COLUMNS, columns
from .errors import UsageError
from .fields import BY_KEY, custom_keys
from .importing import FOLLOWUP_KEYS, FOLLOWUP_LABELS
from .options import OptionSet
from .query import Filters, order_by
from .storage import Store
from .textsafe import FORMULA_START, csv_cell, neutralise  # noqa: F401 - shared with every CSV listing

FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl", "vcf")
EXPORT_COLUMNS = PORTABLE_COLUMNS
LOST_FILL = "FFC7CE"
EXTRA_LABELS = {"archived_at": ("归档时间", "Archived at"), "tags": ("标签", "Tags")}
TAGS_SQL = "(SELECT group_concat(tag, ';') FROM (SELECT tag FROM tags WHERE customer_id = customers.id ORDER BY tag))"
"""A customer's tags as one ``;``-separated cell (what ``crm import`` reads back)."""


@dataclass
class ExportSettings:
    fmt: str = "csv"
    headers: str = "keys"  # keys | zh | en
    labels: bool = False  # dropdown labels instead of codes (XLSX and --excel default to labels)
    excel: bool = False  # CSV with a UTF-8 BOM and CRLF line ends, for Excel
    reveal: bool = False
    followups: bool = False
    lang: str = "en"


EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".vcf": "vcf"}


def format_for(path: str | None, explicit: str | None) -> str:
    """The export format: ``explicit`` (``--format``), else the file's extension. An unknown
    extension is refused rather than guessed: ``-o out.pdf`` holding CSV would surprise."""
    if explicit:
        fmt = explicit.lower()
        if fmt not in FORMATS:
            raise UsageError(
                f"unknown export format {explicit!r}; use one of {', '.join(FORMATS)}",
                zh=f"未知的导出格式 {explicit!r}；可用：{', '.join(FORMATS)}",
            )
        return fmt
    if path and path != "-":
        suffix = Path(path).suffix.lower()
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
        if _is_stream(path):
            return "csv"  # /dev/stdout, a FIFO: no extension to go by
        known = ", ".join(EXTENSIONS)
        raise UsageError(
            f"{path}: unknown extension {suffix or '(none)'!r}; use one of {known}, or give --format",
            zh=f"{path}：未知的扩展名 {suffix or '（无）'!r}；可用：{known}，或用 --format 指定格式",
        )
    return "csv"


def _is_stream(path: str) -> bool:
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)




def header_for(key: str, mode: str, followups: bool) -> str:
    if mode == "keys":
        return key
    if followups:
        zh, en = FOLLOWUP_LABELS[key]
    elif key in EXTRA_LABELS:
        zh, en = EXTRA_LABELS[key]
    else:
        spec = BY_KEY[key]
        zh, en = spec.zh, spec.en
    return zh if mode == "zh" else en


def export_columns(store: Store) -> tuple[str, ...]:
    """The customer columns an export writes: the built-in ones, then this database's custom fields."""
    columns(store.conn)
    return EXPORT_COLUMNS + ("tags",) + custom_keys()  # tags: built-in, so before the custom fields


def customer_rows(
    store: Store, filters: Filters, order: list[tuple[str, bool]] | None = None
) -> Iterator[dict[str, Any]]:
    keys = (*columns(store.conn), "tags")  # custom fields included
    where, params = filters.where()
    sql = f"SELECT {', '.join(columns())}, {TAGS_SQL} FROM customers WHERE {where} {order_by(order or [], reveal=filters.reveal)}"
    cursor = store.conn.execute(sql, params)  # now, not on the first row: a refused query writes nothing
    return (dict(zip(keys, row)) for row in cursor)


def followup_rows(store: Store, filters: Filters) -> Iterator[dict[str, Any]]:
    where, params = filters.where()
    cols = ", ".join(f'"{k}"' for k in FOLLOWUP_KEYS)
    sql = f"SELECT {cols} FROM followups WHERE customer_id IN (SELECT id FROM customers WHERE {where}) ORDER BY id"
    for row in store.conn.execute(sql, params):
        yield dict(zip(FOLLOWUP_KEYS, row))


def export(
    store: Store,
    filters: Filters,
    settings: ExportSettings,
    out: IO[Any],
    options: OptionSet,
    order: list[tuple[str, bool]] | None = None,
) -> int:
    """Write the export to ``out`` (text for csv/tsv/json/jsonl, binary for xlsx). Returns rows."""
    keys: Sequence[str] = FOLLOWUP_KEYS if settings.followups else export_columns(store)
    rows = followup_rows(store, filters) if settings.followups else customer_rows(store, filters, order)
    if settings.reveal and not settings.followups:
        from . import audit

        rows = audit.reveal(store, rows, "export --reveal")  # exactly the rows written, each recorded first
    fmt = settings.fmt
    if fmt == "vcf":
        from .vcard import write_vcards

        if settings.followups:
            raise UsageError("a vCard export holds customers, not --followups", zh="vCard 导出只包含客户，不能用 --followups")
        return write_vcards(rows, out, reveal=settings.reveal)
    if fmt == "xlsx":
        return _write_xlsx(rows, keys, settings, out, options)
    if fmt in ("json", "jsonl"):
        return _write_json(rows, keys, settings, out, options)
    return _write_csv(rows, keys, settings, out, options)


def _plain(key: str, value: Any, settings: ExportSettings, options: OptionSet, labels: bool) -> Any:
    """A stored value as exported (text formats): masked phones, yuan, labels when asked."""
    if value is None:
        return None
    if settings.followups:
        if labels and key in ("channel", "kind"):
            return options.label(key, value, settings.lang)
        return value
    spec = BY_KEY.get(key)
    kind = spec.kind if spec else "text"
    if kind == "phone":
        return value if settings.reveal else phones.mask_phone(value)
    if kind == "amount":
        return parsing.format_amount(value)
    if kind == "choice" and labels:
        return options.label(key, value, settings.lang)
    if kind == "flag":
        return "true" if value else "false"
    if kind == "decimal":
        return decimal_text(value)
    return value


def _is_custom_number(key: str) -> bool:
    spec = BY_KEY.get(key)
    return spec is not None and spec.custom and spec.kind in ("integer", "decimal")


def decimal_text(value: float) -> str:
    """A decimal field's value in full (``0.00001``, ``1234.5``), never in exponent notation: the
    shortest text that reads back as the same number."""
    return format(Decimal(repr(float(value))), "f")


def _write_csv(
    rows: Iterator[dict[str, Any]], keys: Sequence[str], settings: ExportSettings, out: IO[str], options: OptionSet
) -> int:
    if settings.excel:
        out.write("\ufeff")
    writer = csv.writer(
        out, delimiter="\t" if settings.fmt == "tsv" else ",", lineterminator="\r\n" if settings.excel else "\n"
    )
    labels = settings.labels
    writer.writerow([header_for(k, settings.headers, settings.followups) for k in keys])
    # a custom number field holds numbers only: -3 is a number to a spreadsheet, never a formula
    numbers = set() if settings.followups else {k for k in keys if _is_custom_number(k)}
    n = 0
    for n, row in enumerate(rows, start=1):
        cells = []
        for key in keys:
            value = _plain(key, row.get(key), settings, options, labels)
            if value is None:
                cells.append("")
            else:
                cells.append(str(value) if key in numbers else csv_cell(str(value)))
        writer.writerow(cells)
    out.flush()
    return n


def _write_json(
    rows: Iterator[dict[str, Any]], keys: Sequence[str], settings: ExportSettings, out: IO[str], options: OptionSet
) -> int:
    from .render import machine_projector, write_machine

    project = machine_projector(options, settings.lang, settings.reveal)
    custom = [k for k in keys if k in BY_KEY and BY_KEY[k].custom]

    def machine(row: dict[str, Any]) -> dict[str, Any]:
        if settings.followups:
            return row
        data = project({k: v for k, v in row.items() if k not in custom})
        data["archived_at"] = row.get("archived_at")
        if custom:  # after the built-in keys, each choice field with its KEY_label
            data.update(project({k: row.get(k) for k in custom}))
        return data

    return write_machine((machine(r) for r in rows), settings.fmt, out)


def _write_xlsx(
    rows: Iterator[dict[str, Any]], keys: Sequence[str], settings: ExportSettings, out: IO[bytes], options: OptionSet
) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    title = (
        ("跟进记录" if settings.lang == "zh" else "Follow-ups")
        if settings.followups
        else ("客户" if settings.lang == "zh" else "Customers")
    )
    ws = wb.create_sheet(title)
    header_mode = settings.headers
    bold = Font(bold=True)
    header = []
    for key in keys:
        cell = WriteOnlyCell(ws, value=header_for(key, header_mode, settings.followups))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    lost = PatternFill(start_color=LOST_FILL, end_color=LOST_FILL, fill_type="solid")
    date_keys = (
        {"date", "next_date"} if settings.followups else {k for k in keys if k in BY_KEY and BY_KEY[k].kind == "date"}
    )
    number_keys = set() if settings.followups else {k for k in keys if _is_custom_number(k)}
    n = 0
    for n, row in enumerate(rows, start=1):
        fill = lost if not settings.followups and row.get("status") == "lost" else None
        cells = []
        for key in keys:
            value = row.get(key)
            if value is None:
                out_value: Any = None
            elif key in date_keys:
                out_value = dt.date.fromisoformat(value)
            elif not settings.followups and BY_KEY.get(key) is not None and BY_KEY[key].kind == "amount":
                out_value = value / 100
            elif key in ("version", "satisfaction", "id") and isinstance(value, int):
                out_value = value
            elif key in number_keys and isinstance(value, (int, float)):
                out_value = int(value) if BY_KEY[key].kind == "integer" else float(value)
            else:
                plain = _plain(key, value, settings, options, settings.labels)
                out_value = plain if isinstance(plain, (int, float)) else str(plain)
            cell = WriteOnlyCell(ws, value=out_value)
            if type(out_value) is float and key in number_keys and float(f"{out_value:.16g}") != out_value:
                # openpyxl writes numbers with 16 digits; a double may need 17 to read back the same
                cell = WriteOnlyCell(ws, value=repr(out_value))
                cell.data_type = "n"
            elif isinstance(out_value, str):
                cell.data_type = "s"  # typed text: never a formula, phones and IDs stay text
                if key in ("phone", "id", "customer_id"):
                    cell.number_format = "@"
            elif isinstance(out_value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(out_value, float) and key not in number_keys:
                cell.number_format = "0.00"  # yuan; a decimal field keeps General: 0.125 stays 0.125
            if fill is not None:
                cell.fill = fill
            cells.append(cell)
        ws.append(cells)
    wb.save(out)
    return n


def default_stdout(fmt: str) -> IO[Any]:
    if fmt == "xlsx":
        if sys.stdout.isatty():
            raise UsageError(
                "an XLSX export is binary: give --out FILE.xlsx (or redirect stdout)",
                zh="XLSX 导出是二进制文件：请给出 --out 文件.xlsx（或重定向标准输出）",
            )
        return sys.stdout.buffer
    return sys.stdout
