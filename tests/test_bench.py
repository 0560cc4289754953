"""Smoke tests of the benchmark harness (`python -m bench`): fields, not timings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bench import harness, worker


def test_sizes_accept_plain_numbers_and_suffixes() -> None:
    """--sizes takes plain counts and k/M suffixes, and rejects anything else."""
    assert harness.parse_sizes("100000,250k,1M,1.5m") == [100_000, 250_000, 1_000_000,
                                                          1_500_000]
    with pytest.raises(argparse.ArgumentTypeError):
        harness.parse_sizes("ten")


def test_baseline_reads_every_column_and_the_prompt_regex() -> None:
    """The baseline SQL decodes every given column and applies the regex to both prompts."""
    sql = worker.baseline_sql(["/d/requests/part-0.parquet"],
                              {"prompt": "VARCHAR", "system_prompt": "VARCHAR",
                               "input_tokens": "INTEGER"})
    assert 'max(length("prompt"))' in sql and 'max("input_tokens")' in sql
    assert "regexp_matches(\"prompt\"" in sql
    assert "regexp_matches(coalesce(\"system_prompt\", '')" in sql


def test_bench_on_a_tiny_export_writes_every_field(data_dir: Path, tmp_path: Path) -> None:
    """A run on a tiny export measures baseline and pipeline and writes the documented JSON."""
    out = tmp_path / "results.json"
    code = harness.main(["--data", str(data_dir), "--out", str(out), "--keep",
                         str(tmp_path / "keep"), "--quiet"])
    doc = json.loads(out.read_text())
    assert code == 0, doc["errors"]
    assert {"cpu", "cores", "ram_bytes", "python", "versions"} <= doc["machine"].keys()
    assert {"threads", "memory_limit"} <= doc["settings"].keys()
    assert doc["settings"]["long_prompts"] is None  # --data: the export's own prompts
    [result] = doc["results"]
    assert result["requests"] == 12
    assert result["dataset"]["bytes"] > 0
    assert result["baseline"]["seconds"] > 0 and result["baseline"]["requests"] == 12
    pipeline = result["pipeline"]
    assert {"ingest", "features", "heuristics", "linking"} <= pipeline["stages"].keys()
    assert pipeline["total_s"] >= sum(pipeline["stages"].values()) - 0.01
    assert pipeline["peak_rss_mib"] > 0 and result["peak_rss_mib"] > 0
    assert len(pipeline["slowest_heuristics"]) <= harness.SLOWEST_HEURISTICS
    assert result["ratio"] == pytest.approx(pipeline["total_s"] / result["baseline"]["seconds"],
                                            rel=0.01)
    assert (tmp_path / "keep" / "data" / "run" / "diagnostics" / "timings.json").is_file()


def test_rerun_measures_a_second_run_on_the_kept_database(data_dir: Path,
                                                           tmp_path: Path) -> None:
    """--rerun runs the pipeline again on the database the first run kept: the features are
    reused, and the JSON holds the second run's figures and its ratio to the baseline."""
    out = tmp_path / "results.json"
    code = harness.main(["--data", str(data_dir), "--out", str(out), "--rerun", "--quiet"])
    doc = json.loads(out.read_text())
    assert code == 0, doc["errors"]
    assert doc["settings"]["rerun"] is True and doc["settings"]["workdir"] is True
    [result] = doc["results"]
    first, again = result["pipeline"], result["pipeline"]["rerun"]
    assert again["validation_reused"] is True and again["features_reused"] is True
    assert again["stages"]["features"] < first["stages"]["features"]
    assert result["rerun_ratio"] == pytest.approx(
        again["total_s"] / result["baseline"]["seconds"], rel=0.01)
    assert ("rerun on the kept database (input checks reused, features reused)"
            in harness.format_table(doc))


@pytest.mark.parametrize("long_prompts", [True, False])
def test_a_complete_cached_data_set_is_reused(tmp_path: Path, long_prompts: bool) -> None:
    """A cached data set with its completion marker is reused without generating again;
    long- and short-prompt sets of one size and seed are cached apart."""
    kind = "long" if long_prompts else "short"
    root = tmp_path / f"1000-3-{kind}-{harness.generator_fingerprint()}"
    (root / "data").mkdir(parents=True)
    (root / harness.COMPLETE_MARKER).write_text(json.dumps({"seconds": 1.5, "wall_s": 2.0}))
    dataset = harness.ensure_dataset(tmp_path, 1000, 3, tmp_path / "logs", progress=False,
                                     long_prompts=long_prompts)
    assert dataset.reused and dataset.data_dir == root / "data"
    assert dataset.label == f"1000-3-{kind}"
    assert dataset.generation == {"seconds": 1.5, "wall_s": 2.0}


def test_long_prompts_are_the_benchmark_default() -> None:
    """The benchmark generates long prompts unless told --short-prompts; not both at once."""
    parser = harness.build_parser()
    assert parser.parse_args([]).long_prompts is True
    assert parser.parse_args(["--long-prompts"]).long_prompts is True
    assert parser.parse_args(["--short-prompts"]).long_prompts is False
    with pytest.raises(SystemExit):
        parser.parse_args(["--long-prompts", "--short-prompts"])
