"""Per-person settings in a per-user TOML file (crm config --user), overridable by CRM_* variables."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest
import tomllib
from hypothesis import given
from hypothesis import strategies as st

from crmcli import userconfig

from .conftest import add_args


def _config_path():
    return userconfig.path()


def test_conftest_points_the_file_into_tmp_path(tmp_path):
    assert userconfig.path() == tmp_path / "user-config.toml"
    assert not userconfig.path().exists()


@pytest.fixture(autouse=True)
def no_user_file(tmp_path):
    (tmp_path / "user-config.toml").unlink(missing_ok=True)  # conftest's test user


def test_set_get_unset_list(crm):
    crm.ok("config", "--user", "set", "user", "张经理")
    crm.ok("config", "--user", "set", "phone-region", "us")
    assert crm.ok("config", "--user", "get", "user") == "张经理\n"
    assert crm.ok("config", "--user", "get", "phone-region") == "US\n"
    text = _config_path().read_text(encoding="utf-8")
    assert tomllib.loads(text) == {"user": "张经理", "phone-region": "US"}
    assert stat.S_IMODE(os.stat(_config_path()).st_mode) == 0o600
    listed = {r["key"]: r for r in json.loads(crm.ok("config", "--user", "list", "--format", "json"))}
    assert listed["user"] == {"key": "user", "value": "张经理", "from": "file"}
    assert listed["db"]["from"] == "CRM_DB"  # conftest sets CRM_DB: the variable wins
    unset = crm("config", "--user", "unset", "user")
    assert unset.exit_code == 0 and "removed" in unset.stderr
    assert crm("config", "--user", "get", "user").exit_code == 3
    assert "not set" in crm("config", "--user", "unset", "user").stderr


def test_the_user_name_is_per_person_and_env_overrides_it(crm, isolated_env, monkeypatch):
    crm.ok("config", "--user", "set", "user", "李娜")
    first = crm.ok(*add_args(owner=None)).strip()
    monkeypatch.setenv("CRM_USER", "王磊")
    second = crm.ok(*add_args(owner=None, phone="13912345678")).strip()
    conn = sqlite3.connect(isolated_env)
    owners = dict(conn.execute("SELECT id, owner FROM customers").fetchall())
    assert owners == {first: "李娜", second: "王磊"}
    who = {r[0] for r in conn.execute("SELECT DISTINCT \"by\" FROM audit_log")}
    assert who == {"李娜", "王磊"}


def test_no_user_name_is_said_once_and_the_login_is_used(crm, isolated_env):
    import getpass

    result = crm(*add_args(owner=None))
    assert result.exit_code == 0
    assert result.stderr.count("no user name is set") == 1
    assert "crm config --user set user 张经理" in result.stderr
    assert getpass.getuser() in result.stderr
    owner = sqlite3.connect(isolated_env).execute("SELECT owner FROM customers").fetchone()[0]
    assert owner == getpass.getuser()
    # Reading commands that do not record who acts say nothing.
    assert "no user name" not in crm("list").stderr
    crm.ok("config", "--user", "set", "user", "张经理")
    assert "no user name" not in crm(*add_args(owner=None, phone="13912345678")).stderr


def test_shared_user_setting_is_refused_and_pointed_at_the_user_file(crm, empty_db):
    isolated_env = empty_db
    before = sqlite3.connect(isolated_env).execute("SELECT * FROM config").fetchall()
    result = crm("config", "set", "user", "张经理")
    assert result.exit_code == 2
    assert "per-person" in result.stderr and "crm config --user set user 张经理" in result.stderr
    zh = crm("--lang", "zh", "config", "set", "user", "张经理")
    assert "个人设置" in zh.stderr
    assert sqlite3.connect(isolated_env).execute("SELECT * FROM config").fetchall() == before
    assert not _config_path().exists()


def test_an_old_shared_user_setting_is_ignored_with_a_note(crm, empty_db):
    import getpass

    isolated_env = empty_db
    conn = sqlite3.connect(isolated_env)
    conn.execute("INSERT INTO config (key, value) VALUES ('user', '张经理')")
    conn.commit()
    result = crm(*add_args(owner=None))
    assert result.exit_code == 0
    assert "user='张经理' is no longer used" in result.stderr
    assert "crm config --user set user 张经理" in result.stderr
    assert conn.execute("SELECT owner FROM customers").fetchone()[0] == getpass.getuser()
    assert "user" not in crm.ok("config", "list")


def test_team_settings_stay_in_the_database(crm, empty_db):
    crm.ok("config", "set", "id-prefix", "KH")
    assert crm.ok("config", "get", "id-prefix") == "KH\n"
    assert not _config_path().exists()
    assert crm("config", "--user", "set", "id-prefix", "KH").exit_code == 2
    crm.ok("config", "unset", "id-prefix")
    assert crm.ok("config", "get", "id-prefix") == "XS\n"


def test_lang_and_db_from_the_user_file(crm, tmp_path, monkeypatch):
    crm.ok("config", "--user", "set", "lang", "zh")
    crm.ok("config", "--user", "set", "db", str(tmp_path / "mine.db"))
    monkeypatch.delenv("CRM_LANG")
    monkeypatch.delenv("CRM_DB")
    from crmcli import i18n, storage

    assert i18n.detect(None, argv=[]) == "zh"
    assert i18n.detect("en", argv=[]) == "en"
    assert storage.default_path() == (tmp_path / "mine.db").resolve()
    monkeypatch.setenv("CRM_LANG", "en")
    assert i18n.detect(None, argv=[]) == "en"
    assert crm("config", "--user", "set", "lang", "fr").exit_code == 2


def test_a_broken_file_is_reported(crm):
    _config_path().write_text("user = \n", encoding="utf-8")
    result = crm("config", "--user", "get", "user")
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=30), max_size=5))
def test_the_writer_round_trips_through_tomllib(values):
    assert tomllib.loads(userconfig.dumps(values)) == values


@pytest.mark.parametrize("key", ["user", "lang", "db", "phone-region"])
def test_every_key_has_an_environment_override(key, monkeypatch):
    env = userconfig.USER_SETTINGS[key].env
    monkeypatch.setenv(env, "zh" if key == "lang" else "X1")
    assert userconfig.get(key) == ("zh" if key == "lang" else "X1")
