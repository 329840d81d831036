"""Settings kept in the database's ``config`` table, so a team sharing the file shares them.

Every value is checked when it is set (type, range, known codes), and again when it is read: a
value stored invalid (by ``sqlite3``, or by an older crm that checked less) must not break every
command of everyone sharing the database, so it is replaced by the default with a warning.
"""

from __future__ import annotations

import math
import re
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .errors import CrmError, UsageError, ValidationError
from .storage import Store

STALE_MONTHS_MAX = 120
WEIGHT_MAX = 1000.0
"""Priority weights are finite numbers from 0 to this (``crm today`` adds a handful of them)."""
GRADE_KEYS = ("A", "B", "C", "NONE")
USER_MAX = 64
RULE_THRESHOLD_MAX = 1e12

Check = Callable[[str, sqlite3.Connection], str]


def _prefix(value: str, conn: sqlite3.Connection) -> str:
    text = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{1,8}", text):
        raise ValidationError("id-prefix", value, "setting_prefix")
    return text


def _text(key: str, max_len: int) -> Check:
    def check(value: str, conn: sqlite3.Connection) -> str:
        text = value.strip()
        if not text:
            raise ValidationError(key, value, "empty")
        if len(text) > max_len:
            raise ValidationError(key, value, "too_long", details={"max_len": max_len})
        return text

    return check


def _months(value: str, conn: sqlite3.Connection) -> str:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= STALE_MONTHS_MAX):
        raise ValidationError("stale-months", value, "setting_months", details={"max": STALE_MONTHS_MAX})
    return str(int(text))


def _weight(key: str, text: str, whole: str) -> float:
    """One weight: a finite number from 0 to WEIGHT_MAX (no nan, inf, 1e308, 1e400)."""
    number = text.strip()
    try:
        weight = float(number) if len(number) <= 32 else math.nan
    except ValueError:
        weight = math.nan
    if not math.isfinite(weight) or not 0 <= weight <= WEIGHT_MAX:
        raise ValidationError(key, whole, "setting_weight", details={"part": number[:32], "max": f"{WEIGHT_MAX:g}"})
    return weight


def _number(key: str) -> Check:
    def check(value: str, conn: sqlite3.Connection) -> str:
        _weight(key, value, value)
        return value.strip()

    return check


def _status_codes(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute("SELECT code FROM options WHERE field = 'status' ORDER BY position, code").fetchall()
    except sqlite3.Error:
        rows = []
    return [r[0] for r in rows] or ["potential", "intent", "active", "paused", "lost"]


def _weight_map(key: str, upper: bool) -> Check:
    def check(value: str, conn: sqlite3.Connection) -> str:
        known = list(GRADE_KEYS) if upper else _status_codes(conn)
        out: list[str] = []
        seen: set[str] = set()
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, number = part.partition("=")
            name = name.strip().upper() if upper else name.strip().lower()
            if not sep or not name:
                raise ValidationError(key, value, "setting_map", details={"part": part[:32]})
            if name not in known:
                raise ValidationError(
                    key, value, "setting_map_key", details={"part": name[:32], "allowed": ", ".join(known)}
                )
            if name in seen:
                raise ValidationError(key, value, "setting_map_twice", details={"part": name})
            seen.add(name)
            _weight(key, number, value)
            out.append(f"{name}={number.strip()}")
        if not out:
            raise ValidationError(key, value, "setting_map", details={"part": value[:32]})
        return ",".join(out)

    return check


def _phone_region(value: str, conn: sqlite3.Connection) -> str:
    from .phones import check_region

    return check_region(value)


def _grade_rule(value: str, conn: sqlite3.Connection) -> str:
    from . import grading

    rule = grading.parse_rule(value)
    for _grade, minimum in rule.steps:
        if not math.isfinite(minimum) or not 0 <= minimum <= RULE_THRESHOLD_MAX:
            raise ValidationError("grade-rule", value, "setting_threshold", details={"max": f"{RULE_THRESHOLD_MAX:g}"})
    return str(rule)


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    help_en: str
    help_zh: str
    check: Check


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("id-prefix", "XS", "prefix of generated customer IDs (1 to 8 letters A-Z)", "生成客户编号的前缀（1 到 8 个字母 A-Z）", _prefix),
        Setting("phone-region", "CN", "region of phones written without a country code ($CRM_PHONE_REGION overrides it)", "不带国家/地区代码的电话所属地区（$CRM_PHONE_REGION 优先）", _phone_region),
        # Follow-ups, stale, today, grading.
        Setting("stale-months", "3", "default window of crm stale / archive / today, in calendar months (1 to 120)", "stale/archive/today 的默认时间窗口（自然月，1 到 120）", _months),
        Setting("priority-status", "intent=4,active=3,potential=2,paused=1,lost=0", "crm today: points per status (STATUS=N, N from 0 to 1000)", "crm today：各合作状态的分值（状态=N，N 为 0 到 1000）", _weight_map("priority-status", upper=False)),
        Setting("priority-grade", "A=3,B=2,C=1", "crm today: points per grade (A, B, C, NONE= for ungraded; 0 to 1000)", "crm today：各客户等级的分值（A、B、C，NONE= 为未分级；0 到 1000）", _weight_map("priority-grade", upper=True)),
        Setting("priority-inactive", "6", "crm today: points for one stale window without contact (linear, at most twice; 0 to 1000)", "crm today：一个时间窗口未联系的分值（线性，最多两倍；0 到 1000）", _number("priority-inactive")),
        Setting("priority-due", "8", "crm today: points for a next step a week overdue (ramps up from 2 weeks ahead; 0 to 1000)", "crm today：下一步逾期一周的分值（提前两周开始递增；0 到 1000）", _number("priority-due")),
        Setting("grade-rule", "amount:A>=500000,B>=100000,C", "crm grade --recompute: BASIS:GRADE>=N,...,GRADE (basis amount or followups)", "crm grade --recompute 的规则：依据:等级>=N,…,等级（依据 amount 或 followups）", _grade_rule),
    )
}  # fmt: skip


def get(store: Store, key: str) -> str:
    setting = _setting(key)
    row = store.conn.execute("SELECT value FROM config WHERE key = ?", (key,)).fetchone()
    return _usable(store, setting, row[0]) if row else setting.default


def set_value(store: Store, key: str, value: str) -> str:
    setting = _setting(key)
    value = setting.check(value, store.conn)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
    return value


def unset(store: Store, key: str) -> tuple[str, bool]:
    """Remove a setting, so its default applies again. Returns the default and whether a value
    was stored (unsetting a setting that has none is a successful no-op)."""
    setting = _setting(key)
    with store.write() as conn:
        removed = conn.execute("DELETE FROM config WHERE key = ?", (key,)).rowcount
    return setting.default, bool(removed)


def all_values(store: Store) -> dict[str, str]:
    stored = dict(store.conn.execute("SELECT key, value FROM config").fetchall())
    return {key: _usable(store, s, stored[key]) if key in stored else s.default for key, s in SETTINGS.items()}


def _usable(store: Store, setting: Setting, value: object) -> str:
    """The stored value when it passes the setting's check, else the default, with a warning."""
    if isinstance(value, str):
        try:
            return setting.check(value, store.conn)  # normalised, as set_value would store it
        except CrmError:
            pass
    from . import i18n
    from .errors import shorten

    shown = shorten(value)
    text = i18n.message("setting_invalid", i18n.detect(), key=setting.key, value=shown, default=setting.default)
    if text not in store.warnings:
        store.warnings.append(text)
        # Reported where it is found: every command reading settings gets here, and a silent
        # fallback would hide the broken value from whoever can fix it.
        sys.stderr.write(text + "\n")
    return setting.default


def _setting(key: str) -> Setting:
    try:
        return SETTINGS[key]
    except KeyError:
        from .userconfig import USER_SETTINGS

        if key == "user" and key in USER_SETTINGS:
            # The shared `user` setting made everyone on a shared file the same person: per-person
            # settings live in the per-user file now (crmcli.userconfig).
            raise UsageError(
                f"{key} is a per-person setting, kept in your own config file: crm config --user set {key} …",
                zh=f"{key} 是个人设置，保存在你自己的配置文件中：crm config --user set {key} …",
            ) from None
        raise UsageError(
            f"unknown setting {key[:40]!r}; settings: {', '.join(SETTINGS)}",
            zh=f"未知设置 {key[:40]!r}；可用设置：{', '.join(SETTINGS)}",
        ) from None


def shared_user(store: Store) -> str | None:
    """The old shared ``user`` setting, if this database still holds one (it is ignored now)."""
    row = store.conn.execute("SELECT value FROM config WHERE key = 'user'").fetchone()
    return row[0] if row and row[0] else None
