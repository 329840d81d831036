"""The SQL-built JSON of customers equals the Python projection, value for value."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli import jsonsql, options, query, render
from crmcli.storage import open_store

from .conftest import add_args

PHONES = ["13812345678", "010-62345678", "0512-65432100-88", "+1 406-714-6467 x58947", "+44 20 7946 0958", "001-808-617-6467"]
AMOUNTS = [None, "12000", "12000.5", "0.01", "86000.50", "1999999.99", "1.5万"]


@pytest.fixture
def varied(crm):
    made = []
    for i, (phone, amount) in enumerate(zip(PHONES, AMOUNTS)):
        extra = {"amount": amount} if amount else {}
        if i % 2:
            extra["industry"] = "retail"
        made.append(crm.ok(*add_args(phone=phone, name=f"公司{i}\"引号\\", **extra)).strip())
    crm.ok("archive", made[0])
    return made


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("reveal", [False, True])
def test_sql_json_equals_python_projection(varied, isolated_env, lang, reveal):
    with open_store(isolated_env) as store:
        opts = options.load(store)
        jsonsql.register_functions(store.conn)
        filters = query.Filters(archived="all")
        python_rows = [render.machine_projector(opts, lang, reveal)(r) for r in query.select(store.conn, filters)]
        keys = list(python_rows[0])
        columns = [k for k in keys if not k.endswith("_label")]
        expr = jsonsql.customer_object(columns, lang, reveal)
        sql_rows = [json.loads(r[0]) for r in store.conn.execute(f"SELECT {expr} FROM customers ORDER BY id")]
    assert sql_rows == python_rows
    assert [list(r) for r in sql_rows] == [list(r) for r in python_rows]  # same key order


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fen=st.integers(min_value=0, max_value=10**15))
def test_amounts_render_identically(fen, isolated_env):
    with open_store(isolated_env) as store:
        got = json.loads(store.conn.execute(f"SELECT json_object('a', {jsonsql._value_expr('?', 'amount', False).replace('?', str(fen))})").fetchone()[0])
    assert got["a"] == parsing_fen_to_yuan(fen)


def parsing_fen_to_yuan(fen: int):
    from crmcli import parsing

    return parsing.fen_to_yuan(fen)
