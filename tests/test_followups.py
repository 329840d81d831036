"""crm log: follow-ups and the last-follow-up rule (never backwards)."""

from __future__ import annotations

import json
import sqlite3

import pytest


def show(crm, cid: str) -> dict:
    return json.loads(crm.ok("show", cid, "--format", "json"))


def followup_rows(db, cid: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            'SELECT date, content, result, next_step, next_date, channel, kind, satisfaction, "by" '
            "FROM followups WHERE customer_id = ? ORDER BY id",
            (cid,),
        ).fetchall()


def test_log_defaults_to_today_and_updates_customer(crm, add, isolated_env):
    cid = add()
    out = crm.ok("log", cid, "报价已发送，等待确认", "--next", "三天内电话确认", "--next-date", "3d")
    assert out.startswith(f"Logged follow-up 1 for {cid}")
    assert "next: 三天内电话确认 (2024-06-18)" in out
    rec = show(crm, cid)
    assert rec["last_followup"] == "2024-06-15"  # CRM_TODAY
    assert rec["followup"] == "报价已发送，等待确认"
    assert rec["next_step"] == "三天内电话确认"
    assert rec["next_date"] == "2024-06-18"
    assert rec["version"] == 2
    [row] = followup_rows(isolated_env, cid)
    assert row[:8] == ("2024-06-15", "报价已发送，等待确认", None, "三天内电话确认", "2024-06-18", None, None, None)
    assert row[8]  # the user running crm, as nobody was configured


def test_log_all_options_codes_and_labels(crm, add, isolated_env):
    cid = add()
    crm.ok("config", "--user", "set", "user", "李娜")
    crm.ok("log", cid, "上门演示", "--result", "客户满意", "--channel", "拜访", "--kind", "Service",
           "--satisfaction", "５", "--date", "2024年6月10日", "--next-date", "2024-07-01")
    assert followup_rows(isolated_env, cid) == [
        ("2024-06-10", "上门演示", "客户满意", None, "2024-07-01", "visit", "service", 5, "李娜"),
    ]
    crm.ok("log", cid, "微信沟通", "--channel", "wechat", "--by", "王磊")
    assert followup_rows(isolated_env, cid)[-1][5:] == ("wechat", None, None, "王磊")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--satisfaction", "6"], "satisfaction"),
        (["--satisfaction", "good"], "satisfaction"),
        (["--channel", "fax"], "channel"),
        (["--kind", "legal"], "kind"),
        (["--date", "2024-06-16"], "future"),
        (["--date", "2024-02-30"], "date"),
        (["--next-date", "-3d"], "next_date"),
        (["--next-date", "someday"], "next_date"),
    ],
)
def test_log_rejects_bad_values_with_exit_2(crm, add, isolated_env, args, needle):
    cid = add()
    result = crm("log", cid, "内容", *args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert followup_rows(isolated_env, cid) == []


@pytest.mark.parametrize("content", ["", "   ", "未知", "TBD"])
def test_log_refuses_empty_or_placeholder_content(crm, add, content):
    cid = add()
    result = crm("log", cid, content)
    assert result.exit_code == 2
    assert "content" in result.stderr


def test_log_unknown_customer_is_not_found(crm, empty_db):
    result = crm("log", "XS2024999", "内容")
    assert result.exit_code == 3
    assert "no customer XS2024999" in result.stderr


def test_log_accepts_lower_case_id(crm, add):
    cid = add()
    crm.ok("log", cid.lower(), "内容")
    assert show(crm, cid)["last_followup"] == "2024-06-15"


def test_back_dated_entry_never_moves_last_followup_backwards(crm, add):
    cid = add(first_contact="2024-01-02")
    crm.ok("log", cid, "最新一次", "--date", "2024-06-10", "--next", "下周拜访", "--next-date", "2024-06-20")
    out = crm.ok("log", cid, "补记：五月的电话", "--date", "2024-05-01", "--next", "旧的下一步")
    assert "back-dated, last follow-up stays 2024-06-10" in out
    rec = show(crm, cid)
    assert rec["last_followup"] == "2024-06-10"
    # The customer still mirrors the latest follow-up, not the back-dated one.
    assert rec["followup"] == "最新一次"
    assert rec["next_step"] == "下周拜访"
    assert rec["next_date"] == "2024-06-20"
    # A newer one moves it forward again.
    crm.ok("log", cid, "今天", "--date", "2024-06-12")
    rec = show(crm, cid)
    assert rec["last_followup"] == "2024-06-12"
    assert rec["next_step"] is None  # the latest follow-up set no next step
    assert rec["next_date"] is None


def test_same_day_entry_logged_later_is_the_latest(crm, add):
    cid = add()
    crm.ok("log", cid, "上午电话", "--date", "2024-06-14", "--next", "A")
    crm.ok("log", cid, "下午拜访", "--date", "2024-06-14", "--next", "B")
    rec = show(crm, cid)
    assert (rec["last_followup"], rec["followup"], rec["next_step"]) == ("2024-06-14", "下午拜访", "B")


def test_back_dated_before_hand_set_last_followup_keeps_it(crm, add):
    cid = add(last_followup="2024-06-01")
    crm.ok("log", cid, "老记录", "--date", "2024-03-01")
    assert show(crm, cid)["last_followup"] == "2024-06-01"


def test_log_changes_are_audited_with_command_log(crm, add, isolated_env):
    cid = add()
    crm.ok("log", cid, "第一次", "--next", "回电")
    with sqlite3.connect(isolated_env) as conn:
        rows = conn.execute(
            "SELECT command, field, old, new FROM audit_log WHERE customer_id = ? AND command = 'log' ORDER BY id",
            (cid,),
        ).fetchall()
    assert ("log", "last_followup", None, "2024-06-15") in rows
    assert ("log", "followup", None, "第一次") in rows
    assert ("log", "next_step", None, "回电") in rows


def test_quiet_prints_only_the_number(crm, add):
    cid = add()
    assert crm.ok("log", cid, "a", "-q").strip() == "1"
    assert crm.ok("log", cid, "b", "-q").strip() == "2"


def test_log_on_archived_customer_warns(crm, add):
    cid = add(first_contact="2024-01-01")
    crm.ok("archive", cid)
    result = crm("log", cid, "又联系上了")
    assert result.exit_code == 0
    assert "is archived" in result.stderr and f"crm restore {cid}" in result.stderr


def test_library_log_in_own_transaction(isolated_env):
    from crmcli import customers, followups, options
    from crmcli.storage import open_store

    with open_store(isolated_env) as store:
        opts = options.load(store)
        ctx = customers.Context("tester", "XS", "add")
        rec = customers.add(store, {"name": "甲公司", "contact": "张三", "phone": "13800000000", "source": "online",
                                    "needs": "软件"}, ctx, opts)
        row = followups.log(store, rec["id"], followups.FollowupInput("电话沟通", channel="电话"), ctx, opts)
        assert row["channel"] == "phone" and row["by"] == "tester"
        assert followups.count_for(store.conn, rec["id"]) == 1
        assert customers.get(store.conn, rec["id"])["last_followup"] == "2024-06-15"
