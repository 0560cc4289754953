"""The tables and views ingest hands to the next stages, and nothing else of its own.

- `requests`, `accounts`, `model_releases`, `indicators`: the contract's tables (schema.py)
  with canonical names and types, the analysed rows only (an absent optional table is an
  empty table).
- `ingest_issues (table_name, column_name, count, message)`: the data-quality notes.

The views of a kept database (--workdir) are reused by later runs as they are.
"""

from __future__ import annotations

import duckdb

from forensics import schema, sqltext
from forensics.ingest.results import DataIssue
from forensics.ingest.rules import Kept

_q = sqltext.identifier


def create_empty_table(con: duckdb.DuckDBPyConnection, table: schema.Table) -> None:
    """An empty canonical table, so heuristics over an absent optional table still prepare."""
    cols = ", ".join(f"{_q(c.name)} {c.type}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE {table.name} ({cols})")


def create_canonical_view(con: duckdb.DuckDBPyConnection, table: schema.Table,
                          kept: Kept) -> None:
    """The view of a contract table: canonical columns of the rows the table keeps."""
    select = ", ".join(_q(c.name) for c in table.columns)
    con.execute(f"CREATE OR REPLACE VIEW {table.name} AS SELECT {select} {kept.sql}")


def record_issues(con: duckdb.DuckDBPyConnection, issues: list[DataIssue]) -> None:
    """The `ingest_issues` table: the data-quality notes, for the dossier's section on them."""
    con.execute("CREATE OR REPLACE TABLE ingest_issues (table_name VARCHAR, column_name VARCHAR, "
                "count BIGINT, message VARCHAR)")
    if issues:
        con.executemany("INSERT INTO ingest_issues VALUES (?, ?, ?, ?)",
                        [(i.table, i.column, i.count, i.message) for i in issues])
