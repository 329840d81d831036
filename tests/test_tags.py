"""crm tag / untag / tags, crm list --tag, tags in show, search, export and import."""

from __future__ import annotations

import csv
import io
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from crmcli import tags
from crmcli.errors import ValidationError


def test_tag_untag_list_and_show(crm, add):
    a, b = add(phone="13900000001"), add(phone="13900000002")
    assert crm.ok("tag", a, " 重点 ", "展会2024") == f"{a} tags: 展会2024, 重点\n"
    crm.ok("tag", b, "重点")
    assert sorted(r["id"] for r in crm.json("list", "--tag", "重点")) == [a, b]
    assert [r["id"] for r in crm.json("list", "--tag", "展会2024")] == [a]
    assert crm.json("show", a)["tags"] == ["展会2024", "重点"]
    assert "展会2024, 重点" in crm.ok("show", a)
    crm.ok("untag", a, "重点")
    assert [r["id"] for r in crm.json("list", "--tag", "重点")] == [b]
    assert crm.json("tags") == [{"tag": "展会2024", "customers": 1}, {"tag": "重点", "customers": 1}]
    assert [r["id"] for r in crm.json("stale", "--before", "2099-01-01", "--tag", "重点")] == [b]
    assert len(crm.json("stale", "--before", "2099-01-01")) == 2


def test_tag_text_is_checked_and_nothing_changes(crm, add, isolated_env):
    a = add()
    for bad in ("", "a;b", "x" * 31, "换\x07行"):
        result = crm("tag", a, "好", bad)
        assert result.exit_code == 2, bad
        assert "tag" in result.stderr
    assert sqlite3.connect(isolated_env).execute("SELECT count(*) FROM tags").fetchone() == (0,)
    assert crm("tag", "XS1999001", "重点").exit_code == 3


@given(st.text(max_size=40))
def test_clean_tag_accepts_only_clean_text(raw):
    try:
        tag = tags.clean_tag(raw)
    except ValidationError:
        return
    assert tag == tag.strip() and 0 < len(tag) <= tags.TAG_MAX and ";" not in tag
    assert tags.clean_tag(tag) == tag


def test_search_finds_tags(crm, add):
    a = add(name="甲")
    add(name="乙", phone="13900000002")
    crm.ok("tag", a, "展会2024")
    assert [r["id"] for r in crm.json("search", "展会")] == [a]


def test_tags_history_and_audit(crm, add):
    a = add()
    crm.ok("tag", a, "重点")
    entry = crm.json("history", a)[0]
    assert entry["type"] == "tags" and entry["summary"] == "tags: — → 重点"


def test_export_and_import_tags_round_trip(crm, add, tmp_path):
    a = add()
    crm.ok("tag", a, "重点", "展会2024")
    out = crm.ok("export", "--format", "csv", "--reveal")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["tags"] == "展会2024;重点"
    path = tmp_path / "in.csv"
    path.write_text(
        "name,contact,phone,source,needs,owner,first_contact,status,标签\n"
        "甲,王,13900000009,online,x,张,2024-01-01,potential,大客户；华东\n",
        encoding="utf-8",
    )
    crm.ok("import", str(path))
    new = [r for r in crm.json("list") if r["id"] != a][0]["id"]
    assert crm.json("show", new)["tags"] == ["华东", "大客户"]


def test_import_update_sets_tags_and_import_undo_puts_them_back(crm, add, tmp_path):
    a = add()
    crm.ok("tag", a, "旧")
    path = tmp_path / "in.csv"
    path.write_text(f"id,tags\n{a},新;重点\n", encoding="utf-8")
    crm.ok("import", str(path), "--on-duplicate", "update")
    assert crm.json("show", a)["tags"] == ["新", "重点"]
    batch = crm.json("import", "batches")[0]["id"]
    crm.ok("import", "undo", str(batch), "--yes")
    assert crm.json("show", a)["tags"] == ["旧"]


def test_import_undo_removes_added_customers_with_their_tags(crm, tmp_path, isolated_env):
    path = tmp_path / "in.csv"
    path.write_text(
        "name,contact,phone,source,needs,owner,first_contact,status,tags\n"
        "甲,王,13900000009,online,x,张,2024-01-01,potential,重点\n",
        encoding="utf-8",
    )
    crm.ok("import", str(path))
    batch = crm.json("import", "batches")[0]["id"]
    crm.ok("import", "undo", str(batch), "--yes")
    assert crm.json("list") == []
    assert sqlite3.connect(isolated_env).execute("SELECT count(*) FROM tags").fetchone() == (0,)


def test_bad_tag_in_import_is_a_row_error(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        "name,contact,phone,source,needs,owner,first_contact,status,tags\n"
        f"甲,王,13900000009,online,x,张,2024-01-01,potential,{'长' * 31}\n",
        encoding="utf-8",
    )
    result = crm("import", str(path))
    assert result.exit_code == 2 and "row 2" in result.stderr and "tag" in result.stderr
