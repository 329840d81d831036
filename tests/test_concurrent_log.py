"""4 processes logging 200 follow-ups each at once: 800 rows, zero errors, consistent customers."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .conftest import add_args, subprocess_env

WORKER = r"""
import json, sys, time
from crmcli import customers, followups, options
from crmcli.storage import open_store

db, worker, n, ids = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
store = open_store(db)
opts = options.load(store)
ctx = customers.Context(f"worker{worker}", "XS", "log")
print("ready", flush=True)
sys.stdin.readline()  # start together
errors, slowest, start = [], 0.0, time.perf_counter()
for i in range(n):
    cid = ids[i % len(ids)]
    day = f"2024-0{1 + (i * 7 + worker) % 5}-{10 + (i + worker) % 18:02d}"
    t0 = time.perf_counter()
    try:
        followups.log(store, cid, followups.FollowupInput(
            f"进程{worker} 第{i}次跟进", date=day, next_step=f"下一步 {worker}-{i}", channel="电话"), ctx, opts)
    except Exception as exc:
        errors.append(repr(exc))
    slowest = max(slowest, time.perf_counter() - t0)
print(json.dumps({"errors": errors, "seconds": time.perf_counter() - start, "slowest": slowest}), flush=True)
"""


def test_four_processes_200_follow_ups_each(crm, isolated_env):
    ids = [crm.ok(*add_args(phone=f"1390000000{i}", first_contact="2024-01-01")).strip() for i in range(4)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(isolated_env), str(w), "200", ",".join(ids)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(isolated_env),
        )
        for w in range(4)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline() == b"ready\n"
        started = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(b"go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=100)
            assert p.returncode == 0, err.decode()
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
        wall = time.perf_counter() - started
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [r["errors"] for r in results] == [[], [], [], []]
    print(f"\n800 follow-ups from 4 processes in {wall:.2f}s; slowest single log {max(r['slowest'] for r in results):.3f}s")

    with sqlite3.connect(isolated_env) as conn:
        assert conn.execute("SELECT count(*) FROM followups").fetchone() == (800,)
        assert conn.execute("SELECT count(*) FROM audit_log WHERE field = 'followups'").fetchone() == (800,)
        for w in range(4):
            assert conn.execute('SELECT count(*) FROM followups WHERE "by" = ?', (f"worker{w}",)).fetchone() == (200,)
        # Each customer's last follow-up is the latest date logged, and mirrors that follow-up.
        for cid in ids:
            last, followup = conn.execute("SELECT last_followup, followup FROM customers WHERE id = ?", (cid,)).fetchone()
            latest = conn.execute("SELECT max(date) FROM followups WHERE customer_id = ?", (cid,)).fetchone()[0]
            assert last == latest
            assert followup in {r[0] for r in conn.execute(
                "SELECT content FROM followups WHERE customer_id = ? AND date = ?", (cid, latest))}


def test_concurrent_cli_invocations(crm, isolated_env):
    cid = crm.ok(*add_args(first_contact="2024-01-01")).strip()
    env = subprocess_env(isolated_env)

    def run(i: int) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "crmcli", "log", cid, f"命令行并发 {i}", "--date", f"2024-05-{1 + i % 28:02d}", "-q"],
            capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(24)))
    assert [r.returncode for r in results] == [0] * 24, [r.stderr.decode() for r in results if r.returncode]
    numbers = sorted(int(r.stdout) for r in results)
    assert numbers == list(range(1, 25))
    rec = json.loads(crm.ok("show", cid, "-f", "json"))
    assert rec["last_followup"] == "2024-05-24"
