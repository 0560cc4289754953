"""The tables and views ingest hands to the next stages, and nothing else of its own.

- `requests`, `accounts`, `model_releases`, `indicators`: the contract's tables (schema.py)
  with canonical names and types, the analysed rows only (an absent optional table is an
  empty table).
- `request_locations (request_id, file, "row")`: where each row of `requests` was read. `file`
  is the path relative to the data directory, as the manifest lists it (`requests.parquet`,
  `requests/date=2026-07-01/part-0.parquet`); `row` is the row's position in that Parquet
  file, counted from 0 (DuckDB's `file_row_number`). One row per request of `requests`.
- `requests_at(file, rows)`: a table macro, the `requests` columns of the given rows of one
  file, read without scanning the other files or the row groups that hold none of them.
  Locations come from `request_locations`; any other row is returned as read, unfiltered.
- `ingest_issues (table_name, column_name, count, message)`: the data-quality notes.

The views of a kept database (--workdir) are reused by later runs as they are.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from forensics import schema, sqltext
from forensics.ingest.results import DataIssue
from forensics.ingest.rules import Kept

REQUEST_LOCATIONS = "request_locations"
REQUESTS_AT = "requests_at"

_q = sqltext.identifier


def create_empty_table(con: duckdb.DuckDBPyConnection, table: schema.Table) -> None:
    """An empty canonical table, so heuristics over an absent optional table still prepare."""
    cols = ", ".join(f"{_q(c.name)} {c.type}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE {table.name} ({cols})")


def create_empty_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Everything ingest hands on, empty: to prepare queries, or to list what they may read."""
    for table in schema.TABLES:
        create_empty_table(con, table)
    con.execute(f"CREATE OR REPLACE TABLE {REQUEST_LOCATIONS} "
                f"(request_id VARCHAR, file VARCHAR, \"row\" BIGINT)")
    con.execute(f"CREATE OR REPLACE MACRO {REQUESTS_AT}(file, \"rows\") AS TABLE "
                f"SELECT * FROM requests LIMIT 0")


def create_canonical_view(con: duckdb.DuckDBPyConnection, table: schema.Table,
                          kept: Kept) -> None:
    """The view of a contract table: canonical columns of the rows the table keeps."""
    select = ", ".join(_q(c.name) for c in table.columns)
    con.execute(f"CREATE OR REPLACE VIEW {table.name} AS SELECT {select} {kept.sql}")


def create_request_locations(con: duckdb.DuckDBPyConnection, typed: str, kept: Kept,
                             data_dir: Path) -> None:
    """`request_locations` over the rows `requests` keeps, and `requests_at` over `typed`.

    Both name a file by its path inside the data directory, cut from the path DuckDB read
    (data directory, "/", relative path). A filter on that cut path still selects files
    before reading them: DuckDB tests it on each file name, as it would `__file` itself.
    """
    file = f"substr(__file, {len(str(data_dir).rstrip('/')) + 2})"
    con.execute(f"CREATE OR REPLACE VIEW {REQUEST_LOCATIONS} AS SELECT request_id, "
                f"{file} AS file, __row AS \"row\" {kept.sql}")
    select = ", ".join(_q(c.name) for c in schema.table("requests").columns)
    con.execute(f"CREATE OR REPLACE MACRO {REQUESTS_AT}(file, \"rows\") AS TABLE "
                f"SELECT {select} FROM {typed} "
                f"WHERE {file} = file AND list_contains(\"rows\", __row)")


def record_issues(con: duckdb.DuckDBPyConnection, issues: list[DataIssue]) -> None:
    """The `ingest_issues` table: the data-quality notes, for the dossier's section on them."""
    con.execute("CREATE OR REPLACE TABLE ingest_issues (table_name VARCHAR, column_name VARCHAR, "
                "count BIGINT, message VARCHAR)")
    if issues:
        con.executemany("INSERT INTO ingest_issues VALUES (?, ?, ?, ?)",
                        [(i.table, i.column, i.count, i.message) for i in issues])
