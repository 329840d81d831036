"""crm trash list|restore|purge, crm merge, crm duplicates, crm undo: deleting, merging and
taking back changes."""


import sys
from typing import Annotated, Any, Optional

import typer

from .asking import confirm, t
from .common import FormatOpt, check_format, complete_ids, err, h, state

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


# ---------------------------------------------------------------------------- merge and duplicates

IdArg = Annotated[str, typer.Argument(help=h("customer ID", "客户编号"), autocompletion=complete_ids)]


def _shown(record: dict[str, Any], key: str) -> str:
    from .. import options, render

    st = state()
    return render.customer_display({key: record.get(key)}, options.load(st.store()), st.lang, False).get(key, "")


def _choose(conflicts: list[tuple[str, Any, Any]], keep: dict[str, Any], other: dict[str, Any],
            prefer: Optional[str]) -> dict[str, str]:  # noqa: UP045
    from ..errors import UsageError
    from ..fields import BY_KEY
    from . import common

    if prefer is not None:
        return {k: prefer for k, _, _ in conflicts}
    if not conflicts:
        return {}
    if not common.stdin_is_terminal():
        names = ", ".join(k for k, _, _ in conflicts)
        raise UsageError(f"{len(conflicts)} fields differ ({names}); choose with --prefer keep|other",
                         zh=f"{len(conflicts)} 个字段不同（{names}）；请用 --prefer keep|other 选择")
    choices = {}
    for key, _, _ in conflicts:
        label = BY_KEY[key].label(state().lang)
        answer = typer.prompt(
            t(f"{label}: [k]eep {_shown(keep, key)!r} or [o]ther {_shown(other, key)!r}?",
              f"{label}：保留 [k] {_shown(keep, key)!r} 还是采用 [o] {_shown(other, key)!r}？"),
            default="k", err=True,
        ).strip().lower()
        choices[key] = "other" if answer in ("o", "other", "2") else "keep"
    return choices


def register_merge(app: typer.Typer) -> None:
    @app.command("merge", help=h(
        "Merge OTHER into KEEP: OTHER's follow-ups, status history, contacts and tags move to KEEP, KEEP's empty fields are "
        "filled from OTHER, and fields both have but differently are chosen on a terminal or by --prefer keep|other. "
        "Asks first (--yes); OTHER ends in the trash noting \"merged into KEEP\"; crm undo reverts it.",
        "将 OTHER 合并到 KEEP：OTHER 的跟进、状态历史、联系人和标签转到 KEEP，KEEP 的空字段由 OTHER 补全，"
        "两者都有但不同的字段在终端中选择或用 --prefer keep|other 指定。会先确认（--yes）；OTHER 移入回收站并注明"
        "“merged into KEEP”；crm undo 可撤销。",
    ))
    def merge_(
        keep_id: IdArg,
        other_id: IdArg,
        prefer: Annotated[Optional[str], typer.Option("--prefer", help=h("for every differing field: keep or other", "所有不同字段统一取 keep 或 other"))] = None,  # noqa: UP045
        yes: YesOpt = False,
    ) -> None:
        from .. import customers, merge
        from ..errors import ValidationError
        from ..fields import BY_KEY

        if prefer is not None and prefer.lower() not in ("keep", "other"):
            raise ValidationError("prefer", prefer, "option_unknown", details={"allowed": "keep, other"})
        st = state()
        store = st.store()
        plan = merge.preview(store.conn, keep_id, other_id)
        keep, other = plan.keep, plan.other
        lang = st.lang
        lines = [t(f"Merge {other['id']} {other['name']} into {keep['id']} {keep['name']}:",
                   f"将 {other['id']} {other['name']} 合并到 {keep['id']} {keep['name']}："),
                 t(f"  {plan.followups} follow-ups move to {keep['id']}", f"  {plan.followups} 条跟进转到 {keep['id']}")]
        for key, _value in plan.fills.items():
            lines.append(t(f"  {BY_KEY[key].label(lang)}: filled with {_shown(other, key)!r}",
                           f"  {BY_KEY[key].label(lang)}：补为 {_shown(other, key)!r}"))
        for key, _, _ in plan.conflicts:
            lines.append(t(f"  {BY_KEY[key].label(lang)} differs: {_shown(keep, key)!r} (keep) / {_shown(other, key)!r} (other)",
                           f"  {BY_KEY[key].label(lang)} 不同：{_shown(keep, key)!r}（keep）/ {_shown(other, key)!r}（other）"))
        for line in lines:
            err(line)
        choices = _choose(plan.conflicts, keep, other, prefer.lower() if prefer else None)
        confirm(f"Merge {other['id']} into {keep['id']}? {other['id']} goes to the trash.",
                f"将 {other['id']} 合并到 {keep['id']}？{other['id']} 将移入回收站。",
                yes=yes, what_en="merge", what_zh="合并")
        merge.merge(store, keep["id"], other["id"], customers.Context.load(store, "merge"), choices, expected=plan)
        typer.echo(t(f"Merged {other['id']} into {keep['id']}; {other['id']} is in the trash (crm undo reverts the merge)",
                     f"已将 {other['id']} 合并到 {keep['id']}；{other['id']} 已移入回收站（crm undo 可撤销合并）"))

    @app.command("duplicates", help=h(
        "List likely duplicate customers, for crm merge: the same phone, the same e-mail (any case), the same name once "
        "company suffixes and punctuation are dropped (有限公司, Co., Ltd.), or similar names (character bigrams, each name "
        "compared with its 4 neighbours in sorted order, so the time grows linearly: a few seconds at 100k customers; groups over 20 are skipped).",
        "列出可能重复的客户，供 crm merge 使用：电话相同、邮箱相同（不分大小写）、去掉公司后缀和标点后名称相同"
        "（有限公司、Co., Ltd.），或名称相似（按字符二元组比较，每个名称只与排序后相邻的 4 个比较，耗时随客户数线性增长：10 万客户约几秒；"
        "超过 20 个的组跳过）。",
    ))
    def duplicates_(
        fmt: FormatOpt = "table",
        limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=0, help=h("at most N pairs (0: all)", "最多 N 对（0 为全部）"))] = None,  # noqa: UP045
    ) -> None:
        from .. import duplicates

        fmt = check_format(fmt, LIST_FORMATS)
        found = duplicates.find(state().store().conn)
        rows = [p.as_dict() for p in found.pairs]
        if limit:
            rows = rows[:limit]
        keys = [("id", "Customer ID", "客户编号"), ("name", "Customer name", "客户名称"),
                ("other_id", "Other ID", "另一编号"), ("other_name", "Other name", "另一名称"),
                ("reasons", "Why", "原因"), ("similarity", "Similarity", "相似度")]
        _emit(rows, fmt, keys, "No likely duplicates.", "没有疑似重复的客户。")
        if found.skipped:
            err(t(f"{found.skipped} groups of more than {duplicates.MAX_GROUP} customers sharing a phone, e-mail or name were skipped",
                  f"已跳过 {found.skipped} 个超过 {duplicates.MAX_GROUP} 个客户共用电话、邮箱或名称的组"))


# ---------------------------------------------------------------------------- undo

UNDO_KEYS = [
    ("kind", "Kind", "类别"), ("id", "No.", "编号"), ("at", "At (UTC)", "时间（UTC）"), ("command", "Command", "命令"),
    ("summary", "What", "内容"), ("customers", "Customers", "客户数"), ("undone_at", "Undone at", "撤销时间"),
]


def register_undo(app: typer.Typer) -> None:
    @app.command("undo", help=h(
        "Revert your latest change (edit, status, log, delete, merge, bulk edit, tags, contacts, import): shows what it "
        "will revert and asks (--yes). Refused, naming the conflict, when someone changed the same customer since. "
        "--list shows your last changes.",
        "撤销你最近的一次更改（编辑、状态、跟进、删除、合并、批量修改、标签、联系人、导入）：先显示将撤销的内容并确认"
        "（--yes）。若之后有人修改了同一客户则拒绝并说明冲突。--list 显示你最近的更改。",
    ))
    def undo_(
        list_: Annotated[bool, typer.Option("--list", help=h("show your last changes instead", "显示你最近的更改"))] = False,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help=h("with --list: how many", "配合 --list：显示条数"))] = 20,
        fmt: FormatOpt = "table",
        yes: YesOpt = False,
    ) -> None:
        from .. import customers, undo
        from ..errors import Conflict

        st = state()
        store = st.store()
        ctx = customers.Context.load(store, "undo")
        if list_:
            fmt = check_format(fmt, LIST_FORMATS)
            rows = [e.as_dict() for e in undo.entries(store.conn, ctx.user, limit)]
            _emit(rows, fmt, UNDO_KEYS, f"No changes by {ctx.user}.", f"{ctx.user} 没有任何更改。")
            return
        fmt = check_format(fmt, ("table",))
        entry = undo.latest(store.conn, ctx.user)
        plan = undo.plan(store.conn, entry)
        what = t(f"change {entry.id}" if entry.kind == "change" else f"import batch {entry.id}",
                 f"变更 {entry.id}" if entry.kind == "change" else f"导入批次 {entry.id}")
        err(t(f"Undo {what} ({entry.command}, {entry.at}): {entry.summary}",
              f"撤销{what}（{entry.command}，{entry.at}）：{entry.summary}"))
        for en, zh in plan.lines[:20]:
            err("  " + t(en, zh))
        if len(plan.lines) > 20:
            err(t(f"  … and {len(plan.lines) - 20} more", f"  …… 另有 {len(plan.lines) - 20} 项"))
        if plan.conflicts:
            raise Conflict(f"cannot undo {what}: " + "; ".join(en for en, _ in plan.conflicts[:5]),
                           zh=f"无法撤销{what}：" + "；".join(zh for _, zh in plan.conflicts[:5]))
        confirm(f"Undo {what}?", f"撤销{what}？", yes=yes, what_en="undo", what_zh="撤销")
        undo.undo(store, entry, ctx)
        typer.echo(t(f"Undid {what}: {entry.summary}", f"已撤销{what}：{entry.summary}"))


def register(app: typer.Typer) -> None:
    app.add_typer(trash_app, name="trash")
    register_merge(app)
    register_undo(app)
