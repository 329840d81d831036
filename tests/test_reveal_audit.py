"""A reveal records exactly the customers it shows, from the one result set it shows (#10.11)."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from crmcli import audit, customers, options, query
from crmcli.storage import open_store

from .conftest import PYTHON, subprocess_env

WRITER = """
import pathlib, sys
from crmcli import customers, options
from crmcli.storage import open_store

store = open_store(sys.argv[1])
opts = options.load(store)
ctx = customers.Context.load(store, "add")
ready, stop = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
for i in range(int(sys.argv[4])):
    if stop.exists():
        break
    customers.add(store, {"name": f"并发客户{i}", "contact": "王强", "phone": f"139{i:08d}", "source": "online",
                          "needs": "采购", "owner": "张经理"}, ctx, opts)
    ready.touch()
"""


def _base(db: Path, n: int) -> None:
    with open_store(db) as store:
        opts = options.load(store)
        ctx = customers.Context.load(store, "add")
        for i in range(n):
            customers.add(
                store,
                {
                    "name": f"老客户{i}",
                    "contact": "李四",
                    "phone": f"138{i:08d}",
                    "source": "online",
                    "needs": "采购",
                    "owner": "张经理",
                },
                ctx,
                opts,
            )


def _audited_since(db: Path, after: int, command: str) -> tuple[int, list[str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT id, customer_id FROM audit_log WHERE id > ? AND new = 'revealed' AND command = ? ORDER BY id",
            (after, command),
        ).fetchall()
        top = conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    return top, [cid for _, cid in rows]


def _shown(out: str, fmt: str) -> list[str]:
    if fmt == "json":
        return [r["id"] for r in json.loads(out)]
    if fmt == "jsonl":
        return [json.loads(line)["id"] for line in out.splitlines()]
    if fmt == "csv":
        return [r["id"] for r in csv.DictReader(io.StringIO(out))]
    if fmt == "ids":
        return out.split()
    return re.findall(r"\bXS\d{7,}\b", out)


def test_reveal_under_a_concurrent_writer_audits_exactly_what_is_shown(crm, isolated_env: Path, tmp_path: Path) -> None:
    _base(isolated_env, 30)
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    writer = subprocess.Popen(
        [PYTHON, "-c", WRITER, str(isolated_env), str(ready), str(stop), "1500"],
        env=subprocess_env(isolated_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):  # bounded wait for the writer's first commit
            if ready.exists() or writer.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), writer.stderr.read() if writer.poll() is not None else "writer did not start"
        with sqlite3.connect(isolated_env) as conn:
            before = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        top, _ = _audited_since(isolated_env, 0, "")
        formats = ["json", "csv", "table", "jsonl", "ids"]
        runs = 0
        for round_ in range(5):
            for fmt in formats:
                out = crm.ok("list", "--reveal", "--format", fmt, "--limit", "0" if fmt != "table" else "100")
                top, audited = _audited_since(isolated_env, top, "list --reveal")
                shown = _shown(out, fmt)
                assert shown, fmt
                assert sorted(audited) == sorted(shown), (fmt, round_, set(shown) ^ set(audited))
                runs += 1
            out = crm.ok("stale", "--before", "2099-01-01", "--reveal", "--format", "json")
            top, audited = _audited_since(isolated_env, top, "stale --reveal")
            assert sorted(audited) == sorted(_shown(out, "json"))
            out = crm.ok("export", "--reveal", "--format", "csv")
            top, audited = _audited_since(isolated_env, top, "export --reveal")
            assert sorted(audited) == sorted(_shown(out, "csv"))
        with sqlite3.connect(isolated_env) as conn:
            after = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        assert after > before, "the writer added nothing while the listings ran"
    finally:
        stop.touch()
        try:
            writer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
    assert writer.returncode == 0, writer.stderr.read()


def test_rows_added_while_a_reveal_streams_are_neither_shown_nor_audited(isolated_env: Path) -> None:
    """Deterministic: another connection commits between chunks; the cursor keeps its snapshot."""
    _base(isolated_env, 12)
    with open_store(isolated_env) as store:
        other = sqlite3.connect(isolated_env, isolation_level=None)
        try:
            shown = []
            for n, row in enumerate(
                audit.reveal(store, query.select(store.conn, query.Filters()), "list --reveal", chunk=5), 1
            ):
                shown.append(row["id"])
                if n % 5 == 0:  # a writer commits a new customer while the listing streams
                    other.execute(
                        "INSERT INTO customers (id, name, contact, phone, source, needs, first_contact, owner, "
                        "status, created_at, updated_at) VALUES (?, 'x', 'y', '13900000000', 'online', 'z', "
                        "'2024-01-01', 'o', 'potential', 't', 't')",
                        (f"ZZ{n}",),
                    )
        finally:
            other.close()
        audited = [
            r[0] for r in store.conn.execute("SELECT customer_id FROM audit_log WHERE new = 'revealed' ORDER BY id")
        ]
        assert len(shown) == 12 and not any(cid.startswith("ZZ") for cid in shown)
        assert audited == shown


def test_each_chunk_is_recorded_before_any_of_its_rows_is_passed_on(isolated_env: Path) -> None:
    _base(isolated_env, 7)
    probe = sqlite3.connect(isolated_env)  # the listing's own connection keeps its snapshot: look from outside

    def count() -> int:
        return probe.execute("SELECT count(*) FROM audit_log WHERE new = 'revealed'").fetchone()[0]

    try:
        with open_store(isolated_env) as store:
            rows = audit.reveal(store, query.select(store.conn, query.Filters()), "list --reveal", chunk=3)
            seen = [count() for _ in rows]
    finally:
        probe.close()
    assert seen == [3, 3, 3, 6, 6, 6, 7]


@pytest.mark.parametrize("args", [["list"], ["search", "客户"], ["stale", "--before", "2099-01-01"], ["export"]])
def test_machine_and_table_reveals_audit_the_rows_shown(crm, isolated_env: Path, args: list[str]) -> None:
    _base(isolated_env, 4)
    command = f"{args[0]} --reveal"
    for fmt in ["csv", "json"] if args[0] == "export" else ["table", "json", "csv"]:
        top, _ = _audited_since(isolated_env, 0, "")
        out = crm.ok(*args, "--reveal", "--format", fmt)
        _, audited = _audited_since(isolated_env, top, command)
        assert sorted(audited) == sorted(_shown(out, fmt)), fmt
        assert "13800000001" in out
