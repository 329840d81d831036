"""crm import: header variants, validation like crm add, atomicity, skip mode, duplicates, undo."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from crmcli import customers, importing
from crmcli.options import OptionSet
from crmcli.seed_options import SEED_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
HEADER_ZH = [
    "客户编号",
    "客户名称",
    "所属行业",
    "客户类型",
    "联系人姓名*",
    "联系人职位",
    "联系方式*",
    "电子邮箱",
    "客户地址",
    "客户来源*",
    "需求描述*",
    "首次接触时间*",
    "最近跟进时间",
    "跟进人*",
    "跟进内容",
    "下一步计划",
    "合作状态*",
    "合作产品/服务",
    "合同金额（元）",
    "备注",
]


def seed_row(n: int, **over: str) -> list[str]:
    row = {
        "id": f"XS2024{n:03d}",
        "name": f"上海明达制造有限公司{n}",
        "industry": "制造业",
        "type": "企业客户",
        "contact": "王强",
        "title": "采购经理",
        "phone": f"138{n:08d}",
        "email": f"wq{n}@example.com",
        "address": "上海市浦东新区",
        "source": "行业展会",
        "needs": "采购办公设备",
        "first_contact": "2024-05-03",
        "last_followup": "2024/6/1",
        "owner": "张经理",
        "followup": "报价已发送",
        "next_step": "3天内电话确认",
        "status": "意向客户",
        "product": "办公设备",
        "amount": "¥12,000.50",
        "notes": "",
    }
    row.update(over)
    return list(row.values())


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header or HEADER_ZH)
        writer.writerows(rows)
    return path


def db_rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def count(db: Path, table: str = "customers") -> int:
    return db_rows(db, f"SELECT count(*) FROM {table}")[0][0]


def test_seed_layout_imports_with_codes_and_a_followup(crm, isolated_env: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [seed_row(1), seed_row(2, phone="+86 010 1234 5678", amount="")])
    out = crm.ok("import", str(path), "--format", "json")
    summary = json.loads(out)
    assert summary["added"] == 2 and summary["followups"] == 2 and summary["rejected"] == 0
    rec = crm.json("show", "XS2024001", "--reveal")
    assert rec["industry"] == "manufacturing" and rec["status"] == "intent" and rec["source"] == "trade_show"
    assert rec["phone"] == "13800000001" and rec["amount"] == 12000.5 and rec["last_followup"] == "2024-06-01"
    assert crm.json("show", "XS2024002", "--reveal")["phone"] == "010-12345678"
    assert db_rows(isolated_env, "SELECT customer_id, date, content, next_step, batch_id FROM followups ORDER BY id")[
        0
    ] == (
        "XS2024001",
        "2024-06-01",
        "报价已发送",
        "3天内电话确认",
        summary["batch"],
    )
    # audited and with a first status entry, like crm add
    assert count(isolated_env, "audit_log") >= 2
    assert db_rows(isolated_env, "SELECT to_status FROM status_changes WHERE customer_id = 'XS2024001'") == [
        ("intent",)
    ]


@pytest.mark.parametrize(
    "header",
    [
        ["name", "contact", "phone", "source", "needs", "first_contact", "owner", "status"],  # keys
        ["客户名称", "联系人姓名*", "联系方式 *", "客户来源＊", "需求描述", "首次接触时间 *", " 跟进人* ", "合作状态"],
        ["Customer name", "Contact name", "Phone", "Source", "Needs", "First contact", "OWNER", "status"],
        ["customer-name", "Contact_Name", "phone", "--source", "needs", "first-contact", "owner", "Status"],
    ],
)
def test_header_variants(crm, tmp_path: Path, header: list[str]) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [["明达", "王强", "13812345678", "online", "设备", "2024-05-03", "张经理", "潜在客户"]],
        header,
    )
    crm.ok("import", str(path))
    assert crm.json("list")[0]["name"] == "明达"


def test_full_width_bracket_amount_header(crm, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [seed_row(1, amount="1.5万")])
    crm.ok("import", str(path))
    assert crm.json("show", "XS2024001")["amount"] == 15000


def test_unknown_columns_are_reported_or_explicitly_ignored(crm, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [[*seed_row(1), "x"]], [*HEADER_ZH, "微信号"])
    result = crm("import", str(path))
    assert result.exit_code == 2
    assert "微信号" in result.stderr and "--ignore-unknown" in result.stderr
    result = crm("import", str(path), "--ignore-unknown")
    assert result.exit_code == 0, result.stderr
    assert "ignored columns: 微信号" in result.stderr
    path2 = write_csv(tmp_path / "in2.csv", [[*seed_row(2), "x"]], [*HEADER_ZH, "微信号"])
    result = crm("import", str(path2), "--map", "微信号=notes")
    assert result.exit_code == 2 and "both map to notes" in result.stderr
    crm.ok("import", str(path2), "--map", "微信号=notes", "--map", "备注=-")
    assert crm.json("show", "XS2024002")["notes"] == "x"


def test_set_defaults_and_map_for_a_foreign_file(crm, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [["Acme", "Jo Li", "(406) 714-6467 x58947", "24/08/2020"], ["Beta", "Al", "+1-813-324-8756", "2/6/20"]],
        ["Company", "Person", "Tel", "Since"],
    )
    args = [
        "import",
        str(path),
        "--map",
        "Company=name",
        "--map",
        "Person=contact",
        "--map",
        "Tel=phone",
        "--map",
        "Since=首次接触时间",
        "--set",
        "owner=张经理",
        "--set",
        "source=online",
        "--set",
        "status=potential",
        "--set",
        "needs=qualify",
        "--phone-region",
        "US",  # (406) 714-6467 is a US number written as Americans write it
    ]
    result = crm(*args)
    assert result.exit_code == 2
    assert "row 3: first_contact '2/6/20': ambiguous date" in result.stderr
    crm.ok(*args, "--dayfirst")
    got = {r["name"]: r for r in crm.json("list", "--reveal")}
    assert got["Acme"]["phone"] == "+1 406-714-6467 ext. 58947" and got["Acme"]["first_contact"] == "2020-08-24"
    assert got["Beta"]["first_contact"] == "2020-06-02" and got["Beta"]["owner"] == "张经理"


def test_atomic_failure_at_the_last_row_writes_nothing(crm, isolated_env: Path, tmp_path: Path) -> None:
    rows = [seed_row(n) for n in range(1, 50)] + [seed_row(50, phone="12345", status="未知", email="bad@")]
    path = write_csv(tmp_path / "in.csv", rows)
    result = crm("import", str(path), "--format", "json")
    assert result.exit_code == 2
    assert "row 51: phone '12345'" in result.stderr
    assert "row 51: status (" not in result.stderr and "row 51: status '未知'" in result.stderr
    assert "row 51: email 'bad@'" in result.stderr
    summary = json.loads(result.stdout)
    assert (
        summary["ok"] is False
        and summary["rejected"] == 1
        and {e["field"] for e in summary["errors"]} == {"phone", "status", "email"}
    )
    assert (
        count(isolated_env) == 0
        and count(isolated_env, "followups") == 0
        and count(isolated_env, "import_batches") == 0
    )


def test_messages_match_crm_add(crm, tmp_path: Path, monkeypatch) -> None:
    from crmcli.cli.common import describe_error

    monkeypatch.setenv("CRM_USER", "o")  # no "no user name" note in the messages compared

    path = write_csv(tmp_path / "in.csv", [seed_row(1, phone="12345678901")])
    result = crm("import", str(path))
    add = crm(
        "add",
        "--name",
        "x",
        "--contact",
        "y",
        "--phone",
        "12345678901",
        "--source",
        "online",
        "--needs",
        "n",
        "--owner",
        "o",
    )
    assert add.exit_code == 2
    added_msg = add.stderr.strip().removeprefix("Error: ")
    assert f"row 2: {added_msg}" in result.stderr
    assert describe_error  # the CLI renders both through describe_error


def test_skip_invalid_writes_rejects_with_reasons(crm, isolated_env: Path, tmp_path: Path) -> None:
    rows = [seed_row(1), seed_row(2, first_contact="2024-13-01"), seed_row(3), seed_row(4, name="待补充")]
    path = write_csv(tmp_path / "in.csv", rows)
    rejects = tmp_path / "rejects.csv"
    out = crm.ok("import", str(path), "--skip-invalid", "--rejects", str(rejects), "--format", "json")
    summary = json.loads(out)
    assert (summary["added"], summary["rejected"]) == (2, 2)
    assert (rejects.stat().st_mode & 0o777) == 0o600
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0][-2:] == ["line", "reason"]
    assert [r[-2] for r in got[1:]] == ["3", "5"]
    assert "first_contact '2024-13-01'" in got[1][-1] and "placeholder" in got[2][-1]
    assert got[1][:20] == rows[1]
    assert count(isolated_env) == 2


def test_missing_required_fields_are_reported_per_row(crm, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["明达", "13812345678"]], ["name", "phone"])
    result = crm("import", str(path))
    assert result.exit_code == 2
    for key in ("contact", "source", "needs"):
        assert f"row 2: {key}: is required" in result.stderr
    for key in ("first_contact", "owner", "status"):  # crm add's defaults apply (test_import_mapping.py)
        assert f"row 2: {key}:" not in result.stderr


def test_reimport_is_idempotent(crm, isolated_env: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [seed_row(n) for n in range(1, 6)])
    crm.ok("import", str(path))
    before = db_rows(isolated_env, "SELECT * FROM customers ORDER BY id")
    logs = count(isolated_env, "audit_log"), count(isolated_env, "followups"), count(isolated_env, "status_changes")
    summary = json.loads(crm.ok("import", str(path), "--format", "json"))
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 0, 5)
    summary = json.loads(crm.ok("import", str(path), "--on-duplicate", "update", "--format", "json"))
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 0, 5)
    assert db_rows(isolated_env, "SELECT * FROM customers ORDER BY id") == before
    assert (
        count(isolated_env, "audit_log"),
        count(isolated_env, "followups"),
        count(isolated_env, "status_changes"),
    ) == logs


def test_rows_without_id_match_by_phone_then_email_and_get_generated_ids(crm, tmp_path: Path) -> None:
    header = ["name", "contact", "phone", "email", "source", "needs", "first_contact", "owner", "status"]
    base = ["A", "王", "13812345678", "a@x.com", "online", "n", "2024-05-03", "张", "潜在客户"]
    path = write_csv(
        tmp_path / "in.csv",
        [base, [*base[:2], "+86 138-1234-5678", *base[3:]], [*base[:2], "13900000000", "a@x.com", *base[4:]]],
        header,
    )
    summary = json.loads(crm.ok("import", str(path), "--format", "json"))
    assert (summary["added"], summary["unchanged"]) == (1, 2)
    ids = [r["id"] for r in crm.json("list")]
    assert len(ids) == 1 and ids[0].startswith("XS") and len(ids[0]) == 9
    result = crm("import", str(path), "--on-duplicate", "error")
    assert result.exit_code == 4
    assert "duplicates customer" in result.stderr


def test_update_changes_only_the_columns_the_file_has(crm, add, tmp_path: Path) -> None:
    cid = add(notes="keep me", amount="5000", grade="A")
    path = write_csv(tmp_path / "in.csv", [[cid, "合作中", "", "新备注"]], ["id", "status", "amount", "notes"])
    summary = json.loads(crm.ok("import", str(path), "--on-duplicate", "update", "--format", "json"))
    assert summary["updated"] == 1
    rec = crm.json("show", cid)
    assert rec["status"] == "active" and rec["notes"] == "新备注"
    assert rec["amount"] == 5000 and rec["grade"] == "A" and rec["needs"] == "采购办公设备"  # never blanked
    assert rec["version"] == 2


def test_undo_removes_added_and_reverts_updated(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    cid = add(notes="old")
    path = write_csv(
        tmp_path / "in.csv",
        [[cid, "new", "", "", "", "", ""], ["XS2024500", "added", "王", "13812340000", "online", "n", "张"]],
        ["id", "notes", "contact", "phone", "source", "needs", "owner"],
    )
    result = crm(
        "import",
        str(path),
        "--on-duplicate",
        "update",
        "--set",
        "first_contact=2024-01-02",
        "--set",
        "status=potential",
        "--format",
        "json",
    )
    assert result.exit_code == 2  # the new row lacks a name
    path = write_csv(
        tmp_path / "in.csv",
        [
            [cid, "new", "", "", "", "", "", ""],
            ["XS2024500", "added", "王", "13812340000", "online", "n", "张", "Added Co"],
        ],
        ["id", "notes", "contact", "phone", "source", "needs", "owner", "name"],
    )
    summary = json.loads(
        crm.ok(
            "import",
            str(path),
            "--on-duplicate",
            "update",
            "--set",
            "first_contact=2024-01-02",
            "--set",
            "status=potential",
            "--format",
            "json",
        )
    )
    assert (summary["added"], summary["updated"]) == (1, 1)
    batches = json.loads(crm.ok("import", "batches", "--format", "json"))
    assert batches[0]["id"] == summary["batch"] and batches[0]["added"] == 1
    crm.ok("import", "undo", str(summary["batch"]), "--yes")
    assert [r["id"] for r in crm.json("list")] == [cid]
    assert crm.json("show", cid)["notes"] == "old"
    assert db_rows(isolated_env, "SELECT count(*) FROM status_changes WHERE customer_id = 'XS2024500'") == [(0,)]
    again = crm("import", "undo", str(summary["batch"]), "--yes")
    assert again.exit_code == 4 and "already undone" in again.stderr
    assert crm("import", "undo", "999", "--yes").exit_code == 3


def test_undo_refuses_when_records_changed_since(crm, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [seed_row(1)])
    batch = json.loads(crm.ok("import", str(path), "--format", "json"))["batch"]
    crm.ok("edit", "XS2024001", "--notes", "edited later")
    result = crm("import", "undo", str(batch), "--yes")
    assert result.exit_code == 4 and "XS2024001" in result.stderr
    assert len(crm.json("list")) == 1
    crm.ok("import", "undo", str(batch), "--force", "--yes")
    assert crm.json("list") == []


def test_dry_run_writes_nothing(crm, isolated_env: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [seed_row(1), seed_row(2)])
    summary = json.loads(crm.ok("import", str(path), "--dry-run", "--format", "json"))
    assert summary["dry_run"] is True and summary["added"] == 2 and summary["batch"] is None
    assert count(isolated_env) == 0 and count(isolated_env, "import_batches") == 0


def test_stdin_import_in_gbk(crm, tmp_path: Path) -> None:
    data = "\n".join(",".join(r) for r in [HEADER_ZH, seed_row(1, amount="12000"), seed_row(2, amount="")]).encode(
        "gbk"
    )
    result = crm.runner.invoke(
        __import__("crmcli.cli", fromlist=["app"]).app, ["import", "-", "--format", "json"], input=data
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["encoding"] == "gb18030" and summary["added"] == 2 and summary["source"] == "-"
    assert crm.json("show", "XS2024001")["contact"] == "王强"


def test_stdin_jsonl_is_sniffed(crm) -> None:
    line = {
        "name": "明达",
        "contact": "王强",
        "phone": "13812345678",
        "source": "online",
        "needs": "n",
        "first_contact": "2024-05-03",
        "owner": "张",
        "status": "potential",
    }
    crm.ok("import", "-", input=json.dumps(line, ensure_ascii=False) + "\n")
    assert crm.json("list")[0]["name"] == "明达"


def test_xlsx_written_by_openpyxl_with_date_and_number_cells(crm, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "客户编号",
            "客户名称",
            "联系人姓名*",
            "联系方式*",
            "客户来源*",
            "需求描述*",
            "首次接触时间*",
            "最近跟进时间",
            "跟进人*",
            "合作状态*",
            "合同金额（元）",
        ]
    )
    ws.append(
        [
            "XS2024001",
            "明达",
            "王强",
            13812345678,
            "线上推广",
            "设备",
            dt.datetime(2024, 5, 3),
            45444,
            "张经理",
            "合作中",
            12000.5,
        ]
    )
    ws.append(
        [
            "XS2024002",
            "华信",
            "李",
            1.3912345678e10,
            "online",
            "设备",
            dt.date(2024, 1, 31),
            None,
            "张经理",
            "potential",
            30000,
        ]
    )
    path = tmp_path / "in.xlsx"
    wb.save(path)
    crm.ok("import", str(path))
    one = crm.json("show", "XS2024001", "--reveal")
    assert one["phone"] == "13812345678" and one["first_contact"] == "2024-05-03"
    assert one["last_followup"] == "2024-06-01"  # Excel serial 45444 in the 1900 system
    assert one["amount"] == 12000.5
    two = crm.json("show", "XS2024002", "--reveal")
    assert two["phone"] == "13912345678" and two["amount"] == 30000 and two["first_contact"] == "2024-01-31"


def test_xlsx_1904_date_system(crm, tmp_path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["name", "contact", "phone", "source", "needs", "first_contact", "owner", "status"])
    ws.append(["明达", "王", "13812345678", "online", "n", 43982, "张", "potential"])  # 43982 + 1904 epoch
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    crm.ok("import", str(path))
    assert crm.json("list")[0]["first_contact"] == "2024-06-01"


def test_shared_sample_files_import_with_the_mapping_file(crm, isolated_env: Path, tmp_path: Path) -> None:
    data = ROOT.parent / "shared" / "data"
    if not data.exists():
        pytest.skip("the shared sample files are not present")
    mapping = ROOT / "mappings" / "customers-100.toml"
    args = ["--mapping", str(mapping), "--set", "owner=张经理", "--set", "source=online", "--set", "status=potential",
            "--phone-region", "US"]  # North-American numbers without +1
    result = crm("import", str(data / "customers-100-ddmmyyyy.csv"), *args)
    assert result.exit_code == 2 and "row 93: phone '-1692'" in result.stderr  # all-or-nothing by default
    rejects = tmp_path / "rejects.csv"
    summary = json.loads(
        crm.ok(
            "import",
            str(data / "customers-100-ddmmyyyy.csv"),
            *args,
            "--skip-invalid",
            "--rejects",
            str(rejects),
            "--format",
            "json",
        )
    )
    # The sample's numbers are generated: most have an unassigned area code (496), an exchange
    # starting 0 or 1 (229.077.5154) or dial 001, which is not how the US dials out. libphonenumber
    # refuses them; the fragments (-1199) were refused before too.
    assert (summary["added"], summary["unchanged"], summary["rejected"]) == (30, 0, 72)
    assert {4, 93, 98, 102} <= {e["line"] for e in summary["errors"]}
    assert {e["field"] for e in summary["errors"]} == {"phone"}
    rec = crm.json("show", "7Ce381e4Afa4ba9", "--reveal")  # no company: named after the person
    assert rec["name"] == "Gabriel Mejia" and rec["first_contact"] == "2021-04-24"
    assert rec["phone"] == "+1 407-724-5425"
    # the same customers re-saved with D/M/YY dates: all known already
    summary = json.loads(
        crm.ok("import", str(data / "customers-100-dmyy.csv"), *args, "--skip-invalid", "--format", "json")
    )
    assert (summary["added"], summary["unchanged"], summary["rejected"]) == (0, 30, 70)
    one = crm.json("show", "1Ef7b82A4CAAD10", "--reveal")
    assert one["phone"] == "+1 515-343-5776" and one["first_contact"] == "2021-04-23" and one["contact"] == "Preston Lozano"
    assert "686-620-1820x944" in one["notes"] and one["address"] == "East Jimmychester, Djibouti"


# ------------------------------------------------------------------ converters agree with crm add

OPTIONS = OptionSet(
    [
        __import__("crmcli.options", fromlist=["Option"]).Option(field, code, zh, en, pos, False)
        for field, rows in SEED_OPTIONS.items()
        for pos, (code, zh, en) in enumerate(rows)
    ]
)
SAMPLES = {
    "name": [
        "明达",
        "  明达 ",
        "未知",
        "unknown",
        "u n k n o w n",
        "---",
        "xxxx",
        "ｘｘｘ",
        "上海明达制造有限公司上海明达",
        "N/A",
        "x" * 101,
        "待补充",
    ],
    "contact": ["王强", "未知", "TBD", "n/a", "王"],
    "needs": ["采购办公设备", "待补充", "？？", "…", "需要\u200b\u200b未知"],
    "phone": [
        "13812345678",
        "138 1234 5678",
        "+8613812345678",
        "12345678901",
        "-1692",
        "138****5678",
        "(496)978-3969x58947",
        "１３８１２３４５６７８",
    ],
    "email": ["a@B.COM", "A.b+c@x.y.CN", "bad@", "a@b.c", "a@例子.公司", "ａ@b.com", "a@-b.com", "a" * 65 + "@b.com"],
    "amount": [
        "12000",
        "12000.5",
        "12000.50",
        "12000.505",
        "007",
        "10000000000000",
        "10000000000000.01",
        "¥1",
        "1.5万",
        "-1",
    ],
    "id": ["XS2024001", " XS2024001 ", "bad id", "a" * 33, "DD37Cf93aecA6Dc"],
    "first_contact": ["2024-05-03", "2024/5/3", "2024-02-30", "1899-01-01", "3/5/2024", "13/5/2024"],
    "status": ["合作中", "active", "Active", "未知", "nope"],
    "title": ["采购经理", "", "x" * 51],
    "notes": ["任何", "x" * 2001],
}


def outcome(func, value):
    try:
        return ("ok", func(value))
    except Exception as exc:  # noqa: BLE001 - comparing outcomes
        return ("error", getattr(exc, "reason", type(exc).__name__), getattr(exc, "field", None))


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in SAMPLES.items() for v in vs])
def test_import_converters_agree_with_clean_value(key: str, value: str) -> None:
    convert = importing.customer_converter(key, OPTIONS)
    assert outcome(convert, value) == outcome(lambda v: customers.clean_value(key, v, OPTIONS), value)
