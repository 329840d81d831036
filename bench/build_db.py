"""Build a benchmark database of N customers with ~5 follow-ups each, in crm's real schema.

    python bench/build_db.py --rows 1000000 --out bench/out/crm-1m.db

The schema comes from crm itself (open_store migrates a new file), the rows from generate.py;
they go in with plain executemany in one transaction per table, which is what makes 1M customers
and 5M follow-ups take about a minute rather than an hour.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import iter_customers, iter_followups  # noqa: E402

from crmcli import phones  # noqa: E402
from crmcli.storage import open_store  # noqa: E402

CUSTOMER_COLUMNS = (
    "id", "name", "industry", "type", "contact", "title", "phone", "email", "address", "source", "needs",
    "first_contact", "last_followup", "owner", "followup", "next_step", "status", "product", "amount", "notes",
    "phone_key", "created_at", "updated_at", "version", "archived",
)
FOLLOWUP_COLUMNS = ("customer_id", "date", "content", "result", "next_step", "next_date", "channel", "kind", "satisfaction", "by", "created_at")


def _customer_rows(rows: int, seed: int) -> Iterator[tuple[object, ...]]:
    for c in iter_customers(rows, seed=seed):
        stamp = c["first_contact"] + "T09:00:00Z"
        values = {k: (v or None) for k, v in c.items()}
        values["amount"] = int(Decimal(c["amount"]) * 100) if c["amount"] else None
        values["phone_key"] = phones.phone_key(c["phone"])
        values.update(created_at=stamp, updated_at=stamp, version=1, archived=0)
        yield tuple(values[k] for k in CUSTOMER_COLUMNS)


def _followup_rows(rows: int, seed: int) -> Iterator[tuple[object, ...]]:
    for f in iter_followups(rows, per_customer=5, seed=seed):
        values = {k: (v or None) for k, v in f.items()}
        values["satisfaction"] = int(f["satisfaction"]) if f["satisfaction"] else None
        values["created_at"] = f["date"]
        yield tuple(values[k] for k in FOLLOWUP_COLUMNS)


def build(path: Path, rows: int, seed: int = 1) -> dict[str, float]:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    timings: dict[str, float] = {}
    open_store(path).close()  # creates and migrates with crm's own code
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        f"INSERT INTO customers ({', '.join(CUSTOMER_COLUMNS)}) VALUES ({', '.join('?' * len(CUSTOMER_COLUMNS))})",
        _customer_rows(rows, seed),
    )
    conn.execute("COMMIT")
    timings["customers_s"] = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        f'INSERT INTO followups ({", ".join(f"{c!r}" if c == "by" else c for c in FOLLOWUP_COLUMNS)}) '
        f"VALUES ({', '.join('?' * len(FOLLOWUP_COLUMNS))})",
        _followup_rows(rows, seed),
    )
    conn.execute("COMMIT")
    timings["followups_s"] = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    timings["analyze_s"] = time.perf_counter() - start
    conn.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    timings = build(args.out, args.rows, args.seed)
    print(f"built {args.out} ({args.rows} customers): " + ", ".join(f"{k}={v:.1f}" for k, v in timings.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
