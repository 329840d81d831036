"""crm's phone verdicts against libphonenumber's on a corpus of thousands of writings.

The corpus is generated here, deterministically: the library's own example numbers
(``phonenumbers.example_number_for_type``) for every region it knows and several number types,
each written the ways people write them (E.164, international, national in its own region,
``tel:`` URIs, ``00`` dialling from China), corrupted (a digit dropped, a digit added, a prefix
changed), and Chinese numbers in the forms Chinese users write (spaces, dashes, brackets,
+86/0086/86, 转/分机/ext extensions, a trunk 0, full-width digits) plus their typical mistakes.

The library's verdict on a writing is ``is_valid_number(parse(writing, region))``. For a writing
the library cannot read by design (a ``转 123`` extension, ``010-62345678-123``) it is the
library's verdict on the same number written as the library reads it (``ext. 123``): what the
writer meant. crm must agree on at least 99% of all writings and give the library's E.164 number
(plus extension) for every writing both accept.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

from crmcli import phones
from crmcli.errors import ParseError

TYPES = (T.MOBILE, T.FIXED_LINE, T.TOLL_FREE)


class Case(NamedTuple):
    text: str
    region: str
    library_text: str  # what the library is asked: the same number in a form it reads


def library_verdict(text: str, region: str) -> str | None:
    """E.164 (plus ;ext=) if libphonenumber calls the writing a valid number, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    key = phonenumbers.format_number(number, F.E164)
    return key + (f";ext={number.extension}" if number.extension else "")


def crm_verdict(text: str, region: str) -> str | None:
    try:
        return phones.parse(text, region).key
    except ParseError:
        return None


def fullwidth(text: str) -> str:
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def example_cases() -> Iterator[Case]:
    rng = random.Random(11)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, F.E164)
            international = phonenumbers.format_number(number, F.INTERNATIONAL)
            national = phonenumbers.format_number(number, F.NATIONAL)
            writings = [
                (e164, "CN"),
                (international, "CN"),
                (phonenumbers.format_number(number, F.RFC3966), "CN"),
                ("00" + e164[1:], "CN"),  # dialled from China
                (international.replace(" ", "-"), "CN"),
                (national, region),
                (international, region),
            ]
            # corruptions, in E.164 so that the country code stays read
            nsn = phonenumbers.national_significant_number(number)
            cc = str(number.country_code)
            writings += [
                (f"+{cc}{nsn[:-1]}", "CN"),
                (f"+{cc}{nsn}{rng.randrange(10)}", "CN"),
                (f"+{cc}{(int(nsn[0]) + 1 + rng.randrange(8)) % 10}{nsn[1:]}", "CN"),
            ]
            for text, where in writings:
                yield Case(text, where, text)


CN_MOBILES = [f"1{second}{third}{rng_digits}" for second, third, rng_digits in (
    ("3", "8", "12345678"), ("3", "0", "98765432"), ("5", "9", "11112222"), ("8", "6", "00001111"),
    ("9", "9", "12345678"), ("7", "7", "55556666"), ("4", "7", "12345678"), ("6", "6", "23456789"),
    ("4", "0", "12345678"), ("4", "6", "12345678"), ("4", "8", "12345678"), ("2", "0", "12345678"),
)]
CN_LANDLINES = [("10", "62345678"), ("21", "54321098"), ("755", "86001234"), ("571", "88889999"),
                ("20", "83456789"), ("991", "4567890"), ("29", "88776655"), ("10", "1234567"),
                ("755", "888899999"), ("512", "65432100")]


def chinese_cases() -> Iterator[Case]:
    for mobile in CN_MOBILES:
        spaced = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
        dashed = spaced.replace(" ", "-")
        forms = [mobile, spaced, dashed, f"+86 {spaced}", f"+86-{dashed}", f"0086 {mobile}", f"0086-{dashed}",
                 f"86{mobile}", f"(+86) {mobile}", f"+86 (0) {mobile}", f"0{mobile}", f"手机：{mobile}",
                 f"tel:+86-{dashed}", fullwidth(mobile), fullwidth(f"+86 {spaced}"), f"{mobile[:-1]}",
                 f"{mobile}9", mobile.replace("1", "2", 1)]
        for text in forms:
            yield Case(text, "CN", text)
        for written, readable in ((f"{mobile} 转 123", f"{mobile} ext. 123"), (f"{mobile}分机8", f"{mobile} ext. 8"),
                                  (f"{spaced} x45", f"{spaced} x45")):
            yield Case(written, "CN", readable)
    for area, local in CN_LANDLINES:
        forms = [f"0{area}-{local}", f"0{area} {local}", f"(0{area}){local}", f"（０{area}）{local}",
                 f"+86 {area} {local}", f"+86-{area}-{local}", f"0086 {area} {local}", f"86-{area}-{local}",
                 f"+86 (0){area} {local}", f"tel:+86-{area}-{local}", fullwidth(f"0{area}-{local}"),
                 f"0{area}{local}", f"0{area}-{local[:-1]}", f"0{area}-{local}0"]
        for text in forms:
            yield Case(text, "CN", text)
        for written, readable in (
            (f"0{area}-{local}转123", f"0{area}-{local} ext. 123"),
            (f"0{area}-{local} 转 5", f"0{area}-{local} ext. 5"),
            (f"0{area}-{local} 分机 66", f"0{area}-{local} ext. 66"),
            (f"0{area}-{local}-123", f"0{area}-{local} ext. 123"),
            (f"0{area}-{local} ext. 123", f"0{area}-{local} ext. 123"),
            (f"0{area}-{local}#123", f"0{area}-{local}#123"),
            (f"+86-{area}-{local};ext=123", f"+86-{area}-{local};ext=123"),
            (fullwidth(f"0{area}-{local}转123"), f"0{area}-{local} ext. 123"),
        ):
            yield Case(written, "CN", readable)
    for service in ("4008108888", "8008108888", "4006123456"):
        for text in (service, f"{service[:3]}-{service[3:6]}-{service[6:]}", f"+86 {service[:3]} {service[3:6]} {service[6:]}",
                     f"{service[:3]} {service[3:7]} {service[7:]}"):
            yield Case(text, "CN", text)
    for text in ("99999999999", "00000000000", "12345", "+999 1234 5678", "+1 555 3227 8544", "1381234567",
                 "13812345", "+86 138", "86"):
        yield Case(text, "CN", text)


def corpus() -> list[Case]:
    return list(example_cases()) + list(chinese_cases())


def test_the_corpus_agrees_with_libphonenumber() -> None:
    cases = corpus()
    assert len(cases) >= 500
    expected = {case: library_verdict(case.library_text, case.region) for case in cases}
    assert sum(v is not None for v in expected.values()) >= 300  # plenty of valid ones
    assert sum(v is None for v in expected.values()) >= 300  # and invalid ones
    got = {case: crm_verdict(case.text, case.region) for case in cases}
    disagree = [(c, expected[c], got[c]) for c in cases if (expected[c] is None) != (got[c] is None)]
    assert len(disagree) <= len(cases) // 100, (len(disagree), len(cases), disagree[:20])
    wrong = [(c, expected[c], got[c]) for c in cases if expected[c] and got[c] and expected[c] != got[c]]
    assert wrong == []


def test_every_accepted_writing_is_stored_in_a_form_that_reads_back() -> None:
    for case in corpus():
        try:
            phone = phones.parse(case.text, case.region)
        except ParseError:
            continue
        assert phones.parse(phone.stored, case.region) == phone, case
        assert phones.parse(phone.stored, "CN") == phone, case
        assert phones.phone_key(phone.stored) == phone.key, case
