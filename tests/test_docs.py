"""The README documents every command: a command missing from it fails here."""

from __future__ import annotations

import re

import typer.main

from crmcli.cli import app

from .conftest import ROOT


def _command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        paths.append(name)
        for sub in getattr(command, "commands", {}):
            paths.append(f"{name} {sub}")
    return paths


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [path for path in _command_paths() if not re.search(rf"crm {re.escape(path)}\b", readme)]
    assert not missing, f"commands not shown in README.md: {missing}"


def test_every_command_has_help():
    root = typer.main.get_command(app)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        for sub_name, sub in getattr(command, "commands", {}).items():
            assert sub.help, f"{name} {sub_name}"


def test_every_exit_code_is_documented():
    from crmcli import errors

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    codes = {cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and hasattr(cls, "exit_code")}
    for code in sorted(codes | {0, 1, 70, 130}):
        assert re.search(rf"^\| {code} \|", readme, re.MULTILINE), code
