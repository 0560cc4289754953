"""Shared fixtures: tiny, hand-made log exports written as Parquet."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)


def request_rows(n: int = 6, account: str = "acct_a", start: int = 0) -> list[dict[str, Any]]:
    """`n` plausible requests from one account, one minute apart."""
    return [{
        "request_id": f"req_{account}_{start + i:04d}",
        "ts": T0 + timedelta(minutes=start + i),
        "account_id": account,
        "model": "atlas-3",
        "prompt": f"Question {i}: how do I sort a list in Python?",
        "input_tokens": 12,
        "output_tokens": 80,
    } for i in range(n)]


def account_rows(*ids: str) -> list[dict[str, Any]]:
    """Accounts created a month before T0."""
    return [{"account_id": a, "created_at": T0 - timedelta(days=30)} for a in ids]


def write_table(path: Path, rows: list[dict[str, Any]] | pa.Table) -> Path:
    """Write rows (or a ready table) as one Parquet file, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows)
    pq.write_table(table, path)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A minimal valid export: two accounts, twelve requests."""
    d = tmp_path / "data"
    write_table(d / "requests.parquet", request_rows(6, "acct_a") + request_rows(6, "acct_b"))
    write_table(d / "accounts.parquet", account_rows("acct_a", "acct_b"))
    return d


@dataclass(frozen=True)
class CliOutcome:
    """What one CLI invocation did: exit code, stdout, stderr."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path) -> CliOutcome:
    """Run `forensics ARGS…` in-process through click's CliRunner."""
    from click.testing import CliRunner

    from forensics.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliOutcome(result.exit_code, result.stdout, result.stderr)


def assert_clean_failure(outcome: CliOutcome, *fragments: str, out_dir: Path | None = None,
                         exit_code: int = 2) -> str:
    """A refused run: the exit code, one `Error:` block naming every fragment, no traceback,
    and nothing left where the output would have gone. Returns the error text."""
    assert outcome.exit_code == exit_code, (outcome.exit_code, outcome.stderr, outcome.stdout)
    lines = outcome.stderr.splitlines()
    assert lines and lines[0].startswith("Error: "), outcome.stderr
    assert sum(line.startswith("Error: ") for line in lines) == 1, outcome.stderr
    # Continuation lines of a problem block are indented under the one Error: line.
    assert all(line.startswith("  ") for line in lines[1:]), outcome.stderr
    assert "Traceback" not in outcome.stderr + outcome.stdout
    for fragment in fragments:
        assert fragment in outcome.stderr, (fragment, outcome.stderr)
    if out_dir is not None:
        assert_no_output(out_dir)
    return outcome.stderr


def assert_no_output(out_dir: Path) -> None:
    """Neither the output folder nor any temporary folder or lock file of a run exists beside
    it."""
    assert not out_dir.exists(), f"{out_dir} was left behind"
    parent = out_dir.parent
    while not parent.exists():
        parent = parent.parent
    leftovers = [p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name
                 or p.name.endswith(".lock")]
    assert not leftovers, leftovers


def make_export(d: Path, requests: list[dict[str, Any]] | pa.Table | None = None,
                accounts: list[dict[str, Any]] | pa.Table | None = None) -> Path:
    """A data directory with requests.parquet and accounts.parquet (defaults: valid ones)."""
    write_table(d / "requests.parquet",
                requests if requests is not None else request_rows(3, "acct_a"))
    write_table(d / "accounts.parquet",
                accounts if accounts is not None else account_rows("acct_a"))
    return d


def one_heuristic_library(dest: Path, linking: bool = True) -> Path:
    """A heuristic library of one stable bundled heuristic, for runs that test ingest alone,
    with (`linking`) the two heuristics linking draws links from, without which a run is
    refused (forensics/linking.py, LINKING_ROLES).

    `forensics run` loads the whole library before it reads any data; these runs never get
    past ingest, so they should not depend on every heuristic in queries/ being valid.
    """
    from forensics import resources

    names = ["infrastructure/shared_payment_fingerprint.sql"]
    if linking:
        names += ["timing/synchronised_load_balancing.sql", "timing/co_launched_sessions.sql"]
    for name in names:
        source = resources.queries_dir() / name
        target = dest / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return dest


@dataclass(frozen=True)
class FullRun:
    """One complete `forensics run`, shared by the tests that read what a run writes."""

    data_dir: Path
    out_dir: Path
    outcome: CliOutcome
    manifest: dict[str, Any]


@pytest.fixture(scope="session")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> FullRun:
    """A run over an export exercising mapping, epoch timestamps, several files, a period
    and duplicates, written to an output folder whose parents do not exist yet.

    Runs render the dossier and cost seconds, so the tests share this one.
    """
    root = tmp_path_factory.mktemp("full_run")
    d = root / "data"
    july = request_rows(10, "acct_a") + request_rows(5, "acct_b")
    august = request_rows(4, "acct_a", start=60 * 24 * 30)
    part0 = july[:8] + august
    part1 = july[8:] + [july[0], july[1], july[1], august[0]]
    for name, rows in (("part-0", part0), ("part-1", part1)):
        mapped = [{"customer_id": r["account_id"], **{k: v for k, v in r.items()
                                                       if k != "account_id"},
                   "ts": int(r["ts"].timestamp() * 1000)} for r in rows]
        write_table(d / "requests" / f"{name}.parquet", mapped)
    write_table(d / "accounts.parquet", account_rows("acct_a", "acct_b"))
    (d / "indicators.csv").write_text("indicator_type,value,actor,source\n"
                                      "ip,203.0.113.7,APT-X,report\n", encoding="utf-8")
    case = root / "case.toml"
    case.write_text('[columns.requests]\naccount_id = "customer_id"\n', encoding="utf-8")
    out = root / "new" / "parents" / "out"
    outcome = run_cli("run", d, "--out", out, "--config", case, "--period", "2026-07")
    assert outcome.exit_code == 0, outcome.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return FullRun(d, out, outcome, manifest)


# The Spark tests (forensics[spark] and Java): skipped where they are missing, except where
# FORENSICS_REQUIRE_SPARK is set (`make test`, so CI): there a missing extra fails them.
HAVE_SPARK = (importlib.util.find_spec("pyspark") is not None
              and importlib.util.find_spec("sqlglot") is not None
              and shutil.which("java") is not None)
REQUIRE_SPARK = bool(os.environ.get("FORENSICS_REQUIRE_SPARK"))
needs_spark = pytest.mark.skipif(not HAVE_SPARK and not REQUIRE_SPARK,
                                 reason="needs pyspark, sqlglot and Java (forensics[spark])")
