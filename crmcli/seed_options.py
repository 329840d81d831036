"""The option lists a new database starts with (code, Chinese label, English label)."""

from __future__ import annotations

SEED_OPTIONS: dict[str, list[tuple[str, str, str]]] = {
    "industry": [
        ("manufacturing", "制造业", "Manufacturing"),
        ("retail", "零售业", "Retail"),
        ("it_internet", "IT互联网", "IT/Internet"),
        ("finance", "金融", "Finance"),
        ("education", "教育", "Education"),
        ("healthcare", "医疗", "Healthcare"),
        ("other", "其他", "Other"),
    ],
    "type": [
        ("enterprise", "企业客户", "Enterprise"),
        ("individual", "个人客户", "Individual"),
        ("institution", "机构", "Institution"),
    ],
    "source": [
        ("online", "线上推广", "Online promotion"),
        ("trade_show", "行业展会", "Trade show"),
        ("referral", "客户转介绍", "Referral"),
        ("cold_visit", "主动拜访", "Cold visit"),
    ],
    # Pipeline order: reports and sorting by status follow the position.
    "status": [
        ("potential", "潜在客户", "Potential"),
        ("intent", "意向客户", "Intent"),
        ("active", "合作中", "Active"),
        ("paused", "暂停合作", "Paused"),
        ("lost", "流失客户", "Lost"),
    ],
    "channel": [
        ("phone", "电话", "Phone"),
        ("visit", "拜访", "Visit"),
        ("wechat", "微信", "WeChat"),
        ("email", "邮件", "Email"),
        ("meeting", "会议", "Meeting"),
        ("other", "其他", "Other"),
    ],
    "kind": [
        ("sales", "销售", "Sales"),
        ("service", "客服", "Service"),
        ("marketing", "市场", "Marketing"),
    ],
}
