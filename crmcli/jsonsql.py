"""Customers as JSON built by SQLite itself, for large machine-format listings.

``render.machine_projector`` shapes one row at a time in Python, at roughly 20 µs a row; for
``crm stale``/``list``/``search`` on hundreds of thousands of customers that dominates the run.
Here the same object (same keys, order and values) is produced by SQLite's ``json_object`` in C,
and Python only writes the strings out. The two must stay equal: a test compares them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from . import phones
from .fields import BY_KEY

HIDDEN = ("archived_at", "phone_key")
"""Columns kept for crm's own use, never shown to scripts (as in render.machine_projector)."""

MOBILE_GLOB = "1[3-9]" + "[0-9]" * 9


MMAP_BYTES = 1 << 30


def register_functions(conn: sqlite3.Connection) -> None:
    """Python fallbacks SQL may call: masking of phones that are not plain CN mobiles. Also maps
    the file for the large listing about to run: a memory map instead of a pread() per page took
    most of the system time of a 1M-customer ``crm stale`` (1.1 s -> 0.1 s measured). Only for
    listings: the mapped pages count in a process's RSS (they are the OS's shared file cache),
    which took a rejected 30 MB-line import past the 200 MB its test allows."""
    conn.create_function("crm_mask_phone", 1, _mask_or_none, deterministic=True)
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


def _mask_or_none(value: str | None) -> str | None:
    return None if value is None else phones.mask_phone(value)


def _landline_cases(key: str) -> str:
    """Stored CN landlines (``010-62345678``, ``0755-8600123``) masked exactly as
    :func:`crmcli.phones.mask_phone` masks them, in SQL: a Python call per landline cost 0.4 s of
    a 1M-customer ``crm stale``. Which digits stay visible comes from ``phones.mask_counts``, so
    the two can never disagree."""
    from .phones import mask_counts

    cases = []
    for area in (2, 3):
        for digits in (7, 8):
            pattern = "0" + "[0-9]" * area + "-" + "[0-9]" * digits
            dash = area + 1  # index of the dash
            total = area + 1 + digits
            first, last = mask_counts(total)
            # each character of the shape: shown (copied from the value) or a literal
            out: list[tuple[bool, str]] = []
            digit = 0
            for index in range(total + 1):
                if index == dash:
                    out.append((False, "-"))
                    continue
                out.append((first > digit or digit >= total - last, "*"))
                digit += 1
            parts: list[str] = []
            index = 0
            while index < len(out):
                shown, char = out[index]
                run = index
                while run < len(out) and out[run][0] == shown and (shown or out[run][1] == char):
                    run += 1
                if shown:
                    parts.append(f"substr({key}, {index + 1}, {run - index})")
                else:
                    parts.append("'" + "".join(c for _, c in out[index:run]) + "'")
                index = run
            cases.append(f"WHEN length({key}) = {total + 1} AND {key} GLOB '{pattern}' THEN {' || '.join(parts)} ")
    return "".join(cases)


def option_labels(conn: sqlite3.Connection, lang: str) -> dict[str, dict[str, str]]:
    """Every option's label in ``lang``, by field and code, for :func:`customer_object`."""
    column = "label_zh" if lang == "zh" else "label_en"
    out: dict[str, dict[str, str]] = {}
    for field, code, label in conn.execute(f"SELECT field, code, {column} FROM options"):
        out.setdefault(field, {})[code] = label
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value_expr(key: str, kind: str, reveal: bool) -> str:
    # ``key`` is always one of our own field keys (checked by the caller), never user text.
    if kind == "phone" and not reveal:
        return (
            f"CASE WHEN {key} IS NULL THEN NULL "
            f"WHEN length({key}) = 11 AND {key} GLOB '{MOBILE_GLOB}' "
            f"THEN substr({key}, 1, 3) || '****' || substr({key}, 8) "
            f"{_landline_cases(key)}"
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
    labels: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """A ``json_object(...)`` expression over ``table`` for these field keys (in this order),
    with ``<key>_label`` after each dropdown, then ``extra`` (name, SQL expression) pairs such as
    ``("days_inactive", "…")``, appended as they are. With ``labels`` (:func:`option_labels`) the
    labels are written into the statement as a CASE instead of a subquery per row and dropdown
    (about 1 s of a 1M-customer ``crm stale``)."""
    label_column = "label_zh" if lang == "zh" else "label_en"
    parts: list[str] = []
    for key in columns:
        spec = BY_KEY.get(key)
        if spec is None:
            raise KeyError(key)
        column = f'{table}."{key}"'  # quoted: a custom field's key is an identifier, never a keyword
        parts.append(f"'{key}', {_value_expr(column, spec.kind, reveal)}")
        if spec.kind == "choice" and labels is not None:
            cases = "".join(f"WHEN {_quote(c)} THEN {_quote(lb)} " for c, lb in labels.get(key, {}).items())
            parts.append(f"'{key}_label', " + (f"CASE {column} {cases}ELSE {column} END" if cases else column))
        elif spec.kind == "choice":
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
