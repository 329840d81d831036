"""Numbered schema migrations. A released migration is never edited: add a new one.

``PRAGMA user_version`` holds the number of the last migration applied, so an up-to-date database
is checked with one pragma; ``schema_migrations`` records when each one ran.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .seed_options import SEED_OPTIONS

if TYPE_CHECKING:
    from sqlite_utils import Database

    from .storage import Store


def m001_initial(db: Database) -> None:
    text_cols = {
        "id": str, "name": str, "industry": str, "type": str, "contact": str, "title": str,
        "phone": str, "email": str, "address": str, "source": str, "needs": str,
        "first_contact": str, "last_followup": str, "owner": str, "followup": str,
        "next_step": str, "status": str, "product": str, "amount": int, "notes": str,
        "grade": str, "next_date": str, "archived": int, "archived_at": str,
        "created_at": str, "updated_at": str, "version": int, "phone_key": str,
    }
    db["customers"].create(
        text_cols,
        pk="id",
        not_null={"name", "status", "archived", "version", "created_at", "updated_at"},
        defaults={"archived": 0, "version": 1},
    )
    for cols in (["status"], ["owner"], ["last_followup"], ["first_contact"], ["next_date"],
                 ["phone_key"], ["email"], ["industry"], ["source"], ["grade"], ["archived", "status"]):
        db["customers"].create_index(cols)
    db["followups"].create(
        {
            "id": int, "customer_id": str, "date": str, "content": str, "result": str,
            "next_step": str, "next_date": str, "channel": str, "kind": str,
            "satisfaction": int, "by": str, "created_at": str, "batch_id": int,
        },
        pk="id",
        not_null={"customer_id", "date", "content", "created_at"},
        foreign_keys=[("customer_id", "customers", "id")],
    )
    db["followups"].create_index(["customer_id", "date"])
    db["followups"].create_index(["date"])
    db["status_changes"].create(
        {"id": int, "customer_id": str, "at": str, "from_status": str, "to_status": str,
         "by": str, "note": str},
        pk="id",
        not_null={"customer_id", "at", "to_status"},
        foreign_keys=[("customer_id", "customers", "id")],
    )
    db["status_changes"].create_index(["customer_id", "at"])
    db["options"].create(
        {"field": str, "code": str, "label_zh": str, "label_en": str, "position": int, "retired": int},
        pk=("field", "code"),
        not_null={"label_zh", "label_en", "position", "retired"},
        defaults={"retired": 0},
    )
    db["options"].insert_all(
        (
            {"field": field, "code": code, "label_zh": zh, "label_en": en, "position": pos, "retired": 0}
            for field, rows in SEED_OPTIONS.items()
            for pos, (code, zh, en) in enumerate(rows)
        )
    )
    # Append-only: every change to a customer, for `crm history` and the audit trail.
    db["audit_log"].create(
        {"id": int, "customer_id": str, "at": str, "by": str, "command": str, "field": str,
         "old": str, "new": str, "batch_id": int},
        pk="id",
        not_null={"customer_id", "at", "command"},
    )
    db["audit_log"].create_index(["customer_id", "at"])
    db.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    db["config"].create({"key": str, "value": str}, pk="key", not_null={"value"})
    db["id_sequences"].create(
        {"prefix": str, "year": int, "last": int}, pk=("prefix", "year"), not_null={"last"}
    )


def m002_last_contact_index(db: Database) -> None:
    """``crm stale``, ``crm archive`` and ``crm today`` filter and sort current customers by their
    last contact date (last follow-up, else first contact): one expression index serves all three."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_customers_archived_last_contact "
        "ON customers (archived, coalesce(last_followup, first_contact))"
    )


def m003_import_batches(db: Database) -> None:
    """``crm import`` records each run as a batch; ``crm import undo BATCH`` removes the customers
    it added (``customers.batch_id``), its follow-ups (``followups.batch_id``) and reverts what it
    updated (``audit_log`` rows carrying the batch)."""
    db["import_batches"].create(
        {"id": int, "started_at": str, "finished_at": str, "by": str, "source": str, "format": str,
         "target": str, "rows": int, "added": int, "updated": int, "unchanged": int, "rejected": int,
         "followups": int, "undone_at": str},
        pk="id",
        not_null={"started_at", "source", "target"},
    )
    db.execute("ALTER TABLE customers ADD COLUMN batch_id INTEGER")


def m004_custom_fields_and_views(db: Database) -> None:
    """``custom_fields`` (``crm fields``: each one also a real column of ``customers``) and
    ``views`` (``crm view save``: saved ``crm list`` filters, sort and columns as JSON)."""
    db["custom_fields"].create(
        {"key": str, "type": str, "label_zh": str, "label_en": str, "position": int, "retired": int,
         "created_at": str},
        pk="key",
        not_null={"type", "label_zh", "label_en", "position", "retired", "created_at"},
        defaults={"retired": 0},
    )
    db["views"].create(
        {"name": str, "spec": str, "created_at": str, "updated_at": str},
        pk="name",
        not_null={"spec", "created_at", "updated_at"},
    )


def m005_drop_unselective_indexes(db: Database) -> None:
    """Drop indexes on columns with a handful of values (industry, source, grade, archived+status).

    A filter on one of them keeps a large share of the table, where walking the index and then
    the table costs more than a scan, while every insert pays for the index: measured on a
    200k-row import, these four cost 15% of its time. Status and owner keep their indexes.
    """
    for name in ("idx_customers_industry", "idx_customers_source", "idx_customers_grade", "idx_customers_archived_status"):
        db.execute(f"DROP INDEX IF EXISTS {name}")


def m006_phones_by_libphonenumber(db: Database) -> None:
    """Phones are checked by libphonenumber (:mod:`crmcli.phones`): every stored phone is
    re-normalised (audited as a change by ``migrate 006``) and every ``phone_key`` recomputed as
    E.164 plus extension. A phone that no longer validates is kept exactly as it was, never
    changed silently: ``crm doctor phones`` lists it with how to fix it."""
    import re

    from . import clock, phones

    conn = db.conn
    region = phones.default_region(conn)
    # What the rules before 006 stored as Chinese numbers (11-digit mobiles, 0AREA-LOCAL[-EXT])
    # is Chinese whatever the region; everything else they kept as typed.
    legacy_cn = re.compile(r"1[3-9][0-9]{9}|0[0-9]{2,3}-[0-9]{7,8}(?:-[0-9]{1,8})?", re.ASCII)

    def normalised(phone: str | None) -> str | None:
        if not phone:
            return None
        try:
            return phones.parse(phone, phones.DEFAULT_REGION if legacy_cn.fullmatch(phone) else region).stored
        except ValueError:  # ParseError: kept as it is
            return None

    conn.create_function("crm_phone_normalised", 1, normalised)
    conn.create_function("crm_phone_key", 1, lambda phone: phones.phone_key(phone) if phone else None)
    changed = conn.execute(
        "SELECT id, phone, norm FROM (SELECT id, phone, crm_phone_normalised(phone) AS norm FROM customers "
        "WHERE phone IS NOT NULL AND phone != '') WHERE norm IS NOT NULL AND norm != phone ORDER BY id"
    ).fetchall()
    if changed:
        row = conn.execute("SELECT value FROM config WHERE key = 'user'").fetchone()
        who = clock.current_user(row[0] if row else "")
        stamp = clock.now_utc()
        conn.executemany(
            "UPDATE customers SET phone = ?, version = version + 1 WHERE id = ?", ((new, cid) for cid, _, new in changed)
        )
        conn.executemany(
            "INSERT INTO audit_log (customer_id, at, by, command, field, old, new) VALUES (?, ?, ?, 'migrate 006', 'phone', ?, ?)",
            ((cid, stamp, who, old, new) for cid, old, new in changed),
        )
    conn.execute("UPDATE customers SET phone_key = crm_phone_key(phone) WHERE phone IS NOT NULL")
def m007_trash_and_changes(db: Database) -> None:
    """``crm delete`` moves a customer into ``trash_customers`` (its row as JSON in ``record``, the
    rows of every table that refers to it in ``related``), so no query of ``customers`` can ever
    see it again and ``crm trash restore`` can put it back. A trigger keeps a trashed ID reserved:
    nothing can insert a customer with it. ``changes`` groups the audit rows of one command (a
    bulk edit, a merge…) into one unit ``crm undo`` reverts; ``merges`` records what a merge moved.
    A purge empties a trash row but keeps it (``purged_at``) as a tombstone: the ID stays reserved,
    so a new customer never inherits the audit trail of a purged one."""
    db["trash_customers"].create(
        {"id": str, "name": str, "owner": str, "deleted_at": str, "deleted_by": str, "note": str,
         "change_id": int, "record": str, "related": str, "purged_at": str},
        pk="id",
        not_null={"name", "deleted_at", "record", "related"},
    )
    db["trash_customers"].create_index(["deleted_at"])
    db.execute(
        "CREATE TRIGGER customers_id_not_in_trash BEFORE INSERT ON customers "
        "WHEN EXISTS (SELECT 1 FROM trash_customers WHERE id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'customer ID is reserved by a customer in the trash'); END"
    )
    db["changes"].create(
        {"id": int, "at": str, "by": str, "command": str, "summary": str, "customers": int,
         "undoes": int, "undone_at": str, "undone_by": int},
        pk="id",
        not_null={"at", "command", "customers"},
    )
    db["changes"].create_index(["by", "id"])
    db.execute("ALTER TABLE audit_log ADD COLUMN change_id INTEGER")
    db["audit_log"].create_index(["change_id"])
    db["merges"].create(
        {"id": int, "keep_id": str, "other_id": str, "at": str, "by": str, "change_id": int,
         "moved": str, "undone_at": str},
        pk="id",
        not_null={"keep_id", "other_id", "at", "moved"},
    )
    db["merges"].create_index(["keep_id"])


def m008_tags_and_contacts(db: Database) -> None:
    """``tags`` (``crm tag``: a customer's labels, one row each) and ``contacts`` (``crm contact``:
    people besides the main contact, with phones validated and keyed like the main one)."""
    db["tags"].create(
        {"customer_id": str, "tag": str, "created_at": str},
        pk=("customer_id", "tag"),
        not_null={"created_at"},
        foreign_keys=[("customer_id", "customers", "id")],
    )
    db["tags"].create_index(["tag"])
    db["contacts"].create(
        {"id": int, "customer_id": str, "name": str, "title": str, "phone": str, "phone_key": str,
         "email": str, "created_at": str},
        pk="id",
        not_null={"customer_id", "name", "created_at"},
        foreign_keys=[("customer_id", "customers", "id")],
    )
    db["contacts"].create_index(["customer_id"])
    db["contacts"].create_index(["phone_key"])


def m009_search_index(db: Database) -> None:
    """The full-text index for ``crm search`` (see search_index): two trigram FTS5 tables kept in
    step by triggers, filled from the existing customers and follow-ups (with a progress line on
    a terminal for large databases). At 1M customers / 5M follow-ups: 92 s of CPU, 33 MB of
    memory, 0.8 GB more on disk (2.07 -> 2.87 GB)."""
    from . import search_index

    search_index.create(db.conn, search_index.stderr_progress("building the search index"))


def m010_database_identity(db: Database) -> None:
    """``meta``: facts about the database itself, not settings anyone changes (``crm config``
    never sees them). ``db-id`` is a random identity made once (16 hex digits): backups carry it in
    their names, so ``crm backup --keep N`` rotates only this database's backups even when two
    databases called ``crm.db`` back up into one directory. ``crm demo`` marks its database here."""
    db["meta"].create({"key": str, "value": str}, pk="key", not_null={"value"})
    db.execute("INSERT INTO meta (key, value) VALUES ('db-id', lower(hex(randomblob(8))))")


def m011_email_lower_index(db: Database) -> None:
    """E-mail duplicates are matched case-insensitively (``LN@YQ.TECH`` is ``ln@yq.tech``): an
    index on ``lower(email)`` keeps that lookup indexed. Addresses stay stored as typed."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_customers_email_lower ON customers (lower(email))")


MIGRATIONS: list[Callable[[Database], None]] = [
    m001_initial, m002_last_contact_index, m003_import_batches, m004_custom_fields_and_views,
    m005_drop_unselective_indexes,
    m006_phones_by_libphonenumber,
    m007_trash_and_changes,
    m008_tags_and_contacts,
    m009_search_index,
    m010_database_identity,
    m011_email_lower_index,
]
LATEST = len(MIGRATIONS)


def apply(store: Store) -> None:
    """Apply every pending migration, each in its own ``BEGIN IMMEDIATE`` transaction.

    The version is re-read inside the transaction: several processes opening a new database at
    once each wait for the lock, and only the first one migrates.
    """
    from sqlite_utils import Database

    conn = store.conn
    db = Database(conn)
    for number, migration in enumerate(MIGRATIONS, start=1):
        with store.write():
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current >= number:
                continue
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            migration(db)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (number, migration.__name__, datetime.now(timezone.utc).isoformat(timespec="seconds")),
            )
            conn.execute(f"PRAGMA user_version = {number}")


