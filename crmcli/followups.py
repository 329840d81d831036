"""Follow-ups, status changes and the history timeline of one customer.

The customer row mirrors its latest follow-up: ``last_followup`` is the latest follow-up date ever
logged (a back-dated entry never moves it backwards), and ``followup``, ``next_step`` and
``next_date`` are those of the latest follow-up. Every change to the customer row goes through
:func:`crmcli.customers.update`, so it is audited and bumps the row version.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import clock, parsing, textsafe
from .customers import Context, Record, _audit, get, log_status, update
from .errors import ParseError, ValidationError
from .options import OptionSet
from .storage import Store

TEXT_MAX = 2000
FOLLOWUP_COLUMNS: tuple[str, ...] = (
    "id",
    "customer_id",
    "date",
    "content",
    "result",
    "next_step",
    "next_date",
    "channel",
    "kind",
    "satisfaction",
    "by",
    "created_at",
)


@dataclass
class FollowupInput:
    """A follow-up as typed in: every value raw text (or None), checked by :func:`prepare`."""

    content: str
    result: str | None = None
    next_step: str | None = None
    next_date: str | None = None
    date: str | None = None
    channel: str | None = None
    kind: str | None = None
    satisfaction: str | int | None = None
    by: str | None = None


def _text(name: str, value: str | None, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(name, value, "empty")
        return None
    try:
        textsafe.check(text, multiline=name != "by")
    except ParseError as exc:
        raise ValidationError(name, value, exc.reason, details=dict(exc.details)) from None
    if required:
        try:
            parsing.check_not_placeholder(text)
        except ParseError as exc:
            raise ValidationError(name, value, exc.reason) from None
    if len(text) > TEXT_MAX:
        raise ValidationError(name, value, "too_long", details={"max_len": TEXT_MAX})
    return text


def prepare(raw: FollowupInput, options: OptionSet, ctx: Context, today: date | None = None) -> Record:
    """Validate a follow-up into the row to store (without customer and timestamps)."""
    today = today or clock.today()
    values: Record = {
        "content": _text("content", raw.content, required=True),
        "result": _text("result", raw.result),
        "next_step": _text("next_step", raw.next_step),
    }
    try:
        if raw.date and raw.date.strip():
            when = parsing.parse_date(raw.date)
            moves_last_followup(None, when.isoformat(), today, field="date")  # never in the future
        else:
            when = today
        values["date"] = when.isoformat()
    except ParseError as exc:
        raise ValidationError("date", raw.date, exc.reason, details=dict(exc.details)) from None
    try:
        due = parsing.parse_due(raw.next_date, today) if raw.next_date and raw.next_date.strip() else None
    except ParseError as exc:
        raise ValidationError("next_date", raw.next_date, exc.reason, details=dict(exc.details)) from None
    values["next_date"] = due.isoformat() if due else None
    values["channel"] = options.resolve("channel", raw.channel) if raw.channel and raw.channel.strip() else None
    values["kind"] = options.resolve("kind", raw.kind) if raw.kind and raw.kind.strip() else None
    if raw.satisfaction is None or str(raw.satisfaction).strip() == "":
        values["satisfaction"] = None
    else:
        try:
            values["satisfaction"] = parsing.parse_int_range(str(raw.satisfaction), 1, 5)
        except ParseError as exc:
            raise ValidationError("satisfaction", raw.satisfaction, exc.reason, details=dict(exc.details)) from None
    values["by"] = _text("by", raw.by) or ctx.user or None
    return values


MIRRORED: tuple[str, ...] = ("last_followup", "followup", "next_step", "next_date")
"""The customer's fields that mirror its latest follow-up."""


def moves_last_followup(
    current: str | None, new: str | None, today: date | None = None, *, field: str = "last_followup"
) -> bool:
    """The one rule for a customer's ``last_followup``, used by ``crm log``, ``crm edit`` and
    ``crm import``: it never lies in the future (ValidationError) and never moves backwards.

    Returns True when ``new`` is the date to keep (later than ``current``, or equal: the entry
    recorded last speaks for the day), False when it is earlier (or empty while a date is set):
    a back-dated follow-up then leaves the date alone, and a hand edit is refused."""
    today = today or clock.today()
    if new is not None and new > today.isoformat():
        raise ValidationError(field, new, "followup_future", details={"today": today.isoformat()})
    if current is None:
        return True
    return new is not None and new >= current


def check_edit_last_followup(current: str | None, new: str | None) -> None:
    """``crm edit --last-followup`` / ``--set last_followup=``: the same rule as ``crm log``,
    refused when it would move the date backwards (or clear it) or into the future."""
    if new == current:
        return
    if not moves_last_followup(current, new):
        raise ValidationError("last_followup", new, "followup_backwards", details={"current": current})


def log(store: Store, customer_id: str, raw: FollowupInput, ctx: Context, options: OptionSet) -> Record:
    """Validate and store one follow-up; update the customer from it when it is the latest."""
    from . import changes

    values = prepare(raw, options, ctx)
    with store.write() as conn:
        changes.start(conn, ctx, "log", f"log {customer_id}")
        return log_in(conn, customer_id, values, ctx)


def log_in(conn: sqlite3.Connection, customer_id: str, values: Mapping[str, Any], ctx: Context) -> Record:
    """Store a prepared follow-up inside the caller's transaction. Returns the stored row."""
    current = get(conn, customer_id)
    ctx = dataclasses.replace(ctx, command="log")  # same warnings list; audit rows say "log"
    stamp = clock.now_utc()
    row = {
        **{k: values.get(k) for k in FOLLOWUP_COLUMNS if k not in ("id", "customer_id", "created_at")},
        "customer_id": current["id"],
        "created_at": stamp,
    }
    keys = list(row)
    cur = conn.execute(
        f"INSERT INTO followups ({', '.join(_quote(k) for k in keys)}, batch_id) "
        f"VALUES ({', '.join('?' * len(keys))}, ?)",
        [*row.values(), ctx.batch_id],
    )
    row["id"] = cur.lastrowid
    mirror(conn, current, row, ctx, stamp)
    if current["archived"]:
        ctx.warnings.append(f"{current['id']} is archived; `crm restore {current['id']}` brings it back")
    return {k: row.get(k) for k in FOLLOWUP_COLUMNS}


def mirror(conn: sqlite3.Connection, current: Record, row: Mapping[str, Any], ctx: Context, stamp: str) -> bool:
    """After follow-up ``row`` (already stored) of customer ``current``: audit it, and when it is
    the latest, make the customer mirror it (audited, version bumped). Returns whether it did."""
    # Logged in the audit trail too (every follow-up, back-dated ones included): its id there
    # orders it among the status changes and edits of the same second in `crm history`.
    _audit(conn, current["id"], ctx, "followups", None, row["id"], stamp)
    if not moves_last_followup(current["last_followup"], row["date"]):
        return False
    update(
        conn,
        current,
        {
            "last_followup": row["date"],
            "followup": row["content"],
            "next_step": row.get("next_step"),
            "next_date": row.get("next_date"),
        },
        ctx,
    )
    return True


def mirror_values(conn: sqlite3.Connection, customer_id: str) -> Record | None:
    """The mirrored fields as the customer's latest stored follow-up gives them (None: it has none)."""
    latest = conn.execute(
        "SELECT date, content, next_step, next_date FROM followups WHERE customer_id = ? "
        "ORDER BY date DESC, id DESC LIMIT 1",
        (customer_id,),
    ).fetchone()
    return None if latest is None else dict(zip(MIRRORED, latest))


def _quote(column: str) -> str:
    return '"by"' if column == "by" else column


def list_for(conn: sqlite3.Connection, customer_id: str, limit: int | None = None) -> list[Record]:
    """A customer's follow-ups, newest first."""
    sql = (
        f"SELECT {', '.join(_quote(c) for c in FOLLOWUP_COLUMNS)} FROM followups WHERE customer_id = ? "
        "ORDER BY date DESC, id DESC"
    )
    params: list[Any] = [customer_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [dict(zip(FOLLOWUP_COLUMNS, r)) for r in conn.execute(sql, params)]


def count_for(conn: sqlite3.Connection, customer_id: str) -> int:
    return conn.execute("SELECT count(*) FROM followups WHERE customer_id = ?", (customer_id,)).fetchone()[0]


# ---------------------------------------------------------------------------- status


def change_status(
    store: Store, customer_id: str, new: str, ctx: Context, options: OptionSet, note: str | None = None
) -> tuple[Record, str | None]:
    """Set the status (code or label). Returns the record and the previous status, or None when
    the customer already had it (a successful no-op, nothing recorded)."""
    from . import changes

    code = options.resolve("status", new)
    note = _text("note", note)
    with store.write() as conn:
        changes.start(conn, ctx, "status", f"status {customer_id} {code}")
        result = change_status_in(conn, customer_id, code, ctx, note)
        changes.drop_if_empty(conn, ctx)
        return result


def change_status_in(
    conn: sqlite3.Connection, customer_id: str, code: str, ctx: Context, note: str | None
) -> tuple[Record, str | None]:
    """:func:`change_status` inside the caller's transaction, with a resolved code and a checked note."""
    current = get(conn, customer_id)
    old = current["status"]
    if old == code:
        return current, None
    stamp = clock.now_utc()
    conn.execute(
        "UPDATE customers SET status = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        (code, stamp, current["id"]),
    )
    log_status(conn, current["id"], old, code, ctx, note, stamp)
    _audit(conn, current["id"], ctx, "status", old, code, stamp)
    return get(conn, current["id"]), old


def status_changes(conn: sqlite3.Connection, customer_id: str) -> list[Record]:
    cols = ("at", "from_status", "to_status", "by", "note")
    rows = conn.execute(
        'SELECT at, from_status, to_status, "by", note FROM status_changes WHERE customer_id = ? ORDER BY at, id',
        (customer_id,),
    )
    return [dict(zip(cols, r)) for r in rows]


# ---------------------------------------------------------------------------- history

HISTORY_COLUMNS: tuple[str, ...] = ("when", "type", "by", "summary", "detail", "command", "at")
# Fields a follow-up sets on the customer: shown once, as the follow-up, not as edits.
_MIRRORED = {"last_followup", "followup", "next_step", "next_date"}


def _audited_value(field: str, stored: str | None, options: OptionSet, lang: str, reveal: bool) -> tuple[Any, str]:
    """An audit row's old or new value as (what JSON shows, what the summary shows): phones (any
    phone-kind field) masked unless ``reveal``, money in yuan, dropdown codes with their labels in
    the summary; like every other output of crm."""
    if stored is None:
        return None, "—"
    from .fields import BY_KEY

    spec = BY_KEY.get(field)
    kind = spec.kind if spec else "text"
    if kind == "phone":
        value = stored if reveal else parsing.mask_phone(stored)
        return value, value
    if kind == "amount":
        try:
            fen = int(stored)
        except ValueError:
            return stored, stored
        return parsing.fen_to_yuan(fen), parsing.format_amount(fen)
    if kind == "choice":
        return stored, options.label(field, stored, lang)
    return stored, stored


def history(
    conn: sqlite3.Connection, customer_id: str, options: OptionSet, lang: str = "en", *, reveal: bool = False
) -> list[Record]:
    """One timeline of follow-ups, status changes and field edits, newest first.

    Each entry: ``when`` (the follow-up date, or the event's UTC timestamp), ``type`` (followup,
    status, edit, created, archived, restored, grade), ``by``, a one-line ``summary``, a
    ``detail`` mapping with the entry's own fields, ``command`` and ``at`` (when it was recorded).
    A back-dated follow-up sits at its date. Old and new phones are masked unless ``reveal`` (which
    the caller audits); amounts are yuan, dropdowns read as labels in the summary.
    """
    from .merge import merged_into

    record = get(conn, customer_id)
    cid = record["id"]
    # Customers merged into this one keep their audit rows under their own IDs (the trail is
    # append-only): their history is this customer's too, each line naming its first ID.
    sources = [cid, *merged_into(conn, cid)]
    audit_rows = conn.execute(
        'SELECT id, at, "by", command, field, old, new, customer_id FROM audit_log '
        f"WHERE customer_id IN ({', '.join('?' * len(sources))}) ORDER BY id",
        sources,
    ).fetchall()
    origin = {r[0]: r[7] for r in audit_rows}
    audit = [r[:7] for r in audit_rows]
    # Timestamps have one-second resolution, so events of one command share them. The audit log's
    # ids give the true order: status changes and follow-ups borrow the id of their audit rows.
    status_seq: dict[tuple[str, str], float] = {}
    log_seq: dict[str, float] = {}
    for aid, at, _by, _command, field, _old, new in audit:
        if field == "status":
            status_seq.setdefault((at, new), aid)
        elif field == "*":
            status_seq.setdefault((at, "*"), aid + 0.5)  # the first status, set on creation
        elif field == "followups":
            log_seq[new] = aid
    entries: list[tuple[str, float, Record]] = []
    for f in list_for(conn, cid):
        parts = [f["content"]]
        if f["result"]:
            parts.append(("结果：" if lang == "zh" else "result: ") + f["result"])
        if f["next_step"] or f["next_date"]:
            nxt = " ".join(x for x in (f["next_step"], f"({f['next_date']})" if f["next_date"] else None) if x)
            parts.append(("下一步：" if lang == "zh" else "next: ") + nxt)
        if f["channel"]:
            parts.insert(0, f"[{options.label('channel', f['channel'], lang)}]")
        detail = {
            k: f[k]
            for k in ("id", "date", "content", "result", "next_step", "next_date", "channel", "kind", "satisfaction")
        }
        # Sorts when it was logged, unless it was logged after its date (back-dated): then at the
        # end of its date.
        created = f["created_at"] or ""
        key = min(created, f["date"] + "T23:59:59Z") if created else f["date"]
        seq = log_seq.get(str(f["id"]), 0.0)
        entry = {
            "when": f["date"],
            "type": "followup",
            "by": f["by"],
            "summary": " ".join(parts),
            "detail": detail,
            "command": "log",
            "at": created or None,
        }
        entries.append((key, seq, entry))
    for at, old, new, by, note in conn.execute(
        'SELECT at, from_status, to_status, "by", note FROM status_changes WHERE customer_id = ? ORDER BY id', (cid,)
    ):
        old_label = options.label("status", old, lang) if old else "—"
        summary = f"{old_label} → {options.label('status', new, lang)}" + (f" ({note})" if note else "")
        entry = {
            "when": at,
            "type": "status",
            "by": by,
            "summary": summary,
            "detail": {"from": old, "to": new, "note": note},
            "command": None,
            "at": at,
        }
        entries.append((at, status_seq.get((at, new), status_seq.get((at, "*"), 0.0)), entry))
    for aid, at, by, command, field, old, new in audit:
        if field in ("status", "followups") or (command in ("log", "import log") and field in _MIRRORED):
            continue  # shown as the status change / the follow-up itself
        if field == "*":
            kind = "created" if new == "created" else str(new)
            summary = f"{kind}: {old}" if old and new in ("merged", "merged-into", "purged") else kind
        elif field == "tags":
            kind = "tags"
            summary = f"tags: {old or '—'} → {new or '—'}"
        elif field == "contacts":
            from .contacts import describe

            kind = "contact"
            summary = ("contact added: " + describe(new)) if new else ("contact removed: " + describe(old))
        elif command in ("archive", "restore"):
            if field != "archived":
                continue
            kind = "archived" if command == "archive" else "restored"
            summary = kind
        else:
            kind = "grade" if command == "grade-recompute" else "edit"
            old, old_text = _audited_value(field, old, options, lang, reveal)
            new, new_text = _audited_value(field, new, options, lang, reveal)
            summary = f"{field}: {old_text} → {new_text}"
        entry = {
            "when": at,
            "type": kind,
            "by": by,
            "summary": summary,
            "detail": {"field": field, "old": old, "new": new} if field != "contacts" else {"field": field},
            "command": command,
            "at": at,
        }
        if origin[aid] != cid:
            entry["summary"] = f"[{origin[aid]}] {summary}"
        entries.append((at, float(aid), entry))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return [entry for _, _, entry in entries]
