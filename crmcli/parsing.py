"""Parsers for typed-in values: e-mails, dates, due dates, amounts, grades (phones: crmcli.phones).

Pure functions without I/O. Each strips its input, then returns the canonical value to
store or raises :class:`~crmcli.errors.ParseError` with a key of :data:`REASONS`. A parser
never knows which field it parses; the caller adds field name and value to the message.

Regexes use ``re.ASCII`` wherever digits matter: in Python ``\\d`` also matches
Arabic-Indic and other digits that NFKC leaves alone, and those must not reach the database.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Context, Decimal

from crmcli.errors import ParseError

__all__ = [
    "REASONS",
    "check_not_placeholder",
    "fen_to_yuan",
    "format_amount",
    "is_masked",
    "mask_phone",
    "normalize_name",
    "normalize_width",
    "parse_amount",
    "parse_date",
    "parse_due",
    "parse_email",
    "parse_grade",
    "parse_int_range",
    "parse_phone",
    "phone_key",
]

MIN_YEAR = 1900
MAX_YEAR = 2100
EMAIL_MAX_LEN = 254
AMOUNT_MAX_YUAN = 10**13

# (English, Chinese). Placeholders are filled from ParseError.details. Messages never name
# the field or repeat the value: the caller puts "field: value:" in front.
REASONS: dict[str, tuple[str, str]] = {
    "empty": ("is empty", "为空"),
    "placeholder": (
        "is a vague placeholder (such as unknown, TBD, N/A, 未知, 待补充); enter the real value",
        "是含糊的占位值（如 未知、待补充、TBD、N/A）；请填写真实的值",
    ),
    "email_too_long": (
        "e-mail address is longer than {max} characters",
        "邮箱地址超过 {max} 个字符",
    ),
    "email_format": (
        "is not a valid e-mail address (expected name@example.com)",
        "不是有效的邮箱地址（应为 name@example.com 形式）",
    ),
    "date_format": (
        "is not a recognised date; use YYYY-MM-DD",
        "不是可识别的日期；请使用 YYYY-MM-DD",
    ),
    "date_format_mismatch": (
        "does not match the date format {format}",
        "与指定的日期格式 {format} 不符",
    ),
    "date_invalid": (
        "is not a real calendar date",
        "不是真实存在的日期",
    ),
    "date_ambiguous": (
        "ambiguous date: day and month could be swapped; use --dayfirst or --date-format",
        "日期有歧义：日和月可能颠倒；请使用 --dayfirst 或 --date-format",
    ),
    "date_ambiguous_year": (
        "ambiguous date: could be YY-MM-DD or DD-MM-YY; write the year in full, or use --dayfirst or --date-format",
        "日期有歧义：可能是 年-月-日 或 日-月-年；请写四位年份，或使用 --dayfirst 或 --date-format",
    ),
    "date_weekday": (
        "names the wrong weekday: that date is a {weekday}",
        "星期不符：该日期是{weekday}",
    ),
    "date_out_of_range": (
        "year must be between {min_year} and {max_year}",
        "年份必须在 {min_year} 到 {max_year} 之间",
    ),
    "due_negative": (
        "a due date cannot lie in the past; use a positive offset such as 3d",
        "到期日不能是过去的日期；请使用正数偏移，如 3d",
    ),
    "amount_format": (
        "is not an amount; use digits such as 12000, 12,000.50, ¥12000 or 1.5万",
        "不是金额；请使用数字，如 12000、12,000.50、¥12000 或 1.5万",
    ),
    "amount_precision": (
        "amount has more than 2 decimal places",
        "金额的小数超过 2 位",
    ),
    "amount_negative": (
        "amount cannot be negative",
        "金额不能为负数",
    ),
    "amount_too_large": (
        "amount is larger than {max} yuan",
        "金额超过 {max} 元",
    ),
    "grade_invalid": (
        "grade must be A, B or C",
        "等级必须是 A、B 或 C",
    ),
    "int_format": (
        "is not a whole number",
        "不是整数",
    ),
    "int_range": (
        "must be between {lo} and {hi}",
        "必须在 {lo} 到 {hi} 之间",
    ),
}


# ---------------------------------------------------------------------------- common

# Characters spreadsheets and CSV exports leave behind that neither strip() nor NFKC remove.
_INVISIBLE = str.maketrans(dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff"))
# Dash look-alikes NFKC keeps (hyphen, en/em dash, minus sign) all mean "-" in a number.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
_SPACES = re.compile(r"\s+")


def normalize_width(s: str) -> str:
    """NFKC-normalise and strip: full-width digits, letters, spaces and punctuation to ASCII.

    Raises ``ParseError("empty")`` when nothing is left.
    """
    text = unicodedata.normalize("NFKC", s.translate(_INVISIBLE)).strip()
    if not text:
        raise ParseError("empty")
    return text


def _normalized(s: str) -> str:
    """normalize_width, dashes unified and whitespace runs collapsed to one space."""
    return _SPACES.sub(" ", normalize_width(s).translate(_DASHES))


# ---------------------------------------------------------------------------- names

_NAME_SPACE = re.compile(r"\s+")  # every Unicode space: NBSP, U+3000 ideographic, tabs, newlines
_SHORT_CJK_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff](?: *[\u3400-\u4dbf\u4e00-\u9fff]){1,3}")


def normalize_name(s: str) -> str:
    """A customer's or contact's name as search will find it: invisible characters removed, any
    run of Unicode whitespace one space, and the padding Chinese spreadsheets put inside two- to
    four-character names (``徐  清``, ``麦 秀``) removed."""
    if s.isprintable():  # no Unicode space but " ", nothing invisible: the common case, fast
        text = s.strip(" ")
        if " " not in text:
            return text
        if "  " in text:
            text = _NAME_SPACE.sub(" ", text)
    else:
        text = _NAME_SPACE.sub(" ", s.translate(_INVISIBLE)).strip()
    if " " in text and _SHORT_CJK_NAME.fullmatch(text):
        return text.replace(" ", "")
    return text


# ---------------------------------------------------------------------------- phones

# Phones live in crmcli.phones (on libphonenumber). These names stay for callers written before
# it; each imports phones only when called, so importing parsing stays cheap.


def parse_phone(s: str) -> str:
    """Stored form of a phone number in the default region: :func:`crmcli.phones.parse_phone`."""
    from .phones import parse_phone as parse

    return parse(s)


def mask_phone(stored: str) -> str:
    """:func:`crmcli.phones.mask_phone`."""
    from .phones import mask_phone as mask

    return mask(stored)


def is_masked(s: str) -> bool:
    """True if the value has been masked (contains ``*``)."""
    return "*" in s


def phone_key(stored: str) -> str:
    """:func:`crmcli.phones.phone_key`."""
    from .phones import phone_key as key

    return key(stored)


# ---------------------------------------------------------------------------- e-mail

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*", re.ASCII)
# Kept as strings and compiled on first use (re's own cache): the CJK ranges make these two
# cost about 10 ms to compile, which every `crm` start-up would otherwise pay.
_EMAIL_LABEL = rf"[a-z0-9{_CJK}](?:[a-z0-9{_CJK}-]{{0,61}}[a-z0-9{_CJK}])?"
_EMAIL_TLD = rf"[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}}|[{_CJK}]{{2,63}}"


def parse_email(s: str) -> str:
    """Validated e-mail address with the domain lower-cased. IDN (CJK) domains are allowed."""
    text = normalize_width(s)
    if len(text) > EMAIL_MAX_LEN:
        raise ParseError("email_too_long", max=EMAIL_MAX_LEN)
    if text.count("@") != 1:
        raise ParseError("email_format")
    local, domain = text.split("@")
    # An IME in Chinese mode types 。 for the dot in a domain.
    domain = domain.replace("\u3002", ".").lower()
    if len(local) > 64 or not _EMAIL_LOCAL_RE.fullmatch(local):
        raise ParseError("email_format")
    labels = domain.split(".")
    if len(labels) < 2 or not all(re.fullmatch(_EMAIL_LABEL, label, re.ASCII) for label in labels):
        raise ParseError("email_format")
    if not re.fullmatch(_EMAIL_TLD, labels[-1], re.ASCII):
        raise ParseError("email_format")
    return f"{local}@{domain}"


# ---------------------------------------------------------------------------- dates

_TIME = (
    r"(?:(?:T|\s+)(?P<hh>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<ss>[0-9]{2})(?:[.,][0-9]+)?)?"
    r"\s*(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_YMD_RE = re.compile(
    r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})" + _TIME,
    re.ASCII | re.IGNORECASE,
)
# 2024年5月3日, with an optional weekday (星期五, 周五, (礼拜五)) and time (14:30, 下午2点30分)
_CJK_DATE_RE = re.compile(
    r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]?"
    r"(?:\s*\(?\s*(?:星期|周|礼拜)(?P<wd>[一二三四五六日天])\s*\)?)?"
    r"(?:\s*(?P<ampm>上午|早上|中午|下午|晚上)?\s*(?P<hh>[0-9]{1,2})\s*[:时点]\s*(?:(?P<mi>[0-9]{1,2})\s*分?)?"
    r"(?:\s*:?\s*(?P<ss>[0-9]{1,2})\s*秒?)?)?",
    re.ASCII,
)
_COMPACT_RE = re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})", re.ASCII)
_DMY_RE = re.compile(
    r"(?P<a>[0-9]{1,2})(?P<sep>[-/.])(?P<b>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4}|[0-9]{2})" + _TIME,
    re.ASCII | re.IGNORECASE,
)
_WEEKDAYS = "一二三四五六日"
_WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _make_date(year: int, month: int, day: int) -> datetime.date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError("date_out_of_range", min_year=MIN_YEAR, max_year=MAX_YEAR)
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ParseError("date_invalid") from None


def _check_time(match: re.Match[str]) -> None:
    if "hh" not in match.re.groupindex:
        return
    hh, mi, ss = match.group("hh"), match.group("mi"), match.group("ss")
    if hh is not None and (int(hh) > 23 or int(mi or 0) > 59 or (ss is not None and int(ss) > 60)):
        raise ParseError("date_format")


def _local_day(day: datetime.date, match: re.Match[str]) -> datetime.date:
    """The local calendar day of a date-time with a UTC offset (``…T23:30-08:00`` is the next day
    in China); a date-time without one is local already."""
    tz = match.groupdict().get("tz")
    if not tz or match.group("hh") is None:
        return day
    if tz.upper() == "Z":
        offset = datetime.timedelta(0)
    else:
        digits = tz[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if tz[0] == "-":
            offset = -offset
    if abs(offset) >= datetime.timedelta(hours=24):
        raise ParseError("date_format")
    second = min(int(match.group("ss") or 0), 59)
    moment = datetime.datetime(
        day.year, day.month, day.day, int(match.group("hh")), int(match.group("mi")), second,
        tzinfo=datetime.timezone(offset),
    )  # fmt: skip
    local = moment.astimezone().date()
    return _make_date(local.year, local.month, local.day)


def _check_weekday(day: datetime.date, match: re.Match[str]) -> None:
    wd = match.groupdict().get("wd")
    if wd is None:
        return
    named = _WEEKDAYS.index("日" if wd == "天" else wd)
    if named != day.weekday():
        raise ParseError(
            "date_weekday", weekday=f"{_WEEKDAY_EN[day.weekday()]} (星期{_WEEKDAYS[day.weekday()]})"
        )


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # pivot: 00-69 -> 2000-2069, 70-99 -> 1970-1999
        year += 2000 if year < 70 else 1900
    return year


def _strptime(text: str, date_format: str) -> datetime.date:
    try:
        parsed = datetime.datetime.strptime(text, date_format).date()
    except ValueError as exc:
        if "out of range" in str(exc):
            raise ParseError("date_invalid") from None
        raise ParseError("date_format_mismatch", format=date_format) from None
    year = parsed.year
    if "%y" in date_format and year == 1969:  # strptime pivots at 69, we pivot at 70
        year = 2069
    return _make_date(year, parsed.month, parsed.day)


def parse_date(s: str, *, dayfirst: bool | None = None, date_format: str | None = None) -> datetime.date:
    """A calendar date from ISO, Chinese (2024年5月3日), compact or D/M/Y and M/D/Y forms.

    Year-first forms are never ambiguous. For ``24/08/2020``-style input, ``dayfirst``
    picks the order; when it is None the order must follow from a number above 12, or
    both numbers must be equal, otherwise ``date_ambiguous`` is raised. With ``date_format``
    (a strptime format) only that format is tried.
    """
    text = _normalized(s)
    if date_format is not None:
        return _strptime(text, date_format)
    for pattern in (_YMD_RE, _CJK_DATE_RE, _COMPACT_RE):
        match = pattern.fullmatch(text)
        if match is not None:
            _check_time(match)
            day = _make_date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
            _check_weekday(day, match)
            return _local_day(day, match)
    match = _DMY_RE.fullmatch(text)
    if match is None:
        raise ParseError("date_format")
    _check_time(match)
    first, second = int(match.group("a")), int(match.group("b"))
    year = _full_year(match.group("y"))
    if dayfirst is None:
        if (first > 12 and second > 12) or 0 in (first, second):
            raise ParseError("date_invalid")
        if first <= 12 and second <= 12 and first != second:
            raise ParseError("date_ambiguous")
        if len(match.group("y")) == 2 and _valid(_full_year(match.group("a")), second, int(match.group("y"))):
            raise ParseError("date_ambiguous_year")  # 24-05-03: 3 May 2024 or 24 May 2003?
        dayfirst = first > 12
    day, month = (first, second) if dayfirst else (second, first)
    return _local_day(_make_date(year, month, day), match)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


_RELATIVE_RE = re.compile(
    r"(?P<sign>[+-])?\s*(?P<n>[0-9]+)\s*"
    r"(?P<unit>days?|d|天|weeks?|w|周|个?星期|个?礼拜|months?|m|个月|years?|y|年)",
    re.ASCII | re.IGNORECASE,
)
# First character of the unit (after 个) -> relativedelta keyword.
_UNITS = {
    "d": "days",
    "天": "days",
    "w": "weeks",
    "周": "weeks",
    "星": "weeks",
    "礼": "weeks",
    "m": "months",
    "月": "months",
    "y": "years",
    "年": "years",
}
_NAMED_DAYS = {"today": 0, "今天": 0, "今日": 0, "tomorrow": 1, "明天": 1, "明日": 1, "后天": 2}


def parse_due(
    s: str,
    today: datetime.date,
    *,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> datetime.date:
    """A due date: ``3d``, ``+2w``, ``1m`` (calendar months), ``1y``, ``today``, ``tomorrow``,
    ``明天``, ``后天``, ``3天``, ``2周``, ``1个月`` relative to ``today``; otherwise a date
    as :func:`parse_date` reads it. Negative offsets are refused.
    """
    text = _normalized(s)
    named = _NAMED_DAYS.get(text.casefold())
    if named is not None:
        return today + datetime.timedelta(days=named)
    match = _RELATIVE_RE.fullmatch(text)
    if match is None:
        return parse_date(text, dayfirst=dayfirst, date_format=date_format)
    if match.group("sign") == "-":
        raise ParseError("due_negative")
    count = int(match.group("n")) if len(match.group("n")) <= 6 else 10**6
    unit = _UNITS[match.group("unit").lower().lstrip("个")[0]]
    try:
        if unit in ("days", "weeks"):
            result = today + datetime.timedelta(**{unit: count})
        else:
            from dateutil.relativedelta import relativedelta  # lazy: start-up time

            result = today + relativedelta(**{unit: count})
    except (OverflowError, ValueError):
        raise ParseError("date_out_of_range", min_year=MIN_YEAR, max_year=MAX_YEAR) from None
    return _make_date(result.year, result.month, result.day)


# ---------------------------------------------------------------------------- amounts

_AMOUNT_RE = re.compile(
    r"(?P<sign>[-+])?\s*(?P<cur>¥|rmb|cny)?\s*(?P<sign2>[-+])?\s*"
    r"(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)"
    r"\s*(?P<wan>万)?\s*(?P<unit>元|rmb|cny)?",
    re.ASCII | re.IGNORECASE,
)


def parse_amount(s: str) -> int:
    """An amount in yuan as integer fen: ``12,000.50``, ``¥12000``, ``12000元``, ``RMB 12000``,
    ``1.5万`` (15000 yuan). At most 2 decimal places; never negative.
    """
    text = _normalized(s)
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting notation for negatives
        negative, text = True, text[1:-1].strip()
    match = _AMOUNT_RE.fullmatch(text)
    if match is None or (match.group("sign") and match.group("sign2")):
        raise ParseError("amount_format")
    negative = negative or "-" in (match.group("sign"), match.group("sign2"))
    number = match.group("num").replace(",", "")
    # Context wide enough that scaleb below never rounds: the result is exact.
    exact = Context(prec=len(number) + 8)
    yuan = Decimal(number)
    if match.group("wan"):
        yuan = yuan.scaleb(4, context=exact)
    if yuan > AMOUNT_MAX_YUAN:
        raise ParseError("amount_too_large", max=AMOUNT_MAX_YUAN)
    fen = yuan.scaleb(2, context=exact)
    if fen != fen.to_integral_value(context=exact):
        raise ParseError("amount_precision")
    if negative and fen != 0:
        raise ParseError("amount_negative")
    return int(fen)


def format_amount(fen: int) -> str:
    """Fen as plain yuan text with 2 decimals: ``1200050`` -> ``12000.50``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def fen_to_yuan(fen: int) -> int | float:
    """Fen as a JSON number of yuan: ``1200000`` -> ``12000``, ``1200050`` -> ``12000.5``."""
    if fen % 100 == 0:
        return fen // 100
    return float(Decimal(fen).scaleb(-2))


# ---------------------------------------------------------------------------- misc

_PLACEHOLDERS = frozenset(
    {
        "未知",
        "待补充",
        "待定",
        "不详",
        "暂无",
        "无",
        "待填",
        "待确认",
        "unknown",
        "tbd",
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "xxx",
    }
)
# Only dashes, question marks, dots (-, --, ?, ??, ..., …) or only x's (xxx, xxxx).
_PLACEHOLDER_RE = re.compile(r"[-?.]+|x{3,}")


def check_not_placeholder(s: str) -> str:
    """Return the stripped value, or raise ``placeholder`` for 未知, TBD, N/A, -, ? and the like."""
    text = s.strip()
    key = normalize_width(text).translate(_DASHES).casefold()
    key = _SPACES.sub("", key)
    if key in _PLACEHOLDERS or _PLACEHOLDER_RE.fullmatch(key):
        raise ParseError("placeholder")
    return text


def parse_grade(s: str) -> str:
    """Customer grade ``A``, ``B`` or ``C`` (any case, full width, optional 级/类 suffix)."""
    text = normalize_width(s).upper()
    if text[-1:] in ("级", "类"):
        text = text[:-1].strip()
    if text not in ("A", "B", "C"):
        raise ParseError("grade_invalid")
    return text


_INT_RE = re.compile(r"[-+]?[0-9]{1,18}", re.ASCII)


def parse_int_range(s: str, lo: int, hi: int) -> int:
    """A whole number between ``lo`` and ``hi`` inclusive (e.g. satisfaction 1-5)."""
    text = normalize_width(s)
    if not _INT_RE.fullmatch(text):
        raise ParseError("int_format")
    value = int(text)
    if not lo <= value <= hi:
        raise ParseError("int_range", lo=lo, hi=hi)
    return value
