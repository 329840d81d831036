"""An import of 20k rows killed with SIGKILL at random points, 20 times: after each kill the
database passes integrity_check and holds all or none of the batch; a rerun then imports exactly
20k rows."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import PYTHON, add_args, subprocess_env

ROWS = 20_000
KILLS = 20

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _write_csv(path: Path) -> None:
    lines = ["客户名称,联系人姓名,联系方式,客户来源,需求描述,跟进人,首次接触时间,合作状态,备注"]
    lines += [
        f"批量公司{i:05d},联系人{i % 97},139{i:08d},行业展会,采购办公设备,张经理,2024-05-01,潜在客户,第{i}行"
        for i in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _state(db: Path) -> tuple[str, int, int, int]:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("PRAGMA integrity_check").fetchone()[0],
            conn.execute("SELECT count(*) FROM customers").fetchone()[0],
            conn.execute("SELECT count(*) FROM customers WHERE name LIKE '批量公司%'").fetchone()[0],
            conn.execute("SELECT count(*) FROM import_batches").fetchone()[0],
        )
    finally:
        conn.close()


def _import(db: Path, csv: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "crmcli", "import", "file", str(csv)],
        env=subprocess_env(db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_import_killed_at_random_points_is_all_or_nothing(crm, isolated_env: Path, tmp_path: Path) -> None:
    for i in range(3):
        crm.ok(*add_args(name=f"原有客户{i}", phone=f"1381234567{i}"))
    csv = tmp_path / "big.csv"
    _write_csv(csv)
    base = _state(isolated_env)
    assert base == ("ok", 3, 0, 0)
    pristine = tmp_path / "pristine.db"
    shutil.copy(isolated_env, pristine)

    # How long a whole import takes here, on a copy: the kills are spread over that time.
    timing = tmp_path / "timing.db"
    shutil.copy(pristine, timing)
    started = time.monotonic()
    proc = _import(timing, csv)
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode() if proc.stderr else ""
    duration = time.monotonic() - started
    assert _state(timing)[2] == ROWS

    rng = random.Random(20240615)
    outcomes = {"none": 0, "all": 0}
    for n in range(KILLS):
        delay = rng.uniform(duration * 0.25, duration * 1.1)  # past start-up, into the reading and writing
        proc = _import(isolated_env, csv)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        integrity, customers, imported, batches = _state(isolated_env)
        assert integrity == "ok", (n, delay, integrity)
        assert (customers, imported, batches) in ((3, 0, 0), (3 + ROWS, ROWS, 1)), (n, delay, code, customers)
        if imported:
            outcomes["all"] += 1  # the kill came after the commit: start the next round afresh
            # The timing run may have been slowed by other load: aim the next kills earlier.
            duration *= 0.7
            for suffix in ("", "-wal", "-shm"):
                Path(str(isolated_env) + suffix).unlink(missing_ok=True)
            shutil.copy(pristine, isolated_env)
            os.chmod(isolated_env, 0o600)
        else:
            outcomes["none"] += 1
    assert outcomes["none"] >= KILLS // 2, outcomes  # most kills really interrupted an import

    result = crm("import", "file", str(csv))
    assert result.exit_code == 0, result.stderr
    assert _state(isolated_env) == ("ok", 3 + ROWS, ROWS, 1)
