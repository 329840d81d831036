"""crm archive / restore: the history store keeps everything, working lists leave it out."""

from __future__ import annotations

import json
import sqlite3


def counts(db, cid):
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {table} WHERE customer_id = ?", (cid,)).fetchone()[0]
            for table in ("followups", "status_changes")
        )


def list_ids(crm, *args):
    return crm.ok("list", "-f", "ids", *args).split()


def test_archive_restore_round_trip_keeps_follow_ups(crm, add, isolated_env):
    old = add(first_contact="2023-01-01")
    for day in ("2023-02-01", "2023-06-01", "2024-01-10"):
        crm.ok("log", old, f"跟进 {day}", "--date", day)
    crm.ok("status", old, "intent")
    fresh = add(first_contact="2024-06-01", phone="13900000001")
    before = counts(isolated_env, old)
    assert before == (3, 2)
    snapshot = json.loads(crm.ok("show", old, "-f", "json"))

    result = crm("archive")
    assert result.exit_code == 0
    assert "Archived 1 customer;" in result.stderr
    assert list_ids(crm) == [fresh]
    assert list_ids(crm, "--archived") == [old]
    assert list_ids(crm, "--all") == [old, fresh]
    assert crm.ok("search", "跟进 2023-06-01", "-f", "ids", "--all").split() == [old]
    assert crm.ok("search", "跟进 2023-06-01", "-f", "ids").split() == []
    assert crm.ok("stale", "-f", "ids") == ""
    assert old not in crm.ok("today", "-f", "ids")
    assert counts(isolated_env, old) == before  # follow-ups and status history moved with it
    archived = json.loads(crm.ok("show", old, "-f", "json"))
    assert archived["archived"] is True

    assert crm.ok("restore", old).strip() == f"Restored {old} 上海明达制造有限公司"
    assert list_ids(crm) == [old, fresh]
    assert counts(isolated_env, old) == before
    back = json.loads(crm.ok("show", old, "-f", "json"))
    for key in ("name", "status", "last_followup", "followup", "first_contact", "phone"):
        assert back[key] == snapshot[key]
    assert back["archived"] is False
    with sqlite3.connect(isolated_env) as conn:
        assert conn.execute("SELECT archived_at FROM customers WHERE id = ?", (old,)).fetchone() == (None,)
    assert "is not archived" in crm.ok("restore", old)


def test_archive_lost_and_inactive_switches(crm, add):
    inactive = add(first_contact="2024-01-01")
    lost_recent = add(first_contact="2024-06-01", status="lost", phone="13900000001")
    active = add(first_contact="2024-06-01", phone="13900000002")

    def dry(*args):
        return crm.ok("archive", "--dry-run", "-f", "ids", *args).split()

    assert dry() == [inactive, lost_recent]  # longest inactive first
    assert dry("--no-lost") == [inactive]
    assert dry("--no-inactive") == [lost_recent]
    assert crm("archive", "--no-lost", "--no-inactive").exit_code == 2
    assert dry("--months", "6") == [lost_recent]
    assert dry("--days", "10") == [inactive, lost_recent, active]
    # Dry runs changed nothing.
    assert len(list_ids(crm)) == 3


def test_dry_run_lists_reasons_and_changes_nothing(crm, add, isolated_env):
    a = add(first_contact="2024-01-01")
    b = add(first_contact="2024-06-01", status="lost", phone="13900000001")
    rows = json.loads(crm.ok("archive", "--dry-run", "-f", "json"))
    assert {r["id"]: r["reason"] for r in rows} == {a: "inactive", b: "lost"}
    table = crm("archive", "--dry-run")
    assert "would be archived (dry run" in table.stderr
    assert len(list_ids(crm)) == 2
    with sqlite3.connect(isolated_env) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE command = 'archive'").fetchone() == (0,)


def test_archive_given_ids_only(crm, add):
    a = add()
    b = add(phone="13900000001")
    rows = json.loads(crm.ok("archive", a, "-f", "json"))
    assert [(r["id"], r["reason"]) for r in rows] == [(a, "asked")]
    assert list_ids(crm) == [b]
    assert json.loads(crm.ok("archive", a, "-f", "json")) == []  # already archived
    assert crm("archive", "XS2024999").exit_code == 3


def test_archive_is_audited(crm, add, isolated_env):
    cid = add(first_contact="2024-01-01")
    crm.ok("archive")
    with sqlite3.connect(isolated_env) as conn:
        row = conn.execute(
            "SELECT command, old, new FROM audit_log WHERE customer_id = ? AND field = 'archived'", (cid,)
        ).fetchone()
    assert row == ("archive", "0", "1")


def test_restore_several_and_unknown(crm, add):
    a = add(first_contact="2024-01-01")
    b = add(first_contact="2024-01-01", phone="13900000001")
    crm.ok("archive")
    out = crm.ok("restore", a, b)
    assert out.count("Restored") == 2
    assert crm("restore", "XS2024999").exit_code == 3
