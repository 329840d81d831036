"""Sample follow-ups for ``crm demo``: two per customer, the second one setting its last follow-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from . import clock, followups
from .customers import Context, Record
from .options import OptionSet
from .storage import Store

# status -> (content, result, next step, days from the contact to the next step, channel, kind, satisfaction)
SECOND: dict[str, tuple[str, str | None, str | None, int, str, str, int | None]] = {
    "potential": ("电话介绍产品，对方表示再考虑", "需要更多资料", "发送产品资料并电话跟进", 7, "phone", "sales", None),
    "intent": ("发送报价单，等待客户确认", "客户认可方案，价格待谈", "三天内电话确认反馈", 3, "email", "sales", None),
    "active": ("回访使用情况，客户满意", "无问题", "季度回访", 90, "phone", "service", 5),
    "paused": ("客户组织调整，项目暂缓", "等待新负责人到位", "下月再联系", 30, "wechat", "sales", 3),
    "lost": ("客户选择了竞品", "价格差距较大", None, 0, "phone", "sales", 2),
}


def log_samples(store: Store, record: Record, days_ago: int, options: OptionSet, ctx: Context) -> int:
    """Log a first meeting at the first contact date and a recent follow-up ``days_ago`` days ago."""
    today = clock.today()
    last = today - timedelta(days=days_ago)
    content, result, next_step, gap, channel, kind, satisfaction = SECOND.get(record["status"], SECOND["potential"])
    entries: list[dict[str, Any]] = [
        {
            "content": f"初次沟通：{record.get('needs') or '了解需求'}",
            "result": "客户有兴趣，需要方案",
            "date": record["first_contact"],
            "channel": "visit",
            "kind": "sales",
        },
        {
            "content": content,
            "result": result,
            "next_step": next_step,
            "date": last.isoformat(),
            "next_date": (last + timedelta(days=gap)).isoformat() if next_step else None,
            "channel": channel,
            "kind": kind,
            "satisfaction": satisfaction,
        },
    ]
    for entry in entries:
        followups.log(store, record["id"], followups.FollowupInput(**entry, by=record.get("owner")), ctx, options)
    return len(entries)
