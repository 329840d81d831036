"""crm trash list|restore|purge, crm merge, crm duplicates, crm undo: deleting, merging and
taking back changes."""


import sys
from typing import Annotated, Any, Optional

import typer

from .asking import confirm, t
from .common import FormatOpt, check_format, err, h, state

trash_app = typer.Typer(
    help=h(
        "Deleted customers: list, restore or purge them. Trashed customers appear nowhere else; their IDs stay reserved.",
        "已删除的客户：列出、恢复或彻底清除。回收站中的客户不会出现在其他任何地方；其编号保持占用。",
    ),
    no_args_is_help=True,
)
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help=h("do not ask", "不再确认"))]
LIST_FORMATS = ("table", "json", "jsonl", "csv", "tsv")


def _table(rows: list[dict[str, Any]], keys: list[tuple[str, str, str]], title: Optional[str] = None) -> None:  # noqa: UP045
    from .. import render

    lang = state().lang
    cols = [render.Column(k, zh if lang == "zh" else en) for k, en, zh in keys]
    shown = ({k: "" if r.get(k) is None else str(r.get(k)) for k, _, _ in keys} for r in rows)
    render.table(shown, cols, title=title)


def _emit(rows: list[dict[str, Any]], fmt: str, keys: list[tuple[str, str, str]], empty_en: str, empty_zh: str,
          title: Optional[str] = None) -> None:  # noqa: UP045
    from .. import render

    if fmt != "table":
        render.write_machine(rows, fmt, sys.stdout, keys=[k for k, _, _ in keys])
    elif not rows:
        err(t(empty_en, empty_zh))
    else:
        _table(rows, keys, title)


TRASH_KEYS = [
    ("id", "Customer ID", "客户编号"), ("name", "Customer name", "客户名称"), ("owner", "Owner", "跟进人"),
    ("deleted_at", "Deleted at (UTC)", "删除时间（UTC）"), ("deleted_by", "By", "操作人"),
    ("followups", "Follow-ups", "跟进数"), ("note", "Note", "说明"),
]


@trash_app.command("list", help=h("The trash, most recently deleted first.", "回收站内容，最近删除的在前。"))
def trash_list(fmt: FormatOpt = "table") -> None:
    from .. import trash

    fmt = check_format(fmt, LIST_FORMATS)
    rows = [e.as_dict() for e in trash.listing(state().store().conn)]
    _emit(rows, fmt, TRASH_KEYS, "The trash is empty.", "回收站是空的。")


@trash_app.command("restore", help=h(
    "Bring customers back from the trash, with their follow-ups and history.",
    "从回收站恢复客户及其跟进和历史记录。",
))
def trash_restore(
    customer_ids: Annotated[list[str], typer.Argument(metavar="ID...", help=h("IDs in the trash (crm trash list)", "回收站中的编号（crm trash list）"))],
) -> None:
    from .. import customers, trash

    store = state().store()
    for record in trash.restore(store, customer_ids, customers.Context.load(store, "trash restore")):
        typer.echo(t(f"Restored {record['id']} {record['name']}", f"已恢复 {record['id']} {record['name']}"))


@trash_app.command("purge", help=h(
    "Remove customers from the trash for good: those deleted more than --older-than ago (30d, 2w, 6m, 1y), "
    "the IDs given, or all. Asks first (--yes to skip). The audit trail keeps a line for each.",
    "从回收站彻底清除客户：删除时间早于 --older-than（30d、2w、6m、1y）的、指定编号的或全部。"
    "会先确认（--yes 跳过）。审计记录为每个客户保留一行。",
))
def trash_purge(
    customer_ids: Annotated[Optional[list[str]], typer.Argument(metavar="[ID...]", help=h("only these IDs", "只清除这些编号"))] = None,  # noqa: UP045
    older_than: Annotated[Optional[str], typer.Option("--older-than", help=h("deleted more than this long ago: 30d, 2w, 6m, 1y", "删除时间早于：30d、2w、6m、1y"))] = None,  # noqa: UP045
    yes: YesOpt = False,
) -> None:
    from .. import customers, trash

    store = state().store()
    age = trash.parse_age(older_than) if older_than is not None else None
    entries = trash.purge_candidates(store.conn, age, customer_ids or ())
    if not entries:
        err(t("Nothing to purge.", "没有可清除的内容。"))
        return
    confirm(f"Purge {len(entries)} customers from the trash for good?", f"从回收站彻底清除 {len(entries)} 个客户？",
            yes=yes, what_en="purge the trash", what_zh="清除回收站")
    n = trash.purge(store, entries, customers.Context.load(store, "trash purge"))
    typer.echo(t(f"Purged {n} customers from the trash", f"已从回收站清除 {n} 个客户"))


def register(app: typer.Typer) -> None:
    app.add_typer(trash_app, name="trash")
