"""crm options and crm config."""

from __future__ import annotations

import json

from .conftest import add_args


def test_seeded_lists_have_codes_and_both_labels(crm, empty_db):
    rows = json.loads(crm.ok("options", "list", "status", "--format", "json"))
    assert [(r["code"], r["label_zh"], r["label_en"]) for r in rows] == [
        ("potential", "潜在客户", "Potential"),
        ("intent", "意向客户", "Intent"),
        ("active", "合作中", "Active"),
        ("paused", "暂停合作", "Paused"),
        ("lost", "流失客户", "Lost"),
    ]
    everything = json.loads(crm.ok("options", "list", "--format", "json"))
    assert {r["field"] for r in everything} == {"industry", "type", "source", "status", "channel", "kind"}


def test_add_option_then_use_it_by_either_label(crm):
    crm.ok("options", "add", "industry", "logistics", "--zh", "物流", "--en", "Logistics")
    customer_id = crm.ok(*add_args(industry="物流")).strip()
    assert json.loads(crm.ok("show", customer_id, "--format", "json"))["industry"] == "logistics"


def test_add_option_refuses_bad_code_and_clashing_label(crm):
    assert crm("options", "add", "industry", "Bad Code", "--zh", "坏", "--en", "Bad").exit_code == 2
    clash = crm("options", "add", "industry", "retail2", "--zh", "零售业", "--en", "Retail 2")
    assert clash.exit_code == 4 and "retail" in clash.stderr
    assert crm("options", "add", "nofield", "x", "--zh", "x", "--en", "x").exit_code == 2


def test_rename_keeps_code_and_records(crm):
    customer_id = crm.ok(*add_args(industry="零售业")).strip()
    crm.ok("options", "rename", "industry", "retail", "--zh", "零售", "--en", "Retail trade")
    data = json.loads(crm.ok("show", customer_id, "--format", "json"))
    assert data["industry"] == "retail" and data["industry_label"] == "Retail trade"
    assert crm.ok(*add_args(industry="零售", phone="13900000000")).strip()


def test_retired_option_stays_on_old_records_but_not_new(crm):
    old = crm.ok(*add_args(source="主动拜访")).strip()
    crm.ok("options", "retire", "source", "cold_visit")
    refused = crm(*add_args(source="主动拜访", phone="13900000000"))
    assert refused.exit_code == 2 and "retired" in refused.stderr
    assert json.loads(crm.ok("show", old, "--format", "json"))["source"] == "cold_visit"
    crm.ok("edit", old, "--notes", "still editable")  # other fields of the old record can change
    assert crm.ok("list", "--source", "cold_visit", "--format", "ids").split() == [old]
    listed = json.loads(crm.ok("options", "list", "source", "--format", "json"))
    assert "cold_visit" not in [r["code"] for r in listed]
    crm.ok("options", "retire", "source", "cold_visit", "--undo")
    assert crm(*add_args(source="主动拜访", phone="13900000000")).exit_code == 0


def test_unknown_option_on_rename_is_not_found(crm):
    assert crm("options", "rename", "industry", "nothing", "--zh", "无").exit_code == 3


def test_config_id_prefix_changes_new_ids(crm, empty_db):
    assert crm.ok("config", "get", "id-prefix").strip() == "XS"
    crm.ok("config", "set", "id-prefix", "kh")
    assert crm.ok(*add_args()).strip().startswith("KH")
    assert crm("config", "set", "id-prefix", "K1").exit_code == 2
    assert crm("config", "set", "colour", "x").exit_code == 2


def test_config_user_is_default_owner(crm):
    crm.ok("config", "--user", "set", "user", "李娜")
    args = add_args(owner=None)
    customer_id = crm.ok(*args).strip()
    assert json.loads(crm.ok("show", customer_id, "--format", "json"))["owner"] == "李娜"
    assert "user = 李娜" in crm.ok("config", "--user", "list")
    assert "user" not in crm.ok("config", "list")  # per-person, not shared
