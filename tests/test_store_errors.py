"""Clear errors, no traceback and data intact for: a corrupt or non-SQLite file, a database from a
newer crm, a read-only database, a full disk, a missing $EDITOR."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from crmcli import migrations, storage

from .conftest import add_args

NO_TRACE = ("Traceback", "internal error")


def _clean(result) -> bool:  # type: ignore[no-untyped-def]
    text = result.stdout + result.stderr
    return not any(word in text for word in NO_TRACE)


def _checkpoint(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


COMMANDS = (
    ["list"],
    ["list", "--format", "json"],
    add_args(name="新客户"),
    ["show", "XS2024001"],
    ["stale"],
    ["backup", "--keep", "1"],
)


@pytest.mark.parametrize(
    "content",
    [
        b"name,phone\n\xe5\xae\xa2\xe6\x88\xb7,13812345678\n",
        b"\x00" * 4096,
        b"SQLite format 3\x00" + b"\xff" * 5000,
        os.urandom(3000),
    ],
    ids=["csv-text", "zeros", "bad-header", "random"],
)
def test_a_file_that_is_not_a_database_is_refused_clearly(crm, isolated_env: Path, content: bytes) -> None:
    isolated_env.write_bytes(content)
    isolated_env.chmod(0o600)
    for args in COMMANDS:
        result = crm(*args)
        assert result.exit_code == 6, (args, result.exit_code, result.stderr)
        assert "not a usable crm database" in result.stderr, result.stderr
        assert _clean(result)
    assert isolated_env.read_bytes() == content  # never "repaired" or overwritten


def test_a_damaged_page_is_reported_not_crashed_on(crm, add, isolated_env: Path) -> None:
    for i in range(40):
        add(name=f"客户{i}", notes="备注" * 300)
    _checkpoint(isolated_env)
    data = bytearray(isolated_env.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    for start in range(2 * page, len(data) - page, 3 * page):
        data[start + 8 : start + page] = b"\xa5" * (page - 8)
    isolated_env.write_bytes(bytes(data))
    codes = []
    for args in (["list", "--format", "json"], ["search", "客户"], add_args(name="再加一个"), ["report", "pivot", "owner"]):
        result = crm(*args)
        assert result.exit_code in (0, 6), (args, result.exit_code, result.stderr)
        assert _clean(result), result.stderr
        codes.append(result.exit_code)
    assert 6 in codes
    result = crm("backup")
    assert result.exit_code == 6 and _clean(result)  # a damaged database is never backed up as if fine


def test_a_database_from_a_newer_crm_is_refused_and_left_alone(crm, add, isolated_env: Path) -> None:
    customer_id = add()
    conn = sqlite3.connect(isolated_env)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 5}")
    conn.close()
    _checkpoint(isolated_env)
    before = isolated_env.read_bytes()
    for args in (["list"], ["show", customer_id], add_args(name="新的"), ["log", customer_id, "x"]):
        result = crm(*args)
        assert result.exit_code == 6, result.stderr
        assert "newer version of crm" in result.stderr and "upgrade crm" in result.stderr
        assert _clean(result)
    _checkpoint(isolated_env)
    assert isolated_env.read_bytes() == before


# ---------------------------------------------------------------------------- read-only


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Once armed, every database opens read-only, as the OS does for a file or directory we may
    not write (file modes cannot show it when the tests run as root, as CI does)."""
    real = storage.sqlite3.connect
    armed = {"on": False}

    def connect(database, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not armed["on"] or kwargs.get("uri"):
            return real(database, *args, **kwargs)
        return real(f"file:{database}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(storage.sqlite3, "connect", connect)
    return armed


def _dump(db: Path) -> list:
    conn = sqlite3.connect(db)
    try:
        return [list(conn.execute(f"SELECT * FROM {t} ORDER BY 1")) for t in ("customers", "followups", "audit_log")]
    finally:
        conn.close()


def test_a_read_only_database_reads_and_refuses_writes_clearly(crm, add, isolated_env: Path, read_only) -> None:
    customer_id = add()
    before = _dump(isolated_env)
    read_only["on"] = True
    assert customer_id in crm.ok("list", "--format", "ids")
    for args in (add_args(name="写不进去"), ["log", customer_id, "打过电话"], ["edit", customer_id, "--notes", "x"],
                 ["status", customer_id, "active"], ["show", customer_id, "--reveal"]):
        result = crm(*args)
        assert result.exit_code == 6, (args, result.stderr)
        assert "read-only" in result.stderr and _clean(result)
        assert "13812345678" not in result.stdout  # an unrecorded reveal shows nothing
    read_only["on"] = False
    assert _dump(isolated_env) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file modes")
def test_a_read_only_file_and_directory_for_real(crm, add, isolated_env: Path) -> None:
    customer_id = add()
    before = _dump(isolated_env)
    _checkpoint(isolated_env)
    isolated_env.chmod(0o400)
    try:
        result = crm(*add_args(name="写不进去"))
        assert result.exit_code == 6 and _clean(result), result.stderr
        directory = isolated_env.parent / "ro"
        directory.mkdir()
        result = crm("--db", str(directory / "sub" / "crm.db"), "list")
        directory.chmod(0o500)
        result = crm("--db", str(directory / "new" / "crm.db"), "list")
        assert result.exit_code == 6 and _clean(result), result.stderr
        assert customer_id
    finally:
        isolated_env.chmod(0o600)
        (isolated_env.parent / "ro").chmod(0o700)
    assert _dump(isolated_env) == before


def test_an_impossible_database_location_is_a_clear_error(crm, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = crm("--db", str(blocker / "crm.db"), "list")  # a read never creates: not found
    assert result.exit_code == 3 and _clean(result), result.stderr
    result = crm("--db", str(blocker / "crm.db"), *add_args())  # a parent that is a file
    assert result.exit_code == 6 and _clean(result), result.stderr
    assert "cannot create the database" in result.stderr
    result = crm("--db", str(tmp_path), "list")  # a directory
    assert result.exit_code == 2 and _clean(result)


# ---------------------------------------------------------------------------- disk full


@pytest.fixture
def tiny_disk(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The database may not grow past its size when the fixture is armed: SQLite then fails with
    SQLITE_FULL, exactly as on a full disk."""
    real = storage.sqlite3.connect
    armed = {"on": False}

    def connect(*args, **kwargs):  # type: ignore[no-untyped-def]
        conn = real(*args, **kwargs)
        if armed["on"]:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(storage.sqlite3, "connect", connect)
    return armed


def test_a_full_disk_is_reported_and_nothing_is_half_written(crm, add, isolated_env: Path, tmp_path: Path,
                                                             tiny_disk) -> None:
    add()
    _checkpoint(isolated_env)
    tiny_disk["on"] = True
    added = 0
    for i in range(200):
        result = crm(*add_args(name=f"填满{i}", notes="很长的备注" * 300))
        if result.exit_code != 0:
            assert result.exit_code == 6, result.stderr
            assert "disk is full" in result.stderr and _clean(result)
            break
        added += 1
    else:
        pytest.fail("the database never filled up")
    before = _dump(isolated_env)
    csv = tmp_path / "big.csv"
    csv.write_text("客户名称,联系人姓名,联系方式,客户来源,需求描述,跟进人,首次接触时间,合作状态,备注\n" + "".join(
        f"导入{i},王,1371234{i:04d},行业展会,采购,张经理,2024-05-01,潜在客户,{'备注' * 200}\n" for i in range(300)),
        encoding="utf-8")
    result = crm("import", str(csv))
    assert result.exit_code == 6 and _clean(result), result.stderr
    tiny_disk["on"] = False
    assert _dump(isolated_env) == before  # the import left nothing behind
    conn = sqlite3.connect(isolated_env)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == added + 1
    conn.close()
    crm.ok(*add_args(name="空间恢复后"))


# ---------------------------------------------------------------------------- $EDITOR


def test_a_missing_editor_is_a_clear_error(crm, add, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    customer_id = add()
    before = _dump(isolated_env)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    result = crm("edit", customer_id)
    assert result.exit_code == 2 and _clean(result)
    assert "$EDITOR" in result.stderr and "--FIELD VALUE" in result.stderr
    monkeypatch.setenv("EDITOR", "no-such-editor-anywhere --wait")
    result = crm("edit", customer_id)
    assert result.exit_code == 2 and "no-such-editor-anywhere" in result.stderr and _clean(result)
    monkeypatch.setenv("EDITOR", "'unbalanced")
    result = crm("edit", customer_id)
    assert result.exit_code == 2 and _clean(result)
    assert _dump(isolated_env) == before
