#!/usr/bin/env python3
"""Import benchmark: ``crm import`` against the sqlite3 shell's ``.import`` and ``sqlite-utils``.

    python bench/bench_import.py                       # 200k rows, then peak memory at 100k and 1M
    python bench/bench_import.py --rows 50000 --memory ""   # quicker, no memory series

Generates the seed's 20-column layout with Chinese headers and data (``bench/generate.py``), then
times in one run, each into a fresh database:

* ``sqlite3 .import`` (seed table): the shell alone, into a table with the 20 seed columns, the
  same column types, primary key and the indexes crm keeps on those columns. No validation.
* ``sqlite3 .import`` (crm schema): the shell's ``.import`` into a staging table, then one
  ``INSERT … SELECT`` into crm's real ``customers`` table (every index crm has, bookkeeping columns
  filled by SQL). The same schema ``crm import`` writes to; still no validation.
* ``sqlite-utils insert --csv``: the tool the design notes compare against.
* ``crm import``: fully validated (dropdown labels to codes, phones, e-mails, dates, amounts,
  placeholders, required fields), duplicate matching, generated audit and status rows, and the
  follow-up each row's 跟进内容 columns create.

Prints wall times, ratios and each process's peak RSS (from ``wait4``). The figures go into the
README's "Import and export" section.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED_COLUMNS = (
    "id, name, industry, type, contact, title, phone, email, address, source, needs, first_contact, "
    "last_followup, owner, followup, next_step, status, product, amount, notes"
)
SEED_TABLE = """
CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, industry TEXT, type TEXT, contact TEXT,
  title TEXT, phone TEXT, email TEXT, address TEXT, source TEXT, needs TEXT, first_contact TEXT,
  last_followup TEXT, owner TEXT, followup TEXT, next_step TEXT, status TEXT NOT NULL, product TEXT,
  amount INTEGER, notes TEXT);
CREATE INDEX i1 ON customers(status); CREATE INDEX i2 ON customers(owner);
CREATE INDEX i3 ON customers(last_followup); CREATE INDEX i4 ON customers(first_contact);
CREATE INDEX i5 ON customers(email); CREATE INDEX i6 ON customers(industry); CREATE INDEX i7 ON customers(source);
PRAGMA journal_mode = WAL;
"""


def run(cmd: list[str], env: dict[str, str] | None = None, stdin: int | None = None) -> tuple[float, int, str]:
    """Run ``cmd``; (wall seconds, peak RSS in MiB, stderr tail). Fails loudly on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=stdin)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    text = err.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}… failed ({proc.returncode}):\n{text[-2000:]}")
    return wall, usage.ru_maxrss // 1024, text.splitlines()[-1] if text else ""


def generate(rows: int, path: Path) -> None:
    run(
        [
            sys.executable,
            str(HERE / "generate.py"),
            "customers",
            "--rows",
            str(rows),
            "--out",
            str(path),
            "--header",
            "zh",
        ]
    )


def crm_env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CRM_DB=str(db), CRM_LANG="en", NO_COLOR="1")
    return env


def fresh_crm_db(db: Path) -> None:
    """Create and migrate an empty crm database (not timed)."""
    # reads never create a database: open it (creating and migrating) through the library
    run([sys.executable, "-c", "import sys; from crmcli.storage import open_store; open_store(sys.argv[1]).close()", str(db)],
        env=crm_env(db))


def time_crm(csv_path: Path, work: Path, name: str) -> tuple[float, int, str]:
    db = work / f"{name}.db"
    fresh_crm_db(db)
    return run([sys.executable, "-m", "crmcli", "import", str(csv_path)], env=crm_env(db))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--memory", default="100000,1000000", help="row counts for the crm import memory series ('' to skip)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--sqlite3", default=shutil.which("sqlite3") or "sqlite3")
    parser.add_argument(
        "--sqlite-utils", default=shutil.which("sqlite-utils") or str(Path(sys.executable).with_name("sqlite-utils"))
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="crm-bench-import-"))
    try:
        csv_path = work / "customers.csv"
        generate(args.rows, csv_path)
        size = csv_path.stat().st_size / 2**20
        print(f"{args.rows:,} rows, {size:.1f} MiB CSV (seed layout, Chinese headers)\n")
        results: list[tuple[str, float, int]] = []

        db = work / "shell-seed.db"
        subprocess.run([args.sqlite3, str(db)], input=SEED_TABLE.encode(), check=True, stdout=subprocess.DEVNULL)
        wall, rss, _ = run([args.sqlite3, str(db), ".import --csv --skip 1 " + str(csv_path) + " customers"])
        results.append(("sqlite3 .import (seed table)", wall, rss))

        db = work / "shell-crm.db"
        fresh_crm_db(db)
        script = (
            f"CREATE TEMP TABLE stage ({SEED_COLUMNS});\n"
            f".import --csv --skip 1 {csv_path} stage\n"
            "BEGIN IMMEDIATE;\n"
            f"INSERT INTO customers ({SEED_COLUMNS}, created_at, updated_at, phone_key) "
            f"SELECT {SEED_COLUMNS}, strftime('%Y-%m-%dT%H:%M:%SZ'), strftime('%Y-%m-%dT%H:%M:%SZ'), phone FROM stage;\n"
            "COMMIT;\n"
        )
        script_path = work / "shell.sql"
        script_path.write_text(script, encoding="utf-8")
        with open(script_path, "rb") as fh:
            wall, rss, _ = run([args.sqlite3, str(db)], stdin=fh.fileno())
        results.append(("sqlite3 .import (crm schema)", wall, rss))

        wall, rss, _ = run([args.sqlite_utils, "insert", str(work / "su.db"), "customers", str(csv_path), "--csv"])
        results.append(("sqlite-utils insert --csv", wall, rss))

        wall, rss, summary = time_crm(csv_path, work, "crm")
        results.append(("crm import (validated)", wall, rss))

        crm_time = results[-1][1]
        print(f"{'':32} {'seconds':>8} {'peak MiB':>9} {'crm ÷ this':>11}")
        for name, wall, rss in results:
            print(f"{name:32} {wall:8.2f} {rss:9d} {crm_time / wall:11.2f}")
        print(f"\ncrm: {summary}")
        shell_seed, shell_crm, su = results[0][1], results[1][1], results[2][1]
        print(f"crm import vs sqlite3 .import (crm schema): {crm_time / shell_crm:.2f}x  (target: within 2x)")
        print(f"crm import vs sqlite3 .import (seed table): {crm_time / shell_seed:.2f}x")
        print(f"sqlite-utils insert --csv vs crm import:    {su / crm_time:.2f}x faster  (target: at least 5x)")

        sizes = [int(s) for s in args.memory.split(",") if s.strip()]
        if sizes:
            print("\ncrm import peak memory as the file grows:")
            for n in sizes:
                path = work / f"mem-{n}.csv"
                generate(n, path)
                wall, rss, _ = time_crm(path, work, f"mem-{n}")
                print(f"  {n:>9,} rows: {rss:5d} MiB peak RSS, {wall:6.1f} s")
                path.unlink()
                for suffix in ("", "-wal", "-shm"):
                    Path(str(work / f"mem-{n}.db") + suffix).unlink(missing_ok=True)
    finally:
        if args.keep:
            print(f"\nwork directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
