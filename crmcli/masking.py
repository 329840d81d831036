"""Phones in messages: what an error may quote of a value without revealing a number.

Listings mask phones in :mod:`crmcli.render`, history in :mod:`crmcli.followups`; this is for the
rest — error lines, import summaries (JSON too), rejected-row reasons. A value of a phone-kind
field (``phone``, and any field of that kind added later) that is a real number is quoted masked,
so a duplicate-phone conflict says ``phone '138****5678'``. A value that is no number at all
(``-1199``, ``abc``) is quoted as typed: it reveals nobody, and the user needs it to fix the row.
"""

from __future__ import annotations

from . import parsing
from .errors import ParseError
from .fields import BY_KEY


def is_phone_field(key: str) -> bool:
    spec = BY_KEY.get(key)
    return spec is not None and spec.kind == "phone"


def message_value(field: str, value: object) -> object:
    """``value`` as a message may quote it (see the module's docstring)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not is_phone_field(field):
        return value
    text = str(value) if isinstance(value, str) or value.bit_length() < 200 else ""
    if not text or len(text) > 64:  # longer than any phone number: not one, and never parsed whole
        return value
    try:
        parsing.parse_phone(text)
    except ParseError:
        return value
    return parsing.mask_phone(text)
