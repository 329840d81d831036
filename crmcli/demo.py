"""Sample customers for ``crm demo``: a realistic small book of business, in Chinese.

``crm demo`` (re)creates its database from scratch, so it must never delete anyone's data: it
only replaces a file that does not exist yet or that an earlier demo made, which it marks with
the ``demo`` row of its ``meta`` table.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from . import clock
from .errors import Conflict

DEMO_KEY = "demo"  # a row of the ``meta`` table (facts about the database, not settings)
SIDECARS = ("-wal", "-shm", "-journal")

# name, industry, type, contact, title, phone, email, address, source, needs, owner, status, product, amount, notes, days ago
SAMPLE: list[tuple[str, ...]] = [
    ("上海明达制造有限公司", "制造业", "企业客户", "王强", "采购经理", "13812345678", "wangqiang@mingda.cn", "上海市浦东新区张江路 88 号", "行业展会", "采购一批办公设备和打印机", "张经理", "意向客户", "办公设备", "", "决策周期长", "12"),
    ("杭州云栖科技有限公司", "IT互联网", "企业客户", "李娜", "技术总监", "13957112345", "lina@yunqi.tech", "杭州市西湖区文三路 90 号", "线上推广", "技术合作：数据平台定制开发", "李娜", "合作中", "数据平台", "380000", "", "3"),
    ("北京华康医疗器械公司", "医疗", "企业客户", "赵敏", "总经理", "010-62345678", "zhaomin@huakang.com", "北京市海淀区中关村大街 1 号", "客户转介绍", "医院信息系统升级", "张经理", "合作中", "信息系统", "1250000", "节假日避免联系", "40"),
    ("深圳前海金融服务有限公司", "金融", "企业客户", "陈晨", "运营经理", "13600001111", "chenchen@qhfin.com", "深圳市南山区前海大道 5 号", "行业展会", "客服系统采购", "王磊", "潜在客户", "", "", "", "130"),
    ("成都蓉城教育集团", "教育", "机构", "刘洋", "校长助理", "13880002222", "liuyang@rcedu.org", "成都市武侯区科华北路 12 号", "主动拜访", "智慧教室设备", "王磊", "意向客户", "教室设备", "", "预算三季度批复", "95"),
    ("广州优品零售连锁", "零售业", "企业客户", "黄丽", "门店运营总监", "13711113333", "huangli@youpin.cn", "广州市天河区体育西路 3 号", "线上推广", "门店收银系统替换", "李娜", "暂停合作", "收银系统", "86000.5", "对方组织调整", "60"),
    ("苏州精工模具厂", "制造业", "企业客户", "周杰", "厂长", "0512-65432100", "", "苏州市工业园区星湖街 20 号", "客户转介绍", "生产排程软件", "张经理", "流失客户", "排程软件", "45000", "选择了竞品", "200"),
    ("陈小姐", "其他", "个人客户", "陈静", "", "18912340000", "chenjing@example.com", "南京市鼓楼区中山路 100 号", "线上推广", "家庭网络安装", "李娜", "合作中", "上门服务", "2800", "", "7"),
]


def sample_rows() -> list[tuple[dict[str, str], int]]:
    """Each sample customer as raw ``crm add`` values, with how many days ago it was first met."""
    keys = ("name", "industry", "type", "contact", "title", "phone", "email", "address", "source",
            "needs", "owner", "status", "product", "amount", "notes")
    today = clock.today()
    rows = []
    for sample in SAMPLE:
        values = {k: v for k, v in zip(keys, sample[:-1]) if v}
        days = int(sample[-1])
        values["first_contact"] = (today - timedelta(days=days + 20)).isoformat()
        rows.append((values, days))
    return rows


def is_demo(path: Path) -> bool:
    """Whether ``path`` is a database an earlier ``crm demo`` made (read-only look; never creates)."""
    uri = "file:" + str(path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (DEMO_KEY,)).fetchone()
    except sqlite3.Error:  # not SQLite, or SQLite without crm's meta table
        return False
    finally:
        conn.close()
    return bool(row) and row[0] == "1"


def prepare(path: Path) -> None:
    """Make room for a fresh demo at ``path``: delete an earlier demo database (with its -wal and
    -shm); refuse, touching nothing, when ``path`` holds anything else."""
    sidecars = [Path(f"{path}{suffix}") for suffix in SIDECARS]
    if not path.exists():
        left = [p for p in sidecars if p.exists()]
        if left:
            raise Conflict(
                f"{left[0]} is left over from a database that is not there; nothing was touched (remove it first)",
                zh=f"{left[0]} 是一个已不存在的数据库遗留的文件；未做任何改动（请先删除它）",
            )
        return
    if not is_demo(path):
        raise Conflict(
            f"{path} is not a demo database (crm demo only replaces a database it made); nothing was touched. "
            "Give a new file: crm --db demo.db demo",
            zh=f"{path} 不是演示数据库（crm demo 只会替换它自己创建的数据库）；未做任何改动。请指定新文件：crm --db demo.db demo",
        )
    for p in (path, *sidecars):
        p.unlink(missing_ok=True)


def mark(conn: sqlite3.Connection) -> None:
    """Mark the database as a demo's, inside the caller's write transaction."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (DEMO_KEY,),
    )
