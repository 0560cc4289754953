"""Detection on the bundled sample: every planted campaign found, no look-alike flagged."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from forensics.evaluate import Evaluation, evaluate
from forensics.features import build_features
from forensics.heuristics import load_library, run_library
from forensics.ingest import ingest
from forensics.linking import LinkingParams, LinkingResult, build_clusters, score_clusters

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "2026Q3"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[
        duckdb.DuckDBPyConnection, LinkingResult, Evaluation, dict[str, str]]:
    """The sample through every stage up to findings (the dossier is tested elsewhere)."""
    con = duckdb.connect()
    ingested = ingest(con, SAMPLE / "data")
    build_features(con)
    library = load_library()
    params = {h.id: h.resolved_params() for h in library}
    run_library(con, library, params, ingested.has_column)
    rounds = build_clusters(con, LinkingParams())
    run_library(con, library, params, ingested.has_column, scope="cluster")
    result = score_clusters(con, LinkingParams(), None, rounds)
    out = tmp_path_factory.mktemp("findings")
    con.execute(f"COPY account_findings TO '{out / 'findings.parquet'}'")
    with open(SAMPLE / "labels.csv", encoding="utf-8") as fh:
        groups = {r["account_id"]: r["group"] for r in csv.DictReader(fh)}
    return con, result, evaluate(out, SAMPLE / "labels.csv"), groups


def test_precision_and_recall_floors(analysed: tuple) -> None:
    """Account-level precision and recall on the sample are at least 0.9."""
    _, _, figures, _ = analysed
    assert figures.precision.value >= 0.9
    assert figures.recall.value >= 0.9
    assert all(r.value >= 0.9 for r in figures.recall_by_campaign.values())


def test_no_lookalike_flagged_at_high_confidence(analysed: tuple) -> None:
    """No benign look-alike account is flagged with high confidence."""
    _, _, figures, _ = analysed
    assert not any(by_conf.get("high") for by_conf in figures.lookalikes_flagged.values())


def test_each_campaign_is_one_high_confidence_cluster(analysed: tuple) -> None:
    """Each planted campaign is recovered as one flagged cluster with high confidence."""
    _, result, figures, groups = analysed
    campaigns = {g for g in groups.values() if g in figures.recall_by_campaign}
    for campaign in campaigns:
        clusters = [c for c in result.flagged_clusters()
                    if any(groups.get(m) == campaign for m in c.member_ids)]
        assert len(clusters) == 1, campaign
        assert clusters[0].confidence == "high", campaign
    assert figures.adjusted_rand_index >= 0.9


def test_attribution_follows_the_planted_indicators(analysed: tuple) -> None:
    """Clusters matching the sample's indicators are attributed to their actors."""
    _, result, _, groups = analysed
    actors = {next(groups[m] for m in c.member_ids): c.actor for c in result.flagged_clusters()}
    assert actors["reasoning_harvester"] == "ACTOR-A"
    assert actors["hydra_proxy"] == "ACTOR-B"
    assert actors["templated_lowvol"] is None


def test_which_campaigns_each_family_catches(analysed: tuple) -> None:
    """Every family catches at least one planted campaign, and every campaign is caught by
    at least two families (the rule for a high-confidence finding)."""
    con, _, _, groups = analysed
    caught: dict[str, set[str]] = defaultdict(set)
    for family, account in con.execute(
            "SELECT DISTINCT family, account_id FROM signals WHERE NOT benign").fetchall():
        if groups[account] in ("reasoning_harvester", "hydra_proxy", "templated_lowvol"):
            caught[family].add(groups[account])
    assert caught["content"] >= {"reasoning_harvester", "templated_lowvol"}
    assert caught["infrastructure"] >= {"reasoning_harvester", "hydra_proxy"}
    assert caught["structure"] >= {"hydra_proxy", "templated_lowvol"}
    assert caught["timing"] >= {"reasoning_harvester", "hydra_proxy"}
