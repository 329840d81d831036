"""crm export: formats, masking, 0600 files, formula neutralising, and export -> import equality."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from crmcli.exporting import neutralise


def table(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def populated(crm, add) -> list[str]:
    ids = [
        add(phone="+86 138 1234 5678", notes='=HYPERLINK("http://evil")', amount="12000.5", grade="B"),
        add(
            name="华信科技",
            phone="010-12345678",
            notes="-5 discount",
            needs="@all: ERP",
            status="lost",
            first_contact="2024-01-31",
            industry="零售业",
        ),
        add(name="Acme", contact="Jo", phone="+1 406-714-6467 x58947", email="jo@acme.com", title="\tCEO", type="机构"),
    ]
    crm.ok("log", ids[0], "报价已发送", "--next", "3天内电话确认", "--date", "2024-06-01")
    crm.ok("log", ids[0], "+1 电话沟通", "--date", "2024-06-10")
    crm.ok("log", ids[1], "拜访", "--date", "2024-05-20", "--channel", "拜访", "--satisfaction", "4", "--result", "=ok")
    crm.ok("archive", ids[2])
    return ids


def test_csv_neutralises_formulas_and_masks_phones(crm, populated: list[str], tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    crm.ok("export", "--out", str(out))
    assert (out.stat().st_mode & 0o777) == 0o600
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first = rows[0]
    assert first["notes"] == '\'=HYPERLINK("http://evil")'
    assert first["phone"] == "138****5678"
    assert rows[1]["notes"] == "'-5 discount" and rows[1]["needs"] == "'@all: ERP"
    assert first["amount"] == "12000.50" and rows[1]["industry"] == "retail" and len(rows) == 2  # archived left out


def test_neutralise() -> None:
    assert [neutralise(v) for v in ("=1", "+86", "-1", "@a", "\tx", "\rx", "a=1", "")] == [
        "'=1",
        "'+86",
        "'-1",
        "'@a",
        "'\tx",
        "'\rx",
        "a=1",
        "",
    ]


def test_formula_round_trip_through_csv(
    crm, populated: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "c.csv"
    crm.ok("export", "--reveal", "--out", str(out))
    monkeypatch.setenv("CRM_DB", str(tmp_path / "other.db"))
    crm.ok("import", str(out))
    rec = crm.json("show", populated[0], "--reveal")
    assert rec["notes"] == '=HYPERLINK("http://evil")' and rec["phone"] == "13812345678"
    assert crm.json("show", populated[1])["notes"] == "-5 discount"


def test_masked_export_cannot_be_reimported(
    crm, populated: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "masked.csv"
    crm.ok("export", "--out", str(out))
    monkeypatch.setenv("CRM_DB", str(tmp_path / "other.db"))
    result = crm("import", str(out))
    assert result.exit_code == 2 and "masked phone" in result.stderr


def test_reveal_is_audited(crm, populated: list[str], isolated_env: Path, tmp_path: Path) -> None:
    crm.ok("export", "--reveal", "--out", str(tmp_path / "x.jsonl"))
    got = table(isolated_env, "SELECT count(*) FROM audit_log WHERE command = 'export --reveal' AND new = 'revealed'")
    assert got == [(2,)]  # the two current customers: the export's filter


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "xlsx"])
def test_export_then_import_into_an_empty_database_is_exact(
    crm, populated: list[str], isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    customers_file = tmp_path / f"customers.{fmt}"
    followups_file = tmp_path / f"followups.{fmt}"
    crm.ok("export", "--all", "--reveal", "--out", str(customers_file))
    crm.ok("export", "--all", "--followups", "--out", str(followups_file))
    before_c = table(isolated_env, "SELECT * FROM customers ORDER BY id")
    before_f = table(
        isolated_env,
        "SELECT id, customer_id, date, content, result, next_step, next_date, channel, kind, satisfaction, by, created_at FROM followups ORDER BY id",
    )
    other = tmp_path / "empty.db"
    monkeypatch.setenv("CRM_DB", str(other))
    crm.ok("import", str(customers_file))
    crm.ok("import", str(followups_file))
    after_c = table(other, "SELECT * FROM customers ORDER BY id")
    after_f = table(
        other,
        "SELECT id, customer_id, date, content, result, next_step, next_date, channel, kind, satisfaction, by, created_at FROM followups ORDER BY id",
    )
    # every column but the batch that brought the row in
    assert [r[:-1] for r in after_c] == [r[:-1] for r in before_c]
    assert after_f == before_f
    assert len(after_f) == 3


def test_xlsx_export_cells(crm, populated: list[str], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "c.xlsx"
    crm.ok("--lang", "zh", "export", "--reveal", "--out", str(out))
    assert (out.stat().st_mode & 0o777) == 0o600
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["客户编号", "客户名称", "所属行业"]
    col = {name: i for i, name in enumerate(header)}
    first, lost = list(ws.iter_rows(min_row=2, max_row=2))[0], list(ws.iter_rows(min_row=3, max_row=3))[0]
    assert first[col["联系方式"]].value == "13812345678" and first[col["联系方式"]].data_type == "s"
    assert first[col["备注"]].value.startswith("=HYPERLINK") and first[col["备注"]].data_type == "s"
    assert isinstance(first[col["首次接触时间"]].value, dt.datetime)
    assert first[col["合同金额(元)"]].value == 12000.5
    assert lost[col["合作状态"]].value == "流失客户"
    assert lost[0].fill.start_color.rgb.endswith("FFC7CE")
    assert first[0].fill.fill_type is None


def test_excel_csv_has_bom_labels_and_headers(crm, populated: list[str], tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    crm.ok("--lang", "zh", "export", "--excel", "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["客户编号", "客户名称"] and "流失客户" in rows[2]


def test_json_export_is_streamed_to_stdout_with_the_list_filters(crm, populated: list[str]) -> None:
    data = json.loads(crm.ok("export", "--format", "json", "--status", "流失客户"))
    assert data[0]["archived"] is False
    assert [r["id"] for r in data] == [populated[1]]
    assert data[0]["status"] == "lost" and data[0]["status_label"] == "Lost" and "*" in data[0]["phone"]
    lines = crm.ok("export", "--format", "jsonl", "--followups").splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["customer_id"] == populated[0]


def test_export_file_mode_even_over_an_existing_file(crm, populated: list[str], tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    out.write_text("old")
    os.chmod(out, 0o644)
    result = crm("export", "--out", str(out))
    assert result.exit_code == 4 and str(out) in result.stderr and "--force" in result.stderr
    assert out.read_text() == "old"  # refused: nothing overwritten
    crm.ok("export", "--out", str(out), "--force")
    assert (out.stat().st_mode & 0o777) == 0o600
