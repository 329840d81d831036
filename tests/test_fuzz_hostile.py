"""Hypothesis over hostile values in command arguments and small import files (#10.16-#10.21):
the exit code is never 70, a refusal leaves the database exactly as it was, and whatever is
accepted leaves every command working (settings, field keys, IDs). Bounded: a few dozen examples
each, derandomised, so the whole file stays within seconds."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmcli.cli import app
from crmcli.config import SETTINGS

from .conftest import BASE

FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
runner = CliRunner()

numbers = st.one_of(
    st.integers(min_value=1, max_value=5000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=400).map(lambda n: f"1e{n}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "Infinity", "1e308", "1e400", "-0", "0x10", "１２３", "1_000",
                     "3.", ".5", "1,000", "¥1e5", "1.5万", "-" + "9" * 30]),
)
hostile = st.one_of(
    numbers,
    st.text(max_size=30),
    st.sampled_from(["", " ", "null", "in", "primary", "select", "XS20269223372036854775807", "XS2024" + "1" * 9,
                     "ab\udcff", "\udc80", "名" * 3000, "'; DROP TABLE customers; --", "intent=1e308", "foo=1",
                     "A=nan", "a=1,a=2", "=", ",", "status_label", "rowid"]),
)


def _fingerprint(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return (
            tuple(conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name")),
            tuple(conn.execute("SELECT * FROM customers ORDER BY id")),
            tuple(conn.execute("SELECT * FROM config ORDER BY key")),
            tuple(conn.execute("SELECT * FROM id_sequences ORDER BY prefix, year")),
            tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("followups", "status_changes", "audit_log", "custom_fields", "import_batches")),
        )
    finally:
        conn.close()


def _run(db: Path, args: list[str], allowed: tuple[int, ...]) -> int:
    before = _fingerprint(db)
    result = runner.invoke(app, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args[:4], repr(result.exception))
    assert result.exit_code != 70, (args[:4], result.stderr[-300:])
    assert result.exit_code in allowed, (args[:4], result.exit_code, result.stderr[-300:])
    text = result.stderr or ""
    assert "Traceback" not in text and len(text) < 5000, (args[:4], text[:300])
    if result.exit_code not in (0, 1):
        assert _fingerprint(db) == before, (args[:4], "a refused command changed the database")
    return result.exit_code


@pytest.fixture
def seeded(isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for args in (
        ["fields", "add", "score", "--type", "integer", "--label-zh", "评分", "--label-en", "Score"],
        ["fields", "add", "ratio", "--type", "decimal", "--label-zh", "比率", "--label-en", "Ratio"],
        ["add", "-q", *[x for flag, value in BASE.items() for x in (flag, value)]],
    ):
        assert runner.invoke(app, args).exit_code == 0
    return isolated_env


def _works_after(db: Path) -> None:
    """Whatever was accepted, the everyday commands still work."""
    for args in (["stale", "--format", "json"], ["today", "--format", "json"], ["list", "--format", "json"],
                 ["add", "-q", *[x for flag, value in BASE.items() for x in (flag, value)], "--phone", "13900000000"]):
        result = runner.invoke(app, args, catch_exceptions=True)
        assert result.exit_code in (0, 1), (args[:2], result.exit_code, result.stderr[-300:])
        assert "warning" not in (result.stderr or ""), result.stderr[-300:]
    sqlite3.connect(db).execute("DELETE FROM customers WHERE phone = '13900000000'").connection.commit()


@FUZZ
@given(st.sampled_from(sorted(SETTINGS)), hostile)
def test_fuzz_config_set(seeded: Path, key: str, value: str) -> None:
    if _run(seeded, ["config", "set", "--", key, value], (0, 2)) == 0:
        _works_after(seeded)
        _run(seeded, ["config", "unset", key], (0,))


@FUZZ
@given(hostile, st.sampled_from(["text", "integer", "decimal", "date", "choice", "blob"]))
def test_fuzz_fields_add(seeded: Path, key: str, kind: str) -> None:
    args = ["fields", "add", "--", key, "--type", kind, "--label-zh", "某字段" + key[:3], "--label-en", "F " + key[:3]]
    if kind == "choice":
        args += ["--choices", "a:甲:A"]
    if _run(seeded, args, (0, 2, 4)) == 0:
        _works_after(seeded)


@FUZZ
@given(st.sampled_from(["--id", "--amount", "--set score", "--set ratio", "--set last_followup", "--first-contact",
                        "--name", "--email"]), hostile)
def test_fuzz_add_values(seeded: Path, flag: str, value: str) -> None:
    base = [x for f, v in BASE.items() for x in (f, v)]
    option = [flag, value] if " " not in flag else ["--set", f"{flag.split()[1]}={value}"]
    _run(seeded, ["add", "-q", *base, "--phone", "13911112222", *option], (0, 2))
    _works_after(seeded)


@FUZZ
@given(hostile)
def test_fuzz_crm_today(seeded: Path, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return  # the process environment cannot hold it
    if "\x00" in value:
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_TODAY", value)
        _run(seeded, ["stale"], (0, 1, 2))


CELL_KEYS = ["id", "name", "email", "amount", "score", "ratio", "last_followup", "first_contact"]


@st.composite
def import_files(draw) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        row = {k.lstrip("-"): v for k, v in BASE.items()}
        for key in draw(st.lists(st.sampled_from(CELL_KEYS), min_size=1, max_size=3, unique=True)):
            row[key] = draw(hostile)
        rows.append(row)
    if draw(st.booleans()):
        keys = sorted({k for r in rows for k in r})

        def cell(v: str) -> str:
            return '"' + v.replace('"', '""') + '"'

        lines = [",".join(keys), *[",".join(cell(r.get(k, "")) for k in keys) for r in rows]]
        return ".csv", "\n".join(lines) + "\n"
    for r in rows:  # JSON numbers too, where the value is one (never beyond Python's 4300 digits)
        for k in ("amount", "score", "ratio"):
            if k in r and r[k].lstrip("-").isdigit() and len(r[k]) < 4000:
                r[k] = int(r[k])  # type: ignore[assignment]
    return ".json", json.dumps(rows, ensure_ascii=False)


@FUZZ
@given(import_files())
def test_fuzz_small_import_files(seeded: Path, tmp_path: Path, file: tuple[str, str]) -> None:
    suffix, text = file
    path = tmp_path / f"in{suffix}"
    try:
        path.write_text(text, encoding="utf-8")
    except UnicodeEncodeError:
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    code = _run(seeded, ["import", str(path), "--format", "json"], (0, 2, 4))
    if code == 0:
        _works_after(seeded)
        batch = json.loads(runner.invoke(app, ["import", "batches", "--format", "json"]).stdout)[0]["id"]
        _run(seeded, ["import", "undo", str(batch), "--yes"], (0,))
        _works_after(seeded)
