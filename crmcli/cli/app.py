"""The root ``crm`` app: global options and the registry of command groups."""


import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import __version__
from . import admin_cmds, backup_cmds, customer_cmds
from .common import CrmGroup, h, reset_state, state

app = typer.Typer(
    cls=CrmGroup,
    name="crm",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=h(
        "Customer management for the terminal: one SQLite file, for salespeople, cron jobs and scripts.",
        "终端里的客户管理工具：一个 SQLite 文件，服务于销售、定时任务和脚本。",
    ),
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[Optional[Path], typer.Option("--db", help=h("database file (default: $CRM_DB, else the user data directory)", "数据库文件（默认 $CRM_DB，否则为用户数据目录）"), envvar=None, dir_okay=False)] = None,  # noqa: UP045
    lang: Annotated[Optional[str], typer.Option("--lang", help=h("interface language: en or zh (default: $CRM_LANG, else the locale)", "界面语言：en 或 zh（默认 $CRM_LANG，否则取系统区域设置）"))] = None,  # noqa: UP045
    debug: Annotated[bool, typer.Option("--debug", help=h("show tracebacks", "出错时显示完整回溯"))] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help=h("print the version", "显示版本"))] = False,
) -> None:
    from .. import i18n

    st = reset_state()
    st.db = db
    st.lang = i18n.detect(lang)
    st.debug = debug
    rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
    st.note_identity = ctx.invoked_subcommand in RECORDS_WHO or "--mine" in rest
    asked = i18n.unknown_lang(lang or os.environ.get("CRM_LANG"))
    if asked:
        from .common import warn

        warn(i18n.message("lang_unknown", st.lang, lang=asked, langs=", ".join(i18n.LANGS)))


# Commands that write who acted (owner, author, audit) or filter by it: when no user name is
# configured they say once that the login stands in.
RECORDS_WHO = frozenset({
    "add", "edit", "log", "status", "delete", "import", "archive", "restore", "grade", "merge", "undo",
    "tag", "untag", "contact", "trash",
})


@app.command(help=h(
    "Fill a separate demo database with sample customers (in Chinese) and list them. Your own data is not touched.",
    "在单独的演示数据库中填入示例客户（中文）并列出。不会影响你自己的数据。",
))
def demo() -> None:
    from .. import clock, customers, options, storage
    from .common import err

    st = state()
    target = st.db or storage.default_path().with_name("crm-demo.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    st.db = target
    store = st.store()
    opts = options.load(store)
    ctx = customers.Context.load(store, "demo")
    from ..demo import sample_rows
    from ..demo_followups import log_samples

    for values, days in sample_rows():
        record = customers.add(store, values, ctx, opts)
        log_samples(store, record, days, opts, ctx)
    err(h(f"Demo database: {target}", f"演示数据库：{target}"))
    customer_cmds.list_listing(columns=None, fmt="table", reveal=False)
    err(h(
        f"Try: crm --db {target} show XS{clock.now_utc()[:4]}001",
        f"试试：crm --db {target} show XS{clock.now_utc()[:4]}001",
    ))


customer_cmds.register(app)
from . import followup_cmds  # noqa: E402  (log, status, history, stale, today, grade, archive, restore)

followup_cmds.register(app)
app.add_typer(admin_cmds.options_app, name="options")
app.add_typer(admin_cmds.config_app, name="config")
from . import report_cmds  # noqa: E402  (report pivot|funnel|sources|activity|service|monthly)

app.add_typer(report_cmds.report_app, name="report")
from . import field_cmds  # noqa: E402  (fields add|list|rename|retire, view save|list|delete)

field_cmds.register(app)
app.add_typer(backup_cmds.backup_app, name="backup")
from . import io_cmds  # noqa: E402  (import FILE|undo|batches, export)

io_cmds.register(app)


GLOBAL_OPTIONS_WITH_VALUE = ("--db", "--lang")


def invoked_command(argv: list[str]) -> str | None:
    """The subcommand name in ``argv`` (skipping the global options), or None."""
    args = iter(argv)
    for arg in args:
        if arg in GLOBAL_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def only_invoked(typer_app: typer.Typer, argv: list[str]) -> None:
    """Keep only the command being run. Typer builds a Click command for every registered
    function at start-up (about 20 ms for crm's 40-odd commands); a cron job running `crm stale`
    pays for one. Help, completion and unknown names keep the full tree."""
    name = invoked_command(argv)
    if name is None or any(k.endswith("_COMPLETE") for k in os.environ):
        return
    commands = [
        c for c in typer_app.registered_commands
        if (c.name or (c.callback.__name__ if c.callback else "").lower().replace("_", "-")) == name
    ]
    groups = [g for g in typer_app.registered_groups if g.name == name]
    if commands or groups:
        typer_app.registered_commands = commands
        typer_app.registered_groups = groups


def main() -> None:
    only_invoked(app, sys.argv[1:])
    app()
