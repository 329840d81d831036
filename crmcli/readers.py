"""Reading tabular input for import: CSV, TSV, XLSX, XLS, ODS, JSON (array), JSONL and vCard, streamed.

Every reader yields ``(line, cells)`` pairs after a header: ``line`` is what a person finds in the
file (the physical line of a CSV record, the Excel row, the JSONL line, the JSON array item), and
``cells`` a list aligned with the headers. Cells are ``str`` for text formats; XLSX and JSON give
typed values (numbers, dates, booleans, None) that the importer converts per field.

Text is decoded strictly: UTF-8 (with or without BOM), then GB18030, or UTF-16 when the file
starts with its BOM, or exactly what ``--encoding`` says. A file that none of them decodes is
refused with the line that failed; it is never imported as mojibake.

Limits (a hostile file must not exhaust memory): a cell at most :data:`MAX_CELL` (1 MiB), a line
of a text file (or one JSON item) at most :data:`MAX_LINE` (16 MiB), JSON nested at most as deep
as Python's recursion limit allows and numbers of at most :data:`MAX_DIGITS` digits. Workbooks
have their own checks (:mod:`crmcli.workbooks`). The format comes from the content's magic bytes
where it has any (zip, OLE2), then the extension; a binary file that is none of ours is refused.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import io
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import UsageError, shorten
from .workbooks import MAX_CELL, ODS_MIMETYPE, open_workbook

FORMATS = ("csv", "tsv", "xlsx", "xls", "ods", "json", "jsonl", "vcf")
WORKBOOKS = ("xlsx", "xls", "ods")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".ods": "ods",
    ".vcf": "vcf",
    ".vcard": "vcf",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
ENCODING_ORDER = ("utf-8", "gb18030")
BLOCK = 1 << 20
MAX_LINE = 16 << 20
"""The longest line of a text file (and the largest JSON array item), in characters."""
MAX_DIGITS = 40
"""The longest number in a JSON file: no field needs more, and Python refuses 4300+ digit ints."""
NOT_OURS = "not a CSV/XLSX/XLS/ODS/JSON file"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Magic bytes of formats people send by mistake, to say what the file is.
_OTHER_MAGIC = (
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
)
_TEXT_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# What a text encoding must do to the characters a CSV is made of: keep them as they are (or be UTF-16/32).
_ASCII_PROBE = "Az09 ,;|\t\r\n\"'-_.@+()#"


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
    warnings: list[str] = field(default_factory=list)
    """What the reader noticed and did not refuse (duplicate headers, cells beyond the header)."""
    _closers: list[Any] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for item in self._closers:
            with contextlib.suppress(Exception):  # closing is best effort
                item.close()


def _sniff_binary(head: bytes) -> str | None:
    """The format a file's magic bytes say (xlsx, ods, xls), "" for another binary file, None for text."""
    if head.startswith(b"PK\x03\x04"):
        # An ODS file starts with its uncompressed "mimetype" member (ODF 1.2, section 3.3).
        return "ods" if head[30:38] == b"mimetype" and ODS_MIMETYPE in head[38:120] else "xlsx"
    if head.startswith(OLE2):
        return "xls"
    if head.startswith(_TEXT_BOMS):
        return None
    for magic, _ in _OTHER_MAGIC:
        if head.startswith(magic):
            return ""
    if b"\x00" in head:
        return ""
    return None


def _what_binary(head: bytes) -> str:
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return f" (it is {what})"
    return " (it is binary)"


def detect_format(name: str | None, explicit: str | None, head: bytes) -> str:
    """The input format: ``explicit``, else the content's magic bytes, else the extension, else sniffed."""
    magic = _sniff_binary(head)
    label = shorten(Path(name).name if name and name != "-" else "stdin")
    if explicit:
        fmt = explicit.lower()
        if fmt not in FORMATS:
            raise InputError(
                f"unknown input format {shorten(explicit)!r}; use one of {', '.join(FORMATS)}",
                zh=f"未知的输入格式 {shorten(explicit)!r}；可用：{', '.join(FORMATS)}",
            )
        if fmt in WORKBOOKS and magic != fmt and not (fmt == "xlsx" and magic == "ods"):
            raise InputError(f"{label} is not an {fmt.upper()} file", zh=f"{label} 不是 {fmt.upper()} 文件")
        if fmt not in WORKBOOKS and magic is not None:
            if magic == "":
                raise InputError(f"{label} is {NOT_OURS}{_what_binary(head)}", zh=f"{label} 不是 CSV/XLSX/XLS/ODS/JSON 文件")
            raise InputError(
                f"{label} is an {magic.upper()} workbook, not {fmt.upper()}",
                zh=f"{label} 是 {magic.upper()} 工作簿，不是 {fmt.upper()}",
            )
        return fmt
    if magic == "":
        raise InputError(f"{label} is {NOT_OURS}{_what_binary(head)}", zh=f"{label} 不是 CSV/XLSX/XLS/ODS/JSON 文件")
    by_name = EXTENSIONS.get(Path(name).suffix.lower()) if name and name != "-" else None
    if magic is not None:
        return magic
    if by_name in WORKBOOKS:
        raise InputError(
            f"{label} is named .{by_name} but is not a {by_name.upper()} workbook (it looks like text); "
            "give --input-format csv if it is one",
            zh=f"{label} 的扩展名是 .{by_name}，但内容不是 {by_name.upper()} 工作簿（像是文本）；若是 CSV 请加 --input-format csv",
        )
    if by_name:
        return by_name
    # stdin or an unknown extension: look at the content.
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    if stripped[:11].upper() == b"BEGIN:VCARD":
        return "vcf"
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


def text_encoding(explicit: str) -> str:
    """The codec name of ``explicit`` if it is a real text encoding; rot13, base64, punycode, uu,
    unicode_escape and the like are codecs but not the encoding of a file, and are refused."""
    try:
        info = codecs.lookup(explicit)
    except (LookupError, ValueError):
        raise InputError(f"unknown encoding {shorten(explicit)!r}", zh=f"未知编码 {shorten(explicit)!r}") from None
    name = info.name
    ok = getattr(info, "_is_text_encoding", True) and name not in ("raw-unicode-escape", "unicode-escape", "idna")
    if ok and not name.startswith(("utf-16", "utf-32")):
        try:
            ok = _ASCII_PROBE.encode(name) == _ASCII_PROBE.encode("ascii")
            codecs.getincrementaldecoder(name)
        except (UnicodeError, LookupError, TypeError, AttributeError):
            ok = False
    if not ok:
        raise InputError(
            f"{shorten(explicit)!r} is not a text encoding; use one such as utf-8, gb18030, big5 or utf-16",
            zh=f"{shorten(explicit)!r} 不是文本编码；请用 utf-8、gb18030、big5 或 utf-16 等",
        )
    return name


def detect_encoding(binary: IO[bytes], explicit: str | None = None) -> str:
    """The encoding to read ``binary`` with, chosen strictly (see the module docstring)."""
    binary.seek(0)
    head = binary.read(4)
    if explicit:
        name = text_encoding(explicit)
        if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        bad = _try_decode(binary, name)
        if bad is not None:
            raise InputError(
                f"line {bad} is not valid {explicit}; nothing was imported", zh=f"第 {bad} 行不是有效的 {explicit}；没有导入任何数据"
            )
        return name
    if head.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ENCODING_ORDER
    failures = []
    failures_zh = []
    for name in candidates:
        bad = _try_decode(binary, name)
        if bad is None:
            return name
        failures.append(f"not {name.upper().replace('-SIG', ' with BOM')} (line {bad})")
        failures_zh.append(f"不是 {name.upper().replace('-SIG', ' 带 BOM')}（第 {bad} 行）")
    raise InputError(
        "cannot decode the file: " + "; ".join(failures) + ". Give its encoding with --encoding; nothing was imported",
        zh="无法解码文件：" + "；".join(failures_zh) + "。请用 --encoding 指定编码；没有导入任何数据",
    )


def _spool(stream: IO[bytes], head: bytes) -> IO[bytes]:
    """Copy a non-seekable stream (stdin) to an anonymous temporary file, so it can be read twice
    (encoding check, then parse) without holding it in memory. ``head`` was read from it already."""
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, closed by Source.close
    tmp.write(head)
    shutil.copyfileobj(stream, tmp, BLOCK)
    tmp.seek(0)
    return tmp


@dataclass
class Layout:
    """Where the header is: ``--no-header``, ``--header-row N``, ``--skip-rows N``."""

    no_header: bool = False
    header_row: int | None = None
    skip_rows: int = 0

    def check(self) -> None:
        if self.no_header and self.header_row is not None:
            raise InputError(
                "--no-header and --header-row exclude each other", zh="--no-header 与 --header-row 不能同时使用"
            )
        if self.header_row is not None and self.header_row < 1:
            raise InputError("--header-row counts from 1", zh="--header-row 从 1 开始计数")
        if self.skip_rows < 0:
            raise InputError("--skip-rows cannot be negative", zh="--skip-rows 不能为负数")

    @property
    def default(self) -> bool:
        return not self.no_header and self.header_row is None and not self.skip_rows


def open_source(
    path: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    stdin: IO[bytes] | None = None,
    layout: Layout | None = None,
) -> Source:
    """Open ``path`` (``-`` for stdin) for streaming; the header is read, rows are not yet."""
    layout = layout or Layout()
    layout.check()
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        head = stream.read(4096)
        # A binary stream is refused before it is copied: 300 MB of NUL stop here, not on disk.
        detect_format(path, fmt, head)
        binary = _spool(stream, head)
    else:
        try:
            binary = open(path, "rb")  # noqa: SIM115 - closed by Source.close
        except FileNotFoundError:
            from .errors import NotFound

            raise NotFound(f"no such file: {path}", zh=f"没有这个文件：{path}") from None
        except OSError as exc:
            raise InputError(f"cannot read {shorten(path)}: {exc.strerror}", zh=f"无法读取 {shorten(path)}：{exc.strerror}") from None
    try:
        head = binary.read(4096)
        binary.seek(0)
        kind = detect_format(path, fmt, head)
        if kind in WORKBOOKS:
            if encoding:
                raise InputError(
                    f"--encoding applies to text files, not to {kind.upper()} workbooks",
                    zh=f"--encoding 只适用于文本文件，不适用于 {kind.upper()} 工作簿",
                )
            rows, epoch, closers = open_workbook(binary, kind, sheet)
            closers.append(binary)
            return _headed(kind, rows, layout, closers, excel_epoch=epoch, typed=True)
        if sheet:
            raise InputError(
                "--sheet applies to XLSX, XLS and ODS workbooks", zh="--sheet 只适用于 XLSX、XLS 和 ODS 工作簿"
            )
        enc = detect_encoding(binary, encoding)
        binary.seek(0)
        text = io.TextIOWrapper(binary, encoding=enc, newline="")
        if kind in ("csv", "tsv"):
            return _open_csv(text, kind, enc, delimiter, layout)
        if not layout.default:
            raise InputError(
                "--no-header, --header-row and --skip-rows apply to CSV, TSV and workbooks",
                zh="--no-header、--header-row 和 --skip-rows 只适用于 CSV、TSV 和工作簿",
            )
        if kind == "vcf":
            from .vcard import open_vcard

            headers, vrows = open_vcard(_bounded_lines(text))
            return Source("vcf", headers, vrows, encoding=enc, _closers=[text])
        if kind == "jsonl":
            return _open_jsonl(text, enc)
        return _open_json(text, enc)
    except BaseException:
        binary.close()
        raise


# ---------------------------------------------------------------------------- headers


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: spreadsheet column names, for files without a header."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _blank(cells: list[Any]) -> bool:
    return not any(v not in (None, "") for v in cells)


def _blank_text(cells: list[str]) -> bool:
    return not any(cells)  # text cells: only "" is empty (and any() runs in C)


def _header_text(value: Any) -> str:
    """A header cell as text: a number cell 2024.0 is the header "2024", as the sheet shows it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def unique_headers(names: list[str], warnings: list[str]) -> list[str]:
    """Repeated header names made reachable: the second 城市 is 城市#2 (and reported)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        if not name:
            out.append(name)
            continue
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append(name if count == 1 else f"{name}#{count}")
    repeated = [n for n, c in seen.items() if c > 1]
    if repeated:
        warnings.append(
            "repeated column names: "
            + ", ".join(f"{shorten(n)} (the next ones are {shorten(n)}#2…)" for n in repeated[:10])
        )
    return out


def _headed(
    kind: str,
    raw: Iterator[tuple[int, list[Any]]],
    layout: Layout,
    closers: list[Any],
    **extra: Any,
) -> Source:
    """A Source from raw rows (header included): finds the header row, names the columns, skips
    ``skip_rows`` rows after it, and reports cells beyond the header instead of dropping them."""
    warnings: list[str] = []
    it = iter(raw)
    first: tuple[int, list[Any]] | None = None
    for line, cells in it:
        if layout.header_row is not None and line < layout.header_row:
            continue
        if not _blank(cells):
            first = (line, cells)
            break
    if first is None:
        for closer in closers:
            with contextlib.suppress(Exception):
                closer.close()
        where = f" at or after row {layout.header_row}" if layout.header_row else ""
        raise InputError(f"the file is empty: no header row{where}", zh="文件是空的：没有表头行")
    pending: list[tuple[int, list[Any]]] = []
    if layout.no_header:
        width = len(first[1])
        while width and first[1][width - 1] in (None, ""):
            width -= 1
        headers = [column_letters(i) for i in range(width)]
        pending.append(first)
    else:
        headers = [_header_text(v) for v in first[1]]
        while headers and headers[-1] == "":
            headers.pop()
        headers = unique_headers(headers, warnings)
        width = len(headers)
    extra_lines: list[int] = []
    state = {"extra": 0}

    blank = _blank if extra.get("typed") else _blank_text

    def rows() -> Iterator[tuple[int, list[Any]]]:
        skip = layout.skip_rows
        for line, cells in _chain_rows(pending, it):
            if blank(cells):
                continue
            if skip:
                skip -= 1
                continue
            if len(cells) > width:
                beyond = cells[width:]
                if not _blank(beyond):
                    state["extra"] += 1
                    if len(extra_lines) < 5:
                        extra_lines.append(line)
                        value = next(v for v in beyond if v not in (None, ""))
                        warnings.append(
                            f"line {line}: cells beyond the {width} header columns are not imported "
                            f"({shorten(value)!r}…); give them a header or use --no-header"
                        )
                    elif state["extra"] == 6:
                        warnings.append("more lines have cells beyond the header columns (not listed)")
                cells = cells[:width]
            elif len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]
            yield line, cells

    return Source(kind, headers, rows(), warnings=warnings, _closers=closers, **extra)


def _chain_rows(
    first: list[tuple[int, list[Any]]], rest: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    yield from first
    yield from rest


def _bounded_lines(text: IO[str]) -> Iterator[str]:
    """The lines of ``text``, each read with a bound: one 300 MB line must not be held whole."""
    number = 0
    while True:
        line = text.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise InputError(
                f"line {number} is longer than {MAX_LINE >> 20} MiB characters; nothing was imported",
                zh=f"第 {number} 行超过 {MAX_LINE >> 20} MiB 字符；没有导入任何数据",
            )
        yield line


# ---------------------------------------------------------------------------- CSV / TSV


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: the most frequent of tab, comma, semicolon and bar."""
    counts = {d: header_line.count(d) for d in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(text: io.TextIOWrapper, kind: str, enc: str, delimiter: str | None, layout: Layout) -> Source:
    import csv

    if delimiter:
        delim = "\t" if delimiter in ("\\t", "tab") else delimiter
    elif kind == "tsv":
        delim = "\t"
    else:
        first = text.readline(MAX_LINE)
        text.seek(0)
        delim = sniff_delimiter(first)
    if len(delim) != 1:
        raise InputError(f"the delimiter must be one character, not {shorten(delim)!r}", zh=f"分隔符必须是一个字符，而不是 {shorten(delim)!r}")
    # The csv module's limit is process-wide; ours is the documented cell limit.
    csv.field_size_limit(MAX_CELL)
    reader = csv.reader(_bounded_lines(text), delimiter=delim, strict=False)

    def raw() -> Iterator[tuple[int, list[Any]]]:
        previous = reader.line_num
        try:
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if cells:
                    yield line, cells
        except csv.Error as exc:
            raise InputError(f"line {previous + 1}: {shorten(str(exc), 80)}", zh=f"第 {previous + 1} 行：{shorten(str(exc), 80)}") from None

    source = _headed(kind, raw(), layout, [text])
    source.encoding, source.delimiter = enc, delim
    return source


# ---------------------------------------------------------------------------- JSON / JSONL


_SURROGATE = re.compile("[\ud800-\udfff]")


def _record(value: Any, line: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(
            f"line {line}: expected an object with field names as keys, not {type(value).__name__}",
            zh=f"第 {line} 行：应为以字段名为键的对象，而不是 {type(value).__name__}",
        )
    for key, cell in value.items():
        for text in (key, cell):
            if isinstance(text, str) and (len(text) > MAX_CELL or _SURROGATE.search(text)):
                what = f"longer than {MAX_CELL >> 20} MiB" if len(text) > MAX_CELL else "a lone surrogate (not text)"
                what_zh = f"超过 {MAX_CELL >> 20} MiB" if len(text) > MAX_CELL else "含有孤立的代理字符（不是文本）"
                raise InputError(
                    f"line {line}: {shorten(key)!r} holds {what}; nothing was imported",
                    zh=f"第 {line} 行：{shorten(key)!r} 的值{what_zh}；没有导入任何数据",
                )
    return value


def _number(text: str) -> Any:
    if len(text) > MAX_DIGITS:
        raise InputError(
            f"a number of {len(text)} digits ({shorten(text, 20)}); at most {MAX_DIGITS} are read",
            zh=f"数字有 {len(text)} 位（{shorten(text, 20)}）；最多读取 {MAX_DIGITS} 位",
        )
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _decoder() -> json.JSONDecoder:
    return json.JSONDecoder(parse_int=_number, parse_float=_number)


def _too_deep(where: str) -> InputError:
    return InputError(
        f"{where}: JSON nested too deeply; nothing was imported", zh=f"{where}：JSON 嵌套过深；没有导入任何数据"
    )


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
                    "every record must have the same keys",
                    zh=f"第 {line} 行：键 {', '.join(map(repr, extra))} 不在第一条记录中；每条记录的键必须相同",
                )
            yield line, [rec.get(k) for k in headers]

    return headers, rows()


def _open_jsonl(text: io.TextIOWrapper, enc: str) -> Source:
    decoder = _decoder()

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        for line, raw in enumerate(_bounded_lines(text), start=1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                value = decoder.decode(raw)
            except json.JSONDecodeError as exc:
                raise InputError(f"line {line}: not valid JSON: {exc.msg}", zh=f"第 {line} 行：不是有效的 JSON：{exc.msg}") from None
            except RecursionError:
                raise _too_deep(f"line {line}") from None
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
    decoder = _decoder()
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
        raise InputError(
            "a JSON file must hold one array of objects ([{...}, ...]); use .jsonl for one object a line",
            zh="JSON 文件必须包含一个对象数组（[{...}, ...]）；每行一个对象请用 .jsonl",
        )
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
            except RecursionError:
                raise _too_deep(f"item {number + 1}") from None
            except json.JSONDecodeError as exc:
                if len(buf) - pos > MAX_LINE:
                    raise InputError(
                        f"item {number + 1} is longer than {MAX_LINE >> 20} MiB characters; nothing was imported",
                        zh=f"第 {number + 1} 项超过 {MAX_LINE >> 20} MiB 字符；没有导入任何数据",
                    ) from None
                if not fill():
                    raise InputError(
                        f"item {number + 1}: not valid JSON: {exc.msg}", zh=f"第 {number + 1} 项：不是有效的 JSON：{exc.msg}"
                    ) from None
        pos = end
        number += 1
        yield number, value
        nxt = skip_ws()
        if nxt == ",":
            pos += 1
        elif nxt == "]":
            return
        else:
            raise InputError(f"item {number}: expected , or ] after it", zh=f"第 {number} 项：其后应为 , 或 ]")


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
