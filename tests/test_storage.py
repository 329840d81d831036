"""The store: location, creation, migrations, pragmas, file modes."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from crmcli import migrations
from crmcli.storage import open_store

from .conftest import add_args


def test_database_created_on_first_use_with_mode_0600(crm, isolated_env: Path):
    assert crm("list").exit_code == 3 and not isolated_env.exists()  # reads never create
    crm.ok(*add_args())
    assert isolated_env.exists()
    assert stat.S_IMODE(isolated_env.stat().st_mode) == 0o600
    for suffix in ("-wal", "-shm"):
        side = Path(str(isolated_env) + suffix)
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0


def test_db_option_overrides_env(crm, tmp_path: Path, isolated_env: Path):
    other = tmp_path / "sub" / "other.db"
    crm.ok("--db", str(other), *add_args())
    assert other.exists()
    assert crm("list", "--format", "ids").exit_code == 3  # CRM_DB was never created
    assert len(crm.ok("--db", str(other), "list", "--format", "ids").split()) == 1


def test_default_location_is_platform_data_dir(monkeypatch, tmp_path: Path):
    from crmcli import storage

    monkeypatch.delenv("CRM_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    path = storage.default_path()
    assert path.name == "crm.db" and "crmcli" in str(path)


def test_pragmas_and_migrations_recorded(isolated_env: Path):
    with open_store(isolated_env) as store:
        conn = store.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY version")]
        assert names == [m.__name__ for m in migrations.MIGRATIONS]


def test_reopening_does_not_migrate_again(isolated_env: Path):
    open_store(isolated_env).close()
    before = sqlite3.connect(isolated_env).execute("SELECT count(*) FROM schema_migrations").fetchone()
    open_store(isolated_env).close()
    after = sqlite3.connect(isolated_env).execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert before == after


def test_tables_have_documented_plain_names(isolated_env: Path):
    open_store(isolated_env).close()
    tables = {r[0] for r in sqlite3.connect(isolated_env).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"customers", "followups", "status_changes", "options", "config", "audit_log"} <= tables
    columns = [r[1] for r in sqlite3.connect(isolated_env).execute("PRAGMA table_info(customers)")]
    for key in ("id", "name", "first_contact", "last_followup", "next_step", "amount", "grade", "archived", "version"):
        assert key in columns
    types = {r[1]: r[2] for r in sqlite3.connect(isolated_env).execute("PRAGMA table_info(customers)")}
    assert types["phone"] == "TEXT" and types["id"] == "TEXT" and types["amount"] == "INTEGER"


def test_audit_log_is_append_only(crm, isolated_env: Path):
    crm.ok(*add_args())
    conn = sqlite3.connect(isolated_env)
    for statement in ("UPDATE audit_log SET by = 'x'", "DELETE FROM audit_log"):
        try:
            conn.execute(statement)
            raise AssertionError("audit_log accepted " + statement)
        except sqlite3.IntegrityError as exc:
            assert "append-only" in str(exc)


def test_shared_mode_database_is_warned_about(crm, isolated_env: Path, empty_db: Path):
    crm.ok("list")
    os.chmod(isolated_env, 0o644)
    result = crm("list")
    assert result.exit_code == 0
    assert "chmod 600" in result.stderr


def test_customer_indexes_are_the_selective_ones(isolated_env: Path):
    open_store(isolated_env).close()
    names = {r[0] for r in sqlite3.connect(isolated_env).execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' AND name LIKE 'idx_%'"
    )}
    for wanted in ("idx_customers_status", "idx_customers_owner", "idx_customers_phone_key", "idx_customers_email",
                   "idx_customers_archived_last_contact", "idx_customers_next_date", "idx_customers_first_contact"):
        assert wanted in names
    for dropped in ("idx_customers_industry", "idx_customers_source", "idx_customers_grade", "idx_customers_archived_status"):
        assert dropped not in names  # a handful of values each: a scan is cheaper, inserts pay less
