"""Bulk changes: one edit, status change or delete over several customers, as one transaction
and one change set (so one ``crm undo`` reverts all of it).

IDs come from the command line, or from standard input with ``-`` (one a line, as
``crm list --format ids`` prints them). Every ID is checked before anything is written: one
unknown ID refuses the whole change, naming every unknown one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import changes
from .customers import Context, Record, check_edit, clean, columns, get, update
from .errors import NotFound, UsageError, ValidationError
from .options import OptionSet
from .storage import Store

MAX_SHOWN = 10


def read_ids(args: Iterable[str], stdin_lines: Iterable[str] | None) -> list[str]:
    """The IDs named: each argument, and for ``-`` each non-blank line of standard input.
    Repeats are kept once, in their first place."""
    out: list[str] = []
    for arg in args:
        if arg == "-":
            if stdin_lines is None:
                raise UsageError("`-` reads IDs from standard input, but none was given",
                                 zh="`-` 表示从标准输入读取编号，但没有输入")
            out.extend(line.strip() for line in stdin_lines if line.strip())
        elif arg.strip():
            out.append(arg.strip())
    if not out:
        raise UsageError("no customer IDs given", zh="没有给出客户编号")
    return list(dict.fromkeys(out))


def resolve(conn: sqlite3.Connection, ids: list[str]) -> list[str]:
    """The stored IDs (case as stored) of ``ids``; NotFound naming every unknown one."""
    found: list[str] = []
    missing: list[str] = []
    for cid in ids:
        row = conn.execute("SELECT id FROM customers WHERE id = ?1 OR id = upper(?1) LIMIT 1", (cid,)).fetchone()
        if row is None:
            missing.append(cid)
        else:
            found.append(row[0])
    if missing:
        shown = ", ".join(missing[:MAX_SHOWN]) + (f" … ({len(missing)})" if len(missing) > MAX_SHOWN else "")
        raise NotFound(f"no customer {shown}; nothing changed", zh=f"没有客户 {shown}；未做任何更改")
    return list(dict.fromkeys(found))


@dataclass
class BulkResult:
    changed: dict[str, list[str]] = field(default_factory=dict)  # id -> changed keys
    unchanged: list[str] = field(default_factory=list)
    change_id: int | None = None
    records: list[Record] = field(default_factory=list)
    old_status: dict[str, str | None] = field(default_factory=dict)


def edit_many(store: Store, ids: list[str], raw: Mapping[str, object], ctx: Context, options: OptionSet) -> BulkResult:
    """Apply the same field values to every customer in ``ids``, all or nothing."""
    if "id" in raw:
        raise ValidationError("id", raw["id"], "not_editable")
    columns(store.conn)  # this database's custom fields are known to clean_value
    values = clean(raw, options, allow_retired=True)
    result = BulkResult()
    with store.write() as conn:
        targets = resolve(conn, ids)
        result.change_id = changes.start(conn, ctx, "edit", _summary("edit", targets, ", ".join(values)), len(targets))
        for cid in targets:
            current = get(conn, cid)
            check_edit(current, values, options)
            changed = update(conn, current, values, ctx)
            if changed:
                result.changed[cid] = changed
            else:
                result.unchanged.append(cid)
        changes.drop_if_empty(conn, ctx)
        result.change_id = ctx.change_id
    return result


def status_many(
    store: Store, ids: list[str], new: str, ctx: Context, options: OptionSet, note: str | None = None
) -> BulkResult:
    """Set the same status on every customer in ``ids``, all or nothing."""
    from .followups import _text, change_status_in

    code = options.resolve("status", new)
    note = _text("note", note)
    result = BulkResult()
    with store.write() as conn:
        targets = resolve(conn, ids)
        changes.start(conn, ctx, "status", _summary("status", targets, code), len(targets))
        for cid in targets:
            record, old = change_status_in(conn, cid, code, ctx, note)
            result.records.append(record)
            if old is None:
                result.unchanged.append(cid)
            else:
                result.changed[cid] = ["status"]
                result.old_status[cid] = old
        changes.drop_if_empty(conn, ctx)
        result.change_id = ctx.change_id
    return result


def _summary(command: str, ids: list[str], what: str) -> str:
    shown = ", ".join(ids[:3]) + (f" … ({len(ids)})" if len(ids) > 3 else "")
    return f"{command} {shown}: {what}"
