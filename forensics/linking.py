"""Linking and scoring: from fired heuristics to clusters of linked accounts with a decision
and a confidence level for every account and cluster.

The SQL lives in `queries/linking/` (run in file order by forensics/sqlfiles.py, each
statement bound the LinkingParams values it uses); this module draws the clusters
(forensics/communities.py), and hands the results to the evidence stage (forensics/evidence/),
which reads what the findings and the dossier say about them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from forensics import resources, sqlfiles
from forensics.communities import build_communities
from forensics.config import BenignChecksSection, ScoringSection
from forensics.evidence import FDR, ClusterFinding, create_link_kinds, read_clusters
from forensics.heuristics import Heuristic, LinkingRole, discover_files


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
    co_launch_heuristic: str = "co_launched_sessions"
    harvest_min_flagged_share: float = 0.5
    # The seed of the link resamples that measure each cluster's stability
    # (forensics/communities.py).
    stability_seed: int = 20260223

    @classmethod
    def from_config(cls, scoring: ScoringSection) -> LinkingParams:
        return cls(flag_threshold=scoring.flag_threshold, high_threshold=scoring.high_threshold,
                   min_link_weight=scoring.min_link_weight)


@dataclass(frozen=True)
class LinkingRoleUse:
    """What linking does with the accounts of the heuristic(s) that play one role, named by
    a LinkingParams field. A role that draws links is required: without its heuristic,
    linking draws less than the dossier says it does."""

    param: str
    use: str  # what linking does with the heuristic's fired accounts
    draws: str | None  # the links it draws from them, if any
    sql: str  # the linking file that reads it

    @property
    def required(self) -> bool:
        return self.draws is not None


# Every role a heuristic's front matter may declare (`provides:`). Linking reads these
# heuristics by id (the LinkingParams field), so a custom library keeps their ids.
LINKING_ROLES: dict[LinkingRole, LinkingRoleUse] = {
    "sync_minutes": LinkingRoleUse(
        "sync_heuristic", "tests the accounts the heuristic fires, pair by pair, for co-active "
        "minutes", "synchronised-timing links", "25_sync_pairs.sql"),
    "co_launches": LinkingRoleUse(
        "co_launch_heuristic", "tests the accounts the heuristic fires, pair by pair, for "
        "session starts in the same minute beyond chance", "synchronised-timing links",
        "25_sync_pairs.sql"),
    "network_event": LinkingRoleUse(
        "event_network_heuristics", "counts the heuristic as a network shared with others, "
        "one fact with the sign-ups from it and the synchrony measured through it", None,
        "62_account_decisions.sql"),
    "network_timing": LinkingRoleUse(
        "event_timing_heuristics", "counts the heuristic as synchrony measured through a "
        "shared network, no fact beside that network's", None, "62_account_decisions.sql"),
}


def role_problems(library: list[Heuristic], params: LinkingParams) -> list[str]:
    """What is wrong between the library and the heuristics linking reads: a required role
    whose heuristic is missing (its links would silently never be drawn), a heuristic linking
    reads that does not declare the role, and one that declares a role linking reads from
    another heuristic. Empty when the library gives linking everything it reads."""
    by_id = {h.id: h for h in library}
    problems: list[str] = []
    for role, use in LINKING_ROLES.items():
        named = [i for i in str(getattr(params, use.param)).split(",") if i]
        for hid in named:
            h = by_id.get(hid)
            if h is None:
                if use.required:
                    problems.append(
                        f"linking needs heuristic {hid} ({role}): it {use.use} to draw "
                        f"{use.draws} (queries/linking/{use.sql}), and this library has no "
                        f"such heuristic, so those links would silently never be drawn "
                        f"(expected {_bundled_file(hid)} or a file of that id declaring "
                        f"provides: [{role}])")
            elif role not in h.meta.provides:
                problems.append(f"{h.path}: linking reads this heuristic for {role} (it "
                                f"{use.use}), but its front matter does not say so (expected "
                                f"provides: [{role}])")
        problems += [f"{h.path}: declares provides: [{role}], but linking reads {role} from "
                     f"{', '.join(named)} only (expected that id for a heuristic linking "
                     f"relies on)" for h in library
                     if role in h.meta.provides and h.id not in named]
    return problems


def _bundled_file(heuristic_id: str) -> str:
    """Where the bundled library keeps a heuristic ('queries/timing/<id>.sql')."""
    for path in discover_files(resources.queries_dir()):
        if path.stem == heuristic_id:
            return f"queries/{path.parent.name}/{path.name}"
    return f"queries/<family>/{heuristic_id}.sql"


@dataclass(frozen=True)
class LinkingResult:
    """Findings handed to the report stage."""

    clusters: tuple[ClusterFinding, ...]
    flagged_accounts: int
    accounts: int
    params: LinkingParams

    def flagged_clusters(self) -> tuple[ClusterFinding, ...]:
        return tuple(c for c in self.clusters if c.flagged)


def sql_values(p: LinkingParams) -> dict[str, Any]:
    """Every value the linking SQL may use as a `$parameter` (each statement is bound the
    ones it uses)."""
    return {**asdict(p), "fdr": FDR}


def linking_files(queries: Path | None = None) -> sqlfiles.SqlFolder:
    """The files of `<queries>/linking` (the bundled ones when --queries brings none)."""
    return sqlfiles.SqlFolder(resources.queries_part("linking", queries), "linking query")


def _run_files(db: sqlfiles.Engine, files: sqlfiles.SqlFolder, stems: tuple[str, ...],
         params: LinkingParams) -> None:
    for stem in stems:
        sqlfiles.run_file(db, files.file(stem), sql_values(params))


def build_clusters(con: sqlfiles.Database, params: LinkingParams,
                   queries: Path | None = None) -> None:
    """Owners, links, their tests of chance, and clusters of coordinated accounts
    (`cluster_members`, `cluster_structure`, `cluster_sizes`: the connected components of the
    owners' coordinated links, with their stability and bridges; forensics/communities.py),
    which the cluster-scope heuristics read."""
    db = sqlfiles.engine_for(con)
    create_link_kinds(con, queries)
    _run_files(db, linking_files(queries), (
        "05_functions", "10_owners", "20_link_keys", "25_sync_pairs", "30_links",
        "40_pair_weights", "45_link_tests", "47_coordinated_accounts", "48_cluster_edges"),
        params)
    _draw_clusters(con, params)


def _draw_clusters(con: sqlfiles.Database, params: LinkingParams) -> None:
    """`cluster_members`, `cluster_structure` and `cluster_sizes` from `cluster_edges`."""
    build_communities(con, params.stability_seed)
    db = sqlfiles.engine_for(con)
    db.create_table_as("cluster_members", "SELECT account_id, 'C-' || left(md5(label), 8) "
                       "AS cluster_id, core_hops FROM cluster_labels")
    db.create_table_as("cluster_structure", "SELECT 'C-' || left(md5(label), 8) AS cluster_id, "
                       "stability, bridges, outside_core, max_core_hops FROM community_structure")
    # Read by cluster-scope heuristics: which clusters span several owners.
    db.create_table_as("cluster_sizes", "SELECT m.cluster_id, count(*) AS accounts, "
                       "count(DISTINCT o.owner) AS owners FROM cluster_members m "
                       "JOIN account_owners o USING (account_id) GROUP BY ALL")


def score_clusters(con: duckdb.DuckDBPyConnection, params: LinkingParams,
                   queries: Path | None = None, interesting: int = 40,
                   benign: BenignChecksSection | None = None) -> LinkingResult:
    """Scores and account decisions from every signal (account and cluster scope); then the
    final clusters (coordination, and harvest templates among flagged accounts), their facts
    and decisions, with the benign look-alikes weighed against `benign` (the config's
    defaults when None)."""
    build_scores(con, params, queries)
    return read_linking(con, params, interesting, benign)


def build_scores(con: sqlfiles.Database, params: LinkingParams,
                 queries: Path | None = None) -> None:
    """The tables of `score_clusters`: scores, account decisions, attribution, the final
    clusters and their decisions, and `account_findings`."""
    db = sqlfiles.engine_for(con)
    files = linking_files(queries)
    _run_files(db, files, ("60_account_scores", "62_account_decisions", "65_attribution"), params)
    _draw_clusters(con, params)
    _run_files(db, files, ("70_clusters", "80_decisions", "90_account_findings"), params)


def read_linking(con: duckdb.DuckDBPyConnection, params: LinkingParams, interesting: int = 40,
                 benign: BenignChecksSection | None = None) -> LinkingResult:
    """What `build_scores` decided, read from its tables (on DuckDB)."""
    db = sqlfiles.engine_for(con)
    counts = db.query("SELECT count(*), count(*) FILTER (WHERE flagged) "
                      "FROM account_decisions").rows[0]
    clusters = read_clusters(con, interesting, benign)
    return LinkingResult(tuple(clusters), int(counts[1]), int(counts[0]), params)


def link_and_score(con: duckdb.DuckDBPyConnection, params: LinkingParams,
                   queries: Path | None = None) -> LinkingResult:
    """Clusters and scores with no cluster-scope heuristics in between (tests, tools)."""
    build_clusters(con, params, queries)
    return score_clusters(con, params, queries)
