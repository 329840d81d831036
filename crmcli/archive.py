"""The customer history store: archiving takes customers out of the working lists, never out of
the database.

An archived customer keeps its row, follow-ups, status changes and audit trail; only its
``archived`` flag (and ``archived_at``) change, so ``list``, ``stale`` and ``today`` leave it out
while ``list --archived``/``--all`` and ``search --all`` still find it, and ``crm restore``
brings it back unchanged.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from . import clock
from .agenda import LAST_CONTACT
from .customers import Context, Record, get, update
from .errors import UsageError
from .storage import Store


@dataclass
class Candidate:
    id: str
    name: str
    status: str
    owner: str | None
    last_contact: str | None
    reason: str  # inactive | lost | asked


def candidates(
    conn: sqlite3.Connection, boundary: date, *, inactive: bool = True, lost: bool = True
) -> list[Candidate]:
    """Current customers inactive since before ``boundary`` and/or lost."""
    if not (inactive or lost):
        raise UsageError(
            "nothing to archive: --no-inactive and --no-lost together select no one",
            zh="没有可归档的客户：同时使用 --no-inactive 和 --no-lost 不会选中任何人",
        )
    clauses = []
    params: list[object] = []
    if inactive:
        clauses.append(f"{LAST_CONTACT} < ?")
        params.append(boundary.isoformat())
    if lost:
        clauses.append("status = 'lost'")
    rows = conn.execute(
        f"SELECT id, name, status, owner, {LAST_CONTACT} FROM customers "
        f"WHERE archived = 0 AND ({' OR '.join(clauses)}) ORDER BY {LAST_CONTACT}, id",
        params,
    ).fetchall()
    return [Candidate(r[0], r[1], r[2], r[3], r[4], "lost" if r[2] == "lost" else "inactive") for r in rows]


def archive(
    store: Store,
    boundary: date,
    ctx: Context,
    *,
    inactive: bool = True,
    lost: bool = True,
    ids: Sequence[str] = (),
    dry_run: bool = False,
) -> list[Candidate]:
    """Archive the selected customers in one transaction (or, with ``dry_run``, only list them).
    With ``ids`` exactly those customers are archived, whatever their activity."""
    ctx.command = "archive"
    scope = contextlib.nullcontext(store.conn) if dry_run else store.write()
    with scope as conn:
        if ids:
            chosen = []
            for cid in ids:
                rec = get(conn, cid)
                if rec["archived"]:
                    continue
                row = conn.execute(f"SELECT {LAST_CONTACT} FROM customers WHERE id = ?", (rec["id"],)).fetchone()
                chosen.append(Candidate(rec["id"], rec["name"], rec["status"], rec["owner"], row[0], "asked"))
        else:
            chosen = candidates(conn, boundary, inactive=inactive, lost=lost)
        if not dry_run:
            stamp = clock.now_utc()
            for cand in chosen:
                update(conn, get(conn, cand.id), {"archived": 1, "archived_at": stamp}, ctx)
    return chosen


def restore(store: Store, customer_id: str, ctx: Context) -> tuple[Record, bool]:
    """Bring an archived customer back. Returns the record and whether it was archived."""
    ctx.command = "restore"
    with store.write() as conn:
        current = get(conn, customer_id)
        if not current["archived"]:
            return current, False
        update(conn, current, {"archived": 0, "archived_at": None}, ctx)
        return get(conn, current["id"]), True
