"""A run's features, heuristics and linking on Spark (`forensics run --engine spark`).

Ingest still reads and checks the data folder with DuckDB, and the report still reads a DuckDB
database: what moves to Spark is the work that grows with the log. The hand-over is Parquet:

1. `hand_over_inputs`: the tables ingest hands on (`requests`, `accounts`, `model_releases`,
   `indicators`), written by DuckDB as Parquet into the run's staging folder and read by Spark
   as its tables of the same names (DuckDB's zone-less timestamps read as Spark timestamps in
   the session's zone, UTC);
2. the stages run on the `SparkEngine` exactly as on DuckDB (the same `queries/`, transpiled);
3. `bring_back`: every table the stages made that the report and the findings read, read back
   into the DuckDB database with the column types the DuckDB path gives them (`table_types`,
   from the same stages built over empty inputs), so that everything after linking is the
   DuckDB path's, unchanged.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from forensics import sqltext
from forensics.config import EngineSection
from forensics.errors import ConfigError
from forensics.schema import TABLES

# The input tables features, heuristics and linking read (request_locations and requests_at
# are the report's, which reads them from DuckDB).
INPUT_TABLES = tuple(t.name for t in TABLES)

# Settings every session gets (without the "spark." prefix); the case config's
# [engine.spark_conf] adds or overrides.
_SETTINGS = {
    "ui.enabled": "false",
    # Stage bars on stderr would mix with the run's own progress lines.
    "ui.showConsoleProgress": "false",
    "sql.session.timeZone": "UTC",
    # Timestamps as INT64 microseconds in Parquet (the default INT96 is a legacy encoding).
    "sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Spark's ANSI mode raises on integer overflow and bad casts where DuckDB raises too.
    "sql.ansi.enabled": "true",
}


def require_runtime() -> None:
    """A ConfigError, before any data is read, when this machine cannot start Spark: the
    `spark` extra missing, or no Java (pyspark starts a JVM; JAVA_HOME or `java` on PATH)."""
    from forensics.spark.check import require_spark

    require_spark()
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").is_file()) and not shutil.which("java"):
        raise ConfigError("the Spark engine needs Java 17 or later (no JAVA_HOME and no java on "
                          "PATH; expected e.g. apt install openjdk-17-jre-headless)")


@contextmanager
def session(engine: EngineSection, app: str = "forensics") -> Iterator[Any]:
    """The run's Spark session: `[engine] spark_master` (local[*] when unset), with the
    config's `spark_conf` settings; stopped on the way out."""
    from pyspark.sql import SparkSession

    master = engine.spark_master or "local[*]"
    conf = {f"spark.{k}": v for k, v in _SETTINGS.items()}
    conf.update(engine.spark_conf)
    if master.startswith("local") and "spark.driver.memory" not in conf:
        # Only a new JVM takes the driver's memory, so it goes on the command line.
        os.environ.setdefault("PYSPARK_SUBMIT_ARGS",
                              f"--driver-memory {engine.spark_driver_memory} pyspark-shell")
    if master.startswith("local"):
        # Everything runs on this machine: the driver binds and is reached on the loopback
        # address. Left to itself it advertises the host's first address, which a sandbox or
        # a second session in the same process may not reach (its block fetches are refused).
        conf.setdefault("spark.driver.bindAddress", "127.0.0.1")
        conf.setdefault("spark.driver.host", "127.0.0.1")
        # The Python workers (the lexicon labeller, an Arrow UDF) run this interpreter, which
        # has forensics and its dependencies; unset, Spark starts whatever `python3` is first
        # on the PATH. A cluster's executors name theirs in spark_conf or their environment.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in sorted(conf.items()):
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    try:
        yield spark
    finally:
        spark.stop()


def hand_over_inputs(con: duckdb.DuckDBPyConnection, db: Any,
                     tables: tuple[str, ...] = INPUT_TABLES) -> None:
    """DuckDB's `tables` (by default the ingested inputs), as Spark tables of `db` (a
    SparkEngine) of the same names."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType

    for table in tables:
        path = f"{db.staging}/input-{table}"
        con.execute(f"COPY (SELECT * FROM {table}) TO {sqltext.string(path)} "
                    f"(FORMAT parquet, PER_THREAD_OUTPUT false)")
        frame = db.spark.read.parquet(path)
        frame = frame.select(*[
            F.col(f"`{f.name}`").cast("timestamp").alias(f.name)
            if isinstance(f.dataType, TimestampNTZType) else F.col(f"`{f.name}`")
            for f in frame.schema.fields])
        db.adopt(table, frame, path)


@cache
def table_types(queries: Path | None = None) -> dict[str, tuple[tuple[str, str], ...]]:
    """Every table features, heuristics and linking make, with its DuckDB column types, as
    the stages make them over empty inputs."""
    from forensics import api

    return {table: tuple(columns) for stage, table, columns in api.stage_tables(queries)
            if stage not in ("input", "functions")}


def bring_back(db: Any, con: duckdb.DuckDBPyConnection, queries: Path | None = None) -> None:
    """Each table of `table_types` the Spark run made, as a DuckDB table of the same name and
    column types; and the functions of features/05_functions.sql, created in DuckDB as the
    DuckDB path creates them (the report's queries call them)."""
    from forensics import resources, sqlfiles
    from forensics.features import FUNCTIONS_FILE

    functions = resources.queries_part("features", queries) / f"{FUNCTIONS_FILE}.sql"
    sqlfiles.run_file(sqlfiles.engine_for(con), sqlfiles.load_file(functions))
    for table, columns in table_types(queries).items():
        if not db.has_table(table):
            continue
        select = ", ".join(f"CAST({sqltext.identifier(c)} AS {t}) AS {sqltext.identifier(c)}"
                           for c, t in columns)
        files = [sqltext.file_pattern(f)
                 for f in sorted(Path(db.table_path(table)).glob("*.parquet"))]
        if files:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select} "
                        f"FROM read_parquet($files)", {"files": files})
        else:  # Spark wrote no file for a table without rows
            typed = ", ".join(f"{sqltext.identifier(c)} {t}" for c, t in columns)
            con.execute(f"CREATE OR REPLACE TABLE {table} ({typed})")


@contextmanager
def engine(settings: EngineSection) -> Iterator[Any]:
    """A SparkEngine on a new session, its staging folder made for this run and removed with
    it."""
    from forensics.spark.engine import SparkEngine, staging_folder

    with session(settings) as spark:
        db = SparkEngine(spark, staging_folder(settings.spark_staging))
        try:
            yield db
        finally:
            db.close()
