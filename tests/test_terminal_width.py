"""Listings and help at a real terminal's width: 80 and 200 columns through a pseudo-terminal
(the width comes from the terminal, TIOCSWINSZ, not from COLUMNS), in English and Chinese."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from .conftest import ROOT, add_args
from .ptyrun import run_on_pty, terminal_env

ID = re.compile(r"XS\d{7}")

LONG = [
    dict(name="上海明达精密机械制造股份有限公司华东销售分公司", owner="张经理", status="intent", amount="1295000",
         needs="采购一批办公设备和打印机，并要求三年上门维保服务以及年度培训", first_contact="2024-01-05",
         notes="决策周期长，节假日避免打扰"),
    dict(name="Hangzhou Cloud Technology Company Limited (Binjiang District Branch)", owner="李娜",
         status="active", amount="380000.5", first_contact="2024-05-20", phone="13912345678", industry="it_internet"),
    dict(name="北京华康医疗器械公司", owner="王磊", status="paused", amount="86000", first_contact="2023-12-01",
         phone="13712345678", industry="healthcare"),
]


@pytest.fixture
def seeded(crm, isolated_env):
    ids = [crm.ok(*add_args(**values)).strip() for values in LONG]
    for cid in ids:
        crm.ok("log", ids[0] if cid == ids[0] else cid, "电话沟通，客户希望下周再谈价格与交付时间", "--next", "带报价上门拜访总经理",
               "--next-date", "2024-06-20", "--date", "2024-06-01")
    return ids


def _expected(crm, ids):
    rows = json.loads(crm.ok("list", "--format", "json"))
    out = set(ids)
    for r in rows:
        out |= {r["last_followup"], r["owner"]}
        out.add(f"{r['amount']:.2f}" if r["amount"] is not None else "")
    return out - {""}


def _assert_whole(shown: str, values: set[str], columns: int) -> None:
    """Each of ``values`` is on one line, whole; and nothing is wider than the terminal."""
    lines = shown.splitlines()
    from rich.cells import cell_len

    too_long = [line for line in lines if cell_len(line.rstrip()) > columns]
    assert not too_long, too_long
    split = [v for v in values if not any(v in line for line in lines)]
    assert not split, (split, shown)


def _assert_no_fragments(shown: str, amounts: set[str]) -> None:
    """Whatever looks like an ID, a date or an amount is a whole one (a split one would leave a
    fragment such as ``XS2024`` / ``001`` or ``1,295,00`` / ``0.00`` on two lines)."""
    for token in re.findall(r"XS\d+", shown):
        assert ID.fullmatch(token), (token, shown)
    for token in re.findall(r"(?<![\d*])\d{4}-[\d-]*", shown):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", token), (token, shown)
    for token in re.findall(r"(?<![\d*-])\d+\.\d*", shown):
        assert token in amounts, (token, shown)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("columns", [80, 200])
def test_list_fits_the_terminal_without_splitting_values(crm, seeded, isolated_env, lang, columns):
    env = terminal_env(isolated_env, CRM_TODAY="2024-06-15", CRM_LANG=lang)
    code, shown, err = run_on_pty(["list"], columns=columns, env=env)
    assert code == 0, err
    values = _expected(crm, seeded)
    # IDs, statuses and owners are always shown, whole; dates and amounts whole where shown.
    status = {"en": ["Intent", "Active", "Paused"], "zh": ["意向客户", "合作中", "暂停合作"]}[lang]
    _assert_whole(shown, set(seeded) | set(status) | {"张经理", "李娜", "王磊"}, columns)
    _assert_no_fragments(shown, values)
    if columns == 200:
        _assert_whole(shown, values, columns)
    if columns == 80:
        hidden = {"en": "columns hidden; --columns or a wider terminal", "zh": "隐藏了"}[lang]
        assert hidden in err
        assert "…" in shown  # long names are cut with an ellipsis, not wrapped
        assert len([line for line in shown.splitlines() if ID.search(line)]) == 3  # one line a customer
    else:
        assert "hidden" not in err and "隐藏" not in err
        assert "上海明达精密机械制造股份有限公司华东销售分公司" in shown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_wide_shows_every_column_and_wraps_long_text(crm, seeded, isolated_env, lang):
    env = terminal_env(isolated_env, CRM_TODAY="2024-06-15", CRM_LANG=lang)
    code, shown, err = run_on_pty(["list", "--wide", "-c", "id,name,needs,status,amount"], columns=80, env=env)
    assert code == 0, err
    assert "hidden" not in err and "隐藏" not in err
    _assert_whole(shown, set(seeded) | {"1295000.00", "380000.50"}, 80)
    assert "…" not in shown
    # The long name wrapped within its column: its pieces are all there, on several lines.
    joined = "".join(line.split("   ")[1].strip() for line in shown.splitlines() if line.startswith(("XS", " ")) and "   " in line)
    assert "上海明达精密机械" in joined


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("argv", [
    ["today", "--ahead", "30"], ["stale", "--days", "1"], ["search", "公司"], ["report", "pivot", "owner", "--sum", "amount"],
    ["history", "FIRST"],
])
def test_other_listings_fit_too(crm, seeded, isolated_env, lang, columns, argv):
    argv = [seeded[0] if a == "FIRST" else a for a in argv]
    env = terminal_env(isolated_env, CRM_TODAY="2024-06-15", CRM_LANG=lang)
    code, shown, err = run_on_pty(argv, columns=columns, env=env)
    assert code == 0, err
    from rich.cells import cell_len

    assert all(cell_len(line.rstrip()) <= columns for line in shown.splitlines()), shown
    for token in re.findall(r"XS\d+", shown):
        assert ID.fullmatch(token), (token, shown)
    for token in re.findall(r"(?<![\d*])\d{4}-[\d-]*", shown):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", token), (token, shown)
    for token in re.findall(r"\d[\d,]*\.\d+", shown):
        assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}|\d+\.\d{2}|\d+\.\d", token), (token, shown)
    if argv[0] in ("today", "stale", "search"):
        assert set(ID.findall(shown)) <= set(seeded) and ID.findall(shown)


HELP_WALK = r"""
import json, sys
lang = sys.argv[1]
sys.argv = ["crm", "--lang", lang]  # help texts are chosen from argv at import time
import typer.main
from typer.testing import CliRunner
from crmcli.cli import app
root = typer.main.get_command(app)
paths = [[]]
for name, cmd in root.commands.items():
    paths.append([name])
    for sub in getattr(cmd, "commands", {}):
        paths.append([name, sub])
out = {}
runner = CliRunner()
for path in paths:
    result = runner.invoke(app, ["--lang", lang, *path, "--help"])
    out[" ".join(path)] = [result.exit_code, result.output]
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_help_is_complete_at_80_columns(lang, tmp_path):
    env = terminal_env(tmp_path / "h.db", COLUMNS="80", CRM_LANG=lang)
    env.pop("TERMINAL_WIDTH", None)
    env["_TYPER_FORCE_DISABLE_TERMINAL"] = "1"
    result = subprocess.run([sys.executable, "-c", HELP_WALK, lang], capture_output=True, text=True, env=env,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    helps = json.loads(result.stdout)
    assert len(helps) > 40
    from rich.cells import cell_len

    cut = {}
    for path, (code, text) in helps.items():
        assert code == 0, (path, text)
        assert "Usage" in text or "用法" in text, path
        lines = text.splitlines()
        assert all(cell_len(line) <= 80 for line in lines), (path, text)
        bad = [line for line in lines if re.search(r"…\s*│?\s*$", line)]
        if bad:
            cut[path] = bad
    assert not cut, cut
    if lang == "zh":
        assert "导入文件" in helps["import file"][1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_root_help_on_a_real_80_column_terminal(lang, tmp_path):
    env = terminal_env(tmp_path / "h.db", CRM_LANG=lang)
    code, shown, _ = run_on_pty(["--lang", lang, "import", "file", "--help"], columns=80, env=env)
    assert code == 0
    assert not [line for line in shown.splitlines() if re.search(r"…\s*│?\s*$", line)], shown
