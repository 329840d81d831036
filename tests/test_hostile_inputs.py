"""Hostile command-line inputs and values (#10.16, #10.20 and friends): each one is refused with
a short one-line message and a documented exit code, never 70, and the database is unchanged.

Control characters are tested in their own file (tests/test_control_chars*), file-format attacks
in tests/test_hostile_files.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crmcli.errors import QUOTE_MAX, ValidationError, shorten

from .conftest import add_args


def test_shorten_cuts_with_an_ellipsis():
    assert shorten("short") == "short"
    assert shorten("x" * QUOTE_MAX) == "x" * QUOTE_MAX
    cut = shorten("x" * 10_000_000)
    assert len(cut) == QUOTE_MAX and cut.endswith("…")
    assert "digits" in shorten(10**5000) and len(shorten(10**5000)) < 60  # str() of it would raise
    assert shorten(None) == "None"


def test_a_validation_error_never_quotes_a_huge_value():
    exc = ValidationError("name", "名" * 1_000_000, "too_long")
    assert len(str(exc)) < 100


def test_a_huge_value_gives_a_short_message(crm, isolated_env: Path):
    crm.ok(*add_args())
    before = sqlite3.connect(isolated_env).execute("SELECT count(*), max(version) FROM customers").fetchone()
    result = crm(*add_args(name="公司" * 200_000, phone="13900000000"))
    assert result.exit_code == 2
    assert len(result.stderr) < 300 and "…" in result.stderr and "name" in result.stderr
    assert sqlite3.connect(isolated_env).execute("SELECT count(*), max(version) FROM customers").fetchone() == before


def test_an_error_line_is_bounded_whatever_the_error_says():
    from crmcli.cli.common import ERROR_LINE_MAX, error_line

    assert len(error_line("x" * 10_000_000, "en")) <= ERROR_LINE_MAX + 10
