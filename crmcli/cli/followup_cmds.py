"""crm log / status / history / stale / today / grade / archive / restore: the daily loop."""


import sys
from typing import Annotated, Any, Optional

import typer

from ..errors import UsageError
from .common import (
    FormatOpt,
    RevealOpt,
    WideOpt,
    check_format,
    complete_ids,
    err,
    h,
    option_completer,
    show_table,
    state,
    warn,
)
from .json_out import ChangeFormatOpt

IdArg = Annotated[str, typer.Argument(help=h("customer ID, e.g. XS2024001", "客户编号，如 XS2024001"), autocompletion=complete_ids)]
OwnerOpt = Annotated[Optional[list[str]], typer.Option("--owner", help=h("owner (repeatable, or comma-separated)", "跟进人（可重复或逗号分隔）"))]  # noqa: UP045
MineOpt = Annotated[bool, typer.Option("--mine", help=h("only customers owned by the configured user", "只看自己（配置的 user）负责的客户"))]
MonthsOpt = Annotated[Optional[int], typer.Option("--months", min=0, help=h("window in calendar months (default: setting stale-months, 3)", "时间窗口，自然月（默认取设置 stale-months，即 3）"))]  # noqa: UP045
DaysOpt = Annotated[Optional[int], typer.Option("--days", min=0, help=h("window in days instead of months", "以天为单位的时间窗口"))]  # noqa: UP045
BeforeOpt = Annotated[Optional[str], typer.Option("--before", help=h("last contact before this date (YYYY-MM-DD)", "最近联系早于该日期（YYYY-MM-DD）"))]  # noqa: UP045

# Headers of the columns that are not customer fields.
EXTRA_HEADERS = {
    "last_contact": ("Last contact", "最近联系"),
    "days_inactive": ("Days inactive", "未联系天数"),
    "days_since_contact": ("Days since contact", "距上次联系天数"),
    "days_overdue": ("Days overdue", "逾期天数"),
    "due": ("Due", "到期"),
    "score": ("Score", "优先分"),
    "rank": ("#", "#"),
    "how": ("How the score was made", "分数构成"),
    "when": ("When", "时间"),
    "kind": ("Type", "类型"),
    "by": ("By", "记录人"),
    "summary": ("What", "内容"),
    "old": ("Old", "原值"),
    "new": ("New", "新值"),
    "value": ("Basis", "依据值"),
    "note": ("Note", "说明"),
    "reason": ("Why", "原因"),
}


# The history table's type column, shown in the interface language (machine formats keep the code).
HISTORY_TYPES = {
    "followup": ("follow-up", "跟进"), "status": ("status", "状态"), "created": ("created", "创建"),
    "edit": ("edit", "修改"), "grade": ("grade", "评级"), "archived": ("archived", "归档"),
    "restored": ("restored", "恢复"), "import": ("import", "导入"), "reveal": ("reveal", "查看号码"),
    "deleted": ("deleted", "删除"), "merged": ("merged", "合并"),
}


def _local_time(stamp: str) -> str:
    """A stored UTC timestamp (``2024-06-15T02:21:49Z``) in local time; a plain date as it is
    (a follow-up's date is already a local calendar date)."""
    from datetime import datetime

    if "T" not in stamp:
        return stamp
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp.replace("T", " ").rstrip("Z")
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _local_zone() -> str:
    """The local zone as history's header names it: ``UTC+08:00 CST``."""
    from datetime import datetime

    now = datetime.now().astimezone()
    offset = now.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]} {now.tzname()}".strip()


def _customers(n: int) -> str:
    """``1 customer``, ``2 customers`` (Chinese needs no plural)."""
    return f"{n} customer" if n == 1 else f"{n} customers"


def _due_text(days_overdue: int | None) -> str:
    """A next step's due date relative to today, never as negative days overdue."""
    if days_overdue is None:
        return ""
    if days_overdue == 0:
        return _t("today", "今天")
    n = abs(days_overdue)
    if days_overdue > 0:
        return _t(f"{n} day overdue" if n == 1 else f"{n} days overdue", f"逾期 {n} 天")
    return _t(f"in {n} day" if n == 1 else f"in {n} days", f"{n} 天后")


def _t(en: str, zh: str) -> str:
    from ..textsafe import escape

    # These messages quote stored names, which may hold control characters (raw SQL, older data).
    return escape(zh if state().lang == "zh" else en)


def _columns(keys: list[str], lang: str) -> list[Any]:
    from .. import render
    from ..fields import BY_KEY

    cols = []
    for key in keys:
        if key in EXTRA_HEADERS:
            en, zh = EXTRA_HEADERS[key]
            justify = "right" if key in ("days_inactive", "days_since_contact", "days_overdue", "score", "rank") else "left"
            cols.append(render.Column(key, zh if lang == "zh" else en, justify))
        else:
            spec = BY_KEY.get(key)
            cols.append(render.Column(key, spec.label(lang) if spec else key, "right" if spec and spec.kind == "amount" else "left"))
    return cols


def _split(values: Optional[list[str]]) -> list[str]:  # noqa: UP045
    return [part.strip() for v in values or [] for part in v.split(",") if part.strip()]


def _filters(*, owner: Optional[list[str]] = None, mine: bool = False, status: Optional[list[str]] = None,  # noqa: UP045
             grade: Optional[list[str]] = None, archived: bool = False, all_: bool = False) -> Any:  # noqa: UP045
    from .. import options, parsing, query
    from ..customers import clean_value

    store = state().store()
    opts = options.load(store)
    owners = _split(owner)
    if mine:
        from .. import clock

        owners.append(clock.current_user())
    choices = {"status": [str(clean_value("status", s, opts, allow_retired=True)) for s in _split(status)]} if status else {}
    try:
        grades = [parsing.parse_grade(g) for g in _split(grade)]
    except Exception as exc:  # ParseError
        from ..errors import ValidationError

        raise ValidationError("grade", grade, getattr(exc, "reason", "grade_invalid")) from None
    return query.Filters(choices=choices, owner=owners, grade=grades,
                         archived="all" if all_ else ("only" if archived else "exclude"))


def _parse_keys(columns: Optional[str], default: list[str], extra: tuple[str, ...]) -> list[str]:  # noqa: UP045
    from ..errors import ValidationError
    from ..fields import BY_KEY

    if not columns:
        return default
    keys = [c.strip().replace("-", "_") for c in columns.split(",") if c.strip()]
    for key in keys:
        if key not in BY_KEY and key not in extra:
            raise ValidationError("columns", key, "unknown_field", details={"fields": ", ".join([*BY_KEY, *extra])})
    return keys


def _window(months: Optional[int], days: Optional[int], before: Optional[str]) -> Any:  # noqa: UP045
    """The stale boundary from the options, or from the stale-months setting."""
    from .. import agenda, clock, config, parsing
    from ..errors import ParseError, ValidationError

    today = clock.today()
    before_date = None
    if before is not None:
        try:
            before_date = parsing.parse_date(before)
        except ParseError as exc:
            raise ValidationError("before", before, exc.reason, details=dict(exc.details)) from None
    if months is None and days is None and before_date is None:
        months = int(config.get(state().store(), "stale-months"))
    return agenda.cutoff(today, months=months, days=days, before=before_date)


def _machine_rows(rows: Any, opts: Any, reveal: bool, extra: tuple[str, ...]) -> Any:
    from .. import render

    lang = state().lang
    # The projector passes keys that are not fields (last_contact, days_inactive) through as they are.
    project = render.machine_projector(opts, lang, reveal)
    for rec in rows:
        yield project(rec)


def _display_rows(rows: Any, opts: Any, reveal: bool, extra: tuple[str, ...]) -> Any:
    from .. import render

    lang = state().lang
    for rec in rows:
        shown = dict(render.customer_display({k: v for k, v in rec.items() if k not in extra}, opts, lang, reveal))
        for key in extra:
            value = rec.get(key)
            shown[key] = "" if value is None else str(value)
        shown["_status"] = rec.get("status") or ""
        yield shown


def _emit(rows: Any, fmt: str, keys: list[str], machine_keys: list[str], opts: Any, reveal: bool,
          extra: tuple[str, ...], title: Optional[str] = None) -> int:  # noqa: UP045
    from .. import render

    if fmt == "table":
        return show_table(_display_rows(rows, opts, reveal, extra), _columns(keys, state().lang), title=title,
                            row_style=lambda r: render.status_style(r.get("_status")))
    return render.write_machine(_machine_rows(rows, opts, reveal, extra), fmt, sys.stdout,
                                keys=machine_keys if fmt in ("csv", "tsv") else None)


def register(app: typer.Typer) -> None:  # noqa: C901 - one function per command, registered together
    @app.command("log", help=h(
        "Log a follow-up: crm log ID \"what happened\" --next \"call back\" --next-date 3d. Moves the last follow-up date (never backwards).",
        "记录一次跟进：crm log ID \"跟进内容\" --next \"下一步\" --next-date 3d。更新最近跟进时间（不会倒退）。",
    ))
    def log_(
        customer_id: IdArg,
        content: Annotated[str, typer.Argument(help=h("what happened", "跟进内容"))],
        result: Annotated[Optional[str], typer.Option("--result", "-r", help=h("the outcome", "跟进结果"))] = None,  # noqa: UP045
        next_step: Annotated[Optional[str], typer.Option("--next", "-n", help=h("the next step", "下一步计划"))] = None,  # noqa: UP045
        next_date: Annotated[Optional[str], typer.Option("--next-date", help=h("when: YYYY-MM-DD, or 3d, 2w, 1m, tomorrow", "何时：YYYY-MM-DD，或 3d、2w、1m、明天"))] = None,  # noqa: UP045
        date: Annotated[Optional[str], typer.Option("--date", help=h("date of the contact (default today; back-dating allowed)", "联系日期（默认今天，可补记）"))] = None,  # noqa: UP045
        channel: Annotated[Optional[str], typer.Option("--channel", "-c", help=h("phone, visit, wechat, email, meeting, other", "跟进方式：电话、拜访、微信、邮件、会议、其他"), autocompletion=option_completer("channel"))] = None,  # noqa: UP045
        kind: Annotated[Optional[str], typer.Option("--kind", "-k", help=h("sales, service, marketing", "类别：销售、客服、市场"), autocompletion=option_completer("kind"))] = None,  # noqa: UP045
        satisfaction: Annotated[Optional[str], typer.Option("--satisfaction", "-s", help=h("customer satisfaction 1-5", "客户满意度 1-5"))] = None,  # noqa: UP045
        by: Annotated[Optional[str], typer.Option("--by", help=h("who made the contact (default: the configured user)", "跟进人（默认配置的 user）"))] = None,  # noqa: UP045
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help=h("print only the follow-up's number", "只打印跟进记录编号"))] = False,
        fmt: ChangeFormatOpt = "text",
        reveal: RevealOpt = False,
    ) -> None:
        from .. import customers, followups, options
        from . import json_out

        st = state()
        store = st.store()
        fmt = json_out.check(fmt)
        if quiet and fmt == "json":
            raise UsageError("--quiet and --format json: choose one", zh="--quiet 与 --format json 只能选一个")
        ctx = customers.Context.load(store, "log")
        opts = options.load(store)
        raw = followups.FollowupInput(content=content, result=result, next_step=next_step, next_date=next_date,
                                      date=date, channel=channel, kind=kind, satisfaction=satisfaction, by=by)
        row = followups.log(store, customer_id, raw, ctx, opts)
        for warning in ctx.warnings:
            warn(warning)
        if fmt == "json":
            json_out.emit([row["customer_id"]], opts, reveal, "log", several=False)
        if quiet:
            typer.echo(row["id"])
            return
        record = customers.get(store.conn, row["customer_id"])
        line = _t(f"Logged follow-up {row['id']} for {record['id']} {record['name']} ({row['date']})",
                  f"已记录 {record['id']} {record['name']} 的跟进 {row['id']}（{row['date']}）")
        if record["last_followup"] != row["date"]:
            line += _t(f"; back-dated, last follow-up stays {record['last_followup']}",
                       f"；补记，最近跟进时间仍为 {record['last_followup']}")
        elif row["next_step"] or row["next_date"]:
            nxt = " ".join(x for x in (row["next_step"], f"({row['next_date']})" if row["next_date"] else None) if x)
            line += _t(f"; next: {nxt}", f"；下一步：{nxt}")
        (err if fmt == "json" else typer.echo)(line)  # with --format json stdout holds only the JSON

    @app.command("status", help=h(
        "Change the status of customers (code or label: active / 合作中): crm status ID… NEW_STATUS; - reads IDs from stdin. "
        "Every change is kept with who, when and --note; several customers change in one transaction, after asking on a "
        "terminal (--yes for scripts).",
        "修改合作状态（代码或名称：active / 合作中）：crm status 编号 [编号...] 新状态；- 表示从标准输入读取编号。"
        "每次变更都记录操作人、时间和 --note 说明；多个客户在一个事务中修改，终端中会先确认（脚本用 --yes）。",
    ))
    def status_(
        customer_ids: Annotated[list[str], typer.Argument(metavar="ID...", help=h("customer IDs; - reads them from stdin, one a line", "客户编号；- 表示从标准输入逐行读取"), autocompletion=complete_ids)],
        new_status: Annotated[str, typer.Argument(metavar="NEW_STATUS", help=h("potential, intent, active, paused, lost (or the label)", "状态代码或名称（如 active、合作中）"), autocompletion=option_completer("status"))],
        note: Annotated[Optional[str], typer.Option("--note", help=h("why it changed", "变更原因"))] = None,  # noqa: UP045
        yes: Annotated[bool, typer.Option("--yes", "-y", help=h("do not ask before changing several customers", "修改多个客户时不再确认"))] = False,
        fmt: ChangeFormatOpt = "text",
        reveal: RevealOpt = False,
    ) -> None:
        from .. import bulk, customers, options
        from . import json_out
        from .asking import confirm, ids_from

        st = state()
        store = st.store()
        fmt = json_out.check(fmt)
        say = err if fmt == "json" else typer.echo  # with --format json stdout holds only the JSON
        opts = options.load(store)
        code = opts.resolve("status", new_status)
        new_label = opts.label("status", code, st.lang)
        targets = bulk.resolve(store.conn, ids_from(customer_ids))
        if len(targets) > 1:
            confirm(f"Set {len(targets)} customers to {new_label}?", f"将 {len(targets)} 个客户设为{new_label}？",
                    yes=yes, what_en="change several customers", what_zh="修改多个客户")
        ctx = customers.Context.load(store, "status")
        result = bulk.status_many(store, targets, code, ctx, opts, note)
        from ..textsafe import escape

        if fmt == "json":
            json_out.emit([r["id"] for r in result.records], opts, reveal, "status",
                          several=len(customer_ids) > 1 or "-" in customer_ids)
        for record in result.records:
            old = result.old_status.get(record["id"])
            if old is None:
                say(_t(f"{record['id']} is already {new_label}; nothing changed",
                              f"{record['id']} 已经是{new_label}；没有变化"))
            else:
                say(escape(f"{record['id']} {record['name']}: {opts.label('status', old, st.lang)} → {new_label}"))

    @app.command("history", help=h(
        "One customer's timeline: follow-ups, status changes and field edits, newest first.",
        "客户的时间线：跟进记录、状态变更和字段修改，最新的在前。",
    ))
    def history_(
        customer_id: IdArg,
        limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=0, help=h("at most N entries (0: all)", "最多 N 条（0 为全部）"))] = None,  # noqa: UP045
        fmt: FormatOpt = "table",
        wide: WideOpt = False,
        reveal: RevealOpt = False,
    ) -> None:
        from .. import customers, followups, options, render

        st = state()
        store = st.store()
        fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv"))
        opts = options.load(store)
        record = customers.get(store.conn, customer_id)
        if reveal:
            from .. import audit

            audit.reveal_one(store, record["id"], "history --reveal")  # recorded before old phones are shown
        entries = followups.history(store.conn, record["id"], opts, st.lang, reveal=reveal)
        if limit:
            entries = entries[:limit]
        if fmt == "table":
            def word(code: str) -> str:
                return _t(*HISTORY_TYPES.get(code, (code, code)))

            zone = _local_zone()
            rows = ({"when": _local_time(e["when"]), "kind": word(e["type"]), "by": e["by"] or "",
                     # "created", "archived"…: the summary is the type's own word
                     "summary": word(e["summary"]) if e["summary"] == e["type"] else e["summary"]} for e in entries)
            cols = _columns(["when", "kind", "by", "summary"], st.lang)
            cols[0] = render.Column("when", f"{cols[0].header} ({zone})")
            show_table(rows, cols, title=f"{record['id']}  {record['name']}")
        else:
            render.write_machine(entries, fmt, sys.stdout, keys=list(followups.HISTORY_COLUMNS))

    @app.command("stale", help=h(
        "Customers nobody has contacted for 3 months (or --months/--days/--before), longest first. "
        "For cron: --format csv|json and --exit-code (1 when any are stale).",
        "超过 3 个月（或 --months/--days/--before）未联系的客户，最久的在前。"
        "用于定时任务：--format csv|json 与 --exit-code（有则退出码为 1）。",
    ))
    def stale_(
        months: MonthsOpt = None,
        days: DaysOpt = None,
        before: BeforeOpt = None,
        owner: OwnerOpt = None,
        mine: MineOpt = False,
        status: Annotated[Optional[list[str]], typer.Option("--status", help=h("status code or label (repeatable)", "合作状态（可重复）"), autocompletion=option_completer("status"))] = None,  # noqa: UP045
        grade: Annotated[Optional[list[str]], typer.Option("--grade", help=h("grade A, B or C", "客户等级 A/B/C"))] = None,  # noqa: UP045
        include_lost: Annotated[bool, typer.Option("--include-lost", help=h("also lost customers", "包括流失客户"))] = False,
        tag: Annotated[Optional[list[str]], typer.Option("--tag", help=h("customers with this tag (repeatable: any of them)", "带有该标签的客户（可重复：任一即可）"))] = None,  # noqa: UP045
        archived: Annotated[bool, typer.Option("--archived", help=h("only archived customers", "只看已归档客户"))] = False,
        all_: Annotated[bool, typer.Option("--all", help=h("archived and current customers", "包括已归档客户"))] = False,
        limit: Annotated[Optional[int], typer.Option("--limit", min=0, help=h("at most N rows (0: no limit)", "最多 N 行（0 为不限）"))] = None,  # noqa: UP045
        columns: Annotated[Optional[str], typer.Option("--columns", help=h("comma-separated field keys to show", "要显示的字段（逗号分隔）"))] = None,  # noqa: UP045
        exit_code: Annotated[bool, typer.Option("--exit-code", help=h("exit 1 when any customer is stale, 0 when none", "有过期客户时退出码为 1，没有时为 0"))] = False,
        fmt: FormatOpt = "table",
        wide: WideOpt = False,
        reveal: RevealOpt = False,
    ) -> None:
        from .. import agenda, clock, options, render
        from .customer_cmds import ALL_COLUMNS

        st = state()
        store = st.store()
        fmt = check_format(fmt, render.FORMATS)
        boundary = _window(months, days, before)
        filters = _filters(owner=owner, mine=mine, status=status, grade=grade, archived=archived, all_=all_)
        if tag:
            from .customer_cmds import tag_filter

            filters.tags = tag_filter(tag)
        extra = ("last_contact", "days_inactive")
        default = ["id", "name", "contact", "phone", "owner", "status", "grade", "last_contact", "days_inactive"]
        keys = _parse_keys(columns, default if fmt == "table" else [*ALL_COLUMNS, *extra], extra)
        from .. import audit

        # A reveal records exactly the rows of the one result set shown, each before it is shown.
        if fmt in ("json", "jsonl"):
            # Large results (cron on a big team) are built as JSON by SQLite itself: see jsonsql.
            from .. import customers, jsonsql

            wanted = keys if columns else None
            json_keys = jsonsql.machine_keys([*customers.COLUMNS, *extra], wanted)
            objects: Any = agenda.stale_json(store.conn, filters, boundary, keys=json_keys, lang=st.lang, reveal=reveal,
                                             today=clock.today(), include_lost=include_lost, limit=limit or None,
                                             with_ids=reveal)
            if reveal:
                objects = (obj for _, obj in audit.reveal(store, objects, "stale --reveal", id_of=lambda pair: pair[0]))
            n = render.write_json_strings(objects, fmt, sys.stdout)
        else:
            rows: Any = agenda.stale(store.conn, filters, boundary, today=clock.today(), include_lost=include_lost,
                                     limit=limit or None)
            if reveal:
                rows = audit.reveal(store, rows, "stale --reveal")
            first = next(rows, None)
            if first is None and fmt == "table":
                # No table drawn, so Rich is never imported: an empty cron run stays fast.
                err(_t(f"No stale customers (no contact before {boundary}).", f"没有过期客户（{boundary} 之前未联系）。"))
                n = 0
            else:
                def chained() -> Any:
                    if first is not None:
                        yield first
                        yield from rows

                n = _emit(chained(), fmt, keys, keys, options.load(store), reveal, extra)
                if fmt == "table":
                    err(_t(f"{n} stale customer{'' if n == 1 else 's'}: no contact since before {boundary}.",
                           f"{n} 个过期客户：{boundary} 之前最后联系。"))
        if exit_code and n:
            raise typer.Exit(1)

    @app.command("today", help=h(
        "Today's agenda: next steps overdue or due, then the customers most in need of a call, ranked by a score "
        "(status, grade, days since contact, overdue next step); --explain shows how each score was made.",
        "今日待办：逾期和到期的下一步，然后按优先分排序最需要联系的客户"
        "（合作状态、等级、未联系天数、逾期的下一步）；--explain 显示分数构成。",
    ))
    def today_(
        owner: OwnerOpt = None,
        mine: MineOpt = False,
        limit: Annotated[int, typer.Option("--limit", "-n", min=0, help=h("how many customers to rank", "排名显示的客户数"))] = 10,
        ahead: Annotated[int, typer.Option("--ahead", min=0, help=h("also next steps due within N days", "同时列出 N 天内到期的下一步"))] = 0,
        months: MonthsOpt = None,
        explain: Annotated[bool, typer.Option("--explain", "-e", help=h("show how each score was made", "显示每个分数的构成"))] = False,
        include_lost: Annotated[bool, typer.Option("--include-lost", help=h("also lost customers", "包括流失客户"))] = False,
        fmt: FormatOpt = "table",
        wide: WideOpt = False,
        reveal: RevealOpt = False,
    ) -> None:
        from .. import agenda, clock, config, options, render

        st = state()
        store = st.store()
        fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv", "ids"))
        settings = config.all_values(store)
        weights = agenda.Weights.from_settings(settings)
        window = months if months is not None else int(settings.get("stale-months") or agenda.DEFAULT_MONTHS)
        filters = _filters(owner=owner, mine=mine)
        plan = agenda.today_agenda(store.conn, filters, weights, today=clock.today(), window_months=window,
                                   ahead=ahead, limit=limit, include_lost=include_lost)
        opts = options.load(store)
        if reveal:
            from .. import audit

            # Both sections in one chunk: recorded (once per customer) before either is shown.
            shown = [*plan.due, *plan.priority]
            list(audit.reveal(store, shown, "today --reveal", chunk=len(shown) or 1))
        for rec in plan.priority:
            rec["how"] = agenda.explain_text(rec["explain"])
        if fmt == "table":
            due_keys = ["id", "name", "contact", "phone", "owner", "next_date", "due", "next_step"]
            rank_keys = ["rank", "score", "id", "name", "status", "grade", "owner", "last_contact",
                         "days_since_contact", "next_date"] + (["how"] if explain else [])
            extra = ("last_contact", "days_overdue", "due", "days_since_contact", "score", "rank", "how")
            today = clock.today()
            for rec in plan.due:
                rec["due"] = _due_text(rec.get("days_overdue"))
            for rec in plan.priority:
                if isinstance(rec.get("score"), (int, float)):
                    rec["score"] = f"{rec['score']:.2f}"  # one precision for every score shown
            if ahead:
                from datetime import timedelta

                end = today + timedelta(days=ahead)
                title = _t(f"Next steps overdue or due by {end} (today and the next {ahead} days)",
                           f"已逾期或在 {end} 前到期的下一步（今天及之后 {ahead} 天）")
            else:
                title = _t(f"Next steps due by {today}", f"截至 {today} 到期的下一步")
            if plan.due:
                _emit(plan.due, fmt, due_keys, due_keys, opts, reveal, extra, title=title)
            else:
                err(_t("No next steps due.", "没有到期的下一步。"))
            if plan.priority:
                _emit(plan.priority, fmt, rank_keys, rank_keys, opts, reveal, extra,
                      title=_t("Most in need of a call", "最需要联系的客户"))
            else:
                err(_t("No customers to rank.", "没有可排名的客户。"))
            return
        machine = [
            "section", "rank", "score", "id", "name", "contact", "phone", "owner", "status", "status_label",
            "grade", "last_contact", "days_since_contact", "next_step", "next_date", "days_overdue",
        ] + (["explain"] if explain else [])

        def rows() -> Any:
            for section, recs in (("due", plan.due), ("call", plan.priority)):
                for rec in recs:
                    full = render.customer_machine(
                        {k: rec.get(k) for k in ("id", "name", "contact", "phone", "owner", "status", "grade",
                                                 "next_step", "next_date")}, opts, st.lang, reveal)
                    out = {"section": section, "rank": rec.get("rank"), "score": rec.get("score"), **full,
                           "last_contact": rec.get("last_contact"), "days_since_contact": rec.get("days_since_contact"),
                           "days_overdue": rec.get("days_overdue")}
                    if explain:
                        out["explain"] = rec.get("explain") if fmt in ("json", "jsonl") else rec.get("how")
                    yield {k: out.get(k) for k in machine}

        render.write_machine(rows(), fmt, sys.stdout, keys=machine if fmt in ("csv", "tsv") else None)

    @app.command("grade", help=h(
        "Set a customer's ABC grade by hand (crm grade ID A), or grade everyone by the configured rule "
        "(crm grade --recompute [--dry-run]); see crm config get grade-rule.",
        "手动设置客户 ABC 等级（crm grade ID A），或按配置的规则为所有客户评级"
        "（crm grade --recompute [--dry-run]）；规则见 crm config get grade-rule。",
    ))
    def grade_(
        customer_id: Annotated[Optional[str], typer.Argument(help=h("customer ID", "客户编号"), autocompletion=complete_ids)] = None,  # noqa: UP045
        grade: Annotated[Optional[str], typer.Argument(help=h("A, B or C", "A、B 或 C"))] = None,  # noqa: UP045
        clear: Annotated[bool, typer.Option("--clear", help=h("remove the grade", "清除等级"))] = False,
        recompute: Annotated[bool, typer.Option("--recompute", help=h("grade all current customers by the rule", "按规则为所有当前客户评级"))] = False,
        rule: Annotated[Optional[str], typer.Option("--rule", help=h("use this rule instead of the setting, e.g. amount:A>=500000,B>=100000,C", "使用此规则代替设置，如 amount:A>=500000,B>=100000,C"))] = None,  # noqa: UP045
        dry_run: Annotated[bool, typer.Option("--dry-run", help=h("only show what would change", "只显示将发生的变化"))] = False,
        force: Annotated[bool, typer.Option("--force", help=h("also overwrite grades set by hand", "也覆盖手动设置的等级"))] = False,
        fmt: FormatOpt = "table",
        wide: WideOpt = False,
    ) -> None:
        from .. import config, customers, grading, render

        st = state()
        store = st.store()
        ctx = customers.Context.load(store, "grade")
        if not recompute:
            if customer_id is None or (grade is None and not clear):
                raise UsageError(_t("give ID and GRADE (crm grade XS2024001 A), or --recompute",
                                    "请给出客户编号和等级（crm grade XS2024001 A），或使用 --recompute"))
            record, changed = grading.set_grade(store, customer_id, None if clear else grade, ctx)
            shown = record["grade"] or "—"
            from ..textsafe import escape

            typer.echo(escape(f"{record['id']} {record['name']}: {shown}") if changed
                       else _t(f"{record['id']}: grade already {shown}; nothing changed", f"{record['id']}：等级已是 {shown}；没有变化"))
            return
        if customer_id is not None:
            raise UsageError(_t("--recompute grades everyone; give no ID", "--recompute 为所有客户评级；不要给出客户编号"))
        fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv", "ids"))
        the_rule = grading.parse_rule(rule or config.get(store, "grade-rule"))
        changes = grading.recompute(store, the_rule, ctx, dry_run=dry_run, force=force)
        rows = [{"id": c.id, "name": c.name, "old": c.old, "new": c.new, "value": c.value,
                 "note": "kept (set by hand)" if c.kept else None} for c in changes]
        applied = sum(1 for c in changes if not c.kept)
        kept = len(changes) - applied
        if fmt == "table":
            if rows:
                show_table(({k: "" if v is None else str(v) for k, v in r.items()} for r in rows),
                             _columns(["id", "name", "old", "new", "value", "note"], st.lang), title=str(the_rule))
            verb = _t("would change" if dry_run else "changed", "将改变" if dry_run else "已改变")
            err(_t(f"{applied} grades {verb}; {kept} set by hand kept (--force overwrites)",
                   f"{applied} 个等级{verb}；保留 {kept} 个手动设置的等级（--force 覆盖）"))
        else:
            render.write_machine(rows, fmt, sys.stdout, keys=["id", "name", "old", "new", "value", "note"])

    @app.command("archive", help=h(
        "Move customers inactive for 3 months (--months/--days/--before) and lost customers to the history store; "
        "or exactly the IDs given. --dry-run lists them. Nothing is deleted: crm restore ID brings one back.",
        "把 3 个月（--months/--days/--before）未联系的客户和流失客户移入历史库；或只移动给出的编号。"
        "--dry-run 只列出。不删除任何数据：crm restore ID 可恢复。",
    ))
    def archive_(
        customer_ids: Annotated[Optional[list[str]], typer.Argument(help=h("archive exactly these customers", "只归档这些客户"), autocompletion=complete_ids)] = None,  # noqa: UP045
        months: MonthsOpt = None,
        days: DaysOpt = None,
        before: BeforeOpt = None,
        inactive: Annotated[bool, typer.Option("--inactive/--no-inactive", help=h("customers without contact in the window", "时间窗口内未联系的客户"))] = True,
        lost: Annotated[bool, typer.Option("--lost/--no-lost", help=h("lost customers", "流失客户"))] = True,
        dry_run: Annotated[bool, typer.Option("--dry-run", help=h("only list what would move", "只列出将被归档的客户"))] = False,
        fmt: FormatOpt = "table",
        wide: WideOpt = False,
    ) -> None:
        from .. import archive, customers, options, render

        st = state()
        store = st.store()
        fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv", "ids"))
        boundary = _window(months, days, before)
        ctx = customers.Context.load(store, "archive")
        moved = archive.archive(store, boundary, ctx, inactive=inactive, lost=lost, ids=customer_ids or (),
                                dry_run=dry_run)
        opts = options.load(store)
        rows = [{"id": c.id, "name": c.name, "status": c.status, "owner": c.owner, "last_contact": c.last_contact,
                 "reason": c.reason} for c in moved]
        keys = ["id", "name", "status", "owner", "last_contact", "reason"]
        if fmt == "table":
            if rows:
                shown = ({**{k: "" if v is None else str(v) for k, v in r.items()},
                          "status": opts.label("status", r["status"], st.lang)} for r in rows)
                show_table(shown, _columns(keys, st.lang))
            if dry_run:
                err(_t(f"{_customers(len(rows))} would be archived (dry run; nothing changed).",
                       f"将归档 {len(rows)} 个客户（演练，未做任何更改）。"))
            else:
                err(_t(f"Archived {_customers(len(rows))}; crm list --archived shows them, crm restore ID brings one back.",
                       f"已归档 {len(rows)} 个客户；crm list --archived 可查看，crm restore ID 可恢复。"))
        else:
            render.write_machine(rows, fmt, sys.stdout, keys=keys)

    @app.command("restore", help=h("Bring archived customers back from the history store.", "把已归档客户从历史库恢复。"))
    def restore_(
        customer_ids: Annotated[list[str], typer.Argument(help=h("customer IDs", "客户编号"), autocompletion=complete_ids)],
    ) -> None:
        from .. import archive, customers

        st = state()
        store = st.store()
        for cid in customer_ids:
            ctx = customers.Context.load(store, "restore")
            record, was = archive.restore(store, cid, ctx)
            if was:
                typer.echo(_t(f"Restored {record['id']} {record['name']}", f"已恢复 {record['id']} {record['name']}"))
            else:
                typer.echo(_t(f"{record['id']} is not archived; nothing changed", f"{record['id']} 未归档；没有变化"))
