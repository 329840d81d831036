"""Listing and searching customers. Field names from users are checked against the known fields:
SQL is only ever built from our own column names, values always go in as parameters."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .customers import Record, columns
from .errors import ValidationError
from .fields import BY_KEY, CHOICE_FIELDS, is_choice
from .options import OptionSet


@dataclass
class Filters:
    """Every filter ``crm list`` (and export, stale, reports) understands."""

    choices: dict[str, list[str]] = field(default_factory=dict)  # field -> allowed codes
    owner: list[str] = field(default_factory=list)
    grade: list[str] = field(default_factory=list)
    first_contact_from: str | None = None
    first_contact_to: str | None = None
    last_followup_from: str | None = None
    last_followup_to: str | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    text: str | None = None
    tags: list[str] = field(default_factory=list)
    """``--tag``: customers carrying any of these tags."""
    archived: str = "exclude"  # exclude | only | all
    conditions: list[tuple[str, str, object]] = field(default_factory=list)
    """``--where``: (field key, operator, stored value); operators ``= != >= <= ~ in``; any field,
    custom ones included. ``=``/``!=`` with None test for empty."""
    reveal = False
    """Set (not a field, so never saved with a view) by a command that shows phones unmasked under
    ``--reveal``, which it audits: only then may a condition match part of a phone (see
    :func:`condition_sql`)."""

    def where(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        for key, values in self.choices.items():
            if key not in CHOICE_FIELDS and not is_choice(key):
                raise ValidationError("filter", key, "unknown_field", details={"fields": ", ".join(CHOICE_FIELDS)})
            if values:
                clauses.append(f"{key} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        for key, values in (("owner", self.owner), ("grade", self.grade)):
            if values:
                clauses.append(f"{key} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        ranges = (
            ("first_contact", ">=", self.first_contact_from),
            ("first_contact", "<=", self.first_contact_to),
            ("last_followup", ">=", self.last_followup_from),
            ("last_followup", "<=", self.last_followup_to),
            ("amount", ">=", self.amount_min),
            ("amount", "<=", self.amount_max),
        )
        for column, op, value in ranges:
            if value is not None:
                clauses.append(f"{column} {op} ?")
                params.append(value)
        if self.tags:
            clauses.append(f"id IN (SELECT customer_id FROM tags WHERE tag IN ({', '.join('?' * len(self.tags))}))")
            params.extend(self.tags)
        if self.text:
            clause, text_params = text_match(self.text)
            clauses.append(clause)
            params.extend(text_params)
        for key, op, value in self.conditions:
            clause, values = condition_sql(key, op, value, reveal=self.reveal)
            clauses.append(clause)
            params.extend(values)
        if self.archived == "exclude":
            clauses.append("archived = 0")
        elif self.archived == "only":
            clauses.append("archived = 1")
        return (" AND ".join(clauses) or "1"), params


CONDITION_OPS = ("=", "!=", ">=", "<=", "~", "in")


MASKED_PARTIAL_OPS = (">=", "<=", "~")
"""Operators that match part of a value: on a masked field, 80 of them recover a number digit by
digit (``phone~1391``, ``phone~1392``…, or bisecting with ``>=``), so they need ``--reveal``."""


def condition_sql(key: str, op: str, value: object, *, reveal: bool = False) -> tuple[str, list[object]]:
    """SQL for one ``--where`` condition; the column name is checked against the known fields.

    A phone-kind field (masked in every output) takes only exact conditions unless ``reveal``:
    ``phone=NUMBER`` compares the duplicate key (so ``+86 138-1234-5678`` finds ``13812345678``),
    ``phone=`` / ``phone!=`` test for empty; a partial match is refused (exit 2), since it would
    reveal the digits the mask hides.
    """
    if key not in BY_KEY or key not in columns():
        raise ValidationError("where", key, "unknown_field", details={"fields": ", ".join(columns())})
    if BY_KEY[key].kind == "phone":
        if op in MASKED_PARTIAL_OPS and not reveal:
            raise ValidationError("where", f"{key}{op}…", "masked_partial", details={"field": key})
        if key == "phone" and op in ("=", "!=") and value is not None:
            from .parsing import phone_key

            if op == "=":
                return "phone_key = ?", [phone_key(str(value))]
            return "(phone_key IS NULL OR phone_key != ?)", [phone_key(str(value))]
    if op == "=":
        return (f"{key} IS NULL", []) if value is None else (f"{key} = ?", [value])
    if op == "!=":
        return (f"{key} IS NOT NULL", []) if value is None else (f"({key} IS NULL OR {key} != ?)", [value])
    if op in (">=", "<="):
        return f"{key} {op} ?", [value]
    if op == "~":
        return f"{key} LIKE ? ESCAPE '\\'", [like_pattern(str(value))]
    if op == "in" and isinstance(value, (list, tuple)) and value:
        return f"{key} IN ({', '.join('?' * len(value))})", list(value)
    raise ValidationError("where", op, "option_unknown", details={"allowed": " ".join(CONDITION_OPS)})


def parse_condition(text: str, options: OptionSet) -> tuple[str, str, object]:
    """``score>=4``, ``level=gold,silver``, ``notes~价格``, ``email=`` (empty), ``email!=`` (not empty):
    one ``--where`` condition on any field, custom ones included, its value checked and stored
    like ``crm edit`` would (codes, ISO dates, fen)."""
    import re

    from .customers import clean_value

    match = re.fullmatch(r"\s*([A-Za-z][\w-]*)\s*(>=|<=|!=|=|~)(.*)", text, re.DOTALL)
    if match is None:
        raise ValidationError("where", text, "where_format")
    key, op, raw = match.group(1).replace("-", "_").lower(), match.group(2), match.group(3).strip()
    spec = BY_KEY.get(key)
    if spec is None or key not in columns():
        raise ValidationError("where", key, "unknown_field", details={"fields": ", ".join(columns())})
    if op == "~" or (spec.kind == "phone" and op in MASKED_PARTIAL_OPS):
        return key, op, raw  # a bound on a phone is no phone: compared as typed (and needs --reveal)
    if raw == "":
        if op in ("=", "!="):
            return key, op, None
        raise ValidationError(key, raw, "empty")

    def stored(value: str) -> object:
        if not spec.editable and not spec.custom:
            return value  # bookkeeping columns (created_at, version, …): compared as given
        return clean_value(key, value, options, allow_retired=True)

    if spec.kind == "choice" and "," in raw:
        values = [stored(v.strip()) for v in raw.split(",") if v.strip()]
        if op == "=":
            return key, "in", values
    return key, op, stored(raw)


SEARCH_COLUMNS = ("id", "name", "contact", "title", "needs", "notes", "followup", "next_step", "product", "address")
FOLLOWUP_SEARCH_COLUMNS = ("content", "result", "next_step")
CONTACT_SEARCH_COLUMNS = ("name", "title", "email")
"""Search also finds a customer by its tags and by its other contacts (not by their phones: a
search for digits would reveal whose masked number matches)."""


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_match(text: str) -> tuple[str, list[object]]:
    """Substring match over the customer's text, its follow-ups, tags and contacts. LIKE rather than FTS:
    a two-character Chinese word (采购) is below the trigram tokenizer's length.

    The phone is masked, so it is never matched in part (that would be an oracle for its hidden
    digits); a text that is a whole phone number finds its customer by the duplicate key."""
    pattern = like_pattern(text.strip())
    own = " OR ".join(f"{col} LIKE ? ESCAPE '\\'" for col in SEARCH_COLUMNS)
    theirs = " OR ".join(f"f.{col} LIKE ? ESCAPE '\\'" for col in FOLLOWUP_SEARCH_COLUMNS)
    people = " OR ".join(f"c.{col} LIKE ? ESCAPE '\\'" for col in CONTACT_SEARCH_COLUMNS)
    params: list[object] = [pattern] * len(SEARCH_COLUMNS)
    key = _whole_phone_key(text)
    if key:
        own += " OR phone_key = ?"
        params.append(key)
    clause = (
        f"(({own}) OR id IN (SELECT f.customer_id FROM followups f WHERE {theirs})"
        f" OR id IN (SELECT t.customer_id FROM tags t WHERE t.tag LIKE ? ESCAPE '\\')"
        f" OR id IN (SELECT c.customer_id FROM contacts c WHERE {people}))"
    )
    params += [pattern] * (len(FOLLOWUP_SEARCH_COLUMNS) + 1 + len(CONTACT_SEARCH_COLUMNS))
    return clause, params


def _whole_phone_key(text: str) -> str | None:
    """The duplicate key of ``text`` when it is a whole, valid phone number (else None)."""
    from .errors import ParseError
    from .parsing import parse_phone, phone_key

    stripped = text.strip()
    if not stripped or len(stripped) > 64 or sum(c.isdigit() for c in stripped) < 7:
        return None
    try:
        return phone_key(parse_phone(stripped)) or None
    except ParseError:
        return None


def parse_sort(spec: Sequence[str]) -> list[tuple[str, bool]]:
    """``["-amount", "name"]`` or ``["amount:desc"]`` -> [(column, descending)], checked."""
    order: list[tuple[str, bool]] = []
    for item in spec:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            desc = part.startswith("-") or part.lower().endswith(":desc")
            key = part.lstrip("-+").split(":")[0].replace("-", "_")
            if key not in BY_KEY or key not in columns():
                raise ValidationError("sort", part, "unknown_field", details={"fields": ", ".join(BY_KEY)})
            order.append((key, desc))
    return order


def order_by(order: list[tuple[str, bool]], *, reveal: bool = False) -> str:
    """``ORDER BY`` for ``order``. Sorting by a masked phone needs ``reveal``: with probe customers
    of known numbers, where a customer sorts between them spells out its hidden digits."""
    if not order:
        return "ORDER BY id"
    terms = []
    for key, desc in order:
        if BY_KEY[key].kind == "phone" and not reveal:
            raise ValidationError("sort", key, "masked_partial", details={"field": key})
        if BY_KEY[key].kind == "choice":
            # Dropdowns sort in their list's order (the pipeline for status), not alphabetically.
            expr = f"(SELECT position FROM options WHERE field = '{key}' AND code = customers.{key})"
        else:
            expr = key
        # Empty values last in both directions: a missing amount is not the smallest one.
        terms.append(f"{expr} IS NULL, {expr} {'DESC' if desc else 'ASC'}")
    return "ORDER BY " + ", ".join(terms) + ", id"


def select_sql(
    select_list: str, filters: Filters, order: list[tuple[str, bool]] | None = None, limit: int | None = None
) -> tuple[str, list[object]]:
    """The listing query: ``select_list`` over the customers ``filters`` keep, in ``order``."""
    where, params = filters.where()
    sql = f"SELECT {select_list} FROM customers WHERE {where} {order_by(order or [], reveal=filters.reveal)}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def select(
    conn: sqlite3.Connection,
    filters: Filters,
    order: list[tuple[str, bool]] | None = None,
    limit: int | None = None,
) -> Iterator[Record]:
    """Stream matching customers (a cursor, not a list: exports of any size stay flat in memory)."""
    cols = columns(conn)
    sql, params = select_sql(", ".join(cols), filters, order, limit)
    for row in conn.execute(sql, params):
        yield dict(zip(cols, row))


def select_json(
    conn: sqlite3.Connection,
    filters: Filters,
    order: list[tuple[str, bool]] | None,
    limit: int | None,
    *,
    keys: list[str],
    lang: str,
    reveal: bool,
) -> Iterator[str]:
    """The customers :func:`select` finds, each as JSON text built by SQLite (see jsonsql)."""
    for _, obj in select_json_with_ids(conn, filters, order, limit, keys=keys, lang=lang, reveal=reveal):
        yield obj


def select_json_with_ids(
    conn: sqlite3.Connection,
    filters: Filters,
    order: list[tuple[str, bool]] | None,
    limit: int | None,
    *,
    keys: list[str],
    lang: str,
    reveal: bool,
) -> Iterator[tuple[str, str]]:
    """(id, JSON text) of each customer :func:`select_json` finds: a reveal records the IDs of
    exactly the objects it shows, whichever columns they hold."""
    from . import jsonsql

    jsonsql.register_functions(conn)
    sql, params = select_sql("customers.id, " + jsonsql.customer_object(keys, lang, reveal), filters, order, limit)
    yield from conn.execute(sql, params)


def count(conn: sqlite3.Connection, filters: Filters) -> int:
    where, params = filters.where()
    return conn.execute(f"SELECT count(*) FROM customers WHERE {where}", params).fetchone()[0]
