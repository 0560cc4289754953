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
bytes hashes the files again but skips the checking scans (most of ingest's time).
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq

from forensics import __version__, engine, schema, sqltext
from forensics.config import Window
from forensics.errors import InputError, InputProblems
from forensics.outputs import file_digest, pause_for_tests

_PARQUET_MAGIC = b"PAR1"
_IGNORED_PREFIXES = (".", "_")  # _SUCCESS, .crc files and the like written by Spark/Hadoop
_MAX_LISTED = 10  # stray or broken files named one by one before "… and N more"

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
# Integer types that always fit the contract's INTEGER (32-bit) or BIGINT without a check.
_FITS = {"INTEGER": {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"},
         "BIGINT": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                    "UINTEGER"}}
_IMPLAUSIBLE_TS = f"ts before {schema.EARLIEST[:4]} or from {schema.LATEST[:4]} on"
# The bounds of a plausible time (schema.EARLIEST, LATEST) as SQL, in UTC.
_EARLIEST = f"TIMESTAMPTZ {sqltext.string(schema.EARLIEST + ' 00:00:00+00')}"
_LATEST = f"TIMESTAMPTZ {sqltext.string(schema.LATEST + ' 00:00:00+00')}"
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
    # The file itself when `path` passes through a symbolic link; None when it does not.
    resolved: str | None = None


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


@dataclass(frozen=True)
class SourceFile:
    """One file of a table, as ingest found it inside the data directory."""

    path: Path  # absolute, as reached from the data directory (links not resolved): __file
    rel: str  # relative to the data directory, for messages and the manifest
    resolved: str  # the file itself, every symbolic link resolved
    # Hive partition values (key, value or None) from folders inside the table's folder only.
    partitions: tuple[tuple[str, str | None], ...] = ()
    linked: bool = False  # whether the path passes through a symbolic link

    @property
    def csv(self) -> bool:
        return self.path.suffix.lower() == ".csv"


def _table_entries(data_dir: Path, t: schema.Table) -> tuple[list[Path], list[Path], list[str]]:
    """Single files and folders at the top of the data directory that hold table `t`.

    The table name is exact; the extension may be in any case (`indicators.CSV`). Spark writes
    `df.write.parquet("requests.parquet")` as a folder of part files, so a folder may carry
    the extension too. Also returns problems (dangling or looping links named like a table).
    """
    singles: list[Path] = []
    folders: list[Path] = []
    problems: list[str] = []
    extensions = (".parquet", ".csv") if t.name == "indicators" else (".parquet",)
    for name in sorted(os.listdir(data_dir)):
        rest = name[len(t.name):] if name.startswith(t.name) else None
        if rest is None or (rest and rest.lower() not in extensions):
            continue
        p = data_dir / name
        broken = _broken_link(p, name)
        if broken:
            problems.append(broken)
        elif p.is_dir() and (rest == "" or rest.lower() == ".parquet"):
            folders.append(p)
        elif p.is_file() and rest:
            singles.append(p)
    return singles, folders, problems


def _broken_link(p: Path, rel: str) -> str | None:
    """Why a symbolic link cannot be followed (dangling, or a loop of links), or None."""
    if not p.is_symlink():
        return None
    try:
        p.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (f"{rel}: symbolic link loop ({os.readlink(p)!r} leads back to itself; "
                    f"expected a link to a file or folder)")
        return (f"{rel}: dangling symbolic link (points to {os.readlink(p)!r}, which does "
                f"not exist; expected a link to a file or folder)")
    return None


def _hive_partitions(rel_parts: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    """Hive partition values of the folders between a table folder and one of its files.

    `date=2026-07-01` gives ("date", "2026-07-01"). As Hive and Spark write them, values are
    percent-encoded and __HIVE_DEFAULT_PARTITION__ stands for NULL. Only these folders count:
    a `key=value` folder above the data directory is where the export was put, not data.
    """
    out = []
    for part in rel_parts:
        key, eq, value = part.partition("=")
        if eq and key:
            text = unquote(value)
            out.append((key, None if text == "__HIVE_DEFAULT_PARTITION__" else text))
    return tuple(out)


class _TooManyFiles(Exception):
    pass


def _walk_table_folder(data_dir: Path, real_data_dir: str, folder: Path, csv_ok: bool,
                       problems: list[str], stray: list[str]) -> list[SourceFile]:
    """Every data file below a table folder, following symbolic links.

    Names starting with `.` or `_` (_SUCCESS, .crc files, _temporary/ written by Spark or
    Hadoop) are skipped. A link to a folder that contains one of the folders being walked
    (itself, an ancestor, or through another link) would make the walk endless, and a dangling
    link may hide data: both are problems naming the link.
    """
    files: list[SourceFile] = []

    def visit(directory: Path, parts: tuple[str, ...], chain: tuple[Path, ...]) -> None:
        # chain: the real folders from the table folder down to this one.
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            problems.append(f"{_rel(directory, data_dir)}: cannot be listed ({exc.strerror})")
            return
        for name in names:
            if name.startswith(_IGNORED_PREFIXES):
                continue
            p = directory / name
            rel = _rel(p, data_dir)
            broken = _broken_link(p, rel)
            if broken:
                problems.append(broken)
                continue
            if p.is_dir():
                target = Path(os.path.realpath(p))
                if any(c.is_relative_to(target) for c in chain):
                    problems.append(f"{rel}: symbolic link loop (points to {os.readlink(p)!r}, "
                                    f"a folder that contains the link; expected links to "
                                    f"folders outside it)")
                    continue
                visit(p, (*parts, name), (*chain, target))
            elif p.is_file() and (p.suffix.lower() == ".parquet"
                                  or (csv_ok and p.suffix.lower() == ".csv")):
                resolved = os.path.realpath(p)
                files.append(SourceFile(
                    p, rel, resolved, _hive_partitions(parts),
                    linked=resolved != os.path.join(real_data_dir, rel)))
                if len(files) > schema.MAX_FILES:
                    raise _TooManyFiles
            else:
                stray.append(f"{rel}: not a Parquet file (expected only *.parquet files in "
                             f"the table folder {folder.name}/)")

    try:
        visit(folder, (), (Path(os.path.realpath(folder)),))
    except _TooManyFiles:
        # Refused at once, alone: every other check would have to read each of the files.
        raise InputError(
            f"more than {schema.MAX_FILES:,} data files (expected at most "
            f"{schema.MAX_FILES:,}: compact them "
            f"into fewer, larger files first, for example with DuckDB's COPY … TO into one "
            f"Parquet file per table)", file=f"{_rel(folder, data_dir)}/") from None
    return files


def find_files(data_dir: Path) -> tuple[dict[str, list[SourceFile]], list[str]]:
    """Files per contract table, and problems found on the way (not-Parquet files, broken
    links, files reached twice, paths DuckDB could not read literally…).

    Ingest lists the files itself and hands DuckDB exactly these, never a folder or a pattern.
    """
    data_dir = Path(os.path.abspath(data_dir))
    real_data_dir = os.path.realpath(data_dir)
    problems: list[str] = []
    found: dict[str, list[SourceFile]] = {}
    for t in schema.TABLES:
        singles, folders, broken = _table_entries(data_dir, t)
        problems += broken
        files: list[SourceFile] = []
        stray: list[str] = []
        for p in singles:
            resolved = os.path.realpath(p)
            files.append(SourceFile(p, p.name, resolved,
                                    linked=resolved != os.path.join(real_data_dir, p.name)))
        for folder in folders:
            files += _walk_table_folder(data_dir, real_data_dir, folder, t.name == "indicators",
                                        problems, stray)
        problems += _listed(stray, f"non-Parquet files in {t.name}/")
        parquet_singles = [p for p in singles if p.suffix.lower() == ".parquet"]
        if parquet_singles and len(files) > len(singles):
            problems.append(f"{data_dir}: both {parquet_singles[0].name} and a folder "
                            f"{t.name}/ of Parquet files exist (expected one of them, not both)")
        elif len(parquet_singles) > 1:
            problems.append(f"{data_dir}: both {parquet_singles[0].name} and "
                            f"{parquet_singles[1].name} exist (expected one of them, not both)")
        seen: dict[str, str] = {}
        for f in files:
            if f.resolved in seen:
                problems.append(f"{f.rel}: the same file as {seen[f.resolved]} (reached twice "
                                f"through a symbolic link; expected each file once)")
            seen.setdefault(f.resolved, f.rel)
            try:
                sqltext.file_pattern(f.path)
            except sqltext.UnreadablePathError as exc:
                problems.append(f"{f.rel}: cannot be read: {exc} (rename the file or folder)")
        if files:
            found[t.name] = sorted(files, key=lambda f: f.path)  # as before: by path parts
    return found, problems


def discover(data_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Paths of the files per contract table, and problems found on the way."""
    found, problems = find_files(data_dir)
    return {name: [f.path for f in files] for name, files in found.items()}, problems


def _missing_table(data_dir: Path, t: schema.Table) -> str:
    """Why a required table was not found, with what the folder holds instead."""
    expected = f"expected {t.name}.parquet or a folder {t.name}/ of Parquet files"
    _, folders, _ = _table_entries(data_dir, t)
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


# Names ingest gives its own columns beside the files' ones (file, row number, CSV line).
_RESERVED_NAMES = ("__file", "__row", "file_row_number", "ordinality")


def _column_name_problems(f: SourceFile, fields: list[tuple[str, str]]) -> list[str]:
    """Column names DuckDB would silently rename, drop or overwrite: repeated names (also
    differing only in case, as DuckDB's names are case-insensitive), ingest's own names, and
    partition folders that name a column the file holds."""
    problems = []
    seen: dict[str, str] = {}
    for name, _ in fields:
        if name.lower() in seen:
            problems.append(f"{f.rel}: column {name!r}: the file has two columns named "
                            f"{seen[name.lower()]!r} and {name!r} (expected each column name "
                            f"once, also ignoring case)")
        elif name.lower() in _RESERVED_NAMES:
            problems.append(f"{f.rel}: column {name!r}: a name ingest reserves for the file "
                            f"and row of each value (expected another column name)")
        seen.setdefault(name.lower(), name)
    keys: dict[str, str] = {}
    for key, _ in f.partitions:
        if key.lower() in keys:
            problems.append(f"{f.rel}: column {key!r}: two partition folders {keys[key.lower()]}"
                            f"=… and {key}=… in the path (expected each key once)")
        elif key.lower() in seen:
            problems.append(f"{f.rel}: column {seen[key.lower()]!r}: both a column of the file "
                            f"and a partition folder {key}=… in its path (expected one of them: "
                            f"the folder's value would replace the file's)")
        elif key.lower() in _RESERVED_NAMES:
            problems.append(f"{f.rel}: column {key!r}: a partition folder named for a column "
                            f"ingest reserves (expected another key)")
        keys.setdefault(key.lower(), key)
    return problems


def _partition_key_problems(table: str, files: list[SourceFile]) -> list[str]:
    """Partition keys that name one column in different cases (`Day=1/`, `day=2/`)."""
    spelled: dict[str, set[str]] = {}
    for f in files:
        for key, _ in f.partitions:
            spelled.setdefault(key.lower(), set()).add(key)
    return [f"{table}/: column {sorted(names)[0]!r}: partition folders "
            f"spell the key as {', '.join(sorted(names))} (expected one spelling)"
            for names in spelled.values() if len(names) > 1]


def _fingerprint(fields: list[tuple[str, str]]) -> str:
    text = "\n".join(f"{n}:{t}" for n, t in sorted(fields))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Every identifier and literal in this module's SQL goes through the one quoting module.
_q = sqltext.identifier
_lit = sqltext.string


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
    # A rule a read value must meet: (SQL true for a breaking value, with {} for the value;
    # what such values are; what was expected).
    rule: tuple[str, str, str] | None = None


def _is_nested(src_type: str) -> bool:
    return any(marker in src_type for marker in _NESTED_MARKERS)


def _reader_sql(files: list[SourceFile], partitions: str | None = None) -> str:
    """One SELECT over exactly these files of a table, with __file and a row (or line) number.

    The files are named one by one (glob characters escaped, see sqltext.file_pattern) and
    DuckDB's own hive partitioning is off: it would take `key=value` folders anywhere in the
    path, above the data directory too, and let them overwrite the files' columns. Partition
    values come instead from the table `partitions` (one row per file, see _partition_table).
    """
    parquet = [f for f in files if not f.csv]
    parts = []
    if parquet:
        paths = ", ".join(sqltext.file_literal(f.path) for f in parquet)
        parts.append(
            f"SELECT * EXCLUDE (file_row_number), file_row_number AS __row FROM read_parquet("
            f"[{paths}], union_by_name = true, hive_partitioning = false, filename = '__file', "
            f"file_row_number = true)")
    for f in files:
        if f.csv:
            # Each CSV is read on its own so that ordinality is its line number (header = 1).
            parts.append(f"SELECT * EXCLUDE (ordinality), ordinality + 1 AS __row FROM "
                         f"read_csv({sqltext.file_literal(f.path)}, header = true, "
                         f"all_varchar = true, hive_partitioning = false, "
                         f"filename = '__file') WITH ORDINALITY")
    sql = " UNION ALL BY NAME ".join(parts)
    if partitions:
        sql = f"SELECT * FROM ({sql}) LEFT JOIN {_q(partitions)} USING (__file)"
    return sql


def _partition_table(con: duckdb.DuckDBPyConnection, table: schema.Table,
                     files: list[SourceFile]) -> str | None:
    """The table of each file's hive partition values, bound as parameters; None if none.

    A persistent table, not a temporary one: the views of a kept database (--workdir) read it
    in later runs.
    """
    name = f"ingest_partitions_{table.name}"
    keys = sorted({k for f in files for k, _ in f.partitions})
    if not keys:
        con.execute(f"DROP TABLE IF EXISTS {_q(name)}")
        return None
    columns = ", ".join(f"{_q(k)} VARCHAR" for k in keys)
    con.execute(f"CREATE OR REPLACE TABLE {_q(name)} (__file VARCHAR, {columns})")
    rows = [[str(f.path), *(dict(f.partitions).get(k) for k in keys)] for f in files]
    con.executemany(f"INSERT INTO {_q(name)} VALUES ({', '.join('?' * (len(keys) + 1))})",
                    rows)
    return name


def _position(file: str, row: object) -> str:
    kind = "line" if file.lower().endswith(".csv") else "row"
    return f"{kind} {row}"


class _TableLoader:
    """Loads one table: mapping, casts, checks. Collects problems instead of raising."""

    def __init__(self, con: duckdb.DuckDBPyConnection, data_dir: Path, table: schema.Table,
                 files: list[SourceFile], mapping: dict[str, str], problems: list[str],
                 file_fields: dict[str, list[tuple[str, str]]]):
        self.con = con
        self.data_dir = data_dir
        self.table = table
        self.files = files
        self.mapping = mapping
        self.problems = problems
        self.file_fields = file_fields  # str(path) → fields, Parquet files only
        self.partitions = {str(f.path): f.partitions for f in files}
        self.footer_rows: dict[str, int] = {}  # str(path) → rows in the footer, Parquet only
        self.columns: list[_Column] = []
        self.interpretations: list[str] = []
        self.view = f"src_{table.name}"
        self.rows_by_file: dict[str, int] = {}  # __file → rows DuckDB read from it

    def has(self, column: str) -> bool:
        """Whether the files carry this contract column (absent ones are NULL)."""
        return any(c.canonical.name == column and c.source is not None for c in self.columns)

    def where(self) -> str:
        if len(self.files) == 1:
            return self.files[0].rel
        return f"{self.table.name}/ ({len(self.files)} files)"

    def create_source_view(self) -> bool:
        try:
            partitions = _partition_table(self.con, self.table, self.files)
            self.con.execute(f"CREATE OR REPLACE VIEW {self.view} AS "
                             f"{_reader_sql(self.files, partitions)}")
            _columns(self.con, self.view)
            counted = self.con.execute(f"SELECT __file, count(*) FROM {self.view} "
                                       f"GROUP BY ALL").fetchall()
        except (duckdb.Error, RuntimeError) as exc:
            _raise_if_interrupted(exc)
            self.report_unreadable(exc)
            return False
        self.rows_by_file = {str(f): int(n) for f, n in counted}
        return self.check_files_read()

    def check_files_read(self) -> bool:
        """Whether DuckDB read exactly the listed files, each once, all of its rows.

        The files are passed one by one, so this holds unless a name still reached DuckDB
        as a pattern: then the manifest would list files whose rows were not the ones
        analysed. Parquet rows are compared with each file's footer; a CSV has no count to
        compare with, but a file read that was not listed shows here too.
        """
        listed = {str(f.path): f for f in self.files}
        wrong = [f"{_rel(name, self.data_dir)}: read although not listed (expected only the "
                 f"files found in the data directory)"
                 for name in sorted(set(self.rows_by_file) - set(listed))]
        for name, f in listed.items():
            fields_rows = self.footer_rows.get(name)
            got = self.rows_by_file.get(name, 0)
            if fields_rows is not None and got != fields_rows:
                wrong.append(f"{f.rel}: {got} row(s) read where the file holds {fields_rows} "
                             f"(expected each file read once, as named)")
        self.problems.extend(_listed(wrong, f"files misread in {self.table.name}"))
        return not wrong

    def report_unreadable(self, exc: BaseException) -> None:
        """Name the file(s) DuckDB cannot read, by reading each one on its own."""
        bad = []
        for f in self.files:
            try:
                self.con.execute(f"SELECT count(*), max(length(CAST(COLUMNS(*) AS VARCHAR))) "
                                 f"FROM ({_reader_sql([f])})").fetchall()
            except (duckdb.Error, RuntimeError) as one:
                _raise_if_interrupted(one)
                kind = "CSV" if f.csv else "Parquet"
                bad.append(f"{f.rel}: cannot be read ({_first_line(one)}; "
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
                            and source not in {k for k, _ in self.partitions[path]})
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
            col.rule = _value_rule(self.table, col)
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
            # prompt's bytes made this scan markedly slower.
            decode_all.append(f"max(strlen({src}))" if (col.source_type or "").upper() == "VARCHAR"
                              else f"bit_xor(hash({src}))")
            if col.canonical.required:
                # A file that lacks the column entirely is reported once, not row by row.
                skip = "".join(f" AND __file <> {_lit(p)}" for p in col.missing_in)
                checks.append(("null", col, f"{src} IS NULL{skip}", "NULL"))
            if col.checked:
                checks.append(("cast", col, f"({col.checked}) IS NULL AND {src} IS NOT NULL",
                               f"left(CAST({src} AS VARCHAR), 40)"))
            if col.rule:
                checks.append(("rule", col, col.rule[0].format(f"({col.expr})"),
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
            elif kind == "rule" and col.rule:
                self.problems.append(
                    f"{where}: column {name!r}{_source_note(col)}: {count} value(s) "
                    f"{col.rule[1]} (expected {col.rule[2]}; first at {at}: {example['v']!r})")
            else:
                what = ("are not allowed values" if col.canonical.choices
                        else f"cannot be read as {col.canonical.type}")
                self.problems.append(
                    f"{where}: column {name!r}{_source_note(col)}: {count} value(s) {what} "
                    f"(expected {col.expected or col.canonical.type}; first at {at}: "
                    f"{example['v']!r})")
        return total


def _value_rule(table: schema.Table, col: _Column) -> tuple[str, str, str] | None:
    """The rule a column's read values must meet, if any (schema.RULES)."""
    c = col.canonical
    if col.source is None:
        return None
    if c.minimum is not None:
        return (f"{{}} < {int(c.minimum)}", f"below {c.minimum}",
                f"a count, {c.minimum} or more")
    if c.type == "TIMESTAMPTZ" and not (table.name == "requests" and c.name == "ts"):
        # Requests outside the bounds are excluded and counted instead (_finish_table).
        return (f"({{0}} < {_EARLIEST} OR {{0}} >= {_LATEST})",
                f"before {schema.EARLIEST} or from {schema.LATEST} on",
                f"a time from {schema.EARLIEST} to before {schema.LATEST}, UTC")
    return None


_IPV4_NETWORK = re.compile(r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?")


def _valid_indicator(kind: str, value: str) -> bool:
    """Whether an indicator value is one the matching (60_indicator_hits.sql) can use: it
    compares values trimmed, IP addresses as written, and CIDR blocks as IPv4 a.b.c.d/n."""
    text = value.strip()
    if not text:
        return False
    try:
        if kind == "ip":
            ipaddress.ip_address(text)
        elif kind == "cidr":
            if not _IPV4_NETWORK.fullmatch(text):
                return False
            ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return False
    return True


def _indicator_problems(con: duckdb.DuckDBPyConnection, loader: _TableLoader,
                        typed: str) -> list[str]:
    """Indicators whose value cannot match anything (`not-a-cidr`, `/99`, `999.1.1.1`, a
    blank value): refused with the first one's row, since a silently dead indicator reads
    as 'no match' in the dossier. Indicators are few; Python's ipaddress checks them."""
    rows = con.execute(f"SELECT indicator_type, value, __file, __row FROM {typed} "
                       f"WHERE indicator_type IN ($ip, $cidr) OR trim(value) = '' "
                       f"ORDER BY __file, __row", {"ip": "ip", "cidr": "cidr"}).fetchall()
    bad = [r for r in rows if not _valid_indicator(r[0], r[1])]
    if not bad:
        return []
    kind, value, file, row = bad[0]
    return [f"{_rel(file, loader.data_dir)}: column 'value': {len(bad)} indicator value(s) "
            f"cannot be matched (expected a single IPv4 or IPv6 address for type ip, an IPv4 "
            f"address or network a.b.c.d/n for cidr, never a blank value; first at "
            f"{_position(file, row)}: {kind} {value!r})"]


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
    if target in _FITS:
        if src_type in _FITS[target]:
            col.expr = src if src_type == target else f"CAST({src} AS {target})"
            return None
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
        return None
    if target == "BOOLEAN" and (src_type in _INTEGER_TYPES or src_type in _FLOAT_TYPES
                                or src_type.startswith("DECIMAL")):
        # A cast would read every non-zero number as true: 2 or -1 is no yes/no answer.
        col.expr = f"CASE WHEN {src} = 1 THEN true WHEN {src} = 0 THEN false END"
        col.checked = col.expr
        col.expected = "true or false, or the numbers 1 and 0"
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
    given = Path(data_dir)
    _check_data_dir(given)
    # Absolute: DuckDB would read a relative path against the process's working folder and a
    # leading `~` as the home folder.
    data_dir = Path(os.path.abspath(given))
    con.execute("SET TimeZone = 'UTC'")
    found, problems = find_files(data_dir)
    for t in schema.TABLES:
        if t.required and t.name not in found:
            problems.append(_missing_table(given, t))

    files: dict[str, list[InputFile]] = {}
    fields_by_file: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for name, sources in found.items():
        entries = []
        fields_by_file[name] = {}
        for f in sources:
            try:
                if f.csv:
                    rows, fields = -1, _csv_header(f.path)
                else:
                    rows, fields = _parquet_footer(f.path, f.rel)
                    fields_by_file[name][str(f.path)] = fields
                digest = file_digest(f.path)
            except InputError as exc:
                problems.append(exc.line())
                continue
            except OSError as exc:
                problems.append(f"{f.rel}: cannot be read ({exc.strerror})")
                continue
            problems += _column_name_problems(f, fields)
            entries.append(InputFile(name, f.rel, f.path.stat().st_size, digest, rows,
                                     _fingerprint(fields), f.resolved if f.linked else None))
        problems += _partition_key_problems(name, sources)
        files[name] = entries
    if problems:
        raise InputProblems(problems)
    # A kept database (--workdir) remembers its last successful validation: the same files,
    # byte for byte, under the same mapping and window validate the same way.
    key = _validation_key(given, found, files, columns, window)
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
        loader.footer_rows = {str(f.path): entry.rows for f, entry
                              in zip(found[t.name], files[t.name], strict=True) if not f.csv}
        if not loader.create_source_view() or not loader.map_columns():
            continue
        typed = loader.build_typed_view()
        total = loader.check_values() if typed else None
        if typed is None or total is None:
            continue
        if t.name == "indicators":
            problems.extend(_indicator_problems(con, loader, typed))
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
    result = IngestResult(str(given), window, summaries, tuple(issues))
    con.execute(f"CREATE OR REPLACE TABLE {VALIDATION_TABLE} AS SELECT $k AS key, $r AS result",
                {"k": key, "r": _result_json(result)})
    pause_for_tests("ingest")
    return result


def _validation_key(data_dir: Path, found: dict[str, list[SourceFile]],
                    files: dict[str, list[InputFile]], columns: dict[str, dict[str, str]],
                    window: Window) -> str:
    """SHA-256 of what a validation is a function of: the files (paths as the views read
    them, contents by their hashes), the column mapping, the window, and the code that checks
    them (this module and the contract) with the tool and DuckDB versions."""
    digest = hashlib.sha256()
    digest.update(json.dumps({
        "data_dir": str(data_dir),
        "paths": {name: [[str(f.path), f.resolved, f.partitions] for f in sources]
                  for name, sources in sorted(found.items())},
        "files": {name: [asdict(f) for f in entries] for name, entries in sorted(files.items())},
        "columns": columns,
        "window": window.model_dump(mode="json"),
        "versions": [__version__, duckdb.__version__],
    }, sort_keys=True).encode())
    for module in (__file__, schema.__file__, sqltext.__file__):
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
    excluded: dict[str, int] = {}
    conditions: list[str] = []
    params: dict[str, object] = {}
    first_ts = last_ts = None
    if t.name == "requests":
        # Each excluded row is counted under the first rule it breaks, in this order, so the
        # reasons add up to the rows excluded.
        rules = [(_IMPLAUSIBLE_TS, f"ts >= {_EARLIEST} AND ts < {_LATEST}")]
        if loader.has("temperature"):
            rules.append(("temperature not finite",
                          "temperature IS NULL OR isfinite(temperature)"))
        period = []
        if window.since is not None:
            period.append("ts >= $since")
            params["since"] = window.since
        if window.until is not None:
            period.append("ts < $until")
            params["until"] = window.until
        if period:
            rules.append(("outside period", " AND ".join(period)))
        plausible = rules[0][1]
        counts = [" AND ".join([*(f"({c})" for _, c in rules[:i]), f"NOT ({cond})"])
                  for i, (_, cond) in enumerate(rules)]
        row = con.execute(
            f"SELECT min(ts) FILTER (WHERE {plausible}), max(ts) FILTER (WHERE {plausible}), "
            + ", ".join(f"count(*) FILTER (WHERE {c})" for c in counts)
            + f" FROM {typed}", params).fetchone()
        assert row is not None
        first_ts, last_ts = row[0], row[1]
        for (reason, _), n in zip(rules, row[2:], strict=True):
            if n:
                excluded[reason] = int(n)
        # Only the rules some row breaks filter the view (a period always does). A filter that
        # removes nothing still lowers the planner's estimate of the table, which turned the
        # features scan's joins around and ran it out of memory.
        conditions = [f"({cond})" for (reason, cond) in rules
                      if excluded.get(reason) or reason == "outside period"]
        left = total - sum(excluded.values())
        before_period = left + excluded.get("outside period", 0)
        if total and before_period == 0:
            reasons = ", ".join(f"{n} {r}" for r, n in excluded.items())
            problems.append(
                f"{loader.where()}: column 'ts': no request can be analysed ({reasons}; "
                f"expected at least one request from {schema.EARLIEST} to before "
                f"{schema.LATEST} with a finite temperature)")
        elif period and left == 0:
            span = (f"{_fmt_ts(window.since) if window.since else '…'} – "
                    f"{_fmt_ts(window.until) if window.until else '…'}")
            problems.append(
                f"{loader.where()}: column 'ts': no requests in the period "
                f"{window.label or span} ({span}); the data spans {_fmt_ts(first_ts)} – "
                f"{_fmt_ts(last_ts)} (expected at least one request in the period)")
    where_sql = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    dedup = ""
    if t.key:
        dedup = _deduplicate(con, loader, typed, where_sql, params, excluded, issues)
    select = ", ".join(_q(c.name) for c in t.columns)
    # Window bounds are literal here: a view cannot hold bound parameters.
    where_lit = where_sql
    for name, value in params.items():
        assert isinstance(value, datetime)
        where_lit = where_lit.replace(f"${name}", f"TIMESTAMPTZ {_lit(value.isoformat())}")
    con.execute(f"CREATE OR REPLACE VIEW {t.name} AS SELECT {select} FROM {typed} "
                f"{where_lit} {dedup}")
    analysed = total - sum(excluded.values())
    present = tuple(c.canonical.name for c in loader.columns if c.source is not None)
    mapping = {c.canonical.name: c.source for c in loader.columns
               if c.source is not None and c.source != c.canonical.name}
    file_entries = tuple(_with_csv_rows(loader, entries))
    return TableSummary(t.name, file_entries, total, excluded, analysed, present, mapping,
                        tuple(loader.interpretations), first_ts, last_ts)


def _key_expr(table: schema.Table, column: str) -> str:
    """A key column as duplicates are compared: indicator values as the matching reads them
    (trimmed), so ' 192.0.2.1' and '192.0.2.1' are one indicator."""
    if table.name == "indicators" and column == "value":
        return f"trim({_q(column)})"
    return _q(column)


def _struct(columns: tuple[str, ...]) -> str:
    return "{" + ", ".join(f"{_lit(c)}: {_q(c)}" for c in columns) + "}"


def _deduplicate(con: duckdb.DuckDBPyConnection, loader: _TableLoader, typed: str,
                 where_sql: str, params: dict[str, object], excluded: dict[str, int],
                 issues: list[DataIssue]) -> str:
    """Apply the duplicate-key rule (schema.Table.key); return the QUALIFY clause that keeps
    the first copy of each row."""
    t = loader.table
    keys = [_key_expr(t, c) for c in t.key]
    identity = t.identity
    others = tuple(c.name for c in t.columns if c.name not in t.key)
    copies = identity if t.copies_may_differ else others
    if all(t.column(c).required for c in identity):
        # Required columns are never NULL: min = max. Far cheaper than count(DISTINCT (…))
        # per key on millions of requests.
        differs = " OR ".join(f"min({_q(c)}) <> max({_q(c)})" for c in identity) or "false"
    else:
        # Optional columns may be NULL, which min and max skip; DISTINCT compares NULLs equal.
        differs = f"count(DISTINCT {_struct(identity)}) > 1"
    # Rows of one key that are not copies of each other (no conflict: they differ in the
    # columns outside the identity only, e.g. the source of one indicator) are all kept.
    variants = "1" if copies == identity else f"count(DISTINCT {_struct(copies)})"
    key_list = ", ".join(keys)
    # Group 64-bit hashes first (cheap), then compare exactly only the keys whose hash repeats:
    # several times faster than grouping the strings themselves.
    # hash() never leaves this query, so its version-dependence does not matter.
    repeated = (f"hash({key_list}) IN (SELECT hash({key_list}) FROM {typed} {where_sql} "
                f"GROUP BY 1 HAVING count(*) > 1)")
    narrowed = f"{where_sql} AND {repeated}" if where_sql else f"WHERE {repeated}"
    key_struct = "[" + ", ".join(f"CAST({k} AS VARCHAR)" for k in keys) + "]"
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE n > variants), coalesce(sum(n - variants), 0), "
        f"count(*) FILTER (WHERE differs), min(k) FILTER (WHERE differs) "
        f"FROM (SELECT {key_struct} AS k, count(*) AS n, ({differs}) AS differs, "
        f"{variants} AS variants FROM {typed} {narrowed} GROUP BY {key_list} "
        f"HAVING count(*) > 1)", params).fetchone()
    assert row is not None
    dup_keys, dup_rows, conflicting, example = int(row[0]), int(row[1]), int(row[2]), row[3]
    label = t.key[-1]  # the column named in messages: request_id, account_id, model, value
    if conflicting:
        loader.problems.append(_conflict(con, loader, typed, where_sql, params, keys,
                                         conflicting, example))
        return ""
    if not dup_rows:
        return ""
    # Documented rule: identical re-exported rows keep the first copy (by file, row).
    reason = "duplicate indicator" if t.name == "indicators" else f"duplicate {label}"
    excluded[reason] = dup_rows
    what = (f"{', '.join(identity)}" if t.copies_may_differ else "values")
    issues.append(DataIssue(t.name, label, dup_rows,
                            f"{dup_keys} {' and '.join(t.key)} value(s) appear more than once "
                            f"with the same {what}; {dup_rows} repeated row(s) excluded, first "
                            f"copy kept"))
    partition = ", ".join([*keys, *(_q(c) for c in ([] if t.copies_may_differ else copies))])
    return f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY __file, __row) = 1"


def _conflict(con: duckdb.DuckDBPyConnection, loader: _TableLoader, typed: str, where_sql: str,
              params: dict[str, object], keys: list[str], conflicting: int,
              example: list[str]) -> str:
    """The problem for keys used by rows that disagree, naming the first such key and two of
    its rows that disagree (the first row, and the first that differs from it)."""
    t = loader.table
    match = " AND ".join(f"CAST({k} AS VARCHAR) = $k{i}" for i, k in enumerate(keys))
    where = f"{where_sql} AND {match}" if where_sql else f"WHERE {match}"
    bound = {**params, **{f"k{i}": v for i, v in enumerate(example)}}
    rows = con.execute(f"SELECT __file, __row, {', '.join(_q(c) for c in t.identity)} "
                       f"FROM {typed} {where} ORDER BY __file, __row LIMIT 1000",
                       bound).fetchall()
    first = rows[0]
    other = next(r for r in rows if r[2:] != first[2:])
    at = " and ".join(f"{_rel(f, loader.data_dir)} {_position(f, r)}"
                      for f, r in (first[:2], other[:2]))
    label = t.key[-1]
    if len(t.identity) <= 2:
        different = " or ".join(t.identity)
    else:  # name the columns these two rows differ in, not all seven of an account's
        different = " or ".join(c for c, a, b in zip(t.identity, first[2:], other[2:],
                                                     strict=True) if a != b)
    if t.name == "indicators":
        return (f"{loader.where()}: column {label!r}: {conflicting} indicator(s) are listed "
                f"with a different {different} (first: {tuple(example)!r} at {at}; expected "
                f"each indicator attributed once, the indicators contradict each other)")
    return (f"{loader.where()}: column {label!r}: {conflicting} id(s) are used by rows with a "
            f"different {different} (first: {example[0]!r} at {at}; expected unique ids, the "
            f"export is inconsistent)")


def _with_csv_rows(loader: _TableLoader, entries: list[InputFile]) -> list[InputFile]:
    """CSV files have no footer to count rows from: take what DuckDB read from each."""
    paths = {f.rel: str(f.path) for f in loader.files}
    return [replace(e, rows=loader.rows_by_file.get(paths[e.path], 0)) if e.rows < 0 else e
            for e in entries]


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
