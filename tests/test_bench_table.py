"""bench/run.py's table and the README block it rewrites (no timing: fixed figures)."""

from __future__ import annotations

import importlib.util

from .conftest import ROOT


def load_run():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


RESULTS = {
    "machine": "x86_64, 2 cores", "date": "2026-12-01", "repeat": 5,
    "startup": [{"name": "crm --version", "crm_s": 0.066, "baseline_s": 0.022, "ratio": 3.0, "target": "≤ 3.0x",
                 "crm_rss_mb": 18.0}],
    "1m": [{"name": "crm stale --format json", "crm_s": 12.5, "baseline_s": 10.0, "ratio": 1.25, "target": "≤ 1.3x",
            "crm_rss_mb": 90.1}, {"name": "crm today", "error": "boom"}],
}


def test_the_table_has_the_issues_columns():
    text = load_run().table(RESULTS, ["1m"])
    lines = text.splitlines()
    assert lines[0] == "| work | size | crm | baseline | ratio | target | peak memory |"
    assert "| `crm --version` |  | 66 ms | 22 ms | 3.0x | ≤ 3.0x | 18.0 MB |" in lines
    assert "| `crm stale --format json` | 1m | 12.5 s | 10.0 s | 1.25x | ≤ 1.3x | 90.1 MB |" in lines
    assert "| `crm today` | 1m | failed | | | | |" in lines


def test_update_readme_rewrites_only_the_marked_block(tmp_path):
    run = load_run()
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{run.BEGIN}\nold figures\n{run.END}\nafter\n", encoding="utf-8")
    run.update_readme(readme, RESULTS, ["1m"])
    text = readme.read_text(encoding="utf-8")
    assert "old figures" not in text and text.startswith("# x\n\nbefore\n") and text.endswith(f"{run.END}\nafter\n")
    assert run.table(RESULTS, ["1m"]) in text and "2026-12-01" in text
    run.update_readme(readme, RESULTS, ["1m"])
    assert readme.read_text(encoding="utf-8") == text  # idempotent


def test_the_project_readme_has_the_markers():
    run = load_run()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(run.BEGIN) == 1 and text.count(run.END) == 1
