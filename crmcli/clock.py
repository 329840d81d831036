"""Local today and UTC timestamps, in one place so tests and back-fills can pin "today"."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone


def today() -> date:
    """The local calendar date, or ``CRM_TODAY`` (ISO) when set: stale windows and agendas
    count from it, which makes reports reproducible."""
    pinned = os.environ.get("CRM_TODAY")
    if pinned:
        try:
            return date.fromisoformat(pinned.strip())
        except ValueError:
            from .errors import UsageError, shorten

            shown = shorten(pinned.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"))
            raise UsageError(
                f"CRM_TODAY: {shown!r} is not a date YYYY-MM-DD; unset it to use today",
                zh=f"CRM_TODAY：{shown!r} 不是 YYYY-MM-DD 格式的日期；取消设置即使用今天",
            ) from None
    return date.today()


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_user(configured: str = "") -> str:
    """``configured`` if given, else who is acting: ``CRM_USER``, the per-user file's ``user``
    (crm config --user set user …), else the OS login (see :func:`crmcli.userconfig.identity`)."""
    if configured:
        return configured
    from . import userconfig

    return userconfig.identity()[0]
