"""Backups: consistent copies while others write, age encryption, verification and restore.

A backup is ``VACUUM INTO`` a private temporary file next to the target (a consistent snapshot:
in WAL mode it reads one committed state while writers carry on), checked with
``PRAGMA integrity_check``, optionally encrypted to the age format (so the standard ``age`` tool
can decrypt it), then renamed into place: a backup file either exists whole or not at all.

Names carry the database's name and the UTC time, ``crm-20240615T020000Z.db`` (``.db.age`` when
encrypted), so they sort by time and ``--keep N`` can rotate them. Passphrases come from a file or
the ``CRM_BACKUP_PASSPHRASE`` environment variable, never from the command line (where ``ps`` and
the shell history would show them).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import StoreError, UsageError
from .storage import Store

PASSPHRASE_ENV = "CRM_BACKUP_PASSPHRASE"
AGE_MAGIC = b"age-encryption.org/v1\n"
AGE_ARMOR = b"-----BEGIN AGE ENCRYPTED FILE-----"
SQLITE_MAGIC = b"SQLite format 3\x00"
SUFFIX = ".db"
AGE_SUFFIX = ".age"


class BackupError(StoreError):
    """A backup could not be made, decrypted or trusted (exit code 6, like any unusable store)."""


@dataclass
class Encryption:
    """How to encrypt (``recipients`` or ``passphrase``) or decrypt (``identities`` or ``passphrase``)."""

    recipients: list[str] = field(default_factory=list)
    passphrase: str | None = None
    identity_files: list[Path] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.recipients or self.passphrase)


@dataclass
class BackupResult:
    path: Path
    encrypted: bool
    size: int
    customers: int
    schema_version: int
    removed: list[Path] = field(default_factory=list)


@dataclass
class VerifyResult:
    path: Path
    encrypted: bool
    integrity: str
    schema_version: int
    customers: int
    followups: int
    audit_rows: int


@dataclass
class RestoreResult:
    backup: Path
    database: Path
    aside: Path | None
    customers: int
    previous_customers: int


# ---------------------------------------------------------------------------- secrets


def read_passphrase_file(path: Path | str) -> str:
    """The first line of ``path`` (``-`` reads standard input), without its line ending."""
    import sys

    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the passphrase file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the passphrase file {path} is not UTF-8 text") from None
    lines = text.splitlines()
    passphrase = lines[0] if lines else ""
    if not passphrase:
        raise UsageError(f"the passphrase file {path} is empty")
    return passphrase


def passphrase_warnings(path: Path | str) -> list[str]:
    """A passphrase file other users can read is worth a warning."""
    if str(path) == "-":
        return []
    try:
        st = Path(path).stat()
    except OSError:
        return []
    mode = st.st_mode & 0o777
    if stat.S_ISREG(st.st_mode) and mode & 0o077:
        return [f"the passphrase file {path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"]
    return []


def passphrase_from_env() -> str | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value if value else None


def _recipients(values: Sequence[str]) -> list[Any]:
    import pyrage

    parsed: list[Any] = []
    for value in values:
        text = value.strip()
        try:
            if text.startswith(("ssh-ed25519 ", "ssh-rsa ")):
                parsed.append(pyrage.ssh.Recipient.from_str(text))
            else:
                parsed.append(pyrage.x25519.Recipient.from_str(text))
        except Exception:
            raise UsageError(
                f"not an age recipient: {value!r} (expected a public key such as age1…, or ssh-ed25519 …)"
            ) from None
    return parsed


def _identities(paths: Sequence[Path]) -> list[Any]:
    """Read age identity files (``AGE-SECRET-KEY-1…`` lines, as ``age-keygen`` writes) or SSH keys."""
    import pyrage

    identities: list[Any] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the identity file {path}: {exc.strerror}") from None
        if data.lstrip().startswith(b"-----BEGIN"):
            try:
                identities.append(pyrage.ssh.Identity.from_buffer(data))
            except Exception:
                raise UsageError(
                    f"{path}: not a usable SSH private key (encrypted SSH keys are not supported)"
                ) from None
            continue
        found = 0
        for line in data.decode("utf-8", errors="replace").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                identities.append(pyrage.x25519.Identity.from_str(line))
                found += 1
            except Exception:
                raise UsageError(f"{path}: not an age identity line (expected AGE-SECRET-KEY-1…)") from None
        if not found:
            raise UsageError(f"{path}: no age identity in the file")
    return identities


# ---------------------------------------------------------------------------- files


def _create_private(path: Path) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def default_dir(db_path: Path) -> Path:
    return db_path.parent / "backups"


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def _name_re(stem: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(stem)}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.db(\.age)?$")


def _stem(db_path: Path) -> str:
    name = db_path.name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) and len(name) > len(SUFFIX) else name


def list_backups(directory: Path, db_path: Path) -> list[Path]:
    """This database's backups in ``directory``, oldest first. Other files are never touched."""
    pattern = _name_re(_stem(db_path))
    found: list[tuple[str, int, Path]] = []
    with contextlib.suppress(FileNotFoundError):
        for entry in directory.iterdir():
            m = pattern.match(entry.name)
            if m and entry.is_file():
                found.append((m.group(1), int(m.group(2) or 0), entry))
    return [p for _, _, p in sorted(found)]


def _target(directory: Path, db_path: Path, encrypted: bool, now: datetime | None) -> Path:
    stem, stamp = _stem(db_path), _stamp(now)
    suffix = SUFFIX + (AGE_SUFFIX if encrypted else "")
    taken = {p.name.split(".", 1)[0] for p in list_backups(directory, db_path)}
    base = f"{stem}-{stamp}"
    name, n = base, 0
    while name in taken or (directory / (name + SUFFIX)).exists() or (directory / (name + suffix)).exists():
        n += 1
        name = f"{base}-{n}"
    return directory / (name + suffix)


def rotate(directory: Path, db_path: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of this database; returns the removed files."""
    if keep < 1:
        raise UsageError("--keep must be at least 1")
    backups = list_backups(directory, db_path)
    removed = backups[: max(0, len(backups) - keep)]
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed


def _check_sqlite(path: Path) -> tuple[str, int, int]:
    """``integrity_check`` of a plain database file read-only; returns (result, user_version, customers)."""
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not an SQLite database")
    uri = "file:" + str(path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from None
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        try:
            customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        except sqlite3.Error:
            customers = -1
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged: {exc}") from None
    finally:
        conn.close()
    result = "ok" if rows == ["ok"] else "; ".join(rows[:5])
    return result, version, customers


# ---------------------------------------------------------------------------- encryption


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(64)
    return head.startswith(AGE_MAGIC) or head.lstrip().startswith(AGE_ARMOR)


def _age_header(path: Path) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head.lstrip().startswith(AGE_ARMOR):
        body = b"".join(line for line in head.splitlines()[1:] if not line.startswith(b"-----"))
        with contextlib.suppress(ValueError):
            head = base64.b64decode(body[: len(body) // 4 * 4])
    end = head.find(b"\n---")
    return head[: end if end >= 0 else len(head)]


def needs_passphrase(path: Path) -> bool:
    """Whether an age file was encrypted with a passphrase (an ``scrypt`` stanza) rather than keys."""
    return b"\n-> scrypt " in _age_header(path)


def _encrypt(plain: Path, out: Path, enc: Encryption) -> None:
    import pyrage

    if enc.recipients and enc.passphrase:
        raise UsageError("use either recipients or a passphrase, not both (age allows one passphrase alone)")
    try:
        if enc.recipients:
            pyrage.encrypt_file(str(plain), str(out), _recipients(enc.recipients))
        else:
            assert enc.passphrase is not None
            # pyrage encrypts passphrase files in memory: the backup must fit in RAM.
            data = pyrage.passphrase.encrypt(plain.read_bytes(), enc.passphrase)
            with open(out, "wb") as fh:
                fh.write(data)
    except UsageError:
        raise
    except Exception as exc:
        raise BackupError(f"encryption failed: {exc}") from None


def _decrypt(path: Path, out: Path, enc: Encryption) -> None:
    import pyrage

    if needs_passphrase(path):
        passphrase = enc.passphrase or passphrase_from_env()
        if not passphrase:
            raise UsageError(
                f"{path} is encrypted with a passphrase: give --passphrase-file FILE or set {PASSPHRASE_ENV}"
            )
        try:
            data = pyrage.passphrase.decrypt(path.read_bytes(), passphrase)
        except Exception:
            raise BackupError(
                f"cannot decrypt {path}: wrong passphrase, or the file was damaged or tampered with"
            ) from None
        with open(out, "wb") as fh:
            fh.write(data)
        return
    if not enc.identity_files:
        raise UsageError(f"{path} is encrypted to age keys: give --identity FILE with the matching secret key")
    identities = _identities(enc.identity_files)
    try:
        pyrage.decrypt_file(str(path), str(out), identities)
    except Exception:
        raise BackupError(f"cannot decrypt {path}: no matching key, or the file was damaged or tampered with") from None


# ---------------------------------------------------------------------------- backup


def create(
    store: Store,
    directory: Path | None = None,
    *,
    keep: int | None = None,
    encryption: Encryption | None = None,
    now: datetime | None = None,
) -> BackupResult:
    """Write a consistent, checked (and optionally encrypted) copy of the database into ``directory``."""
    if keep is not None and keep < 1:
        raise UsageError("--keep must be at least 1")
    enc = encryption or Encryption()
    if enc.recipients and enc.passphrase:
        raise UsageError("use either recipients or a passphrase, not both (age allows one passphrase alone)")
    if enc.recipients:
        _recipients(enc.recipients)  # refuse a bad key before doing any work
    directory = Path(directory) if directory else default_dir(store.path)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(f"cannot create the backup directory {directory}: {exc.strerror}") from None
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    target = _target(directory, store.path, enc.enabled, now)
    tmp_plain = directory / f".{target.name}.{os.getpid()}.tmp"
    tmp_enc = directory / f".{target.name}.{os.getpid()}.age.tmp"
    try:
        try:
            _create_private(tmp_plain)
            store.conn.execute("VACUUM INTO ?", (str(tmp_plain),))
        except OSError as exc:
            raise BackupError(f"cannot write to {directory}: {exc.strerror}") from None
        except sqlite3.Error as exc:
            from .storage import translate

            raise translate(exc) from None
        result, version, customers = _check_sqlite(tmp_plain)
        if result != "ok":
            raise BackupError(f"the copy failed its integrity check ({result}); the database may be damaged")
        final_src = tmp_plain
        if enc.enabled:
            _create_private(tmp_enc)
            _encrypt(tmp_plain, tmp_enc, enc)
            tmp_plain.unlink()
            final_src = tmp_enc
        _fsync(final_src)
        os.replace(final_src, target)
        _fsync(directory)
    finally:
        for tmp in (tmp_plain, tmp_enc):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    removed = rotate(directory, store.path, keep) if keep else []
    return BackupResult(
        path=target,
        encrypted=enc.enabled,
        size=target.stat().st_size,
        customers=customers,
        schema_version=version,
        removed=removed,
    )


# ---------------------------------------------------------------------------- verify and restore


@contextlib.contextmanager
def _private_tmpdir(near: Path | None = None) -> Iterator[Path]:
    """A 0700 temporary directory (decrypted data never lands anywhere others can read)."""
    base: str | None = None
    if near is not None and near.is_dir() and os.access(near, os.W_OK):
        base = str(near)
    path = Path(tempfile.mkdtemp(prefix=".crm-restore-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _plain_copy(path: Path, workdir: Path, enc: Encryption) -> tuple[Path, bool]:
    """Decrypt (or copy) ``path`` into ``workdir``; returns the plain file and whether it was encrypted."""
    if not path.is_file():
        from .errors import NotFound

        raise NotFound(f"no backup file {path}")
    plain = workdir / "restore.db"
    _create_private(plain)
    encrypted = is_encrypted(path)
    if encrypted:
        _decrypt(path, plain, enc)
    else:
        with open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return plain, encrypted


def _test_restore(plain: Path, source: Path, encrypted: bool) -> VerifyResult:
    """Check the plain copy, then open it as crm would (migrating an older schema) and check again."""
    from . import migrations
    from .storage import open_store

    try:
        result, version, _ = _check_sqlite(plain)
    except BackupError:
        raise BackupError(f"{source} does not hold an SQLite database (damaged, or not a crm backup)") from None
    if result != "ok":
        raise BackupError(f"{source} failed the integrity check: {result}")
    if version > migrations.LATEST:
        raise BackupError(
            f"{source} was written by a newer version of crm (schema {version}, this version knows "
            f"{migrations.LATEST}); upgrade crm to restore it"
        )
    try:
        store = open_store(plain)
    except StoreError as exc:
        raise BackupError(f"{source} cannot be opened as a crm database: {exc}") from None
    try:
        conn = store.conn
        try:
            customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
            followups = conn.execute("SELECT count(*) FROM followups").fetchone()[0]
            audit_rows = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        except sqlite3.Error:
            raise BackupError(f"{source} is an SQLite database but not a crm database") from None
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        # Leave a single self-contained file behind (no -wal) for the copy into place.
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        store.close()
    if rows != ["ok"]:
        raise BackupError(f"{source} failed the integrity check after opening: {'; '.join(rows[:5])}")
    return VerifyResult(
        path=source,
        encrypted=encrypted,
        integrity="ok",
        schema_version=migrations.LATEST,
        customers=customers,
        followups=followups,
        audit_rows=audit_rows,
    )


def verify(path: Path | str, encryption: Encryption | None = None) -> VerifyResult:
    """Decrypt (if needed), test-restore into a private temporary directory, and check the result."""
    source = Path(path)
    with _private_tmpdir() as workdir:
        plain, encrypted = _plain_copy(source, workdir, encryption or Encryption())
        return _test_restore(plain, source, encrypted)


def inspect(store: Store) -> int:
    """Customers in the current database (for the restore confirmation)."""
    return store.conn.execute("SELECT count(*) FROM customers").fetchone()[0]


class RestoreDeclined(Exception):
    """The confirmation callback said no; nothing was changed."""


def restore(
    store: Store,
    path: Path | str,
    encryption: Encryption | None = None,
    *,
    confirm: Callable[[VerifyResult, int], bool] | None = None,
    now: datetime | None = None,
) -> RestoreResult:
    """Replace the database's content with the backup at ``path``; the old content is kept aside.

    The backup is first verified in a private temporary directory. The current database is then
    copied aside (``<db>.before-restore-<time>``) while a write lock keeps writers out, and the
    backup is copied into the live file with SQLite's backup API: the file keeps its inode and
    mode, and other processes that have it open see the restored content, never a torn mix.

    ``confirm(checked_backup, current_customers)`` is asked after the check and before anything
    changes; a false answer raises :class:`RestoreDeclined`.
    """
    from .storage import translate

    source = Path(path)
    previous = inspect(store)
    with _private_tmpdir(store.path.parent) as workdir:
        plain, _ = _plain_copy(source, workdir, encryption or Encryption())
        checked = _test_restore(plain, source, is_encrypted(source))
        if confirm is not None and not confirm(checked, previous):
            raise RestoreDeclined()
        aside = store.path.with_name(f"{store.path.name}.before-restore-{_stamp(now)}")
        n = 0
        while aside.exists():
            n += 1
            aside = store.path.with_name(f"{store.path.name}.before-restore-{_stamp(now)}-{n}")
        src = sqlite3.connect(plain, isolation_level=None)
        try:
            lock = sqlite3.connect(
                store.path, timeout=store.conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000, isolation_level=None
            )
            try:
                try:
                    _create_private(aside)
                    lock.execute("BEGIN IMMEDIATE")  # nobody commits between the copy aside and the restore
                    store.conn.execute("VACUUM INTO ?", (str(aside),))
                    lock.execute("ROLLBACK")
                    src.backup(store.conn)
                except OSError as exc:
                    raise BackupError(f"cannot keep the old database aside at {aside}: {exc.strerror}") from None
                except sqlite3.Error as exc:
                    raise translate(exc) from None
            finally:
                if lock.in_transaction:
                    lock.rollback()
                lock.close()
        finally:
            src.close()
    rows = [r[0] for r in store.conn.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        raise BackupError(f"the restored database failed its integrity check; the old one is at {aside}")
    if store.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        store.conn.execute("PRAGMA journal_mode = WAL")
    return RestoreResult(
        backup=source, database=store.path, aside=aside, customers=checked.customers, previous_customers=previous
    )
