from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmcli.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own database and a fixed, English, colourless environment."""
    db = tmp_path / "crm.db"
    monkeypatch.setenv("CRM_DB", str(db))
    monkeypatch.setenv("CRM_LANG", "en")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERMINAL_WIDTH", "200")
    monkeypatch.setenv("_TYPER_FORCE_DISABLE_TERMINAL", "1")
    monkeypatch.setenv("CRM_TODAY", "2024-06-15")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    # The per-user config file lives in tmp_path too: no test reads or writes a real home.
    monkeypatch.setenv("CRM_CONFIG", str(tmp_path / "user-config.toml"))
    # A known user in that file, so commands that record who acts do not add the "no user name"
    # note to the messages tests compare (tests/test_userconfig.py removes it to test the note).
    (tmp_path / "user-config.toml").write_text('user = "测试员"\n', encoding="utf-8")
    for var in ("CRM_USER", "CRM_PHONE_REGION"):
        monkeypatch.delenv(var, raising=False)
    return db


class Crm:
    """Runs ``crm`` in-process; ``ok`` asserts success and returns stdout."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result.stdout

    def json(self, *args: str) -> object:
        return json.loads(self.ok(*args, "--format", "json"))


@pytest.fixture
def empty_db(isolated_env: Path) -> Path:
    """An existing, empty database at CRM_DB: reads on a missing one fail with exit 3."""
    from crmcli.storage import open_store

    open_store(isolated_env).close()
    return isolated_env


@pytest.fixture
def crm() -> Crm:
    return Crm()


BASE = {
    "--name": "上海明达制造有限公司",
    "--contact": "王强",
    "--phone": "13812345678",
    "--source": "行业展会",
    "--needs": "采购办公设备",
    "--owner": "张经理",
}


def add_args(**overrides: str) -> list[str]:
    values = dict(BASE)
    for key, value in overrides.items():
        values["--" + key.replace("_", "-")] = value
    args = ["add", "-q"]
    for flag, value in values.items():
        if value is not None:
            args += [flag, value]
    return args


@pytest.fixture
def add(crm: Crm):
    def _add(**overrides: str) -> str:
        return crm.ok(*add_args(**overrides)).strip()

    return _add


def subprocess_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(CRM_DB=str(db), **extra)
    return env


PYTHON = sys.executable
