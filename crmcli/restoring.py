"""``crm backup verify`` and ``crm backup restore``: trust a backup only after checking it, and
replace the live content in one transaction that keeps the audit trail going forward.

A backup is decrypted (or copied) into a private 0700 temporary directory, checked with
``PRAGMA integrity_check``, its schema compared with what crm's migrations make
(:mod:`crmcli.schema_check`: a file that is not a crm database, or whose audit triggers were
dropped, is refused), then opened as crm would open it (migrating an older schema).

A restore then swaps the content inside one ``BEGIN IMMEDIATE`` transaction of the live database:
the current content is copied aside (``<db>.before-restore-<time>``) while the write lock holds
writers off, every table, index, trigger and view is replaced by the backup's, the live audit rows
the backup lacks (written after it was taken) are carried forward, and a row recording the restore
is added. A kill at any point leaves the live database as it was; other processes see the old or
the restored content, never a mix, and the file keeps its inode, its mode and its identity.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import clock, outputs, schema_check
from .backup import ID_KEY, BackupError, Encryption, _check_sqlite, _stamp, decrypt, is_encrypted
from .errors import NotFound, StoreError
from .storage import Store, translate

RESTORE_COMMAND = "backup restore"
NOT_CUSTOMER = "*"  # audit rows about the database, not one customer (no customer ID can be "*")
_CARRIED = "temp.crm_restore_carried"


@dataclass
class VerifyResult:
    path: Path
    encrypted: bool
    integrity: str
    schema_version: int
    customers: int
    followups: int
    audit_rows: int


@dataclass
class RestoreResult:
    backup: Path
    database: Path
    aside: Path | None
    customers: int
    previous_customers: int
    carried_audit_rows: int


class RestoreDeclined(Exception):
    """The confirmation callback said no; nothing was changed."""


def _plain_copy(path: Path, workdir: Path, enc: Encryption) -> tuple[Path, bool]:
    """Decrypt (or copy) ``path`` into ``workdir``; returns the plain file and whether it was encrypted."""
    if not path.is_file():
        raise NotFound(f"no backup file {path}", zh=f"没有备份文件 {path}")
    plain = workdir / "restore.db"
    outputs.create_private(plain)
    encrypted = is_encrypted(path)
    if encrypted:
        decrypt(path, plain, enc)
    else:
        from .backup import _disk_full, full_error

        try:
            with open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except OSError as exc:
            if _disk_full(exc):
                raise full_error(workdir.parent, f"cannot copy {path}") from None
            raise BackupError(f"cannot copy {path}: {exc.strerror}", zh=f"无法复制 {path}：{exc.strerror}") from None
    return plain, encrypted


def _not_crm(source: Path, why: str, why_zh: str) -> BackupError:
    return BackupError(
        f"{source} is not a usable crm backup: {why}; refusing it (nothing was changed)",
        zh=f"{source} 不是可用的 crm 备份：{why_zh}；已拒绝（没有任何更改）",
    )


def _test_restore(plain: Path, source: Path, encrypted: bool) -> VerifyResult:
    """Check the plain copy (integrity, crm's schema), then open it as crm would and check again."""
    from . import migrations
    from .storage import open_store

    try:
        result, version, _ = _check_sqlite(plain)
    except BackupError:
        raise BackupError(
            f"{source} does not hold an SQLite database (damaged, or not a crm backup)",
            zh=f"{source} 中没有 SQLite 数据库（已损坏，或不是 crm 备份）",
        ) from None
    if result != "ok":
        raise BackupError(f"{source} failed the integrity check: {result}", zh=f"{source} 未通过完整性检查：{result}")
    if version > migrations.LATEST:
        raise BackupError(
            f"{source} was written by a newer version of crm (schema {version}, this version knows "
            f"{migrations.LATEST}); upgrade crm to restore it",
            zh=f"{source} 由更新版本的 crm 写入（数据库结构版本 {version}，本版本只支持到 {migrations.LATEST}）；请升级 crm 后再恢复",
        )
    if version < 1:
        raise _not_crm(source, "it is an SQLite database without crm's schema", "它是 SQLite 数据库，但没有 crm 的表结构")
    conn = sqlite3.connect(f"file:{plain}?mode=ro", uri=True, isolation_level=None)
    try:
        found = schema_check.problems(conn, version)
    finally:
        conn.close()
    if found:
        raise _not_crm(
            source,
            "its schema is not what crm makes (" + "; ".join(found[:3]) + ")",
            "其表结构与 crm 创建的不同（" + "；".join(found[:3]) + "）",
        )
    try:
        store = open_store(plain)
    except StoreError as exc:
        raise BackupError(
            f"{source} cannot be opened as a crm database: {exc}", zh=f"无法把 {source} 作为 crm 数据库打开：{exc}"
        ) from None
    try:
        conn = store.conn
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        followups = conn.execute("SELECT count(*) FROM followups").fetchone()[0]
        audit_rows = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        conn.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file, no -wal
    finally:
        store.close()
    if rows != ["ok"]:
        raise BackupError(
            f"{source} failed the integrity check after opening: {'; '.join(rows[:5])}",
            zh=f"{source} 打开后未通过完整性检查：{'; '.join(rows[:5])}",
        )
    return VerifyResult(
        path=source,
        encrypted=encrypted,
        integrity="ok",
        schema_version=migrations.LATEST,
        customers=customers,
        followups=followups,
        audit_rows=audit_rows,
    )


def verify(path: Path | str, encryption: Encryption | None = None) -> VerifyResult:
    """Decrypt (if needed), test-restore into a private temporary directory, and check the result.
    The decrypted copy is removed in ``finally`` (a killed run's, by the next backup)."""
    source = Path(path)
    with outputs.private_tmpdir() as workdir:
        plain, encrypted = _plain_copy(source, workdir, encryption or Encryption())
        return _test_restore(plain, source, encrypted)


def inspect(store: Store) -> int:
    """Customers in the current database (for the restore confirmation)."""
    return int(store.conn.execute("SELECT count(*) FROM customers").fetchone()[0])


def _near(db_path: Path) -> Path | None:
    """The private work directory goes beside the database when possible: the same disk as the
    data it replaces, rather than a possibly small $TMPDIR."""
    parent = db_path.parent
    return parent if parent.is_dir() and os.access(parent, os.W_OK) else None


def restore(
    store: Store,
    path: Path | str,
    encryption: Encryption | None = None,
    *,
    confirm: Callable[[VerifyResult, int], bool] | None = None,
    now: datetime | None = None,
) -> RestoreResult:
    """Replace the database's content with the backup at ``path`` (see the module docstring).

    ``confirm(checked_backup, current_customers)`` is asked after the check and before anything
    changes; a false answer raises :class:`RestoreDeclined`.
    """
    source = Path(path)
    previous = inspect(store)
    with outputs.private_tmpdir(_near(store.path)) as workdir:
        plain, encrypted = _plain_copy(source, workdir, encryption or Encryption())
        checked = _test_restore(plain, source, encrypted)
        if confirm is not None and not confirm(checked, previous):
            raise RestoreDeclined()
        aside = store.path.with_name(f"{store.path.name}.before-restore-{_stamp(now)}")
        n = 0
        while aside.exists():
            n += 1
            aside = store.path.with_name(f"{store.path.name}.before-restore-{_stamp(now)}-{n}")
        carried = _swap(store, plain, aside, source, checked, previous)
    rows = [r[0] for r in store.conn.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        raise BackupError(
            f"the restored database failed its integrity check; the old one is at {aside}",
            zh=f"恢复后的数据库未通过完整性检查；原数据库保存在 {aside}",
        )
    return RestoreResult(
        backup=source, database=store.path, aside=aside, customers=checked.customers,
        previous_customers=previous, carried_audit_rows=carried,
    )


def _objects(conn: sqlite3.Connection, schema: str) -> list[tuple[str, str, str | None]]:
    return conn.execute(
        f"SELECT type, name, sql FROM {schema}.sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY rowid"
    ).fetchall()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _swap(store: Store, plain: Path, aside: Path, source: Path, checked: VerifyResult, previous: int) -> int:
    """The restore proper, in one transaction; returns how many audit rows were carried forward."""
    conn = store.conn
    live_id = conn.execute("SELECT value FROM meta WHERE key = ?", (ID_KEY,)).fetchone()
    live_demo = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
    user = conn.execute("SELECT value FROM config WHERE key = 'user'").fetchone()
    conn.execute("PRAGMA foreign_keys = OFF")  # tables are dropped and refilled; checked before commit
    try:
        conn.execute("ATTACH DATABASE ? AS src", (str(plain),))  # our private copy; only read
    except sqlite3.Error as exc:
        conn.execute("PRAGMA foreign_keys = ON")
        raise translate(exc) from None
    try:
        with store.write():
            _keep_aside(store, aside)
            conn.execute(f"CREATE TEMP TABLE {_CARRIED.split('.')[1]} AS SELECT * FROM main.audit_log")
            _replace_objects(conn)
            carried = _carry_audit(conn)
            _record(conn, source, checked, previous, carried, user[0] if user else "")
            if live_id is not None and not store.created:
                # the same database, restored: it keeps its identity (and its backups rotate on);
                # a database this command just created takes the backup's
                conn.execute(
                    "INSERT INTO main.meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (ID_KEY, live_id[0]),
                )
            if not store.created:  # a demo mark neither comes with a backup nor goes away
                conn.execute("DELETE FROM main.meta WHERE key = 'demo'")
                if live_demo is not None:
                    conn.execute("INSERT INTO main.meta (key, value) VALUES ('demo', ?)", (live_demo[0],))
            version = conn.execute("PRAGMA src.user_version").fetchone()[0]
            conn.execute(f"PRAGMA main.user_version = {int(version)}")
            bad = conn.execute("PRAGMA main.foreign_key_check").fetchall()
            if bad:
                raise BackupError(
                    f"{source}: the restored rows break a foreign key ({bad[0][0]}); nothing was changed",
                    zh=f"{source}：恢复的行违反外键约束（{bad[0][0]}）；没有任何更改",
                )
            conn.execute(f"DROP TABLE {_CARRIED}")
    except sqlite3.Error as exc:
        raise translate(exc) from None
    finally:
        if conn.in_transaction:
            conn.rollback()  # the temporary table goes with it: it was made in the transaction
        conn.execute("DETACH DATABASE src")
        conn.execute("PRAGMA foreign_keys = ON")
    return carried


def _keep_aside(store: Store, aside: Path) -> None:
    """Copy the current content aside. VACUUM cannot run inside a transaction, so a second
    connection does it: it reads the last committed state, which our write lock keeps current."""
    try:
        outputs.create_private(aside)
    except OSError as exc:
        raise BackupError(
            f"cannot keep the old database aside at {aside}: {exc.strerror}",
            zh=f"无法把原数据库另存到 {aside}：{exc.strerror}",
        ) from None
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("VACUUM INTO ?", (str(aside),))
    except sqlite3.Error as exc:
        aside.unlink(missing_ok=True)
        raise BackupError(
            f"cannot keep the old database aside at {aside}: {exc}", zh=f"无法把原数据库另存到 {aside}：{exc}"
        ) from None
    finally:
        other.close()


def _replace_objects(conn: sqlite3.Connection) -> None:
    """Drop every object of ``main`` and recreate the backup's (``src``), with its rows."""
    live = _objects(conn, "main")
    for kind in ("trigger", "view", "index"):
        for k, name, sql in live:
            if k == kind and sql is not None:
                conn.execute(f"DROP {kind.upper()} IF EXISTS main.{_q(name)}")
    for k, name, sql in sorted(live, key=lambda o: not (o[2] or "").upper().startswith("CREATE VIRTUAL")):
        if k == "table":  # virtual tables first: they drop their own shadow tables
            conn.execute(f"DROP TABLE IF EXISTS main.{_q(name)}")
    for table in ("sqlite_sequence", "sqlite_stat1", "sqlite_stat4"):
        if conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = ?", (table,)).fetchone():
            conn.execute(f"DELETE FROM main.{table}")
    backup = _objects(conn, "src")
    shadows: set[str] = set()
    virtual: set[str] = set()
    # virtual tables first: they make their shadow tables, which sqlite_master lists before them
    for k, name, sql in sorted(backup, key=lambda o: not (o[2] or "").lstrip().upper().startswith("CREATE VIRTUAL")):
        if k != "table" or name in shadows:
            continue
        before = {r[0] for r in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
        conn.execute(sql or "")
        if (sql or "").lstrip().upper().startswith("CREATE VIRTUAL"):
            virtual.add(name)
            after = {r[0] for r in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
            shadows |= after - before - {name}
    for k, name, _ in backup:
        if k != "table" or name in virtual:
            continue  # a virtual table's content is its shadow tables', copied as they are
        if name in shadows:
            conn.execute(f"DELETE FROM main.{_q(name)}")
        conn.execute(f"INSERT INTO main.{_q(name)} SELECT * FROM src.{_q(name)}")
    if conn.execute("SELECT 1 FROM src.sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        conn.execute("DELETE FROM main.sqlite_sequence")
        conn.execute("INSERT INTO main.sqlite_sequence SELECT * FROM src.sqlite_sequence")
    for kind in ("index", "trigger", "view"):
        for k, _name, sql in backup:
            if k == kind and sql is not None:
                conn.execute(sql)


def _carry_audit(conn: sqlite3.Connection) -> int:
    """Append the live audit rows the backup lacks (written after it was taken, or in another
    lineage): the trail never goes backwards. A row is the backup's when its id and content match."""
    restored = [r[1] for r in conn.execute("PRAGMA main.table_info(audit_log)")]
    live = [r[1] for r in conn.execute("PRAGMA temp.table_info(crm_restore_carried)")]
    cols = [c for c in live if c in restored and c != "id"]
    same = " AND ".join(f"a.{_q(c)} IS c.{_q(c)}" for c in cols)
    names = ", ".join(_q(c) for c in cols)
    picked = ", ".join(f"c.{_q(c)}" for c in cols)
    before = conn.total_changes
    conn.execute(
        f"INSERT INTO main.audit_log ({names}) SELECT {picked} FROM {_CARRIED} c "
        f"WHERE NOT EXISTS (SELECT 1 FROM main.audit_log a WHERE a.id = c.id AND {same}) ORDER BY c.id"
    )
    return conn.total_changes - before


def _record(
    conn: sqlite3.Connection, source: Path, checked: VerifyResult, previous: int, carried: int, user: str
) -> None:
    who = clock.current_user(user)
    conn.execute(
        "INSERT INTO main.audit_log (customer_id, at, by, command, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            NOT_CUSTOMER, clock.now_utc(), who, RESTORE_COMMAND, "*",
            f"{previous} customers",
            f"{checked.customers} customers from {source.resolve()}"
            + (f"; {carried} later audit rows carried forward" if carried else ""),
        ),
    )
