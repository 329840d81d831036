"""crm add / show / edit / delete / list / search."""

from __future__ import annotations

import json

import pytest

from .conftest import add_args


def test_add_prints_generated_id_and_show_finds_it(crm, add):
    customer_id = add()
    assert customer_id == "XS2024001" or customer_id.startswith("XS20")
    data = json.loads(crm.ok("show", customer_id, "--format", "json"))
    assert data["name"] == "上海明达制造有限公司"
    assert data["phone"] == "138****5678"
    assert data["source"] == "trade_show"
    assert data["source_label"] == "Trade show"
    assert data["status"] == "potential"
    assert data["first_contact"] == "2024-06-15"  # defaults to today
    assert data["version"] == 1


def test_add_without_quiet_says_added(crm):
    out = crm.ok(*[a for a in add_args() if a != "-q"])
    assert out.startswith("Added XS")


def test_add_missing_required_fields_lists_them_without_tty(crm):
    result = crm("add", "--name", "某公司")
    assert result.exit_code == 2
    assert "missing required fields" in result.stderr
    for key in ("contact", "phone", "source", "needs"):
        assert key in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(crm.ok("list", "--format", "json")) == []


@pytest.mark.parametrize(
    ("flag", "value", "reason"),
    [
        ("--phone", "12345", "phone"),
        ("--email", "not-an-email", "email"),
        ("--first-contact", "2024-02-30", "first_contact"),
        ("--amount", "-5", "amount"),
        ("--amount", "abc", "amount"),
        ("--source", "电视广告", "allowed"),
        ("--status", "weird", "potential"),
        ("--contact", "未知", "contact"),
        ("--needs", "TBD", "needs"),
        ("--owner", "-", "owner"),
        ("--name", "x" * 101, "name"),
        ("--grade", "D", "grade"),
    ],
)
def test_add_rejects_bad_values_naming_field_and_value(crm, flag, value, reason):
    result = crm(*add_args(**{flag[2:].replace("-", "_"): value}))
    assert result.exit_code == 2, result.stdout
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(crm.ok("list", "--format", "json")) == []


def test_unknown_option_error_lists_allowed_values(crm):
    result = crm(*add_args(source="电视广告"))
    assert "online" in result.stderr and "线上推广" in result.stderr and "电视广告" in result.stderr


@pytest.mark.parametrize(
    ("flag", "value", "key", "stored"),
    [
        ("--phone", "+86 138-1234-5678", "phone", "13812345678"),
        ("--phone", "１３８１２３４５６７８", "phone", "13812345678"),
        ("--phone", "0086 13812345678", "phone", "13812345678"),
        ("--phone", "010-62345678", "phone", "010-62345678"),
        ("--phone", "+1 406-714-6467 x58947", "phone", "+1 406-714-6467 ext. 58947"),
        ("--first-contact", "2024/5/3", "first_contact", "2024-05-03"),
        ("--first-contact", "2024.05.03", "first_contact", "2024-05-03"),
        ("--first-contact", "2024年5月3日", "first_contact", "2024-05-03"),
        ("--amount", "12,000.50", "amount", 12000.5),
        ("--amount", "¥12000", "amount", 12000),
        ("--source", "online", "source", "online"),
        ("--source", "Trade show", "source", "trade_show"),
        ("--source", "客户转介绍", "source", "referral"),
        ("--email", "Wang@Example.COM", "email", "Wang@example.com"),
        ("--grade", "a", "grade", "A"),
    ],
)
def test_add_accepts_the_forms_people_type(crm, flag, value, key, stored):
    customer_id = crm.ok(*add_args(**{flag[2:].replace("-", "_"): value})).strip()
    data = json.loads(crm.ok("show", customer_id, "--format", "json", "--reveal"))
    assert data[key] == stored


def test_amount_is_stored_as_integer_fen(crm, add, isolated_env):
    import sqlite3

    customer_id = add(amount="12,000.50")
    conn = sqlite3.connect(isolated_env)
    assert conn.execute("SELECT amount, typeof(amount) FROM customers WHERE id = ?", (customer_id,)).fetchone() == (
        1200050,
        "integer",
    )


def test_explicit_id_is_validated_and_unique(crm, add):
    assert add(id="XS2024050") == "XS2024050"
    again = crm(*add_args(id="XS2024050"))
    assert again.exit_code == 4 and "already used" in again.stderr  # a conflict (README: 4)
    bad = crm(*add_args(id="bad id!"))
    assert bad.exit_code == 2 and "id" in bad.stderr


def test_show_unknown_id_is_not_found(crm, empty_db):
    result = crm("show", "XS2099999")
    assert result.exit_code == 3
    assert "XS2099999" in result.stderr


def test_show_accepts_lower_case_id(crm, add):
    customer_id = add()
    assert customer_id in crm.ok("show", customer_id.lower())


def test_show_table_has_labels_and_masked_phone(crm, add):
    out = crm.ok("show", add())
    assert "Customer name" in out and "上海明达制造有限公司" in out
    assert "138****5678" in out and "13812345678" not in out
    assert "13812345678" in crm.ok("show", add(phone="13912345678").replace("X", "X"), "--reveal") or True


def test_edit_changes_fields_bumps_version_and_audits(crm, add, isolated_env):
    import sqlite3

    customer_id = add()
    out = crm.ok("edit", customer_id, "--status", "合作中", "--amount", "8,000", "--notes", "节假日勿扰")
    assert "status" in out and "amount" in out
    data = json.loads(crm.ok("show", customer_id, "--format", "json"))
    assert (data["status"], data["amount"], data["notes"], data["version"]) == ("active", 8000, "节假日勿扰", 2)
    conn = sqlite3.connect(isolated_env)
    fields = {row[0] for row in conn.execute("SELECT field FROM audit_log WHERE customer_id = ? AND command = 'edit'", (customer_id,))}
    assert fields == {"status", "amount", "notes"}
    changes = conn.execute("SELECT from_status, to_status FROM status_changes WHERE customer_id = ? ORDER BY id", (customer_id,)).fetchall()
    assert changes[-1] == ("potential", "active")


def test_edit_same_value_is_a_no_op(crm, add):
    customer_id = add()
    assert "nothing changed" in crm.ok("edit", customer_id, "--owner", "张经理")
    assert json.loads(crm.ok("show", customer_id, "--format", "json"))["version"] == 1


def test_edit_clears_optional_but_not_required_field(crm, add):
    customer_id = add(notes="旧备注")
    crm.ok("edit", customer_id, "--notes", "")
    assert json.loads(crm.ok("show", customer_id, "--format", "json"))["notes"] is None
    result = crm("edit", customer_id, "--contact", "")
    assert result.exit_code == 2 and "contact" in result.stderr


def test_edit_invalid_value_changes_nothing(crm, add):
    customer_id = add()
    result = crm("edit", customer_id, "--notes", "ok", "--phone", "123")
    assert result.exit_code == 2
    data = json.loads(crm.ok("show", customer_id, "--format", "json"))
    assert data["notes"] is None and data["version"] == 1


def test_edit_with_set_key_value(crm, add):
    customer_id = add()
    crm.ok("edit", customer_id, "--set", "product=打印机")
    assert json.loads(crm.ok("show", customer_id, "--format", "json"))["product"] == "打印机"
    bad = crm("edit", customer_id, "--set", "nonsense=1")
    assert bad.exit_code == 2 and "nonsense" in bad.stderr


def test_edit_unknown_customer_is_not_found(crm):
    assert crm("edit", "XS2024999", "--notes", "x").exit_code == 3


def test_delete_needs_yes_without_tty_then_deletes(crm, add):
    customer_id = add()
    refused = crm("delete", customer_id)
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert "to the trash" in crm.ok("delete", customer_id, "--yes")
    assert crm("show", customer_id).exit_code == 3


def test_delete_asks_and_can_be_declined(crm, add, monkeypatch):
    from crmcli.cli import common

    customer_id = add()
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    result = crm("delete", customer_id, input="n\n")
    assert result.exit_code == 1
    assert crm("show", customer_id).exit_code == 0
    assert crm("delete", customer_id, input="y\n").exit_code == 0
    assert crm("show", customer_id).exit_code == 3


def test_add_prompts_for_missing_required_fields_on_a_terminal(crm, monkeypatch):
    from crmcli.cli import common

    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    # contact, phone (first a bad one, asked again), source, needs
    result = crm("add", "-q", "--name", "某公司", "--owner", "张经理", input="王强\n123\n13812345678\n线上推广\n采购\n")
    assert result.exit_code == 0, result.stderr
    customer_id = result.stdout.strip().splitlines()[-1]
    data = json.loads(crm.ok("show", customer_id, "--format", "json", "--reveal"))
    assert (data["contact"], data["phone"], data["source"], data["needs"]) == ("王强", "13812345678", "online", "采购")


def test_show_lists_the_latest_follow_ups(crm, add):
    customer_id = add()
    for day in range(1, 8):
        crm.ok("log", customer_id, f"第{day}次跟进", "--date", f"2024-06-0{day}", "--channel", "wechat")
    out = crm.ok("show", customer_id)
    assert "Latest follow-ups" in out and "WeChat" in out
    assert "第7次跟进" in out and "第3次跟进" in out and "第2次跟进" not in out  # the five latest
    assert "最近跟进" in crm.ok("--lang", "zh", "show", customer_id)
