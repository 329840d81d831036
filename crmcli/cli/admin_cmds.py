"""crm options … and crm config …: the lists and settings a team shares."""


from typing import Annotated, Optional

import typer

from .. import i18n
from .common import CrmGroup, FormatOpt, WideOpt, check_format, h, show_table, state

options_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Option lists of the dropdown fields (industry, type, source, status, channel, kind).",
    "下拉字段的选项列表（行业、客户类型、来源、状态、跟进方式、类别）。",
))
config_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Settings shared by everyone using this database: id-prefix, stale-months, grade-rule, priority weights "
    "(crm config list). With --user: your own user, lang, db and phone-region (crm config --user list).",
    "使用此数据库的所有人共享的设置：id-prefix、stale-months、grade-rule、优先级权重（crm config list）。"
    "加 --user：你自己的 user、lang、db、phone-region（crm config --user list）。",
))

FieldArg = Annotated[str, typer.Argument(help=h("the dropdown field, e.g. industry", "下拉字段，如 industry"))]


@options_app.command("list", help=h("Show the options of one field or of all.", "显示某个字段或全部字段的选项。"))
def options_list(
    field: Annotated[Optional[str], typer.Argument(help=h("the dropdown field (default: all)", "下拉字段（默认全部）"))] = None,  # noqa: UP045
    retired: Annotated[bool, typer.Option("--retired", help=h("include retired options", "包括已停用选项"))] = False,
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
) -> None:
    from .. import render
    from ..errors import UsageError
    from ..options import load

    st = state()
    fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv"))
    opts = load(st.store())
    if field and field not in opts.by_field:
        lists = ", ".join(opts.fields())
        raise UsageError(f"no option list for field {field!r}; lists: {lists}", zh=f"字段 {field!r} 没有选项列表；可用：{lists}")
    rows = [
        {"field": o.field, "code": o.code, "label_zh": o.label_zh, "label_en": o.label_en, "position": o.position, "retired": o.retired}
        for f in ([field] if field else opts.fields())
        for o in opts.by_field[f]
        if retired or not o.retired
    ]
    if fmt == "table":
        cols = [render.Column(k, k) for k in ("field", "code", "label_zh", "label_en", "retired")]
        show_table(({**r, "retired": "✓" if r["retired"] else "", "position": str(r["position"])} for r in rows), cols)
    else:
        import sys

        render.write_machine(rows, fmt, sys.stdout)


@options_app.command("add", help=h("Add an option: crm options add industry logistics --zh 物流 --en Logistics", "添加选项：crm options add industry logistics --zh 物流 --en Logistics"))
def options_add(
    field: FieldArg,
    code: Annotated[str, typer.Argument(help=h("stable code: lower-case letters, digits, _", "稳定代码：小写字母、数字、下划线"))],
    zh: Annotated[str, typer.Option("--zh", help=h("Chinese label", "中文名称"))],
    en: Annotated[str, typer.Option("--en", help=h("English label", "英文名称"))],
) -> None:
    from ..options import add_option

    st = state()
    opt = add_option(st.store(), field, code, zh, en)
    typer.echo(i18n.message("option_added", st.lang, field=field, code=opt.code))


@options_app.command("rename", help=h("Change an option's labels; its code and the records using it stay.", "修改选项名称；代码和使用它的记录不变。"))
def options_rename(
    field: FieldArg,
    value: Annotated[str, typer.Argument(help=h("code or label of the option", "选项的代码或名称"))],
    zh: Annotated[Optional[str], typer.Option("--zh", help=h("new Chinese label", "新的中文名称"))] = None,  # noqa: UP045
    en: Annotated[Optional[str], typer.Option("--en", help=h("new English label", "新的英文名称"))] = None,  # noqa: UP045
) -> None:
    from ..errors import UsageError
    from ..options import rename_option

    if zh is None and en is None:
        raise UsageError(h("give --zh and/or --en", "请给出 --zh 和/或 --en"))
    st = state()
    opt = rename_option(st.store(), field, value, label_zh=zh, label_en=en)
    typer.echo(i18n.message("option_renamed", st.lang, field=field, code=opt.code))


@options_app.command("retire", help=h("Retire an option: old records keep it, new ones cannot use it (--undo brings it back).", "停用选项：旧记录保留，新记录不能再用（--undo 恢复）。"))
def options_retire(
    field: FieldArg,
    value: Annotated[str, typer.Argument(help=h("code or label of the option", "选项的代码或名称"))],
    undo: Annotated[bool, typer.Option("--undo", help=h("make the option usable again", "重新启用该选项"))] = False,
) -> None:
    from ..options import set_retired

    st = state()
    opt = set_retired(st.store(), field, value, retired=not undo)
    typer.echo(i18n.message("option_restored" if undo else "option_retired", st.lang, field=field, code=opt.code))


UserOpt = Annotated[bool, typer.Option("--user", help=h(
    "your own per-person settings (user, lang, db, phone-region) in your config file, not the database's",
    "你自己的个人设置（user、lang、db、phone-region），保存在个人配置文件而非数据库中",
))]


@config_app.callback()
def config_root(ctx: typer.Context, user: UserOpt = False) -> None:
    ctx.obj = {"user": user}


def _personal(ctx: typer.Context) -> bool:
    return bool(ctx.parent and ctx.parent.obj and ctx.parent.obj.get("user"))


KeyArg = Annotated[str, typer.Argument(help=h("a setting, e.g. id-prefix (crm config list shows all)", "设置名，如 id-prefix（crm config list 列出全部）"))]


@config_app.command("get", help=h("Print one setting (--user: one of your per-person settings).", "显示一个设置（--user：你的个人设置）。"))
def config_get(ctx: typer.Context, key: KeyArg) -> None:
    from .. import config, userconfig

    if _personal(ctx):
        value = userconfig.get(key)
        if value is None:
            raise _not_set(key)
        typer.echo(value)
        return
    typer.echo(config.get(state().store(), key))


def _not_set(key: str) -> Exception:
    from ..errors import NotFound

    return NotFound(f"{key} is not set (crm config --user set {key} …)", zh=f"{key} 未设置（crm config --user set {key} …）")


@config_app.command("set", help=h(
    "Change a setting: crm config set id-prefix KH; your own: crm config --user set user 张经理",
    "修改设置：crm config set id-prefix KH；个人设置：crm config --user set user 张经理",
))
def config_set(ctx: typer.Context, key: KeyArg, value: Annotated[str, typer.Argument(help=h("the new value", "新值"))]) -> None:
    from .. import config, userconfig
    from ..errors import UsageError

    st = state()
    if _personal(ctx):
        stored = userconfig.set_value(key, value)
        typer.echo(i18n.message("config_set", st.lang, key=key, value=stored), err=True)
        err_note = i18n.message("config_user_file", st.lang, path=userconfig.path())
        typer.echo(err_note, err=True)
        return
    if key == "user":
        raise UsageError(
            f"{key} is a per-person setting now, kept in your own config file, not in the shared database: "
            f"crm config --user set {key} {value}",
            zh=f"{key} 现在是个人设置，保存在你自己的配置文件中，而不是共享数据库：crm config --user set {key} {value}",
        )
    stored = config.set_value(st.store(), key, value)
    typer.echo(i18n.message("config_set", st.lang, key=key, value=stored), err=True)


@config_app.command("unset", help=h(
    "Remove a setting so its default applies again: crm config unset stale-months (--user: from your config file).",
    "删除一个设置，恢复其默认值：crm config unset stale-months（--user：从个人配置文件删除）。",
))
def config_unset(ctx: typer.Context, key: KeyArg) -> None:
    from .. import config, userconfig

    st = state()
    if _personal(ctx):
        removed = userconfig.unset(key)
        typer.echo(i18n.message("config_user_unset" if removed else "config_user_unset_none", st.lang, key=key), err=True)
        return
    default, removed = config.unset(st.store(), key)
    typer.echo(i18n.message("config_unset" if removed else "config_unset_none", st.lang, key=key, value=default), err=True)


@config_app.command("list", help=h(
    "Show every setting (--user: your per-person settings and where each comes from).",
    "显示全部设置（--user：你的个人设置及其来源）。",
))
def config_list(ctx: typer.Context, fmt: FormatOpt = "table") -> None:
    import json

    from .. import config, userconfig

    fmt = check_format(fmt, ("table", "json"))
    if _personal(ctx):
        values = userconfig.all_values()
        if fmt == "json":
            typer.echo(json.dumps([{"key": k, "value": v, "from": src or None} for k, (v, src) in values.items()], ensure_ascii=False))
            return
        for key, (value, source) in values.items():
            where = f"  ({source})" if source and source != "file" else ""
            typer.echo(f"{key} = {value if value is not None else ''}{where}")
        return
    shared = config.all_values(state().store())
    if fmt == "json":
        typer.echo(json.dumps([{"key": k, "value": v} for k, v in shared.items()], ensure_ascii=False))
        return
    for key, value in shared.items():
        typer.echo(f"{key} = {value}")
