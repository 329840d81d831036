"""crm import undo: confirmation on a terminal, --yes for scripts, refusal without either, and
later batches that were themselves undone no longer block an undo (#10.21)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from crmcli.cli import common

HEADER = "id,name,contact,phone,source,needs,first_contact,owner,status,notes\n"


def _csv(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _import(crm, path: Path, *extra: str) -> int:
    return json.loads(crm.ok("import", str(path), "--format", "json", *extra))["batch"]


def _fingerprint(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    return (
        tuple(conn.execute("SELECT * FROM customers ORDER BY id")),
        tuple(conn.execute("SELECT * FROM import_batches ORDER BY id")),
        conn.execute("SELECT count(*) FROM audit_log").fetchone(),
    )


ROW = "XS2024001,明达,王强,13812345678,online,n,2024-05-01,张,potential,first"


def test_without_a_terminal_and_without_yes_undo_refuses_and_changes_nothing(crm, isolated_env: Path, tmp_path: Path):
    batch = _import(crm, _csv(tmp_path / "a.csv", ROW))
    before = _fingerprint(isolated_env)
    result = crm("import", "undo", str(batch))
    assert result.exit_code == 2
    assert "--yes" in result.stderr and "terminal" in result.stderr
    assert _fingerprint(isolated_env) == before
    zh = crm("--lang", "zh", "import", "undo", str(batch))
    assert zh.exit_code == 2 and "非终端" in zh.stderr


def test_on_a_terminal_undo_asks(crm, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    batch = _import(crm, _csv(tmp_path / "a.csv", ROW))
    before = _fingerprint(isolated_env)
    declined = crm("import", "undo", str(batch), input="n\n")
    assert declined.exit_code == 1 and f"Undo batch {batch}" in declined.stderr and "Aborted" in declined.stderr
    assert _fingerprint(isolated_env) == before
    accepted = crm("import", "undo", str(batch), input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert crm.json("list") == []


def test_yes_undoes_without_asking(crm, tmp_path: Path):
    batch = _import(crm, _csv(tmp_path / "a.csv", ROW))
    crm.ok("import", "undo", str(batch), "--yes")
    assert crm.json("list") == []
    again = crm("import", "undo", str(batch), "--yes")
    assert again.exit_code == 4 and "already undone" in again.stderr
    missing = crm("import", "undo", "999")
    assert missing.exit_code == 3  # not found comes before the question


def test_a_later_batch_that_was_undone_does_not_block_the_undo(crm, tmp_path: Path):
    first = _import(crm, _csv(tmp_path / "a.csv", ROW))
    second = _import(crm, _csv(tmp_path / "b.csv", ROW.replace(",first", ",second")), "--on-duplicate", "update")
    assert crm.json("show", "XS2024001")["notes"] == "second"
    blocked = crm("import", "undo", str(first), "--yes")
    assert blocked.exit_code == 4  # batch 2's change is live: undoing 1 would lose it
    crm.ok("import", "undo", str(second), "--yes")
    assert crm.json("show", "XS2024001")["notes"] == "first"
    crm.ok("import", "undo", str(first), "--yes")
    assert crm.json("list") == []


def test_a_later_undone_batch_on_an_updated_customer_does_not_block(crm, add, tmp_path: Path):
    cid = add(notes="own")
    row = ROW.replace("XS2024001", cid)
    first = _import(crm, _csv(tmp_path / "a.csv", row.replace(",first", ",one")), "--on-duplicate", "update")
    second = _import(crm, _csv(tmp_path / "b.csv", row.replace(",first", ",two")), "--on-duplicate", "update")
    crm.ok("import", "undo", str(second), "--yes")
    crm.ok("import", "undo", str(first), "--yes")
    assert crm.json("show", cid)["notes"] == "own"


def test_a_manual_edit_still_blocks(crm, tmp_path: Path):
    first = _import(crm, _csv(tmp_path / "a.csv", ROW))
    second = _import(crm, _csv(tmp_path / "b.csv", ROW.replace(",first", ",second")), "--on-duplicate", "update")
    crm.ok("import", "undo", str(second), "--yes")
    crm.ok("edit", "XS2024001", "--notes", "by hand")
    assert crm("import", "undo", str(first), "--yes").exit_code == 4
