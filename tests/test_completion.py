"""Shell completion: pivot dimensions (never file names), customer IDs, and a missing database."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import PYTHON, subprocess_env


def complete(db: Path, words: str, shell: str = "bash") -> str:
    env = subprocess_env(db, _CRM_COMPLETE=f"complete_{shell}", _TYPER_COMPLETE_ARGS=words,
                         COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)))
    # the console script's name decides the variable: run it as `crm` would be
    code = "import sys; sys.argv[0] = 'crm'; from crmcli.cli import main; main()"
    return subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout


def test_pivot_completes_dimensions_not_files(add, isolated_env: Path, tmp_path: Path):
    add()
    (tmp_path / "industry_notes.txt").write_text("x")
    assert complete(isolated_env, "crm report pivot in").split() == ["industry"]
    assert complete(isolated_env, "crm report pivot industry s").split() == ["source", "status"]


def test_ids_complete_with_names_where_the_shell_shows_them(add, isolated_env: Path):
    first = add()
    assert complete(isolated_env, "crm show XS").split() == [first]
    assert "上海明达制造有限公司" in complete(isolated_env, "crm show XS", shell="zsh")


def test_completion_on_a_missing_database_creates_nothing(tmp_path: Path):
    db = tmp_path / "none.db"
    assert complete(db, "crm report pivot o").split() == ["owner"]
    assert complete(db, "crm show XS").split() == []
    assert not db.exists()
