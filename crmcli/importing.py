"""Batch import of customers and follow-ups: column mapping, validation, duplicates, batches, undo.

The hot path is deliberately plain: each column gets one converter, chosen once from its field
(with a bounded cache for the repetitive ones: dropdowns, dates, owners), rows are validated in
Python and written in chunks with ``executemany``, all inside one ``BEGIN IMMEDIATE`` transaction
(``store.write()``). The file is streamed; memory holds one chunk, never the file.

Values are checked by the same rules as ``crm add`` (:func:`crmcli.customers.clean_value`, whose
logic the converters follow exactly; a test holds them to it), so a message for a bad cell reads
the same as for a bad ``--flag``.

Custom fields (``crm fields add``) are loaded from the database first (``customers.columns``):
their columns are matched by key or either label, converted by their type and written, updated
and undone like the built-in ones. A retired one takes no new values: a row may carry its value
only where that leaves the record unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import json
import math
import operator
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import clock, i18n, ids, import_mapping, parsing, phones, textsafe
from .custom_fields import parse_decimal, parse_integer
from .customers import (
    EMAIL_MATCH,
    NAME_KEYS,
    PORTABLE_COLUMNS,
    Context,
    clean_value,
    columns,
    email_key,
    update,
)
from .errors import Conflict, CrmError, ParseError, UsageError, ValidationError, shorten
from .fields import BY_KEY, REQUIRED, all_fields, custom_keys
from .followups import FOLLOWUP_COLUMNS, mirror, moves_last_followup
from .import_batches import BATCH_COLUMNS, UndoResult, batch, batches, current_record, undo
from .import_mapping import (  # moved there; imported from here by other modules and tests
    FOLLOWUP_LABELS,
    Mapping_,
    Plan,
    customer_aliases,
    detect_target,
    followup_aliases,
    load_mapping,
    parse_pairs,
)
from .import_mapping import text_of as _text_of
from .masking import message_value
from .options import OptionSet
from .readers import Source
from .storage import Store

CHUNK = 2000
IMPORT_CACHE_KIB = -65536
CACHE_LIMIT = 4096
CACHE_MAX_LEN = 64
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DUPLICATE_MODES = ("skip", "update", "error")
MATCH_KEYS = ("id", "phone", "email")
# Customer columns an import may set besides the editable fields: what our own export carries,
# so that export --reveal -> import reproduces the records exactly.
RESTORE_KEYS = ("archived", "archived_at", "created_at", "updated_at", "version")
INSERT_COLUMNS: tuple[str, ...] = (*PORTABLE_COLUMNS, "phone_key", "batch_id")
FOLLOWUP_KEYS = FOLLOWUP_COLUMNS
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)
_MISS = object()
_REQUIRED = frozenset(REQUIRED)
_by_id = operator.itemgetter("id")
# Fast paths, each accepting only input its full parser accepts with the same result (tests hold
# them to it): plain ASCII e-mail addresses, plain amounts such as 42400 or 42400.50.
_EMAIL_FAST = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
)
_AMOUNT_FAST = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?", re.ASCII)
# Custom number fields: plain unsigned numbers below 10^15 (custom_fields.parse_integer/parse_decimal
# accept them with the same result; anything else goes through those parsers).
_INTEGER_FAST = re.compile(r"[0-9]{1,15}", re.ASCII)
_DECIMAL_FAST = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?", re.ASCII)
# Eight letters (or ideographs) in a row, none an x: such text cannot normalise to a vague
# placeholder (those are at most 7 characters, or only dashes, dots, question marks or x's).
_WORDY = re.compile(r"[^\W\d_xX\uff38\uff58]{8}")
# Text of CJK unified ideographs only is unchanged by NFKC, case folding and the dash and space
# rules: it is a placeholder exactly when it is one of the Chinese placeholder words.
_CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
_CJK_PLACEHOLDERS = frozenset(
    word for word in ("未知", "待补充", "待定", "不详", "暂无", "无", "待填", "待确认") if _CJK_ONLY.fullmatch(word)
) | frozenset(w for w in getattr(parsing, "_PLACEHOLDERS", ()) if _CJK_ONLY.fullmatch(w))


class ImportFailed(UsageError):
    """Rows were invalid (or duplicates under ``--on-duplicate error``) and nothing was written."""

    def __init__(self, summary: Summary) -> None:
        super().__init__(
            f"{summary.rejected} of {summary.rows} rows refused; nothing was imported",
            zh=f"{summary.rows} 行中有 {summary.rejected} 行被拒绝；没有导入任何数据",
        )
        self.summary = summary
        if summary.errors and all(e.reason == "duplicate" for e in summary.errors):
            self.exit_code = Conflict.exit_code


class _DryRun(Exception):
    pass


# ---------------------------------------------------------------------------- settings


@dataclass
class Settings:
    mapping: Mapping_ = field(default_factory=Mapping_)
    on_duplicate: str = "skip"
    match: tuple[str, ...] = MATCH_KEYS
    skip_invalid: bool = False
    rejects: Path | None = None
    force: bool = False  # overwrite an existing --rejects file
    dry_run: bool = False
    ignore_unknown: bool = False
    followup_columns: bool | None = None
    """Create a follow-up from a row's 跟进内容 columns. None: yes, unless the file is a crm
    export (it has ``created_at``), whose follow-ups come in their own file."""
    target: str | None = None  # customers | followups | None (from the headers)
    source_name: str = "-"
    lang: str = "en"

    def check(self) -> None:
        if self.on_duplicate not in DUPLICATE_MODES:
            raise ValidationError(
                "on-duplicate", self.on_duplicate, "option_unknown", details={"allowed": ", ".join(DUPLICATE_MODES)}
            )
        for key in self.match:
            if key not in MATCH_KEYS:
                raise ValidationError("match", key, "option_unknown", details={"allowed": ", ".join(MATCH_KEYS)})
        if self.rejects is not None and not self.skip_invalid:
            raise UsageError(
                "--rejects needs --skip-invalid (without it, nothing is written when a row is bad)",
                zh="--rejects 需要与 --skip-invalid 一起使用（不加它时，只要有一行出错就不会写入任何内容）",
            )


@dataclass
class Summary:
    batch: int | None = None
    source: str = "-"
    format: str = ""
    encoding: str | None = None
    target: str = "customers"
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    followups: int = 0
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[ValidationError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_file: str | None = None
    duplicates: int = 0  # rows matched to a stored customer (or an earlier row), under skip or update

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "batch": self.batch,
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "target": self.target,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "followups": self.followups,
            "dry_run": self.dry_run,
            "ignored_columns": self.ignored_columns,
            "rejects_file": self.rejects_file,
            "warnings": self.warnings,
            "errors": [
                {
                    "line": e.row,
                    "field": e.field,
                    "value": _jsonable(message_value(e.field, e.value)),  # a phone masked
                    "reason": e.reason,
                    "message": i18n.reason(e.reason, lang, **e.details),
                }
                for e in self.errors
            ],
        }


def _jsonable(value: Any) -> Any:
    """A refused value as the summary quotes it: cut like every quoted value (the rejects file
    keeps the row whole)."""
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int) and abs(value) < 10**15:
        return value
    return shorten(value)


# ---------------------------------------------------------------------------- converters


def _fail(key: str, raw: Any, exc: ParseError) -> ValidationError:
    return ValidationError(key, raw, exc.reason, details=dict(exc.details))


def customer_converter(
    key: str,
    options: OptionSet,
    *,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    excel_epoch: Any = None,
    allow_retired: bool = False,
    phone_region: str = phones.DEFAULT_REGION,
) -> Callable[[Any], Any]:
    """One function that turns a raw cell into the stored value of field ``key`` (None for empty),
    by the rules of :func:`crmcli.customers.clean_value`; raises ValidationError.

    Custom fields (:mod:`crmcli.custom_fields`) are converted by their type like built-in ones.
    A retired custom field refuses every value, as ``clean_value`` does, unless ``allow_retired``
    (as ``clean_value(..., allow_retired=True)``): the import then accepts a value only where it
    leaves the record unchanged (see ``_CustomerWriter``)."""
    if key in ("archived", "version", "created_at", "updated_at", "archived_at"):
        return _restore_converter(key)
    spec = BY_KEY[key]
    kind, required, max_len = spec.kind, spec.required, spec.max_len
    retired = spec.custom and not spec.editable
    if retired and not allow_retired:

        def refuse(raw: Any) -> Any:
            raise ValidationError(key, raw, "field_retired")

        return refuse
    old_options = retired  # a retired field's old values may use retired options too
    placeholder = parsing.check_not_placeholder
    # ESC, bidi overrides…: refused. isprintable() first: C-fast, and true only without any of them.
    controls = textsafe.searcher(multiline=kind == "longtext")

    def finish(text: str, value: Any) -> Any:
        if max_len and isinstance(value, str) and len(value) > max_len:
            raise ValidationError(key, text, "too_long", details={"max_len": max_len})
        return value

    def parse(text: str) -> Any:
        if not text.isprintable() and controls(text):
            textsafe.check(text, multiline=kind == "longtext")
        if required and not _WORDY.search(text):
            placeholder(text)
        if kind == "choice":
            return options.resolve(key, text, allow_retired=old_options)
        if kind == "phone":
            if "*" in text:
                raise ParseError("masked_phone")
            return phones.parse_phone(text, phone_region)
        if kind == "email":
            if len(text) <= 254 and _EMAIL_FAST.fullmatch(text) and text.index("@") <= 64:
                local, _, domain = text.partition("@")
                return f"{local}@{domain.lower()}"
            return parsing.parse_email(text)
        if kind == "date":
            return parsing.parse_date(text, dayfirst=dayfirst, date_format=date_format).isoformat()
        if kind == "amount":
            fast = _AMOUNT_FAST.fullmatch(text)
            if fast is not None and len(fast.group(1)) <= 13:
                whole, cents = fast.group(1), fast.group(2) or ""
                fen = int(whole) * 100 + int((cents + "00")[:2])
                if fen <= parsing.AMOUNT_MAX_YUAN * 100:
                    return fen
            return parsing.parse_amount(text)
        if kind == "grade":
            return parsing.parse_grade(text)
        if kind == "id":
            return ids.check_explicit(text)
        if spec.custom and kind == "integer":
            if _INTEGER_FAST.fullmatch(text):
                return int(text)
            return parse_integer(text)
        if spec.custom and kind == "decimal":
            if _DECIMAL_FAST.fullmatch(text):
                return float(text)
            return parse_decimal(text)
        if spec.editable or spec.custom:
            return text
        raise ValidationError(key, text, "not_editable")

    def convert(raw: Any) -> Any:
        if type(raw) is not str:
            if raw is None:
                return None
            if kind == "date" and isinstance(raw, (dt.date, dt.datetime)):
                return (raw.date() if isinstance(raw, dt.datetime) else raw).isoformat()
            if (
                kind == "date"
                and excel_epoch is not None
                and isinstance(raw, (int, float))
                and not isinstance(raw, bool)
            ):
                return _excel_serial(key, raw, excel_epoch)
            if kind == "decimal" and spec.custom and isinstance(raw, (int, float)) and not isinstance(raw, bool):
                # A number cell (XLSX, JSON) is the value itself: 1e-05 needs no text round trip.
                if not math.isfinite(raw) or abs(raw) >= 10**15:
                    raise ValidationError(key, raw, "decimal_format")
                return float(raw)
            try:
                raw = _text_of(raw)
            except ParseError as exc:
                raise _fail(key, raw, exc) from None
        text = raw.strip()
        if not text:
            return None
        try:
            return finish(raw, parse(text))
        except ParseError as exc:
            raise _fail(key, raw, exc) from None

    # Specialised paths for plain-text cells; anything unusual falls back to ``convert``.
    if kind in ("text", "longtext") and not required:

        def convert_text(raw: Any) -> Any:
            if type(raw) is not str:
                return convert(raw)
            text = raw.strip()
            if not text:
                return None
            if not text.isprintable() and controls(text):
                return convert(raw)  # the general path names the refused character
            if max_len and len(text) > max_len:
                raise ValidationError(key, raw, "too_long", details={"max_len": max_len})
            return text

        return convert_text
    if kind in ("text", "longtext"):  # required: also never a vague placeholder
        names, normalize_name = key in NAME_KEYS, parsing.normalize_name

        def convert_required(raw: Any) -> Any:
            if type(raw) is not str:
                return convert(raw)
            text = normalize_name(raw) if names else raw.strip()
            if not text:
                return None
            if not text.isprintable() and controls(text):
                return convert(raw)  # the general path names the refused character
            if not _WORDY.search(text) and not (_CJK_ONLY.fullmatch(text) and text not in _CJK_PLACEHOLDERS):
                try:
                    placeholder(text)
                except ParseError as exc:
                    raise _fail(key, raw, exc) from None
            if max_len and len(text) > max_len:
                raise ValidationError(key, raw, "too_long", details={"max_len": max_len})
            return text

        return _cached(convert_required) if key in ("contact", "owner") else convert_required
    if kind == "phone":

        def convert_phone(raw: Any) -> Any:
            if type(raw) is str:
                try:  # cached by raw text, with a fast path for plain CN mobiles
                    return phones.parse_phone(raw, phone_region)
                except ParseError:
                    pass  # convert() says why (a placeholder, a masked export, the phone's reason)
            return convert(raw)

        return convert_phone
    if kind == "id":

        def convert_id(raw: Any) -> Any:
            if type(raw) is str:
                text = raw.strip()
                if text and ids.FREE_ID_RE.match(text):
                    return text
            return convert(raw)

        return convert_id
    if kind in ("choice", "date", "grade") or (required and kind in ("text", "longtext")):
        return _cached(convert)
    return convert


def _cached(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Memoise a converter for repetitive columns; bounded, so memory stays flat."""
    cache: dict[Any, Any] = {}

    def lookup(raw: Any) -> Any:
        try:
            value = cache.get(raw, _MISS)
        except TypeError:  # unhashable (a JSON list): let the converter refuse it
            return convert(raw)
        if value is _MISS:
            value = convert(raw)
            if len(cache) < CACHE_LIMIT and (type(raw) is not str or len(raw) <= CACHE_MAX_LEN):
                cache[raw] = value
        return value

    return lookup


def _excel_serial(key: str, raw: float, epoch: Any) -> str:
    from openpyxl.utils.datetime import from_excel

    try:
        value = from_excel(raw, epoch)
    except (ValueError, OverflowError, TypeError):
        raise ValidationError(key, raw, "date_format") from None
    day = value.date() if isinstance(value, dt.datetime) else value
    if not isinstance(day, dt.date) or not parsing.MIN_YEAR <= day.year <= parsing.MAX_YEAR:
        raise ValidationError(
            key, raw, "date_out_of_range", details={"min_year": parsing.MIN_YEAR, "max_year": parsing.MAX_YEAR}
        )
    return day.isoformat()


_TRUE = {"1", "true", "yes", "y", "是", "✓"}
_FALSE = {"0", "false", "no", "n", "否", ""}


def _restore_converter(key: str) -> Callable[[Any], Any]:
    """Bookkeeping columns that only our own export carries (to restore records exactly)."""

    def convert(raw: Any) -> Any:
        if raw is None:
            return None
        if key == "archived":
            if isinstance(raw, bool):
                return int(raw)
            text = _text_of(raw).strip().casefold()
            if text in _TRUE:
                return 1
            if text in _FALSE:
                return 0
            raise ValidationError(key, raw, "flag_format")
        if key == "version":
            try:
                return parsing.parse_int_range(_text_of(raw), 1, 10**9) if _text_of(raw).strip() else None
            except ParseError as exc:
                raise _fail(key, raw, exc) from None
        if isinstance(raw, dt.datetime):
            stamp = raw if raw.tzinfo is None else raw.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        text = _text_of(raw).strip()
        if not text:
            return None
        if _TIMESTAMP.fullmatch(text):
            return text
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(key, raw, "timestamp_format") from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")

    return convert


i18n.REASONS.setdefault(
    "duplicate", ("duplicates customer {other} (matched by {by})", "与客户 {other} 重复（按 {by} 匹配）")
)
i18n.REASONS.setdefault("duplicate_followup", ("duplicates follow-up {other}", "与跟进记录 {other} 重复"))
i18n.REASONS.setdefault("no_customer", ("no customer with this ID", "没有这个编号的客户"))
i18n.REASONS.setdefault("not_scalar", ("is a list or object, not a single value", "是列表或对象，不是单个值"))
i18n.REASONS.setdefault("flag_format", ("must be true or false", "必须是 true 或 false"))
i18n.REASONS.setdefault(
    "timestamp_format", ("is not an ISO timestamp (2024-06-15T08:30:00Z)", "不是 ISO 时间戳（如 2024-06-15T08:30:00Z）")
)


# ---------------------------------------------------------------------------- column plan


def make_plan(headers: Sequence[str], settings: Settings, options: OptionSet, source: Source) -> Plan:
    """Which column feeds which field (see :func:`crmcli.import_mapping.make_plan`)."""
    return import_mapping.make_plan(
        headers,
        settings.mapping,
        options,
        target=settings.target,
        ignore_unknown=settings.ignore_unknown,
        unformula=source.format in ("csv", "tsv"),
        typed=source.typed,
        converter=lambda target, key: (
            _tags_converter if key == "tags" else _converter(target, key, options, settings.mapping, source)
        ),
    )


def _tags_converter(raw: Any) -> Any:
    from .tags import import_value

    return import_value(_text_of(raw))


def _converter(target: str, key: str, options: OptionSet, mapping: Mapping_, source: Source) -> Callable[[Any], Any]:
    if target == "followups":
        return followup_converter(
            key, options, dayfirst=mapping.dayfirst, date_format=mapping.date_format, excel_epoch=source.excel_epoch
        )
    return customer_converter(
        key,
        options,
        dayfirst=mapping.dayfirst,
        date_format=mapping.date_format,
        excel_epoch=source.excel_epoch,
        allow_retired=True,  # a retired custom field's values are refused unless unchanged (the writer checks)
        phone_region=mapping.phone_region or phones.DEFAULT_REGION,
    )


def followup_converter(
    key: str,
    options: OptionSet,
    *,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    excel_epoch: Any = None,
) -> Callable[[Any], Any]:
    def parse(text: str) -> Any:
        if key == "id":
            return parsing.parse_int_range(text, 1, 2**62)
        if key == "customer_id":
            return ids.check_explicit(text)
        if key in ("date", "next_date"):
            return parsing.parse_date(text, dayfirst=dayfirst, date_format=date_format).isoformat()
        if key in ("channel", "kind"):
            return options.resolve(key, text)
        if key == "satisfaction":
            return parsing.parse_int_range(text, 1, 5)
        textsafe.check(text, multiline=key in ("content", "result", "next_step"))
        if key == "content":
            parsing.check_not_placeholder(text)
        if len(text) > 2000:
            raise ValidationError(key, text, "too_long", details={"max_len": 2000})
        return text

    if key == "created_at":
        return _restore_converter("created_at")

    def convert(raw: Any) -> Any:
        if raw is None:
            return None
        if key in ("date", "next_date") and isinstance(raw, (dt.date, dt.datetime)):
            return (raw.date() if isinstance(raw, dt.datetime) else raw).isoformat()
        if key in ("date", "next_date") and excel_epoch is not None and isinstance(raw, (int, float)):
            return _excel_serial(key, raw, excel_epoch)
        try:
            text = _text_of(raw).strip()
            return parse(text) if text else None
        except ParseError as exc:
            raise _fail(key, raw, exc) from None

    return convert


# ---------------------------------------------------------------------------- reading rows

Row = tuple[int, dict[str, Any], list[Any], list[ValidationError]]


def _rows(source: Source, plan: Plan) -> Iterator[Row]:
    """Validated rows: (line, values, raw cells, errors). Only non-empty values are in ``values``."""
    direct = plan.direct
    composed = plan.composed
    unformula = plan.unformula
    for line, cells in source.rows:
        values: dict[str, Any] = {}
        errors: list[ValidationError] = []
        width = len(cells)
        for index, key, convert in direct:
            if index >= width:
                continue
            raw = cells[index]
            if not raw and (raw is None or raw == ""):
                continue
            if unformula and raw[0] == "'" and raw[1:2] in FORMULA_START:
                raw = raw[1:]  # a cell our export neutralised: read back the original value
            try:
                value = convert(raw)
            except ValidationError as exc:
                exc.row = line
                errors.append(exc)
                continue
            except ParseError as exc:
                errors.append(ValidationError(key, raw, exc.reason, row=line, details=dict(exc.details)))
                continue
            if value is not None:
                values[key] = value
        for key, render, convert in composed:
            try:
                value = convert(render(cells))
            except ValidationError as exc:
                exc.row = line
                errors.append(exc)
                continue
            except ParseError as exc:
                errors.append(ValidationError(key, None, exc.reason, row=line, details=dict(exc.details)))
                continue
            if value is not None:
                values[key] = value
        yield line, values, cells, errors


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------------------- the import


class _Rejects:
    """The ``--rejects`` file: the bad rows as they came, plus line and reason columns. Written
    through :func:`crmcli.outputs.private_output` (0600, never over the database or an existing
    file without ``force``), and put in place only when the import commits."""

    def __init__(
        self, path: Path | None, headers: Sequence[str], lang: str, *, force: bool = False, db: Path | None = None
    ) -> None:
        from . import outputs

        self.path = path
        self.lang = lang
        self.handle: IO[str] | None = None
        self.writer: Any = None
        self.headers = list(headers)
        self.force = force
        self.protect = outputs.protected(db)
        self._output: Any = None
        if path is not None:
            outputs.check_target(path, force=force, protect=self.protect)  # refuse before importing anything

    def write(self, line: int, cells: Sequence[Any], errors: Sequence[ValidationError]) -> None:
        if self.path is None:
            return
        if self.writer is None:
            from . import outputs

            self._output = outputs.private_output(self.path, force=self.force, protect=self.protect, encoding="utf-8-sig")
            self.handle = self._output.__enter__()
            self.writer = csv.writer(self.handle)
            self.writer.writerow([*self.headers, "line", "reason"])
        reason = "; ".join(describe(e, self.lang) for e in errors)
        row = ["" if c is None else _text_of(c) for c in cells]
        row += [""] * (len(self.headers) - len(row))
        self.writer.writerow([*row, line, reason])

    def close(self, commit: bool = True) -> None:
        """Put the file in place (``commit``), or discard it: the import did not happen."""
        if self._output is not None:
            output, self._output = self._output, None
            if commit:
                output.__exit__(None, None, None)
            else:
                with contextlib.suppress(_Discard):
                    output.__exit__(_Discard, _Discard(), None)


class _Discard(Exception):
    """Thrown into the rejects output to make it remove its temporary file."""


def describe(exc: ValidationError, lang: str) -> str:
    value = "" if exc.value in (None, "") else f" {shorten(message_value(exc.field, exc.value))!r}"
    return f"{shorten(exc.field)}{value}: {i18n.reason(exc.reason, lang, **exc.details)}"


def run_import(
    store: Store,
    source: Source,
    settings: Settings,
    ctx: Context,
    options: OptionSet,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Import ``source``. All-or-nothing unless ``settings.skip_invalid``; raises ImportFailed
    (nothing written) when rows are bad. Returns the summary (also for ``dry_run``)."""
    settings.check()
    settings.mapping.phone_region = phones.default_region(store, settings.mapping.phone_region)
    columns(store.conn)  # this database's custom fields: headers, converters and columns know them
    plan = make_plan(source.headers, settings, options, source)
    summary = Summary(
        source=settings.source_name,
        format=source.format,
        encoding=source.encoding,
        target=plan.target,
        dry_run=settings.dry_run,
        ignored_columns=plan.ignored,
    )
    mapping = settings.mapping  # crm add's defaults, and the rows --where keeps (import_mapping)
    mapping.defaults = import_mapping.add_defaults(mapping.defaults, plan.keys, ctx, plan.target)
    where = import_mapping.parse_where(mapping.where, source.headers)
    source.rows = import_mapping.watch_rows(source.rows, plan, source.headers, where, source.warnings)
    defaults = _clean_defaults(plan, settings, options)
    if plan.target == "customers" and "id" not in plan.keys and "phone" not in plan.keys and "email" not in plan.keys:
        summary.warnings.append("the file has no ID, phone or email column: duplicates cannot be recognised")
    rejects = _Rejects(
        settings.rejects if settings.skip_invalid and not settings.dry_run else None,
        source.headers,
        settings.lang,
        force=settings.force,
        db=store.path,
    )
    committed = False
    ctx.command = "import"
    # A bigger page cache for the duration: a dozen indexes over a large batch otherwise thrash
    # SQLite's default 2 MB. Bounded, so memory stays flat however long the file is.
    previous_cache = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KIB}")
    try:
        with store.write() as conn:
            stamp = clock.now_utc()
            batch = conn.execute(
                "INSERT INTO import_batches (started_at, by, source, format, target) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (stamp, ctx.user, settings.source_name, source.format, plan.target),
            ).fetchone()[0]
            ctx.batch_id = batch
            summary.batch = batch
            writer: _CustomerWriter | _FollowupWriter = (
                _CustomerWriter(conn, settings, ctx, plan, defaults, summary, stamp)
                if plan.target == "customers"
                else _FollowupWriter(conn, settings, ctx, defaults, summary, stamp)
            )
            from . import search_index

            with search_index.deferred(conn):  # one indexing statement for the batch, not one a row
                for chunk in _chunks(_rows(source, plan), CHUNK):
                    summary.rows += len(chunk)
                    for line, cells, errors in writer.write(chunk):
                        summary.rejected += 1
                        if len(summary.errors) < 100_000:
                            summary.errors.extend(errors)
                        rejects.write(line, cells, errors)
                    if progress is not None:
                        progress(summary.rows)
                writer.finish()
            summary.errors.sort(key=lambda e: e.row or 0)
            if summary.rejected and not settings.skip_invalid:
                raise ImportFailed(summary)
            conn.execute(
                "UPDATE import_batches SET finished_at = ?, rows = ?, added = ?, updated = ?, unchanged = ?, "
                "rejected = ?, followups = ? WHERE id = ?",
                (
                    clock.now_utc(),
                    summary.rows,
                    summary.added,
                    summary.updated,
                    summary.unchanged,
                    summary.rejected,
                    summary.followups,
                    batch,
                ),
            )
            if settings.dry_run:
                raise _DryRun
        committed = True
    except _DryRun:
        summary.batch = None
    except ImportFailed:
        summary.batch = None
        raise
    finally:
        rejects.close(commit=committed)
        store.conn.execute(f"PRAGMA cache_size = {int(previous_cache)}")
    if rejects.path is not None and summary.rejected:
        summary.rejects_file = str(rejects.path)
    summary.warnings.extend([*source.warnings, *ctx.warnings])  # the reader's notes too (repeated headers…)
    return summary


def _clean_defaults(plan: Plan, settings: Settings, options: OptionSet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in settings.mapping.defaults.items():
        if plan.target == "followups":
            if key not in FOLLOWUP_KEYS:
                raise ValidationError("set", key, "unknown_field", details={"fields": ", ".join(FOLLOWUP_KEYS)})
            value = followup_converter(key, options)(raw)
        else:
            if key not in BY_KEY or not (BY_KEY[key].editable or BY_KEY[key].custom):  # retired: clean_value says so
                raise ValidationError(
                    "set",
                    key,
                    "unknown_field",
                    details={"fields": ", ".join(f.key for f in all_fields() if f.editable)},
                )
            value = clean_value(key, raw, options, region=settings.mapping.phone_region)
        if value is not None:
            out[key] = value
    return out


class _CustomerWriter:
    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        ctx: Context,
        plan: Plan,
        defaults: dict[str, Any],
        summary: Summary,
        stamp: str,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.ctx = ctx
        self.plan = plan
        self.defaults = defaults
        self.summary = summary
        self.stamp = stamp
        self.year = int(stamp[:4])
        self.first_rowid = conn.execute("SELECT coalesce(max(rowid), 0) FROM customers").fetchone()[0]
        derive = settings.followup_columns
        if derive is None:
            derive = "created_at" not in plan.keys
        self.derive_followups = derive and "followup" in plan.keys
        self.by_id = "id" in settings.match
        self.by_other = [k for k in settings.match if k != "id"]
        self.update_mode = settings.on_duplicate == "update"
        self.today = clock.today().isoformat()
        # The custom fields' columns follow the built-in ones; a retired one takes no new values.
        custom = custom_keys()
        self.columns = columns()
        self.insert_columns = (*INSERT_COLUMNS, *custom)
        self.retired = frozenset(k for k in custom if not BY_KEY[k].editable)
        self.insert_sql = (
            f"INSERT INTO customers ({', '.join(_quote(c) for c in self.insert_columns)}) "
            f"VALUES ({', '.join('?' * len(self.insert_columns))})"
        )

    def _existing(self, column: str, values: list[str]) -> dict[str, dict[str, Any]]:
        if not values:
            return {}
        keys = self.columns if self.update_mode else ("id",)
        cols = ", ".join(_quote(k) for k in keys)
        found: dict[str, dict[str, Any]] = {}
        if column == "email":  # matched case-insensitively, on the indexed lower(email)
            column = EMAIL_MATCH
        sql = f"SELECT {cols}, {column} FROM customers WHERE {column} IN (SELECT value FROM json_each(?)) ORDER BY id"
        for row in self.conn.execute(sql, (json.dumps(values, ensure_ascii=False),)):
            found.setdefault(row[-1], dict(zip(keys, row)))
        return found

    def write(self, chunk: list[Row]) -> list[tuple[int, list[Any], list[ValidationError]]]:
        bad: list[tuple[int, list[Any], list[ValidationError]]] = []
        good: list[tuple[int, dict[str, Any], list[Any]]] = []
        for line, values, cells, errors in chunk:
            if errors:
                bad.append((line, cells, errors))
                continue
            phone = values.get("phone")
            if phone is not None:
                values["phone_key"] = phones.phone_key(phone)
            good.append((line, values, cells))
        existing: dict[str, dict[str, dict[str, Any]]] = {}
        if self.by_id:
            existing["id"] = self._existing("id", [v["id"] for _, v, _ in good if "id" in v])
        # Rows that name their ID are matched by it alone: only the others need phone/e-mail lookups.
        unnamed = [v for _, v, _ in good if not (self.by_id and "id" in v)]
        for key in self.by_other:
            column = "phone_key" if key == "phone" else key
            existing[key] = self._existing(column, [_match_value(key, v) for v in unnamed if v.get(column)])
        named = [v["id"] for _, v, _ in good if "id" in v]
        # A trashed customer keeps its ID reserved (crm trash restore must find it free).
        trashed = {r[0] for r in self.conn.execute(
            "SELECT id FROM trash_customers WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(named),)
        )} if named else set()
        pending: dict[tuple[str, str], dict[str, Any]] = {}  # new rows of this chunk, by match key
        inserts: list[dict[str, Any]] = []
        explicit_max: dict[tuple[str, int], int] = {}
        for line, values, cells in good:
            if trashed and values.get("id") in trashed:
                bad.append((line, cells, [ValidationError("id", values["id"], "id_in_trash", row=line)]))
                continue
            match, by = self._match(values, existing, pending)
            if match is not None:
                problem = self._duplicate(line, values, match, by)
                if problem is not None:
                    bad.append((line, cells, [problem]))
                continue
            record = {**self.defaults, **values}
            if not _REQUIRED.issubset(record):  # values are never empty: converters drop those
                missing = [k for k in REQUIRED if record.get(k) in (None, "")]
                bad.append((line, cells, [ValidationError(k, None, "required", row=line) for k in missing]))
                continue
            if self.retired and not self.retired.isdisjoint(record):
                stale = [k for k in record if k in self.retired]
                bad.append((line, cells, [ValidationError(k, record[k], "field_retired", row=line) for k in stale]))
                continue
            if "id" in record:
                m = ids.ID_RE.match(record["id"])
                if m:
                    slot = (m.group(1), int(m.group(2)))
                    explicit_max[slot] = max(explicit_max.get(slot, 0), int(m.group(3)))
            if "phone" in record and "phone_key" not in record:
                phone = record["phone"]
                record["phone_key"] = phones.phone_key(phone)
            record["_pending"] = True
            inserts.append(record)
            for key in ("id", *self.by_other):
                column = "phone_key" if key == "phone" else key
                if record.get(column):
                    pending.setdefault((key, _match_value(key, record)), record)
        self._insert(inserts, explicit_max)
        return bad

    def _match(
        self,
        values: dict[str, Any],
        existing: dict[str, dict[str, dict[str, Any]]],
        pending: dict[tuple[str, str], dict[str, Any]],
    ) -> tuple[dict[str, Any] | None, str]:
        # A row that names its ID is matched by that ID only; others by phone, then e-mail.
        if self.by_id and "id" in values:
            found = existing["id"].get(values["id"]) or pending.get(("id", values["id"]))
            return found, "id"
        for key in self.by_other:
            column = "phone_key" if key == "phone" else key
            if not values.get(column):
                continue
            value = _match_value(key, values)
            found = existing[key].get(value) or pending.get((key, value))
            if found is not None:
                return found, key
        return None, ""

    def _duplicate(self, line: int, values: dict[str, Any], match: dict[str, Any], by: str) -> ValidationError | None:
        mode = self.settings.on_duplicate
        if mode == "error":
            return ValidationError(
                by,
                values.get("phone" if by == "phone" else by),
                "duplicate",
                row=line,
                details={"other": match["id"], "by": by},
            )
        self.summary.duplicates += 1
        import_mapping.note_duplicate(self.summary.warnings, self.summary.duplicates, line, match, by, mode)
        if mode == "skip":
            self.summary.unchanged += 1
            return None
        for key in self.retired.intersection(values):
            if match.get(key) != values[key]:  # a retired field keeps its values but takes no new ones
                return ValidationError(key, values[key], "field_retired", row=line)
        changes = {k: v for k, v in values.items() if k in BY_KEY and BY_KEY[k].editable and k != "id"}
        if not match.get("_pending"):  # a stored customer: update it, audited
            changed = update(self.conn, match, {k: v for k, v in changes.items() if match.get(k) != v}, self.ctx)
            if "tags" in values:
                from .tags import set_in, split

                if set_in(self.conn, match["id"], split(values["tags"]), self.ctx):
                    changed = [*changed, "tags"]
            if changed:
                match.update({k: changes[k] for k in changed if k in changes})
                self.summary.updated += 1
            else:
                self.summary.unchanged += 1
        else:  # a row added earlier in this same chunk, not yet written: later rows win
            before = dict(match)
            match.update(changes)
            if "phone" in changes:
                phone = changes["phone"]
                match["phone_key"] = phones.phone_key(phone)
            self.summary.unchanged += 1 if before == match else 0
        return None

    def _insert(self, records: list[dict[str, Any]], explicit_max: dict[tuple[str, int], int]) -> None:
        if not records:
            return
        conn = self.conn
        for (prefix, year), number in explicit_max.items():
            ids.note_explicit(conn, ids.format_id(prefix, year, number))
        stamp, batch = self.stamp, self.ctx.batch_id
        followups: list[tuple[Any, ...]] = []
        for record in records:
            if "id" not in record:
                record["id"] = ids.next_id(conn, self.ctx.prefix, self.year)
            record.setdefault("created_at", stamp)
            record.setdefault("updated_at", record["created_at"] if "created_at" in self.plan.keys else stamp)
            record.setdefault("version", 1)
            record.setdefault("archived", 0)
            record["batch_id"] = batch
            if self.derive_followups and record.get("followup"):
                followups.append(
                    (
                        record["id"],
                        record.get("last_followup") or record.get("first_contact") or self.today,
                        record["followup"],
                        record.get("next_step"),
                        record.get("next_date"),
                        record.get("owner") or self.ctx.user or None,
                        stamp,
                        batch,
                    )
                )
        records.sort(key=_by_id)  # in key order: the primary-key index is written page by page
        try:
            conn.executemany(self.insert_sql, [list(map(r.get, self.insert_columns)) for r in records])
        except sqlite3.IntegrityError as exc:
            raise CrmError(f"could not write customers: {exc}", zh=f"无法写入客户：{exc}") from exc
        if "tags" in self.plan.keys:
            from .tags import insert_imported

            insert_imported(conn, records, stamp)
        if followups:
            conn.executemany(
                'INSERT INTO followups (customer_id, date, content, next_step, next_date, "by", created_at, batch_id) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                followups,
            )
            self.summary.followups += len(followups)
        self.summary.added += len(records)

    def finish(self) -> None:
        """Audit rows and first status entries for every customer this batch added, set-based."""
        params = (self.stamp, self.ctx.user, self.first_rowid, self.ctx.batch_id)
        self.conn.execute(
            "INSERT INTO audit_log (customer_id, at, by, command, field, old, new, batch_id) "
            "SELECT id, ?, ?, 'import', '*', NULL, 'created', batch_id FROM customers WHERE rowid > ? AND batch_id = ?",
            params,
        )
        self.conn.execute(
            "INSERT INTO status_changes (customer_id, at, from_status, to_status, by, note) "
            "SELECT id, ?, NULL, status, ?, 'import' FROM customers WHERE rowid > ? AND batch_id = ?",
            params,
        )


def _match_value(key: str, values: Mapping[str, Any]) -> Any:
    """What a row is matched on for ``key``: the phone's key, the e-mail lower-cased, the ID."""
    if key == "phone":
        return values["phone_key"]
    if key == "email":
        return email_key(values["email"])
    return values[key]


class _FollowupWriter:
    """Follow-ups from their own file (``crm export --followups``): matched to existing customers;
    a row equal in customer, date and content to a stored follow-up is a duplicate."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        ctx: Context,
        defaults: dict[str, Any],
        summary: Summary,
        stamp: str,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.ctx = ctx
        self.summary = summary
        self.stamp = stamp
        self.defaults = defaults
        self.today = clock.today()
        # Audit rows of the customer's mirrored fields say "import log" (history shows them as
        # the follow-up, as for crm log); same warnings and batch as the import.
        self.log_ctx = dataclasses.replace(ctx, command="import log")

    def write(self, chunk: list[Row]) -> list[tuple[int, list[Any], list[ValidationError]]]:
        bad: list[tuple[int, list[Any], list[ValidationError]]] = []
        conn = self.conn
        for line, values, cells, errors in chunk:
            if errors:
                bad.append((line, cells, errors))
                continue
            row = {**self.defaults, **values}
            missing = [k for k in ("customer_id", "date", "content") if not row.get(k)]
            if missing:
                bad.append((line, cells, [ValidationError(k, None, "required", row=line) for k in missing]))
                continue
            if not conn.execute("SELECT 1 FROM customers WHERE id = ?", (row["customer_id"],)).fetchone():
                bad.append((line, cells, [ValidationError("customer_id", row["customer_id"], "no_customer", row=line)]))
                continue
            try:  # the rule of crm log: a follow-up never lies in the future
                moves_last_followup(None, row["date"], self.today, field="date")
            except ValidationError as exc:
                exc.row = line
                bad.append((line, cells, [exc]))
                continue
            same = conn.execute(
                "SELECT id FROM followups WHERE customer_id = ? AND date = ? AND content = ? LIMIT 1",
                (row["customer_id"], row["date"], row["content"]),
            ).fetchone()
            if same is None and row.get("id") is not None:
                taken = conn.execute("SELECT 1 FROM followups WHERE id = ?", (row["id"],)).fetchone()
                if taken:
                    row.pop("id")
            if same is not None:
                if self.settings.on_duplicate == "error":
                    bad.append(
                        (
                            line,
                            cells,
                            [
                                ValidationError(
                                    "content",
                                    row["content"],
                                    "duplicate_followup",
                                    row=line,
                                    details={"other": same[0]},
                                )
                            ],
                        )
                    )
                else:
                    self.summary.unchanged += 1
                continue
            row.setdefault("created_at", self.stamp)
            row.setdefault("by", self.ctx.user or None)
            row["batch_id"] = self.ctx.batch_id
            keys = [k for k in (*FOLLOWUP_KEYS, "batch_id") if row.get(k) is not None]
            cur = conn.execute(
                f"INSERT INTO followups ({', '.join(_quote(k) for k in keys)}) VALUES ({', '.join('?' * len(keys))})",
                [row[k] for k in keys],
            )
            row["id"] = cur.lastrowid
            # As crm log does: audited, and the customer mirrors it when it is the latest (its
            # last follow-up date never moves backwards), so import undo can put it back.
            mirror(conn, current_record(conn, row["customer_id"]), row, self.log_ctx, self.stamp)
            self.summary.followups += 1
            self.summary.added += 1
        return bad

    def finish(self) -> None:
        pass


def _quote(name: str) -> str:
    return f'"{name}"'


__all__ = [
    "FOLLOWUP_LABELS",
    "ImportFailed",
    "Mapping_",
    "Plan",
    "customer_aliases",
    "detect_target",
    "followup_aliases",
    "Settings",
    "Summary",
    "BATCH_COLUMNS",
    "UndoResult",
    "batch",
    "batches",
    "customer_converter",
    "load_mapping",
    "parse_pairs",
    "run_import",
    "undo",
]
