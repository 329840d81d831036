"""Backups: consistent copies while others write, age encryption, identity and rotation.

A backup is ``VACUUM INTO`` a private temporary file (a consistent snapshot: in WAL mode it reads
one committed state while writers carry on), checked with ``PRAGMA integrity_check``, optionally
encrypted to the age format (so the standard ``age`` tool can decrypt it), then renamed into place:
a backup file either exists whole or not at all. An encrypted backup's plaintext snapshot lives
only in a private 0700 directory under ``$TMPDIR``, removed in ``finally``; the backup directory
only ever sees ciphertext. Leftovers of killed runs are swept by the next run.

Names carry the database's name, the UTC time and the database's identity (a random id made once
by migration 010 and kept in the ``meta`` table), ``crm-20240615T020000Z-0123456789abcdef.db`` (``.db.age``
when encrypted): they sort by time, and ``--keep N`` rotates only the backups of the same
database, even when two databases called ``crm.db`` share a directory. Passphrases come from a
file or the ``CRM_BACKUP_PASSPHRASE`` environment variable, never from the command line (where
``ps`` and the shell history would show them); no error message ever quotes a key or passphrase
file's content. Verification and restore live in :mod:`crmcli.restoring`.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import re
import sqlite3
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import outputs
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
    swept: list[Path] = field(default_factory=list)  # leftovers of killed runs removed first


# ---------------------------------------------------------------------------- secrets


def read_passphrase_file(path: Path | str) -> str:
    """The first line of ``path`` (``-`` reads standard input), without its line ending."""
    import sys

    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot read the passphrase file {path}: {exc.strerror}", zh=f"无法读取密码文件 {path}：{exc.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise UsageError(f"the passphrase file {path} is not UTF-8 text", zh=f"密码文件 {path} 不是 UTF-8 文本") from None
    lines = text.splitlines()
    passphrase = lines[0] if lines else ""
    if not passphrase:
        raise UsageError(f"the passphrase file {path} is empty", zh=f"密码文件 {path} 是空的")
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


SECRET_KEY_PREFIX = "AGE-SECRET-KEY-"


def _is_secret(text: str) -> bool:
    """An age identity or a private key: a secret that must never be quoted in a message."""
    head = text.strip().upper()
    return head.startswith(SECRET_KEY_PREFIX) or head.startswith("-----BEGIN") or "PRIVATE KEY" in head


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
            if _is_secret(text):
                raise UsageError(
                    "a --recipient value is an age identity (secret key), not a recipient; pass its public key "
                    "(age1…, from: age-keygen -y KEYFILE)",
                    zh="--recipient 的值是 age 私钥（身份），不是接收者公钥；请给出其公钥（age1…，可用 age-keygen -y 私钥文件 得到）",
                ) from None
            shown = text if len(text) <= 24 else text[:20] + "…"
            raise UsageError(
                f"not an age recipient: {shown!r} (expected a public key such as age1…, or ssh-ed25519 …)",
                zh=f"不是 age 接收者公钥：{shown!r}（应为 age1… 或 ssh-ed25519 … 形式的公钥）",
            ) from None
    return parsed


def read_recipients_file(path: Path) -> list[str]:
    """The public keys in ``path``, one a line (``#`` comments). Refuses an identity (secret key)
    file by name, without ever quoting what the file holds."""
    import pyrage

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(
            f"cannot read the recipients file {path}: {exc.strerror}", zh=f"无法读取接收者文件 {path}：{exc.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise UsageError(f"the recipients file {path} is not UTF-8 text", zh=f"接收者文件 {path} 不是 UTF-8 文本") from None
    keys: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if _is_secret(text):
            raise UsageError(
                f"{path} holds an age identity (secret key), not a recipient; pass its public key (age1…): "
                f"age-keygen -y {path}",
                zh=f"{path} 中是 age 私钥（身份），不是接收者公钥；请给出其公钥（age1…）：age-keygen -y {path}",
            )
        try:
            if text.startswith(("ssh-ed25519 ", "ssh-rsa ")):
                pyrage.ssh.Recipient.from_str(text)
            else:
                pyrage.x25519.Recipient.from_str(text)
        except Exception:
            raise UsageError(
                f"{path} line {number} is not an age recipient (expected a public key such as age1…, or ssh-ed25519 …)",
                zh=f"{path} 第 {number} 行不是 age 接收者公钥（应为 age1… 或 ssh-ed25519 …）",
            ) from None
        keys.append(text)
    if not keys:
        raise UsageError(f"{path}: no recipients in the file", zh=f"{path}：文件中没有接收者公钥")
    return keys


def _identities(paths: Sequence[Path]) -> list[Any]:
    """Read age identity files (``AGE-SECRET-KEY-1…`` lines, as ``age-keygen`` writes) or SSH keys."""
    import pyrage

    identities: list[Any] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(
                f"cannot read the identity file {path}: {exc.strerror}", zh=f"无法读取身份（私钥）文件 {path}：{exc.strerror}"
            ) from None
        if data.lstrip().startswith(b"-----BEGIN"):
            try:
                identities.append(pyrage.ssh.Identity.from_buffer(data))
            except Exception:
                raise UsageError(
                    f"{path}: not a usable SSH private key (encrypted SSH keys are not supported)",
                    zh=f"{path}：不是可用的 SSH 私钥（不支持加密的 SSH 私钥）",
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
                raise UsageError(
                    f"{path}: not an age identity line (expected AGE-SECRET-KEY-1…)",
                    zh=f"{path}：不是 age 身份（私钥）行（应为 AGE-SECRET-KEY-1…）",
                ) from None
        if not found:
            raise UsageError(f"{path}: no age identity in the file", zh=f"{path}：文件中没有 age 身份（私钥）")
    return identities


# ---------------------------------------------------------------------------- files, names, identity

ID_KEY = "db-id"  # a row of the ``meta`` table, made by migration 010
_ID_RE = re.compile(r"^[0-9a-f]{16}$")
# temporary files of crm versions before 0.2 (.NAME.PID.tmp, .NAME.PID.age.tmp)
_LEGACY_TMP_RE = re.compile(r"^\..+\.db(?:\.age)?\.(\d+)(?:\.age)?\.tmp$")


def identity(store: Store) -> str:
    """This database's identity: 16 hex digits made once, at random, and kept in the database."""
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (ID_KEY,)).fetchone()
    if row and _ID_RE.match(row[0]):
        return str(row[0])
    with store.write() as conn:  # a database from before migration 010 that lost its row
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, lower(hex(randomblob(8)))) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (ID_KEY,),
        )
    return str(store.conn.execute("SELECT value FROM meta WHERE key = ?", (ID_KEY,)).fetchone()[0])


def default_dir(db_path: Path) -> Path:
    return db_path.parent / "backups"


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def _name_re(stem: str) -> re.Pattern[str]:
    """``STEM-STAMP[-ID][-N].db[.age]``: the ID is missing from backups made before identities."""
    return re.compile(rf"^{re.escape(stem)}-(\d{{8}}T\d{{6}}Z)(?:-([0-9a-f]{{16}}))?(?:-(\d+))?\.db(\.age)?$")


def _stem(db_path: Path) -> str:
    name = db_path.name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) and len(name) > len(SUFFIX) else name


def backup_identity(path: Path) -> str | None:
    """The database identity a backup's name records (None for backups made before identities)."""
    m = re.search(r"-\d{8}T\d{6}Z-([0-9a-f]{16})(?:-\d+)?\.db(?:\.age)?$", path.name)
    return m.group(1) if m else None


def list_backups(directory: Path, db_path: Path, ident: str | None = None, *, legacy: bool = True) -> list[Path]:
    """This database's backups in ``directory``, oldest first: named after it and, when ``ident``
    is given, made from the database with that identity (plus, with ``legacy``, backups from
    before identities, which carry none). Other files are never touched."""
    pattern = _name_re(_stem(db_path))
    found: list[tuple[str, int, Path]] = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in directory.iterdir():
            m = pattern.match(entry.name)
            if not m or not entry.is_file():
                continue
            if ident is not None and m.group(2) != ident and not (legacy and m.group(2) is None):
                continue
            found.append((m.group(1), int(m.group(3) or 0), entry))
    return [p for _, _, p in sorted(found)]


def _target(directory: Path, db_path: Path, ident: str, encrypted: bool, now: datetime | None) -> Path:
    stem, stamp = _stem(db_path), _stamp(now)
    suffix = SUFFIX + (AGE_SUFFIX if encrypted else "")
    base = f"{stem}-{stamp}-{ident}"
    # within one second, number past every backup of that second still there (or rotated away:
    # a reused lower number would sort first and be the next one rotated out)
    pattern = _name_re(stem)
    numbers = [-1]
    with contextlib.suppress(OSError):
        for entry in directory.iterdir():
            m = pattern.match(entry.name)
            if m and m.group(1) == stamp:
                numbers.append(int(m.group(3) or 0))
    n = max(numbers) + 1
    name = base if n == 0 else f"{base}-{n}"
    while (directory / (name + SUFFIX)).exists() or (directory / (name + SUFFIX + AGE_SUFFIX)).exists():
        n += 1
        name = f"{base}-{n}"
    return directory / (name + suffix)


def rotate(directory: Path, db_path: Path, keep: int, ident: str) -> list[Path]:
    """Delete all but the newest ``keep`` backups of this database (same name *and* identity);
    returns the removed files. Backups of other databases, and old ones without an identity, stay."""
    if keep < 1:
        raise UsageError("--keep must be at least 1", zh="--keep 至少为 1")
    backups = list_backups(directory, db_path, ident, legacy=False)
    removed = backups[: max(0, len(backups) - keep)]
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed


def sweep_leftovers(*directories: Path) -> list[Path]:
    """Remove what killed runs left behind: temporary files in the backup directory and private
    plaintext directories in ``$TMPDIR`` (backups, verify) and beside the database (restore)."""
    removed: list[Path] = []
    for directory in {*directories, Path(tempfile.gettempdir())}:
        removed += outputs.sweep(directory)
        with contextlib.suppress(OSError):
            for entry in directory.iterdir():
                m = _LEGACY_TMP_RE.match(entry.name)
                if m and entry.is_file() and not outputs._alive(int(m.group(1))):
                    with contextlib.suppress(OSError):
                        entry.unlink()
                        removed.append(entry)
    return removed


def _disk_full(exc: BaseException) -> bool:
    """ENOSPC/EDQUOT, also when a library reports it only in its text (pyrage: "os error 28")."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left" in text or "os error 28" in text or "disk quota" in text or "disk is full" in text


def full_error(where: Path, what: str) -> BackupError:
    tmp = " (TMPDIR)" if Path(where).resolve() == Path(tempfile.gettempdir()).resolve() else ""
    return BackupError(
        f"{what}: the disk holding {where}{tmp} is full; free space or set TMPDIR to a place with room for one "
        "copy of the database (the backup itself was not touched)",
        zh=f"{what}：{where}{tmp} 所在磁盘已满；请释放空间，或把 TMPDIR 设为能容纳一份数据库副本的位置（备份文件本身没有改动）",
    )


def _check_sqlite(path: Path) -> tuple[str, int, int]:
    """``integrity_check`` of a plain database file read-only; returns (result, user_version, customers)."""
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not an SQLite database", zh=f"{path} 不是 SQLite 数据库")
    uri = "file:" + str(path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}", zh=f"无法打开 {path}：{exc}") from None
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        try:
            customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        except sqlite3.Error:
            customers = -1
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged: {exc}", zh=f"{path} 已损坏：{exc}") from None
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
        raise UsageError(
            "use either recipients or a passphrase, not both (age allows one passphrase alone)",
            zh="公钥与密码只能二选一（age 只允许单独使用一个密码）",
        )
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
        if _disk_full(exc):
            raise full_error(out.parent, f"cannot write {out.name}") from None
        # the library's own words name the failure, never the key (keys are checked above)
        raise BackupError(
            f"encryption failed: {type(exc).__name__}: {exc}", zh=f"加密失败：{type(exc).__name__}：{exc}"
        ) from None


def decrypt(path: Path, out: Path, enc: Encryption) -> None:
    """Decrypt the age file ``path`` into ``out``. A full disk says so: it is not a damaged backup."""
    import pyrage

    if needs_passphrase(path):
        passphrase = enc.passphrase or passphrase_from_env()
        if not passphrase:
            raise UsageError(
                f"{path} is encrypted with a passphrase: give --passphrase-file FILE or set {PASSPHRASE_ENV}",
                zh=f"{path} 用密码加密：请给出 --passphrase-file 文件，或设置 {PASSPHRASE_ENV}",
            )
        try:
            data = pyrage.passphrase.decrypt(path.read_bytes(), passphrase)
        except Exception:
            raise BackupError(
                f"cannot decrypt {path}: wrong passphrase, or the file was damaged or tampered with",
                zh=f"无法解密 {path}：密码错误，或文件已损坏或被篡改",
            ) from None
        try:
            with open(out, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            if _disk_full(exc):
                raise full_error(out.parent, f"cannot decrypt {path}") from None
            raise BackupError(
                f"cannot decrypt {path} into {out.parent}: {exc.strerror}",
                zh=f"无法把 {path} 解密到 {out.parent}：{exc.strerror}",
            ) from None
        return
    if not enc.identity_files:
        raise UsageError(
            f"{path} is encrypted to age keys: give --identity FILE with the matching secret key",
            zh=f"{path} 用 age 公钥加密：请用 --identity 文件 给出对应的私钥",
        )
    identities = _identities(enc.identity_files)
    try:
        pyrage.decrypt_file(str(path), str(out), identities)
    except Exception as exc:
        if _disk_full(exc):
            raise full_error(out.parent, f"cannot decrypt {path}") from None
        if isinstance(exc, OSError):
            raise BackupError(
                f"cannot decrypt {path} into {out.parent}: {exc}", zh=f"无法把 {path} 解密到 {out.parent}：{exc}"
            ) from None
        raise BackupError(
            f"cannot decrypt {path}: no matching key, or the file was damaged or tampered with",
            zh=f"无法解密 {path}：没有匹配的私钥，或文件已损坏或被篡改",
        ) from None


# ---------------------------------------------------------------------------- backup


def _snapshot(store: Store, plain: Path) -> tuple[int, int]:
    """``VACUUM INTO`` the empty private file ``plain`` and check it; returns (schema, customers)."""
    try:
        store.conn.execute("VACUUM INTO ?", (str(plain),))
    except sqlite3.Error as exc:
        if _disk_full(exc):
            raise full_error(plain.parent, "cannot write the snapshot") from None
        from .storage import translate

        raise translate(exc) from None
    result, version, customers = _check_sqlite(plain)
    if result != "ok":
        raise BackupError(
            f"the copy failed its integrity check ({result}); the database may be damaged",
            zh=f"副本未通过完整性检查（{result}）；数据库可能已损坏",
        )
    return version, customers


def _temp_beside(target: Path) -> Path:
    """An empty 0600 file named for ``target`` and this process, in its directory (swept if we die)."""
    try:
        fd, name = tempfile.mkstemp(prefix=outputs.temp_name(target), suffix=outputs.TMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        if _disk_full(exc):
            raise full_error(target.parent, f"cannot write to {target.parent}") from None
        raise BackupError(
            f"cannot write to {target.parent}: {exc.strerror}", zh=f"无法写入 {target.parent}：{exc.strerror}"
        ) from None
    os.close(fd)
    return Path(name)


def _publish(tmp: Path, target: Path) -> None:
    """Rename the finished temporary file into place (never over an existing file)."""
    outputs.fsync_path(tmp)
    outputs.publish(tmp, target, force=False)
    outputs.fsync_path(target.parent)


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
        raise UsageError("--keep must be at least 1", zh="--keep 至少为 1")
    enc = encryption or Encryption()
    if enc.recipients and enc.passphrase:
        raise UsageError(
            "use either recipients or a passphrase, not both (age allows one passphrase alone)",
            zh="公钥与密码只能二选一（age 只允许单独使用一个密码）",
        )
    if enc.recipients:
        _recipients(enc.recipients)  # refuse a bad key before doing any work
    directory = Path(directory) if directory else default_dir(store.path)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise UsageError(f"{directory} is not a directory", zh=f"{directory} 不是目录") from None
    except OSError as exc:
        raise BackupError(
            f"cannot create the backup directory {directory}: {exc.strerror}",
            zh=f"无法创建备份目录 {directory}：{exc.strerror}",
        ) from None
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory", zh=f"{directory} 不是目录")
    swept = sweep_leftovers(directory, store.path.parent)
    ident = identity(store)
    target = _target(directory, store.path, ident, enc.enabled, now)
    outputs.check_target(target, protect=outputs.protected(store.path))
    if enc.enabled:
        # the plaintext snapshot never enters the backup directory: a private 0700 directory in
        # $TMPDIR holds it, removed in finally (and by the next run if this one is killed)
        with outputs.private_tmpdir() as work:
            plain = work / "snapshot.db"
            outputs.create_private(plain)
            version, customers = _snapshot(store, plain)
            tmp = _temp_beside(target)
            try:
                _encrypt(plain, tmp, enc)
                _publish(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
    else:
        tmp = _temp_beside(target)
        try:
            version, customers = _snapshot(store, tmp)
            _publish(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    removed = rotate(directory, store.path, keep, ident) if keep else []
    return BackupResult(
        path=target,
        encrypted=enc.enabled,
        size=target.stat().st_size,
        customers=customers,
        schema_version=version,
        removed=removed,
        swept=swept,
    )
