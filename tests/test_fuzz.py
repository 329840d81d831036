"""Hypothesis fuzzing of command arguments and of import files: never a traceback, exit code 2 for
bad input, and a refused command leaves the database exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmcli.cli import app

from .conftest import BASE

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI stays reproducible and bounded
)
runner = CliRunner()

# Text with what breaks naive code: quotes, SQL, separators, full-width and CJK, control characters.
nasty = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "", " ", "'", '"', ";", "--", "/*", "%", "_", "\\", "\x00", "\t", "\r\n", "名称", "合作中", "１３８",
        "1; DROP TABLE customers", "' OR 1=1 --", "-", "-1", "0", "99999999999999999999", "1e309", "nan",
        "2024-02-30", "2024-13-01", "3d", "-3d", "9999w", "¥-1", "1.005", "1.5万", "A", "Z", "XS2024001",
        "id", "name", "-name", "amount:desc", "status,", ",,", "=", "a=b=c", "未知", "N/A",
    ]),
)


def _fingerprint(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return (
            tuple(conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name")),
            tuple(conn.execute(
                "SELECT count(*), total(version), max(id), group_concat(updated_at) FROM customers")),
            tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("followups", "status_changes", "audit_log", "options", "config", "id_sequences")),
        )
    finally:
        conn.close()


def _invoke(args: list[str]):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, args, catch_exceptions=True)
    text = (result.stdout or "") + (result.stderr or "")
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in text and "internal error" not in text, (args, text[-500:])
    return result


def _check(db: Path, args: list[str], allowed: tuple[int, ...]) -> int:
    before = _fingerprint(db)
    result = _invoke(args)
    assert result.exit_code in allowed, (args, result.exit_code, (result.stderr or "")[-400:])
    if result.exit_code not in (0, 1):
        assert _fingerprint(db) == before, (args, "a refused command changed the database")
    return result.exit_code


@pytest.fixture
def seeded(isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # anything written by a path argument lands here
    args = ["add", "-q"] + [x for flag, value in BASE.items() for x in (flag, value)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    customer_id = result.stdout.strip()
    runner.invoke(app, ["log", customer_id, "第一次电话", "--date", "2024-01-02"])
    return customer_id


LIST_OPTIONS = ["--sort", "--columns", "--status", "--industry", "--type", "--source", "--owner", "--grade",
                "--first-contact-from", "--last-followup-to", "--amount-min", "--amount-max", "--text", "--limit",
                "--format"]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(LIST_OPTIONS), nasty), max_size=4))
def test_fuzz_list_options(seeded: str, isolated_env: Path, options: list[tuple[str, str]]) -> None:
    args = ["list"] + [x for pair in options for x in pair]
    before = _fingerprint(isolated_env)
    _check(isolated_env, args, (0, 2))
    assert _fingerprint(isolated_env) == before  # a listing never writes


EDITABLE = ["name", "industry", "type", "contact", "title", "phone", "email", "address", "source", "needs",
            "first-contact", "last-followup", "owner", "status", "product", "amount", "notes", "grade", "next-date"]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(EDITABLE), nasty), min_size=1, max_size=3))
def test_fuzz_add_and_edit_values(seeded: str, isolated_env: Path, values: list[tuple[str, str]]) -> None:
    fields = [x for key, value in values for x in (f"--{key}", value)]
    base = [x for flag, value in BASE.items() for x in (flag, value)]
    _check(isolated_env, ["add", "-q", *base, *fields], (0, 2))
    _check(isolated_env, ["edit", seeded, *fields], (0, 2))


@FUZZ
@given(nasty, st.lists(st.tuples(st.sampled_from(["--next", "--next-date", "--date", "--channel", "--result",
                                                 "--satisfaction"]), nasty), max_size=3), nasty)
def test_fuzz_log_status_show(seeded: str, isolated_env: Path, content: str, options: list[tuple[str, str]],
                              word: str) -> None:
    _check(isolated_env, ["log", seeded, content, *[x for pair in options for x in pair]], (0, 2))
    _check(isolated_env, ["status", seeded, word], (0, 2))
    _check(isolated_env, ["show", word], (0, 2, 3))
    _check(isolated_env, ["history", word], (0, 2, 3))
    _check(isolated_env, ["stale", "--before", word], (0, 2))
    _check(isolated_env, ["search", word], (0, 2))


# Whole command lines from a vocabulary of real words and hostile values. Options that write
# files by path, install things or touch other databases are left out.
WORDS = ["list", "show", "search", "stale", "today", "history", "report", "pivot", "funnel", "export", "add",
         "edit", "log", "status", "grade", "options", "config", "get", "set", "archive", "restore", "import",
         "batches", "undo", "--sort", "--columns", "--format", "--status", "--limit", "--days", "--months",
         "--before", "--name", "--phone", "--amount", "--set", "--dry-run", "--yes", "-q", "--next-date",
         "--exit-code", "--lang", "--help", "json", "csv", "ids", "zh", "industry", "user", "id-prefix"]


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(WORDS), nasty), min_size=1, max_size=6))
def test_fuzz_command_lines(seeded: str, isolated_env: Path, argv: list[str]) -> None:
    _check(isolated_env, argv, (0, 1, 2, 3, 4))


# ---------------------------------------------------------------------------- import files

HEADERS = ["客户名称", "联系人姓名", "联系方式*", "客户来源", "需求描述", "跟进人", "首次接触时间", "合作状态",
           "name", "phone", "amount", "合同金额(元)", "Email", "unknown column", "", "客户名称"]


@st.composite
def csv_files(draw) -> bytes:  # type: ignore[no-untyped-def]
    headers = draw(st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=8)), min_size=0, max_size=9))
    rows = draw(st.lists(st.lists(nasty, max_size=len(headers) + 2), max_size=6))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))

    def cell(text: str) -> str:
        if any(c in text for c in (delimiter, '"', "\n", "\r")) and draw(st.booleans()):
            return '"' + text.replace('"', '""') + '"'
        return text

    text = "\n".join(delimiter.join(cell(c) for c in line) for line in [headers, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    return text.encode(encoding, errors="replace")


@FUZZ
@given(st.one_of(csv_files(), st.binary(max_size=600)), st.sampled_from([".csv", ".tsv", ".json", ".jsonl", ".xlsx"]))
def test_fuzz_import_files(seeded: str, isolated_env: Path, tmp_path: Path, content: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content)
    before = _fingerprint(isolated_env)
    _check(isolated_env, ["import", "file", str(path), "--dry-run"], (0, 2, 4))
    assert _fingerprint(isolated_env) == before  # a dry run never writes
    _check(isolated_env, ["import", "file", str(path)], (0, 2, 4))
