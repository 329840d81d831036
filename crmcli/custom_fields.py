"""Custom fields: the seed's quarterly template changes (客户满意度评分, 复购率, …).

A custom field is a row in ``custom_fields`` (key, type, both labels, position, retired) and a
real column of ``customers`` named by its key, added with ``ALTER TABLE … ADD COLUMN`` so
``sqlite3`` and Datasette users see it like any other. A ``choice`` field keeps its option list in
``options`` under ``field = KEY``, maintained with ``crm options`` like the built-in dropdowns.

:func:`load` puts the database's custom fields into :mod:`crmcli.fields` (``BY_KEY``,
``all_fields()``); from then on validation (``customers.clean_value``), listing, sorting,
filtering, display and reports treat them like built-in fields. Retiring a field keeps its column
and values (readable, filterable, reportable) but refuses new values.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import clock, fields, search_index
from .errors import Conflict, NotFound, ParseError, UsageError, ValidationError
from .fields import Field, header_key
from .options import CODE_RE
from .storage import Store

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
TYPES = ("text", "integer", "decimal", "date", "choice")
SQL_TYPES = {"text": "TEXT", "integer": "INTEGER", "decimal": "REAL", "date": "TEXT", "choice": "TEXT"}
TEXT_MAX_LEN = 2000
SQL_KEYWORDS = frozenset(
    """abort action add after all alter always analyze and as asc attach autoincrement before begin
    between by cascade case cast check collate column commit conflict constraint create cross current
    current_date current_time current_timestamp database default deferrable deferred delete desc detach
    distinct do drop each else end escape except exclude exclusive exists explain fail filter first
    following for foreign from full generated glob group groups having if ignore immediate in index
    indexed initially inner insert instead intersect into is isnull join key last left like limit match
    materialized natural no not nothing notnull null nulls of offset on or order others outer over
    partition plan pragma preceding primary query raise range recursive references regexp reindex
    release rename replace restrict returning right rollback row rows savepoint select set table temp
    temporary then ties to transaction trigger unbounded union unique update using vacuum values view
    virtual when where window with without true false""".split()  # noqa: SIM905  (readable as a paragraph)
)
"""SQLite's keywords (https://sqlite.org/lang_keywords.html) and PostgreSQL's true/false: a column
named by one works only when quoted everywhere, in crm and in every user's own SQL."""
RESERVED = frozenset(
    {
        # report and JSON keys crm itself uses next to field keys
        "label", "total", "count", "share", "month", "first_contact_month", "last_contact", "days_inactive",
        # SQLite's names for the row id
        "rowid", "oid", "_rowid_",
    }
) | SQL_KEYWORDS  # fmt: skip


@dataclass(frozen=True)
class CustomField:
    key: str
    type: str
    label_zh: str
    label_en: str
    position: int
    retired: bool
    created_at: str

    def as_field(self) -> Field:
        return Field(
            self.key,
            self.label_zh,
            self.label_en,
            self.type,  # type: ignore[arg-type]
            max_len=TEXT_MAX_LEN if self.type == "text" else None,
            editable=not self.retired,
            custom=True,
        )


def _rows(conn: sqlite3.Connection) -> list[CustomField]:
    try:
        rows = conn.execute(
            "SELECT key, type, label_zh, label_en, position, retired, created_at FROM custom_fields ORDER BY position, key"
        ).fetchall()
    except sqlite3.OperationalError:  # a database from before custom fields (opened without migrating)
        return []
    return [CustomField(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]


def list_fields(conn: sqlite3.Connection, *, retired: bool = True) -> list[CustomField]:
    return [f for f in _rows(conn) if retired or not f.retired]


def load(conn: sqlite3.Connection) -> tuple[Field, ...]:
    """Make this database's custom fields known to :mod:`crmcli.fields` (replacing those of any
    database loaded before). Returns them."""
    specs = tuple(f.as_field() for f in _rows(conn))
    fields.set_custom(specs, owner=conn)
    return specs


def get(conn: sqlite3.Connection, key: str) -> CustomField:
    name = key.strip().replace("-", "_")
    for f in _rows(conn):
        if f.key == name:
            return f
    raise NotFound(f"no custom field {key!r}", zh=f"没有自定义字段 {key!r}")


def _table_columns(conn: sqlite3.Connection) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA table_info(customers)")}


def check_key(conn: sqlite3.Connection, key: str) -> str:
    """A new field's key: well-formed, not a reserved word, not a field, column or JSON key of
    crm's own (``KEY_label`` is the label of the dropdown ``KEY``)."""
    if not KEY_RE.match(key):
        raise ValidationError("key", key, "field_key")
    if key in RESERVED or key.endswith("_label"):
        raise UsageError(
            f"{key!r} is a reserved word; choose another key", zh=f"{key!r} 是保留字；请换一个字段键"
        )
    taken = {f.key for f in fields.FIELDS} | _table_columns(conn)
    if key in taken:
        raise Conflict(
            f"{key!r} is already a field or column of customers; choose another key",
            zh=f"{key!r} 已是 customers 的字段或列；请换一个字段键",
        )
    # The key is also an import header: it must not be another field's spelling there
    # (customer_name would capture the "Customer name" column of the built-in name).
    owner = _builtin_aliases().get(header_key(key))
    if owner is None:
        owner = next(
            (o.key for o in _rows(conn) if header_key(key) in (header_key(o.label_zh), header_key(o.label_en))), None
        )
    if owner is not None:
        raise Conflict(
            f"{key!r} already names the field {owner!r} as an import header; choose another key",
            zh=f"{key!r} 在导入表头中已表示字段 {owner!r}；请换一个字段键",
        )
    return key


def quote(identifier: str) -> str:
    """An SQL identifier in double quotes (keys are checked by KEY_RE, so never contain one)."""
    return '"' + identifier.replace('"', '""') + '"'



def _check_label(conn: sqlite3.Connection, label: str, name: str, own_key: str | None = None) -> str:
    text = label.strip()
    if not text:
        raise ValidationError(name, label, "empty")
    if len(text) > 50:
        raise ValidationError(name, label, "too_long", details={"max_len": 50})
    # Import matches headers by key or label: a label must not point at another field.
    owner = _builtin_aliases().get(header_key(text))
    if owner is not None and owner != own_key:
        raise Conflict(f"the label {text!r} already names the field {owner!r}", zh=f"标签 {text!r} 已是字段 {owner!r} 的名称")
    for other in _rows(conn):
        if other.key != own_key and header_key(text) in (header_key(other.label_zh), header_key(other.label_en)):
            raise Conflict(
                f"the label {text!r} already names the field {other.key!r}", zh=f"标签 {text!r} 已是字段 {other.key!r} 的名称"
            )
    return text


def _builtin_aliases() -> dict[str, str]:
    return {header_key(spelling): f.key for f in fields.FIELDS for spelling in (f.key, f.zh, f.en, f.flag)}


def parse_choices(spec: str) -> list[tuple[str, str, str]]:
    """``gold:金牌:Gold,silver:银牌:Silver`` -> [(code, label_zh, label_en), …]."""
    out: list[tuple[str, str, str]] = []
    for part in spec.replace("，", ",").split(","):
        if not part.strip():
            continue
        bits = [b.strip() for b in part.replace("：", ":").split(":")]
        if len(bits) != 3 or not all(bits):
            raise UsageError(
                f"--choices expects CODE:中文:English items separated by commas, not {part.strip()!r}",
                zh=f"--choices 应为以逗号分隔的 代码:中文:English 项，而不是 {part.strip()!r}",
            )
        if not CODE_RE.match(bits[0]):
            raise ValidationError("code", bits[0], "option_code")
        out.append((bits[0], bits[1], bits[2]))
    seen: dict[str, str] = {}
    for code, zh, en in out:
        for spelling in {code, zh.casefold(), en.casefold()}:
            if spelling in seen:
                raise UsageError(
                    f"--choices: {spelling!r} names both {seen[spelling]!r} and {code!r}",
                    zh=f"--choices：{spelling!r} 同时是 {seen[spelling]!r} 和 {code!r} 的名称",
                )
            seen[spelling] = code
    return out


def add(
    store: Store,
    key: str,
    type_: str,
    label_zh: str,
    label_en: str,
    choices: list[tuple[str, str, str]] | None = None,
) -> CustomField:
    """Create the field: its row, its column (and for a choice field its option list), in one
    transaction."""
    key = key.strip()
    type_ = type_.strip().lower()
    if type_ not in TYPES:
        raise ValidationError("type", type_, "option_unknown", details={"allowed": ", ".join(TYPES)})
    if type_ == "choice" and not choices:
        raise UsageError(
            "a choice field needs its options: --choices CODE:中文:English,…",
            zh="选项字段需要给出选项：--choices 代码:中文:English,…",
        )
    if type_ != "choice" and choices:
        raise UsageError("--choices is only for --type choice", zh="--choices 只用于 --type choice")
    with store.write() as conn:
        check_key(conn, key)
        zh = _check_label(conn, label_zh, "label_zh")
        en = _check_label(conn, label_en, "label_en")
        position = 1 + (conn.execute("SELECT max(position) FROM custom_fields").fetchone()[0] or 0)
        stamp = clock.now_utc()
        conn.execute(
            "INSERT INTO custom_fields (key, type, label_zh, label_en, position, retired, created_at) "
            "VALUES (?, ?, ?, ?, ?, 0, ?)",
            (key, type_, zh, en, position, stamp),
        )
        # The key passed KEY_RE and is not a column yet: safe to put into the statement.
        conn.execute(f"ALTER TABLE customers ADD COLUMN {quote(key)} {SQL_TYPES[type_]}")
        if type_ == "text" and search_index.exists(conn):
            search_index.install_triggers(conn)  # the new column is NULL everywhere: nothing to re-index
        if type_ in ("choice", "date", "integer", "decimal"):
            conn.execute(f"CREATE INDEX {quote('idx_customers_' + key)} ON customers ({quote(key)})")
        for pos, (code, czh, cen) in enumerate(choices or []):
            conn.execute(
                "INSERT INTO options (field, code, label_zh, label_en, position, retired) VALUES (?, ?, ?, ?, ?, 0)",
                (key, code, czh, cen, pos),
            )
    load(store.conn)
    return get(store.conn, key)


def rename(store: Store, key: str, *, label_zh: str | None = None, label_en: str | None = None) -> CustomField:
    """Change the labels. The key, the column and the values stay."""
    if label_zh is None and label_en is None:
        raise UsageError("give --label-zh and/or --label-en", zh="请给出 --label-zh 和/或 --label-en")
    with store.write() as conn:
        current = get(conn, key)
        zh = _check_label(conn, label_zh, "label_zh", current.key) if label_zh is not None else current.label_zh
        en = _check_label(conn, label_en, "label_en", current.key) if label_en is not None else current.label_en
        conn.execute("UPDATE custom_fields SET label_zh = ?, label_en = ? WHERE key = ?", (zh, en, current.key))
    load(store.conn)
    return get(store.conn, key)


def set_retired(store: Store, key: str, retired: bool = True) -> CustomField:
    """Retire (or bring back) a field: its values stay readable everywhere; new values are refused."""
    with store.write() as conn:
        current = get(conn, key)
        conn.execute("UPDATE custom_fields SET retired = ? WHERE key = ?", (int(retired), current.key))
    load(store.conn)
    return get(store.conn, key)


_DECIMAL_RE = re.compile(r"[-+]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|[-+]?\.[0-9]+", re.ASCII)


def parse_decimal(text: str) -> float:
    """A decimal number (``3.5``, ``-0.25``, ``1,234.5``; full-width digits too), stored as REAL."""
    from .parsing import normalize_width

    value = normalize_width(text).strip()
    if not _DECIMAL_RE.fullmatch(value):
        raise ParseError("decimal_format")
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ParseError("decimal_format") from None
    if abs(number) >= Decimal(10) ** 15:
        raise ParseError("decimal_format")
    return float(number)


def parse_integer(text: str) -> int:
    from .parsing import parse_int_range

    return parse_int_range(text.replace(",", ""), -(10**15), 10**15)
