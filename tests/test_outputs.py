"""Output files (export -o, import --rejects, report monthly -o): never onto the database, never
over a file without --force, never truncated, 0600; clear one-line refusals (issue 10, items 1, 16)."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from crmcli import outputs
from crmcli.errors import Conflict, UsageError

from .test_import import seed_row, write_csv


def _state(db: Path) -> tuple[list[tuple], str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT id, name, phone FROM customers ORDER BY id").fetchall()
        return rows, conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _one_line(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.fixture
def two(crm, add, isolated_env: Path) -> tuple[list[tuple], str]:
    add()
    add(name="华信科技", phone="13900001111")
    return _state(isolated_env)


def test_export_never_writes_onto_the_database_or_its_sidecars(crm, two, isolated_env: Path, tmp_path: Path) -> None:
    symlink = tmp_path / "link.csv"
    symlink.symlink_to(isolated_env)
    hardlink = tmp_path / "hard.csv"
    os.link(isolated_env, hardlink)
    for target in (isolated_env, Path(f"{isolated_env}-wal"), Path(f"{isolated_env}-shm"), symlink, hardlink):
        for extra in ([], ["--force"]):
            result = crm("export", "-o", str(target), "--format", "csv", *extra)
            assert result.exit_code == 4, (target, extra, result.stderr)
            assert str(target) in result.stderr
            _one_line(result.stderr)
    assert _state(isolated_env) == two


def test_rejects_and_monthly_never_write_onto_the_database(crm, two, isolated_env: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [seed_row(1), seed_row(2, first_contact="2024-13-01")])
    for extra in ([], ["--force"]):
        result = crm("import", str(path), "--skip-invalid", "--rejects", str(isolated_env), *extra)
        assert result.exit_code == 4 and str(isolated_env) in result.stderr, result.stderr
    md = tmp_path / "report.md"
    md.symlink_to(isolated_env)
    xlsx = tmp_path / "report.xlsx"
    os.link(isolated_env, xlsx)
    for target in (md, xlsx):
        result = crm("report", "monthly", "--month", "2024-05", "-o", str(target), "--force")
        assert result.exit_code == 4 and "open database" in result.stderr, result.stderr
    assert _state(isolated_env) == two  # nothing imported, nothing overwritten


def test_no_output_overwrites_an_existing_file_without_force(crm, two, tmp_path: Path, isolated_env: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    result = crm("export", "-o", str(out))
    assert result.exit_code == 4 and str(out) in result.stderr and "--force" in result.stderr
    assert out.read_text() == "keep me"
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("keep me too")
    path = write_csv(tmp_path / "in.csv", [seed_row(1), seed_row(2, first_contact="2024-13-01")])
    result = crm("import", str(path), "--skip-invalid", "--rejects", str(rejects))
    assert result.exit_code == 4 and str(rejects) in result.stderr
    assert rejects.read_text() == "keep me too" and _state(isolated_env) == two  # refused before importing
    crm.ok("import", str(path), "--skip-invalid", "--rejects", str(rejects), "--force")
    assert "line,reason" in rejects.read_text(encoding="utf-8-sig")
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    crm.ok("export", "-o", str(out), "--force")
    assert out.read_text().startswith("id,")


def test_unknown_extension_is_refused_unless_format_is_given(crm, two, tmp_path: Path) -> None:
    for name in ("out.pdf", "out"):
        result = crm("export", "-o", str(tmp_path / name))
        assert result.exit_code == 2 and ".csv" in result.stderr and ".xlsx" in result.stderr and "--format" in result.stderr
        assert not (tmp_path / name).exists()
    crm.ok("export", "-o", str(tmp_path / "out.pdf"), "--format", "json")
    assert (tmp_path / "out.pdf").read_text().startswith("[")
    crm.ok("export", "-o", "/dev/null")  # a device is written in place, no extension needed


@pytest.mark.parametrize(
    "args",
    [
        ["export", "-o", "{tmp}/missing/out.csv"],
        ["export", "-o", "{tmp}"],
        ["export", "-o", "{tmp}/file.txt/out.csv"],
        ["import", "{tmp}/in.csv", "--skip-invalid", "--rejects", "{tmp}/missing/rejects.csv"],
        ["report", "monthly", "--month", "2024-05", "-o", "{tmp}/missing/r.md"],
    ],
)
def test_bad_output_places_get_exit_2_and_one_line(crm, two, tmp_path: Path, isolated_env: Path, args) -> None:
    write_csv(tmp_path / "in.csv", [seed_row(1), seed_row(2, first_contact="2024-13-01")])
    (tmp_path / "file.txt").write_text("x")
    result = crm(*[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.stderr
    _one_line(result.stderr)
    assert _state(isolated_env) == two


def test_missing_directory_message_in_chinese(crm, two, tmp_path: Path) -> None:
    result = crm("--lang", "zh", "export", "-o", str(tmp_path / "missing" / "out.csv"))
    assert result.exit_code == 2 and "不存在" in result.stderr


def test_disk_full_during_export_leaves_no_file(crm, two, tmp_path: Path, monkeypatch) -> None:
    from crmcli import exporting

    real = exporting._write_csv

    def half_then_full(rows, keys, settings, out, options):
        out.write("id,name\nXS1,half a row")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(exporting, "_write_csv", half_then_full)
    out = tmp_path / "out.csv"
    result = crm("export", "-o", str(out))
    assert result.exit_code == 2 and "disk is full" in result.stderr, result.stderr
    _one_line(result.stderr)
    assert not out.exists() and not list(tmp_path.glob(".*crm-tmp"))
    # an existing file is left as it was when the new one could not be written
    out.write_text("the old export")
    result = crm("export", "-o", str(out), "--force")
    assert result.exit_code == 2 and out.read_text() == "the old export"
    monkeypatch.setattr(exporting, "_write_csv", real)
    crm.ok("export", "-o", str(out), "--force")
    assert out.read_text().startswith("id,")


# ---------------------------------------------------------------------------- the library


def test_private_output_is_0600_atomic_and_cleans_up(tmp_path: Path) -> None:
    os.umask(0o022)
    target = tmp_path / "a.txt"
    with outputs.private_output(target) as fh:
        fh.write("hello")
        assert not target.exists()  # only the temporary file exists until the block ends
        assert len(list(tmp_path.glob(".a.txt.*.crm-tmp"))) == 1
    assert target.read_text() == "hello" and stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(RuntimeError), outputs.private_output(tmp_path / "b.txt") as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert not (tmp_path / "b.txt").exists() and not list(tmp_path.glob(".*crm-tmp"))
    with pytest.raises(Conflict):
        outputs.check_target(target)
    with pytest.raises(UsageError):
        outputs.check_target(tmp_path)
    f = outputs.open_private(tmp_path / "c.bin", binary=True)
    f.close()
    assert stat.S_IMODE((tmp_path / "c.bin").stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        outputs.open_private(tmp_path / "c.bin")


def test_a_file_appearing_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    with pytest.raises(Conflict), outputs.private_output(target) as fh:
        fh.write("new")
        target.write_text("someone else's")
    assert target.read_text() == "someone else's" and not list(tmp_path.glob(".*crm-tmp"))


def test_sweep_removes_only_dead_runs_leftovers(tmp_path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    leftovers = [tmp_path / f".out.csv.{pid}.abc123{outputs.TMP_SUFFIX}", tmp_path / f".{outputs.PRIVATE_DIR_PREFIX}{pid}-xyz"]
    leftovers[0].write_text("partial")
    leftovers[1].mkdir()
    (leftovers[1] / "plain.db").write_text("secret")
    mine = tmp_path / f".out.csv.{os.getpid()}.def456{outputs.TMP_SUFFIX}"
    mine.write_text("in progress")
    other = tmp_path / "notes.txt"
    other.write_text("x")
    assert sorted(outputs.sweep(tmp_path)) == sorted(leftovers)
    assert mine.exists() and other.exists() and not any(p.exists() for p in leftovers)
