"""crm history: follow-ups, status changes and field edits in one timeline, newest first."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone


def test_history_is_one_timeline_newest_first(crm, add):
    cid = add(first_contact="2024-05-01")
    crm.ok("log", cid, "首次电话", "--date", "2024-05-02", "--channel", "phone")
    crm.ok("status", cid, "intent", "--note", "有预算")
    crm.ok("edit", cid, "--amount", "12000")
    crm.ok("log", cid, "补记：展会交谈", "--date", "2024-05-01")
    entries = json.loads(crm.ok("history", cid, "-f", "json"))
    types = [e["type"] for e in entries]
    # Today's events (edit, status, creation) first; back-dated follow-ups sit at their dates.
    assert types == ["edit", "status", "status", "created", "followup", "followup"]
    assert entries[-1]["detail"]["content"] == "补记：展会交谈"
    assert entries[-2]["summary"] == "[Phone] 首次电话"
    edit = next(e for e in entries if e["type"] == "edit")
    assert edit["detail"] == {"field": "amount", "old": None, "new": 12000}  # yuan, like every JSON output
    assert edit["summary"] == "amount: — → 12000.00"
    status = [e for e in entries if e["type"] == "status"]
    assert status[0]["summary"] == "Potential → Intent (有预算)"
    assert status[0]["detail"] == {"from": "potential", "to": "intent", "note": "有预算"}
    # The customer fields a follow-up sets are not repeated as edits.
    assert not any(e["type"] == "edit" and e["detail"]["field"] in ("last_followup", "followup") for e in entries)


def test_history_same_second_events_keep_their_order(crm, add, monkeypatch):
    # Timestamps are real UTC; "today" must be the same day for follow-ups to count as logged on their date.
    monkeypatch.setenv("CRM_TODAY", datetime.now(timezone.utc).date().isoformat())
    cid = add()
    crm.ok("log", cid, "今天的电话")
    crm.ok("status", cid, "intent")
    crm.ok("log", cid, "又一次")
    crm.ok("edit", cid, "--notes", "注意")
    entries = json.loads(crm.ok("history", cid, "-f", "json"))
    assert [e["type"] for e in entries] == ["edit", "followup", "status", "followup", "status", "created"]
    assert entries[1]["detail"]["content"] == "又一次"


def test_history_orders_follow_ups_by_their_date(crm, add):
    cid = add(first_contact="2024-01-01")
    crm.ok("log", cid, "三月", "--date", "2024-03-01")
    crm.ok("log", cid, "一月", "--date", "2024-01-15")
    crm.ok("log", cid, "二月", "--date", "2024-02-01")
    entries = json.loads(crm.ok("history", cid, "-f", "json"))
    contents = [e["detail"]["content"] for e in entries if e["type"] == "followup"]
    assert contents == ["三月", "二月", "一月"]


def test_history_table_csv_and_limit(crm, add):
    cid = add()
    crm.ok("log", cid, "电话沟通，客户要报价", "--next", "发报价")
    table = crm.ok("history", cid)
    assert "电话沟通，客户要报价" in table and "\x1b" not in table
    rows = list(csv.DictReader(io.StringIO(crm.ok("history", cid, "-f", "csv"))))
    assert list(rows[0]) == ["when", "type", "by", "summary", "detail", "command", "at"]
    followup = next(r for r in rows if r["type"] == "followup")
    assert json.loads(followup["detail"])["content"] == "电话沟通，客户要报价"
    assert len(json.loads(crm.ok("history", cid, "-f", "json", "--limit", "1"))) == 1


def test_history_shows_archive_and_restore(crm, add):
    cid = add(first_contact="2024-01-01")
    crm.ok("archive", cid)
    crm.ok("restore", cid)
    types = [e["type"] for e in json.loads(crm.ok("history", cid, "-f", "json"))]
    assert types[:2] == ["restored", "archived"]


def test_history_unknown_customer(crm):
    assert crm("history", "XS2024404").exit_code == 3
