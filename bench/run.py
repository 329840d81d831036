"""crm's benchmark suite: start-up and hot queries at 10k / 100k / 1M customers, as ratios.

    python bench/run.py                 # 10k and 100k (a few minutes)
    python bench/run.py --sizes 10k,100k,1m

Every figure is a median over several runs, and every crm figure is divided by a baseline run in
the same process moments before: `python -c "import sqlite3, json"` for start-up, and the same
query run by the `sqlite3` shell for queries. Peak memory (max RSS) is measured per command.
Databases are built once into bench/out/ by build_db.py and reused while their size matches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TODAY = "2026-11-27"  # the generator's --until: stale windows count from the data's today

MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
if proc.returncode not in (0, 1):
    sys.stderr.write(proc.stderr.decode(errors="replace")[-400:])
    sys.exit(3)
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one run; the measuring wrapper has this one child only."""
    proc = subprocess.run([sys.executable, "-c", MEASURE, *argv], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    elapsed, rss = proc.stdout.split()
    return float(elapsed), int(rss)


def compare(
    name: str, ours: list[str], baseline: list[str], env: dict[str, str], repeat: int, target: str = ""
) -> dict[str, object]:
    """Median of ``repeat`` runs each, crm and baseline alternating (A B A B …), so that a change
    in the machine's load hits both sides alike."""
    base_runs: list[tuple[float, int]] = []
    our_runs: list[tuple[float, int]] = []
    try:
        for _ in range(repeat):
            base_runs.append(run_once(baseline, env))
            our_runs.append(run_once(ours, env))
    except RuntimeError as exc:
        print(f"  {name}: skipped ({exc})", file=sys.stderr)
        return {"name": name, "error": str(exc)}
    base_t = statistics.median(r[0] for r in base_runs)
    our_t = statistics.median(r[0] for r in our_runs)
    row = {
        "name": name, "crm_s": round(our_t, 4), "baseline_s": round(base_t, 4), "ratio": round(our_t / base_t, 2),
        "target": target, "crm_rss_mb": round(max(r[1] for r in our_runs) / 1024, 1),
        "baseline_rss_mb": round(max(r[1] for r in base_runs) / 1024, 1),
    }
    print(f"  {name}: crm {our_t * 1000:.0f} ms vs {base_t * 1000:.0f} ms = {row['ratio']}x (target {target}); "
          f"peak {row['crm_rss_mb']} MB", file=sys.stderr)
    return row


def crm(*args: str) -> list[str]:
    return [sys.executable, "-m", "crmcli", *args]


def shell(db: Path, sql: str, mode: str = "-json") -> list[str]:
    return ["sqlite3", mode, str(db), sql]


def startup(env_base: dict[str, str], repeat: int) -> list[dict[str, object]]:
    work = OUT / "startup.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    env = {**env_base, "CRM_DB": str(work)}
    subprocess.run(crm("list", "--format", "ids"), env=env, check=True, capture_output=True)  # create + migrate
    baseline = [sys.executable, "-c", "import sqlite3, json"]
    add = crm("add", "-q", "--name", "基准公司", "--contact", "王强", "--phone", "13812345678",
              "--source", "online", "--needs", "采购", "--owner", "张经理")
    return [
        compare("crm --version", crm("--version"), baseline, env, repeat, "≤ 3.0x"),
        compare("crm stale, nothing stale", crm("stale"), baseline, env, repeat, "≤ 3.0x"),
        compare("crm list --limit 1, empty", crm("list", "--limit", "1", "--status", "lost"), baseline, env, repeat, "≤ 3.0x"),
        compare("crm add -q", add, baseline, env, repeat, "≤ 3.0x"),
    ]


def queries(db: Path, env_base: dict[str, str], repeat: int) -> list[dict[str, object]]:
    env = {**env_base, "CRM_DB": str(db), "CRM_TODAY": TODAY}
    # Bring the schema up to date (new migrations, indexes) before anything is timed.
    subprocess.run(crm("list", "--limit", "1", "--format", "ids"), env=env, check=True, capture_output=True)
    conn = sqlite3.connect(db)
    owner = conn.execute("SELECT owner FROM customers GROUP BY owner ORDER BY count(*) LIMIT 1").fetchone()[0]
    conn.close()
    cutoff = "2026-08-27"
    stale_sql = (
        "SELECT *, julianday('now') - julianday(coalesce(last_followup, first_contact)) AS days FROM customers "
        f"WHERE archived = 0 AND status != 'lost' AND coalesce(last_followup, first_contact) < '{cutoff}' "
        "ORDER BY coalesce(last_followup, first_contact)"
    )
    list_sql = f"SELECT * FROM customers WHERE status = 'intent' AND owner = '{owner}' AND archived = 0 ORDER BY id"
    # The scan crm search ran before its index (LIKE over the same columns), as the baseline.
    from crmcli.query import text_match

    def search_sql(term: str) -> str:
        clause, params = text_match(term, indexed=False)
        for value in params:
            clause = clause.replace("?", "'" + str(value).replace("'", "''") + "'", 1)
        return f"SELECT * FROM customers WHERE archived = 0 AND {clause} ORDER BY id LIMIT 100"

    pivot_sql = "SELECT industry, status, count(*) FROM customers WHERE archived = 0 GROUP BY industry, status"
    # The closest plain SQL to the agenda: due next steps, then the top 10 by a priority score.
    today_sql = (
        f"SELECT * FROM customers WHERE archived = 0 AND status != 'lost' AND next_date <= '{TODAY}' ORDER BY next_date; "
        "SELECT *, (CASE status WHEN 'intent' THEN 4 WHEN 'active' THEN 3 WHEN 'potential' THEN 2 WHEN 'paused' THEN 1 "
        "ELSE 0 END) + (CASE grade WHEN 'A' THEN 3 WHEN 'B' THEN 2 WHEN 'C' THEN 1 ELSE 0 END) + 6.0 * min(max("
        f"julianday('{TODAY}') - julianday(coalesce(last_followup, first_contact)), 0) / 92.0, 2.0) AS s "
        "FROM customers WHERE archived = 0 AND status != 'lost' ORDER BY s DESC LIMIT 10"
    )
    return [
        compare("crm stale --format json", crm("stale", "--format", "json"), shell(db, stale_sql), env, repeat, "≤ 1.3x"),
        compare(f"crm list --status intent --owner {owner} --format json",
                crm("list", "--status", "intent", "--owner", owner, "--format", "json"), shell(db, list_sql), env, repeat,
                "≤ 2.5x"),
        compare("crm search 采购", crm("search", "采购"), shell(db, search_sql("采购"), "-list"), env, repeat,
                "≤ 50 ms of query"),
        compare("crm search CDN", crm("search", "CDN"), shell(db, search_sql("CDN"), "-list"), env, repeat,
                "≤ 50 ms of query"),
        compare("crm report pivot industry status", crm("report", "pivot", "industry", "status", "--format", "json"),
                shell(db, pivot_sql), env, repeat, "keep ≤ 1.2x"),
        compare("crm today", crm("today", "--format", "json"), shell(db, today_sql), env, repeat, "≤ 1.5x"),
    ]


def table(results: dict[str, object], sizes: list[str]) -> str:
    """The results as the Markdown table of issue 15: work, crm, baseline, ratio, target."""
    lines = ["| work | size | crm | baseline | ratio | target | peak memory |", "|---|---|---:|---:|---:|---|---:|"]

    def fmt(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"

    for size in ["startup", *sizes]:
        for row in results.get(size, []):  # type: ignore[attr-defined]
            if "error" in row:
                lines.append(f"| `{row['name']}` | {size} | failed | | | | |")
                continue
            lines.append(
                f"| `{row['name']}` | {'' if size == 'startup' else size} | {fmt(row['crm_s'])} | {fmt(row['baseline_s'])} "
                f"| {row['ratio']}x | {row['target']} | {row['crm_rss_mb']} MB |"
            )
    return "\n".join(lines)


BEGIN, END = "<!-- bench:begin (python bench/run.py --update-readme) -->", "<!-- bench:end -->"


def update_readme(path: Path, results: dict[str, object], sizes: list[str]) -> None:
    """Rewrite the block between the markers in README.md with these results."""
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        sys.exit(f"{path}: the markers {BEGIN!r} … {END!r} are missing")
    block = (
        f"{BEGIN}\nMeasured {results['date']} on {results['machine']}; medians of {results['repeat']} alternating "
        f"runs (at most 3 at 1M).\n\n{table(results, sizes)}\n{END}"
    )
    head, rest = text.split(BEGIN, 1)
    path.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k, 100k, 1m")
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median); 1M uses at most 3")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the README's Performance table")
    parser.add_argument("--readme-only", action="store_true",
                        help="measure nothing: rewrite the README's table from bench/out/results.json")
    args = parser.parse_args()
    if args.readme_only:
        saved = json.loads((OUT / "results.json").read_text())
        update_readme(HERE.parent / "README.md", saved, saved.get("sizes", args.sizes.split(",")))
        return 0
    if not shutil.which("sqlite3"):
        sys.exit("the sqlite3 shell is needed for the baselines (apt-get install sqlite3)")
    OUT.mkdir(exist_ok=True)
    # PYTHONDONTWRITEBYTECODE would make every run compile crm's modules again (0.1-0.4 s):
    # users have the bytecode cache, so the benchmark does too.
    env = {k: v for k, v in os.environ.items() if k not in ("CRM_LANG", "FORCE_COLOR", "PYTHONDONTWRITEBYTECODE")}
    env.update(NO_COLOR="1", CRM_LANG="en", PYTHONPATH=str(HERE.parent))
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"SQLite {sqlite3.sqlite_version}",
        "date": time.strftime("%Y-%m-%d"),
        "repeat": args.repeat,
    }
    print("start-up", file=sys.stderr)
    results["startup"] = startup(env, max(args.repeat, 5))
    sys.path.insert(0, str(HERE))
    from build_db import build

    sizes = [size.strip().lower() for size in args.sizes.split(",")]
    for size in sizes:
        rows = SIZES[size]
        db = OUT / f"crm-{size}.db"
        if not db.exists() or sqlite3.connect(db).execute("SELECT count(*) FROM customers").fetchone()[0] != rows:
            print(f"building {db} …", file=sys.stderr)
            build(db, rows)
        print(f"{size} customers", file=sys.stderr)
        results[size] = queries(db, env, min(args.repeat, 3) if rows >= 1_000_000 else args.repeat)
    results["sizes"] = sizes
    (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(table(results, sizes))
    if args.update_readme:
        update_readme(HERE.parent / "README.md", results, sizes)
        print("README.md updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
