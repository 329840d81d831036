"""Asking before a change that touches several customers, the way ``crm backup restore`` does:
on a terminal a [y/N] question on stderr; without one, ``--yes`` or a refusal (exit 2)."""


import sys
from collections.abc import Iterable

import typer

from ..errors import UsageError
from . import common
from .common import err, state


def t(en: str, zh: str) -> str:
    """A message in the running command's language."""
    return zh if state().lang == "zh" else en


def confirm(question_en: str, question_zh: str, *, yes: bool, what_en: str, what_zh: str) -> None:
    """Return when the change may go ahead; exit 1 when declined, refuse (2) without a terminal."""
    if yes:
        return
    if not common.stdin_is_terminal():  # looked up here: tests patch it
        raise UsageError(f"refusing to {what_en} without --yes when not on a terminal",
                         zh=f"非终端环境下{what_zh}需要 --yes")
    if not typer.confirm(t(question_en, question_zh), err=True):
        err(t("Aborted; nothing changed.", "已取消；没有任何更改。"))
        raise typer.Exit(1)


def ids_from(args: Iterable[str]) -> list[str]:
    """The customer IDs of a bulk command: its arguments, ``-`` for one a line on standard input."""
    from .. import bulk

    args = list(args)
    lines = sys.stdin if "-" in args else None
    return bulk.read_ids(args, lines)
