"""Masked data must not leak: CSV formulas (#10.21), history (#10.9), partial phone filters (#10.10)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest


def _rows(text: str, fmt: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), dialect="excel-tab" if fmt == "tsv" else "excel"))


# ---------------------------------------------------------------------------- #10.21 CSV formulas

@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_listing_csv_is_formula_neutralised_like_export(crm, add, fmt: str) -> None:
    cid = add(name="=HYPERLINK(\"http://x\",\"点我\")", contact="@SUM(A1)", notes="-2+3", first_contact="2024-01-02")
    crm.ok("log", cid, "电话", "--date", "2024-01-02", "--next", "+1 回访", "--next-date", "2024-06-01")
    for args in (("list",), ("search", "HYPERLINK"), ("stale",), ("today",)):
        rows = _rows(crm.ok(*args, "--format", fmt), fmt)
        assert rows, args
        row = rows[0]
        assert row["name"] == "'=HYPERLINK(\"http://x\",\"点我\")", args
        if "contact" in row:
            assert row["contact"] == "'@SUM(A1)"
        if "next_step" in row:
            assert row["next_step"] == "'+1 回访"
    row = _rows(crm.ok("list", "--format", fmt), fmt)[0]
    assert row["notes"] == "'-2+3"


def test_listing_csv_keeps_numbers_and_revealed_phones_importable(crm, add, tmp_path: Path) -> None:
    crm.ok("fields", "add", "delta", "--type", "integer", "--label-zh", "变化", "--label-en", "Delta")
    cid = add(phone="+86 138 1234 5678", amount="12000")
    crm.ok("edit", cid, "--set", "delta=-3")
    row = _rows(crm.ok("list", "--format", "csv", "--reveal"), "csv")[0]
    assert row["delta"] == "-3"  # a number, never a formula
    assert row["amount"] == "12000"
    assert row["phone"] == "13812345678"
    # An international number starts with + and is neutralised; import strips the ' again.
    add(phone="+1 808 555 0100", name="檀香山公司")
    out = crm.ok("list", "--format", "csv", "--reveal", "--where", "name=檀香山公司")
    row = _rows(out, "csv")[0]
    assert row["phone"].startswith("'+1")
    path = tmp_path / "again.csv"
    path.write_text(out.replace("檀香山公司", "檀香山二号"), encoding="utf-8")
    crm.ok("import", "file", str(path), "--on-duplicate", "skip")
    assert crm.json("list", "--reveal", "--where", "name=檀香山公司")[0]["phone"] == row["phone"][1:]
