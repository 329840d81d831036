"""crm add / show / edit / list / search / delete."""


import sys
from typing import Annotated, Any, Optional

import typer

from .. import i18n
from ..errors import UsageError, ValidationError
from ..fields import BY_KEY, DEFAULT_COLUMNS, SEED_KEYS
from .common import (
    FormatOpt,
    RevealOpt,
    WideOpt,
    check_format,
    complete_ids,
    confirm,
    emit_records,
    err,
    h,
    option_completer,
    show_table,
    state,
    warn,
    with_field_options,
)
from .json_out import ChangeFormatOpt

IdArg = Annotated[str, typer.Argument(help=h("customer ID, e.g. XS2024001", "客户编号，如 XS2024001"), autocompletion=complete_ids)]
IdsArg = Annotated[list[str], typer.Argument(
    metavar="ID...", help=h("customer IDs; - reads them from stdin, one a line", "客户编号；- 表示从标准输入逐行读取"),
    autocompletion=complete_ids,
)]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help=h("do not ask before changing several customers", "修改多个客户时不再确认"))]
TagOpt = Annotated[Optional[list[str]], typer.Option("--tag", help=h("customers with this tag (repeatable: any of them)", "带有该标签的客户（可重复：任一即可）"))]  # noqa: UP045
ALL_COLUMNS = [*SEED_KEYS, "grade", "next_date", "archived", "created_at", "updated_at", "version"]


def all_columns() -> list[str]:
    """ALL_COLUMNS, then the open database's custom fields (``crm fields``)."""
    from ..fields import custom_keys

    return [*ALL_COLUMNS, *custom_keys()]


def _interactive() -> bool:
    from . import common

    return common.stdin_is_terminal()


def _ask(key: str, options: Any, lang: str) -> str:
    """Ask for one field on a terminal until the answer passes validation."""
    from ..customers import clean_value
    from .common import describe_error

    spec = BY_KEY[key]
    label = spec.label(lang)
    if spec.kind == "choice":
        label = f"{label} [{' / '.join(o.label(lang) for o in options.active(key))}]"
    region = None
    if spec.kind == "phone":
        from .. import phones

        region = phones.default_region(state().store())
    while True:
        answer = typer.prompt(label)
        try:
            clean_value(key, answer, options, region=region)
            return answer
        except ValidationError as exc:
            err(describe_error(exc, lang))


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--set expects KEY=VALUE, not {pair!r}", zh=f"--set 需要 字段=值 的形式，而不是 {pair!r}")
        values[key.strip().replace("-", "_")] = value
    return values


def register(app: typer.Typer) -> None:
    @app.command(help=h(
        "Add a customer. Prints its new ID (-q: only the ID). Missing required fields are asked for on a terminal.",
        "添加客户，打印新客户编号（-q 只打印编号）。在终端中会提示输入缺少的必填字段。",
    ))
    @with_field_options()
    def add(
        fields: dict[str, str],
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help=h("print only the new ID", "只打印新编号"))] = False,
        set_: Annotated[Optional[list[str]], typer.Option("--set", help=h("KEY=VALUE for any field", "任意字段 KEY=VALUE"))] = None,  # noqa: UP045
    ) -> None:
        from .. import customers, options

        st = state()
        store = st.store()
        opts = options.load(store)
        ctx = customers.Context.load(store, "add")
        values: dict[str, Any] = {**_parse_sets(set_ or []), **fields}
        while True:
            try:
                record = customers.add(store, values, ctx, opts)
                break
            except customers.MissingFields as exc:
                if not _interactive():
                    raise
                values.update({key: _ask(key, opts, st.lang) for key in exc.missing})
            except customers.InvalidFields as exc:
                from .common import describe_error, error_line

                askable = all(e.field in BY_KEY and e.field != "id" for e in exc.errors)
                if st.debug and not (askable and _interactive()):
                    raise
                # Every refused value on its own line, then what is missing: fixed in one go.
                for error in exc.errors:
                    err(error_line(describe_error(error, st.lang), st.lang))
                if exc.missing:
                    err(error_line(describe_error(customers.MissingFields(exc.missing), st.lang), st.lang))
                if not (askable and _interactive()):
                    raise typer.Exit(exc.exit_code) from None
                for key in [*(e.field for e in exc.errors), *exc.missing]:
                    values[key] = _ask(key, opts, st.lang)
        for warning in ctx.warnings:
            warn(warning)
        if quiet:
            typer.echo(record["id"])
        else:
            typer.echo(i18n.message("added", st.lang, id=record["id"], name=record["name"]))

    @app.command(help=h(
        "Show one customer: every field, then the five latest follow-ups (all of them: crm history ID).",
        "显示一个客户：全部字段，以及最近五条跟进记录（全部记录：crm history ID）。",
    ))
    def show(customer_id: IdArg, fmt: FormatOpt = "table", reveal: RevealOpt = False) -> None:
        from .. import customers, options, render

        st = state()
        store = st.store()
        fmt = check_format(fmt, ("table", "json", "jsonl"))
        record = customers.get(store.conn, customer_id)
        opts = options.load(store)
        if reveal:
            from .. import audit

            audit.reveal_one(store, record["id"], "show --reveal")  # recorded before it is shown
        from .. import contacts, tags

        tag_list = tags.for_customer(store.conn, record["id"])
        people = [contacts.public(c, reveal) for c in contacts.list_for(store.conn, record["id"])]
        if fmt != "table":
            import json

            data = {**render.customer_machine(record, opts, st.lang, reveal), "tags": tag_list, "contacts": people}
            typer.echo(render.safe_json(json.dumps(data, ensure_ascii=False, indent=2 if fmt == "json" else None)))
            return
        shown = render.customer_display(record, opts, st.lang, reveal)
        pairs = [(BY_KEY[k].label(st.lang), shown[k]) for k in all_columns() if k in BY_KEY]
        pairs.append(("标签" if st.lang == "zh" else "Tags", ", ".join(tag_list)))
        render.key_values(pairs, title=f"{record['id']}  {record['name']}")
        if people:
            from .tag_cmds import CONTACT_KEYS

            render.table(
                ({k: "" if c.get(k) is None else str(c[k]) for k, _, _ in CONTACT_KEYS} for c in people),
                [render.Column(k, zh if st.lang == "zh" else en) for k, en, zh in CONTACT_KEYS],
                title="其他联系人" if st.lang == "zh" else "Other contacts",
            )
        from .. import followups

        latest = followups.list_for(store.conn, record["id"], limit=SHOW_FOLLOWUPS)
        if latest:
            columns = [render.Column(k, zh if st.lang == "zh" else en) for k, en, zh in (
                ("date", "Date", "日期"), ("channel", "Channel", "方式"), ("content", "Follow-up", "跟进内容"),
                ("result", "Result", "结果"), ("next_step", "Next step", "下一步"), ("by", "By", "跟进人"),
            )]
            rows = [
                {**{k: "" if v is None else str(v) for k, v in f.items()},
                 "channel": opts.label("channel", f["channel"], st.lang) if f["channel"] else ""}
                for f in latest
            ]
            show_table(rows, columns, title="最近跟进" if st.lang == "zh" else "Latest follow-ups")

    @app.command(help=h(
        "Change fields of customers: crm edit ID… --status active --amount 12000; - reads IDs from stdin "
        "(crm list --format ids | crm edit - --owner 李经理). An empty value clears an optional field. "
        "Several customers change in one transaction, after asking on a terminal (--yes for scripts), and one crm undo reverts them. "
        "With one ID and no options the record opens in $EDITOR (YAML); a save is refused if someone changed the customer meanwhile.",
        "修改客户字段：crm edit 编号… --status active --amount 12000；- 表示从标准输入读取编号"
        "（crm list --format ids | crm edit - --owner 李经理）。空值清除可选字段。"
        "多个客户在一个事务中修改，终端中会先确认（脚本用 --yes），一次 crm undo 即可全部撤销。"
        "只给一个编号且不带选项时在 $EDITOR 中编辑（YAML）；若期间他人修改了该客户，保存会被拒绝。",
    ))
    @with_field_options(exclude=("id",))
    def edit(
        customer_ids: IdsArg,
        fields: dict[str, str],
        set_: Annotated[Optional[list[str]], typer.Option("--set", help=h("KEY=VALUE for any field", "任意字段 KEY=VALUE"))] = None,  # noqa: UP045
        yes: YesOpt = False,
        fmt: ChangeFormatOpt = "text",
        reveal: RevealOpt = False,
    ) -> None:
        from .. import bulk, customers, options
        from . import json_out
        from .asking import confirm, ids_from, t

        st = state()
        store = st.store()
        fmt = json_out.check(fmt)
        # With --format json stdout holds only the JSON: messages go to stderr.
        say = err if fmt == "json" else typer.echo
        values: dict[str, Any] = {**_parse_sets(set_ or []), **fields}
        if not values:
            if fmt == "json":
                raise UsageError("--format json needs the fields to change; $EDITOR edits print no JSON",
                                 zh="--format json 需要指定要修改的字段；用 $EDITOR 编辑时不输出 JSON")
            if len(customer_ids) != 1 or customer_ids[0] == "-":
                raise UsageError("say what to change (--field value); $EDITOR edits one customer at a time",
                                 zh="请指定要修改的字段（--字段 值）；$EDITOR 一次只能编辑一个客户")
            from .edit_in_editor import edit_in_editor

            edit_in_editor(customer_ids[0])  # no options: the record in $EDITOR, saved only if unchanged meanwhile
            return
        ids = ids_from(customer_ids)
        targets = bulk.resolve(store.conn, ids)  # every ID checked before asking
        if len(targets) > 1:
            confirm(f"Change {', '.join(values)} of {len(targets)} customers?",
                    f"修改 {len(targets)} 个客户的 {', '.join(values)}？",
                    yes=yes, what_en="change several customers", what_zh="修改多个客户")
        ctx = customers.Context.load(store, "edit")
        opts = options.load(store)
        result = bulk.edit_many(store, targets, values, ctx, opts)
        if fmt == "json":
            json_out.emit(list(targets), opts, reveal, "edit", several=len(customer_ids) > 1 or "-" in customer_ids)
        if len(targets) == 1:
            cid = targets[0]
            if cid in result.changed:
                say(i18n.message("updated", st.lang, id=cid, fields=", ".join(result.changed[cid])))
            else:
                say(i18n.message("unchanged", st.lang, id=cid))
            return
        say(t(
            f"Updated {len(result.changed)} of {len(targets)} customers ({len(result.unchanged)} already so)"
            + (f"; crm undo reverts change {result.change_id}" if result.change_id else ""),
            f"已更新 {len(targets)} 个客户中的 {len(result.changed)} 个（{len(result.unchanged)} 个无需修改）"
            + (f"；crm undo 可撤销变更 {result.change_id}" if result.change_id else ""),
        ))

    @app.command("list", help=h(
        "List customers, filtered and sorted. Tables show 100 rows unless --limit says otherwise; machine formats show all.",
        "列出客户，可筛选和排序。表格默认显示 100 行（用 --limit 修改）；机器格式显示全部。",
    ))
    def list_(
        status: Annotated[Optional[list[str]], typer.Option("--status", help=h("status code or label (repeatable, or comma-separated)", "合作状态（可重复或逗号分隔）"), autocompletion=option_completer("status"))] = None,  # noqa: UP045
        industry: Annotated[Optional[list[str]], typer.Option("--industry", help=h("industry", "所属行业"), autocompletion=option_completer("industry"))] = None,  # noqa: UP045
        type_: Annotated[Optional[list[str]], typer.Option("--type", help=h("customer type", "客户类型"), autocompletion=option_completer("type"))] = None,  # noqa: UP045
        source: Annotated[Optional[list[str]], typer.Option("--source", help=h("source", "客户来源"), autocompletion=option_completer("source"))] = None,  # noqa: UP045
        owner: Annotated[Optional[list[str]], typer.Option("--owner", help=h("owner", "跟进人"))] = None,  # noqa: UP045
        grade: Annotated[Optional[list[str]], typer.Option("--grade", help=h("grade A, B or C", "客户等级 A/B/C"))] = None,  # noqa: UP045
        first_contact_from: Annotated[Optional[str], typer.Option(help=h("first contact on or after DATE", "首次接触不早于该日期"))] = None,  # noqa: UP045
        first_contact_to: Annotated[Optional[str], typer.Option(help=h("first contact on or before DATE", "首次接触不晚于该日期"))] = None,  # noqa: UP045
        last_followup_from: Annotated[Optional[str], typer.Option(help=h("last follow-up on or after DATE", "最近跟进不早于该日期"))] = None,  # noqa: UP045
        last_followup_to: Annotated[Optional[str], typer.Option(help=h("last follow-up on or before DATE", "最近跟进不晚于该日期"))] = None,  # noqa: UP045
        amount_min: Annotated[Optional[str], typer.Option(help=h("contract amount at least (CNY)", "合同金额下限（元）"))] = None,  # noqa: UP045
        amount_max: Annotated[Optional[str], typer.Option(help=h("contract amount at most (CNY)", "合同金额上限（元）"))] = None,  # noqa: UP045
        text: Annotated[Optional[str], typer.Option("--text", "-t", help=h("free text in name, contact, needs, notes, follow-ups", "在名称、联系人、需求、备注、跟进中查找文字"))] = None,  # noqa: UP045
        archived: Annotated[bool, typer.Option("--archived", help=h("only archived customers", "只看已归档客户"))] = False,
        all_: Annotated[bool, typer.Option("--all", help=h("archived and current customers", "包括已归档客户"))] = False,
        sort: Annotated[Optional[list[str]], typer.Option("--sort", "-s", help=h("field to sort by; -field or field:desc for descending (repeatable)", "排序字段；-字段 或 字段:desc 为降序（可重复）"))] = None,  # noqa: UP045
        limit: Annotated[Optional[int], typer.Option("--limit", "-n", help=h("at most N rows (0: no limit)", "最多 N 行（0 为不限）"), min=0)] = None,  # noqa: UP045
        columns: Annotated[Optional[str], typer.Option("--columns", "-c", help=h("comma-separated field keys to show", "要显示的字段（逗号分隔）"))] = None,  # noqa: UP045
        where: Annotated[Optional[list[str]], typer.Option("--where", "-w", help=h("condition on any field, custom ones too: KEY=V (V1,V2 for dropdowns), KEY!=V, KEY>=V, KEY<=V, KEY~TEXT; KEY= is empty (repeatable)", "任意字段（含自定义字段）的条件：KEY=V（下拉可 V1,V2）、KEY!=V、KEY>=V、KEY<=V、KEY~文字；KEY= 为空（可重复）"))] = None,  # noqa: UP045
        tag: TagOpt = None,
        view: Annotated[Optional[str], typer.Option("--view", help=h("start from a saved view (crm view save); other options refine it", "使用已保存的视图（crm view save）；其他选项在其基础上调整"))] = None,  # noqa: UP045
        fmt: FormatOpt = "table",
        wide: WideOpt = False,
        reveal: RevealOpt = False,
    ) -> None:
        from .. import query

        filters = build_filters(
            status=status, industry=industry, type_=type_, source=source, owner=owner, grade=grade,
            first_contact_from=first_contact_from, first_contact_to=first_contact_to,
            last_followup_from=last_followup_from, last_followup_to=last_followup_to,
            amount_min=amount_min, amount_max=amount_max, text=text, archived=archived, all_=all_, where=where,
            tag=tag,
        )
        order = query.parse_sort(sort or [])
        if view:
            from .. import views

            saved = views.get(state().store().conn, view)
            filters = views.merge(saved.filters, filters)
            order = order or query.parse_sort([("-" if desc else "") + key for key, desc in saved.sort])
            columns = columns or (",".join(saved.columns) if saved.columns else None)
            limit = saved.limit if limit is None else limit
        _emit_listing(filters, order, limit, columns, fmt, reveal)

    @app.command(help=h(
        "Find customers by text in name, contact, needs, notes, follow-ups, tags and other contacts (Chinese words of any length).",
        "按文字查找客户：名称、联系人、需求、备注、跟进记录、标签及其他联系人（中文任意长度）。",
    ))
    def search(
        text: Annotated[str, typer.Argument(help=h("text to find", "要查找的文字"))],
        archived: Annotated[bool, typer.Option("--archived", help=h("only archived customers", "只看已归档客户"))] = False,
        all_: Annotated[bool, typer.Option("--all", help=h("archived and current customers", "包括已归档客户"))] = False,
        limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=0, help=h("at most N rows (0: no limit)", "最多 N 行（0 为不限）"))] = None,  # noqa: UP045
        columns: Annotated[Optional[str], typer.Option("--columns", "-c", help=h("comma-separated field keys to show", "要显示的字段（逗号分隔）"))] = None,  # noqa: UP045
        fmt: FormatOpt = "table",
        wide: WideOpt = False,
        reveal: RevealOpt = False,
    ) -> None:
        if not text.strip():
            raise ValidationError("text", text, "empty")
        filters = build_filters(text=text, archived=archived, all_=all_)
        _emit_listing(filters, [], limit, columns, fmt, reveal, command="search")

    @app.command(help=h(
        "Move customers (with their follow-ups, history, tags and contacts) to the trash: crm delete ID… (- reads IDs "
        "from stdin). Asks first on a terminal (--yes to skip); crm trash restore or crm undo brings them back.",
        "将客户（及其跟进、历史、标签和联系人）移入回收站：crm delete 编号…（- 从标准输入读取编号）。"
        "终端中会先确认（--yes 跳过）；crm trash restore 或 crm undo 可恢复。",
    ))
    def delete(
        customer_ids: IdsArg,
        yes: Annotated[bool, typer.Option("--yes", "-y", help=h("do not ask", "不确认直接删除"))] = False,
    ) -> None:
        from .. import bulk, customers, trash
        from .asking import ids_from, t

        st = state()
        store = st.store()
        targets = bulk.resolve(store.conn, ids_from(customer_ids))
        records = [customers.get(store.conn, cid) for cid in targets]
        if not yes:
            if not _interactive():
                raise UsageError(h("refusing to delete without --yes when not on a terminal", "非终端环境下删除需要 --yes"))
            if len(records) == 1:
                question = i18n.message("delete_confirm", st.lang, id=records[0]["id"], name=records[0]["name"])
            else:
                question = t(f"Move {len(records)} customers to the trash?", f"将 {len(records)} 个客户移入回收站？")
            if not confirm(question):
                err(i18n.message("aborted", st.lang))
                raise typer.Exit(1)
        trash.delete(store, targets, customers.Context.load(store, "delete"))
        for record in records:
            typer.echo(i18n.message("deleted", st.lang, id=record["id"], name=record["name"]))


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for v in values or [] for part in v.split(",") if part.strip()]


def build_filters(
    *,
    status: list[str] | None = None,
    industry: list[str] | None = None,
    type_: list[str] | None = None,
    source: list[str] | None = None,
    owner: list[str] | None = None,
    grade: list[str] | None = None,
    first_contact_from: str | None = None,
    first_contact_to: str | None = None,
    last_followup_from: str | None = None,
    last_followup_to: str | None = None,
    amount_min: str | None = None,
    amount_max: str | None = None,
    text: str | None = None,
    archived: bool = False,
    all_: bool = False,
    where: list[str] | None = None,
    tag: list[str] | None = None,
) -> Any:
    """Validate filter options (labels to codes, dates, amounts) into query.Filters."""
    from .. import options, parsing, query, search_index
    from ..customers import clean_value, columns

    store = state().store()
    columns(store.conn)  # this database's custom fields, for --where
    opts = options.load(store)
    choices = {
        key: [opts.resolve(key, v, allow_retired=True) for v in _split(values)]
        for key, values in (("status", status), ("industry", industry), ("type", type_), ("source", source))
        if values
    }

    def date_opt(name: str, value: str | None) -> str | None:
        return None if value is None else str(clean_value(name, value, opts))

    def amount_opt(value: str | None) -> int | None:
        return None if value is None else int(clean_value("amount", value, opts))  # type: ignore[arg-type]

    return query.Filters(
        choices=choices,
        owner=_split(owner),
        grade=[parsing.parse_grade(g) for g in _split(grade)],
        first_contact_from=date_opt("first_contact", first_contact_from),
        first_contact_to=date_opt("first_contact", first_contact_to),
        last_followup_from=date_opt("last_followup", last_followup_from),
        last_followup_to=date_opt("last_followup", last_followup_to),
        amount_min=amount_opt(amount_min),
        amount_max=amount_opt(amount_max),
        text=text,
        text_indexed=bool(text) and search_index.exists(store.conn),
        archived="all" if all_ else ("only" if archived else "exclude"),
        conditions=[query.parse_condition(w, opts) for w in where or []],
        tags=tag_filter(tag),
    )


def tag_filter(tag: list[str] | None) -> list[str]:
    """``--tag 重点 --tag 展会2024`` (or comma-separated): the tags, checked like ``crm tag``'s."""
    from ..tags import clean_tag

    return list(dict.fromkeys(clean_tag(t) for t in _split(tag)))


def parse_columns(columns: str | None, default: list[str]) -> list[str]:
    if not columns:
        return default
    keys = [c.strip().replace("-", "_") for c in columns.split(",") if c.strip()]
    for key in keys:
        if key not in BY_KEY:
            raise ValidationError("columns", key, "unknown_field", details={"fields": ", ".join(BY_KEY)})
    return keys


TABLE_DEFAULT_LIMIT = 100
SHOW_FOLLOWUPS = 5


def list_listing(*, columns: str | None, fmt: str, reveal: bool) -> None:
    """Everything current, in the default order: what ``crm list`` shows without options."""
    _emit_listing(build_filters(), [], None, columns, fmt, reveal)


def _emit_listing(filters: Any, order: list[tuple[str, bool]], limit: int | None, columns: str | None, fmt: str, reveal: bool, command: str = "list") -> None:
    from .. import options, query, render

    st = state()
    store = st.store()
    fmt = check_format(fmt, render.FORMATS)
    opts = options.load(store)
    effective = limit if limit else None
    if fmt == "table" and limit is None:
        effective = TABLE_DEFAULT_LIMIT
    cols = parse_columns(columns, list(DEFAULT_COLUMNS) if fmt == "table" else all_columns())
    from .. import audit

    filters.reveal = reveal  # only an audited reveal may match part of a phone
    # A reveal records exactly the rows of the one result set shown, each before it is shown.
    audited = f"{command} --reveal"
    if fmt in ("json", "jsonl"):
        # Built by SQLite as JSON text: the same objects as the projector below, far faster.
        from .. import customers, jsonsql

        keys = jsonsql.machine_keys(customers.columns(store.conn), cols if columns else None)
        if reveal:
            pairs = query.select_json_with_ids(store.conn, filters, order, effective, keys=keys, lang=st.lang, reveal=True)
            objects: Any = (obj for _, obj in audit.reveal(store, pairs, audited, id_of=lambda pair: pair[0]))
        else:
            objects = query.select_json(store.conn, filters, order, effective, keys=keys, lang=st.lang, reveal=False)
        render.write_json_strings(objects, fmt, sys.stdout)
        return
    # A text search visits every match anyway: count them in the same pass (count(*) OVER ()).
    one_pass = fmt == "table" and effective is not None and bool(filters.text)
    totals: list[int] = []

    def noted(records: Any) -> Any:
        for r in records:
            if not totals:
                totals.append(r["_total"])
            yield r

    rows: Any = query.select(store.conn, filters, order, effective, with_total=one_pass)
    if one_pass:
        rows = noted(rows)
    if reveal:
        rows = audit.reveal(store, rows, audited)
    n = emit_records(
        rows, fmt, columns=cols, lang=st.lang,
        display=lambda r: render.customer_display(r, opts, st.lang, reveal),
        machine=render.machine_projector(opts, st.lang, reveal),  # csv, tsv, ids: write_machine picks the columns
    )
    if fmt == "table":
        if n == 0:
            err(i18n.message("no_results", st.lang))
        elif effective is not None and n == effective:
            total = totals[0] if totals else query.count(store.conn, filters)
            if total > n:
                err(h(f"{n} of {total} shown; --limit 0 shows all", f"显示 {total} 个中的 {n} 个；--limit 0 显示全部"))
