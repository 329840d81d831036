"""crm merge KEEP OTHER and crm duplicates."""

from __future__ import annotations

import sqlite3

from crmcli import duplicates
from crmcli.cli import common


def _dump(path) -> list:
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute(
        # the search index's FTS5 tables cannot be scanned; their shadow tables hold its content
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
    )]
    return [(t, sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)) for t in tables]


def _pair(crm, add) -> tuple[str, str]:
    keep = add(name="上海明达制造有限公司", phone="13812345678")
    other = add(name="上海明达制造", phone="13812345679", email="Buy@MingDa.cn", contact="李娜", amount="5000")
    crm.ok("log", other, "报价已发送", "--date", "2024-06-01")
    crm.ok("status", other, "intent")
    crm.ok("tag", other, "重点")
    crm.ok("contact", "add", other, "--name", "钱七", "--phone", "13900001111")
    return keep, other


def test_merge_moves_everything_fills_and_trashes_other(crm, add, isolated_env):
    keep, other = _pair(crm, add)
    crm.ok("merge", keep, other, "--prefer", "keep", "--yes")
    merged = crm.json("show", keep)
    assert merged["email"] == "Buy@mingda.cn" and merged["amount"] == 5000  # filled: KEEP had none
    assert merged["contact"] == "王强" and merged["phone"] == "138****5678"  # conflicts: kept
    assert merged["last_followup"] == "2024-06-01" and merged["followup"] == "报价已发送"
    assert merged["tags"] == ["重点"] and [c["name"] for c in merged["contacts"]] == ["钱七"]
    conn = sqlite3.connect(isolated_env)
    assert conn.execute("SELECT count(*) FROM followups WHERE customer_id = ?", (keep,)).fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM status_changes WHERE customer_id = ? AND to_status = 'intent'", (keep,)).fetchone() == (1,)
    assert [r["id"] for r in crm.json("list")] == [keep]
    trashed = crm.json("trash", "list")
    assert [(e["id"], e["note"]) for e in trashed] == [(other, f"merged into {keep}")]
    history = crm.json("history", keep)
    assert any(e["type"] == "merged" and other in e["summary"] for e in history)
    assert any(e["summary"].startswith(f"[{other}]") for e in history)  # OTHER's audit shows under KEEP


def test_prefer_other_takes_other_values(crm, add):
    keep, other = _pair(crm, add)
    crm.ok("merge", keep, other, "--prefer", "other", "--yes")
    merged = crm.json("show", keep)
    assert merged["contact"] == "李娜" and merged["name"] == "上海明达制造" and merged["id"] == keep


def test_conflicts_without_terminal_need_prefer_and_nothing_changes(crm, add, isolated_env):
    keep, other = _pair(crm, add)
    before = _dump(isolated_env)
    result = crm("merge", keep, other, "--yes")
    assert result.exit_code == 2 and "--prefer" in result.stderr and "contact" in result.stderr
    assert "138****5679" in result.stderr and "13812345679" not in result.stderr  # conflicts shown masked
    no_yes = crm("merge", keep, other, "--prefer", "keep")
    assert no_yes.exit_code == 2 and "--yes" in no_yes.stderr
    assert crm("merge", keep, keep, "--prefer", "keep", "--yes").exit_code == 2
    assert crm("merge", keep, "XS1999001", "--yes").exit_code == 3
    assert crm("merge", keep, other, "--prefer", "mine", "--yes").exit_code == 2
    assert _dump(isolated_env) == before


def test_terminal_chooses_per_field_and_asks(crm, add, monkeypatch):
    keep = add(name="甲公司", phone="13812345678", contact="王强")
    other = add(name="甲公司", phone="13812345678", contact="李娜")
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    declined = crm("merge", keep, other, input="o\nn\n")
    assert declined.exit_code == 1
    assert len(crm.json("list")) == 2
    crm.ok("merge", keep, other, input="o\ny\n")
    assert crm.json("show", keep)["contact"] == "李娜"


def test_merge_is_undone_whole(crm, add, isolated_env):
    keep, other = _pair(crm, add)
    before = crm.json("show", keep), crm.json("show", other), crm.json("history", other)
    crm.ok("merge", keep, other, "--prefer", "keep", "--yes")
    crm.ok("undo", "--yes")
    assert crm.json("show", keep)["email"] is None
    after_other = crm.json("show", other)
    assert after_other["tags"] == ["重点"] and [c["name"] for c in after_other["contacts"]] == ["钱七"]
    assert {k: v for k, v in after_other.items() if k != "version" and k != "updated_at"} == {
        k: v for k, v in before[1].items() if k != "version" and k != "updated_at"}
    conn = sqlite3.connect(isolated_env)
    assert conn.execute("SELECT count(*) FROM followups WHERE customer_id = ?", (other,)).fetchone() == (1,)
    assert crm.json("trash", "list") == []


def test_duplicates_finds_phone_email_name_and_similar(crm, add):
    a = add(name="上海明达制造有限公司", phone="13812345678")
    b = add(name="上海明达制造", phone="13900000001")                     # same name once the suffix goes
    c = add(name="杭州云栖", phone="+86 138-1234-5678")                   # same phone as a
    d = add(name="宁波港务", phone="13900000002", email="Info@NB.cn")
    e = add(name="舟山港务", phone="13900000003", email="info@nb.cn")      # same e-mail as d, any case
    f = add(name="北京星辰科技发展", phone="13900000004")
    g = add(name="北京星辰科技发", phone="13900000005")                   # similar name to f
    pairs = {(p["id"], p["other_id"]): p["reasons"] for p in crm.json("duplicates")}
    assert pairs[(a, b)] == "name"
    assert pairs[(a, c)] == "phone"
    assert pairs[(d, e)] == "email"
    assert pairs[(f, g)] == "similar name"
    assert len(pairs) == 4
    assert "Why" in crm.ok("duplicates")
    assert "原因" in crm.ok("--lang", "zh", "duplicates")


def test_normalised_names():
    assert duplicates.normalise_name("上海 明达制造 有限公司") == duplicates.normalise_name("上海明达制造")
    assert duplicates.normalise_name("ACME Co., Ltd.") == duplicates.normalise_name("acme")
    assert duplicates.normalise_name("公司") == "公司"  # a name that is only a suffix stays


def test_large_groups_are_skipped_and_said(crm, isolated_env):
    from crmcli import storage

    with storage.open_store(isolated_env) as store, store.write() as conn:
        conn.executemany(
            "INSERT INTO customers (id, name, status, archived, version, created_at, updated_at, phone_key) "
            "VALUES (?, ?, 'potential', 0, 1, '2024-01-01', '2024-01-01', '+8601012345678')",
            [(f"XS2024{i:03d}", f"总机{i}号客户{i * 7919 % 1000}") for i in range(1, 30)],
        )
    result = crm("duplicates")
    assert result.exit_code == 0 and "skipped" in result.stderr
