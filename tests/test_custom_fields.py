"""crm fields: custom fields added after data exists work like built-in ones (add/edit --set,
validation by type, list --where/--sort/--columns, show, JSON, pivot) and retiring keeps values."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import add_args


@pytest.fixture
def fields(crm):
    crm.ok(
        "fields",
        "add",
        "satisfaction",
        "--type",
        "integer",
        "--label-zh",
        "客户满意度评分",
        "--label-en",
        "Satisfaction score",
    )
    crm.ok("fields", "add", "repurchase", "--type", "decimal", "--label-zh", "复购率", "--label-en", "Repurchase rate")
    crm.ok("fields", "add", "tier", "--type", "choice", "--label-zh", "会员等级", "--label-en", "Tier",
           "--choices", "gold:金牌:Gold,silver:银牌:Silver")  # fmt: skip
    crm.ok("fields", "add", "renewal", "--type", "date", "--label-zh", "续约日期", "--label-en", "Renewal date")
    crm.ok("fields", "add", "wechat_id", "--type", "text", "--label-zh", "微信号", "--label-en", "WeChat ID")


def show(crm, cid):
    return json.loads(crm.ok("show", cid, "--format", "json"))


def test_field_added_after_data_exists_round_trips(crm, add, fields, isolated_env):
    before = add(name="老客户", owner="张经理")  # created before the fields existed
    assert {
        k: show(crm, before)[k] for k in ("satisfaction", "repurchase", "tier", "renewal", "wechat_id")
    } == dict.fromkeys(("satisfaction", "repurchase", "tier", "renewal", "wechat_id"))
    crm.ok("edit", before, "--set", "satisfaction=4", "--set", "repurchase=0.35", "--set", "tier=金牌",
           "--set", "renewal=2025年1月5日", "--set", "wechat_id=wx_laoke")  # fmt: skip
    new = crm.ok(
        *add_args(name="新客户", owner="李娜"),
        "--set",
        "satisfaction=２",
        "--set",
        "tier=Silver",
        "--set",
        "repurchase=1,234.5",
    ).strip()

    old_rec, new_rec = show(crm, before), show(crm, new)
    assert old_rec["satisfaction"] == 4 and old_rec["repurchase"] == 0.35
    assert old_rec["tier"] == "gold" and old_rec["tier_label"] == "Gold"
    assert old_rec["renewal"] == "2025-01-05" and old_rec["wechat_id"] == "wx_laoke"
    assert new_rec["satisfaction"] == 2 and new_rec["tier"] == "silver" and new_rec["repurchase"] == 1234.5

    # real, typed columns that sqlite3 / Datasette users see under the key
    conn = sqlite3.connect(isolated_env)
    cols = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(customers)")}
    assert cols["satisfaction"] == "INTEGER" and cols["repurchase"] == "REAL" and cols["tier"] == "TEXT"
    assert conn.execute("SELECT satisfaction, tier FROM customers WHERE id = ?", (before,)).fetchone() == (4, "gold")
    conn.close()

    # list: filter, sort, columns, JSON
    ids = lambda *a: crm.ok("list", *a, "--format", "ids").split()  # noqa: E731
    assert ids("--where", "satisfaction>=3") == [before]
    assert ids("--where", "satisfaction<=3") == [new]
    assert ids("--where", "tier=银牌") == [new]
    assert ids("--where", "tier=gold,silver") == [before, new]
    assert ids("--where", "renewal>=2025-01-01") == [before]
    assert ids("--where", "renewal=") == [new]
    assert ids("--where", "wechat_id~laoke") == [before]
    assert ids("--sort", "-satisfaction") == [before, new]
    assert ids("--sort", "-tier") == [new, before]  # choice order: gold, silver
    rows = json.loads(crm.ok("list", "-c", "id,satisfaction,tier", "--format", "json"))
    assert rows == [
        {"id": before, "satisfaction": 4, "tier": "gold", "tier_label": "Gold"},
        {"id": new, "satisfaction": 2, "tier": "silver", "tier_label": "Silver"},
    ]
    table = crm.ok("list", "-c", "id,tier,satisfaction")
    assert "Tier" in table and "Satisfaction score" in table and "Silver" in table
    assert "客户满意度评分" in crm.ok("--lang", "zh", "show", before)

    # reports: a choice field is a dimension, a number field can be summed
    pivot = json.loads(crm.ok("report", "pivot", "tier", "--format", "json"))
    assert [(r["tier"], r["label"], r["count"]) for r in pivot] == [
        ("gold", "Gold", 1),
        ("silver", "Silver", 1),
        (None, "Total", 2),
    ]
    summed = json.loads(crm.ok("report", "pivot", "owner", "--sum", "satisfaction", "--format", "json"))
    assert {r["owner"]: r["satisfaction"] for r in summed} == {"张经理": 4, "李娜": 2, None: 6}
    cross = json.loads(crm.ok("report", "pivot", "tier", "owner", "--format", "json"))
    assert cross[0]["张经理"] == 1 and cross[-1]["total"] == 2


@pytest.mark.parametrize(
    ("assignment", "reason"),
    [
        ("satisfaction=abc", "whole number"),
        ("satisfaction=4.5", "whole number"),
        ("repurchase=abc", "number"),
        ("renewal=2024-13-01", ""),
        ("tier=bronze", "allowed"),
        ("wechat_id=" + "x" * 2001, "longer"),
    ],
)
def test_values_are_validated_by_type(crm, add, fields, assignment, reason):
    cid = add()
    result = crm("edit", cid, "--set", assignment)
    assert result.exit_code == 2
    assert assignment.split("=")[0] in result.stderr and reason in result.stderr
    result = crm(*add_args(name="另一个"), "--set", assignment)
    assert result.exit_code == 2


def test_choice_field_has_its_own_option_list(crm, add, fields):
    listed = json.loads(crm.ok("options", "list", "tier", "--format", "json"))
    assert [o["code"] for o in listed] == ["gold", "silver"]
    crm.ok("options", "add", "tier", "bronze", "--zh", "铜牌", "--en", "Bronze")
    cid = add()
    crm.ok("edit", cid, "--set", "tier=铜牌")
    assert show(crm, cid)["tier"] == "bronze"
    # a choice field needs options; options only for choice fields
    assert crm("fields", "add", "level", "--type", "choice", "--label-zh", "级别", "--label-en", "Level").exit_code == 2
    assert (
        crm(
            "fields",
            "add",
            "level",
            "--type",
            "text",
            "--label-zh",
            "级别",
            "--label-en",
            "Level",
            "--choices",
            "a:甲:A",
        ).exit_code
        == 2
    )


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("Bad", 2),
        ("x", 2),
        ("1abc", 2),
        ("a" * 32, 2),
        ("has-dash", 2),
        ("name", 4),  # a built-in field
        ("phone_key", 4),  # a bookkeeping column of customers
        ("batch_id", 4),
        ("label", 2),  # reserved: report rows use it
        ("null", 2),  # SQL keywords
        ("in", 2),
        ("primary", 2),
        ("industry_label", 2),  # the JSON label key of a dropdown
        ("satisfaction", 4),  # already a custom field
    ],
)
def test_keys_are_checked_strictly(crm, fields, key, code):
    result = crm("fields", "add", key, "--type", "text", "--label-zh", "某字段", "--label-en", "Some field")
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr


def test_labels_must_not_name_another_field(crm, fields):
    for zh, en in (("客户名称", "Something"), ("某字段", "Customer name"), ("复购率", "Other"), ("某字段", "tier")):
        assert crm("fields", "add", "other_field", "--type", "text", "--label-zh", zh, "--label-en", en).exit_code == 4
    assert crm("fields", "rename", "tier", "--label-en", "Repurchase rate").exit_code == 4


def test_retiring_keeps_old_values_readable(crm, add, fields):
    cid = add()
    crm.ok("edit", cid, "--set", "satisfaction=5", "--set", "tier=gold")
    crm.ok("fields", "retire", "satisfaction")
    crm.ok("fields", "retire", "tier")
    # readable everywhere
    rec = show(crm, cid)
    assert rec["satisfaction"] == 5 and rec["tier_label"] == "Gold"
    assert crm.ok("list", "--where", "satisfaction=5", "--format", "ids").split() == [cid]
    assert json.loads(crm.ok("report", "pivot", "tier", "--format", "json"))[0]["count"] == 1
    assert "Satisfaction score" in crm.ok("show", cid)
    # but no new values
    result = crm("edit", cid, "--set", "satisfaction=3")
    assert result.exit_code == 2 and "retired" in result.stderr
    assert crm("edit", cid, "--set", "satisfaction=").exit_code == 2
    assert crm(*add_args(name="新"), "--set", "tier=silver").exit_code == 2
    # other edits of the record still work
    crm.ok("edit", cid, "--notes", "still fine")
    listed = {f["key"]: f for f in json.loads(crm.ok("fields", "list", "--format", "json"))}
    assert listed["satisfaction"]["retired"] is True and listed["repurchase"]["retired"] is False
    assert "satisfaction" not in {
        f["key"] for f in json.loads(crm.ok("fields", "list", "--no-retired", "--format", "json"))
    }
    crm.ok("fields", "retire", "satisfaction", "--restore")
    crm.ok("edit", cid, "--set", "satisfaction=3")
    assert show(crm, cid)["satisfaction"] == 3


def test_rename_changes_labels_only(crm, add, fields):
    cid = add()
    crm.ok("edit", cid, "--set", "satisfaction=4")
    crm.ok("fields", "rename", "satisfaction", "--label-zh", "满意度", "--label-en", "CSAT")
    assert "CSAT" in crm.ok("show", cid) and "满意度" in crm.ok("--lang", "zh", "show", cid)
    assert show(crm, cid)["satisfaction"] == 4
    assert crm("fields", "rename", "nope", "--label-en", "X").exit_code == 3
    assert crm("fields", "rename", "satisfaction").exit_code == 2


def test_fields_list_formats(crm, fields):
    rows = json.loads(crm.ok("fields", "list", "--format", "json"))
    assert [(r["key"], r["type"]) for r in rows] == [
        ("satisfaction", "integer"), ("repurchase", "decimal"), ("tier", "choice"), ("renewal", "date"), ("wechat_id", "text"),
    ]  # fmt: skip
    assert rows[2]["options"] == 2 and rows[2]["label_zh"] == "会员等级"
    assert "会员等级" in crm.ok("fields", "list")


def test_custom_fields_belong_to_their_database(crm, add, fields, tmp_path):
    other = str(tmp_path / "other.db")
    crm.ok("--db", other, *add_args(name="别处"))
    rec = json.loads(crm.ok("--db", other, "list", "--format", "json"))[0]
    assert "satisfaction" not in rec
    assert crm("--db", other, "list", "--where", "satisfaction=1").exit_code == 2
    cid = add()
    assert "satisfaction" in show(crm, cid)


def test_library_sees_custom_fields_without_the_cli(crm, add, fields, isolated_env):
    from crmcli import customers, options
    from crmcli import fields as field_registry
    from crmcli.storage import open_store

    cid = add()
    crm.ok("edit", cid, "--set", "tier=gold")
    field_registry.set_custom(())  # as if another database had been loaded last
    with open_store(isolated_env) as store:
        assert customers.get(store.conn, cid)["tier"] == "gold"
        ctx = customers.Context.load(store, "add")
        rec = customers.add(
            store,
            {**{k.lstrip("-"): v for k, v in zip(add_args()[2::2], add_args()[3::2])}, "tier": "silver"},
            ctx,
            options.load(store),
        )
        assert rec["tier"] == "silver"


@pytest.mark.parametrize("key", ["null", "in", "primary", "select", "true", "key", "total", "status_label"])
def test_reserved_words_are_refused_up_front_and_change_nothing(crm, isolated_env, key):
    import sqlite3

    from crmcli.storage import open_store

    open_store(isolated_env).close()
    before = sqlite3.connect(isolated_env).execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    result = crm("fields", "add", key, "--type", "integer", "--label-zh", "某字段", "--label-en", "Some field")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == f"Error: '{key}' is a reserved word; choose another key"
    after = sqlite3.connect(isolated_env).execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    assert after == before
    zh = crm("--lang", "zh", "fields", "add", key, "--type", "text", "--label-zh", "某字段", "--label-en", "Some")
    assert zh.exit_code == 2 and "保留字" in zh.stderr


@pytest.mark.parametrize(
    ("key", "code"), [("customer_name", 4), ("contract_amount_cny", 4), ("contact_title", 4), ("first_contact_date", 0)]
)
def test_a_key_must_not_be_a_built_in_header_spelling(crm, key, code):
    result = crm("fields", "add", key, "--type", "text", "--label-zh", "某字段", "--label-en", "Some field")
    assert result.exit_code == code, result.stderr
    if code:
        assert "import header" in result.stderr


def test_a_key_must_not_be_another_custom_fields_label(crm):
    crm.ok("fields", "add", "tier", "--type", "text", "--label-zh", "会员等级", "--label-en", "Member tier")
    result = crm("fields", "add", "member_tier", "--type", "text", "--label-zh", "某字段", "--label-en", "Some")
    assert result.exit_code == 4 and "'tier'" in result.stderr
