"""crmcli.phones: parsing on libphonenumber, stored form, duplicate key, masking, the region."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcli import i18n, phones
from crmcli.errors import ParseError, UsageError
from crmcli.phones import REASONS, is_masked, mask_counts, mask_phone, parse, phone_key

from .conftest import PYTHON, add_args, subprocess_env

FAST = settings(max_examples=200, deadline=None)


def fullwidth(text: str) -> str:
    """ASCII -> full-width forms, as a Chinese IME types them."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def reason_of(func: Callable[[], object]) -> str:
    with pytest.raises(ParseError) as info:
        func()
    reason = info.value.reason
    assert reason in REASONS or reason == "empty", reason
    for lang in ("en", "zh"):
        i18n.reason(reason, lang, **info.value.details)  # every placeholder is filled
        en, zh = REASONS.get(reason, ("", ""))
        en.format(**info.value.details)
        zh.format(**info.value.details)
    return reason


# ------------------------------------------------------------------ reasons


def test_every_reason_used_is_defined_and_every_defined_reason_is_used() -> None:
    source = Path(phones.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r"ParseError\(\s*\"(\w+)\"", source))
    assert used <= set(REASONS), used - set(REASONS)
    assert set(REASONS) <= used, set(REASONS) - used


@pytest.mark.parametrize("key", sorted(REASONS))
def test_reasons_are_bilingual_with_the_same_placeholders(key: str) -> None:
    en, zh = REASONS[key]
    assert en and zh and en != zh
    fields = re.compile(r"\{(\w+)\}")
    assert set(fields.findall(en)) == set(fields.findall(zh))


def test_no_phone_reason_collides_with_other_reasons() -> None:
    from crmcli import parsing

    assert not set(REASONS) & set(i18n.REASONS)
    assert not set(REASONS) & set(parsing.REASONS)


# ------------------------------------------------------------------ the cases

ACCEPTED = [
    # Chinese mobiles: the 11 digits
    ("13812345678", "13812345678", "+8613812345678"),
    ("138 1234 5678", "13812345678", "+8613812345678"),
    ("138-1234-5678", "13812345678", "+8613812345678"),
    ("+86 138-1234-5678", "13812345678", "+8613812345678"),
    ("(+86)13812345678", "13812345678", "+8613812345678"),
    ("0086 13812345678", "13812345678", "+8613812345678"),
    ("8613812345678", "13812345678", "+8613812345678"),
    ("013812345678", "13812345678", "+8613812345678"),
    ("+86 (0) 13812345678", "13812345678", "+8613812345678"),
    ("手机13812345678", "13812345678", "+8613812345678"),
    ("手机：138 1234 5678", "13812345678", "+8613812345678"),
    ("１３８１２３４５６７８", "13812345678", "+8613812345678"),
    ("＋８６　１３８－１２３４－５６７８", "13812345678", "+8613812345678"),
    ("14512345678", "14512345678", "+8614512345678"),
    # landlines: 0 + area code, dash, local number
    ("010-62345678", "010-62345678", "+861062345678"),
    ("86-10-62345678", "010-62345678", "+861062345678"),
    ("+86 10 6234 5678", "010-62345678", "+861062345678"),
    ("tel:+86-10-62345678", "010-62345678", "+861062345678"),
    ("(0755)88889999", "0755-88889999", "+8675588889999"),
    ("０７５５－８８８８９９９９", "0755-88889999", "+8675588889999"),
    # extensions in every written form
    ("010-62345678 转 123", "010-62345678转123", "+861062345678;ext=123"),
    ("010-62345678转123", "010-62345678转123", "+861062345678;ext=123"),
    ("010-62345678 分机123", "010-62345678转123", "+861062345678;ext=123"),
    ("010-62345678 ext. 123", "010-62345678转123", "+861062345678;ext=123"),
    ("010-62345678 x123", "010-62345678转123", "+861062345678;ext=123"),
    ("010-62345678#123", "010-62345678转123", "+861062345678;ext=123"),
    ("010-62345678;ext=123", "010-62345678转123", "+861062345678;ext=123"),
    ("tel:+86-10-62345678;ext=123", "010-62345678转123", "+861062345678;ext=123"),
    ("010-62345678-123", "010-62345678转123", "+861062345678;ext=123"),
    ("13812345678 转 123", "13812345678转123", "+8613812345678;ext=123"),
    # service numbers: no invented area code
    ("+86 400 810 8888", "400-810-8888", "+864008108888"),
    ("4008108888", "400-810-8888", "+864008108888"),
    ("800-810-8888", "800-810-8888", "+868008108888"),
    # Hong Kong, Macau, Taiwan and the rest of the world: international format
    ("+852 2123 4567", "+852 2123 4567", "+85221234567"),
    ("+886 2 2345 6789", "+886 2 2345 6789", "+886223456789"),
    ("+44 (0)20 7946 0958", "+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+44 20 7946 0958", "+442079460958"),
    ("+1-813-324-8756", "+1 813-324-8756", "+18133248756"),
    ("001-808-617-6467x12895", "+1 808-617-6467 ext. 12895", "+18086176467;ext=12895"),
]


@pytest.mark.parametrize(("raw", "stored", "key"), ACCEPTED)
def test_accepted_writings(raw: str, stored: str, key: str) -> None:
    assert parse(raw) == (stored, key)
    assert parse(stored) == (stored, key)  # the stored form reads back as itself
    assert phone_key(stored) == key


REFUSED = [
    ("1-406-714-6467", "phone_other_region"),  # a US number, not the Chinese mobile 14067146467
    ("1-813-324-8756", "phone_ambiguous"),  # valid in CN as 181 3324 8756, but laid out as in the US
    ("1 (813) 324-8756", "phone_ambiguous"),
    ("+1 555 3227 8544", "phone_too_long"),
    ("+999 1234 5678", "phone_country"),
    ("1381234567", "phone_cn_mobile_length"),
    ("13812345", "phone_cn_mobile_length"),
    ("99999999999", "phone_invalid"),
    ("00000000000", "phone_invalid"),
    ("14012345678", "phone_cn_unassigned"),
    ("14112345678", "phone_cn_unassigned"),
    ("14212345678", "phone_cn_unassigned"),
    ("14312345678", "phone_cn_unassigned"),
    ("14412345678", "phone_cn_unassigned"),
    ("14612345678", "phone_cn_unassigned"),
    ("14812345678", "phone_cn_unassigned"),
    ("010-1234567", "phone_invalid"),
    ("0755-888899999", "phone_invalid"),
    ("852-2123-4567", "phone_other_region"),
    ("-1199", "phone_too_short"),
    ("3177332", "phone_local_only"),  # a Hangzhou number without its 0571
    ("62345678", "phone_local_only"),
    ("12", "phone_too_short"),
    ("138****5678", "phone_masked"),
    ("call me", "phone_not_number"),
    ("13812345678, 13912345678", "phone_several"),
    ("138 1234 5678 / 139 1234 5678", "phone_several"),
    ("13770672328(南)13911676175(北)", "phone_several"),
    ("", "empty"),
    ("\u3000", "empty"),
]


@pytest.mark.parametrize(("raw", "reason"), REFUSED)
def test_refused_writings(raw: str, reason: str) -> None:
    assert reason_of(lambda: parse(raw)) == reason


def test_a_number_valid_elsewhere_says_where() -> None:
    with pytest.raises(ParseError) as info:
        parse("1-406-714-6467")
    assert info.value.details == {"region": "CN", "number": "+1 406-714-6467", "other": "US"}
    assert "--phone-region US" in i18n.reason(info.value.reason, "en", **info.value.details)
    assert "--phone-region US" in i18n.reason(info.value.reason, "zh", **info.value.details)


def test_region_decides_numbers_without_a_country_code() -> None:
    assert parse("1-406-714-6467", "US") == ("+1 406-714-6467", "+14067146467")
    assert parse("(406) 714-6467", "US").key == "+14067146467"
    assert parse("2123 4567", "HK") == ("+852 2123 4567", "+85221234567")
    assert reason_of(lambda: parse("2123 4567", "CN")) == "phone_local_only"
    # crm's stored Chinese forms read as themselves in any region, so exports re-import; 13012000000
    # is also 1 (301) 200-0000, which a US user writes with punctuation
    for stored in ("13812345678", "13012000000", "010-62345678", "010-62345678转123", "400-810-8888"):
        assert parse(stored, "US") == parse(stored, "CN")
    assert parse("1 (301) 200-0000", "US").key == "+13012000000"
    assert parse("1-301-200-0000", "US").key == "+13012000000"
    # ... but only exactly those forms: spaced Chinese digits in a US team are read as US digits
    with pytest.raises(ParseError):
        parse("138 1234 5678", "US")


def test_duplicate_keys_match_across_writings() -> None:
    groups = [
        ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "013812345678", "8613812345678", "手机：13812345678",
         "+86 (0) 13812345678", "１３８ １２３４ ５６７８", "138.1234.5678", "(+86) 138-1234-5678"],
        ["010-62345678", "86-10-62345678", "+86 10 62345678", "(010) 6234 5678", "0086 10 6234 5678",
         "tel:+86-10-62345678", "+86 (0)10 62345678"],
        ["+44 (0)20 7946 0958", "+44 20 7946 0958", "0044 20 7946 0958", "+442079460958"],
        ["010-62345678-123", "010-62345678转123", "010-62345678 ext. 123", "010 6234 5678 x123", "010-62345678 分机 123"],
    ]
    for group in groups:
        keys = {parse(text).key for text in group}
        assert len(keys) == 1, (group, keys)
        assert {phone_key(parse(text).stored) for text in group} == keys
    assert parse("010-62345678转123").key != parse("010-62345678").key  # the extension is part of the key


def test_key_of_a_value_that_does_not_parse_is_its_digits() -> None:
    assert phone_key("(496)978-3969x58947") == "496978396958947"
    assert phone_key("no digits") == ""
    assert phone_key("") == ""
    assert not phone_key("(496)978-3969").startswith("+")  # never equal to a valid number's key


# ------------------------------------------------------------------ properties

MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@FAST
@given(MOBILES)
def test_the_fast_path_agrees_with_the_library(digits: str) -> None:
    number = phonenumbers.parse(digits, "CN")
    valid = phonenumbers.is_valid_number(number)
    fast = bool(phones._cn_mobile_fast().fullmatch(digits))
    assert fast == (valid and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE)
    if valid:
        assert phones._parse(digits, "CN") == phones._library(digits, "CN", None)
        assert phones._parse(digits, "CN").key == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PREFIXES = st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 ", "86", "(+86)", "(+86) ", "+86 (0) "])
SEPARATORS = st.sampled_from(["", " ", "-", "  ", ".", "\u3000"])


@st.composite
def typed_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    digits = draw(MOBILES.filter(lambda d: phones._cn_mobile_fast().fullmatch(d) is not None))
    sep = draw(SEPARATORS)
    text = draw(PREFIXES) + sep.join([digits[:3], digits[3:7], digits[7:]])
    if draw(st.booleans()):
        text = fullwidth(text)
    padding = draw(st.sampled_from(["", " ", "\t", "\u3000"]))
    return padding + text + padding, digits


@FAST
@given(typed_mobiles())
def test_any_typed_mobile_is_stored_as_its_11_digits(case: tuple[str, str]) -> None:
    text, digits = case
    assert parse(text) == (digits, "+86" + digits)


PHONE_ALPHABET = st.sampled_from(list("0123456789 +-.()x#*") + ["转", "ext", "86", "00", "1", "０", "分机", "tel:"])
PHONE_TEXT = st.one_of(
    typed_mobiles().map(lambda c: c[0]),
    st.lists(PHONE_ALPHABET, max_size=25).map("".join),
    st.text(max_size=30),
)


@FAST
@given(PHONE_TEXT, st.sampled_from(["CN", "US", "HK", "GB"]))
def test_parse_is_idempotent_and_only_raises_parse_error(text: str, region: str) -> None:
    try:
        phone = parse(text, region)
    except ParseError as exc:
        assert exc.reason in REASONS or exc.reason == "empty"
        return
    assert parse(phone.stored, region) == phone
    assert parse(phone.stored, "CN") == phone  # stored forms do not depend on the region
    assert phone_key(phone.stored) == phone.key
    number = phonenumbers.parse(phone.key.split(";")[0])
    assert phonenumbers.is_valid_number(number)
    masked = mask_phone(phone.stored)
    assert is_masked(masked) and masked != phone.stored
    with pytest.raises(ParseError):
        parse(masked, region)


# ------------------------------------------------------------------ masking


@pytest.mark.parametrize(
    ("stored", "masked"),
    [
        ("13812345678", "138****5678"),
        ("010-62345678", "010-****5678"),
        ("010-62345678转123", "010-****5678转***"),
        ("0755-88889999", "075*-****9999"),
        ("400-810-8888", "40*-***-*888"),
        ("+1 406-714-6467", "+1 40*-***-6467"),
        ("+1 406-714-6467 ext. 123", "+1 40*-***-6467 ext. ***"),
        ("+44 20 7946 0958", "+44 2* **** 0958"),
        ("62345678", "62****78"),  # issue 10, item 15: was 623*5678
        ("623456789", "62*****89"),
        ("12345", "****5"),
        ("1234", "****"),
        ("010-12345678-123", "010-****5678-***"),  # the form stored before crmcli.phones
        ("(496)978-3969x58947", "(49*)***-*969x*****"),
        ("", ""),
        ("138****5678", "138****5678"),
        ("hello", "hello"),
    ],
)
def test_mask_phone(stored: str, masked: str) -> None:
    assert mask_phone(stored) == masked
    assert mask_phone(masked) == masked


@given(st.integers(min_value=5, max_value=15), st.data())
@FAST
def test_masking_never_shows_most_digits(length: int, data: st.DataObject) -> None:
    digits = data.draw(st.text("0123456789", min_size=length, max_size=length))
    seps = data.draw(st.lists(st.sampled_from(["", "", " ", "-", "."]), min_size=length, max_size=length))
    text = "".join(d + s for d, s in zip(digits, seps)).strip(" -.")
    if data.draw(st.booleans()):
        text = "+" + text
    masked = mask_phone(text)
    assert len(masked) == len(text)
    shown = [c for c in masked if c.isdigit()]
    hidden = masked.count("*")
    assert hidden + len(shown) == length
    assert hidden >= 4
    assert len(shown) <= 7
    if length < 11:
        assert len(shown) <= length // 2
    first, last = mask_counts(length)
    assert "".join(shown) == digits[:first] + (digits[length - last :] if last else "")
    assert [c for c in masked if not (c.isdigit() or c == "*")] == [c for c in text if not c.isdigit()]
    assert mask_phone(masked) == masked


@FAST
@given(st.text(max_size=40))
def test_mask_and_key_never_raise(text: str) -> None:
    assert isinstance(mask_phone(text), str)
    assert isinstance(phone_key(text), str)


def test_is_masked() -> None:
    assert is_masked("138****5678")
    assert not is_masked("13812345678")


# ------------------------------------------------------------------ the region setting


def test_default_region_order(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, crm) -> None:
    from crmcli.storage import open_store

    crm.ok(*add_args())  # creates the database
    with open_store(isolated_env) as store:
        assert phones.default_region(store) == "CN"
        crm.ok("config", "set", "phone-region", "hk")
        assert phones.default_region(store) == "HK"
        crm.ok("config", "--user", "set", "phone-region", "mo")  # the person's own beats the team's
        assert phones.default_region(store) == "MO"
        monkeypatch.setenv("CRM_PHONE_REGION", "us")
        assert phones.default_region(store) == "US"
        assert phones.default_region(store, "gb") == "GB"
        assert phones.default_region(None) == "US"
        monkeypatch.setenv("CRM_PHONE_REGION", "XX")
        with pytest.raises(UsageError, match="CRM_PHONE_REGION"):
            phones.default_region(store)


def test_config_refuses_an_unknown_region(crm) -> None:
    result = crm("config", "set", "phone-region", "XX")
    assert result.exit_code == 2
    assert "is not a region libphonenumber knows" in result.stderr
    result = crm("--lang", "zh", "config", "set", "phone-region", "ZZ")
    assert result.exit_code == 2 and "不是 libphonenumber 认识的地区" in result.stderr
    assert "phone-region = CN" in crm.ok("config", "list")  # nothing was stored


def test_add_uses_the_configured_region(crm) -> None:
    result = crm(*add_args(phone="(406) 714-6467"))
    assert result.exit_code == 2
    assert "phone '(406) 714-6467'" in result.stderr and "not a valid" in result.stderr
    assert crm.json("list") == []
    crm.ok("config", "set", "phone-region", "US")
    customer = crm.ok(*add_args(phone="(406) 714-6467")).strip()
    assert crm.json("show", customer, "--reveal")["phone"] == "+1 406-714-6467"
    assert crm.json("show", customer)["phone"] == "+1 40*-***-6467"
    # a Chinese number written as crm stores it still works in a US team
    other = crm.ok(*add_args(phone="13912345678", name="北京某公司")).strip()
    assert crm.json("show", other, "--reveal")["phone"] == "13912345678"


def test_environment_overrides_the_setting(crm, monkeypatch: pytest.MonkeyPatch) -> None:
    crm.ok("config", "set", "phone-region", "US")
    monkeypatch.setenv("CRM_PHONE_REGION", "HK")
    customer = crm.ok(*add_args(phone="2123 4567")).strip()
    assert crm.json("show", customer, "--reveal")["phone"] == "+852 2123 4567"


def test_refused_phone_in_chinese(crm) -> None:
    result = crm("--lang", "zh", *add_args(phone="14012345678"))
    assert result.exit_code == 2
    assert "号段 140 未分配" in result.stderr
    assert crm.json("list") == []


def test_duplicate_warning_across_writings(crm) -> None:
    crm.ok(*add_args(phone="010-62345678"))
    result = crm(*add_args(phone="+86 (0)10 6234 5678", name="另一家公司"))
    assert result.exit_code == 0
    assert "has the same phone" in result.stderr


def test_commands_that_parse_no_phone_do_not_import_phonenumbers(isolated_env: Path, crm) -> None:
    crm.ok(*add_args())
    for args in (["--version"], ["list"], ["list", "--format", "json"], ["stale"]):
        result = subprocess.run(
            [PYTHON, "-X", "importtime", "-m", "crmcli", *args],
            env=subprocess_env(isolated_env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode in (0, 1), result.stderr[-500:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
        assert "phonenumbers" not in imported, args


# ------------------------------------------------------------------ import


def _import_file(tmp_path: Path, phones_in: list[str], mapping: str | None = None) -> list[str]:
    import csv

    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "contact", "phone", "source", "needs", "owner", "first_contact", "status"])
        for i, phone in enumerate(phones_in):
            writer.writerow([f"公司{i}", "王强", phone, "online", "采购", "张经理", "2024-06-01", "potential"])
    args = ["import", str(path)]
    if mapping is not None:
        (tmp_path / "map.toml").write_text(mapping, encoding="utf-8")
        args += ["--mapping", str(tmp_path / "map.toml")]
    return args


def test_import_phone_region_option_and_mapping_key(crm, tmp_path: Path) -> None:
    args = _import_file(tmp_path, ["(406) 714-6467", "1-813-324-8756"])
    result = crm(*args)
    assert result.exit_code == 2
    assert "row 2: phone '(406) 714-6467'" in result.stderr
    assert "row 3: phone '1-813-324-8756': is written like the number +1 813-324-8756 of US" in result.stderr
    assert crm.json("list") == []  # refused: nothing written
    crm.ok(*_import_file(tmp_path, ["(406) 714-6467", "1-813-324-8756"], 'phone_region = "US"\n'))
    got = sorted(r["phone"] for r in crm.json("list", "--reveal"))
    assert got == ["+1 406-714-6467", "+1 813-324-8756"]
    # the option wins over the mapping file; HK numbers are 8 digits
    crm.ok(*_import_file(tmp_path, ["2123 4567"], 'phone_region = "US"\n'), "--phone-region", "HK")
    assert "+852 2123 4567" in {r["phone"] for r in crm.json("list", "--reveal")}


def test_import_refuses_an_unknown_region(crm, tmp_path: Path) -> None:
    result = crm(*_import_file(tmp_path, ["13812345678"]), "--phone-region", "XX")
    assert result.exit_code == 2 and "--phone-region (or the mapping file's phone_region): 'XX' is not a region" in result.stderr
    result = crm(*_import_file(tmp_path, ["13812345678"], 'phone_region = "QQ"\n'))
    assert result.exit_code == 2 and "phone_region): 'QQ' is not a region" in result.stderr
    assert crm.json("list") == []


def test_import_matches_duplicates_written_differently(crm, tmp_path: Path) -> None:
    crm.ok(*add_args(phone="010-62345678转123"))
    crm.ok(*_import_file(tmp_path, ["+86 (0)10 6234 5678 ext. 123", "86-10-62345678-123", "013812345678"]))
    phones_stored = sorted(r["phone"] for r in crm.json("list", "--reveal"))
    assert phones_stored == ["010-62345678转123", "13812345678"]


def test_known_regions_are_the_librarys() -> None:
    assert phones.KNOWN_REGIONS == phonenumbers.SUPPORTED_REGIONS


@FAST
@given(st.from_regex(r"0[1-9][0-9]{1,2}-[1-9][0-9]{4,7}", fullmatch=True))
def test_the_landline_fast_path_agrees_with_the_library(text: str) -> None:
    area, local = text.split("-")
    fast = phones._cn_landline_fast(area, local)
    if fast is not None:  # None: the full path decides
        assert fast == phones._library(text, "CN", None)


def test_the_landline_fast_path_covers_every_area_code_and_splits_it_as_the_library() -> None:
    hits = 0
    for prefix in [*range(10, 100), *range(100, 1000)]:
        for size in (7, 8):
            for first in "2345678":
                nsn = f"{prefix}{first}{'3456789'[: size - 1]}"
                number = phonenumbers.PhoneNumber(country_code=86, national_number=int(nsn))
                if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.FIXED_LINE:
                    continue
                area = phonenumbers.length_of_geographical_area_code(number)
                text = f"0{nsn[:area]}-{nsn[area:]}"
                fast = phones._cn_landline_fast(f"0{nsn[:area]}", nsn[area:])
                assert fast == phones._library(text, "CN", None), text
                hits += 1
    assert hits > 3000
