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
        raise UsageError("give only one of --months, --days and --before", zh="--months、--days 和 --before 只能给出其中一个")
    if before is not None:
        return before
    if days is not None:
        if days < 0:
            raise UsageError("--days must not be negative", zh="--days 不能为负数")
        return today - timedelta(days=days)
    months = DEFAULT_MONTHS if months is None else months
    if months < 0:
        raise UsageError("--months must not be negative", zh="--months 不能为负数")
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
    with_ids: bool = False,
) -> Iterator[Any]:
    """The same customers as :func:`stale`, each already a JSON object built by SQLite."""
    from . import jsonsql

    jsonsql.register_functions(conn)
    extras = [(n, e) for n, e in (("last_contact", LAST_CONTACT), ("days_inactive", DAYS_INACTIVE)) if n in keys]
    fields = [k for k in keys if k not in ("last_contact", "days_inactive")]
    select = jsonsql.customer_object(fields, lang, reveal, extra=extras, labels=jsonsql.option_labels(conn, lang))
    select_params: list[object] = [(today or clock.today()).isoformat()] if "days_inactive" in keys else []
    if with_ids:  # (id, object) pairs, for a reveal that records what it shows
        select = "customers.id, " + select
    sql, params = _stale_sql(select, select_params, filters, boundary, include_lost, limit)
    for row in conn.execute(sql, params):
        yield row if with_ids else row[0]


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
            raise UsageError(
                f"expected KEY=NUMBER pairs separated by commas, not {part!r}",
                zh=f"应为以逗号分隔的 键=数字 对，而不是 {part!r}",
            )
        try:
            out[key.upper() if upper_keys else key.lower()] = float(number)
        except ValueError:
            raise UsageError(f"{key}: {number.strip()!r} is not a number", zh=f"{key}：{number.strip()!r} 不是数字") from None
    return out


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
    """Taskwarrior's due ramp: 1.0 at 7+ days overdue, 0.2 at 14+ days ahead, linear between
    (to three decimals). Returns the factor and the days overdue (negative: days still to go)."""
    if not next_date:
        return 0.0, None
    try:
        due = date.fromisoformat(next_date[:10])
    except ValueError:
        return 0.0, None
    overdue = (today - due).days
    # (c + 14) * 0.8 / 21 + 0.2 with c clamped to [-14, 7], in integer thousandths.
    clamped = min(max(overdue, -14), 7)
    return _half_up(1000 * (4 * (clamped + 14) + 21), 105) / 1000, overdue


def _half_up(num: int, den: int) -> int:
    """``num / den`` rounded half up, in integers (both non-negative): SQL computes the same."""
    return (2 * num + den) // (2 * den)


def _hundredths(weight: float) -> int:
    return round(weight * 100)


def score(rec: Mapping[str, Any], weights: Weights, today: date, window_days: int) -> tuple[float, list[Record]]:
    """Priority of one customer and how it was made: a list of {factor, value, weight, x, points}.

    Points are whole hundredths computed in integers, exactly as :func:`_score_sql` computes them
    in SQLite, so the ranking SQL makes and the score shown here can never disagree.
    """
    window = max(window_days, 1)
    parts: list[Record] = []
    status = rec.get("status") or ""
    w = weights.status.get(status, 0.0)
    parts.append({"factor": "status", "value": status, "weight": w, "x": 1.0, "h": _hundredths(w)})
    grade = (rec.get("grade") or "").upper()
    w = weights.grade.get(grade, weights.grade.get("NONE", 0.0)) if grade else weights.grade.get("NONE", 0.0)
    parts.append({"factor": "grade", "value": grade or "none", "weight": w, "x": 1.0, "h": _hundredths(w)})
    days = _days_between(rec.get("last_contact"), today)
    inactive_h = _hundredths(weights.inactive)
    if days is None:
        x, points_h = 1.0, inactive_h
    else:
        capped = min(max(days, 0), 2 * window)
        x, points_h = round(capped / window, 3), _half_up(inactive_h * capped, window)
    parts.append(
        {"factor": "inactive", "value": f"{days}d" if days is not None else None, "weight": weights.inactive,
         "x": x, "h": points_h}
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
    due_h = _half_up(_hundredths(weights.due) * round(x * 1000), 1000)
    parts.append({"factor": "due", "value": value, "weight": weights.due, "x": x, "h": due_h})
    for p in parts:
        p["points"] = p.pop("h") / 100
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
    # Scored and ranked by SQLite over every customer; only the top ``limit`` rows come back.
    # Ties: longest since last contact first (none at all before any), then the higher ID. The
    # score and the last contact's day number share one integer sort key: with many customers
    # tied on score, comparing a second, text key made the sort three times slower.
    score_sql, score_params = _score_sql(weights, today, window_days)
    day_number = f"CAST(julianday(substr({LAST_CONTACT}, 1, 10)) AS INTEGER)"
    sort_key = f"({score_sql}) * 10000000 + coalesce(9999998 - {day_number}, 9999999)"
    # The sort carries only the rowid; the few winners' whole rows are read afterwards (building
    # a full record for each of a million rows made the scan about 10% slower).
    winners = [r[0] for r in conn.execute(
        f"SELECT rowid FROM customers WHERE {where} ORDER BY {sort_key} DESC, id DESC LIMIT ?",
        [*params, *score_params, limit],
    )]
    full = {r[0]: r[1:] for r in conn.execute(
        f"SELECT rowid, {SELECT_COLUMNS}, {LAST_CONTACT} FROM customers WHERE rowid IN ({', '.join('?' * len(winners))})",
        winners,
    )} if winners else {}
    ordered: list[Record] = []
    for rowid in winners:
        rec = dict(zip(cols, full[rowid]))
        rec["score"], rec["explain"] = score(rec, weights, today, window_days)
        rec["days_since_contact"] = _days_between(rec["last_contact"], today)
        ordered.append(rec)
    for rank, rec in enumerate(ordered, start=1):
        rec["rank"] = rank
    return Agenda(due=due_rows, priority=ordered)


def date_to_julian(day: date) -> float:
    """SQLite's julianday() of a date (at midnight)."""
    return day.toordinal() + 1721424.5


def _score_sql(weights: Weights, today: date, window_days: int) -> tuple[str, list[object]]:
    """The priority score of :func:`score`, in hundredths, as an SQL expression with parameters.

    Integer arithmetic only, mirroring score() step by step (``(2a + b) / (2b)`` is _half_up).
    Weights are bound as parameters: status codes and grades come from the shared config. Each
    date difference appears once, since SQLite does not reuse a repeated sub-expression; NULL (no
    date) passes through min/max to the coalesce default.
    """
    window = max(window_days, 1)
    status_cases = " WHEN ? THEN ?" * len(weights.status)
    grade_cases = " WHEN ? THEN ?" * len(weights.grade)
    today_jd = f"{date_to_julian(today)}"
    days = f"CAST({today_jd} - julianday(substr({LAST_CONTACT}, 1, 10)) AS INTEGER)"
    overdue = f"CAST({today_jd} - julianday(substr(next_date, 1, 10)) AS INTEGER)"
    status_h = f"(CASE status{status_cases} ELSE 0 END)" if status_cases else "0"
    grade_h = f"(CASE upper(grade){grade_cases} ELSE ? END)" if grade_cases else "?"
    inactive_h = f"coalesce((2 * ? * min(max({days}, 0), ?) + ?) / (2 * ?), ?)"
    due_milli = f"((2000 * (4 * (min(max({overdue}, -14), 7) + 14) + 21) + 105) / 210)"
    due_h = f"coalesce((2 * ? * {due_milli} + 1000) / 2000, 0)"
    expr = f"({status_h} + {grade_h} + {inactive_h} + {due_h})"
    inactive_w = _hundredths(weights.inactive)
    params: list[object] = [  # in the order of the placeholders in expr
        *(v for code, w in weights.status.items() for v in (code, _hundredths(w))),
        *(v for grade, w in weights.grade.items() for v in (grade, _hundredths(w))),
        _hundredths(weights.grade.get("NONE", 0.0)),
        inactive_w, 2 * window, window, window, inactive_w,
        _hundredths(weights.due),
    ]
    return expr, params
