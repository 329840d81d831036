"""200 custom fields (the seed adds some every quarter) list fine in every format (#10.18)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from crmcli import custom_fields, jsonsql, options, query, render
from crmcli.storage import open_store

from .conftest import add_args

N_FIELDS = 200
TYPES = ("text", "integer", "decimal", "date", "choice")


@pytest.fixture
def many(crm, isolated_env: Path) -> list[str]:
    with open_store(isolated_env) as store:
        for i in range(N_FIELDS):
            kind = TYPES[i % 5]
            choices = [("a", "甲", "A"), ("b", "乙", "B")] if kind == "choice" else None
            custom_fields.add(store, f"f{i:03d}", kind, f"字段{i}", f"Field {i}", choices)
    values = {"text": "文本", "integer": "42", "decimal": "3.5", "date": "2024-05-01", "choice": "b"}
    sets = [a for i in range(0, N_FIELDS, 7) for a in ("--set", f"f{i:03d}={values[TYPES[i % 5]]}")]
    first = crm.ok(*add_args(), *sets).strip()
    second = crm.ok(*add_args(phone="13900000000", name="杭州云栖")).strip()
    return [first, second]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv", "table", "ids"])
@pytest.mark.parametrize("command", [["list"], ["search", "公司"], ["export"], ["stale", "--days", "0"]])
def test_every_listing_works_with_200_custom_fields(crm, many, monkeypatch, command: list[str], fmt: str):
    if command[0] == "export" and fmt in ("table", "ids"):
        pytest.skip("export writes files formats only")
    monkeypatch.setenv("CRM_TODAY", "2030-01-01")
    result = crm(*command, "--format", fmt)
    assert result.exit_code == 0, (result.exit_code, result.stderr[-300:])
    out = result.stdout
    if fmt == "json":
        rows = json.loads(out)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out.splitlines()]
    elif fmt in ("csv", "tsv"):
        rows = list(csv.DictReader(io.StringIO(out), dialect="excel-tab" if fmt == "tsv" else "excel"))
    elif fmt == "ids":
        rows = out.split()
    else:
        rows = [line for line in out.splitlines() if "XS" in line]
    assert len(rows) == (1 if command[0] == "search" else 2)
    if fmt in ("json", "jsonl", "csv", "tsv") and command[0] != "stale":
        first = next(r for r in rows if r["id"] == many[0])
        assert str(first["f000"]) == "文本" and str(first["f196"]).rstrip("0").rstrip(".") in ("42",)
        assert "f199" in first
        if fmt in ("json", "jsonl"):
            assert first["f007"] == 3.5 and first["f189"] == "b" and first["f189_label"] == "B"
            assert first["f001"] is None  # null values are kept, not dropped
            assert list(first)[-1] == "f199" or list(first).index("f199") > list(first).index("f000")


def test_sql_json_equals_python_projection_with_200_fields(many, isolated_env: Path):
    with open_store(isolated_env) as store:
        from crmcli import customers

        customers.columns(store.conn)
        opts = options.load(store)
        jsonsql.register_functions(store.conn)
        python_rows = [render.machine_projector(opts, "en", False)(r) for r in query.select(store.conn, query.Filters())]
        keys = [k for k in python_rows[0] if not k.endswith("_label")]
        expr = jsonsql.customer_object(keys, "en", False)
        sql_rows = [json.loads(r[0]) for r in store.conn.execute(f"SELECT {expr} FROM customers ORDER BY id")]
    assert len(keys) > 200
    assert sql_rows == python_rows
    assert [list(r) for r in sql_rows] == [list(r) for r in python_rows]


def test_columns_sort_and_where_on_the_200th_field(crm, many):
    rows = crm.json("list", "--columns", "id,f196,f199", "--sort", "-f196", "--where", "f196>=1")
    assert rows == [{"id": many[0], "f196": 42, "f199": None, "f199_label": None}]


def test_a_failing_json_listing_writes_nothing_to_stdout(crm, many, isolated_env: Path, monkeypatch):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("too many arguments on function json_object")

    monkeypatch.setattr(jsonsql, "_joined_objects", lambda parts: "json_object(" + ", ".join(parts) + ")")
    for fmt in ("json", "jsonl"):
        result = crm("list", "--format", fmt)
        assert result.exit_code != 0 and result.stdout == "", (fmt, result.stdout[:50])
        assert "too many arguments" in result.stderr
