"""Smaller everyday fixes: plurals, today's real window, one score precision, the pipeline's
statuses cannot be retired, and `crm` alone points at the demo."""

from __future__ import annotations

import re
import sqlite3


def test_retiring_a_pipeline_status_is_refused_and_changes_nothing(crm, add, isolated_env):
    add(status="active")
    before = sqlite3.connect(isolated_env).execute("SELECT * FROM options ORDER BY field, code").fetchall()
    result = crm("options", "retire", "status", "active")
    assert result.exit_code == 2
    assert "part of the pipeline" in result.stderr and "1 customers have it" in result.stderr
    assert "crm options rename status active" in result.stderr
    assert "管道" in crm("--lang", "zh", "options", "retire", "status", "合作中").stderr
    assert sqlite3.connect(isolated_env).execute("SELECT * FROM options ORDER BY field, code").fetchall() == before
    crm.ok("status", add(phone="13912345678"), "active")  # still usable
    crm.ok("options", "retire", "industry", "other")  # other lists are unaffected


def test_one_stale_customer_is_singular(crm, add):
    add(first_contact="2024-01-01")
    assert "1 stale customer:" in crm("stale").stderr
    add(first_contact="2024-01-02", phone="13912345678")
    assert "2 stale customers:" in crm("stale").stderr


def test_archive_message_is_singular_for_one(crm, add):
    cid = add(first_contact="2024-01-01")
    assert "Archived 1 customer;" in crm("archive", cid).stderr


def test_today_ahead_is_titled_by_its_window_and_says_in_n_days(crm, add):
    cid = add()
    crm.ok("log", cid, "电话沟通", "--next", "回访", "--next-date", "2024-07-05")
    late = add(phone="13912345678")
    crm.ok("log", late, "电话沟通", "--next", "报价", "--next-date", "2024-06-14")
    out = crm.ok("today", "--ahead", "60")
    assert "Next steps overdue or due by 2024-08-14 (today and the next 60 days)" in out
    assert "in 20 days" in out and "1 day overdue" in out
    assert not re.search(r"\s-\d+\s", out)  # no negative "days overdue"
    zh = crm.ok("--lang", "zh", "today", "--ahead", "60")
    assert "20 天后" in zh and "逾期 1 天" in zh
    data = crm.json("today", "--ahead", "60")
    assert data  # machine formats keep days_overdue as a number


def test_scores_are_shown_with_one_precision(crm, add):
    for i in range(3):
        add(phone=f"1391234567{i}", first_contact=f"2024-0{i + 1}-01")
    out = crm.ok("today")
    section = out.split("Most in need of a call", 1)[1]
    scores = re.findall(r"^\d+\s+(\d+\.\d+)\s", section, re.MULTILINE)
    assert scores and all(re.fullmatch(r"\d+\.\d{2}", s) for s in scores), scores


def test_crm_alone_ends_with_try_crm_demo(crm):
    result = crm()
    assert result.output.rstrip().splitlines()[-1].strip() == "New here? try: crm demo"


def test_history_times_are_local_and_the_zone_is_named(crm, add, isolated_env, monkeypatch):
    import time

    cid = add()
    stamp = sqlite3.connect(isolated_env).execute("SELECT at FROM status_changes WHERE customer_id = ?", (cid,)).fetchone()[0]
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        out = crm.ok("history", cid)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    from datetime import datetime, timedelta

    utc = datetime.fromisoformat(stamp.replace("Z", ""))
    assert (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S") in out
    assert "UTC+08:00 CST" in out
    assert stamp.replace("T", " ").rstrip("Z") not in out
