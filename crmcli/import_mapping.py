"""How a file's columns become fields: mapping files, ``--map``/``--set``, header aliases, composed
fields, value tables and row filters. Moved out of :mod:`crmcli.importing`, which validates and
writes; this module decides what goes where and never writes.

A mapping file (TOML; every key optional, see ``mappings/*.toml``)::

    [columns]   "Column header" = "field"     field key or either label; "-" ignores the column
    [compose]   field = "{Column} text {Column}", or a list of such templates: the first whose
                result is valid is used; literal text next to an empty placeholder is dropped
    [values.FIELD]  "their label" = "option code"   a file's own labels for a dropdown field
    [set]       field = "value"                for new customers whose row lacks the field
    ignore      = ["Column", ...]              columns left out on purpose (listed, not lost)
    where       = ["Column=value", "Column!=value"]   only the rows that match all of them
    dayfirst, date_format, encoding, format, delimiter, sheet,
    header_row, skip_rows, no_header, drop_invalid_optional   as the options of the same name
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import clock, i18n
from .errors import ParseError, UsageError, ValidationError, shorten
from .fields import BY_KEY, all_fields, header_aliases, header_key
from .options import OptionSet

TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
# Separators inside a composed value: a part of the template between two of them is dropped
# whole when every placeholder in it is empty ("直拨 {直播}" with an empty cell gives nothing).
_SEPARATOR = re.compile(r"([;,；，、/|]|\n)")
_TRIM = " \t;,；，、/|"
FOLLOWUP_LABELS: dict[str, tuple[str, str]] = {
    "id": ("跟进编号", "Follow-up ID"),
    "customer_id": ("客户编号", "Customer ID"),
    "date": ("跟进时间", "Date"),
    "content": ("跟进内容", "Content"),
    "result": ("跟进结果", "Result"),
    "next_step": ("下一步计划", "Next step"),
    "next_date": ("下次跟进日期", "Next follow-up date"),
    "channel": ("跟进方式", "Channel"),
    "kind": ("跟进类型", "Kind"),
    "satisfaction": ("满意度", "Satisfaction"),
    "by": ("记录人", "By"),
    "created_at": ("创建时间", "Created"),
}
_TODAY = frozenset({"today", "今天", "今日"})

i18n.REASONS.setdefault(
    "option_unmapped",
    (
        "is not one of {allowed}; to read the file's own label, add under [values.{field}] in the mapping file: "
        '"{value}" = "CODE"',
        '不是可选值之一（{allowed}）；要沿用文件自己的写法，请在映射文件的 [values.{field}] 下添加："{value}" = "代码"',
    ),
)


# ---------------------------------------------------------------------------- settings


@dataclass
class Mapping_:
    """How the file's columns become fields: ``--map``, a mapping file, and ``--set`` defaults."""

    columns: dict[str, str] = field(default_factory=dict)  # header -> field key ("" = ignore)
    compose: dict[str, str | list[str]] = field(default_factory=dict)  # field -> "{Column} {Column}" or alternatives
    ignore: list[str] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)  # field key -> raw value
    dayfirst: bool | None = None
    date_format: str | None = None
    encoding: str | None = None
    format: str | None = None
    delimiter: str | None = None
    phone_region: str | None = None  # helper D's phones.default_region reads it
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {their label: option code}
    where: list[str] = field(default_factory=list)  # "Column=value" / "Column!=value"
    sheet: str | None = None
    header_row: int | None = None
    skip_rows: int | None = None
    no_header: bool | None = None
    drop_invalid_optional: bool | None = None

    def merged(self, other: Mapping_) -> Mapping_:
        """``other`` (the command line) wins over ``self`` (the mapping file)."""

        def pick(name: str) -> Any:
            mine = getattr(other, name)
            return mine if mine is not None else getattr(self, name)

        return Mapping_(
            columns={**self.columns, **other.columns},
            compose={**self.compose, **other.compose},
            ignore=[*self.ignore, *other.ignore],
            defaults={**self.defaults, **other.defaults},
            dayfirst=pick("dayfirst"),
            date_format=other.date_format or self.date_format,
            encoding=other.encoding or self.encoding,
            format=other.format or self.format,
            delimiter=other.delimiter or self.delimiter,
            phone_region=other.phone_region or self.phone_region,
            values={k: {**self.values.get(k, {}), **other.values.get(k, {})} for k in {*self.values, *other.values}},
            where=[*self.where, *other.where],
            sheet=other.sheet or self.sheet,
            header_row=pick("header_row"),
            skip_rows=pick("skip_rows"),
            no_header=pick("no_header"),
            drop_invalid_optional=pick("drop_invalid_optional"),
        )


_KNOWN = {
    "columns", "compose", "ignore", "set", "dayfirst", "date_format", "encoding", "format", "delimiter",
    "phone_region", "values", "where", "sheet", "header_row", "skip_rows", "no_header", "drop_invalid_optional",
}  # fmt: skip


def load_mapping(path: str | Path) -> Mapping_:
    """Read a mapping file (TOML); see the module docstring for its keys."""
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UsageError(
            f"cannot read the mapping file {path}: {exc.strerror}", zh=f"无法读取映射文件 {path}：{exc.strerror}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"the mapping file {path} is not valid TOML: {exc}", zh=f"映射文件 {path} 不是有效的 TOML：{exc}") from None
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise UsageError(
            f"mapping file {path}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN))}",
            zh=f"映射文件 {path}：未知的键 {', '.join(unknown)}；可用的键：{', '.join(sorted(_KNOWN))}",
        )

    def table(name: str, lists: bool = False, value: Any = None) -> dict[str, Any]:
        value = data.get(name, {}) if value is None else value

        def ok(v: Any) -> bool:
            return isinstance(v, str) or (
                lists and isinstance(v, list) and bool(v) and all(isinstance(i, str) for i in v)
            )

        if not isinstance(value, dict) or not all(ok(v) for v in value.values()):
            kind = "strings (or lists of strings)" if lists else "strings"
            kind_zh = "字符串（或字符串列表）" if lists else "字符串"
            raise UsageError(
                f"mapping file {path}: [{name}] must map names to {kind}", zh=f"映射文件 {path}：[{name}] 必须把名称映射到{kind_zh}"
            )
        return dict(value)

    def typed(name: str, kind: type | tuple[type, ...], what: str, what_zh: str) -> Any:
        value = data.get(name)
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise UsageError(f"mapping file {path}: {name} must be {what}", zh=f"映射文件 {path}：{name} 必须是{what_zh}")
        return value

    for name in ("ignore", "where"):
        items = data.get(name, [])
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise UsageError(f"mapping file {path}: {name} must be a list of strings", zh=f"映射文件 {path}：{name} 必须是字符串列表")
    raw_values = data.get("values", {})
    if not isinstance(raw_values, dict) or not all(isinstance(v, dict) for v in raw_values.values()):
        raise UsageError(
            f'mapping file {path}: [values.FIELD] tables map labels to codes: "Trade Show" = "trade_show"',
            zh=f'映射文件 {path}：[values.字段] 表把标签映射到代码："展会" = "trade_show"',
        )
    header_row = typed("header_row", int, "a row number (1 or more)", "行号（1 或更大）")
    skip_rows = typed("skip_rows", int, "a number of rows", "行数")
    if (header_row is not None and header_row < 1) or (skip_rows is not None and skip_rows < 0):
        raise UsageError(
            f"mapping file {path}: header_row counts from 1 and skip_rows cannot be negative",
            zh=f"映射文件 {path}：header_row 从 1 开始计数，skip_rows 不能为负数",
        )
    return Mapping_(
        columns=table("columns"),
        compose=table("compose", lists=True),
        ignore=list(data.get("ignore", [])),
        defaults={k.replace("-", "_"): v for k, v in table("set").items()},
        dayfirst=typed("dayfirst", bool, "true or false", " true 或 false"),
        date_format=typed("date_format", str, "a strptime format", " strptime 格式"),
        encoding=typed("encoding", str, "an encoding name", "编码名称"),
        format=typed("format", str, "a format name", "格式名称"),
        delimiter=typed("delimiter", str, "one character", "一个字符"),
        phone_region=typed("phone_region", str, "a region code such as CN", "地区代码（如 CN）"),
        values={k.replace("-", "_"): table(f"values.{k}", value=v) for k, v in raw_values.items()},
        where=list(data.get("where", [])),
        sheet=typed("sheet", str, "a sheet name", "工作表名称"),
        header_row=header_row,
        skip_rows=skip_rows,
        no_header=typed("no_header", bool, "true or false", " true 或 false"),
        drop_invalid_optional=typed("drop_invalid_optional", bool, "true or false", " true 或 false"),
    )


def parse_pairs(pairs: Iterable[str], what: str) -> dict[str, str]:
    """``["Column Name=field", ...]`` (split at the last ``=`` for --map, the first for --set)."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"{what} expects NAME=VALUE, not {shorten(pair)!r}", zh=f"{what} 应为 名称=值，而不是 {shorten(pair)!r}")
        left, _, right = pair.rpartition("=") if what == "--map" else pair.partition("=")
        out[left.strip() if what == "--map" else left.strip().replace("-", "_")] = (
            right.strip() if what == "--map" else right
        )
    return out


# ---------------------------------------------------------------------------- column plan


@dataclass
class Plan:
    target: str
    direct: list[tuple[int, str, Callable[[Any], Any]]]
    composed: list[tuple[str, Callable[[list[Any]], Any], Callable[[Any], Any]]]
    ignored: list[str]
    keys: set[str]
    unformula: bool
    notes: list[str] = field(default_factory=list)
    """Warnings the plan's converters add while rows are read (dropped optional values…)."""
    state: RowState = field(default_factory=lambda: RowState())
    typed: bool = False
    """The cells may be numbers (XLSX, JSON): long numbers in text fields are checked."""
    drops: bool = False
    """``--drop-invalid-optional``: converters need the line (``state``) for their warnings."""


Converter = Callable[[Any], Any]


@dataclass
class RowState:
    """The line being converted (set by :func:`watch_rows` before it hands a row on), for
    converters that add a warning naming it."""

    line: int = 0


def text_of(raw: Any) -> str:
    """A typed cell (XLSX, JSON) as the text a person would have typed."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        if raw.is_integer() and abs(raw) < 1e17:
            return str(int(raw))  # 13812345678.0 -> 13812345678: no ".0", no exponent
        return repr(raw)
    if isinstance(raw, dt.datetime):
        if raw.time() == dt.time(0):
            return raw.date().isoformat()
        return raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, (dict, list)):
        raise ParseError("not_scalar")
    return str(raw)


def compile_template(
    template: str | list[str], headers: Sequence[str], field_key: str, convert: Converter | None = None
) -> Callable[[list[Any]], Any]:
    """``"{First Name} {Last Name}"``. A list gives alternatives: the first whose result ``convert``
    accepts wins (when none does, the first non-empty one, so that its error is reported)."""
    if isinstance(template, list):
        options = [compile_template(t, headers, field_key) for t in template]

        def first(cells: list[Any]) -> Any:
            fallback = None
            for option in options:
                value = option(cells)
                if not value:
                    continue
                if convert is None:
                    return value
                try:
                    convert(value)
                except (ValidationError, ValueError):
                    fallback = fallback or value
                    continue
                return value
            return fallback

        return first
    lookup = header_index(headers)
    # The template in pieces between separators; each piece is literal text and placeholders.
    pieces: list[list[str | int]] = []
    for chunk in _SEPARATOR.split(template):
        if not chunk:
            continue
        parts: list[str | int] = []
        pos = 0
        for match in TEMPLATE_FIELD.finditer(chunk):
            parts.append(chunk[pos : match.start()])
            name = match.group(1)
            index = lookup.get(name, lookup.get(header_key(name)))
            if index is None:
                raise UsageError(
                    f"mapping for {field_key}: the file has no column {shorten(name)!r} "
                    f"(columns: {shorten(', '.join(headers), 200)})",
                    zh=f"{field_key} 的映射：文件中没有列 {shorten(name)!r}（现有列：{shorten(', '.join(headers), 200)}）",
                )
            parts.append(index)
            pos = match.end()
        parts.append(chunk[pos:])
        pieces.append(parts)
    indices = sorted({p for parts in pieces for p in parts if isinstance(p, int)})

    def render(cells: list[Any]) -> Any:
        values = {i: ("" if i >= len(cells) or cells[i] is None else text_of(cells[i]).strip()) for i in indices}
        if indices and not any(values.values()):
            return None
        out: list[str] = []
        for parts in pieces:
            slots = [p for p in parts if isinstance(p, int)]
            if slots and not any(values[p] for p in slots):
                continue  # every placeholder of this piece is empty: its literal text goes too
            out.append("".join(values[p] if isinstance(p, int) else p for p in parts))
        text = "".join(out)
        # Separators left doubled or dangling by dropped pieces: "a; ; b" -> "a; b"
        text = re.sub(r"\s*([;,；，、|])(?:\s*[;,；，、|])+", r"\1", text)
        return text.strip(_TRIM) or None

    return render


def header_index(headers: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(headers):
        index.setdefault(name, i)
        index.setdefault(header_key(name), i)
    return index


def field_of(name: str, aliases: Mapping[str, str]) -> str:
    """A field named by key or label, in --map or a mapping file; "" or "-" means ignore."""
    if name.strip() in ("", "-", "ignore"):
        return ""
    found = aliases.get(header_key(name))
    if found is None:
        raise ValidationError(
            "map", name, "unknown_field", details={"fields": ", ".join(sorted(set(aliases.values())))}
        )
    return found


def followup_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for key, (zh, en) in FOLLOWUP_LABELS.items():
        for spelling in (key, zh, en):
            aliases.setdefault(header_key(spelling), key)
    return aliases


def customer_aliases() -> dict[str, str]:
    aliases = header_aliases()
    aliases[header_key("archived_at")] = "archived_at"
    aliases[header_key("归档时间")] = "archived_at"
    return aliases


def detect_target(headers: Sequence[str]) -> str:
    keys = {header_key(h) for h in headers}
    if header_key("customer_id") in keys and header_key("content") in keys and header_key("name") not in keys:
        return "followups"
    return "customers"


TAG_HEADERS = frozenset(header_key(h) for h in ("tags", "标签", "Tags"))
"""Headers of a customer file's ``tags`` column (crmcli.tags; export writes one of them)."""


def make_plan(
    headers: Sequence[str],
    mapping: Mapping_,
    options: OptionSet,
    *,
    target: str | None,
    ignore_unknown: bool,
    unformula: bool,
    converter: Callable[[str, str], Converter],
    typed: bool = False,
) -> Plan:
    """Which column feeds which field, through which converter (``converter(target, key)``)."""
    from .fields import LANDLINE_HEADERS

    target = target or detect_target(headers)
    aliases = followup_aliases() if target == "followups" else customer_aliases()
    # industry_label, tier_label etc. from our own JSON export: the code column carries the value
    label_columns = {header_key(f.key) + "label" for f in all_fields() if f.kind == "choice"}
    explicit = {name: field_of(value, aliases) for name, value in mapping.columns.items()}
    explicit_keys = {header_key(name): value for name, value in explicit.items()}
    ignore = {header_key(name) for name in mapping.ignore}
    compose_fields = {field_of(k, aliases): v for k, v in mapping.compose.items()}
    template_columns = {
        header_key(m.group(1))
        for t in compose_fields.values()
        for part in ([t] if isinstance(t, str) else t)
        for m in TEMPLATE_FIELD.finditer(part)
    }
    # 固定电话 (a landline) is the phone only when the file has no other phone column.
    if target == "customers":
        others = {header_key(h) for h in headers} - LANDLINE_HEADERS
        if any(aliases.get(k) == "phone" for k in others) or "phone" in compose_fields:
            aliases = {k: v for k, v in aliases.items() if k not in LANDLINE_HEADERS}
    notes: list[str] = []
    state = RowState()
    values_tables = _values_tables(mapping, options, target)
    drop = bool(mapping.drop_invalid_optional)

    def wrapped(key: str) -> Converter:
        convert = converter(target, key)
        if key in values_tables:
            convert = _with_values(key, convert, values_tables[key])
        if drop and target == "customers" and key in BY_KEY and not BY_KEY[key].required:
            convert = _dropping(key, convert, notes, state)
        return convert

    direct: list[tuple[int, str, Converter]] = []
    taken: dict[str, str] = {}
    ignored: list[str] = []
    unknown: list[str] = []
    for index, name in enumerate(headers):
        norm = header_key(name)
        if name in explicit or norm in explicit_keys:
            key = explicit.get(name, explicit_keys.get(norm, ""))
        elif norm in ignore or not norm:
            key = ""
        elif norm in template_columns and aliases.get(norm) in compose_fields:
            continue  # "Company" would be the name, but the mapping composes the name from it
        elif norm in aliases:
            key = aliases[norm]
        elif target == "customers" and norm in TAG_HEADERS:
            key = "tags"  # not a field: its own table (see crmcli.tags)
        elif target == "customers" and norm in label_columns:
            key = ""
        elif norm in template_columns:
            continue
        else:
            unknown.append(name)
            continue
        if not key:
            ignored.append(name or f"(column {index + 1})")
            continue
        if key in compose_fields:
            raise UsageError(f"{key} is given both by column {shorten(name)!r} and by a composed mapping",
                             zh=f"{key} 同时由列 {shorten(name)!r} 和组合映射给出")
        if key in taken:
            raise UsageError(
                f"columns {shorten(taken[key])!r} and {shorten(name)!r} both map to {key}; "
                "map one of them with --map 'NAME=-'",
                zh=f"列 {shorten(taken[key])!r} 和 {shorten(name)!r} 都对应到 {key}；请用 --map '列名=-' 忽略其中之一",
            )
        taken[key] = name
        direct.append((index, key, wrapped(key)))
    if unknown:
        if not ignore_unknown:
            listed = shorten(", ".join(repr(u) for u in unknown), 300)
            raise UsageError(
                f"columns we cannot place: {listed}. Map them with --map 'Column=field' (or a mapping file), "
                "or pass --ignore-unknown",
                zh=f"无法对应到字段的列：{listed}。请用 --map '列名=字段'（或映射文件）指定，或加 --ignore-unknown",
            )
        ignored.extend(unknown)
    composed = []
    for key, template in compose_fields.items():
        convert = wrapped(key)
        composed.append((key, compile_template(template, headers, key, convert), convert))
    keys = {k for _, k, _ in direct} | {k for k, _, _ in composed}
    return Plan(
        target, direct, composed, ignored, keys, unformula=unformula, notes=notes, state=state, typed=typed, drops=drop
    )


# ---------------------------------------------------------------------------- [values.FIELD]


def _values_tables(mapping: Mapping_, options: OptionSet, target: str) -> dict[str, dict[str, str]]:
    """The [values.FIELD] tables with their codes checked and their labels normalised for lookup."""
    tables: dict[str, dict[str, str]] = {}
    for name, table in mapping.values.items():
        key = name
        if target == "customers" and key not in BY_KEY:
            key = customer_aliases().get(header_key(name), name)
        dropdown = (
            key in ("channel", "kind") if target == "followups" else key in BY_KEY and BY_KEY[key].kind == "choice"
        )
        if not dropdown:
            raise UsageError(
                f"[values.{shorten(name)}]: {shorten(name)} is not a dropdown field",
                zh=f"[values.{shorten(name)}]：{shorten(name)} 不是下拉字段",
            )
        checked: dict[str, str] = {}
        for label, code in table.items():
            try:
                checked[_value_key(label)] = options.resolve(key, code)
            except Exception as exc:  # ParseError or ValidationError: a code that is not an option
                raise UsageError(
                    f'[values.{key}] "{shorten(label)}" = "{shorten(code)}": {shorten(code)} is not a {key} option '
                    f"({getattr(exc, 'reason', exc)})",
                    zh=f'[values.{key}] "{shorten(label)}" = "{shorten(code)}"：{shorten(code)} 不是 {key} 的选项',
                ) from None
        tables[key] = checked
    return tables


def _value_key(text: str) -> str:
    return header_key(text)


def _with_values(key: str, convert: Converter, table: dict[str, str]) -> Converter:
    def lookup(raw: Any) -> Any:
        if isinstance(raw, str) and raw.strip():
            code = table.get(_value_key(raw))
            if code is not None:
                return convert(code)
        try:
            return convert(raw)
        except ValidationError as exc:
            if exc.reason != "option_unknown":
                raise
            raise ValidationError(
                key,
                raw,
                "option_unmapped",
                details={**exc.details, "field": key, "value": shorten(text_of(raw))},
            ) from None

    return lookup


# ---------------------------------------------------------------------------- rows


def _dropping(key: str, convert: Converter, notes: list[str], state: RowState) -> Converter:
    """``--drop-invalid-optional``: an invalid value of an optional field is dropped with a warning."""

    def drop(raw: Any) -> Any:
        try:
            return convert(raw)
        except ValidationError as exc:
            if len(notes) < 100:
                notes.append(
                    f"line {state.line}: {key} {shorten(text_of(raw))!r} dropped "
                    f"({i18n.reason(exc.reason, 'en', **exc.details)})"
                )
            elif len(notes) == 100:
                notes.append("more invalid optional values dropped (not listed)")
            return None

    return drop


def parse_where(specs: Iterable[str], headers: Sequence[str]) -> list[tuple[int, bool, str]]:
    """``Column=value`` / ``Column!=value`` -> (column index, equal?, value)."""
    lookup = header_index(headers)
    out: list[tuple[int, bool, str]] = []
    for spec in specs:
        left, op, right = spec.partition("!=")
        equal = False
        if not op:
            left, op, right = spec.partition("=")
            equal = True
        if not op or not left.strip():
            raise UsageError(
                f"--where expects 'Column=value' or 'Column!=value', not {shorten(spec)!r}",
                zh=f"--where 应为 '列=值' 或 '列!=值'，而不是 {shorten(spec)!r}",
            )
        name = left.strip()
        index = lookup.get(name, lookup.get(header_key(name)))
        if index is None:
            columns = shorten(", ".join(headers), 200)
            raise UsageError(
                f"--where: the file has no column {shorten(name)!r} (columns: {columns})",
                zh=f"--where：文件中没有列 {shorten(name)!r}（现有列：{columns}）",
            )
        out.append((index, equal, right.strip()))
    return out


def watch_rows(
    rows: Iterator[tuple[int, list[Any]]],
    plan: Plan,
    headers: Sequence[str],
    where: list[tuple[int, bool, str]],
    warnings: list[str],
) -> Iterator[tuple[int, list[Any]]]:
    """The rows ``--where`` keeps, with warnings for long numbers going into text fields (a
    spreadsheet keeps 15 significant digits: 6225880123456789012 was stored as 6225880123456780000)."""
    text_columns = [
        (index, key)
        for index, key, _ in plan.direct
        if key in BY_KEY and BY_KEY[key].kind in ("text", "longtext", "phone", "id")
    ]
    if not plan.typed:
        text_columns = []  # a text file's cells are text: nothing lost to a spreadsheet's 15 digits
    if not where and not text_columns and not plan.drops:
        return rows  # nothing to watch: the hot path keeps its one generator less
    return _watched(rows, plan, headers, where, warnings, text_columns)


def _watched(
    rows: Iterator[tuple[int, list[Any]]],
    plan: Plan,
    headers: Sequence[str],
    where: list[tuple[int, bool, str]],
    warnings: list[str],
    text_columns: list[tuple[int, str]],
) -> Iterator[tuple[int, list[Any]]]:
    left_out = 0
    long_numbers = 0
    for line, cells in rows:
        if where:
            keep = True
            for index, equal, value in where:
                cell = cells[index] if index < len(cells) else None
                text = "" if cell is None else text_of(cell).strip()
                if (text == value) != equal:
                    keep = False
                    break
            if not keep:
                left_out += 1
                continue
        for index, key in text_columns:
            raw = cells[index] if index < len(cells) else None
            if isinstance(raw, (int, float)) and not isinstance(raw, bool) and len(str(abs(int(raw)))) > 15:
                long_numbers += 1
                if long_numbers <= 10:
                    warnings.append(
                        f"line {line}: {shorten(headers[index])} ({key}) is the number {shorten(text_of(raw))}, of "
                        "more than 15 digits: a spreadsheet keeps only 15, check it (store it as text)"
                    )
        plan.state.line = line  # the converters run on this row next (see _dropping)
        yield line, cells
    if long_numbers > 10:
        warnings.append(f"{long_numbers - 10} more numbers of more than 15 digits in text fields")
    if left_out:
        warnings.append(f"{left_out} rows left out by --where")
    warnings.extend(plan.notes)


def add_defaults(raw: dict[str, str], keys: set[str], ctx: Any, target: str) -> dict[str, str]:
    """``crm add``'s defaults (first contact today, owner the current user, status potential)
    for new customers whose row leaves the field empty and ``--set`` does not give it; ``today``
    is read as today's date. (``keys``, the file's fields, do not matter: a row's value wins.)"""
    if target != "customers":
        return dict(raw)
    from .customers import defaults

    out = {k: v for k, v in defaults(ctx).items() if k not in raw}
    for key, value in raw.items():
        spec = BY_KEY.get(key)
        if spec is not None and spec.kind == "date" and value.strip().casefold() in _TODAY:
            value = clock.today().isoformat()
        out[key] = value
    return out


DUPLICATE_NOTES = 20


def note_duplicate(warnings: list[str], number: int, line: int, match: Mapping[str, Any], by: str, mode: str) -> None:
    """Say which record the ``number``-th duplicate row matched (the first :data:`DUPLICATE_NOTES`)."""
    if number > DUPLICATE_NOTES + 1:
        return
    if number == DUPLICATE_NOTES + 1:
        warnings.append("more duplicate rows (not listed)")
        return
    other = match.get("id") or "a row earlier in this file"
    what = {"skip": "skipped", "update": "updated it"}.get(mode, mode)
    warnings.append(f"line {line} duplicates {other} (matched by {by}): {what}")
