"""Tags: free labels on customers (``crm tag ID 重点 展会2024``), one ``tags`` row each.

Tag text is trimmed (NFKC, so full-width letters and spaces become plain), at most
:data:`TAG_MAX` characters, without control characters or ``;`` (the separator of the ``tags``
column in exports and imports). Every change is audited as one ``tags`` row holding the whole set
before and after, so ``crm history`` shows it and ``crm undo`` can put the old set back.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterable

from . import changes, clock
from .customers import Context, _audit, get
from .errors import ValidationError
from .storage import Store

TAG_MAX = 30
SEPARATOR = ";"


def clean_tag(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise ValidationError("tag", raw, "empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise ValidationError("tag", raw, "tag_control")
    if SEPARATOR in text:
        raise ValidationError("tag", raw, "tag_separator")
    if len(text) > TAG_MAX:
        raise ValidationError("tag", raw[:40], "too_long", details={"max_len": TAG_MAX})
    return text


def split(text: str | None) -> list[str]:
    """The tags of a ``tags`` cell or audit value: ``重点;展会2024`` (also ``；`` and ``,``)."""
    if not text:
        return []
    parts = text.replace("；", SEPARATOR).replace(",", SEPARATOR).replace("，", SEPARATOR).split(SEPARATOR)
    return list(dict.fromkeys(clean_tag(p) for p in parts if p.strip()))


def join(tags: Iterable[str]) -> str:
    return SEPARATOR.join(sorted(tags))


def for_customer(conn: sqlite3.Connection, customer_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT tag FROM tags WHERE customer_id = ? ORDER BY tag", (customer_id,))]


def for_customers(conn: sqlite3.Connection, customer_ids: list[str]) -> dict[str, str]:
    """``id -> "a;b"`` for the customers that have tags (exports ask for a page of IDs at a time)."""
    import json

    out: dict[str, list[str]] = {}
    for cid, tag in conn.execute(
        "SELECT customer_id, tag FROM tags WHERE customer_id IN (SELECT value FROM json_each(?)) ORDER BY customer_id, tag",
        (json.dumps(customer_ids),),
    ):
        out.setdefault(cid, []).append(tag)
    return {k: SEPARATOR.join(v) for k, v in out.items()}


def set_in(conn: sqlite3.Connection, customer_id: str, wanted: Iterable[str], ctx: Context) -> bool:
    """Make the customer's tags exactly ``wanted`` inside the caller's transaction; audited.
    Returns whether anything changed."""
    current = set(for_customer(conn, customer_id))
    target = set(wanted)
    if current == target:
        return False
    stamp = clock.now_utc()
    conn.executemany("DELETE FROM tags WHERE customer_id = ? AND tag = ?", [(customer_id, t) for t in current - target])
    conn.executemany(
        "INSERT INTO tags (customer_id, tag, created_at) VALUES (?, ?, ?)", [(customer_id, t, stamp) for t in target - current]
    )
    _audit(conn, customer_id, ctx, "tags", join(current) or None, join(target) or None, stamp)
    return True


def change(store: Store, customer_id: str, add: Iterable[str], remove: Iterable[str], ctx: Context) -> tuple[str, list[str]]:
    """Add and/or remove tags of one customer. Returns its ID and its tags afterwards."""
    adding = [clean_tag(t) for t in add]
    removing = [clean_tag(t) for t in remove]
    with store.write() as conn:
        record = get(conn, customer_id)
        cid = record["id"]
        current = set(for_customer(conn, cid))
        changes.start(conn, ctx, ctx.command, f"{ctx.command} {cid}: {', '.join(adding or removing)}")
        set_in(conn, cid, (current | set(adding)) - set(removing), ctx)
        changes.drop_if_empty(conn, ctx)
        return cid, for_customer(conn, cid)


def all_tags(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """Every tag in use with its number of customers, most used first."""
    return conn.execute("SELECT tag, count(*) FROM tags GROUP BY tag ORDER BY count(*) DESC, tag").fetchall()


# ---------------------------------------------------------------------------- import and export

HEADERS = ("tags", "标签", "Tags")
"""Headers of the ``tags`` column: exports write one of them, imports read any (see
:func:`crmcli.fields.header_key` for how headers are compared)."""


def import_value(raw: object) -> str | None:
    """A ``tags`` cell as the import stores it: the checked tags joined by ``;`` (None when empty)."""
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    return join(split(text)) or None


def insert_imported(conn: sqlite3.Connection, records: Iterable[dict[str, object]], stamp: str) -> None:
    """The tags of customers an import just added (their ``created`` audit row covers them)."""
    conn.executemany(
        "INSERT OR IGNORE INTO tags (customer_id, tag, created_at) VALUES (?, ?, ?)",
        [(r["id"], tag, stamp) for r in records if r.get("tags") for tag in split(str(r["tags"]))],
    )


def delete_for_batch(conn: sqlite3.Connection, batch: int) -> None:
    """Before an import undo removes the customers it added: the rows of every other table that
    refer to them (tags, contacts, …; follow-ups and status changes are the undo's own)."""
    from .trash import referring_tables

    for table, column in referring_tables(conn):
        if table in ("followups", "status_changes"):
            continue
        conn.execute(
            f'DELETE FROM "{table}" WHERE "{column}" IN (SELECT id FROM customers WHERE batch_id = ?)', (batch,)
        )
