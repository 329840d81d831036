"""crm list filters, sorting, limits, formats; crm search."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture
def book(add):
    return {
        "a": add(name="甲公司", industry="制造业", status="意向客户", owner="张经理", amount="5000", first_contact="2024-01-10", grade="A", needs="采购办公设备"),
        "b": add(name="乙公司", industry="retail", status="active", owner="李娜", amount="120000", first_contact="2024-03-05", grade="B", phone="13900000001", needs="门店系统"),
        "c": add(name="丙公司", industry="IT/Internet", status="lost", owner="张经理", first_contact="2024-05-20", phone="13900000002", needs="网站建设", notes="价格敏感"),
    }


def ids(crm, *args):
    return crm.ok("list", *args, "--format", "ids").split()


def test_list_filters_by_dropdown_code_or_label(crm, book):
    assert ids(crm, "--status", "意向客户") == [book["a"]]
    assert ids(crm, "--status", "intent,active") == [book["a"], book["b"]]
    assert ids(crm, "--industry", "Retail") == [book["b"]]
    assert ids(crm, "--owner", "张经理") == [book["a"], book["c"]]
    assert ids(crm, "--grade", "a") == [book["a"]]


def test_list_unknown_filter_value_is_refused(crm, book):
    result = crm("list", "--status", "nope")
    assert result.exit_code == 2 and "allowed" in result.stderr


def test_list_date_and_amount_ranges(crm, book):
    assert ids(crm, "--first-contact-from", "2024/3/1") == [book["b"], book["c"]]
    assert ids(crm, "--first-contact-to", "2024年3月5日") == [book["a"], book["b"]]
    assert ids(crm, "--amount-min", "10,000") == [book["b"]]
    assert ids(crm, "--amount-max", "¥5000") == [book["a"]]


def test_list_sort_any_field_both_directions(crm, book):
    assert ids(crm, "--sort", "-amount") == [book["b"], book["a"], book["c"]]  # empty last
    assert ids(crm, "--sort", "amount") == [book["a"], book["b"], book["c"]]
    assert ids(crm, "--sort", "first_contact:desc") == [book["c"], book["b"], book["a"]]
    # status sorts in pipeline order: intent < active < lost
    assert ids(crm, "--sort", "-status") == [book["c"], book["b"], book["a"]]


def test_list_sort_unknown_field_refused(crm, book):
    result = crm("list", "--sort", "name; DROP TABLE customers")
    assert result.exit_code == 2
    assert len(ids(crm)) == 3


def test_list_limit(crm, book):
    assert len(ids(crm, "--limit", "2")) == 2


def test_list_json_shape(crm, book):
    rows = json.loads(crm.ok("list", "--format", "json"))
    assert [r["id"] for r in rows] == list(book.values())
    first = rows[0]
    assert first["industry"] == "manufacturing" and first["industry_label"] == "Manufacturing"
    assert first["amount"] == 5000 and isinstance(first["amount"], int)
    assert first["phone"] == "138****5678"
    assert first["archived"] is False
    expected = {"id", "name", "industry", "type", "contact", "title", "phone", "email", "address", "source", "needs",
                "first_contact", "last_followup", "owner", "followup", "next_step", "status", "product", "amount",
                "notes", "grade", "created_at", "updated_at"}
    assert expected <= set(first)


def test_list_json_empty_is_empty_array(crm, empty_db):
    assert crm.ok("list", "--format", "json").strip() == "[]"


def test_list_jsonl_csv_tsv(crm, book):
    lines = crm.ok("list", "--format", "jsonl").splitlines()
    assert [json.loads(line)["id"] for line in lines] == list(book.values())
    rows = list(csv.DictReader(io.StringIO(crm.ok("list", "--format", "csv"))))
    assert rows[0]["id"] == book["a"] and rows[0]["industry"] == "manufacturing" and rows[0]["name"] == "甲公司"
    tsv = crm.ok("list", "--format", "tsv").splitlines()
    assert tsv[0].split("\t")[0] == "id"


def test_list_columns(crm, book):
    rows = list(csv.DictReader(io.StringIO(crm.ok("list", "--format", "csv", "--columns", "id,name,amount"))))
    assert list(rows[0]) == ["id", "name", "amount"]
    bad = crm("list", "--columns", "id,secret")
    assert bad.exit_code == 2


def test_list_reveal_shows_full_phone(crm, book):
    assert "13812345678" in crm.ok("list", "--format", "csv", "--reveal")
    assert "13812345678" not in crm.ok("list", "--format", "csv")


def test_list_table_plain_when_not_a_tty(crm, book):
    out = crm.ok("list")
    assert "\x1b[" not in out
    assert "甲公司" in out and "Manufacturing" in out
    header = out.splitlines()[0]
    assert "Customer ID" in header


def test_list_table_columns_align_with_cjk(crm, book):
    from rich.cells import cell_len

    lines = [line for line in crm.ok("list", "--columns", "name,owner").splitlines() if "公司" in line]
    owner_starts = {cell_len(line[: line.index(owner)]) for line in lines for owner in ("张经理", "李娜") if owner in line}
    assert len(owner_starts) == 1


def test_list_table_default_limit_says_how_many_hidden(crm, add):
    for i in range(3):
        add(name=f"公司{i}", phone=f"1390000000{i}")
    result = crm("list", "--limit", "2")
    assert result.exit_code == 0
    assert "2 of 3" in result.stderr


def test_search_finds_two_character_chinese_word(crm, book):
    assert crm.ok("search", "采购", "--format", "ids").split() == [book["a"]]
    assert crm.ok("search", "价格", "--format", "ids").split() == [book["c"]]
    assert crm.ok("search", "乙公", "--format", "ids").split() == [book["b"]]


def test_search_treats_wildcards_literally(crm, book):
    assert crm.ok("search", "%", "--format", "ids").split() == []
    assert crm.ok("search", "_", "--format", "ids").split() == []


def test_search_empty_text_refused(crm):
    assert crm("search", "  ").exit_code == 2


def test_list_text_filter(crm, book):
    assert ids(crm, "--text", "门店") == [book["b"]]
