"""Option lists for dropdown fields: stored in the database, each option a code and two labels."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass

from .errors import Conflict, NotFound, UsageError, ValidationError
from .storage import Store

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Option:
    field: str
    code: str
    label_zh: str
    label_en: str
    position: int
    retired: bool

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


class OptionSet:
    """All options of all fields, loaded once per command: lookups are then dictionary hits."""

    def __init__(self, options: list[Option]) -> None:
        self.by_field: dict[str, list[Option]] = {}
        self._lookup: dict[tuple[str, str], Option] = {}
        for opt in options:
            self.by_field.setdefault(opt.field, []).append(opt)
            for spelling in (opt.label_zh, opt.label_en, opt.code):
                self._lookup.setdefault((opt.field, _norm(spelling)), opt)

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> OptionSet:
        rows = conn.execute(
            "SELECT field, code, label_zh, label_en, position, retired FROM options ORDER BY field, position"
        ).fetchall()
        return cls([Option(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows])

    def fields(self) -> list[str]:
        return list(self.by_field)

    def get(self, field: str, code: str) -> Option | None:
        return self._lookup.get((field, _norm(code)))

    def resolve(self, field: str, value: str, *, allow_retired: bool = False) -> str:
        """The code for ``value`` (a code or either label). Refuses unknown and, unless
        ``allow_retired``, retired options, naming the allowed values."""
        opt = self._lookup.get((field, _norm(value)))
        if opt is None or (opt.retired and not allow_retired):
            allowed = [f"{o.code} ({o.label_zh}/{o.label_en})" for o in self.active(field)]
            reason = "option_retired" if opt else "option_unknown"
            raise ValidationError(field, value, reason, details={"allowed": ", ".join(allowed)})
        return opt.code

    def active(self, field: str) -> list[Option]:
        return [o for o in self.by_field.get(field, []) if not o.retired]

    def label(self, field: str, code: str | None, lang: str) -> str:
        if code is None:
            return ""
        opt = self._lookup.get((field, _norm(code)))
        return opt.label(lang) if opt else code

    def position(self, field: str, code: str) -> int:
        opt = self._lookup.get((field, _norm(code)))
        return opt.position if opt else 1_000_000


def load(store: Store) -> OptionSet:
    return OptionSet.load(store.conn)


def add_option(store: Store, field: str, code: str, label_zh: str, label_en: str) -> Option:
    code = code.strip()
    if not CODE_RE.match(code):
        raise ValidationError("code", code, "option_code")
    for name, label in (("label_zh", label_zh), ("label_en", label_en)):
        if not label.strip():
            raise ValidationError(name, label, "empty")
    with store.write() as conn:
        current = OptionSet.load(conn)
        if field not in current.by_field:
            raise UsageError(
                f"no option list for field {field!r}; lists: {', '.join(current.fields())}",
                zh=f"字段 {field!r} 没有选项列表；现有列表：{', '.join(current.fields())}",
            )
        for spelling in (code, label_zh, label_en):
            clash = current.get(field, spelling)
            if clash is not None:
                raise Conflict(
                    f"{field}: {spelling!r} is already used by option {clash.code!r}",
                    zh=f"{field}：{spelling!r} 已被选项 {clash.code!r} 使用",
                )
        position = 1 + max((o.position for o in current.by_field[field]), default=-1)
        conn.execute(
            "INSERT INTO options (field, code, label_zh, label_en, position, retired) VALUES (?, ?, ?, ?, ?, 0)",
            (field, code, label_zh.strip(), label_en.strip(), position),
        )
    return Option(field, code, label_zh.strip(), label_en.strip(), position, False)


def rename_option(
    store: Store, field: str, value: str, *, label_zh: str | None = None, label_en: str | None = None
) -> Option:
    """Change the labels of an option. The code, and so every record using it, stays."""
    with store.write() as conn:
        current = OptionSet.load(conn)
        opt = _find(current, field, value)
        for spelling in (label_zh, label_en):
            if spelling is not None:
                clash = current.get(field, spelling)
                if clash is not None and clash.code != opt.code:
                    raise Conflict(
                    f"{field}: {spelling!r} is already used by option {clash.code!r}",
                    zh=f"{field}：{spelling!r} 已被选项 {clash.code!r} 使用",
                )
        new_zh = label_zh.strip() if label_zh else opt.label_zh
        new_en = label_en.strip() if label_en else opt.label_en
        conn.execute(
            "UPDATE options SET label_zh = ?, label_en = ? WHERE field = ? AND code = ?",
            (new_zh, new_en, field, opt.code),
        )
    return Option(field, opt.code, new_zh, new_en, opt.position, opt.retired)


# Statuses the pipeline itself uses: new customers start as potential, the funnel counts intent
# and active, stale and today leave lost out, the priority weights name all five. Retiring one
# would make `crm status X active` fail for everyone, so it is refused.
PIPELINE_STATUSES = ("potential", "intent", "active", "paused", "lost")


def set_retired(store: Store, field: str, value: str, retired: bool = True) -> Option:
    """Retire (or bring back) an option: old records keep it, new ones cannot choose it.
    The statuses the pipeline needs (PIPELINE_STATUSES) cannot be retired."""
    with store.write() as conn:
        opt = _find(OptionSet.load(conn), field, value)
        if retired and field == "status" and opt.code in PIPELINE_STATUSES:
            used = conn.execute("SELECT count(*) FROM customers WHERE status = ?", (opt.code,)).fetchone()[0]
            raise UsageError(
                f"status {opt.code} is part of the pipeline (new customers, the funnel, stale and today use it; "
                f"{used} customers have it) and cannot be retired; rename it instead: crm options rename status {opt.code} --zh … --en …",
                zh=f"状态 {opt.code} 是销售管道的一部分（新客户、漏斗、stale 和 today 都用到它；{used} 个客户正在使用），"
                f"不能停用；可改名：crm options rename status {opt.code} --zh … --en …",
            )
        conn.execute(
            "UPDATE options SET retired = ? WHERE field = ? AND code = ?", (int(retired), field, opt.code)
        )
    return Option(field, opt.code, opt.label_zh, opt.label_en, opt.position, retired)


def _find(options: OptionSet, field: str, value: str) -> Option:
    if field not in options.by_field:
        lists = ", ".join(options.fields())
        raise UsageError(f"no option list for field {field!r}; lists: {lists}", zh=f"字段 {field!r} 没有选项列表；可用：{lists}")
    opt = options.get(field, value)
    if opt is None:
        raise NotFound(f"{field}: no option {value!r}", zh=f"{field}：没有选项 {value!r}")
    return opt
