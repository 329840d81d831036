"""E-mail duplicates are matched case-insensitively, on an index (#10.21)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from crmcli import customers
from crmcli.storage import open_store

from .conftest import add_args

HEADER = "name,contact,phone,email,source,needs,first_contact,owner,status\n"


def test_add_warns_about_the_same_email_in_another_case(crm):
    first = crm.ok(*add_args(email="LN@YQ.TECH")).strip()
    result = crm(*add_args(email="ln@yq.tech", phone="13900000000"))
    assert result.exit_code == 0
    assert f"{first} has the same email" in result.stderr
    # Stored as typed (the domain is always lower-cased by the e-mail parser).
    assert crm.json("show", first)["email"] == "LN@yq.tech"


def test_import_matches_email_in_any_case(crm, tmp_path: Path):
    cid = crm.ok(*add_args(email="ln@yq.tech")).strip()
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "其他公司,李娜,,LN@YQ.TECH,online,n,2024-05-01,张,potential\n", encoding="utf-8")
    summary = json.loads(crm.ok("import", str(path), "--match", "email", "--format", "json"))
    assert (summary["added"], summary["unchanged"]) == (0, 1)
    refused = crm("import", str(path), "--match", "email", "--on-duplicate", "error")
    assert refused.exit_code == 4 and cid in refused.stderr


def test_rows_of_one_file_match_each_other_in_any_case(crm, tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_text(
        HEADER
        + "甲公司,李娜,13900000001,Li.Na@Example.com,online,n,2024-05-01,张,potential\n"
        + "甲公司,李娜,13900000002,li.na@example.com,online,n,2024-05-01,张,potential\n",
        encoding="utf-8",
    )
    summary = json.loads(crm.ok("import", str(path), "--match", "email", "--format", "json"))
    assert summary["added"] == 1


def test_email_match_uses_the_lower_email_index(crm, isolated_env: Path):
    for i in range(20):
        crm.ok(*add_args(email=f"user{i}@example.com", phone=f"139{i:08d}"))
    with open_store(isolated_env) as store:
        sql = f"SELECT id FROM customers WHERE {customers.EMAIL_MATCH} = ? AND id != ? LIMIT 1"
        plan = " | ".join(r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql, ("a@b.c", "x")))
        assert "idx_customers_email_lower" in plan, plan
        sql = f"SELECT id, {customers.EMAIL_MATCH} FROM customers WHERE {customers.EMAIL_MATCH} IN (SELECT value FROM json_each(?))"
        plan = " | ".join(r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql, ('["a@b.c"]',)))
        assert "idx_customers_email_lower" in plan, plan


def test_email_key_folds_ascii_like_sqlite_lower():
    conn = sqlite3.connect(":memory:")
    for text in ("LN@YQ.TECH", "Ünï@例子.公司", "ÄB@x.cn"):
        assert customers.email_key(text) == conn.execute("SELECT lower(?)", (text,)).fetchone()[0]
