"""crm report pivot / funnel / sources / activity / service, each checked against numbers the test
computes itself from the data it entered (customers through `crm add`/`crm edit`, follow-ups as
plain rows in the documented `followups` table)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter, defaultdict
from datetime import date

import pytest

from tests.conftest import add_args

# name, industry, source, owner, status path (first = when added, then each `crm edit --status`),
# amount (yuan or None), grade, first contact
CUSTOMERS = [
    ("甲", "manufacturing", "trade_show", "张经理", ["potential", "intent", "active"], "120000", "A", "2024-01-10"),
    ("乙", "manufacturing", "online", "张经理", ["potential"], None, "C", "2024-01-22"),
    ("丙", "retail", "referral", "李娜", ["intent", "active", "paused"], "50000.5", "B", "2024-02-03"),
    ("丁", "retail", "referral", "李娜", ["potential", "lost"], None, "B", "2024-02-14"),
    ("戊", "it_internet", "online", "王磊", ["active"], "8000", "A", "2024-03-01"),
    ("己", "it_internet", "trade_show", "张经理", ["potential", "intent"], "15000", None, "2024-03-30"),
    ("庚", "finance", "cold_visit", "王磊", ["intent", "lost"], None, "C", "2024-04-11"),
    ("辛", None, "online", "李娜", ["potential", "intent", "active"], "30000", "A", "2024-05-06"),
    ("壬", "retail", "trade_show", "王磊", ["potential"], None, None, "2024-05-20"),
    ("癸", "manufacturing", "referral", "张经理", ["intent"], "2000", "B", "2024-06-01"),
]
LABELS_EN = {
    "manufacturing": "Manufacturing",
    "retail": "Retail",
    "it_internet": "IT/Internet",
    "finance": "Finance",
    "potential": "Potential",
    "intent": "Intent",
    "active": "Active",
    "paused": "Paused",
    "lost": "Lost",
}
# customer index, date, kind, satisfaction
FOLLOWUPS = [
    (0, "2024-01-15", "sales", None),
    (0, "2024-02-20", "sales", None),
    (0, "2024-05-03", "service", 5),
    (0, "2024-06-10", "service", 4),
    (2, "2024-02-10", "sales", None),
    (2, "2024-04-02", "service", 2),
    (2, "2024-04-20", "service", None),
    (3, "2024-02-20", "sales", None),
    (4, "2024-05-28", "service", 3),
    (4, "2024-06-03", "sales", None),
    (5, "2024-04-05", "sales", None),
    (7, "2024-05-10", "sales", None),
    (7, "2024-05-30", "service", 1),
    (7, "2024-06-12", "service", 5),
    (9, "2024-06-02", "marketing", None),
    (1, "2023-12-20", "sales", None),  # before the first contact, outside every window
]
TODAY = date(2024, 6, 15)  # CRM_TODAY in conftest
LEVEL = {"potential": 0, "intent": 1, "active": 2, "paused": 2, "lost": 0}


@pytest.fixture
def data(crm, isolated_env):
    ids = []
    for name, industry, source, owner, path, amount, grade, first in CUSTOMERS:
        args = add_args(
            name=name,
            industry=industry,
            source=source,
            owner=owner,
            status=path[0],
            amount=amount,
            grade=grade,
            first_contact=first,
        )
        ids.append(crm.ok(*args).strip())
        for status in path[1:]:
            crm.ok("edit", ids[-1], "--status", status)
    conn = sqlite3.connect(isolated_env)
    with conn:
        conn.executemany(
            "INSERT INTO followups (customer_id, date, content, kind, satisfaction, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(ids[i], day, "跟进", kind, sat, "2024-06-15T00:00:00Z") for i, day, kind, sat in FOLLOWUPS],
        )
    conn.close()
    return ids


def report(crm, *args):
    return json.loads(crm.ok("report", *args, "--format", "json"))


def without_total(rows, key):
    assert rows[-1][key] is None and rows[-1]["label"] == "Total"
    return rows[:-1]


def yuan(text):
    return float(text) if text else 0.0


# ----------------------------------------------------------------------------- pivot


def test_pivot_by_industry_counts_and_shape(crm, data):
    rows = report(crm, "pivot", "industry")
    expected = Counter(c[1] or "" for c in CUSTOMERS)
    body = without_total(rows, "industry")
    assert {r["industry"]: r["count"] for r in body} == expected
    # dropdown order of the option list, empty value last
    assert [r["industry"] for r in body] == ["manufacturing", "retail", "it_internet", "finance", ""]
    assert body[1] == {"industry": "retail", "label": "Retail", "count": 3, "share": round(3 / 10, 4)}
    assert rows[-1]["count"] == len(CUSTOMERS) and rows[-1]["share"] == 1.0


def test_pivot_sum_amount(crm, data):
    rows = without_total(report(crm, "pivot", "source", "--sum", "amount"), "source")
    sums: dict[str, float] = defaultdict(float)
    for c in CUSTOMERS:
        sums[c[2]] += yuan(c[5])
    assert {r["source"]: r["amount"] for r in rows} == pytest.approx(dict(sums))
    grand = sum(sums.values())
    for r in rows:
        assert r["share"] == pytest.approx(round(sums[r["source"]] / grand, 4))


def test_pivot_cross_table_with_totals(crm, data):
    rows = report(crm, "pivot", "industry", "status")
    final = Counter((c[1] or "", c[4][-1]) for c in CUSTOMERS)
    statuses = {c[4][-1] for c in CUSTOMERS}
    body = without_total(rows, "industry")
    for r in body:
        for s in statuses:
            assert r[s] == final[(r["industry"], s)]
        assert r["total"] == sum(final[(r["industry"], s)] for s in statuses)
    total = rows[-1]
    for s in statuses:
        assert total[s] == sum(1 for c in CUSTOMERS if c[4][-1] == s)
    assert total["total"] == len(CUSTOMERS)
    # pipeline order across the columns
    status_cols = [k for k in total if k in LEVEL]
    assert status_cols == [s for s in ["potential", "intent", "active", "paused", "lost"] if s in statuses]


def test_pivot_cross_sum_amount_by_owner_and_grade(crm, data):
    rows = without_total(report(crm, "pivot", "owner", "grade", "--sum", "amount"), "owner")
    for r in rows:
        for grade in ("A", "B", "C", ""):
            expect = sum(yuan(c[5]) for c in CUSTOMERS if c[3] == r["owner"] and (c[6] or "") == grade)
            assert r.get(grade, 0) == pytest.approx(expect)


def test_pivot_by_month_of_first_contact(crm, data):
    rows = without_total(report(crm, "pivot", "month"), "month")
    assert [(r["month"], r["count"]) for r in rows] == sorted(Counter(c[7][:7] for c in CUSTOMERS).items())


def test_pivot_respects_list_filters(crm, data):
    rows = without_total(report(crm, "pivot", "industry", "--owner", "张经理", "--status", "intent,active"), "industry")
    expected = Counter(c[1] for c in CUSTOMERS if c[3] == "张经理" and c[4][-1] in ("intent", "active"))
    assert {r["industry"]: r["count"] for r in rows} == expected


def test_pivot_machine_formats_agree(crm, data):
    as_json = report(crm, "pivot", "industry", "status")
    jsonl = [json.loads(line) for line in crm.ok("report", "pivot", "industry", "status", "-f", "jsonl").splitlines()]
    assert jsonl == as_json
    for fmt, delim in (("csv", ","), ("tsv", "\t")):
        table = list(
            csv.DictReader(io.StringIO(crm.ok("report", "pivot", "industry", "status", "-f", fmt)), delimiter=delim)
        )
        assert [r["industry"] for r in table] == [r["industry"] or "" for r in as_json]
        assert [int(r["total"]) for r in table] == [r["total"] for r in as_json]
    no_totals = json.loads(crm.ok("report", "pivot", "industry", "--no-totals", "-f", "json"))
    assert all(r["industry"] is not None for r in no_totals)


def test_pivot_table_and_chart_plain_when_not_a_terminal(crm, data):
    out = crm.ok("report", "pivot", "industry")
    assert "Retail" in out and "Total" in out and "\x1b[" not in out
    assert "█" not in out  # no chart unless on a terminal or asked for
    charted = crm.ok("report", "pivot", "industry", "--chart")
    assert "█" in charted and "\x1b[" not in charted
    lines = [line for line in charted.splitlines() if "█" in line]
    # the longest bar is the biggest group (manufacturing, 4)
    assert max(lines, key=lambda line: line.count("█")).lstrip().startswith("Manufacturing")


def test_pivot_chinese_labels(crm, data):
    rows = json.loads(crm.ok("--lang", "zh", "report", "pivot", "industry", "-f", "json"))
    assert rows[1]["industry"] == "retail" and rows[1]["label"] == "零售业"
    assert rows[-1]["label"] == "合计"


@pytest.mark.parametrize(
    "args",
    [
        ["pivot", "phone"],
        ["pivot", "industry", "industry"],
        ["pivot", "industry", "--sum", "name"],
        ["activity", "--by", "year"],
    ],
)
def test_report_usage_errors(crm, data, args):
    result = crm("report", *args)
    assert result.exit_code == 2, result.stdout
    assert "Traceback" not in result.stderr


def test_empty_database_reports_are_empty(crm, empty_db):
    assert report(crm, "pivot", "industry", "--no-totals") == []
    rows = report(crm, "funnel")
    assert all(r["count"] == 0 for r in rows)
    assert report(crm, "sources", "--no-totals") == []


# ----------------------------------------------------------------------------- funnel


def test_funnel_counts_reached_and_conversion(crm, data):
    rows = without_total(report(crm, "funnel"), "status")
    assert [r["status"] for r in rows] == ["potential", "intent", "active", "paused", "lost"]
    by = {r["status"]: r for r in rows}
    final = Counter(c[4][-1] for c in CUSTOMERS)
    best = [max(LEVEL[s] for s in c[4]) for c in CUSTOMERS]
    for stage, level in (("potential", 0), ("intent", 1), ("active", 2)):
        assert by[stage]["count"] == final[stage]
        assert by[stage]["reached"] == sum(1 for b in best if b >= level)
        assert by[stage]["share"] == round(final[stage] / len(CUSTOMERS), 4)
    assert by["potential"]["reached"] == len(CUSTOMERS)
    assert by["potential"]["conversion"] is None
    assert by["intent"]["conversion"] == round(by["intent"]["reached"] / by["potential"]["reached"], 4)
    assert by["active"]["conversion"] == round(by["active"]["reached"] / by["intent"]["reached"], 4)
    for exit_status in ("paused", "lost"):
        assert by[exit_status]["count"] == final[exit_status]
        assert by[exit_status]["reached"] == sum(1 for c in CUSTOMERS if exit_status in c[4])
        assert by[exit_status]["conversion"] is None


# ----------------------------------------------------------------------------- sources


def test_sources(crm, data):
    rows = without_total(report(crm, "sources"), "source")
    fu = Counter(CUSTOMERS[i][2] for i, *_ in FOLLOWUPS)
    for r in rows:
        mine = [c for c in CUSTOMERS if c[2] == r["source"]]
        reached = sum(1 for c in mine if max(LEVEL[s] for s in c[4]) >= LEVEL["active"])
        assert r["customers"] == len(mine)
        assert r["active"] == reached
        assert r["active_rate"] == round(reached / len(mine), 4)
        assert r["amount"] == pytest.approx(sum(yuan(c[5]) for c in mine))
        assert r["followups"] == fu[r["source"]]
    assert [r["source"] for r in rows] == ["online", "trade_show", "referral", "cold_visit"]


# ----------------------------------------------------------------------------- activity


def _last_contact(i: int, as_of: str) -> str:
    dates = [d for j, d, *_ in FOLLOWUPS if j == i and d <= as_of]
    return max([CUSTOMERS[i][7], *dates])


def test_activity_per_owner_per_month(crm, data):
    rows = without_total(report(crm, "activity", "--from", "2024-02-01", "--to", "2024-06-15"), "owner")
    months = ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    cutoff = "2024-03-15"  # 2024-06-15 minus 3 months
    owners = sorted({c[3] for c in CUSTOMERS})
    assert [r["owner"] for r in rows] == owners
    for r in rows:
        mine = [i for i, c in enumerate(CUSTOMERS) if c[3] == r["owner"]]
        in_window = [(i, d) for i, d, *_ in FOLLOWUPS if i in mine and "2024-02-01" <= d <= "2024-06-15"]
        for m in months:
            assert r[m] == sum(1 for _, d in in_window if d.startswith(m)), (r["owner"], m)
        assert r["followups"] == len(in_window)
        assert r["contacted"] == len({i for i, _ in in_window})
        assert r["customers"] == len(mine)
        stale = [i for i in mine if CUSTOMERS[i][4][-1] != "lost" and _last_contact(i, "2024-06-15") < cutoff]
        assert r["stale"] == len(stale), r["owner"]


def test_activity_by_week_and_default_window(crm, data):
    rows = report(crm, "activity", "--by", "week", "--owner", "李娜")
    body = without_total(rows, "owner")
    assert [r["owner"] for r in body] == ["李娜"]
    week_keys = [k for k in rows[0] if "-W" in k]
    assert len(week_keys) == 8 and week_keys[-1] == "2024-W24"  # the last 8 ISO weeks up to 2024-06-15
    counts: Counter[str] = Counter()
    for i, d, *_ in FOLLOWUPS:
        if CUSTOMERS[i][3] == "李娜":
            y, w, _ = date.fromisoformat(d).isocalendar()
            counts[f"{y}-W{w:02d}"] += 1
    for k in week_keys:
        assert body[0][k] == counts[k]


# ----------------------------------------------------------------------------- service


def test_service_by_month_and_owner(crm, data):
    service = [(i, d, s) for i, d, kind, s in FOLLOWUPS if kind == "service"]
    rows = without_total(report(crm, "service", "--from", "2024-04-01", "--to", "2024-06-30"), "month")
    assert [r["month"] for r in rows] == ["2024-04", "2024-05", "2024-06"]
    for r in rows:
        mine = [s for _, d, s in service if d.startswith(r["month"])]
        scores = [s for s in mine if s is not None]
        assert r["followups"] == len(mine)
        assert r["rated"] == len(scores)
        assert r["satisfaction"] == (round(sum(scores) / len(scores), 2) if scores else None)
        assert r["low"] == sum(1 for s in scores if s <= 2)
    per_owner = report(crm, "service", "--by", "owner", "--from", "2024-01-01", "--to", "2024-06-30")
    total = per_owner[-1]
    all_scores = [s for *_, s in service if s is not None]
    assert total["satisfaction"] == round(sum(all_scores) / len(all_scores), 2)
    for r in without_total(per_owner, "owner"):
        scores = [s for i, _, s in service if CUSTOMERS[i][3] == r["owner"] and s is not None]
        assert r["satisfaction"] == round(sum(scores) / len(scores), 2)


def test_service_table_with_chart(crm, data):
    out = crm.ok("report", "service", "--from", "2024-04-01", "--to", "2024-06-30", "--chart")
    assert "Avg satisfaction" in out and "2024-05" in out and "█" in out
