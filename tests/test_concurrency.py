"""Several crm processes writing at once: no lost write, no "database is locked"; beyond the busy
timeout a clear "busy" error (exit 5) with nothing half-written."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from crmcli import storage

from .conftest import PYTHON, add_args, subprocess_env

# One worker process: 200 mixed writes through the real CLI (in-process, one `crm` run each),
# 50 each of add, log, status and edit, in a shuffled order. It reports what it wrote.
WORKER = r"""
import json, random, sys
from typer.testing import CliRunner
from crmcli.cli import app

worker = int(sys.argv[1])
rng = random.Random(worker)
runner = CliRunner()
base = ["--contact", "王强", "--phone", "13812345678", "--source", "行业展会", "--needs", "采购", "--owner", "张经理"]
mine, status_of = [], {}
done = {"add": [], "log": [], "status": [], "edit": []}
errors = []
cycle = ["intent", "active", "paused", "potential"]

def run(*args):
    result = runner.invoke(app, list(args), catch_exceptions=True)
    if result.exit_code != 0:
        errors.append([list(args), result.exit_code, result.output, repr(result.exception)])
        return None
    return result.stdout.strip()

def add(i):
    cid = run("add", "-q", "--name", f"w{worker}-c{i}", *base)
    if cid:
        mine.append(cid)
        status_of[cid] = "potential"
        done["add"].append([cid, f"w{worker}-c{i}"])

ops = ["add"] * 45 + ["log"] * 50 + ["status"] * 50 + ["edit"] * 50
rng.shuffle(ops)
for i in range(5):
    add(i)
for n, op in enumerate(ops):
    if op == "add":
        add(n + 5)
        continue
    cid = rng.choice(mine)
    tag = f"w{worker}-{op}{n}"
    if op == "log":
        if run("log", cid, tag, "--next", "回电"):
            done["log"].append([cid, tag])
    elif op == "status":
        new = cycle[(cycle.index(status_of[cid]) + 1) % len(cycle)]
        if run("status", cid, new, "--note", tag) is not None:
            status_of[cid] = new
            done["status"].append([cid, new, tag])
    else:
        if run("edit", cid, "--product", tag, "--amount", str(n)) is not None:
            done["edit"].append([cid, tag])
print(json.dumps({"done": done, "errors": errors, "status_of": status_of}))
"""


def test_four_processes_two_hundred_mixed_writes_each(isolated_env: Path) -> None:
    env = subprocess_env(isolated_env)
    storage.open_store(isolated_env).close()  # created and migrated once, as on first use
    procs = [
        subprocess.Popen([PYTHON, "-c", WORKER, str(w)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for w in range(4)
    ]
    reports = []
    for proc in procs:
        out, errout = proc.communicate(timeout=240)
        assert proc.returncode == 0, errout[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    errors = [e for r in reports for e in r["errors"]]
    assert errors == []  # zero errors: no "database is locked", no busy, no conflict
    assert all(len(r["done"][op]) == n for r in reports for op, n in
               (("add", 50), ("log", 50), ("status", 50), ("edit", 50)))

    conn = sqlite3.connect(isolated_env)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    names = dict(conn.execute("SELECT id, name FROM customers"))
    added = [(cid, name) for r in reports for cid, name in r["done"]["add"]]
    assert len(added) == 200 and len({cid for cid, _ in added}) == 200  # IDs unique across processes
    assert all(names.get(cid) == name for cid, name in added)
    logged = set(conn.execute("SELECT customer_id, content FROM followups"))
    assert {(cid, tag) for r in reports for cid, tag in r["done"]["log"]} <= logged
    assert len(logged) == 200
    changes = set(conn.execute("SELECT customer_id, to_status, note FROM status_changes WHERE note IS NOT NULL"))
    assert {tuple(x) for r in reports for x in r["done"]["status"]} == changes
    final_status = dict(conn.execute("SELECT id, status FROM customers"))
    assert all(final_status[cid] == st for r in reports for cid, st in r["status_of"].items())
    edits = set(conn.execute("SELECT customer_id, new FROM audit_log WHERE field = 'product' AND command = 'edit'"))
    assert {(cid, tag) for r in reports for cid, tag in r["done"]["edit"]} == edits
    # Every write bumped its customer's row version exactly once.
    versions = dict(conn.execute("SELECT id, version FROM customers"))
    expected = {cid: 1 for cid, _ in added}
    for r in reports:
        for op in ("log", "status", "edit"):
            for row in r["done"][op]:
                expected[row[0]] += 1
    assert versions == expected
    conn.close()


# ---------------------------------------------------------------------------- beyond the busy timeout


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "BUSY_TIMEOUT_MS", 300)


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _snapshot(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("customers", "followups", "status_changes", "audit_log")
        ) + (conn.execute("SELECT group_concat(id || ':' || version) FROM customers").fetchone()[0],)
    finally:
        conn.close()


def test_busy_beyond_the_timeout_is_a_clear_error_and_writes_nothing(crm, add, isolated_env: Path,
                                                                     short_timeout: None, tmp_path: Path) -> None:
    customer_id = add()
    before = _snapshot(isolated_env)
    csv = tmp_path / "in.csv"
    csv.write_text("客户名称,联系人姓名,联系方式,客户来源,需求描述,跟进人,首次接触时间,合作状态\n" + "".join(
        f"公司{i},王,1381234{i:04d},行业展会,采购,张经理,2024-05-01,潜在客户\n" for i in range(50)), encoding="utf-8")
    holder = _hold_write_lock(isolated_env)
    try:
        for args in (
            add_args(name="被锁住的客户"),
            ["log", customer_id, "打过电话"],
            ["status", customer_id, "active"],
            ["edit", customer_id, "--notes", "x"],
            ["import", str(csv)],
        ):
            started = time.monotonic()
            result = crm(*args)
            assert result.exit_code == 5, (args, result.exit_code, result.stderr)
            assert "busy" in result.stderr and "try again" in result.stderr
            assert "Traceback" not in result.stderr and "database is locked" not in result.stderr
            assert time.monotonic() - started < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _snapshot(isolated_env) == before
    crm.ok(*add_args(name="锁释放以后"))


def test_a_lock_released_within_the_timeout_is_waited_for(crm, add, isolated_env: Path) -> None:
    customer_id = add()
    holder = _hold_write_lock(isolated_env)
    timer = threading.Timer(0.5, lambda: (holder.execute("COMMIT"), holder.close()))
    timer.start()
    try:
        started = time.monotonic()
        crm.ok("log", customer_id, "等锁释放后写入")
        assert time.monotonic() - started >= 0.4
    finally:
        timer.join()
    assert crm.json("history", customer_id)
