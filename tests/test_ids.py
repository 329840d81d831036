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


# ---------------------------------------------------------------- #10.4: IDs past any real sequence

BAD_ID = "XS20269223372036854775807"


def test_an_explicit_id_with_an_overlong_sequence_is_refused(crm, isolated_env: Path):
    crm.ok(*add_args())
    before = sqlite3.connect(isolated_env).execute("SELECT * FROM id_sequences").fetchall()
    result = crm(*add_args(id=BAD_ID, phone="13900000000"))
    assert result.exit_code == 2
    assert "id" in result.stderr and "XS2026922" in result.stderr and "9 digits" in result.stderr
    conn = sqlite3.connect(isolated_env)
    assert conn.execute("SELECT * FROM id_sequences").fetchall() == before
    assert conn.execute("SELECT count(*) FROM customers").fetchone() == (1,)


def test_explicit_id_rule():
    assert ids.check_explicit("XS2024999999999") == "XS2024999999999"  # 9-digit sequence: the maximum
    assert ids.check_explicit("C-0042") == "C-0042"  # a previous system's code: allowed
    assert ids.check_explicit("abc20241234567890123") == "abc20241234567890123"  # not generated-shaped
    for bad in (BAD_ID, "XS20241234567890", "AB" + "1" * 30):
        try:
            ids.check_explicit(bad)
        except ids.ValidationError as exc:
            assert exc.reason == "id_sequence" and exc.field == "id"
        else:
            raise AssertionError(bad)
    assert not ids.FREE_ID_RE.match(BAD_ID)


def test_free_code_does_not_move_the_sequence(crm):
    year = crm.ok(*add_args()).strip()[2:6]
    crm.ok(*add_args(id="C-99999", phone="13900000000"))
    assert crm.ok(*add_args(phone="13900000001")).strip() == f"XS{year}002"


def _plant_bad_id(db: Path, year: str) -> None:
    """What an older crm left behind after `crm add --id XS2026922…`: the row and its sequence."""
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO customers (id, name, contact, phone, source, needs, first_contact, owner, status, "
        "created_at, updated_at, version, archived) SELECT ?, name, contact, phone, source, needs, first_contact, "
        "owner, status, created_at, updated_at, 1, 0 FROM customers LIMIT 1",
        (f"XS{year}9223372036854775807",),
    )
    conn.execute("UPDATE id_sequences SET last = 9223372036854775807 WHERE year = ?", (int(year),))
    conn.commit()
    conn.close()


def test_a_database_already_holding_the_bad_id_still_generates(crm, isolated_env: Path):
    first = crm.ok(*add_args()).strip()
    year = first[2:6]
    _plant_bad_id(isolated_env, year)
    assert crm.ok(*add_args(phone="13900000000")).strip() == f"XS{year}002"
    assert crm.ok(*add_args(phone="13900000001")).strip() == f"XS{year}003"
    # An explicit generated-style ID still moves the repaired sequence.
    crm.ok(*add_args(id=f"XS{year}050", phone="13900000002"))
    assert crm.ok(*add_args(phone="13900000003")).strip() == f"XS{year}051"


def test_a_float_or_text_sequence_is_ignored(crm, isolated_env: Path):
    year = crm.ok(*add_args()).strip()[2:6]
    conn = sqlite3.connect(isolated_env)
    conn.execute("UPDATE id_sequences SET last = 9.2e18")
    conn.commit()
    assert crm.ok(*add_args(phone="13900000000")).strip() == f"XS{year}002"
    conn.execute("UPDATE id_sequences SET last = 'x'")
    conn.commit()
    assert crm.ok(*add_args(phone="13900000001")).strip() == f"XS{year}003"


def test_import_of_the_bad_id_is_refused_and_undo_of_an_old_one_leaves_generation_working(
    crm, isolated_env: Path, tmp_path: Path
):
    year = crm.ok(*add_args()).strip()[2:6]
    header = "id,name,contact,phone,source,needs,owner,first_contact,status\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"{BAD_ID},坏,王,13911112222,online,n,张,2024-05-01,potential\n", encoding="utf-8")
    result = crm("import", str(bad))
    assert result.exit_code == 2 and "id" in result.stderr and "9 digits" in result.stderr
    # An import an older crm let through: the batch holds the bad ID and the sequence sits on it.
    good = tmp_path / "good.csv"
    good.write_text(header + f"XS{year}007,好,王,13911112222,online,n,张,2024-05-01,potential\n", encoding="utf-8")
    batch = __import__("json").loads(crm.ok("import", str(good), "--format", "json"))["batch"]
    conn = sqlite3.connect(isolated_env)
    conn.execute("UPDATE customers SET id = ? WHERE batch_id = ?", (f"XS{year}9223372036854775807", batch))
    conn.execute("UPDATE id_sequences SET last = 9223372036854775807")
    conn.commit()
    crm.ok("import", "undo", str(batch), "--yes")
    assert crm.ok(*add_args(phone="13900000000")).strip() == f"XS{year}002"
