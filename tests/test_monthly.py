"""crm report monthly: XLSX (one sheet per section, real numbers and dates) or Markdown."""

from __future__ import annotations

import datetime
import sqlite3
import stat

import pytest

from tests.conftest import add_args

openpyxl = pytest.importorskip("openpyxl")

# name, industry, source, owner, first contact, amount
CUSTOMERS = [
    ('=HYPERLINK("http://x")', "retail", "online", "张经理", "2024-04-20", "10000"),
    ("乙公司", "manufacturing", "trade_show", "张经理", "2024-05-02", "25000.5"),
    ("丙公司", "retail", "referral", "李娜", "2024-05-18", None),
    ("丁公司", "finance", "online", "李娜", "2024-05-31", "3000"),
    ("戊公司", "retail", "online", "王磊", "2024-06-01", "99"),
    ("己公司", "it_internet", "cold_visit", "王磊", "2023-11-01", None),
]
# customer index, date, kind, satisfaction
FOLLOWUPS = [
    (0, "2024-05-03", "sales", None),
    (0, "2024-05-20", "service", 4),
    (1, "2024-05-05", "sales", None),
    (1, "2024-05-06", "service", 2),
    (3, "2024-05-31", "sales", None),
    (2, "2024-06-02", "service", 5),
    (0, "2024-04-25", "sales", None),
]
# customer index, new status, when (UTC)
CHANGES = [
    (0, "active", "2024-05-10T09:00:00Z"),
    (1, "intent", "2024-05-08T02:00:00Z"),
    (1, "active", "2024-05-30T10:00:00Z"),
    (2, "lost", "2024-05-25T08:00:00Z"),
    (3, "intent", "2024-06-01T01:00:00Z"),
]


@pytest.fixture
def month_data(crm, isolated_env):
    ids = []
    for name, industry, source, owner, first, amount in CUSTOMERS:
        ids.append(
            crm.ok(
                *add_args(name=name, industry=industry, source=source, owner=owner, first_contact=first, amount=amount)
            ).strip()
        )
    for i, status, _ in CHANGES:
        crm.ok("edit", ids[i], "--status", status)
    conn = sqlite3.connect(isolated_env)
    with conn:
        # Give each logged change the moment the test needs (the log is stamped with the real clock).
        for i, status, at in CHANGES:
            conn.execute(
                "UPDATE status_changes SET at = ? WHERE customer_id = ? AND to_status = ? AND from_status IS NOT NULL",
                (at, ids[i], status),
            )
        conn.executemany(
            "INSERT INTO followups (customer_id, date, content, kind, satisfaction, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(ids[i], day, "跟进", kind, sat, "2024-06-15T00:00:00Z") for i, day, kind, sat in FOLLOWUPS],
        )
    conn.close()
    return ids


def expected_summary() -> dict[str, object]:
    may = [c for c in CUSTOMERS if c[4].startswith("2024-05")]
    fu = [f for f in FOLLOWUPS if f[1].startswith("2024-05")]
    became_active = {i for i, s, at in CHANGES if s == "active" and at.startswith("2024-05")}
    scores = [f[3] for f in fu if f[2] == "service" and f[3] is not None]
    amount = sum(float(CUSTOMERS[i][5] or 0) for i in became_active)
    return {
        "customers": sum(1 for c in CUSTOMERS if c[4] <= "2024-05-31"),
        "new_customers": len(may),
        "followups": len(fu),
        "contacted": len({f[0] for f in fu}),
        "became_active": len(became_active),
        "active_amount": amount,
        "became_lost": sum(1 for _, s, at in CHANGES if s == "lost" and at.startswith("2024-05")),
        "service_followups": sum(1 for f in fu if f[2] == "service"),
        "avg_satisfaction": round(sum(scores) / len(scores), 2),
        # last contact before 2024-02-29 (31 May minus 3 months): only 己公司, first contacted 2023-11
        "stale_at_month_end": 1,
    }


def test_monthly_xlsx_one_sheet_per_section(crm, month_data, tmp_path):
    out = tmp_path / "may.xlsx"
    result = crm("report", "monthly", "--month", "2024-05", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [
        "Summary",
        "New customers",
        "Industries",
        "Funnel",
        "Sources",
        "Activity",
        "Service",
        "Status changes",
    ]
    summary = wb["Summary"]
    assert summary["A2"].value == "Metric"
    got = {row[0]: row[1] for row in summary.iter_rows(min_row=3, values_only=True)}
    want = expected_summary()
    labels = {
        "customers": "Customers (first contacted by month end)",
        "new_customers": "New customers (first contact in the month)",
        "followups": "Follow-ups",
        "contacted": "Customers contacted",
        "became_active": "Became active (合作中)",
        "active_amount": "Contract amount of those (CNY)",
        "became_lost": "Became lost (流失客户)",
        "service_followups": "Service follow-ups",
        "avg_satisfaction": "Average satisfaction (1-5)",
        "stale_at_month_end": "Stale at month end (3 months without contact)",
    }
    for key, label in labels.items():
        assert got[label] == pytest.approx(want[key]), key
        assert isinstance(got[label], (int, float))

    new = wb["New customers"]
    header = [c.value for c in new[2]]
    rows = [dict(zip(header, r)) for r in new.iter_rows(min_row=3, values_only=True)]
    assert [r["Customer name"] for r in rows] == ["乙公司", "丙公司", "丁公司"]
    assert rows[0]["First contact"] == datetime.datetime(2024, 5, 2)  # a real date cell
    assert new.cell(row=3, column=header.index("First contact") + 1).number_format == "yyyy-mm-dd"
    assert rows[0]["Contract amount (CNY)"] == pytest.approx(25000.5)
    assert rows[1]["Contract amount (CNY)"] is None

    changes = wb["Status changes"]
    header = [c.value for c in changes[2]]
    rows = [dict(zip(header, r)) for r in changes.iter_rows(min_row=3, values_only=True)]
    assert [(r["To"], r["Date"].date()) for r in rows] == [
        ("Intent", datetime.date(2024, 5, 8)),
        ("Active", datetime.date(2024, 5, 10)),
        ("Lost", datetime.date(2024, 5, 25)),
        ("Active", datetime.date(2024, 5, 30)),
    ]

    sources = wb["Sources"]
    header = [c.value for c in sources[2]]
    rows = {r[0]: dict(zip(header, r)) for r in sources.iter_rows(min_row=3, values_only=True)}
    assert rows["Online promotion"]["Customers"] == 1  # 丁公司 (the April one is not new in May)
    assert rows["Total"]["Customers"] == 3


def test_monthly_xlsx_never_writes_formulas(crm, month_data, tmp_path):
    out = tmp_path / "april.xlsx"
    crm.ok("report", "monthly", "--month", "2024-04", "-o", str(out))
    ws = openpyxl.load_workbook(out)["New customers"]
    cell = ws.cell(row=3, column=2)
    assert cell.value == CUSTOMERS[0][0] and cell.data_type == "s"


def test_monthly_markdown(crm, month_data, tmp_path):
    out = tmp_path / "may.md"
    crm.ok("report", "monthly", "--month", "2024-05", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Customer report for 2024-05")
    for heading in ("## Summary", "## New customers", "## Sales funnel", "## Status changes"):
        assert heading in text
    want = expected_summary()
    assert f"| Follow-ups | {want['followups']} |" in text
    assert f"| Average satisfaction (1-5) | {want['avg_satisfaction']:.2f} |" in text
    assert "| 乙公司 |" in text and "25,000.50" in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_monthly_defaults_to_last_month_on_stdout(crm, month_data):
    text = crm.ok("report", "monthly")
    assert text.startswith("# Customer report for 2024-05")  # CRM_TODAY is 2024-06-15


def test_monthly_chinese(crm, month_data, tmp_path):
    out = tmp_path / "五月.xlsx"
    crm.ok("--lang", "zh", "report", "monthly", "--month", "2024-05", "-o", str(out))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "概览" and "状态变更" in wb.sheetnames


def test_monthly_refuses_to_overwrite_and_bad_input(crm, month_data, tmp_path):
    out = tmp_path / "r.md"
    out.write_text("keep")
    result = crm("report", "monthly", "--month", "2024-05", "-o", str(out))
    assert result.exit_code == 4 and out.read_text() == "keep"
    crm.ok("report", "monthly", "--month", "2024-05", "-o", str(out), "--force")
    assert out.read_text().startswith("# Customer report")
    assert crm("report", "monthly", "--month", "2024-05", "-o", str(tmp_path / "r.pdf")).exit_code == 2
    assert crm("report", "monthly", "--month", "2024-13").exit_code == 2
    assert not list(tmp_path.glob(".crm-report-*"))
