"""crm status: code or label, no-op on the same status, every change kept."""

from __future__ import annotations

import json
import sqlite3


def changes(db, cid):
    with sqlite3.connect(db) as conn:
        return conn.execute(
            'SELECT from_status, to_status, "by", note FROM status_changes WHERE customer_id = ? ORDER BY id', (cid,)
        ).fetchall()


def test_status_by_code_and_by_label(crm, add, isolated_env):
    crm.ok("config", "--user", "set", "user", "张经理")
    cid = add()
    out = crm.ok("status", cid, "intent", "--note", "看过报价")
    assert out.strip() == f"{cid} 上海明达制造有限公司: Potential → Intent"
    crm.ok("status", cid, "合作中")
    assert json.loads(crm.ok("show", cid, "-f", "json"))["status"] == "active"
    assert changes(isolated_env, cid) == [
        (None, "potential", "张经理", None),
        ("potential", "intent", "张经理", "看过报价"),
        ("intent", "active", "张经理", None),
    ]


def test_same_status_is_a_successful_no_op(crm, add, isolated_env):
    cid = add(status="active")
    before = json.loads(crm.ok("show", cid, "-f", "json"))
    out = crm.ok("status", cid, "合作中")
    assert "already Active; nothing changed" in out
    after = json.loads(crm.ok("show", cid, "-f", "json"))
    assert after["version"] == before["version"]
    assert len(changes(isolated_env, cid)) == 1


def test_unknown_status_lists_allowed_values(crm, add):
    cid = add()
    result = crm("status", cid, "won")
    assert result.exit_code == 2
    assert "potential (潜在客户/Potential)" in result.stderr


def test_status_change_is_audited_and_bumps_version(crm, add, isolated_env):
    cid = add()
    crm.ok("status", cid, "lost")
    rec = json.loads(crm.ok("show", cid, "-f", "json"))
    assert rec["version"] == 2
    with sqlite3.connect(isolated_env) as conn:
        row = conn.execute(
            "SELECT command, old, new FROM audit_log WHERE customer_id = ? AND field = 'status'", (cid,)
        ).fetchone()
    assert row == ("status", "potential", "lost")


def test_status_unknown_customer(crm):
    assert crm("status", "XS2024404", "active").exit_code == 3


def test_status_in_chinese_interface(crm, add):
    cid = add()
    out = crm.ok("--lang", "zh", "status", cid, "意向客户")
    assert "潜在客户 → 意向客户" in out
