"""What the dossier's sections read: the run's results, the report options, how identifiers
are shown, which clusters are described, listed and charted, and the rows of the report
queries that more than one section reads, run once before any section is built."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics import resources
from forensics.config import RunConfig
from forensics.evidence import ClusterFinding
from forensics.heuristics import Heuristic, HeuristicRun
from forensics.ingest import IngestResult
from forensics.linking import LinkingResult
from forensics.report.prose import Prose, read_prose
from forensics.report.public import Pseudonymiser
from forensics.report.queries import ReportQueries
from forensics.report.text import short
from forensics.report.validation import Validation, validation_section

CHART_CLUSTERS = 6  # more lines than this make the overview charts unreadable
INTEREST_ROWS = 10
RELEASE_LOOKBACK_DAYS = 7



@dataclass(frozen=True)
class Options:
    """What the report needs besides the run's results."""

    max_clusters: int
    max_table_rows: int
    max_prompt_chars: int
    public_exemplar_chars: int
    source_date_epoch: int
    chart_progress: Callable[[str], None] = field(default=lambda _m: None)


@dataclass(frozen=True)
class ReportInputs:
    """The run as every section reads it (`read` runs the shared queries)."""

    q: ReportQueries
    config: RunConfig
    ingested: IngestResult
    runs: tuple[HeuristicRun, ...]
    linked: LinkingResult
    library: dict[str, Heuristic]  # by heuristic id
    ids: Pseudonymiser
    options: Options
    prose: Prose  # the fixed texts of the templates folder (templates/text/*.yaml)
    # The benchmark's figures, which the likelihood statements are held to.
    validation: Validation
    flagged_total: int
    reported: tuple[ClusterFinding, ...]  # the flagged clusters described, most severe first
    interest: tuple[ClusterFinding, ...]  # the clusters of interest listed
    charted: tuple[ClusterFinding, ...]  # the clusters the overview charts draw
    totals: dict[str, Any]  # totals.sql: requests, tokens, accounts, models, time span
    releases: list[tuple[str, Any]]  # (model, released_at) of the models released
    # How findings.parquet's flagged accounts fall against the flagged and the described
    # clusters (flagged_summary.sql): the dossier states their count, and lists those no
    # cluster exhibit does.
    flagged_accounts: dict[str, Any]
    # The small per-cluster queries, run once for every described cluster.
    timeline_rows: dict[str, dict[str, Any]]
    template_rows: list[dict[str, Any]]
    creation_rows: list[dict[str, Any]]  # also for the charted clusters
    pivots: dict[str, list[dict[str, Any]]]

    @classmethod
    def read(cls, q: ReportQueries, config: RunConfig, ingested: IngestResult,
             runs: Sequence[HeuristicRun], linked: LinkingResult,
             library: Sequence[Heuristic], ids: Pseudonymiser,
             options: Options) -> ReportInputs:
        # A malformed text or validation file fails here, before any query runs.
        prose = read_prose(resources.templates_dir(config.templates_dir))
        validation = validation_section(linked.params)
        flagged = linked.flagged_clusters()
        reported = flagged[: options.max_clusters]
        interest = tuple(c for c in linked.clusters if not c.flagged)[:INTEREST_ROWS]
        charted = reported[:CHART_CLUSTERS] if reported else interest[:3]
        described = [c.cluster_id for c in reported]
        # The one table the charts and totals read (see activity.sql), and the described
        # members' accounts rows and links the cluster exhibits read (member_accounts.sql,
        # member_links.sql).
        q.create("activity", clusters=sorted({*described, *(c.cluster_id for c in charted)}))
        q.create("member_accounts", clusters=described)
        q.create("member_links", clusters=described)
        totals = q.rows("totals")[0]
        releases = [(r["model"], r["released_at"]) for r in q.rows(
            "model_releases", lookback_days=RELEASE_LOOKBACK_DAYS)]
        flagged_accounts = q.rows("flagged_summary", clusters=described)[0]
        timeline_rows = {r["cluster_id"]: r for r in q.rows("cluster_timeline",
                                                            clusters=described)}
        template_rows = q.rows("cluster_templates", clusters=described, top=3)
        creation_rows = q.rows(
            "account_creation", clusters=sorted({*described, *(c.cluster_id for c in charted)}))
        pivots: dict[str, list[dict[str, Any]]] = {}
        if releases and described:
            for r in q.rows("pivot_after_release", clusters=described,
                            models=[m for m, _ in releases]):
                pivots.setdefault(r["cluster_id"], []).append(r)
        return cls(q=q, config=config, ingested=ingested, runs=tuple(runs), linked=linked,
                   library={h.id: h for h in library}, ids=ids, options=options,
                   prose=prose, validation=validation, flagged_total=len(flagged),
                   reported=reported, interest=interest, charted=charted, totals=totals,
                   releases=releases, flagged_accounts=flagged_accounts,
                   timeline_rows=timeline_rows,
                   template_rows=template_rows, creation_rows=creation_rows, pivots=pivots)

    # -- identifiers as shown ---------------------------------------------------------------

    def cid(self, cluster_id: str) -> str:
        """A cluster id as shown: ids derive from an md5 of a member's account id, so the
        public profile shows a keyed pseudonym instead."""
        return self.ids("cluster", cluster_id) or cluster_id

    def account(self, value: str | None) -> str:
        return short(self.ids("account", value), 64)

    def local_path(self, path: Path, placeholder: str) -> str:
        """A folder on the analyst's machine as shown: as given, or (public profile) a
        placeholder, since where a case's files lie is no part of a published finding."""
        return placeholder if self.ids.public else short(str(path), 120)

    def key(self, kind: str, value: str | None) -> str:
        """A link key as shown: pseudonymised by its kind, scrubbed if composite."""
        if value is None:
            return "—"
        composite = kind in ("creation_burst", "indicator_network")  # keys quoting identifiers
        return short(self.ids.link_key(kind, value), 80 if composite else 64)
