"""English and Chinese interface: --lang, CRM_LANG, the locale."""

from __future__ import annotations

import json

import pytest

from crmcli import i18n

from .conftest import add_args


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        ("zh", {}, "zh"),
        ("en", {"CRM_LANG": "zh"}, "en"),
        (None, {"CRM_LANG": "zh_CN"}, "zh"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh"),
        (None, {"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {}, "en"),
        ("fr", {}, "en"),
    ],
)
def test_language_detection_order(monkeypatch, explicit, env, expected):
    for var in ("CRM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert i18n.detect(explicit, argv=[]) == expected


def test_lang_flag_is_read_from_argv():
    assert i18n.detect(None, argv=["crm", "--lang", "zh", "list"]) == "zh"
    assert i18n.detect(None, argv=["crm", "--lang=zh"]) == "zh"


def test_chinese_headers_labels_and_errors(crm):
    customer_id = crm.ok(*add_args(industry="manufacturing")).strip()
    out = crm.ok("--lang", "zh", "list")
    assert "客户编号" in out and "制造业" in out and "潜在客户" in out
    data = json.loads(crm.ok("--lang", "zh", "show", customer_id, "--format", "json"))
    assert data["industry"] == "manufacturing" and data["industry_label"] == "制造业"
    bad = crm("--lang", "zh", "edit", customer_id, "--phone", "123")
    assert bad.exit_code == 2 and "联系方式" in bad.stderr and "电话" in bad.stderr
    missing = crm("--lang", "zh", "add", "--name", "x")
    assert "缺少必填字段" in missing.stderr and "联系人姓名" in missing.stderr


def test_every_reason_has_both_languages():
    from crmcli import parsing

    for table in (i18n.REASONS, parsing.REASONS):
        for key, (en, zh) in table.items():
            assert en and zh, key
    for key, (en, zh) in i18n.MESSAGES.items():
        assert en and zh, key


def test_common_errors_are_in_chinese_too(crm, empty_db):
    missing = crm("--lang", "zh", "show", "XS2099001")
    assert missing.exit_code == 3 and missing.stderr.startswith("错误：") and "没有客户 XS2099001" in missing.stderr
    english = crm("show", "XS2099001")
    assert english.stderr.startswith("Error: ") and "no customer XS2099001" in english.stderr


def test_busy_error_has_a_chinese_text():
    from crmcli.storage import translate

    busy = translate(__import__("sqlite3").OperationalError("database is locked"))
    assert busy.exit_code == 5 and "稍后重试" in busy.text("zh") and "try again" in busy.text("en")
