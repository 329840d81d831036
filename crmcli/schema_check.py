"""Is this SQLite file a crm database, with the schema crm's migrations make?

A backup is restored only when its schema is exactly what the migrations up to its version
produce (built afresh in memory and compared object by object), so an arbitrary SQLite file, or a
backup whose audit triggers were dropped or whose tables were altered, is refused instead of
replacing the live data. Compared structurally (columns, keys, index columns; trigger and view
SQL), so a different sqlite-utils quoting style is no difference.

Allowed beyond the migrations: the columns and indexes of custom fields (``crm fields add``) and
extra tables, indexes and views a user made with the ``sqlite3`` shell or Datasette — they cannot
change what crm writes. Extra, missing or changed triggers are refused: a trigger runs on crm's
own writes and could rewrite or drop the audit trail.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

Fingerprint = dict[tuple[str, str], Any]
IGNORED = ("schema_migrations",)  # made by migrations.apply() itself, not by a migration


def _norm_sql(sql: str | None) -> str:
    text = re.sub(r"\s+", " ", (sql or "").replace('"', "").replace("`", "").replace("[", "").replace("]", ""))
    return text.strip().lower()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fingerprint(conn: sqlite3.Connection, schema: str = "main") -> Fingerprint:
    """Every table, index, trigger and view of ``schema`` described comparably."""
    out: Fingerprint = {}
    rows = conn.execute(
        f"SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for kind, name, table, sql in rows:
        if name in IGNORED:
            continue
        if kind == "table":
            if (sql or "").lstrip().upper().startswith("CREATE VIRTUAL"):
                out[(kind, name)] = ("virtual", _norm_sql(sql))
                continue
            cols = [
                (r[1], (r[2] or "").upper(), r[3], r[4], r[5])
                for r in conn.execute(f"PRAGMA {schema}.table_xinfo({_q(name)})")
            ]
            fks = sorted(
                (r[2], r[3], r[4] or "") for r in conn.execute(f"PRAGMA {schema}.foreign_key_list({_q(name)})")
            )
            out[(kind, name)] = ("table", tuple(cols), tuple(fks))
        elif kind == "index":
            if sql is None:
                continue  # an automatic index of a PRIMARY KEY or UNIQUE: part of its table
            cols = [(r[1], r[2]) for r in conn.execute(f"PRAGMA {schema}.index_xinfo({_q(name)})") if r[5]]
            if any(cid == -2 for cid, _ in cols):  # an expression: its text is its definition
                out[(kind, name)] = ("index", table, _norm_sql(sql))
            else:
                unique = "unique" in _norm_sql(sql).split(" on ")[0]
                partial = " where " in _norm_sql(sql)
                out[(kind, name)] = ("index", table, tuple(c for _, c in cols), unique, _norm_sql(sql) if partial else "")
        else:  # trigger, view
            out[(kind, name)] = (kind, table, _norm_sql(sql))
    return out


def reference(version: int) -> Fingerprint:
    """The schema migrations 1..``version`` make on an empty database."""
    from sqlite_utils import Database

    from . import migrations
    from .storage import Store

    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db = Database(conn)
        with Store(conn, Path(":memory:")).write():  # as migrations.apply() runs them
            for migration in migrations.MIGRATIONS[:version]:
                migration(db)
        return fingerprint(conn)
    finally:
        conn.close()


def _custom_keys(conn: sqlite3.Connection, schema: str) -> set[str]:
    try:
        return {r[0] for r in conn.execute(f"SELECT key FROM {schema}.custom_fields")}
    except sqlite3.Error:
        return set()


def problems(conn: sqlite3.Connection, version: int, schema: str = "main") -> list[str]:
    """How the database's schema differs from what crm's migrations make at ``version`` (empty: none)."""
    want = reference(version)
    have = fingerprint(conn, schema)
    custom = _custom_keys(conn, schema)
    found: list[str] = []
    for key, spec in want.items():
        kind, name = key
        got = have.get(key)
        if got is None:
            found.append(f"{kind} {name} is missing")
            continue
        if kind == "table" and spec[0] == "table" and got[0] == "table":
            wanted_cols = list(spec[1])
            got_cols = list(got[1])
            if got_cols[: len(wanted_cols)] != wanted_cols or spec[2] != got[2]:
                found.append(f"table {name} has other columns or keys than crm makes")
            extra = {c[0] for c in got_cols[len(wanted_cols):]}
            if extra and (name != "customers" or not extra <= custom):
                found.append(f"table {name} has columns crm does not know: {', '.join(sorted(extra))}")
        elif got != spec:
            found.append(f"{kind} {name} differs from what crm makes")
    for kind, name in have:
        if kind == "trigger" and (kind, name) not in want:  # extra tables, indexes, views are harmless
            found.append(f"trigger {name} is not crm's")
    return found
