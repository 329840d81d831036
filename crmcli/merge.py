"""``crm merge KEEP OTHER``: one customer out of two records of it.

OTHER's follow-ups, status history, contacts and tags (every row of a table with a foreign key to
``customers``) move to KEEP; KEEP's empty fields are filled from OTHER; where both have a value and
they differ the caller chooses (``prefer``). First contact is the earlier of the two, and the
latest follow-up of either speaks for the merged customer. OTHER then goes to the trash with the
note "merged into KEEP". All of it is one transaction and one change set; ``merges`` records the
rows moved so ``crm undo`` can move them back. The audit trail is append-only, so OTHER's audit
rows stay under its ID: :func:`merged_into` lets KEEP's history include them.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from . import changes, clock, trash
from .customers import Context, Record, _audit, columns, get, update
from .errors import Conflict, UsageError
from .fields import BY_KEY
from .storage import Store

MIRRORED = ("last_followup", "followup", "next_step", "next_date")
"""Set from the latest follow-up, so taken together from whichever customer was contacted last."""
MERGED = "merged"
MERGED_INTO = "merged-into"


def mergeable(keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if k in BY_KEY and BY_KEY[k].editable and k != "id" and k not in MIRRORED
            and k != "first_contact"]


def _empty(value: object) -> bool:
    return value is None or value == ""


@dataclass
class MergePlan:
    keep: Record
    other: Record
    fills: dict[str, Any] = field(default_factory=dict)
    conflicts: list[tuple[str, Any, Any]] = field(default_factory=list)  # (key, keep's, other's)
    followups: int = 0


def preview(conn: sqlite3.Connection, keep_id: str, other_id: str) -> MergePlan:
    """What merging would fill in and which fields conflict."""
    keep, other = get(conn, keep_id), get(conn, other_id)
    if keep["id"] == other["id"]:
        raise UsageError(f"cannot merge {keep['id']} into itself", zh=f"不能将 {keep['id']} 与自身合并")
    result = MergePlan(keep, other)
    for key in mergeable(columns(conn)):
        mine, theirs = keep.get(key), other.get(key)
        if _empty(theirs) or mine == theirs:
            continue
        if _empty(mine):
            result.fills[key] = theirs
        else:
            result.conflicts.append((key, mine, theirs))
    result.followups = conn.execute("SELECT count(*) FROM followups WHERE customer_id = ?", (other["id"],)).fetchone()[0]
    return result


def merge(
    store: Store, keep_id: str, other_id: str, ctx: Context, choices: dict[str, str], *, expected: MergePlan | None = None
) -> MergePlan:
    """Merge OTHER into KEEP. ``choices`` maps every conflicting field to ``keep`` or ``other``;
    with ``expected`` (the preview the user answered) the merge is refused if either customer
    changed since."""
    ctx.command = "merge"
    with store.write() as conn:
        plan = preview(conn, keep_id, other_id)
        if expected is not None and (
            plan.keep["version"] != expected.keep["version"] or plan.other["version"] != expected.other["version"]
        ):
            raise Conflict("one of the customers changed while you chose; nothing was merged",
                           zh="选择期间其中一个客户被修改；未合并")
        unchosen = [k for k, _, _ in plan.conflicts if choices.get(k) not in ("keep", "other")]
        if unchosen:
            raise UsageError(f"choose keep or other for: {', '.join(unchosen)} (--prefer keep|other)",
                             zh=f"请为这些字段选择 keep 或 other：{', '.join(unchosen)}（--prefer keep|other）")
        keep, other = plan.keep, plan.other
        values = dict(plan.fills)
        values.update({k: theirs for k, _, theirs in plan.conflicts if choices[k] == "other"})
        firsts = [d for d in (keep.get("first_contact"), other.get("first_contact")) if d]
        if firsts and min(firsts) != keep.get("first_contact"):
            values["first_contact"] = min(firsts)
        if other.get("last_followup") and (not keep.get("last_followup") or other["last_followup"] > keep["last_followup"]):
            values.update({k: other.get(k) for k in MIRRORED})
        changes.start(conn, ctx, "merge", f"merge {other['id']} into {keep['id']}", 2)
        moved = _move(conn, other["id"], keep["id"])
        update(conn, keep, values, ctx)
        stamp = clock.now_utc()
        _audit(conn, keep["id"], ctx, "*", other["id"], MERGED, stamp)
        _audit(conn, other["id"], ctx, "*", keep["id"], MERGED_INTO, stamp)
        trash.move_in(conn, other["id"], ctx, note=f"merged into {keep['id']}")
        conn.execute(
            'INSERT INTO merges (keep_id, other_id, at, "by", change_id, moved) VALUES (?, ?, ?, ?, ?, ?)',
            (keep["id"], other["id"], stamp, ctx.user, ctx.change_id, json.dumps(moved)),
        )
    return plan


def _move(conn: sqlite3.Connection, source: str, target: str) -> dict[str, list[int]]:
    """Point every row referring to ``source`` at ``target``; returns the rowids moved per table.
    A row that would duplicate one of the target's (the same tag) stays and goes to the trash."""
    moved: dict[str, list[int]] = {}
    for table, column in trash.referring_tables(conn):
        before = [r[0] for r in conn.execute(f'SELECT rowid FROM "{table}" WHERE "{column}" = ?', (source,))]
        if not before:
            continue
        conn.execute(f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ?', (target, source))
        left = {r[0] for r in conn.execute(f'SELECT rowid FROM "{table}" WHERE "{column}" = ?', (source,))}
        moved[table] = [r for r in before if r not in left]
    return moved


def for_change(conn: sqlite3.Connection, change_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT id, keep_id, other_id, moved FROM merges WHERE change_id = ? AND undone_at IS NULL", (change_id,)
    ).fetchone()
    if row is None:
        return None
    return {"id": row[0], "keep_id": row[1], "other_id": row[2], "moved": json.loads(row[3])}


def unmerge(conn: sqlite3.Connection, merged: dict[str, Any], ctx: Context) -> None:
    """Undo a merge's moves inside the caller's transaction: OTHER back from the trash, its rows
    back to it. KEEP's fields are reverted by the caller from the change's audit rows."""
    other, keep = merged["other_id"], merged["keep_id"]
    if not trash.is_trashed(conn, other):
        raise Conflict(f"{other} is no longer in the trash", zh=f"{other} 已不在回收站中")
    trash.restore_in(conn, other, ctx)
    known = dict(trash.referring_tables(conn))
    for table, rowids in merged["moved"].items():
        column = known.get(table)
        if column is None or not rowids:
            continue
        conn.execute(
            f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ? '
            "AND rowid IN (SELECT value FROM json_each(?))",
            (other, keep, json.dumps(rowids)),
        )
    conn.execute("UPDATE merges SET undone_at = ? WHERE id = ?", (clock.now_utc(), merged["id"]))


def merged_into(conn: sqlite3.Connection, keep_id: str) -> list[str]:
    """The customers merged into ``keep_id`` (and not unmerged), whose audit rows its history shows."""
    return [r[0] for r in conn.execute(
        "SELECT other_id FROM merges WHERE keep_id = ? AND undone_at IS NULL ORDER BY id", (keep_id,)
    )]
