"""Ingest: valid exports in every accepted shape load, with exact provenance and row accounting."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics import schema
from forensics.config import Window
from forensics.ingest import IngestResult, ingest

from .conftest import (
    T0,
    FullRun,
    account_rows,
    make_export,
    request_rows,
    run_cli,
    write_table,
)

FORENSICS = Path(sys.executable).parent / "forensics"


def load(data_dir: Path, columns: dict[str, dict[str, str]] | None = None,
         window: Window | None = None) -> tuple[IngestResult, duckdb.DuckDBPyConnection]:
    """Ingest into a fresh in-memory database; return the result and the connection."""
    con = duckdb.connect()
    return ingest(con, data_dir, columns, window), con


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The single value `sql` returns."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def assert_accounting_adds_up(result: IngestResult) -> None:
    """rows read = rows excluded (all reasons) + rows analysed, for every table."""
    for t in result.tables.values():
        assert t.rows_read == sum(t.rows_excluded.values()) + t.rows_analysed, t
        assert t.rows_read == sum(f.rows for f in t.files), t


def test_single_file_export_loads(data_dir: Path) -> None:
    """The minimal export loads into typed canonical views with every contract column."""
    result, con = load(data_dir)
    assert result.tables["requests"].rows_analysed == 12
    assert result.tables["accounts"].rows_analysed == 2
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE requests)")
                 .fetchall())
    assert types == {c.name: ("TIMESTAMP WITH TIME ZONE" if c.type == "TIMESTAMPTZ" else c.type)
                     for c in schema.REQUESTS.columns}
    assert result.has_column("requests", "prompt")
    assert not result.has_column("requests", "ip")
    assert scalar(con, "SELECT count(*) FROM requests WHERE ip IS NOT NULL") == 0
    assert_accounting_adds_up(result)


def test_multi_file_folder_loads(tmp_path: Path) -> None:
    """A folder of several Parquet files is one table, each file listed with its rows."""
    d = tmp_path / "data"
    write_table(d / "accounts.parquet", account_rows("acct_a", "acct_b"))
    write_table(d / "requests" / "a.parquet", request_rows(4, "acct_a"))
    write_table(d / "requests" / "b.parquet", request_rows(5, "acct_b"))
    result, con = load(d)
    t = result.tables["requests"]
    assert [(f.path, f.rows) for f in t.files] == [("requests/a.parquet", 4),
                                                   ("requests/b.parquet", 5)]
    assert scalar(con, "SELECT count(*) FROM requests") == 9
    assert_accounting_adds_up(result)


def test_hive_partitioned_folder_loads(tmp_path: Path) -> None:
    """Hive-partitioned folders (requests/date=…/part-0.parquet) load as one table."""
    d = tmp_path / "data"
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    write_table(d / "requests" / "date=2026-07-01" / "part-0.parquet", request_rows(3))
    write_table(d / "requests" / "date=2026-07-02" / "part-0.parquet",
                request_rows(2, start=10))
    write_table(d / "model_releases" / "part-0.parquet",
                [{"model": "atlas-3", "released_at": T0 - timedelta(days=90)}])
    result, con = load(d)
    assert [f.path for f in result.tables["requests"].files] == [
        "requests/date=2026-07-01/part-0.parquet", "requests/date=2026-07-02/part-0.parquet"]
    assert scalar(con, "SELECT count(*) FROM requests") == 5
    assert scalar(con, "SELECT count(*) FROM model_releases") == 1
    assert_accounting_adds_up(result)


def test_spark_folder_named_like_a_file_loads(tmp_path: Path) -> None:
    """A Spark output folder requests.parquet/ with part files and _SUCCESS loads."""
    d = tmp_path / "data"
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    write_table(d / "requests.parquet" / "part-00000-abc.snappy.parquet", request_rows(3))
    (d / "requests.parquet" / "_SUCCESS").write_text("")
    result, _ = load(d)
    assert result.tables["requests"].rows_analysed == 3


def test_column_mapping_end_to_end(tmp_path: Path, full_run: FullRun) -> None:
    """[columns.requests] account_id = "customer_id" feeds the canonical account_id and is
    recorded in the manifest."""
    rows = [{("customer_id" if k == "account_id" else k): v for k, v in r.items()}
            for r in request_rows(3)]
    d = make_export(tmp_path / "data", requests=rows)
    result, con = load(d, {"requests": {"account_id": "customer_id"}})
    assert con.execute("SELECT DISTINCT account_id FROM requests").fetchall() == [("acct_a",)]
    assert result.tables["requests"].mapping == {"account_id": "customer_id"}

    requests = full_run.manifest["inputs"]["tables"]["requests"]
    assert requests["column_mapping"] == {"account_id": "customer_id"}
    assert "account_id" in requests["columns_present"]
    assert full_run.manifest["config"]["case"]["columns"] == {
        "requests": {"account_id": "customer_id"}}


def test_indicators_as_csv(tmp_path: Path) -> None:
    """indicators.csv loads; types are normalised to lower case and rows are counted."""
    d = make_export(tmp_path / "data")
    (d / "indicators.csv").write_text("indicator_type,value,actor,source\n"
                                      "IP,203.0.113.7,APT-X,report 1\n"
                                      "cidr,198.51.100.0/24,APT-X,\n", encoding="utf-8")
    result, con = load(d)
    t = result.tables["indicators"]
    assert [(f.path, f.rows) for f in t.files] == [("indicators.csv", 2)]
    assert con.execute("SELECT indicator_type, value, actor FROM indicators ORDER BY value"
                       ).fetchall() == [("cidr", "198.51.100.0/24", "APT-X"),
                                        ("ip", "203.0.113.7", "APT-X")]
    assert_accounting_adds_up(result)


def test_indicators_from_parquet_and_csv_together(tmp_path: Path) -> None:
    """A folder of indicators may mix Parquet and CSV files."""
    d = make_export(tmp_path / "data")
    write_table(d / "indicators" / "a.parquet", [{"indicator_type": "email_domain",
                                                  "value": "x.example", "actor": "APT-X"}])
    (d / "indicators" / "b.csv").write_text("indicator_type,value,actor\nip,192.0.2.1,APT-Y\n")
    result, con = load(d)
    assert result.tables["indicators"].rows_analysed == 2
    assert scalar(con, "SELECT count(DISTINCT actor) FROM indicators") == 2


def test_manifest_hashes_match_hashlib(full_run: FullRun) -> None:
    """manifest.json lists each input file with its size and the SHA-256 hashlib computes."""
    listed = {f["path"]: f for t in full_run.manifest["inputs"]["tables"].values()
              for f in t.get("files", [])}
    assert sorted(listed) == ["accounts.parquet", "indicators.csv", "requests/part-0.parquet",
                              "requests/part-1.parquet"]
    for rel, entry in listed.items():
        data = (full_run.data_dir / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
        assert len(entry["schema_fingerprint"]) == 16
    assert [f["rows"] for f in full_run.manifest["inputs"]["tables"]["requests"]["files"]] == [
        12, 11]


def test_row_accounting_with_period_and_duplicates(tmp_path: Path) -> None:
    """Rows outside the period and repeated rows are excluded by reason, and the numbers add
    up in the result and in the canonical view."""
    july = request_rows(10, "acct_a")                      # 2026-07-06
    august = request_rows(4, "acct_a", start=60 * 24 * 30)  # 2026-08-05
    rows = july + august + [july[0], july[1], july[1], august[0]]
    d = make_export(tmp_path / "data", requests=rows)
    window = Window(label="2026-07", since=datetime(2026, 7, 1, tzinfo=UTC),
                    until=datetime(2026, 8, 1, tzinfo=UTC))
    result, con = load(d, window=window)
    t = result.tables["requests"]
    assert t.rows_read == 18
    assert t.rows_excluded == {"outside period": 5, "duplicate request_id": 3}
    assert t.rows_analysed == 10 == scalar(con, "SELECT count(*) FROM requests")
    assert_accounting_adds_up(result)



def test_manifest_row_accounting_adds_up(full_run: FullRun) -> None:
    """The manifest states rows read, excluded by reason and analysed per table; they add up."""
    tables = full_run.manifest["inputs"]["tables"]
    for name in ("requests", "accounts", "indicators"):
        entry = tables[name]
        assert entry["rows_read"] == sum(entry["rows_excluded"].values()) + entry["rows_analysed"]
        assert entry["rows_read"] == sum(f["rows"] for f in entry["files"])
    assert tables["requests"]["rows_read"] == 23
    assert tables["requests"]["rows_excluded"] == {"duplicate request_id": 3,
                                                   "outside period": 5}
    assert tables["requests"]["rows_analysed"] == 15
    assert full_run.manifest["inputs"]["window"]["label"] == "2026-07"


def test_duplicate_keeps_the_first_copy(tmp_path: Path) -> None:
    """Of two rows with one request_id, account and time, the one in the first file is kept."""
    d = tmp_path / "data"
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    first = request_rows(2)
    second = [{**first[0], "prompt": "re-exported copy"}]
    write_table(d / "requests" / "part-0.parquet", first)
    write_table(d / "requests" / "part-1.parquet", second)
    result, con = load(d)
    assert result.tables["requests"].rows_excluded == {"duplicate request_id": 1}
    assert con.execute("SELECT prompt FROM requests WHERE request_id = $r",
                       {"r": first[0]["request_id"]}).fetchall() == [(first[0]["prompt"],)]
    [issue] = [i for i in result.issues if i.column == "request_id"]
    assert issue.count == 1 and "first copy kept" in issue.message


EXPECTED = [T0 + timedelta(minutes=i) for i in range(4)]
_PLUS2 = timezone(timedelta(hours=2))
TS_FORMS: dict[str, tuple[list[Any], str]] = {
    "aware": (EXPECTED, ""),
    "naive": ([t.replace(tzinfo=None) for t in EXPECTED],
              "time-zone-naive timestamps read as UTC"),
    "epoch_s": ([int(t.timestamp()) for t in EXPECTED], "epoch seconds read as UTC"),
    "epoch_ms": ([int(t.timestamp() * 1000) for t in EXPECTED],
                 "epoch milliseconds read as UTC"),
    "epoch_us": ([int(t.timestamp() * 1_000_000) for t in EXPECTED],
                 "epoch microseconds read as UTC"),
    "epoch_float": ([t.timestamp() for t in EXPECTED], "epoch seconds read as UTC"),
    "iso_z": ([t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in EXPECTED],
              "ISO-8601 text with UTC offsets, converted to UTC"),
    "iso_naive": ([t.strftime("%Y-%m-%d %H:%M:%S") for t in EXPECTED],
                  "ISO-8601 text without a UTC offset, read as UTC"),
    "iso_mixed": ([t.astimezone(_PLUS2).isoformat() if i % 2 else t.replace(tzinfo=None)
                   .isoformat() for i, t in enumerate(EXPECTED)],
                  "ISO-8601 text: 2 value(s) with a UTC offset converted to UTC, 2 without "
                  "one read as UTC"),
}


@pytest.mark.parametrize("form", sorted(TS_FORMS))
def test_timestamp_forms_are_read_as_utc(tmp_path: Path, form: str) -> None:
    """Timestamps as Parquet timestamps (naive or aware), epoch numbers or ISO text give the
    same instants, and how they were read is recorded."""
    values, interpretation = TS_FORMS[form]
    rows = [{**r, "ts": v} for r, v in zip(request_rows(4), values, strict=True)]
    d = make_export(tmp_path / "data", requests=rows)
    result, con = load(d)
    got = [r[0] for r in con.execute("SELECT ts FROM requests ORDER BY ts").fetchall()]
    assert got == EXPECTED
    expected_notes = (f"ts: {interpretation}",) if interpretation else ()
    assert result.tables["requests"].interpretations == expected_notes


def test_timestamp_interpretation_in_manifest(tmp_path: Path, full_run: FullRun) -> None:
    """The manifest records how timestamps were read, and validate shows it as a note."""
    assert full_run.manifest["inputs"]["tables"]["requests"]["interpretations"] == [
        "ts: epoch milliseconds read as UTC"]
    rows = [{**r, "ts": int(r["ts"].timestamp() * 1000)} for r in request_rows(3)]
    d = make_export(tmp_path / "data", requests=rows)
    assert "note: requests.ts: epoch milliseconds read as UTC" in run_cli("validate", d).stdout


def test_naive_and_aware_files_mixed(tmp_path: Path) -> None:
    """Files with naive and with UTC timestamps load together; the naive ones are noted."""
    d = tmp_path / "data"
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    naive = [{**r, "ts": r["ts"].replace(tzinfo=None)} for r in request_rows(2)]
    write_table(d / "requests" / "a.parquet", naive)
    write_table(d / "requests" / "b.parquet", request_rows(2, start=2))
    result, con = load(d)
    assert [r[0] for r in con.execute("SELECT ts FROM requests ORDER BY ts").fetchall()] == \
        EXPECTED
    assert result.tables["requests"].interpretations == (
        "ts: time-zone-naive timestamps in 1 file(s) read as UTC",)


def test_orphan_requests_are_kept_and_counted(tmp_path: Path) -> None:
    """Requests whose account is not in accounts are kept and noted, not fatal."""
    rows = request_rows(3, "acct_a") + request_rows(2, "acct_ghost")
    d = make_export(tmp_path / "data", requests=rows)
    result, con = load(d)
    assert result.tables["requests"].rows_analysed == 5
    [issue] = [i for i in result.issues if i.column == "account_id"]
    assert issue.count == 2
    assert issue.message.startswith("2 request(s) from 1 account(s) not in accounts; kept")
    assert con.execute("SELECT table_name, column_name, count FROM ingest_issues").fetchall() \
        == [("requests", "account_id", 2)]
    outcome = run_cli("validate", d)
    assert outcome.exit_code == 0
    assert "note: requests.account_id: 2 request(s) from 1 account(s) not in accounts" in \
        outcome.stdout


def test_validate_reports_accounting(tmp_path: Path) -> None:
    """`forensics validate` prints rows read, analysed and excluded per table, then OK."""
    rows = request_rows(3)
    d = make_export(tmp_path / "data", requests=rows + [rows[0]])
    outcome = run_cli("validate", d)
    assert outcome.exit_code == 0, outcome.stderr
    assert "requests: 1 file(s), 4 rows read, 3 analysed, excluded: 1 duplicate request_id" \
        in outcome.stdout
    assert outcome.stdout.rstrip().endswith("OK")


def test_validate_from_another_working_directory(tmp_path: Path, data_dir: Path) -> None:
    """The installed command validates an export from any directory, by absolute or relative
    path."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for arg in (str(data_dir), "../data"):
        proc = subprocess.run([str(FORENSICS), "validate", arg], cwd=elsewhere,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.rstrip().endswith("OK")


def test_schema_prints_every_column() -> None:
    """`forensics schema` names every table and column of the contract with its type."""
    outcome = run_cli("schema")
    assert outcome.exit_code == 0
    for t in schema.TABLES:
        assert f"{t.name} ({'required' if t.required else 'optional'})" in outcome.stdout
        for c in t.columns:
            line = next(x for x in outcome.stdout.splitlines() if x.split()[:1] == [c.name]
                        and c.type in x.split())
            assert ("required" if c.required else "optional") in line


# --- property tests: random valid tables always load and always add up ----------------------

_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=30),  # any code point but surrogates
    st.sampled_from(["😀🚀", "中文提示：请逐步思考", "مرحبا بالعالم", "\u202eevil\u202c",
                     "a\u200bb", "\x00nul\x00", "line\nbreak\ttab\r", "<script>x</script>",
                     "{{ 7*7 }}"]),
)
_INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                         timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=0))
_TS_FORMS = ["aware", "naive", "epoch_s", "epoch_ms", "iso_z", "iso_naive", "iso_offset"]
_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "ip": _TEXT, "user_agent": _TEXT, "system_prompt": _TEXT, "response": _TEXT,
    "turn_index": st.integers(0, 2**31 - 1), "temperature": st.floats(0, 2),
    "thinking": st.booleans(), "max_tokens": st.integers(0, 2**31 - 1),
}


def _ts_value(t: datetime, form: str, offset_hours: int) -> Any:
    if form == "aware":
        return t
    if form == "naive":
        return t.replace(tzinfo=None)
    if form == "epoch_s":
        return int(t.timestamp())
    if form == "epoch_ms":
        return int(t.timestamp()) * 1000
    if form == "iso_z":
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == "iso_naive":
        return t.strftime("%Y-%m-%d %H:%M:%S")
    return t.astimezone(timezone(timedelta(hours=offset_hours))).isoformat()


@st.composite
def valid_exports(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid export: unicode everywhere, optional columns with nulls, a timestamp
    form, exact re-exported duplicates, orphan accounts and maybe a start of the window."""
    n = draw(st.integers(1, 15))
    ids = draw(st.lists(_TEXT, min_size=n, max_size=n, unique=True))
    pool = draw(st.lists(_TEXT, min_size=1, max_size=4, unique=True))
    form = draw(st.sampled_from(_TS_FORMS))
    offset = draw(st.integers(-12, 14))
    optional = draw(st.lists(st.sampled_from(sorted(_OPTIONAL)), unique=True))
    instants = draw(st.lists(_INSTANTS, min_size=n, max_size=n))
    rows = []
    for rid, when in zip(ids, instants, strict=True):
        row = {"request_id": rid, "ts": _ts_value(when, form, offset),
               "account_id": draw(st.sampled_from(pool)), "model": draw(_TEXT),
               "prompt": draw(_TEXT), "input_tokens": draw(st.integers(0, 2**31 - 1)),
               "output_tokens": draw(st.integers(0, 2**31 - 1))}
        for col in optional:
            row[col] = draw(st.one_of(st.none(), _OPTIONAL[col]))
        rows.append(row)
    copies = draw(st.lists(st.integers(0, n - 1), max_size=4))
    known = draw(st.lists(st.sampled_from(pool), min_size=1, unique=True))
    since = draw(st.one_of(st.none(), st.sampled_from(instants)))
    return {"rows": rows + [dict(rows[i]) for i in copies], "instants": instants + [
        instants[i] for i in copies], "accounts": known, "since": since}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_exports())
def test_property_valid_tables_load_and_add_up(export: dict[str, Any]) -> None:
    """Any valid export passes ingest (what validate runs), its row accounting adds up exactly,
    and every kept text comes back unchanged."""
    rows, instants, since = export["rows"], export["instants"], export["since"]
    with tempfile.TemporaryDirectory() as tmp:
        d = make_export(Path(tmp) / "data", requests=rows, accounts=[
            {"account_id": a, "created_at": T0} for a in export["accounts"]])
        window = Window(since=since) if since else Window()
        result, con = load(d, window=window)
        t = result.tables["requests"]
        inside = [r for r, when in zip(rows, instants, strict=True) if not since or when >= since]
        distinct = {r["request_id"] for r in inside}
        expected = {"outside period": len(rows) - len(inside),
                    "duplicate request_id": len(inside) - len(distinct)}
        assert t.rows_read == len(rows)
        assert t.rows_excluded == {k: v for k, v in expected.items() if v}
        assert t.rows_analysed == len(distinct) == scalar(con, "SELECT count(*) FROM requests")
        assert_accounting_adds_up(result)
        stored = dict(con.execute("SELECT request_id, prompt FROM requests").fetchall())
        assert stored == {r["request_id"]: r["prompt"] for r in inside}
