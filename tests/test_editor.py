"""crm edit ID without options: the record as YAML in $EDITOR, saved only if nobody changed it meanwhile."""

from __future__ import annotations

import json
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest

from crmcli import editing
from crmcli.options import OptionSet
from crmcli.storage import open_store


def _editor(tmp_path: Path, body: str, name: str = "editor.py") -> str:
    """An $EDITOR: a Python script given the file path as its last argument."""
    script = tmp_path / name
    script.write_text(
        "import os, re, subprocess, sys\npath = sys.argv[-1]\ntext = open(path, encoding='utf-8').read()\n"
        + textwrap.dedent(body)
        + "\nopen(path, 'w', encoding='utf-8').write(text)\n",
        encoding="utf-8",
    )
    return f"{sys.executable} {script}"


def _set(key: str, value: str) -> str:
    return f"text = re.sub(r'(?m)^{key}:.*$', lambda m: {f'{key}: {value}'!r}, text)\n"


def _record(db: Path, customer_id: str) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone())
    conn.close()
    return row


def _options(db: Path) -> OptionSet:
    with open_store(db) as store:
        return OptionSet.load(store.conn)


# ---------------------------------------------------------------------------- the document


def test_document_round_trips_every_value_as_text(isolated_env: Path, add) -> None:
    customer_id = add(notes="line one\n# not a comment\nkey: value - x", product="no", title="013")
    record = _record(isolated_env, customer_id)
    opts = _options(isolated_env)
    text = editing.render(record, opts, "en")
    assert "138****5678" in text and "13812345678" not in text  # masked in the temporary file too
    assert "# Status *: Potential / Intent / Active / Paused / Lost" in text
    parsed = editing.parse(text)
    assert parsed == editing.values_for(record, opts, "en")
    assert parsed["notes"] == "line one\n# not a comment\nkey: value - x"
    assert parsed["product"] == "no" and parsed["title"] == "013"  # YAML 1.1 would make False and 11
    assert editing.diff(editing.values_for(record, opts, "en"), parsed) == {}


def test_document_in_chinese_shows_labels(isolated_env: Path, add) -> None:
    customer_id = add()
    text = editing.render(_record(isolated_env, customer_id), _options(isolated_env), "zh")
    assert "source: 行业展会" in text
    assert "# 合作状态 *: 潜在客户 / 意向客户 / 合作中 / 暂停合作 / 流失客户" in text


def test_parse_and_diff() -> None:
    assert editing.parse("# only comments\n") is None
    assert editing.parse("") is None
    assert editing.parse("name: x  # trailing comment\nnotes:\n") == {"name": "x", "notes": ""}
    before = {"name": "A", "notes": "n", "amount": "1.00"}
    assert editing.diff(before, {"name": "A ", "notes": "", "amount": "2"}) == {"notes": None, "amount": "2"}
    for bad, word in (
        ("name: [a, b]", "list"),
        ("nonsense: 1", "not a field"),
        ("version: 9", "cannot be changed"),
        ("id: XS1", "cannot be changed"),
        ("- just a list", "field: value"),
        ("name: 'unclosed", "not valid YAML"),
    ):
        with pytest.raises(Exception, match=word):
            editing.parse(bad)


def test_editor_command_parsing() -> None:
    assert editing.editor_command({"EDITOR": "code --wait"}) == ["code", "--wait"]
    assert editing.editor_command({"VISUAL": "vim", "EDITOR": "nano"}) == ["vim"]
    with pytest.raises(Exception, match=r"\$EDITOR"):
        editing.editor_command({})


# ---------------------------------------------------------------------------- the command


def test_edit_in_editor_saves_changed_fields_with_audit(crm, add, isolated_env: Path, tmp_path, monkeypatch) -> None:
    customer_id = add()
    before = _record(isolated_env, customer_id)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, _set("status", "合作中") + _set("amount", "12,000.5")
                                          + _set("notes", "|\n  两行\n  备注")))
    out = crm.ok("edit", customer_id)
    assert "status" in out and "amount" in out and "notes" in out
    after = _record(isolated_env, customer_id)
    assert (after["status"], after["amount"], after["notes"]) == ("active", 1200050, "两行\n备注")
    assert after["phone"] == before["phone"] == "13812345678"  # the masked phone was left alone
    assert after["version"] == before["version"] + 1
    audit = sqlite3.connect(isolated_env).execute(
        "SELECT field, command FROM audit_log WHERE customer_id = ? AND field != '*' ORDER BY field", (customer_id,)
    ).fetchall()
    assert audit == [("amount", "edit"), ("notes", "edit"), ("status", "edit")]


def test_edit_in_editor_unchanged_and_cancel(crm, add, isolated_env: Path, tmp_path, monkeypatch) -> None:
    customer_id = add()
    version = _record(isolated_env, customer_id)["version"]
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "pass"))
    assert "nothing changed" in crm.ok("edit", customer_id)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "text = ''", "empty.py"))
    result = crm("edit", customer_id)
    assert result.exit_code == 1 and "Aborted" in result.stderr
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "sys.exit(3)", "fail.py"))
    result = crm("edit", customer_id)
    assert result.exit_code == 2 and "nothing was saved" in result.stderr
    assert _record(isolated_env, customer_id)["version"] == version


def test_edit_in_editor_temp_file_is_private_and_removed(crm, add, tmp_path, monkeypatch) -> None:
    customer_id = add()
    seen = tmp_path / "seen.json"
    body = f"import json\nopen({str(seen)!r}, 'w').write(json.dumps([path, os.stat(path).st_mode & 0o777]))"
    monkeypatch.setenv("EDITOR", _editor(tmp_path, body))
    crm.ok("edit", customer_id)
    path, mode = json.loads(seen.read_text())
    assert mode == 0o600
    assert path.endswith(".yaml") and not Path(path).exists()


def test_edit_in_editor_refuses_invalid_values(crm, add, isolated_env: Path, tmp_path, monkeypatch) -> None:
    customer_id = add()
    before = _record(isolated_env, customer_id)
    for body, word in (
        (_set("amount", "lots") + _set("notes", "kept?"), "amount"),
        (_set("status", "unknown-status"), "status"),
        (_set("contact", ""), "contact"),
        (_set("phone", "139****0000"), "phone"),
        ("text += '\\nbogus: 1\\n'", "bogus"),
        ("text = text.replace('name:', 'name: [', 1)", "YAML"),
    ):
        monkeypatch.setenv("EDITOR", _editor(tmp_path, body))
        result = crm("edit", customer_id)
        assert result.exit_code == 2, (body, result.stderr)
        assert word in result.stderr and "Traceback" not in result.stderr
    assert _record(isolated_env, customer_id) == before


def test_edit_in_editor_clears_optional_and_changes_phone(crm, add, isolated_env: Path, tmp_path, monkeypatch) -> None:
    customer_id = add(notes="old note")
    monkeypatch.setenv("EDITOR", _editor(tmp_path, _set("notes", "") + _set("phone", "+86 139 1234 5678")))
    crm.ok("edit", customer_id)
    after = _record(isolated_env, customer_id)
    assert after["notes"] is None and after["phone"].endswith("13912345678")


def test_concurrent_change_is_refused_showing_the_fields(crm, add, isolated_env: Path, tmp_path, monkeypatch) -> None:
    """Someone else changes the customer while the editor is open: our save is refused, theirs kept."""
    customer_id = add()
    other = (
        f"subprocess.run([sys.executable, '-m', 'crmcli', 'edit', {customer_id!r}, '--status', 'lost',"
        " '--owner', '李娜'], check=True, capture_output=True)\n"
    )
    monkeypatch.setenv("EDITOR", _editor(tmp_path, other + _set("status", "active") + _set("amount", "500")))
    result = crm("edit", customer_id)
    assert result.exit_code == 4, result.stderr
    message = result.stderr
    assert "changed by someone else" in message and "version 1 → 2" in message
    assert "status (Potential → Lost)" in message and "owner (张经理 → 李娜)" in message
    assert "Both of you changed: status" in message and "amount: 500" in message
    after = _record(isolated_env, customer_id)
    assert (after["status"], after["owner"], after["amount"]) == ("lost", "李娜", None)


def test_field_options_still_edit_without_editor(crm, add, monkeypatch) -> None:
    customer_id = add()
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    assert "status" in crm.ok("edit", customer_id, "--status", "active")
