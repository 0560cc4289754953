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


def _decide(rows: list[tuple[str, str, float, list[str], list[tuple[str, str]]]],
            links: list[tuple[str, str, str]]) -> dict[str, tuple[bool, str, list[str]]]:
    """Run 80_decisions.sql on hand-made scores: rows of (account, owner, score, families,
    [(heuristic, family)]) in one cluster, and typed links; account → (flagged, confidence,
    facts)."""
    from forensics.linking import _run

    con = duckdb.connect()
    con.execute("CREATE TABLE signals (heuristic_id VARCHAR, family VARCHAR, account_id VARCHAR, "
                "benign BOOLEAN)")
    con.execute("CREATE TABLE account_scores (account_id VARCHAR, score DOUBLE, "
                "families VARCHAR[], heuristics VARCHAR[])")
    con.execute("CREATE TABLE account_owners (account_id VARCHAR, owner VARCHAR)")
    con.execute("CREATE TABLE cluster_members (account_id VARCHAR, cluster_id VARCHAR)")
    con.execute("CREATE TABLE links (account_a VARCHAR, account_b VARCHAR, kind VARCHAR)")
    con.execute("CREATE TABLE clusters (cluster_id VARCHAR, score DOUBLE, coordinated BOOLEAN, "
                "families VARCHAR[], owners BIGINT)")
    for account, owner, score, families, fired in rows:
        con.execute("INSERT INTO account_scores VALUES (?, ?, ?, ?)",
                    [account, score, families, [h for h, _ in fired]])
        con.execute("INSERT INTO account_owners VALUES (?, ?)", [account, owner])
        con.execute("INSERT INTO cluster_members VALUES (?, 'c1')", [account])
        for heuristic, family in fired:
            con.execute("INSERT INTO signals VALUES (?, ?, ?, false)", [heuristic, family, account])
    if links:
        con.executemany("INSERT INTO links VALUES (?, ?, ?)", links)
    con.execute("INSERT INTO clusters VALUES ('c1', 0.99, true, "
                "['content', 'infrastructure', 'timing'], ?)", [len(rows)])
    _run(con, resources.queries_dir() / "linking" / "80_decisions.sql", LinkingParams())
    return {r[0]: (r[1], r[2], list(r[3])) for r in con.execute(
        "SELECT account_id, flagged, confidence, facts FROM account_decisions").fetchall()}


HARVESTER = [("cot_elicitation_strong", "content"), ("shared_payment_fingerprint",
                                                      "infrastructure")]


def test_no_account_is_flagged_for_its_cluster() -> None:
    """A member of a flagged cluster is flagged only on evidence of its own: with no fired
    heuristic, or with only the shared card that is its link to the campaign (one fact, not
    two), it is not flagged and inherits no confidence, however strong the cluster."""
    d = _decide([
        ("h1", "o1", 0.95, ["content", "infrastructure"], HARVESTER),
        ("h2", "o2", 0.95, ["content", "infrastructure"], HARVESTER),
        ("bystander", "o3", 0.0, [], []),
        ("card_only", "o4", 0.6, ["infrastructure"], [("shared_payment_fingerprint",
                                                       "infrastructure")]),
        ("content_only", "o5", 0.6, ["content"], [("cot_elicitation_strong", "content")]),
    ], [("h1", "h2", "payment"), ("h1", "bystander", "payment"), ("h1", "card_only", "payment"),
        ("h2", "content_only", "payment")])
    assert d["h1"][:2] == (True, "high") and d["h2"][:2] == (True, "high")
    assert d["bystander"][:2] == (False, "none")
    assert d["card_only"][0] is False and d["card_only"][1] != "high"
    # One content fact of its own plus the hard link to a harvester: two facts.
    assert d["content_only"][:2] == (True, "moderate")


def test_one_physical_event_is_one_fact() -> None:
    """A venue network, the sign-ups from it and the synchrony of its users measured through
    it are one fact: an account with nothing else is not flagged, while synchrony of its own
    (same-minute launches) beside a network is a second fact."""
    venue = [("ip_subnet_colocation", "infrastructure"),
             ("account_farm_creation_burst", "infrastructure"),
             ("synchronised_load_balancing", "timing")]
    d = _decide([
        ("guest", "o1", 0.9, ["infrastructure", "timing"], venue),
        ("launcher", "o2", 0.9, ["infrastructure", "timing"],
         [*venue, ("co_launched_sessions", "timing")]),
        ("loner", "o3", 0.9, ["infrastructure", "timing"],
         [("billing_country_subnet_mismatch", "infrastructure"),
          ("synchronised_load_balancing", "timing")]),
    ], [])
    assert d["guest"][2] == ["infrastructure"] and d["guest"][0] is False
    assert d["launcher"][2] == ["infrastructure", "timing"] and d["launcher"][0] is True
    assert d["loner"][2] == ["infrastructure", "timing"] and d["loner"][0] is True


def test_shared_client_and_opening_join_no_cluster(tmp_path: Path,
                                                   two_heuristic_library: Path) -> None:
    """Unrelated owners who share only a client and a common opening (one piece of software:
    the strongest of the two counts, not both) never end up in one cluster, even where both
    are rare among 120 owners."""
    opening = "Can you rewrite it in a more formal tone? It is for my manager, draft {i}."
    requests = [{"account_id": f"u{i}", "repeat": 6, "every": "2h",
                 "prompt": f"Plan a weekend trip to city {i}, day " + "{i}",
                 "ip": f"198.51.{i}.7", "user_agent": f"client-{i}/1.0"} for i in range(120)]
    requests += [{"account_id": name, "repeat": 6, "every": "3h", "prompt": opening,
                  "ip": ip, "user_agent": "rare-sdk/0.9.1"}
                 for name, ip in (("twin_a", "192.0.2.10"), ("twin_b", "203.0.113.20"),
                                  ("twin_c", "198.18.0.30"))]
    con, _ = analyse({"requests": requests}, tmp_path, two_heuristic_library)
    kinds = con.execute("SELECT list_sort(list_distinct(list(kind))) FROM links "
                        "WHERE account_a = 'twin_a' AND account_b = 'twin_b'").fetchone()
    assert kinds and kinds[0] == ["template", "user_agent"]  # both keys link the pair ...
    d = decisions(con)
    assert len({d[t][0] for t in ("twin_a", "twin_b", "twin_c")}) == 3  # ... but join none
