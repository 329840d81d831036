"""Customer IDs: prefix + year + sequence (``XS2024001``), never reused, never duplicated."""

from __future__ import annotations

import re
import sqlite3

from .errors import ValidationError

ID_RE = re.compile(r"^([A-Z]{1,8})(\d{4})(\d{3,})$")
FREE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,31}$")


def next_id(conn: sqlite3.Connection, prefix: str, year: int) -> str:
    """Reserve the next ID. Must run inside the caller's write transaction, which holds the
    write lock: two processes can never read the same ``last``."""
    row = conn.execute(
        "INSERT INTO id_sequences (prefix, year, last) VALUES (?, ?, 1) "
        "ON CONFLICT(prefix, year) DO UPDATE SET last = last + 1 RETURNING last",
        (prefix, year),
    ).fetchone()
    candidate = format_id(prefix, year, row[0])
    # An ID typed by hand may already sit on this number, or a customer in the trash keep it
    # reserved: skip past it rather than fail.
    while conn.execute(
        "SELECT 1 FROM customers WHERE id = ?1 UNION ALL SELECT 1 FROM trash_customers WHERE id = ?1", (candidate,)
    ).fetchone():
        row = conn.execute(
            "UPDATE id_sequences SET last = last + 1 WHERE prefix = ? AND year = ? RETURNING last",
            (prefix, year),
        ).fetchone()
        candidate = format_id(prefix, year, row[0])
    return candidate


def format_id(prefix: str, year: int, number: int) -> str:
    return f"{prefix}{year}{number:03d}"


def check_explicit(value: str) -> str:
    """Validate a hand-given ID: our pattern, or any other plain code a previous system used."""
    value = value.strip()
    if not FREE_ID_RE.match(value):
        raise ValidationError("id", value, "id_format")
    return value


def note_explicit(conn: sqlite3.Connection, customer_id: str) -> None:
    """Move the sequence of an explicit ``XS2024123``-style ID past it, so generation never collides."""
    match = ID_RE.match(customer_id)
    if not match:
        return
    prefix, year, number = match.group(1), int(match.group(2)), int(match.group(3))
    conn.execute(
        "INSERT INTO id_sequences (prefix, year, last) VALUES (?, ?, ?) "
        "ON CONFLICT(prefix, year) DO UPDATE SET last = max(last, excluded.last)",
        (prefix, year, number),
    )
