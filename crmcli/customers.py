"""Customer records: validation, add, show, edit, delete."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import clock, config, ids, parsing, phones, textsafe
from .errors import Conflict, DuplicateValue, NotFound, ParseError, UsageError, ValidationError
from .fields import BY_KEY, FIELDS, REQUIRED, SEED_KEYS
from .options import OptionSet
from .storage import Store

Record = dict[str, Any]
COLUMNS: tuple[str, ...] = tuple(f.key for f in FIELDS) + ("archived_at",)
SELECT_COLUMNS = ", ".join(COLUMNS)
PORTABLE_COLUMNS: tuple[str, ...] = (
    *SEED_KEYS, "grade", "next_date", "archived", "archived_at", "created_at", "updated_at", "version",
)
"""What a customer carries from one database to another: export writes these, import reads them."""


def columns(conn: sqlite3.Connection | None = None) -> tuple[str, ...]:
    """COLUMNS plus the custom fields' columns (``conn``: make sure they are this database's)."""
    from .fields import custom_keys, sync

    if conn is not None:
        sync(conn)
    extra = custom_keys()
    return COLUMNS + extra if extra else COLUMNS


class MissingFields(UsageError):
    def __init__(self, missing: list[str]) -> None:
        super().__init__("missing required fields: " + ", ".join(missing), zh="缺少必填字段：" + "、".join(missing))
        self.missing = missing


class InvalidFields(UsageError):
    """Every value ``crm add`` refused, and every required field it lacks, at once: a user fixes
    them in one go instead of meeting one error per attempt."""

    def __init__(self, errors: list[ValidationError], missing: list[str]) -> None:
        parts = [str(e) for e in errors]
        if missing:
            parts.append("missing required fields: " + ", ".join(missing))
        super().__init__("; ".join(parts))
        self.errors = errors
        self.missing = missing


NAME_KEYS = frozenset({"name", "contact"})


def clean_value(
    key: str, raw: object, options: OptionSet, *, allow_retired: bool = False, region: str | None = None
) -> object:
    """Turn one user-supplied value into its stored form, or raise ValidationError naming it.

    ``region``: of phones written without a country code (:func:`crmcli.phones.default_region`;
    None: that function without a database, i.e. ``$CRM_PHONE_REGION`` or CN)."""
    spec = BY_KEY.get(key)
    if spec is None:
        raise ValidationError(key, raw, "unknown_field", details={"fields": ", ".join(BY_KEY)})
    if spec.custom and not spec.editable and not allow_retired:
        raise ValidationError(key, raw, "field_retired")
    if raw is None:
        return None
    text = str(raw).strip()
    if key in NAME_KEYS:
        text = parsing.normalize_name(text)  # so that search finds "徐  清" as 徐清
    if text == "":
        return None
    try:
        # Escape codes and bidi overrides would reach the terminal of whoever lists this customer.
        textsafe.check(text, multiline=spec.kind == "longtext")
        if spec.required:
            parsing.check_not_placeholder(text)
        if spec.kind == "choice":
            return options.resolve(key, text, allow_retired=allow_retired)
        if spec.kind == "phone":
            if "*" in text:
                raise ParseError("masked_phone")
            value: object = phones.parse_phone(text, region or phones.default_region())
        elif spec.kind == "email":
            value = parsing.parse_email(text)
        elif spec.kind == "date":
            value = parsing.parse_date(text).isoformat()
        elif spec.kind == "amount":
            value = parsing.parse_amount(text)
        elif spec.kind == "grade":
            value = parsing.parse_grade(text)
        elif spec.kind == "id":
            value = ids.check_explicit(text)
        elif spec.custom and spec.kind in ("integer", "decimal"):
            from .custom_fields import parse_decimal, parse_integer

            value = parse_integer(text) if spec.kind == "integer" else parse_decimal(text)
        elif spec.editable or spec.custom:
            value = text
        else:
            raise ValidationError(key, raw, "not_editable")
    except ParseError as exc:
        raise ValidationError(key, raw, exc.reason, details=dict(exc.details)) from None
    if spec.max_len and isinstance(value, str) and len(value) > spec.max_len:
        raise ValidationError(key, raw, "too_long", details={"max_len": spec.max_len})
    return value


def clean(
    raw: Mapping[str, object], options: OptionSet, *, allow_retired: bool = False, region: str | None = None
) -> Record:
    return {
        key: clean_value(key, value, options, allow_retired=allow_retired, region=region) for key, value in raw.items()
    }


def clean_all(
    raw: Mapping[str, object], options: OptionSet, *, region: str | None = None
) -> tuple[Record, list[ValidationError]]:
    """Like :func:`clean`, but collects every refused value instead of stopping at the first."""
    cleaned: Record = {}
    errors: list[ValidationError] = []
    for key, value in raw.items():
        try:
            cleaned[key] = clean_value(key, value, options, region=region)
        except ValidationError as exc:
            errors.append(exc)
    return cleaned, errors


def _region(store: Store, raw: Mapping[str, object]) -> str:
    # Resolved only when a phone is given: a configured region other than CN imports phonenumbers.
    return phones.default_region(store) if raw.get("phone") else phones.DEFAULT_REGION


@dataclass
class Context:
    """Who is acting and with which settings; read once per command."""

    user: str
    prefix: str
    command: str = "add"
    batch_id: int | None = None
    change_id: int | None = None
    """The ``changes`` row this command's audit rows belong to (one undoable unit; see changes.py)."""
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, store: Store, command: str) -> Context:
        settings = config.all_values(store)
        return cls(
            user=clock.current_user(), prefix=settings["id-prefix"], command=command
        )


def defaults(ctx: Context) -> Record:
    """Values a new customer gets when not given: today's first contact, the user as owner."""
    values: Record = {"first_contact": clock.today().isoformat(), "status": "potential"}
    if ctx.user:
        values["owner"] = ctx.user
    return values


def missing_required(values: Mapping[str, object]) -> list[str]:
    return [key for key in REQUIRED if values.get(key) in (None, "")]


def add(store: Store, raw: Mapping[str, object], ctx: Context, options: OptionSet) -> Record:
    """Validate and insert one customer; returns the stored record."""
    columns(store.conn)  # this database's custom fields are known to clean_value
    cleaned, errors = clean_all(raw, options, region=_region(store, raw))
    values = {**defaults(ctx), **{k: v for k, v in cleaned.items() if v is not None}}
    # A refused value is not "missing": it is reported as refused, once.
    missing = [k for k in missing_required(values) if k not in {e.field for e in errors}]
    if errors:
        raise InvalidFields(errors, missing)
    if missing:
        raise MissingFields(missing)
    with store.write() as conn:
        record = insert(conn, values, ctx)
    return record


def insert(conn: sqlite3.Connection, values: Record, ctx: Context) -> Record:
    """Insert a cleaned record inside the caller's transaction; generates the ID if absent."""
    stamp = clock.now_utc()
    record = dict(values)
    explicit = record.get("id")
    if explicit:
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (explicit,)).fetchone():
            raise DuplicateValue("id", explicit, "id_exists")
        if conn.execute("SELECT 1 FROM trash_customers WHERE id = ?", (explicit,)).fetchone():
            raise ValidationError("id", explicit, "id_in_trash")
        ids.note_explicit(conn, str(explicit))
    else:
        record["id"] = ids.next_id(conn, ctx.prefix, int(stamp[:4]))
    record.update(created_at=stamp, updated_at=stamp, version=1, archived=0)
    phone = record.get("phone")
    record["phone_key"] = phones.phone_key(str(phone)) if phone else None
    _warn_duplicates(conn, record, ctx)
    keys = [k for k in record if record[k] is not None]
    conn.execute(
        f"INSERT INTO customers ({', '.join(_q(k) for k in keys)}) VALUES ({', '.join('?' * len(keys))})",
        [record[k] for k in keys],
    )
    _audit(conn, record["id"], ctx, "*", None, "created", stamp)
    if record.get("status"):
        log_status(conn, record["id"], None, record["status"], ctx, None, stamp)
    return {key: record.get(key) for key in columns()}


def email_key(email: str) -> str:
    """What e-mail duplicates are compared by: the address with ASCII letters lower-cased, as
    SQLite's ``lower()`` does (the index ``idx_customers_email_lower`` is on that)."""
    return email.lower() if email.isascii() else "".join(c.lower() if c.isascii() else c for c in email)


EMAIL_MATCH = "lower(email)"
"""The SQL expression e-mail duplicates are matched on (indexed by migration 011)."""


def _warn_duplicates(conn: sqlite3.Connection, record: Record, ctx: Context) -> None:
    email = record.get("email")
    checks = (("phone_key", record.get("phone_key")), (EMAIL_MATCH, email_key(email) if email else None))
    for column, value in checks:
        if not value:
            continue
        other = conn.execute(
            f"SELECT id FROM customers WHERE {column} = ? AND id != ? LIMIT 1", (value, record["id"])
        ).fetchone()
        if other:
            name = "phone" if column == "phone_key" else "email"
            ctx.warnings.append(f"{other[0]} has the same {name}")


def get(conn: sqlite3.Connection, customer_id: str) -> Record:
    cols = columns(conn)
    select = ", ".join(_q(c) for c in cols)
    row = conn.execute(f"SELECT {select} FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None and customer_id != customer_id.upper():
        row = conn.execute(f"SELECT {select} FROM customers WHERE id = ?", (customer_id.upper(),)).fetchone()
    if row is None:
        raise NotFound(f"no customer {customer_id}", zh=f"没有客户 {customer_id}")
    return dict(zip(cols, row))


def edit(
    store: Store,
    customer_id: str,
    raw: Mapping[str, object],
    ctx: Context,
    options: OptionSet,
    *,
    expected_version: int | None = None,
) -> tuple[Record, list[str]]:
    """Change the given fields. Returns the new record and the keys that really changed.

    With ``expected_version`` the save is refused (Conflict) when someone changed the customer
    since that version was read: no lost updates.
    """
    if "id" in raw:
        raise ValidationError("id", raw["id"], "not_editable")
    columns(store.conn)  # this database's custom fields are known to clean_value
    values = clean(raw, options, allow_retired=True, region=_region(store, raw))
    with store.write() as conn:
        current = get(conn, customer_id)
        check_edit(current, values, options)
        if expected_version is not None and current["version"] != expected_version:
            theirs = [k for k, v in values.items() if current[k] != v]
            raise Conflict(
                f"{current['id']} was changed by someone else (version {expected_version} → "
                f"{current['version']}); your changes to {', '.join(theirs) or 'it'} were not saved",
                zh=f"{current['id']} 已被他人修改（版本 {expected_version} → {current['version']}）；"
                f"你对{'、'.join(theirs) or '它'}的修改没有保存",
            )
        from . import changes

        changes.start(conn, ctx, "edit", f"edit {current['id']}")
        changed = update(conn, current, values, ctx)
        changes.drop_if_empty(conn, ctx)
        record = get(conn, current["id"])
    return record, changed


def check_edit(current: Record, values: Record, options: OptionSet) -> None:
    """What an edit may not do to ``current`` beyond what clean_value checks (``crm edit`` of one
    customer or of many: one rule set)."""
    for key, value in values.items():
        # A retired option may stay on a record, but not be newly chosen.
        if BY_KEY[key].kind == "choice" and value is not None and value != current[key]:
            options.resolve(key, str(value))
        # A retired custom field keeps its values but takes no new ones.
        if BY_KEY[key].custom and not BY_KEY[key].editable and value != current[key]:
            raise ValidationError(key, value, "field_retired")
    if "last_followup" in values:
        from .followups import check_edit_last_followup  # followups builds on this module

        check_edit_last_followup(current["last_followup"], values["last_followup"])


def update(conn: sqlite3.Connection, current: Record, values: Record, ctx: Context) -> list[str]:
    """Apply ``values`` to ``current`` inside the caller's transaction; audit every change."""
    changed = [k for k, v in values.items() if current.get(k) != v]
    merged = {**current, **values}
    missing = [k for k in missing_required(merged) if k in changed]
    if missing:
        raise ValidationError(missing[0], "", "required")
    if not changed:
        return []
    stamp = clock.now_utc()
    assignments = {key: values[key] for key in changed}
    if "phone" in changed:
        phone = values["phone"]
        assignments["phone_key"] = phones.phone_key(str(phone)) if phone else None
    sets = ", ".join(f"{_q(key)} = ?" for key in assignments)
    conn.execute(
        f"UPDATE customers SET {sets}, updated_at = ?, version = version + 1 WHERE id = ?",
        [*assignments.values(), stamp, current["id"]],
    )
    for key in changed:
        if key == "status":
            log_status(conn, current["id"], current["status"], values["status"], ctx, None, stamp)
        _audit(conn, current["id"], ctx, key, current.get(key), values[key], stamp)
    return changed


def _q(column: str) -> str:
    """A column name quoted: custom fields' keys are identifiers, and must never parse as SQL."""
    return f'"{column}"'


def delete(store: Store, customer_id: str, ctx: Context) -> Record:
    """Move one customer, with its follow-ups and history, to the trash (see :mod:`crmcli.trash`)."""
    from . import trash

    return trash.delete(store, [customer_id], ctx)[0]


def log_status(
    conn: sqlite3.Connection,
    customer_id: str,
    old: str | None,
    new: str,
    ctx: Context,
    note: str | None,
    stamp: str,
) -> None:
    conn.execute(
        "INSERT INTO status_changes (customer_id, at, from_status, to_status, by, note) VALUES (?, ?, ?, ?, ?, ?)",
        (customer_id, stamp, old, new, ctx.user, note),
    )


def _audit(
    conn: sqlite3.Connection,
    customer_id: str,
    ctx: Context,
    field_key: str,
    old: object,
    new: object,
    stamp: str,
) -> None:
    conn.execute(
        "INSERT INTO audit_log (customer_id, at, by, command, field, old, new, batch_id, change_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            customer_id,
            stamp,
            ctx.user,
            ctx.command,
            field_key,
            None if old is None else str(old),
            None if new is None else str(new),
            ctx.batch_id,
            ctx.change_id,
        ),
    )


def ids_starting(conn: sqlite3.Connection, prefix: str, limit: int = 50) -> list[tuple[str, str]]:
    """IDs (with names) beginning with ``prefix``, for shell completion."""
    escaped = prefix.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return conn.execute(
        "SELECT id, name FROM customers WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?",
        (escaped + "%", limit),
    ).fetchall()
