"""Hostile command-line inputs and values (#10.16, #10.20 and friends): each one is refused with
a short one-line message and a documented exit code, never 70, and the database is unchanged.

Control characters are tested in their own file (tests/test_control_chars*), file-format attacks
in tests/test_hostile_files.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crmcli.cli import app
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


# ---------------------------------------------------------------- the table (#10.16, #10.20)

BIG = "9" * 5000


def _fingerprint(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return (
            tuple(conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name")),
            tuple(conn.execute("SELECT * FROM customers ORDER BY id")),
            tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("followups", "status_changes", "audit_log", "options", "config", "id_sequences", "custom_fields")),
        )
    finally:
        conn.close()


# (name, args, environment, expected exit code, text the one-line message must contain)
HOSTILE: list[tuple[str, list[str], dict[str, str], int, str]] = [
    ("CRM_TODAY garbage", ["stale"], {"CRM_TODAY": "garbage"}, 2, "CRM_TODAY"),
    ("CRM_TODAY garbage on add", add_args(phone="13900000001"), {"CRM_TODAY": "2024-13-45"}, 2, "CRM_TODAY"),
    ("CRM_TODAY huge", ["today"], {"CRM_TODAY": "x" * 100_000}, 2, "CRM_TODAY"),
    ("invalid UTF-8 name", add_args(name="\udcff\udcfe公司"), {}, 2, "UTF-8"),
    ("invalid UTF-8 search", ["search", "ab\udc80"], {}, 2, "argument 2"),
    ("5000-digit amount", add_args(amount=BIG, phone="13900000001"), {}, 2, "amount"),
    ("5000-digit negative amount", add_args(amount="-" + BIG, phone="13900000001"), {}, 2, "amount"),
    ("5000-digit integer", [*add_args(phone="13900000001"), "--set", f"score={BIG}"], {}, 2, "score"),
    ("5000-digit decimal", [*add_args(phone="13900000001"), "--set", f"ratio={BIG}.5"], {}, 2, "ratio"),
    ("decimal 1e400", [*add_args(phone="13900000001"), "--set", "ratio=1e400"], {}, 2, "ratio"),
    ("amount 1e400", add_args(amount="1e400", phone="13900000001"), {}, 2, "amount"),
    ("edit with a 5000-digit amount", ["edit", "XS{year}001", "--amount", BIG], {}, 2, "amount"),
    ("list --amount-min huge", ["list", "--amount-min", BIG], {}, 2, "amount"),
    ("list --where huge integer", ["list", "--where", f"score>={BIG}"], {}, 2, "score"),
    ("list --limit 20 digits", ["list", "--limit", "9" * 20], {}, 2, "too large"),
    ("list --limit 5000 digits", ["list", "--limit", BIG], {}, 2, "limit"),
    ("stale --days huge", ["stale", "--days", "9" * 15], {}, 2, "too large"),
    ("stale --months huge", ["stale", "--months", "9" * 15], {}, 2, "too large"),
    ("today --ahead huge", ["today", "--ahead", "9" * 15], {}, 2, "too large"),
    ("log --next-date huge", ["log", "XS{year}001", "called", "--next-date", BIG + "d"], {}, 2, "next_date"),
    ("log --date huge", ["log", "XS{year}001", "called", "--date", BIG], {}, 2, "date"),
    ("huge name", add_args(name="公司" * 200_000, phone="13900000001"), {}, 2, "name"),
    ("huge --where", ["list", "--where", "x" * 1_000_000], {}, 2, "where"),
    ("huge id", add_args(id="X" * 1_000_000, phone="13900000001"), {}, 2, "id"),
    ("overlong ID sequence", add_args(id="XS20269223372036854775807", phone="13900000001"), {}, 2, "id"),
    ("config nan", ["config", "set", "priority-inactive", "nan"], {}, 2, "priority-inactive"),
    ("config 1e400", ["config", "set", "priority-due", "1e400"], {}, 2, "priority-due"),
    ("config huge months", ["config", "set", "stale-months", BIG], {}, 2, "stale-months"),
    ("config unknown status", ["config", "set", "priority-status", "foo=1"], {}, 2, "foo"),
    ("config unknown key", ["config", "set", "x" * 100_000, "1"], {}, 2, "unknown setting"),
    ("field named null", ["fields", "add", "null", "--type", "text", "--label-zh", "空", "--label-en", "Null"], {}, 2, "reserved"),
    ("field named primary", ["fields", "add", "primary", "--type", "text", "--label-zh", "主", "--label-en", "P"], {}, 2, "reserved"),
    ("show a huge id", ["show", "X" * 1_000_000], {}, 3, "no customer"),
    ("undo a huge batch number", ["import", "undo", BIG], {}, 2, "batch"),
]


@pytest.fixture
def seeded(crm, isolated_env: Path) -> str:
    crm.ok("fields", "add", "score", "--type", "integer", "--label-zh", "评分", "--label-en", "Score")
    crm.ok("fields", "add", "ratio", "--type", "decimal", "--label-zh", "比率", "--label-en", "Ratio")
    return crm.ok(*add_args()).strip()[2:6]


@pytest.mark.parametrize(("name", "args", "env", "code", "needle"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_refused_cleanly(crm, seeded, isolated_env, monkeypatch, name, args, env, code, needle):
    args = [a.replace("{year}", seeded) for a in args]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = _fingerprint(isolated_env)
    result = crm.runner.invoke(app, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == code, (name, result.exit_code, result.stderr[:500])
    assert result.exit_code != 70
    message = result.stderr.strip()
    assert "Traceback" not in message and "internal error" not in message
    assert needle in message, (name, message[:500])
    assert len(message) < 1500, (name, len(message))
    assert result.stdout == ""
    assert _fingerprint(isolated_env) == before


def test_import_messages_and_summary_cut_a_huge_cell(crm, isolated_env: Path, tmp_path: Path):
    import json

    path = tmp_path / "in.csv"
    huge = "名" * 100_000  # below the CSV reader's own cell limit
    path.write_text(
        "name,contact,phone,source,needs,owner,amount\n" + f"{huge},王,13812345678,online,n,张,{'9' * 5000}\n",
        encoding="utf-8",
    )
    result = crm("import", str(path), "--format", "json")
    assert result.exit_code == 2
    assert len(result.stderr) < 2000 and "…" in result.stderr
    summary = json.loads(result.stdout)
    assert all(len(str(e["value"])) <= 40 for e in summary["errors"]), summary["errors"]
