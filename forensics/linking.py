"""Linking and scoring: from fired heuristics to clusters of linked accounts with a decision,
a confidence level and the reasons for both.

The SQL lives in `queries/linking/` (run in file order); this module binds the parameters,
loops the label propagation, and reads the small result tables into typed findings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from forensics import resources
from forensics.config import ScoringSection
from forensics.heuristics import PARAM_USE, sql_code

MAX_ROUNDS = 50
# Link kinds that ordinary, unrelated customers do not share: one of them between two owners
# makes a cluster coordinated (so do two independent kinds of link between the same pair).
COORDINATION_KINDS = ("payment", "indicator", "creation_burst", "sync")
NETWORK_KINDS = ("ip_prefix", "signup_prefix", "email_domain", "indicator_network")
# Kinds that name one piece of software: a client and the prompt template it sends.
SOFTWARE_KINDS = ("user_agent", "template")
KIND_LABELS = {
    "payment": "payment fingerprint", "indicator": "analyst indicator",
    "creation_burst": "account-creation burst", "sync": "synchronised timing",
    "template": "prompt template", "ip_prefix": "IP prefix", "user_agent": "user agent",
    "email_domain": "e-mail domain", "signup_prefix": "sign-up IP prefix",
    "indicator_network": "analyst network indicator",
}
# ICD-203 likelihood scale (Intelligence Community Directive 203, 2015).
LIKELIHOOD = ((0.05, "almost no chance"), (0.20, "very unlikely"), (0.45, "unlikely"),
              (0.55, "roughly even chance"), (0.80, "likely"), (0.95, "very likely"),
              (1.01, "almost certain"))


def likelihood(score: float) -> str:
    """The ICD-203 likelihood term for a score read as a probability."""
    return next(term for bound, term in LIKELIHOOD if score < bound)


@dataclass(frozen=True)
class LinkingParams:
    """Every threshold of linking and scoring; the three in [scoring] are configurable."""

    flag_threshold: float = 0.5
    high_threshold: float = 0.75
    min_link_weight: float = 0.5
    interest_threshold: float = 0.25
    family_min_weight: float = 0.3
    family_member_share: float = 0.1
    top_members: int = 10
    min_key_requests: int = 3
    min_key_share: float = 0.05
    min_template_chars: int = 40
    max_group: int = 300
    rare_prevalence: float = 0.02
    common_prevalence: float = 0.05
    burst_hours: int = 6
    max_burst_domain_share: float = 0.02
    sync_heuristic: str = "synchronised_load_balancing"
    # One physical event (see 80_decisions.sql): network heuristics, and the timing ones that
    # measure synchrony through a shared network.
    event_network_heuristics: str = "ip_subnet_colocation,account_farm_creation_burst"
    event_timing_heuristics: str = "synchronised_load_balancing"
    sync_min_minutes: int = 10
    sync_min_overlap: float = 0.3

    @classmethod
    def from_config(cls, scoring: ScoringSection) -> LinkingParams:
        return cls(flag_threshold=scoring.flag_threshold, high_threshold=scoring.high_threshold,
                   min_link_weight=scoring.min_link_weight)


@dataclass(frozen=True)
class LinkSummary:
    """One kind of link holding a cluster together."""

    kind: str
    keys: int
    accounts: int
    examples: tuple[str, ...]

    def sentence(self) -> str:
        label = KIND_LABELS.get(self.kind, self.kind)
        plural = ("es" if label.endswith("x") else "s") if self.keys != 1 else ""
        ex = f" ({', '.join(self.examples)})" if self.examples and self.kind != "sync" else ""
        return f"{self.keys} {label}{plural}{ex} shared by {self.accounts} accounts"


@dataclass(frozen=True)
class Attribution:
    """Indicators that tie a cluster to a named actor."""

    actor: str
    accounts: int
    share: float
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class SignalSummary:
    """One heuristic that fired in a cluster, summarised over its members."""

    heuristic_id: str
    family: str
    accounts: int
    mean_score: float
    example_detail: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class BenignCheck:
    """A benign explanation that was weighed, and why it was kept or rejected."""

    lookalike: str
    rejected: bool
    reason: str


@dataclass(frozen=True)
class ClusterFinding:
    """A cluster of linked accounts with everything the dossier says about it."""

    cluster_id: str
    accounts: int
    owners: int
    requests: int
    tokens: int
    first_seen: datetime
    last_seen: datetime
    score: float
    confidence: str
    likelihood: str
    flagged: bool
    coordinated: bool
    families: tuple[str, ...]
    links: tuple[LinkSummary, ...]
    signals: tuple[SignalSummary, ...]
    capabilities: tuple[tuple[str, float], ...]
    attribution: tuple[Attribution, ...]
    benign_checks: tuple[BenignCheck, ...]
    member_ids: tuple[str, ...] = field(default=(), repr=False)

    @property
    def actor(self) -> str | None:
        return self.attribution[0].actor if self.attribution else None

    def link_sentence(self) -> str:
        return "; ".join(link.sentence() for link in self.links) or "no cross-owner links"


@dataclass(frozen=True)
class LinkingResult:
    """Findings handed to the report stage."""

    clusters: tuple[ClusterFinding, ...]
    flagged_accounts: int
    accounts: int
    params: LinkingParams
    propagation_rounds: int

    def flagged_clusters(self) -> tuple[ClusterFinding, ...]:
        return tuple(c for c in self.clusters if c.flagged)


def _params(p: LinkingParams, sql: str) -> dict[str, Any]:
    values = {**asdict(p), "coordination_kinds": ",".join(COORDINATION_KINDS),
              "network_kinds": ",".join(NETWORK_KINDS),
              "software_kinds": ",".join(SOFTWARE_KINDS)}
    used = set(PARAM_USE.findall(sql_code(sql)))
    return {k: v for k, v in values.items() if k in used}


def _run(con: duckdb.DuckDBPyConnection, path: Path, p: LinkingParams) -> None:
    sql = path.read_text(encoding="utf-8")
    for statement in (s for s in sql.split(";\n") if s.strip()):
        con.execute(statement, _params(p, statement))


def _files(queries: Path | None) -> dict[str, Path]:
    folder = resources.queries_part("linking", queries)
    return {p.stem: p for p in sorted(folder.glob("*.sql"))}


def build_clusters(con: duckdb.DuckDBPyConnection, params: LinkingParams,
                   queries: Path | None = None) -> int:
    """Owners, links and clusters (`cluster_members`); returns the propagation rounds."""
    files = _files(queries)
    for stem in ("10_owners", "20_link_keys", "25_sync_pairs", "30_links", "40_pair_weights"):
        _run(con, files[stem], params)
    con.execute("CREATE OR REPLACE TABLE cluster_labels AS SELECT account_id, "
                "min(account_id) OVER (PARTITION BY owner) AS label FROM account_owners")
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 — the count is reported
        _run(con, files["50_cluster_step"], params)
        row = con.execute("SELECT count(*) FROM cluster_labels_next n JOIN cluster_labels l "
                          "USING (account_id) WHERE n.label <> l.label").fetchone()
        con.execute("DROP TABLE cluster_labels")
        con.execute("ALTER TABLE cluster_labels_next RENAME TO cluster_labels")
        if not row or row[0] == 0:
            break
    con.execute("CREATE OR REPLACE TABLE cluster_members AS SELECT account_id, "
                "'C-' || left(md5(label), 8) AS cluster_id FROM cluster_labels")
    # Read by cluster-scope heuristics: which clusters span several owners.
    con.execute("CREATE OR REPLACE TABLE cluster_sizes AS SELECT m.cluster_id, "
                "count(*) AS accounts, count(DISTINCT o.owner) AS owners "
                "FROM cluster_members m JOIN account_owners o USING (account_id) GROUP BY ALL")
    return rounds


def score_clusters(con: duckdb.DuckDBPyConnection, params: LinkingParams,
                   queries: Path | None = None, rounds: int = 0,
                   interesting: int = 40) -> LinkingResult:
    """Scores, cluster facts and decisions from every signal (account and cluster scope)."""
    files = _files(queries)
    for stem in ("60_account_scores", "70_clusters", "80_decisions", "90_account_findings"):
        _run(con, files[stem], params)
    counts = con.execute("SELECT count(*), count(*) FILTER (WHERE flagged) "
                         "FROM account_decisions").fetchone()
    assert counts is not None
    clusters = _read_clusters(con, interesting)
    return LinkingResult(tuple(clusters), int(counts[1]), int(counts[0]), params, rounds)


def link_and_score(con: duckdb.DuckDBPyConnection, params: LinkingParams,
                   queries: Path | None = None) -> LinkingResult:
    """Clusters and scores with no cluster-scope heuristics in between (tests, tools)."""
    rounds = build_clusters(con, params, queries)
    return score_clusters(con, params, queries, rounds)


def _read_clusters(con: duckdb.DuckDBPyConnection, limit: int) -> list[ClusterFinding]:
    """Every flagged cluster, then the next most suspicious ones up to `limit` clusters in
    all, most severe first."""
    # Every flagged one, however many: the dossier and findings.json count and list them.
    order = "d.flagged DESC, c.score DESC, c.requests DESC, c.cluster_id"
    rows = con.execute(
        "SELECT c.cluster_id, c.accounts, c.owners, c.requests, c.tokens, c.first_seen, "
        "c.last_seen, c.score, d.confidence, d.flagged, c.coordinated, c.families "
        "FROM clusters c JOIN cluster_decisions d USING (cluster_id) "
        "WHERE d.flagged OR d.confidence <> 'none' "
        f"QUALIFY d.flagged OR row_number() OVER (ORDER BY {order}) <= $n "
        f"ORDER BY {order}",
        {"n": limit}).fetchall()
    facts = _ClusterFacts.read(con, [r[0] for r in rows])
    out = []
    for r in rows:
        cid = r[0]
        out.append(ClusterFinding(
            cluster_id=cid, accounts=int(r[1]), owners=int(r[2]), requests=int(r[3]),
            tokens=int(r[4]), first_seen=r[5], last_seen=r[6], score=float(r[7]),
            confidence=r[8], likelihood=likelihood(float(r[7])), flagged=bool(r[9]),
            coordinated=bool(r[10]), families=tuple(r[11]),
            links=tuple(facts.links.get(cid, ())), signals=tuple(facts.signals.get(cid, ())),
            capabilities=tuple(facts.capabilities.get(cid, ())),
            attribution=tuple(facts.attribution.get(cid, ())),
            benign_checks=_benign_checks(facts.benign.get(cid, (None,) * 4), int(r[2]),
                                         bool(r[10])),
            member_ids=facts.members.get(cid, ())))
    return out


# The members of the clusters a run reports on, as a table the batched queries below join:
# one query per kind of fact for all of them, rather than one per cluster. A table, not a
# CTE filtering by the id list: joined twice to 2 M links at 10 M requests, the CTE took 4 s
# and the table 0.04 s.
_MEMBERS = "WITH m AS (SELECT account_id, cluster_id FROM reported_members) "


@dataclass
class _ClusterFacts:
    """What the dossier says about each reported cluster, read in one query per kind."""

    links: dict[str, list[LinkSummary]] = field(default_factory=dict)
    signals: dict[str, list[SignalSummary]] = field(default_factory=dict)
    capabilities: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    attribution: dict[str, list[Attribution]] = field(default_factory=dict)
    benign: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, ids: list[str]) -> _ClusterFacts:
        facts = cls()
        if not ids:
            return facts

        con.execute("CREATE OR REPLACE TEMP TABLE reported_members AS "
                    "SELECT account_id, cluster_id FROM cluster_members "
                    "WHERE list_contains(CAST($ids AS VARCHAR[]), cluster_id)", {"ids": ids})

        def query(sql: str) -> list[tuple[Any, ...]]:
            return con.execute(_MEMBERS + sql).fetchall()

        # Only links inside the cluster explain why it holds together (an account is in
        # one cluster, so both ends in the same cluster's members).
        for r in query(
                ", l AS (SELECT a.cluster_id, kind, key, account_a, account_b FROM links "
                "       JOIN m AS a ON a.account_id = links.account_a "
                "       JOIN m AS b ON b.account_id = links.account_b "
                "                  AND b.cluster_id = a.cluster_id), "
                "ends AS (SELECT cluster_id, kind, key, account_a AS a FROM l "
                "         UNION SELECT cluster_id, kind, key, account_b FROM l), "
                "k AS (SELECT cluster_id, kind, key, count(*) AS n FROM ends GROUP BY ALL), "
                "e AS (SELECT cluster_id, kind, count(DISTINCT a) AS accounts FROM ends "
                "      GROUP BY ALL) "
                "SELECT k.cluster_id, k.kind, count(DISTINCT k.key), any_value(e.accounts), "
                "       list(k.key ORDER BY k.n DESC, k.key)[1:3] "
                "FROM k JOIN e USING (cluster_id, kind) GROUP BY k.cluster_id, k.kind "
                "ORDER BY k.cluster_id, 4 DESC, k.kind"):
            facts.links.setdefault(r[0], []).append(
                LinkSummary(r[1], int(r[2]), int(r[3]), tuple(r[4])))
        for r in query(
                "SELECT m.cluster_id, s.heuristic_id, any_value(s.family), count(*), "
                "       round(avg(s.score), 3), arg_max(s.detail, (s.score, s.account_id)), "
                "       arg_max(s.evidence, (s.score, s.account_id)) "
                "FROM signals s JOIN m USING (account_id) GROUP BY m.cluster_id, s.heuristic_id "
                "ORDER BY m.cluster_id, any_value(s.family), count(*) DESC, s.heuristic_id"):
            facts.signals.setdefault(r[0], []).append(
                SignalSummary(r[1], r[2], int(r[3]), float(r[4]), r[5], tuple(r[6])))
        # Request counts per capability from the features stage's per-account counts.
        for r in query(
                "SELECT m.cluster_id, c.capability, round(CAST(sum(c.requests) AS BIGINT) / "
                "       sum(CAST(sum(c.requests) AS BIGINT)) OVER (PARTITION BY m.cluster_id), "
                "       3) AS share "
                "FROM account_capabilities c JOIN m USING (account_id) "
                "GROUP BY m.cluster_id, c.capability "
                "ORDER BY m.cluster_id, share DESC, c.capability"):
            facts.capabilities.setdefault(r[0], []).append((r[1], float(r[2])))
        for r in query(
                ", size AS (SELECT cluster_id, count(*) AS n FROM m GROUP BY ALL) "
                "SELECT m.cluster_id, h.actor, count(DISTINCT h.account_id), "
                "       round(count(DISTINCT h.account_id) / any_value(size.n), 3), "
                "       list(DISTINCT h.indicator_type || ' ' || h.value ORDER BY "
                "            h.indicator_type || ' ' || h.value) "
                "FROM indicator_hits h JOIN m USING (account_id) JOIN size USING (cluster_id) "
                "GROUP BY m.cluster_id, h.actor ORDER BY m.cluster_id, 3 DESC, 2"):
            facts.attribution.setdefault(r[0], []).append(
                Attribution(r[1], int(r[2]), float(r[3]), tuple(r[4])))
        for r in query(
                "SELECT m.cluster_id, "
                "       avg(CASE WHEN coalesce(turn_index, 0) > 0 THEN 1 ELSE 0 END), "
                "       count(DISTINCT template_id) / count(*), "
                "       count(*) FILTER (WHERE list_contains(signals, 'benchmark_marker')) "
                "           / count(*), "
                "       count(DISTINCT hour(ts)) "
                "FROM request_features f JOIN m USING (account_id) GROUP BY m.cluster_id"):
            facts.benign[r[0]] = tuple(r[1:])
        for r in query("SELECT cluster_id, list(account_id ORDER BY account_id) FROM m "
                       "GROUP BY cluster_id"):
            facts.members[r[0]] = tuple(r[1])
        con.execute("DROP TABLE reported_members")
        return facts


def _benign_checks(measured: tuple[Any, ...], owners: int,
                   coordinated: bool) -> tuple[BenignCheck, ...]:
    """The look-alikes of domain.md §5, each weighed against the cluster's own numbers
    (`measured`: follow-up share, distinct templates per request, benchmark share, UTC hours
    active; see _ClusterFacts)."""
    multi_turn, template_variety, bench_share, hours = (
        float(measured[0] or 0), float(measured[1] or 0), float(measured[2] or 0),
        int(measured[3] or 0))
    one_org = owners == 1
    return (
        BenignCheck("one customer's own batch or product traffic", not one_org,
                    f"the accounts belong to {owners} different owners" if not one_org else
                    "all accounts belong to one declared organisation: a single customer"),
        BenignCheck("evaluation company or eval harness", bench_share < 0.2,
                    f"{bench_share:.0%} of requests carry public benchmark test formats"),
        BenignCheck("agent or IDE product with real users", multi_turn < 0.3,
                    f"{multi_turn:.0%} of requests continue a conversation"),
        BenignCheck("authorised reseller or gateway", coordinated,
                    "accounts are tied by payment, timing, creation or template links that a "
                    "contracted reseller would not need" if coordinated else
                    "no coordination link beyond shared infrastructure"),
        BenignCheck("tutoring app or human users", hours >= 20 and multi_turn < 0.3,
                    f"active in {hours} of 24 UTC hours, {multi_turn:.0%} follow-up turns"),
        BenignCheck("templated enterprise job", template_variety < 0.5 and not one_org,
                    f"{template_variety:.0%} distinct templates per request over "
                    f"{owners} owners"),
    )
