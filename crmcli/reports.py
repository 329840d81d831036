"""Reports: pivots, the status funnel, sources, activity per owner, service satisfaction.

Each report is computed with a few grouped SQL queries over ``customers``, ``followups`` and
``status_changes`` (the database does the counting, so a million customers stay fast) and comes
back as a :class:`Report`: typed columns and rows of machine values (codes, integers, yuan as
numbers, shares as fractions). ``crmcli.render``/the CLI turn it into a table, a chart or a
machine format; ``crmcli.monthly`` puts several into one file.

Customer filters are the ``crm list`` ones (:class:`crmcli.query.Filters`); their SQL only ever
runs over ``customers`` alone, in a sub-select, so its unqualified column names stay unambiguous.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from . import clock, fields, parsing
from .errors import UsageError, ValidationError
from .fields import Field
from .options import OptionSet
from .query import Filters

ColKind = Literal["text", "int", "amount", "share", "avg", "number", "date"]

EMPTY = ""
"""The code a row or column gets for customers without a value in the dimension."""

EXIT_STATUSES = ("paused", "lost")
"""Statuses that leave the pipeline rather than advance it."""
IMPLIES = {"paused": "active"}
"""A paused cooperation was active before: it counts as having reached ``active``."""

MONTH_DIMENSIONS = ("month", "first_contact_month")
PEOPLE_DIMENSIONS = ("owner",)
GRADES = ("A", "B", "C")


@dataclass(frozen=True)
class Col:
    """One report column. ``show=False`` columns exist in machine formats only (the codes
    behind a label column)."""

    key: str
    en: str
    zh: str
    kind: ColKind = "int"
    show: bool = True

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Report:
    name: str
    title_en: str
    title_zh: str
    columns: list[Col]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    chart: tuple[str, str] | None = None
    """(label column, value column) for a bar chart of the data rows."""
    notes: list[str] = field(default_factory=list)

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def all_rows(self, totals: bool = True) -> list[dict[str, Any]]:
        return [*self.rows, self.total] if totals and self.total is not None else list(self.rows)


def total_label(lang: str) -> str:
    return "合计" if lang == "zh" else "Total"


def empty_label(lang: str) -> str:
    return "（空）" if lang == "zh" else "(none)"


def share(part: float | int | None, whole: float | int | None) -> float | None:
    if not whole or part is None:
        return None
    return round(part / whole, 4)


def _yuan(fen: int | None) -> int | float | None:
    return None if fen is None else parsing.fen_to_yuan(int(fen))


# ----------------------------------------------------------------------------- dimensions


@dataclass(frozen=True)
class Dimension:
    """Something customers can be grouped by: a dropdown field, owner, grade, or the month of
    first contact. ``expr`` is SQL over ``customers`` built from our own column names only."""

    key: str
    en: str
    zh: str
    expr: str
    choice: bool = False

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _fields() -> Sequence[Field]:
    """Built-in and custom fields (the ones :func:`fields.sync` loaded for the connection)."""
    from . import fields

    return fields.all_fields()


def dimension(key: str) -> Dimension:
    """The dimension called ``key`` (``industry``, ``status``, ``owner``, ``grade``, ``month``,
    or any dropdown field); a ValidationError listing the allowed ones otherwise."""
    name = key.strip().replace("-", "_").lower()
    specs = {f.key: f for f in _fields()}
    if name in MONTH_DIMENSIONS:
        return Dimension("month", "First contact month", "首次接触月份", "substr(first_contact, 1, 7)")
    spec = specs.get(name)
    if spec is not None and spec.kind == "choice":
        return Dimension(spec.key, spec.en, spec.zh, spec.key, choice=True)
    if spec is not None and spec.key in ("owner", "grade"):
        return Dimension(spec.key, spec.en, spec.zh, spec.key)
    raise ValidationError("dimension", key, "unknown_field", details={"fields": ", ".join(dimension_names())})


def dimension_names() -> list[str]:
    """Every name :func:`dimension` accepts (the database's custom dropdowns included once its
    fields are loaded), for error messages and shell completion."""
    return [f.key for f in _fields() if f.kind == "choice"] + ["owner", "grade", "month"]


def sum_field(key: str) -> Field:
    """A numeric field that ``--sum`` can total: the contract amount, or a custom number field."""
    name = key.strip().replace("-", "_").lower()
    spec = {f.key: f for f in _fields()}.get(name)
    if spec is None or spec.kind not in ("amount", "integer", "decimal") or not spec.editable:
        allowed = [f.key for f in _fields() if f.kind in ("amount", "integer", "decimal") and f.editable]
        raise ValidationError("sum", key, "unknown_field", details={"fields": ", ".join(allowed)})
    return spec


def _sum_value(spec: Field | None, raw: Any) -> Any:
    if spec is None or raw is None:
        return raw
    if spec.kind == "amount":
        return _yuan(raw)
    if spec.kind == "decimal":
        return round(float(raw), 4)
    return int(raw)


def _sum_kind(spec: Field) -> ColKind:
    return "amount" if spec.kind == "amount" else "number"


def _order_values(dim: Dimension, values: Iterable[str], options: OptionSet) -> list[str]:
    """Dropdown values in their list's order, grades A-C, months in time, owners by name;
    the empty value last."""
    distinct = set(values)
    present = [v for v in distinct if v != EMPTY]
    if dim.choice:
        present.sort(key=lambda v: (options.position(dim.key, v), v))
    elif dim.key == "grade":
        present.sort(key=lambda v: (GRADES.index(v) if v in GRADES else 99, v))
    else:
        present.sort()
    if EMPTY in distinct:
        present.append(EMPTY)
    return present


def _label(dim: Dimension, value: str, options: OptionSet, lang: str) -> str:
    if value == EMPTY:
        return empty_label(lang)
    return options.label(dim.key, value, lang) if dim.choice else value


def _norm(value: Any) -> str:
    return EMPTY if value is None else str(value)


def _customer_where(filters: Filters | None) -> tuple[str, list[object]]:
    return (filters or Filters()).where()


# ----------------------------------------------------------------------------- pivot


def pivot(
    conn: sqlite3.Connection,
    options: OptionSet,
    row: str,
    col: str | None = None,
    *,
    filters: Filters | None = None,
    sum_key: str | None = None,
    lang: str = "en",
) -> Report:
    """Customers counted (or a numeric field summed) by one dimension, or crossed by two with
    row and column totals."""
    fields.sync(conn)  # custom fields are dimensions and sums too
    rdim = dimension(row)
    cdim = dimension(col) if col else None
    if cdim is not None and cdim.key == rdim.key:
        raise UsageError(f"pivot {row} by {col}: choose two different dimensions", zh=f"按 {col} 透视 {row}：请选择两个不同的维度")
    measure = sum_field(sum_key) if sum_key else None
    where, params = _customer_where(filters)
    sum_sql = f"sum({measure.key})" if measure else "NULL"
    if cdim is None:
        sql = f"SELECT {rdim.expr}, count(*), {sum_sql} FROM customers WHERE {where} GROUP BY 1"
        data = {_norm(r[0]): (r[1], r[2]) for r in conn.execute(sql, params)}
        return _pivot_one(rdim, data, measure, options, lang)
    sql = f"SELECT {rdim.expr}, {cdim.expr}, count(*), {sum_sql} FROM customers WHERE {where} GROUP BY 1, 2"
    cells: dict[tuple[str, str], tuple[int, Any]] = {
        (_norm(r[0]), _norm(r[1])): (r[2], r[3]) for r in conn.execute(sql, params)
    }
    return _pivot_cross(rdim, cdim, cells, measure, options, lang)


def _pivot_one(
    dim: Dimension, data: dict[str, tuple[int, Any]], measure: Field | None, options: OptionSet, lang: str
) -> Report:
    cols = [
        Col(dim.key, dim.en, dim.zh, "text", show=False),
        Col("label", dim.en, dim.zh, "text"),
        Col("count", "Customers", "客户数"),
    ]
    if measure is not None:
        cols.append(Col(measure.key, measure.en, measure.zh, _sum_kind(measure)))
    cols.append(Col("share", "Share", "占比", "share"))
    total_count = sum(c for c, _ in data.values())
    total_sum = sum((s or 0) for _, s in data.values()) if measure else None
    rows = []
    for value in _order_values(dim, data, options):
        count, raw_sum = data[value]
        row: dict[str, Any] = {dim.key: value, "label": _label(dim, value, options, lang), "count": count}
        if measure is not None:
            row[measure.key] = _sum_value(measure, raw_sum or 0)
            row["share"] = share(raw_sum or 0, total_sum)
        else:
            row["share"] = share(count, total_count)
        rows.append(row)
    total: dict[str, Any] = {dim.key: None, "label": total_label(lang), "count": total_count}
    if measure is not None:
        total[measure.key] = _sum_value(measure, total_sum)
    total["share"] = 1.0 if (total_sum if measure else total_count) else None
    value_key = measure.key if measure else "count"
    title_en = f"{measure.en} by {dim.en.lower()}" if measure else f"Customers by {dim.en.lower()}"
    title_zh = f"按{dim.zh}统计{measure.zh}" if measure else f"按{dim.zh}统计客户"
    return Report("pivot", title_en, title_zh, cols, rows, total, chart=("label", value_key))


def _pivot_cross(
    rdim: Dimension,
    cdim: Dimension,
    cells: dict[tuple[str, str], tuple[int, Any]],
    measure: Field | None,
    options: OptionSet,
    lang: str,
) -> Report:
    def value(cell: tuple[int, Any] | None) -> Any:
        if cell is None:
            return 0
        return cell[0] if measure is None else (cell[1] or 0)

    row_values = _order_values(rdim, (r for r, _ in cells), options)
    col_values = _order_values(cdim, (c for _, c in cells), options)
    kind: ColKind = _sum_kind(measure) if measure else "int"
    cols = [Col(rdim.key, rdim.en, rdim.zh, "text", show=False), Col("label", rdim.en, rdim.zh, "text")]
    for cv in col_values:
        label = _label(cdim, cv, options, lang)
        cols.append(Col(cv, label, label, kind))
    cols.append(Col("total", "Total", "合计", kind))
    rows = []
    col_totals = dict.fromkeys(col_values, 0)
    for rv in row_values:
        row: dict[str, Any] = {rdim.key: rv, "label": _label(rdim, rv, options, lang)}
        row_total = 0
        for cv in col_values:
            v = value(cells.get((rv, cv)))
            row[cv] = _sum_value(measure, v) if measure else v
            row_total += v
            col_totals[cv] += v
        row["total"] = _sum_value(measure, row_total) if measure else row_total
        rows.append(row)
    total: dict[str, Any] = {rdim.key: None, "label": total_label(lang)}
    for cv in col_values:
        total[cv] = _sum_value(measure, col_totals[cv]) if measure else col_totals[cv]
    grand = sum(col_totals.values())
    total["total"] = _sum_value(measure, grand) if measure else grand
    what_en = measure.en if measure else "customers"
    what_zh = f"{measure.zh}合计" if measure else "客户数"
    return Report(
        "pivot",
        f"{rdim.en} × {cdim.en.lower()}: {what_en}",
        f"{rdim.zh} × {cdim.zh}：{what_zh}",
        cols,
        rows,
        total,
        chart=("label", "total"),
    )


# ----------------------------------------------------------------------------- pipeline levels


def _stages(options: OptionSet) -> list[str]:
    """The status options in pipeline order (retired ones too: old records may carry them)."""
    return [o.code for o in options.by_field.get("status", [])]


def _levels(options: OptionSet) -> dict[str, int]:
    """How far along the pipeline each status is: its index among the non-exit statuses;
    ``paused`` counts as ``active``, ``lost`` as the first stage (it says nothing of how far
    the customer got)."""
    progression = [s for s in _stages(options) if s not in EXIT_STATUSES]
    levels = {code: i for i, code in enumerate(progression)}
    for exit_code in EXIT_STATUSES:
        implied = IMPLIES.get(exit_code)
        levels[exit_code] = levels.get(implied, 0) if implied else 0
    return levels


def _level_case(levels: dict[str, int], column: str) -> tuple[str, list[object]]:
    parts = " ".join("WHEN ? THEN ?" for _ in levels)
    params: list[object] = [x for code, lvl in levels.items() for x in (code, lvl)]
    return f"(CASE {column} {parts} ELSE 0 END)", params


def _history_cte(where: str) -> str:
    """SQL CTEs: ``sel`` (the filtered customers) and ``held`` (every status each ever had:
    its status-change log plus its current status, for records that predate the log)."""
    return (
        f"sel AS (SELECT id, source, owner, status, amount FROM customers WHERE {where}), "
        "held AS (SELECT customer_id AS cid, to_status AS st FROM status_changes "
        "WHERE customer_id IN (SELECT id FROM sel) "
        "UNION SELECT id, status FROM sel)"
    )


# ----------------------------------------------------------------------------- funnel


def funnel(conn: sqlite3.Connection, options: OptionSet, *, filters: Filters | None = None, lang: str = "en") -> Report:
    """Customers per status in pipeline order. ``reached``: customers that ever got this far
    (this stage or a later one; paused counts as active); ``conversion``: reached here ÷
    reached at the previous stage. For the exit statuses (paused, lost) ``reached`` is how
    many were ever in them, and there is no conversion."""
    where, params = _customer_where(filters)
    levels = _levels(options)
    case, case_params = _level_case(levels, "st")
    counts = dict(
        conn.execute(f"SELECT status, count(*) FROM customers WHERE {where} GROUP BY status", params).fetchall()
    )
    cte = _history_cte(where)
    level_counts = dict(
        conn.execute(
            f"WITH {cte}, lv AS (SELECT cid, max({case}) AS lvl FROM held GROUP BY cid) "
            "SELECT lvl, count(*) FROM lv GROUP BY lvl",
            [*params, *case_params],
        ).fetchall()
    )
    ever = dict(conn.execute(f"WITH {cte} SELECT st, count(DISTINCT cid) FROM held GROUP BY st", params).fetchall())
    total = sum(counts.values())
    retired = {o.code for o in options.by_field.get("status", []) if o.retired}
    stages = [s for s in _stages(options) if counts.get(s) or s not in retired]
    cols = [
        Col("status", "Status", "合作状态", "text", show=False),
        Col("label", "Status", "合作状态", "text"),
        Col("count", "Customers", "客户数"),
        Col("share", "Share", "占比", "share"),
        Col("reached", "Reached", "曾到达"),
        Col("conversion", "Conversion", "转化率", "share"),
    ]
    rows = []
    previous: int | None = None
    for code in stages:
        row: dict[str, Any] = {
            "status": code,
            "label": options.label("status", code, lang),
            "count": counts.get(code, 0),
            "share": share(counts.get(code, 0), total),
        }
        if code in EXIT_STATUSES:
            row["reached"] = ever.get(code, 0)
            row["conversion"] = None
        else:
            reached = sum(n for lvl, n in level_counts.items() if lvl is not None and lvl >= levels[code])
            row["reached"] = reached
            row["conversion"] = share(reached, previous) if previous is not None else None
            previous = reached
        rows.append(row)
    unknown = sum(n for s, n in counts.items() if s not in stages)
    notes = [f"{unknown} customers have a status outside the list"] if unknown else []
    totals = {
        "status": None,
        "label": total_label(lang),
        "count": total,
        "share": 1.0 if total else None,
        "reached": None,
        "conversion": None,
    }
    return Report("funnel", "Sales funnel", "销售漏斗", cols, rows, totals, chart=("label", "count"), notes=notes)


# ----------------------------------------------------------------------------- sources


def sources(
    conn: sqlite3.Connection, options: OptionSet, *, filters: Filters | None = None, lang: str = "en"
) -> Report:
    """Per source: customers, how many reached active (ever active or paused), that share,
    total contract amount, and the follow-ups logged on them."""
    where, params = _customer_where(filters)
    levels = _levels(options)
    active_level = levels.get("active", max(levels.values(), default=0))
    case, case_params = _level_case(levels, "st")
    cte = _history_cte(where)
    per_source = conn.execute(
        f"WITH {cte}, lv AS (SELECT cid, max({case}) AS lvl FROM held GROUP BY cid) "
        "SELECT sel.source, count(*), sum(CASE WHEN lv.lvl >= ? THEN 1 ELSE 0 END), sum(sel.amount) "
        "FROM sel LEFT JOIN lv ON lv.cid = sel.id GROUP BY sel.source",
        [*params, *case_params, active_level],
    ).fetchall()
    followups = {
        _norm(src): n
        for src, n in conn.execute(
            f"WITH sel AS (SELECT id, source FROM customers WHERE {where}) "
            "SELECT sel.source, count(*) FROM followups f JOIN sel ON sel.id = f.customer_id GROUP BY sel.source",
            params,
        )
    }
    data = {_norm(src): (n, act or 0, amt or 0) for src, n, act, amt in per_source}
    dim = dimension("source")
    cols = [
        Col("source", "Source", "客户来源", "text", show=False),
        Col("label", "Source", "客户来源", "text"),
        Col("customers", "Customers", "客户数"),
        Col("active", "Reached active", "曾合作"),
        Col("active_rate", "Active rate", "合作率", "share"),
        Col("amount", "Contract amount", "合同金额(元)", "amount"),
        Col("followups", "Follow-ups", "跟进次数"),
        Col("followups_per_customer", "Follow-ups per customer", "人均跟进", "avg"),
    ]
    rows = []
    for value in _order_values(dim, set(data) | set(followups), options):
        n, act, amt = data.get(value, (0, 0, 0))
        fu = followups.get(value, 0)
        rows.append(
            {
                "source": value,
                "label": _label(dim, value, options, lang),
                "customers": n,
                "active": act,
                "active_rate": share(act, n),
                "amount": _yuan(amt),
                "followups": fu,
                "followups_per_customer": round(fu / n, 2) if n else None,
            }
        )
    n_all = sum(v[0] for v in data.values())
    act_all = sum(v[1] for v in data.values())
    fu_all = sum(followups.values())
    total = {
        "source": None,
        "label": total_label(lang),
        "customers": n_all,
        "active": act_all,
        "active_rate": share(act_all, n_all),
        "amount": _yuan(sum(v[2] for v in data.values())),
        "followups": fu_all,
        "followups_per_customer": round(fu_all / n_all, 2) if n_all else None,
    }
    return Report("sources", "Customer sources", "客户来源分析", cols, rows, total, chart=("label", "customers"))


# ----------------------------------------------------------------------------- periods

Period = Literal["week", "month"]


def period_key(day: str | date, by: str) -> str:
    """``2024-05`` for a month, ``2024-W22`` (ISO week) for a week."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    if by == "week":
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{d.year:04d}-{d.month:02d}"


def periods_between(start: date, end: date, by: str) -> list[str]:
    keys: list[str] = []
    d = start
    while d <= end:
        key = period_key(d, by)
        if not keys or keys[-1] != key:
            keys.append(key)
        d = d + timedelta(days=7) if by == "week" else _next_month(d)
    last = period_key(end, by)
    if keys and keys[-1] != last:
        keys.append(last)
    return keys


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def default_window(by: str, today: date | None = None, count: int | None = None) -> tuple[date, date]:
    """The last 6 months (this one included), or the last 8 ISO weeks, up to today."""
    today = today or clock.today()
    if by == "week":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(weeks=(count or 8) - 1), today
    start = date(today.year, today.month, 1)
    for _ in range((count or 6) - 1):
        start = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
    return start, today


def _check_by(by: str, allowed: Sequence[str]) -> str:
    by = by.lower()
    if by not in allowed:
        raise ValidationError("by", by, "option_unknown", details={"allowed": ", ".join(allowed)})
    return by


def _check_window(start: date, end: date) -> None:
    if start > end:
        raise UsageError(
            f"--from {start.isoformat()} is after --to {end.isoformat()}",
            zh=f"--from {start.isoformat()} 晚于 --to {end.isoformat()}",
        )


def stale_cutoff(as_of: date, months: int = 3, days: int | None = None) -> date:
    """The stale rule's cutoff: a customer whose last contact is strictly before it is stale."""
    if days is not None:
        return as_of - timedelta(days=days)
    from dateutil.relativedelta import relativedelta

    return as_of - relativedelta(months=months)


def stale_per_owner(
    conn: sqlite3.Connection, where: str, params: Sequence[object], as_of: date, cutoff: date
) -> dict[str, int]:
    """Stale customers per owner as of a day: last contact (latest follow-up or last-follow-up
    date on or before that day, else first contact) strictly before ``cutoff``; lost customers
    and customers first contacted after ``as_of`` left out."""
    day = as_of.isoformat()
    sql = (
        f"WITH sel AS (SELECT id, owner, first_contact, last_followup FROM customers WHERE {where} "
        "AND coalesce(status, '') != 'lost' AND first_contact <= ?), "
        "lc AS (SELECT sel.owner AS owner, max(sel.first_contact, "
        "coalesce(CASE WHEN sel.last_followup <= ? THEN sel.last_followup END, ''), "
        "coalesce((SELECT max(f.date) FROM followups f WHERE f.customer_id = sel.id AND f.date <= ?), '')) AS last "
        "FROM sel) "
        "SELECT owner, count(*) FROM lc WHERE last < ? GROUP BY owner"
    )
    return {_norm(o): n for o, n in conn.execute(sql, [*params, day, day, day, cutoff.isoformat()])}


# ----------------------------------------------------------------------------- activity


def activity(
    conn: sqlite3.Connection,
    options: OptionSet,
    *,
    by: str = "month",
    start: date | None = None,
    end: date | None = None,
    filters: Filters | None = None,
    stale_months: int = 3,
    stale_days: int | None = None,
    lang: str = "en",
) -> Report:
    """Follow-ups per owner (the customer's owner) per week or month in the window; customers
    each owner has, contacted in the window, and stale as of the window's last day."""
    by = _check_by(by, ("week", "month"))
    d_start, d_end = default_window(by)
    start, end = start or d_start, end or d_end
    _check_window(start, end)
    where, params = _customer_where(filters)
    window = [start.isoformat(), end.isoformat()]
    group = "substr(f.date, 1, 7)" if by == "month" else "f.date"
    per_period: dict[str, dict[str, int]] = {}
    for owner, day, n in conn.execute(
        f"WITH sel AS (SELECT id, owner FROM customers WHERE {where}) "
        f"SELECT sel.owner, {group}, count(*) FROM followups f JOIN sel ON sel.id = f.customer_id "
        "WHERE f.date BETWEEN ? AND ? GROUP BY 1, 2",
        [*params, *window],
    ):
        key = day if by == "month" else period_key(day, "week")
        bucket = per_period.setdefault(_norm(owner), {})
        bucket[key] = bucket.get(key, 0) + n
    contacted = {
        _norm(o): (n, c)
        for o, n, c in conn.execute(
            f"WITH sel AS (SELECT id, owner FROM customers WHERE {where}) "
            "SELECT sel.owner, count(*), count(DISTINCT f.customer_id) FROM followups f "
            "JOIN sel ON sel.id = f.customer_id WHERE f.date BETWEEN ? AND ? GROUP BY 1",
            [*params, *window],
        )
    }
    customers = {
        _norm(o): n
        for o, n in conn.execute(f"SELECT owner, count(*) FROM customers WHERE {where} GROUP BY owner", params)
    }
    stale = stale_per_owner(conn, where, params, end, stale_cutoff(end, stale_months, stale_days))
    periods = periods_between(start, end, by)
    period_en, period_zh = ("Week", "周") if by == "week" else ("Month", "月")
    cols = [Col("owner", "Owner", "跟进人", "text", show=False), Col("label", "Owner", "跟进人", "text")]
    cols += [Col(p, p, p) for p in periods]
    cols += [
        Col("followups", "Follow-ups", "跟进次数"),
        Col("contacted", "Contacted", "已联系客户"),
        Col("customers", "Customers", "客户数"),
        Col("stale", "Stale", "久未跟进"),
    ]
    owners = sorted(set(per_period) | set(contacted) | set(customers) | set(stale), key=lambda o: (o == EMPTY, o))
    rows = []
    for owner in owners:
        row: dict[str, Any] = {"owner": owner, "label": owner or empty_label(lang)}
        for p in periods:
            row[p] = per_period.get(owner, {}).get(p, 0)
        n, c = contacted.get(owner, (0, 0))
        row.update(followups=n, contacted=c, customers=customers.get(owner, 0), stale=stale.get(owner, 0))
        rows.append(row)
    total: dict[str, Any] = {"owner": None, "label": total_label(lang)}
    for key in [*periods, "followups", "contacted", "customers", "stale"]:
        total[key] = sum(r[key] for r in rows)
    return Report(
        "activity",
        f"Follow-ups per owner per {period_en.lower()}, {start.isoformat()} to {end.isoformat()}",
        f"各跟进人每{period_zh}跟进次数（{start.isoformat()} 至 {end.isoformat()}）",
        cols,
        rows,
        total,
        chart=("label", "followups"),
    )


# ----------------------------------------------------------------------------- service


def service(
    conn: sqlite3.Connection,
    options: OptionSet,
    *,
    by: str = "month",
    start: date | None = None,
    end: date | None = None,
    filters: Filters | None = None,
    lang: str = "en",
) -> Report:
    """Follow-ups of kind ``service`` per month, week or owner in the window: how many, how many
    carry a satisfaction score (1-5), the average score, and how many scored 1 or 2."""
    by = _check_by(by, ("week", "month", "owner"))
    d_start, d_end = default_window("week" if by == "week" else "month")
    start, end = start or d_start, end or d_end
    _check_window(start, end)
    where, params = _customer_where(filters)
    if by == "owner":
        group = "sel.owner"
    elif by == "month":
        group = "substr(f.date, 1, 7)"
    else:
        group = "f.date"
    raw = conn.execute(
        f"WITH sel AS (SELECT id, owner FROM customers WHERE {where}) "
        f"SELECT {group}, count(*), count(f.satisfaction), sum(f.satisfaction), "
        "sum(CASE WHEN f.satisfaction <= 2 THEN 1 ELSE 0 END) "
        "FROM followups f JOIN sel ON sel.id = f.customer_id "
        "WHERE f.kind = 'service' AND f.date BETWEEN ? AND ? GROUP BY 1",
        [*params, start.isoformat(), end.isoformat()],
    ).fetchall()
    agg: dict[str, list[int]] = {}
    for key, n, rated, total_score, low in raw:
        bucket_key = period_key(key, "week") if by == "week" else _norm(key)
        bucket = agg.setdefault(bucket_key, [0, 0, 0, 0])
        for i, v in enumerate((n, rated, total_score or 0, low or 0)):
            bucket[i] += v
    if by == "owner":
        keys = sorted(agg, key=lambda o: (o == EMPTY, o))
        key_col = [Col("owner", "Owner", "跟进人", "text", show=False), Col("label", "Owner", "跟进人", "text")]
    else:
        keys = periods_between(start, end, by)
        name_en, name_zh = ("Week", "周") if by == "week" else ("Month", "月份")
        key_col = [Col(by, name_en, name_zh, "text", show=False), Col("label", name_en, name_zh, "text")]
    cols = [
        *key_col,
        Col("followups", "Service follow-ups", "客服跟进"),
        Col("rated", "Rated", "已评分"),
        Col("satisfaction", "Avg satisfaction", "平均满意度", "avg"),
        Col("low", "Scored 1-2", "低分(1-2)"),
    ]
    rows = []
    for key in keys:
        n, rated, score, low = agg.get(key, [0, 0, 0, 0])
        label = (key or empty_label(lang)) if by == "owner" else key
        rows.append(
            {
                by: key,
                "label": label,
                "followups": n,
                "rated": rated,
                "satisfaction": round(score / rated, 2) if rated else None,
                "low": low,
            }
        )
    n_all = sum(v[0] for v in agg.values())
    rated_all = sum(v[1] for v in agg.values())
    score_all = sum(v[2] for v in agg.values())
    total = {
        by: None,
        "label": total_label(lang),
        "followups": n_all,
        "rated": rated_all,
        "satisfaction": round(score_all / rated_all, 2) if rated_all else None,
        "low": sum(v[3] for v in agg.values()),
    }
    per_en = {"owner": "owner", "month": "month", "week": "week"}[by]
    per_zh = {"owner": "按跟进人", "month": "按月", "week": "按周"}[by]
    return Report(
        "service",
        f"Service satisfaction per {per_en}, {start.isoformat()} to {end.isoformat()}",
        f"客服满意度（{per_zh}，{start.isoformat()} 至 {end.isoformat()}）",
        cols,
        rows,
        total,
        chart=("label", "satisfaction"),
    )


def month_bounds(month: str) -> tuple[date, date]:
    """``2024-05`` -> (2024-05-01, 2024-05-31)."""
    import re

    text = month.strip()
    m = re.fullmatch(r"([0-9]{4})-?([0-9]{1,2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UsageError(f"--month expects YYYY-MM, not {month!r}", zh=f"--month 应为 YYYY-MM 格式，而不是 {month!r}")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    return first, _next_month(first) - timedelta(days=1)


def display_value(kind: str, value: Any) -> str:
    """A report cell as people read it: money with separators, shares as percentages."""
    if value is None:
        return ""
    if kind == "amount":
        return f"{float(value):,.2f}"
    if kind == "share":
        return f"{float(value) * 100:.1f}%"
    if kind == "avg":
        return f"{float(value):.2f}"
    if kind == "number" and isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)
