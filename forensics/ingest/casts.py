"""From a file's column to the contract's: the cast of each column, how it was read (epoch
units, time zones) and the rule its values must meet.

Each cast is an SQL expression over the source view (loader.py). A cast that can fail has a
`checked` expression whose NULL, beside a non-NULL source value, marks a value that cannot be
read; the loader counts those in one scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from forensics import schema, sqltext

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
# Integer types that always fit the contract's INTEGER (32-bit) or BIGINT without a check.
_FITS = {"INTEGER": {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"},
         "BIGINT": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                    "UINTEGER"}}
# The bounds of a plausible time (schema.EARLIEST, LATEST) as SQL, in UTC.
EARLIEST_SQL = f"TIMESTAMPTZ {sqltext.string(schema.EARLIEST + ' 00:00:00+00')}"
LATEST_SQL = f"TIMESTAMPTZ {sqltext.string(schema.LATEST + ' 00:00:00+00')}"
_NESTED_MARKERS = ("STRUCT", "MAP(", "UNION(", "[]", "[")
# A time of day followed by a UTC offset, "Z" or a zone name: ISO text that carries its zone.
_ZONED_TEXT = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?|[A-Za-z][A-Za-z_/+-]*)$"

# Every identifier and literal in ingest's SQL goes through the one quoting module.
_q = sqltext.identifier
_lit = sqltext.string


@dataclass
class Column:
    """One contract column of a table being loaded: where it comes from and how it is cast."""

    canonical: schema.Column
    source: str | None  # None: absent optional column
    source_type: str | None = None
    expr: str = ""
    checked: str | None = None  # expression whose NULL (with source non-NULL) means a cast failed
    expected: str = ""  # what a value that fails `checked` should have been
    interpretation: str | None = None
    missing_in: tuple[str, ...] = ()  # files (as __file values) that lack the column
    # A rule a read value must meet: (SQL true for a breaking value, with {} for the value;
    # what such values are; what was expected).
    rule: tuple[str, str, str] | None = None


def source_note(col: Column) -> str:
    """` (source column 'x')` when the config maps the column from another name."""
    return "" if col.source in (None, col.canonical.name) else f" (source column {col.source!r})"


def value_rule(table: schema.Table, col: Column) -> tuple[str, str, str] | None:
    """The rule a column's read values must meet, if any (schema.RULES)."""
    c = col.canonical
    if col.source is None:
        return None
    if c.minimum is not None:
        return (f"{{}} < {int(c.minimum)}", f"below {c.minimum}",
                f"a count, {c.minimum} or more")
    if c.type == "TIMESTAMPTZ" and not (table.name == "requests" and c.name == "ts"):
        # Requests outside the bounds are excluded and counted instead (rules.finish_table).
        return (f"({{0}} < {EARLIEST_SQL} OR {{0}} >= {LATEST_SQL})",
                f"before {schema.EARLIEST} or from {schema.LATEST} on",
                f"a time from {schema.EARLIEST} to before {schema.LATEST}, UTC")
    return None


def cast_expr(col: Column, con: duckdb.DuckDBPyConnection, view: str,
              naive_files: int) -> str | None:
    """Set the canonical expression of one column; return a type problem or None."""
    target = col.canonical.type
    if col.source is None:
        col.expr = f"CAST(NULL AS {target})"
        return None
    src = _q(col.source)
    src_type = (col.source_type or "").upper()
    if target == "TIMESTAMPTZ":
        return _timestamp_expr(col, con, view, naive_files)
    if any(marker in src_type for marker in _NESTED_MARKERS):
        col.expr = f"CAST(NULL AS {target})"
        return f"has type {col.source_type} (expected {target})"
    if target == "VARCHAR":
        _text_expr(col, src, src_type)
    elif target in _FITS:
        _integer_expr(col, src, src_type, target)
    elif target == "BOOLEAN" and (src_type in _INTEGER_TYPES or src_type in _FLOAT_TYPES
                                  or src_type.startswith("DECIMAL")):
        # A cast would read every non-zero number as true: 2 or -1 is no yes/no answer.
        col.expr = f"CASE WHEN {src} = 1 THEN true WHEN {src} = 0 THEN false END"
        col.checked = col.expr
        col.expected = "true or false, or the numbers 1 and 0"
    elif src_type == target:
        col.expr = src
    else:
        inner = f"trim(CAST({src} AS VARCHAR))" if src_type == "VARCHAR" else src
        col.expr = f"TRY_CAST({inner} AS {target})"
        col.checked = col.expr
    return None


def _text_expr(col: Column, src: str, src_type: str) -> None:
    """A VARCHAR column; one with a fixed set of values is read trimmed, in lower case."""
    if src_type == "VARCHAR":
        col.expr = src
    elif src_type == "BLOB":
        # Binary columns without a UTF-8 annotation: text, unless the bytes are not UTF-8.
        col.expr = f"TRY(decode({src}))"
        col.checked = col.expr
        col.expected = "UTF-8 text"
    else:
        col.expr = f"CAST({src} AS VARCHAR)"
    if col.canonical.choices:
        choices = ", ".join(_lit(c) for c in col.canonical.choices)
        col.expr = f"lower(trim({col.expr}))"
        col.checked = f"CASE WHEN {col.expr} IN ({choices}) THEN true END"
        col.expected = f"one of {', '.join(col.canonical.choices)}"


def _integer_expr(col: Column, src: str, src_type: str, target: str) -> None:
    """An INTEGER or BIGINT column: whole numbers only, never rounded, never wrapped."""
    if src_type in _FITS[target]:
        col.expr = src if src_type == target else f"CAST({src} AS {target})"
        return
    if src_type in _INTEGER_TYPES:
        col.expr = f"TRY_CAST({src} AS {target})"
        col.expected = f"a whole number below 2^{31 if target == 'INTEGER' else 63}"
    elif src_type in _FLOAT_TYPES or src_type.startswith("DECIMAL"):
        # TRY_CAST rounds 12.5 to 13; a fractional count is an error, not a count.
        col.expr = f"CASE WHEN {src} = trunc({src}) THEN TRY_CAST({src} AS {target}) END"
        col.expected = "a whole number"
    else:
        text = f"trim(CAST({src} AS VARCHAR))"
        col.expr = (f"CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+') "
                    f"THEN TRY_CAST({text} AS {target}) END")
        col.expected = "a whole number, digits only"
    col.checked = col.expr


def _epoch_unit(magnitude: float) -> tuple[str, str]:
    """Unit of an epoch number by its magnitude, and the SQL that reads it (with `{}`)."""
    # Unambiguous by magnitude for any date between 1973 and 5138.
    if magnitude < 1e11:
        return "seconds", "to_timestamp(CAST({} AS DOUBLE))"
    if magnitude < 1e14:
        return "milliseconds", "CAST(epoch_ms(CAST({} AS BIGINT)) AS TIMESTAMPTZ)"
    if magnitude < 1e17:
        return "microseconds", "CAST(make_timestamp(CAST({} AS BIGINT)) AS TIMESTAMPTZ)"
    return "nanoseconds", "CAST(make_timestamp(CAST({} AS BIGINT) // 1000) AS TIMESTAMPTZ)"


def _timestamp_expr(col: Column, con: duckdb.DuckDBPyConnection, view: str,
                    naive_files: int) -> str | None:
    """Set the cast of a TIMESTAMPTZ column and how it was read; return a problem or None."""
    src = _q(col.source or "")
    t = (col.source_type or "").upper()
    expected = "TIMESTAMP, TIMESTAMPTZ, epoch numbers or ISO-8601 text"
    if "WITH TIME ZONE" in t or t.startswith("TIMESTAMPTZ"):
        col.expr = src if t == "TIMESTAMP WITH TIME ZONE" else f"CAST({src} AS TIMESTAMPTZ)"
        if naive_files:
            # Files disagree: DuckDB read the naive ones in the session time zone, UTC.
            col.interpretation = (f"time-zone-naive timestamps in {naive_files} file(s) "
                                  f"read as UTC")
        return None
    if t.startswith("TIMESTAMP"):
        col.expr = f"CAST({src} AS TIMESTAMPTZ)"
        col.interpretation = "time-zone-naive timestamps read as UTC"
        return None
    if t == "DATE":
        col.expr = f"CAST({src} AS TIMESTAMPTZ)"
        col.interpretation = "dates read as midnight UTC"
        return None
    if t in _INTEGER_TYPES or t in _FLOAT_TYPES or t.startswith("DECIMAL"):
        return _epoch_expr(col, con, view, src)
    if t == "VARCHAR":
        _iso_text_expr(col, con, view, src)
        return None
    col.expr = "CAST(NULL AS TIMESTAMPTZ)"
    return f"has type {col.source_type} (expected {expected})"


def _epoch_expr(col: Column, con: duckdb.DuckDBPyConnection, view: str,
                src: str) -> str | None:
    """Epoch numbers, in the one unit their magnitudes share; mixed units are a problem."""
    number = f"CAST({src} AS DOUBLE)"
    row = con.execute(f"SELECT min(abs({number})), max(abs({number})) FROM {view} "
                      f"WHERE isfinite({number})").fetchone()
    low, high = (float(row[0]), float(row[1])) if row and row[0] is not None else (0.0, 0.0)
    unit, template = _epoch_unit(high)
    if _epoch_unit(low)[0] != unit:
        col.expr = "CAST(NULL AS TIMESTAMPTZ)"
        return (f"epoch numbers of mixed units (from {low:.0f} to {high:.0f}: "
                f"{_epoch_unit(low)[0]} and {unit}; expected one unit for every row)")
    # TRY: an infinite or out-of-range number is reported as a value, not a crash.
    col.expr = f"CASE WHEN isfinite({number}) THEN TRY({template.format(src)}) END"
    col.checked = col.expr
    col.expected = f"epoch {unit}"
    col.interpretation = f"epoch {unit} read as UTC"
    return None


def _iso_text_expr(col: Column, con: duckdb.DuckDBPyConnection, view: str, src: str) -> None:
    """ISO-8601 text, with or without a UTC offset (counted, for the interpretation)."""
    text = f"trim({src})"
    # 'infinity' and '-infinity' cast to timestamps, but no request was sent at either.
    col.expr = (f"CASE WHEN isfinite(TRY_CAST({text} AS TIMESTAMPTZ)) "
                f"THEN TRY_CAST({text} AS TIMESTAMPTZ) END")
    col.checked = col.expr
    col.expected = "ISO-8601 text such as 2026-07-06T09:00:00Z"
    row = con.execute(
        f"SELECT count({src}) FILTER (WHERE regexp_matches({text}, $zoned)), "
        f"count({src}) FROM {view}", {"zoned": _ZONED_TEXT}).fetchone()
    zoned, total = (int(row[0]), int(row[1])) if row else (0, 0)
    if zoned == total:
        col.interpretation = "ISO-8601 text with UTC offsets, converted to UTC"
    elif zoned == 0:
        col.interpretation = "ISO-8601 text without a UTC offset, read as UTC"
    else:
        col.interpretation = (f"ISO-8601 text: {zoned} value(s) with a UTC offset converted "
                              f"to UTC, {total - zoned} without one read as UTC")
