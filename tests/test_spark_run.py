"""`forensics run --engine spark`: the bundled sample on Spark in local mode gives the DuckDB
run's evidence files byte for byte (findings, signals, every exhibit), and the run's own
records say which engine made them.

Needs the spark extra and Java. Without them the tests skip, unless FORENSICS_REQUIRE_SPARK
is set (CI sets it through `make test`): there a missing extra is a failure, not a skip.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

from tests.conftest import assert_clean_failure, needs_spark, run_cli

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "2026Q3" / "data"
# What differs between the engines by design: the dossier names the engine and its versions,
# and the manifest records the config and versions. Everything else must be identical.
ENGINE_RECORDS = {"dossier.html", "dossier.pdf", "manifest.json"}

# Small enough for CI's two cores: two local threads, few shuffle partitions.
SPARK_CASE = """
[engine]
name = "spark"
spark_master = "local[2]"
spark_driver_memory = "2g"

[engine.spark_conf]
"spark.sql.shuffle.partitions" = "4"
"spark.default.parallelism" = "2"
"""


def checksums(out: Path) -> dict[str, str]:
    lines = (out / "manifest.sha256").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("spark_run")
    case = root / "spark.toml"
    case.write_text(SPARK_CASE, encoding="utf-8")
    duck, spark = root / "duckdb", root / "spark"
    outcome = run_cli("run", SAMPLE, "--out", duck, "--format", "html", "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    outcome = run_cli("run", SAMPLE, "--out", spark, "--format", "html", "--quiet",
                      "--config", case)
    assert outcome.exit_code == 0, outcome.stderr
    return duck, spark


@needs_spark
def test_spark_gives_the_duckdb_evidence_byte_for_byte(runs: tuple[Path, Path]) -> None:
    duck, spark = (checksums(r) for r in runs)
    assert set(duck) == set(spark)
    evidence = sorted(set(duck) - ENGINE_RECORDS)
    assert {"findings.parquet", "findings.json", "signals.parquet"} <= set(evidence)
    assert any(name.startswith("exhibits/") for name in evidence)
    differ = [name for name in evidence if duck[name] != spark[name]]
    # findings.json prints each link's p-value with every digit of the double; Spark's
    # log-gamma (commons-math3) and exp differ from DuckDB's libm in the last bits, so those
    # p-values agree to about 15 significant digits, not to the bit. findings.parquet and
    # the exhibits, which round them, are identical.
    assert differ in ([], ["findings.json"])
    if differ:
        first, second = (json.loads((r / "findings.json").read_text(encoding="utf-8"))
                         for r in runs)
        assert_same_up_to_last_bits(first, second)


def assert_same_up_to_last_bits(a: object, b: object, path: str = "") -> None:
    """`a` and `b` (parsed JSON) are equal, floats to a relative 1e-12."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0), (path, a, b)
        return
    assert type(a) is type(b), (path, a, b)
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            assert_same_up_to_last_bits(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_up_to_last_bits(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


@needs_spark
def test_a_spark_run_records_its_engine(runs: tuple[Path, Path]) -> None:
    duck, spark = (json.loads((r / "manifest.json").read_text(encoding="utf-8")) for r in runs)
    assert spark["config"]["case"]["engine"]["name"] == "spark"
    assert "pyspark" in spark["versions"] and spark["versions"]["engine"] == "spark"
    assert "pyspark" not in duck["versions"]
    assert duck["summary"] == spark["summary"]
    html = (runs[1] / "dossier.html").read_text(encoding="utf-8")
    assert "pyspark" in html


def test_engine_spark_without_the_extra_is_refused_before_reading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    out = tmp_path / "out"
    outcome = run_cli("run", SAMPLE, "--out", out, "--engine", "spark")
    assert_clean_failure(outcome, "forensics[spark]", out_dir=out)


def test_a_public_manifest_withholds_the_engine_settings() -> None:
    from forensics.manifest import WITHHELD, public_view

    engine = {"name": "spark", "temp_directory": "/srv/case/tmp",
              "spark_master": "spark://10.0.0.5:7077", "spark_staging": "/mnt/shared/x",
              "spark_conf": {"spark.executor.memory": "8g"}}
    doc = {"command_line": ["forensics"], "config": {"config_file": None,
                                                     "case": {"engine": engine}}}
    shown = public_view(doc, ids=None)  # type: ignore[arg-type]
    kept = shown["config"]["case"]["engine"]
    assert kept["name"] == "spark"
    assert kept["temp_directory"] == kept["spark_master"] == kept["spark_staging"] == WITHHELD
    assert kept["spark_conf"] == {"spark.executor.memory": WITHHELD}
    assert engine["spark_master"] == "spark://10.0.0.5:7077"  # the run's own record untouched
