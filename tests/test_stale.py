"""crm stale: the window (calendar months), filters, formats and --exit-code."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from crmcli import agenda


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        ("2024-06-15", 3, "2024-03-15"),
        ("2024-05-31", 3, "2024-02-29"),  # leap year: 31 May - 3 months = 29 Feb
        ("2023-05-31", 3, "2023-02-28"),  # common year
        ("2024-08-31", 6, "2024-02-29"),
        ("2024-03-31", 1, "2024-02-29"),
        ("2100-05-31", 3, "2100-02-28"),  # 2100 is not a leap year
        ("2024-01-31", 3, "2023-10-31"),  # across the year boundary
        ("2024-12-31", 12, "2023-12-31"),
    ],
)
def test_calendar_month_cutoff(today, months, expected):
    assert agenda.cutoff(date.fromisoformat(today), months=months) == date.fromisoformat(expected)


def test_cutoff_days_before_and_conflicts():
    today = date(2024, 6, 15)
    assert agenda.cutoff(today) == date(2024, 3, 15)
    assert agenda.cutoff(today, days=30) == date(2024, 5, 16)
    assert agenda.cutoff(today, before=date(2024, 1, 1)) == date(2024, 1, 1)
    with pytest.raises(Exception, match="only one"):
        agenda.cutoff(today, months=1, days=2)


def ids(crm, *args: str) -> list[str]:
    return crm.ok("stale", "--format", "ids", *args).split()


@pytest.mark.parametrize(
    ("today", "on_the_edge", "one_day_more"),
    [
        ("2024-06-15", "2024-03-15", "2024-03-14"),
        ("2024-05-31", "2024-02-29", "2024-02-28"),
        ("2023-05-31", "2023-02-28", "2023-02-27"),
    ],
)
def test_exactly_three_months_ago_is_not_stale(crm, add, monkeypatch, today, on_the_edge, one_day_more):
    monkeypatch.setenv("CRM_TODAY", today)
    edge = add(first_contact="2020-01-01", last_followup=on_the_edge)
    older = add(first_contact="2020-01-01", last_followup=one_day_more, phone="13900000001")
    assert ids(crm) == [older]
    assert edge not in ids(crm)


def test_first_contact_counts_when_there_is_no_follow_up(crm, add):
    never = add(first_contact="2024-03-01")
    recent_first = add(first_contact="2024-06-01", phone="13900000001")
    called = add(first_contact="2023-01-01", phone="13900000002")
    crm.ok("log", called, "最近联系过", "--date", "2024-06-01")
    assert ids(crm) == [never]
    assert recent_first not in ids(crm)


def test_sorted_by_days_inactive_with_counts(crm, add):
    a = add(first_contact="2024-02-01")
    b = add(first_contact="2023-12-01", phone="13900000001")
    c = add(first_contact="2024-01-10", phone="13900000002")
    rows = json.loads(crm.ok("stale", "-f", "json"))
    assert [r["id"] for r in rows] == [b, c, a]
    assert [r["days_inactive"] for r in rows] == [197, 157, 135]
    assert rows[0]["last_contact"] == "2023-12-01"


def test_window_options(crm, add):
    a = add(first_contact="2024-05-01")
    b = add(first_contact="2024-06-01", phone="13900000001")
    assert ids(crm) == []
    assert ids(crm, "--months", "1") == [a]
    assert ids(crm, "--days", "10") == [a, b]
    assert ids(crm, "--days", "14") == [a]  # 2024-06-01 is exactly 14 days ago: not stale
    assert ids(crm, "--before", "2024-05-02") == [a]
    assert ids(crm, "--before", "2024-05-01") == []
    result = crm("stale", "--months", "1", "--days", "3")
    assert result.exit_code == 2 and "only one" in result.stderr


def test_stale_months_setting_changes_the_default(crm, add):
    a = add(first_contact="2024-05-01")
    crm.ok("config", "set", "stale-months", "1")
    assert ids(crm) == [a]
    assert crm("config", "set", "stale-months", "soon").exit_code == 2


def test_filters_owner_status_grade(crm, add):
    a = add(first_contact="2024-01-01", owner="王磊", grade="A", status="intent")
    b = add(first_contact="2024-01-01", owner="李娜", grade="B", phone="13900000001")
    c = add(first_contact="2024-01-01", owner="王磊", grade="C", status="active", phone="13900000002")
    assert ids(crm, "--owner", "王磊") == [a, c]
    assert ids(crm, "--owner", "王磊,李娜") == [a, b, c]
    assert ids(crm, "--status", "意向客户") == [a]
    assert ids(crm, "--status", "intent", "--status", "active") == [a, c]
    assert ids(crm, "--grade", "b") == [b]
    assert crm("stale", "--status", "nonsense").exit_code == 2
    assert crm("stale", "--grade", "Z").exit_code == 2


def test_mine_uses_the_configured_user(crm, add):
    mine = add(first_contact="2024-01-01", owner="张经理")
    add(first_contact="2024-01-01", owner="李娜", phone="13900000001")
    crm.ok("config", "--user", "set", "user", "张经理")
    assert ids(crm, "--mine") == [mine]


def test_lost_and_archived_left_out_unless_asked(crm, add):
    live = add(first_contact="2024-01-01")
    lost = add(first_contact="2024-01-01", status="lost", phone="13900000001")
    gone = add(first_contact="2024-01-01", phone="13900000002")
    crm.ok("archive", gone)
    assert ids(crm) == [live]
    assert ids(crm, "--include-lost") == [live, lost]
    assert ids(crm, "--status", "lost") == [lost]
    assert ids(crm, "--archived") == [gone]
    assert ids(crm, "--all") == [live, gone]
    assert ids(crm, "--all", "--include-lost") == [live, lost, gone]


def test_exit_code_both_ways(crm, add, empty_db):
    result = crm("stale", "--exit-code")
    assert result.exit_code == 0
    assert "No stale customers" in result.stderr
    assert crm("stale", "--exit-code", "-f", "json").stdout == "[]\n"
    cid = add(first_contact="2024-01-01")
    result = crm("stale", "--exit-code", "-f", "ids")
    assert result.exit_code == 1
    assert result.stdout.split() == [cid]
    assert crm("stale").exit_code == 0  # without --exit-code, found is success
    crm.ok("log", cid, "联系上了")
    assert crm("stale", "--exit-code").exit_code == 0


def test_every_format(crm, add):
    cid = add(first_contact="2024-01-01", notes="长期客户")
    data = json.loads(crm.ok("stale", "-f", "json"))
    assert data[0]["name"] == "上海明达制造有限公司"
    assert data[0]["phone"] == "138****5678"
    assert data[0]["status"] == "potential" and data[0]["status_label"] == "Potential"
    assert data[0]["days_inactive"] == 166
    lines = crm.ok("stale", "-f", "jsonl").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == cid
    out = crm.ok("stale", "-f", "csv")
    assert "上海明达制造有限公司" in out and "\\u" not in out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["last_contact"] == "2024-01-01" and rows[0]["days_inactive"] == "166"
    assert rows[0]["notes"] == "长期客户"
    tsv = crm.ok("stale", "-f", "tsv").splitlines()
    assert tsv[0].split("\t")[:2] == ["id", "name"] and len(tsv) == 2
    assert crm.ok("stale", "-f", "ids") == cid + "\n"
    table = crm("stale")
    assert "上海明达制造有限公司" in table.stdout and "166" in table.stdout
    assert "\x1b" not in table.stdout
    assert "1 stale customer:" in table.stderr
    assert crm("stale", "-f", "xml").exit_code == 2


def test_reveal_and_columns(crm, add):
    add(first_contact="2024-01-01")
    assert json.loads(crm.ok("stale", "-f", "json", "--reveal"))[0]["phone"] == "13812345678"
    rows = json.loads(crm.ok("stale", "-f", "json", "--columns", "id,owner,days_inactive"))
    assert set(rows[0]) == {"id", "owner", "days_inactive"}
    out = crm.ok("stale", "-f", "csv", "--columns", "id,days_inactive")
    assert out.splitlines()[0] == "id,days_inactive"
    assert crm("stale", "--columns", "id,bogus").exit_code == 2


def test_limit(crm, add):
    for i in range(3):
        add(first_contact=f"2024-01-0{i + 1}", phone=f"1390000000{i}")
    assert len(ids(crm, "--limit", "2")) == 2


def test_chinese_interface_messages(crm, add, empty_db):
    result = crm("--lang", "zh", "stale")
    assert "没有过期客户" in result.stderr


def test_stale_reveal_is_audited(crm, add, isolated_env):
    import sqlite3

    customer_id = add(first_contact="2023-01-01")
    crm.ok("stale", "--reveal", "--format", "csv")
    rows = sqlite3.connect(isolated_env).execute(
        "SELECT command FROM audit_log WHERE customer_id = ? AND new = 'revealed'", (customer_id,)
    ).fetchall()
    assert rows == [("stale --reveal",)]
