"""Run ``python -m crmcli`` on a real pseudo-terminal of a given size (no COLUMNS variable), as a
person at a terminal would: Rich learns the width from the terminal itself."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

PYTHON = sys.executable


def run_on_pty(args: list[str], *, columns: int, env: dict[str, str], rows: int = 50, timeout: float = 60) -> tuple[int, str, str]:
    """(exit code, what the terminal showed, stderr). stdout is the pty; stderr a pipe."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    clean = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES", "TERMINAL_WIDTH", "PYTEST_CURRENT_TEST")}
    clean.setdefault("TERM", "xterm")
    proc = subprocess.Popen(
        [PYTHON, "-m", "crmcli", *args], stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=clean,
        close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise TimeoutError(args)
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        err = proc.stderr.read() if proc.stderr else b""
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    shown = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    return code, shown, err.decode("utf-8")


def terminal_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(CRM_DB=str(db), NO_COLOR="1", **extra)
    env.pop("_TYPER_FORCE_DISABLE_TERMINAL", None)
    return env
