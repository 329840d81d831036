"""The project's exceptions. Each carries the process exit code the CLI uses for it."""

from __future__ import annotations

QUOTE_MAX = 40
"""How many characters of a value a message quotes; the rest is cut with "…"."""


def shorten(value: object, limit: int = QUOTE_MAX) -> str:
    """``value`` as text of at most ``limit`` characters (cut with "…"), for quoting in a message:
    a 300 MB cell must never become a 300 MB error message."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        # str() of a 5000-digit int is refused by Python itself (and slow): count digits instead.
        try:
            text = str(value)
        except ValueError:
            return f"<a number of about {value.bit_length() * 30103 // 100000} digits>"
    else:
        try:
            text = str(value)
        except Exception:  # noqa: BLE001  (a message must never fail on the value it quotes)
            text = object.__repr__(value)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class CrmError(Exception):
    """Base of every error crm reports to a user without a traceback.

    ``zh`` is the message in Chinese, where one is given; the CLI shows it when the interface
    language is Chinese and the English text otherwise.
    """

    exit_code = 1

    def __init__(self, message: str = "", *args: object, zh: str | None = None) -> None:
        super().__init__(message, *args)
        self.zh = zh

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else str(self)


class UsageError(CrmError):
    """Bad arguments or bad input in general."""

    exit_code = 2


class ParseError(ValueError):
    """A value could not be parsed. ``reason`` is a key into :data:`crmcli.i18n` reasons.

    Parsers do not know which field they parse; the caller wraps this in a
    :class:`ValidationError` that names field and value.
    """

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class ValidationError(UsageError):
    """A field value was refused. ``row`` is set for batch input (1-based line number)."""

    def __init__(
        self,
        field: str,
        value: object,
        reason: str,
        *,
        row: int | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(f"{shorten(field)}: {shorten(value)!r}: {reason}")
        self.field = field
        # Only ever shown, cut short: an import keeps thousands of these, a cell may be 1 MiB.
        self.value = shorten(value, 200) if isinstance(value, str) else value
        self.reason = reason
        self.row = row
        self.details = details or {}


class DuplicateValue(ValidationError):
    """A value that must be unique is taken (``crm add --id`` of an existing ID): a conflict,
    exit 4 like the other conflicts, while still naming field and value like a validation error."""

    exit_code = 4


class NotFound(CrmError):
    exit_code = 3


class Conflict(CrmError):
    """Duplicate key, or a record changed by someone else since it was read."""

    exit_code = 4


class Busy(CrmError):
    """The database stayed locked by other writers beyond the busy timeout."""

    exit_code = 5


class StoreError(CrmError):
    """The database file cannot be used: corrupt, not SQLite, too new, read-only, disk full."""

    exit_code = 6

