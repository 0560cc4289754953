"""The one DuckDB connection of a run, with explicit resource limits."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from forensics.config import EngineSection


def connect(engine: EngineSection, workdir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the run's database (in memory, or a file in --workdir) with bounded memory.

    Spills go to `temp_directory` (default: beside the workdir, or the system temp folder),
    so a log larger than RAM still loads.
    """
    database = ":memory:"
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        database = str(workdir / "forensics.duckdb")
    # Extensions are never auto-installed: that would reach the network.
    con = duckdb.connect(database, config={"autoinstall_known_extensions": False,
                                           "autoload_known_extensions": False})
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = $m", {"m": engine.memory_limit})
    threads = engine.threads or max(1, os.cpu_count() or 1)
    con.execute("SET threads = $t", {"t": int(threads)})
    temp = engine.temp_directory or str(
        workdir / "spill" if workdir else Path(tempfile.gettempdir()) / "forensics-spill")
    con.execute("SET temp_directory = $t", {"t": temp})
    con.execute("SET preserve_insertion_order = false")
    # The requests view reads its files with union_by_name, so every query on it read every
    # file's footer again: 20 ms a query at 83 files, and the report reads its evidence rows
    # with one query per file (3.4 s at 20 M requests). The inputs do not change during a run
    # (ingest hashes them first), and cached footers are checked against the file's time.
    con.execute("SET parquet_metadata_cache = true")
    # Progress goes through our own reporter; DuckDB's bar would draw on any stderr.
    con.execute("SET enable_progress_bar = false")
    return con


@contextlib.contextmanager
def database(engine: EngineSection, workdir: Path | None = None
             ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's database, always on disk: in --workdir (kept), or in a scratch folder that is
    removed afterwards. Persistent tables are compressed, so a 10 M-request run holds about a
    third of the memory an in-memory database needs and spills far less."""
    scratch = None
    if workdir is None:
        base = engine.temp_directory or tempfile.gettempdir()
        Path(base).mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="forensics-db-", dir=base))
    con = connect(engine, workdir or scratch)
    try:
        yield con
    finally:
        con.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def spill_directory(con: duckdb.DuckDBPyConnection) -> str:
    """Where DuckDB spills when memory runs short (recorded in the manifest)."""
    row = con.execute("SELECT current_setting('temp_directory')").fetchone()
    return str(row[0]) if row else ""


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the database holds a table `name`. Asked of the catalogue: querying a missing
    table would make DuckDB's Python client scan a Python object of that name instead."""
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                      "current_database() AND schema_name = 'main' AND table_name = $t",
                      {"t": name}).fetchone()
    return bool(row and row[0])
