"""crm stale as cron runs it: env -i, no TTY, no colour, Chinese intact, while others write."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .conftest import add_args

ESC = "\x1b"
CRON_PATH = "/usr/bin:/bin"


def cron_run(db: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Exactly what a crontab line runs: env -i with PATH and CRM_DB, stdin not a terminal."""
    env_args = ["env", "-i", f"PATH={CRON_PATH}", f"CRM_DB={db}", f"CRM_CONFIG={os.environ['CRM_CONFIG']}"]
    env_args += [f"{k}={v}" for k, v in (extra_env or {}).items()]
    return subprocess.run(
        [*env_args, sys.executable, "-m", "crmcli", *args],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
    )


def seed(crm, db: Path) -> list[str]:
    ids = []
    for i, first in enumerate(("2024-01-05", "2023-11-20", "2024-06-10")):
        ids.append(crm.ok(*add_args(first_contact=first, phone=f"1390000000{i}", notes="老客户，春节前联系")).strip())
    return ids


def test_cron_environment_formats_exit_code(crm, isolated_env):
    ids = seed(crm, isolated_env)
    pinned = {"CRM_TODAY": "2024-06-15"}
    for fmt in ("table", "csv", "json", "jsonl", "tsv", "ids"):
        result = cron_run(isolated_env, "stale", "--format", fmt, "--exit-code", extra_env=pinned)
        out = result.stdout.decode("utf-8")  # strict: Chinese must arrive as UTF-8
        assert result.returncode == 1, (fmt, result.stderr.decode())
        assert ESC not in out and ESC not in result.stderr.decode("utf-8")
        assert b"Traceback" not in result.stderr
        if fmt != "ids":
            assert "上海明达制造有限公司" in out
    data = json.loads(cron_run(isolated_env, "stale", "-f", "json", extra_env=pinned).stdout)
    assert [r["id"] for r in data] == [ids[1], ids[0]]
    assert data[0]["notes"] == "老客户，春节前联系"
    rows = list(csv.DictReader(io.StringIO(cron_run(isolated_env, "stale", "-f", "csv", extra_env=pinned).stdout.decode())))
    assert rows[0]["name"] == "上海明达制造有限公司"
    # Nothing stale: exit 0, empty JSON array.
    none = cron_run(isolated_env, "stale", "--days", "9999", "-f", "json", "--exit-code", extra_env=pinned)
    assert (none.returncode, none.stdout) == (0, b"[]\n")


def test_cron_without_crm_today_uses_the_real_date(crm, isolated_env):
    seed(crm, isolated_env)
    # All first contacts lie in 2023/2024: more than 3 months before any real "today" from now on.
    result = cron_run(isolated_env, "stale", "-f", "ids", "--exit-code")
    assert result.returncode == 1 and len(result.stdout.split()) == 3


def test_cron_reads_while_another_process_writes(crm, isolated_env):
    ids = seed(crm, isolated_env)
    writer_code = (
        "import sys\n"
        "from crmcli import customers, followups, options\n"
        "from crmcli.storage import open_store\n"
        "store = open_store(sys.argv[1]); opts = options.load(store)\n"
        "ctx = customers.Context('cron-test', 'XS', 'log')\n"
        "print('ready', flush=True)\n"
        "for i in range(400):\n"
        "    followups.log(store, sys.argv[2], followups.FollowupInput(f'并发写入 {i}', date='2024-06-01'), ctx, opts)\n"
        "print('done', flush=True)\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", writer_code, str(isolated_env), ids[2]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"PATH": CRON_PATH, "CRM_TODAY": "2024-06-15"},
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        runs = 0
        deadline = time.monotonic() + 30
        while writer.poll() is None and time.monotonic() < deadline or runs < 3:
            result = cron_run(isolated_env, "stale", "-f", "csv", "--exit-code", extra_env={"CRM_TODAY": "2024-06-15"})
            assert result.returncode == 1, result.stderr.decode()
            out = result.stdout.decode("utf-8")
            assert ESC not in out and "上海明达制造有限公司" in out
            assert len(out.strip().splitlines()) == 3  # header + the two stale customers
            runs += 1
        rest, errors = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, errors.decode()
    assert rest.endswith(b"done\n")
    assert runs >= 3


README_CRM = "/home/you/crmcli/.venv/bin/crm"
README_DB = "/home/you/.local/share/crmcli/crm.db"


def readme_cron_line() -> str:
    """The crontab line of README's cron section, exactly as written there."""
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Cron", 1)[1].split("\n## ", 1)[0]
    block = section.split("```crontab\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 1, lines
    return lines[0]


def run_readme_cron(tmp_path: Path, db: Path) -> tuple[subprocess.CompletedProcess[str], list[dict[str, str]]]:
    """Run the README's line as cron would (``sh -c`` under ``env -i``), with the two paths the
    README tells the reader to fill in replaced by this test's, and a fake ``mail`` on PATH."""
    fields = readme_cron_line().split(None, 5)
    assert len(fields) == 6 and fields[:5] == ["0", "8", "*", "*", "1-5"], fields
    command = fields[5]
    assert README_CRM in command and README_DB in command, "the README line must name both paths"
    crm_bin = Path(sys.executable).parent / "crm"
    command = command.replace(README_CRM, str(crm_bin)).replace(README_DB, str(db))
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir(exist_ok=True)
    outbox = tmp_path / "outbox.jsonl"
    fake = bin_dir / "mail"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"with open({str(outbox)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(json.dumps({'args': sys.argv[1:], 'body': sys.stdin.read()}, ensure_ascii=False) + '\\n')\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    outbox.unlink(missing_ok=True)
    result = subprocess.run(
        ["env", "-i", f"PATH={bin_dir}:{CRON_PATH}", "CRM_TODAY=2024-06-15", f"CRM_CONFIG={os.environ['CRM_CONFIG']}",
         "/bin/sh", "-c", command],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    mails = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []
    return result, mails


def test_readme_cron_line_mails_stale_customers(crm, isolated_env, tmp_path):
    seed(crm, isolated_env)
    result, mails = run_readme_cron(tmp_path, isolated_env)
    assert result.returncode == 1, result.stderr
    assert len(mails) == 1
    assert "客户超过3个月未联系" in mails[0]["args"] and "sales@example.com" in mails[0]["args"]
    rows = list(csv.DictReader(io.StringIO(mails[0]["body"])))
    assert [r["name"] for r in rows] == ["上海明达制造有限公司"] * 2
    assert ESC not in mails[0]["body"]


def test_readme_cron_line_sends_nothing_when_nobody_is_stale(crm, isolated_env, tmp_path):
    crm.ok(*add_args(first_contact="2024-06-10"))
    result, mails = run_readme_cron(tmp_path, isolated_env)
    assert (result.returncode, mails) == (0, []), result.stderr


def test_readme_cron_line_mails_the_error_when_crm_fails(tmp_path):
    missing = tmp_path / "gone" / "crm.db"  # a database that is not there (moved, mistyped)
    result, mails = run_readme_cron(tmp_path, missing)
    assert result.returncode >= 2
    assert len(mails) == 1
    assert any("failed" in a for a in mails[0]["args"])
    assert "Error" in mails[0]["body"] and "Traceback" not in mails[0]["body"]
    assert not missing.exists()  # not created empty either
