"""Customer IDs: prefix + year + sequence (``XS2024001``), never reused, never duplicated.

The rule for an ID typed by hand (``crm add --id``, an import's ``id`` column): one to eight
capital letters, a four-digit year and a sequence of 3 to :data:`SEQUENCE_DIGITS` digits is a
*generated-style* ID and moves that prefix-year's sequence past it. Capital letters followed by
more digits than that (``XS20269223372036854775807``) would push the sequence beyond any real
number and are refused. Any other plain code a previous system used (``C-0042``, ``abc123``) is
allowed as it is and leaves the sequences alone.
"""

from __future__ import annotations

import re
import sqlite3

from .errors import UsageError, ValidationError

SEQUENCE_DIGITS = 9
SEQUENCE_MAX = 10**SEQUENCE_DIGITS - 1
"""The largest sequence number of a generated ID (``XS2024999999999``)."""
ID_RE = re.compile(rf"^([A-Z]{{1,8}})(\d{{4}})(\d{{3,{SEQUENCE_DIGITS}}})$")
# Capital letters and then at least a year's worth of digits: shaped like a generated ID.
_GENERATED_SHAPE = re.compile(r"^[A-Z]{1,8}\d{7,}$")
# Free codes; an ID of generated shape whose sequence is too long never matches (import's fast
# path uses this and falls back to check_explicit, which says why).
FREE_ID_RE = re.compile(
    rf"^(?![A-Z]{{1,8}}\d{{{4 + SEQUENCE_DIGITS + 1},}}$)[A-Za-z0-9][A-Za-z0-9_\-]{{0,31}}$"
)


def _usable(number: object) -> bool:
    return type(number) is int and 0 <= number <= SEQUENCE_MAX


def next_id(conn: sqlite3.Connection, prefix: str, year: int) -> str:
    """Reserve the next ID. Must run inside the caller's write transaction, which holds the
    write lock: two processes can never read the same ``last``.

    A stored ``last`` that is not a usable sequence (written by an older version from an ID such
    as ``XS20269223372036854775807``, or by hand) is ignored: the sequence restarts after the
    highest usable one among the stored IDs of that prefix and year."""
    row = conn.execute("SELECT last FROM id_sequences WHERE prefix = ? AND year = ?", (prefix, year)).fetchone()
    last = row[0] if row else 0
    if not _usable(last):
        last = highest_stored(conn, prefix, year)
    number = last + 1
    # An ID typed by hand may already sit on this number, or a customer in the trash keep it
    # reserved: skip past it rather than fail.
    while conn.execute(
        "SELECT 1 FROM customers WHERE id = ?1 UNION ALL SELECT 1 FROM trash_customers WHERE id = ?1",
        (format_id(prefix, year, number),),
    ).fetchone():
        number += 1
    if number > SEQUENCE_MAX:
        raise UsageError(
            f"the ID sequence of {prefix}{year} is used up (at most {SEQUENCE_MAX}); set another id-prefix",
            zh=f"{prefix}{year} 的编号序列已用完（最多 {SEQUENCE_MAX}）；请设置其他 id-prefix",
        )
    conn.execute(
        "INSERT INTO id_sequences (prefix, year, last) VALUES (?, ?, ?) "
        "ON CONFLICT(prefix, year) DO UPDATE SET last = excluded.last",
        (prefix, year, number),
    )
    return format_id(prefix, year, number)


def highest_stored(conn: sqlite3.Connection, prefix: str, year: int) -> int:
    """The highest usable sequence among stored IDs of ``prefix`` + ``year`` (0 when none)."""
    head = f"{prefix}{year}"
    best = 0
    # The prefix is letters only (config checks it): nothing in it is special to GLOB.
    # Trashed customers' IDs count too: they stay reserved until purged.
    for (customer_id,) in conn.execute(
        "SELECT id FROM customers WHERE id GLOB ?1 UNION ALL SELECT id FROM trash_customers WHERE id GLOB ?1",
        (head + "[0-9]*",),
    ):
        match = ID_RE.match(customer_id)
        if match and match.group(1) == prefix and int(match.group(2)) == year:
            best = max(best, int(match.group(3)))
    return best


def format_id(prefix: str, year: int, number: int) -> str:
    return f"{prefix}{year}{number:03d}"


def check_explicit(value: str) -> str:
    """Validate a hand-given ID: our pattern, or any other plain code a previous system used."""
    value = value.strip()
    if _GENERATED_SHAPE.match(value) and not ID_RE.match(value):
        raise ValidationError("id", value, "id_sequence", details={"digits": SEQUENCE_DIGITS, "max": SEQUENCE_MAX})
    if not FREE_ID_RE.match(value):
        raise ValidationError("id", value, "id_format")
    return value


def note_explicit(conn: sqlite3.Connection, customer_id: str) -> None:
    """Move the sequence of an explicit ``XS2024123``-style ID past it, so generation never collides."""
    match = ID_RE.match(customer_id)
    if not match:
        return  # a free code, or (from an older database) an unusable sequence: no effect
    prefix, year, number = match.group(1), int(match.group(2)), int(match.group(3))
    row = conn.execute("SELECT last FROM id_sequences WHERE prefix = ? AND year = ?", (prefix, year)).fetchone()
    if row is not None and not _usable(row[0]):
        conn.execute(
            "UPDATE id_sequences SET last = ? WHERE prefix = ? AND year = ?",
            (max(number, highest_stored(conn, prefix, year)), prefix, year),
        )
        return
    conn.execute(
        "INSERT INTO id_sequences (prefix, year, last) VALUES (?, ?, ?) "
        "ON CONFLICT(prefix, year) DO UPDATE SET last = max(last, excluded.last)",
        (prefix, year, number),
    )
