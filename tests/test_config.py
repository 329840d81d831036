"""crm config: every shared setting checked at `config set`, `config unset`, and stored invalid
values falling back to the default with a warning (#10.17)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crmcli.config import SETTINGS
from crmcli.storage import open_store

from .conftest import add_args

# Rows of the shared settings (the config table also holds crm's own keys, such as db-id).
SETTINGS_ROWS = f"SELECT count(*) FROM config WHERE key IN ({', '.join(repr(k) for k in SETTINGS)})"

REFUSED = [
    ("stale-months", "99999"),
    ("stale-months", "0"),
    ("stale-months", "121"),
    ("stale-months", "-1"),
    ("stale-months", "３"),
    ("stale-months", "soon"),
    ("priority-inactive", "nan"),
    ("priority-inactive", "inf"),
    ("priority-inactive", "1e308"),
    ("priority-inactive", "-1"),
    ("priority-due", "1e400"),
    ("priority-due", "9" * 5000),
    ("priority-status", "intent=1e308"),
    ("priority-status", "foo=1"),
    ("priority-status", "intent=nan"),
    ("priority-status", "intent"),
    ("priority-status", "intent=1,intent=2"),
    ("priority-status", ","),
    ("priority-grade", "A=nan"),
    ("priority-grade", "D=1"),
    ("grade-rule", "followups:A>=nan,C"),
    ("grade-rule", "followups:A>=1e400,C"),
    ("id-prefix", "X1"),
    ("user", "x" * 65),
]


@pytest.mark.parametrize(("key", "value"), REFUSED)
def test_config_set_refuses_bad_values_naming_setting_and_value(crm, isolated_env: Path, key: str, value: str):
    open_store(isolated_env).close()  # the database exists (a read would not create it)
    result = crm("config", "set", "--", key, value)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    line = result.stderr.strip()
    assert key in line and "\n" not in line and len(line) < 300
    assert value[:10] in line or value.strip() == ","
    assert sqlite3.connect(isolated_env).execute(SETTINGS_ROWS).fetchone() == (0,)


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("stale-months", "120", "120"),
        ("stale-months", " 6 ", "6"),
        ("priority-status", "Intent=10, lost=0", "intent=10,lost=0"),
        ("priority-grade", "a=5,none=1", "A=5,NONE=1"),
        ("priority-due", "1000", "1000"),
        ("priority-inactive", "0.5", "0.5"),
    ],
)
def test_config_set_accepts_and_normalises(crm, key: str, value: str, stored: str):
    result = crm("config", "set", key, value)  # the confirmation is a message: stderr
    assert result.exit_code == 0 and result.stdout == "" and result.stderr.strip() == f"{key} = {stored}"
    assert crm.ok("config", "get", key).strip() == stored


def test_a_custom_status_code_is_a_known_key(crm):
    crm.ok("options", "add", "status", "vip", "--zh", "贵宾", "--en", "VIP")
    crm.ok("config", "set", "priority-status", "vip=9")


def test_config_unset_restores_the_default(crm, isolated_env: Path):
    crm.ok("config", "set", "stale-months", "6")
    assert crm("config", "unset", "stale-months").stderr.strip() == "stale-months = 3 (the default)"
    assert crm.ok("config", "get", "stale-months").strip() == "3"
    assert sqlite3.connect(isolated_env).execute(SETTINGS_ROWS).fetchone() == (0,)
    again = crm("config", "unset", "stale-months")
    assert again.exit_code == 0 and "was not set" in again.stderr
    bad = crm("config", "unset", "nope")
    assert bad.exit_code == 2 and "unknown setting" in bad.stderr


def test_config_unset_in_chinese(crm):
    crm.ok("config", "set", "stale-months", "6")
    assert "默认值" in crm("--lang", "zh", "config", "unset", "stale-months").stderr
    result = crm("--lang", "zh", "config", "set", "stale-months", "99999")
    assert result.exit_code == 2 and "整数月数" in result.stderr


STORED_BAD = [
    ("stale-months", "99999"),
    ("stale-months", "x"),
    ("priority-inactive", "nan"),
    ("priority-due", "1e400"),
    ("priority-status", "intent=1e308"),
    ("priority-status", "foo=1"),
    ("priority-grade", "A=nan"),
    ("grade-rule", "nonsense"),
    ("id-prefix", "x-1"),
]


@pytest.mark.parametrize(("key", "value"), STORED_BAD)
def test_a_setting_stored_invalid_falls_back_to_the_default_with_a_warning(
    crm, add, isolated_env: Path, key: str, value: str
):
    add()
    conn = sqlite3.connect(isolated_env)
    conn.execute("INSERT INTO config (key, value) VALUES (?, ?)", (key, value))
    conn.commit()
    for args in (["stale"], ["today"], ["list"], ["grade", "--recompute", "--dry-run"], list(add_args(phone="13900000000"))):
        result = crm(*args)
        assert result.exit_code in (0, 1), (args, result.exit_code, result.stderr)
        reader = {"stale-months": "stale", "grade-rule": "grade", "id-prefix": "add"}.get(key, "today")
        if args[0] == reader:
            assert f"stored setting {key}" in result.stderr, (args, result.stderr)
    default = crm.ok("config", "get", key).strip()
    from crmcli import config

    assert default == config.SETTINGS[key].default
    assert f"{key} = {config.SETTINGS[key].default}" in crm.ok("config", "list")
    crm.ok("config", "unset", key)
    assert "warning" not in crm("stale").stderr


def test_a_stored_value_is_read_normalised(crm, add, isolated_env: Path):
    open_store(isolated_env).close()
    conn = sqlite3.connect(isolated_env)
    conn.execute("INSERT INTO config (key, value) VALUES ('id-prefix', ' kh ')")
    conn.commit()
    assert add().startswith("KH")
