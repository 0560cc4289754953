"""`forensics heuristics check --engine spark`: every heuristic of the library transpiled to
Spark SQL, refused when it holds a construct outside the portable subset (named, with its file
and line), and analysed by a small local Spark session over empty tables with the schemas the
DuckDB check uses (the input, feature and linking tables, as `forensics tables` lists them), so
that Spark's analyser resolves every table, column, function and type the query uses.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensics.errors import ConfigError, HeuristicError

MISSING = "the Spark engine needs pyspark and sqlglot (install forensics[spark])"


def require_spark() -> None:
    """A ConfigError with the one line to fix it when the extra is not installed."""
    for module in ("pyspark", "sqlglot"):
        if importlib.util.find_spec(module) is None:
            raise ConfigError(MISSING)


@contextmanager
def local_session(app: str = "forensics-check") -> Iterator[Any]:
    """A small local Spark session (forensics.spark.run.session, one core, one shuffle
    partition); stopped on the way out."""
    from forensics.config import EngineSection
    from forensics.spark.run import session

    small = EngineSection(name="spark", spark_master="local[1]", spark_driver_memory="1g",
                          spark_conf={"spark.sql.shuffle.partitions": "1",
                                      "spark.default.parallelism": "1"})
    with session(small, app=app) as spark:
        yield spark


def spark_type(duckdb_type: str) -> str:
    """A DuckDB column type (as information_schema spells it) in Spark DDL."""
    from sqlglot import exp

    spelled = exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="spark")
    # A DuckDB TIMESTAMP has no zone; Spark's TIMESTAMP_NTZ would refuse unix_micros and the
    # like, so the session runs in UTC and the columns are plain TIMESTAMPs.
    return spelled.replace("TIMESTAMP_NTZ", "TIMESTAMP")


def create_empty_tables(spark: Any, tables: list[tuple[str, str, list[tuple[str, str]]]]
                        ) -> None:
    """Each (stage, table, [(column, DuckDB type)]) as an empty temporary view; the macros
    `forensics tables` lists after the tables are inlined by the dialect, not created."""
    for stage, table, columns in tables:
        if stage == "functions":
            continue
        ddl = ", ".join(f"`{c}` {spark_type(t)}" for c, t in columns)
        spark.createDataFrame([], schema=ddl).createOrReplaceTempView(table)


@dataclass(frozen=True)
class SparkCheck:
    """How one heuristic fared: portable and analysed (problem None), or why not."""

    id: str
    path: Path
    stage: str  # "portability", "transpile", "analyser", "columns" or "ok"
    problem: str | None = None


def _front_matter_lines(path: Path, sql: str) -> int:
    text = path.read_text(encoding="utf-8")
    at = text.find(sql)
    return text.count("\n", 0, at) if at >= 0 else 0


def check_library_spark(queries: Path | None = None) -> tuple[list[Any], list[SparkCheck]]:
    """Load the library, transpile and analyse every heuristic on Spark; every result."""
    require_spark()
    from forensics.api import readable_tables
    from forensics.heuristics import RESULT_COLUMNS, load_library
    from forensics.spark.dialect import portability_problems, to_spark

    library = load_library(queries)
    tables = readable_tables(queries)
    results: list[SparkCheck] = []
    pending: list[tuple[Any, str]] = []
    for h in library:
        problems = portability_problems(h.sql, h.path, _front_matter_lines(h.path, h.sql))
        if problems:
            results.append(SparkCheck(h.id, h.path, "portability",
                                      "; ".join(p.line_text() for p in problems)))
            continue
        try:
            pending.append((h, to_spark(h.sql, params=h.bound(h.resolved_params()))))
        except Exception as exc:  # sqlglot's errors: what it cannot write for Spark
            results.append(SparkCheck(h.id, h.path, "transpile",
                                      f"{h.path}: sqlglot: {str(exc).splitlines()[0]}"))
    if pending:
        with local_session() as spark:
            create_empty_tables(spark, tables)
            for h, text in pending:
                results.append(_analyse(spark, h, text, RESULT_COLUMNS))
    order = {h.id: i for i, h in enumerate(library)}
    return library, sorted(results, key=lambda r: order[r.id])


def _analyse(spark: Any, h: Any, text: str, expected: tuple[str, ...]) -> SparkCheck:
    """Spark's analyser over one transpiled heuristic (no rows are read)."""
    values = h.bound(h.resolved_params())
    try:
        columns = tuple(spark.sql(text, args=values).columns)
    except Exception as exc:  # pyspark's AnalysisException, ParseException, …
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return SparkCheck(h.id, h.path, "analyser",
                          f"{h.path}: Spark's analyser refuses it: {first}")
    if columns != expected:
        return SparkCheck(h.id, h.path, "columns",
                          f"{h.path}: result columns {list(columns)} on Spark (expected "
                          f"{list(expected)})")
    return SparkCheck(h.id, h.path, "ok")


def check_heuristics_spark(queries: Path | None = None) -> list[Any]:
    """The library when every heuristic passes on Spark; else a HeuristicError listing every
    problem (as the DuckDB check does)."""
    from forensics.heuristics import problem_block

    library, results = check_library_spark(queries)
    problems = [r.problem for r in results if r.problem]
    if problems:
        raise HeuristicError(problem_block("heuristic problems on Spark", problems)
                             if len(problems) > 1 else problems[0])
    return library
