"""Progress on stderr: stage lines with elapsed time, the features steps, and the share of a
long statement done."""

from __future__ import annotations

import io
import re
from pathlib import Path

import duckdb
import pytest

from forensics import progress as progress_module
from forensics.progress import Progress
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "2026Q3" / "data"


def test_progress_lines_name_the_features_steps_with_elapsed_time(tmp_path: Path) -> None:
    # Not a terminal: quiet by default, lines with --progress (as under nohup or CI).
    quiet = run_cli("run", SAMPLE, "--out", tmp_path / "a", "--format", "json")
    assert quiet.exit_code == 0 and "[forensics" not in quiet.stderr
    loud = run_cli("run", SAMPLE, "--out", tmp_path / "b", "--format", "json", "--progress")
    assert loud.exit_code == 0, loud.stderr
    lines = loud.stderr.splitlines()
    assert all(re.match(r"\[forensics \d\d:\d\d\] ", line) for line in lines), lines[:5]
    for i, step in enumerate(("prompt heads", "template skeletons", "near-duplicate skeletons",
                              "template groups", "lexicon scan of every request",
                              "account aggregates", "session starts launched together",
                              "indicator hits"), start=1):
        assert any(line.endswith(f"features {i}/8: {step}") for line in lines), step
    assert any("linking" in line for line in lines)


def test_a_long_statement_reports_its_share_done(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a log (not a terminal) the share DuckDB measures is written every tenth."""
    monkeypatch.setattr(progress_module, "POLL_SECONDS", 0.02)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET threads = 1")
    stream = io.StringIO()
    report = Progress(enabled=True, stream=stream)
    with report.query(con, "scan"):
        con.execute("SELECT sum(hash(i) % 7) FROM range(150000000) AS t(i)").fetchall()
    shares = [int(m) for m in re.findall(r"scan: (\d+) %", stream.getvalue())]
    assert shares, stream.getvalue()
    assert shares == sorted(set(shares)) and all(s % 10 == 0 and 0 < s <= 100 for s in shares)
    silent = io.StringIO()
    with Progress(enabled=False, stream=silent).query(con, "scan"):
        con.execute("SELECT 1").fetchall()
    assert silent.getvalue() == ""
