"""Masked data must not leak: CSV formulas (#10.21), history (#10.9), partial phone filters (#10.10)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest


def _rows(text: str, fmt: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), dialect="excel-tab" if fmt == "tsv" else "excel"))


# ---------------------------------------------------------------------------- #10.21 CSV formulas


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_listing_csv_is_formula_neutralised_like_export(crm, add, fmt: str) -> None:
    cid = add(name='=HYPERLINK("http://x","点我")', contact="@SUM(A1)", notes="-2+3", first_contact="2024-01-02")
    crm.ok("log", cid, "电话", "--date", "2024-01-02", "--next", "+1 回访", "--next-date", "2024-06-01")
    for args in (("list",), ("search", "HYPERLINK"), ("stale",), ("today",)):
        rows = _rows(crm.ok(*args, "--format", fmt), fmt)
        assert rows, args
        row = rows[0]
        assert row["name"] == '\'=HYPERLINK("http://x","点我")', args
        if "contact" in row:
            assert row["contact"] == "'@SUM(A1)"
        if "next_step" in row:
            assert row["next_step"] == "'+1 回访"
    row = _rows(crm.ok("list", "--format", fmt), fmt)[0]
    assert row["notes"] == "'-2+3"


def test_listing_csv_keeps_numbers_and_revealed_phones_importable(crm, add, tmp_path: Path) -> None:
    crm.ok("fields", "add", "delta", "--type", "integer", "--label-zh", "变化", "--label-en", "Delta")
    cid = add(phone="+86 138 1234 5678", amount="12000")
    crm.ok("edit", cid, "--set", "delta=-3")
    row = _rows(crm.ok("list", "--format", "csv", "--reveal"), "csv")[0]
    assert row["delta"] == "-3"  # a number, never a formula
    assert row["amount"] == "12000"
    assert row["phone"] == "13812345678"
    # An international number starts with + and is neutralised; import strips the ' again.
    add(phone="+1 808 555 0100", name="檀香山公司")
    out = crm.ok("list", "--format", "csv", "--reveal", "--where", "name=檀香山公司")
    row = _rows(out, "csv")[0]
    assert row["phone"].startswith("'+1")
    path = tmp_path / "again.csv"
    path.write_text(out.replace("檀香山公司", "檀香山二号"), encoding="utf-8")
    crm.ok("import", "file", str(path), "--on-duplicate", "skip")
    assert crm.json("list", "--reveal", "--where", "name=檀香山公司")[0]["phone"] == row["phone"][1:]


# ---------------------------------------------------------------------------- #10.9 history and messages

OLD, NEW = "13812345678", "13987654321"


def _reveals(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT customer_id, command FROM audit_log WHERE new = 'revealed' ORDER BY id").fetchall()


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "tsv"])
def test_history_masks_old_and_new_phones(crm, add, isolated_env: Path, fmt: str) -> None:
    cid = add(phone=OLD)
    crm.ok("edit", cid, "--phone", NEW)
    crm.ok("edit", cid, "--phone", "+1 808 555 0100")
    out = crm.ok("history", cid, "--format", fmt)
    for number in (OLD, NEW, "8085550100", "808 555 0100"):
        assert number not in out, (fmt, number)
    assert "138****5678" in out and "139****4321" in out
    assert _reveals(isolated_env) == []


def test_history_reveal_shows_phones_and_is_audited(crm, add, isolated_env: Path) -> None:
    cid = add(phone=OLD)
    crm.ok("edit", cid, "--phone", NEW)
    entries = json.loads(crm.ok("history", cid, "--reveal", "--format", "json"))
    edit = next(e for e in entries if e["type"] == "edit")
    assert edit["detail"] == {"field": "phone", "old": OLD, "new": NEW}
    assert edit["summary"] == f"phone: {OLD} → {NEW}"
    assert _reveals(isolated_env) == [(cid, "history --reveal")]
    assert OLD in crm.ok("history", cid, "--reveal")
    assert len(_reveals(isolated_env)) == 2


def test_history_shows_yuan_and_labels(crm, add) -> None:
    cid = add()
    crm.ok("edit", cid, "--amount", "12000", "--industry", "retail")
    crm.ok("edit", cid, "--amount", "12000.5", "--industry", "finance")
    entries = json.loads(crm.ok("history", cid, "--format", "json"))
    edits = {e["summary"] for e in entries if e["type"] == "edit"}
    assert {
        "amount: — → 12000.00",
        "amount: 12000.00 → 12000.50",
        "industry: — → Retail",
        "industry: Retail → Finance",
    } <= edits
    amount = next(e for e in entries if e["type"] == "edit" and e["detail"]["field"] == "amount" and e["detail"]["old"])
    assert amount["detail"] == {"field": "amount", "old": 12000, "new": 12000.5}
    table = crm.ok("history", cid)
    assert "1200000" not in table and "12000.50" in table
    assert "industry: Retail → Finance" in table
    zh = crm.ok("--lang", "zh", "history", cid)
    assert "零售业 → 金融" in zh


def test_any_phone_kind_field_is_masked_in_history_and_messages(monkeypatch) -> None:
    from crmcli import fields, masking
    from crmcli.followups import _audited_value
    from crmcli.options import OptionSet

    monkeypatch.setitem(
        fields.BY_KEY, "contact_phone", fields.Field("contact_phone", "联系人电话", "Contact phone", "phone")
    )
    assert _audited_value("contact_phone", OLD, OptionSet({}), "en", False) == ("138****5678", "138****5678")
    assert _audited_value("contact_phone", OLD, OptionSet({}), "en", True) == (OLD, OLD)
    assert masking.message_value("contact_phone", OLD) == "138****5678"
    assert masking.message_value("contact_phone", "-1199") == "-1199"  # no number: quoted so it can be fixed
    assert masking.message_value("notes", OLD) == OLD


def test_duplicate_phone_conflict_message_masks_the_phone(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    add(phone=OLD)
    path = tmp_path / "dup.csv"
    path.write_text(
        f"name,contact,phone,source,needs,owner\n另一家,李四,+86 {OLD},online,采购,张经理\n", encoding="utf-8"
    )
    result = crm("import", "file", str(path), "--on-duplicate", "error")
    assert result.exit_code == 4, result.stderr
    assert "138****5678" in result.stderr and OLD not in result.stderr
    result = crm("import", "file", str(path), "--on-duplicate", "error", "--format", "json")
    assert OLD not in result.stdout + result.stderr
    assert "138****5678" in result.stdout
    with sqlite3.connect(isolated_env) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1


# ---------------------------------------------------------------------------- #10.10 no oracle on masked phones


@pytest.mark.parametrize(
    "cond", ["phone~139", "phone~5678", "phone>=139", "phone<=1395", "phone>=13900000000", "phone~%"]
)
def test_partial_phone_conditions_need_reveal(crm, add, isolated_env: Path, cond: str) -> None:
    add(phone="13912345678")
    with sqlite3.connect(isolated_env) as conn:
        before = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    for args in (
        ["list", "--where", cond],
        ["list", "--where", cond, "-f", "json"],
        ["list", "--where", cond, "-f", "ids"],
    ):
        result = crm(*args)
        assert result.exit_code == 2, (args, result.stdout)
        assert result.stdout == ""
        assert "masked" in result.stderr and "--reveal" in result.stderr
    with sqlite3.connect(isolated_env) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before  # nothing recorded or changed
    zh = crm("--lang", "zh", "list", "--where", cond)
    assert zh.exit_code == 2 and "打码" in zh.stderr


def test_the_oracle_no_longer_answers(crm, add) -> None:
    """The attack: one query per candidate digit recovers the masked middle of a number."""
    add(phone="13912345678")
    answers = {d: crm("list", "--where", f"phone~139{d}", "-f", "ids") for d in "0123456789"}
    assert {r.exit_code for r in answers.values()} == {2}
    assert all(r.stdout == "" for r in answers.values())


def test_partial_phone_conditions_with_reveal_are_allowed_and_audited(crm, add, isolated_env: Path) -> None:
    cid = add(phone="13912345678")
    add(phone="13812345678", name="另一家")
    out = json.loads(crm.ok("list", "--where", "phone~1391", "--reveal", "-f", "json"))
    assert [r["id"] for r in out] == [cid] and out[0]["phone"] == "13912345678"
    assert _reveals(isolated_env) == [(cid, "list --reveal")]


def test_an_exact_phone_match_stays_allowed_in_any_writing(crm, add) -> None:
    cid = add(phone="13912345678")
    add(phone="13812345678", name="另一家")
    for written in ("13912345678", "+86 139-1234-5678", "0086 139 1234 5678"):
        assert crm.ok("list", "--where", f"phone={written}", "-f", "ids").split() == [cid], written
    others = crm.ok("list", "--where", "phone!=+86 13912345678", "-f", "ids").split()
    assert cid not in others and len(others) == 1
    assert crm.ok("list", "--where", "phone=", "-f", "ids") == ""
    assert "139****5678" in crm.ok("list", "--where", "phone=13912345678")


def test_saved_views_and_list_follow_the_same_rule(crm, add) -> None:
    add(phone="13912345678")
    crm.ok("view", "save", "probe", "--where", "phone~139")
    result = crm("list", "--view", "probe")
    assert result.exit_code == 2 and "--reveal" in result.stderr
    assert len(crm.ok("list", "--view", "probe", "--reveal", "-f", "ids").split()) == 1


def test_search_finds_a_whole_phone_number_but_not_part_of_one(crm, add) -> None:
    cid = add(phone="13912345678", name="甲公司")
    add(phone="13812345678", name="乙公司")
    assert crm.ok("search", "13912345678", "-f", "ids").split() == [cid]
    assert crm.ok("search", "+86 139 1234 5678", "-f", "ids").split() == [cid]
    for part in ("1391", "12345678", "5678", "139123"):
        result = crm("search", part, "-f", "ids")
        assert result.exit_code == 0 and result.stdout == "", part
    assert crm.ok("list", "--text", "13912345678", "-f", "ids").split() == [cid]


def test_the_rule_lives_in_the_filters(isolated_env: Path) -> None:
    """One place (query.Filters) so that list, export, stale, reports and views all get it."""
    from crmcli import query
    from crmcli.errors import ValidationError
    from crmcli.storage import open_store

    with open_store(isolated_env) as store:
        query.columns(store.conn)
        filters = query.Filters(conditions=[("phone", "~", "139")])
        with pytest.raises(ValidationError) as info:
            filters.where()
        assert info.value.reason == "masked_partial"
        filters.reveal = True
        assert "LIKE" in filters.where()[0]


def test_sorting_by_the_masked_phone_needs_reveal(crm, add) -> None:
    """Probe customers of known numbers would bracket a hidden one in a phone-sorted listing."""
    add(phone="13912345678")
    add(phone="13950000000", name="探针")
    for args in (["list", "--sort", "phone"], ["list", "--sort", "-phone", "-f", "ids"], ["export", "--sort", "phone"]):
        result = crm(*args)
        assert result.exit_code == 2, args
        assert result.stdout == "" and "--reveal" in result.stderr
    assert len(crm.ok("list", "--sort", "phone", "--reveal", "-f", "ids").split()) == 2
    assert len(crm.ok("export", "--sort", "phone", "--reveal", "--format", "csv").splitlines()) == 3
