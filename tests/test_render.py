"""Tables: the seed's conditional colouring on a terminal, none without one or with NO_COLOR."""

from __future__ import annotations

import pytest

from crmcli import render


@pytest.fixture
def coloured(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # stands in for a terminal: CliRunner's stdout is not one
    monkeypatch.setenv("COLUMNS", "200")


def _line(out: str, text: str) -> str:
    return next(line for line in out.splitlines() if text in line)


def test_lost_rows_red_active_green_paused_yellow(crm, add, coloured):
    add(name="丢失公司", status="lost", phone="13900000001")
    add(name="合作公司", status="active", phone="13900000002")
    add(name="暂停公司", status="paused", phone="13900000003")
    add(name="潜在公司", phone="13900000004")
    out = crm.ok("list")
    assert "\x1b[31m" in _line(out, "丢失公司")  # red
    assert "\x1b[32m" in _line(out, "合作公司")  # green
    assert "\x1b[33m" in _line(out, "暂停公司")  # yellow
    assert not any(code in _line(out, "潜在公司") for code in ("\x1b[31m", "\x1b[32m", "\x1b[33m"))


def test_no_colour_with_no_color_even_when_forced(crm, add, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    add(name="丢失公司", status="lost")
    assert "\x1b[" not in crm.ok("list")


def test_machine_formats_never_carry_colour(crm, add, coloured):
    add(name="丢失公司", status="lost")
    for fmt in ("json", "jsonl", "csv", "tsv", "ids"):
        assert "\x1b[" not in crm.ok("list", "--format", fmt), fmt


def test_status_styles_cover_the_seed_rule():
    assert render.status_style("lost") == "red"
    assert render.status_style("potential") is None
