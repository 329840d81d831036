"""Who needs attention: stale customers (for cron) and today's agenda with a priority score.

A customer's *last contact* is its last follow-up date, or its first contact date when it has
none. It is *stale* when that date lies strictly before local today minus the window (3 calendar
months by default): contacted exactly 3 months ago is not stale yet.

The agenda ranks customers like Taskwarrior's urgency: a sum of weighted factors, each shown by
``--explain``. Weights live in the shared config (``crm config set priority-due 10``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from . import clock
from .customers import COLUMNS, SELECT_COLUMNS, Record
from .errors import UsageError
from .query import Filters

LAST_CONTACT = "coalesce(last_followup, first_contact)"
DEFAULT_MONTHS = 3


def months_ago(today: date, months: int) -> date:
    """Calendar months back: 31 May minus 3 months is 29 Feb in a leap year, 28 Feb otherwise."""
    from dateutil.relativedelta import relativedelta

    return today - relativedelta(months=months)


def cutoff(today: date, *, months: int | None = None, days: int | None = None, before: date | None = None) -> date:
    """The stale boundary: a last contact strictly before it is stale. At most one of the three."""
    given = [x for x in (months, days, before) if x is not None]
    if len(given) > 1:
        raise UsageError("give only one of --months, --days and --before")
    if before is not None:
        return before
    if days is not None:
        if days < 0:
            raise UsageError("--days must not be negative")
        return today - timedelta(days=days)
    months = DEFAULT_MONTHS if months is None else months
    if months < 0:
        raise UsageError("--months must not be negative")
    return months_ago(today, months)


def _excluding_lost(filters: Filters, include_lost: bool) -> tuple[str, list[object]]:
    where, params = filters.where()
    asked_for_lost = "lost" in filters.choices.get("status", [])
    if not include_lost and not asked_for_lost:
        where += " AND status != 'lost'"
    return where, params


DAYS_INACTIVE = f"CAST(julianday(?) - julianday({LAST_CONTACT}) AS INTEGER)"


def _stale_sql(
    select: str, select_params: list[object], filters: Filters, boundary: date, include_lost: bool, limit: int | None
) -> tuple[str, list[object]]:
    """The stale query around ``select`` (whose placeholders ``select_params`` fill)."""
    where, params = _excluding_lost(filters, include_lost)
    sql = f"SELECT {select} FROM customers WHERE {where} AND {LAST_CONTACT} < ? ORDER BY {LAST_CONTACT}, id"
    all_params: list[object] = [*select_params, *params, boundary.isoformat()]
    if limit is not None:
        sql += " LIMIT ?"
        all_params.append(limit)
    return sql, all_params


def stale(
    conn: sqlite3.Connection,
    filters: Filters,
    boundary: date,
    *,
    today: date | None = None,
    include_lost: bool = False,
    limit: int | None = None,
) -> Iterator[Record]:
    """Stale customers, longest inactive first, each with ``last_contact`` and ``days_inactive``."""
    select = f"{SELECT_COLUMNS}, {LAST_CONTACT}, {DAYS_INACTIVE}"
    today_iso = (today or clock.today()).isoformat()
    sql, params = _stale_sql(select, [today_iso], filters, boundary, include_lost, limit)
    names = (*COLUMNS, "last_contact", "days_inactive")
    for row in conn.execute(sql, params):
        yield dict(zip(names, row))


def stale_json(
    conn: sqlite3.Connection,
    filters: Filters,
    boundary: date,
    *,
    keys: list[str],
    lang: str,
    reveal: bool,
    today: date | None = None,
    include_lost: bool = False,
    limit: int | None = None,
) -> Iterator[str]:
    """The same customers as :func:`stale`, each already a JSON object built by SQLite."""
    from . import jsonsql

    jsonsql.register_functions(conn)
    extras = [(n, e) for n, e in (("last_contact", LAST_CONTACT), ("days_inactive", DAYS_INACTIVE)) if n in keys]
    fields = [k for k in keys if k not in ("last_contact", "days_inactive")]
    select = jsonsql.customer_object(fields, lang, reveal, extra=extras)
    select_params: list[object] = [(today or clock.today()).isoformat()] if "days_inactive" in keys else []
    sql, params = _stale_sql(select, select_params, filters, boundary, include_lost, limit)
    for row in conn.execute(sql, params):
        yield row[0]


def count_stale(conn: sqlite3.Connection, filters: Filters, boundary: date, *, include_lost: bool = False) -> int:
    where, params = _excluding_lost(filters, include_lost)
    return conn.execute(
        f"SELECT count(*) FROM customers WHERE {where} AND {LAST_CONTACT} < ?", [*params, boundary.isoformat()]
    ).fetchone()[0]


def _days_between(iso: str | None, today: date) -> int | None:
    if not iso:
        return None
    try:
        return (today - date.fromisoformat(iso[:10])).days
    except ValueError:
        return None


# ---------------------------------------------------------------------------- weights


def parse_map(value: str, *, upper_keys: bool = False) -> dict[str, float]:
    """``"intent=4,active=3"`` -> {"intent": 4.0, "active": 3.0}; raises UsageError when malformed."""
    out: dict[str, float] = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, number = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"expected KEY=NUMBER pairs separated by commas, not {part!r}")
        try:
            out[key.upper() if upper_keys else key.lower()] = float(number)
        except ValueError:
            raise UsageError(f"{key}: {number.strip()!r} is not a number") from None
    return out


def check_map(value: str) -> str:
    parse_map(value)
    return ",".join(p.strip() for p in value.split(",") if p.strip())


def check_number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{value!r} is not a number") from None
    if number < 0:
        raise UsageError("the weight must not be negative")
    return value.strip()


def check_months(value: str) -> str:
    if not value.strip().isdigit():
        raise UsageError(f"{value!r} is not a whole number of months")
    return str(int(value))


@dataclass(frozen=True)
class Weights:
    """How much each factor counts. ``inactive`` is earned in full once a customer has gone one
    stale window without contact (linear, capped at twice); ``due`` in full once a next step is a
    week overdue (it ramps up from 0.2 two weeks before the date, as in Taskwarrior)."""

    status: Mapping[str, float] = field(default_factory=lambda: parse_map(DEFAULTS["priority-status"]))
    grade: Mapping[str, float] = field(default_factory=lambda: parse_map(DEFAULTS["priority-grade"], upper_keys=True))
    inactive: float = 6.0
    due: float = 8.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Weights:
        def get(key: str) -> str:
            return settings.get(key) or DEFAULTS[key]

        return cls(
            status=parse_map(get("priority-status")),
            grade=parse_map(get("priority-grade"), upper_keys=True),
            inactive=float(get("priority-inactive")),
            due=float(get("priority-due")),
        )


DEFAULTS = {
    "priority-status": "intent=4,active=3,potential=2,paused=1,lost=0",
    "priority-grade": "A=3,B=2,C=1",
    "priority-inactive": "6",
    "priority-due": "8",
    "stale-months": "3",
}


def due_factor(next_date: str | None, today: date) -> tuple[float, int | None]:
    """Taskwarrior's due ramp: 1.0 at 7+ days overdue, 0.2 at 14+ days ahead, linear between.
    Returns the factor and the days overdue (negative: days still to go)."""
    if not next_date:
        return 0.0, None
    try:
        due = date.fromisoformat(next_date[:10])
    except ValueError:
        return 0.0, None
    overdue = (today - due).days
    if overdue >= 7:
        return 1.0, overdue
    if overdue >= -14:
        return round((overdue + 14) * 0.8 / 21 + 0.2, 3), overdue
    return 0.2, overdue


def score(rec: Mapping[str, Any], weights: Weights, today: date, window_days: int) -> tuple[float, list[Record]]:
    """Priority of one customer and how it was made: a list of {factor, value, weight, factor_value, points}."""
    parts: list[Record] = []
    status = rec.get("status") or ""
    w = weights.status.get(status, 0.0)
    parts.append({"factor": "status", "value": status, "weight": w, "x": 1.0, "points": w})
    grade = (rec.get("grade") or "").upper()
    w = weights.grade.get(grade, weights.grade.get("NONE", 0.0)) if grade else weights.grade.get("NONE", 0.0)
    parts.append({"factor": "grade", "value": grade or "none", "weight": w, "x": 1.0, "points": w})
    days = _days_between(rec.get("last_contact"), today)
    x = min(max(days or 0, 0) / max(window_days, 1), 2.0) if days is not None else 1.0
    parts.append(
        {
            "factor": "inactive",
            "value": f"{days}d" if days is not None else None,
            "weight": weights.inactive,
            "x": round(x, 3),
            "points": weights.inactive * x,
        }
    )
    x, overdue = due_factor(rec.get("next_date"), today)
    if overdue is None:
        value = None
    elif overdue > 0:
        value = f"{overdue}d overdue"
    elif overdue == 0:
        value = "today"
    else:
        value = f"in {-overdue}d"
    parts.append({"factor": "due", "value": value, "weight": weights.due, "x": x, "points": weights.due * x})
    for p in parts:
        p["points"] = round(p["points"], 2)
    return round(sum(p["points"] for p in parts), 2), parts


def explain_text(parts: list[Record]) -> str:
    """``status intent 4 + grade A 3 + inactive 45d 6×0.49=2.94 + due 2d overdue 8×0.71=5.71``"""
    terms = []
    for p in parts:
        label = p["factor"] + (f" {p['value']}" if p["value"] not in (None, "") else "")
        if p["x"] == 1.0:
            terms.append(f"{label} {_num(p['points'])}")
        else:
            terms.append(f"{label} {_num(p['weight'])}×{p['x']:.2f}={_num(p['points'])}")
    return " + ".join(terms)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass
class Agenda:
    due: list[Record]
    priority: list[Record]


def today_agenda(
    conn: sqlite3.Connection,
    filters: Filters,
    weights: Weights,
    *,
    today: date | None = None,
    window_months: int = DEFAULT_MONTHS,
    ahead: int = 0,
    limit: int = 10,
    include_lost: bool = False,
) -> Agenda:
    """Next steps overdue or due (within ``ahead`` days), oldest first; then the ``limit``
    customers with the highest priority score. Archived (unless asked) and lost customers are out."""
    today = today or clock.today()
    window_days = (today - months_ago(today, window_months)).days
    where, params = _excluding_lost(filters, include_lost)
    cols = (*COLUMNS, "last_contact")
    select = f"SELECT {SELECT_COLUMNS}, {LAST_CONTACT} AS last_contact FROM customers WHERE {where}"
    horizon = (today + timedelta(days=ahead)).isoformat()
    due_rows = []
    for row in conn.execute(f"{select} AND next_date <= ? ORDER BY next_date, id", [*params, horizon]):
        rec = dict(zip(cols, row))
        rec["days_overdue"] = _days_between(rec["next_date"], today)
        rec["days_since_contact"] = _days_between(rec["last_contact"], today)
        due_rows.append(rec)
    ranked: list[tuple[float, str, str, Record]] = []
    import heapq

    # Score every customer in SQL (C speed, no row leaves SQLite), keep a slightly wider set than
    # the top ``limit``, and rank that set exactly with score() below: SQL's float rounding may
    # differ from Python's in the last cent, never by the margin.
    score_sql, score_params = _score_sql(weights, today, window_days)
    candidates = f"{select} AND {score_sql} >= ?"
    threshold = conn.execute(
        f"SELECT {score_sql} AS s FROM customers WHERE {where} ORDER BY s DESC LIMIT 1 OFFSET ?",
        [*score_params, *params, max(limit - 1, 0)],
    ).fetchone()
    floor = (threshold[0] - SCORE_MARGIN) if threshold and limit else float("-inf")
    for row in conn.execute(candidates, [*params, *score_params, floor]):
        rec = dict(zip(cols, row))
        total, parts = score(rec, weights, today, window_days)
        rec["score"] = total
        rec["explain"] = parts
        rec["days_since_contact"] = _days_between(rec["last_contact"], today)
        item = (total, _neg_key(rec["last_contact"]), rec["id"], rec)
        if len(ranked) < limit:
            heapq.heappush(ranked, item)  # type: ignore[arg-type]
        elif limit and item[:3] > ranked[0][:3]:  # type: ignore[operator]
            heapq.heapreplace(ranked, item)  # type: ignore[arg-type]
    ordered = [r[-1] for r in sorted(ranked, key=lambda r: r[:3], reverse=True)]  # type: ignore[index]
    for rank, rec in enumerate(ordered, start=1):
        rec["rank"] = rank
    return Agenda(due=due_rows, priority=ordered)


SCORE_MARGIN = 0.05
"""Far above the few hundredths by which per-part rounding can move a score."""


def _score_sql(weights: Weights, today: date, window_days: int) -> tuple[str, list[object]]:
    """The priority score of :func:`score`, unrounded, as an SQL expression with its parameters.
    Weights are bound as parameters: status codes and grades come from the shared config."""
    status_cases = " WHEN ? THEN ?" * len(weights.status)
    status_params = [v for pair in weights.status.items() for v in pair]
    grade_cases = " WHEN ? THEN ?" * len(weights.grade)
    grade_params = [v for pair in weights.grade.items() for v in pair]
    today_jd = f"julianday('{today.isoformat()}')"
    days = f"CAST({today_jd} - julianday(substr({LAST_CONTACT}, 1, 10)) AS INTEGER)"
    overdue = f"CAST({today_jd} - julianday(substr(next_date, 1, 10)) AS INTEGER)"
    status_expr = f"(CASE status{status_cases} ELSE 0.0 END)" if status_cases else "0.0"
    grade_expr = f"(CASE upper(grade){grade_cases} ELSE ? END)" if grade_cases else "?"
    inactive_x = f"(CASE WHEN {days} IS NULL THEN 1.0 ELSE min(max({days}, 0) * 1.0 / ?, 2.0) END)"
    due_x = (
        f"(CASE WHEN {overdue} IS NULL THEN 0.0 WHEN {overdue} >= 7 THEN 1.0 "
        f"WHEN {overdue} >= -14 THEN round(({overdue} + 14) * 0.8 / 21 + 0.2, 3) ELSE 0.2 END)"
    )
    expr = f"({status_expr} + {grade_expr} + ? * {inactive_x} + ? * {due_x})"
    # In the order of the placeholders in expr.
    params: list[object] = [
        *status_params, *grade_params, weights.grade.get("NONE", 0.0), weights.inactive, max(window_days, 1), weights.due,
    ]
    return expr, params


def _neg_key(iso: str | None) -> str:
    """Ties in score: the longer since last contact ranks higher (so invert the date string)."""
    if not iso:
        return "~"
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in iso)
