"""ABC grading: set by hand, or computed by the configured rule (``crm grade --recompute``).

The rule is a shared setting, for example ``amount:A>=500000,B>=100000,C`` (contract amount in
yuan) or ``followups:A>=6,B>=2,C`` (follow-ups in the last 365 days). Thresholds are tried in
order; the last grade, without a threshold, catches the rest.

A grade set by hand (``crm grade ID A``, ``crm edit --grade``, an import) is kept by a recompute
unless ``force``: the audit log tells which grades the rule wrote.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from . import clock, parsing
from .customers import Context, Record, get, update
from .errors import ParseError, UsageError, ValidationError
from .storage import Store

BASES = {"amount": "contract amount in yuan", "followups": "follow-ups in the last 365 days"}
DEFAULT_RULE = "amount:A>=500000,B>=100000,C"
RECOMPUTE_COMMAND = "grade-recompute"


@dataclass(frozen=True)
class Rule:
    basis: str
    steps: tuple[tuple[str, float], ...]  # (grade, minimum), in order
    fallback: str | None

    def grade_for(self, value: float) -> str | None:
        for grade, minimum in self.steps:
            if value >= minimum:
                return grade
        return self.fallback

    def __str__(self) -> str:
        parts = [f"{g}>={_num(m)}" for g, m in self.steps] + ([self.fallback] if self.fallback else [])
        return f"{self.basis}:" + ",".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def parse_rule(text: str) -> Rule:
    basis, sep, rest = text.strip().partition(":")
    basis = basis.strip().lower()
    if not sep or basis not in BASES:
        raise UsageError(
            f"grade rule {text!r}: expected BASIS:GRADE>=N,...,GRADE with BASIS one of "
            + ", ".join(f"{k} ({v})" for k, v in BASES.items())
            + f"; e.g. {DEFAULT_RULE}",
            zh=f"评级规则 {text!r}：应为 依据:等级>=N,…,等级，依据为 "
            + "、".join(BASES)
            + f"；例如 {DEFAULT_RULE}",
        )
    steps: list[tuple[str, float]] = []
    fallback = None
    parts = [p.strip() for p in rest.split(",") if p.strip()]
    if not parts:
        raise UsageError(f"grade rule {text!r} has no grades", zh=f"评级规则 {text!r} 没有等级")
    for i, part in enumerate(parts):
        grade_text, ge, number = part.partition(">=")
        try:
            grade = parsing.parse_grade(grade_text)
        except ParseError:
            raise UsageError(f"grade rule: {grade_text.strip()!r} is not a grade A, B or C",
                             zh=f"评级规则：{grade_text.strip()!r} 不是等级 A、B 或 C") from None
        if not ge:
            if i != len(parts) - 1:
                raise UsageError(f"grade rule: {part!r} has no threshold but is not the last grade",
                                 zh=f"评级规则：{part!r} 没有阈值，但不是最后一个等级")
            fallback = grade
            continue
        try:
            minimum = float(parsing.parse_amount(number) / 100) if basis == "amount" else float(number)
        except (ParseError, ValueError):
            raise UsageError(f"grade rule: {number.strip()!r} is not a number",
                             zh=f"评级规则：{number.strip()!r} 不是数字") from None
        if steps and minimum > steps[-1][1]:
            raise UsageError("grade rule: thresholds must go from the highest to the lowest",
                             zh="评级规则：阈值必须从高到低排列")
        steps.append((grade, minimum))
    return Rule(basis, tuple(steps), fallback)


def check_rule(text: str) -> str:
    return str(parse_rule(text))


def set_grade(store: Store, customer_id: str, grade: str | None, ctx: Context) -> tuple[Record, bool]:
    """Set (or with None/"" clear) a customer's grade by hand. Returns the record and whether it changed."""
    value = None
    if grade and grade.strip():
        try:
            value = parsing.parse_grade(grade)
        except ParseError as exc:
            raise ValidationError("grade", grade, exc.reason) from None
    with store.write() as conn:
        current = get(conn, customer_id)
        changed = update(conn, current, {"grade": value}, ctx)
        return get(conn, current["id"]), bool(changed)


@dataclass
class Change:
    id: str
    name: str
    old: str | None
    new: str | None
    value: float
    kept: bool = False  # a hand-set grade left alone


def _manual(conn: sqlite3.Connection) -> set[str]:
    """Customers whose current grade was not written by the rule."""
    rows = conn.execute(
        "SELECT a.customer_id, a.command FROM audit_log a JOIN ("
        "  SELECT customer_id, max(id) AS id FROM audit_log WHERE field = 'grade' GROUP BY customer_id"
        ") last ON last.id = a.id"
    )
    by_rule = {cid for cid, command in rows if command == RECOMPUTE_COMMAND}
    graded = {r[0] for r in conn.execute("SELECT id FROM customers WHERE grade IS NOT NULL")}
    return graded - by_rule


def recompute(
    store: Store,
    rule: Rule,
    ctx: Context,
    *,
    dry_run: bool = False,
    force: bool = False,
    include_archived: bool = False,
) -> list[Change]:
    """Grade every (current) customer by ``rule``. Returns the changes (also those a hand-set grade
    prevented, flagged ``kept``). With ``dry_run`` nothing is written."""
    ctx.command = RECOMPUTE_COMMAND
    since = (clock.today() - timedelta(days=365)).isoformat()
    where = "" if include_archived else "WHERE c.archived = 0"
    if rule.basis == "amount":
        sql = f"SELECT c.id, c.name, c.grade, coalesce(c.amount, 0) / 100.0 FROM customers c {where} ORDER BY c.id"
        params: list[object] = []
    else:
        sql = (
            "SELECT c.id, c.name, c.grade, (SELECT count(*) FROM followups f WHERE f.customer_id = c.id "
            f"AND f.date >= ?) FROM customers c {where} ORDER BY c.id"
        )
        params = [since]
    changes: list[Change] = []
    import contextlib

    scope = contextlib.nullcontext(store.conn) if dry_run else store.write()
    with scope as conn:
        manual = set() if force else _manual(conn)
        for cid, name, old, value in conn.execute(sql, params).fetchall():
            new = rule.grade_for(float(value))
            if new == old:
                continue
            change = Change(cid, name, old, new, float(value), kept=cid in manual)
            changes.append(change)
            if dry_run or change.kept:
                continue
            update(conn, get(conn, cid), {"grade": new}, ctx)
    return changes
