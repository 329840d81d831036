"""The customer fields: one key per field, used for flags, JSON keys, CSV headers, sort and filters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "id", "text", "longtext", "choice", "phone", "email", "date", "amount", "grade", "timestamp", "flag", "integer",
    "decimal",
]


@dataclass(frozen=True)
class Field:
    key: str
    zh: str
    en: str
    kind: Kind
    required: bool = False
    max_len: int | None = None
    editable: bool = True
    """Set by ``add``/``edit``/import. Timestamps and bookkeeping columns are not."""
    custom: bool = False
    """Added with ``crm fields add`` (see :mod:`crmcli.custom_fields`); retired ones are not editable."""

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


# Order is the seed template's order; the grade and bookkeeping columns follow.
FIELDS: tuple[Field, ...] = (
    Field("id", "客户编号", "Customer ID", "id", max_len=32),
    Field("name", "客户名称", "Customer name", "text", required=True, max_len=100),
    Field("industry", "所属行业", "Industry", "choice"),
    Field("type", "客户类型", "Customer type", "choice"),
    Field("contact", "联系人姓名", "Contact name", "text", required=True, max_len=50),
    Field("title", "联系人职位", "Contact title", "text", max_len=50),
    Field("phone", "联系方式", "Phone", "phone", required=True, max_len=40),
    Field("email", "电子邮箱", "Email", "email", max_len=254),
    Field("address", "客户地址", "Address", "text", max_len=200),
    Field("source", "客户来源", "Source", "choice", required=True),
    Field("needs", "需求描述", "Needs", "longtext", required=True, max_len=2000),
    Field("first_contact", "首次接触时间", "First contact", "date", required=True),
    Field("last_followup", "最近跟进时间", "Last follow-up", "date"),
    Field("owner", "跟进人", "Owner", "text", required=True, max_len=50),
    Field("followup", "跟进内容", "Follow-up", "longtext", max_len=2000),
    Field("next_step", "下一步计划", "Next step", "longtext", max_len=2000),
    Field("status", "合作状态", "Status", "choice", required=True),
    Field("product", "合作产品/服务", "Product / service", "text", max_len=200),
    Field("amount", "合同金额(元)", "Contract amount (CNY)", "amount"),
    Field("notes", "备注", "Notes", "longtext", max_len=2000),
    Field("grade", "客户等级", "Grade", "grade"),
    Field("next_date", "下次跟进日期", "Next follow-up date", "date"),
    Field("archived", "已归档", "Archived", "flag", editable=False),
    Field("created_at", "创建时间", "Created", "timestamp", editable=False),
    Field("updated_at", "更新时间", "Updated", "timestamp", editable=False),
    Field("version", "版本", "Version", "integer", editable=False),
)

BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
CHOICE_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.kind == "choice")
REQUIRED: tuple[str, ...] = tuple(f.key for f in FIELDS if f.required)
SEED_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS[:20])
"""The seed template's 20 columns, in its order."""

DEFAULT_COLUMNS: tuple[str, ...] = (
    "id", "name", "contact", "phone", "industry", "status", "grade", "owner", "last_followup", "amount",
)


def header_key(header: str) -> str:
    """Normalise a column header for matching: width, case, ``*``, brackets and spaces removed."""
    text = unicodedata.normalize("NFKC", header).casefold()
    return re.sub(r"[\s*()（）_\-/:：]+", "", text)


# Short headers that Chinese spreadsheets and other CRMs' exports use, recognised without a mapping.
# Each is unambiguous for a customer list; 姓名 is not here (a person's directory: their name
# is the contact, but in a list of individuals it is the customer) and needs a mapping.
SHORT_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("名称", "公司名称", "客户名称", "单位名称", "企业名称", "公司", "Company", "Company name", "Customer",
             "Account", "Account name", "Organization", "Organisation"),
    "contact": ("联系人", "联系人姓名", "Contact", "Contact person", "Contact name"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "移动电话", "Tel", "Telephone", "Mobile", "Mobile phone",
              "Cell", "Cell phone", "Phone number"),
    "email": ("邮箱", "电子邮件", "E-mail", "Mail", "Email address", "E-mail address"),
    "address": ("地址", "详细地址", "Addr", "Street address"),
    "needs": ("需求", "Requirement", "Requirements"),
    "title": ("职位", "职务", "Job title", "Position", "Title"),
    "notes": ("备注", "Remark", "Remarks", "Note", "Comment", "Comments"),
}  # fmt: skip
LANDLINE_SPELLINGS: tuple[str, ...] = ("固定电话", "座机", "办公电话", "Landline", "Office phone", "Work phone")
"""A landline column is the phone only when the file has no other phone column (see import_mapping)."""


def header_aliases() -> dict[str, str]:
    """Every accepted spelling of each field's header (custom fields too), normalised with
    :func:`header_key`: key, labels, flag, then the short spellings of :data:`SHORT_ALIASES` and
    the landline headers (which ``make_plan`` drops again when the file has another phone column)."""
    aliases: dict[str, str] = {}
    for key, spellings in SHORT_ALIASES.items():
        for spelling in spellings:
            aliases[header_key(spelling)] = key
    for spelling in LANDLINE_SPELLINGS:
        aliases[header_key(spelling)] = "phone"
    for f in all_fields():
        for spelling in (f.key, f.zh, f.en, f.flag):
            aliases[header_key(spelling)] = f.key
    return aliases


LANDLINE_HEADERS = frozenset(header_key(s) for s in LANDLINE_SPELLINGS)


def known(key: str) -> Field:
    """The field called ``key`` (also accepting dashes); raises KeyError for anything else."""
    return BY_KEY[key.replace("-", "_")]


# ---------------------------------------------------------------------------- custom fields
# The custom fields of the open database (crmcli.custom_fields.load puts them here). They are
# also entered into BY_KEY, so every ``BY_KEY.get(key)`` sees them like built-in fields.
_custom: list[Field] = []
_custom_owner: list[object] = []  # the connection they were loaded from (not a weakref: unsupported)
BUILTIN_KEYS: frozenset[str] = frozenset(BY_KEY)


def set_custom(specs: tuple[Field, ...] | list[Field], owner: object = None) -> None:
    """Replace the custom fields (never shadowing a built-in key)."""
    for f in _custom:
        BY_KEY.pop(f.key, None)
    _custom[:] = [f for f in specs if f.key not in BUILTIN_KEYS]
    for f in _custom:
        BY_KEY[f.key] = f
    _custom_owner[:] = [owner]


def custom_fields() -> tuple[Field, ...]:
    return tuple(_custom)


def custom_keys() -> tuple[str, ...]:
    return tuple(f.key for f in _custom)


def all_fields() -> tuple[Field, ...]:
    """The built-in fields, then the open database's custom fields."""
    return FIELDS + tuple(_custom) if _custom else FIELDS


def is_choice(key: str) -> bool:
    spec = BY_KEY.get(key)
    return spec is not None and spec.kind == "choice"


def sync(conn: object) -> None:
    """Load the custom fields of ``conn``'s database unless they are the ones loaded already."""
    if not _custom_owner or _custom_owner[0] is not conn:
        from .custom_fields import load

        load(conn)  # type: ignore[arg-type]
