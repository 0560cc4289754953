"""Detection on the bundled sample: the overt campaigns found and attributed, no look-alike
flagged at high confidence."""

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
    build_clusters(con, LinkingParams())
    run_library(con, library, params, ingested.has_column, scope="cluster")
    result = score_clusters(con, LinkingParams(), None)
    out = tmp_path_factory.mktemp("findings")
    con.execute(f"COPY account_findings TO '{out / 'findings.parquet'}'")
    with open(SAMPLE / "labels.csv", encoding="utf-8") as fh:
        groups = {r["account_id"]: r["group"] for r in csv.DictReader(fh)}
    return con, result, evaluate(out, SAMPLE / "labels.csv"), groups


# Campaigns that show at least two families of evidence on their own accounts. The bundled
# sample also holds campaigns that do not (data_pipeline shows itself only through its prompts,
# agentic_swarm only through sessions launched together) and ordinary groups that share
# infrastructure: the release's known errors on those are measured by the detection benchmark
# (bench/detection.py), not pinned here.
OVERT = ("reasoning_harvester", "hydra_proxy", "templated_lowvol")


def test_overt_campaigns_are_found(analysed: tuple) -> None:
    """Every campaign with two families of its own evidence is found (recall ≥ 0.9 each)."""
    _, _, figures, _ = analysed
    assert all(figures.recall_by_campaign[c].value >= 0.9 for c in OVERT)


def test_no_lookalike_flagged_at_high_confidence(analysed: tuple) -> None:
    """No benign look-alike account is flagged with high confidence."""
    _, _, figures, _ = analysed
    assert not any(by_conf.get("high") for by_conf in figures.lookalikes_flagged.values())


def test_overt_campaigns_are_flagged_at_the_confidence_their_links_allow(
        analysed: tuple) -> None:
    """The campaigns that share cards (harvester, hydra) sit in flagged clusters of high
    confidence; the low-volume farm, which shares only its client and templates (one piece of
    software, no coordination), is flagged in clusters of moderate confidence at most."""
    _, result, _, groups = analysed
    for campaign in OVERT:
        clusters = [c for c in result.flagged_clusters()
                    if any(groups.get(m) == campaign for m in c.member_ids)]
        assert clusters, campaign
        if campaign == "templated_lowvol":
            assert all(c.confidence == "moderate" for c in clusters), campaign
        else:
            assert all(c.confidence == "high" for c in clusters), campaign


def test_attribution_follows_the_planted_indicators(analysed: tuple) -> None:
    """The flagged cluster holding most of a campaign's accounts carries the actor of the
    indicators planted for it."""
    _, result, _, groups = analysed

    def actor_of(campaign: str) -> str | None:
        best = max(result.flagged_clusters(),
                   key=lambda c: sum(groups.get(m) == campaign for m in c.member_ids))
        return best.actor

    assert actor_of("reasoning_harvester") == "ACTOR-A"
    assert actor_of("hydra_proxy") == "ACTOR-B"


def test_which_campaigns_each_family_catches(analysed: tuple) -> None:
    """Every family catches at least one planted campaign, and every overt campaign is caught
    by at least two families (the rule for a high-confidence finding)."""
    con, _, _, groups = analysed
    caught: dict[str, set[str]] = defaultdict(set)
    for family, account in con.execute(
            "SELECT DISTINCT family, account_id FROM signals WHERE NOT benign").fetchall():
        if groups[account] in OVERT:
            caught[family].add(groups[account])
    assert caught["content"] >= {"reasoning_harvester", "templated_lowvol"}
    assert caught["infrastructure"] >= {"reasoning_harvester", "hydra_proxy"}
    assert caught["structure"] >= {"hydra_proxy", "templated_lowvol"}
    assert caught["timing"] >= {"reasoning_harvester"}
    for campaign in OVERT:
        assert sum(campaign in c for c in caught.values()) >= 2, campaign


def test_every_flagged_account_stands_on_evidence_of_its_own(analysed: tuple) -> None:
    """On the bundled sample no account is flagged for its cluster alone: every flagged account
    has fired a heuristic of its own and is flagged on its own evidence or through one direct
    hard link, and ordinary customers in the campaigns' clusters are not flagged."""
    con, _, figures, groups = analysed
    rows = con.execute("SELECT account_id, flagged, heuristics, own_evidence, hard_linked "
                       "FROM account_findings WHERE flagged").fetchall()
    assert rows
    for account, _, heuristics, own, hard in rows:
        assert heuristics and (own or hard), account
    assert figures.false_positive_rate.k <= 2
