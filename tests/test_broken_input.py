"""Broken exports: each is refused with one clear error, exit code 2, and no output left behind."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import (
    T0,
    CliOutcome,
    account_rows,
    assert_clean_failure,
    make_export,
    one_heuristic_library,
    request_rows,
    run_cli,
    write_table,
)


def run_on(data_dir: Path, tmp_path: Path, *extra: str) -> tuple[CliOutcome, Path]:
    """`forensics run DATA_DIR --out tmp/out EXTRA…`; returns the outcome and the out dir.

    A one-heuristic library keeps these tests about ingest alone (see one_heuristic_library).
    """
    out = tmp_path / "out"
    queries = one_heuristic_library(tmp_path / "queries")
    return run_cli("run", data_dir, "--out", out, "--queries", queries, *extra), out


def split_export(d: Path, files: int = 5) -> Path:
    """A valid export whose requests are spread over `files` Parquet files in requests/."""
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    for i in range(files):
        write_table(d / "requests" / f"part-{i}.parquet", request_rows(3, start=3 * i))
    return d


def test_data_dir_missing(tmp_path: Path) -> None:
    """A data directory that does not exist is named and refused."""
    outcome, out = run_on(tmp_path / "nope", tmp_path)
    assert_clean_failure(outcome, "nope: data directory does not exist", out_dir=out)


def test_data_dir_empty(tmp_path: Path) -> None:
    """An empty data directory says what it should have held."""
    (tmp_path / "data").mkdir()
    outcome, out = run_on(tmp_path / "data", tmp_path)
    assert_clean_failure(outcome, "data: data directory is empty", "requests.parquet",
                         out_dir=out)


def test_data_dir_is_a_file(tmp_path: Path) -> None:
    """A file given as the data directory is refused as not a directory."""
    (tmp_path / "data").write_text("x")
    outcome, out = run_on(tmp_path / "data", tmp_path)
    assert_clean_failure(outcome, "data: not a directory (expected a folder of Parquet files)",
                         out_dir=out)


def test_no_requests_table(tmp_path: Path) -> None:
    """Without a requests table the error names what was expected and what was found."""
    d = tmp_path / "data"
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    (d / "request.parquet").write_bytes(b"")
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "no requests table (expected requests.parquet or a folder "
                         "requests/", "found: accounts.parquet, request.parquet", out_dir=out)


def test_empty_table_folder(tmp_path: Path) -> None:
    """A requests/ folder without Parquet files is reported as such."""
    d = tmp_path / "data"
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    (d / "requests").mkdir()
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "the folder requests/ holds no Parquet files", out_dir=out)


def test_csv_text_named_parquet(tmp_path: Path) -> None:
    """CSV text saved as requests.parquet is named as not Parquet."""
    d = make_export(tmp_path / "data")
    (d / "requests.parquet").write_text("request_id,ts\nr1,2026-07-01\n")
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "requests.parquet: not a Parquet file (it looks like text or "
                         "CSV; expected Parquet)", out_dir=out)


def test_empty_file(tmp_path: Path) -> None:
    """A zero-byte Parquet file is named as empty."""
    d = make_export(tmp_path / "data")
    (d / "accounts.parquet").write_bytes(b"")
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "accounts.parquet: empty file (0 bytes; expected a Parquet "
                         "file)", out_dir=out)


def test_stray_csv_in_table_folder(tmp_path: Path) -> None:
    """A CSV among the Parquet files of requests/ is named."""
    d = split_export(tmp_path / "data", files=2)
    (d / "requests" / "extra.csv").write_text("a,b\n1,2\n")
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "requests/extra.csv: not a Parquet file (expected only "
                         "*.parquet files in the table folder requests/)", out_dir=out)


def test_hidden_and_underscore_files_are_ignored(tmp_path: Path) -> None:
    """Spark's _SUCCESS and .crc files beside the part files are not mistaken for data."""
    d = split_export(tmp_path / "data", files=2)
    (d / "requests" / "_SUCCESS").write_text("")
    (d / "requests" / ".part-0.parquet.crc").write_text("x")
    assert run_cli("validate", d).exit_code == 0


def test_truncated_file_among_good_ones_is_named(tmp_path: Path) -> None:
    """One truncated Parquet file among five is named, and only that one."""
    d = split_export(tmp_path / "data")
    bad = d / "requests" / "part-2.parquet"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    outcome, out = run_on(d, tmp_path)
    err = assert_clean_failure(outcome, "requests/part-2.parquet: truncated or corrupt Parquet "
                               "file (no PAR1 footer", out_dir=out)
    assert "part-1" not in err and "part-3" not in err


def test_corrupt_footer_among_good_ones_is_named(tmp_path: Path) -> None:
    """A Parquet file whose footer is garbage is named among good ones."""
    d = split_export(tmp_path / "data")
    bad = d / "requests" / "part-3.parquet"
    data = bytearray(bad.read_bytes())
    data[4:-8] = b"A" * (len(data) - 12)  # keep the magic bytes and footer length
    bad.write_bytes(bytes(data))
    outcome, out = run_on(d, tmp_path)
    err = assert_clean_failure(outcome, "requests/part-3.parquet: corrupt Parquet file (footer "
                               "unreadable:", out_dir=out)
    assert "part-2" not in err


def test_corrupt_data_among_good_ones_is_named(tmp_path: Path) -> None:
    """A Parquet file with an intact footer but garbage data pages is named among good ones."""
    d = split_export(tmp_path / "data")
    bad = d / "requests" / "part-1.parquet"
    data = bytearray(bad.read_bytes())
    data[4:60] = b"A" * 56  # the first page header and values; the footer stays valid
    bad.write_bytes(bytes(data))
    outcome, out = run_on(d, tmp_path)
    err = assert_clean_failure(outcome, "requests/part-1.parquet: cannot be read (",
                               "expected a valid Parquet file", out_dir=out)
    assert "part-0" not in err and "part-4" not in err


def test_corrupt_text_page_is_found_by_ingest(tmp_path: Path) -> None:
    """Garbage inside the pages of an optional text column (response: no check reads it) is
    found by ingest, which decodes every value once, not by a later stage."""
    import pyarrow.parquet as pq

    d = split_export(tmp_path / "data")
    bad = d / "requests" / "part-2.parquet"
    write_table(bad, [{**r, "response": f"Use sorted() ({i})."}
                      for i, r in enumerate(request_rows(3, start=6))])
    group = pq.ParquetFile(bad).metadata.row_group(0)
    chunk = next(group.column(i) for i in range(group.num_columns)
                 if group.column(i).path_in_schema == "response")
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data = bytearray(bad.read_bytes())
    data[start:start + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    bad.write_bytes(bytes(data))
    # validate runs ingest alone: the garbage must be found there
    assert_clean_failure(run_cli("validate", d), "requests/part-2.parquet: cannot be read (",
                         "expected a valid Parquet file")


@pytest.mark.parametrize("table", ["requests", "accounts"])
def test_zero_row_table(tmp_path: Path, table: str) -> None:
    """A required table with a schema but no rows is refused."""
    rows = request_rows(1) if table == "requests" else account_rows("acct_a")
    empty = pa.Table.from_pylist(rows).slice(0, 0)
    d = make_export(tmp_path / "data", **{table: empty})
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, f"{table}.parquet: table {table} has no rows (expected at "
                         f"least one row)", out_dir=out)


def test_missing_required_column(tmp_path: Path) -> None:
    """A missing required column is named with its type and the mapping hint."""
    rows = [{k: v for k, v in r.items() if k != "model"} for r in request_rows(3)]
    d = make_export(tmp_path / "data", requests=rows)
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "requests.parquet: column 'model': missing required column "
                         "(expected VARCHAR;", '[columns.requests] model = "…"', out_dir=out)


def test_required_column_missing_from_one_file(tmp_path: Path) -> None:
    """A required column absent from one file of several names that file, not every row."""
    d = split_export(tmp_path / "data", files=3)
    write_table(d / "requests" / "part-1.parquet",
                [{k: v for k, v in r.items() if k != "prompt"} for r in request_rows(3, start=3)])
    outcome, out = run_on(d, tmp_path)
    err = assert_clean_failure(outcome, "requests/part-1.parquet: column 'prompt': missing "
                               "required column in this file", out_dir=out)
    assert "null" not in err


def test_ts_as_free_text(tmp_path: Path) -> None:
    """`ts` text that is no timestamp is refused with the row and the value."""
    rows = [{**r, "ts": "yesterday" if i == 1 else r["ts"].isoformat()}
            for i, r in enumerate(request_rows(3))]
    d = make_export(tmp_path / "data", requests=rows)
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "requests.parquet: column 'ts': 1 value(s) cannot be read as "
                         "TIMESTAMPTZ (expected ISO-8601 text such as 2026-07-06T09:00:00Z; "
                         "first at row 1: 'yesterday')", out_dir=out)


def test_ts_of_unusable_type(tmp_path: Path) -> None:
    """`ts` stored as booleans is refused by its type."""
    d = make_export(tmp_path / "data", requests=[{**r, "ts": True} for r in request_rows(3)])
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "requests.parquet: column 'ts': has type BOOLEAN (expected "
                         "TIMESTAMP, TIMESTAMPTZ, epoch numbers or ISO-8601 text)", out_dir=out)


def test_tokens_with_letters(tmp_path: Path) -> None:
    """Token counts written as text with letters are refused with the row and the value."""
    rows = [{**r, "input_tokens": "12a" if i == 2 else "12"}
            for i, r in enumerate(request_rows(3))]
    d = make_export(tmp_path / "data", requests=rows)
    outcome, out = run_on(d, tmp_path)
    # Token counts are BIGINT in the contract (sums near 2^31 must not overflow).
    assert_clean_failure(outcome, "requests.parquet: column 'input_tokens': 1 value(s) cannot "
                         "be read as BIGINT (expected a whole number, digits only; first at "
                         "row 2: '12a')", out_dir=out)


def test_fractional_tokens(tmp_path: Path) -> None:
    """A fractional token count is refused rather than rounded."""
    rows = [{**r, "output_tokens": 80.5 if i == 0 else 80.0}
            for i, r in enumerate(request_rows(3))]
    d = make_export(tmp_path / "data", requests=rows)
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "column 'output_tokens': 1 value(s) cannot be read as "
                         "BIGINT (expected a whole number; first at row 0: '80.5')", out_dir=out)


def test_nested_type_for_text(tmp_path: Path) -> None:
    """A prompt stored as a struct is refused by its type, not flattened to text."""
    rows = [{**r, "prompt": {"role": "user", "text": "hi"}} for r in request_rows(2)]
    d = make_export(tmp_path / "data", requests=rows)
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "requests.parquet: column 'prompt': has type STRUCT(",
                         "(expected VARCHAR)", out_dir=out)


def test_epoch_numbers_of_mixed_units(tmp_path: Path) -> None:
    """Epoch seconds and milliseconds in one column are ambiguous and refused."""
    rows = [{**r, "ts": int(r["ts"].timestamp()) * (1000 if i == 0 else 1)}
            for i, r in enumerate(request_rows(3))]
    d = make_export(tmp_path / "data", requests=rows)
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "column 'ts': epoch numbers of mixed units (",
                         "seconds and milliseconds; expected one unit for every row)", out_dir=out)


def test_nulls_in_required_columns_all_reported(tmp_path: Path) -> None:
    """Nulls in two required columns give two problems, each with its column and first row."""
    rows = [{**r, "prompt": None if i == 1 else r["prompt"],
             "account_id": None if i == 2 else r["account_id"]}
            for i, r in enumerate(request_rows(4))]
    d = make_export(tmp_path / "data", requests=rows)
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(
        outcome, "2 input problems:",
        "requests.parquet: column 'account_id': 1 null value(s) in a required column (expected "
        "VARCHAR; first at row 2)",
        "requests.parquet: column 'prompt': 1 null value(s) in a required column (expected "
        "VARCHAR; first at row 1)", out_dir=out)


def test_conflicting_duplicate_request_id(tmp_path: Path) -> None:
    """One request_id used for two different requests aborts the run, naming both rows."""
    rows = request_rows(3)
    rows.append({**rows[0], "account_id": "acct_b"})
    d = make_export(tmp_path / "data", requests=rows, accounts=account_rows("acct_a", "acct_b"))
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(
        outcome, "requests.parquet: column 'request_id': 1 id(s) are used by rows with a "
        "different account_id or ts (first: 'req_acct_a_0000' at requests.parquet row 0 and "
        "requests.parquet row 3; expected unique ids, the export is inconsistent)", out_dir=out)


def test_conflicting_duplicate_account(tmp_path: Path) -> None:
    """One account_id listed twice with different creation times aborts the run."""
    accounts = account_rows("acct_a") + [{"account_id": "acct_a", "created_at": T0}]
    d = make_export(tmp_path / "data", accounts=accounts)
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "accounts.parquet: column 'account_id': 1 id(s) are used by "
                         "rows with a different created_at", out_dir=out)


def test_period_without_rows_names_the_span(tmp_path: Path) -> None:
    """A period with no requests is refused, naming the period and the span of the data."""
    d = make_export(tmp_path / "data")
    outcome, out = run_on(d, tmp_path, "--period", "2026Q1")
    assert_clean_failure(
        outcome, "requests.parquet: column 'ts': no requests in the period 2026Q1 "
        "(2026-01-01T00:00:00+00:00 – 2026-04-01T00:00:00+00:00); the data spans "
        "2026-07-06T09:00:00+00:00 – 2026-07-06T09:02:00+00:00", out_dir=out)


def test_unknown_indicator_type(tmp_path: Path) -> None:
    """An indicator of a type the tool does not know is refused with its line."""
    d = make_export(tmp_path / "data")
    (d / "indicators.csv").write_text("indicator_type,value,actor,source\n"
                                      "ip,1.2.3.4,APT-X,report\nipv4,5.6.7.8,APT-X,report\n")
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "indicators.csv: column 'indicator_type': 1 value(s) are not "
                         "allowed values (expected one of ip, cidr,", "first at line 3: 'ipv4'",
                         out_dir=out)


def test_single_file_and_folder_for_one_table(tmp_path: Path) -> None:
    """requests.parquet beside a requests/ folder is ambiguous and refused."""
    d = split_export(tmp_path / "data", files=1)
    write_table(d / "requests.parquet", request_rows(3, start=10))
    outcome, out = run_on(d, tmp_path)
    assert_clean_failure(outcome, "both requests.parquet and a folder requests/ of Parquet "
                         "files exist (expected one of them, not both)", out_dir=out)


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    """Problems in several tables and columns come in one block, one line each."""
    rows = [{**r, "prompt": None} for r in request_rows(2)]
    accounts = [{"account_id": "acct_a"}]  # no created_at
    d = make_export(tmp_path / "data", requests=rows, accounts=accounts)
    outcome, out = run_on(d, tmp_path)
    err = assert_clean_failure(outcome, "2 input problems:", "column 'prompt': 2 null value(s)",
                               "accounts.parquet: column 'created_at': missing required column",
                               out_dir=out)
    assert len(err.splitlines()) == 3


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    """--debug adds the traceback to the error; without it there is none."""
    outcome = run_cli("validate", tmp_path / "nope", "--debug")
    assert outcome.exit_code == 2
    assert "Traceback" in outcome.stderr and "Error: " in outcome.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    """A usage mistake (missing --out) exits 2 like other bad input."""
    outcome = run_cli("run", tmp_path)
    assert outcome.exit_code == 2
    assert "Missing option '--out'" in outcome.stderr


# --- property tests: random broken tables are always refused cleanly -------------------------

_REQUIRED = ["request_id", "ts", "account_id", "model", "prompt", "input_tokens",
             "output_tokens"]


def _base_rows(n: int) -> list[dict[str, Any]]:
    return request_rows(n, "acct_a")


@st.composite
def broken_requests(draw: st.DrawFn) -> tuple[list[dict[str, Any]], str]:
    """Valid requests with one defect: a null in a required column, an uncastable value, or a
    request_id reused for another request."""
    n = draw(st.integers(1, 12))
    rows = _base_rows(n)
    at = draw(st.integers(0, n - 1))
    kind = draw(st.sampled_from(["null", "bad_ts", "bad_tokens", "conflict"]))
    if kind == "conflict":
        other = draw(st.sampled_from([{"account_id": "acct_other"},
                                      {"ts": rows[at]["ts"] + timedelta(seconds=1)}]))
        rows.insert(draw(st.integers(0, n)), {**rows[at], **other})
        return rows, "request_id"
    if kind == "null":
        column = draw(st.sampled_from(_REQUIRED))
        rows[at][column] = None
        return rows, column
    letters = draw(st.text(st.characters(categories=("Lu", "Ll", "Lo")), min_size=1,
                           max_size=12))
    if kind == "bad_ts":
        for r in rows:
            r["ts"] = r["ts"].isoformat()
        rows[at]["ts"] = letters
        return rows, "ts"
    column = draw(st.sampled_from(["input_tokens", "output_tokens"]))
    for r in rows:
        r[column] = str(r[column])
    rows[at][column] = draw(st.sampled_from(["", "1"])) + letters
    return rows, column


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_requests())
def test_property_broken_tables_are_refused(case: tuple[list[dict[str, Any]], str]) -> None:
    """Any required-column null, uncastable value or reused id exits 2, names the column and
    writes nothing."""
    rows, column = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        d = make_export(tmp_path / "data", requests=rows)
        outcome, out = run_on(d, tmp_path)
        assert_clean_failure(outcome, f"column {column!r}", out_dir=out)


def test_property_helper_builds_valid_rows() -> None:
    """The rows the broken-table strategy starts from are themselves accepted."""
    with tempfile.TemporaryDirectory() as tmp:
        d = make_export(Path(tmp) / "data", requests=_base_rows(3))
        assert run_cli("validate", d).exit_code == 0
