"""The hot queries use their indexes: asserted on SQLite's query plan, not on timings.

Each test runs the library function that a command runs, captures the SQL it sends (with
``set_trace_callback``), and asks SQLite for that statement's plan.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date

import pytest

from crmcli import agenda, followups, query
from crmcli.customers import get
from crmcli.storage import open_store

from .conftest import add_args


@pytest.fixture
def store(crm, isolated_env):
    for i in range(30):
        crm.ok(*add_args(phone=f"139{i:08d}", owner=f"销售{i % 5}", status=["potential", "intent", "active"][i % 3]))
    with open_store(isolated_env) as opened:
        opened.conn.execute("ANALYZE")
        yield opened


def plans(conn: sqlite3.Connection, run: Callable[[], object], table: str = "customers") -> list[str]:
    """The query plan of every statement ``run`` sends that reads ``table``."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        result = run()
        if hasattr(result, "__next__"):
            list(result)  # type: ignore[call-overload]
    finally:
        conn.set_trace_callback(None)
    out = []
    for sql in statements:
        if f"FROM {table}" in sql and sql.lstrip().upper().startswith("SELECT"):
            detail = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
            out.append(detail)
    assert out, f"no SELECT on {table} was traced"
    return out


def full_scans(plan: str, table: str = "customers") -> bool:
    # "SCAN customers" without an index is a full table scan; "SCAN ... USING INDEX" walks an index.
    return any(step.strip() == f"SCAN {table}" for step in plan.split("|"))


def test_list_with_status_and_owner_uses_an_index(store):
    filters = query.Filters(choices={"status": ["intent"]}, owner=["销售1"])
    for plan in plans(store.conn, lambda: query.select(store.conn, filters)):
        assert "USING INDEX" in plan and not full_scans(plan), plan


def test_stale_walks_the_last_contact_index(store):
    run = lambda: agenda.stale(store.conn, query.Filters(), date(2024, 3, 15), today=date(2024, 6, 15))  # noqa: E731
    for plan in plans(store.conn, run):
        assert "idx_customers_archived_last_contact" in plan, plan
    run_json = lambda: agenda.stale_json(  # noqa: E731
        store.conn, query.Filters(), date(2024, 3, 15), keys=["id", "name"], lang="en", reveal=False,
        today=date(2024, 6, 15),
    )
    for plan in plans(store.conn, run_json):
        assert "idx_customers_archived_last_contact" in plan, plan


def test_show_is_a_primary_key_lookup(store):
    customer_id = store.conn.execute("SELECT id FROM customers LIMIT 1").fetchone()[0]
    for plan in plans(store.conn, lambda: get(store.conn, customer_id)):
        assert "USING INDEX sqlite_autoindex_customers_1 (id=?)" in plan or "USING PRIMARY KEY" in plan, plan


def test_followups_of_one_customer_use_their_index(store):
    customer_id = store.conn.execute("SELECT id FROM customers LIMIT 1").fetchone()[0]
    for plan in plans(store.conn, lambda: followups.list_for(store.conn, customer_id), table="followups"):
        assert "idx_followups_customer_id_date" in plan, plan


def test_due_next_steps_use_the_next_date_index(store):
    weights = agenda.Weights()
    traced = plans(store.conn, lambda: agenda.today_agenda(store.conn, query.Filters(), weights, today=date(2024, 6, 15)))
    assert any("idx_customers_next_date" in plan for plan in traced), traced


@pytest.mark.parametrize("term", ["采购", "办公设备", "Office"])
def test_search_of_two_or_more_characters_uses_the_full_text_index(store, term):
    # A table big enough that SQLite's statistics tell it a scan costs more than the matches.
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO customers (id, name, needs, status, archived, version, created_at, updated_at) "
            "VALUES (?, ?, '维修', 'potential', 0, 1, 'x', 'x')",
            [(f"P{i:05d}", f"公司{i}") for i in range(3000)],
        )
    store.conn.execute("ANALYZE")
    filters = query.Filters(text=term)
    for plan in plans(store.conn, lambda: query.select(store.conn, filters)):
        assert "customer_fts VIRTUAL TABLE INDEX" in plan and "followup_fts VIRTUAL TABLE INDEX" in plan, plan
        assert "SEARCH customers USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        assert not any(full_scans(plan, t) for t in ("customers", "c", "followups", "f")), plan


def test_a_table_search_counts_its_matches_in_the_same_pass(crm, isolated_env):
    for i in range(3):
        crm.ok(*add_args(phone=f"1371234567{i}"))
    from crmcli.cli import common

    statements: list[str] = []
    real_store = common.State.store

    def traced(self):
        opened = real_store(self)
        opened.conn.set_trace_callback(statements.append)
        return opened

    common.State.store = traced  # type: ignore[method-assign]
    try:
        result = crm("search", "采购", "--limit", "2")
    finally:
        common.State.store = real_store  # type: ignore[method-assign]
    assert result.exit_code == 0 and "2 of 3 shown" in result.stderr
    searches = [s for s in statements if "FROM customers" in s and "customer_fts" in s]
    assert not [s for s in statements if "count(*) FROM customers" in s]
    assert len(searches) == 1 and "OVER ()" in searches[0]
