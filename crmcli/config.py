"""Settings kept in the database's ``config`` table, so a team sharing the file shares them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import UsageError
from .storage import Store


def _prefix(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{1,8}", value):
        raise UsageError(f"id-prefix must be 1 to 8 letters A-Z, not {value!r}")
    return value


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError("the value must not be empty")
    return value


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    help_en: str
    help_zh: str
    check: Callable[[str], str] = _text


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("id-prefix", "XS", "prefix of generated customer IDs", "生成客户编号的前缀", _prefix),
        Setting("user", "", "your name: default owner and follow-up author", "你的名字：默认跟进人与记录人"),
    )
}


def get(store: Store, key: str) -> str:
    setting = _setting(key)
    row = store.conn.execute("SELECT value FROM config WHERE key = ?", (key,)).fetchone()
    return row[0] if row else setting.default


def set_value(store: Store, key: str, value: str) -> str:
    value = _setting(key).check(value)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
    return value


def all_values(store: Store) -> dict[str, str]:
    stored = dict(store.conn.execute("SELECT key, value FROM config").fetchall())
    return {key: stored.get(key, s.default) for key, s in SETTINGS.items()}


def _setting(key: str) -> Setting:
    try:
        return SETTINGS[key]
    except KeyError:
        raise UsageError(f"unknown setting {key!r}; settings: {', '.join(SETTINGS)}") from None
