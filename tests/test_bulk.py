"""crm edit / crm status over several customers: IDs on the command line or from stdin (-), one
transaction, one change set, asking first."""

from __future__ import annotations

import sqlite3

from crmcli.cli import common


def _dump(path) -> list:
    conn = sqlite3.connect(path)
    return [
        conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
        for t in ("customers", "audit_log", "status_changes", "changes")
    ]


def _three(add) -> list[str]:
    return [add(phone=f"1390000000{i}", name=f"客户{i}") for i in range(1, 4)]


def test_edit_ids_from_stdin_is_one_change_set(crm, add, isolated_env):
    a, b, c = _three(add)
    crm.ok("edit", c, "--owner", "王经理")
    ids = crm.ok("list", "--owner", "张经理", "--format", "ids")
    out = crm.ok("edit", "-", "--owner", "李经理", "--yes", input="\n" + ids + "\n\n")
    assert "Updated 2 of 2 customers" in out
    owners = {r["id"]: r["owner"] for r in crm.json("list")}
    assert owners == {a: "李经理", b: "李经理", c: "王经理"}
    conn = sqlite3.connect(isolated_env)
    rows = conn.execute("SELECT customer_id, change_id FROM audit_log WHERE field = 'owner' AND new = '李经理'").fetchall()
    assert sorted(r[0] for r in rows) == [a, b]
    assert len({r[1] for r in rows}) == 1 and rows[0][1] is not None
    change = conn.execute("SELECT command, customers FROM changes WHERE id = ?", (rows[0][1],)).fetchone()
    assert change == ("edit", 2)


def test_edit_several_ids_on_the_command_line(crm, add):
    a, b, _ = _three(add)
    crm.ok("edit", a, b, "--amount", "1000", "--yes")
    amounts = {r["id"]: r["amount"] for r in crm.json("list")}
    assert amounts[a] == amounts[b] == 1000


def test_unknown_ids_are_named_and_nothing_changes(crm, add, isolated_env):
    a, b, _ = _three(add)
    before = _dump(isolated_env)
    result = crm("edit", "-", "--owner", "李经理", "--yes", input=f"{a}\nXS1999001\n{b}\nNOPE\n")
    assert result.exit_code == 3
    assert "XS1999001" in result.stderr and "NOPE" in result.stderr
    assert _dump(isolated_env) == before


def test_several_without_terminal_and_without_yes_is_refused(crm, add, isolated_env):
    a, b, _ = _three(add)
    before = _dump(isolated_env)
    for args in (("edit", a, b, "--owner", "李经理"), ("status", a, b, "active")):
        result = crm(*args)
        assert result.exit_code == 2 and "--yes" in result.stderr
    assert _dump(isolated_env) == before


def test_one_customer_needs_no_yes(crm, add):
    a, _, _ = _three(add)
    assert "Updated" in crm.ok("edit", a, "--owner", "李经理")
    assert "Active" in crm.ok("status", a, "active")


def test_terminal_asks_with_the_count(crm, add, isolated_env, monkeypatch):
    a, b, c = _three(add)
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    before = _dump(isolated_env)
    declined = crm("status", a, b, c, "active", input="n\n")
    assert declined.exit_code == 1 and "3 customers" in declined.stderr
    assert _dump(isolated_env) == before
    crm.ok("status", a, b, c, "active", input="y\n")
    assert {r["status"] for r in crm.json("list")} == {"active"}


def test_bulk_status_reports_each_and_shares_a_change(crm, add, isolated_env):
    a, b, c = _three(add)
    crm.ok("status", c, "active")
    out = crm.ok("status", a, b, c, "合作中", "--note", "签约", "--yes")
    assert f"{c} is already Active" in out and out.count("Potential → Active") == 2
    conn = sqlite3.connect(isolated_env)
    ids = {r[0] for r in conn.execute("SELECT change_id FROM audit_log WHERE field = 'status' AND customer_id IN (?, ?)", (a, b))}
    assert len(ids) == 1
    notes = conn.execute("SELECT note FROM status_changes WHERE to_status = 'active' AND customer_id = ?", (a,)).fetchall()
    assert notes == [("签约",)]


def test_a_refused_value_changes_nobody(crm, add, isolated_env):
    a, b, _ = _three(add)
    before = _dump(isolated_env)
    result = crm("edit", a, b, "--status", "bogus", "--yes")
    assert result.exit_code == 2
    assert _dump(isolated_env) == before


def test_dash_without_input_is_a_usage_error(crm, add):
    _three(add)
    result = crm("edit", "-", "--owner", "x", "--yes", input="\n\n")
    assert result.exit_code == 2 and "no customer IDs" in result.stderr


def test_bulk_messages_in_chinese(crm, add, monkeypatch):
    a, b, _ = _three(add)
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    result = crm("--lang", "zh", "edit", a, b, "--owner", "李经理", input="n\n")
    assert "修改 2 个客户" in result.stderr and "已取消" in result.stderr
