"""crm add reports every refused value at once (issue 12, item 6), not only the first."""

from __future__ import annotations

import json

from crmcli.errors import shorten

from .conftest import add_args


def _lines(stderr: str, prefix: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


def _empty(crm) -> None:
    assert json.loads(crm.ok("list", "--format", "json")) == []


def test_every_bad_value_on_its_own_line(crm):
    long_needs = "需" * 5000
    result = crm(*add_args(phone="12", email="bad@", first_contact="2024-13-45", source="nope", needs=long_needs))
    assert result.exit_code == 2
    errors = _lines(result.stderr, "Error: ")
    assert len(errors) == 5, result.stderr
    by_field = {line.split()[1]: line for line in errors}
    assert set(by_field) == {"phone", "email", "first_contact", "source", "needs"}
    assert "'12'" in by_field["phone"] and "too short" in by_field["phone"]
    assert "'bad@'" in by_field["email"] and "e-mail" in by_field["email"]
    assert "'2024-13-45'" in by_field["first_contact"] and "calendar date" in by_field["first_contact"]
    assert "'nope'" in by_field["source"] and "allowed" in by_field["source"]
    # The 5000-character value is quoted cut short, never whole.
    assert repr(shorten(long_needs)) in by_field["needs"] and long_needs not in result.stderr
    assert "Traceback" not in result.stderr
    _empty(crm)


def test_missing_fields_reported_together_with_invalid_ones(crm):
    result = crm("add", "--name", "某公司", "--phone", "12", "--email", "bad@")
    assert result.exit_code == 2
    errors = _lines(result.stderr, "Error: ")
    assert len(errors) == 3, result.stderr
    assert errors[0].startswith("Error: phone '12':")
    assert errors[1].startswith("Error: email 'bad@':")
    assert "missing required fields" in errors[2]
    for key in ("contact", "source", "needs"):
        assert key in errors[2]
    # A refused required field is reported as refused, not also as missing.
    assert "phone" not in errors[2]
    _empty(crm)


def test_bad_required_value_not_reported_as_missing(crm):
    result = crm(*add_args(contact=None, phone="abc"))
    assert result.exit_code == 2
    errors = _lines(result.stderr, "Error: ")
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith("Error: phone 'abc':")
    assert "contact" in errors[1] and "phone" not in errors[1]
    _empty(crm)


def test_all_errors_in_chinese(crm):
    result = crm("--lang", "zh", "add", "--name", "某公司", "--phone", "12", "--email", "bad@", "--source", "nope")
    assert result.exit_code == 2
    errors = _lines(result.stderr, "错误：")
    assert len(errors) == 4, result.stderr
    assert errors[0].startswith("错误：phone (联系方式) '12'") and "位数太少" in errors[0]
    assert errors[1].startswith("错误：email (电子邮箱) 'bad@'") and "邮箱" in errors[1]
    assert errors[2].startswith("错误：source (客户来源) 'nope'")
    assert "缺少必填字段" in errors[3] and "needs" in errors[3]
    assert "Error" not in result.stderr
    _empty(crm)


def test_phone_in_a_refused_value_stays_masked(crm):
    # A valid-looking number refused for another reason (here a placeholder-free bad e-mail next
    # to it) is not printed: only refused values are quoted, and phones masked where they are.
    result = crm(*add_args(email="x@", grade="Z"))
    assert result.exit_code == 2
    assert "13812345678" not in result.stderr
    assert len(_lines(result.stderr, "Error: ")) == 2, result.stderr
    _empty(crm)


def test_single_error_still_one_line(crm):
    result = crm(*add_args(email="bad@"))
    assert result.exit_code == 2
    errors = _lines(result.stderr, "Error: ")
    assert len(errors) == 1 and errors[0].startswith("Error: email 'bad@':"), result.stderr
    _empty(crm)


def test_edit_keeps_its_single_error(crm, add):
    customer_id = add()
    result = crm("edit", customer_id, "--email", "bad@", "--phone", "12")
    assert result.exit_code == 2
    assert len(_lines(result.stderr, "Error: ")) == 1, result.stderr


def test_on_a_terminal_every_refused_field_is_asked_for(crm, monkeypatch):
    from crmcli.cli import common

    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    result = crm(*add_args(phone="12", email="bad@"), input="13912345678\nok@example.com\n")
    assert result.exit_code == 0, result.stderr
    assert len(_lines(result.stderr, "Error: ")) == 2, result.stderr
    data = json.loads(crm.ok("show", result.stdout.split()[-1], "--format", "json"))
    assert data["email"] == "ok@example.com"
    assert data["phone"] == "139****5678"
