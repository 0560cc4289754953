"""The one DuckDB connection of a run, with explicit resource limits."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from forensics.config import EngineSection
from forensics.errors import ConfigError, SystemFault, os_fault
from forensics.outputs import make_owned_dir, sweep_stale

SCRATCH_PREFIX = "forensics-db-"
DATABASE_FILE = "forensics.duckdb"


def _silent(_: str) -> None:
    return None


def ready_folder(path: Path, what: str) -> Path:
    """Create `path` if needed and check that DuckDB may write there; raise ConfigError naming
    the setting and the path otherwise (DuckDB itself would fail only when it first spills,
    deep into a run, with an internal error)."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} is not a folder (expected a folder for the run's scratch "
                          f"database and spill files)", file=str(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{what} cannot be created ({exc.strerror}; expected a folder this "
                          f"user may create files in)", file=str(path)) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} is not writable (expected a folder this user may create "
                          f"files in)", file=str(path))
    return path


def _open(database: str, workdir: Path | None) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, with a kept database that cannot be opened reported as such."""
    try:
        # Extensions are never auto-installed: that would reach the network.
        return duckdb.connect(database, config={"autoinstall_known_extensions": False,
                                                "autoload_known_extensions": False})
    except duckdb.Error as exc:
        if workdir is None:
            raise
        first = str(exc).splitlines()[0]
        if "Could not set lock" in first or "Conflicting lock" in first:
            why = (f"is in use by another process ({first}); wait for it to end or choose "
                   f"another --workdir")
        else:
            why = (f"cannot be opened as a DuckDB database ({first}); it is damaged or not "
                   f"this tool's: delete it (it is only a cache) or choose another --workdir")
        raise ConfigError(f"--workdir database {why}", file=database) from None


def connect(engine: EngineSection, workdir: Path | None = None,
            spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the run's database (in memory, or a file in --workdir) with bounded memory.

    Spills go to `spill`, else `temp_directory`, else beside the workdir, else the system
    temp folder, so a log larger than RAM still loads.
    """
    database = ":memory:"
    if workdir is not None:
        ready_folder(workdir, "--workdir")
        database = str(workdir / DATABASE_FILE)
        if (workdir / DATABASE_FILE).is_dir():
            raise ConfigError("--workdir database is a folder (expected the DuckDB file a "
                              "previous run kept there)", file=database)
    temp = spill or (Path(engine.temp_directory) if engine.temp_directory else None)
    if temp is None:
        temp = workdir / "spill" if workdir else Path(tempfile.gettempdir()) / "forensics-spill"
    if spill is None:
        ready_folder(temp, "[engine] temp_directory" if engine.temp_directory
                     else "the spill folder")
    con = _open(database, workdir)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = $m", {"m": engine.memory_limit})
    threads = engine.threads or max(1, os.cpu_count() or 1)
    con.execute("SET threads = $t", {"t": int(threads)})
    con.execute("SET temp_directory = $t", {"t": str(temp)})
    con.execute("SET preserve_insertion_order = false")
    # The requests view reads its files with union_by_name, so every query on it read every
    # file's footer again, and the report reads its evidence rows with one query per file.
    # The inputs do not change during a run (ingest hashes them first), and cached footers are
    # checked against the file's time.
    con.execute("SET parquet_metadata_cache = true")
    # DuckDB measures how far a statement is (forensics/progress.py polls it for the long
    # features scan); it never prints its own bar, which would draw on any stderr.
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


@contextlib.contextmanager
def database(engine: EngineSection, workdir: Path | None = None,
             progress: Callable[[str], None] = _silent
             ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's database, always on disk: in --workdir (kept), or in a scratch folder that is
    removed afterwards. Persistent tables are compressed, so a large run holds a fraction of
    the memory an in-memory database needs and spills far less.

    The scratch folder (`forensics-db-<pid>-<host>-<random>` in temp_directory or the system
    temp folder) also holds the run's spill files, so that concurrent runs never share spill
    files and a killed run's leftovers are one folder, which the next run removes once its
    owner is gone. A fault of the machine on the database (disk full, damaged file) is
    reported naming the folder, not as an internal error.
    """
    scratch = None
    if workdir is None or engine.temp_directory:
        label = "[engine] temp_directory" if engine.temp_directory else "the system temp folder"
        base = ready_folder(Path(engine.temp_directory or tempfile.gettempdir()), label)
        for note in sweep_stale(base, SCRATCH_PREFIX).notes("a scratch database folder"):
            progress(note)
        try:
            scratch = make_owned_dir(base, SCRATCH_PREFIX)
        except OSError as exc:
            raise ConfigError(f"{label}: cannot create a scratch folder ({exc.strerror}; "
                              f"expected a folder this user may create files in)",
                              file=str(base)) from None
    try:
        con = connect(engine, workdir or scratch, spill=scratch / "spill" if scratch else None)
        try:
            yield con
        except (OSError, duckdb.Error) as exc:
            translated = _database_fault(exc, workdir, scratch)
            if translated is exc:
                raise
            raise translated from exc
        finally:
            con.close()
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _database_fault(exc: OSError | duckdb.Error, workdir: Path | None,
                    scratch: Path | None) -> BaseException:
    """A ForensicsError naming the database's folder for a disk fault or a damaged database
    file met mid-run; `exc` itself for anything else (a bug stays an internal error)."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # The scratch folder is removed on the way out: name the folder it was made in.
    where = str(workdir / DATABASE_FILE) if workdir else str(scratch.parent if scratch else "")
    if "Corrupt database file" in first:
        setting = "--workdir database" if workdir else "scratch database"
        advice = ("delete it (it is only a cache) or choose another --workdir" if workdir
                  else "check the disk under temp_directory")
        return ConfigError(f"{setting} is damaged ({first}); {advice}", file=where)
    reason = os_fault(exc)
    if reason is None:
        return exc
    return SystemFault(f"the file system refused a write or read ({first}; expected free "
                       f"space and write permission in the workdir or [engine] "
                       f"temp_directory)", file=getattr(exc, "filename", None) or where)


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
