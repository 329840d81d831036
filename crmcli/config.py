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
        raise UsageError(f"id-prefix must be 1 to 8 letters A-Z, not {value!r}", zh=f"id-prefix 必须是 1 到 8 个字母 A-Z，而不是 {value!r}")
    return value


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError("the value must not be empty", zh="值不能为空")
    return value


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    help_en: str
    help_zh: str
    check: Callable[[str], str] = _text


def _lazy(module: str, name: str) -> Callable[[str], str]:
    """A check function from a domain module, imported only when a setting is changed."""
    import importlib

    return getattr(importlib.import_module(f"crmcli.{module}"), name)  # type: ignore[no-any-return]


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("id-prefix", "XS", "prefix of generated customer IDs", "生成客户编号的前缀", _prefix),
        # Follow-ups, stale, today, grading (crmcli.agenda, crmcli.grading check the values).
        Setting("stale-months", "3", "default window of crm stale / archive / today, in calendar months", "stale/archive/today 的默认时间窗口（自然月）", lambda v: _lazy("agenda", "check_months")(v)),
        Setting("priority-status", "intent=4,active=3,potential=2,paused=1,lost=0", "crm today: points per status", "crm today：各合作状态的分值", lambda v: _lazy("agenda", "check_map")(v)),
        Setting("priority-grade", "A=3,B=2,C=1", "crm today: points per grade (NONE= for ungraded)", "crm today：各客户等级的分值（NONE= 为未分级）", lambda v: _lazy("agenda", "check_map")(v)),
        Setting("priority-inactive", "6", "crm today: points for one stale window without contact (linear, at most twice)", "crm today：一个时间窗口未联系的分值（线性，最多两倍）", lambda v: _lazy("agenda", "check_number")(v)),
        Setting("priority-due", "8", "crm today: points for a next step a week overdue (ramps up from 2 weeks ahead)", "crm today：下一步逾期一周的分值（提前两周开始递增）", lambda v: _lazy("agenda", "check_number")(v)),
        Setting("grade-rule", "amount:A>=500000,B>=100000,C", "crm grade --recompute: BASIS:GRADE>=N,...,GRADE (basis amount or followups)", "crm grade --recompute 的规则：依据:等级>=N,…,等级（依据 amount 或 followups）", lambda v: _lazy("grading", "check_rule")(v)),
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
        from .userconfig import USER_SETTINGS

        if key in USER_SETTINGS:
            # The shared `user` setting made everyone on a shared file the same person: per-person
            # settings live in the per-user file now (crmcli.userconfig).
            raise UsageError(
                f"{key} is a per-person setting, kept in your own config file: crm config --user set {key} …",
                zh=f"{key} 是个人设置，保存在你自己的配置文件中：crm config --user set {key} …",
            ) from None
        keys = ", ".join(SETTINGS)
        raise UsageError(f"unknown setting {key!r}; settings: {keys}", zh=f"未知的设置 {key!r}；可用设置：{keys}") from None


def shared_user(store: Store) -> str | None:
    """The old shared ``user`` setting, if this database still holds one (it is ignored now)."""
    row = store.conn.execute("SELECT value FROM config WHERE key = 'user'").fetchone()
    return row[0] if row and row[0] else None


def unset(store: Store, key: str) -> bool:
    """Back to the default; whether a value was stored."""
    _setting(key)
    with store.write() as conn:
        return conn.execute("DELETE FROM config WHERE key = ?", (key,)).rowcount > 0
