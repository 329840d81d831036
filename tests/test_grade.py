"""ABC grading: by hand, or by the configured rule with crm grade --recompute."""

from __future__ import annotations

import json

import pytest

from crmcli import grading
from crmcli.errors import UsageError


def grade_of(crm, cid):
    return json.loads(crm.ok("show", cid, "-f", "json"))["grade"]


def test_set_grade_by_hand_and_clear(crm, add):
    cid = add()
    assert crm.ok("grade", cid, "a").strip() == f"{cid} 上海明达制造有限公司: A"
    assert grade_of(crm, cid) == "A"
    assert "nothing changed" in crm.ok("grade", cid, "A级")
    crm.ok("grade", cid, "--clear")
    assert grade_of(crm, cid) is None
    assert crm("grade", cid, "D").exit_code == 2
    assert crm("grade", cid).exit_code == 2
    assert crm("grade", "XS2024999", "A").exit_code == 3


@pytest.mark.parametrize(
    ("text", "value", "grade"),
    [
        ("amount:A>=500000,B>=100000,C", 500000, "A"),
        ("amount:A>=500000,B>=100000,C", 499999.99, "B"),
        ("amount:A>=500000,B>=100000,C", 0, "C"),
        ("amount:A>=50万,B>=10万,C", 120000, "B"),
        ("followups:A>=6,B>=2,C", 2, "B"),
        ("followups:A>=6,B>=2", 1, None),
    ],
)
def test_rule_parsing_and_grading(text, value, grade):
    assert grading.parse_rule(text).grade_for(value) == grade


@pytest.mark.parametrize(
    "bad", ["", "size:A>=1,C", "amount:", "amount:C,A>=5", "amount:A>=10,B>=100,C", "amount:A>=lots,C", "amount:E>=1"]
)
def test_bad_rules_are_refused(bad):
    with pytest.raises(UsageError):
        grading.parse_rule(bad)


def test_recompute_by_amount_keeps_hand_set_grades(crm, add):
    big = add(amount="800000")
    mid = add(amount="150000", phone="13900000001")
    small = add(phone="13900000002")
    manual = add(amount="900000", phone="13900000003")
    crm.ok("grade", manual, "C")  # a salesperson's judgement
    rows = json.loads(crm.ok("grade", "--recompute", "--dry-run", "-f", "json"))
    assert {r["id"]: (r["new"], r["note"]) for r in rows} == {
        big: ("A", None), mid: ("B", None), small: ("C", None), manual: ("A", "kept (set by hand)"),
    }
    assert grade_of(crm, big) is None  # dry run
    result = crm("grade", "--recompute")
    assert result.exit_code == 0
    assert "3 grades changed; 1 set by hand kept" in result.stderr
    assert [grade_of(crm, c) for c in (big, mid, small, manual)] == ["A", "B", "C", "C"]
    # Grades the rule wrote are the rule's to change again.
    crm.ok("edit", big, "--amount", "200000")
    crm.ok("grade", "--recompute")
    assert grade_of(crm, big) == "B"
    crm.ok("grade", "--recompute", "--force")
    assert grade_of(crm, manual) == "A"


def test_recompute_with_configured_followups_rule(crm, add):
    busy = add()
    quiet = add(phone="13900000001")
    for i in range(3):
        crm.ok("log", busy, f"第 {i} 次")
    crm.ok("config", "set", "grade-rule", "followups: A>=3, B>=1, C")
    assert crm.ok("config", "get", "grade-rule").strip().endswith("followups:A>=3,B>=1,C")
    crm.ok("grade", "--recompute")
    assert (grade_of(crm, busy), grade_of(crm, quiet)) == ("A", "C")
    assert crm("config", "set", "grade-rule", "nonsense").exit_code == 2


def test_recompute_rule_option_and_history(crm, add):
    cid = add(amount="5000")
    crm.ok("grade", "--recompute", "--rule", "amount:A>=1000,C")
    assert grade_of(crm, cid) == "A"
    kinds = [e["type"] for e in json.loads(crm.ok("history", cid, "-f", "json"))]
    assert "grade" in kinds
    assert crm("grade", cid, "--recompute").exit_code == 2
