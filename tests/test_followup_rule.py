"""One rule for last_followup (never backwards, never in the future) in crm log, crm edit and
crm import; importing follow-ups is audited like crm log and undone exactly (#10.6)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

HEADER = "customer_id,date,content,next_step,next_date\n"


def _rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _customer(db: Path, cid: str) -> tuple:
    return _rows(db, "SELECT last_followup, followup, next_step, next_date, version FROM customers WHERE id = ?", cid)[0]


def _import(crm, path: Path, text: str) -> int:
    path.write_text(HEADER + text, encoding="utf-8")
    return json.loads(crm.ok("import", str(path), "--format", "json"))["batch"]


# ---------------------------------------------------------------- edit obeys the log rule


@pytest.mark.parametrize(
    "args",
    [
        ["--last-followup", "2024-05-01"],  # backwards from 2024-06-01
        ["--set", "last_followup=2024-05-01"],
        ["--last-followup", "2024-06-16"],  # the future (today is 2024-06-15)
        ["--set", "last_followup=2030-01-01"],
        ["--last-followup", ""],  # clearing is moving backwards too
    ],
)
def test_edit_cannot_move_last_followup_backwards_or_into_the_future(crm, add, isolated_env: Path, args):
    cid = add()
    crm.ok("log", cid, "电话", "--date", "2024-06-01")
    before = _customer(isolated_env, cid)
    audit = _rows(isolated_env, "SELECT count(*) FROM audit_log")
    result = crm("edit", cid, *args)
    assert result.exit_code == 2, result.stderr
    assert "last_followup" in result.stderr and "\n" not in result.stderr.strip()
    assert _customer(isolated_env, cid) == before
    assert _rows(isolated_env, "SELECT count(*) FROM audit_log") == audit


def test_edit_may_move_last_followup_forward_up_to_today(crm, add, isolated_env: Path):
    cid = add()
    crm.ok("log", cid, "电话", "--date", "2024-06-01")
    crm.ok("edit", cid, "--last-followup", "2024-06-15")
    crm.ok("edit", cid, "--last-followup", "2024-06-15")  # unchanged: fine
    assert _customer(isolated_env, cid)[0] == "2024-06-15"
    fresh = add(phone="13900000000")
    crm.ok("edit", fresh, "--set", "last_followup=2024-01-01")  # none yet: any past date


def test_log_refuses_the_future_by_the_same_rule(crm, add):
    cid = add()
    result = crm("log", cid, "电话", "--date", "2024-06-16")
    assert result.exit_code == 2 and "date" in result.stderr and "future" in result.stderr


def test_edit_rule_in_chinese(crm, add):
    cid = add()
    crm.ok("log", cid, "电话", "--date", "2024-06-01")
    result = crm("--lang", "zh", "edit", cid, "--last-followup", "2024-05-01")
    assert result.exit_code == 2 and "倒退" in result.stderr


# ---------------------------------------------------------------- import of follow-ups, and its undo


def test_imported_followups_are_audited_and_bump_the_version(crm, add, isolated_env: Path, tmp_path: Path):
    cid = add()
    version = _customer(isolated_env, cid)[4]
    batch = _import(crm, tmp_path / "f.csv", f"{cid},2024-06-10,上门拜访,寄样品,2024-06-20\n")
    assert _customer(isolated_env, cid) == ("2024-06-10", "上门拜访", "寄样品", "2024-06-20", version + 1)
    audit = _rows(
        isolated_env, "SELECT command, field, old, new FROM audit_log WHERE batch_id = ? ORDER BY id", batch
    )
    assert ("import log", "last_followup", None, "2024-06-10") in audit
    assert ("import log", "followup", None, "上门拜访") in audit
    assert any(field == "followups" for _, field, _, _ in audit)
    # crm history shows the follow-up once, not also as edits of the mirrored fields.
    entries = crm.json("history", cid)
    assert [e["type"] for e in entries].count("followup") == 1
    assert not any(e["type"] == "edit" and e["detail"]["field"] == "last_followup" for e in entries)


def test_an_older_imported_followup_leaves_the_mirror_alone(crm, add, isolated_env: Path, tmp_path: Path):
    cid = add()
    crm.ok("log", cid, "最新", "--date", "2024-06-12", "--next", "回电")
    before = _customer(isolated_env, cid)
    _import(crm, tmp_path / "f.csv", f"{cid},2024-05-01,旧记录,,\n")
    assert _customer(isolated_env, cid) == before


def test_a_future_followup_in_a_file_is_refused(crm, add, isolated_env: Path, tmp_path: Path):
    cid = add()
    path = tmp_path / "f.csv"
    path.write_text(HEADER + f"{cid},2024-07-01,未来,,\n", encoding="utf-8")
    result = crm("import", str(path))
    assert result.exit_code == 2 and "row 2" in result.stderr and "future" in result.stderr
    assert _rows(isolated_env, "SELECT count(*) FROM followups") == [(0,)]


def test_undo_puts_last_followup_back_to_the_follow_ups_left(crm, add, isolated_env: Path, tmp_path: Path):
    cid = add()
    crm.ok("log", cid, "电话", "--date", "2024-03-01", "--next", "三月的下一步")
    batch = _import(crm, tmp_path / "f.csv", f"{cid},2024-06-10,上门拜访,寄样品,2024-06-20\n")
    assert _customer(isolated_env, cid)[0] == "2024-06-10"
    crm.ok("import", "undo", str(batch), "--yes")
    assert _customer(isolated_env, cid)[:4] == ("2024-03-01", "电话", "三月的下一步", None)
    # Stale again, as it was before the import (contacted 2024-03-01, window 3 months).
    assert cid in crm.ok("stale", "--format", "ids").split()


def test_undo_of_the_only_followup_clears_the_mirror(crm, add, isolated_env: Path, tmp_path: Path):
    cid = add()
    batch = _import(crm, tmp_path / "f.csv", f"{cid},2024-06-10,上门拜访,寄样品,2024-06-20\n")
    crm.ok("import", "undo", str(batch), "--yes")
    assert _customer(isolated_env, cid)[:4] == (None, None, None, None)


def test_undo_keeps_a_later_hand_set_date(crm, add, isolated_env: Path, tmp_path: Path):
    cid = add()
    crm.ok("log", cid, "电话", "--date", "2024-03-01")
    crm.ok("edit", cid, "--last-followup", "2024-06-01")  # set by hand, no follow-up behind it
    batch = _import(crm, tmp_path / "f.csv", f"{cid},2024-06-10,上门拜访,,\n")
    crm.ok("import", "undo", str(batch), "--yes")
    assert _customer(isolated_env, cid)[0] == "2024-06-01"


def test_undo_of_a_batch_an_older_crm_imported_without_audit(crm, add, isolated_env: Path):
    cid = add()
    crm.ok("log", cid, "电话", "--date", "2024-03-01")
    # What an older crm left: the follow-up and the moved date, but no audit rows of the batch.
    conn = sqlite3.connect(isolated_env)
    batch = conn.execute(
        "INSERT INTO import_batches (started_at, by, source, format, target, finished_at, rows, added, updated, "
        "unchanged, rejected, followups) VALUES ('2024-06-10T00:00:00Z', 'x', 'f.csv', 'csv', 'followups', "
        "'2024-06-10T00:00:01Z', 1, 1, 0, 0, 0, 1) RETURNING id"
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO followups (customer_id, date, content, created_at, batch_id) VALUES (?, '2024-06-10', '拜访', "
        "'2024-06-10T00:00:00Z', ?)",
        (cid, batch),
    )
    conn.execute("UPDATE customers SET last_followup = '2024-06-10' WHERE id = ?", (cid,))
    conn.commit()
    conn.close()
    crm.ok("import", "undo", str(batch), "--yes")
    assert _customer(isolated_env, cid)[:2] == ("2024-03-01", "电话")
