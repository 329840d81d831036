"""vCard (``.vcf``), the format phones and mail clients use for contacts: read for import, written by export.

Read: vCard 2.1, 3.0 and 4.0 — folded lines (RFC 6350 3.2), quoted-printable values with soft
line breaks and their ``CHARSET`` (2.1), escaped ``\\,`` ``\\;`` ``\\n`` (3.0/4.0), property groups
(``item1.TEL``). Each card becomes one row of the columns :data:`HEADERS`: ``ORG`` is the
customer's name (``FN`` when there is no organisation: a person is their own customer, as the
seed names individual customers), ``FN`` (or ``N``) the contact, the first ``TEL`` the phone
(preferring a ``CELL`` or ``PREF`` one; the others go into the notes, not lost), ``EMAIL``,
``ADR``, ``TITLE`` and ``NOTE``. Other properties (PHOTO, BDAY, URL…) are listed as ignored.

Written: vCard 3.0 (which every phone and mail client reads), lines folded at 75 octets, CRLF.
"""

from __future__ import annotations

import quopri
from collections.abc import Iterable, Iterator
from typing import IO, Any

from .errors import UsageError, shorten

HEADERS = ["name", "contact", "phone", "email", "address", "title", "notes", "id"]
_USED = {"BEGIN", "END", "VERSION", "FN", "N", "ORG", "TEL", "EMAIL", "ADR", "TITLE", "NOTE", "X-CRM-ID"}


class VCardError(UsageError):
    pass


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split(text: str, sep: str) -> list[str]:
    """Split at ``sep`` not escaped by a backslash; the parts stay escaped."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Unfolded content lines with the number of the physical line each starts on."""
    current: str | None = None
    start = 0
    qp_soft = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if current is not None and qp_soft:
            # 2.1 quoted-printable: a value ending in "=" continues on the next line as it is.
            current = current[:-1] + line
            qp_soft = current.endswith("=") and _is_qp(current)
            continue
        if current is not None and line[:1] in (" ", "\t"):
            current += line[1:]
            qp_soft = current.endswith("=") and _is_qp(current)
            continue
        if current is not None:
            yield start, current
        current, start = (line, number) if line.strip() else (None, number)
        qp_soft = current is not None and current.endswith("=") and _is_qp(current)
    if current is not None:
        yield start, current


def _is_qp(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _parse(line: str) -> tuple[str, dict[str, list[str]], str]:
    head, sep, value = line.partition(":")
    if not sep:
        raise ValueError("no ':'")
    name, *params = _split(head, ";")
    name = name.rsplit(".", 1)[-1].upper()  # item1.TEL -> TEL
    found: dict[str, list[str]] = {}
    for param in params:
        key, eq, val = param.partition("=")
        if not eq:  # 2.1 bare parameters: TEL;CELL;PREF, QUOTED-PRINTABLE
            key, val = ("ENCODING" if key.upper() in ("QUOTED-PRINTABLE", "BASE64", "B") else "TYPE"), key
        for item in val.strip('"').split(","):
            found.setdefault(key.upper(), []).append(item.upper() if key.upper() in ("TYPE", "ENCODING") else item)
    if "QUOTED-PRINTABLE" in found.get("ENCODING", []):
        charset = (found.get("CHARSET") or ["utf-8"])[0]
        try:
            value = quopri.decodestring(value.encode("latin-1", "replace")).decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise ValueError(f"a quoted-printable value is not valid {shorten(charset)}") from None
    return name, found, value


def _card_row(props: list[tuple[str, dict[str, list[str]], str]]) -> tuple[list[Any], list[str]]:
    values: dict[str, str] = {}
    phones: list[tuple[int, str]] = []
    emails: list[str] = []
    ignored: list[str] = []
    for name, params, raw in props:
        if name not in _USED:
            ignored.append(name)
            continue
        types = params.get("TYPE", [])
        if name == "TEL":
            number = _unescape(raw).strip()
            if number.lower().startswith("tel:"):
                number = number[4:]
            if number:
                rank = 0 if ("CELL" in types or "PREF" in types or "1" in params.get("PREF", [])) else 1
                phones.append((rank, number))
        elif name == "EMAIL":
            if raw.strip():
                emails.append(_unescape(raw).strip())
        elif name == "ORG":
            values.setdefault("name", " ".join(p for p in (_unescape(x).strip() for x in _split(raw, ";")) if p))
        elif name == "N":
            family, given, *_ = [*(_unescape(x).strip() for x in _split(raw, ";")), "", ""]
            # Chinese names are family name first, without a space; others "Given Family".
            joined = f"{family}{given}" if _cjk(family + given) else " ".join(p for p in (given, family) if p)
            values.setdefault("_n", joined)
        elif name == "ADR":
            box, ext, street, city, region, code, country, *_ = [
                *(_unescape(x).strip() for x in _split(raw, ";")),
                *[""] * 7,
            ]
            if _cjk(raw):  # written as a Chinese address is: country, province, city, street
                address = "".join((country, region, city, street, ext))
            else:
                address = ", ".join(p for p in (box, ext, street, city, region, code, country) if p)
            values.setdefault("address", address)
        else:
            key = {"FN": "contact", "TITLE": "title", "NOTE": "notes", "X-CRM-ID": "id"}.get(name)
            if key:
                values.setdefault(key, _unescape(raw).strip())
    contact = values.get("contact") or values.get("_n", "")
    phones.sort(key=lambda p: p[0])
    notes = [values["notes"]] if values.get("notes") else []
    if len(phones) > 1:
        notes.append("Other phones: " + ", ".join(p for _, p in phones[1:]))
    if len(emails) > 1:
        notes.append("Other e-mails: " + ", ".join(emails[1:]))
    row = [
        values.get("name") or contact or None,
        contact or None,
        phones[0][1] if phones else None,
        emails[0] if emails else None,
        values.get("address") or None,
        values.get("title") or None,
        "; ".join(notes) or None,
        values.get("id") or None,
    ]
    return row, ignored


def _cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def open_vcard(lines: Iterable[str]) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """``(headers, rows)`` of a vCard file, one row per card, numbered by its BEGIN line."""

    def rows() -> Iterator[tuple[int, list[Any]]]:
        props: list[tuple[str, dict[str, list[str]], str]] | None = None
        begin = 0
        for number, line in _logical_lines(lines):
            try:
                name, params, value = _parse(line)
            except ValueError as exc:
                raise VCardError(
                    f"line {number}: not a vCard line ({exc}): {shorten(line)!r}",
                    zh=f"第 {number} 行：不是 vCard 行（{exc}）：{shorten(line)!r}",
                ) from None
            if name == "BEGIN" and value.strip().upper() == "VCARD":
                if props is not None:
                    raise VCardError(
                        f"line {number}: BEGIN:VCARD inside the card that starts on line {begin}",
                        zh=f"第 {number} 行：BEGIN:VCARD 出现在第 {begin} 行开始的名片内部",
                    )
                props, begin = [], number
            elif name == "END" and value.strip().upper() == "VCARD":
                if props is None:
                    raise VCardError(
                        f"line {number}: END:VCARD without BEGIN:VCARD",
                        zh=f"第 {number} 行：END:VCARD 之前没有 BEGIN:VCARD",
                    )
                row, _ = _card_row(props)
                props = None
                if any(row):
                    yield begin, row
            elif props is None:
                raise VCardError(
                    f"line {number}: {shorten(name)} outside a BEGIN:VCARD … END:VCARD card",
                    zh=f"第 {number} 行：{shorten(name)} 不在 BEGIN:VCARD … END:VCARD 名片之内",
                )
            else:
                props.append((name, params, value))
        if props is not None:
            raise VCardError(
                f"the card that starts on line {begin} has no END:VCARD", zh=f"第 {begin} 行开始的名片没有 END:VCARD"
            )

    return list(HEADERS), rows()


# ---------------------------------------------------------------------------- writing


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 6350 3.2), never inside a UTF-8 character."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append("".join(current))
            current, size = [" "], 1
        current.append(ch)
        size += width
    out.append("".join(current))
    return "\r\n".join(out) + "\r\n"


def card(record: dict[str, Any], phone: str | None) -> str:
    """One customer as a vCard 3.0 card; ``phone`` as it may be shown (masked unless revealed)."""
    contact = record.get("contact") or record.get("name") or ""
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{_escape(contact)}", f"N:{_escape(contact)};;;;"]
    if record.get("name") and record.get("name") != contact:
        lines.append(f"ORG:{_escape(record['name'])}")
    if record.get("title"):
        lines.append(f"TITLE:{_escape(record['title'])}")
    if phone:
        lines.append(f"TEL;TYPE=CELL:{_escape(phone)}")
    if record.get("email"):
        lines.append(f"EMAIL;TYPE=INTERNET:{_escape(record['email'])}")
    if record.get("address"):
        lines.append(f"ADR;TYPE=WORK:;;{_escape(record['address'])};;;;")
    if record.get("notes"):
        lines.append(f"NOTE:{_escape(record['notes'])}")
    if record.get("id"):
        lines.append(f"X-CRM-ID:{_escape(record['id'])}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def write_vcards(rows: Iterable[dict[str, Any]], out: IO[str], *, reveal: bool) -> int:
    from .parsing import mask_phone

    n = 0
    for record in rows:
        phone = record.get("phone")
        out.write(card(record, phone if reveal or not phone else mask_phone(phone)))
        n += 1
    return n
