"""Loading one table: a source view over exactly its files, the column mapping, the typed view
of canonical names and types, and one scan that checks every value.

Problems are collected, not raised, so that every table's are reported at once. The views
carry ingest's own columns `__file` (the path DuckDB read, absolute) and `__row` (Parquet:
the row in its file from 0; CSV: the line, header = 1); they stay inside ingest, and the
next stages see locations only through `request_locations` (tables.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from forensics import schema, sqltext
from forensics.ingest.casts import Column, cast_expr, source_note, value_rule
from forensics.ingest.discovery import SourceFile
from forensics.ingest.inventory import Fields
from forensics.ingest.messages import first_line, listed, position, rel

_q = sqltext.identifier
_lit = sqltext.string


def raise_if_interrupted(exc: BaseException) -> None:
    """Re-raise a DuckDB error that stands for a signal as the interrupt it is."""
    # DuckDB turns a signal that arrives mid-query into an error; it must stay an interrupt,
    # not become a "cannot be read" input problem.
    if isinstance(exc, duckdb.InterruptException) or "interrupted" in str(exc).lower():
        raise KeyboardInterrupt(str(exc)) from exc


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


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()
    return {r[0]: r[1] for r in rows}


# One check of the value scan: kind (null, cast, rule), column, SQL condition true for a row
# that breaks it, and the SQL of the value an example shows.
_Check = tuple[str, Column, str, str]


class TableLoader:
    """Loads one table: mapping, casts, checks. Collects problems instead of raising."""

    def __init__(self, con: duckdb.DuckDBPyConnection, data_dir: Path, table: schema.Table,
                 files: list[SourceFile], mapping: dict[str, str], problems: list[str],
                 file_fields: dict[str, Fields]):
        self.con = con
        self.data_dir = data_dir
        self.table = table
        self.files = files
        self.mapping = mapping
        self.problems = problems
        self.file_fields = file_fields  # str(path) → fields, Parquet files only
        self.partitions = {str(f.path): f.partitions for f in files}
        self.footer_rows: dict[str, int] = {}  # str(path) → rows in the footer, Parquet only
        self.columns: list[Column] = []
        self.interpretations: list[str] = []
        self.view = f"src_{table.name}"
        self.rows_by_file: dict[str, int] = {}  # __file → rows DuckDB read from it

    def has(self, column: str) -> bool:
        """Whether the files carry this contract column (absent ones are NULL)."""
        return any(c.canonical.name == column and c.source is not None for c in self.columns)

    def where(self) -> str:
        """The table's files as problem lines name them: the file, or the folder and count."""
        if len(self.files) == 1:
            return self.files[0].rel
        return f"{self.table.name}/ ({len(self.files)} files)"

    def create_source_view(self) -> bool:
        """The view `src_<table>` over exactly the listed files; whether it reads them all."""
        try:
            partitions = _partition_table(self.con, self.table, self.files)
            self.con.execute(f"CREATE OR REPLACE VIEW {self.view} AS "
                             f"{_reader_sql(self.files, partitions)}")
            _columns(self.con, self.view)
            counted = self.con.execute(f"SELECT __file, count(*) FROM {self.view} "
                                       f"GROUP BY ALL").fetchall()
        except (duckdb.Error, RuntimeError) as exc:
            raise_if_interrupted(exc)
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
        listed_files = {str(f.path): f for f in self.files}
        wrong = [f"{rel(name, self.data_dir)}: read although not listed (expected only the "
                 f"files found in the data directory)"
                 for name in sorted(set(self.rows_by_file) - set(listed_files))]
        for name, f in listed_files.items():
            fields_rows = self.footer_rows.get(name)
            got = self.rows_by_file.get(name, 0)
            if fields_rows is not None and got != fields_rows:
                wrong.append(f"{f.rel}: {got} row(s) read where the file holds {fields_rows} "
                             f"(expected each file read once, as named)")
        self.problems.extend(listed(wrong, f"files misread in {self.table.name}"))
        return not wrong

    def report_unreadable(self, exc: BaseException) -> None:
        """Name the file(s) DuckDB cannot read, by reading each one on its own."""
        bad = []
        for f in self.files:
            try:
                self.con.execute(f"SELECT count(*), max(length(CAST(COLUMNS(*) AS VARCHAR))) "
                                 f"FROM ({_reader_sql([f])})").fetchall()
            except (duckdb.Error, RuntimeError) as one:
                raise_if_interrupted(one)
                kind = "CSV" if f.csv else "Parquet"
                bad.append(f"{f.rel}: cannot be read ({first_line(one)}; "
                           f"expected a valid {kind} file)")
        if bad:
            self.problems.extend(listed(bad, f"unreadable files in {self.table.name}"))
        else:
            # Every file reads alone: the files disagree with each other (types, encodings).
            self.problems.append(f"{self.where()}: the files cannot be read together "
                                 f"({first_line(exc)}; expected compatible schemas)")

    def map_columns(self) -> bool:
        """Find each contract column in the files (under its mapped name); whether every
        required one is there, in every file."""
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
                self.columns.append(Column(col, None))
                continue
            missing = tuple(path for path, fields in self.file_fields.items()
                            if source not in {n for n, _ in fields}
                            and source not in {k for k, _ in self.partitions[path]})
            self.columns.append(Column(col, source, available[source], missing_in=missing))
            if col.required and missing:
                self.problems.extend(listed(
                    [f"{rel(p, self.data_dir)}: column {source!r}: missing required column "
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
            raise_if_interrupted(exc)
            self.report_unreadable(exc)
            return None

    def _build_typed_view(self) -> str:
        for col in self.columns:
            problem = cast_expr(col, self.con, self.view, self._naive_files(col))
            col.rule = value_rule(self.table, col)
            if problem:
                self.problems.append(f"{self.where()}: column {col.canonical.name!r}"
                                     f"{source_note(col)}: {problem}")
            if col.interpretation:
                self.interpretations.append(f"{col.canonical.name}: {col.interpretation}")
        typed = f"typed_{self.table.name}"
        select = ",\n  ".join(f"{c.expr} AS {_q(c.canonical.name)}" for c in self.columns)
        self.con.execute(f"CREATE OR REPLACE VIEW {typed} AS SELECT\n  {select},\n"
                         f"  __file, __row FROM {self.view}")
        return typed

    def _naive_files(self, col: Column) -> int:
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
        checks, decode_all = self._value_checks()
        counts = ["count(*)"] + [f"count(*) FILTER (WHERE {cond})" for _, _, cond, _ in checks]
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
            raise_if_interrupted(exc)
            self.report_unreadable(exc)
            return None
        for (check, count), example in zip(found, examples, strict=True):
            self._report_value_problem(check, count, example)
        return int(row[0])

    def _value_checks(self) -> tuple[list[_Check], list[str]]:
        """The checks of the value scan, and the aggregates that make it decode every value."""
        decode_all: list[str] = []
        checks: list[_Check] = []
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
        return checks, decode_all

    def _report_value_problem(self, check: _Check, count: int, example: Any) -> None:
        """One problem line for a check some values break, with where it first happens."""
        kind, col, _, _ = check
        name = col.canonical.name
        where = rel(example["f"], self.data_dir)
        at = position(example["f"], example["r"])
        if kind == "null":
            self.problems.append(
                f"{where}: column {name!r}{source_note(col)}: {count} null value(s) in a "
                f"required column (expected {col.canonical.type}; first at {at})")
        elif kind == "rule" and col.rule:
            self.problems.append(
                f"{where}: column {name!r}{source_note(col)}: {count} value(s) "
                f"{col.rule[1]} (expected {col.rule[2]}; first at {at}: {example['v']!r})")
        else:
            what = ("are not allowed values" if col.canonical.choices
                    else f"cannot be read as {col.canonical.type}")
            self.problems.append(
                f"{where}: column {name!r}{source_note(col)}: {count} value(s) {what} "
                f"(expected {col.expected or col.canonical.type}; first at {at}: "
                f"{example['v']!r})")
