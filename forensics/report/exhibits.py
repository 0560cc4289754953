"""Exhibits: the full evidence behind each finding, as CSV files written beside the PDF (under
`exhibits/`) and, up to ATTACH_MAX_BYTES each, embedded in it as PDF/A-3b attachments; each
with a Parquet copy of the same cells beside it.

Cells hold the evidence verbatim (log text included, cut only where the exhibit says so):
an exhibit is data, not display. One exception, in the CSV only: a text cell that a
spreadsheet would read as a formula (it begins with =, +, -, @, tab or CR, as an attacker can
make a prompt begin) gets a leading apostrophe (`formula_safe_sql`, OWASP's advice against
CSV injection), so that opening an exhibit in a spreadsheet cannot run a formula or send
other cells to a URL. Numbers, times and dates are written as such and never escaped. The
Parquet copy holds the cells unescaped, for analysts who load an exhibit rather than open it.

Every exhibit is written by DuckDB (one quoting and one escaping rule for all): rows built in
Python are formatted by `cell` first; rows straight from a report query (the large exhibits
of a campaign of thousands of accounts) are formatted the same way in SQL (`cell_sql`), so
they never pass through Python at all. The formatted cells are written to the Parquet copy,
and the CSV is written from that copy, so the query runs once and the two cannot differ but
for the escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from forensics import sqltext
from forensics.outputs import file_digest
from forensics.report.context import Exhibit

EXHIBITS_DIR = "exhibits"
# First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
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
    c = sqltext.identifier(column)
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
        whole = sqltext.string(f"{_ISO_SECONDS}{offset}")
        fraction = sqltext.string(f"{_ISO_SECONDS}.%f{offset}")
        return (f"strftime({c}, CASE WHEN epoch_us({c}) % 1000000 = 0 "
                f"THEN {whole} ELSE {fraction} END)")
    if t == "DATE":
        return f"CAST({c} AS VARCHAR)"
    if t == "VARCHAR[]":
        return f"nullif(array_to_string(list_transform({c}, lambda e: coalesce(e, '')), ';'), '')"
    return None


def formula_safe_sql(expr: str) -> str:
    """SQL for the text cell `expr` as the CSV holds it: with a leading apostrophe when it
    begins with a character that starts a formula (FORMULA_LEADS), else unchanged; NULL stays
    NULL. The one place where every CSV exhibit's text cells are escaped."""
    leads = ", ".join(f"chr({ord(ch)})" for ch in FORMULA_LEADS)
    # left() counts code points, not graphemes: CR LF is one grapheme, but begins with CR.
    return f"CASE WHEN left({expr}, 1) IN ({leads}) THEN chr(39) || {expr} ELSE {expr} END"


def is_text_type(type_name: str) -> bool:
    """Whether `cell_sql` writes values of this DuckDB type as text (escaped in the CSV).
    Numbers, booleans, times and dates are written as what they are: `-0.5` in a numeric
    column is a number to a spreadsheet, not a formula."""
    return type_name.upper() in ("VARCHAR", "VARCHAR[]")


def is_text_value(value: Any) -> bool:
    """Whether `cell` writes this Python value as text (escaped in the CSV): strings, lists
    and anything else that is not empty, a number, a boolean, a time or a date."""
    return not (value is None or isinstance(value, bool | int | float | Decimal | datetime
                                                   | date))


_quoted = sqltext.identifier


# DuckDB's CSV writer, as every exhibit uses it: header, comma, double quotes, NULL as an
# empty cell, LF line ends; ORDER BY in the query is kept.
_COPY_OPTIONS = "(FORMAT csv, HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '')"
# The Parquet copy, with fixed settings (codec, row group size) so that the same cells give
# the same bytes; its rows are in the query's ORDER BY, and the CSV reads them in file order.
_PARQUET_OPTIONS = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"


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
        """Write one exhibit of rows built in Python and return its inventory entry. A column
        is text (escaped in the CSV) when any of its values is (`is_text_value`)."""
        order = "exhibit_row_number"  # scans of an Arrow table may run in any order
        table = pa.table({order: pa.array(range(len(rows)), type=pa.int64()),
                          **{c: pa.array([cell(r.get(c)) or None for r in rows],
                                         type=pa.string()) for c in columns}})
        text = [c for c in columns if any(is_text_value(r.get(c)) for r in rows)]
        view = "exhibit_rows"
        self.con.register(view, table)
        try:
            return self._copy(slug, title, description,
                              f"SELECT * EXCLUDE ({order}) FROM {view} ORDER BY {order}", {},
                              list(columns), text, cluster_id)
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
        select = ", ".join(f"{f} AS {_quoted(name)}"
                           for f, (name, _) in zip(formatted, columns, strict=True))
        return self._copy(slug, title, description,
                          f"SELECT {select} FROM ({sql}) AS exhibit", params,
                          [name for name, _ in columns],
                          [name for name, type_name in columns if is_text_type(type_name)],
                          cluster_id)

    def _copy(self, slug: str, title: str, description: str, sql: str,
              params: dict[str, Any], columns: list[str], text: list[str],
              cluster_id: str | None) -> Exhibit:
        """Write the cells `sql` gives (all text, in order) to the Parquet copy, then the CSV
        from that copy with the `text` columns escaped."""
        number = f"EX-{len(self.written) + 1:03d}"
        filename = f"{number}-{slug}.csv"
        path = self.out_dir / EXHIBITS_DIR / filename
        parquet = path.with_suffix(".parquet")
        # COPY … TO takes its target as a plain string (no globbing); read_parquet below needs
        # the file named literally (forensics/sqltext.py).
        self.con.execute(f"COPY ({sql}) TO {sqltext.string(str(parquet))} {_PARQUET_OPTIONS}",
                         params)
        escaped = set(text)
        select = ", ".join(f"{formula_safe_sql(_quoted(c)) if c in escaped else _quoted(c)} "
                           f"AS {_quoted(c)}" for c in columns)
        # file_row_number: the Parquet copy's rows in the order written, whatever the scan.
        source = f"read_parquet({sqltext.file_literal(parquet)}, file_row_number = true)"
        row = self.con.execute(f"COPY (SELECT {select} FROM {source} ORDER BY file_row_number) "
                               f"TO {sqltext.string(str(path))} {_COPY_OPTIONS}").fetchone()
        size = path.stat().st_size
        exhibit = Exhibit(id=number, title=title, description=description,
                          path=f"{EXHIBITS_DIR}/{filename}", filename=filename,
                          rows=int(row[0]) if row else 0, size=size,
                          sha256=file_digest(path), cluster_id=cluster_id,
                          attached=size <= ATTACH_MAX_BYTES,
                          parquet_path=f"{EXHIBITS_DIR}/{parquet.name}",
                          parquet_size=parquet.stat().st_size,
                          parquet_sha256=file_digest(parquet))
        self.written.append(exhibit)
        return exhibit
