"""crm report pivot | funnel | sources | activity | service | monthly."""


import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import UsageError
from .common import (
    CrmGroup,
    FormatOpt,
    WideOpt,
    check_format,
    err,
    h,
    option_completer,
    show_table,
    state,
    with_extra_options,
)

report_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Reports: pivot tables, the sales funnel, sources, activity per owner, service satisfaction, the monthly report.",
    "报表：数据透视、销售漏斗、客户来源、跟进人活动、客服满意度、月度报告。",
))

REPORT_FORMATS = ("table", "json", "jsonl", "csv", "tsv")

ChartOpt = Annotated[Optional[bool], typer.Option("--chart/--no-chart", help=h(  # noqa: UP045
    "draw a bar chart under the table (default: on a terminal only)", "在表格下方画条形图（默认仅在终端中）",
), show_default=False)]
TotalsOpt = Annotated[bool, typer.Option("--totals/--no-totals", help=h(
    "include the totals row (its dimension value is empty/null)", "包含合计行（其维度值为空/null）",
))]
FromOpt = Annotated[Optional[str], typer.Option("--from", help=h("first day of the window (default: see above)", "时间范围的第一天（默认见上）"), show_default=False)]  # noqa: UP045
ToOpt = Annotated[Optional[str], typer.Option("--to", help=h("last day of the window (default: today)", "时间范围的最后一天（默认今天）"), show_default=False)]  # noqa: UP045


def _opt_list(flag: str, en: str, zh: str, completer: str | None = None) -> Any:
    return Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(flag, help=h(en, zh), autocompletion=option_completer(completer) if completer else None,
                     rich_help_panel=h("Customer filters", "客户筛选")),
    ]


_FILTER_PARAMS: list[tuple[str, Any]] = [
    ("f_status", _opt_list("--status", "only customers with this status (repeatable, or comma-separated)", "只统计该状态的客户（可重复或逗号分隔）", "status")),
    ("f_industry", _opt_list("--industry", "only this industry", "只统计该行业", "industry")),
    ("f_type", _opt_list("--type", "only this customer type", "只统计该客户类型", "type")),
    ("f_source", _opt_list("--source", "only this source", "只统计该来源", "source")),
    ("f_owner", _opt_list("--owner", "only this owner", "只统计该跟进人")),
    ("f_grade", _opt_list("--grade", "only grade A, B or C", "只统计该等级 A/B/C")),
    ("f_first_contact_from", Annotated[Optional[str], typer.Option("--first-contact-from", help=h("first contact on or after DATE", "首次接触不早于该日期"), rich_help_panel=h("Customer filters", "客户筛选"))]),  # noqa: UP045
    ("f_first_contact_to", Annotated[Optional[str], typer.Option("--first-contact-to", help=h("first contact on or before DATE", "首次接触不晚于该日期"), rich_help_panel=h("Customer filters", "客户筛选"))]),  # noqa: UP045
    ("f_archived", Annotated[bool, typer.Option("--archived", help=h("only archived customers", "只统计已归档客户"), rich_help_panel=h("Customer filters", "客户筛选"))]),
    ("f_all", Annotated[bool, typer.Option("--all", help=h("archived and current customers", "包括已归档客户"), rich_help_panel=h("Customer filters", "客户筛选"))]),
]


def with_customer_filters(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a report the ``crm list`` customer filters; they arrive as ``filters`` (query.Filters)."""
    extra = [(name, ann, False if name in ("f_archived", "f_all") else None) for name, ann in _FILTER_PARAMS]

    def collect(values: dict[str, Any]) -> Any:
        from .customer_cmds import build_filters

        return build_filters(
            status=values["f_status"], industry=values["f_industry"], type_=values["f_type"],
            source=values["f_source"], owner=values["f_owner"], grade=values["f_grade"],
            first_contact_from=values["f_first_contact_from"], first_contact_to=values["f_first_contact_to"],
            archived=values["f_archived"], all_=values["f_all"],
        )

    return with_extra_options(func, "filters", extra, collect)


def _date(name: str, value: str | None) -> Any:
    if value is None:
        return None
    from .. import parsing
    from ..errors import ParseError, ValidationError

    try:
        return parsing.parse_date(value)
    except ParseError as exc:
        raise ValidationError(name, value, exc.reason, details=dict(exc.details)) from None


def emit_report(report: Any, fmt: str, *, chart: bool | None, totals: bool) -> None:
    """A report as a table (with a bar chart on a terminal, or with --chart) or a machine format."""
    from .. import render
    from ..reports import display_value

    st = state()
    rows = report.all_rows(totals)
    if fmt != "table":
        render.write_machine(rows, fmt, sys.stdout, keys=report.keys() if fmt in ("csv", "tsv") else None)
        return
    shown = [c for c in report.columns if c.show]
    columns = [render.Column(c.key, c.header(st.lang), "left" if c.kind == "text" else "right") for c in shown]
    total_row = report.total if totals else None

    def display(row: dict[str, Any]) -> dict[str, str]:
        out = {c.key: display_value(c.kind, row.get(c.key)) for c in shown}
        out["_total"] = "1" if row is total_row else ""
        return out

    show_table(
        (display(r) for r in rows), columns, title=report.title(st.lang),
        row_style=lambda r: "bold" if r.get("_total") else None,
    )
    if not report.rows:
        err(h("Nothing to report.", "没有可统计的数据。"))
    for note in report.notes:
        err(note)
    if chart is None:
        chart = sys.stdout.isatty()
    if chart and report.chart and report.rows:
        label_key, value_key = report.chart
        kind = next((c.kind for c in report.columns if c.key == value_key), "int")
        render.bar_chart(
            [(str(r.get(label_key, "")), r.get(value_key)) for r in report.rows],
            fmt=lambda v: display_value(kind, v),
        )


def _run(build: Callable[..., Any], fmt: str, chart: bool | None, totals: bool, **kwargs: Any) -> None:
    from .. import options

    st = state()
    fmt = check_format(fmt, REPORT_FORMATS)
    store = st.store()
    report = build(store.conn, options.load(store), lang=st.lang, **kwargs)
    emit_report(report, fmt, chart=chart, totals=totals)


def complete_dimensions(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of pivot dimensions (never file names)."""
    from .. import customers, reports
    from .common import open_store

    try:
        db = ctx.find_root().params.get("db")
        with open_store(db, migrate=False, create=False) as store:  # completing never creates
            customers.columns(store.conn)  # this database's custom dropdowns are dimensions too
            names = reports.dimension_names()
    except Exception:  # completion must never print a traceback into the shell
        from .. import reports

        names = reports.dimension_names()
    return [n for n in names if n.startswith(incomplete.lower())]


@report_app.command("pivot", help=h(
    "Count customers (or --sum amount) by ROW, or by ROW and COL as a cross table with totals. "
    "Dimensions: any dropdown field (industry, type, source, status, …), owner, grade, month (of first contact).",
    "按 ROW（或 ROW × COL 交叉表，含合计）统计客户数（或 --sum amount 合计金额）。"
    "维度：任意下拉字段（industry、type、source、status 等）、owner、grade、month（首次接触月份）。",
))
@with_customer_filters
def pivot(
    filters: Any,
    row: Annotated[str, typer.Argument(help=h("row dimension, e.g. industry", "行维度，如 industry"), autocompletion=complete_dimensions)],
    col: Annotated[Optional[str], typer.Argument(help=h("column dimension, e.g. status", "列维度，如 status"), autocompletion=complete_dimensions)] = None,  # noqa: UP045
    sum_: Annotated[Optional[str], typer.Option("--sum", help=h("total this numeric field instead of counting, e.g. amount", "合计该数值字段而不是计数，如 amount"))] = None,  # noqa: UP045
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
    chart: ChartOpt = None,
    totals: TotalsOpt = True,
) -> None:
    from .. import reports

    _run(reports.pivot, fmt, chart, totals, row=row, col=col, filters=filters, sum_key=sum_)


@report_app.command("funnel", help=h(
    "Customers per status in pipeline order; reached = ever got this far, conversion = reached ÷ reached at the previous stage.",
    "按管道顺序统计各状态客户数；曾到达 = 曾经到过该阶段或更后，转化率 = 本阶段曾到达 ÷ 上一阶段曾到达。",
))
@with_customer_filters
def funnel(filters: Any, fmt: FormatOpt = "table", wide: WideOpt = False, chart: ChartOpt = None, totals: TotalsOpt = True) -> None:
    from .. import reports

    _run(reports.funnel, fmt, chart, totals, filters=filters)


@report_app.command("sources", help=h(
    "Per source: customers, how many reached active and that share, contract amount, follow-ups spent.",
    "按来源统计：客户数、曾合作数及比例、合同金额、跟进次数。",
))
@with_customer_filters
def sources(filters: Any, fmt: FormatOpt = "table", wide: WideOpt = False, chart: ChartOpt = None, totals: TotalsOpt = True) -> None:
    from .. import reports

    _run(reports.sources, fmt, chart, totals, filters=filters)


@report_app.command("activity", help=h(
    "Follow-ups per owner per month or week (default: the last 6 months or 8 weeks), customers contacted in the window and stale at its end.",
    "各跟进人每月或每周的跟进次数（默认最近 6 个月或 8 周），期间联系过的客户数及期末久未跟进的客户数。",
))
@with_customer_filters
def activity(
    filters: Any,
    by: Annotated[str, typer.Option("--by", help=h("month or week", "month（按月）或 week（按周）"))] = "month",
    from_: FromOpt = None,
    to: ToOpt = None,
    months: Annotated[int, typer.Option("--months", min=0, help=h("stale after this many months without contact", "超过几个月未联系算久未跟进"))] = 3,
    days: Annotated[Optional[int], typer.Option("--days", min=0, help=h("stale after N days instead", "改为超过 N 天未联系"))] = None,  # noqa: UP045
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
    chart: ChartOpt = None,
    totals: TotalsOpt = True,
) -> None:
    from .. import reports

    _run(
        reports.activity, fmt, chart, totals, filters=filters, by=by, start=_date("from", from_),
        end=_date("to", to), stale_months=months, stale_days=days,
    )


@report_app.command("service", help=h(
    "Service follow-ups (kind service) and their average satisfaction (1-5) per month, week or owner.",
    "客服跟进（类别 service）及平均满意度（1-5），按月、周或跟进人统计。",
))
@with_customer_filters
def service(
    filters: Any,
    by: Annotated[str, typer.Option("--by", help=h("month, week or owner", "month、week 或 owner"))] = "month",
    from_: FromOpt = None,
    to: ToOpt = None,
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
    chart: ChartOpt = None,
    totals: TotalsOpt = True,
) -> None:
    from .. import reports

    _run(reports.service, fmt, chart, totals, filters=filters, by=by, start=_date("from", from_), end=_date("to", to))


@report_app.command("monthly", help=h(
    "The monthly analysis report: summary, new customers, industries, funnel, sources, activity, service, status changes. "
    "-o FILE.xlsx writes one sheet per section, -o FILE.md Markdown; without -o, Markdown to stdout.",
    "月度分析报告：概览、新增客户、行业、漏斗、来源、跟进活动、客服、状态变更。"
    "-o 文件.xlsx 每部分一个工作表，-o 文件.md 为 Markdown；不给 -o 时 Markdown 输出到标准输出。",
))
def monthly(
    month: Annotated[Optional[str], typer.Option("--month", "-m", help=h("YYYY-MM (default: last month)", "YYYY-MM（默认上个月）"))] = None,  # noqa: UP045
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=h("file to write: .xlsx or .md", "输出文件：.xlsx 或 .md"), dir_okay=False)] = None,  # noqa: UP045
    force: Annotated[bool, typer.Option("--force", help=h("overwrite an existing file", "覆盖已有文件"))] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", case_sensitive=False, help=h(
        "without -o: md (Markdown), or json (the sections as JSON)", "不给 -o 时：md（Markdown）或 json（各部分的 JSON）"))] = "md",
) -> None:
    from .. import monthly as monthly_mod
    from .. import options

    st = state()
    fmt = check_format(fmt, ("md", "json"))
    store = st.store()
    target = None if output is None or str(output) == "-" else output
    if target is not None and fmt == "json":
        raise UsageError("--format json prints to stdout; with -o the format follows the file's extension",
                         zh="--format json 输出到标准输出；使用 -o 时格式由文件扩展名决定")
    report = monthly_mod.build(store.conn, options.load(store), month=month, lang=st.lang)
    if fmt == "json":
        _monthly_json(report, st.lang)
        return
    if target is None:
        sys.stdout.write(monthly_mod.to_markdown(report, st.lang))
        return
    from .. import outputs

    monthly_mod.write(report, target, lang=st.lang, force=force, protect=outputs.protected(store.path))
    err(h(f"Wrote {target}", f"已写入 {target}"))


def _monthly_json(report: Any, lang: str) -> None:
    """The monthly report for scripts: its period, then each section's rows (totals last, as in
    ``crm report … --format json``), keyed by the section's name."""
    import json

    from .. import render

    data = {
        "month": report.month,
        "title": report.title(lang),
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "generated": report.generated.isoformat(),
        "sections": [
            {"name": sec.name, "title": sec.title(lang), "columns": sec.keys(), "rows": sec.rows, "total": sec.total,
             "notes": list(sec.notes)}
            for sec in report.sections
        ],
    }
    typer.echo(render.safe_json(json.dumps(data, ensure_ascii=False, indent=2, default=str)))
