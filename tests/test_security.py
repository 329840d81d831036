"""Customer data kept from people who should not see it: field names checked (no SQL from raw
input), private file modes, masked phones in every format, every --reveal audited."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

PAYLOADS = (
    "name; DROP TABLE customers",
    "id) UNION SELECT sql FROM sqlite_master --",
    "name' OR '1'='1",
    '"name"',
    "customers.id",
    "(SELECT 1)",
    "name DESC, (SELECT load_extension('x'))",
    "phone/*",
    "1; ATTACH DATABASE '/tmp/pwned.db' AS pwned",
    "",
)


def _fingerprint(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        schema = tuple(conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name"))
        data = tuple(
            (t, tuple(conn.execute(f"SELECT * FROM {t} ORDER BY 1")))
            for t in ("customers", "followups", "status_changes", "options", "config", "id_sequences")
        )
        return schema, data, conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        conn.close()


def _field_name_commands(payload: str, customer_id: str, csv: Path) -> list[list[str]]:
    """Every argument that names a field (or a setting, or an option list)."""
    return [
        ["list", "--sort", payload],
        ["list", "--sort", f"-{payload}"],
        ["list", "--columns", payload],
        ["list", "--columns", f"id,{payload}"],
        ["list", "--status", payload],
        ["list", "--industry", payload],
        ["list", "--source", payload],
        ["list", "--type", payload],
        ["list", "--grade", payload],
        ["search", "公司", "--columns", payload],
        ["stale", "--columns", payload],
        ["stale", "--status", payload],
        ["export", "--sort", payload],
        ["export", "--status", payload],
        ["report", "pivot", payload],
        ["report", "pivot", "industry", payload],
        ["report", "pivot", "industry", "--sum", payload],
        ["options", "list", payload],
        ["options", "add", payload, "newcode", "--zh", "新", "--en", "New"],
        ["options", "retire", payload, "online"],
        ["config", "get", payload],
        ["config", "set", payload, "x"],
        ["edit", customer_id, "--set", f"{payload}=x"],
        ["add", "--set", f"{payload}=x", "--name", "注入公司", "--contact", "王", "--phone", "13812345678",
         "--source", "online", "--needs", "x", "--owner", "me"],
        ["import", "file", str(csv), "--map", f"客户名称={payload}"],
        ["import", "file", str(csv), "--set", f"{payload}=x"],
        ["import", "file", str(csv), "--match", payload],
    ]


def test_injection_payloads_in_field_names_are_refused(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    customer_id = add()
    add(name="北京第二公司", phone="13912345678")
    csv = tmp_path / "in.csv"
    csv.write_text("客户名称,联系人姓名,联系方式,客户来源,需求描述,跟进人,首次接触时间,合作状态\n"
                   "导入公司,王,13712345678,行业展会,采购,张经理,2024-05-01,潜在客户\n", encoding="utf-8")
    before = _fingerprint(isolated_env)
    failures = []
    for payload in PAYLOADS:
        for args in _field_name_commands(payload, customer_id, csv):
            if payload == "" and args[0] == "import":
                continue  # an empty --map/--set/--match target is the import tests' business
            result = crm(*args)
            allowed = (0, 2) if payload == "" else (2,)  # empty: refused, or taken as "the default"
            if result.exit_code not in allowed or "Traceback" in result.output + result.stderr:
                failures.append((args, result.exit_code, (result.stderr or result.stdout)[-300:]))
    assert failures == []
    assert _fingerprint(isolated_env) == before
    assert not Path("/tmp/pwned.db").exists()


# ---------------------------------------------------------------------------- file modes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_database_wal_shm_backups_and_exports_are_private(crm, add, isolated_env: Path, tmp_path: Path,
                                                          open_umask: None) -> None:
    add()
    holder = sqlite3.connect(isolated_env)  # keeps -wal and -shm in place to look at
    holder.execute("SELECT count(*) FROM customers").fetchone()
    try:
        add(name="第二个客户")
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(isolated_env) + suffix)
            assert path.exists(), suffix
            assert _mode(path) == 0o600, (suffix, oct(_mode(path)))
        made = Path(crm.ok("backup", str(tmp_path / "bk")).strip())
        assert _mode(made) == 0o600 and _mode(made.parent) == 0o700
        out = tmp_path / "export.csv"
        crm.ok("export", "--out", str(out))
        assert _mode(out) == 0o600
    finally:
        holder.close()


def test_a_wider_mode_on_an_existing_database_is_warned_about(crm, add, isolated_env: Path) -> None:
    add()
    isolated_env.chmod(0o644)
    result = crm("list")
    assert result.exit_code == 0
    assert "readable by other users" in result.stderr and "chmod 600" in result.stderr
    isolated_env.chmod(0o600)
    assert "readable by other users" not in crm("list").stderr


# ---------------------------------------------------------------------------- masking and --reveal


def test_phones_are_masked_in_every_format_unless_revealed(crm, add, isolated_env: Path) -> None:
    customer_id = add()
    crm.ok("edit", customer_id, "--last-followup", "2024-01-01")
    outputs = {}
    for fmt in ("table", "json", "jsonl", "csv", "tsv"):
        outputs[f"list {fmt}"] = crm.ok("list", "--format", fmt)
        outputs[f"search {fmt}"] = crm.ok("search", "明达", "--format", fmt)
        outputs[f"stale {fmt}"] = crm.ok("stale", "--format", fmt)
    for fmt in ("table", "json"):
        outputs[f"show {fmt}"] = crm.ok("show", customer_id, "--format", fmt)
    for fmt in ("csv", "json"):
        outputs[f"export {fmt}"] = crm.ok("export", "--format", fmt)
    for name, out in outputs.items():
        assert "13812345678" not in out, name
        assert "138****5678" in out, name
    assert _reveals(isolated_env) == []  # nothing was revealed, nothing recorded
    assert "13812345678" in crm.ok("list", "--format", "csv", "--reveal")


def _reveals(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT customer_id, by, command FROM audit_log WHERE field = '*' AND new = 'revealed' ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_every_reveal_is_recorded_in_the_audit_trail(crm, add, isolated_env: Path) -> None:
    crm.ok("config", "--user", "set", "user", "李娜")
    first = add()
    second = add(name="北京第二公司", phone="13912345678")
    assert "13812345678" in crm.ok("show", first, "--reveal")
    assert _reveals(isolated_env) == [(first, "李娜", "show --reveal")]
    out = crm.ok("list", "--reveal", "--format", "json")
    assert {r["phone"] for r in json.loads(out)} == {"13812345678", "13912345678"}
    assert _reveals(isolated_env)[1:] == [(first, "李娜", "list --reveal"), (second, "李娜", "list --reveal")]
    crm.ok("search", "北京", "--reveal")
    assert _reveals(isolated_env)[-1] == (second, "李娜", "search --reveal")
    crm.ok("list", "--status", "lost", "--reveal")  # nothing shown, nothing recorded
    assert len(_reveals(isolated_env)) == 4
    history = crm.json("history", first)
    assert any(e["type"] == "revealed" and e["command"] == "list --reveal" for e in history)


def test_a_reveal_that_cannot_be_recorded_shows_nothing(crm, add, isolated_env: Path, monkeypatch) -> None:
    from crmcli import audit
    from crmcli.errors import StoreError

    customer_id = add()

    def refuse(*args, **kwargs):  # a read-only database, say
        raise StoreError("the database is read-only")

    monkeypatch.setattr(audit, "_record", refuse)
    crm.ok("edit", customer_id, "--phone", "13912345678")
    for args in (["show", customer_id, "--reveal"], ["list", "--reveal"], ["search", "明达", "--reveal"],
                 ["list", "--reveal", "-f", "json"], ["stale", "--before", "2030-01-01", "--reveal"],
                 ["stale", "--before", "2030-01-01", "--reveal", "-f", "jsonl"], ["today", "--reveal"],
                 ["export", "--reveal"], ["history", customer_id, "--reveal"]):
        result = crm(*args)
        assert result.exit_code == 6, args
        assert "13812345678" not in result.stdout and "13912345678" not in result.stdout, args


def test_the_audit_log_is_append_only(add, isolated_env: Path) -> None:
    add()
    conn = sqlite3.connect(isolated_env)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_log SET new = 'forged'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit_log")
    finally:
        conn.close()
