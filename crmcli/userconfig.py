"""Per-person settings (user name, language, default database, phone region) in a per-user
TOML file, each overridable by an environment variable.

These are a person's, not the team's: two people sharing one database file each have their own
name in the audit trail and their own ``--mine``. Settings of the team's data (ID prefix, stale
window, weights, grade rule) stay in the database (:mod:`crmcli.config`).

The file is ``$CRM_CONFIG`` if set, else ``config.toml`` in the platform's user config directory
(``~/.config/crmcli/`` on Linux). It is read with :mod:`tomllib` and written by the small writer
below (flat string keys only, so no TOML library is needed to write it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

APP_NAME = "crmcli"


@dataclass(frozen=True)
class UserSetting:
    key: str
    env: str
    help_en: str
    help_zh: str


USER_SETTINGS: dict[str, UserSetting] = {
    s.key: s
    for s in (
        UserSetting("user", "CRM_USER", "your name: default owner, follow-up author, audit trail, --mine", "你的名字：默认跟进人、记录人、审计记录与 --mine"),
        UserSetting("lang", "CRM_LANG", "interface language: en or zh", "界面语言：en 或 zh"),
        UserSetting("db", "CRM_DB", "default database file", "默认数据库文件"),
        UserSetting("phone-region", "CRM_PHONE_REGION", "default phone region, e.g. CN or US", "电话号码默认地区，如 CN、US"),
    )
}


def path() -> Path:
    """Where the per-user file is: ``$CRM_CONFIG``, else the platform's user config dir."""
    env = os.environ.get("CRM_CONFIG")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def read(file: Path | None = None) -> dict[str, str]:
    """The file's settings (empty when there is no file). A file we cannot parse is refused
    rather than ignored: silently falling back would change who the audit trail names."""
    target = file or path()
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read {target}: {exc.strerror}", zh=f"无法读取 {target}：{exc.strerror}") from None
    import tomllib

    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{target} is not valid TOML: {exc}", zh=f"{target} 不是有效的 TOML：{exc}") from None
    return {str(k): str(v) for k, v in parsed.items() if not isinstance(v, (dict, list))}


def get(key: str) -> str | None:
    """A per-person setting as it applies now: its environment variable, else the per-user
    file, else None. The one function other modules use (the phone region, the user name…)."""
    setting = _setting(key)
    env = os.environ.get(setting.env)
    if env:
        return env
    # Only read the file when it exists: most commands run without one (cron, tests).
    value = read().get(key)
    return value or None


def file_value(key: str) -> str | None:
    """The value stored in the per-user file only (what ``crm config --user get`` prints)."""
    return read().get(_setting(key).key) or None


def set_value(key: str, value: str) -> str:
    setting = _setting(key)
    value = _check(setting.key, value)
    values = read()
    values[setting.key] = value
    _write(values)
    return value


def unset(key: str) -> bool:
    """Remove a setting from the file; whether it was there."""
    setting = _setting(key)
    values = read()
    if setting.key not in values:
        return False
    del values[setting.key]
    _write(values)
    return True


def all_values() -> dict[str, tuple[str | None, str]]:
    """Every per-person setting: (value, where it comes from: env var name, ``file`` or ``""``)."""
    stored = read()
    out: dict[str, tuple[str | None, str]] = {}
    for key, setting in USER_SETTINGS.items():
        env = os.environ.get(setting.env)
        if env:
            out[key] = (env, setting.env)
        elif stored.get(key):
            out[key] = (stored[key], "file")
        else:
            out[key] = (None, "")
    return out


def login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def identity() -> tuple[str, bool]:
    """Who is acting: ``CRM_USER``, else the file's ``user``, else the OS login. The flag says
    whether a name was configured (False: the login stands in, and the CLI says so once)."""
    name = get("user")
    return (name, True) if name else (login(), False)


def _check(key: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError("the value must not be empty (crm config --user unset KEY removes a setting)",
                         zh="值不能为空（crm config --user unset KEY 可删除设置）")
    if key == "lang" and value.lower()[:2] not in ("en", "zh"):
        raise UsageError(f"lang must be en or zh, not {value!r}", zh=f"lang 只能是 en 或 zh，而不是 {value!r}")
    if key == "phone-region":
        value = value.upper()
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise UsageError(f"phone-region must be a two-letter region such as CN or US, not {value!r}",
                             zh=f"phone-region 必须是两个字母的地区代码（如 CN、US），而不是 {value!r}")
    if key == "db":
        value = str(Path(value).expanduser().resolve())
    return value


def _setting(key: str) -> UserSetting:
    try:
        return USER_SETTINGS[key]
    except KeyError:
        keys = ", ".join(USER_SETTINGS)
        raise UsageError(f"unknown per-person setting {key!r}; settings: {keys}",
                         zh=f"未知的个人设置 {key!r}；可用设置：{keys}") from None


def dumps(values: dict[str, str]) -> str:
    """Flat string keys as TOML: bare keys where allowed, basic strings escaped per TOML 1.0."""
    lines = ["# crm per-person settings (crm config --user set|unset KEY …)"]
    for key in sorted(values):
        name = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _quote(key)
        lines.append(f"{name} = {_quote(values[key])}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _write(values: dict[str, str]) -> None:
    """Write the whole file atomically (a temporary file renamed over it), mode 0600."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(dumps(values))
    os.replace(tmp, target)
