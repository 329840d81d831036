"""Reading tabular input for import: CSV, TSV, XLSX, JSON (array) and JSONL, streamed.

Every reader yields ``(line, cells)`` pairs after a header: ``line`` is what a person finds in the
file (the physical line of a CSV record, the Excel row, the JSONL line, the JSON array item), and
``cells`` a list aligned with the headers. Cells are ``str`` for text formats; XLSX and JSON give
typed values (numbers, dates, booleans, None) that the importer converts per field.

Text is decoded strictly: UTF-8 (with or without BOM), then GB18030, or UTF-16 when the file
starts with its BOM, or exactly what ``--encoding`` says. A file that none of them decodes is
refused with the line that failed; it is never imported as mojibake.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import UsageError

FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
ENCODING_ORDER = ("utf-8", "gb18030")
BLOCK = 1 << 20


class InputError(UsageError):
    """The input file as a whole cannot be read (encoding, layout, format)."""


@dataclass
class Source:
    format: str
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    encoding: str | None = None
    delimiter: str | None = None
    excel_epoch: Any = None
    """The workbook's date system (1900 or 1904) for Excel serial numbers in date columns."""
    typed: bool = False
    """Cells may be numbers, dates or booleans (XLSX, JSON) rather than only text."""
    _closers: list[Any] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for item in self._closers:
            with contextlib.suppress(Exception):  # closing is best effort
                item.close()


def detect_format(name: str | None, explicit: str | None, head: bytes) -> str:
    if explicit:
        fmt = explicit.lower()
        if fmt not in FORMATS:
            raise InputError(f"unknown input format {explicit!r}; use one of {', '.join(FORMATS)}")
        return fmt
    if name and name != "-":
        fmt = EXTENSIONS.get(Path(name).suffix.lower())
        if fmt:
            return fmt
    # stdin or an unknown extension: look at the content.
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


def _line_of(consumed_newlines: int, chunk: bytes, position: int) -> int:
    return consumed_newlines + chunk[: max(position, 0)].count(b"\n") + 1


def _try_decode(binary: IO[bytes], encoding: str) -> int | None:
    """Decode the whole stream strictly; None if it decodes, else the 1-based failing line."""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    newlines = 0
    while True:
        chunk = binary.read(BLOCK)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            return _line_of(newlines, chunk, exc.start)
        if not chunk:
            return None
        newlines += chunk.count(b"\n")


def detect_encoding(binary: IO[bytes], explicit: str | None = None) -> str:
    """The encoding to read ``binary`` with, chosen strictly (see the module docstring)."""
    binary.seek(0)
    head = binary.read(4)
    if explicit:
        try:
            name = codecs.lookup(explicit).name
        except LookupError:
            raise InputError(f"unknown encoding {explicit!r}") from None
        if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        bad = _try_decode(binary, name)
        if bad is not None:
            raise InputError(f"line {bad} is not valid {explicit}; nothing was imported")
        return name
    if head.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ENCODING_ORDER
    failures = []
    for name in candidates:
        bad = _try_decode(binary, name)
        if bad is None:
            return name
        failures.append(f"not {name.upper().replace('-SIG', ' with BOM')} (line {bad})")
    raise InputError(
        "cannot decode the file: " + "; ".join(failures) + ". Give its encoding with --encoding; nothing was imported"
    )


def _spool(stream: IO[bytes]) -> IO[bytes]:
    """Copy a non-seekable stream (stdin) to an anonymous temporary file, so it can be read twice
    (encoding check, then parse) without holding it in memory."""
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, closed by Source.close
    shutil.copyfileobj(stream, tmp, BLOCK)
    tmp.seek(0)
    return tmp


def open_source(
    path: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    stdin: IO[bytes] | None = None,
) -> Source:
    """Open ``path`` (``-`` for stdin) for streaming; the header is read, rows are not yet."""
    if path == "-":
        binary = _spool(stdin if stdin is not None else sys.stdin.buffer)
    else:
        try:
            binary = open(path, "rb")  # noqa: SIM115 - closed by Source.close
        except FileNotFoundError:
            from .errors import NotFound

            raise NotFound(f"no such file: {path}", zh=f"没有这个文件：{path}") from None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}", zh=f"无法读取 {path}：{exc.strerror}") from None
    try:
        head = binary.read(64)
        binary.seek(0)
        kind = detect_format(path, fmt, head)
        if kind == "xlsx":
            return _open_xlsx(binary, sheet)
        enc = detect_encoding(binary, encoding)
        binary.seek(0)
        text = io.TextIOWrapper(binary, encoding=enc, newline="")
        if kind in ("csv", "tsv"):
            return _open_csv(text, kind, enc, delimiter)
        if kind == "jsonl":
            return _open_jsonl(text, enc)
        return _open_json(text, enc)
    except BaseException:
        binary.close()
        raise


# ---------------------------------------------------------------------------- CSV / TSV


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: the most frequent of tab, comma, semicolon and bar."""
    counts = {d: header_line.count(d) for d in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(text: io.TextIOWrapper, kind: str, enc: str, delimiter: str | None) -> Source:
    import csv

    if delimiter:
        delim = "\t" if delimiter in ("\\t", "tab") else delimiter
    elif kind == "tsv":
        delim = "\t"
    else:
        first = text.readline()
        text.seek(0)
        delim = sniff_delimiter(first)
    if len(delim) != 1:
        raise InputError(f"the delimiter must be one character, not {delim!r}")
    reader = csv.reader(text, delimiter=delim, strict=False)
    try:
        headers = next(reader)
    except StopIteration:
        raise InputError("the file is empty: no header line") from None
    except csv.Error as exc:
        raise InputError(f"line 1: {exc}") from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        previous = reader.line_num
        try:
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if cells:
                    yield line, cells
        except csv.Error as exc:
            raise InputError(f"line {previous + 1}: {exc}") from None

    return Source(kind, headers, rows(), encoding=enc, delimiter=delim, _closers=[text])


# ---------------------------------------------------------------------------- JSON / JSONL


def _record(value: Any, line: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"line {line}: expected an object with field names as keys, not {type(value).__name__}")
    return value


def _aligned(
    first: dict[str, Any], records: Iterator[tuple[int, dict[str, Any]]]
) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    headers = list(first)
    index = {key: i for i, key in enumerate(headers)}

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for line, rec in records:
            extra = [k for k in rec if k not in index]
            if extra:
                raise InputError(
                    f"line {line}: keys {', '.join(map(repr, extra))} are not in the first record; "
                    "every record must have the same keys"
                )
            yield line, [rec.get(k) for k in headers]

    return headers, rows()


def _open_jsonl(text: io.TextIOWrapper, enc: str) -> Source:
    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        for line, raw in enumerate(text, start=1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputError(f"line {line}: not valid JSON: {exc.msg}") from None
            yield line, _record(value, line)

    it = records()
    first = next(it, None)
    if first is None:
        return Source("jsonl", [], iter(()), encoding=enc, typed=True, _closers=[text])
    headers, rows = _aligned(first[1], _chain(first, it))
    return Source("jsonl", headers, rows, encoding=enc, typed=True, _closers=[text])


def _chain(
    first: tuple[int, dict[str, Any]], rest: Iterator[tuple[int, dict[str, Any]]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    yield first
    yield from rest


def iter_json_array(text: IO[str]) -> Iterator[tuple[int, Any]]:
    """Stream the items of a top-level JSON array without loading the whole document.
    Yields ``(item number, value)``; items are decoded one at a time with ``raw_decode``."""
    decoder = json.JSONDecoder()
    buf = text.read(BLOCK)
    pos = 0
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        more = text.read(BLOCK)
        if not more:
            eof = True
            return False
        buf = buf[pos:] + more
        pos = 0
        return True

    def skip_ws() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n\ufeff":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return ""

    if skip_ws() != "[":
        raise InputError("a JSON file must hold one array of objects ([{...}, ...]); use .jsonl for one object a line")
    pos += 1
    number = 0
    if skip_ws() == "]":
        return
    while True:
        skip_ws()
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if not fill():
                    raise InputError(f"item {number + 1}: not valid JSON: {exc.msg}") from None
        pos = end
        number += 1
        yield number, value
        nxt = skip_ws()
        if nxt == ",":
            pos += 1
        elif nxt == "]":
            return
        else:
            raise InputError(f"item {number}: expected , or ] after it")


def _open_json(text: io.TextIOWrapper, enc: str) -> Source:
    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, value in iter_json_array(text):
            yield number, _record(value, number)

    it = records()
    first = next(it, None)
    if first is None:
        return Source("json", [], iter(()), encoding=enc, typed=True, _closers=[text])
    headers, rows = _aligned(first[1], _chain(first, it))
    return Source("json", headers, rows, encoding=enc, typed=True, _closers=[text])


# ---------------------------------------------------------------------------- XLSX


def _open_xlsx(binary: IO[bytes], sheet: str | None) -> Source:
    import zipfile

    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError("reading XLSX needs openpyxl: pip install openpyxl") from None
    try:
        wb = load_workbook(binary, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"not a readable XLSX workbook: {exc}") from None
    if sheet:
        if sheet not in wb.sheetnames:
            raise InputError(f"no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}")
        ws = wb[sheet]
    else:
        ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header_row: tuple[Any, ...] | None = None
    header_line = 0
    for header_line, values in enumerate(it, start=1):  # noqa: B007 - used after the loop
        if any(v not in (None, "") for v in values):
            header_row = values
            break
    if header_row is None:
        wb.close()
        raise InputError("the worksheet is empty: no header row")
    headers = ["" if v is None else str(v) for v in header_row]
    while headers and headers[-1] == "":
        headers.pop()
    width = len(headers)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for line, values in enumerate(it, start=header_line + 1):
            cells = list(values[:width])
            if not any(v not in (None, "") for v in cells):
                continue
            if len(cells) < width:
                cells.extend([None] * (width - len(cells)))
            yield line, cells

    return Source("xlsx", headers, rows(), excel_epoch=wb.epoch, typed=True, _closers=[wb, binary])
