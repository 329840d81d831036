#!/usr/bin/env python3
"""Synthetic customer and follow-up data for crmcli benchmarks.

Writes realistic Chinese CRM data in the seed's 20-column layout, deterministic for a given
``--seed``, fast enough for millions of rows: Faker (zh_CN) runs only once per seed to fill
small pools, and rows are then composed from those pools with ``random.Random(seed)``.

Standalone on purpose (stdlib + Faker, never imports crmcli), so it measures crmcli from the
outside and keeps working while crmcli changes.

    python bench/generate.py customers --rows 1000000 --out customers.csv --header zh
    python bench/generate.py followups --rows 1000000 --per-customer 5 --out followups.csv

The word 采购 appears only in the needs of about 2% of customers (and in the titles of some of
those same rows), so a search benchmark knows what to expect.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

__all__ = ["CUSTOMER_KEYS", "FIELDS", "FOLLOWUP_KEYS", "iter_customers", "iter_followups", "main"]

# The seed's 20 fields, in order: field key, header in zh mode (`*` marks required fields).
FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "客户编号"),
    ("name", "客户名称"),
    ("industry", "所属行业"),
    ("type", "客户类型"),
    ("contact", "联系人姓名*"),
    ("title", "联系人职位"),
    ("phone", "联系方式*"),
    ("email", "电子邮箱"),
    ("address", "客户地址"),
    ("source", "客户来源*"),
    ("needs", "需求描述*"),
    ("first_contact", "首次接触时间*"),
    ("last_followup", "最近跟进时间"),
    ("owner", "跟进人*"),
    ("followup", "跟进内容"),
    ("next_step", "下一步计划"),
    ("status", "合作状态*"),
    ("product", "合作产品/服务"),
    ("amount", "合同金额（元）"),
    ("notes", "备注"),
)
CUSTOMER_KEYS: tuple[str, ...] = tuple(key for key, _ in FIELDS)
FOLLOWUP_KEYS: tuple[str, ...] = (
    "customer_id",
    "date",
    "content",
    "result",
    "next_step",
    "next_date",
    "channel",
    "kind",
    "satisfaction",
    "by",
)

# Latest date written anywhere (last follow-ups, follow-up dates). Fixed, not today's date,
# so that one seed always produces the same file.
UNTIL = date(2026, 11, 27)
YEARS_BACK = 6  # first contacts span (UNTIL - 6 years, UNTIL]: IDs from 2020 to 2026

# Dropdown options: code, Chinese label (as in DESIGN.md).
INDUSTRY = {
    "manufacturing": "制造业",
    "retail": "零售业",
    "it_internet": "IT互联网",
    "finance": "金融",
    "education": "教育",
    "healthcare": "医疗",
    "other": "其他",
}
TYPE = {"enterprise": "企业客户", "individual": "个人客户", "institution": "机构"}
SOURCE = {"online": "线上推广", "trade_show": "行业展会", "referral": "客户转介绍", "cold_visit": "主动拜访"}
STATUS = {"potential": "潜在客户", "intent": "意向客户", "active": "合作中", "paused": "暂停合作", "lost": "流失客户"}

# Skews (weights, any scale).
TYPE_WEIGHTS = {"enterprise": 70, "individual": 18, "institution": 12}
INDUSTRY_WEIGHTS = {
    "enterprise": {
        "manufacturing": 26,
        "retail": 18,
        "it_internet": 20,
        "finance": 7,
        "education": 6,
        "healthcare": 8,
        "other": 15,
    },
    "institution": {"education": 45, "healthcare": 35, "finance": 5, "other": 15},
    "individual": {"retail": 30, "other": 40, "education": 10, "finance": 10, "healthcare": 5, "it_internet": 5},
}
SOURCE_WEIGHTS = {"online": 38, "trade_show": 22, "referral": 24, "cold_visit": 16}
STATUS_WEIGHTS = {"potential": 30, "intent": 25, "active": 25, "paused": 8, "lost": 12}
# Share of customers per status that were never followed up (about 20% overall).
NO_FOLLOWUP = {"potential": 0.45, "intent": 0.10, "active": 0.05, "paused": 0.10, "lost": 0.15}
PURCHASE_SHARE = 0.02  # rows whose needs mention 采购

CHANNEL_WEIGHTS = {"phone": 40, "wechat": 25, "visit": 15, "email": 10, "meeting": 7, "other": 3}
KIND_WEIGHTS = {"sales": 76, "service": 19, "marketing": 5}  # the kind option list

# fmt: off
OWNERS = (
    "张经理", "李娜", "王强", "刘洋", "陈经理", "杨敏", "赵磊", "黄经理", "周婷", "吴刚",
    "徐静", "孙浩", "胡经理", "朱丽", "高峰", "林晓燕", "何军", "郭芳", "马经理", "罗杰",
    "梁颖", "宋涛", "郑经理", "谢婷婷", "韩磊", "唐敏", "冯经理", "于洋", "董倩", "萧文",
)

# Taiyuan, Xiamen, Nanning, Lanzhou and Urumqi: 7-digit local numbers (all the other cities
# here have 8), as libphonenumber's metadata has them; crm refuses the wrong length.
SEVEN_DIGIT_AREAS = frozenset({"0351", "0592", "0771", "0931", "0991"})
# Real cities: (province prefix, city, landline area code, districts).
CITIES = (
    ("", "北京", "010", ("海淀区", "朝阳区", "东城区", "西城区", "丰台区", "昌平区", "大兴区")),
    ("", "上海", "021", ("浦东新区", "徐汇区", "静安区", "闵行区", "长宁区", "杨浦区", "嘉定区")),
    ("", "天津", "022", ("和平区", "河西区", "南开区", "滨海新区", "西青区")),
    ("", "重庆", "023", ("渝中区", "江北区", "渝北区", "九龙坡区", "南岸区")),
    ("广东省", "广州", "020", ("天河区", "越秀区", "海珠区", "番禺区", "白云区", "黄埔区")),
    ("广东省", "深圳", "0755", ("南山区", "福田区", "宝安区", "龙岗区", "罗湖区", "龙华区")),
    ("广东省", "东莞", "0769", ("南城街道", "东城街道", "长安镇", "松山湖")),
    ("广东省", "佛山", "0757", ("禅城区", "南海区", "顺德区")),
    ("浙江省", "杭州", "0571", ("西湖区", "滨江区", "拱墅区", "上城区", "余杭区", "萧山区")),
    ("浙江省", "宁波", "0574", ("鄞州区", "海曙区", "江北区", "北仑区")),
    ("浙江省", "温州", "0577", ("鹿城区", "瓯海区", "龙湾区")),
    ("江苏省", "南京", "025", ("鼓楼区", "玄武区", "建邺区", "江宁区", "秦淮区")),
    ("江苏省", "苏州", "0512", ("姑苏区", "工业园区", "吴中区", "相城区", "虎丘区")),
    ("江苏省", "无锡", "0510", ("梁溪区", "滨湖区", "新吴区", "锡山区")),
    ("四川省", "成都", "028", ("武侯区", "锦江区", "高新区", "青羊区", "成华区", "双流区")),
    ("湖北省", "武汉", "027", ("洪山区", "江汉区", "武昌区", "江岸区", "东西湖区")),
    ("湖南省", "长沙", "0731", ("岳麓区", "芙蓉区", "天心区", "雨花区", "开福区")),
    ("陕西省", "西安", "029", ("雁塔区", "碑林区", "未央区", "长安区", "莲湖区")),
    ("河南省", "郑州", "0371", ("金水区", "二七区", "中原区", "郑东新区", "管城回族区")),
    ("山东省", "济南", "0531", ("历下区", "市中区", "槐荫区", "历城区")),
    ("山东省", "青岛", "0532", ("市南区", "市北区", "崂山区", "黄岛区", "城阳区")),
    ("辽宁省", "沈阳", "024", ("和平区", "沈河区", "浑南区", "皇姑区")),
    ("辽宁省", "大连", "0411", ("中山区", "沙河口区", "甘井子区", "金州区")),
    ("福建省", "厦门", "0592", ("思明区", "湖里区", "集美区", "海沧区")),
    ("福建省", "福州", "0591", ("鼓楼区", "台江区", "仓山区", "晋安区")),
    ("安徽省", "合肥", "0551", ("蜀山区", "包河区", "庐阳区", "瑶海区")),
    ("云南省", "昆明", "0871", ("五华区", "盘龙区", "官渡区", "西山区")),
    ("黑龙江省", "哈尔滨", "0451", ("南岗区", "道里区", "香坊区", "松北区")),
    ("吉林省", "长春", "0431", ("朝阳区", "南关区", "绿园区", "宽城区")),
    ("河北省", "石家庄", "0311", ("长安区", "桥西区", "裕华区", "新华区")),
    ("山西省", "太原", "0351", ("小店区", "迎泽区", "杏花岭区", "万柏林区")),
    ("江西省", "南昌", "0791", ("东湖区", "西湖区", "红谷滩区", "青山湖区")),
    ("广西壮族自治区", "南宁", "0771", ("青秀区", "兴宁区", "西乡塘区", "良庆区")),
    ("贵州省", "贵阳", "0851", ("南明区", "云岩区", "观山湖区", "花溪区")),
    ("甘肃省", "兰州", "0931", ("城关区", "七里河区", "安宁区")),
    ("新疆维吾尔自治区", "乌鲁木齐", "0991", ("天山区", "沙依巴克区", "新市区")),
    ("海南省", "海口", "0898", ("龙华区", "美兰区", "秀英区")),
)
# Cities weighted roughly by business size: the first four and the big provincial capitals more.
CITY_WEIGHTS = (9, 10, 4, 4, 7, 9, 3, 3, 7, 3, 2, 5, 5, 2, 5, 4, 3, 3, 3, 2) + (2,) * 17

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "172", "173", "175", "176", "177", "178",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "195", "198", "199",
)
MOBILE_WEIGHTS = (3,) * 10 + (1,) * 2 + (2,) * 9 + (1,) * 7 + (3,) * 10 + (1,) * 4

FREE_MAIL = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com", "gmail.com")
TLDS = (".com", ".com", ".com", ".cn", ".com.cn", ".net", ".cn")

# Company names: [city] + brand + industry word + suffix.
BRAND_CHARS = "华鑫泰恒达盛源宏嘉瑞和信诚德丰通汇隆昌兴发新天宇金海博远中正安康明辉永利佳睿启航优创智联"
COMPANY_WORDS = {
    "manufacturing": ("机械制造", "精密机械", "电子", "新材料", "汽车零部件", "模具", "包装材料",
                      "电气设备", "五金制品", "塑胶制品"),
    "retail": ("商贸", "百货", "连锁超市", "食品", "服饰", "家居用品", "电器销售", "便利店"),
    "it_internet": ("网络科技", "信息技术", "软件", "数据科技", "智能科技", "云计算", "电子商务"),
    "finance": ("投资", "资产管理", "融资租赁", "保险代理", "小额贷款", "财富管理"),
    "education": ("教育科技", "文化传播", "培训", "教育咨询"),
    "healthcare": ("医疗器械", "生物科技", "医药", "健康管理", "医疗科技"),
    "other": ("物流", "建筑工程", "物业管理", "餐饮管理", "广告", "人力资源", "环保科技",
              "会展服务", "企业管理咨询"),
}
COMPANY_SUFFIXES = ("有限公司",) * 6 + ("股份有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
INSTITUTION_FORMATS = {
    "education": ("{c}市第{n}中学", "{c}{b}职业技术学院", "{c}市{b}实验小学", "{c}{b}外国语学校",
                  "{c}理工大学继续教育学院", "{c}市{d}教育局"),
    "healthcare": ("{c}市第{n}人民医院", "{c}{b}医院", "{c}市妇幼保健院", "{c}市{d}疾病预防控制中心",
                   "{c}市中医院", "{c}{b}口腔医院"),
    "finance": ("{c}农村商业银行{d}支行", "{c}市{d}信用合作联社", "{c}银行{d}支行"),
    "other": ("{c}市{d}市场监督管理局", "{c}市图书馆", "{c}市{d}街道办事处", "{c}市科学技术协会",
              "{c}市{b}研究院", "{c}市博物馆"),
}

PRODUCTS = {
    "manufacturing": ("数控机床", "工业机器人", "MES生产执行系统", "仓储管理系统", "工业传感器",
                      "激光切割设备", "自动化包装线", "设备维保服务", "ERP系统实施", "质检设备"),
    "retail": ("收银系统", "会员管理系统", "智能货架", "门店POS机", "供应链管理软件", "电子价签",
               "冷链物流服务", "小程序商城开发", "门店监控系统"),
    "it_internet": ("云服务器", "企业级存储", "网络安全服务", "数据库运维服务", "协同办公软件",
                    "CDN加速服务", "大数据分析平台", "IT外包服务", "软件正版化服务"),
    "finance": ("风控系统", "核心业务系统升级", "点钞机", "智能柜员机", "数据灾备服务",
                "反洗钱监测系统", "网点装修工程"),
    "education": ("智慧教室解决方案", "在线学习平台", "多媒体教学设备", "教师培训课程",
                  "校园一卡通系统", "实验室设备", "录播系统"),
    "healthcare": ("医学影像设备", "医院信息系统", "医用耗材", "检验试剂", "远程会诊平台",
                   "消毒供应设备", "康复理疗设备"),
    "other": ("办公设备", "办公家具", "商务打印机", "企业培训服务", "财税咨询服务", "物业管理系统",
              "员工体检服务", "企业邮箱", "会议室音视频系统", "车辆租赁服务"),
}
PRODUCT_EDITIONS = ("", "", "", "（标准版）", "（专业版）", "（旗舰版）", "及配套服务", "年度服务")

NEEDS_TEMPLATES = (
    "希望引入{p}，提升{g}",
    "计划更换现有{p}，预算约{m}万元",
    "咨询{p}的价格和交付周期",
    "需要{p}的技术支持与维护服务",
    "对{p}感兴趣，希望安排产品演示",
    "寻求技术合作，共同推进{p}项目",
    "年底前完成{p}选型，比较关注性价比",
    "希望先试用{p}一个月再决定",
    "需要定制化的{p}，覆盖{k}个{u}",
    "现有系统老化，考虑升级为{p}",
    "新项目需要{p}，要求{w}周内交付",
    "关注{p}的售后响应速度，希望本地化服务",
    "购买{p}，数量约{k}套，要求提供安装培训",
)
PURCHASE_TEMPLATES = (
    "计划采购一批{p}，预算约{m}万元",
    "年度集中采购{p}，需要三家以上报价",
    "通过公开招标采购{p}，要求提供资质证明",
    "采购{p}用于新建{u}，{w}周内到货",
    "采购部门牵头比选{p}，关注价格和交期",
)
GOALS = ("生产效率", "管理效率", "客户体验", "数据安全", "运营效率", "服务质量", "决策效率", "办公效率")
UNITS = ("门店", "工厂", "分支机构", "校区", "科室", "网点", "仓库", "办公区")
PURCHASE_TITLES = ("采购经理", "采购经理", "采购主管", "采购专员", "采购总监")
TITLES = (
    ("总经理", 12), ("副总经理", 6), ("董事长", 3), ("行政主管", 7), ("行政经理", 5), ("IT经理", 6),
    ("技术总监", 5), ("财务总监", 4), ("财务经理", 4), ("运营经理", 5), ("项目经理", 6),
    ("市场总监", 3), ("办公室主任", 4), ("生产经理", 4), ("门店经理", 3), ("信息中心主任", 2),
    ("设备科科长", 2), ("总务处处长", 2), ("业务经理", 4), ("综合部部长", 2),
)
INSTITUTION_TITLES = {
    "education": ("校长", "副校长", "教务处主任", "信息中心主任", "总务处处长", "办公室主任"),
    "healthcare": ("院长", "副院长", "设备科科长", "信息科主任", "护理部主任", "后勤处处长"),
    "finance": ("行长", "副行长", "运营主管", "科技部经理", "办公室主任"),
    "other": ("主任", "副主任", "科长", "处长", "办公室主任", "馆长"),
}
# Individuals buy for themselves: their own products and needs.
INDIVIDUAL_PRODUCTS = (
    "家用净水设备", "个人理财咨询", "职业技能培训课程", "健康体检套餐", "家庭网络安装", "全屋定制家具",
    "留学咨询服务", "个人网站建设", "智能家居套装", "家用空气净化器", "少儿编程课程", "家庭保险规划",
)
INDIVIDUAL_NEEDS = (
    "想了解{p}的价格和优惠活动", "朋友推荐，咨询{p}", "希望周末上门介绍{p}", "预算有限，关注{p}能否分期付款",
    "对{p}感兴趣，想先体验一下", "比较了几家，倾向选择{p}", "需要{p}，希望{w}周内安排",
)
ROADS = (
    "人民路", "解放路", "中山路", "建设路", "文化路", "长江路", "黄河路", "新华路", "和平路", "胜利路",
    "科技园路", "创业大道", "工业大道", "学府路", "滨江大道", "世纪大道", "振兴路", "青年路", "东风路",
    "光明路", "高新大道", "软件园路", "民主路", "友谊路", "北京路", "南京路", "延安路", "迎宾大道",
)

FOLLOWUP_ACTIONS = (
    "电话沟通需求细节", "上门拜访并演示产品", "微信沟通项目进展", "发送产品资料和成功案例",
    "已发送报价单", "与客户技术负责人开会", "参加客户内部评审会", "邮件确认合同条款",
    "陪同客户参观样板项目", "寄送样品供客户试用", "回访客户使用情况", "电话未接通，已短信留言",
    "与客户财务确认付款安排", "向客户介绍新版本功能", "在行业展会上再次接洽",
)
FOLLOWUP_RESULTS = (
    "客户反馈良好", "客户要求补充技术方案", "等待客户确认", "客户表示预算还在审批中",
    "客户希望价格再优惠一些", "客户需要内部讨论", "已确认实施范围", "客户对交付周期有顾虑",
    "合同条款已基本确认，等待盖章", "客户约定下周再沟通", "客户对比了两家供应商",
    "客户决策人出差，暂缓沟通", "客户同意安排试用", "客户满意度较高",
)
PAUSED_FOLLOWUPS = (
    "客户项目暂停，等待下季度预算", "客户组织架构调整，合作暂缓", "客户资金紧张，暂停续约",
    "客户更换对接人，需重新建立联系",
)
LOST_FOLLOWUPS = (
    "客户已选择其他供应商", "客户认为价格过高，终止合作", "客户业务调整，不再需要该服务",
    "多次联系无回应，判定流失", "合同到期未续约",
)
SERVICE_CONTENTS = (
    "处理客户反馈的使用问题，已远程解决", "安排工程师上门检修设备", "客户咨询功能使用方法，已电话指导",
    "完成季度巡检", "为客户新员工做操作培训", "客户申请开具发票，已处理", "协助客户导出年度数据",
    "客户反映系统响应变慢，已优化配置",
)
COMPLAINT_CONTENTS = (
    "客户投诉交付延迟，已致歉并调整排期", "客户投诉售后响应慢，已升级处理", "客户对账单金额有异议，核对中",
    "客户反映产品质量问题，已安排换货", "客户投诉服务人员态度，已回访道歉",
)
RESULTS = {
    "sales": ("有意向", "待确认", "已报价", "需再次跟进", "已签约", "暂无需求", "无人接听", "已约拜访"),
    "service": ("已解决", "处理中", "已培训", "已回访", "待客户验证"),
    "marketing": ("已发送资料", "已报名活动", "已参加展会", "暂无兴趣"),
}
MARKETING_CONTENTS = (
    "邀请客户参加行业展会", "发送新产品介绍资料", "邀请参加线上产品发布会", "回访市场活动参与情况",
)
NEXT_STEPS = (
    "{n}天内电话确认反馈", "下周{wd}上门拜访", "{n}日前发送修订后的报价", "安排技术人员做产品演示",
    "准备合同草案，提交法务审核", "邀请客户参加{mo}月行业展会", "季度回访", "跟进付款进度",
    "等待客户内部审批结果", "整理客户需求，输出解决方案", "约客户决策人面谈", "发送试用账号并跟进使用情况",
    "{n}天后回访满意度", "协调售后团队排期", "确认交付时间和验收标准",
)
WEEKDAYS = "一二三四五"
GIVEN_CHARS = "子浩宇欣雨思梓嘉俊晨博文涵一诗佳怡泽轩明伟芳静丽建国志华玉兰海燕晓红亮"
NOTES = (
    "决策周期长", "节假日勿扰", "需开具增值税专用发票", "老板亲自拍板", "价格敏感",
    "对售后响应速度要求高", "曾使用竞品，对比后转向我方", "需要英文合同", "年底预算集中释放",
    "付款周期较长，约{n}天", "联系人周{wd}下午方便接听电话", "每月{d}号对账", "重点客户，季度拜访",
    "有二期项目机会", "需走招投标流程", "对接人近期可能调岗", "偏好微信沟通", "要求上门服务",
)
# fmt: on


def _clean(items: list[str] | tuple[str, ...]) -> list[str]:
    """Drop strings that contain, or could combine into, the reserved word 采购."""
    return [s for s in items if "采购" not in s and not s.endswith("采") and not s.startswith("购")]


def _expand(weights: dict[str, int] | tuple[tuple[str, int], ...]) -> list[str]:
    """A list where each value appears `weight` times: one random() picks a weighted value."""
    pairs = weights.items() if isinstance(weights, dict) else weights
    return [value for value, weight in pairs for _ in range(weight)]


class _Pools(NamedTuple):
    surnames: list[str]
    given: list[str]
    brands: list[str]
    streets: list[str]
    email_users: list[str]
    domains: list[str]
    titles: list[str]
    products: dict[str, list[str]]
    followups: list[str]
    next_steps: list[str]
    notes: list[str]
    service: list[str]
    complaint: list[str]


@lru_cache(maxsize=4)
def _pools(seed: int) -> _Pools:
    """Build the text pools once per seed; Faker is called here and nowhere else."""
    from faker import Faker
    from faker.providers.job.zh_CN import Provider as JobProvider

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed * 7919 + 17)

    surnames = _clean([fake.last_name() for _ in range(3000)])
    # Faker knows only ~130 given names: add two-character ones for a realistic spread.
    given = _clean(
        [fake.first_name() for _ in range(2000)]
        + [rng.choice(GIVEN_CHARS) + rng.choice(GIVEN_CHARS) for _ in range(2000)]
    )
    brands = {a + b for a in BRAND_CHARS for b in BRAND_CHARS if a != b}
    brands.update(p for p in (fake.company_prefix() for _ in range(300)) if len(p) <= 3)
    faker_streets = sorted({s for s in (fake.street_name() for _ in range(3000)) if len(s) >= 3})
    streets = _clean(list(ROADS) * 20 + faker_streets)  # common road names, plus variety
    email_users = _clean(sorted({fake.user_name() for _ in range(4000)}))
    domains = _clean(sorted({d for d in (fake.domain_word() for _ in range(3000)) if d.isalpha() and len(d) >= 4}))
    faker_titles = [
        t for t in JobProvider.jobs if t.endswith(("经理", "主管", "总监", "主任", "专员")) and "/" not in t
    ]
    titles = _clean(_expand(TITLES) * 3 + faker_titles)

    products = {ind: _clean([f"{p}{e}" for p in items for e in PRODUCT_EDITIONS]) for ind, items in PRODUCTS.items()}
    followups = _clean([f"{a}，{r}" for a in FOLLOWUP_ACTIONS for r in FOLLOWUP_RESULTS])
    next_steps = []
    for _ in range(2000):
        tmpl = rng.choice(NEXT_STEPS)
        next_steps.append(
            tmpl.format(n=rng.choice((2, 3, 3, 5, 7, 10, 15)), wd=rng.choice(WEEKDAYS), mo=rng.randint(1, 12))
        )
    notes = []
    for _ in range(2000):
        parts = [rng.choice(NOTES) for _ in range(rng.choice((1, 1, 1, 2)))]
        text = "；".join(dict.fromkeys(parts))
        notes.append(text.format(n=rng.choice((15, 30, 45, 60, 90)), d=rng.randint(1, 28), wd=rng.choice(WEEKDAYS)))
    return _Pools(
        surnames=surnames,
        given=given,
        brands=_clean(sorted(brands)),
        streets=streets,
        email_users=email_users,
        domains=domains,
        titles=titles,
        products=products,
        followups=followups,
        next_steps=_clean(next_steps),
        notes=_clean(notes),
        service=_clean(SERVICE_CONTENTS),
        complaint=_clean(COMPLAINT_CONTENTS),
    )


def _start(until: date) -> date:
    try:
        back = until.replace(year=until.year - YEARS_BACK)
    except ValueError:  # 29 February
        back = until.replace(year=until.year - YEARS_BACK, day=28)
    return back + timedelta(days=1)


class _Customer(NamedTuple):
    row: list[str]
    first_day: int  # index into the day table
    last_day: int  # -1 when never followed up


def _customers(rows: int, seed: int, id_prefix: str, labels: bool, until: date, id_width: int) -> Iterator[_Customer]:
    """The hot loop: every row composed from pools with one Random, no Faker."""
    pools = _pools(seed)
    rng = random.Random(seed)
    rnd = rng.random

    start = _start(until)
    span = (until - start).days  # day indexes 0..span
    days = [(start + timedelta(days=i)).isoformat() for i in range(span + 1)]
    id_heads = [f"{id_prefix}{d[:4]}" for d in days]
    seq: dict[str, int] = {}
    id_fmt = f"{{}}{{:0{id_width}d}}"

    def options(mapping: dict[str, str], weights: dict[str, int]) -> list[str]:
        codes = _expand(weights)
        return [mapping[c] for c in codes] if labels else codes

    type_codes = _expand(TYPE_WEIGHTS)
    type_out = options(TYPE, TYPE_WEIGHTS)
    ind_codes = {t: _expand(w) for t, w in INDUSTRY_WEIGHTS.items()}
    ind_out = {t: options(INDUSTRY, w) for t, w in INDUSTRY_WEIGHTS.items()}
    source_out = options(SOURCE, SOURCE_WEIGHTS)
    status_codes = _expand(STATUS_WEIGHTS)
    status_out = options(STATUS, STATUS_WEIGHTS)
    n_type, n_source, n_status = len(type_codes), len(source_out), len(status_codes)

    cities = [CITIES[i] for i, w in enumerate(CITY_WEIGHTS) for _ in range(w)]
    n_city = len(cities)
    mobiles = [p for p, w in zip(MOBILE_PREFIXES, MOBILE_WEIGHTS, strict=True) for _ in range(w)]
    n_mobile = len(mobiles)
    owners = [o for i, o in enumerate(OWNERS) for _ in range(1 + (i * 7) % 5)]
    n_owner = len(owners)

    surnames, given, brands, streets = pools.surnames, pools.given, pools.brands, pools.streets
    n_sur, n_given, n_brand, n_street = len(surnames), len(given), len(brands), len(streets)
    users, domains = pools.email_users, pools.domains
    n_users, n_domains = len(users), len(domains)
    titles, n_titles = pools.titles, len(pools.titles)
    products = pools.products
    followups, n_followups = pools.followups, len(pools.followups)
    next_steps, n_next = pools.next_steps, len(pools.next_steps)
    notes, n_notes = pools.notes, len(pools.notes)
    words = {k: _clean(v) for k, v in COMPANY_WORDS.items()}
    individual_products = _clean(INDIVIDUAL_PRODUCTS)
    n_individual_products = len(individual_products)
    organisations = 1 - TYPE_WEIGHTS["individual"] / sum(TYPE_WEIGHTS.values())
    purchase_share = PURCHASE_SHARE / organisations
    amount_log_span = math.log(2_000_000 / 5000)
    exp = math.exp

    for i in range(rows):
        # First contacts rise with the row number, a little denser toward recent years,
        # so IDs come out in order, like an export of a table that grew over time.
        first = int(span * ((i + rnd()) / rows) ** 0.75)
        head = id_heads[first]
        n = seq.get(head, 0) + 1
        seq[head] = n
        cid = id_fmt.format(head, n)

        t = int(rnd() * n_type)
        ctype = type_codes[t]
        k = int(rnd() * len(ind_codes[ctype]))
        industry = ind_codes[ctype][k]
        prov, city, area, districts = cities[int(rnd() * n_city)]
        district = districts[int(rnd() * len(districts))]
        contact = surnames[int(rnd() * n_sur)] + given[int(rnd() * n_given)]
        if ctype == "enterprise":
            ws = words[industry]
            place = (city, city + "市", "")[int(rnd() * 3)]
            name = (
                place
                + brands[int(rnd() * n_brand)]
                + ws[int(rnd() * len(ws))]
                + COMPANY_SUFFIXES[int(rnd() * len(COMPANY_SUFFIXES))]
            )
        elif ctype == "institution":
            fmts = INSTITUTION_FORMATS[industry]
            name = fmts[int(rnd() * len(fmts))].format(
                c=city, n=1 + int(rnd() * 12), b=brands[int(rnd() * n_brand)], d=district
            )
        else:
            name = contact

        # Only organisations purchase (采购): ~2% of all rows, and nowhere else in the text.
        purchase = ctype != "individual" and rnd() < purchase_share
        if ctype == "individual":
            title = ""
        elif purchase and rnd() < 0.6:
            title = PURCHASE_TITLES[int(rnd() * len(PURCHASE_TITLES))]
        elif ctype == "institution" and rnd() < 0.8:
            its = INSTITUTION_TITLES[industry]
            title = its[int(rnd() * len(its))]
        else:
            title = titles[int(rnd() * n_titles)]

        r = rnd()
        if r < 0.88:
            phone = mobiles[int(rnd() * n_mobile)] + f"{int(rnd() * 100_000_000):08d}"
        else:
            first, rest = 2 + int(rnd() * 7), int(rnd() * 10_000_000)
            if first == 8 and rest < 100_000:
                rest += 100_000  # 800xxxxx is no number in Beijing or Shanghai
            # Same draws for every city; the cities whose numbers have 7 digits get one fewer.
            phone = f"{area}-{first}{rest // 10:06d}" if area in SEVEN_DIGIT_AREAS else f"{area}-{first}{rest:07d}"

        r = rnd()
        if r < 0.12:
            email = ""
        elif ctype == "individual" or r < 0.3:
            if rnd() < 0.45:
                email = f"{10000 + int(rnd() * 3_000_000_000)}@qq.com"
            else:
                email = users[int(rnd() * n_users)] + "@" + FREE_MAIL[int(rnd() * len(FREE_MAIL))]
        else:
            email = users[int(rnd() * n_users)] + "@" + domains[int(rnd() * n_domains)] + TLDS[int(rnd() * len(TLDS))]

        address = f"{prov}{city}市{district}{streets[int(rnd() * n_street)]}{1 + int(rnd() * 999)}号"
        if rnd() < 0.4:
            address += f"{'ABCDE'[int(rnd() * 5)]}座{1 + int(rnd() * 30)}{1 + int(rnd() * 20):02d}室"

        s = int(rnd() * n_status)
        status = status_codes[s]
        if ctype == "individual":
            product = individual_products[int(rnd() * n_individual_products)]
            tmpl = INDIVIDUAL_NEEDS
        else:
            plist = products[industry]
            product = plist[int(rnd() * len(plist))]
            tmpl = PURCHASE_TEMPLATES if purchase else NEEDS_TEMPLATES
        needs = tmpl[int(rnd() * len(tmpl))].format(
            p=product,
            g=GOALS[int(rnd() * len(GOALS))],
            m=(3, 5, 8, 10, 20, 30, 50, 100)[int(rnd() * 8)],
            k=(2, 3, 5, 8, 10, 20)[int(rnd() * 6)],
            u=UNITS[int(rnd() * len(UNITS))],
            w=(2, 3, 4, 6, 8)[int(rnd() * 5)],
        )
        if status == "potential" and rnd() < 0.4:
            product = ""

        if rnd() < NO_FOLLOWUP[status]:
            last = -1
            last_s = followup = ""
        else:
            u = rnd()
            if status == "active":
                u = 1 - u * u * u
            elif status == "intent":
                u = 1 - u * u
            elif status == "lost":
                u = u * u
            last = first + int((span - first) * u + 0.5)
            last_s = days[last]
            if status == "lost":
                followup = LOST_FOLLOWUPS[int(rnd() * len(LOST_FOLLOWUPS))]
            elif status == "paused":
                followup = PAUSED_FOLLOWUPS[int(rnd() * len(PAUSED_FOLLOWUPS))]
            else:
                followup = followups[int(rnd() * n_followups)]
        next_step = next_steps[int(rnd() * n_next)] if status != "lost" and rnd() < 0.75 else ""

        if status in ("active", "paused") or (status == "lost" and rnd() < 0.7):
            value = 5000 * exp(rnd() * amount_log_span)
            if ctype == "individual":
                value /= 10
                value = max(value, 5000.0)
            if rnd() < 0.6:
                value = round(value, -2)
            amount = f"{value:.2f}"
        else:
            amount = ""

        note = notes[int(rnd() * n_notes)] if rnd() < 0.35 else ""

        yield _Customer(
            [
                cid,
                name,
                ind_out[ctype][k],
                type_out[t],
                contact,
                title,
                phone,
                email,
                address,
                source_out[int(rnd() * n_source)],
                needs,
                days[first],
                last_s,
                owners[int(rnd() * n_owner)],
                followup,
                next_step,
                status_out[s],
                product,
                amount,
                note,
            ],
            first,
            last,
        )


def iter_customers(
    rows: int,
    seed: int = 1,
    id_prefix: str = "XS",
    *,
    labels: bool = False,
    until: date = UNTIL,
    id_width: int = 3,
) -> Iterator[dict[str, str]]:
    """Yield `rows` customers as dicts keyed by the field keys, all values strings.

    Dropdown fields carry the codes (`retail`), or the Chinese labels with `labels=True`.
    Empty optional fields are "". `amount` is yuan with two decimals ("12000.50").
    """
    for c in _customers(rows, seed, id_prefix, labels, until, id_width):
        yield dict(zip(CUSTOMER_KEYS, c.row, strict=True))


def _followup_rows(
    rows: int, per_customer: float, seed: int, id_prefix: str, until: date, id_width: int
) -> Iterator[list[str]]:
    pools = _pools(seed)
    rng = random.Random(seed * 1_000_003 + 1)  # its own stream: customers stay identical
    rnd = rng.random
    start = _start(until)
    span = (until - start).days
    days = [(start + timedelta(days=i)).isoformat() for i in range(span + 60)]
    # 09:00-18:00 Beijing time, written in UTC (01:00-10:00), so the UTC date is the local date.
    times = [f"T{h:02d}:{m:02d}:{s:02d}+00:00" for h in range(1, 10) for m in range(60) for s in range(60)]
    n_times = len(times)
    channels = _expand(CHANNEL_WEIGHTS)
    kinds = _expand(KIND_WEIGHTS)
    n_channels, n_kinds = len(channels), len(kinds)
    contents = {"sales": pools.followups, "service": pools.service + pools.complaint, "marketing": list(MARKETING_CONTENTS)}
    next_steps, n_next = pools.next_steps, len(pools.next_steps)
    with_followups = 1 - sum(STATUS_WEIGHTS[s] * NO_FOLLOWUP[s] for s in STATUS) / sum(STATUS_WEIGHTS.values())
    mean = per_customer / with_followups  # customers never followed up get none
    width = max(2 * mean - 1, 0.0)

    for c in _customers(rows, seed, id_prefix, False, until, id_width):
        if c.last_day < 0 or per_customer <= 0:
            continue
        cid, owner = c.row[0], c.row[13]
        count = 1 + int(rnd() * width)
        first, last = c.first_day, c.last_day
        dates = sorted(first + int(rnd() * (last - first + 1)) for _ in range(count - 1))
        dates.append(last)
        for j, day in enumerate(dates):
            final = j == count - 1
            if final:  # the customer's own latest follow-up and next step
                kind = "sales"
                content = c.row[14]
                next_step = c.row[15]
            else:
                kind = kinds[int(rnd() * n_kinds)]
                pool = contents[kind]
                content = pool[int(rnd() * len(pool))]
                next_step = next_steps[int(rnd() * n_next)] if rnd() < 0.7 else ""
            rs = RESULTS[kind]
            result = rs[int(rnd() * len(rs))]
            next_date = days[day + 1 + int(rnd() * 30)] if next_step and rnd() < 0.8 else ""
            if kind == "sales":
                satisfaction = str(3 + int(rnd() * 3)) if rnd() < 0.1 else ""
            elif kind == "service":
                satisfaction = str((3, 4, 4, 5, 5, 5)[int(rnd() * 6)])
            else:
                satisfaction = str((1, 1, 2, 2, 3, 4)[int(rnd() * 6)])
            by = owner if rnd() < 0.85 else OWNERS[int(rnd() * len(OWNERS))]
            yield [
                cid,
                days[day] + times[int(rnd() * n_times)],
                content,
                result,
                next_step,
                next_date,
                channels[int(rnd() * n_channels)],
                kind,
                satisfaction,
                by,
            ]


def iter_followups(
    rows: int,
    per_customer: float = 5,
    seed: int = 1,
    id_prefix: str = "XS",
    *,
    until: date = UNTIL,
    id_width: int = 3,
) -> Iterator[dict[str, str]]:
    """Yield follow-ups for the customers `iter_customers(rows, seed, id_prefix)` yields.

    `rows` is the number of customers. About `rows * per_customer` follow-ups in all, grouped
    by customer, oldest first: customers with no last follow-up get none, the others between
    1 and about 2x the mean, the latest dated on the customer's `last_followup` and carrying
    its `followup` text and `next_step`. Keys are FOLLOWUP_KEYS; `date` is an ISO UTC
    timestamp, `next_date` an ISO date or "", `channel` a channel code, `kind` one of
    sales/service/marketing, `satisfaction` "1".."5" or "", `by` the employee.
    """
    for row in _followup_rows(rows, per_customer, seed, id_prefix, until, id_width):
        yield dict(zip(FOLLOWUP_KEYS, row, strict=True))


def _open_out(path: str) -> io.TextIOWrapper:
    if path == "-":
        return io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=False)
    return open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)


def _write(out: io.TextIOWrapper, fmt: str, header: list[str], rows: Iterator[list[str]]) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    else:
        encode, write = json.JSONEncoder(ensure_ascii=False).encode, out.write
        for row in rows:
            write(encode(dict(zip(header, row, strict=True))) + "\n")
            count += 1
    return count


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate.py", description="Write synthetic crmcli customers or follow-ups (deterministic per --seed)."
    )
    sub = parser.add_subparsers(dest="what", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rows", type=_positive, required=True, help="number of customers")
        p.add_argument("--out", required=True, help="output file, or - for stdout")
        p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        p.add_argument("--id-prefix", default="XS", help="customer ID prefix (default XS)")
        p.add_argument("--id-width", type=_positive, default=3, help="minimum sequence digits (default 3)")
        p.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default csv")
        p.add_argument(
            "--until",
            type=_date_arg,
            default=UNTIL,
            help=f"latest follow-up date (default {UNTIL}); first contacts span the 6 years before",
        )

    c = sub.add_parser("customers", help="customers in the seed's 20-column layout")
    common(c)
    c.add_argument(
        "--header",
        choices=("zh", "key"),
        default="key",
        help="zh: Chinese headers and option labels; key: field keys and option codes (default)",
    )
    f = sub.add_parser("followups", help="follow-ups for the customers of the same --rows/--seed")
    common(f)
    f.add_argument("--per-customer", type=float, default=5, help="average follow-ups per customer")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    began = time.perf_counter()
    rows: Iterator[list[str]]
    if args.what == "customers":
        zh = args.header == "zh"
        header = [label if zh else key for key, label in FIELDS]
        customers = _customers(args.rows, args.seed, args.id_prefix, zh, args.until, args.id_width)
        rows = (c.row for c in customers)
    else:
        header = list(FOLLOWUP_KEYS)
        rows = _followup_rows(args.rows, args.per_customer, args.seed, args.id_prefix, args.until, args.id_width)
    out = _open_out(args.out)
    try:
        count = _write(out, args.format, header, rows)
        out.flush()
    except BrokenPipeError:
        # The reader (`| head`) has what it wanted: silence the final flush and stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if args.out == "-":
            out.detach()  # leave sys.stdout open for the interpreter
        else:
            out.close()
    elapsed = time.perf_counter() - began
    target = "stdout" if args.out == "-" else args.out
    print(f"wrote {count} {args.what} to {target} in {elapsed:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
