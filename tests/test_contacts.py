"""crm contact add|list|remove: more contacts per customer, masked like the main phone."""

from __future__ import annotations

import csv
import io
import sqlite3

from openpyxl import load_workbook


def test_add_list_show_remove(crm, add):
    cid = add()
    out = crm.ok("contact", "add", cid, "--name", "李四", "--phone", "+86 139-0000-1111", "--title", "采购经理",
                 "--email", "Li@Example.com")
    assert out == f"Added contact 1 of {cid}: 李四 139****1111\n"
    crm.ok("contact", "add", cid, "--name", "赵六")
    rows = crm.json("contact", "list", cid)
    assert [(r["n"], r["name"], r["phone"], r["title"]) for r in rows] == [
        (1, "李四", "139****1111", "采购经理"), (2, "赵六", None, None)]
    shown = crm.ok("show", cid)
    assert "Other contacts" in shown and "139****1111" in shown and "13900001111" not in shown
    assert crm.json("show", cid)["contacts"][0]["phone"] == "139****1111"
    crm.ok("contact", "remove", cid, "1")
    assert [r["name"] for r in crm.json("contact", "list", cid)] == ["赵六"]
    missing = crm("contact", "remove", cid, "5")
    assert missing.exit_code == 3 and "no contact 5" in missing.stderr


def test_phone_is_validated_like_the_main_one(crm, add, isolated_env):
    cid = add()
    for bad in (("--phone", "12"), ("--phone", "139****1111"), ("--email", "nope")):
        result = crm("contact", "add", cid, "--name", "李四", *bad)
        assert result.exit_code == 2, bad
        assert bad[0].lstrip("-") in result.stderr and "Traceback" not in result.stderr
    assert crm("contact", "add", cid, "--name", "未知").exit_code == 2  # a placeholder, like the main contact
    assert crm("contact", "add", "XS1999001", "--name", "李四").exit_code == 3
    assert sqlite3.connect(isolated_env).execute("SELECT count(*) FROM contacts").fetchone() == (0,)


def test_phone_key_like_the_main_phone(crm, add, isolated_env):
    cid = add(phone="010-62345678")
    crm.ok("contact", "add", cid, "--name", "李四", "--phone", "０１０-6234 5678")
    conn = sqlite3.connect(isolated_env)
    contact = conn.execute("SELECT phone, phone_key FROM contacts").fetchone()
    main = conn.execute("SELECT phone, phone_key FROM customers").fetchone()
    assert contact == main


def test_reveal_is_audited(crm, add, isolated_env):
    cid = add()
    crm.ok("contact", "add", cid, "--name", "李四", "--phone", "13900001111")
    assert crm.json("contact", "list", cid, "--reveal")[0]["phone"] == "13900001111"
    rows = sqlite3.connect(isolated_env).execute(
        "SELECT command FROM audit_log WHERE customer_id = ? AND new = 'revealed'", (cid,)).fetchall()
    assert rows == [("contact list --reveal",)]


def test_search_finds_contacts_by_name_title_email(crm, add):
    cid = add(name="甲")
    add(name="乙", phone="13900000002")
    crm.ok("contact", "add", cid, "--name", "钱七", "--title", "财务总监", "--email", "qian@jia.cn")
    for text in ("钱七", "财务", "qian@"):
        assert [r["id"] for r in crm.json("search", text)] == [cid], text


def test_history_masks_contact_phones(crm, add):
    cid = add()
    crm.ok("contact", "add", cid, "--name", "李四", "--phone", "13900001111")
    crm.ok("contact", "remove", cid, "1")
    out = crm.ok("history", cid) + crm.ok("history", cid, "--format", "json")
    assert "139****1111" in out and "13900001111" not in out


def test_export_contacts_csv_and_xlsx(crm, add, tmp_path):
    a, b = add(phone="13900000001"), add(phone="13900000002")
    crm.ok("contact", "add", a, "--name", "=cmd", "--phone", "13900001111")
    crm.ok("contact", "add", b, "--name", "赵六")
    crm.ok("contact", "add", b, "--name", "孙八", "--title", "经理")
    rows = list(csv.DictReader(io.StringIO(crm.ok("export", "--contacts", "--format", "csv"))))
    assert [(r["customer_id"], r["n"], r["name"], r["phone"]) for r in rows] == [
        (a, "1", "'=cmd", "139****1111"), (b, "1", "赵六", ""), (b, "2", "孙八", "")]
    out = tmp_path / "contacts.xlsx"
    crm.ok("export", "--contacts", "--reveal", "-o", str(out))
    sheet = load_workbook(out).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][3] == "=cmd" and values[1][5] == "13900001111"
    assert out.stat().st_mode & 0o077 == 0
    assert crm("export", "--contacts", "--followups").exit_code == 2


def test_contacts_follow_their_customer_to_the_trash_and_back(crm, add):
    cid = add()
    crm.ok("contact", "add", cid, "--name", "李四")
    crm.ok("delete", cid, "--yes")
    assert crm.ok("export", "--contacts", "--format", "csv").count("\n") == 1
    crm.ok("trash", "restore", cid)
    assert [r["name"] for r in crm.json("contact", "list", cid)] == ["李四"]


def test_chinese(crm, add):
    cid = add()
    out = crm.ok("--lang", "zh", "contact", "add", cid, "--name", "李四")
    assert "已为" in out
    assert "姓名" in crm.ok("--lang", "zh", "contact", "list", cid)
