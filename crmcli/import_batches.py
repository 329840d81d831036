"""Import batches and their undo: list them, and take one back exactly.

Every ``crm import`` run is a batch (``import_batches``): the customers it added carry its number
(``customers.batch_id``), so do its follow-ups (``followups.batch_id``) and the audit rows of what
it changed (``audit_log.batch_id``). :func:`undo` removes what it added and reverts what it
changed, from those rows, in one transaction. The audit rows an undo writes carry the number of
the batch it undoes, so a later batch that was undone never counts as later work.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from . import clock
from .audit import typed_value
from .customers import Context, columns, update
from .errors import Conflict, NotFound
from .followups import MIRRORED, mirror_values
from .storage import Store


def _quote(name: str) -> str:
    return f'"{name}"'


BATCH_COLUMNS = (
    "id",
    "started_at",
    "finished_at",
    "by",
    "source",
    "format",
    "target",
    "rows",
    "added",
    "updated",
    "unchanged",
    "rejected",
    "followups",
    "undone_at",
)


def batches(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(_quote(c) for c in BATCH_COLUMNS)} FROM import_batches ORDER BY id DESC"
    params: list[Any] = []
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [dict(zip(BATCH_COLUMNS, row)) for row in store.conn.execute(sql, params)]


def batch(store: Store, number: int) -> dict[str, Any]:
    """One import batch (as :func:`batches` lists it); NotFound when there is none."""
    row = store.conn.execute(
        f"SELECT {', '.join(_quote(c) for c in BATCH_COLUMNS)} FROM import_batches WHERE id = ?", (number,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no import batch {number}", zh=f"没有导入批次 {number}")
    return dict(zip(BATCH_COLUMNS, row))


@dataclass
class UndoResult:
    batch: int
    removed: int = 0
    reverted: int = 0
    followups: int = 0


def undo(store: Store, batch: int, ctx: Context, *, force: bool = False) -> UndoResult:
    """Remove what batch ``batch`` added and revert what it updated, in one transaction.

    Refused (Conflict) when records were changed since the import, unless ``force``: undoing then
    would throw away later work. Changes of later batches that were undone themselves do not
    count: their audit rows, and those of their undo, carry their batch number."""
    ctx.command = "import undo"
    ctx.batch_id = batch  # the audit rows of this undo belong to the batch it undoes
    result = UndoResult(batch)
    columns(store.conn)  # custom fields: their audited changes are reverted like the others
    with store.write() as conn:
        row = conn.execute("SELECT undone_at FROM import_batches WHERE id = ?", (batch,)).fetchone()
        if row is None:
            raise NotFound(f"no import batch {batch}", zh=f"没有导入批次 {batch}")
        if row[0]:
            raise Conflict(f"import batch {batch} was already undone at {row[0]}", zh=f"导入批次 {batch} 已于 {row[0]} 撤销")
        added = conn.execute("SELECT id, version FROM customers WHERE batch_id = ? ORDER BY id", (batch,)).fetchall()
        added_ids = [r[0] for r in added]
        later_logs = conn.execute(
            "SELECT DISTINCT customer_id FROM followups WHERE customer_id IN (SELECT id FROM customers WHERE batch_id = ?) "
            "AND (batch_id IS NULL OR batch_id != ?)",
            (batch, batch),
        ).fetchall()
        touched = sorted({r[0] for r in added if _changed_since(conn, r[0], batch)} | {r[0] for r in later_logs})
        changes = conn.execute(
            "SELECT customer_id, field, old, new FROM audit_log WHERE batch_id = ? AND field NOT IN ('*', 'followups') "
            "ORDER BY id",
            (batch,),
        ).fetchall()
        reverts: dict[str, dict[str, Any]] = {}
        expected: dict[str, dict[str, Any]] = {}
        tag_reverts: dict[str, str | None] = {}
        for customer_id, key, old, new in changes:
            if customer_id in added_ids:
                continue
            if key == "tags":  # its own table: put back below with crmcli.tags
                tag_reverts.setdefault(customer_id, old)
            reverts.setdefault(customer_id, {}).setdefault(key, typed_value(key, old))
            expected.setdefault(customer_id, {})[key] = typed_value(key, new)
        for customer_id, fields in expected.items():
            try:
                current = current_record(conn, customer_id)
            except NotFound:
                touched.append(customer_id)
                continue
            if "tags" in fields:
                from .tags import for_customer, join

                current["tags"] = join(for_customer(conn, customer_id)) or None
            if any(current.get(k) != v for k, v in fields.items()):
                touched.append(customer_id)
        if touched and not force:
            shown = ", ".join(touched[:10]) + (" …" if len(touched) > 10 else "")
            raise Conflict(
                f"{len(touched)} customers of batch {batch} were changed after the import ({shown}); "
                "undoing would lose that work. Use --force to undo anyway",
                zh=f"批次 {batch} 中有 {len(touched)} 个客户在导入后被修改过（{shown}）；撤销会丢失这些修改。"
                "如仍要撤销，请用 --force",
            )
        stamp = clock.now_utc()
        # Customers (kept ones) whose follow-ups this batch added, with the dates those gave.
        logged: dict[str, set[str]] = {}
        for customer_id, day in conn.execute(
            "SELECT customer_id, date FROM followups WHERE batch_id = ? "
            "AND customer_id NOT IN (SELECT id FROM customers WHERE batch_id = ?)",
            (batch, batch),
        ):
            logged.setdefault(customer_id, set()).add(day)
        result.followups = conn.execute("DELETE FROM followups WHERE batch_id = ?", (batch,)).rowcount
        for customer_id, days in logged.items():
            _remirror(conn, customer_id, days, reverts)
        if added_ids:
            params = (batch,)
            result.followups += conn.execute(
                "DELETE FROM followups WHERE customer_id IN (SELECT id FROM customers WHERE batch_id = ?)", params
            ).rowcount
            conn.execute(
                "DELETE FROM status_changes WHERE customer_id IN (SELECT id FROM customers WHERE batch_id = ?)", params
            )
            from .tags import delete_for_batch

            delete_for_batch(conn, batch)
            conn.execute(
                "INSERT INTO audit_log (customer_id, at, by, command, field, old, new, batch_id) "
                "SELECT id, ?, ?, 'import undo', '*', name, 'deleted', ? FROM customers WHERE batch_id = ?",
                (stamp, ctx.user, batch, batch),
            )
            result.removed = conn.execute("DELETE FROM customers WHERE batch_id = ?", params).rowcount
        for customer_id, values in reverts.items():
            try:
                current = current_record(conn, customer_id)
            except NotFound:
                continue
            tags_changed = False
            if customer_id in tag_reverts:
                from .tags import set_in, split

                values.pop("tags", None)
                tags_changed = set_in(conn, customer_id, split(tag_reverts[customer_id]), ctx)
            if update(conn, current, values, ctx) or tags_changed:
                result.reverted += 1
        conn.execute("UPDATE import_batches SET undone_at = ? WHERE id = ?", (stamp, batch))
    return result


def _remirror(
    conn: sqlite3.Connection, customer_id: str, removed_days: set[str], reverts: dict[str, dict[str, Any]]
) -> None:
    """Plan the mirrored fields (last_followup, followup, next_step, next_date) of a customer whose
    follow-ups of the batch are gone: from the latest follow-up left, unless what the customer had
    before the batch is later (a date set by hand); never a date only a removed follow-up gave.

    ``reverts`` holds what the batch's audit rows say the fields were before it; batches imported
    by an older crm set ``last_followup`` without an audit row, which is why a date equal to a
    removed follow-up's is recomputed too."""
    row = conn.execute("SELECT last_followup FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        return
    before = reverts.get(customer_id, {})
    audited = "last_followup" in before
    previous = before["last_followup"] if audited else row[0]
    latest = mirror_values(conn, customer_id)
    plan = reverts.setdefault(customer_id, {})
    if latest is not None and (previous is None or latest["last_followup"] >= previous):
        plan.update(latest)
    elif not audited and previous in removed_days:
        plan.update(latest or dict.fromkeys(MIRRORED))


def _changed_since(conn: sqlite3.Connection, customer_id: str, batch: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM audit_log WHERE customer_id = ? AND field != '*' AND (batch_id IS NULL OR (batch_id != ? "
        "AND batch_id NOT IN (SELECT id FROM import_batches WHERE undone_at IS NOT NULL))) LIMIT 1",
        (customer_id, batch),
    ).fetchone()
    return row is not None


def current_record(conn: sqlite3.Connection, customer_id: str) -> dict[str, Any]:
    """A customer's row with every column (custom ones too), for writers inside a transaction."""
    keys = columns()
    row = conn.execute(
        f"SELECT {', '.join(_quote(k) for k in keys)} FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no customer {customer_id}", zh=f"没有客户 {customer_id}")
    return dict(zip(keys, row))
