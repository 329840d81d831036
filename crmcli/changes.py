"""Change sets: the audit rows one command wrote, grouped so ``crm undo`` reverts them as a unit.

A command that ``crm undo`` can revert (edit, status, log, delete, merge, a bulk edit…) calls
:func:`start` inside its write transaction; the ``changes`` row it inserts gives its id to every
``audit_log`` row the command writes (``Context.change_id``). Undoing marks the row
``undone_at`` and records the undo as a change of its own (``undoes``), so the audit trail keeps
both.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import clock

if TYPE_CHECKING:  # customers imports this module: the Context is only named here, not used
    from .customers import Context

CHANGE_COLUMNS: tuple[str, ...] = ("id", "at", "by", "command", "summary", "customers", "undoes", "undone_at")


@dataclass
class Change:
    id: int
    at: str
    by: str | None
    command: str
    summary: str
    customers: int
    undoes: int | None = None
    undone_at: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in CHANGE_COLUMNS}


def start(conn: sqlite3.Connection, ctx: Context, command: str, summary: str, customers: int = 1,
          *, undoes: int | None = None) -> int:
    """Open a change set inside the caller's transaction; the context's audit rows join it."""
    cur = conn.execute(
        'INSERT INTO changes (at, "by", command, summary, customers, undoes) VALUES (?, ?, ?, ?, ?, ?)',
        (clock.now_utc(), ctx.user, command, summary, customers, undoes),
    )
    ctx.change_id = int(cur.lastrowid or 0)
    return ctx.change_id


def drop_if_empty(conn: sqlite3.Connection, ctx: Context) -> None:
    """Forget the change set when the command changed nothing (no audit row joined it)."""
    if ctx.change_id is None:
        return
    if not conn.execute("SELECT 1 FROM audit_log WHERE change_id = ? LIMIT 1", (ctx.change_id,)).fetchone():
        conn.execute("DELETE FROM changes WHERE id = ?", (ctx.change_id,))
        ctx.change_id = None


def get(conn: sqlite3.Connection, change_id: int) -> Change | None:
    row = conn.execute(
        f'SELECT {", ".join(_q(c) for c in CHANGE_COLUMNS)} FROM changes WHERE id = ?', (change_id,)
    ).fetchone()
    return Change(*row) if row else None


def recent(conn: sqlite3.Connection, user: str | None, limit: int = 20, *, undoable_only: bool = False) -> list[Change]:
    """The latest changes (of ``user``, when given), newest first; undos themselves included
    unless ``undoable_only``."""
    clauses, params = [], []
    if user is not None:
        clauses.append('"by" = ?')
        params.append(user)
    if undoable_only:
        clauses.append("undone_at IS NULL AND undoes IS NULL")
    where = " AND ".join(clauses) or "1"
    rows = conn.execute(
        f'SELECT {", ".join(_q(c) for c in CHANGE_COLUMNS)} FROM changes WHERE {where} ORDER BY id DESC LIMIT ?',
        (*params, limit),
    ).fetchall()
    return [Change(*r) for r in rows]


def customers_of(conn: sqlite3.Connection, change_id: int) -> list[str]:
    """The customers a change touched, in the order it touched them."""
    rows = conn.execute(
        "SELECT customer_id FROM audit_log WHERE change_id = ? GROUP BY customer_id ORDER BY min(id)", (change_id,)
    ).fetchall()
    return [r[0] for r in rows]


def mark_undone(conn: sqlite3.Connection, change_id: int, by_change: int) -> None:
    conn.execute("UPDATE changes SET undone_at = ?, undone_by = ? WHERE id = ?", (clock.now_utc(), by_change, change_id))


def _q(column: str) -> str:
    return '"by"' if column == "by" else column
