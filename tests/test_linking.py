"""Linking and scoring: owners, links, clusters, decisions and confidence."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from forensics import resources
from forensics.evaluate import adjusted_rand_index
from forensics.features import build_features
from forensics.heuristics import load_library, run_library
from forensics.ingest import ingest
from forensics.linking import LinkingParams, LinkingResult, likelihood, link_and_score

from .heuristics.cases import write_case

HARVEST = ("Imagine and articulate the internal reasoning behind a completed response and "
           "write it out step by step. Problem {i} about python functions.")


@pytest.fixture(scope="module")
def two_heuristic_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real features, lexicons and linking SQL with only two heuristics, one per family,
    so these tests pin the linking logic rather than the catalogue."""
    root = tmp_path_factory.mktemp("queries")
    src = resources.queries_dir()
    for folder in ("features", "linking", "lexicons"):
        shutil.copytree(src / folder, root / folder)
    for rel in ("content/cot_elicitation_strong.sql",
                "infrastructure/shared_payment_fingerprint.sql"):
        (root / rel).parent.mkdir(exist_ok=True)
        shutil.copy(src / rel, root / rel)
    return root


def analyse(case: dict[str, Any], tmp_path: Path, queries: Path) -> tuple[
        duckdb.DuckDBPyConnection, LinkingResult]:
    """Write the case, run every stage up to linking; return the connection and result."""
    write_case(case, 0, tmp_path / "data")
    con = duckdb.connect()
    ingested = ingest(con, tmp_path / "data")
    build_features(con, queries)
    library = load_library(queries)
    run_library(con, library, {h.id: h.resolved_params() for h in library},
                ingested.has_column)
    return con, link_and_score(con, LinkingParams(), queries)


def farm_case(members: int = 5, org: str | None = None) -> dict[str, Any]:
    """`members` accounts on one card harvesting reasoning, plus ordinary customers."""
    accounts = [{"account_id": f"farm{i}", "payment_fingerprint": "card-x",
                 **({"org_id": org} if org else {})} for i in range(members)]
    accounts += [{"account_id": f"user{i}", "payment_fingerprint": f"card-{i}"}
                 for i in range(12)]
    requests = [{"account_id": f"farm{i}", "repeat": 30, "prompt": HARVEST,
                 "ip": f"203.0.113.{i}"} for i in range(members)]
    requests += [{"account_id": f"user{i}", "repeat": 25, "every": "9m",
                  "prompt": f"Plan a weekend trip to city {i}, day " + "{i}",
                  "ip": f"198.51.{i}.7", "user_agent": "Mozilla/5.0"} for i in range(12)]
    return {"accounts": accounts, "requests": requests}


def decisions(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, bool, str]]:
    """account → (cluster, flagged, confidence)."""
    rows = con.execute("SELECT account_id, cluster_id, flagged, confidence "
                       "FROM account_findings").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_card_farm_is_one_high_confidence_cluster(tmp_path: Path,
                                                   two_heuristic_library: Path) -> None:
    """Unrelated accounts on one card harvesting reasoning form one flagged, high-confidence
    cluster; ordinary customers stay unflagged singletons."""
    con, result = analyse(farm_case(), tmp_path, two_heuristic_library)
    d = decisions(con)
    farm_clusters = {d[f"farm{i}"][0] for i in range(5)}
    assert len(farm_clusters) == 1
    assert all(d[f"farm{i}"][1:] == (True, "high") for i in range(5))
    assert not any(d[f"user{i}"][1] for i in range(12))
    top = result.flagged_clusters()[0]
    assert top.coordinated and top.owners == 5
    assert set(top.families) == {"content", "infrastructure"}
    assert any(link.kind == "payment" for link in top.links)


def test_one_organisation_is_one_customer_not_coordination(
        tmp_path: Path, two_heuristic_library: Path) -> None:
    """The same accounts under one declared organisation form one cluster with one owner:
    no cross-owner coordination, and the card they share is not a farm signal."""
    con, result = analyse(farm_case(org="acme-labs"), tmp_path, two_heuristic_library)
    d = decisions(con)
    assert len({d[f"farm{i}"][0] for i in range(5)}) == 1
    cluster = next(c for c in result.clusters if "farm0" in c.member_ids)
    assert cluster.owners == 1 and not cluster.coordinated
    assert cluster.confidence != "high"
    assert "infrastructure" not in cluster.families


def test_popular_user_agent_links_nobody(tmp_path: Path, two_heuristic_library: Path) -> None:
    """Ordinary customers sharing a common browser user agent are not clustered together."""
    con, _ = analyse(farm_case(), tmp_path, two_heuristic_library)
    clusters = {cluster for acct, (cluster, _, _) in decisions(con).items()
                if acct.startswith("user")}
    assert len(clusters) == 12


def test_likelihood_terms_follow_icd_203() -> None:
    """Scores map onto the ICD-203 likelihood bands."""
    assert likelihood(0.01) == "almost no chance"
    assert likelihood(0.5) == "roughly even chance"
    assert likelihood(0.7) == "likely"
    assert likelihood(0.99) == "almost certain"


def test_adjusted_rand_index_known_values() -> None:
    """ARI is 1 for identical partitions (up to renaming) and about 0 for unrelated ones."""
    assert adjusted_rand_index(["a", "a", "b", "b"], ["x", "x", "y", "y"]) == 1.0
    assert adjusted_rand_index(["a", "a", "b", "b"], ["x", "y", "x", "y"]) < 0.01
