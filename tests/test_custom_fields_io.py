"""crm import / crm export with custom fields: headers by key or label, values checked by type like
crm add, export -> import equality, update without blanking, undo, and retired fields."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from crmcli import custom_fields, customers, importing
from crmcli import fields as field_registry
from crmcli.options import OptionSet
from crmcli.storage import open_store

CUSTOM = ("satisfaction", "repurchase", "tier", "renewal", "wechat_id")
BASE_KEYS = ["name", "contact", "phone", "source", "needs", "owner", "first_contact", "status"]
BASE_ZH = ["客户名称", "联系人姓名*", "联系方式*", "客户来源*", "需求描述*", "跟进人*", "首次接触时间*", "合作状态*"]


def add_fields(crm) -> None:
    crm.ok("fields", "add", "satisfaction", "--type", "integer", "--label-zh", "客户满意度评分",
           "--label-en", "Satisfaction score")  # fmt: skip
    crm.ok("fields", "add", "repurchase", "--type", "decimal", "--label-zh", "复购率", "--label-en", "Repurchase rate")
    crm.ok("fields", "add", "tier", "--type", "choice", "--label-zh", "会员等级", "--label-en", "Tier",
           "--choices", "gold:金牌:Gold,silver:银牌:Silver")  # fmt: skip
    crm.ok("fields", "add", "renewal", "--type", "date", "--label-zh", "续约日期", "--label-en", "Renewal date")
    crm.ok("fields", "add", "wechat_id", "--type", "text", "--label-zh", "微信号", "--label-en", "WeChat ID")


@pytest.fixture(autouse=True)
def _forget_custom_fields():
    yield
    field_registry.set_custom(())  # the registry is process-wide: leave no custom field to other tests


@pytest.fixture
def existing(crm, add) -> str:
    """A customer created before the custom fields existed; then the fields are added."""
    cid = add(name="老客户", notes="keep me")
    add_fields(crm)
    return cid


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def base_row(n: int) -> list[str]:
    return [f"客户{n}有限公司", "王强", f"139{n:08d}", "行业展会", "采购办公设备", "张经理", "2024-05-03", "意向客户"]


def show(crm, cid: str) -> dict:
    return crm.json("show", cid, "--reveal")


def custom_values(crm, cid: str) -> dict:
    rec = show(crm, cid)
    return {k: rec[k] for k in CUSTOM}


def table(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_import_matches_custom_headers_by_key_and_by_either_label(crm, existing, tmp_path: Path) -> None:
    by_key = write_csv(
        tmp_path / "keys.csv",
        ["id", *BASE_KEYS, *CUSTOM],
        [["KH1", *base_row(1), "4", "1,234.5", "金牌", "2025年1月5日", "wx_one"]],
    )
    summary = json.loads(crm.ok("import", str(by_key), "--format", "json"))
    assert summary["added"] == 1 and summary["ignored_columns"] == []
    assert custom_values(crm, "KH1") == {
        "satisfaction": 4, "repurchase": 1234.5, "tier": "gold", "renewal": "2025-01-05", "wechat_id": "wx_one",
    }  # fmt: skip

    zh_header = ["客户编号", *BASE_ZH, "客户满意度评分", "复购率", "会员等级", "续约日期", "微信号"]
    by_label = write_csv(
        tmp_path / "zh.csv",
        zh_header,
        [
            ["KH2", *base_row(2), "２", "-0.25", "Silver", "2025/2/3", "wx two"],
            ["KH3", *base_row(3), "", "", "silver", "", ""],
            ["KH4", *base_row(4), "0", ".5", "银牌", "2025-12-31", ""],
        ],
    )
    summary = json.loads(crm.ok("import", str(by_label), "--format", "json"))
    assert summary["added"] == 3
    assert custom_values(crm, "KH2") == {
        "satisfaction": 2, "repurchase": -0.25, "tier": "silver", "renewal": "2025-02-03", "wechat_id": "wx two",
    }  # fmt: skip
    assert custom_values(crm, "KH3") == {
        "satisfaction": None, "repurchase": None, "tier": "silver", "renewal": None, "wechat_id": None,
    }  # fmt: skip
    assert custom_values(crm, "KH4")["satisfaction"] == 0 and custom_values(crm, "KH4")["repurchase"] == 0.5

    # English labels and --map to a custom field work too; the older customer is untouched
    by_en = write_csv(
        tmp_path / "en.csv",
        ["Customer ID", *BASE_KEYS, "Satisfaction score", "Tier", "WeChat"],
        [["KH5", *base_row(5), "5", "gold", "wx5"]],
    )
    crm.ok("import", str(by_en), "--map", "WeChat=微信号", "--set", "renewal=2026-01-01")
    assert custom_values(crm, "KH5") == {
        "satisfaction": 5, "repurchase": None, "tier": "gold", "renewal": "2026-01-01", "wechat_id": "wx5",
    }  # fmt: skip
    assert custom_values(crm, existing) == dict.fromkeys(CUSTOM)


def test_invalid_custom_values_are_rejected_with_row_field_and_value(crm, existing, isolated_env, tmp_path) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        ["id", *BASE_KEYS, *CUSTOM],
        [
            ["KH1", *base_row(1), "4", "0.5", "gold", "2025-01-05", "fine"],
            ["KH2", *base_row(2), "4.5", "abc", "bronze", "2024-13-01", "x" * 2001],
            ["KH3", *base_row(3), "1e3", "1.2.3", "", "", ""],
            ["KH4", *base_row(4), "10000000000000000", "1000000000000000", "", "", ""],
        ],
    )
    result = crm("import", str(path), "--format", "json")
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    got = {(e["line"], e["field"], e["value"], e["reason"]) for e in summary["errors"]}
    assert got == {
        (3, "satisfaction", "4.5", "int_format"),
        (3, "repurchase", "abc", "decimal_format"),
        (3, "tier", "bronze", "option_unknown"),
        (3, "renewal", "2024-13-01", next(e["reason"] for e in summary["errors"] if e["field"] == "renewal")),
        (3, "wechat_id", "x" * 39 + "…", "too_long"),  # quoted values are cut (the rejects file keeps them)
        (4, "satisfaction", "1e3", "int_format"),
        (4, "repurchase", "1.2.3", "decimal_format"),
        (5, "satisfaction", "10000000000000000", "int_range"),
        (5, "repurchase", "1000000000000000", "decimal_format"),
    }
    # the messages read like crm add's: field, value, reason
    assert "tier 'bronze'" in result.stderr and "gold (金牌/Gold)" in result.stderr
    assert table(isolated_env, "SELECT count(*) FROM customers") == [(1,)]  # all or nothing

    summary = json.loads(crm.ok("import", str(path), "--skip-invalid", "--format", "json"))
    assert (summary["added"], summary["rejected"]) == (1, 3)
    assert custom_values(crm, "KH1")["repurchase"] == 0.5


SAMPLES = {
    "satisfaction": [
        "4",
        " 4 ",
        "０７",
        "-3",
        "+2",
        "1,234",
        "4.5",
        "abc",
        "1e3",
        "999999999999999",
        "10000000000000000",
    ],
    "repurchase": [
        "0.35",
        "1,234.5",
        "-0.25",
        ".5",
        "３.５",
        "abc",
        "1e-5",
        "1.",
        "999999999999999.9",
        "1000000000000000",
    ],
    "tier": ["gold", "Gold", "金牌", " SILVER ", "bronze", ""],
    "renewal": ["2025-01-05", "2025/1/5", "2025年1月5日", "2024-13-01", "3/5/2024", "13/5/2024"],
    "wechat_id": ["wx", "  padded  ", "=1+1", "未知", "x" * 2000, "x" * 2001],
}


def outcome(func, value):
    try:
        return ("ok", func(value))
    except Exception as exc:  # noqa: BLE001 - comparing outcomes
        return ("error", getattr(exc, "reason", type(exc).__name__), getattr(exc, "field", None))


def test_import_converters_for_custom_fields_agree_with_clean_value(crm, existing, isolated_env) -> None:
    crm.ok("options", "add", "tier", "bronze", "--zh", "铜牌", "--en", "Bronze")
    crm.ok("options", "retire", "tier", "bronze")
    with open_store(isolated_env) as store:
        customers.columns(store.conn)
        options = OptionSet.load(store.conn)
        for key, values in SAMPLES.items():
            convert = importing.customer_converter(key, options)
            for value in values:
                expected = outcome(lambda v, k=key: customers.clean_value(k, v, options), value)
                assert outcome(convert, value) == expected, (key, value)
        # a retired field: refused like clean_value, or (for the import's unchanged check) read like
        # clean_value(allow_retired=True)
        crm.ok("fields", "retire", "tier")
        custom_fields.load(store.conn)
        options = OptionSet.load(store.conn)
        for value in ("gold", "bronze", "铜牌", "nope"):
            for allow in (False, True):
                convert = importing.customer_converter("tier", options, allow_retired=allow)
                expected = outcome(lambda v, a=allow: customers.clean_value("tier", v, options, allow_retired=a), value)
                assert outcome(convert, value) == expected, (value, allow)


def populate(crm, add) -> list[str]:
    """Customers with custom values that are easy to get wrong in a round trip."""
    first = add(name="老客户", phone="+86 138 1234 5678", notes="=SUM(A1)")
    add_fields(crm)
    crm.ok("edit", first, "--set", "satisfaction=-3", "--set", "repurchase=0.00001", "--set", "tier=gold",
           "--set", "renewal=2025-01-05", "--set", "wechat_id=+86 007")  # fmt: skip
    second = add(name="华信科技", phone="010-12345678", status="lost")
    crm.ok("edit", second, "--set", "satisfaction=999999999999999", "--set", "repurchase=0.30000000000000004",
           "--set", "tier=silver", "--set", "wechat_id==1+1", "--set", "renewal=1999-12-31")  # fmt: skip
    third = add(name="Acme", contact="Jo", phone="13900000003")
    crm.ok("edit", third, "--set", "repurchase=1,234,567.125", "--set", "satisfaction=0", "--set", "wechat_id=007")
    fourth = add(name="空白", phone="13900000004")  # no custom values at all
    crm.ok("archive", third)
    return [first, second, third, fourth]


def all_columns(db: Path) -> list[str]:
    return [r[1] for r in table(db, "PRAGMA table_info(customers)") if r[1] != "batch_id"]


@pytest.mark.parametrize(
    ("fmt", "lang"), [("csv", "en"), ("tsv", "en"), ("xlsx", "en"), ("xlsx", "zh"), ("json", "en"), ("jsonl", "zh")]
)
def test_export_then_import_into_an_empty_database_reproduces_custom_values(
    crm, add, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, lang: str
) -> None:
    ids = populate(crm, add)
    out = tmp_path / f"customers.{fmt}"
    crm.ok("--lang", lang, "export", "--all", "--reveal", "--out", str(out))
    cols = all_columns(isolated_env)
    assert cols[-5:] == list(CUSTOM)
    select = f"SELECT {', '.join(cols)} FROM customers ORDER BY id"
    before = table(isolated_env, select)

    other = tmp_path / "empty.db"
    monkeypatch.setenv("CRM_DB", str(other))
    add_fields(crm)
    summary = json.loads(crm.ok("import", str(out), "--format", "json"))
    assert summary["added"] == 4
    assert all(name.endswith("_label") for name in summary["ignored_columns"])  # JSON: KEY_label beside the code
    assert ("tier_label" in summary["ignored_columns"]) == fmt.startswith("json")
    after = table(other, select)
    assert after == before
    assert custom_values(crm, ids[0])["repurchase"] == 0.00001
    assert custom_values(crm, ids[1])["repurchase"] == 0.30000000000000004
    assert custom_values(crm, ids[3]) == dict.fromkeys(CUSTOM)
    # and a second import of the same file changes nothing
    again = json.loads(crm.ok("import", str(out), "--on-duplicate", "update", "--format", "json"))
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_export_columns_headers_and_choice_values(crm, add, tmp_path: Path) -> None:
    ids = populate(crm, add)
    # CSV: keys, codes, custom columns after the built-in ones, decimals in full, formulas neutralised
    rows = list(csv.reader(crm.ok("export", "--reveal").splitlines()))
    header = rows[0]
    assert header[-5:] == list(CUSTOM) and header[-7:-5] == ["version", "tags"]
    first = dict(zip(header, rows[1]))
    assert (
        first["tier"] == "gold" and first["repurchase"] == "0.00001" and first["satisfaction"] == "-3"
    )  # a number, not neutralised
    assert first["wechat_id"] == "'+86 007" and first["renewal"] == "2025-01-05"
    assert dict(zip(header, rows[2]))["wechat_id"] == "'=1+1"
    assert rows[3][header.index("tier")] == "" and len(rows) == 4  # the archived one left out
    # labels and headers per language
    rows = list(csv.reader(crm.ok("--lang", "zh", "export", "--headers", "zh", "--labels").splitlines()))
    assert rows[0][-5:] == ["客户满意度评分", "复购率", "会员等级", "续约日期", "微信号"]
    assert rows[1][-3] == "金牌" and rows[2][-3] == "银牌"
    rows = list(csv.reader(crm.ok("export", "--headers", "en", "--excel").lstrip("\ufeff").splitlines()))
    assert rows[0][-5:] == ["Satisfaction score", "Repurchase rate", "Tier", "Renewal date", "WeChat ID"]
    assert rows[1][-3] == "Gold"
    # JSON: the custom keys after the built-in ones, a choice field with its KEY_label like industry
    data = json.loads(crm.ok("--lang", "zh", "export", "--format", "json", "--all"))
    assert list(data[0])[-6:] == ["satisfaction", "repurchase", "tier", "tier_label", "renewal", "wechat_id"]
    assert list(data[0]).index("archived_at") < list(data[0]).index("satisfaction")
    assert data[0]["tier"] == "gold" and data[0]["tier_label"] == "金牌" and data[0]["repurchase"] == 0.00001
    assert data[0]["satisfaction"] == -3 and data[3]["tier"] is None and data[3]["tier_label"] is None
    assert {r["id"] for r in data} == set(ids)


def test_xlsx_custom_cells_are_typed(crm, add, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    populate(crm, add)
    out = tmp_path / "c.xlsx"
    crm.ok("--lang", "zh", "export", "--reveal", "--all", "--out", str(out))
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[-5:] == ["客户满意度评分", "复购率", "会员等级", "续约日期", "微信号"]
    col = {name: i for i, name in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2))
    first, second, third = rows[0], rows[1], rows[2]
    assert first[col["客户满意度评分"]].value == -3 and first[col["客户满意度评分"]].data_type == "n"
    assert isinstance(first[col["复购率"]].value, float) and first[col["复购率"]].value == 0.00001
    assert second[col["客户满意度评分"]].value == 999999999999999
    assert third[col["复购率"]].value == 1234567.125 and third[col["复购率"]].number_format == "General"
    assert first[col["续约日期"]].value == dt.datetime(2025, 1, 5)
    assert first[col["续约日期"]].number_format == "yyyy-mm-dd"
    assert first[col["会员等级"]].value == "金牌" and second[col["会员等级"]].value == "银牌"
    for cell in (first[col["微信号"]], second[col["微信号"]], third[col["微信号"]]):
        assert cell.data_type == "s"  # text stays text: no formula, no number
    assert (second[col["微信号"]].value, third[col["微信号"]].value) == ("=1+1", "007")


def test_update_never_blanks_custom_columns_and_undo_reverts_them(crm, existing, isolated_env, tmp_path) -> None:
    crm.ok("edit", existing, "--set", "satisfaction=3", "--set", "tier=gold", "--set", "repurchase=0.5",
           "--set", "wechat_id=old_wx")  # fmt: skip
    path = write_csv(
        tmp_path / "upd.csv",
        ["id", "satisfaction", "tier", "repurchase", "notes"],
        [[existing, "5", "", "0.75", ""]],
    )
    summary = json.loads(crm.ok("import", str(path), "--on-duplicate", "update", "--format", "json"))
    assert summary["updated"] == 1
    rec = show(crm, existing)
    assert (rec["satisfaction"], rec["repurchase"]) == (5, 0.75)
    assert (rec["tier"], rec["wechat_id"], rec["notes"]) == ("gold", "old_wx", "keep me")  # never blanked
    changed = table(
        isolated_env, f"SELECT field, old, new FROM audit_log WHERE batch_id = {summary['batch']} ORDER BY field"
    )
    assert changed == [("repurchase", "0.5", "0.75"), ("satisfaction", "3", "5")]
    # a file with the same values again: nothing to change
    again = json.loads(crm.ok("import", str(path), "--on-duplicate", "update", "--format", "json"))
    assert (again["updated"], again["unchanged"]) == (0, 1)

    crm.ok("import", "undo", str(summary["batch"]), "--yes")
    rec = show(crm, existing)
    assert (rec["satisfaction"], rec["repurchase"], rec["tier"]) == (3, 0.5, "gold")

    # undo of an import that added customers with custom values removes them
    added = write_csv(tmp_path / "add.csv", ["id", *BASE_KEYS, "tier"], [["KH9", *base_row(9), "银牌"]])
    batch = json.loads(crm.ok("import", str(added), "--format", "json"))["batch"]
    assert show(crm, "KH9")["tier"] == "silver"
    crm.ok("import", "undo", str(batch), "--yes")
    assert [r["id"] for r in crm.json("list")] == [existing]


def test_retired_field_is_still_exported_but_takes_no_new_values(crm, existing, tmp_path: Path) -> None:
    crm.ok("edit", existing, "--set", "satisfaction=4", "--set", "tier=gold")
    crm.ok("fields", "retire", "satisfaction")
    crm.ok("fields", "retire", "tier")
    out = tmp_path / "c.csv"
    crm.ok("export", "--reveal", "--out", str(out))
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["satisfaction"] == "4" and rows[0]["tier"] == "gold"
    data = json.loads(crm.ok("export", "--format", "json"))
    assert data[0]["satisfaction"] == 4 and data[0]["tier_label"] == "Gold"

    # re-importing the unchanged export over the same records is fine
    summary = json.loads(crm.ok("import", str(out), "--on-duplicate", "update", "--format", "json"))
    assert (summary["updated"], summary["unchanged"]) == (0, 1)
    # a new value for an existing customer is refused, so is any value for a new customer
    path = write_csv(
        tmp_path / "new.csv",
        ["id", *BASE_KEYS, "satisfaction", "会员等级"],
        [[existing, *base_row(1), "5", "gold"], ["KH2", *base_row(2), "", "silver"], ["KH3", *base_row(3), "", ""]],
    )
    result = crm("import", str(path), "--on-duplicate", "update", "--format", "json")
    assert result.exit_code == 2 and "retired" in result.stderr
    errors = {(e["line"], e["field"], e["reason"]) for e in json.loads(result.stdout)["errors"]}
    assert errors == {(2, "satisfaction", "field_retired"), (3, "tier", "field_retired")}
    assert show(crm, existing)["satisfaction"] == 4
    result = crm("import", str(path), "--set", "satisfaction=1")
    assert result.exit_code == 2 and "retired" in result.stderr
    # the other columns of a row still import once the retired column is left out
    summary = json.loads(
        crm.ok("import", str(path), "--map", "satisfaction=-", "--map", "会员等级=-", "--format", "json")
    )
    assert summary["added"] == 2 and show(crm, "KH2")["tier"] is None
