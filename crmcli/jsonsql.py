"""Customers as JSON built by SQLite itself, for large machine-format listings.

``render.machine_projector`` shapes one row at a time in Python, at roughly 20 µs a row; for
``crm stale``/``list``/``search`` on hundreds of thousands of customers that dominates the run.
Here the same object (same keys, order and values) is produced by SQLite's ``json_object`` in C,
and Python only writes the strings out. The two must stay equal: a test compares them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from . import phones
from .fields import BY_KEY

HIDDEN = ("archived_at", "phone_key")
"""Columns kept for crm's own use, never shown to scripts (as in render.machine_projector)."""

MOBILE_GLOB = "1[3-9]" + "[0-9]" * 9


def register_functions(conn: sqlite3.Connection) -> None:
    """Python fallbacks SQL may call: masking of phones that are not plain CN mobiles."""
    conn.create_function("crm_mask_phone", 1, _mask_or_none, deterministic=True)


def _mask_or_none(value: str | None) -> str | None:
    return None if value is None else phones.mask_phone(value)


def _value_expr(key: str, kind: str, reveal: bool) -> str:
    # ``key`` is always one of our own field keys (checked by the caller), never user text.
    if kind == "phone" and not reveal:
        return (
            f"CASE WHEN {key} IS NULL THEN NULL "
            f"WHEN length({key}) = 11 AND {key} GLOB '{MOBILE_GLOB}' "
            f"THEN substr({key}, 1, 3) || '****' || substr({key}, 8) "
            f"ELSE crm_mask_phone({key}) END"
        )
    if kind == "amount":
        # Whole yuan as an integer, otherwise a decimal number: what fen_to_yuan gives Python.
        return f"CASE WHEN {key} IS NULL THEN NULL WHEN {key} % 100 = 0 THEN {key} / 100 ELSE {key} / 100.0 END"
    if kind == "flag":
        return f"json(CASE WHEN {key} THEN 'true' ELSE 'false' END)"
    return key


def customer_object(
    columns: Sequence[str],
    lang: str,
    reveal: bool,
    *,
    extra: Sequence[tuple[str, str]] = (),
    table: str = "customers",
) -> str:
    """A ``json_object(...)`` expression over ``table`` for these field keys (in this order),
    with ``<key>_label`` after each dropdown, then ``extra`` (name, SQL expression) pairs such as
    ``("days_inactive", "…")``, appended as they are."""
    label_column = "label_zh" if lang == "zh" else "label_en"
    parts: list[str] = []
    for key in columns:
        spec = BY_KEY.get(key)
        if spec is None:
            raise KeyError(key)
        column = f'{table}."{key}"'  # quoted: a custom field's key is an identifier, never a keyword
        parts.append(f"'{key}', {_value_expr(column, spec.kind, reveal)}")
        if spec.kind == "choice":
            parts.append(
                f"'{key}_label', coalesce((SELECT {label_column} FROM options "
                f"WHERE options.field = '{key}' AND options.code = {column}), {column})"
            )
    for name, expression in extra:
        parts.append(f"'{name}', {expression}")
    return _joined_objects(parts)


PAIRS_PER_OBJECT = 50
"""SQLite allows at most 127 arguments to a function (SQLITE_MAX_FUNCTION_ARG): one
``json_object`` holds 63 key/value pairs, so a table with dozens of custom fields needs several."""


def _joined_objects(pairs: Sequence[str]) -> str:
    """One JSON object from any number of ``'key', expression`` pairs, keys in order.

    Chunks of :data:`PAIRS_PER_OBJECT` are built by ``json_object`` each and their texts joined:
    the first without its closing ``}``, the next without their opening ``{``. That is exact
    because every value here is a scalar (a string, number, true/false or null), so an object's
    text always starts ``{"`` and ends in one ``}``. (``json_patch`` would merge them too, but it
    drops the keys whose value is null.)"""
    chunks = [pairs[i : i + PAIRS_PER_OBJECT] for i in range(0, len(pairs), PAIRS_PER_OBJECT)] or [[]]
    objects = ["json_object(" + ", ".join(chunk) + ")" for chunk in chunks]
    if len(objects) == 1:
        return objects[0]
    pieces = []
    for i, obj in enumerate(objects):
        text = obj if i == len(objects) - 1 else f"rtrim({obj}, '}}')"
        pieces.append(text if i == 0 else f"substr({text}, 2)")
    return "(" + " || ',' || ".join(pieces) + ")"


def machine_keys(all_columns: Sequence[str], wanted: Sequence[str] | None) -> list[str]:
    """The field keys a machine listing shows, in table order: all, or those asked for."""
    keep = set(wanted) if wanted else None
    return [k for k in all_columns if k not in HIDDEN and (keep is None or k in keep)]
