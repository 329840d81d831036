"""The full-text index behind ``crm search`` and ``crm list --text``.

Two contentless FTS5 tables with the trigram tokenizer, kept in step by SQL triggers (so every
writer, the ``sqlite3`` shell and raw imports included, keeps them current):

- ``customer_fts``: one document per customer (rowid = customers.rowid): its text fields
  (query.SEARCH_COLUMNS and the custom text fields), each followed by a newline;
- ``followup_fts``: one per follow-up (rowid = followups.id): content, result, next step.

A term of 3+ characters is a trigram phrase. A 2-character term (采购) is below the trigram
length, so it is looked up in the index's vocabulary (``*_fts_terms``): every trigram starting
with it. The newline after each value makes every 2-character substring start a trigram, even at
the end of a value. Chosen over pre-split bigrams, which measured as fast (both under 2 ms for
采购 at 100k customers) but need a Python function in the triggers, which the ``sqlite3`` shell
does not have. The index only narrows the candidates: the caller re-checks them with the same
LIKE the unindexed search runs, so results are identical (the trigram tokenizer folds case more
widely than LIKE does); a term without cased letters needs no re-check (:func:`exact`).

Phones and e-mails are not in the index: they are found by their exact, normalised keys (see
query.text_match), never by fragments, so masked data cannot be searched piece by piece.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

CUSTOMER_TABLE = "customer_fts"
FOLLOWUP_TABLE = "followup_fts"
CUSTOMER_BASE = ("id", "name", "contact", "title", "needs", "notes", "followup", "next_step", "product", "address")
FOLLOWUP_COLUMNS = ("content", "result", "next_step")
BUILD_CHUNK = 50_000


def custom_text_columns(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The custom text fields' columns, in the table's column order (which never changes, so
    the document of an existing customer stays the same when a field is added)."""
    try:
        keys = {r[0] for r in conn.execute("SELECT key FROM custom_fields WHERE type = 'text'")}
    except sqlite3.OperationalError:
        return ()
    return tuple(r[1] for r in conn.execute("PRAGMA table_info(customers)") if r[1] in keys)


def customer_columns(conn: sqlite3.Connection) -> tuple[str, ...]:
    return CUSTOMER_BASE + custom_text_columns(conn)


def quoted(column: str) -> str:
    """A column name as an SQL identifier (custom field keys may be SQL words)."""
    return '"' + column.replace('"', '""') + '"'


def document(columns: Sequence[str], prefix: str = "") -> str:
    """The SQL expression of one document. A NULL column adds nothing, so a new (all-NULL)
    column leaves every existing document as it was indexed."""
    return " || ".join(f"coalesce({prefix}{quoted(c)} || char(10), '')" for c in columns)


def exists(conn: sqlite3.Connection) -> bool:
    return conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE name IN (?, ?)", (CUSTOMER_TABLE, FOLLOWUP_TABLE)
    ).fetchone()[0] == 2


class _Indexed(NamedTuple):
    """One indexed table: its key column, its index table, the columns its documents are made
    of, and the columns whose update re-indexes a row."""

    table: str
    key: str
    fts: str
    columns: tuple[str, ...]
    watched: str
    """The ``UPDATE OF`` list, as SQL (its text is part of the schema a restore compares)."""


def _indexed(conn: sqlite3.Connection) -> tuple[_Indexed, _Indexed]:
    cols = customer_columns(conn)
    return (
        _Indexed("customers", "rowid", CUSTOMER_TABLE, cols, ", ".join(map(quoted, cols))),
        _Indexed("followups", "id", FOLLOWUP_TABLE, FOLLOWUP_COLUMNS, ", ".join(("id", *FOLLOWUP_COLUMNS))),
    )


def install_triggers(conn: sqlite3.Connection, marks: tuple[int, int] | None = None) -> None:
    """(Re)create the triggers for the current text columns. Inside the caller's transaction.

    With ``marks`` (the highest customer rowid and follow-up id indexed so far) the triggers
    leave rows above the marks alone: :func:`deferred` indexes those in one statement."""
    for n, (table, key, fts, cols, watched) in enumerate(_indexed(conn)):
        for suffix in ("ai", "ad", "au"):
            conn.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
        when = "" if marks is None else f"WHEN old.{key} <= {int(marks[n])} "
        delete = f"INSERT INTO {fts} ({fts}, rowid, doc) VALUES ('delete', old.{key}, {document(cols, 'old.')});"
        insert = f"INSERT INTO {fts} (rowid, doc) VALUES (new.{key}, {document(cols, 'new.')});"
        if marks is None:
            conn.execute(f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN {insert} END")
        conn.execute(f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} {when}BEGIN {delete} END")
        conn.execute(
            f"CREATE TRIGGER {table}_fts_au AFTER UPDATE OF {watched} ON {table} "
            f"{when}BEGIN {delete} {insert} END"
        )


# Rowids are max(rowid) + 1 until the largest integer is reached; past this, SQLite may pick
# random free rowids below the mark, which deferred indexing would miss.
_MARK_LIMIT = 2**62


@contextlib.contextmanager
def deferred(conn: sqlite3.Connection) -> Iterator[None]:
    """Index the rows inserted inside the block in one statement at its end, instead of one
    trigger call per row (measured: 127 µs a customer row through the trigger against 45 µs in
    one statement). Inside the caller's write transaction: an error in the block leaves the
    triggers as they were once that transaction rolls back, so the index never misses a row.

    Rows above the marks that the block updates or deletes are not touched by the triggers
    meanwhile (they are not in the index yet); the final statement indexes their last state."""
    if not exists(conn):
        yield
        return
    marks = (
        conn.execute("SELECT coalesce(max(rowid), 0) FROM customers").fetchone()[0],
        conn.execute("SELECT coalesce(max(id), 0) FROM followups").fetchone()[0],
    )
    if max(marks) >= _MARK_LIMIT:
        yield
        return
    install_triggers(conn, marks)
    yield
    for (table, key, fts, cols, _), mark in zip(_indexed(conn), marks):
        conn.execute(f"INSERT INTO {fts} (rowid, doc) SELECT {key}, {document(cols)} FROM {table} WHERE {key} > ?", (mark,))
    install_triggers(conn)


def create(conn: sqlite3.Connection, progress: Callable[[int, int], None] | None = None) -> None:
    """Create the index tables and triggers and index every existing row (inside the caller's
    transaction). ``progress(done, total)`` is called after each chunk of rows."""
    for table in (CUSTOMER_TABLE, FOLLOWUP_TABLE):
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(doc, tokenize = 'trigram', content = '', columnsize = 0)"
        )
        conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table}_terms USING fts5vocab({table}, 'row')")
    install_triggers(conn)
    fill(conn, progress)


def fill(conn: sqlite3.Connection, progress: Callable[[int, int], None] | None = None) -> None:
    """Index every row, in rowid chunks (the index must be empty: see :func:`rebuild`)."""
    jobs = [(table, key, fts, document(cols)) for table, key, fts, cols, _ in _indexed(conn)]
    total = sum(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table, *_ in jobs)
    done = 0
    for table, key, fts, doc in jobs:
        last = -(2**63)
        while True:
            row = conn.execute(
                f"SELECT max({key}), count(*) FROM (SELECT {key} FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT ?)",
                (last, BUILD_CHUNK),
            ).fetchone()
            if not row[1]:
                break
            conn.execute(
                f"INSERT INTO {fts} (rowid, doc) SELECT {key}, {doc} FROM {table} WHERE {key} > ? AND {key} <= ?",
                (last, row[0]),
            )
            last = row[0]
            done += row[1]
            if progress:
                progress(done, total)


def rebuild(conn: sqlite3.Connection, progress: Callable[[int, int], None] | None = None) -> None:
    """Empty and refill the index (after a table was rewritten, which may renumber rowids)."""
    for table in (CUSTOMER_TABLE, FOLLOWUP_TABLE):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    install_triggers(conn)
    fill(conn, progress)


def stderr_progress(label: str, min_rows: int = 200_000) -> Callable[[int, int], None] | None:
    """A progress line on stderr, when it is a terminal and the database is large enough."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        if total < min_rows:
            return
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{label}: {done:,}/{total:,} ({100 * done // max(total, 1)}%){end}")
        sys.stderr.flush()

    return report


def can_serve(term: str) -> bool:
    """Whether the index can find every row LIKE would for ``term`` (then re-checked by LIKE).

    One character is below any n-gram. For two, the vocabulary is searched for the term as
    written, lower-cased: only safe when the term has no letters whose case folding Python and
    FTS5 might do differently (ASCII letters and caseless scripts such as Chinese are fine)."""
    if len(term) < 2:
        return False
    if len(term) == 2:
        return all(c.isascii() or c.lower() == c == c.upper() for c in term)
    return True


def exact(term: str) -> bool:
    """Whether a match in the index is a match of LIKE, so no re-check is needed: a term without
    letters that have a case (Chinese, digits, punctuation) and without the newline that ends each
    value in a document. Cased letters are re-checked: the tokenizer folds more of them than LIKE."""
    return "\n" not in term and all(c.lower() == c == c.upper() for c in term)


def match_sql(table: str, term: str) -> tuple[str, list[object]]:
    """``rowid IN (…)`` of the documents of ``table`` that may contain ``term`` (can_serve)."""
    if len(term) >= 3:
        return f"SELECT rowid FROM {table} WHERE {table} MATCH ?", ['"' + term.replace('"', '""') + '"']
    folded = term.lower()
    # Every trigram starting with the two characters, as one OR query; '""' (no such trigram)
    # matches nothing.
    terms = (
        f"(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), '\"\"') "
        f"FROM {table}_terms WHERE term >= ? AND term < ?)"
    )
    return f"SELECT rowid FROM {table} WHERE {table} MATCH {terms}", [folded, folded + "\U0010ffff"]
