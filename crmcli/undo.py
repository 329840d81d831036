"""``crm undo``: revert the latest change the current user made.

A change is a ``changes`` row and the ``audit_log`` rows that carry its id (edit, status, log,
delete, trash restore, merge, bulk edits), or an import batch (reverted by
:func:`crmcli.importing.undo`). Reverting replays the audit rows backwards through
:func:`crmcli.customers.update`, so the undo is audited like any edit and joins a change set of its
own (``undoes``). It is refused, naming the conflict, when anyone changed one of the customers
since: a later audit row that is not itself undone (reveals do not count).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from . import changes, parsing
from .audit import typed_value
from .customers import Context, get, update
from .errors import Conflict, NotFound
from .fields import BY_KEY
from .storage import Store

ENTRY_COLUMNS: tuple[str, ...] = ("kind", "id", "at", "by", "command", "summary", "customers", "undone_at")
_MARKS = ("deleted", "undeleted", "merged", "merged-into")


@dataclass
class Entry:
    """One thing ``crm undo`` can take back: a change set or an import batch."""

    kind: str  # change | import
    id: int
    at: str
    by: str | None
    command: str
    summary: str
    customers: int
    undone_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ENTRY_COLUMNS}


@dataclass
class Plan:
    entry: Entry
    lines: list[tuple[str, str]] = field(default_factory=list)  # (English, Chinese)
    conflicts: list[tuple[str, str]] = field(default_factory=list)

    def say(self, en: str, zh: str) -> None:
        self.lines.append((en, zh))


def entries(conn: sqlite3.Connection, user: str, limit: int = 20) -> list[Entry]:
    """The user's latest changes and imports, newest first (undone ones too, marked)."""
    out = [
        Entry("change", c.id, c.at, c.by, c.command, c.summary, c.customers, c.undone_at)
        for c in changes.recent(conn, user, limit)
        if c.undoes is None
    ]
    for bid, started, by, source, added, updated, undone in conn.execute(
        'SELECT id, started_at, "by", source, added, updated, undone_at FROM import_batches '
        'WHERE "by" = ? AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?',
        (user, limit),
    ):
        summary = f"import {source}: {added or 0} added, {updated or 0} updated"
        out.append(Entry("import", bid, started, by, "import", summary, (added or 0) + (updated or 0), undone))
    out.sort(key=lambda e: (e.at, e.kind == "change", e.id), reverse=True)
    return out[:limit]


def latest(conn: sqlite3.Connection, user: str) -> Entry:
    for entry in entries(conn, user, limit=200):
        if entry.undone_at is None:
            return entry
    raise NotFound(f"nothing of {user}'s to undo", zh=f"{user} 没有可撤销的更改")


def _rows(conn: sqlite3.Connection, change_id: int) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT id, customer_id, field, old, new FROM audit_log WHERE change_id = ? ORDER BY id", (change_id,)
    ).fetchall()


def _shown(key: str, value: str | None) -> str:
    if value is None or value == "":
        return "—"
    spec = BY_KEY.get(key)
    if spec is not None and spec.kind == "phone":
        return parsing.mask_phone(value)
    if spec is not None and spec.kind == "amount":
        return str(parsing.fen_to_yuan(int(value)))
    return value


def conflicts(conn: sqlite3.Connection, change_id: int, customer_ids: list[str], after: int) -> list[tuple[str, str]]:
    """Later changes to these customers, by anyone, that were not themselves undone."""
    found = []
    for cid in customer_ids:
        row = conn.execute(
            'SELECT a."by", a.at, a.command, a.field FROM audit_log a WHERE a.customer_id = ? AND a.id > ? '
            "AND NOT (a.field = '*' AND a.new = 'revealed') AND (a.change_id IS NULL OR a.change_id NOT IN "
            "(SELECT id FROM changes WHERE undone_at IS NOT NULL OR undoes IS NOT NULL)) ORDER BY a.id DESC LIMIT 1",
            (cid, after),
        ).fetchone()
        if row:
            what = row[2] if row[3] == "*" else f"{row[2]} {row[3]}"
            found.append((f"{cid} was changed since by {row[0]} at {row[1]} ({what})",
                          f"{cid} 之后被 {row[0]} 于 {row[1]} 修改（{what}）"))
    return found


def plan(conn: sqlite3.Connection, entry: Entry) -> Plan:
    """What undoing ``entry`` will do, and what stands in its way."""
    result = Plan(entry)
    if entry.kind == "import":
        result.say(f"import batch {entry.id}: {entry.summary} — remove what it added, revert what it updated",
                   f"导入批次 {entry.id}：{entry.summary} —— 删除其新增的客户，还原其更新")
        return result
    from . import merge

    rows = _rows(conn, entry.id)
    touched = list(dict.fromkeys(r[1] for r in rows))
    merged = merge.for_change(conn, entry.id)
    if merged is not None:
        result.say(f"{merged['other_id']}: back from the trash, with what the merge moved into {merged['keep_id']}",
                   f"{merged['other_id']}：从回收站恢复，合并转到 {merged['keep_id']} 的内容一并转回")
    for _, cid, key, old, new in rows:
        if key == "*" and new == "deleted" and merged is None:
            result.say(f"{cid}: back from the trash", f"{cid}：从回收站恢复")
        elif key == "*" and new == "undeleted":
            result.say(f"{cid}: back into the trash", f"{cid}：重新移入回收站")
        elif key == "followups":
            result.say(f"{cid}: follow-up {new} removed", f"{cid}：删除跟进 {new}")
        elif key not in ("*",) and key in BY_KEY:
            line = f"{cid} {key}: {_shown(key, new)} → {_shown(key, old)}"
            result.say(line, f"{cid} {BY_KEY[key].zh}：{_shown(key, new)} → {_shown(key, old)}")
        elif key == "tags":
            result.say(f"{cid} tags: {new or '—'} → {old or '—'}", f"{cid} 标签：{new or '—'} → {old or '—'}")
        elif key == "contacts":
            from .contacts import describe

            result.say(f"{cid} contact {'removed' if new else 'back'}: {describe(new or old)}",
                       f"{cid} 联系人{'删除' if new else '恢复'}：{describe(new or old)}")
    after = max((r[0] for r in rows), default=0)
    result.conflicts = conflicts(conn, entry.id, touched, after)
    return result




def revert_change(conn: sqlite3.Connection, change_id: int, ctx: Context) -> None:
    """Replay one change set backwards inside the caller's transaction (conflicts checked)."""
    from . import merge, tags, trash

    rows = _rows(conn, change_id)
    merged = merge.for_change(conn, change_id)
    if merged is not None:
        merge.unmerge(conn, merged, ctx)
    reverts: dict[str, dict[str, Any]] = {}
    for _, cid, key, old, new in reversed(rows):
        if key == "*" and new == "deleted" and merged is None:
            if not trash.is_trashed(conn, cid):
                raise Conflict(f"{cid} is no longer in the trash", zh=f"{cid} 已不在回收站中")
            trash.restore_in(conn, cid, ctx)
        elif key == "*" and new == "undeleted":
            trash.move_in(conn, cid, ctx, note="undo")
        elif key == "followups" and new is not None:
            conn.execute("DELETE FROM followups WHERE id = ? AND customer_id = ?", (int(new), cid))
        elif key == "tags":
            tags.set_in(conn, cid, tags.split(old), ctx)
        elif key == "contacts" or key == "*":
            continue  # a contact change is undone by its own rows below; marks carry no value
        elif key in BY_KEY:
            # Replayed newest first: the oldest "old" of each field is what it was before the change.
            reverts.setdefault(cid, {})[key] = typed_value(key, old)
    if merged is None:
        from . import contacts

        contacts.revert_in(conn, change_id, ctx)
    for cid, values in reverts.items():
        update(conn, get(conn, cid), values, ctx)


def undo(store: Store, entry: Entry, ctx: Context) -> Plan:
    """Revert ``entry`` (see :func:`plan`); Conflict naming what changed since, nothing undone."""
    ctx.command = "undo"
    if entry.kind == "import":
        from . import importing

        importing.undo(store, entry.id, ctx)
        return plan(store.conn, entry)
    with store.write() as conn:
        current = changes.get(conn, entry.id)
        if current is None:
            raise NotFound(f"no change {entry.id}", zh=f"没有变更 {entry.id}")
        if current.undone_at:
            raise Conflict(f"change {entry.id} was already undone at {current.undone_at}",
                           zh=f"变更 {entry.id} 已于 {current.undone_at} 撤销")
        result = plan(conn, entry)
        if result.conflicts:
            more = " …" if len(result.conflicts) > 5 else ""
            raise Conflict(f"cannot undo change {entry.id}: " + "; ".join(en for en, _ in result.conflicts[:5]) + more,
                           zh=f"无法撤销变更 {entry.id}：" + "；".join(zh for _, zh in result.conflicts[:5]) + more)
        undo_id = changes.start(conn, ctx, "undo", f"undo {entry.id}: {entry.summary}", entry.customers, undoes=entry.id)
        revert_change(conn, entry.id, ctx)
        changes.mark_undone(conn, entry.id, undo_id)
    return result
