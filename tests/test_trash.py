"""crm delete moves customers to the trash; crm trash list|restore|purge."""

from __future__ import annotations

import json
import sqlite3

from crmcli.cli import common

from .conftest import add_args


def _db(isolated_env):
    return sqlite3.connect(isolated_env)


def _snapshot(path) -> list:
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute(
        # the search index's FTS5 tables cannot be scanned; their shadow tables hold its content
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
    )]
    return [(t, sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)) for t in tables]


def test_deleted_customer_leaves_every_listing_and_comes_back_whole(crm, add, isolated_env):
    keep = add(name="留下公司", phone="13900000001")
    gone = add(name="删除公司", phone="13900000002")
    crm.ok("log", gone, "报价已发送", "--next", "回访")
    crm.ok("status", gone, "intent")
    before = crm.json("show", gone)
    crm.ok("delete", gone, "--yes")
    assert [r["id"] for r in crm.json("list")] == [keep]
    assert crm.json("search", "删除") == []
    assert crm.json("stale", "--days", "0") == [] or all(r["id"] != gone for r in crm.json("stale", "--days", "0"))
    assert gone not in crm.ok("export", "--format", "csv")
    assert crm("show", gone).exit_code == 3
    assert crm("log", gone, "x").exit_code == 3
    trashed = crm.json("trash", "list")
    assert [(e["id"], e["name"], e["followups"]) for e in trashed] == [(gone, "删除公司", 1)]
    conn = _db(isolated_env)
    assert conn.execute("SELECT count(*) FROM followups WHERE customer_id = ?", (gone,)).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM status_changes WHERE customer_id = ?", (gone,)).fetchone() == (0,)
    crm.ok("trash", "restore", gone)
    after = crm.json("show", gone)
    assert {k: v for k, v in after.items()} == before
    history = crm.json("history", gone)
    assert [e["type"] for e in history][:2] == ["undeleted", "deleted"]
    assert any(e["type"] == "followup" for e in history)
    assert crm.json("trash", "list") == []


def test_trashed_ids_stay_reserved(crm, add):
    first = add()
    crm.ok("delete", first, "--yes")
    again = crm(*add_args(id=first, phone="13900000003"))
    assert again.exit_code == 2 and "trash" in again.stderr
    second = add(phone="13900000004")
    assert second != first and int(second[6:]) == int(first[6:]) + 1


def test_import_cannot_reuse_a_trashed_id(crm, add, tmp_path):
    first = add()
    crm.ok("delete", first, "--yes")
    path = tmp_path / "in.csv"
    path.write_text(
        "id,name,contact,phone,source,needs,owner,first_contact,status\n"
        f"{first},新公司,赵,13900000009,online,x,张,2024-01-01,potential\n"
        "KH2024001,别家,钱,13900000010,online,x,张,2024-01-01,potential\n",
        encoding="utf-8",
    )
    result = crm("import", str(path))
    assert result.exit_code == 2 and "row 2: id" in result.stderr and "trash" in result.stderr
    assert crm.json("list") == []
    assert [e["id"] for e in crm.json("trash", "list")] == [first]


def test_delete_several_asks_with_the_count(crm, add, monkeypatch):
    a, b = add(phone="13900000001"), add(phone="13900000002")
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    declined = crm("delete", a, b, input="n\n")
    assert declined.exit_code == 1 and "2 customers" in declined.stderr + declined.stdout
    assert len(crm.json("list")) == 2
    crm.ok("delete", a, b, input="y\n")
    assert crm.json("list") == []


def test_delete_unknown_id_names_it_and_deletes_nothing(crm, add):
    a = add()
    result = crm("delete", a, "XS1999999", "--yes")
    assert result.exit_code == 3 and "XS1999999" in result.stderr
    assert [r["id"] for r in crm.json("list")] == [a]


def test_purge_older_than(crm, add, isolated_env, monkeypatch):
    old, recent = add(phone="13900000001"), add(phone="13900000002")
    crm.ok("delete", old, recent, "--yes")
    conn = _db(isolated_env)
    with conn:
        conn.execute("UPDATE trash_customers SET deleted_at = '2024-04-01T09:00:00Z' WHERE id = ?", (old,))
        conn.execute("UPDATE trash_customers SET deleted_at = '2024-06-10T09:00:00Z' WHERE id = ?", (recent,))
    refused = crm("trash", "purge", "--older-than", "30d")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert len(crm.json("trash", "list")) == 2
    bad = crm("trash", "purge", "--older-than", "soon", "--yes")
    assert bad.exit_code == 2 and "older_than" in bad.stderr
    crm.ok("trash", "purge", "--older-than", "30d", "--yes")
    assert [e["id"] for e in crm.json("trash", "list")] == [recent]
    rows = conn.execute("SELECT new FROM audit_log WHERE customer_id = ? ORDER BY id", (old,)).fetchall()
    assert rows[-1] == ("purged",)
    tomb = conn.execute("SELECT name, record, related, purged_at FROM trash_customers WHERE id = ?", (old,)).fetchone()
    assert tomb[:3] == ("", "{}", "{}") and tomb[3]  # the data is gone, the ID stays reserved
    assert crm("trash", "restore", old).exit_code == 3
    again = crm(*add_args(id=old, phone="13900000007"))
    assert again.exit_code == 2 and "never reused" in again.stderr


def test_restore_unknown_is_not_found(crm, add):
    add()
    result = crm("trash", "restore", "XS2024999")
    assert result.exit_code == 3 and "XS2024999" in result.stderr


def test_trash_list_in_chinese(crm, add):
    crm.ok("delete", add(), "--yes")
    out = crm.ok("--lang", "zh", "trash", "list")
    assert "删除时间" in out
    assert json.loads(crm.ok("trash", "list", "--format", "json"))[0]["deleted_by"]
