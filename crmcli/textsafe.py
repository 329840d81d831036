"""Control characters in text: refused on input, shown escaped on output.

A customer name holding ESC (``\\x1b]0;…``), a C1 CSI (``\\x9b``) or a bidi override (U+202E) can
retitle or clear the terminal of whoever runs ``crm show``, or make a listing read differently from
what is stored. Input refuses them (:func:`check`); anything already stored (an older database, raw
SQL) is printed visibly escaped (:func:`escape`, ``\\x1b``, ``\\u202e``) by every renderer.

Allowed: tab and newline in long-text fields (needs, notes, follow-up content…), which people paste
from e-mails, and CR only as part of a Windows CRLF line end. Nothing else below U+0020, no DEL,
no C1 (U+0080–U+009F), no bidi embeddings, overrides or isolates (U+202A–U+202E, U+2066–U+2069),
no line or paragraph separators (U+2028, U+2029).

Pure functions (only :mod:`crmcli.errors`, for the refusal): the checks run on the import hot path.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_BIDI = "\u202a-\u202e\u2066-\u2069\u2028\u2029"
_SINGLE_LINE_BAD = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
"""A one-line field (name, contact, owner, custom text…): no control character at all."""
_MULTI_LINE_BAD = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]|\r(?!\n)")
"""A long-text field: tab, newline and CRLF allowed."""
_SHOWN_BAD = _MULTI_LINE_BAD
"""What output escapes: everything a long-text field may not hold (tables and CSV quoting carry tab,
newline and CRLF safely)."""
_JSON_BAD = re.compile(f"[\x7f-\x9f{_BIDI}]")
"""What JSON writers leave raw with ``ensure_ascii=False`` (they escape U+0000–U+001F themselves)."""


def find(text: str, *, multiline: bool = False) -> str | None:
    """The first character ``text`` may not hold (as its visible escape, e.g. ``\\x1b``), or None."""
    match = (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(text)
    return None if match is None else _escape_char(match.group())


def check(text: str, *, multiline: bool = False) -> str:
    """``text`` itself, or ParseError ``control_char`` naming the first character it may not hold."""
    bad = find(text, multiline=multiline)
    if bad is not None:
        from .errors import ParseError

        raise ParseError("control_char", char=bad)
    return text


def searcher(*, multiline: bool = False) -> Callable[[str], object]:
    """A fast test for hot loops: returns a match (true) when the text holds a refused character.
    Every refused character is non-printable, so ``text.isprintable()`` (far faster) clears most
    text before this is needed."""
    return (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search


def is_clean(text: str, *, multiline: bool = False) -> bool:
    return (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(text) is None


def _escape_char(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with every control character (but tab and newline) written visibly: ``\\x1b``, ``\\u202e``.

    Returns ``text`` itself when there is nothing to escape (the common case costs one search).
    """
    if _SHOWN_BAD.search(text) is None:
        return text
    return _SHOWN_BAD.sub(lambda m: _escape_char(m.group()), text)


def escape_json(text: str) -> str:
    """JSON text with the characters JSON writers leave raw written as ``\\uXXXX`` escapes.

    Valid only for JSON text (those characters can only occur inside strings there), where the
    result parses back to the same values.
    """
    if _JSON_BAD.search(text) is None:
        return text
    return _JSON_BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with ``'`` (OWASP CSV injection);
    ``crm import`` strips it again, so ``+86…`` phones round-trip."""
    if value and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_cell(value: str) -> str:
    """A text cell as every CSV/TSV writer of crm writes it: controls escaped, formulas neutralised."""
    return neutralise(escape(value))
