"""Ingest: find the exported tables, check them against the contract, expose canonical views.

Every problem is collected before anything fails, so an analyst fixes an export in one go.
Heuristics only ever see the canonical names (`requests`, `accounts`, `model_releases`,
`indicators`), never file paths.

Documented rules (README, "Input contract"):
- a `request_id` repeated with the same account and time is a re-export: the first copy (by
  file, then row) is kept and the others are counted as excluded; the same id with another
  account or time aborts the run, since the export is then inconsistent. Other tables with a
  unique key apply the same rule over their other required columns.
- rows outside the analysed period are counted as excluded, never silently dropped.
- requests whose account is not in `accounts` are kept and counted as a data-quality issue.

A kept database (`--workdir`) remembers its last successful validation under a SHA-256 key of
the files' paths and hashes, the column mapping, the window and this code: a rerun on the same
bytes hashes the files again but skips the checking scans (5 of 6 s at 10 M requests).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq

from forensics import __version__, engine, schema
from forensics.config import Window
from forensics.errors import InputError, InputProblems
from forensics.outputs import file_digest, pause_for_tests

_PARQUET_MAGIC = b"PAR1"
_IGNORED_PREFIXES = (".", "_")  # _SUCCESS, .crc files and the like written by Spark/Hadoop
_MAX_LISTED = 10  # stray or broken files named one by one before "… and N more"

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
# Integer types that always fit the contract's INTEGER (32-bit signed) without a check.
_FITS_INTEGER = {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"}
# The one-row table in which a kept database remembers its last successful validation.
VALIDATION_TABLE = "ingest_validation"
_UTC = ZoneInfo("UTC")
_NESTED_MARKERS = ("STRUCT", "MAP(", "UNION(", "[]", "[")
# A time of day followed by a UTC offset, "Z" or a zone name: ISO text that carries its zone.
_ZONED_TEXT = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?|[A-Za-z][A-Za-z_/+-]*)$"


@dataclass(frozen=True)
class InputFile:
    """One file read, with what a court needs to know it was not altered."""

    table: str
    path: str
    bytes: int
    sha256: str
    rows: int
    schema_fingerprint: str


@dataclass(frozen=True)
class DataIssue:
    """A non-fatal data-quality finding, kept for the dossier."""

    table: str
    column: str | None
    count: int
    message: str


@dataclass(frozen=True)
class TableSummary:
    """How one table was read: files, row accounting and which columns it has."""

    name: str
    files: tuple[InputFile, ...]
    rows_read: int
    rows_excluded: dict[str, int]
    rows_analysed: int
    columns_present: tuple[str, ...]
    mapping: dict[str, str]
    interpretations: tuple[str, ...] = ()
    first_ts: datetime | None = None
    last_ts: datetime | None = None


@dataclass(frozen=True)
class IngestResult:
    """What ingest hands to the next stages."""

    data_dir: str
    window: Window
    tables: dict[str, TableSummary]
    issues: tuple[DataIssue, ...] = field(default_factory=tuple)
    # Whether a kept database's earlier validation of the same files was used (timings only).
    validation_reused: bool = False

    def has_column(self, table_name: str, column: str) -> bool:
        """Whether the export carries `column` for `table_name` (absent ones are NULL)."""
        t = self.tables.get(table_name)
        return t is not None and column in t.columns_present


def _rel(path: Path | str, data_dir: Path) -> str:
    try:
        return str(Path(path).relative_to(data_dir))
    except ValueError:
        return str(path)


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception message: problems are one line each."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__


def _raise_if_interrupted(exc: BaseException) -> None:
    # DuckDB turns a signal that arrives mid-query into an error; it must stay an interrupt,
    # not become a "cannot be read" input problem.
    if isinstance(exc, duckdb.InterruptException) or "interrupted" in str(exc).lower():
        raise KeyboardInterrupt(str(exc)) from exc


def _listed(items: list[str], what: str) -> list[str]:
    """At most _MAX_LISTED items, then one line saying how many more there are."""
    if len(items) <= _MAX_LISTED:
        return items
    return items[:_MAX_LISTED] + [f"… and {len(items) - _MAX_LISTED} more {what}"]


def _table_folders(data_dir: Path, name: str) -> list[Path]:
    # Spark writes `df.write.parquet("requests.parquet")` as a folder of part files.
    return [p for p in (data_dir / name, data_dir / f"{name}.parquet") if p.is_dir()]


def discover(data_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Files per contract table, and problems found on the way (not-Parquet files…)."""
    problems: list[str] = []
    found: dict[str, list[Path]] = {}
    for t in schema.TABLES:
        files: list[Path] = []
        stray: list[str] = []
        single = data_dir / f"{t.name}.parquet"
        if single.is_file():
            files.append(single)
        for folder in _table_folders(data_dir, t.name):
            for p in sorted(folder.rglob("*")):
                if not p.is_file() or any(part.startswith(_IGNORED_PREFIXES)
                                          for part in p.relative_to(folder).parts):
                    continue
                if p.suffix.lower() == ".parquet" or (t.name == "indicators"
                                                      and p.suffix.lower() == ".csv"):
                    files.append(p)
                else:
                    stray.append(f"{_rel(p, data_dir)}: not a Parquet file (expected only "
                                 f"*.parquet files in the table folder {folder.name}/)")
        problems += _listed(stray, f"non-Parquet files in {t.name}/")
        if single.is_file() and len(files) > 1:
            problems.append(f"{data_dir}: both {t.name}.parquet and a folder {t.name}/ of "
                            f"Parquet files exist (expected one of them, not both)")
        if t.name == "indicators" and (data_dir / "indicators.csv").is_file():
            files.append(data_dir / "indicators.csv")
        if files:
            found[t.name] = sorted(files)
    return found, problems


def _missing_table(data_dir: Path, t: schema.Table) -> str:
    """Why a required table was not found, with what the folder holds instead."""
    expected = f"expected {t.name}.parquet or a folder {t.name}/ of Parquet files"
    folders = _table_folders(data_dir, t.name)
    if folders:
        return (f"{data_dir}: no {t.name} table: the folder {folders[0].name}/ holds no "
                f"Parquet files ({expected})")
    entries = sorted(p.name + ("/" if p.is_dir() else "") for p in data_dir.iterdir()
                     if not p.name.startswith("."))
    seen = ", ".join(entries[:8]) + (", …" if len(entries) > 8 else "")
    return f"{data_dir}: no {t.name} table ({expected}; found: {seen or 'nothing'})"


def _looks_like_text(head: bytes) -> bool:
    """Whether the first bytes of a file read as printable UTF-8 text (CSV, JSON…)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut off at the end
            return False
        text = head[:exc.start].decode("utf-8")
    return bool(text) and all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def _parquet_footer(path: Path, rel: str) -> tuple[int, list[tuple[str, str]]]:
    """Rows and (column, arrow type) of one Parquet file, read from its footer alone."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(64)
            fh.seek(max(0, size - 4))
            tail = fh.read(4)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror}; expected a readable Parquet file)",
                         file=rel) from None
    if size == 0:
        raise InputError("empty file (0 bytes; expected a Parquet file)", file=rel)
    if head[:4] != _PARQUET_MAGIC:
        kind = "it looks like text or CSV" if _looks_like_text(head) else "no PAR1 header"
        raise InputError(f"not a Parquet file ({kind}; expected Parquet)", file=rel)
    if tail != _PARQUET_MAGIC:
        raise InputError(f"truncated or corrupt Parquet file (no PAR1 footer after {size} "
                         f"bytes; expected a complete Parquet file)", file=rel)
    try:
        meta = pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt footer
        raise InputError(f"corrupt Parquet file (footer unreadable: {_first_line(exc)}; "
                         f"expected a valid Parquet file)", file=rel) from None
    try:
        arrow = meta.schema.to_arrow_schema()
        fields = [(f.name, str(f.type)) for f in arrow]
    except Exception:  # an exotic logical type: fall back to the physical ones
        fields = [(f.name, str(f.physical_type)) for f in meta.schema]
    return meta.num_rows, fields


def _fingerprint(fields: list[tuple[str, str]]) -> str:
    text = "\n".join(f"{n}:{t}" for n, t in sorted(fields))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _partition_keys(path: Path) -> set[str]:
    """Hive partition keys in a path (`date=2026-07-01` → `date`)."""
    return {part.split("=", 1)[0] for part in path.parent.parts if "=" in part}


@dataclass
class _Column:
    canonical: schema.Column
    source: str | None  # None: absent optional column
    source_type: str | None = None
    expr: str = ""
    checked: str | None = None  # expression whose NULL (with source non-NULL) means a cast failed
    expected: str = ""  # what a value that fails `checked` should have been
    interpretation: str | None = None
    missing_in: tuple[str, ...] = ()  # files (as __file values) that lack the column


def _is_nested(src_type: str) -> bool:
    return any(marker in src_type for marker in _NESTED_MARKERS)


def _reader_sql(files: list[Path]) -> str:
    """One SELECT over every file of a table, with __file and a row (or line) number."""
    parquet = [p for p in files if p.suffix.lower() != ".csv"]
    parts = []
    if parquet:
        paths = ", ".join(_lit(str(p)) for p in parquet)
        parts.append(
            f"SELECT * EXCLUDE (file_row_number), file_row_number AS __row FROM read_parquet("
            f"[{paths}], union_by_name = true, hive_partitioning = true, filename = '__file', "
            f"file_row_number = true)")
    for p in files:
        if p.suffix.lower() == ".csv":
            # Each CSV is read on its own so that ordinality is its line number (header = 1).
            parts.append(f"SELECT * EXCLUDE (ordinality), ordinality + 1 AS __row FROM "
                         f"read_csv({_lit(str(p))}, header = true, all_varchar = true, "
                         f"filename = '__file') WITH ORDINALITY")
    return " UNION ALL BY NAME ".join(parts)


def _position(file: str, row: object) -> str:
    kind = "line" if file.lower().endswith(".csv") else "row"
    return f"{kind} {row}"


class _TableLoader:
    """Loads one table: mapping, casts, checks. Collects problems instead of raising."""

    def __init__(self, con: duckdb.DuckDBPyConnection, data_dir: Path, table: schema.Table,
                 files: list[Path], mapping: dict[str, str], problems: list[str],
                 file_fields: dict[str, list[tuple[str, str]]]):
        self.con = con
        self.data_dir = data_dir
        self.table = table
        self.files = files
        self.mapping = mapping
        self.problems = problems
        self.file_fields = file_fields  # str(path) → fields, Parquet files only
        self.columns: list[_Column] = []
        self.interpretations: list[str] = []
        self.view = f"src_{table.name}"

    def where(self) -> str:
        if len(self.files) == 1:
            return _rel(self.files[0], self.data_dir)
        return f"{self.table.name}/ ({len(self.files)} files)"

    def create_source_view(self) -> bool:
        try:
            self.con.execute(f"CREATE OR REPLACE VIEW {self.view} AS {_reader_sql(self.files)}")
            _columns(self.con, self.view)
        except (duckdb.Error, RuntimeError) as exc:
            _raise_if_interrupted(exc)
            self.report_unreadable(exc)
            return False
        return True

    def report_unreadable(self, exc: BaseException) -> None:
        """Name the file(s) DuckDB cannot read, by reading each one on its own."""
        bad = []
        for p in self.files:
            try:
                self.con.execute(f"SELECT count(*), max(length(CAST(COLUMNS(*) AS VARCHAR))) "
                                 f"FROM ({_reader_sql([p])})").fetchall()
            except (duckdb.Error, RuntimeError) as one:
                _raise_if_interrupted(one)
                kind = "CSV" if p.suffix.lower() == ".csv" else "Parquet"
                bad.append(f"{_rel(p, self.data_dir)}: cannot be read ({_first_line(one)}; "
                           f"expected a valid {kind} file)")
        if bad:
            self.problems.extend(_listed(bad, f"unreadable files in {self.table.name}"))
        else:
            # Every file reads alone: the files disagree with each other (types, encodings).
            self.problems.append(f"{self.where()}: the files cannot be read together "
                                 f"({_first_line(exc)}; expected compatible schemas)")

    def map_columns(self) -> bool:
        available = _columns(self.con, self.view)
        names = sorted(c for c in available if not c.startswith("__"))
        listing = ", ".join(names[:15]) + (", …" if len(names) > 15 else "")
        ok = True
        for col in self.table.columns:
            source = self.mapping.get(col.name, col.name)
            if source not in available:
                if col.name in self.mapping:
                    self.problems.append(
                        f"{self.where()}: column {source!r}: the config maps "
                        f"{self.table.name}.{col.name} to it, but no file has that column "
                        f"(columns present: {listing})")
                    ok = False
                elif col.required:
                    self.problems.append(
                        f"{self.where()}: column {col.name!r}: missing required column "
                        f"(expected {col.type}; columns present: {listing}; map another name "
                        f"with [columns.{self.table.name}] {col.name} = \"…\")")
                    ok = False
                self.columns.append(_Column(col, None))
                continue
            missing = tuple(path for path, fields in self.file_fields.items()
                            if source not in {n for n, _ in fields}
                            and source not in _partition_keys(Path(path)))
            self.columns.append(_Column(col, source, available[source], missing_in=missing))
            if col.required and missing:
                self.problems.extend(_listed(
                    [f"{_rel(p, self.data_dir)}: column {source!r}: missing required column "
                     f"in this file (other files of {self.table.name} have it; expected "
                     f"{col.type})" for p in missing], f"files without {source!r}"))
                ok = False
        return ok

    def build_typed_view(self) -> str | None:
        """The view of canonical names and types over the source; None when it cannot be read.

        Choosing a cast may need a look at the values (epoch units, ISO offsets).
        """
        try:
            return self._build_typed_view()
        except (duckdb.Error, RuntimeError) as exc:
            _raise_if_interrupted(exc)
            self.report_unreadable(exc)
            return None

    def _build_typed_view(self) -> str:
        for col in self.columns:
            problem = _cast_expr(col, self.con, self.view, self._naive_files(col))
            if problem:
                self.problems.append(f"{self.where()}: column {col.canonical.name!r}"
                                     f"{_source_note(col)}: {problem}")
            if col.interpretation:
                self.interpretations.append(f"{col.canonical.name}: {col.interpretation}")
        typed = f"typed_{self.table.name}"
        select = ",\n  ".join(f"{c.expr} AS {_q(c.canonical.name)}" for c in self.columns)
        self.con.execute(f"CREATE OR REPLACE VIEW {typed} AS SELECT\n  {select},\n"
                         f"  __file, __row FROM {self.view}")
        return typed

    def _naive_files(self, col: _Column) -> int:
        """How many Parquet files hold `col` as a time-zone-naive timestamp."""
        if col.source is None or col.canonical.type != "TIMESTAMPTZ":
            return 0
        return sum(1 for fields in self.file_fields.values() for n, t in fields
                   if n == col.source and t.startswith("timestamp[") and "tz=" not in t)

    def check_values(self) -> int | None:
        """Nulls in required columns and values that cannot be cast; returns the row count.

        One scan of the source: the cast expressions are evaluated beside their source values,
        and every present column is decoded once, so a corrupt page is found here and not by a
        later stage. None when the files cannot be read.
        """
        counts = ["count(*)"]
        decode_all: list[str] = []
        checks: list[tuple[str, _Column, str, str]] = []  # kind, column, condition, value
        for col in self.columns:
            if col.source is None:
                continue
            src = _q(col.source)
            # Only to make DuckDB decode every value; the result is never kept. Text takes
            # strlen(), which reads each decoded value's stored byte length: hashing every
            # prompt's bytes made this scan a quarter slower (3.9 against 3.1 s at 10 M).
            decode_all.append(f"max(strlen({src}))" if (col.source_type or "").upper() == "VARCHAR"
                              else f"bit_xor(hash({src}))")
            if col.canonical.required:
                # A file that lacks the column entirely is reported once, not row by row.
                skip = "".join(f" AND __file <> {_lit(p)}" for p in col.missing_in)
                checks.append(("null", col, f"{src} IS NULL{skip}", "NULL"))
            if col.checked:
                checks.append(("cast", col, f"({col.checked}) IS NULL AND {src} IS NOT NULL",
                               f"left(CAST({src} AS VARCHAR), 40)"))
        counts += [f"count(*) FILTER (WHERE {cond})" for _, _, cond, _ in checks]
        try:
            row = self.con.execute(f"SELECT {', '.join(counts + decode_all)} "
                                   f"FROM {self.view}").fetchone()
            assert row is not None
            found = [(check, int(n)) for check, n in zip(checks, row[1:1 + len(checks)],
                                                         strict=True) if n]
            examples: tuple[Any, ...] = ()
            if found:
                # Where each problem first occurs, only when there is one: building a
                # (file, row) key for every row costs more than the counting scan itself.
                order = "{'f': __file, 'r': __row}"
                examples = self.con.execute("SELECT " + ", ".join(
                    f"arg_min({{'f': __file, 'r': __row, 'v': {value}}}, {order}) "
                    f"FILTER (WHERE {cond})" for (_, _, cond, value), _ in found)
                    + f" FROM {self.view}").fetchone() or ()
        except (duckdb.Error, RuntimeError) as exc:
            _raise_if_interrupted(exc)
            self.report_unreadable(exc)
            return None
        total = int(row[0])
        for ((kind, col, _, _), count), example in zip(found, examples, strict=True):
            name = col.canonical.name
            where = _rel(example["f"], self.data_dir)
            at = _position(example["f"], example["r"])
            if kind == "null":
                self.problems.append(
                    f"{where}: column {name!r}{_source_note(col)}: {count} null value(s) in a "
                    f"required column (expected {col.canonical.type}; first at {at})")
            else:
                what = ("are not allowed values" if col.canonical.choices
                        else f"cannot be read as {col.canonical.type}")
                self.problems.append(
                    f"{where}: column {name!r}{_source_note(col)}: {count} value(s) {what} "
                    f"(expected {col.expected or col.canonical.type}; first at {at}: "
                    f"{example['v']!r})")
        return total


def _source_note(col: _Column) -> str:
    return "" if col.source in (None, col.canonical.name) else f" (source column {col.source!r})"


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


def _timestamp_expr(col: _Column, con: duckdb.DuckDBPyConnection, view: str,
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
    if t == "VARCHAR":
        text = f"trim({src})"
        # 'infinity' and '-infinity' cast to timestamps, but no request was sent at either.
        col.expr = (f"CASE WHEN isfinite(TRY_CAST({text} AS TIMESTAMPTZ)) "
                    f"THEN TRY_CAST({text} AS TIMESTAMPTZ) END")
        col.checked = col.expr
        col.expected = "ISO-8601 text such as 2026-07-06T09:00:00Z"
        row = con.execute(
            f"SELECT count({src}) FILTER (WHERE regexp_matches({text}, {_lit(_ZONED_TEXT)})), "
            f"count({src}) FROM {view}").fetchone()
        zoned, total = (int(row[0]), int(row[1])) if row else (0, 0)
        if zoned == total:
            col.interpretation = "ISO-8601 text with UTC offsets, converted to UTC"
        elif zoned == 0:
            col.interpretation = "ISO-8601 text without a UTC offset, read as UTC"
        else:
            col.interpretation = (f"ISO-8601 text: {zoned} value(s) with a UTC offset converted "
                                  f"to UTC, {total - zoned} without one read as UTC")
        return None
    col.expr = "CAST(NULL AS TIMESTAMPTZ)"
    return f"has type {col.source_type} (expected {expected})"


def _cast_expr(col: _Column, con: duckdb.DuckDBPyConnection, view: str,
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
    if _is_nested(src_type):
        col.expr = f"CAST(NULL AS {target})"
        return f"has type {col.source_type} (expected {target})"
    if target == "VARCHAR":
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
        return None
    if target == "INTEGER":
        if src_type in _FITS_INTEGER:
            col.expr = src if src_type == "INTEGER" else f"CAST({src} AS INTEGER)"
            return None
        if src_type in _INTEGER_TYPES:
            col.expr = f"TRY_CAST({src} AS INTEGER)"
            col.expected = "a whole number below 2^31"
        elif src_type in _FLOAT_TYPES or src_type.startswith("DECIMAL"):
            # TRY_CAST rounds 12.5 to 13; a fractional count is an error, not a count.
            col.expr = f"CASE WHEN {src} = trunc({src}) THEN TRY_CAST({src} AS INTEGER) END"
            col.expected = "a whole number"
        else:
            text = f"trim(CAST({src} AS VARCHAR))"
            col.expr = (f"CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+') "
                        f"THEN TRY_CAST({text} AS INTEGER) END")
            col.expected = "a whole number, digits only"
        col.checked = col.expr
        return None
    if src_type == target:
        col.expr = src
        return None
    inner = f"trim(CAST({src} AS VARCHAR))" if src_type == "VARCHAR" else src
    col.expr = f"TRY_CAST({inner} AS {target})"
    col.checked = col.expr
    return None


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()
    return {r[0]: r[1] for r in rows}


def create_empty_table(con: duckdb.DuckDBPyConnection, table: schema.Table) -> None:
    """An empty canonical table, so heuristics over an absent optional table still prepare."""
    cols = ", ".join(f"{_q(c.name)} {c.type}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE {table.name} ({cols})")


def _check_data_dir(data_dir: Path) -> None:
    if not data_dir.exists():
        raise InputError("data directory does not exist (expected a folder of Parquet files)",
                         file=str(data_dir))
    if not data_dir.is_dir():
        raise InputError("not a directory (expected a folder of Parquet files)",
                         file=str(data_dir))
    try:
        empty = not any(p for p in data_dir.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise InputError(f"cannot be listed ({exc.strerror})", file=str(data_dir)) from None
    if empty:
        raise InputError("data directory is empty (expected requests.parquet and "
                         "accounts.parquet, or folders requests/ and accounts/ of Parquet "
                         "files)", file=str(data_dir))


def ingest(con: duckdb.DuckDBPyConnection, data_dir: Path,
           columns: dict[str, dict[str, str]] | None = None,
           window: Window | None = None) -> IngestResult:
    """Check the data directory against the contract and create the canonical views.

    Raises InputProblems listing every fatal problem; returns the provenance otherwise.
    """
    window = window or Window()
    columns = columns or {}
    data_dir = Path(data_dir)
    _check_data_dir(data_dir)
    con.execute("SET TimeZone = 'UTC'")
    found, problems = discover(data_dir)
    for t in schema.TABLES:
        if t.required and t.name not in found:
            problems.append(_missing_table(data_dir, t))

    files: dict[str, list[InputFile]] = {}
    fields_by_file: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for name, paths in found.items():
        entries = []
        fields_by_file[name] = {}
        for p in paths:
            rel = _rel(p, data_dir)
            try:
                if p.suffix.lower() == ".csv":
                    rows, fields = -1, _csv_header(p)
                else:
                    rows, fields = _parquet_footer(p, rel)
                    fields_by_file[name][str(p)] = fields
                digest = file_digest(p)
            except InputError as exc:
                problems.append(exc.line())
                continue
            except OSError as exc:
                problems.append(f"{rel}: cannot be read ({exc.strerror})")
                continue
            entries.append(InputFile(name, rel, p.stat().st_size, digest, rows,
                                     _fingerprint(fields)))
        files[name] = entries
    if problems:
        raise InputProblems(problems)
    # A kept database (--workdir) remembers its last successful validation: the same files,
    # byte for byte, under the same mapping and window validate the same way.
    key = _validation_key(data_dir, found, files, columns, window)
    remembered = _remembered(con, key, window)
    if remembered is not None:
        pause_for_tests("ingest")
        return remembered
    # From here the views are replaced: the remembered validation no longer describes them.
    con.execute(f"DROP TABLE IF EXISTS {VALIDATION_TABLE}")

    summaries: dict[str, TableSummary] = {}
    issues: list[DataIssue] = []
    loaders: dict[str, tuple[_TableLoader, str, int]] = {}
    for t in schema.TABLES:
        if t.name not in found:
            create_empty_table(con, t)
            summaries[t.name] = TableSummary(t.name, (), 0, {}, 0, (), {})
            continue
        loader = _TableLoader(con, data_dir, t, found[t.name], columns.get(t.name, {}), problems,
                              fields_by_file[t.name])
        if not loader.create_source_view() or not loader.map_columns():
            continue
        typed = loader.build_typed_view()
        total = loader.check_values() if typed else None
        if typed is None or total is None:
            continue
        if total == 0 and t.required:
            problems.append(f"{loader.where()}: table {t.name} has no rows (expected at least "
                            f"one row)")
        loaders[t.name] = (loader, typed, total)
    if problems:
        raise InputProblems(problems)

    for name, (loader, typed, total) in loaders.items():
        summaries[name] = _finish_table(con, loader, typed, total, window, issues, problems,
                                        files[name])
    if problems:
        raise InputProblems(problems)
    _check_orphans(con, issues)
    _record_issues(con, issues)
    result = IngestResult(str(data_dir), window, summaries, tuple(issues))
    con.execute(f"CREATE OR REPLACE TABLE {VALIDATION_TABLE} AS SELECT $k AS key, $r AS result",
                {"k": key, "r": _result_json(result)})
    pause_for_tests("ingest")
    return result


def _validation_key(data_dir: Path, found: dict[str, list[Path]],
                    files: dict[str, list[InputFile]], columns: dict[str, dict[str, str]],
                    window: Window) -> str:
    """SHA-256 of what a validation is a function of: the files (paths as the views read
    them, contents by their hashes), the column mapping, the window, and the code that checks
    them (this module and the contract) with the tool and DuckDB versions."""
    digest = hashlib.sha256()
    digest.update(json.dumps({
        "data_dir": str(data_dir),
        "paths": {name: [str(p) for p in paths] for name, paths in sorted(found.items())},
        "files": {name: [asdict(f) for f in entries] for name, entries in sorted(files.items())},
        "columns": columns,
        "window": window.model_dump(mode="json"),
        "versions": [__version__, duckdb.__version__],
    }, sort_keys=True).encode())
    for module in (__file__, schema.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def _remembered(con: duckdb.DuckDBPyConnection, key: str, window: Window) -> IngestResult | None:
    """The validation this database remembers under `key`, if any."""
    if not engine.has_table(con, VALIDATION_TABLE):
        return None
    row = con.execute(f"SELECT result FROM {VALIDATION_TABLE} WHERE key = $k",
                      {"k": key}).fetchone()
    return None if row is None else _result_from_json(row[0], window)


def _result_json(result: IngestResult) -> str:
    doc = asdict(result)
    # The window is part of the key, and whether a validation was reused is per run.
    del doc["window"], doc["validation_reused"]
    return json.dumps(doc, default=lambda t: t.isoformat())


def _result_from_json(text: str, window: Window) -> IngestResult:
    doc = json.loads(text)

    def ts(value: str | None) -> datetime | None:
        # As DuckDB hands them out with TimeZone = 'UTC'.
        return datetime.fromisoformat(value).astimezone(_UTC) if value else None

    tables = {name: TableSummary(
        t["name"], tuple(InputFile(**f) for f in t["files"]), t["rows_read"],
        t["rows_excluded"], t["rows_analysed"], tuple(t["columns_present"]), t["mapping"],
        tuple(t["interpretations"]), ts(t["first_ts"]), ts(t["last_ts"]))
        for name, t in doc["tables"].items()}
    return IngestResult(doc["data_dir"], window, tables,
                        tuple(DataIssue(**i) for i in doc["issues"]), validation_reused=True)


def _csv_header(path: Path) -> list[tuple[str, str]]:
    """Column names of a CSV file (its first line), for the schema fingerprint."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        first = fh.readline().strip("\r\n")
    return [(name.strip().strip('"'), "VARCHAR") for name in first.split(",")]


def _fmt_ts(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "?"


def _finish_table(con: duckdb.DuckDBPyConnection, loader: _TableLoader, typed: str, total: int,
                  window: Window, issues: list[DataIssue], problems: list[str],
                  entries: list[InputFile]) -> TableSummary:
    """Duplicates, the period filter and the canonical view of one table."""
    t = loader.table
    key = next((c.name for c in t.columns if c.unique), None)
    excluded: dict[str, int] = {}
    conditions: list[str] = []
    params: dict[str, object] = {}
    first_ts = last_ts = None
    if t.name == "requests":
        row = con.execute(f"SELECT min(ts), max(ts) FROM {typed}").fetchone()
        first_ts, last_ts = (row[0], row[1]) if row else (None, None)
        if window.since is not None:
            conditions.append("ts >= $since")
            params["since"] = window.since
        if window.until is not None:
            conditions.append("ts < $until")
            params["until"] = window.until
        if conditions:
            where = " AND ".join(conditions)
            row = con.execute(f"SELECT count(*) FILTER (WHERE NOT ({where})) FROM {typed}",
                              params).fetchone()
            outside = int(row[0]) if row else 0
            if outside:
                excluded["outside period"] = outside
            if outside == total:
                span = (f"{_fmt_ts(window.since) if window.since else '…'} – "
                        f"{_fmt_ts(window.until) if window.until else '…'}")
                problems.append(
                    f"{loader.where()}: column 'ts': no requests in the period "
                    f"{window.label or span} ({span}); the data spans {_fmt_ts(first_ts)} – "
                    f"{_fmt_ts(last_ts)} (expected at least one request in the period)")
    where_sql = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    dedup = ""
    if key:
        dedup = _deduplicate(con, loader, typed, key, where_sql, params, excluded, issues)
    select = ", ".join(_q(c.name) for c in t.columns)
    # Window bounds are literal here: a view cannot hold bound parameters.
    where_lit = where_sql
    for name, value in params.items():
        assert isinstance(value, datetime)
        where_lit = where_lit.replace(f"${name}", f"TIMESTAMPTZ '{value.isoformat()}'")
    con.execute(f"CREATE OR REPLACE VIEW {t.name} AS SELECT {select} FROM {typed} "
                f"{where_lit} {dedup}")
    analysed = total - sum(excluded.values())
    present = tuple(c.canonical.name for c in loader.columns if c.source is not None)
    mapping = {c.canonical.name: c.source for c in loader.columns
               if c.source is not None and c.source != c.canonical.name}
    file_entries = tuple(_with_csv_rows(con, loader, entries))
    return TableSummary(t.name, file_entries, total, excluded, analysed, present, mapping,
                        tuple(loader.interpretations), first_ts, last_ts)


def _identity(table: schema.Table, key: str) -> tuple[str, ...]:
    """Columns that must agree between two rows with the same key for them to be copies."""
    if table.name == "requests":
        return ("account_id", "ts")
    return tuple(c.name for c in table.columns if c.required and c.name != key)


def _deduplicate(con: duckdb.DuckDBPyConnection, loader: _TableLoader, typed: str, key: str,
                 where_sql: str, params: dict[str, object], excluded: dict[str, int],
                 issues: list[DataIssue]) -> str:
    """Apply the duplicate-key rule; return the QUALIFY clause that keeps first copies."""
    t = loader.table
    identity = _identity(t, key)
    # Copies agree on every identity column (all required, so never NULL): min = max. This is
    # far cheaper than count(DISTINCT (…)) per key on millions of rows.
    differs = " OR ".join(f"min({_q(c)}) <> max({_q(c)})" for c in identity) or "false"
    # Group 64-bit hashes first (cheap), then compare exactly only the ids whose hash repeats:
    # on 10 M string ids this is about 5x faster than grouping the strings themselves.
    # hash() never leaves this query, so its version-dependence does not matter.
    repeated = (f"hash({_q(key)}) IN (SELECT hash({_q(key)}) FROM {typed} {where_sql} "
                f"GROUP BY 1 HAVING count(*) > 1)")
    narrowed = f"{where_sql} AND {repeated}" if where_sql else f"WHERE {repeated}"
    row = con.execute(
        f"SELECT count(*), coalesce(sum(n - 1), 0), count(*) FILTER (WHERE differs), "
        f"min({_q(key)}) FILTER (WHERE differs) "
        f"FROM (SELECT {_q(key)}, count(*) AS n, ({differs}) AS differs "
        f"FROM {typed} {narrowed} GROUP BY {_q(key)} HAVING count(*) > 1)", params).fetchone()
    assert row is not None
    dup_keys, dup_rows, conflicting, example = int(row[0]), int(row[1]), int(row[2]), row[3]
    if conflicting:
        places = con.execute(
            f"SELECT __file, __row FROM {typed} WHERE {_q(key)} = $k ORDER BY __file, __row "
            f"LIMIT 2", {"k": example}).fetchall()
        at = " and ".join(f"{_rel(f, loader.data_dir)} {_position(f, r)}" for f, r in places)
        loader.problems.append(
            f"{loader.where()}: column {key!r}: {conflicting} id(s) are used by rows with a "
            f"different {' or '.join(identity)} (first: {example!r} at {at}; expected unique "
            f"ids, the export is inconsistent)")
        return ""
    if not dup_rows:
        return ""
    # Documented rule: identical re-exported rows keep the first copy (by file, row).
    excluded[f"duplicate {key}"] = dup_rows
    issues.append(DataIssue(t.name, key, dup_rows,
                            f"{dup_keys} {key} value(s) appear more than once with the same "
                            f"{', '.join(identity) or 'values'}; {dup_rows} repeated row(s) "
                            f"excluded, first copy kept"))
    return f"QUALIFY row_number() OVER (PARTITION BY {_q(key)} ORDER BY __file, __row) = 1"


def _with_csv_rows(con: duckdb.DuckDBPyConnection, loader: _TableLoader,
                   entries: list[InputFile]) -> list[InputFile]:
    """CSV files have no footer to count rows from: count them through DuckDB."""
    out = []
    for entry in entries:
        if entry.rows < 0:
            path = str(loader.data_dir / entry.path)
            row = con.execute(f"SELECT count(*) FROM {loader.view} WHERE __file = $f",
                              {"f": path}).fetchone()
            entry = InputFile(entry.table, entry.path, entry.bytes, entry.sha256,
                              int(row[0]) if row else 0, entry.schema_fingerprint)
        out.append(entry)
    return out


def _check_orphans(con: duckdb.DuckDBPyConnection, issues: list[DataIssue]) -> None:
    row = con.execute(
        "SELECT count(*), count(DISTINCT r.account_id) FROM requests r "
        "ANTI JOIN accounts a USING (account_id)").fetchone()
    if row and row[0]:
        issues.append(DataIssue("requests", "account_id", int(row[0]),
                                f"{row[0]} request(s) from {row[1]} account(s) not in accounts; "
                                f"kept, but account-level heuristics cannot see them"))


def _record_issues(con: duckdb.DuckDBPyConnection, issues: list[DataIssue]) -> None:
    """The `ingest_issues` table: the data-quality notes, for the dossier's section on them."""
    con.execute("CREATE OR REPLACE TABLE ingest_issues (table_name VARCHAR, column_name VARCHAR, "
                "count BIGINT, message VARCHAR)")
    if issues:
        con.executemany("INSERT INTO ingest_issues VALUES (?, ?, ?, ?)",
                        [(i.table, i.column, i.count, i.message) for i in issues])
