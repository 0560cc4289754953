"""The features stage on Spark (issue 23): `build_features` on a SparkEngine, over the bundled
sample, makes exactly the feature tables DuckDB makes: every table, every row, every value,
compared as multisets (EXCEPT ALL both ways and equal counts) after `bring_back` has read
Spark's tables into DuckDB with DuckDB's column types. Needs the spark extra and Java;
skipped without them. One small local session for the module (two cores, four shuffle
partitions)."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("sqlglot") is None
    or shutil.which("java") is None, reason="needs pyspark, sqlglot and Java (forensics[spark])")

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "2026Q3" / "data"

# Every table the features stage hands on (forensics/features.py), and the lexicons it loads.
FEATURE_TABLES = (
    "request_features", "skeletons", "account_activity", "account_capabilities",
    "account_templates", "account_network", "account_signals", "account_signups",
    "flagged_requests", "hourly_traffic", "indicator_hits", "lexicon_signals",
    "lexicon_capabilities")


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB connection holding DuckDB's feature tables in schema `duck` and Spark's,
    brought back, in schema `spark`."""
    from forensics.config import EngineSection
    from forensics.features import build_features
    from forensics.ingest import ingest
    from forensics.spark import run as spark_run

    folder = tmp_path_factory.mktemp("spark-features")
    duck = duckdb.connect(str(folder / "duck.duckdb"))
    ingest(duck, SAMPLE)
    build_features(duck)
    duck.close()

    spark = duckdb.connect(str(folder / "spark.duckdb"))
    ingest(spark, SAMPLE)
    settings = EngineSection(name="spark", spark_master="local[2]", spark_driver_memory="2g",
                             spark_staging=str(folder / "staging"),
                             spark_conf={"spark.sql.shuffle.partitions": "4"})
    with spark_run.engine(settings) as db:
        spark_run.hand_over_inputs(spark, db)
        build_features(db)
        spark_run.bring_back(db, spark)
    spark.close()

    con = duckdb.connect()
    con.execute(f"ATTACH '{folder / 'duck.duckdb'}' AS duck (READ_ONLY)")
    con.execute(f"ATTACH '{folder / 'spark.duckdb'}' AS spark (READ_ONLY)")
    yield con
    con.close()


@pytest.mark.parametrize("table", FEATURE_TABLES)
def test_spark_builds_the_feature_table_duckdb_builds(features: duckdb.DuckDBPyConnection,
                                                       table: str) -> None:
    def columns(schema: str) -> list[tuple[str, str]]:
        return [(str(c), str(t)) for c, t in features.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = $s AND table_name = $t ORDER BY ordinal_position",
            {"s": schema, "t": table}).fetchall()]

    assert columns("spark") == columns("duck")
    counts = features.execute(f"SELECT (SELECT count(*) FROM duck.{table}), "
                              f"(SELECT count(*) FROM spark.{table})").fetchone()
    assert counts is not None and counts[0] == counts[1] and counts[0] > 0
    for left, right in (("duck", "spark"), ("spark", "duck")):
        extra = features.execute(f"SELECT * FROM {left}.{table} EXCEPT ALL "
                                 f"SELECT * FROM {right}.{table} LIMIT 3").fetchall()
        assert extra == [], f"rows of {table} only {left} has: {extra}"
