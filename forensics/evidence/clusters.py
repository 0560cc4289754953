"""What the findings and the dossier say about each reported cluster: its links with their
tests of chance, the heuristics that fired, capabilities, attribution, the benign explanations
weighed, and how firmly it holds together. Read from the tables linking leaves behind; the
report only renders these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb

from forensics.communities import KEEP, RESAMPLES
from forensics.config import BenignChecksSection
from forensics.evidence.vocabulary import FDR, LINK_KINDS, chance_text, likelihood


@dataclass(frozen=True)
class LinkSummary:
    """One kind of link holding a cluster together, with its test against chance: the pairs
    of the cluster it links (`pairs`), how many of them are significant at the run's false-
    discovery rate, and its strongest pair (p-value; for timing, minutes shared and expected
    by chance). No p-value for a kind without a null model (an analyst's indicator)."""

    kind: str
    keys: int
    accounts: int
    examples: tuple[str, ...]
    pairs: int = 0
    significant: int = 0
    p_value: float | None = None
    observed: int | None = None
    expected: float | None = None

    def sentence(self, show_key: Callable[[str, str], str] | None = None) -> str:
        """The dossier's and findings' one sentence for this kind (`show_key` pseudonymises
        the examples in the dossier)."""
        kind = LINK_KINDS.get(self.kind)
        what = kind.words(self.keys) if kind else f"{self.keys:,} {self.kind}"
        if self.kind == "sync":
            what = kind.label if kind else self.kind
        shown = [show_key(self.kind, e) if show_key else e for e in self.examples]
        ex = f" ({', '.join(shown)})" if shown and self.kind != "sync" else ""
        text = f"{what}{ex} shared by {self.accounts:,} accounts"
        return text + self.test_clause()

    def test_clause(self) -> str:
        if self.p_value is None or not self.pairs:
            return ""
        pairs = "pair" if self.pairs == 1 else "pairs"
        tested = (f"; {self.significant:,} of {self.pairs:,} linked {pairs} significant at a "
                  f"{FDR * 100:.0f} % false-discovery rate")
        if self.kind == "sync" and self.observed is not None and self.expected is not None:
            return (f"; the closest pair opened sessions in the same minute {self.observed:,} "
                    f"times against {self.expected:.2g} expected by chance (under independence, "
                    f"chance {chance_text(self.p_value)})" + tested)
        return f"; strongest pair: under independence, chance {chance_text(self.p_value)}" + tested


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
class ClusterDecision:
    """The conditions of the cluster flag as queries/linking/80_decisions.sql found them: the
    cluster is flagged when all four hold. The dossier says why a cluster was or was not
    flagged from these, never from a second statement of the rule."""

    strong_score: bool  # cluster score at or above the flag threshold
    two_families: bool  # two or more families of evidence
    # What joins its owners: 'coordination', 'harvest_template' (flagged members opening with
    # one harvest template) or 'one_owner' (a single owner's own evidence); None when nothing.
    joined_by: str | None
    member_on_own_evidence: bool  # a member flagged on its own evidence


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
    # Flagged members of several owners put together by a harvest template they open with
    # (queries/linking/65_attribution.sql), not by coordination.
    attributed: bool
    links: tuple[LinkSummary, ...]
    signals: tuple[SignalSummary, ...]
    capabilities: tuple[tuple[str, float], ...]
    attribution: tuple[Attribution, ...]
    benign_checks: tuple[BenignCheck, ...]
    decision: ClusterDecision
    member_ids: tuple[str, ...] = field(default=(), repr=False)
    # How firmly the cluster holds (forensics/communities.py): mean share of its owners kept
    # together when its links are resampled, bridges inside it, members outside its core and
    # the most links between a member and the core.
    stability: float = 1.0
    bridges: int = 0
    outside_core: int = 0
    max_core_hops: int = 0

    def structure_sentence(self) -> str:
        """How firmly the cluster holds together, in one sentence."""
        if self.owners < 2:
            return ""
        kept = (f"in {RESAMPLES} resamples keeping {KEEP * 100:.0f} % of its links, on average "
                f"{self.stability * 100:.0f} % of its owners stayed in one cluster")
        bridges = ("no single link holds it together" if not self.bridges else
                   f"{self.bridges:,} of its links are bridges (each alone joins part of it to "
                   f"the rest)")
        core = ("every member is in its core" if not self.outside_core else
                f"{self.outside_core:,} of its accounts lie outside its core, up to "
                f"{self.max_core_hops} link{'s' if self.max_core_hops != 1 else ''} away")
        return f"Held together: {kept}; {bridges}; {core}."

    @property
    def actor(self) -> str | None:
        return self.attribution[0].actor if self.attribution else None

    def link_sentence(self) -> str:
        return "; ".join(link.sentence() for link in self.links) or "no cross-owner links"


def read_clusters(con: duckdb.DuckDBPyConnection, limit: int,
                  benign: BenignChecksSection | None = None) -> list[ClusterFinding]:
    """Every flagged cluster, then the next most suspicious ones up to `limit` clusters in
    all, most severe first; the benign look-alikes weighed against `benign`'s thresholds (the
    config's defaults when None)."""
    limits = benign or BenignChecksSection()
    # Every flagged one, however many: the dossier and findings.json count and list them.
    order = "d.flagged DESC, c.score DESC, c.requests DESC, c.cluster_id"
    rows = con.execute(
        "SELECT c.cluster_id, c.accounts, c.owners, c.requests, c.tokens, c.first_seen, "
        "c.last_seen, c.score, d.confidence, d.flagged, c.coordinated, c.families, "
        "coalesce(st.stability, 1.0), coalesce(st.bridges, 0), "
        "coalesce(st.outside_core, 0), coalesce(st.max_core_hops, 0), c.attributed, "
        "d.strong_score, d.two_families, d.joined_by, d.member_on_own_evidence "
        "FROM clusters c JOIN cluster_decisions d USING (cluster_id) "
        "LEFT JOIN cluster_structure st USING (cluster_id) "
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
            coordinated=bool(r[10]), families=tuple(r[11]), attributed=bool(r[16]),
            links=tuple(facts.links.get(cid, ())), signals=tuple(facts.signals.get(cid, ())),
            capabilities=tuple(facts.capabilities.get(cid, ())),
            attribution=tuple(facts.attribution.get(cid, ())),
            benign_checks=_benign_checks(facts.benign.get(cid, (None,) * 4), int(r[2]),
                                         bool(r[10]), limits),
            decision=ClusterDecision(bool(r[17]), bool(r[18]), r[19], bool(r[20])),
            member_ids=facts.members.get(cid, ()),
            stability=float(r[12]), bridges=int(r[13]), outside_core=int(r[14]),
            max_core_hops=int(r[15])))
    return out


# The members of the clusters a run reports on, as a table the batched queries below join:
# one query per kind of fact for all of them, rather than one per cluster. A table, not a
# CTE filtering by the id list: joined twice to the links of a large log, the CTE took far
# longer.
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
        facts._read_links(con)
        facts._read_signals(con)
        facts._read_capabilities(con)
        facts._read_attribution(con)
        facts._read_benign(con)
        facts._read_members(con)
        con.execute("DROP TABLE reported_members")
        return facts

    def _read_links(self, con: duckdb.DuckDBPyConnection) -> None:
        """The links inside each cluster, by kind, with the tests of chance of its pairs."""
        # Only links inside the cluster explain why it holds together (an account is in
        # one cluster, so both ends in the same cluster's members).
        for r in _query(
                con,
                # One end's cluster first, then the other end in it: joined on the cluster
                # first, the planner paired every two members of a cluster (446 M rows for
                # one of 21,123 accounts at 50 M) and ran out of memory.
                ", la AS MATERIALIZED ("
                "      SELECT a.cluster_id, kind, key, account_a, account_b FROM links "
                "      JOIN m AS a ON a.account_id = links.account_a), "
                "l AS (SELECT la.* FROM la JOIN m AS b ON b.account_id = la.account_b "
                "                                      AND b.cluster_id = la.cluster_id), "
                "ends AS (SELECT cluster_id, kind, key, account_a AS a FROM l "
                "         UNION SELECT cluster_id, kind, key, account_b FROM l), "
                "k AS (SELECT cluster_id, kind, key, count(*) AS n FROM ends GROUP BY ALL), "
                "e AS (SELECT cluster_id, kind, count(*) AS accounts "
                "      FROM (SELECT DISTINCT cluster_id, kind, a FROM ends) GROUP BY ALL), "
                # The three keys most members share, kept three at a time: a list of every
                # key, or a DISTINCT aggregate, of a cluster of twenty thousand accounts
                # does not fit in the memory limit (a 50 M run ran out of memory here).
                "t AS (SELECT cluster_id, kind, count(*) AS keys, "
                "             min_by(key, (-n, key), 3) AS top FROM k GROUP BY ALL) "
                "SELECT t.cluster_id, t.kind, t.keys, e.accounts, t.top "
                "FROM t JOIN e USING (cluster_id, kind) "
                "ORDER BY t.cluster_id, 4 DESC, t.kind"):
            self.links.setdefault(r[0], []).append(
                LinkSummary(r[1], int(r[2]), int(r[3]), tuple(r[4])))
        tests = {(r[0], r[1]): r[2:] for r in _query(
                con,
                ", ta AS MATERIALIZED ("
                "      SELECT a.cluster_id, t.* FROM link_tests t "
                "      JOIN m AS a ON a.account_id = t.account_a WHERE t.p_value IS NOT NULL) "
                "SELECT t.cluster_id, t.kind, count(*), "
                "       count(*) FILTER (WHERE t.q_value <= $fdr), min(t.p_value), "
                "       arg_min(t.observed, (t.p_value, t.account_a, t.account_b)), "
                "       arg_min(t.expected, (t.p_value, t.account_a, t.account_b)) "
                "FROM ta AS t "
                "JOIN m AS b ON b.account_id = t.account_b AND b.cluster_id = t.cluster_id "
                "GROUP BY ALL ORDER BY ALL", {"fdr": FDR})}
        self.links = {cid: [_tested(link, tests.get((cid, link.kind))) for link in links]
                      for cid, links in self.links.items()}

    def _read_signals(self, con: duckdb.DuckDBPyConnection) -> None:
        """Each heuristic that fired in a cluster, summarised over its members."""
        for r in _query(
                con,
                "SELECT m.cluster_id, s.heuristic_id, any_value(s.family), count(*), "
                "       round(avg(s.score), 3), arg_max(s.detail, (s.score, s.account_id)), "
                "       arg_max(s.evidence, (s.score, s.account_id)) "
                "FROM signals s JOIN m USING (account_id) GROUP BY m.cluster_id, s.heuristic_id "
                "ORDER BY m.cluster_id, any_value(s.family), count(*) DESC, s.heuristic_id"):
            self.signals.setdefault(r[0], []).append(
                SignalSummary(r[1], r[2], int(r[3]), float(r[4]), r[5], tuple(r[6])))

    def _read_capabilities(self, con: duckdb.DuckDBPyConnection) -> None:
        """Request shares per capability, from the features stage's per-account counts."""
        for r in _query(
                con,
                "SELECT m.cluster_id, c.capability, round(CAST(sum(c.requests) AS BIGINT) / "
                "       sum(CAST(sum(c.requests) AS BIGINT)) OVER (PARTITION BY m.cluster_id), "
                "       3) AS share "
                "FROM account_capabilities c JOIN m USING (account_id) "
                "GROUP BY m.cluster_id, c.capability "
                "ORDER BY m.cluster_id, share DESC, c.capability"):
            self.capabilities.setdefault(r[0], []).append((r[1], float(r[2])))

    def _read_attribution(self, con: duckdb.DuckDBPyConnection) -> None:
        """The named actors whose analyst indicators the members hit."""
        for r in _query(
                con,
                ", size AS (SELECT cluster_id, count(*) AS n FROM m GROUP BY ALL) "
                "SELECT m.cluster_id, h.actor, count(DISTINCT h.account_id), "
                "       round(count(DISTINCT h.account_id) / any_value(size.n), 3), "
                "       list(DISTINCT h.indicator_type || ' ' || h.value ORDER BY "
                "            h.indicator_type || ' ' || h.value) "
                "FROM indicator_hits h JOIN m USING (account_id) JOIN size USING (cluster_id) "
                "GROUP BY m.cluster_id, h.actor ORDER BY m.cluster_id, 3 DESC, 2"):
            self.attribution.setdefault(r[0], []).append(
                Attribution(r[1], int(r[2]), float(r[3]), tuple(r[4])))

    def _read_benign(self, con: duckdb.DuckDBPyConnection) -> None:
        """The numbers the benign look-alikes are weighed on (see _benign_checks)."""
        for r in _query(
                con,
                "SELECT m.cluster_id, "
                "       avg(CASE WHEN coalesce(turn_index, 0) > 0 THEN 1 ELSE 0 END), "
                "       count(DISTINCT template_id) / count(*), "
                "       count(*) FILTER (WHERE list_contains(signals, 'benchmark_marker')) "
                "           / count(*), "
                "       count(DISTINCT hour(ts)) "
                "FROM request_features f JOIN m USING (account_id) GROUP BY m.cluster_id"):
            self.benign[r[0]] = tuple(r[1:])

    def _read_members(self, con: duckdb.DuckDBPyConnection) -> None:
        """Each cluster's member ids, sorted."""
        for r in _query(con, "SELECT cluster_id, list(account_id ORDER BY account_id) FROM m "
                             "GROUP BY cluster_id"):
            self.members[r[0]] = tuple(r[1])


def _query(con: duckdb.DuckDBPyConnection, sql: str,
           params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of `sql` run after the _MEMBERS prefix (the reported clusters' members as m)."""
    return con.execute(_MEMBERS + sql, params).fetchall()


def _tested(link: LinkSummary, test: tuple[Any, ...] | None) -> LinkSummary:
    """The link summary with its cluster's tests of chance (pairs, significant, strongest)."""
    if test is None:
        return link
    pairs, significant, p_value, observed, expected = test
    return replace(link, pairs=int(pairs), significant=int(significant),
                   p_value=float(p_value),
                   observed=int(observed) if observed is not None else None,
                   expected=float(expected) if expected is not None else None)


def _benign_checks(measured: tuple[Any, ...], owners: int, coordinated: bool,
                   limits: BenignChecksSection) -> tuple[BenignCheck, ...]:
    """The benign look-alikes (one customer, eval company, agent product, reseller, tutoring app,
    enterprise job), each weighed against the cluster's own numbers
    (`measured`: follow-up share, distinct templates per request, benchmark share, UTC hours
    active; see _ClusterFacts) with the case config's thresholds ([benign_checks])."""
    multi_turn, template_variety, bench_share, hours = (
        float(measured[0] or 0), float(measured[1] or 0), float(measured[2] or 0),
        int(measured[3] or 0))
    one_org = owners == 1
    return (
        BenignCheck("one customer's own batch or product traffic", not one_org,
                    f"the accounts belong to {owners} different owners" if not one_org else
                    "all accounts belong to one declared organisation: a single customer"),
        BenignCheck("evaluation company or eval harness",
                    bench_share < limits.eval_benchmark_share,
                    f"{bench_share:.0%} of requests carry public benchmark test formats"),
        BenignCheck("agent or IDE product with real users",
                    multi_turn < limits.agent_follow_up_share,
                    f"{multi_turn:.0%} of requests continue a conversation"),
        BenignCheck("authorised reseller or gateway", coordinated,
                    "accounts are tied by payment, timing, creation or template links that a "
                    "contracted reseller would not need" if coordinated else
                    "no coordination link beyond shared infrastructure"),
        BenignCheck("tutoring app or human users",
                    hours >= limits.tutoring_active_hours
                    and multi_turn < limits.tutoring_follow_up_share,
                    f"active in {hours} of 24 UTC hours, {multi_turn:.0%} follow-up turns"),
        BenignCheck("templated enterprise job",
                    template_variety < limits.enterprise_template_variety and not one_org,
                    f"{template_variety:.0%} distinct templates per request over "
                    f"{owners} owners"),
    )
