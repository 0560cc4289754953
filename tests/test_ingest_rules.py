"""The contract's rules for rows: duplicates and values are either analysed exactly, excluded
and counted by reason, or refused with the row named. `validate` and `run` agree."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from forensics.errors import InputProblems
from forensics.ingest import IngestResult, ingest

from .conftest import (
    T0,
    account_rows,
    assert_clean_failure,
    make_export,
    one_heuristic_library,
    run_cli,
    write_table,
)


def load(data_dir: Path) -> tuple[IngestResult, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    return ingest(con, data_dir), con


def refused(d: Path, tmp_path: Path, *fragments: str) -> str:
    """`run` and `validate` both refuse the export with one Error: naming the fragments, and
    the run leaves nothing behind."""
    out = tmp_path / "out"
    queries = one_heuristic_library(tmp_path / "queries")
    err = assert_clean_failure(run_cli("run", d, "--out", out, "--queries", queries),
                               *fragments, out_dir=out)
    assert assert_clean_failure(run_cli("validate", d), *fragments) == err
    return err


def indicators_csv(d: Path, *lines: str, name: str = "indicators.csv") -> None:
    (d / name).write_text("indicator_type,value,actor,source\n" + "".join(
        line + "\n" for line in lines), encoding="utf-8")


# --- duplicates -----------------------------------------------------------------------------

def test_conflicting_account_rows_are_refused_naming_both(tmp_path: Path) -> None:
    """One account_id with two payment fingerprints is a contradiction, not a repeated row."""
    accounts = [{**account_rows("acct_a")[0], "payment_fingerprint": "card-1"},
                {**account_rows("acct_b")[0], "payment_fingerprint": "card-9"},
                {**account_rows("acct_a")[0], "payment_fingerprint": "card-2"}]
    d = make_export(tmp_path / "data", accounts=accounts)
    refused(d, tmp_path, "accounts.parquet: column 'account_id': 1 id(s) are used by rows with "
            "a different payment_fingerprint (first: 'acct_a' at accounts.parquet row 0 and "
            "accounts.parquet row 2; expected unique ids, the export is inconsistent)")


def test_account_row_with_a_value_where_its_copy_has_none_is_refused(tmp_path: Path) -> None:
    """NULL against a value is a difference too (min and max would skip the NULL)."""
    accounts = [{**account_rows("acct_a")[0], "tier": None},
                {**account_rows("acct_a")[0], "tier": "build"}]
    d = make_export(tmp_path / "data", accounts=accounts)
    with pytest.raises(InputProblems, match="used by rows with a different tier"):
        load(d)


def test_identical_account_copies_are_excluded_and_counted(tmp_path: Path) -> None:
    row = {**account_rows("acct_a")[0], "payment_fingerprint": "card-1", "tier": None}
    d = make_export(tmp_path / "data", accounts=[row, dict(row), dict(row)])
    result, con = load(d)
    t = result.tables["accounts"]
    assert (t.rows_read, t.rows_excluded, t.rows_analysed) == (3, {"duplicate account_id": 2}, 1)
    assert con.execute("SELECT account_id, payment_fingerprint FROM accounts").fetchall() == [
        ("acct_a", "card-1")]


def test_conflicting_model_releases_are_refused(tmp_path: Path) -> None:
    d = make_export(tmp_path / "data")
    write_table(d / "model_releases.parquet", [
        {"model": "atlas-3", "released_at": T0 - timedelta(days=90)},
        {"model": "atlas-3", "released_at": T0 - timedelta(days=10)}])
    refused(d, tmp_path, "model_releases.parquet: column 'model': 1 id(s) are used by rows with "
            "a different released_at (first: 'atlas-3' at model_releases.parquet row 0 and "
            "model_releases.parquet row 1;")


def test_identical_model_releases_are_excluded_and_counted(tmp_path: Path) -> None:
    d = make_export(tmp_path / "data")
    release = {"model": "atlas-3", "released_at": T0 - timedelta(days=90)}
    write_table(d / "model_releases.parquet", [release, dict(release)])
    result, _ = load(d)
    assert result.tables["model_releases"].rows_excluded == {"duplicate model": 1}
    assert result.tables["model_releases"].rows_analysed == 1


def test_indicator_attributed_to_two_actors_is_refused(tmp_path: Path) -> None:
    """The same address for two actors (spaces around it do not make it another one)."""
    d = make_export(tmp_path / "data")
    indicators_csv(d, "ip,192.0.2.1,APT-X,r1", "ip,192.0.2.2,APT-X,r1", "ip, 192.0.2.1 ,APT-Y,r2")
    refused(d, tmp_path, "indicators.csv: column 'value': 1 indicator(s) are listed with a "
            "different actor (first: ('ip', '192.0.2.1') at indicators.csv line 2 and "
            "indicators.csv line 4; expected each indicator attributed once")


def test_identical_indicators_are_counted_and_other_sources_kept(tmp_path: Path) -> None:
    """Exact copies are excluded and counted; one indicator for one actor from two reports is
    two rows, both kept."""
    d = make_export(tmp_path / "data")
    indicators_csv(d, "ip,192.0.2.1,APT-X,r1", "ip,192.0.2.1,APT-X,r1", "ip,192.0.2.1,APT-X,r2",
                   "cidr,198.51.100.0/24,APT-X,r1")
    result, con = load(d)
    t = result.tables["indicators"]
    assert (t.rows_read, t.rows_excluded, t.rows_analysed) == (
        4, {"duplicate indicator": 1}, 3)
    assert con.execute("SELECT value, source FROM indicators ORDER BY ALL").fetchall() == [
        ("192.0.2.1", "r1"), ("192.0.2.1", "r2"), ("198.51.100.0/24", "r1")]
