"""Saved views: a name for a ``crm list`` filter, sort and column choice.

Stored in the ``views`` table as JSON (``{"filters": {…}, "sort": [["amount", true]], "columns":
[…], "limit": null}``) with the values already checked and normalised (option codes, ISO dates,
amounts in fen), so ``crm list --view NAME`` is the same listing tomorrow even if an option's
label changes. Options given next to ``--view`` refine it: they replace the view's value for the
same filter; ``--where`` conditions add to the view's.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from . import clock
from .errors import NotFound, ValidationError
from .query import Filters
from .storage import Store

NAME_RE = re.compile(r"^[^\W][\w\-.]{0,63}$")


@dataclass
class View:
    name: str
    filters: Filters
    sort: list[tuple[str, bool]]
    columns: list[str] | None
    limit: int | None
    updated_at: str

    def spec(self) -> dict[str, Any]:
        return spec(self.filters, self.sort, self.columns, self.limit)


def spec(
    filters: Filters, sort: list[tuple[str, bool]], columns: list[str] | None, limit: int | None
) -> dict[str, Any]:
    return {
        "filters": dataclasses.asdict(filters),
        "sort": [[key, desc] for key, desc in sort],
        "columns": list(columns) if columns else None,
        "limit": limit,
    }


def _filters_from(data: dict[str, Any]) -> Filters:
    known = {f.name for f in dataclasses.fields(Filters)}
    values = {k: v for k, v in data.items() if k in known}
    if "conditions" in values:
        values["conditions"] = [tuple(c) for c in values["conditions"]]
    return Filters(**values)


def _view(name: str, text: str, updated_at: str) -> View:
    data = json.loads(text)
    return View(
        name=name,
        filters=_filters_from(data.get("filters") or {}),
        sort=[(str(k), bool(d)) for k, d in data.get("sort") or []],
        columns=data.get("columns"),
        limit=data.get("limit"),
        updated_at=updated_at,
    )


def check_name(name: str) -> str:
    text = name.strip()
    if not NAME_RE.match(text):
        raise ValidationError("view", name, "view_name")
    return text


def save(
    store: Store,
    name: str,
    filters: Filters,
    sort: list[tuple[str, bool]],
    columns: list[str] | None,
    limit: int | None,
) -> bool:
    """Store (or replace) a view; True when it replaced one."""
    name = check_name(name)
    text = json.dumps(spec(filters, sort, columns, limit), ensure_ascii=False)
    stamp = clock.now_utc()
    with store.write() as conn:
        existed = conn.execute("SELECT 1 FROM views WHERE name = ?", (name,)).fetchone() is not None
        conn.execute(
            "INSERT INTO views (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
            (name, text, stamp, stamp),
        )
    return existed


def get(conn: sqlite3.Connection, name: str) -> View:
    row = conn.execute("SELECT name, spec, updated_at FROM views WHERE name = ?", (name.strip(),)).fetchone()
    if row is None:
        names = [r[0] for r in conn.execute("SELECT name FROM views ORDER BY name")]
        hint = f"; saved views: {', '.join(names)}" if names else "; save one with crm view save NAME [list options]"
        hint_zh = f"；已保存的视图：{', '.join(names)}" if names else "；可用 crm view save 名称 [list 选项] 保存一个"
        raise NotFound(f"no saved view {name!r}{hint}", zh=f"没有已保存的视图 {name!r}{hint_zh}")
    return _view(*row)


def list_views(conn: sqlite3.Connection) -> list[View]:
    return [_view(*r) for r in conn.execute("SELECT name, spec, updated_at FROM views ORDER BY name")]


def delete(store: Store, name: str) -> None:
    with store.write() as conn:
        if conn.execute("DELETE FROM views WHERE name = ?", (name.strip(),)).rowcount == 0:
            raise NotFound(f"no saved view {name!r}", zh=f"没有已保存的视图 {name!r}")


def merge(saved: Filters, given: Filters) -> Filters:
    """The view's filters refined by the ones given on the command line: a given filter replaces
    the view's value for it; conditions (``--where``) add up."""
    default = Filters()
    out = dataclasses.replace(saved)
    for f in dataclasses.fields(Filters):
        mine = getattr(given, f.name)
        if f.name == "choices":
            out.choices = {**saved.choices, **{k: v for k, v in given.choices.items() if v}}
        elif f.name == "conditions":
            out.conditions = [*saved.conditions, *given.conditions]
        elif mine != getattr(default, f.name):
            setattr(out, f.name, mine)
    return out


def describe(view: View) -> str:
    """A one-line summary for ``crm view list``."""
    parts: list[str] = []
    f = view.filters
    for key, values in f.choices.items():
        if values:
            parts.append(f"{key}={','.join(values)}")
    for key in ("owner", "grade"):
        values = getattr(f, key)
        if values:
            parts.append(f"{key}={','.join(values)}")
    for key, op, value in f.conditions:
        parts.append(f"{key}{op}{'' if value is None else value}")
    for name in (
        "first_contact_from",
        "first_contact_to",
        "last_followup_from",
        "last_followup_to",
        "amount_min",
        "amount_max",
    ):
        value = getattr(f, name, None)
        if value is not None:
            parts.append(f"{name}={value}")
    if f.text:
        parts.append(f"text={f.text}")
    if f.archived != "exclude":
        parts.append(f"archived={f.archived}")
    return " ".join(parts)
