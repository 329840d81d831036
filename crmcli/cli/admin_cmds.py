"""crm options … and crm config …: the lists and settings a team shares."""


from typing import Annotated, Optional

import typer

from .. import i18n
from .common import CrmGroup, FormatOpt, check_format, h, state

options_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Option lists of the dropdown fields (industry, type, source, status, channel, kind).",
    "下拉字段的选项列表（行业、客户类型、来源、状态、跟进方式、类别）。",
))
config_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Settings shared by everyone using this database: id-prefix, user, stale-months, grade-rule, priority weights (crm config list).",
    "使用此数据库的所有人共享的设置：id-prefix、user、stale-months、grade-rule、优先级权重（crm config list）。",
))

FieldArg = Annotated[str, typer.Argument(help=h("the dropdown field, e.g. industry", "下拉字段，如 industry"))]


@options_app.command("list", help=h("Show the options of one field or of all.", "显示某个字段或全部字段的选项。"))
def options_list(
    field: Annotated[Optional[str], typer.Argument(help=h("the dropdown field (default: all)", "下拉字段（默认全部）"))] = None,  # noqa: UP045
    retired: Annotated[bool, typer.Option("--retired", help=h("include retired options", "包括已停用选项"))] = False,
    fmt: FormatOpt = "table",
) -> None:
    from .. import render
    from ..errors import UsageError
    from ..options import load

    st = state()
    fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv"))
    opts = load(st.store())
    if field and field not in opts.by_field:
        raise UsageError(f"no option list for field {field!r}; lists: {', '.join(opts.fields())}")
    rows = [
        {"field": o.field, "code": o.code, "label_zh": o.label_zh, "label_en": o.label_en, "position": o.position, "retired": o.retired}
        for f in ([field] if field else opts.fields())
        for o in opts.by_field[f]
        if retired or not o.retired
    ]
    if fmt == "table":
        cols = [render.Column(k, k) for k in ("field", "code", "label_zh", "label_en", "retired")]
        render.table(({**r, "retired": "✓" if r["retired"] else "", "position": str(r["position"])} for r in rows), cols)
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


@config_app.command("get", help=h("Print one setting.", "显示一个设置。"))
def config_get(key: Annotated[str, typer.Argument(help=h("a setting, e.g. id-prefix (crm config list shows all)", "设置名，如 id-prefix（crm config list 列出全部）"))]) -> None:
    from .. import config

    typer.echo(config.get(state().store(), key))


@config_app.command("set", help=h("Change a setting: crm config set id-prefix KH", "修改设置：crm config set id-prefix KH"))
def config_set(
    key: Annotated[str, typer.Argument(help=h("a setting, e.g. id-prefix (crm config list shows all)", "设置名，如 id-prefix（crm config list 列出全部）"))],
    value: Annotated[str, typer.Argument()],
) -> None:
    from .. import config

    st = state()
    stored = config.set_value(st.store(), key, value)
    typer.echo(i18n.message("config_set", st.lang, key=key, value=stored))


@config_app.command("unset", help=h(
    "Remove a setting so its default applies again: crm config unset stale-months",
    "删除一个设置，恢复其默认值：crm config unset stale-months",
))
def config_unset(key: Annotated[str, typer.Argument(help=h("a setting, e.g. stale-months (crm config list shows all)", "设置名，如 stale-months（crm config list 列出全部）"))]) -> None:
    from .. import config

    st = state()
    default, removed = config.unset(st.store(), key)
    typer.echo(i18n.message("config_unset" if removed else "config_unset_none", st.lang, key=key, value=default))


@config_app.command("list", help=h("Show every setting.", "显示全部设置。"))
def config_list() -> None:
    from .. import config

    for key, value in config.all_values(state().store()).items():
        typer.echo(f"{key} = {value}")
