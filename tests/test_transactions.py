"""Every write transaction begins with BEGIN IMMEDIATE.

A deferred transaction that later needs the write lock fails with "database is locked" at once,
whatever the busy timeout: with several writers, most of their writes failed that way. Two guards:
a trace of the SQL every writing command really runs, and a scan of the source for other ways in.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b|^\s*PRAGMA\s+\w*\.?user_version\s*=", re.I)
BEGIN = re.compile(r"^\s*BEGIN\b(?!\s+IMMEDIATE\b)", re.I)
END = re.compile(r"^\s*(COMMIT|END|ROLLBACK)\s*(TRANSACTION)?\s*;?\s*$", re.I)


class Tracer:
    """Follows each connection's statements: a write outside BEGIN IMMEDIATE … COMMIT is a violation."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.writes = 0
        self.statements: list[str] = []

    def attach(self, conn: sqlite3.Connection) -> None:
        state = {"in": False}

        def trace(sql: str) -> None:
            text = sql.strip()
            if text.startswith("--"):  # statements run by triggers
                return
            self.statements.append(text)
            upper = text.upper()
            if upper.startswith("BEGIN IMMEDIATE"):
                if state["in"]:
                    self.violations.append(f"nested BEGIN: {text}")
                state["in"] = True
            elif BEGIN.match(text):
                self.violations.append(f"not IMMEDIATE: {text}")
                state["in"] = True
            elif END.match(text):
                state["in"] = False
            elif WRITE.match(text):
                self.writes += 1
                if not state["in"]:
                    self.violations.append(f"write outside BEGIN IMMEDIATE: {text[:200]}")

        conn.set_trace_callback(trace)


@pytest.fixture
def tracer(monkeypatch: pytest.MonkeyPatch) -> Tracer:
    tracer = Tracer()
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):  # type: ignore[no-untyped-def]
        conn = real_connect(*args, **kwargs)
        if kwargs.get("isolation_level", "") is not None:
            tracer.violations.append(f"connection with implicit transactions: {args[:1]} {kwargs}")
        tracer.attach(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return tracer


def test_every_writing_command_uses_begin_immediate(crm, add, tracer: Tracer, tmp_path: Path, monkeypatch) -> None:
    first = add()
    second = add(name="第二个客户", phone="13912345678")
    csv = tmp_path / "in.csv"
    csv.write_text(
        "客户名称,联系人姓名,联系方式,客户来源,需求描述,跟进人,首次接触时间,合作状态\n" + "".join(
            f"导入公司{i},王,1371234{i:04d},行业展会,采购,张经理,2024-05-01,潜在客户\n" for i in range(5)),
        encoding="utf-8",
    )
    editor = tmp_path / "editor.py"
    editor.write_text("import sys, re\np = sys.argv[-1]\nt = open(p).read()\n"
                      "open(p, 'w').write(re.sub(r'(?m)^product:.*$', 'product: 打印机', t))\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    backup_dir = tmp_path / "bk"
    commands: list[list[str]] = [
        ["edit", first, "--notes", "改过"],
        ["edit", first],
        ["log", first, "电话沟通", "--next", "报价", "--next-date", "3d"],
        ["status", first, "active", "--note", "签约"],
        ["grade", first, "A"],
        ["grade", "--recompute"],
        ["options", "add", "industry", "logistics", "--zh", "物流", "--en", "Logistics"],
        ["options", "rename", "industry", "logistics", "--en", "Logistics & freight"],
        ["options", "retire", "industry", "logistics"],
        ["config", "set", "stale-months", "4"],
        ["config", "unset", "stale-months"],
        ["show", first, "--reveal"],
        ["list", "--reveal"],
        ["search", "公司", "--reveal"],
        ["export", "--reveal", "--format", "csv", "--out", str(tmp_path / "out.csv")],
        ["import", str(csv)],
        ["import", "undo", "1", "--yes"],
        ["archive", second],
        ["restore", second],
        ["backup", str(backup_dir)],
        ["delete", second, "--yes"],
    ]
    for args in commands:
        before_writes = tracer.writes
        result = crm(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        if args[0] not in ("backup",):
            assert tracer.writes > before_writes, f"{args} wrote nothing: the guard would be vacuous"
    backups = list(backup_dir.iterdir())
    result = crm("backup", "restore", str(backups[0]), "--yes")
    assert result.exit_code == 0, result.stderr
    assert tracer.violations == []
    assert tracer.writes > 50


def test_migrations_on_a_new_database_use_begin_immediate(crm, tracer: Tracer) -> None:
    crm.ok("config", "set", "stale-months", "4")  # a write: the command that creates the database
    assert tracer.violations == []
    assert tracer.writes > 10  # the schema really was created under the trace


def test_the_tracer_catches_a_deferred_write(tracer: Tracer, tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("COMMIT")
    assert any("outside" in v for v in tracer.violations)
    assert any("not IMMEDIATE" in v for v in tracer.violations)


# ---------------------------------------------------------------------------- the source

SOURCE = sorted((ROOT / "crmcli").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: str(p.relative_to(ROOT)))
def test_source_opens_no_other_kind_of_transaction(path: Path) -> None:
    """Transactions are opened only by Store.write(); nothing commits on its own or opens
    a connection with Python's implicit (deferred) transactions."""
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(ROOT).as_posix()
    problems = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if re.search(r"\.commit\(\)", code):
            problems.append(f"{rel}:{n}: .commit() (use store.write())")
        if re.search(r"""execute\(\s*f?["']\s*BEGIN(?!\s+IMMEDIATE)""", code, re.I):
            problems.append(f"{rel}:{n}: BEGIN without IMMEDIATE")
        if re.search(r"""execute\(\s*f?["']\s*BEGIN\s+IMMEDIATE""", code, re.I) and rel not in (
            "crmcli/storage.py",
            "crmcli/backup.py",  # holds the write lock while the old database is copied aside
        ):
            problems.append(f"{rel}:{n}: BEGIN IMMEDIATE outside storage.Store.write()")
        if re.search(r"\.atomic\(|executescript\(", code):
            problems.append(f"{rel}:{n}: sqlite-utils atomic()/executescript opens its own transaction")
    for match in re.finditer(r"sqlite3\.connect\(", text):
        depth, end = 1, match.end()
        while depth and end < len(text):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if "isolation_level=None" not in text[match.end() : end]:
            n = text.count("\n", 0, match.start()) + 1
            problems.append(f"{rel}:{n}: sqlite3.connect without isolation_level=None")
    assert problems == []
