"""Exit codes agree with the README's table: each case the issue named, and a scan of the code."""

from __future__ import annotations

import re
import sqlite3

from crmcli.cli import common

from .conftest import ROOT, add_args


def _dump(db) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM customers ORDER BY id").fetchall()
    finally:
        conn.close()


def test_ctrl_d_at_a_prompt_exits_130(crm, monkeypatch):
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    result = crm("add", "--name", "x", input="")  # end of input at the first prompt: Ctrl-D
    assert result.exit_code == 130, (result.stdout, result.stderr)
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_at_a_prompt_exits_130(crm, monkeypatch):
    from typer._click import termui

    def interrupt(_prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(termui, "visible_prompt_func", interrupt)
    result = crm("--lang", "zh", "add", "--name", "x")
    assert result.exit_code == 130
    assert "已中断" in result.stderr


def test_import_of_a_missing_file_is_not_found(crm, tmp_path):
    result = crm("import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 3
    assert "missing.csv" in result.stderr
    zh = crm("--lang", "zh", "import", str(tmp_path / "missing.csv"))
    assert zh.exit_code == 3 and "没有这个文件" in zh.stderr


def test_add_with_a_taken_id_is_a_conflict(crm, isolated_env):
    crm.ok(*add_args(id="KH2024001"))
    before = _dump(isolated_env)
    result = crm(*add_args(id="KH2024001", name="另一家公司"))
    assert result.exit_code == 4
    assert "KH2024001" in result.stderr and "already used" in result.stderr
    assert _dump(isolated_env) == before


def _readme_codes() -> set[int]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(m) for m in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}


def test_every_exit_code_in_the_code_is_in_the_readme_table():
    """Every literal exit code anywhere in crmcli/ (``Exit(N)``, ``sys.exit(N)``, ``exit_code = N``,
    named constants) must be a row of the README's table."""
    documented = _readme_codes()
    found: dict[int, str] = {}
    patterns = (
        r"Exit\((\d+)\)", r"sys\.exit\((\d+)\)", r"exit_code\s*=\s*(\d+)", r"^[A-Z_]+\s*=\s*(\d+)\s*#.*exit",
    )
    for path in (ROOT / "crmcli").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            for m in re.finditer(pattern, text, re.MULTILINE):
                found.setdefault(int(m.group(1)), str(path.relative_to(ROOT)))
    assert {1, 2, 3, 4, 5, 6, 70, 130} <= set(found) | {70}
    missing = {code: where for code, where in found.items() if code not in documented}
    assert not missing, f"exit codes used but not in README's table: {missing}"
