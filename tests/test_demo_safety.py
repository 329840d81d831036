"""crm demo never deletes a database it did not make (issue 10, item 2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crmcli import demo


def _customers(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    finally:
        conn.close()


def test_demo_refuses_a_real_database_and_touches_nothing(crm, add, isolated_env: Path) -> None:
    add()
    before = _customers(isolated_env)
    for lang, words in (("en", "is not a demo database"), ("zh", "不是演示数据库")):
        result = crm("--lang", lang, "--db", str(isolated_env), "demo")
        assert result.exit_code == 4, result.stderr
        assert words in result.stderr and str(isolated_env) in result.stderr
    assert _customers(isolated_env) == before and not demo.is_demo(isolated_env)


def test_demo_refuses_any_other_file(crm, tmp_path: Path) -> None:
    notes = tmp_path / "mine.db"
    notes.write_bytes(b"my notes, not a database")
    plain_sqlite = tmp_path / "other.sqlite"
    conn = sqlite3.connect(plain_sqlite)
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.commit()
    conn.close()
    for path in (notes, plain_sqlite):
        data = path.read_bytes()
        result = crm("--db", str(path), "demo")
        assert result.exit_code == 4 and "nothing was touched" in result.stderr
        assert path.read_bytes() == data
    orphan = tmp_path / "gone.db-wal"
    orphan.write_bytes(b"wal of a deleted database")
    assert crm("--db", str(tmp_path / "gone.db"), "demo").exit_code == 4 and orphan.exists()


def test_demo_creates_a_new_file_and_recreates_its_own(crm, tmp_path: Path) -> None:
    target = tmp_path / "demo.db"
    crm.ok("--db", str(target), "demo")
    assert demo.is_demo(target)
    first = _customers(target)
    assert first == len(demo.SAMPLE)
    crm.ok("--db", str(target), "demo")  # an earlier demo's file: replaced, not added to
    assert _customers(target) == first and demo.is_demo(target)
