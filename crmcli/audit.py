"""The audit trail beyond field changes: who saw unmasked phone numbers, when, with which command.

Field changes are written by :func:`crmcli.customers.update` (one ``audit_log`` row per changed
field). A ``--reveal`` writes one row per customer whose phone was shown unmasked, with field
``*`` and new value ``revealed`` (like ``created`` and ``deleted``), so ``crm history ID`` lists it.

Every command that reveals (show, list, search, stale, today, export, history) goes through
:func:`reveal`, which records exactly the rows it passes on, taken from the one result set that is
displayed, and records each chunk *before* passing any of its rows on. Auditing one query and then
showing a second one (as crm did) lets a customer added in between be shown unmasked unrecorded;
a reveal that cannot be recorded (a read-only database, say) fails instead of showing the numbers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from . import clock, config
from .storage import BUSY_TIMEOUT_MS, Store, translate

REVEALED = "revealed"
CHUNK = 500
"""Rows recorded per audit transaction: memory stays flat for an export of any size."""

T = TypeVar("T")


def _customer_id(row: Any) -> str:
    return str(row["id"]) if isinstance(row, Mapping) else str(row)


def reveal(
    store: Store,
    rows: Iterable[T],
    command: str,
    *,
    id_of: Callable[[T], str] = _customer_id,
    user: str | None = None,
    chunk: int = CHUNK,
) -> Iterator[T]:
    """Pass ``rows`` on, recording each row's customer as revealed by ``command`` first.

    ``rows`` may be a live cursor over ``store.conn``: the audit rows are written on a second
    connection, so the cursor keeps its snapshot and what is shown is exactly what is recorded,
    however many writers commit meanwhile. A customer twice in one chunk is recorded once (a
    listing holds each customer once; ``today`` passes its two sections as one chunk).
    """
    who = user or clock.current_user(config.all_values(store).get("user", ""))
    batch: list[T] = []
    writer: Store | None = None
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                writer = _record(store, writer, batch, id_of, command, who)
                yield from batch
                batch = []
        if batch:
            writer = _record(store, writer, batch, id_of, command, who)
            yield from batch
    finally:
        if writer is not None and writer is not store:
            writer.close()


def _record(
    store: Store,
    writer: Store | None,
    batch: list[T],
    id_of: Callable[[T], str],
    command: str,
    who: str,
) -> Store:
    ids = list(dict.fromkeys(id_of(row) for row in batch))
    if writer is None:
        writer = _writer(store)
    if not ids:
        return writer
    stamp = clock.now_utc()
    try:
        with writer.write() as conn:
            conn.executemany(
                "INSERT INTO audit_log (customer_id, at, by, command, field, old, new) "
                "VALUES (?, ?, ?, ?, '*', NULL, ?)",
                ((cid, stamp, who, command, REVEALED) for cid in ids),
            )
    except sqlite3.Error as exc:
        raise translate(exc) from exc
    return writer


def _writer(store: Store) -> Store:
    """A second connection for the audit rows, so that a cursor open on ``store.conn`` (the rows
    being shown) is never asked to become a write transaction on a snapshot others have moved
    past. An in-memory database has no second connection: its rows are written on its own."""
    if str(store.path) == ":memory:":
        return store
    try:
        conn = sqlite3.connect(store.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        raise translate(exc) from exc
    return Store(conn, store.path)


def reveal_ids(store: Store, customer_ids: Iterable[str], command: str, *, user: str | None = None) -> None:
    """Record that ``command`` is about to show these customers' phones unmasked, for a result
    already read in full (show, history, contact lists)."""
    for _ in reveal(store, customer_ids, command, user=user):
        pass


def reveal_one(store: Store, customer_id: str, command: str, *, user: str | None = None) -> None:
    """Record that ``command`` is about to show one customer's phone unmasked (show, history)."""
    reveal_ids(store, [customer_id], command, user=user)


def reveals(store: Store, customer_id: str) -> list[tuple[str, str, str]]:
    """(at, by, command) of each reveal of one customer, oldest first."""
    return store.conn.execute(
        'SELECT at, "by", command FROM audit_log WHERE customer_id = ? AND field = ? AND new = ? ORDER BY id',
        (customer_id, "*", REVEALED),
    ).fetchall()


def typed_value(key: str, text: str | None) -> Any:
    """An audit value (stored as text) back in its column's type: what undo writes back."""
    if text is None:
        return None
    from .fields import BY_KEY

    spec = BY_KEY.get(key)
    if spec is not None and spec.kind in ("amount", "integer", "flag"):
        return int(text)
    if spec is not None and spec.kind == "decimal":
        return float(text)
    return text
