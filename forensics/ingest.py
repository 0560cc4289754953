"""Ingest: find the exported tables, check them against the contract, expose canonical views.

Every problem is collected before anything fails, so an analyst fixes an export in one go.
Heuristics only ever see the canonical names (`requests`, `accounts`, `model_releases`,
`indicators`), never file paths.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from forensics import schema
from forensics.config import Window
from forensics.errors import InputError, InputProblems
from forensics.outputs import file_digest

_PARQUET_MAGIC = b"PAR1"
_IGNORED_PREFIXES = (".", "_")  # _SUCCESS, .crc files and the like written by Spark/Hadoop


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

    def has_column(self, table_name: str, column: str) -> bool:
        """Whether the export carries `column` for `table_name` (absent ones are NULL)."""
        t = self.tables.get(table_name)
        return t is not None and column in t.columns_present


def _rel(path: Path, data_dir: Path) -> str:
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path)


def discover(data_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Files per contract table, and problems found on the way (not-Parquet files…)."""
    problems: list[str] = []
    found: dict[str, list[Path]] = {}
    for t in schema.TABLES:
        files: list[Path] = []
        single = data_dir / f"{t.name}.parquet"
        if single.is_file():
            files.append(single)
        folder = data_dir / t.name
        if folder.is_dir():
            for p in sorted(folder.rglob("*")):
                if not p.is_file() or any(part.startswith(_IGNORED_PREFIXES)
                                          for part in p.relative_to(folder).parts):
                    continue
                if p.suffix.lower() == ".parquet" or (t.name == "indicators"
                                                      and p.suffix.lower() == ".csv"):
                    files.append(p)
                else:
                    problems.append(f"{_rel(p, data_dir)}: not a Parquet file "
                                    f"(expected *.parquet in table folder {t.name}/)")
        if t.name == "indicators" and (data_dir / "indicators.csv").is_file():
            files.append(data_dir / "indicators.csv")
        if files:
            found[t.name] = sorted(files)
    return found, problems


def _parquet_rows(path: Path, rel: str) -> tuple[int, list[tuple[str, str]]]:
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if head != _PARQUET_MAGIC:
        raise InputError("not a Parquet file (no PAR1 header)", file=rel)
    if tail != _PARQUET_MAGIC:
        raise InputError("truncated or corrupt Parquet file (no PAR1 footer)", file=rel)
    try:
        meta = pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt footer
        raise InputError(f"corrupt Parquet file ({exc})", file=rel) from None
    fields = [(f.name, str(f.physical_type)) for f in meta.schema]
    return meta.num_rows, fields


def _fingerprint(fields: list[tuple[str, str]]) -> str:
    text = "\n".join(f"{n}:{t}" for n, t in sorted(fields))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class _Column:
    canonical: schema.Column
    source: str | None  # None: absent optional column
    source_type: str | None = None
    expr: str = ""
    checked: str | None = None  # expression whose NULL (with source non-NULL) means a cast failed
    interpretation: str | None = None


def _timestamp_expr(src: str, src_type: str, con: duckdb.DuckDBPyConnection,
                    view: str) -> tuple[str, str | None, str | None]:
    """Cast expression for a TIMESTAMPTZ column, the failure check, and how it was read."""
    t = src_type.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE"):
        return src, None, None
    if t.startswith("TIMESTAMP") or t == "DATE":
        return (f"CAST({src} AS TIMESTAMPTZ)", None,
                "time-zone-naive timestamps read as UTC")
    if t in {"BIGINT", "INTEGER", "HUGEINT", "UBIGINT", "SMALLINT", "DOUBLE", "FLOAT"}:
        row = con.execute(f"SELECT max(abs({src})) FROM {view}").fetchone()
        biggest = float(row[0]) if row and row[0] is not None else 0.0
        # Epoch units are unambiguous by magnitude for any date between 1973 and 5138.
        if biggest < 1e11:
            return f"to_timestamp({src})", None, "epoch seconds read as UTC"
        if biggest < 1e14:
            return f"epoch_ms(CAST({src} AS BIGINT))", None, "epoch milliseconds read as UTC"
        if biggest < 1e17:
            return (f"make_timestamp(CAST({src} AS BIGINT))::TIMESTAMPTZ", None,
                    "epoch microseconds read as UTC")
        return (f"make_timestamp(CAST({src} AS BIGINT) // 1000)::TIMESTAMPTZ", None,
                "epoch nanoseconds read as UTC")
    expr = f"TRY_CAST(trim(CAST({src} AS VARCHAR)) AS TIMESTAMPTZ)"
    return expr, expr, "ISO-8601 text read as UTC where it carries no offset"


def _cast_expr(col: _Column, con: duckdb.DuckDBPyConnection, view: str) -> None:
    target = col.canonical.type
    if col.source is None:
        col.expr = f"CAST(NULL AS {target})"
        return
    src = _q(col.source)
    src_type = (col.source_type or "").upper()
    if target == "TIMESTAMPTZ":
        col.expr, col.checked, col.interpretation = _timestamp_expr(src, src_type, con, view)
    elif target == "VARCHAR":
        col.expr = src if src_type == "VARCHAR" else f"CAST({src} AS VARCHAR)"
    elif src_type == target or (target == "INTEGER" and src_type in {"SMALLINT", "TINYINT"}):
        col.expr = src if src_type == target else f"CAST({src} AS {target})"
    else:
        inner = f"trim(CAST({src} AS VARCHAR))" if src_type == "VARCHAR" else src
        col.expr = f"TRY_CAST({inner} AS {target})"
        col.checked = col.expr


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()
    return {r[0]: r[1] for r in rows}


def _source_view(con: duckdb.DuckDBPyConnection, table: schema.Table, files: list[Path]) -> str:
    view = f"src_{table.name}"
    paths = ", ".join(_lit(str(p)) for p in files)
    if files[0].suffix.lower() == ".csv":
        reader = (f"read_csv([{paths}], header = true, all_varchar = true, "
                  f"filename = '__file', union_by_name = true)")
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT *, 0 AS __row FROM {reader}")
    else:
        reader = (f"read_parquet([{paths}], union_by_name = true, hive_partitioning = true, "
                  f"filename = '__file', file_row_number = true)")
        con.execute(f"CREATE OR REPLACE VIEW {view} AS "
                    f"SELECT * EXCLUDE (file_row_number), file_row_number AS __row FROM {reader}")
    return view


class _TableLoader:
    """Loads one table: mapping, casts, checks. Collects problems instead of raising."""

    def __init__(self, con: duckdb.DuckDBPyConnection, data_dir: Path, table: schema.Table,
                 files: list[Path], mapping: dict[str, str], problems: list[str]):
        self.con = con
        self.data_dir = data_dir
        self.table = table
        self.files = files
        self.mapping = mapping
        self.problems = problems
        self.columns: list[_Column] = []
        self.interpretations: list[str] = []

    def where(self) -> str:
        if len(self.files) == 1:
            return _rel(self.files[0], self.data_dir)
        return f"{self.table.name}/ ({len(self.files)} files)"

    def map_columns(self, view: str) -> bool:
        available = _columns(self.con, view)
        ok = True
        for col in self.table.columns:
            source = self.mapping.get(col.name, col.name)
            if source not in available:
                if col.name in self.mapping:
                    self.problems.append(
                        f"{self.where()}: column {source!r}: the config maps "
                        f"{self.table.name}.{col.name} to it, but no file has that column "
                        f"(columns: {', '.join(sorted(c for c in available if c[:2] != '__'))})")
                    ok = False
                elif col.required:
                    self.problems.append(
                        f"{self.where()}: column {col.name!r}: missing required column "
                        f"(expected {col.type}; map another name with "
                        f"[columns.{self.table.name}] {col.name} = \"…\")")
                    ok = False
                self.columns.append(_Column(col, None))
            else:
                self.columns.append(_Column(col, source, available[source]))
        return ok

    def build_typed_view(self, view: str) -> str:
        for col in self.columns:
            _cast_expr(col, self.con, view)
            if col.interpretation:
                self.interpretations.append(f"{col.canonical.name}: {col.interpretation}")
        typed = f"typed_{self.table.name}"
        select = ",\n  ".join(f"{c.expr} AS {_q(c.canonical.name)}" for c in self.columns)
        self.con.execute(f"CREATE OR REPLACE VIEW {typed} AS SELECT\n  {select},\n"
                         f"  __file, __row FROM {view}")
        return typed

    def check_values(self, view: str) -> int:
        """Nulls in required columns and values that cannot be cast; returns the row count.

        One scan of the source: the cast expressions are evaluated beside their source values.
        """
        aggs = ["count(*)"]
        checks: list[tuple[str, _Column]] = []
        for col in self.columns:
            if col.source is None:
                continue
            src = _q(col.source)
            if col.canonical.required:
                aggs.append(f"count(*) FILTER (WHERE {src} IS NULL)")
                aggs.append(f"arg_min(__file || ' row ' || __row, __row) "
                            f"FILTER (WHERE {src} IS NULL)")
                checks.append(("null", col))
            if col.checked:
                cond = f"({col.checked}) IS NULL AND {src} IS NOT NULL"
                aggs.append(f"count(*) FILTER (WHERE {cond})")
                aggs.append(f"arg_min(__file || ' row ' || __row || ': ' || "
                            f"left(CAST({src} AS VARCHAR), 40), __row) FILTER (WHERE {cond})")
                checks.append(("cast", col))
        row = self.con.execute(f"SELECT {', '.join(aggs)} FROM {view}").fetchone()
        assert row is not None
        total = int(row[0])
        for i, (kind, col) in enumerate(checks):
            count, example = row[1 + 2 * i], row[2 + 2 * i]
            if not count:
                continue
            name = col.canonical.name
            src_note = "" if col.source == name else f" (source column {col.source!r})"
            file_part, _, rest = str(example).partition(" row ")
            where = _rel(Path(file_part), self.data_dir)
            if kind == "null":
                self.problems.append(
                    f"{where}: column {name!r}{src_note}: {count} null value(s) in a required "
                    f"column (expected {col.canonical.type}; first at row {rest})")
            else:
                row_no, _, value = rest.partition(": ")
                self.problems.append(
                    f"{where}: column {name!r}{src_note}: {count} value(s) cannot be read as "
                    f"{col.canonical.type} (first at row {row_no}: {value!r})")
        return total


def create_empty_table(con: duckdb.DuckDBPyConnection, table: schema.Table) -> None:
    """An empty canonical table, so heuristics over an absent optional table still prepare."""
    cols = ", ".join(f"{_q(c.name)} {c.type}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE {table.name} ({cols})")


def ingest(con: duckdb.DuckDBPyConnection, data_dir: Path,
           columns: dict[str, dict[str, str]] | None = None,
           window: Window | None = None) -> IngestResult:
    """Check the data directory against the contract and create the canonical views.

    Raises InputProblems listing every fatal problem; returns the provenance otherwise.
    """
    window = window or Window()
    columns = columns or {}
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise InputError("data directory does not exist", file=str(data_dir))
    if not data_dir.is_dir():
        raise InputError("not a directory (expected a folder of Parquet files)",
                         file=str(data_dir))
    con.execute("SET TimeZone = 'UTC'")
    found, problems = discover(data_dir)
    for t in schema.TABLES:
        if t.required and t.name not in found:
            problems.append(f"{data_dir}: no {t.name} table (expected {t.name}.parquet or a "
                            f"folder {t.name}/ of Parquet files)")

    files: dict[str, list[InputFile]] = {}
    for name, paths in found.items():
        entries = []
        for p in paths:
            rel = _rel(p, data_dir)
            try:
                if p.suffix.lower() == ".csv":
                    rows, fields = -1, list[tuple[str, str]]()
                else:
                    rows, fields = _parquet_rows(p, rel)
            except InputError as exc:
                problems.append(exc.line())
                continue
            entries.append(InputFile(name, rel, p.stat().st_size, file_digest(p), rows,
                                     _fingerprint(fields)))
        files[name] = entries
    if problems:
        raise InputProblems(problems)

    summaries: dict[str, TableSummary] = {}
    issues: list[DataIssue] = []
    loaders: dict[str, tuple[_TableLoader, str, int]] = {}
    for t in schema.TABLES:
        if t.name not in found:
            create_empty_table(con, t)
            summaries[t.name] = TableSummary(t.name, (), 0, {}, 0, (), {})
            continue
        loader = _TableLoader(con, data_dir, t, found[t.name], columns.get(t.name, {}), problems)
        try:
            view = _source_view(con, t, found[t.name])
        except duckdb.Error as exc:
            problems.append(f"{loader.where()}: cannot be read ({str(exc).splitlines()[0]})")
            continue
        if not loader.map_columns(view):
            continue
        typed = loader.build_typed_view(view)
        try:
            total = loader.check_values(view)
        except duckdb.Error as exc:
            problems.append(f"{loader.where()}: cannot be read ({str(exc).splitlines()[0]})")
            continue
        if total == 0 and t.required:
            problems.append(f"{loader.where()}: table {t.name} has no rows")
        loaders[t.name] = (loader, typed, total)
    if problems:
        raise InputProblems(problems)

    for name, (loader, typed, total) in loaders.items():
        summaries[name] = _finish_table(con, loader, typed, total, window, issues, problems,
                                        files[name])
    if problems:
        raise InputProblems(problems)
    _check_orphans(con, summaries, issues)
    return IngestResult(str(data_dir), window, summaries, tuple(issues))


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
    ts_col = "ts" if t.name == "requests" else None
    if ts_col:
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
                problems.append(
                    f"{loader.where()}: column 'ts': no requests in the period "
                    f"{window.describe()} (the data spans {first_ts} – {last_ts})")
    where_sql = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    dedup = ""
    if key:
        row = con.execute(
            f"SELECT count(*), coalesce(sum(n - 1), 0), count(*) FILTER (WHERE variants > 1)"
            f" FROM (SELECT {_q(key)}, count(*) AS n, count(DISTINCT "
            f"{'(account_id, ts)' if t.name == 'requests' else 'true'}) AS variants "
            f"FROM {typed} {where_sql} GROUP BY ALL HAVING count(*) > 1)", params).fetchone()
        dup_keys, dup_rows, conflicting = (int(row[0]), int(row[1]), int(row[2])) if row else (
            0, 0, 0)
        if conflicting:
            problems.append(
                f"{loader.where()}: column {key!r}: {conflicting} id(s) are used by rows with a "
                f"different account or time (expected unique ids; the export is inconsistent)")
        elif dup_rows:
            # Documented rule: identical re-exported rows keep the first copy (by file, row).
            excluded[f"duplicate {key}"] = dup_rows
            issues.append(DataIssue(t.name, key, dup_rows,
                                    f"{dup_keys} {key} value(s) appear more than once; "
                                    f"{dup_rows} repeated row(s) dropped, first copy kept"))
            dedup = (f"QUALIFY row_number() OVER (PARTITION BY {_q(key)} "
                     f"ORDER BY __file, __row) = 1")
    select = ", ".join(_q(c.name) for c in t.columns)
    # Window bounds are literal here: a view cannot hold bound parameters.
    where_lit = where_sql
    for name, value in params.items():
        assert isinstance(value, datetime)
        where_lit = where_lit.replace(f"${name}", f"TIMESTAMPTZ '{value.isoformat()}'")
    con.execute(f"CREATE OR REPLACE VIEW {t.name} AS SELECT {select} FROM {typed} "
                f"{where_lit} {dedup}")
    for text in loader.interpretations:
        issues.append(DataIssue(t.name, text.split(":")[0], 0, text))
    analysed = total - sum(excluded.values())
    present = tuple(c.canonical.name for c in loader.columns if c.source is not None)
    mapping = {c.canonical.name: c.source for c in loader.columns
               if c.source is not None and c.source != c.canonical.name}
    file_entries = tuple(_with_csv_rows(con, loader, entries))
    return TableSummary(t.name, file_entries, total, excluded, analysed, present, mapping,
                        tuple(loader.interpretations), first_ts, last_ts)


def _with_csv_rows(con: duckdb.DuckDBPyConnection, loader: _TableLoader,
                   entries: list[InputFile]) -> list[InputFile]:
    """CSV files have no footer to count rows from: count them through DuckDB."""
    out = []
    for entry in entries:
        if entry.rows < 0:
            path = str(loader.data_dir / entry.path)
            row = con.execute(f"SELECT count(*) FROM src_{loader.table.name} WHERE __file = $f",
                              {"f": path}).fetchone()
            entry = InputFile(entry.table, entry.path, entry.bytes, entry.sha256,
                              int(row[0]) if row else 0, entry.schema_fingerprint)
        out.append(entry)
    return out


def _check_orphans(con: duckdb.DuckDBPyConnection, tables: dict[str, TableSummary],
                   issues: list[DataIssue]) -> None:
    row = con.execute(
        "SELECT count(*), count(DISTINCT r.account_id) FROM requests r "
        "ANTI JOIN accounts a USING (account_id)").fetchone()
    if row and row[0]:
        issues.append(DataIssue("requests", "account_id", int(row[0]),
                                f"{row[0]} request(s) from {row[1]} account(s) not in accounts; "
                                f"kept, but account-level heuristics cannot see them"))
