"""crm fields add|list|rename|retire and crm view save|list|delete."""


import inspect
import sys
import typing
from typing import Annotated, Any, Optional

import typer

from .common import CrmGroup, FormatOpt, WideOpt, check_format, h, show_table, state

fields_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Custom fields (the template's quarterly changes): each is a real column of customers, usable in add/edit --set, list --where/--sort/--columns, show, reports.",
    "自定义字段（模板每季度的新增字段）：每个都是 customers 表的真实列，可用于 add/edit --set、list --where/--sort/--columns、show 和报表。",
))
view_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Saved views: a name for a crm list filter, sort and columns (crm list --view NAME).",
    "已保存的视图：为 crm list 的筛选、排序和列起个名字（crm list --view 名称）。",
))

KeyArg = Annotated[str, typer.Argument(help=h("the field's key, e.g. satisfaction", "字段键，如 satisfaction"))]
FIELD_FORMATS = ("table", "json", "jsonl", "csv", "tsv")


def _field_row(f: Any, option_count: int) -> dict[str, Any]:
    return {
        "key": f.key, "type": f.type, "label_zh": f.label_zh, "label_en": f.label_en,
        "retired": f.retired, "options": option_count if f.type == "choice" else None, "created_at": f.created_at,
    }


@fields_app.command("add", help=h(
    "Add a field: crm fields add satisfaction --type integer --label-zh 客户满意度评分 --label-en 'Satisfaction score'. "
    "A choice field needs --choices CODE:中文:English,CODE:中文:English",
    "添加字段：crm fields add satisfaction --type integer --label-zh 客户满意度评分 --label-en 'Satisfaction score'。"
    "下拉字段需要 --choices 代码:中文:English,代码:中文:English",
))
def fields_add(
    key: KeyArg,
    type_: Annotated[str, typer.Option("--type", "-t", help=h("text, integer, decimal, date or choice", "text、integer、decimal、date 或 choice"))],
    label_zh: Annotated[str, typer.Option("--label-zh", help=h("Chinese label (also accepted as an import header)", "中文名称（导入时也可作表头）"))],
    label_en: Annotated[str, typer.Option("--label-en", help=h("English label (also accepted as an import header)", "英文名称（导入时也可作表头）"))],
    choices: Annotated[Optional[str], typer.Option("--choices", help=h("options of a choice field: CODE:中文:English,CODE:中文:English (comma-separated)", "下拉字段的选项：代码:中文:English,代码:中文:English（逗号分隔）"))] = None,  # noqa: UP045
) -> None:
    from .. import custom_fields

    st = state()
    parsed = custom_fields.parse_choices(choices) if choices else None
    f = custom_fields.add(st.store(), key, type_, label_zh, label_en, parsed)
    typer.echo(h(f"Added field {f.key} ({f.type})", f"已添加字段 {f.key}（{f.type}）"))


@fields_app.command("list", help=h("Show the custom fields.", "显示自定义字段。"))
def fields_list(
    retired: Annotated[bool, typer.Option("--retired/--no-retired", help=h("include retired fields", "包括已停用字段"))] = True,
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
) -> None:
    from .. import custom_fields, render
    from ..options import load

    st = state()
    fmt = check_format(fmt, FIELD_FORMATS)
    store = st.store()
    opts = load(store)
    rows = [_field_row(f, len(opts.by_field.get(f.key, []))) for f in custom_fields.list_fields(store.conn, retired=retired)]
    if fmt != "table":
        render.write_machine(rows, fmt, sys.stdout)
        return
    if not rows:
        from .common import err

        err(h("No custom fields yet; add one with crm fields add KEY --type … --label-zh … --label-en …",
              "还没有自定义字段；用 crm fields add KEY --type … --label-zh … --label-en … 添加"))
        return
    cols = [render.Column(k, k) for k in ("key", "type", "label_zh", "label_en", "options", "retired")]
    shown = ({**r, "retired": "✓" if r["retired"] else "", "options": "" if r["options"] is None else str(r["options"])} for r in rows)
    show_table(shown, cols)


@fields_app.command("rename", help=h("Change a field's labels; its key, column and values stay.", "修改字段名称；键、列和值不变。"))
def fields_rename(
    key: KeyArg,
    label_zh: Annotated[Optional[str], typer.Option("--label-zh", help=h("new Chinese label", "新的中文名称"))] = None,  # noqa: UP045
    label_en: Annotated[Optional[str], typer.Option("--label-en", help=h("new English label", "新的英文名称"))] = None,  # noqa: UP045
) -> None:
    from .. import custom_fields

    f = custom_fields.rename(state().store(), key, label_zh=label_zh, label_en=label_en)
    typer.echo(h(f"Renamed field {f.key}: {f.label_zh} / {f.label_en}", f"已重命名字段 {f.key}：{f.label_zh} / {f.label_en}"))


@fields_app.command("retire", help=h(
    "Retire a field: its values stay readable (show, list, export, reports) but cannot be set; --restore brings it back.",
    "停用字段：旧值仍可查看（show、list、导出、报表）但不能再设置；--restore 恢复。",
))
def fields_retire(
    key: KeyArg,
    restore: Annotated[bool, typer.Option("--restore", help=h("bring a retired field back", "恢复已停用的字段"))] = False,
) -> None:
    from .. import custom_fields

    f = custom_fields.set_retired(state().store(), key, not restore)
    if restore:
        typer.echo(h(f"Restored field {f.key}", f"已恢复字段 {f.key}"))
    else:
        typer.echo(h(f"Retired field {f.key}", f"已停用字段 {f.key}"))


# ----------------------------------------------------------------------------- views

_NOT_SAVED = ("fmt", "reveal", "view")


def _view_save_command(list_callback: Any) -> Any:
    """``crm view save NAME`` takes exactly the options of ``crm list`` (generated from its
    signature, so the two never drift apart) and stores them, checked and normalised."""
    sig = inspect.signature(list_callback)
    hints = typing.get_type_hints(list_callback, include_extras=True)
    name_ann = Annotated[str, typer.Argument(help=h("name of the view", "视图名称"))]
    params = [inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=name_ann)]
    annotations: dict[str, Any] = {"name": name_ann}
    list_params = [p for p in sig.parameters.values() if p.name not in _NOT_SAVED]
    for p in list_params:
        ann = hints.get(p.name, p.annotation)
        params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=ann))
        annotations[p.name] = ann

    def view_save(**kwargs: Any) -> None:
        from .. import query, views
        from .customer_cmds import build_filters, parse_columns

        name = kwargs.pop("name")
        accepted = set(inspect.signature(build_filters).parameters)
        filters = build_filters(**{k: v for k, v in kwargs.items() if k in accepted})
        order = query.parse_sort(kwargs.get("sort") or [])
        columns = parse_columns(kwargs.get("columns"), []) or None
        limit = kwargs.get("limit")
        replaced = views.save(state().store(), name, filters, order, columns, limit)
        verb = h("Replaced", "已替换") if replaced else h("Saved", "已保存")
        typer.echo(h(f"{verb} view {name}: crm list --view {name}", f"{verb}视图 {name}：crm list --view {name}"))

    view_save.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    view_save.__annotations__ = annotations
    return view_save


@view_app.command("list", help=h("Show the saved views.", "显示已保存的视图。"))
def view_list(fmt: FormatOpt = "table", wide: WideOpt = False) -> None:
    from .. import render, views

    fmt = check_format(fmt, FIELD_FORMATS)
    saved = views.list_views(state().store().conn)
    if fmt != "table":
        rows = [{"name": v.name, **v.spec(), "updated_at": v.updated_at} for v in saved]
        render.write_machine(rows, fmt, sys.stdout)
        return
    if not saved:
        from .common import err

        err(h("No saved views; save one with crm view save NAME [crm list options]", "没有已保存的视图；用 crm view save 名称 [crm list 选项] 保存"))
        return
    rows = [
        {
            "name": v.name,
            "filters": views.describe(v),
            "sort": ",".join(("-" if d else "") + k for k, d in v.sort),
            "columns": ",".join(v.columns or []),
            "limit": "" if v.limit is None else str(v.limit),
        }
        for v in saved
    ]
    show_table(rows, [render.Column(k, k) for k in ("name", "filters", "sort", "columns", "limit")])


@view_app.command("delete", help=h("Delete a saved view.", "删除已保存的视图。"))
def view_delete(name: Annotated[str, typer.Argument(help=h("name of the view", "视图名称"))]) -> None:
    from .. import views

    views.delete(state().store(), name)
    typer.echo(h(f"Deleted view {name}", f"已删除视图 {name}"))


def register(app: typer.Typer) -> None:
    """``crm fields …`` and ``crm view …``; call after the customer commands (view save copies
    ``crm list``'s options)."""
    list_callback = next(c.callback for c in app.registered_commands if c.name == "list")
    view_app.command("save", help=h(
        "Save crm list options under a name: crm view save hot --status intent --sort -amount -c id,name,amount",
        "将 crm list 选项保存为视图：crm view save hot --status intent --sort -amount -c id,name,amount",
    ))(_view_save_command(list_callback))
    app.add_typer(fields_app, name="fields")
    app.add_typer(view_app, name="view")
