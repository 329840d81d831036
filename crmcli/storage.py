"""The one place that opens the database: location, pragmas, transactions and migrations."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

from .errors import Busy, NotFound, StoreError

BUSY_TIMEOUT_MS = 10_000
APP_NAME = "crmcli"


def default_path() -> Path:
    """``CRM_DB`` if set, else ``crm.db`` in the platform's per-user data directory."""
    env = os.environ.get("CRM_DB")
    if env:
        return Path(env).expanduser()
    from . import userconfig

    personal = userconfig.file_value("db")  # crm config --user set db PATH
    if personal:
        return Path(personal).expanduser()
    # platformdirs is only needed when no path was given, which cron and tests never hit.
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "crm.db"


def _create_private(path: Path) -> None:
    """Create the empty file 0600 before SQLite does, so it never exists with a wider mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


class Store:
    """An open database. ``conn`` is in autocommit mode; writes go through :meth:`write`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.warnings: list[str] = []
        self.created = False  # this open created the file (a restore into it adopts the backup's identity)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. Always ``BEGIN IMMEDIATE``: a deferred transaction that later
        needs the write lock fails with "database is locked" without waiting on the busy timeout."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise translate(exc) from exc
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:
                self.conn.rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise translate(exc) from exc

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def translate(exc: sqlite3.Error) -> Exception:
    """Map SQLite's errors to the project's, so the CLI can give a clear message and exit code."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return Busy(
            "the database is busy (locked by other writers); try again",
            zh="数据库正忙（被其他写入者锁定）；请稍后重试",
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the database is read-only: {exc}", zh=f"数据库为只读：{exc}")
    if "disk is full" in text or "database or disk is full" in text:
        return StoreError("the disk is full; nothing was written", zh="磁盘已满；没有写入任何内容")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"the file is not a usable crm database: {exc}", zh=f"该文件不是可用的 crm 数据库：{exc}")
    return StoreError(str(exc), zh=f"数据库错误：{exc}")


def missing(db_path: Path) -> NotFound:
    """The error of a read on a database that does not exist: reads never create one, so a cron
    job with a wrong path fails loudly instead of reporting an empty database forever."""
    return NotFound(
        f"no database at {db_path}: run crm add … or crm import FILE to create it, or check --db / CRM_DB",
        zh=f"{db_path} 处没有数据库：运行 crm add … 或 crm import 文件 来创建，或检查 --db / CRM_DB",
    )


def _read_only_reason(db_path: Path) -> StoreError | None:
    """Why the database cannot be written, when the file system or the modes say so: SQLite
    itself only says "unable to open database file" or "attempt to write a readonly database"."""
    directory = db_path.parent if str(db_path.parent) else Path(".")
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return StoreError(
                f"the database {db_path} is on a read-only file system; remount it read-write or copy the file elsewhere",
                zh=f"数据库 {db_path} 位于只读文件系统上；请以读写方式重新挂载，或把文件复制到别处",
            )
    except (OSError, AttributeError):
        return None
    if not os.access(directory, os.W_OK) or (db_path.exists() and not os.access(db_path, os.W_OK)):
        return StoreError(
            f"the database {db_path} is read-only: it or its directory may not be written (SQLite needs both)",
            zh=f"数据库 {db_path} 为只读：它或其所在目录不可写（SQLite 两者都需要）",
        )
    return None


def open_store(path: Path | str | None = None, *, migrate: bool = True, create: bool = True) -> Store:
    """Open (migrating if needed) the database at ``path``. A missing file is created only when
    ``create``; otherwise it is :class:`NotFound` (exit 3), and nothing is created."""
    db_path = Path(path).expanduser() if path else default_path()
    created = False
    if str(db_path) != ":memory:" and not db_path.exists():
        if not create:
            raise missing(db_path)
        try:
            _create_private(db_path)
            created = True
        except FileExistsError:
            if not db_path.exists():  # it was not the database that existed, but a file on its path
                raise StoreError(
                    f"cannot create the database at {db_path}: a parent is not a directory",
                    zh=f"无法在 {db_path} 创建数据库：其上级路径不是目录",
                ) from None
        except OSError as exc:
            raise StoreError(
                f"cannot create the database at {db_path}: {exc.strerror}",
                zh=f"无法在 {db_path} 创建数据库：{exc.strerror}",
            ) from exc
    try:
        conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise _read_only_reason(db_path) or StoreError(
            f"cannot open {db_path}: {exc} (check that it and its directory exist and may be read and written)",
            zh=f"无法打开 {db_path}：{exc}（请检查它及其所在目录是否存在且可读写）",
        ) from exc
    store = Store(conn, db_path)
    store.created = created
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        text = str(exc).lower()
        if "unable to open" in text or "readonly" in text:
            reason = _read_only_reason(db_path)
            if reason is not None:
                raise reason from exc
        raise translate(exc) from exc
    from . import migrations

    if version > migrations.LATEST:
        conn.close()
        raise StoreError(
            f"{db_path} was written by a newer version of crm (schema {version}, this version knows "
            f"{migrations.LATEST}); upgrade crm",
            zh=f"{db_path} 由更新版本的 crm 写入（数据库结构版本 {version}，本版本只支持到 {migrations.LATEST}）；请升级 crm",
        )
    if version < migrations.LATEST and migrate:
        migrations.apply(store)
    if not created:
        _warn_if_shared(store)
    _tighten_sidecars(db_path)
    return store


def _warn_if_shared(store: Store) -> None:
    try:
        mode = stat.S_IMODE(store.path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        store.warnings.append(
            f"{store.path} is readable by other users (mode {mode:o}); run: chmod 600 {store.path}"
        )


def _tighten_sidecars(db_path: Path) -> None:
    """WAL and SHM files inherit the umask, not the database's mode: make them private too."""
    for suffix in ("-wal", "-shm"):
        side = Path(str(db_path) + suffix)
        with contextlib.suppress(OSError):
            if side.exists() and stat.S_IMODE(side.stat().st_mode) & 0o077:
                side.chmod(0o600)
