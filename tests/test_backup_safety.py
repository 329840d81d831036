"""Backups that cannot lose or leak (issue 10): restores refuse what is not a crm backup and keep
the audit trail going forward (item 7); rotation by database identity (8); no plaintext left
by killed runs (12); key files never echoed (13); a full TMPDIR named as such (19)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pyrage
import pytest

from crmcli import backup, migrations

from .conftest import PYTHON, add_args, subprocess_env
from .test_missing_db import ro_mount  # noqa: F401  (a tmpfs fixture)

SQLITE_MAGIC = b"SQLite format 3\x00"


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _dump(db: Path) -> list:
    return [_rows(db, f"SELECT * FROM {t} ORDER BY 1") for t in ("customers", "followups", "audit_log", "config", "meta")]


@pytest.fixture
def agekey(tmp_path: Path) -> tuple[str, Path]:
    identity = pyrage.x25519.Identity.generate()
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(f"# created: for a test\n# public key: {identity.to_public()}\n{identity}\n")
    keyfile.chmod(0o600)
    return str(identity.to_public()), keyfile


def _tamper(path: Path, sql: str) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.close()
    return path


# ---------------------------------------------------------------------------- item 7: what restore accepts


def test_a_sqlite_file_that_is_not_crm_is_refused_by_verify_and_restore(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    add()
    before = _dump(isolated_env)
    other = _tamper(tmp_path / "other.db", "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    _tamper(empty, "CREATE TABLE t (x);")
    for bad in (other, empty):
        result = crm("backup", "verify", str(bad))
        assert result.exit_code == 6 and "not a usable crm backup" in result.stderr, result.stderr
        result = crm("backup", "restore", str(bad), "--yes")
        assert result.exit_code == 6 and "Traceback" not in result.stderr, result.stderr
    assert _dump(isolated_env) == before
    assert not list(isolated_env.parent.glob("crm.db.before-restore-*"))


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("DROP TRIGGER audit_log_no_delete;", "trigger audit_log_no_delete is missing"),
        ("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;", "is missing"),
        ("CREATE TRIGGER wipe AFTER INSERT ON followups BEGIN DELETE FROM audit_log; END;", "trigger wipe is not crm's"),
        ("ALTER TABLE followups ADD COLUMN sneaky TEXT;", "columns crm does not know"),
        ("DROP INDEX idx_customers_status;", "index idx_customers_status is missing"),
    ],
)
def test_a_tampered_backup_fails_verify_and_is_not_restored(crm, add, isolated_env: Path, tmp_path: Path, sql, words) -> None:
    add()
    path = Path(crm.ok("backup", str(tmp_path / "bk")).strip())
    add(name="之后的客户")
    before = _dump(isolated_env)
    _tamper(path, sql)
    result = crm("backup", "verify", str(path))
    assert result.exit_code == 6 and words in result.stderr, result.stderr
    result = crm("backup", "restore", str(path), "--yes")
    assert result.exit_code == 6 and words in result.stderr
    assert _dump(isolated_env) == before


def test_custom_fields_and_a_users_own_index_are_not_tampering(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    crm.ok("fields", "add", "score", "--type", "integer", "--label-zh", "评分", "--label-en", "Score")
    cid = add()
    crm.ok("edit", cid, "--set", "score=5")
    path = Path(crm.ok("backup", str(tmp_path / "bk")).strip())
    _tamper(path, "CREATE INDEX my_own ON customers (name); CREATE TABLE my_notes (x); CREATE VIEW v AS SELECT id FROM customers;")
    assert "integrity ok" in crm.ok("backup", "verify", str(path))
    crm.ok("backup", "restore", str(path), "--yes")
    assert crm.json("show", cid)["score"] == 5


# ---------------------------------------------------------------------------- item 7: the audit trail


def test_restore_keeps_later_audit_rows_and_records_itself(crm, add, isolated_env: Path, tmp_path: Path, agekey) -> None:
    recipient, keyfile = agekey
    first = add()
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", recipient).strip())
    crm.ok("edit", first, "--notes", "备份之后改的")
    second = add(name="备份之后的客户")
    audit_before = _rows(isolated_env, "SELECT customer_id, at, by, command, field, old, new FROM audit_log ORDER BY id")
    id_before = _rows(isolated_env, "SELECT value FROM meta WHERE key = 'db-id'")
    result = crm("backup", "restore", str(path), "-i", str(keyfile), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "audit rows written after the backup" in result.stderr
    assert {r[0] for r in _rows(isolated_env, "SELECT id FROM customers")} == {first}  # the content went back
    assert crm.json("show", first).get("notes") in (None, "")
    audit_after = _rows(isolated_env, "SELECT customer_id, at, by, command, field, old, new FROM audit_log ORDER BY id")
    assert audit_after[: len(audit_before)] == audit_before  # not one row lost, none reordered
    assert [r for r in audit_after if r[0] == first and r[4] == "notes" and r[6] == "备份之后改的"]  # the later edit
    assert second not in {r[0] for r in _rows(isolated_env, "SELECT id FROM customers")}
    (record,) = [r for r in audit_after if r[3] == "backup restore"]
    assert record[0] == "*" and "2 customers" in record[5] and "1 customers" in record[6] and path.name in record[6]
    assert _rows(isolated_env, "SELECT value FROM meta WHERE key = 'db-id'") == id_before  # same database
    # the append-only triggers came back with the restored schema
    with pytest.raises(sqlite3.DatabaseError):
        _tamper(isolated_env, "DELETE FROM audit_log;")
    # restoring the same backup again adds one more record and loses nothing
    crm.ok("backup", "restore", str(path), "-i", str(keyfile), "--yes")
    again = _rows(isolated_env, "SELECT customer_id, at, by, command, field, old, new FROM audit_log ORDER BY id")
    assert again[: len(audit_after)] == audit_after and len(again) == len(audit_after) + 1


def test_restore_is_one_transaction_a_kill_leaves_the_database_as_it_was(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    add()
    path = Path(crm.ok("backup", str(tmp_path / "bk")).strip())
    add(name="备份之后的客户")
    before = _dump(isolated_env)
    code = (
        "import os, signal, sys\n"
        "from crmcli import restoring\n"
        "real = restoring._carry_audit\n"
        "def die(conn):\n"
        "    real(conn)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"  # the tables are replaced, not yet committed
        "restoring._carry_audit = die\n"
        "from crmcli.cli.app import main\n"
        "sys.argv = ['crm', 'backup', 'restore', sys.argv[1], '--yes']\n"
        "main()\n"
    )
    result = subprocess.run([PYTHON, "-c", code, str(path)], env=subprocess_env(isolated_env), capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr
    assert _dump(isolated_env) == before
    assert _rows(isolated_env, "PRAGMA integrity_check") == [("ok",)]


# ---------------------------------------------------------------------------- item 8: identity and rotation


def test_two_databases_with_one_name_keep_their_own_backups(crm, tmp_path: Path, agekey) -> None:
    recipient, _ = agekey
    shared = tmp_path / "shared"
    a, b = tmp_path / "a" / "crm.db", tmp_path / "b" / "crm.db"
    for db in (a, b):
        crm.ok("--db", str(db), *add_args())
    made: dict[Path, list[Path]] = {a: [], b: []}
    for _ in range(3):
        for db in (a, b):
            made[db].append(Path(crm.ok("--db", str(db), "backup", str(shared), "--keep", "2").strip()))
    made[a].append(Path(crm.ok("--db", str(a), "backup", str(shared), "--keep", "2", "-r", recipient).strip()))
    ids = {db: _rows(db, "SELECT value FROM meta WHERE key = 'db-id'")[0][0] for db in (a, b)}
    assert ids[a] != ids[b] and all(len(v) == 16 for v in ids.values())
    for db in (a, b):
        assert all(ids[db] in p.name for p in made[db])
        listed = [Path(line.split("\t")[0]) for line in crm.ok("--db", str(db), "backup", "list", str(shared)).splitlines()]
        assert listed == made[db][-2:]  # its own newest two; the other database's are still there
        assert all(p.exists() for p in made[db][-2:]) and not made[db][0].exists()
    assert made[a][-1].name.endswith(".db.age") and backup.backup_identity(made[a][-1]) == ids[a]


def test_old_backups_without_an_identity_are_never_rotated(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    add()
    target = tmp_path / "bk"
    target.mkdir()
    legacy = target / "crm-20200101T000000Z.db"
    legacy.write_bytes(b"an old backup")
    for _ in range(2):
        crm.ok("backup", str(target), "--keep", "1")
    ident = _rows(isolated_env, "SELECT value FROM meta WHERE key = 'db-id'")[0][0]
    assert legacy.exists() and len(backup.list_backups(target, isolated_env, ident, legacy=False)) == 1
    assert legacy in backup.list_backups(target, isolated_env, ident)  # still listed


# ---------------------------------------------------------------------------- item 12: killed runs


KILLER = """
import os, signal, sys
from crmcli import backup, outputs, restoring
point = sys.argv[1]

def after(module, name):
    real = getattr(module, name)
    def wrapped(*args, **kwargs):
        real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(module, name, wrapped)

def half_encrypted(plain, out, enc):
    with open(out, "wb") as fh:
        fh.write(b"age-encryption.org/v1\\n-> X25519 partial")
    os.kill(os.getpid(), signal.SIGKILL)

if point == "snapshot":
    after(backup, "_snapshot")           # plaintext copy made, nothing encrypted yet
elif point == "encrypting":
    backup._encrypt = half_encrypted      # half the ciphertext written
elif point == "encrypted":
    after(backup, "_encrypt")             # ciphertext complete, not renamed
elif point == "published":
    after(outputs, "publish")             # renamed into place, temporaries not yet removed
elif point == "verify":
    after(restoring, "decrypt")           # backup verify: the decrypted copy is in TMPDIR
from crmcli.cli.app import main
sys.argv = ["crm", *sys.argv[2:]]
main()
"""


def _plaintext_files(directory: Path) -> list[Path]:
    found = []
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                if fh.read(16) == SQLITE_MAGIC:
                    found.append(path)
    return found


def _private_dirs(tmpdir: Path) -> list[Path]:
    return [p for p in tmpdir.iterdir() if p.name.startswith(".crm-private-")]


def test_killed_encrypted_backups_leave_no_plaintext_and_the_next_run_cleans_up(crm, add, isolated_env: Path,
                                                                                tmp_path: Path, agekey) -> None:
    recipient, keyfile = agekey
    for i in range(20):
        add(name=f"客户{i}", phone=f"1390000{i:04d}")
    bk, tmpdir = tmp_path / "bk", tmp_path / "tmp"
    tmpdir.mkdir()
    env = subprocess_env(isolated_env, TMPDIR=str(tmpdir))
    good = Path(crm.ok("backup", str(bk), "-r", recipient).strip())

    def run(point: str, *args: str) -> None:
        result = subprocess.run([PYTHON, "-c", KILLER, point, *args], env=env, capture_output=True, timeout=60)
        assert result.returncode == -9, (point, result.stderr.decode())

    for point in ("snapshot", "encrypting", "encrypted", "published"):  # 4 kills of `crm backup --encrypt`
        run(point, "backup", str(bk), "-r", recipient)
        assert _plaintext_files(bk) == [], point  # never plaintext in the backup directory
        if point != "published":  # the plaintext is in a private 0700 directory in TMPDIR, swept next run
            (private,) = _private_dirs(tmpdir)  # this run's only: the previous kill's was removed
            assert private.stat().st_mode & 0o777 == 0o700 and _plaintext_files(private)
        if point in ("encrypting", "encrypted"):  # ciphertext under a temporary name, swept next run
            assert len(list(bk.glob(".*.crm-tmp"))) == 1
    run("verify", "backup", "verify", str(good), "-i", str(keyfile))  # the 5th kill
    assert _plaintext_files(tmpdir), "the kill left a decrypted copy, as expected"
    result = subprocess.run([PYTHON, "-m", "crmcli", "backup", str(bk), "-r", recipient], env=env, capture_output=True,
                            timeout=60, text=True)
    assert result.returncode == 0, result.stderr
    assert "left behind by a killed run" in result.stderr
    assert _private_dirs(tmpdir) == [] and _plaintext_files(tmpdir) == []
    assert not [p for p in bk.iterdir() if p.name.startswith(".")]
    names = sorted(p.name for p in bk.iterdir())
    assert all(n.endswith(".db.age") for n in names) and len(names) == 3  # good, "published", and the last
    assert "integrity ok" in crm.ok("backup", "verify", str(bk / names[-1]), "-i", str(keyfile))


def test_a_killed_plain_backup_leaves_a_tmp_file_the_next_run_removes(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    add()
    bk = tmp_path / "bk"
    env = subprocess_env(isolated_env, TMPDIR=str(tmp_path))
    result = subprocess.run([PYTHON, "-c", KILLER, "snapshot", "backup", str(bk)], env=env, capture_output=True, timeout=60)
    assert result.returncode == -9
    assert len(list(bk.glob(".*.crm-tmp"))) == 1
    (bk / f".crm-20240101T000000Z.db.{_dead_pid()}.tmp").write_bytes(b"left by an older crm")
    crm.ok("backup", str(bk), "--keep", "3")
    assert not [p for p in bk.iterdir() if p.name.startswith(".")]


def _dead_pid() -> int:
    done = subprocess.run([PYTHON, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, timeout=30)
    return int(done.stdout)


def test_verify_removes_its_decrypted_copy(crm, add, isolated_env: Path, tmp_path: Path, agekey, monkeypatch) -> None:
    recipient, keyfile = agekey
    add()
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", recipient).strip())
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    crm.ok("backup", "verify", str(path), "-i", str(keyfile))
    assert list(tmpdir.iterdir()) == []


# ---------------------------------------------------------------------------- item 13: secrets never echoed


def test_an_identity_file_given_as_recipients_is_named_not_printed(crm, add, tmp_path: Path, agekey) -> None:
    _, keyfile = agekey
    secret = keyfile.read_text().strip().splitlines()[-1]
    add()
    for lang, words in (("en", "holds an age identity (secret key), not a recipient"), ("zh", "是 age 私钥")):
        result = crm("--lang", lang, "backup", str(tmp_path / "bk"), "-R", str(keyfile))
        assert result.exit_code == 2 and words in result.stderr and str(keyfile) in result.stderr, result.stderr
        assert "AGE-SECRET-KEY" not in result.stderr + result.stdout and secret[20:40] not in result.stderr
    result = crm("backup", str(tmp_path / "bk"), "--recipient", secret)
    assert result.exit_code == 2 and "secret key" in result.stderr and "AGE-SECRET-KEY" not in result.stderr
    junk = tmp_path / "junk.txt"
    junk.write_text("my-passphrase-is-hunter2\n")
    result = crm("backup", str(tmp_path / "bk"), "-R", str(junk))
    assert result.exit_code == 2 and "line 1" in result.stderr and "hunter2" not in result.stderr
    assert not (tmp_path / "bk").exists() or not list((tmp_path / "bk").iterdir())


# ---------------------------------------------------------------------------- item 19: a full TMPDIR


def test_a_full_tmpdir_during_decryption_is_named_not_called_tampering(crm, add, tmp_path: Path, agekey, monkeypatch) -> None:
    recipient, keyfile = agekey
    add()
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", recipient).strip())

    def full(src, out, identities):  # what pyrage raises on ENOSPC (measured with /dev/full)
        raise OSError("No space left on device (os error 28)")

    monkeypatch.setattr(pyrage, "decrypt_file", full)
    result = crm("backup", "verify", str(path), "-i", str(keyfile))
    assert result.exit_code == 6 and "is full" in result.stderr and "TMPDIR" in result.stderr, result.stderr
    assert "tampered" not in result.stderr


def test_a_really_full_tmpdir(ro_mount, crm, add, tmp_path: Path, agekey) -> None:  # noqa: F811
    """A real ENOSPC: TMPDIR on an 8 MiB tmpfs already filled up."""
    recipient, keyfile = agekey
    point, _ = ro_mount
    for i in range(30):
        add(name=f"客户{i}", phone=f"1390000{i:04d}", notes="备注" * 900)
    path = Path(crm.ok("backup", str(tmp_path / "bk"), "-r", recipient).strip())
    filler = point / "filler"
    with open(filler, "wb") as fh, pytest.raises(OSError):
        while True:
            fh.write(b"\0" * (1 << 20))
            fh.flush()
            os.fsync(fh.fileno())
    filler.write_bytes(b"\0" * max(0, filler.stat().st_size - 64 * 1024))  # leave 64 KiB: less than the backup
    env = subprocess_env(tmp_path / "crm.db", TMPDIR=str(point))
    result = subprocess.run([PYTHON, "-m", "crmcli", "backup", "verify", str(path), "-i", str(keyfile)],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 6 and "is full" in result.stderr and "tampered" not in result.stderr, result.stderr
    assert [p.name for p in point.iterdir()] == ["filler"]


def test_schema_reference_is_the_latest_migrations() -> None:
    from crmcli import schema_check

    conn = sqlite3.connect(":memory:")
    from sqlite_utils import Database

    for m in migrations.MIGRATIONS:
        m(Database(conn))
    assert schema_check.problems(conn, migrations.LATEST) == []
    conn.execute("DROP TRIGGER audit_log_no_update")
    assert schema_check.problems(conn, migrations.LATEST) == ["trigger audit_log_no_update is missing"]
    conn.close()


def test_restore_carries_a_users_fts5_table_and_its_shadow_tables(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    """The swap recreates a virtual table from the backup and copies its shadow tables as they are."""
    add()
    _tamper(isolated_env, "CREATE VIRTUAL TABLE my_notes USING fts5(body); INSERT INTO my_notes VALUES ('采购 打印机');")
    path = Path(crm.ok("backup", str(tmp_path / "bk")).strip())
    _tamper(isolated_env, "INSERT INTO my_notes VALUES ('after the backup'); DROP TABLE my_notes;")
    crm.ok("backup", "restore", str(path), "--yes")
    assert _rows(isolated_env, "SELECT body FROM my_notes WHERE my_notes MATCH '采购'") == [("采购 打印机",)]
    assert _rows(isolated_env, "PRAGMA integrity_check") == [("ok",)]
