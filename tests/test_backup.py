"""crm backup: consistent copies under concurrent writers, rotation, age encryption, verify, restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pyrage
import pytest

from crmcli import backup

from .conftest import PYTHON, subprocess_env


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ids(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM customers")}
    finally:
        conn.close()


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def agekey(tmp_path: Path) -> tuple[str, Path]:
    identity = pyrage.x25519.Identity.generate()
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(f"# created for a test\n{identity}\n")
    keyfile.chmod(0o600)
    return str(identity.to_public()), keyfile


@pytest.fixture
def passfile(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_text("correct horse battery staple\n")
    path.chmod(0o600)
    return path


# ---------------------------------------------------------------------------- create and rotate


def test_backup_is_named_by_time_private_and_rotated(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    add()
    target = tmp_path / "bk"
    target.mkdir()
    (target / "notes.txt").write_text("not a backup")
    (target / "other-20240101T000000Z.db").write_text("another database's backup")
    made = [Path(crm.ok("backup", str(target), "--keep", "2").strip()) for _ in range(3)]
    assert all(p.name.startswith("crm-") and p.name.endswith(".db") for p in made)
    kept = backup.list_backups(target, isolated_env)
    assert kept == made[1:]  # the oldest one rotated away, newest last
    assert (target / "notes.txt").exists() and (target / "other-20240101T000000Z.db").exists()
    for path in kept:
        assert _mode(path) == 0o600
        assert _integrity(path) == "ok"
    assert not [p for p in target.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_backup_default_directory_and_listing(crm, add, isolated_env: Path) -> None:
    add()
    result = crm("backup")
    assert result.exit_code == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.parent == isolated_env.parent / "backups"
    assert _mode(path.parent) == 0o700 and _mode(path) == 0o600
    assert "1 customers" in result.stderr and "integrity ok" in result.stderr
    assert str(path) in crm.ok("backup", "list")
    assert "integrity ok" in crm.ok("backup", "verify", str(path))


def test_backup_refuses_bad_keep_and_passphrase_on_command_line(crm, add, tmp_path: Path) -> None:
    add()
    assert crm("backup", str(tmp_path), "--keep", "0").exit_code == 2
    result = crm("backup", str(tmp_path), "--encrypt", "--passphrase", "secret")
    assert result.exit_code == 2  # no such option: a passphrase never goes on the command line
    result = crm("backup", str(tmp_path / "x"), "--encrypt")
    assert result.exit_code == 2 and "CRM_BACKUP_PASSPHRASE" in result.stderr
    result = crm("backup", str(tmp_path / "x"), "--recipient", "age1notakey")
    assert result.exit_code == 2 and "not an age recipient" in result.stderr
    assert not (tmp_path / "x").exists() or not list((tmp_path / "x").iterdir())


def test_damaged_plain_backup_is_refused(crm, add, tmp_path: Path) -> None:
    for _ in range(3):
        add()
    path = Path(crm.ok("backup", str(tmp_path)).strip())
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(path.read_bytes()[: 4096 * 2])
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"hello, not a database" * 100)
    for bad in (truncated, garbage):
        result = crm("backup", "verify", str(bad))
        assert result.exit_code == 6, result.stderr
        assert "Traceback" not in result.stderr
    assert crm("backup", "verify", str(tmp_path / "missing.db")).exit_code in (2, 3)


# ---------------------------------------------------------------------------- encryption


def test_passphrase_encryption_round_trip_and_refusals(crm, add, tmp_path: Path, passfile: Path, monkeypatch) -> None:
    """Passphrase (scrypt) operations cost about a second each by design: this test keeps to four."""
    add()
    monkeypatch.setenv("CRM_BACKUP_PASSPHRASE", "correct horse battery staple")
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "--encrypt").strip())
    monkeypatch.delenv("CRM_BACKUP_PASSPHRASE")
    assert path.name.endswith(".db.age") and _mode(path) == 0o600
    data = path.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n") and b"\n-> scrypt " in data[:200]
    assert b"SQLite format 3" not in data
    assert "encrypted" in crm.ok("backup", "verify", str(path), "--passphrase-file", str(passfile))

    result = crm("backup", "verify", str(path))
    assert result.exit_code == 2 and "passphrase" in result.stderr
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("wrong horse\n")
    result = crm("backup", "verify", str(path), "--passphrase-file", str(wrong))
    assert result.exit_code == 6 and "cannot decrypt" in result.stderr
    _flip(path, path.stat().st_size // 2)
    result = crm("backup", "verify", str(path), "--passphrase-file", str(passfile))
    assert result.exit_code == 6 and "cannot decrypt" in result.stderr and "Traceback" not in result.stderr


def test_flipped_byte_anywhere_is_refused(crm, add, tmp_path: Path, agekey: tuple[str, Path]) -> None:
    recipient, keyfile = agekey
    for _ in range(3):
        add()
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", recipient).strip())
    size = path.stat().st_size
    header_end = path.read_bytes().index(b"\n---") + 10
    for offset in (30, header_end - 3, header_end + 20, size // 2, size - 1):
        copy = tmp_path / f"flipped-{offset}.db.age"
        shutil.copy(path, copy)
        _flip(copy, offset)
        result = crm("backup", "verify", str(copy), "-i", str(keyfile))
        assert result.exit_code == 6, (offset, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr


def test_recipient_encryption_with_identity_file(crm, add, tmp_path: Path) -> None:
    add()
    identity = pyrage.x25519.Identity.generate()
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(f"# created for a test\n{identity}\n")
    other = tmp_path / "other.txt"
    other.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    recipient = str(identity.to_public())
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "--recipient", recipient).strip())
    assert "integrity ok" in crm.ok("backup", "verify", str(path), "--identity", str(keyfile))
    assert crm("backup", "verify", str(path)).exit_code == 2  # no identity given
    result = crm("backup", "verify", str(path), "-i", str(other))
    assert result.exit_code == 6 and "no matching key" in result.stderr
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(f"# team\n{recipient}\n{pyrage.x25519.Identity.generate().to_public()}\n")
    second = Path(crm.ok("backup", str(tmp_path / "bk"), "-R", str(recipients)).strip())
    assert "integrity ok" in crm.ok("backup", "verify", str(second), "-i", str(keyfile))


@pytest.mark.skipif(shutil.which("age") is None, reason="the age command-line tool is not installed")
def test_standard_age_tool_decrypts_a_backup(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    customer_id = add()
    identity = pyrage.x25519.Identity.generate()
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(f"{identity}\n")
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", str(identity.to_public())).strip())
    out = tmp_path / "decrypted.db"
    subprocess.run(["age", "--decrypt", "-i", str(keyfile), "-o", str(out), str(path)], check=True, timeout=60)
    assert _integrity(out) == "ok"
    assert _ids(out) == {customer_id}


# ---------------------------------------------------------------------------- consistency under writers

WRITER = """
import os, sys, time
from crmcli import customers, options
from crmcli.storage import open_store
store = open_store(os.environ["CRM_DB"])
opts = options.load(store)
ctx = customers.Context.load(store, "add")
stop = sys.argv[1]
n = 0
while not os.path.exists(stop):
    customers.add(store, {"name": f"并发{os.getpid()}-{n}", "contact": "王", "phone": "13812345678",
                          "source": "online", "needs": "x", "owner": "w"}, ctx, opts)
    n += 1
print(n)
"""


def test_backup_while_two_writers_run_holds_every_row_committed_before(crm, isolated_env: Path, tmp_path: Path) -> None:
    from crmcli import customers
    from crmcli.storage import open_store

    with open_store(isolated_env) as store:
        ctx = customers.Context.load(store, "add")
        with store.write() as conn:
            for i in range(1500):
                values = {"name": f"预置{i}", "contact": "王", "phone": "13812345678", "source": "online",
                          "needs": "x" * 200, "owner": "w", "first_contact": "2024-06-01", "status": "potential"}
                customers.insert(conn, values, ctx)
    stop = tmp_path / "stop"
    env = subprocess_env(isolated_env)
    writers = [
        subprocess.Popen([PYTHON, "-c", WRITER, str(stop)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(_ids(isolated_env)) < 1520 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = _ids(isolated_env)  # committed before the backup began
        result = crm("backup", str(tmp_path / "bk"))
        after_backup = len(_ids(isolated_env))
    finally:
        stop.write_text("stop")
        outputs = [w.communicate(timeout=60) for w in writers]
    assert result.exit_code == 0, result.stderr
    for w, (out, errout) in zip(writers, outputs):
        assert w.returncode == 0, errout
        assert int(out) > 0
    assert after_backup > len(before)  # the writers really were writing during the backup
    path = Path(result.stdout.strip())
    assert "integrity ok" in crm.ok("backup", "verify", str(path))
    restored = tmp_path / "restored.db"
    shutil.copy(path, restored)
    assert _integrity(restored) == "ok"
    assert before <= _ids(restored)
    total = sum(int(out) for out, _ in outputs) + 1500
    assert len(_ids(isolated_env)) == total  # and none of the writers' rows was lost


# ---------------------------------------------------------------------------- restore


def test_restore_replaces_the_database_and_keeps_the_old_one_aside(crm, add, isolated_env: Path, tmp_path: Path,
                                                                  agekey: tuple[str, Path]) -> None:
    recipient, keyfile = agekey
    first = add()
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", recipient).strip())
    second = add(name="后来的客户")
    result = crm("backup", "restore", str(path), "-i", str(keyfile))
    assert result.exit_code == 2 and "--yes" in result.stderr  # no terminal, no confirmation: refused
    assert _ids(isolated_env) == {first, second}
    result = crm("backup", "restore", str(path), "-i", str(keyfile), "--yes")
    assert result.exit_code == 0, result.stderr
    assert _ids(isolated_env) == {first}
    assert _integrity(isolated_env) == "ok"
    asides = list(isolated_env.parent.glob("crm.db.before-restore-*"))
    assert len(asides) == 1 and _mode(asides[0]) == 0o600
    assert _ids(asides[0]) == {first, second}
    assert _mode(isolated_env) == 0o600
    # the restored database is fully usable: writes, WAL mode, the sequence goes on
    third = add(name="恢复后新增")
    assert third not in (first,)
    conn = sqlite3.connect(isolated_env)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_restore_refuses_a_damaged_backup_and_changes_nothing(crm, add, isolated_env: Path, tmp_path: Path,
                                                             agekey: tuple[str, Path]) -> None:
    recipient, keyfile = agekey
    first = add()
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", recipient).strip())
    add(name="第二个")
    before = _ids(isolated_env)
    _flip(path, path.stat().st_size // 2)
    result = crm("backup", "restore", str(path), "-i", str(keyfile), "--yes")
    assert result.exit_code == 6
    assert _ids(isolated_env) == before and first in before
    assert not list(isolated_env.parent.glob("crm.db.before-restore-*"))


def test_restore_from_a_backup_of_another_path(crm, add, tmp_path: Path, isolated_env: Path) -> None:
    """A backup restores into a database at another location (a new machine)."""
    customer_id = add()
    path = Path(crm.ok("backup", str(tmp_path / "bk")).strip())
    elsewhere = tmp_path / "new" / "crm.db"
    result = crm("--db", str(elsewhere), "backup", "restore", str(path), "--yes")
    assert result.exit_code == 0, result.stderr
    assert _ids(elsewhere) == {customer_id}
    assert os.path.exists(str(elsewhere) + "-wal") or _integrity(elsewhere) == "ok"
