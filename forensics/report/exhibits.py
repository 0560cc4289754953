"""Exhibits: the full evidence behind each finding, as CSV files written beside the PDF (under
`exhibits/`) and, up to ATTACH_MAX_BYTES each, embedded in it as PDF/A-3b attachments.

CSV cells hold the evidence verbatim (log text included, cut only where the exhibit says so):
an exhibit is data, not display. Open them as text or with a CSV reader; a cell may begin
with `=` or `+` because an attacker wrote it so.

Every exhibit is written by DuckDB's CSV writer (one quoting rule for all): rows built in
Python are formatted by `cell` first; rows straight from a report query (the large exhibits
of a campaign of thousands of accounts) are formatted the same way in SQL (`cell_sql`), so
they never pass through Python at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from forensics.outputs import file_digest
from forensics.report.context import Exhibit

EXHIBITS_DIR = "exhibits"
# Exhibits up to this size are also embedded in the PDF. Larger ones (the signals of a
# campaign of thousands of accounts) stay beside it, bound by the SHA-256 the PDF prints:
# compressing and embedding tens of megabytes would make the render grow with the input.
ATTACH_MAX_BYTES = 2 * 1024 * 1024


def cell(value: Any) -> str:
    """One value as CSV text, the same on every run (ISO times, repr floats, ; lists)."""
    # Exact types first: a large cluster's exhibits in the public profile have a million cells.
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return repr(round(value, 6))
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, list | tuple):
        return ";".join(cell(v) for v in value)
    return str(value)


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "UHUGEINT"}
_ISO_SECONDS = "%Y-%m-%dT%H:%M:%S"


def cell_sql(column: str, type_name: str) -> str | None:
    """SQL giving what `cell` gives for a value of this DuckDB type, NULL for an empty cell;
    None for a type it does not know (the caller then formats in Python). Times assume the
    session time zone is UTC, as the run's connection sets it."""
    c = '"' + column.replace('"', '""') + '"'
    t = type_name.upper()
    if t == "VARCHAR":
        return f"nullif({c}, '')"
    if t == "BOOLEAN":
        return f"CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' END"
    if t in _INTEGERS or t.startswith("DECIMAL"):
        return f"CAST({c} AS VARCHAR)"
    if t in ("DOUBLE", "FLOAT"):
        return f"CAST(round(CAST({c} AS DOUBLE), 6) AS VARCHAR)"
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"):
        offset = "+00:00" if t.endswith("ZONE") else ""
        return (f"strftime({c}, CASE WHEN epoch_us({c}) % 1000000 = 0 "
                f"THEN '{_ISO_SECONDS}{offset}' ELSE '{_ISO_SECONDS}.%f{offset}' END)")
    if t == "DATE":
        return f"CAST({c} AS VARCHAR)"
    if t == "VARCHAR[]":
        return f"nullif(array_to_string(list_transform({c}, lambda e: coalesce(e, '')), ';'), '')"
    return None


# DuckDB's CSV writer, as every exhibit uses it: header, comma, double quotes, NULL as an
# empty cell, LF line ends; ORDER BY in the query is kept.
_COPY_OPTIONS = "(FORMAT csv, HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '')"


@dataclass
class ExhibitWriter:
    """Numbers exhibits EX-001, EX-002… in the order they are written."""

    out_dir: Path
    con: duckdb.DuckDBPyConnection
    written: list[Exhibit]

    def __init__(self, out_dir: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.out_dir = out_dir
        self.con = con
        self.written = []
        (out_dir / EXHIBITS_DIR).mkdir(exist_ok=True)

    def add(self, slug: str, title: str, description: str, columns: Sequence[str],
            rows: Sequence[dict[str, Any]], cluster_id: str | None = None) -> Exhibit:
        """Write one exhibit of rows built in Python and return its inventory entry."""
        order = "exhibit_row_number"  # scans of an Arrow table may run in any order
        table = pa.table({order: pa.array(range(len(rows)), type=pa.int64()),
                          **{c: pa.array([cell(r.get(c)) or None for r in rows],
                                         type=pa.string()) for c in columns}})
        view = "exhibit_rows"
        self.con.register(view, table)
        try:
            return self._copy(slug, title, description,
                              f"SELECT * EXCLUDE ({order}) FROM {view} ORDER BY {order}", {},
                              cluster_id)
        finally:
            self.con.unregister(view)

    def add_query(self, slug: str, title: str, description: str, sql: str,
                  params: dict[str, Any], cluster_id: str | None = None) -> Exhibit:
        """Write one exhibit straight from a query (its columns and ORDER BY as they are)."""
        described = self.con.execute(f"SELECT * FROM ({sql}) LIMIT 0", params).description
        columns = [(d[0], str(d[1])) for d in described or ()]
        formatted = [cell_sql(name, type_name) for name, type_name in columns]
        if any(f is None for f in formatted):  # a type cell_sql does not know
            cur = self.con.execute(sql, params)
            names = [name for name, _ in columns]
            return self.add(slug, title, description, names,
                            [dict(zip(names, r, strict=True)) for r in cur.fetchall()],
                            cluster_id)
        select = ", ".join(f'{f} AS "{name.replace(chr(34), chr(34) * 2)}"'
                           for f, (name, _) in zip(formatted, columns, strict=True))
        return self._copy(slug, title, description,
                          f"SELECT {select} FROM ({sql}) AS exhibit", params, cluster_id)

    def _copy(self, slug: str, title: str, description: str, sql: str,
              params: dict[str, Any], cluster_id: str | None) -> Exhibit:
        number = f"EX-{len(self.written) + 1:03d}"
        filename = f"{number}-{slug}.csv"
        path = self.out_dir / EXHIBITS_DIR / filename
        literal = "'" + str(path).replace("'", "''") + "'"
        row = self.con.execute(f"COPY ({sql}) TO {literal} {_COPY_OPTIONS}", params).fetchone()
        size = path.stat().st_size
        exhibit = Exhibit(id=number, title=title, description=description,
                          path=f"{EXHIBITS_DIR}/{filename}", filename=filename,
                          rows=int(row[0]) if row else 0, size=size,
                          sha256=file_digest(path), cluster_id=cluster_id,
                          attached=size <= ATTACH_MAX_BYTES)
        self.written.append(exhibit)
        return exhibit
