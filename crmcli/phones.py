"""Phone numbers: parsing, validation, normalisation, the duplicate key, display and masking.

Validation is libphonenumber's (the ``phonenumbers`` port): hand-written rules agreed with it on
only 81% of 1,094 real-world writings and turned US numbers into Chinese mobiles. What this module
adds around the library is what Chinese users write and the library does not read (``转 123``,
``分机123``, ``010-62345678-123``), the stored form Chinese users expect, masking, and the region
(:func:`default_region`).

``phonenumbers`` costs about 16 ms to import and loads its metadata per region on first use, so it
is imported only inside the functions that parse: listing, masking and start-up never load it.

Stored (and displayed) form, one per number whatever way it was written:

* Chinese mobiles: the 11 digits, ``13812345678``;
* Chinese landlines: trunk 0, area code, dash, local number, ``010-62345678``, ``0755-88889999``;
* other Chinese numbers (400/800 service numbers): the national grouping with dashes, ``400-810-8888``;
* an extension of a Chinese number: ``转123`` appended (``010-62345678转123``);
* every other number in international format, as the library writes it: ``+1 406-714-6467``,
  ``+852 2123 4567``, ``+1 406-714-6467 ext. 123``.

The duplicate key (``customers.phone_key``) is E.164 plus ``;ext=N``: ``+8613812345678``,
``+861062345678;ext=123``. A stored value that does not parse (kept from before validation was
this strict, see ``crm doctor phones``) keys as its bare digits, which no valid key equals.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import ParseError, UsageError
from .parsing import _DASHES, normalize_width

if TYPE_CHECKING:
    from .storage import Store

__all__ = [
    "DEFAULT_REGION",
    "ENV_REGION",
    "REASONS",
    "Phone",
    "check_region",
    "default_region",
    "is_masked",
    "mask_phone",
    "parse",
    "parse_phone",
    "phone_key",
]

DEFAULT_REGION = "CN"
ENV_REGION = "CRM_PHONE_REGION"
SETTING = "phone-region"
# Distinct raw writings remembered per process. An import parses every row's phone, and files
# repeat numbers (a company's switchboard on every row); bounded so memory stays flat.
CACHE_SIZE = 16384

# phonenumbers.SUPPORTED_REGIONS, written out so that checking a setting (which every command
# reading the settings does) never imports the library; a test holds the two equal.
_REGION_CODES = """
    AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG
    EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT
    HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR
    LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF
    NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO TR TT TV TW
    TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
"""
KNOWN_REGIONS = frozenset(_REGION_CODES.split())

# (English, Chinese), like parsing.REASONS; placeholders are filled from ParseError.details.
REASONS: dict[str, tuple[str, str]] = {
    "phone_masked": (
        "is a masked phone number (contains *); enter the full number",
        "是打码的电话号码（含 *）；请填写完整号码",
    ),
    "phone_not_number": (
        "is not a phone number",
        "不是电话号码",
    ),
    "phone_several": (
        "holds more than one phone number; keep one (the others can go in the notes)",
        "包含多个电话号码；请只保留一个（其余可写在备注中）",
    ),
    "phone_country": (
        "has a country code that does not exist",
        "国家/地区代码不存在",
    ),
    "phone_too_short": (
        "is too short to be a phone number in {region}",
        "位数太少，不是 {region} 的电话号码",
    ),
    "phone_local_only": (
        "has no area code (a local number?); write it with its area code, such as 0571-8888999",
        "没有区号（本地号码？）；请加上区号，如 0571-8888999",
    ),
    "phone_too_long": (
        "is too long to be a phone number in {region}",
        "位数太多，不是 {region} 的电话号码",
    ),
    "phone_length": (
        "has a length no phone number in {region} has",
        "位数不符合 {region} 电话号码的任何长度",
    ),
    "phone_invalid": (
        "is not a valid phone number in {region} (unassigned prefix, or the wrong length for its prefix)",
        "不是 {region} 的有效电话号码（号段未分配，或位数与号段不符）",
    ),
    "phone_cn_mobile_length": (
        "is not a valid Chinese mobile number: it has {digits} digits, a mobile has 11",
        "不是有效的中国手机号：有 {digits} 位，手机号应为 11 位",
    ),
    "phone_cn_unassigned": (
        "is not a valid Chinese mobile number: the prefix {prefix} is not assigned",
        "不是有效的中国手机号：号段 {prefix} 未分配",
    ),
    "phone_ambiguous": (
        "is written like the number {number} of {other}, but reads as {stored} in {region}: write the +1 "
        "(or use --phone-region {other}) if it is the first, or write it as numbers in {region} are written",
        "写法像 {other} 的号码 {number}，但在 {region} 读作 {stored}：若是前者，请写上 +1（或使用 --phone-region {other}）；"
        "若是后者，请按 {region} 的习惯书写",
    ),
    "phone_other_region": (
        "is not a valid number in {region}, but {number} is a valid number in {other}: "
        "write the + and country code, or use --phone-region {other}",
        "不是 {region} 的有效号码，但 {number} 是 {other} 的有效号码："
        "请写上 + 和国家/地区代码，或使用 --phone-region {other}",
    ),
}


class Phone(NamedTuple):
    stored: str
    """What is stored and shown (masked unless --reveal)."""
    key: str
    """E.164 plus ``;ext=N``: the duplicate key."""


# ---------------------------------------------------------------------------- the region


def check_region(value: str, source: str = SETTING) -> str:
    """``value`` as a region code libphonenumber knows (``cn`` -> ``CN``), or UsageError naming ``source``."""
    region = value.strip().upper()
    if region not in KNOWN_REGIONS:
        shown = value.strip()[:20]
        raise UsageError(
            f"{source}: {shown!r} is not a region libphonenumber knows; use a two-letter code such as CN, HK, TW, US, GB",
            zh=f"{source}：{shown!r} 不是 libphonenumber 认识的地区；请使用两个字母的代码，如 CN、HK、TW、US、GB",
        )
    return region


def default_region(store: Store | sqlite3.Connection | None = None, override: str | None = None) -> str:
    """The region of numbers written without a country code. The one place that decides it:

    ``override`` (an import's ``--phone-region``, else its mapping file's ``phone_region``), then
    ``$CRM_PHONE_REGION``, then the person's own ``crm config --user set phone-region``, then the
    team's ``crm config set phone-region`` in the database, then ``CN``.
    """
    if override is not None and override.strip():
        return check_region(override, "--phone-region (or the mapping file's phone_region)")
    env = os.environ.get(ENV_REGION, "")
    if env.strip():
        return check_region(env, ENV_REGION)
    from . import userconfig

    mine = userconfig.file_value("phone-region")
    if mine and mine.strip():
        return check_region(mine, "phone-region (crm config --user)")
    if store is not None:
        conn = store if isinstance(store, sqlite3.Connection) else store.conn
        try:
            row = conn.execute("SELECT value FROM config WHERE key = ?", (SETTING,)).fetchone()
        except sqlite3.OperationalError:  # a database before its first migration has no config table
            row = None
        if row and str(row[0]).strip():
            return check_region(str(row[0]), SETTING)
    return DEFAULT_REGION


# ---------------------------------------------------------------------------- parsing

# Extensions the library does not read: 转 / 分机 (and their traditional forms, 内线), with or
# without a dash or colon before the digits. ext, x, # and ;ext= it reads itself.
_CN_EXT_RE = re.compile(r"\s*-?\s*(?:转|轉|分机|分機|内线|內線)\s*[:：]?\s*([0-9]{1,10})\s*$", re.ASCII)
# 010-62345678-123: a dash and a short group after a complete number is an extension.
_DASH_EXT_RE = re.compile(r"^(.*[0-9)])\s*-\s*([0-9]{1,6})$", re.ASCII)
# Two numbers in one cell: a separator between two runs of at least 7 digits.
# Or two runs of 7 digits with other words between them: 13770672328(南)13911676175(北).
_SEVERAL_RE = re.compile(
    r"[0-9][0-9 ().-]{6,}\s*(?:[,，;；/、|]|\s或\s)\s*\+?[0-9][0-9 ().-]{6,}"
    r"|[0-9]{7,}[^0-9转轉分内內]*[^\x00-\x7f0-9转轉分内內][^0-9转轉分内內]*[0-9]{7,}"
)
_DIGITS_RE = re.compile(r"[0-9]", re.ASCII)
_CN_MOBILE_SHAPE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
# 1-813-324-8756, 1 (813) 324-8756, 1.813.324.8756: the North-American layout with its country code.
_NANP_LAYOUT = re.compile(r"1[ .-]?(?:\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-][0-9]{4}", re.ASCII)
_CN_LANDLINE_SHAPE = re.compile(r"(0[1-9][0-9]{1,2})-([1-9][0-9]{4,7})", re.ASCII)
_CN_MOBILE_STORED = re.compile(r"1[0-9]{10}(?:转[0-9]+)?")
# What _display writes for a Chinese number (checked exactly by parsing it back).
_CN_STORED_SHAPE = re.compile(r"(?:1[0-9]{10}|0[0-9]{2,3}-[0-9]{5,8}|[0-9]{3}-[0-9]{3,4}-[0-9]{3,4})(?:转[0-9]+)?")


@functools.lru_cache(maxsize=1)
def _cn_mobile_fast() -> re.Pattern[str]:
    """A valid Chinese mobile written as its 11 digits, by the library's own metadata patterns.

    An import's rows are mostly that; matching the metadata's patterns directly costs a
    microsecond instead of the library's full parse (a test holds the two to the same result).
    """
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    assert meta is not None and meta.mobile is not None and meta.general_desc is not None
    general = meta.general_desc.national_number_pattern
    mobile = meta.mobile.national_number_pattern
    return re.compile(rf"(?=(?:{general})$)(?:{mobile})", re.ASCII)


def parse(text: str, region: str = DEFAULT_REGION) -> Phone:
    """The stored form and duplicate key of a typed phone number, or ParseError with the reason.

    ``region`` is where a number without a country code belongs (:func:`default_region`). A
    Chinese mobile in its stored form (``13812345678``) reads as itself in any region, other
    stored Chinese forms (``010-62345678``) in any region where they are no valid number: so what
    crm exports re-imports.
    """
    result = _parse_cached(text, region)
    if isinstance(result, Phone):
        return result
    reason, details = result
    raise ParseError(reason, **dict(details))


def parse_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """The stored form of a typed phone number (see :func:`parse`)."""
    return parse(text, region).stored


def phone_key(stored: str) -> str:
    """The duplicate key of a stored (or typed) phone. Never raises: what does not parse keys as
    its digits, so a legacy value still matches its exact twin and no valid number."""
    if len(stored) == 11 and _CN_MOBILE_SHAPE.fullmatch(stored) and _cn_mobile_fast().fullmatch(stored):
        return "+86" + stored
    try:
        return parse(stored, DEFAULT_REGION).key
    except (ParseError, UsageError):
        try:
            return "".join(_DIGITS_RE.findall(normalize_width(stored)))
        except ParseError:
            return ""


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse_cached(text: str, region: str) -> Phone | tuple[str, tuple[tuple[str, Any], ...]]:
    # A cache of results, refusals included (an import meets the same bad cell on many rows).
    try:
        return _parse(text, region)
    except ParseError as exc:
        return exc.reason, tuple(exc.details.items())


def _parse(raw: str, region: str) -> Phone:
    text = raw.strip()
    if region == DEFAULT_REGION:
        if _CN_MOBILE_SHAPE.fullmatch(text) and _cn_mobile_fast().fullmatch(text):
            return Phone(text, "+86" + text)
        landline = _CN_LANDLINE_SHAPE.fullmatch(text)
        if landline is not None:
            fast = _cn_landline_fast(landline.group(1), landline.group(2))
            if fast is not None:
                return fast
    text = _normalized(raw)
    if region != DEFAULT_REGION and _CN_MOBILE_STORED.fullmatch(text):
        # A Chinese mobile exactly as crm stores it is that mobile in any region, so what crm
        # exports re-imports unchanged: a team set to US reads 13012345678 as the Chinese mobile,
        # not as 1 (301) 234-5678, which Americans write with punctuation.
        phone = _as_stored_cn(text)
        if phone is not None:
            return phone
    if "*" in text:
        raise ParseError("phone_masked")
    if _SEVERAL_RE.search(text):
        raise ParseError("phone_several")
    written = text
    match = _CN_EXT_RE.search(text)
    ext = None
    if match is not None:
        text, ext = text[: match.start()], match.group(1)
    try:
        phone = _library(text, region, ext)
    except ParseError as first:
        # 010-62345678-123: the library reads one long number; the number before the dash is it.
        dash = _DASH_EXT_RE.match(text) if ext is None else None
        if dash is not None:
            try:
                return _library(dash.group(1), region, dash.group(2))
            except ParseError:
                pass
        if region != DEFAULT_REGION and _CN_STORED_SHAPE.fullmatch(written):
            # Other Chinese stored forms (010-62345678) are ordinary national writings in many
            # countries: they read as Chinese only when they are no number of the region.
            phone = _as_stored_cn(written)
            if phone is not None:
                return phone
        raise first from None
    if _NANP_LAYOUT.fullmatch(text) and not phone.key.startswith("+1"):
        # 1-813-324-8756 is also the Chinese mobile 181 3324 8756, but nobody in China groups a
        # mobile 1-3-3-4: that is how North Americans write their numbers. Ask rather than guess.
        hint = _other_region(text)
        if hint is not None:
            raise ParseError("phone_ambiguous", region=region, number=hint[0], other=hint[1], stored=phone.stored)
    return phone


def _as_stored_cn(text: str) -> Phone | None:
    """The Chinese number whose stored form is exactly ``text``, or None."""
    head, _, extension = text.partition("转")
    try:
        phone = _library(head, DEFAULT_REGION, extension or None)
    except ParseError:
        return None
    return phone if phone.stored == text else None


def _normalized(raw: str) -> str:
    # Full-width digits and punctuation (NFKC), dash look-alikes, runs of spaces.
    return " ".join(normalize_width(raw).translate(_DASHES).split())


def _library(text: str, region: str, ext: str | None) -> Phone:
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat

    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        kind = exc.error_type
        if kind == NumberParseException.INVALID_COUNTRY_CODE:
            raise ParseError("phone_country") from None
        if kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
            raise ParseError("phone_too_short", region=region) from None
        if kind == NumberParseException.TOO_LONG:
            raise ParseError("phone_too_long", region=region) from None
        raise ParseError("phone_not_number") from None
    if ext is not None:
        if number.extension:
            raise ParseError("phone_not_number")  # two extensions
        number.extension = ext
    if not phonenumbers.is_valid_number(number):
        raise _refusal(number, text, region)
    key = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if number.extension:
        key += f";ext={number.extension}"
    return Phone(_display(number), key)


def _cn_landline_fast(area: str, local: str) -> Phone | None:
    """``0AREA-LOCAL`` (how crm stores a landline, and how most files write one) by the
    library's own metadata patterns, without its parse and formatting (the library spends about
    0.1 ms on a landline, most of it finding the area code). None: take the full path.

    For such text the library strips the trunk 0 and nothing else; the number is a fixed line
    when its digits match the fixed-line pattern and no pattern the library tries first; its
    area code is then 2 digits for 10 and 2x, else 3. Tests hold all of it to the library.
    """
    nsn = area[1:] + local
    pattern, lengths = _cn_fixed_fast()
    if len(nsn) not in lengths or pattern.match(nsn) is None:
        return None
    size = 2 if nsn[0] == "2" or nsn.startswith("10") else 3
    return Phone(f"0{nsn[:size]}-{nsn[size:]}", "+86" + nsn)


@functools.lru_cache(maxsize=1)
def _cn_fixed_fast() -> tuple[re.Pattern[str], frozenset[int]]:
    """The digits of a Chinese fixed line (and nothing the library would type otherwise)."""
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    assert meta is not None and meta.general_desc is not None and meta.fixed_line is not None
    # The types the library tries before the fixed line (and the mobile, which makes a number
    # FIXED_LINE_OR_MOBILE): matching any of them means another type, so the full path.
    before = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail", "mobile")
    negative = "".join(
        f"(?!(?:{desc.national_number_pattern})$)"
        for desc in (getattr(meta, name) for name in before)
        if desc is not None and desc.national_number_pattern
    )
    general = meta.general_desc.national_number_pattern
    fixed = meta.fixed_line.national_number_pattern
    lengths = frozenset(meta.general_desc.possible_length) & frozenset(
        meta.fixed_line.possible_length or meta.general_desc.possible_length
    )
    return re.compile(rf"(?=(?:{general})$){negative}(?:{fixed})$", re.ASCII), lengths


def _refusal(number: Any, text: str, region: str) -> ParseError:
    """Why a parsed number is not valid, in the user's terms."""
    import phonenumbers
    from phonenumbers import ValidationResult

    where = phonenumbers.region_code_for_country_code(number.country_code)
    where = region if where in (None, "ZZ", "001") else where
    possible = phonenumbers.is_possible_number_with_reason(number)
    hint = _other_region(text)
    if hint is not None:
        return ParseError("phone_other_region", region=region, number=hint[0], other=hint[1])
    if possible == ValidationResult.INVALID_COUNTRY_CODE:
        return ParseError("phone_country")
    if possible == ValidationResult.TOO_SHORT:
        return ParseError("phone_too_short", region=where)
    if possible == ValidationResult.TOO_LONG:
        return ParseError("phone_too_long", region=where)
    nsn = phonenumbers.national_significant_number(number)
    if number.country_code == 86 and nsn.startswith("1") and not nsn.startswith("10"):
        if len(nsn) != 11:
            return ParseError("phone_cn_mobile_length", digits=len(nsn))
        return ParseError("phone_cn_unassigned", prefix=nsn[:3])
    if possible == ValidationResult.INVALID_LENGTH:
        return ParseError("phone_length", region=where)
    written = "".join(_DIGITS_RE.findall(text))
    if number.country_code == 86 and len(nsn) in (7, 8) and nsn[0] != "1" and written == nsn:
        # 3177332, 62345678: how a number is written inside its own city, without the area code
        return ParseError("phone_local_only")
    return ParseError("phone_invalid", region=where)


def _other_region(text: str) -> tuple[str, str] | None:
    """(number, region) when ``text`` is a valid number once its first group is read as a
    country code written without the +: ``1-406-714-6467``, ``852 2123 4567``, ``44 20 7946 0958``.

    Only a first group that is exactly a country code counts: ``(496)978-3969`` is not +49, and
    ``14012345678`` is a mistyped Chinese mobile, not +1 401.
    """
    import phonenumbers
    from phonenumbers import PhoneNumberFormat

    groups = re.findall(r"[0-9]+", text.split("ext")[0].split("x")[0].split("#")[0], re.ASCII)
    if len(groups) < 2 or text.lstrip("(").startswith("+") or groups[0].startswith("0"):
        return None
    if len(groups[0]) > 3 or phonenumbers.region_code_for_country_code(int(groups[0])) in ("ZZ", None):
        return None
    try:
        other = phonenumbers.parse("+" + "".join(groups))
    except phonenumbers.NumberParseException:
        return None
    if other.country_code != int(groups[0]) or not phonenumbers.is_valid_number(other):
        return None
    region = phonenumbers.region_code_for_number(other) or "?"
    return phonenumbers.format_number(other, PhoneNumberFormat.INTERNATIONAL), region


def _display(number: Any) -> str:
    """The stored form (see the module docstring)."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    if number.country_code != 86:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    # number_type and the area code ignore the extension; only the national format shows it.
    nsn = phonenumbers.national_significant_number(number)
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.MOBILE or (kind == PhoneNumberType.FIXED_LINE_OR_MOBILE and nsn[0] == "1"):
        main = nsn
    elif area := phonenumbers.length_of_geographical_area_code(number):
        main = f"0{nsn[:area]}-{nsn[area:]}"
    else:  # 400/800 numbers: no trunk 0, grouped as the library groups them
        bare = phonenumbers.PhoneNumber(country_code=86, national_number=number.national_number)
        main = "-".join(phonenumbers.format_number(bare, PhoneNumberFormat.NATIONAL).split())
    return main + (f"转{number.extension}" if number.extension else "")


# ---------------------------------------------------------------------------- masking

# Where the extension of a stored value starts: 转123, " ext. 123", x123, #123, and the
# 010-12345678-123 form stored before this module.
_MASK_EXT_RE = re.compile(
    r"(?:\s*(?:转|轉|分机|分機|ext\.?|x|#|;ext=)\s*[0-9*]+|(?<=^0[0-9]{2}-[0-9*]{8})-[0-9*]{1,8}"
    r"|(?<=^0[0-9]{3}-[0-9*]{7})-[0-9*]{1,8}|(?<=^0[0-9]{3}-[0-9*]{8})-[0-9*]{1,8})$",
    re.IGNORECASE,
)
MASK_KEEP_FIRST = 3
MASK_KEEP_LAST = 4
MASK_AT_LEAST = 4


def mask_counts(digits: int) -> tuple[int, int]:
    """(first, last): how many leading and trailing digits a number of ``digits`` digits shows.

    The rule: at least 4 digits are hidden, at most the first 3 and last 4 are shown, and a
    number shorter than 11 digits (a local number, a short code) shows at most half of its
    digits. So ``13812345678`` -> ``138****5678``, ``62345678`` -> ``62****78``,
    ``12345`` -> ``****5``; 4 digits or fewer are hidden entirely.
    """
    hidden = max(MASK_AT_LEAST, digits - MASK_KEEP_FIRST - MASK_KEEP_LAST)
    if digits < 11:
        hidden = max(hidden, digits - digits // 2)
    shown = max(0, digits - hidden)
    last = min(MASK_KEEP_LAST, (shown + 1) // 2)
    first = min(MASK_KEEP_FIRST, shown - last)
    return first, last


def mask_phone(stored: str) -> str:
    """The stored phone with most digits replaced by ``*`` (:func:`mask_counts`).

    Extension digits are always hidden; punctuation stays where it was; a ``*`` counts as a
    hidden digit, so masking a masked value changes nothing. Pure text: never parses, never
    raises, works on any stored value.
    """
    text = stored.strip()
    if len(text) == 11 and text.isascii() and text.isdigit():  # the common case: a CN mobile
        return f"{text[:3]}****{text[7:]}"
    match = _MASK_EXT_RE.search(text)
    main, ext_part = (text[: match.start()], text[match.start() :]) if match else (text, "")
    positions = [i for i, char in enumerate(main) if char.isascii() and (char.isdigit() or char == "*")]
    first, last = mask_counts(len(positions))
    chars = list(main)
    for i in positions[first : len(positions) - last]:
        chars[i] = "*"
    masked_ext = "".join("*" if char.isascii() and char.isdigit() else char for char in ext_part)
    return "".join(chars) + masked_ext


def is_masked(s: str) -> bool:
    """True if the value has been masked by :func:`mask_phone` (contains ``*``)."""
    return "*" in s


# ---------------------------------------------------------------------------- stored phones


class StoredProblem(NamedTuple):
    """A stored phone that is not what crm would store today (see ``crm doctor phones``)."""

    id: str
    name: str
    phone: str
    reason: str
    """A key of :data:`REASONS` or of :data:`DOCTOR_REASONS`."""
    details: dict[str, Any]
    suggestion: str | None
    """The number to give ``crm edit ID --phone``, when it can be told."""


DOCTOR_REASONS: dict[str, tuple[str, str]] = {
    "phone_not_normalised": (
        "is not in the stored form; it is the same number as {stored}",
        "不是规范的存储形式；与 {stored} 是同一个号码",
    ),
}


def stored_problems(store: Store, region: str) -> Iterator[StoredProblem]:
    """Yield a :class:`StoredProblem` for each customer (archived ones too) whose stored phone
    does not validate in ``region`` or is not in its stored form. Streams: memory stays flat."""
    rows = store.conn.execute(
        "SELECT id, name, phone FROM customers WHERE phone IS NOT NULL AND phone != '' ORDER BY id"
    )
    for customer_id, name, phone in rows:
        try:
            parsed = parse(phone, region)
        except ParseError as exc:
            number = exc.details.get("number")
            yield StoredProblem(
                customer_id, name, phone, exc.reason, dict(exc.details), str(number) if number else None
            )
            continue
        if parsed.stored != phone:
            yield StoredProblem(
                customer_id, name, phone, "phone_not_normalised", {"stored": parsed.stored}, parsed.stored
            )
