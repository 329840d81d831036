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
    def pattern(path: str) -> str:  # a group's own options may stand between: crm config [--user] get
        return r"crm " + r"(?: \[--[\w-]+\])* ".join(re.escape(p) for p in path.split(" ")) + r"\b"

    missing = [path for path in _command_paths() if not re.search(pattern(path), readme)]
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


def test_the_command_reference_is_generated_and_up_to_date():
    """README's command reference is what `python -m crmcli.cli.docgen` writes; regenerate it
    with that command after adding or changing a command."""
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "CRM_LANG": "en", "LC_ALL": "C.UTF-8"}
    result = subprocess.run([sys.executable, "-m", "crmcli.cli.docgen", "--check"], capture_output=True, text=True,
                            env=env, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr or "README.md's command reference is out of date; run: python -m crmcli.cli.docgen"


def test_docgen_check_fails_naming_the_command_when_stale(tmp_path, monkeypatch):
    from crmcli.cli import docgen

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stale = readme.replace("| `crm demo` |", "| `crm demo-old` |")
    assert stale != readme
    assert docgen.updated(stale, docgen.render()) == readme
    fake = tmp_path / "README.md"
    fake.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(docgen, "README", fake)
    assert docgen.main(["--check"]) == 1
    assert fake.read_text(encoding="utf-8") == stale  # --check never writes
    assert docgen.main([]) == 0 and fake.read_text(encoding="utf-8") == readme
