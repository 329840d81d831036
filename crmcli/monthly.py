"""The seed's monthly analysis report: several reports for one calendar month in one file.

``build`` computes the sections (each a :class:`crmcli.reports.Report`); ``write`` saves them as
XLSX (one sheet per section, real numbers and dates; every text cell typed as a string, so no
formula ever runs) or Markdown, chosen by the file's extension. Archived customers are included:
the report tells what happened in the month, whatever became of the customers since.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from . import clock, reports
from .errors import UsageError
from .options import OptionSet
from .query import Filters
from .reports import Col, Report, display_value

FORMATS = {".xlsx": "xlsx", ".md": "markdown", ".markdown": "markdown"}


@dataclass
class MonthlyReport:
    month: str
    start: date
    end: date
    generated: date
    sections: list[Report]

    def title(self, lang: str) -> str:
        return f"客户月度分析报告 {self.month}" if lang == "zh" else f"Customer report for {self.month}"


def previous_month(today: date | None = None) -> str:
    first = (today or clock.today()).replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def build(conn: sqlite3.Connection, options: OptionSet, *, month: str | None = None, lang: str = "en") -> MonthlyReport:
    month_text = month or previous_month()
    start, end = reports.month_bounds(month_text)
    key = f"{start.year:04d}-{start.month:02d}"
    everyone = Filters(archived="all")
    until_end = Filters(archived="all", first_contact_to=end.isoformat())
    new_ones = Filters(archived="all", first_contact_from=start.isoformat(), first_contact_to=end.isoformat())
    sections = [
        summary(conn, start, end, lang),
        new_customers(conn, options, start, end, lang),
        _retitle(
            reports.pivot(conn, options, "industry", filters=until_end, lang=lang),
            "Customers by industry (first contacted by month end)",
            "行业分布（截至月末）",
        ),
        _retitle(
            reports.funnel(conn, options, filters=until_end, lang=lang),
            "Sales funnel (current status)",
            "销售漏斗（当前状态）",
        ),
        _retitle(
            reports.sources(conn, options, filters=new_ones, lang=lang),
            "Sources of the month's new customers",
            "本月新增客户来源",
        ),
        reports.activity(conn, options, by="week", start=start, end=end, filters=everyone, lang=lang),
        reports.service(conn, options, by="owner", start=start, end=end, filters=everyone, lang=lang),
        status_changes(conn, options, start, end, lang),
    ]
    for section, name in zip(
        sections, ("summary", "new", "industry", "funnel", "sources", "activity", "service", "changes")
    ):
        section.name = name
    return MonthlyReport(key, start, end, clock.today(), sections)


def _retitle(report: Report, en: str, zh: str) -> Report:
    report.title_en, report.title_zh = en, zh
    return report


def _month_stamps(start: date, end: date) -> tuple[str, str]:
    """Status changes are stamped in UTC (``2024-05-03T08:00:00Z``): compare as text."""
    return start.isoformat(), (end + timedelta(days=1)).isoformat()


def summary(conn: sqlite3.Connection, start: date, end: date, lang: str) -> Report:
    first, last = start.isoformat(), end.isoformat()
    at_from, at_to = _month_stamps(start, end)

    def one(sql: str, *params: object) -> Any:
        return conn.execute(sql, params).fetchone()[0]

    customers = one("SELECT count(*) FROM customers WHERE first_contact <= ?", last)
    new = one("SELECT count(*) FROM customers WHERE first_contact BETWEEN ? AND ?", first, last)
    followups = one("SELECT count(*) FROM followups WHERE date BETWEEN ? AND ?", first, last)
    contacted = one("SELECT count(DISTINCT customer_id) FROM followups WHERE date BETWEEN ? AND ?", first, last)
    became = "SELECT DISTINCT customer_id FROM status_changes WHERE to_status = ? AND at >= ? AND at < ?"
    active = one(f"SELECT count(*) FROM ({became})", "active", at_from, at_to)
    active_amount = one(f"SELECT sum(amount) FROM customers WHERE id IN ({became})", "active", at_from, at_to)
    lost = one(f"SELECT count(*) FROM ({became})", "lost", at_from, at_to)
    service = conn.execute(
        "SELECT count(*), avg(satisfaction) FROM followups WHERE kind = 'service' AND date BETWEEN ? AND ?",
        (first, last),
    ).fetchone()
    where, params = Filters(archived="all").where()
    stale = sum(reports.stale_per_owner(conn, where, params, end, reports.stale_cutoff(end)).values())
    metrics: list[tuple[str, str, str, Any, str]] = [
        ("customers", "Customers (first contacted by month end)", "客户总数（截至月末）", customers, "int"),
        ("new_customers", "New customers (first contact in the month)", "本月新增客户", new, "int"),
        ("followups", "Follow-ups", "本月跟进次数", followups, "int"),
        ("contacted", "Customers contacted", "本月联系客户数", contacted, "int"),
        ("became_active", "Became active (合作中)", "本月转为合作中", active, "int"),
        ("active_amount", "Contract amount of those (CNY)", "其合同金额(元)", reports._yuan(active_amount or 0), "amount"),
        ("became_lost", "Became lost (流失客户)", "本月流失", lost, "int"),
        ("service_followups", "Service follow-ups", "客服跟进次数", service[0], "int"),
        (
            "avg_satisfaction",
            "Average satisfaction (1-5)",
            "平均满意度(1-5)",
            None if service[1] is None else round(service[1], 2),
            "avg",
        ),
        (
            "stale_at_month_end",
            "Stale at month end (3 months without contact)",
            "月末久未跟进客户（3 个月）",
            stale,
            "int",
        ),
    ]
    rows = [
        {"metric": key, "label": zh if lang == "zh" else en, "value": value, "_kind": kind}
        for key, en, zh, value, kind in metrics
    ]
    cols = [
        Col("metric", "Metric", "指标", "text", show=False),
        Col("label", "Metric", "指标", "text"),
        Col("value", "Value", "数值", "number"),
    ]
    return Report("summary", "Summary", "概览", cols, rows)


def new_customers(conn: sqlite3.Connection, options: OptionSet, start: date, end: date, lang: str) -> Report:
    rows = []
    for cid, name, industry, source, owner, status, first_contact, amount in conn.execute(
        "SELECT id, name, industry, source, owner, status, first_contact, amount FROM customers "
        "WHERE first_contact BETWEEN ? AND ? ORDER BY first_contact, id",
        (start.isoformat(), end.isoformat()),
    ):
        rows.append(
            {
                "id": cid,
                "name": name,
                "industry": options.label("industry", industry, lang),
                "source": options.label("source", source, lang),
                "owner": owner or "",
                "status": options.label("status", status, lang),
                "first_contact": first_contact,
                "amount": reports._yuan(amount),
            }
        )
    cols = [
        Col("id", "Customer ID", "客户编号", "text"),
        Col("name", "Customer name", "客户名称", "text"),
        Col("industry", "Industry", "所属行业", "text"),
        Col("source", "Source", "客户来源", "text"),
        Col("owner", "Owner", "跟进人", "text"),
        Col("status", "Status", "合作状态", "text"),
        Col("first_contact", "First contact", "首次接触时间", "date"),
        Col("amount", "Contract amount (CNY)", "合同金额(元)", "amount"),
    ]
    return Report("new", "New customers", "本月新增客户", cols, rows)


def status_changes(conn: sqlite3.Connection, options: OptionSet, start: date, end: date, lang: str) -> Report:
    at_from, at_to = _month_stamps(start, end)
    rows = []
    for at, cid, name, old, new, by in conn.execute(
        "SELECT s.at, s.customer_id, c.name, s.from_status, s.to_status, s.by FROM status_changes s "
        "JOIN customers c ON c.id = s.customer_id WHERE s.at >= ? AND s.at < ? AND s.from_status IS NOT NULL "
        "ORDER BY s.at, s.id",
        (at_from, at_to),
    ):
        rows.append(
            {
                "date": at[:10],
                "id": cid,
                "name": name,
                "from": options.label("status", old, lang),
                "to": options.label("status", new, lang),
                "by": by or "",
            }
        )
    cols = [
        Col("date", "Date", "日期", "date"),
        Col("id", "Customer ID", "客户编号", "text"),
        Col("name", "Customer name", "客户名称", "text"),
        Col("from", "From", "原状态", "text"),
        Col("to", "To", "新状态", "text"),
        Col("by", "By", "操作人", "text"),
    ]
    return Report("changes", "Status changes", "状态变更", cols, rows)


# ----------------------------------------------------------------------------- writers


def format_for(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path.name}: write .xlsx or .md (the format follows the extension)",
                         zh=f"{path.name}：请写成 .xlsx 或 .md（格式由扩展名决定）")
    return fmt


def write(
    report: MonthlyReport, path: Path, *, lang: str = "en", force: bool = False, protect: Iterable[Path] = ()
) -> None:
    """Write through :func:`crmcli.outputs.private_output`: 0600, renamed into place when complete,
    never over an existing file without ``force`` nor over the database (``protect``)."""
    from . import outputs

    fmt = format_for(path)
    with outputs.private_output(path, force=force, protect=protect, binary=True) as fh:
        if fmt == "xlsx":
            _write_xlsx(report, fh, lang)
        else:
            fh.write(to_markdown(report, lang).encode("utf-8"))


def _cell_text(col: Col, value: Any, row: dict[str, Any]) -> str:
    kind = row.get("_kind", col.kind) if col.key == "value" else col.kind
    return display_value(kind, value)


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(report: MonthlyReport, lang: str = "en") -> str:
    zh = lang == "zh"
    out = [f"# {report.title(lang)}", ""]
    out.append(
        f"{'统计期间' if zh else 'Period'}: {report.start.isoformat()} – {report.end.isoformat()} · "
        f"{'生成日期' if zh else 'generated'} {report.generated.isoformat()}"
    )
    out.append("")
    for section in report.sections:
        out += [f"## {section.title(lang)}", ""]
        shown = [c for c in section.columns if c.show]
        rows = section.all_rows()
        if not rows:
            out += ["（无）" if zh else "(none)", ""]
            continue
        out.append("| " + " | ".join(_md_escape(c.header(lang)) for c in shown) + " |")
        out.append("|" + "|".join("---:" if c.kind not in ("text", "date") else "---" for c in shown) + "|")
        for row in rows:
            cells = [_md_escape(_cell_text(c, row.get(c.key), row)) for c in shown]
            if row is section.total:
                cells = [f"**{c}**" if c else c for c in cells]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


_NUMBER_FORMATS = {"amount": "#,##0.00", "share": "0.0%", "avg": "0.00", "int": "0", "date": "yyyy-mm-dd"}


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)[:31].strip() or "Sheet"
    base, n = name, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _write_xlsx(report: MonthlyReport, fh: Any, lang: str) -> None:
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UsageError(
            "writing .xlsx needs openpyxl: pip install openpyxl (or write .md)",
            zh="写入 .xlsx 需要 openpyxl：pip install openpyxl（或改写为 .md）",
        ) from exc

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    bold = Font(bold=True)
    short = {
        "summary": ("Summary", "概览"),
        "new": ("New customers", "新增客户"),
        "industry": ("Industries", "行业分布"),
        "funnel": ("Funnel", "销售漏斗"),
        "sources": ("Sources", "客户来源"),
        "activity": ("Activity", "跟进活动"),
        "service": ("Service", "客服满意度"),
        "changes": ("Status changes", "状态变更"),
    }
    for section in report.sections:
        en, zh = short.get(section.name, (section.title_en, section.title_zh))
        ws = wb.create_sheet(_sheet_name(zh if lang == "zh" else en, used))
        shown = [c for c in section.columns if c.show]
        ws.append([])
        title = ws.cell(row=1, column=1)
        _set_text(title, f"{section.title(lang)} · {report.month}")
        title.font = Font(bold=True, size=12)
        for j, col in enumerate(shown, start=1):
            cell = ws.cell(row=2, column=j)
            _set_text(cell, col.header(lang))
            cell.font = bold
        widths = [max(8, _width(c.header(lang))) for c in shown]
        for i, row in enumerate(section.all_rows(), start=3):
            for j, col in enumerate(shown, start=1):
                cell = ws.cell(row=i, column=j)
                value = row.get(col.key)
                kind = row.get("_kind", col.kind) if col.key == "value" else col.kind
                if value is None:
                    continue
                if kind == "date" and isinstance(value, str):
                    cell.value = date.fromisoformat(value[:10])
                elif kind == "text" or isinstance(value, str):
                    _set_text(cell, str(value))
                else:
                    cell.value = value
                if kind in _NUMBER_FORMATS and not isinstance(value, str):
                    cell.number_format = _NUMBER_FORMATS[kind]
                if row is section.total:
                    cell.font = bold
                widths[j - 1] = max(widths[j - 1], _width(_cell_text(col, value, row)))
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(60, w + 2)
        ws.freeze_panes = "A3"
    wb.save(fh)


def _set_text(cell: Any, text: str) -> None:
    """A string cell that stays a string: openpyxl would turn ``=…`` into a formula."""
    cell.value = text
    cell.data_type = "s"


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
