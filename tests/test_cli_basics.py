"""Entry points, --version, --help, completion, error handling."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

from crmcli import __version__
from crmcli.cli import common

from .conftest import add_args, subprocess_env


def test_version(crm):
    assert crm.ok("--version").strip() == f"crm {__version__}"


def test_python_dash_m_runs_the_same_app(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "crmcli", "--version"], capture_output=True, text=True, timeout=30,
        env=subprocess_env(tmp_path / "x.db"),
    )
    assert result.returncode == 0 and result.stdout.strip() == f"crm {__version__}"


def test_help_lists_commands(crm):
    out = crm.ok("--help")
    for command in ("add", "show", "edit", "list", "search", "delete", "options", "config", "demo"):
        assert command in out


def test_chinese_help(crm, monkeypatch):
    # Help texts are chosen at start-up from argv and the environment: check in a real process.
    result = subprocess.run(
        [sys.executable, "-m", "crmcli", "--lang", "zh", "add", "--help"], capture_output=True, text=True,
        timeout=30, env=subprocess_env(common.Path("/nonexistent/x.db"), TERMINAL_WIDTH="200"),
    )
    assert result.returncode == 0
    assert "添加客户" in result.stdout and "联系人姓名" in result.stdout


def _ctx(db=None):
    return SimpleNamespace(find_root=lambda: SimpleNamespace(params={"db": db}))


def test_completion_of_customer_ids_and_options(crm):
    first = crm.ok(*add_args()).strip()
    crm.ok(*add_args(phone="13900000000", name="第二家"))
    completions = common.complete_ids(_ctx(), first[:3])
    assert [c[0] for c in completions][:1] == [first]
    assert completions[0][1] == "上海明达制造有限公司"
    assert common.complete_ids(_ctx(), "ZZ") == []
    status = common.option_completer("status")(_ctx(), "")
    assert [c[0] for c in status] == ["potential", "intent", "active", "paused", "lost"]
    assert [c[0] for c in common.option_completer("source")(_ctx(), "线上")] == ["online"]


def test_completion_never_raises_on_a_broken_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    assert common.complete_ids(_ctx(str(bad)), "XS") == []


def test_errors_have_no_traceback_unless_debug(crm):
    result = crm("show", "NOPE1")
    assert result.exit_code == 3 and "Traceback" not in result.stderr
    import pytest

    from crmcli.errors import NotFound

    with pytest.raises(NotFound):
        crm("--debug", "show", "NOPE1")


def test_unknown_format_is_a_usage_error(crm, empty_db):
    result = crm("list", "--format", "xml")
    assert result.exit_code == 2 and "xml" in result.stderr


def test_invoked_command_skips_global_options():
    from crmcli.cli.app import invoked_command

    assert invoked_command(["--db", "x.db", "--lang", "zh", "stale", "--days", "3"]) == "stale"
    assert invoked_command(["--debug", "report", "pivot"]) == "report"
    assert invoked_command(["--help"]) is None


def test_only_the_invoked_command_is_built_and_it_still_runs(tmp_path):
    import typer

    from crmcli.cli.app import only_invoked

    demo = typer.Typer()

    @demo.callback()
    def root() -> None:
        pass

    @demo.command("list")
    def list_() -> None:
        pass

    @demo.command()
    def show_customer() -> None:
        pass

    only_invoked(demo, ["show-customer"])
    assert [c.callback.__name__ for c in demo.registered_commands] == ["show_customer"]
    only_invoked(demo, ["nothing-like-it"])
    assert len(demo.registered_commands) == 1
    env = subprocess_env(tmp_path / "p.db")
    from crmcli.storage import open_store

    for db in ("p.db", "q.db"):
        open_store(tmp_path / db).close()
    for argv in (["--db", str(tmp_path / "q.db"), "stale"], ["list", "--format", "ids"], ["report", "funnel", "--format", "json"]):
        result = subprocess.run([sys.executable, "-m", "crmcli", *argv], capture_output=True, text=True, timeout=30, env=env)
        assert result.returncode == 0, (argv, result.stderr)
