"""Spreadsheet workbooks for import (XLSX, XLS, ODS), read by python-calamine.

calamine reads a 20k-row XLSX about 10x faster than openpyxl (measured: 0.45 s against 4.8 s CPU),
ignores the ``<dimension>`` tag (generators that write it stale made openpyxl read one row of
six) and reads XLS and ODS too. It holds a whole sheet in memory as a dense grid, though, and
aborts the process (a Rust allocation failure, no exception) when a file puts one cell at
``XFD1048576`` or ``ZZZZZ99999999``. So every XLSX and ODS is checked first, streaming, by
:func:`check_zip`: each part at most :data:`MAX_PART` bytes uncompressed (and its CRC checked,
so calamine sees the bytes we measured), no DTD (entity expansion), no text run over
:data:`MAX_CELL` bytes, and a used range of at most :data:`MAX_CELLS` cells. An XLSX above
:data:`CALAMINE_CELLS` is streamed by openpyxl instead; an XLS is checked by :func:`check_xls`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from .errors import UsageError, shorten

MAX_CELL = 1 << 20
"""The longest cell of any input file (1 MiB); longer text is refused."""
MAX_CELLS = 10_000_000
"""An XLSX sheet's used range (rows x columns) at most; beyond it, save the sheet as CSV."""
CALAMINE_CELLS = 2_000_000
"""Up to this used range calamine reads the sheet (it holds it in memory: 187 MiB peak measured
at 2 million cells); a larger XLSX is streamed by openpyxl (flat memory, about 7x slower), and
a larger XLS or ODS, which only calamine reads, is refused."""
MAX_PART = 512 << 20
"""An XML part of an XLSX/ODS file at most, uncompressed."""
EXCEL_1900 = dt.datetime(1899, 12, 30)  # openpyxl's CALENDAR_WINDOWS_1900, without importing openpyxl
EXCEL_1904 = dt.datetime(1904, 1, 1)
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
BLOCK = 1 << 20
# A cell's reference as Excel, openpyxl and most generators write it (r first), and in general.
_XLSX_REF_FAST = re.compile(rb"<c r=\"([A-Z]{1,8})([0-9]{1,12})\"[^>]{0,256}(?<!/)>")  # not self-closing
_XLSX_REF = re.compile(rb"<c\s[^>]*?\br=\"([A-Z]{1,8})([0-9]{1,12})\"([^>]*)>")
_ODS_TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)\b([^>]*?)(/?)>")
_ODS_ROWS = re.compile(rb"number-rows-repeated=\"([0-9]{1,12})\"")
_ODS_COLS = re.compile(rb"number-columns-repeated=\"([0-9]{1,12})\"")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class WorkbookError(UsageError):
    """The workbook as a whole cannot be read."""


def unreadable(kind: str, detail: object, limit: int = 80) -> WorkbookError:
    why = shorten(str(detail), limit)
    return WorkbookError(f"not a readable {kind.upper()} file: {why}", zh=f"无法读取的 {kind.upper()} 文件：{why}")


def too_many_cells(name: str, limit: int, rows: int, cols: int, fix: str = "CSV") -> WorkbookError:
    return WorkbookError(
        f"the sheet {shorten(name)} spans more than {limit:,} cells (up to row {rows:,}, column {cols:,}); "
        f"save it as {fix} to import it",
        zh=f"工作表 {shorten(name)} 超过 {limit:,} 个单元格（到第 {rows:,} 行、第 {cols:,} 列）；请另存为 {fix} 再导入",
    )


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number


class _Extent:
    """The used range of a sheet's cells with a value (self-closing ``<c …/>`` are empty)."""

    def __init__(self) -> None:
        self.min_row = self.min_col = 1 << 62
        self.max_row = self.max_col = 0

    def add(self, col: int, row: int) -> None:
        self.min_row = min(self.min_row, row)
        self.max_row = max(self.max_row, row)
        self.min_col = min(self.min_col, col)
        self.max_col = max(self.max_col, col)

    def cells(self) -> int:
        if not self.max_row:
            return 0
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)


class _OdsExtent:
    """The used range of an ODS sheet, repeats included: a cell with a value repeated 1024 times in
    a row repeated a million times is a billion cells to calamine. Empty repeats (LibreOffice ends
    every sheet with them) are free."""

    def __init__(self) -> None:
        self.row = 0  # rows before the current one, in the current table
        self.col = 0
        self.repeat = 1
        self.max_row = self.max_col = 0

    def feed(self, data: bytes) -> None:
        for m in _ODS_TAG.finditer(data):
            closing, tag, attrs, empty = m.groups()
            if tag == b"table":
                if not closing:
                    self.row = 0
                continue
            if tag == b"table-row":
                if closing:
                    self.row += self.repeat
                    self.col, self.repeat = 0, 1
                else:
                    found = _ODS_ROWS.search(attrs)
                    self.col, self.repeat = 0, int(found.group(1)) if found else 1
                    if empty:
                        self.row += self.repeat
                        self.repeat = 1
                continue
            if closing:
                continue
            found = _ODS_COLS.search(attrs)
            span = int(found.group(1)) if found else 1
            if b"value-type" in attrs:
                self.max_row = max(self.max_row, self.row + self.repeat)
                self.max_col = max(self.max_col, self.col + span)
            self.col += span

    def cells(self) -> int:
        return self.max_row * self.max_col


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str) -> int:
    """Stream one XML part: bounded size, no DTD, no overlong text run, a bounded used range."""
    name = info.filename
    if info.file_size > MAX_PART:
        raise WorkbookError(
            f"{kind.upper()} part {shorten(name)} is {info.file_size >> 20} MiB uncompressed; "
            f"at most {MAX_PART >> 20} MiB is read",
            zh=f"{kind.upper()} 文件的 {shorten(name)} 解压后有 {info.file_size >> 20} MiB；最多读取 {MAX_PART >> 20} MiB",
        )
    sheet = kind == "xlsx" and name.startswith("xl/worksheets/")
    extent = _Extent()
    ods = _OdsExtent()
    tail = b""
    run = 0  # bytes since the last "<": the length of the text being read
    total = 0
    with archive.open(info) as part:
        while True:
            chunk = part.read(BLOCK)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_PART:  # the header lied about the size
                raise WorkbookError(
                    f"{kind.upper()} part {shorten(name)} is larger than {MAX_PART >> 20} MiB",
                    zh=f"{kind.upper()} 文件的 {shorten(name)} 超过 {MAX_PART >> 20} MiB",
                )
            window = tail + chunk
            if _DTD.search(window):
                raise WorkbookError(
                    f"the {kind.upper()} file declares a DTD or entities ({shorten(name)}); "
                    "spreadsheets never need one, and it is refused (entity expansion)",
                    zh=f"{kind.upper()} 文件声明了 DTD 或实体（{shorten(name)}）；电子表格从不需要，已拒绝（实体扩展攻击）",
                )
            # A text run longer than MAX_CELL (= BLOCK) must cross a chunk boundary: only the run
            # carried over from the previous chunks needs counting.
            first = chunk.find(b"<")
            run += len(chunk) if first < 0 else first
            if run > MAX_CELL:
                raise WorkbookError(
                    f"the {kind.upper()} file holds a cell longer than {MAX_CELL >> 20} MiB ({shorten(name)}); "
                    "such cells are refused",
                    zh=f"{kind.upper()} 文件中有超过 {MAX_CELL >> 20} MiB 的单元格（{shorten(name)}）；已拒绝",
                )
            if first >= 0:
                run = len(chunk) - chunk.rfind(b"<") - 1
            # A tag cut by the chunk boundary is matched whole in the next window.
            cut = window.rfind(b"<")
            scan, tail = (window[:cut], window[cut:]) if cut >= 0 and len(window) - cut < 4096 else (window, b"")
            if sheet:
                if scan.count(b"<c ") == scan.count(b'<c r="'):
                    found = _XLSX_REF_FAST.findall(scan)
                else:  # some cell is written otherwise: the full pattern (slower)
                    found = [(c, r) for c, r, rest in _XLSX_REF.findall(scan) if not rest.endswith(b"/")]
                if found:
                    letters, digits = zip(*found)
                    columns = [_column_number(c) for c in set(letters)]
                    rows = list(map(int, set(digits)))
                    extent.add(min(columns), min(rows))
                    extent.add(max(columns), max(rows))
                if extent.cells() > MAX_CELLS:
                    break
            elif kind == "ods" and name == "content.xml":
                ods.feed(scan)
                if ods.cells() > CALAMINE_CELLS:
                    break
    limit = MAX_CELLS if kind == "xlsx" else CALAMINE_CELLS
    if extent.cells() > limit or ods.cells() > limit:
        rows, cols = (extent.max_row, extent.max_col) if extent.cells() > limit else (ods.max_row, ods.max_col)
        raise too_many_cells(name, limit, rows, cols)
    return max(extent.cells(), ods.cells())


def check_zip(binary: IO[bytes], kind: str) -> tuple[zipfile.ZipFile, int]:
    """Open and check an XLSX/ODS container (see the module docstring); raises WorkbookError.
    Returns the archive and the largest used range of its sheets, in cells."""
    try:
        archive = zipfile.ZipFile(binary)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise unreadable(kind, exc, 60) from None
    try:
        largest = 0
        for info in archive.infolist():
            if info.filename.endswith((".xml", ".rels")) and not info.is_dir():
                largest = max(largest, _scan_part(archive, info, kind))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
        raise unreadable(kind, exc, 60) from None
    return archive, largest


def _epoch(archive: zipfile.ZipFile | None) -> dt.datetime:
    if archive is None:
        return EXCEL_1900
    try:
        head = archive.read("xl/workbook.xml")[:8192]
    except KeyError:
        return EXCEL_1900
    return EXCEL_1904 if re.search(rb"date1904=\"(?:1|true)\"", head) else EXCEL_1900


def _stream_openpyxl(
    binary: IO[bytes], sheet: str | None, epoch: dt.datetime, archive: zipfile.ZipFile | None
) -> tuple[Iterator[tuple[int, list[Any]]], dt.datetime, list[Any]]:
    """A large XLSX, streamed row by row in flat memory. ``reset_dimensions`` makes openpyxl read
    every row whatever the ``<dimension>`` tag says (it trusted a stale one: 1 row of 6)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(binary, read_only=True, data_only=True)
        if sheet is not None and sheet not in wb.sheetnames:
            raise _no_sheet(sheet, wb.sheetnames)
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        ws.reset_dimensions()
    except WorkbookError:
        raise
    except Exception as exc:  # openpyxl raises what its parsers raise
        raise unreadable("xlsx", exc) from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        line = 0
        try:
            for line, values in enumerate(ws.iter_rows(values_only=True), start=1):  # noqa: B007
                yield line, list(values)
        except Exception as exc:  # a bad cell deep in the file
            raise _bad_cell(line + 1, exc) from None

    return rows(), epoch, [wb, *([archive] if archive else [])]


# ---------------------------------------------------------------------------- XLS

_BIFF_CELLS = {0x0203, 0x0204, 0x00FD, 0x027E, 0x0006, 0x0205, 0x00BD}  # NUMBER LABEL LABELSST RK FORMULA BOOLERR MULRK
_END = 0xFFFFFFFE


def check_xls(binary: IO[bytes]) -> int:
    """The largest used range of an XLS file's sheets, from its cell records: calamine holds a
    sheet as a dense grid, and a 5 KB file with cells at A1 and IV65536 took 1 GB. The OLE2
    container is read just enough to find the Workbook stream; a damaged one is refused here
    rather than by a calamine panic."""
    binary.seek(0)
    data = binary.read(64 << 20)
    if len(data) == 64 << 20:
        raise WorkbookError(
            "the XLS file is larger than 64 MiB; save it as XLSX or CSV", zh="XLS 文件超过 64 MiB；请另存为 XLSX 或 CSV"
        )
    stream = _ole_stream(data)
    largest = 0
    extent = _Extent()
    pos = 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if kind == 0x0809:  # BOF: a new substream (sheet)
            largest = max(largest, extent.cells())
            extent = _Extent()
        elif kind in _BIFF_CELLS and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body)
            extent.add(col + 1, row + 1)
            if kind == 0x00BD and len(body) >= 6:  # MULRK: the last column is the last field
                extent.add(struct.unpack_from("<H", body, len(body) - 2)[0] + 1, row + 1)
    largest = max(largest, extent.cells())
    if largest > CALAMINE_CELLS:
        raise too_many_cells("(XLS)", CALAMINE_CELLS, extent.max_row, extent.max_col, "XLSX or CSV")
    return largest


def _ole_stream(data: bytes) -> bytes:
    """The ``Workbook`` (or ``Book``) stream of an OLE2 compound file (MS-CFB), or WorkbookError."""

    def bad(why: str) -> WorkbookError:
        return unreadable("xls", why)

    if len(data) < 512:
        raise bad("too short")
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if not 7 <= shift <= 16 or mini_shift >= shift:
        raise bad("bad sector size")
    size = 1 << shift
    fat_count, first_dir = struct.unpack_from("<II", data, 44)
    cutoff, first_mini, _mini_count, first_difat, difat_count = struct.unpack_from("<IIIII", data, 56)

    def sector(n: int) -> bytes:
        start = size * (n + 1)  # the header fills sector -1 (512 bytes, or a whole 4096-byte sector)
        if start >= len(data):
            raise bad(f"sector {n} is past the end of the file")
        return data[start : start + size].ljust(size, b"\0")

    difat = [n for n in struct.unpack_from("<109I", data, 76) if n < _END]
    seen = 0
    while first_difat < _END and seen < 1 << 16:
        block = struct.unpack(f"<{size // 4}I", sector(first_difat))
        difat += [n for n in block[:-1] if n < _END]
        first_difat, seen = block[-1], seen + 1
    if len(difat) < min(fat_count, 1):
        raise bad("no allocation table")
    fat: list[int] = []
    for n in difat[: max(fat_count, 1)]:
        fat += struct.unpack(f"<{size // 4}I", sector(n))

    def chain(first: int) -> bytes:
        out = []
        n, steps = first, 0
        while n < _END:
            if n >= len(fat) or steps > len(fat):
                raise bad("a broken sector chain")
            out.append(sector(n))
            n, steps = fat[n], steps + 1
        return b"".join(out)

    directory = chain(first_dir)
    entries = []
    for off in range(0, len(directory) - 127, 128):
        length = struct.unpack_from("<H", directory, off + 64)[0]
        name = directory[off : off + max(0, min(length, 64) - 2)].decode("utf-16-le", "replace")
        kind = directory[off + 66]
        start, stream_size = struct.unpack_from("<II", directory, off + 116)
        entries.append((name, kind, start, stream_size))
    if not entries:
        raise bad("no directory")
    for name, kind, start, stream_size in entries:
        if kind == 2 and name in ("Workbook", "Book"):
            if stream_size >= cutoff:
                return chain(start)[:stream_size]
            # A small workbook lives in the mini stream: the root entry's stream, in 64-byte pieces.
            root = chain(entries[0][2])
            mini_fat: list[int] = []
            if first_mini < _END:
                raw = chain(first_mini)
                mini_fat = list(struct.unpack(f"<{len(raw) // 4}I", raw))
            mini = 1 << mini_shift
            out, n, steps = [], start, 0
            while n < _END:
                if n >= len(mini_fat) or steps > len(mini_fat) or (n + 1) * mini > len(root):
                    raise bad("a broken mini-stream chain")
                out.append(root[n * mini : (n + 1) * mini])
                n, steps = mini_fat[n], steps + 1
            return b"".join(out)[:stream_size]
    raise bad("no Workbook stream (is it an Excel 5 or older file, or another OLE2 document?)")


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """calamine's Rust panics (a damaged XLS) print to file descriptor 2, with a backtrace under
    RUST_BACKTRACE, before Python sees them: the user is to get one line, ours."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded): nothing to protect
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _no_sheet(sheet: str, names: list[str]) -> WorkbookError:
    listed = shorten(", ".join(names), 200)
    return WorkbookError(
        f"no sheet {shorten(sheet)!r}; sheets: {listed}", zh=f"没有工作表 {shorten(sheet)!r}；现有工作表：{listed}"
    )


def _bad_cell(row: int, exc: Exception) -> WorkbookError:
    why = shorten(str(exc), 60)
    return WorkbookError(f"row {row}: a cell cannot be read ({why})", zh=f"第 {row} 行：有单元格无法读取（{why}）")


def open_workbook(
    binary: IO[bytes], kind: str, sheet: str | None
) -> tuple[Iterator[tuple[int, list[Any]]], dt.datetime, list[Any]]:
    """``(rows, epoch, closers)``: every row of the sheet as ``(row number, cells)``, empty cells None."""
    archive, cells = check_zip(binary, kind) if kind in ("xlsx", "ods") else (None, check_xls(binary))
    epoch = _epoch(archive) if kind == "xlsx" else EXCEL_1900
    binary.seek(0)
    if kind == "xlsx" and cells > CALAMINE_CELLS:
        return _stream_openpyxl(binary, sheet, epoch, archive)
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise WorkbookError(
            "reading spreadsheets needs python-calamine: pip install python-calamine",
            zh="读取电子表格需要 python-calamine：pip install python-calamine",
        ) from None
    try:
        with _quiet_stderr():
            wb = CalamineWorkbook.from_filelike(binary)
            names = list(wb.sheet_names)
            if sheet is not None and sheet not in names:
                raise _no_sheet(sheet, names)
            if not names:
                raise WorkbookError(f"the {kind.upper()} file has no sheets", zh=f"{kind.upper()} 文件没有工作表")
            ws = wb.get_sheet_by_name(sheet if sheet is not None else names[0])
    except WorkbookError:
        raise
    except Exception as exc:  # calamine's errors (XmlError, ZipError, CalamineError…) share no base but Exception
        raise unreadable(kind, exc, 80) from None
    except BaseException as exc:
        # A panic inside calamine (pyo3's PanicException derives from BaseException): a damaged file.
        if type(exc).__name__ != "PanicException":
            raise
        raise unreadable(kind, exc, 80) from None
    start = ws.start[0] + 1 if ws.start else 1

    def rows() -> Iterator[tuple[int, list[Any]]]:
        line = start - 1
        try:
            for values in ws.iter_rows():
                line += 1
                yield line, [None if v == "" else v for v in values]
        except (ValueError, OverflowError, TypeError) as exc:  # a date cell out of range, a bad number
            raise _bad_cell(line + 1, exc) from None

    return rows(), epoch, [wb, *([archive] if archive else [])]
