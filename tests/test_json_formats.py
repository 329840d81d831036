"""--format json on status, log, edit, backup list and report monthly (issue 12, item 6): stdout
holds only the JSON, messages go to stderr, phones stay masked unless --reveal (audited)."""

from __future__ import annotations

import json
from pathlib import Path

import pyrage


def _show(crm, customer_id: str) -> dict:
    return json.loads(crm.ok("show", customer_id, "--format", "json"))


def test_status_json_is_the_record_as_show_prints_it(crm, add):
    cid = add()
    result = crm("status", cid, "active", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert data == _show(crm, cid)
    assert data["status"] == "active" and data["phone"] == "138****5678"
    assert "→" in result.stderr and "13812345678" not in result.stdout + result.stderr


def test_status_json_several_ids_is_an_array(crm, add):
    a, b = add(), add(name="另一家公司", phone="13900001111")
    result = crm("status", a, b, "intent", "--yes", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [d["id"] for d in data] == [a, b] and {d["status"] for d in data} == {"intent"}


def test_log_json_and_reveal_is_audited(crm, add):
    cid = add()
    result = crm("log", cid, "打电话沟通", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["id"] == cid and data["last_followup"] == "2024-06-15" and data["phone"] == "138****5678"
    assert "Logged follow-up" in result.stderr
    result = crm("log", cid, "再次沟通", "--format", "json", "--reveal")
    assert json.loads(result.stdout)["phone"].endswith("12345678")
    history = crm.ok("history", cid, "--format", "json")
    assert "log --reveal" in history or "log --reveal" in json.dumps(json.loads(history), ensure_ascii=False)


def test_log_refuses_quiet_with_json(crm, add):
    cid = add()
    result = crm("log", cid, "x", "-q", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(crm.ok("history", cid, "--format", "json")) == [
        e for e in json.loads(crm.ok("history", cid, "--format", "json")) if e["type"] != "followup"
    ]


def test_edit_json_one_and_several(crm, add):
    a, b = add(), add(name="另一家公司", phone="13900001111")
    result = crm("edit", a, "--amount", "12000", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == _show(crm, a) and "Updated" in result.stderr
    result = crm("edit", a, b, "--owner", "李经理", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [d["owner"] for d in data] == ["李经理", "李经理"] and "Updated 2 of 2" in result.stderr


def test_edit_json_in_chinese_messages_on_stderr(crm, add):
    cid = add()
    result = crm("--lang", "zh", "edit", cid, "--amount", "1", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == cid and result.stderr.strip()


def test_edit_json_refusals(crm, add):
    cid = add()
    before = _show(crm, cid)
    assert crm("edit", cid, "--format", "json").exit_code == 2  # the $EDITOR path prints no JSON
    assert crm("edit", cid, "--amount", "1", "--format", "csv").exit_code == 2
    assert _show(crm, cid) == before


def test_backup_list_json(crm, add, tmp_path: Path):
    add()
    plain = Path(crm.ok("backup", str(tmp_path)).strip())
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    result = crm("backup", str(tmp_path), "--recipient", recipient)
    assert result.exit_code == 0, result.stderr
    result = crm("backup", "list", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [Path(d["path"]) for d in data][0] == plain and len(data) == 2
    assert set(data[0]) == {"path", "created", "size", "encrypted", "db-id"}
    assert [d["encrypted"] for d in data] == [False, True]
    assert data[0]["size"] == plain.stat().st_size
    assert data[0]["db-id"] and len(data[0]["db-id"]) == 16 and data[0]["db-id"] == data[1]["db-id"]
    assert data[0]["created"].endswith("Z") and data[0]["created"][:4].isdigit()
    assert json.loads(crm.ok("backup", "list", str(tmp_path / "none"), "-f", "json")) == []


def test_report_monthly_json(crm, add):
    cid = add(first_contact="2024-05-10")
    result = crm("report", "monthly", "--month", "2024-05", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["month"], data["start"], data["end"]) == ("2024-05", "2024-05-01", "2024-05-31")
    sections = {s["name"]: s for s in data["sections"]}
    assert "summary" in sections
    new = [s for s in data["sections"] if any(r.get("id") == cid for r in s["rows"])]
    assert new, data
    summary = {r["metric"]: r["value"] for r in sections["summary"]["rows"]}
    assert summary["new_customers"] == 1


def test_report_monthly_json_refuses_output_file(crm, add, tmp_path: Path):
    add()
    out = tmp_path / "r.md"
    result = crm("report", "monthly", "-o", str(out), "--format", "json")
    assert result.exit_code == 2 and not out.exists()
    result = crm("--lang", "zh", "report", "monthly", "-o", str(out), "--format", "json")
    assert "扩展名" in result.stderr
