"""crm today: due next steps, then customers ranked by a priority score (with --explain)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from crmcli import agenda


@pytest.fixture
def book(crm, add):
    """Four current customers and a lost one; today is 2024-06-15 (stale window 92 days)."""
    a = add(first_contact="2024-01-01", status="intent", grade="A", owner="王磊")
    crm.ok("log", a, "报价", "--date", "2024-03-01", "--next", "确认报价", "--next-date", "2024-06-01")
    b = add(first_contact="2024-01-01", status="active", grade="C", phone="13900000001")
    crm.ok("log", b, "回访", "--date", "2024-06-14")
    c = add(first_contact="2024-05-01", phone="13900000002", owner="王磊")
    crm.ok("log", c, "初次电话", "--date", "2024-05-01", "--next", "寄样品", "--next-date", "2024-06-15")
    d = add(first_contact="2024-01-01", status="paused", grade="B", phone="13900000003")
    lost = add(first_contact="2023-01-01", status="lost", grade="A", phone="13900000004")
    return {"a": a, "b": b, "c": c, "d": d, "lost": lost}


def test_ranking_order_and_scores(crm, book):
    rows = json.loads(crm.ok("today", "-f", "json"))
    due = [r for r in rows if r["section"] == "due"]
    call = [r for r in rows if r["section"] == "call"]
    assert [r["id"] for r in due] == [book["a"], book["c"]]  # oldest due first
    assert [r["days_overdue"] for r in due] == [14, 0]
    assert due[0]["next_step"] == "确认报价"
    assert [r["id"] for r in call] == [book["a"], book["d"], book["c"], book["b"]]
    assert [r["rank"] for r in call] == [1, 2, 3, 4]
    assert [r["score"] for r in call] == [21.91, 13.83, 10.79, 4.07]
    assert book["lost"] not in {r["id"] for r in rows}


def test_explain_adds_up(crm, book):
    rows = json.loads(crm.ok("today", "-f", "json", "--explain"))
    top = next(r for r in rows if r["section"] == "call")
    parts = {p["factor"]: p for p in top["explain"]}
    assert set(parts) == {"status", "grade", "inactive", "due"}
    assert parts["status"]["value"] == "intent" and parts["status"]["points"] == 4
    assert parts["grade"]["points"] == 3
    assert parts["inactive"]["value"] == "106d"
    assert parts["due"]["value"] == "14d overdue" and parts["due"]["points"] == 8
    assert round(sum(p["points"] for p in top["explain"]), 2) == top["score"]
    table = crm.ok("today", "--explain")
    assert "status intent 4 + grade A 3 + inactive 106d 6×1.15=6.91 + due 14d overdue 8" in table
    assert "\x1b" not in table
    rows = list(csv.DictReader(io.StringIO(crm.ok("today", "-f", "csv", "--explain"))))
    call = [r for r in rows if r["section"] == "call"]
    assert call[0]["explain"].startswith("status intent 4 + grade A 3")
    assert call[0]["rank"] == "1" and call[0]["score"] == "21.91"


def test_weights_are_configurable(crm, book):
    crm.ok("config", "set", "priority-due", "0")
    crm.ok("config", "set", "priority-inactive", "0")
    rows = json.loads(crm.ok("today", "-f", "json"))
    call = [r["id"] for r in rows if r["section"] == "call"]
    assert call == [book["a"], book["b"], book["d"], book["c"]]  # status + grade only: 7, 4, 3, 2
    crm.ok("config", "set", "priority-status", "potential=10")
    call = [r["id"] for r in json.loads(crm.ok("today", "-f", "json")) if r["section"] == "call"]
    assert call[0] == book["c"]
    assert crm("config", "set", "priority-due", "-1").exit_code == 2
    assert crm("config", "set", "priority-status", "intent=high").exit_code == 2


def test_limit_owner_ahead_and_include_lost(crm, book):
    rows = json.loads(crm.ok("today", "-f", "json", "--limit", "2"))
    assert [r["id"] for r in rows if r["section"] == "call"] == [book["a"], book["d"]]
    rows = json.loads(crm.ok("today", "-f", "json", "--owner", "王磊"))
    assert {r["id"] for r in rows} == {book["a"], book["c"]}
    crm.ok("log", book["b"], "电话", "--next", "月底拜访", "--next-date", "2024-06-20")
    assert book["b"] not in [r["id"] for r in json.loads(crm.ok("today", "-f", "json")) if r["section"] == "due"]
    ahead = json.loads(crm.ok("today", "-f", "json", "--ahead", "7"))
    assert book["b"] in [r["id"] for r in ahead if r["section"] == "due"]
    with_lost = json.loads(crm.ok("today", "-f", "json", "--include-lost"))
    assert book["lost"] in {r["id"] for r in with_lost}


def test_table_sections_and_empty(crm, book):
    result = crm("today")
    assert "Next steps due by 2024-06-15" in result.stdout
    assert "Most in need of a call" in result.stdout
    assert "确认报价" in result.stdout


def test_empty_database(crm, empty_db):
    result = crm("today")
    assert result.exit_code == 0
    assert "No next steps due." in result.stderr and "No customers to rank." in result.stderr
    assert crm.ok("today", "-f", "json") == "[]\n"


@pytest.mark.parametrize(
    ("next_date", "factor", "overdue"),
    [(None, 0.0, None), ("2024-06-22", 0.467, -7), ("2024-06-15", 0.733, 0), ("2024-06-08", 1.0, 7),
     ("2024-07-30", 0.2, -45)],
)
def test_due_ramp(next_date, factor, overdue):
    assert agenda.due_factor(next_date, date(2024, 6, 15)) == (factor, overdue)


def test_today_reveal_is_audited(crm, add, isolated_env):
    import sqlite3

    customer_id = add()
    crm.ok("today", "--reveal", "--format", "json")
    rows = sqlite3.connect(isolated_env).execute(
        "SELECT command FROM audit_log WHERE customer_id = ? AND new = 'revealed'", (customer_id,)
    ).fetchall()
    assert rows == [("today --reveal",)]


@pytest.mark.timeout(60)
def test_sql_score_equals_python_score_exactly():
    """Ranking happens in SQL, the score shown comes from score(): they must agree to the cent."""
    import sqlite3

    from hypothesis import given, settings
    from hypothesis import strategies as st

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE customers (status TEXT, grade TEXT, last_followup TEXT, first_contact TEXT, next_date TEXT)")
    days = st.one_of(st.none(), st.integers(min_value=-400, max_value=900))
    weight = st.floats(min_value=0, max_value=50, allow_nan=False).map(lambda w: round(w, 2))

    @settings(max_examples=300, deadline=None)
    @given(
        status=st.sampled_from(["intent", "active", "potential", "paused", "lost", None]),
        grade=st.sampled_from(["A", "B", "C", "b", None]),
        contact_days=days, due_days=days, w_inactive=weight, w_due=weight, w_status=weight, w_grade=weight,
        window=st.integers(min_value=1, max_value=200),
    )
    def check(status, grade, contact_days, due_days, w_inactive, w_due, w_status, w_grade, window):
        today = date(2024, 6, 15)
        from datetime import timedelta

        last = None if contact_days is None else (today - timedelta(days=contact_days)).isoformat()
        due = None if due_days is None else (today - timedelta(days=due_days)).isoformat()
        weights = agenda.Weights(status={"intent": w_status, "active": 1.5}, grade={"A": w_grade, "NONE": 0.25},
                                 inactive=w_inactive, due=w_due)
        conn.execute("DELETE FROM customers")
        conn.execute("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", (status, grade, last, last, due))
        expr, params = agenda._score_sql(weights, today, window)
        in_sql = conn.execute(f"SELECT {expr} FROM customers", params).fetchone()[0]
        total, _ = agenda.score({"status": status, "grade": grade, "last_contact": last, "next_date": due},
                                weights, today, window)
        assert in_sql == round(total * 100)

    check()
