"""The contract's rules for rows: duplicates and values are either analysed exactly, excluded
and counted by reason, or refused with the row named. `validate` and `run` agree."""

from __future__ import annotations

import json
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
    request_rows,
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


# --- values ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "value"), [
    ("cidr", "not-a-cidr"), ("cidr", "/99"), ("cidr", "10.0.0.0/33"), ("cidr", "2001:db8::/32"),
    ("cidr", "10.0.0.0/255.0.0.0"), ("ip", "999.1.1.1"), ("ip", "10.0.0.0/8"), ("ip", "01.2.3.4"),
    ("email_domain", "  "),
])
def test_indicator_that_cannot_match_is_refused_with_its_line(tmp_path: Path, kind: str,
                                                               value: str) -> None:
    d = make_export(tmp_path / "data")
    indicators_csv(d, "ip,192.0.2.1,APT-X,r1", f"{kind},{value},APT-X,r1",
                   "cidr,198.51.100.0/24,APT-X,r1", "ip,2001:db8::1,APT-X,r1")
    refused(d, tmp_path, "indicators.csv: column 'value': 1 indicator value(s) cannot be "
            f"matched (expected a single IPv4 or IPv6 address for type ip, an IPv4 address or "
            f"network a.b.c.d/n for cidr, never a blank value; first at line 3: {kind} "
            f"{value!r})")


def test_valid_indicators_load(tmp_path: Path) -> None:
    """Addresses, networks (host bits set or not, a bare address as a /32) and other types."""
    d = make_export(tmp_path / "data")
    indicators_csv(d, "ip,192.0.2.1,X,", "ip, 2001:db8::1 ,X,", "cidr,198.51.100.7/24,X,",
                   "cidr,203.0.113.9,X,", "cidr,0.0.0.0/0,X,", "email_domain,x.example,X,",
                   "user_agent,curl/8.0,X,")
    result, _ = load(d)
    assert result.tables["indicators"].rows_analysed == 7


@pytest.mark.parametrize("value", [2, -1])
def test_thinking_as_a_number_other_than_0_or_1_is_refused(tmp_path: Path, value: int) -> None:
    """thinking = 2 is no yes/no answer (a cast would read every non-zero number as true)."""
    rows = [{**r, "thinking": [1, 0, value][i]} for i, r in enumerate(request_rows(3))]
    d = make_export(tmp_path / "data", requests=rows)
    refused(d, tmp_path, "requests.parquet: column 'thinking': 1 value(s) cannot be read as "
            f"BOOLEAN (expected true or false, or the numbers 1 and 0; first at row 2: "
            f"'{value}')")


def test_thinking_as_1_and_0_is_read_as_true_and_false(tmp_path: Path) -> None:
    rows = [{**r, "thinking": [1, 0, None][i]} for i, r in enumerate(request_rows(3))]
    _, con = load(make_export(tmp_path / "data", requests=rows))
    assert con.execute("SELECT thinking FROM requests ORDER BY ts").fetchall() == [
        (True,), (False,), (None,)]


@pytest.mark.parametrize("column", ["input_tokens", "output_tokens", "max_tokens", "tool_count",
                                    "turn_index"])
def test_negative_counts_are_refused(tmp_path: Path, column: str) -> None:
    rows = [{**r, column: -5 if i == 1 else 3} for i, r in enumerate(request_rows(3))]
    d = make_export(tmp_path / "data", requests=rows)
    refused(d, tmp_path, f"requests.parquet: column {column!r}: 1 value(s) below 0 (expected a "
            f"count, 0 or more; first at row 1: '-5')")


def test_token_counts_near_2_31_add_up_without_overflow(tmp_path: Path) -> None:
    """Counts just below 2^31 are read exactly; their sums (also input + output of one
    request, which INTEGER would overflow) come out right through the whole run."""
    big = 2**31 - 1
    rows = [{**r, "input_tokens": big, "output_tokens": big} for r in request_rows(3)]
    d = make_export(tmp_path / "data", requests=rows)
    _, con = load(d)
    assert con.execute("SELECT sum(input_tokens + output_tokens), typeof(input_tokens) "
                       "FROM requests GROUP BY ALL").fetchall() == [(6 * big, "BIGINT")]
    out = tmp_path / "out"
    outcome = run_cli("run", d, "--out", out, "--queries", one_heuristic_library(tmp_path / "q"))
    assert outcome.exit_code == 0, outcome.stderr
    import pyarrow.parquet as pq

    [account] = pq.read_table(out / "findings.parquet").to_pylist()
    assert account["tokens"] == 6 * big


def test_request_times_outside_2000_2100_are_excluded_and_counted(tmp_path: Path) -> None:
    """A 1970 placeholder or a misread unit is no request time: excluded and counted by
    reason, and each row counted once (one before 2000 that is also a duplicate counts as
    before 2000)."""
    rows = request_rows(5)
    rows[1] = {**rows[1], "ts": T0.replace(year=1970)}
    rows[2] = {**rows[2], "ts": T0.replace(year=2150)}
    rows.append(dict(rows[1]))
    d = make_export(tmp_path / "data", requests=rows)
    result, con = load(d)
    t = result.tables["requests"]
    assert t.rows_excluded == {"ts before 2000 or from 2100 on": 3}
    assert t.rows_read == 6 and t.rows_analysed == 3
    assert t.first_ts == T0 and t.last_ts == T0 + timedelta(minutes=4)
    assert con.execute("SELECT count(*) FROM requests").fetchone() == (3,)
    outcome = run_cli("validate", d)
    assert "6 rows read, 3 analysed, excluded: 3 ts before 2000 or from 2100 on" in \
        outcome.stdout


def test_only_implausible_request_times_are_refused(tmp_path: Path) -> None:
    rows = [{**r, "ts": 0} for r in request_rows(2)]
    d = make_export(tmp_path / "data", requests=rows)
    refused(d, tmp_path, "requests.parquet: column 'ts': no request can be analysed (2 ts "
            "before 2000 or from 2100 on;")


@pytest.mark.parametrize(("table", "column"), [("accounts", "created_at"),
                                               ("model_releases", "released_at")])
def test_account_and_release_times_outside_2000_2100_are_refused(tmp_path: Path, table: str,
                                                                 column: str) -> None:
    d = make_export(tmp_path / "data")
    if table == "accounts":
        write_table(d / "accounts.parquet", [{"account_id": "acct_a", column: 0}])
    else:
        write_table(d / "model_releases.parquet", [{"model": "atlas-3", column: 0}])
    refused(d, tmp_path, f"{table}.parquet: column {column!r}: 1 value(s) before 2000-01-01 or "
            f"from 2100-01-01 on (expected a time from 2000-01-01 to before 2100-01-01, UTC; "
            f"first at row 0: '0')")


def test_non_finite_temperatures_are_excluded_and_counted(tmp_path: Path) -> None:
    temps = [0.7, float("nan"), float("inf"), None, float("-inf"), 1.0]
    rows = [{**r, "temperature": t} for r, t in zip(request_rows(6), temps, strict=True)]
    d = make_export(tmp_path / "data", requests=rows)
    result, con = load(d)
    t = result.tables["requests"]
    assert t.rows_excluded == {"temperature not finite": 3}
    assert t.rows_analysed == 3
    assert con.execute("SELECT temperature FROM requests ORDER BY ts").fetchall() == [
        (0.7,), (None,), (1.0,)]


def test_validate_and_run_analyse_the_same_rows(tmp_path: Path) -> None:
    """What validate reports (rows read, excluded by reason, analysed) is what the run's
    manifest records, with every exclusion rule at work at once."""
    rows = request_rows(8)
    rows[0] = {**rows[0], "temperature": float("nan")}
    rows[1] = {**rows[1], "ts": T0.replace(year=1999)}
    rows.append(dict(rows[3]))
    rows.append({**request_rows(1, start=60 * 24 * 40)[0], "request_id": "late"})
    d = make_export(tmp_path / "data", requests=rows)
    out = tmp_path / "out"
    outcome = run_cli("run", d, "--out", out, "--since", "2026-07-01", "--until", "2026-08-01",
                      "--queries", one_heuristic_library(tmp_path / "q"))
    assert outcome.exit_code == 0, outcome.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    requests = manifest["inputs"]["tables"]["requests"]
    assert requests["rows_excluded"] == {"duplicate request_id": 1, "outside period": 1,
                                         "temperature not finite": 1,
                                         "ts before 2000 or from 2100 on": 1}
    assert requests["rows_analysed"] == 6
    validated = run_cli("validate", d, "--since", "2026-07-01", "--until", "2026-08-01")
    assert ("requests: 1 file(s), 10 rows read, 6 analysed, excluded: 1 duplicate "
            "request_id, 1 outside period, 1 temperature not finite, 1 ts before 2000 or "
            "from 2100 on") in validated.stdout, validated.stdout


def test_schema_states_every_rule() -> None:
    """`forensics schema` states each rule ingest applies, as the README does."""
    text = run_cli("schema").stdout
    for phrase in ["* ? [ in names are", "Symbolic links are followed", "folders above the data",
                   "A key that is also a column of the file is refused",
                   "also differing only in case, is refused",
                   "accounts: rows with the same account_id must agree on every other column",
                   "indicators: rows with the same indicator_type and value must agree on actor",
                   "below 0 is", "(2, -1) is refused", "'ts before 2000 or from 2100 on'",
                   "'temperature not finite'", "for cidr"]:
        assert phrase in text, phrase
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for phrase in ["`part-[1].parquet` is not `part-1.parquet`", "**Symbolic links**",
                   "(`…/org_id=acme/data`) never do", "`ts before 2000 or from 2100 on`",
                   "`temperature not finite`", "`not-a-cidr`, `/99`, `999.1.1.1`"]:
        assert phrase in readme, phrase
