"""More contacts per customer (the customer's own ``contact``/``phone`` is the main one).

A contact's phone is validated and normalised by the same function as the main phone
(:func:`crmcli.customers.clean_value`) and keyed the same way (``phone_key``); it is masked on
display like it. Adding and removing are audited as ``contacts`` rows whose values are the
contact as JSON, so ``crm undo`` can reverse them; ``crm history`` shows them masked.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import changes, clock, parsing
from .customers import Context, _audit, clean_value, get
from .errors import NotFound, ValidationError
from .options import OptionSet
from .storage import Store

CONTACT_COLUMNS: tuple[str, ...] = ("n", "customer_id", "name", "title", "phone", "email", "created_at")
_STORED = ("id", "customer_id", "name", "title", "phone", "phone_key", "email", "created_at")


def prepare(name: str | None, phone: str | None, title: str | None, email: str | None, options: OptionSet) -> dict[str, Any]:
    """Check a contact as typed: a name (like the main contact's), and phone, title and e-mail
    checked like the customer's own."""
    values: dict[str, Any] = {}
    for key, field_key, raw in (("name", "contact", name), ("title", "title", title), ("phone", "phone", phone),
                                ("email", "email", email)):
        try:
            values[key] = clean_value(field_key, raw, options)
        except ValidationError as exc:
            raise ValidationError(key, exc.value, exc.reason, details=exc.details) from None
    if not values["name"]:
        raise ValidationError("name", name, "required")
    values["phone_key"] = parsing.phone_key(values["phone"]) if values["phone"] else None
    return values


def list_for(conn: sqlite3.Connection, customer_id: str) -> list[dict[str, Any]]:
    """A customer's contacts in the order they were added, numbered from 1 (``n``)."""
    rows = conn.execute(
        f"SELECT {', '.join(_STORED)} FROM contacts WHERE customer_id = ? ORDER BY id", (customer_id,)
    ).fetchall()
    return [{"n": i, **dict(zip(_STORED, r))} for i, r in enumerate(rows, start=1)]


def _insert(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    keys = [k for k in _STORED if k in row and (k != "id" or row[k] is not None)]
    cur = conn.execute(
        f"INSERT INTO contacts ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})", [row[k] for k in keys]
    )
    return int(cur.lastrowid or 0)


def _json(row: dict[str, Any]) -> str:
    return json.dumps({k: row.get(k) for k in _STORED}, ensure_ascii=False)


def add(store: Store, customer_id: str, values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    with store.write() as conn:
        cid = get(conn, customer_id)["id"]
        changes.start(conn, ctx, "contact add", f"contact add {cid}: {values['name']}")
        row = {**values, "customer_id": cid, "created_at": clock.now_utc()}
        row["id"] = _insert(conn, row)
        _audit(conn, cid, ctx, "contacts", None, _json(row), row["created_at"])
        return next(c for c in list_for(conn, cid) if c["id"] == row["id"])


def remove(store: Store, customer_id: str, n: int, ctx: Context) -> dict[str, Any]:
    """Remove the customer's contact number ``n`` (as ``crm contact list`` numbers them)."""
    with store.write() as conn:
        cid = get(conn, customer_id)["id"]
        existing = list_for(conn, cid)
        if not 1 <= n <= len(existing):
            raise NotFound(f"{cid} has no contact {n} (it has {len(existing)})", zh=f"{cid} 没有第 {n} 个联系人（共 {len(existing)} 个）")
        row = existing[n - 1]
        changes.start(conn, ctx, "contact remove", f"contact remove {cid}: {row['name']}")
        conn.execute("DELETE FROM contacts WHERE id = ?", (row["id"],))
        _audit(conn, cid, ctx, "contacts", _json(row), None, clock.now_utc())
        return row


def revert_in(conn: sqlite3.Connection, change_id: int, ctx: Context) -> None:
    """Reverse the contact additions and removals of one change set (newest first)."""
    rows = conn.execute(
        "SELECT customer_id, old, new FROM audit_log WHERE change_id = ? AND field = 'contacts' ORDER BY id DESC",
        (change_id,),
    ).fetchall()
    stamp = clock.now_utc()
    for cid, old, new in rows:
        if new:
            added = json.loads(new)
            conn.execute("DELETE FROM contacts WHERE id = ? AND customer_id = ?", (added["id"], cid))
            _audit(conn, cid, ctx, "contacts", new, None, stamp)
        elif old:
            removed = json.loads(old)
            if conn.execute("SELECT 1 FROM contacts WHERE id = ?", (removed["id"],)).fetchone():
                removed["id"] = None
            removed["id"] = _insert(conn, removed)
            _audit(conn, cid, ctx, "contacts", None, _json(removed), stamp)


def public(row: dict[str, Any], reveal: bool = False) -> dict[str, Any]:
    """A contact as listings show it: the numbered columns, the phone masked unless ``reveal``."""
    out = {k: row.get(k) for k in CONTACT_COLUMNS}
    if out["phone"] and not reveal:
        out["phone"] = parsing.mask_phone(out["phone"])
    return out


def describe(value: str | None, reveal: bool = False) -> str:
    """One audit value of a contact, for history: ``李四 (采购经理) 139****0000``, masked."""
    if not value:
        return "—"
    try:
        row = json.loads(value)
    except ValueError:
        return "?"
    phone = row.get("phone")
    shown = (phone if reveal else parsing.mask_phone(phone)) if phone else ""
    title = f" ({row['title']})" if row.get("title") else ""
    return " ".join(x for x in (f"{row.get('name')}{title}", shown, row.get("email") or "") if x)


# ---------------------------------------------------------------------------- export

EXPORT_KEYS: tuple[str, ...] = ("customer_id", "customer_name", "n", "name", "title", "phone", "email")
EXPORT_HEADERS = {
    "customer_id": ("客户编号", "Customer ID"), "customer_name": ("客户名称", "Customer name"), "n": ("序号", "No."),
    "name": ("姓名", "Name"), "title": ("职位", "Title"), "phone": ("联系方式", "Phone"), "email": ("电子邮箱", "Email"),
}


def export_rows(conn: sqlite3.Connection, where: str, params: list[Any], reveal: bool) -> list[dict[str, Any]]:
    """The contacts of the customers ``where`` keeps (a ``query.Filters`` clause), numbered per
    customer as ``crm contact list`` numbers them, phones masked unless ``reveal``."""
    rows = conn.execute(
        "SELECT c.customer_id, k.name, c.name, c.title, c.phone, c.email FROM contacts c "
        f"JOIN customers k ON k.id = c.customer_id WHERE c.customer_id IN (SELECT id FROM customers WHERE {where}) "
        "ORDER BY c.customer_id, c.id",
        params,
    ).fetchall()
    out: list[dict[str, Any]] = []
    last, n = None, 0
    for cid, cname, name, title, phone, email in rows:
        n = n + 1 if cid == last else 1
        last = cid
        shown = phone if reveal or not phone else parsing.mask_phone(phone)
        out.append(dict(zip(EXPORT_KEYS, (cid, cname, n, name, title, shown, email))))
    return out


def write_export(rows: list[dict[str, Any]], fmt: str, out: Any, headers: str, lang: str) -> int:
    """Write contact rows as CSV/TSV (formulas neutralised), JSON/JSONL or one XLSX sheet."""
    from .exporting import neutralise
    from .render import write_machine

    def header(key: str) -> str:
        zh, en = EXPORT_HEADERS[key]
        return key if headers == "keys" else (zh if headers == "zh" else en)

    if fmt in ("json", "jsonl"):
        return write_machine(rows, fmt, out)
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("联系人" if lang == "zh" else "Contacts")
        ws.append([header(k) for k in EXPORT_KEYS])
        for row in rows:
            cells = []
            for key in EXPORT_KEYS:
                cell = WriteOnlyCell(ws, value=row[key] if key == "n" or row[key] is None else str(row[key]))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # typed text: never a formula; phones stay text
                cells.append(cell)
            ws.append(cells)
        wb.save(out)
        return len(rows)
    import csv

    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    writer.writerow([header(k) for k in EXPORT_KEYS])
    for row in rows:
        writer.writerow(["" if row[k] is None else neutralise(str(row[k])) for k in EXPORT_KEYS])
    out.flush()
    return len(rows)
