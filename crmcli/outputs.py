"""Private output files: every file crm writes for a user (exports, rejects, reports, backups).

One set of rules, so no output option can lose data or leak it:

- never onto the open database or its ``-wal``/``-shm``/``-journal``, compared by resolved path
  *and* by device and inode, so a symlink or a hard link to the database is caught too;
- never over an existing file without ``force``; never onto a directory or into a missing one
  (a one-line message, not a traceback);
- written 0600 under a temporary name in the target's directory and renamed into place only when
  complete: a full disk, an error or a SIGKILL never leaves a truncated file under the target's
  name. Leftover temporaries of killed runs carry the dead process's id and are swept later.

An existing device or FIFO (``/dev/stdout``, ``/dev/null``, a named pipe) is written in place:
there is no file to replace, and renaming over a device node would be wrong.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import Conflict, UsageError

TMP_SUFFIX = ".crm-tmp"
PRIVATE_DIR_PREFIX = "crm-private-"
SIDECARS = ("", "-wal", "-shm", "-journal")
_TMP_RE = re.compile(rf"^\..+\.(\d+)\.[A-Za-z0-9_]+{re.escape(TMP_SUFFIX)}$")
_DIR_RE = re.compile(rf"^\.?{re.escape(PRIVATE_DIR_PREFIX)}(\d+)-")


class OutputError(UsageError):
    """An output file cannot be written: missing directory, a directory, permission, disk full (exit 2)."""


def protected(db_path: Path | str | None) -> list[Path]:
    """The database and its sidecars, as given and as resolved (SQLite names sidecars after either)."""
    if db_path is None or str(db_path) == ":memory:":
        return []
    given = Path(db_path).expanduser()
    out: list[Path] = []
    for base in {str(given.absolute()), str(given.resolve())}:
        out += [Path(base + suffix) for suffix in SIDECARS]
    return out


def _same_file(target: Path, guarded: Iterable[Path]) -> Path | None:
    """The guarded path ``target`` is, by resolved name or by inode; None when it is none of them."""
    guarded = list(guarded)
    if not guarded:
        return None
    resolved = str(target.resolve())
    for g in guarded:
        if str(g.resolve()) == resolved:
            return g
    try:
        st = target.stat()
    except OSError:
        return None
    for g in guarded:
        with contextlib.suppress(OSError):
            gs = g.stat()
            if (gs.st_dev, gs.st_ino) == (st.st_dev, st.st_ino):
                return g
    return None


def _cant_write(path: Path, exc: OSError) -> OutputError:
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(
            f"cannot write {path}: the disk is full; nothing was written",
            zh=f"无法写入 {path}：磁盘已满；没有写入任何内容",
        )
    if code == errno.EROFS:
        return OutputError(f"cannot write {path}: the filesystem is read-only", zh=f"无法写入 {path}：文件系统为只读")
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {reason}", zh=f"无法写入 {path}：{reason}")


@dataclass(frozen=True)
class Target:
    path: Path
    stream: bool  # an existing device or FIFO: written in place, never renamed over


def check_target(path: Path | str, *, force: bool = False, protect: Iterable[Path] = ()) -> Target:
    """Refuse an output path crm must not write to; see the module docstring for the rules."""
    target = Path(path).expanduser()
    hit = _same_file(target, protect)
    if hit is not None:
        raise Conflict(
            f"refusing to write to {target}: it is the open database {hit} (or one of its -wal/-shm files); "
            "nothing was written; choose another file",
            zh=f"拒绝写入 {target}：它是正在使用的数据库 {hit}（或其 -wal/-shm 文件）；未写入任何内容；请换一个文件",
        )
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise OutputError(
                f"cannot write {target}: a parent of it is not a directory",
                zh=f"无法写入 {target}：其上级路径不是目录",
            ) from None
        raise _cant_write(target, exc) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(
                f"cannot write {target}: it is a directory; give a file name",
                zh=f"无法写入 {target}：这是一个目录；请给出文件名",
            )
        if not stat.S_ISREG(st.st_mode):
            return Target(target, stream=True)
        if not force:
            raise Conflict(
                f"{target} exists; use --force to overwrite it", zh=f"{target} 已存在；使用 --force 覆盖"
            )
    parent = target.parent
    if not parent.is_dir():
        if parent.exists():
            raise OutputError(
                f"cannot write {target}: {parent} is not a directory", zh=f"无法写入 {target}：{parent} 不是目录"
            )
        raise OutputError(
            f"cannot write {target}: the directory {parent} does not exist",
            zh=f"无法写入 {target}：目录 {parent} 不存在",
        )
    return Target(target, stream=False)


def temp_name(target: Path) -> str:
    """A temporary name beside ``target`` that says which process made it (for :func:`sweep`)."""
    return f".{target.name}.{os.getpid()}."


def publish(tmp: Path, target: Path, force: bool) -> None:
    """Move the finished ``tmp`` onto ``target``; without ``force``, never over a file that appeared meanwhile."""
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if the target exists: no check-then-rename race
    except FileExistsError:
        raise Conflict(f"{target} exists; use --force to overwrite it", zh=f"{target} 已存在；使用 --force 覆盖") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # a filesystem without hard links (FAT, some network mounts): check, then rename
        if target.exists():
            raise Conflict(f"{target} exists; use --force to overwrite it", zh=f"{target} 已存在；使用 --force 覆盖") from None
        os.replace(tmp, target)
        return
    tmp.unlink()


def fsync_path(path: Path) -> None:
    """Flush a file's data, or a directory's entries (after a rename), to disk; best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def private_output(
    path: Path | str,
    *,
    force: bool = False,
    protect: Iterable[Path] = (),
    binary: bool = False,
    encoding: str = "utf-8",
) -> Iterator[IO[Any]]:
    """Write ``path`` safely: yields a file object on a private temporary file, renamed over
    ``path`` when the block ends without an error, removed when it raises. OS errors (disk full,
    permission) become one-line :class:`OutputError`\\ s."""
    guarded = list(protect)
    target = check_target(path, force=force, protect=guarded)
    if target.stream:
        try:
            with open(target.path, "wb" if binary else "w", **({} if binary else {"encoding": encoding, "newline": ""})) as fh:
                yield fh
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise _cant_write(target.path, exc) from None
        return
    directory = target.path.parent
    sweep(directory)
    try:
        fd, name = tempfile.mkstemp(prefix=temp_name(target.path), suffix=TMP_SUFFIX, dir=directory)  # 0600
    except OSError as exc:
        raise _cant_write(target.path, exc) from None
    tmp = Path(name)
    try:
        os.fchmod(fd, 0o600)
        fh: IO[Any] = open(fd, "wb") if binary else open(fd, "w", encoding=encoding, newline="")  # noqa: SIM115
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        check_target(target.path, force=force, protect=guarded)  # still not the database, still free
        publish(tmp, target.path, force)
        fsync_path(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _cant_write(target.path, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def open_private(path: Path | str, *, binary: bool = False, encoding: str = "utf-8") -> IO[Any]:
    """Create a new file 0600 (never an existing one: ``O_EXCL``) and open it for writing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)  # a umask can only narrow the mode, but say it exactly
    if binary:
        return open(fd, "wb")
    return open(fd, "w", encoding=encoding, newline="")


def create_private(path: Path | str) -> None:
    """Create an empty file 0600 (e.g. for ``VACUUM INTO``, which fills an empty file)."""
    open_private(path, binary=True).close()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def sweep(directory: Path | str) -> list[Path]:
    """Remove leftovers of killed crm runs in ``directory``: temporary files and private temporary
    directories whose owning process no longer exists. Other files are never touched."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_RE.match(entry.name) or _DIR_RE.match(entry.name)
        if not m or _alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            elif entry.is_file(follow_symlinks=False):
                path.unlink()
            else:
                continue
        except OSError:
            continue
        removed.append(path)
    return removed


@contextlib.contextmanager
def private_tmpdir(base: Path | str | None = None) -> Iterator[Path]:
    """A 0700 temporary directory for plaintext (decrypted or not yet encrypted data), in ``base``
    (else ``$TMPDIR``), removed in ``finally``; a killed run's directory is swept by the next."""
    where = str(base) if base is not None else None
    sweep(where or tempfile.gettempdir())
    try:
        path = Path(tempfile.mkdtemp(prefix=f".{PRIVATE_DIR_PREFIX}{os.getpid()}-", dir=where))
    except OSError as exc:
        raise _cant_write(Path(where or tempfile.gettempdir()), exc) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
