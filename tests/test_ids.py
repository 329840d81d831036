"""Customer ID generation: prefix + year + sequence, never reused or duplicated."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from crmcli import ids

from .conftest import add_args, subprocess_env


def test_sequence_grows_past_999():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE customers (id TEXT PRIMARY KEY)")
    conn.execute("CREATE TABLE trash_customers (id TEXT PRIMARY KEY)")
    conn.execute("CREATE TABLE id_sequences (prefix TEXT, year INTEGER, last INTEGER, PRIMARY KEY (prefix, year))")
    conn.execute("INSERT INTO id_sequences VALUES ('XS', 2024, 998)")
    assert [ids.next_id(conn, "XS", 2024) for _ in range(3)] == ["XS2024999", "XS20241000", "XS20241001"]
    assert ids.next_id(conn, "XS", 2025) == "XS2025001"
    assert ids.next_id(conn, "KH", 2024) == "KH2024001"


def test_ids_are_sequential_and_never_reused(crm):
    first = crm.ok(*add_args()).strip()
    second = crm.ok(*add_args(phone="13900000000")).strip()
    assert int(second[6:]) == int(first[6:]) + 1
    crm.ok("delete", second, "--yes")
    third = crm.ok(*add_args(phone="13900000001")).strip()
    assert int(third[6:]) == int(second[6:]) + 1


def test_explicit_id_moves_the_sequence_past_it(crm):
    year = crm.ok(*add_args()).strip()[2:6]
    crm.ok(*add_args(id=f"XS{year}050", phone="13900000000"))
    assert crm.ok(*add_args(phone="13900000001")).strip() == f"XS{year}051"


WORKER = """
import sys
from crmcli import customers, options
from crmcli.storage import open_store
n, tag = int(sys.argv[1]), sys.argv[2]
made = []
for i in range(n):
    # A fresh connection per add, like separate `crm add` processes.
    with open_store() as store:
        ctx = customers.Context.load(store, "add")
        rec = customers.add(store, {"name": f"{tag}-{i}", "contact": "王", "phone": "13800000000",
                                    "source": "online", "needs": "x", "owner": "o"}, ctx, options.load(store))
        made.append(rec["id"])
print("\\n".join(made))
"""


def test_four_processes_adding_at_once_get_unique_ids(tmp_path: Path):
    db = tmp_path / "race.db"
    env = subprocess_env(db)
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, "50", f"w{w}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(4)
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outputs]
    made = [line for out, _ in outputs for line in out.split()]
    assert len(made) == 200 and len(set(made)) == 200
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*), count(DISTINCT id) FROM customers").fetchone() == (200, 200)
    numbers = sorted(int(i[6:]) for i in made)
    assert numbers == list(range(1, 201))
