"""Linking and scoring: owners, links, clusters, decisions and confidence."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from forensics import resources, sqlfiles
from forensics.cases import write_case
from forensics.evaluate import adjusted_rand_index
from forensics.evidence import ClusterDecision, create_link_kinds, likelihood
from forensics.features import build_features, session_start_pairs
from forensics.heuristics import load_library, run_library
from forensics.ingest import ingest
from forensics.linking import (
    LinkingParams,
    LinkingResult,
    link_and_score,
    linking_files,
    sql_values,
)


def _run_linking(con: duckdb.DuckDBPyConnection, stem: str) -> None:
    """Run one bundled linking file with the default parameters, as the linking stage does."""
    sqlfiles.run_file(sqlfiles.engine_for(con), linking_files().file(stem),
                      sql_values(LinkingParams()))


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


def test_cluster_decisions_keep_the_conditions_that_decided_them(
        tmp_path: Path, two_heuristic_library: Path) -> None:
    """cluster_decisions carries the four conditions of the cluster flag as SQL found them,
    and a cluster is flagged exactly when all four hold; the findings read them: the card farm
    is joined by coordination, the ordinary customers by nothing."""
    con, result = analyse(farm_case(), tmp_path, two_heuristic_library)
    rows = con.execute(
        "SELECT cluster_id, flagged, strong_score AND two_families AND joined_by IS NOT NULL "
        "AND member_on_own_evidence, joined_by FROM cluster_decisions").fetchall()
    assert len(rows) == 13
    assert all(flagged == conditions for _, flagged, conditions, _ in rows)
    assert sorted(joined_by or "" for *_, joined_by in rows) == [""] * 12 + ["coordination"]
    farm = next(c for c in result.clusters if "farm0" in c.member_ids)
    assert farm.decision == ClusterDecision(True, True, "coordination", True)


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
    """Run 62_account_decisions.sql and 80_decisions.sql on hand-made scores: rows of
    (account, owner, score, families, [(heuristic, family)]) in one cluster, and typed links;
    account → (flagged, confidence, facts)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE signals (heuristic_id VARCHAR, family VARCHAR, account_id VARCHAR, "
                "benign BOOLEAN)")
    con.execute("CREATE TABLE account_scores (account_id VARCHAR, score DOUBLE, "
                "families VARCHAR[], heuristics VARCHAR[])")
    con.execute("CREATE TABLE account_owners (account_id VARCHAR, owner VARCHAR)")
    con.execute("CREATE TABLE cluster_members (account_id VARCHAR, cluster_id VARCHAR)")
    con.execute("CREATE TABLE links (account_a VARCHAR, account_b VARCHAR, kind VARCHAR)")
    con.execute("CREATE TABLE clusters (cluster_id VARCHAR, score DOUBLE, coordinated BOOLEAN, "
                "attributed BOOLEAN, families VARCHAR[], owners BIGINT)")
    for account, owner, score, families, fired in rows:
        con.execute("INSERT INTO account_scores VALUES (?, ?, ?, ?)",
                    [account, score, families, [h for h, _ in fired]])
        con.execute("INSERT INTO account_owners VALUES (?, ?)", [account, owner])
        con.execute("INSERT INTO cluster_members VALUES (?, 'c1')", [account])
        for heuristic, family in fired:
            con.execute("INSERT INTO signals VALUES (?, ?, ?, false)", [heuristic, family, account])
    if links:
        con.executemany("INSERT INTO links VALUES (?, ?, ?)", links)
    con.execute("INSERT INTO clusters VALUES ('c1', 0.99, true, false, "
                "['content', 'infrastructure', 'timing'], ?)", [len(rows)])
    create_link_kinds(con)
    for stem in ("62_account_decisions", "80_decisions"):
        _run_linking(con, stem)
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


def _link_tests(keys: dict[str, list[str]], owners: dict[str, str],
                links: list[tuple[str, str, str, str]], starts: dict[str, list[int]]
                ) -> dict[tuple[str, str, str], tuple[float | None, float | None]]:
    """Run 45_link_tests.sql on hand-made tables: keys[kind|key] → accounts holding it,
    owners, links (a, b, kind, key) and session-start minutes per account; (a, b, kind) →
    (p-value, q-value)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE account_owners (account_id VARCHAR, owner VARCHAR)")
    con.executemany("INSERT INTO account_owners VALUES (?, ?)", list(owners.items()))
    con.execute("CREATE TABLE link_keys (account_id VARCHAR, kind VARCHAR, key VARCHAR)")
    for kind_key, accounts in keys.items():
        kind, key = kind_key.split("|")
        con.executemany("INSERT INTO link_keys VALUES (?, ?, ?)",
                        [(a, kind, key) for a in accounts])
    con.execute("CREATE TABLE link_key_stats AS SELECT k.kind, k.key, "
                "count(DISTINCT k.account_id) AS accounts, count(DISTINCT o.owner) AS owners "
                "FROM link_keys k JOIN account_owners o USING (account_id) GROUP BY ALL")
    con.execute("CREATE TABLE links (account_a VARCHAR, account_b VARCHAR, kind VARCHAR, "
                "key VARCHAR, weight DOUBLE)")
    con.executemany("INSERT INTO links VALUES (?, ?, ?, ?, 0.5)", links)
    con.execute("CREATE TABLE account_activity (account_id VARCHAR, account_no BIGINT)")
    con.executemany("INSERT INTO account_activity VALUES (?, ?)",
                    [(a, i) for i, a in enumerate(sorted(owners))])
    con.execute("CREATE TABLE request_features (account_no BIGINT, minute BIGINT, "
                "turn_index INTEGER)")
    numbers = {a: i for i, a in enumerate(sorted(owners))}
    for account, minutes in starts.items():
        con.executemany("INSERT INTO request_features VALUES (?, ?, 0)",
                        [(numbers[account], m) for m in minutes])
    # A follow-up turn of a4 in hour 0 (minutes count from the epoch) is no session start:
    # counted, it would change a4's starts in that hour and the expected coincidences.
    con.execute("INSERT INTO request_features VALUES (?, 50, 3)", [numbers["a4"]])
    create_link_kinds(con)
    _run_linking(con, "05_functions")
    _run_linking(con, "45_link_tests")
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in con.execute(
        "SELECT account_a, account_b, kind, p_value, q_value FROM link_tests").fetchall()}


def test_link_p_values_and_q_values_match_hand_computation() -> None:
    # Eleven owners. Cards are personal: X is held by a1 and a2, cards Y4…Y11 by one owner
    # each, so a card has 10/9 owners on average and X's p-value is P(Poisson(10/9) ≥ 2).
    # Template T is held by a1, a2, a3: another owner holds it with chance 2/10; a1 holds 2
    # templates, a2 one, a3 three, and the union bound multiplies by the smaller side's count.
    owners = {f"a{i}": f"o{i}" for i in range(1, 12)}
    keys = {"payment|X": ["a1", "a2"], **{f"payment|Y{i}": [f"a{i}"] for i in range(4, 12)},
            "template|T": ["a1", "a2", "a3"], "template|U": ["a1"], "template|V": ["a3"],
            "template|W": ["a3"]}
    links = [("a1", "a2", "payment", "X"), ("a1", "a2", "template", "T"),
             ("a1", "a3", "template", "T"), ("a2", "a3", "template", "T"),
             ("a4", "a5", "sync", "co-active minutes"), ("a6", "a7", "indicator", "actor")]
    # a4 and a5 both open sessions in minutes 1, 2, 3; six others one each in minutes 4–9.
    starts = {"a4": [1, 2, 3], "a5": [1, 2, 3],
              **{f"a{i}": [i - 2] for i in range(6, 12)}}
    got = _link_tests(keys, owners, links, starts)
    mean = 10 / 9
    p_card = 1 - math.exp(-mean) * (1 + mean)
    p_single_card = 1 - math.exp(-mean)
    # a4 and a5 each start 3 sessions in hour 0: by chance they share 3 · 3 / 60 = 0.15
    # minutes, and p = P(Poisson(0.15) ≥ 3).
    lam = 0.15
    p_sync = 1 - math.exp(-lam) * (1 + lam + lam ** 2 / 2)
    # Benjamini–Hochberg within each kind's family. Cards: 9 values, X first; the smallest
    # 9·p(j)/j from X's rank on is the last, 9·p_single/9. Templates: every pair of the 11
    # owners (55) was looked at; sorted p 0.2, 0.2, 0.4 give 55p/i = 11, 5.5, 7.33 → capped
    # at 1. Timing: 55 pairs, one test, q = min(1, 55·p). Indicators have no null model.
    expected = {("a1", "a2", "payment"): (p_card, p_single_card),
                ("a1", "a2", "template"): (0.2, 1.0), ("a2", "a3", "template"): (0.2, 1.0),
                ("a1", "a3", "template"): (0.4, 1.0),
                ("a4", "a5", "sync"): (p_sync, min(1.0, 55 * p_sync)),
                ("a6", "a7", "indicator"): (None, None)}
    assert got.keys() == expected.keys()
    for pair, (p, q) in expected.items():
        if p is None:
            assert got[pair] == (None, None)
            continue
        assert got[pair][0] == pytest.approx(p, rel=1e-9), pair
        assert got[pair][1] == pytest.approx(q, rel=1e-9), pair


def test_bh_q_values_follow_the_step_up_rule() -> None:
    # Four cards held by 5, 3, 1 and 1 of ten owners: mean 2.5 owners per card. p-values
    # P(Poisson(2.5) ≥ k); q = min over j ≥ i of 4·p(j)/j.
    owners = {f"a{i}": f"o{i}" for i in range(1, 11)}
    keys = {"payment|A": ["a1", "a2", "a3", "a4", "a5"], "payment|B": ["a6", "a7", "a8"],
            "payment|C": ["a9"], "payment|D": ["a10"]}
    links = [("a1", "a2", "payment", "A"), ("a6", "a7", "payment", "B")]
    got = _link_tests(keys, owners, links, {})

    def tail(k: int, lam: float = 2.5) -> float:
        return 1 - sum(math.exp(-lam) * lam ** j / math.factorial(j) for j in range(k))

    p = sorted([tail(5), tail(3), tail(1), tail(1)])
    q = [min(4 * p[j] / (j + 1) for j in range(i, 4)) for i in range(4)]
    assert got[("a1", "a2", "payment")][0] == pytest.approx(tail(5), rel=1e-9)
    assert got[("a1", "a2", "payment")][1] == pytest.approx(q[0], rel=1e-9)
    assert got[("a6", "a7", "payment")][1] == pytest.approx(q[1], rel=1e-9)


def test_sync_tail_is_tiny_for_many_shared_minutes_and_one_without_any() -> None:
    # Sessions opened at minute 7 of 41 different hours by both accounts, where chance
    # predicts 41 / 60 shared minutes: far beyond 10⁻⁹. Two accounts that each open a session
    # every minute of one hour share all 60 minutes, which chance predicts (60 · 60 / 60):
    # not significant. A pair linked by timing that never opened a session in the same
    # minute: p = 1.
    owners = {f"a{i}": f"o{i}" for i in range(1, 7)}
    starts = {"a1": [60 * j + 7 for j in range(41)], "a2": [60 * j + 7 for j in range(41)],
              "a3": [5000], "a4": [5001],
              "a5": list(range(6000, 6060)), "a6": list(range(6000, 6060))}
    links = [("a1", "a2", "sync", "co-active minutes"), ("a3", "a4", "sync", "co-active minutes"),
             ("a5", "a6", "sync", "co-active minutes")]
    got = _link_tests({}, owners, links, starts)
    assert got[("a1", "a2", "sync")][0] < 1e-9
    assert got[("a3", "a4", "sync")][0] == 1.0
    assert got[("a5", "a6", "sync")][0] > 0.4


def test_link_sentences_use_the_vocabulary_and_their_tests() -> None:
    from forensics.evidence import LinkSummary, chance_text

    # Plurals come from link_kinds.csv: "prefixes", not "prefixs".
    two = LinkSummary("ip_prefix", 2, 8, ("10.0.0.0/24", "10.0.1.0/24"), pairs=28,
                      significant=0, p_value=0.015)
    assert two.sentence() == (
        "2 IP prefixes (10.0.0.0/24, 10.0.1.0/24) shared by 8 accounts; strongest pair: under "
        "independence, chance 0.015; 0 of 28 linked pairs significant at a 5 % "
        "false-discovery rate")
    # The dossier pseudonymises the examples through the same sentence.
    assert LinkSummary("payment", 1, 2, ("card",)).sentence(lambda k, v: f"<{k}>") == \
        "1 payment fingerprint (<payment>) shared by 2 accounts"
    sync = LinkSummary("sync", 1, 45, (), pairs=990, significant=990, p_value=1e-300,
                       observed=41, expected=0.3)
    assert "in the same minute 41 times against 0.3 expected by chance (under independence, " \
        "chance < 10⁻⁹); 990 of 990 linked pairs significant" in sync.sentence()
    assert chance_text(3.2e-5) == "3.2 × 10⁻⁵" and chance_text(0.0421) == "0.042"


def _cluster_edges(links: list[tuple[str, str, str, float]], owners: dict[str, str]
                   ) -> set[tuple[str, str]]:
    """Run 40_pair_weights.sql and 48_cluster_edges.sql on typed, weighted links; the pairs
    that may join clusters."""
    con = duckdb.connect()
    con.execute("CREATE TABLE account_owners (account_id VARCHAR, owner VARCHAR)")
    con.executemany("INSERT INTO account_owners VALUES (?, ?)", list(owners.items()))
    con.execute("CREATE TABLE links (account_a VARCHAR, account_b VARCHAR, kind VARCHAR, "
                "key VARCHAR, weight DOUBLE)")
    con.executemany("INSERT INTO links VALUES (?, ?, ?, 'k', ?)", links)
    create_link_kinds(con)
    for stem in ("40_pair_weights", "48_cluster_edges"):
        _run_linking(con, stem)
    return {(r[0], r[1]) for r in con.execute(
        "SELECT account_a, account_b FROM cluster_edges").fetchall()}


def test_soft_kinds_alone_never_join_clusters() -> None:
    # An office /24 with its sign-up /24 and a popular client plus its template: strong as a
    # noisy-OR (1 - 0.65 · 0.6 = 0.61), but a network and a piece of software are what
    # unrelated customers of one place share. A card, a creation burst off campus and
    # synchronised sessions join; a creation burst on the sign-up network is the network.
    owners = {f"a{i}": f"o{i}" for i in range(1, 11)}
    edges = _cluster_edges([
        ("a1", "a2", "ip_prefix", 0.35), ("a1", "a2", "signup_prefix", 0.3),
        ("a1", "a2", "user_agent", 0.35), ("a1", "a2", "template", 0.4),
        ("a3", "a4", "payment", 0.9),
        ("a5", "a6", "creation_burst", 0.7),
        ("a7", "a8", "creation_burst", 0.7), ("a7", "a8", "signup_prefix", 0.3),
        ("a9", "a10", "sync", 0.7),
    ], owners)
    assert edges == {("a3", "a4"), ("a5", "a6"), ("a9", "a10")}


def _attribution(accounts: dict[str, tuple[str, bool, dict[str, int]]],
                 template_links: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """Run 65_attribution.sql: accounts are (owner, flagged, {template: first turns}); the
    template links are (account_a, account_b, template); the harvest-template edges."""
    con = duckdb.connect()
    con.execute("CREATE TABLE account_owners (account_id VARCHAR, owner VARCHAR)")
    con.execute("CREATE TABLE account_flags (account_id VARCHAR, flagged BOOLEAN)")
    con.execute("CREATE TABLE account_templates (account_id VARCHAR, template_id VARCHAR, "
                "first_turns BIGINT)")
    con.execute("CREATE TABLE links (account_a VARCHAR, account_b VARCHAR, kind VARCHAR, "
                "key VARCHAR, weight DOUBLE)")
    con.execute("CREATE TABLE cluster_edges (account_a VARCHAR, account_b VARCHAR, "
                "basis VARCHAR)")
    for account, (owner, flagged, templates) in accounts.items():
        con.execute("INSERT INTO account_owners VALUES (?, ?)", [account, owner])
        con.execute("INSERT INTO account_flags VALUES (?, ?)", [account, flagged])
        for template, n in templates.items():
            con.execute("INSERT INTO account_templates VALUES (?, ?, ?)",
                        [account, template, n])
    con.executemany("INSERT INTO links VALUES (?, ?, 'template', ?, 0.4)", template_links)
    create_link_kinds(con)
    _run_linking(con, "65_attribution")
    return {(r[0], r[1]) for r in con.execute(
        "SELECT account_a, account_b FROM cluster_edges WHERE basis = 'harvest template'"
    ).fetchall()}


def test_flagged_accounts_sharing_a_harvest_template_are_one_attribution() -> None:
    # H: a recipe sent by three flagged accounts of three owners, and once by an ordinary
    # customer (u1, not flagged): 30 of its 31 first turns come from flagged accounts, so it
    # joins the flagged senders and never u1. E: an everyday template that two flagged
    # accounts relay, but that five ordinary customers send far more: it joins no one.
    accounts = {
        "f1": ("o1", True, {"H": 10, "E": 3}), "f2": ("o2", True, {"H": 10, "E": 3}),
        "f3": ("o3", True, {"H": 10}), "u1": ("o4", False, {"H": 1}),
        **{f"u{i}": (f"o{i + 3}", False, {"E": 5}) for i in range(2, 7)},
    }
    links = [("f1", "f2", "H"), ("f1", "f3", "H"), ("f2", "f3", "H"), ("f1", "u1", "H"),
             ("f2", "u1", "H"), ("f3", "u1", "H"), ("f1", "f2", "E"), ("f1", "u2", "E")]
    assert _attribution(accounts, links) == {("f1", "f2"), ("f1", "f3"), ("f2", "f3")}


def test_a_template_of_two_flagged_owners_attributes_no_one() -> None:
    # Two flagged owners are below the template kind's minimum of three owners: two accounts
    # can share a public prompt by chance.
    accounts = {"f1": ("o1", True, {"H": 10}), "f2": ("o2", True, {"H": 10})}
    assert _attribution(accounts, [("f1", "f2", "H")]) == set()


def test_same_minute_session_starts_beyond_chance_are_a_sync_link() -> None:
    # a1 and a2 (fired by co_launched_sessions) open a session in the same minute of six
    # different hours: by chance 6 · 1 · 1 / 60 = 0.1 coincidences, p = P(Poisson(0.1) ≥ 6)
    # ≈ 1.4e-9, far below the false discovery rate over the 6 pairs of 4 owners. a3 opens in
    # the same hours, but in the same minute only once (p ≈ 0.095): no link. a4 starts with a1
    # every time but is a1's own organisation: one owner, never paired with a1 (it pairs with
    # a2, as a1 does). a5 starts with a1 too but was not fired: not compared. The pairs and
    # what chance predicts are the features' (57-59), as in a run.
    con = duckdb.connect()
    con.execute("CREATE TABLE account_activity (account_id VARCHAR, account_no INTEGER, "
                "org_id VARCHAR)")
    con.execute("CREATE TABLE account_owners (account_id VARCHAR, owner VARCHAR)")
    con.execute("CREATE TABLE signals (account_id VARCHAR, heuristic_id VARCHAR)")
    con.execute("CREATE TABLE request_features (request_id VARCHAR, account_no INTEGER, "
                "minute BIGINT, turn_index INTEGER)")
    owners = {"a1": "org1", "a2": "o2", "a3": "o3", "a4": "org1", "a5": "o5"}
    shared = [h * 60 + 7 for h in range(6)]
    starts = {"a1": shared, "a2": shared, "a4": shared, "a5": shared,
              "a3": [shared[0]] + [h * 60 + 30 for h in range(1, 6)]}
    for no, (account, owner) in enumerate(owners.items()):
        org = owner if owner.startswith("org") else None
        con.execute("INSERT INTO account_activity VALUES (?, ?, ?)", [account, no, org])
        con.execute("INSERT INTO account_owners VALUES (?, ?)", [account, owner])
        if account != "a5":
            con.execute("INSERT INTO signals VALUES (?, 'co_launched_sessions')", [account])
        con.executemany("INSERT INTO request_features VALUES (?, ?, ?, 0)",
                        [(f"{account}-{m}", no, m) for m in starts[account]])
        # A follow-up in a minute of its own is no session start.
        con.execute("INSERT INTO request_features VALUES (?, ?, 5, 2)", [f"{account}-f", no])
    session_start_pairs(sqlfiles.engine_for(con),
                        sqlfiles.SqlFolder(resources.queries_part("features", None),
                                           "features query"))
    create_link_kinds(con)
    for stem in ("05_functions", "25_sync_pairs"):
        _run_linking(con, stem)
    rows = con.execute("SELECT account_a, account_b, together, basis FROM sync_pairs "
                       "ORDER BY ALL").fetchall()
    assert rows == [("a1", "a2", 6, "same-minute session starts"),
                    ("a2", "a4", 6, "same-minute session starts")]
