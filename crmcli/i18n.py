"""Interface language (English or Chinese) and the messages shown in each."""

from __future__ import annotations

import os
import sys

LANGS = ("en", "zh")


def detect(explicit: str | None = None, argv: list[str] | None = None) -> str:
    """``--lang`` > ``CRM_LANG`` > the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``) > English."""
    if explicit is None:
        args = sys.argv if argv is None else argv
        for i, arg in enumerate(args):
            if arg == "--lang" and i + 1 < len(args):
                explicit = args[i + 1]
            elif arg.startswith("--lang="):
                explicit = arg.split("=", 1)[1]
    for candidate in (explicit, os.environ.get("CRM_LANG"), _personal_lang()):
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in LANGS:
                return code
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _personal_lang() -> str | None:
    """``lang`` from the per-user file (crm config --user set lang zh); a broken file is
    reported by the command that reads it for real, not here while choosing a language."""
    from . import userconfig

    try:
        return userconfig.file_value("lang")
    except Exception:
        return None


def unknown_lang(explicit: str | None) -> str | None:
    """The language asked for when crm has no such interface language (``--lang fr``)."""
    if explicit and explicit.strip().lower()[:2] not in LANGS:
        return explicit
    return None


# Validation reasons not owned by the parsers (those live in parsing.REASONS and phones.REASONS).
REASONS: dict[str, tuple[str, str]] = {
    "required": ("is required", "为必填项"),
    "too_long": ("is longer than {max_len} characters", "超过 {max_len} 个字符"),
    "masked_partial": (
        "matches part of a masked field, which would reveal its hidden digits; give the whole number "
        "({field}=NUMBER), or add --reveal (recorded in the audit trail)",
        "对打码字段做部分匹配会泄露被隐藏的数字；请给出完整号码（{field}=号码），或加 --reveal（会记入审计记录）",
    ),
    "control_char": (
        "contains the control character {char} (escape codes, bidi overrides and other invisible controls are refused)",
        "包含控制字符 {char}（不接受转义序列、双向文字覆盖符等不可见控制字符）",
    ),
    "option_unknown": ("is not an allowed value; allowed: {allowed}", "不是允许的值；可选：{allowed}"),
    "option_retired": (
        "is a retired option, not allowed for new values; allowed: {allowed}",
        "是已停用的选项，不能用于新值；可选：{allowed}",
    ),
    "option_code": (
        "is not a valid option code (lower-case letters, digits, _; starting with a letter)",
        "不是有效的选项代码（小写字母、数字、下划线，以字母开头）",
    ),
    "id_format": (
        "is not a valid customer ID (letters, digits, - and _; at most 32)",
        "不是有效的客户编号（字母、数字、- 和 _，最多 32 个）",
    ),
    "id_sequence": (
        "looks like a generated ID (prefix, year, sequence) but its sequence has more than {digits} digits (at most {max})",
        "形如生成的客户编号（前缀+年份+序号），但序号超过 {digits} 位（最大 {max}）",
    ),
    "setting_prefix": ("must be 1 to 8 letters A-Z", "必须是 1 到 8 个字母 A-Z"),
    "setting_months": ("is not a whole number of months from 1 to {max}", "不是 1 到 {max} 之间的整数月数"),
    "setting_weight": (
        "{part!r} is not a number from 0 to {max} (nan, inf and huge numbers are refused)",
        "{part!r} 不是 0 到 {max} 之间的数字（不接受 nan、inf 和过大的数）",
    ),
    "setting_map": ("expected KEY=NUMBER pairs separated by commas, not {part!r}", "应为以逗号分隔的 键=数字，而不是 {part!r}"),
    "setting_map_key": ("{part!r} is not known; known: {allowed}", "{part!r} 未知；可用：{allowed}"),
    "setting_map_twice": ("{part!r} is given twice", "{part!r} 重复出现"),
    "setting_threshold": ("has a threshold that is not a number from 0 to {max}", "含有不在 0 到 {max} 之间的阈值"),
    "followup_future": ("lies in the future (today is {today})", "在未来（今天是 {today}）"),
    "followup_backwards": (
        "would move the last follow-up date backwards (it is {current}); log the follow-up instead",
        "会让最近跟进时间倒退（当前为 {current}）；请改为记录跟进",
    ),
    "id_exists": ("is already used by another customer", "已被其他客户使用"),
    "id_in_trash": (
        "is reserved by a deleted customer (crm trash list; deleted IDs are never reused)",
        "已被已删除的客户占用（见 crm trash list；删除客户的编号不会再被使用）",
    ),
    "age_format": ("is not an age such as 30d, 2w, 6m or 1y", "不是时长（如 30d、2w、6m、1y）"),
    "tag_control": ("contains a control character", "含有控制字符"),
    "tag_separator": ("contains ';', which separates tags", "含有用于分隔标签的 ;"),
    "unknown_field": ("is not a field; fields: {fields}", "不是字段；可用字段：{fields}"),
    "not_editable": ("cannot be set by hand", "不能手动设置"),
    "masked_phone": ("is a masked phone number; export with --reveal to re-import", "是打码的电话号码；请用 --reveal 导出后再导入"),
    "field_retired": (
        "is a retired field: its values stay readable but cannot be changed (crm fields retire --restore)",
        "是已停用的字段：旧值仍可查看，但不能修改（crm fields retire --restore 可恢复）",
    ),
    "field_key": (
        "is not a valid field key (2-31 lower-case letters, digits, _; starting with a letter)",
        "不是有效的字段键（2-31 个小写字母、数字、下划线，以字母开头）",
    ),
    "decimal_format": ("is not a number such as 3.5 or -0.25", "不是数字（如 3.5、-0.25）"),
    "where_format": (
        "is not a condition: KEY=VALUE, KEY!=VALUE, KEY>=VALUE, KEY<=VALUE or KEY~TEXT",
        "不是条件：KEY=值、KEY!=值、KEY>=值、KEY<=值 或 KEY~文字",
    ),
    "view_name": ("is not a valid view name (letters, digits, _ - .; at most 64)", "不是有效的视图名（字母、数字、_ - .，最多 64 个）"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    "added": ("Added {id} {name}", "已添加 {id} {name}"),
    "updated": ("Updated {id}: {fields}", "已更新 {id}：{fields}"),
    "unchanged": ("{id}: nothing changed", "{id}：没有变化"),
    "deleted": ("Moved {id} {name} to the trash", "已将 {id} {name} 移入回收站"),
    "delete_confirm": ("Move {id} {name} and its follow-ups to the trash?", "将 {id} {name} 及其跟进记录移入回收站？"),
    "aborted": ("Aborted; nothing changed.", "已取消；没有任何更改。"),
    "not_found": ("no customer {id}", "没有客户 {id}"),
    "missing_required": (
        "missing required fields: {fields}",
        "缺少必填字段：{fields}",
    ),
    "no_results": ("No customers match.", "没有匹配的客户。"),
    "error": ("Error", "错误"),
    "option_added": ("Added option {field}.{code}", "已添加选项 {field}.{code}"),
    "option_renamed": ("Renamed option {field}.{code}", "已重命名选项 {field}.{code}"),
    "option_retired": ("Retired option {field}.{code}", "已停用选项 {field}.{code}"),
    "option_restored": ("Restored option {field}.{code}", "已恢复选项 {field}.{code}"),
    "config_set": ("{key} = {value}", "{key} = {value}"),
    "config_unset": ("{key} = {value} (the default)", "{key} = {value}（默认值）"),
    "config_unset_none": ("{key} was not set; it is {value} (the default)", "{key} 未设置；当前为默认值 {value}"),
    "setting_invalid": (
        "warning: the stored setting {key} = {value!r} is invalid; using the default {default!r} "
        "(fix it with crm config set {key} … or crm config unset {key})",
        "警告：已保存的设置 {key} = {value!r} 无效；改用默认值 {default!r}"
        "（用 crm config set {key} … 或 crm config unset {key} 修正）",
    ),
    "row": ("row {row}", "第 {row} 行"),
    "argument_not_utf8": (
        "argument {position}{after} is not valid UTF-8: '{value}'",
        "第 {position} 个参数{after}不是有效的 UTF-8：'{value}'",
    ),
    "number_too_large": (
        "a number given is too large (beyond what can be stored or counted)",
        "给出的数字过大（超出可存储或计算的范围）",
    ),
    "config_user_file": ("(saved in {path})", "（已保存到 {path}）"),
    "config_user_unset": ("{key} removed from your config file", "已从个人配置文件删除 {key}"),
    "config_user_unset_none": ("{key} was not set in your config file; nothing changed", "个人配置文件中没有 {key}；没有变化"),
    "lang_unknown": ("no interface language {lang!r}; using English (languages: {langs})", "没有界面语言 {lang!r}；使用英文（可选：{langs}）"),
    "no_user": (
        "no user name is set, so the login {login!r} is used as owner and author; "
        "set yours with: crm config --user set user 张经理",
        "尚未设置用户名，暂用登录名 {login!r} 作为跟进人和记录人；设置方法：crm config --user set user 张经理",
    ),
    "shared_user_ignored": (
        "this database's shared setting user={name!r} is no longer used (it made everyone the same person); "
        "if that is you: crm config --user set user {name}",
        "此数据库的共享设置 user={name!r} 已不再使用（它让所有人成为同一个人）；如果那是你：crm config --user set user {name}",
    ),
    "interrupted": ("interrupted; nothing more was done", "已中断；未再做任何操作"),
}


def pick(lang: str, en: str, zh: str) -> str:
    """The text in ``lang`` of a message written in place (both texts given)."""
    return zh if lang == "zh" else en


def message(key: str, lang: str, /, **params: object) -> str:
    from .textsafe import escape

    en, zh = MESSAGES[key]
    # A stored name may hold control characters (an older database, raw SQL): never print them raw.
    return (zh if lang == "zh" else en).format(**{k: escape(v) if isinstance(v, str) else v for k, v in params.items()})


def reason(key: str, lang: str, /, **details: object) -> str:
    from .parsing import REASONS as PARSE_REASONS
    from .phones import REASONS as PHONE_REASONS

    en, zh = REASONS.get(key) or PARSE_REASONS.get(key) or PHONE_REASONS.get(key) or (key, key)
    text = zh if lang == "zh" else en
    try:
        return text.format(**details)
    except (KeyError, IndexError):
        return text
