"""Minimal spreadsheet files written by hand, for the formats no installed library writes (XLS)."""

from __future__ import annotations

import struct
from typing import Any


def rec(t: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", t, len(data)) + data


def xls_bytes(rows: list[list[Any]], far_cell: tuple[int, int] | None = None) -> bytes:
    """An Excel 97 (BIFF8) workbook of one sheet: LABEL and NUMBER cells in an OLE2 container
    with one FAT sector, one directory sector and the Workbook stream (at least 4096 bytes, so
    that it is not in the mini stream). ``far_cell`` (row, column) adds a NUMBER cell there."""

    def label(r, c, text):
        raw = text.encode("utf-16-le")
        return rec(0x0204, struct.pack("<HHHHB", r, c, 0, len(text), 1) + raw)

    def number(r, c, v):
        return rec(0x0203, struct.pack("<HHHd", r, c, 0, v))

    def bof(dt):
        return rec(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0, 6))

    cells = b"".join(
        (number(r, c, v) if isinstance(v, (int, float)) else label(r, c, v))
        for r, row in enumerate(rows)
        for c, v in enumerate(row)
    )
    if far_cell is not None:
        cells += number(*far_cell, 1.0)
    sheet = bof(0x10) + cells + rec(0x000A)
    name = "Sheet1"

    def globals_(offset):
        bs = rec(0x0085, struct.pack("<IBB", offset, 0, 0) + struct.pack("<BB", len(name), 0) + name.encode("latin-1"))
        return bof(0x05) + rec(0x0042, struct.pack("<H", 1200)) + bs + rec(0x000A)

    g = globals_(0)
    g = globals_(len(g))
    stream = g + sheet
    stream += b"\x00" * max(0, 4096 - len(stream))
    stream += b"\x00" * (-len(stream) % 512)
    n = len(stream) // 512
    FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    # the Workbook stream's chain: sectors 2..n+1, entry k points to k+1
    fat = [FATSECT, END] + [i + 1 for i in range(2, 2 + n - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # number of FAT sectors
    struct.pack_into("<I", header, 48, 1)  # first directory sector
    struct.pack_into("<I", header, 56, 4096)  # mini stream cutoff
    struct.pack_into("<I", header, 60, END)  # first mini FAT sector
    struct.pack_into("<I", header, 64, 0)
    struct.pack_into("<I", header, 68, END)  # first DIFAT sector
    struct.pack_into("<I", header, 72, 0)
    difat = [0] + [FREE] * 108
    struct.pack_into("<109I", header, 76, *difat)

    def entry(name, typ, child, start, size, color=1):
        e = bytearray(128)
        raw = (name + "\x00").encode("utf-16-le") if name else b""
        e[0 : len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), typ, color)
        struct.pack_into("<III", e, 68, NOSTREAM, NOSTREAM, child)
        struct.pack_into("<II", e, 116, start, size)
        return bytes(e)

    directory = entry("Root Entry", 5, 1, END, 0) + entry("Workbook", 2, NOSTREAM, 2, len(stream))
    directory += b"".join(entry("", 0, NOSTREAM, 0, 0, 0) for _ in range(2))
    return bytes(header) + struct.pack("<128I", *fat) + directory + stream
