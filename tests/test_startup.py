"""Start-up imports only what the invoked command needs (measured in bench/, asserted here by
which modules a real process imports, never by time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer.main

from crmcli.cli import app
from crmcli.cli.app import COMMANDS
from crmcli.cli.lazy import LazyTyper

from .conftest import subprocess_env

CLI_MODULES = {f"crmcli.cli.{spec.split(':')[0]}" for value in COMMANDS.values() for spec in value.split()}


PROBE = """
import atexit, json, runpy, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module("crmcli", run_name="__main__")
"""


def imported(tmp_path, *argv: str) -> set[str]:
    """The modules a real ``crm ARGV`` process has imported when it exits (stdout piped)."""
    env = subprocess_env(tmp_path / "crm.db", NO_COLOR="1", CRM_LANG="en")
    out = tmp_path / "modules.json"
    result = subprocess.run([sys.executable, "-c", PROBE, str(out), *argv], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return set(json.loads(out.read_text()))


@pytest.mark.parametrize(
    ("argv", "module"),
    [(["stale"], "crmcli.cli.followup_cmds"), (["list", "--limit", "1"], "crmcli.cli.customer_cmds"),
     (["report", "funnel", "--format", "json"], "crmcli.cli.report_cmds")],
)
def test_a_command_imports_only_its_own_cli_module(tmp_path, argv, module):
    from crmcli.storage import open_store

    open_store(tmp_path / "crm.db").close()  # reads need an existing database
    cli_modules = {m for m in imported(tmp_path, *argv) if m in CLI_MODULES}
    # customer_cmds is also the listing commands' shared helper (build_filters, the column list).
    assert module in cli_modules and cli_modules <= {module, "crmcli.cli.customer_cmds"}


def test_version_imports_no_command_module(tmp_path):
    assert not {m for m in imported(tmp_path, "--version") if m in CLI_MODULES}


@pytest.mark.parametrize("argv", [["list", "--limit", "1"], ["list"], ["stale"], ["search", "nobody"]])
def test_piped_listings_never_import_rich(tmp_path, argv):
    subprocess.run(  # one customer, so list draws a table
        [sys.executable, "-m", "crmcli", "add", "-q", "--name", "甲公司", "--contact", "王强", "--phone", "13812345678",
         "--source", "online", "--needs", "采购", "--owner", "张经理"],
        env=subprocess_env(tmp_path / "crm.db"), check=True, capture_output=True, timeout=60,
    )
    modules = imported(tmp_path, *argv)
    assert not any(m == "rich" or m.startswith("rich.") for m in modules)


def test_the_whole_tree_is_built_for_help():
    root = typer.main.get_command(app)
    assert set(COMMANDS) | {"demo"} == set(root.commands)  # type: ignore[attr-defined]


def test_a_new_command_is_one_line_in_the_table(monkeypatch):
    """A module with register(app), named in the table, is imported only when its command runs."""
    import types

    module = types.ModuleType("crmcli.cli.hello_cmds")

    def register(target: typer.Typer) -> None:
        @target.command("hello", help="Say hello.")
        def hello() -> None:
            typer.echo("hello")

    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crmcli.cli.hello_cmds", module)
    lazy = LazyTyper()

    @lazy.callback()
    def root() -> None:
        pass

    lazy.defer({"hello": "hello_cmds", "add": "customer_cmds"})
    lazy.load(["hello"])
    assert [c.name for c in lazy.registered_commands] == ["hello"]
    from typer.testing import CliRunner

    assert CliRunner().invoke(lazy, ["hello"]).output == "hello\n"
