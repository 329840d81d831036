"""crm view save|list|delete and crm list --view."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def book(add):
    return {
        "a": add(name="甲公司", status="意向客户", owner="张经理", amount="5000", industry="制造业"),
        "b": add(
            name="乙公司", status="intent", owner="张经理", amount="120000", industry="retail", phone="13900000001"
        ),
        "c": add(name="丙公司", status="active", owner="李娜", amount="8000", industry="retail", phone="13900000002"),
        "d": add(name="丁公司", status="intent", owner="李娜", phone="13900000003"),
    }


def ids(crm, *args):
    return crm.ok("list", *args, "--format", "ids").split()


def test_saved_view_keeps_filter_sort_and_columns(crm, book):
    out = crm.ok(
        "view", "save", "hot", "--status", "意向客户", "--owner", "张经理", "--sort", "-amount", "-c", "id,name,amount"
    )
    assert "Saved view hot" in out
    assert ids(crm, "--view", "hot") == [book["b"], book["a"]]
    rows = json.loads(crm.ok("list", "--view", "hot", "--format", "json"))
    assert rows == [
        {"id": book["b"], "name": "乙公司", "amount": 120000},
        {"id": book["a"], "name": "甲公司", "amount": 5000},
    ]
    table = crm.ok("list", "--view", "hot")
    assert "Contract amount" in table and "Owner" not in table


def test_options_next_to_a_view_refine_it(crm, book):
    crm.ok("view", "save", "pipeline", "--status", "intent", "--sort", "-amount")
    assert ids(crm, "--view", "pipeline") == [book["b"], book["a"], book["d"]]  # empty amount last
    assert ids(crm, "--view", "pipeline", "--owner", "李娜") == [book["d"]]
    assert ids(crm, "--view", "pipeline", "--status", "active") == [book["c"]]  # replaces the view's status
    # 丁 < 乙 < 甲 in code point order
    assert ids(crm, "--view", "pipeline", "--sort", "name") == [book["d"], book["b"], book["a"]]
    assert ids(crm, "--view", "pipeline", "--where", "industry=retail") == [book["b"]]


def test_view_stores_codes_so_label_changes_do_not_break_it(crm, book):
    crm.ok("view", "save", "intent", "--status", "意向客户")
    saved = json.loads(crm.ok("view", "list", "--format", "json"))[0]
    assert saved["name"] == "intent" and saved["filters"]["choices"] == {"status": ["intent"]}
    crm.ok("options", "rename", "status", "intent", "--zh", "有意向", "--en", "Interested")
    assert ids(crm, "--view", "intent") == [book["a"], book["b"], book["d"]]


def test_view_with_custom_field_condition(crm, book):
    crm.ok(
        "fields",
        "add",
        "satisfaction",
        "--type",
        "integer",
        "--label-zh",
        "客户满意度评分",
        "--label-en",
        "Satisfaction",
    )
    crm.ok("edit", book["c"], "--set", "satisfaction=5")
    crm.ok("edit", book["a"], "--set", "satisfaction=2")
    crm.ok("view", "save", "happy", "--where", "satisfaction>=4", "-c", "id,satisfaction")
    assert json.loads(crm.ok("list", "--view", "happy", "--format", "json")) == [{"id": book["c"], "satisfaction": 5}]
    assert "satisfaction>=4" in crm.ok("view", "list")


def test_view_save_checks_before_storing(crm, book):
    assert crm("view", "save", "bad", "--status", "nope").exit_code == 2
    assert crm("view", "save", "bad", "--sort", "nope").exit_code == 2
    assert crm("view", "save", "bad", "-c", "nope").exit_code == 2
    assert crm("view", "save", "bad", "--where", "nope=1").exit_code == 2
    assert crm("view", "save", "bad name", "--status", "intent").exit_code == 2
    assert json.loads(crm.ok("view", "list", "--format", "json")) == []


def test_view_replace_list_delete(crm, book):
    crm.ok("view", "save", "mine", "--owner", "张经理")
    assert "Replaced view mine" in crm.ok("view", "save", "mine", "--owner", "李娜")
    assert ids(crm, "--view", "mine") == [book["c"], book["d"]]
    crm.ok("view", "save", "张经理的客户", "--owner", "张经理", "--limit", "1")
    assert ids(crm, "--view", "张经理的客户") == [book["a"]]
    names = [v["name"] for v in json.loads(crm.ok("view", "list", "--format", "json"))]
    assert names == sorted(["mine", "张经理的客户"])
    assert "owner=李娜" in crm.ok("view", "list")
    crm.ok("view", "delete", "mine")
    result = crm("list", "--view", "mine")
    assert result.exit_code == 3 and "张经理的客户" in result.stderr
    assert crm("view", "delete", "mine").exit_code == 3
