"""The ingest stage: find the files, read their footers, load and check every table, apply
the rules, and create the tables handed on (tables.py). Every problem is collected before
anything fails."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import duckdb

from forensics import schema
from forensics.config import Window
from forensics.errors import InputProblems
from forensics.ingest.cache import forget, remember, remembered, validation_key
from forensics.ingest.discovery import SourceFile, check_data_dir, find_files, missing_table
from forensics.ingest.inventory import Fields, take_inventory
from forensics.ingest.loader import TableLoader
from forensics.ingest.results import DataIssue, IngestResult, InputFile, TableSummary
from forensics.ingest.rules import check_orphans, finish_table, indicator_problems
from forensics.ingest.tables import (
    create_canonical_view,
    create_empty_table,
    create_request_locations,
    record_issues,
)


class _Loaded(NamedTuple):
    """A table whose values passed the checks: its loader, typed view and rows read."""

    loader: TableLoader
    typed: str
    total: int


def ingest(con: duckdb.DuckDBPyConnection, data_dir: Path,
           columns: dict[str, dict[str, str]] | None = None,
           window: Window | None = None) -> IngestResult:
    """Check the data directory against the contract and create the canonical views.

    Raises InputProblems listing every fatal problem; returns the provenance otherwise.
    """
    window = window or Window()
    columns = columns or {}
    given = Path(data_dir)
    check_data_dir(given)
    # Absolute: DuckDB would read a relative path against the process's working folder and a
    # leading `~` as the home folder.
    data_dir = Path(os.path.abspath(given))
    con.execute("SET TimeZone = 'UTC'")
    found, problems = find_files(data_dir)
    for t in schema.TABLES:
        if t.required and t.name not in found:
            problems.append(missing_table(given, t))
    files, fields_by_file, unreadable = take_inventory(found)
    problems += unreadable
    if problems:
        raise InputProblems(problems)
    # A kept database (--workdir) remembers its last successful validation: the same files,
    # byte for byte, under the same mapping and window validate the same way.
    key = validation_key(given, found, files, columns, window)
    earlier = remembered(con, key, window)
    if earlier is not None:
        return earlier
    # From here the views are replaced: the remembered validation no longer describes them.
    forget(con)
    summaries: dict[str, TableSummary] = {}
    loaded = _load_tables(con, data_dir, found, files, fields_by_file, columns, summaries,
                          problems)
    if problems:
        raise InputProblems(problems)
    issues: list[DataIssue] = []
    for name, (loader, typed, total) in loaded.items():
        summaries[name], kept = finish_table(con, loader, typed, total, window, issues,
                                             problems, files[name])
        create_canonical_view(con, loader.table, kept)
        if name == "requests":
            create_request_locations(con, typed, kept, data_dir)
    if problems:
        raise InputProblems(problems)
    check_orphans(con, issues)
    record_issues(con, issues)
    result = IngestResult(str(given), window, summaries, tuple(issues))
    remember(con, key, result)
    return result


def _load_tables(con: duckdb.DuckDBPyConnection, data_dir: Path,
                 found: dict[str, list[SourceFile]], files: dict[str, list[InputFile]],
                 fields_by_file: dict[str, dict[str, Fields]],
                 columns: dict[str, dict[str, str]], summaries: dict[str, TableSummary],
                 problems: list[str]) -> dict[str, _Loaded]:
    """Load and check every table found (problems into `problems`); an absent optional table
    becomes an empty one, with its summary in `summaries`."""
    loaded: dict[str, _Loaded] = {}
    for t in schema.TABLES:
        if t.name not in found:
            create_empty_table(con, t)
            summaries[t.name] = TableSummary(t.name, (), 0, {}, 0, (), {})
            continue
        loader = TableLoader(con, data_dir, t, found[t.name], columns.get(t.name, {}),
                             problems, fields_by_file[t.name])
        loader.footer_rows = {str(f.path): entry.rows for f, entry
                              in zip(found[t.name], files[t.name], strict=True) if not f.csv}
        if not loader.create_source_view() or not loader.map_columns():
            continue
        typed = loader.build_typed_view()
        total = loader.check_values() if typed else None
        if typed is None or total is None:
            continue
        if t.name == "indicators":
            problems.extend(indicator_problems(con, loader, typed))
        if total == 0 and t.required:
            problems.append(f"{loader.where()}: table {t.name} has no rows (expected at least "
                            f"one row)")
        loaded[t.name] = _Loaded(loader, typed, total)
    return loaded
