"""Control characters (ESC, NUL, C1, bidi overrides): refused on input, never printed raw (#10.14)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcli import textsafe
from crmcli.errors import ParseError

from .conftest import add_args

BAD = ["\x1b", "\x00", "\x07", "\x7f", "\x9b", "\x85", "\u202a", "\u202e", "\u2066", "\u2069", "\u2028", "\r"]
CLEAN_ALPHABET = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="".join(
        [chr(c) for c in range(0x20)]
        + [chr(c) for c in range(0x7F, 0xA0)]
        + [chr(c) for c in range(0x202A, 0x202F)]
        + [chr(c) for c in range(0x2066, 0x206A)]
        + ["\u2028", "\u2029"]
    ),
)


# ---------------------------------------------------------------------------- the pure functions


@given(st.text(CLEAN_ALPHABET))
def test_clean_text_passes_and_is_shown_unchanged(text: str) -> None:
    assert textsafe.check(text) == text
    assert textsafe.check(text, multiline=True) == text
    assert textsafe.escape(text) == text


@given(st.text(CLEAN_ALPHABET), st.sampled_from(BAD), st.text(CLEAN_ALPHABET))
def test_any_control_character_is_refused_and_named(before: str, bad: str, after: str) -> None:
    text = before + bad + after
    for multiline in (False, True):
        with pytest.raises(ParseError) as info:
            textsafe.check(text, multiline=multiline)
        assert info.value.reason == "control_char"
        assert info.value.details["char"] == (f"\\x{ord(bad):02x}" if ord(bad) < 256 else f"\\u{ord(bad):04x}")


@given(st.text(CLEAN_ALPHABET), st.text(CLEAN_ALPHABET))
def test_long_text_takes_tab_newline_and_crlf_one_line_text_does_not(a: str, b: str) -> None:
    for sep in ("\t", "\n", "\r\n"):
        assert textsafe.check(a + sep + b, multiline=True) == a + sep + b
        with pytest.raises(ParseError):
            textsafe.check(a + sep + b)


@given(st.text())
def test_printable_text_is_always_clean(text: str) -> None:
    # the import hot path skips the check for printable text
    if text.isprintable():
        assert textsafe.is_clean(text)
    assert not any(c.isprintable() for c in BAD)


@given(st.text())
def test_escaped_text_holds_no_control_character(text: str) -> None:
    shown = textsafe.escape(text)
    assert textsafe.is_clean(shown, multiline=True)
    assert "\x1b" not in shown and "\u202e" not in shown


@given(
    st.recursive(st.text() | st.integers() | st.none(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids))
)
def test_json_escaping_keeps_the_values(value: object) -> None:
    text = textsafe.escape_json(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert not any(0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in text)


@given(st.text())
def test_csv_cells_are_escaped_and_never_start_a_formula(text: str) -> None:
    cell = textsafe.csv_cell(text)
    assert textsafe.is_clean(cell, multiline=True)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# ---------------------------------------------------------------------------- refused on input


def _count(db: Path, table: str = "customers") -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("bad", ["\x1b]0;owned\x07", "\x00", "\x9b2J", "abc\u202ecod.exe", "a\u2066b"])
def test_add_refuses_control_characters_naming_the_field(crm, isolated_env: Path, bad: str) -> None:
    crm.ok(*add_args(name="先有一个"))
    result = crm(*add_args(name="客户" + bad))
    assert result.exit_code == 2
    assert "name" in result.stderr and "control character" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert _count(isolated_env) == 1


def test_add_refuses_controls_in_contact_and_custom_text_fields(crm, isolated_env: Path) -> None:
    crm.ok("fields", "add", "wechat", "--type", "text", "--label-zh", "微信", "--label-en", "WeChat")
    result = crm(*add_args(title="采购\n经理"))  # a one-line field takes no newline (names collapse spaces)
    assert result.exit_code == 2 and "title" in result.stderr
    assert crm(*add_args(contact="王\x1b[2J强")).exit_code == 2
    result = crm(*add_args(), "--set", "wechat=wx\x1b[31m")
    assert result.exit_code == 2 and "wechat" in result.stderr
    assert _count(isolated_env) == 0


def test_long_text_keeps_newlines_and_tabs(crm, add) -> None:
    cid = add(notes="第一行\n\t第二行")
    record = json.loads(crm.ok("show", cid, "-f", "json"))
    assert record["notes"] == "第一行\n\t第二行"


def test_edit_and_log_refuse_control_characters(crm, add, isolated_env: Path) -> None:
    cid = add()
    with sqlite3.connect(isolated_env) as conn:
        before = (
            conn.execute("SELECT * FROM customers").fetchall(),
            conn.execute("SELECT count(*) FROM audit_log").fetchone(),
        )
    result = crm("edit", cid, "--notes", "ok\x1b]52;c;aGk=\x07")
    assert result.exit_code == 2 and "notes" in result.stderr
    result = crm("log", cid, "电话\u202e内容")
    assert result.exit_code == 2 and "content" in result.stderr
    assert crm("log", cid, "电话", "--next", "回访\x1b[8m").exit_code == 2
    assert crm("log", cid, "电话", "--by", "张\n经理").exit_code == 2
    assert crm("status", cid, "intent", "--note", "x\x9b").exit_code == 2
    with sqlite3.connect(isolated_env) as conn:
        after = (
            conn.execute("SELECT * FROM customers").fetchall(),
            conn.execute("SELECT count(*) FROM audit_log").fetchone(),
        )
    assert after == before
    assert _count(isolated_env, "followups") == 0


def test_import_refuses_control_characters_naming_field_and_row(crm, isolated_env: Path, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "name,contact,phone,source,needs,owner,notes\n"
        "甲公司,王强,13812345678,online,采购,张经理,正常\n"
        "乙公司,李\x1b]0;x\x07四,13912345678,online,采购,张经理,\n"
        "丙公司,赵六,13712345678,online,采购\u202e,张经理,\n",
        encoding="utf-8",
    )
    result = crm("import", "file", str(path))
    assert result.exit_code == 2
    assert "contact" in result.stderr and "needs" in result.stderr
    assert "row 3" in result.stderr and "row 4" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert _count(isolated_env) == 0


def test_import_of_followups_refuses_control_characters(crm, add, isolated_env: Path, tmp_path: Path) -> None:
    cid = add()
    path = tmp_path / "f.csv"
    path.write_text(f"customer_id,date,content\n{cid},2024-06-01,回访\x1b[2J\n", encoding="utf-8")
    result = crm("import", "file", str(path), "--followups")
    assert result.exit_code == 2 and "content" in result.stderr
    assert _count(isolated_env, "followups") == 0


# ---------------------------------------------------------------------------- never printed raw

NASTY = "恶意\x1b]0;owned\x07\x1b[2J\u202e公司\x9b"


@pytest.fixture
def stored(crm, add, isolated_env: Path) -> str:
    """A customer whose name and notes hold control characters, put there by raw SQL."""
    cid = add()
    crm.ok("log", cid, "电话")
    with sqlite3.connect(isolated_env) as conn:
        conn.execute(
            "UPDATE customers SET name = ?, notes = ?, contact = ? WHERE id = ?",
            (NASTY, "备注\x1b[31m", "=HYPERLINK(1)", cid),
        )
        conn.execute("UPDATE followups SET content = ?", ("跟进\x1b[8m",))
    return cid


RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def _no_raw(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text)


def test_show_list_history_print_stored_controls_escaped(crm, stored: str) -> None:
    for args in (
        ("show", stored),
        ("list",),
        ("history", stored),
        ("search", "恶意"),
        ("stale", "--before", "2030-01-01"),
    ):
        out = crm.ok(*args)
        _no_raw(out)
        if args[:3] == ("report", "pivot", "owner"):
            assert "张\\x1b[2J经理" in out
    out = crm.ok("show", stored)
    assert "\\x1b]0;owned\\x07" in out and "\\u202e" in out
    assert "跟进\\x1b[8m" in crm.ok("history", stored)


def test_messages_print_stored_controls_escaped(crm, stored: str) -> None:
    result = crm("status", stored, "intent")
    assert result.exit_code == 0
    _no_raw(result.stdout + result.stderr)
    assert "\\x1b" in result.stdout
    result = crm("log", stored, "再次电话")
    _no_raw(result.stdout + result.stderr)
    result = crm("delete", stored, "--yes")
    _no_raw(result.stdout + result.stderr)
    assert "\\u202e" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_listings_escape_stored_controls_and_keep_the_value(crm, stored: str, fmt: str) -> None:
    for args in (
        ("list",),
        ("search", "恶意"),
        ("stale", "--before", "2030-01-01"),
        ("history", stored),
        ("show", stored),
    ):
        out = crm.ok(*args, "--format", fmt)
        _no_raw(out)
        if args[0] == "list":
            first = json.loads(out)[0] if fmt == "json" else json.loads(out.splitlines()[0])
            assert first["name"] == NASTY


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_listings_carry_no_raw_control_characters(crm, stored: str, fmt: str, tmp_path: Path) -> None:
    for args in (("list",), ("search", "恶意"), ("stale", "--before", "2030-01-01"), ("today",), ("history", stored)):
        _no_raw(crm.ok(*args, "--format", fmt))
    out = tmp_path / f"x.{fmt}"
    crm.ok("export", "-o", str(out))
    _no_raw(out.read_text(encoding="utf-8"))


def test_report_labels_print_stored_controls_escaped(crm, stored: str, isolated_env: Path) -> None:
    with sqlite3.connect(isolated_env) as conn:
        conn.execute("UPDATE customers SET owner = ?", ("张\x1b[2J经理",))
    for args in (("report", "pivot", "owner"), ("report", "pivot", "owner", "--format", "csv"), ("report", "activity")):
        out = crm.ok(*args)
        _no_raw(out)
        if args[:3] == ("report", "pivot", "owner"):
            assert "张\\x1b[2J经理" in out
