"""crm undo: the current user's latest change, reverted after showing it and asking."""

from __future__ import annotations

import sqlite3

from crmcli.cli import common


def _dump(path) -> list:
    conn = sqlite3.connect(path)
    return [conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
            for t in ("customers", "followups", "status_changes", "tags", "contacts", "trash_customers")]


def test_undo_edit_shows_asks_and_reverts(crm, add, monkeypatch):
    cid = add()
    crm.ok("edit", cid, "--owner", "李经理", "--amount", "1200")
    refused = crm("undo")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    declined = crm("undo", input="n\n")
    assert declined.exit_code == 1
    assert f"{cid} owner: 李经理 → 张经理" in declined.stderr and "amount: 1200 → —" in declined.stderr
    crm.ok("undo", input="y\n")
    record = crm.json("show", cid)
    assert record["owner"] == "张经理" and record["amount"] is None
    history = crm.json("history", cid)
    assert history[0]["command"] == "undo"


def test_undo_walks_back_one_change_at_a_time(crm, add):
    cid = add()
    crm.ok("status", cid, "intent")
    crm.ok("status", cid, "active")
    crm.ok("undo", "--yes")
    assert crm.json("show", cid)["status"] == "intent"
    crm.ok("undo", "--yes")
    assert crm.json("show", cid)["status"] == "potential"
    statuses = [e["summary"] for e in crm.json("history", cid) if e["type"] == "status"]
    assert {"Intent → Potential", "Active → Intent"} <= set(statuses)  # the undos are status changes too


def test_undo_log_removes_the_followup_and_restores_the_mirror(crm, add, isolated_env):
    cid = add()
    crm.ok("log", cid, "第一次", "--date", "2024-06-01")
    before = crm.json("show", cid)
    crm.ok("log", cid, "第二次", "--next", "回访")
    crm.ok("undo", "--yes")
    after = crm.json("show", cid)
    assert (after["followup"], after["last_followup"], after["next_step"]) == ("第一次", "2024-06-01", None)
    assert after["version"] > before["version"]
    conn = sqlite3.connect(isolated_env)
    assert [r[0] for r in conn.execute("SELECT content FROM followups")] == ["第一次"]


def test_undo_bulk_edit_and_delete(crm, add):
    a, b = add(phone="13900000001"), add(phone="13900000002")
    crm.ok("edit", a, b, "--owner", "李经理", "--yes")
    crm.ok("delete", a, b, "--yes")
    crm.ok("undo", "--yes")
    assert sorted(r["id"] for r in crm.json("list")) == [a, b]
    crm.ok("undo", "--yes")
    assert {r["owner"] for r in crm.json("list")} == {"张经理"}


def test_undo_import_delegates_to_import_undo(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        "name,contact,phone,source,needs,owner,first_contact,status\n甲,王,13900000009,online,x,张,2024-01-01,potential\n",
        encoding="utf-8",
    )
    crm.ok("import", str(path))
    entries = crm.json("undo", "--list")
    assert entries[0]["kind"] == "import"
    crm.ok("undo", "--yes")
    assert crm.json("list") == []
    assert crm.json("undo", "--list")[0]["undone_at"]


def test_undo_refuses_when_someone_else_changed_the_customer(crm, add, isolated_env):
    from crmcli import customers, options, storage

    cid = add()
    crm.ok("edit", cid, "--owner", "李经理")
    with storage.open_store(isolated_env) as store:  # another user's edit since
        bob = customers.Context(user="bob", prefix="XS", command="edit")
        customers.edit(store, cid, {"notes": "bob was here"}, bob, options.load(store))
    before = _dump(isolated_env)
    result = crm("undo", "--yes")
    assert result.exit_code == 4 and "bob" in result.stderr and cid in result.stderr
    in_chinese = crm("--lang", "zh", "undo", "--yes")
    assert in_chinese.exit_code == 4 and "之后被 bob" in in_chinese.stderr and "张经理 → 李经理" not in in_chinese.stderr
    assert _dump(isolated_env) == before


def test_reveals_do_not_block_undo(crm, add):
    cid = add()
    crm.ok("edit", cid, "--owner", "李经理")
    crm.ok("show", cid, "--reveal")
    crm.ok("undo", "--yes")
    assert crm.json("show", cid)["owner"] == "张经理"


def test_nothing_to_undo_is_not_found(crm):
    result = crm("undo", "--yes")
    assert result.exit_code == 3


def test_undo_list_formats_and_chinese(crm, add):
    cid = add()
    crm.ok("edit", cid, "--owner", "李经理")
    rows = crm.json("undo", "--list")
    assert rows[0]["command"] == "edit" and rows[0]["customers"] == 1 and rows[0]["undone_at"] is None
    assert "命令" in crm.ok("--lang", "zh", "undo", "--list")
    result = crm("--lang", "zh", "undo")
    assert "撤销变更" in result.stderr and "跟进人：李经理 → 张经理" in result.stderr


def test_undo_tags_and_contacts(crm, add):
    cid = add()
    crm.ok("tag", cid, "重点")
    crm.ok("contact", "add", cid, "--name", "钱七", "--phone", "13900001111")
    crm.ok("contact", "remove", cid, "1")
    crm.ok("undo", "--yes")
    assert [c["name"] for c in crm.json("contact", "list", cid)] == ["钱七"]
    crm.ok("undo", "--yes")
    assert crm.json("contact", "list", cid) == []
    crm.ok("undo", "--yes")
    assert crm.json("show", cid)["tags"] == []


def test_undo_trash_restore_puts_it_back_in_the_trash(crm, add):
    cid = add()
    crm.ok("log", cid, "报价")
    crm.ok("delete", cid, "--yes")
    crm.ok("trash", "restore", cid)
    crm.ok("undo", "--yes")
    assert crm.json("list") == []
    assert [(e["id"], e["followups"]) for e in crm.json("trash", "list")] == [(cid, 1)]
    crm.ok("undo", "--yes")  # the delete itself
    assert [r["id"] for r in crm.json("list")] == [cid]
