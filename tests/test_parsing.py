"""Tests for crmcli.parsing: table-driven examples plus hypothesis properties."""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crmcli import parsing
from crmcli.errors import ParseError
from crmcli.parsing import (
    REASONS,
    check_not_placeholder,
    fen_to_yuan,
    format_amount,
    normalize_width,
    parse_amount,
    parse_date,
    parse_due,
    parse_email,
    parse_grade,
    parse_int_range,
)

FAST = settings(max_examples=200, deadline=None)
D = datetime.date


def fullwidth(text: str) -> str:
    """ASCII -> full-width forms, as a Chinese IME types them."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def reason_of(func: Callable[[], object]) -> str:
    with pytest.raises(ParseError) as info:
        func()
    reason = info.value.reason
    assert reason in REASONS, reason
    en, zh = REASONS[reason]
    en.format(**info.value.details)  # every placeholder is filled by the details
    zh.format(**info.value.details)
    return reason


# ------------------------------------------------------------------ REASONS


def test_every_reason_used_is_defined_and_every_defined_reason_is_used() -> None:
    source = Path(parsing.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r"ParseError\(\s*\"(\w+)\"", source))
    assert used, "scan found no ParseError calls"
    assert used <= set(REASONS), used - set(REASONS)
    assert set(REASONS) <= used, set(REASONS) - used


@pytest.mark.parametrize("key", sorted(REASONS))
def test_reason_messages_are_bilingual_with_the_same_placeholders(key: str) -> None:
    en, zh = REASONS[key]
    assert en and zh and en != zh
    fields = re.compile(r"\{(\w+)\}")
    assert set(fields.findall(en)) == set(fields.findall(zh))


def test_no_parse_reason_collides_with_i18n() -> None:
    i18n = pytest.importorskip("crmcli.i18n")
    assert not set(REASONS) & set(getattr(i18n, "REASONS", {}))


# ------------------------------------------------------------------ empty input

ALL_PARSERS: list[Callable[[str], object]] = [
    normalize_width,
    parse_email,
    parse_date,
    lambda s: parse_due(s, D(2024, 1, 1)),
    parse_amount,
    check_not_placeholder,
    parse_grade,
    lambda s: parse_int_range(s, 1, 5),
]


@pytest.mark.parametrize("func", ALL_PARSERS)
@pytest.mark.parametrize("value", ["", "   ", "\u3000", "\t\n", "\ufeff "])
def test_empty_is_refused(func: Callable[[str], object], value: str) -> None:
    assert reason_of(lambda: func(value)) == "empty"


def test_normalize_width() -> None:
    assert normalize_width("  １３８ＡＢＣ（）－＋　ｘ ") == "138ABC()-+ x"
    assert normalize_width("\ufeff2024") == "2024"


# ------------------------------------------------------------------ e-mail

EMAILS_GOOD = [
    ("zunigavanessa@smith.info", "zunigavanessa@smith.info"),
    ("Vanessa.Zuniga@Smith.INFO", "Vanessa.Zuniga@smith.info"),
    ("  a+tag@example.com ", "a+tag@example.com"),
    ("ｔｅｓｔ＠ｅｘａｍｐｌｅ．ｃｏｍ", "test@example.com"),
    ("zhang@例子.中国", "zhang@例子.中国"),
    ("zhang@例子。公司", "zhang@例子.公司"),
    ("li@mail.xn--fiqs8s", "li@mail.xn--fiqs8s"),
    ("o'brien@sub-domain.example.co.uk", "o'brien@sub-domain.example.co.uk"),
    ("x@a1.io", "x@a1.io"),
]
EMAILS_BAD = [
    ("plainaddress", "email_format"),
    ("a@b", "email_format"),
    ("a@@b.com", "email_format"),
    ("a@b@c.com", "email_format"),
    ("@example.com", "email_format"),
    ("a@.com", "email_format"),
    ("a@b.c", "email_format"),
    ("a@b.c0m", "email_format"),
    ("a@-b.com", "email_format"),
    ("a@b-.com", "email_format"),
    ("a@b..com", "email_format"),
    (".a@b.com", "email_format"),
    ("a..b@c.com", "email_format"),
    ("a b@c.com", "email_format"),
    ("张三@例子.中国", "email_format"),
    ("a@b_c.com", "email_format"),
    ("a" * 65 + "@b.com", "email_format"),
    ("a@" + "b" * 250 + ".com", "email_too_long"),
]


@pytest.mark.parametrize(("raw", "stored"), EMAILS_GOOD)
def test_parse_email_good(raw: str, stored: str) -> None:
    assert parse_email(raw) == stored
    assert parse_email(stored) == stored


@pytest.mark.parametrize(("raw", "reason"), EMAILS_BAD)
def test_parse_email_bad(raw: str, reason: str) -> None:
    assert reason_of(lambda: parse_email(raw)) == reason


# ------------------------------------------------------------------ dates

DATES_GOOD = [
    ("2024-05-03", D(2024, 5, 3)),
    ("2024-5-3", D(2024, 5, 3)),
    ("2024/5/3", D(2024, 5, 3)),
    ("2024.05.03", D(2024, 5, 3)),
    ("2024年5月3日", D(2024, 5, 3)),
    ("2024年05月03日", D(2024, 5, 3)),
    ("2024 年 5 月 3 日", D(2024, 5, 3)),
    ("２０２４年５月３日", D(2024, 5, 3)),
    ("２０２４－０５－０３", D(2024, 5, 3)),
    ("20240503", D(2024, 5, 3)),
    ("2024-05-03T10:00:00", D(2024, 5, 3)),
    ("2024-05-03T10:00:00Z", D(2024, 5, 3)),
    ("2024-05-03T10:00:00.123+08:00", D(2024, 5, 3)),
    ("2024-05-03 10:00", D(2024, 5, 3)),
    ("24/08/2020", D(2020, 8, 24)),
    ("24-08-2020", D(2020, 8, 24)),
    ("24.08.2020", D(2020, 8, 24)),
    ("08/24/2020", D(2020, 8, 24)),
    ("31/12/99", D(1999, 12, 31)),  # 2031-12-99 is no date: not ambiguous
    ("24/08/2020 10:30", D(2020, 8, 24)),
    ("31/12/69", D(2069, 12, 31)),
    ("31/12/70", D(1970, 12, 31)),
    ("1900-01-01", D(1900, 1, 1)),
    ("2100-12-31", D(2100, 12, 31)),
    ("2024-02-29", D(2024, 2, 29)),
]
DATES_BAD = [
    ("2023-02-29", "date_invalid"),
    ("2024-13-01", "date_invalid"),
    ("2024-00-10", "date_invalid"),
    ("2024-04-31", "date_invalid"),
    ("20240230", "date_invalid"),
    ("2024年13月1日", "date_invalid"),
    ("31/31/2020", "date_invalid"),
    ("0/5/2020", "date_invalid"),
    ("1899-12-31", "date_out_of_range"),
    ("2101-01-01", "date_out_of_range"),
    ("99999999", "date_out_of_range"),
    ("2/6/20", "date_ambiguous"),
    ("24/8/20", "date_ambiguous_year"),  # 2024-08-20 or 24 August 2020: refused, not guessed
    ("24-05-03", "date_ambiguous_year"),
    ("2/2/20", "date_ambiguous_year"),
    ("02/06/2020", "date_ambiguous"),
    ("hello", "date_format"),
    ("2024-05", "date_format"),
    ("2024-05/03", "date_format"),
    ("2024-05-03 25:00", "date_format"),
    ("2024-05-03x", "date_format"),
    ("24/08/202", "date_format"),
    ("May 3, 2024", "date_format"),
    ("3 days", "date_format"),
    ("١٢/٠٥/٢٠٢٤", "date_format"),  # Arabic-Indic digits are not ASCII digits
]


@pytest.mark.parametrize(("raw", "expected"), DATES_GOOD)
def test_parse_date_good(raw: str, expected: datetime.date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), DATES_BAD)
def test_parse_date_bad(raw: str, reason: str) -> None:
    assert reason_of(lambda: parse_date(raw)) == reason


@pytest.mark.parametrize(
    ("raw", "dayfirst", "expected"),
    [
        ("2/6/20", True, D(2020, 6, 2)),
        ("2/6/20", False, D(2020, 2, 6)),
        ("24/08/2020", True, D(2020, 8, 24)),
        ("08/24/2020", False, D(2020, 8, 24)),
        ("2024-05-03", True, D(2024, 5, 3)),  # year-first ignores dayfirst
        ("2024-05-03", False, D(2024, 5, 3)),
    ],
)
def test_parse_date_dayfirst(raw: str, dayfirst: bool, expected: datetime.date) -> None:
    assert parse_date(raw, dayfirst=dayfirst) == expected


def test_parse_date_dayfirst_contradicting_the_value_is_invalid() -> None:
    assert reason_of(lambda: parse_date("08/24/2020", dayfirst=True)) == "date_invalid"
    assert reason_of(lambda: parse_date("24/08/2020", dayfirst=False)) == "date_invalid"


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        ("03.05.2024", "%d.%m.%Y", D(2024, 5, 3)),
        ("05/03/24", "%m/%d/%y", D(2024, 5, 3)),
        ("01/01/69", "%m/%d/%y", D(2069, 1, 1)),
        ("01/01/70", "%m/%d/%y", D(1970, 1, 1)),
        ("０３.０５.２０２４", "%d.%m.%Y", D(2024, 5, 3)),
    ],
)
def test_parse_date_with_format(raw: str, fmt: str, expected: datetime.date) -> None:
    assert parse_date(raw, date_format=fmt) == expected


@pytest.mark.parametrize(
    ("raw", "fmt", "reason"),
    [
        ("2024-05-03", "%d.%m.%Y", "date_format_mismatch"),  # only the given format is tried
        ("31.02.2024", "%d.%m.%Y", "date_invalid"),
        ("03.05.1800", "%d.%m.%Y", "date_out_of_range"),
        ("03.05.2024", "%", "date_format_mismatch"),
    ],
)
def test_parse_date_with_format_bad(raw: str, fmt: str, reason: str) -> None:
    assert reason_of(lambda: parse_date(raw, date_format=fmt)) == reason


def test_real_world_sample_dates_parse_with_dayfirst() -> None:
    data = Path("/work/shared/data")
    if not data.is_dir():
        pytest.skip("sample data not present")
    import csv

    for name in ("customers-100-ddmmyyyy.csv", "customers-100-dmyy.csv"):
        with open(data / name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                parse_date(row["Subscription Date"], dayfirst=True)
                if row["Email"].strip():
                    assert parse_email(row["Email"]) == row["Email"].strip()


DATES = st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31))


def year_first_renderings(d: datetime.date) -> list[str]:
    y, m, dd = d.year, d.month, d.day
    return [
        d.isoformat(),
        f"{y}-{m}-{dd}",
        f"{y}/{m}/{dd}",
        f"{y}/{m:02d}/{dd:02d}",
        f"{y}.{m:02d}.{dd:02d}",
        f"{y}年{m}月{dd}日",
        f"{y}年{m:02d}月{dd:02d}日",
        f"{y}{m:02d}{dd:02d}",
        f"{d.isoformat()}T10:00:00",
        f"{d.isoformat()} 10:00",
        fullwidth(d.isoformat()),
        fullwidth(f"{y}年{m}月{dd}日"),
    ]


@FAST
@given(DATES)
def test_every_year_first_rendering_round_trips(d: datetime.date) -> None:
    for text in year_first_renderings(d):
        assert parse_date(text) == d, text
        assert parse_date(text, dayfirst=True) == d, text
        assert parse_date(text, dayfirst=False) == d, text


@FAST
@given(DATES, st.sampled_from(["/", "-", "."]), st.booleans())
def test_day_month_renderings_round_trip(d: datetime.date, sep: str, short_year: bool) -> None:
    if short_year:
        assume(1970 <= d.year <= 2069)
        year = f"{d.year % 100:02d}"
    else:
        year = str(d.year)
    dmy = f"{d.day}{sep}{d.month}{sep}{year}"
    mdy = f"{d.month:02d}{sep}{d.day:02d}{sep}{year}"
    assert parse_date(dmy, dayfirst=True) == d
    assert parse_date(mdy, dayfirst=False) == d
    for text, first, second in ((dmy, d.day, d.month), (mdy, d.month, d.day)):
        if not (d.day > 12 or d.day == d.month):
            assert reason_of(lambda t=text: parse_date(t)) == "date_ambiguous"
        elif short_year and _is_date(2000 + first, second, int(year)):  # also readable as YY-MM-DD
            assert reason_of(lambda t=text: parse_date(t)) == "date_ambiguous_year"
        else:
            assert parse_date(text) == d


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ due dates

TODAY = D(2024, 1, 31)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3d", D(2024, 2, 3)),
        ("+3d", D(2024, 2, 3)),
        ("0d", TODAY),
        ("2w", D(2024, 2, 14)),
        ("1m", D(2024, 2, 29)),  # calendar month, clamped to month end
        ("1y", D(2025, 1, 31)),
        ("3D", D(2024, 2, 3)),
        ("3 days", D(2024, 2, 3)),
        ("1 week", D(2024, 2, 7)),
        ("2 months", D(2024, 3, 31)),
        ("today", TODAY),
        ("Tomorrow", D(2024, 2, 1)),
        ("今天", TODAY),
        ("明天", D(2024, 2, 1)),
        ("后天", D(2024, 2, 2)),
        ("3天", D(2024, 2, 3)),
        ("2周", D(2024, 2, 14)),
        ("1个月", D(2024, 2, 29)),
        ("1个星期", D(2024, 2, 7)),
        ("1年", D(2025, 1, 31)),
        ("３天", D(2024, 2, 3)),
        ("2024-06-01", D(2024, 6, 1)),
        ("2024年6月1日", D(2024, 6, 1)),
    ],
)
def test_parse_due_good(raw: str, expected: datetime.date) -> None:
    assert parse_due(raw, TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("-3d", "due_negative"),
        ("-1个月", "due_negative"),
        ("－２ｗ", "due_negative"),
        ("3x", "date_format"),
        ("soon", "date_format"),
        ("99999999d", "date_out_of_range"),
        ("100y", "date_out_of_range"),
        ("2/6/20", "date_ambiguous"),
    ("24/8/20", "date_ambiguous_year"),  # 2024-08-20 or 24 August 2020: refused, not guessed
    ("24-05-03", "date_ambiguous_year"),
    ("2/2/20", "date_ambiguous_year"),
    ],
)
def test_parse_due_bad(raw: str, reason: str) -> None:
    assert reason_of(lambda: parse_due(raw, TODAY)) == reason


def test_parse_due_passes_date_options_through() -> None:
    assert parse_due("2/6/20", TODAY, dayfirst=True) == D(2020, 6, 2)
    assert parse_due("06|02|2020", TODAY, date_format="%m|%d|%Y") == D(2020, 6, 2)


# ------------------------------------------------------------------ amounts

AMOUNTS_GOOD = [
    ("12000", 1_200_000),
    ("12,000.50", 1_200_050),
    ("¥12000", 1_200_000),
    ("￥12,000", 1_200_000),
    ("12000元", 1_200_000),
    ("RMB 12000", 1_200_000),
    ("rmb12000", 1_200_000),
    ("CNY12000", 1_200_000),
    ("12000 CNY", 1_200_000),
    ("1.5万", 1_500_000),
    ("1.5万元", 1_500_000),
    ("¥1.23456万", 1_234_560),
    ("12000.5", 1_200_050),
    ("12000.50", 1_200_050),
    ("12000.500", 1_200_050),  # trailing zeros add no precision
    ("0", 0),
    ("0.01", 1),
    ("-0", 0),
    ("+5", 500),
    ("１２，０００．５０", 1_200_050),
    ("  ¥ 12,000.50 元 ", 1_200_050),
    ("10000000000000", 10**15),
    ("1,000,000", 100_000_000),
]
AMOUNTS_BAD = [
    ("12000.505", "amount_precision"),
    ("0.001", "amount_precision"),
    ("1.0000000000000000000000000000001", "amount_precision"),
    ("1.2345678万", "amount_precision"),
    ("-5", "amount_negative"),
    ("(5)", "amount_negative"),
    ("¥-5", "amount_negative"),
    ("-¥5", "amount_negative"),
    ("\u22125", "amount_negative"),
    ("1e5", "amount_format"),
    ("nan", "amount_format"),
    ("NaN", "amount_format"),
    ("inf", "amount_format"),
    ("Infinity", "amount_format"),
    ("abc", "amount_format"),
    ("1,2345", "amount_format"),
    ("12,00", "amount_format"),
    ("1.", "amount_format"),
    (".5", "amount_format"),
    ("1 000", "amount_format"),
    ("$12", "amount_format"),
    ("--5", "amount_format"),
    ("-¥-5", "amount_format"),
    ("١٢", "amount_format"),
    ("10000000000000.01", "amount_too_large"),
    ("10000000001万", "amount_too_large"),
    ("9" * 5000, "amount_too_large"),
]


@pytest.mark.parametrize(("raw", "fen"), AMOUNTS_GOOD)
def test_parse_amount_good(raw: str, fen: int) -> None:
    result = parse_amount(raw)
    assert result == fen and type(result) is int


@pytest.mark.parametrize(("raw", "reason"), AMOUNTS_BAD)
def test_parse_amount_bad(raw: str, reason: str) -> None:
    assert reason_of(lambda: parse_amount(raw)) == reason


@pytest.mark.parametrize(
    ("fen", "text", "yuan"),
    [
        (1_200_050, "12000.50", 12000.5),
        (1_200_000, "12000.00", 12000),
        (1, "0.01", 0.01),
        (0, "0.00", 0),
        (-50, "-0.50", -0.5),
        (10**15 - 1, "9999999999999.99", 9999999999999.99),
    ],
)
def test_format_amount_and_fen_to_yuan(fen: int, text: str, yuan: float) -> None:
    assert format_amount(fen) == text
    assert fen_to_yuan(fen) == yuan
    assert type(fen_to_yuan(fen)) is (int if fen % 100 == 0 else float)


AMOUNTS = st.decimals(min_value=0, max_value=10**13, places=2, allow_nan=False, allow_infinity=False)


@FAST
@given(AMOUNTS)
def test_amount_renderings_parse_to_exact_fen(value: Decimal) -> None:
    fen = int(value * 100)
    plain = f"{value:f}"
    grouped = f"{value:,f}"
    for text in (plain, grouped, f"¥{grouped}", f"￥{plain}", f"{plain}元", f"RMB {grouped}", fullwidth(grouped)):
        assert parse_amount(text) == fen, text
    assert parse_amount(format_amount(fen)) == fen
    assert Decimal(str(fen_to_yuan(fen))) == value
    if fen % 1_000_000 == 0:
        assert parse_amount(f"{value / 10000:f}万") == fen


# ------------------------------------------------------------------ placeholders, grade, int

PLACEHOLDERS = [
    "未知", "待补充", "待定", "不详", "暂无", "无", "unknown", "UNKNOWN", "tbd", "TBD", "n/a", "N/A",
    "N / A", "na", "NA", "none", "None", "null", "NULL", "nil", "-", "--", "---", "?", "??", "？",
    "？？", "...", "…", "xxx", "XXX", "待填", "待确认", "  未知  ", "－", "\u2014",
]  # fmt: skip


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_are_refused(value: str) -> None:
    assert reason_of(lambda: check_not_placeholder(value)) == "placeholder"


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("Acme Ltd", "Acme Ltd"),
        ("  张三  ", "张三"),
        ("无锡华光", "无锡华光"),
        ("Nina", "Nina"),
        ("x", "x"),
        ("0", "0"),
    ],
)
def test_real_values_pass_placeholder_check(value: str, stored: str) -> None:
    assert check_not_placeholder(value) == stored


@pytest.mark.parametrize(
    ("raw", "grade"),
    [("A", "A"), ("b", "B"), (" c ", "C"), ("Ａ", "A"), ("ｂ", "B"), ("A级", "A"), ("B类", "B")],
)
def test_parse_grade_good(raw: str, grade: str) -> None:
    assert parse_grade(raw) == grade


@pytest.mark.parametrize("raw", ["D", "AB", "1", "A+", "级", "优"])
def test_parse_grade_bad(raw: str) -> None:
    assert reason_of(lambda: parse_grade(raw)) == "grade_invalid"


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("5", 5), (" 3 ", 3), ("３", 3), ("+4", 4), ("05", 5)])
def test_parse_int_range_good(raw: str, value: int) -> None:
    assert parse_int_range(raw, 1, 5) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("0", "int_range"), ("6", "int_range"), ("-1", "int_range"), ("3.5", "int_format"), ("three", "int_format"),
     ("٣", "int_format"), ("1e1", "int_format"), ("9" * 40, "int_format")],
)  # fmt: skip
def test_parse_int_range_bad(raw: str, reason: str) -> None:
    assert reason_of(lambda: parse_int_range(raw, 1, 5)) == reason


def test_int_range_details() -> None:
    with pytest.raises(ParseError) as info:
        parse_int_range("9", 1, 5)
    assert info.value.details == {"lo": 1, "hi": 5}


# ------------------------------------------------------------------ fuzz: only ParseError

FUZZED: list[tuple[str, Callable[[str], object]]] = [
    ("normalize_width", normalize_width),
    ("parse_email", parse_email),
    ("parse_date", parse_date),
    ("parse_date_dayfirst", lambda s: parse_date(s, dayfirst=True)),
    ("parse_date_format", lambda s: parse_date(s, date_format="%d/%m/%Y")),
    ("parse_due", lambda s: parse_due(s, TODAY)),
    ("parse_amount", parse_amount),
    ("check_not_placeholder", check_not_placeholder),
    ("parse_grade", parse_grade),
    ("parse_int_range", lambda s: parse_int_range(s, 1, 5)),
]
FUZZ_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(list("0123456789-/.:+, ()T年月日万元¥x天dmwy")), max_size=20).map("".join),
)


@pytest.mark.parametrize(("name", "func"), FUZZED, ids=[name for name, _ in FUZZED])
@settings(max_examples=100, deadline=None)
@given(text=FUZZ_TEXT)
def test_random_text_raises_only_parse_error(name: str, func: Callable[[str], object], text: str) -> None:
    try:
        func(text)
    except ParseError as exc:
        assert exc.reason in REASONS, (name, exc.reason)
        en, zh = REASONS[exc.reason]
        en.format(**exc.details)
        zh.format(**exc.details)


def test_dateutil_is_imported_lazily() -> None:
    import subprocess
    import sys

    # Measured against a bare "import crmcli" so a package __init__ is not blamed on us.
    code = (
        "import sys, crmcli; before = set(sys.modules); import crmcli.parsing; "
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('dateutil')))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ dates: offsets, Chinese forms

WEEKDAYS_ZH = "一二三四五六日"


@pytest.fixture
def china_time(monkeypatch: pytest.MonkeyPatch):
    """The local time zone of a user in China (UTC+8, no daylight saving)."""
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_offset_is_converted_to_local_time_not_dropped(china_time: None) -> None:
    assert parse_date("2024-05-03T23:30-08:00") == D(2024, 5, 4)  # 15:30 on the 4th in China
    assert parse_date("2024-05-03T23:30:00Z") == D(2024, 5, 4)
    assert parse_date("2024-05-04T01:00+09:00") == D(2024, 5, 4)
    assert parse_date("2024-05-04 07:59:59+08:00") == D(2024, 5, 4)
    assert parse_date("2024-05-03 23:30") == D(2024, 5, 3)  # no offset: local already


@FAST
@given(
    st.datetimes(min_value=datetime.datetime(1901, 1, 2), max_value=datetime.datetime(2099, 12, 30)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_any_offset_gives_the_local_day(moment: datetime.datetime, minutes: int) -> None:
    import time

    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    try:
        minutes -= minutes % 15
        aware = moment.replace(second=0, microsecond=0, tzinfo=datetime.timezone(datetime.timedelta(minutes=minutes)))
        text = aware.isoformat(timespec="minutes")
        assert parse_date(text) == aware.astimezone().date()
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年5月3日 14:30", D(2024, 5, 3)),
        ("2024年5月3日 星期五", D(2024, 5, 3)),
        ("2024年5月3日（周五）", D(2024, 5, 3)),
        ("2024年5月3日 礼拜五 下午2点30分", D(2024, 5, 3)),
        ("2024年5月3日14时", D(2024, 5, 3)),
        ("2024年05月03日 14:30:15", D(2024, 5, 3)),
    ],
)
def test_chinese_dates_with_weekday_and_time(text: str, expected: datetime.date) -> None:
    assert parse_date(text) == expected


def test_a_wrong_weekday_is_refused() -> None:
    with pytest.raises(ParseError) as info:
        parse_date("2024年5月3日 星期一")
    assert info.value.reason == "date_weekday" and "Friday" in str(info.value.details["weekday"])
    assert reason_of(lambda: parse_date("2024年5月3日 25:00")) == "date_format"


@FAST
@given(DATES, st.booleans(), st.sampled_from(["星期", "周", "礼拜"]), st.sampled_from(["", " ", "  "]))
def test_chinese_date_with_any_weekday_round_trips(d: datetime.date, time_too: bool, word: str, space: str) -> None:
    text = f"{d.year}年{d.month}月{d.day}日{space}{word}{WEEKDAYS_ZH[d.weekday()]}" + (" 09:05" if time_too else "")
    assert parse_date(text) == d
    wrong = WEEKDAYS_ZH[(d.weekday() + 1) % 7]
    assert reason_of(lambda: parse_date(f"{d.year}年{d.month}月{d.day}日 {word}{wrong}")) == "date_weekday"


@FAST
@given(st.integers(min_value=1, max_value=31), st.integers(min_value=1, max_value=12), st.integers(0, 99))
def test_two_digit_years_are_never_guessed_when_the_year_could_come_first(a: int, b: int, yy: int) -> None:
    text = f"{a:02d}-{b:02d}-{yy:02d}"
    try:
        parse_date(text)
    except ParseError:
        return
    assert not _is_date(2000 + a, b, yy)  # it passes only when it cannot be YY-MM-DD


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("徐  清", "徐清"),
        ("麦 秀", "麦秀"),
        ("欧阳\u3000娜娜", "欧阳娜娜"),
        ("\u00a0王强\t", "王强"),
        ("上海明达  制造\u2003有限公司", "上海明达 制造 有限公司"),  # long names keep one space
        ("Jane \u00a0 Doe", "Jane Doe"),
        ("王\u200b强", "王强"),
    ],
)
def test_names_are_normalised(raw: str, expected: str) -> None:
    assert parsing.normalize_name(raw) == expected


@FAST
@given(st.text(alphabet=st.sampled_from("王强徐清 \u3000\u00a0\tAb"), max_size=12))
def test_normalised_names_are_stable(raw: str) -> None:
    once = parsing.normalize_name(raw)
    assert parsing.normalize_name(once) == once
    assert "  " not in once and "\u3000" not in once and once == once.strip()
