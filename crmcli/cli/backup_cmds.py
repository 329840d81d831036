"""crm backup [DIR] / backup verify FILE / backup restore FILE / backup list [DIR]."""


import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import UsageError
from .common import CrmGroup, err, h, state, warn


class BackupGroup(CrmGroup):
    """``crm backup [DIR] [--keep N]`` runs ``create``; the other words are subcommands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["create", *args]
        return super().parse_args(ctx, args)


backup_app = typer.Typer(
    cls=BackupGroup,
    no_args_is_help=False,
    help=h(
        "Back up the database (crm backup [DIR] [--keep N] [--encrypt]), check a backup (verify) or restore one.",
        "备份数据库（crm backup [目录] [--keep N] [--encrypt]）、检查备份（verify）或从备份恢复（restore）。",
    ),
)

PassphraseFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--passphrase-file",
        help=h(
            "read the passphrase from the first line of FILE (- for stdin); or set CRM_BACKUP_PASSPHRASE",
            "从文件第一行读取密码（- 为标准输入）；也可设置 CRM_BACKUP_PASSPHRASE",
        ),
        dir_okay=False,
    ),
]
IdentityOpt = Annotated[
    Optional[list[Path]],  # noqa: UP045
    typer.Option(
        "--identity", "-i",
        help=h("age identity file (secret key, as written by age-keygen) for key-encrypted backups; repeatable",
               "用于解密的 age 私钥文件（age-keygen 生成）；可重复"),
        dir_okay=False,
    ),
]


def _passphrase(passphrase_file: Path | None) -> str | None:
    from .. import backup

    if passphrase_file is not None:
        for w in backup.passphrase_warnings(passphrase_file):
            warn(w)
        return backup.read_passphrase_file(passphrase_file)
    return backup.passphrase_from_env()


def _read_recipients_files(paths: list[Path]) -> list[str]:
    from .. import backup

    return [key for path in paths for key in backup.read_recipients_file(path)]


def _decryption(passphrase_file: Path | None, identity: list[Path] | None) -> Any:
    from .. import backup

    return backup.Encryption(passphrase=_passphrase(passphrase_file), identity_files=list(identity or []))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@backup_app.command("create", help=h(
    "Write a consistent, checked copy of the database into DIR (default: backups/ beside the database), named by "
    "time and the database's identity. --keep N deletes all but the newest N backups of this database. --encrypt writes an age file: to --recipient keys, or with a "
    "passphrase from --passphrase-file or $CRM_BACKUP_PASSPHRASE. Prints the backup's path.",
    "把数据库的一致性副本写入目录（默认：数据库旁的 backups/），按时间和数据库标识命名并做完整性检查。--keep N 只保留该数据库最新的 N 个备份。"
    "--encrypt 写出 age 加密文件：使用 --recipient 公钥，或来自 --passphrase-file 或 $CRM_BACKUP_PASSPHRASE 的密码。打印备份路径。",
))
def create(
    directory: Annotated[Optional[Path], typer.Argument(help=h("directory for the backups", "备份目录"), file_okay=False)] = None,  # noqa: UP045
    keep: Annotated[Optional[int], typer.Option("--keep", "-k", min=1, help=h("keep only the newest N backups of this database in DIR", "目录中只保留该数据库最新的 N 个备份"))] = None,  # noqa: UP045
    encrypt: Annotated[bool, typer.Option("--encrypt", "-e", help=h("encrypt (age format; implied by --recipient and --passphrase-file)", "加密（age 格式；使用 --recipient 或 --passphrase-file 时自动加密）"))] = False,
    recipient: Annotated[Optional[list[str]], typer.Option("--recipient", "-r", help=h("age public key (age1…) or SSH public key to encrypt to; repeatable", "加密所用的 age 公钥（age1…）或 SSH 公钥；可重复"))] = None,  # noqa: UP045
    recipients_file: Annotated[Optional[list[Path]], typer.Option("--recipients-file", "-R", help=h("file of public keys, one a line", "公钥文件，每行一个"), dir_okay=False)] = None,  # noqa: UP045
    passphrase_file: PassphraseFileOpt = None,
) -> None:
    from .. import backup

    recipients = [*(recipient or []), *_read_recipients_files(list(recipients_file or []))]
    passphrase: str | None = None
    if recipients and passphrase_file is not None:
        raise UsageError(h("give recipients or a passphrase file, not both", "公钥与密码文件只能二选一"))
    if not recipients and (encrypt or passphrase_file is not None):
        passphrase = _passphrase(passphrase_file)
        if passphrase is None:
            if not (sys.stdin.isatty() and sys.stderr.isatty()):
                raise UsageError(h(
                    f"--encrypt needs --recipient KEY, --passphrase-file FILE or ${backup.PASSPHRASE_ENV}",
                    f"--encrypt 需要 --recipient 公钥、--passphrase-file 文件或环境变量 ${backup.PASSPHRASE_ENV}",
                ))
            passphrase = typer.prompt(h("Backup passphrase", "备份密码"), hide_input=True, confirmation_prompt=True, err=True)
    enc = backup.Encryption(recipients=recipients, passphrase=passphrase)
    store = state().store()
    result = backup.create(store, directory, keep=keep, encryption=enc)
    typer.echo(str(result.path))
    lock = h("encrypted", "已加密") if result.encrypted else h("not encrypted", "未加密")
    err(h(
        f"Backup of {result.customers} customers, {_size(result.size)}, integrity ok, {lock}.",
        f"已备份 {result.customers} 个客户，{_size(result.size)}，完整性检查通过，{lock}。",
    ))
    for path in result.removed:
        err(h(f"Removed old backup {path.name}", f"已删除旧备份 {path.name}"))
    for path in result.swept:
        err(h(f"Removed {path}, left behind by a killed run", f"已删除被中断的运行遗留的 {path}"))


@backup_app.command("verify", help=h(
    "Check a backup: decrypt it if encrypted, restore it into a temporary place, run SQLite's integrity check and "
    "compare its schema with crm's. Exit code 0 when it is usable, 6 when not.",
    "检查备份：如已加密先解密，恢复到临时位置，运行 SQLite 完整性检查并与 crm 的数据库结构比对。可用时退出码 0，不可用时 6。",
))
def verify(
    file: Annotated[Path, typer.Argument(help=h("the backup file", "备份文件"), dir_okay=False)],
    passphrase_file: PassphraseFileOpt = None,
    identity: IdentityOpt = None,
) -> None:
    from .. import restoring

    result = restoring.verify(file, _decryption(passphrase_file, identity))
    kind = h("encrypted", "加密") if result.encrypted else h("plain", "未加密")
    typer.echo(h(
        f"ok: {file} ({kind}): {result.customers} customers, {result.followups} follow-ups, "
        f"{result.audit_rows} audit rows; integrity ok",
        f"通过：{file}（{kind}）：{result.customers} 个客户，{result.followups} 条跟进，{result.audit_rows} 条审计记录；完整性检查通过",
    ))


@backup_app.command("restore", help=h(
    "Replace the database with a backup, after checking the backup and asking (--yes to skip), in one transaction. "
    "The current database is kept aside as <db>.before-restore-<time>; audit rows written since the backup are kept.",
    "用备份替换当前数据库（一个事务内完成）：先检查备份并确认（--yes 跳过确认）。当前数据库另存为 <数据库>.before-restore-<时间>；备份之后的审计记录会保留。",
))
def restore(
    file: Annotated[Path, typer.Argument(help=h("the backup file", "备份文件"), dir_okay=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help=h("do not ask", "不确认直接恢复"))] = False,
    passphrase_file: PassphraseFileOpt = None,
    identity: IdentityOpt = None,
) -> None:

    enc = _decryption(passphrase_file, identity)
    store = state().store()
    if not yes and not sys.stdin.isatty():
        raise UsageError(h("refusing to restore without --yes when not on a terminal", "非终端环境下恢复需要 --yes"))

    def confirm(checked: Any, current: int) -> bool:
        if yes:
            return True
        from .common import confirm

        return confirm(h(
            f"Replace {store.path} ({current} customers) with {file} ({checked.customers} customers)? "
            "The current database is kept aside.",
            f"用 {file}（{checked.customers} 个客户）替换 {store.path}（{current} 个客户）？当前数据库会另存。",
        ))

    from .. import restoring

    try:
        result = restoring.restore(store, file, enc, confirm=confirm)
    except restoring.RestoreDeclined:
        err(h("Aborted; nothing changed.", "已取消；没有任何更改。"))
        raise typer.Exit(1) from None
    typer.echo(h(
        f"Restored {result.customers} customers from {file}; the previous database ({result.previous_customers} "
        f"customers) is at {result.aside}",
        f"已从 {file} 恢复 {result.customers} 个客户；之前的数据库（{result.previous_customers} 个客户）保存在 {result.aside}",
    ))
    if result.carried_audit_rows:
        err(h(
            f"{result.carried_audit_rows} audit rows written after the backup was taken were kept",
            f"保留了备份之后写入的 {result.carried_audit_rows} 条审计记录",
        ))


@backup_app.command("list", help=h("List this database's backups in DIR, oldest first.", "列出目录中该数据库的备份（最早的在前）。"))
def list_(
    directory: Annotated[Optional[Path], typer.Argument(help=h("directory of the backups", "备份目录"), file_okay=False)] = None,  # noqa: UP045
    fmt: Annotated[str, typer.Option("--format", "-f", case_sensitive=False, help=h(
        "text, or json: an array of {path, created, size, encrypted, db-id}",
        "输出格式：text，或 json（对象数组：path、created、size、encrypted、db-id）"))] = "text",
) -> None:
    from .. import backup, storage
    from .common import check_format

    fmt = check_format(fmt, ("text", "json"))
    st = state()
    db_path = Path(st.db).expanduser() if st.db else storage.default_path()
    where = directory or backup.default_dir(db_path)
    if db_path.exists():  # this database's backups: its name and its identity (or none, from older crm)
        found = backup.list_backups(where, db_path, backup.identity(st.store()))
    else:
        found = backup.list_backups(where, db_path)
    if not db_path.exists():
        # a lost database is when its backups are needed: list them by name, create nothing
        if not found:
            raise storage.missing(db_path)
        warn(h(
            f"there is no database at {db_path}; these backups are named like it (crm backup restore FILE --yes)",
            f"{db_path} 处没有数据库；以下备份与其同名（crm backup restore 文件 --yes）",
        ))
    if fmt == "json":
        import json

        typer.echo(json.dumps([_backup_info(path) for path in found], ensure_ascii=False, indent=2))
        return
    for path in found:
        typer.echo(f"{path}\t{_size(path.stat().st_size)}")


def _backup_info(path: Path) -> dict[str, Any]:
    """One backup for scripts: when it was made (from its name, UTC), its size in bytes, whether it
    is age-encrypted (from its header) and the identity of the database it was made from."""
    import re

    from .. import backup

    m = re.search(r"-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-[0-9a-f]{16})?(?:-\d+)?\.db(?:\.age)?$", path.name)
    created = f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}Z" if m else None
    return {
        "path": str(path),
        "created": created,
        "size": path.stat().st_size,
        "encrypted": backup.is_encrypted(path),
        "db-id": backup.backup_identity(path),
    }
