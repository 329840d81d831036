"""The root ``crm`` app: global options and the registry of command groups."""


import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import __version__
from .common import COMMAND_KEY, CrmGroup, h, reset_state, state
from .lazy import LazyTyper

app = LazyTyper(
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
    epilog=h("New here? try: crm demo", "第一次使用？试试：crm demo"),
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
    st.command = ctx.meta.setdefault(COMMAND_KEY, [])  # the words of the subcommand, for State.store()
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
    "Fill a separate demo database (default: crm-demo.db beside yours, or --db NEW_FILE) with sample customers "
    "(in Chinese) and list them. Only a new file or one an earlier demo made is (re)created; your own data is not touched.",
    "在单独的演示数据库（默认：你的数据库旁的 crm-demo.db，或 --db 新文件）中填入示例客户（中文）并列出。"
    "只会（重新）创建新文件或之前演示创建的文件；不会影响你自己的数据。",
))
def demo() -> None:
    from .. import clock, customers, options, storage
    from .. import demo as demo_mod
    from .common import err

    st = state()
    target = Path(st.db).expanduser() if st.db else storage.default_path().with_name("crm-demo.db")
    demo_mod.prepare(target)  # refuses (exit 4) unless the file is new or an earlier demo's
    st.db = target
    store = st.store(create=True)
    with store.write() as conn:
        demo_mod.mark(conn)
    opts = options.load(store)
    ctx = customers.Context.load(store, "demo")
    from ..demo import sample_rows
    from ..demo_followups import log_samples

    for values, days in sample_rows():
        record = customers.add(store, values, ctx, opts)
        log_samples(store, record, days, opts, ctx)
    err(h(f"Demo database: {target}", f"演示数据库：{target}"))
    from . import customer_cmds

    customer_cmds.list_listing(columns=None, fmt="table", reveal=False)
    err(h(
        f"Try: crm --db {target} show XS{clock.now_utc()[:4]}001",
        f"试试：crm --db {target} show XS{clock.now_utc()[:4]}001",
    ))


# Every command but demo, by name -> the module in crmcli/cli that registers it (its
# ``register(app)``), or ``module:attribute`` for a Typer sub-app added under that name. Only the
# invoked command's module is imported (see lazy.py); --help and completion import all, in this
# order, which is the order --help lists them. Adding a command is one line here.
COMMANDS = {
    "add": "customer_cmds",
    "show": "customer_cmds",
    "edit": "customer_cmds",
    "list": "customer_cmds",
    "search": "customer_cmds",
    "delete": "customer_cmds",
    "log": "followup_cmds",
    "status": "followup_cmds",
    "history": "followup_cmds",
    "stale": "followup_cmds",
    "today": "followup_cmds",
    "grade": "followup_cmds",
    "archive": "followup_cmds",
    "restore": "followup_cmds",
    "options": "admin_cmds:options_app",
    "config": "admin_cmds:config_app",
    "report": "report_cmds:report_app",
    "fields": "customer_cmds field_cmds",  # view save copies crm list's options
    "view": "customer_cmds field_cmds",
    "backup": "backup_cmds:backup_app",
    "import": "io_cmds",
    "export": "io_cmds",
    "doctor": "doctor_cmds:doctor_app",
    "trash": "record_cmds",  # trash list|restore|purge
    "merge": "record_cmds",
    "duplicates": "record_cmds",
    "undo": "record_cmds",
    "tag": "tag_cmds",
    "untag": "tag_cmds",
    "tags": "tag_cmds",
    "contact": "tag_cmds",  # contact add|list|remove
}
app.defer(COMMANDS)


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


def load_for(typer_app: LazyTyper, argv: list[str]) -> None:
    """Register what ``argv`` runs: one command's module, or nothing for ``crm --version``.
    Help, completion and unknown names get the whole tree (Click then suggests a close name)."""
    if any(k.endswith("_COMPLETE") for k in os.environ):
        return
    name = invoked_command(argv)
    if name is None:
        if "--version" in argv:
            typer_app.load([])
        return
    if typer_app.knows(name):
        typer_app.load([name])
        only_invoked(typer_app, argv)


def main() -> None:
    load_for(app, sys.argv[1:])
    app()
