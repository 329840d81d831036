"""Reads on a missing database fail (exit 3) and create nothing; only writes create it (issue 10,
item 5). A database on a read-only file system is reported as such (item 19)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import add_args
from .test_cron import CRON_PATH, cron_run

READS = [
    ["stale"],
    ["stale", "--exit-code", "-f", "json"],
    ["list", "-f", "csv"],
    ["today"],
    ["report", "funnel"],
    ["report", "pivot", "industry", "-f", "json"],
    ["report", "monthly", "--month", "2024-05"],
    ["show", "XS2024001"],
    ["search", "采购"],
    ["history", "XS2024001"],
    ["export", "-f", "json"],
    ["backup"],
    ["backup", "list"],
    ["options", "list"],
    ["config", "list"],
    ["import", "batches"],
    ["fields", "list"],
    ["view", "list"],
    ["log", "XS2024001", "打过电话"],
    ["grade", "--recompute", "--dry-run"],
]


def test_reads_on_a_missing_database_fail_under_cron_and_create_nothing(tmp_path: Path) -> None:
    db = tmp_path / "wrong" / "path" / "crm.db"
    for args in READS:
        result = cron_run(db, *args, extra_env={"CRM_TODAY": "2024-06-15"})
        stderr = result.stderr.decode("utf-8")
        assert result.returncode == 3, (args, stderr)
        assert str(db) in stderr and "crm add" in stderr and "CRM_DB" in stderr, (args, stderr)
        assert "Traceback" not in stderr and result.stdout == b"", args
        assert not (tmp_path / "wrong").exists(), args  # not the file, not even its directory


def test_the_message_is_in_chinese_too(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    result = cron_run(db, "stale", extra_env={"CRM_LANG": "zh"})
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 3 and "没有数据库" in stderr and str(db) in stderr
    assert not db.exists()


def test_writes_create_the_database(crm, isolated_env: Path, tmp_path: Path) -> None:
    assert not isolated_env.exists()
    crm.ok(*add_args())
    assert isolated_env.exists()
    for args in (["config", "set", "id-prefix", "KH"], ["options", "add", "industry", "logistics", "--zh", "物流", "--en", "Logistics"]):
        db = tmp_path / f"{args[0]}.db"
        crm.ok("--db", str(db), *args)
        assert db.exists()
    # once created, reads work and an empty result is an empty result
    assert crm.ok("--db", str(tmp_path / "config.db"), "stale", "-f", "json") == "[]\n"


def test_an_import_of_a_missing_file_creates_no_database(crm, isolated_env: Path, tmp_path: Path) -> None:
    result = crm("import", str(tmp_path / "nope.csv"))
    assert result.exit_code in (2, 3) and not isolated_env.exists()


def test_backup_list_of_a_lost_database_still_lists_its_backups(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    """The moment a database is lost is when its backups are needed: listing them creates nothing."""
    add()
    made = crm.ok("backup").strip()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{isolated_env}{suffix}").unlink(missing_ok=True)
    result = crm("backup", "list")
    assert result.exit_code == 0 and made in result.stdout
    assert str(isolated_env) in result.stderr and not isolated_env.exists()


# ---------------------------------------------------------------------------- read-only file system


@pytest.fixture
def ro_mount(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A small tmpfs that can be remounted read-only: a real EROFS, not a simulated one."""
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root on Linux to mount a file system")
    point = tmp_path / "mnt"
    point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(point)], capture_output=True).returncode:
        pytest.skip("mount is not permitted here")

    def read_only() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True, capture_output=True)

    try:
        yield point, read_only
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_a_database_on_a_read_only_file_system_says_so(ro_mount, crm) -> None:
    point, read_only = ro_mount
    db = point / "crm.db"
    crm.ok("--db", str(db), *add_args())
    read_only()
    env = {"PATH": CRON_PATH, "CRM_DB": str(db)}
    for args, lang in ((["list"], "en"), (add_args(name="写不进去"), "en"), (["stale"], "zh")):
        result = subprocess.run(
            [sys.executable, "-m", "crmcli", *args], env={**env, "CRM_LANG": lang},
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 6, (args, result.stderr)
        assert ("read-only file system" if lang == "en" else "只读文件系统") in result.stderr, result.stderr
        assert "unable to open database file" not in result.stderr
