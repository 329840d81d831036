"""The trash: deleted customers leave ``customers`` for ``trash_customers``, with their follow-ups,
status history, tags and contacts, until restored or purged.

Separate tables rather than a ``deleted_at`` column: every query of ``customers`` (listings,
search, stale, today, reports, exports, completion, and whatever is written next) leaves deleted
customers out without having to remember a filter. The customer row is kept as JSON (custom
fields included) and the rows of every table with a foreign key to ``customers`` as JSON lists,
found from the schema, so a table added later moves with its customer too. The audit trail is
append-only and stays where it is. A trigger (migration 007) and :func:`crmcli.ids.next_id` keep
a trashed ID reserved.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from typing import Any

from . import changes, clock
from .customers import Context, Record, _audit, get
from .errors import Conflict, NotFound, ValidationError
from .storage import Store

TRASH_COLUMNS: tuple[str, ...] = ("id", "name", "owner", "deleted_at", "deleted_by", "note")
DELETED = "deleted"
UNDELETED = "undeleted"
PURGED = "purged"


@dataclass
class Trashed:
    id: str
    name: str
    owner: str | None
    deleted_at: str
    deleted_by: str | None
    note: str | None
    followups: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (*TRASH_COLUMNS, "followups")}


def referring_tables(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to ``customers``, from the schema itself."""
    rows = conn.execute(
        "SELECT m.name, f.\"from\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f "
        "WHERE m.type = 'table' AND f.\"table\" = 'customers' ORDER BY m.name"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _rows(conn: sqlite3.Connection, table: str, column: str, customer_id: str) -> list[dict[str, Any]]:
    cur = conn.execute(f'SELECT * FROM "{table}" WHERE "{column}" = ? ORDER BY rowid', (customer_id,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def move_in(conn: sqlite3.Connection, customer_id: str, ctx: Context, note: str | None = None) -> Record:
    """Move one customer and everything referring to it into the trash, inside the caller's
    transaction. Its audit row (``deleted``) joins the context's change set."""
    record = get(conn, customer_id)
    cid = record["id"]
    cur = conn.execute("SELECT * FROM customers WHERE id = ?", (cid,))
    row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    related: dict[str, list[dict[str, Any]]] = {}
    for table, column in referring_tables(conn):
        rows = _rows(conn, table, column, cid)
        if rows:
            related[table] = rows
            conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (cid,))
    conn.execute("DELETE FROM customers WHERE id = ?", (cid,))
    stamp = clock.now_utc()
    conn.execute(
        'INSERT INTO trash_customers (id, name, owner, deleted_at, deleted_by, note, change_id, record, related) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cid, record["name"], record.get("owner"), stamp, ctx.user, note, ctx.change_id,
         json.dumps(row, ensure_ascii=False), json.dumps(related, ensure_ascii=False)),
    )
    _audit(conn, cid, ctx, "*", note or record["name"], DELETED, stamp)
    return record


def delete(store: Store, customer_ids: Sequence[str], ctx: Context, note: str | None = None) -> list[Record]:
    """Move customers to the trash in one transaction: one change set ``crm undo`` can revert."""
    with store.write() as conn:
        records = [get(conn, cid) for cid in customer_ids]  # every ID checked before anything moves
        names = ", ".join(r["id"] for r in records[:3]) + (" …" if len(records) > 3 else "")
        changes.start(conn, ctx, "delete", f"delete {names}", len(records))
        return [move_in(conn, r["id"], ctx, note) for r in records]


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def restore_in(conn: sqlite3.Connection, customer_id: str, ctx: Context) -> Record:
    """Put a trashed customer back, inside the caller's transaction. Rows keep their ids unless
    an id was taken meanwhile (SQLite reuses the highest id of a table); columns dropped since are
    left out, columns added since stay empty."""
    key = customer_id.strip()
    sql = "SELECT id, record, related FROM trash_customers WHERE id = ? AND purged_at IS NULL"
    row = conn.execute(sql, (key,)).fetchone()
    if row is None and key != key.upper():
        row = conn.execute(sql, (key.upper(),)).fetchone()
    if row is None:
        raise NotFound(f"no customer {customer_id} in the trash", zh=f"回收站中没有客户 {customer_id}")
    cid, record, related = row[0], json.loads(row[1]), json.loads(row[2])
    conn.execute("DELETE FROM trash_customers WHERE id = ?", (cid,))
    _insert(conn, "customers", record)
    for table, rows in related.items():
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            continue  # a table dropped since: nothing to put the rows into
        for item in rows:
            if "id" in item and conn.execute(f'SELECT 1 FROM "{table}" WHERE id = ?', (item["id"],)).fetchone():
                item = {k: v for k, v in item.items() if k != "id"}
            _insert(conn, table, item)
    _audit(conn, cid, ctx, "*", None, UNDELETED, clock.now_utc())
    return get(conn, cid)


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    known = set(_columns(conn, table))
    keys = [k for k in values if k in known]
    try:
        conn.execute(
            f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{k}{chr(34)}" for k in keys)}) '
            f"VALUES ({', '.join('?' * len(keys))})",
            [values[k] for k in keys],
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"cannot restore into {table}: {exc}", zh=f"无法恢复到 {table}：{exc}") from exc


def restore(store: Store, customer_ids: Sequence[str], ctx: Context) -> list[Record]:
    """Bring customers back from the trash in one transaction (one change set)."""
    with store.write() as conn:
        changes.start(conn, ctx, "trash restore", "restore " + ", ".join(customer_ids[:3]), len(customer_ids))
        return [restore_in(conn, cid, ctx) for cid in customer_ids]


def listing(conn: sqlite3.Connection) -> list[Trashed]:
    """The trash, most recently deleted first, with the number of follow-ups each took along."""
    out = []
    for cid, name, owner, at, by, note, related in conn.execute(
        "SELECT id, name, owner, deleted_at, deleted_by, note, related FROM trash_customers WHERE purged_at IS NULL "
        "ORDER BY deleted_at DESC, id"
    ):
        followups = len(json.loads(related).get("followups", []))
        out.append(Trashed(cid, name, owner, at, by, note, followups))
    return out


_AGE_RE = re.compile(r"^\s*(\d{1,5})\s*([dwmy])\s*$", re.IGNORECASE)


def parse_age(text: str) -> timedelta:
    """``30d``, ``2w``, ``6m`` (30 days each), ``1y`` (365 days)."""
    match = _AGE_RE.match(text or "")
    if not match:
        raise ValidationError("older_than", text, "age_format")
    n, unit = int(match.group(1)), match.group(2).lower()
    return timedelta(days=n * {"d": 1, "w": 7, "m": 30, "y": 365}[unit])


def purge_candidates(conn: sqlite3.Connection, older_than: timedelta | None, ids: Sequence[str] = ()) -> list[Trashed]:
    """What a purge would remove: entries deleted before today minus ``older_than`` (local
    calendar days, like every other window), and/or the given IDs."""
    entries = listing(conn)
    chosen = entries
    if ids:
        wanted = {i.strip().upper() for i in ids}
        missing = sorted(wanted - {e.id.upper() for e in entries})
        if missing:
            raise NotFound(f"not in the trash: {', '.join(missing)}", zh=f"不在回收站中：{', '.join(missing)}")
        chosen = [e for e in chosen if e.id.upper() in wanted]
    if older_than is not None:
        boundary: date = clock.today() - older_than
        chosen = [e for e in chosen if _local_date(e.deleted_at) < boundary]
    return chosen


def _local_date(stamp: str) -> date:
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).astimezone().date()


def purge(store: Store, entries: Sequence[Trashed], ctx: Context) -> int:
    """Erase trash entries for good: the customer's data and its rows are gone, its ID stays
    reserved (an empty tombstone row). The audit trail keeps a ``purged`` row for each."""
    with store.write() as conn:
        stamp = clock.now_utc()
        for entry in entries:
            conn.execute(
                "UPDATE trash_customers SET name = '', owner = NULL, note = NULL, record = '{}', related = '{}', "
                "purged_at = ? WHERE id = ?",
                (stamp, entry.id),
            )
            _audit(conn, entry.id, ctx, "*", entry.name, PURGED, stamp)
    return len(entries)


def is_trashed(conn: sqlite3.Connection, customer_id: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM trash_customers WHERE id = ? AND purged_at IS NULL", (customer_id,)
    ).fetchone() is not None
