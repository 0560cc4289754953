"""The typed, frozen context the dossier templates render: every value the templates show,
already formatted, neutralised and (in the public profile) pseudonymised.

Templates only lay these values out; they never compute, look anything up or see raw log
text. A missing attribute is an error (jinja StrictUndefined), not an empty cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forensics.report.fmt import size
from forensics.report.text import Clipped

if TYPE_CHECKING:  # validation.py builds its section from Note and Judgment below
    from forensics.report.validation import Validation


@dataclass(frozen=True)
class Cover:
    """The cover page."""

    title: str
    case_id: str
    period: str
    data_date: str  # UTC date of the last analysed request
    data_span: str
    marking: str
    privilege_banner: str | None
    dossier_version: str
    profile: str
    tool_version: str


@dataclass(frozen=True)
class Judgment:
    """One key judgment: a sentence (or two) and the exhibits it rests on."""

    text: str
    exhibits: tuple[str, ...]


@dataclass(frozen=True)
class InputFileRow:
    """One input file with its hash."""

    table: str
    path: str
    size: str
    sha256: str
    rows: str


@dataclass(frozen=True)
class TableCount:
    """Row accounting of one input table."""

    table: str
    rows_read: str
    excluded: str
    rows_analysed: str
    first_ts: str
    last_ts: str


@dataclass(frozen=True)
class Note:
    """A labelled remark: a data-quality issue, a skipped heuristic, an interpretation."""

    label: str
    text: str


@dataclass(frozen=True)
class Scope:
    """Section 3: what was analysed."""

    window: str
    data_dir: str
    files: tuple[InputFileRow, ...]
    files_total: int
    tables: tuple[TableCount, ...]
    interpretations: tuple[Note, ...]
    issues: tuple[Note, ...]
    skipped: tuple[Note, ...]
    totals: tuple[Note, ...]
    input_manifest_sha256: str


@dataclass(frozen=True)
class Figure:
    """A chart: numbered, with a caption saying what to see, as inline SVG markup."""

    number: int
    anchor: str
    title: str
    caption: str
    svg: str  # produced by charts.py from numbers, never from log text


@dataclass(frozen=True)
class Exhibit:
    """One evidence file: written beside the PDF and attached to it, with its Parquet copy
    (the same cells, none escaped; bound to the PDF by its SHA-256, never attached)."""

    id: str
    title: str
    description: str
    path: str  # relative to the output folder
    filename: str
    rows: int
    size: int
    sha256: str
    cluster_id: str | None
    attached: bool  # embedded in the PDF too (small enough), or bound to it by hash only
    parquet_path: str  # relative to the output folder
    parquet_size: int
    parquet_sha256: str

    @property
    def size_text(self) -> str:
        return size(self.size)

    @property
    def parquet_size_text(self) -> str:
        return size(self.parquet_size)


@dataclass(frozen=True)
class ClusterExhibits:
    """The exhibits of one described cluster (their ids), by what they hold."""

    accounts: str
    signals: str  # every fired (heuristic, account) row
    links: str
    requests: str  # the evidence requests

    @property
    def all(self) -> tuple[str, ...]:
        return (self.accounts, self.signals, self.links, self.requests)


@dataclass(frozen=True)
class SignalLine:
    """One heuristic that fired in a cluster."""

    heuristic_id: str
    title: str
    level: str
    accounts: int
    mean_score: str
    detail: str


@dataclass(frozen=True)
class FamilyBlock:
    """The heuristics of one signal family that fired in a cluster."""

    family: str
    signals: tuple[SignalLine, ...]


@dataclass(frozen=True)
class Sample:
    """One evidence request, its text clipped and neutralised (or masked)."""

    request_id: str
    ts: str
    account: str
    model: str
    user_agent: str
    settings: str
    heuristic: str
    system_prompt: Clipped | None
    prompt: Clipped
    response: Clipped | None


@dataclass(frozen=True)
class TemplateLine:
    """A prompt template of a cluster and how widely it is used."""

    rank: int
    share: str
    requests: int
    accounts: int
    accounts_overall: int
    owners_overall: int
    exemplar: Clipped


@dataclass(frozen=True)
class Check:
    """A benign explanation that was considered."""

    lookalike: str
    verdict: str  # "rejected" or "cannot be excluded"
    reason: str


@dataclass(frozen=True)
class MemberRow:
    """An account of a cluster (capped table; the full list is an exhibit)."""

    account: str
    org: str
    created: str
    requests: str
    tokens: str
    score: str
    heuristics: str
    core: str = "core"  # "core", or how many links separate it from the cluster's core


@dataclass(frozen=True)
class ClusterSection:
    """Section 4: one flagged cluster."""

    anchor: str
    cluster_id: str
    heading: str
    what_happened: str
    linked_by: tuple[str, ...]
    timeline: tuple[Note, ...]
    families: tuple[FamilyBlock, ...]
    capabilities: str
    attribution: tuple[str, ...]
    templates: tuple[TemplateLine, ...]
    samples: tuple[Sample, ...]
    checks: tuple[Check, ...]
    confidence: str
    confidence_text: str
    likelihood_text: str
    members: tuple[MemberRow, ...]
    members_total: int
    exhibits: ClusterExhibits
    graph: Figure | None  # None for a single account: there is nothing to link
    activity: Figure


@dataclass(frozen=True)
class InterestRow:
    """A cluster of interest that was not flagged, and why."""

    cluster_id: str
    accounts: int
    owners: int
    requests: str
    score: str
    likelihood: str
    families: str
    why_not: str


@dataclass(frozen=True)
class Reference:
    """One reference of a heuristic's catalogue entry: a source of the appendix's list (by
    key) or a file of the heuristic library."""

    key: str  # the source's key in the list of sources; "" for a file of the library
    label: str  # 'Anthropic (2026-02-23)', or the file's path
    note: str  # "" when the header gives none


@dataclass(frozen=True)
class SourceEntry:
    """One public document of the appendix's list of sources (queries/sources.yaml)."""

    key: str
    author: str
    title: str
    date: str
    url: str  # printed as text, never a link; "" when no public URL could be verified
    locator: str  # how to find it when there is no URL
    note: str


@dataclass(frozen=True)
class HeuristicEntry:
    """A heuristic of the library as run (methodology) and as described (catalogue)."""

    id: str
    title: str
    family: str
    level: str
    status: str
    weight: str
    benign: bool
    sha256: str
    params: tuple[Note, ...]
    outcome: str
    description: str
    rationale: str
    falsepositives: tuple[str, ...]
    references: tuple[Reference, ...]
    requires: str


@dataclass(frozen=True)
class Methodology:
    """Section 6: how the findings were produced."""

    heuristics: tuple[HeuristicEntry, ...]
    scoring: tuple[Note, ...]
    thresholds: tuple[Note, ...]
    versions: tuple[Note, ...]
    link_kinds: tuple[Note, ...] = ()  # label → null model of its test of chance
    # Every heuristic file as run, one after another (heuristics.sql beside the dossier and
    # attached to the PDF), so that the appendix shows headers, not pages of SQL.
    sql_file: str = "heuristics.sql"
    sql_text: str = ""
    sql_sha256: str = ""
    # The public documents the catalogue cites, by key (the appendix's list of sources).
    sources: tuple[SourceEntry, ...] = ()


@dataclass(frozen=True)
class ScaleRow:
    """One row of the ICD-203 scales."""

    term: str
    meaning: str


@dataclass(frozen=True)
class Reproducibility:
    """The appendix statement that lets anyone rerun the analysis."""

    command: str
    input_manifest_sha256: str
    source_date_epoch: int
    statement: str


@dataclass(frozen=True)
class TrendMeasure:
    """One figure of both periods (a count, or a capability's share) and its change."""

    measure: str
    before: str
    now: str
    change: str


@dataclass(frozen=True)
class TrendRow:
    """One cluster compared with the baseline period."""

    cluster_id: str
    status: str  # "continuing", "new" or "ended"
    now: str
    before: str
    accounts: str  # how its accounts fall in the other period


@dataclass(frozen=True)
class Trend:
    """The comparison with the previous period's findings (--baseline). The baseline is
    named by its period, case and hashes, never by the folder it was read from."""

    baseline: str  # period, case and manifest.json SHA-256 in one line
    period: str
    baseline_period: str
    baseline_case: str
    baseline_sha256: tuple[tuple[str, str], ...]  # (file, SHA-256) of its findings, manifest
    summary: str
    measures: tuple[TrendMeasure, ...]
    capabilities: tuple[TrendMeasure, ...]  # shares of the flagged clusters' requests
    rows: tuple[TrendRow, ...]


@dataclass(frozen=True)
class Dossier:
    """Everything the dossier template renders."""

    cover: Cover
    judgments: tuple[Judgment, ...]
    scope: Scope
    clusters: tuple[ClusterSection, ...]
    clusters_flagged_total: int
    clusters_omitted: int
    interest: tuple[InterestRow, ...]
    overview_figures: tuple[Figure, ...]
    methodology: Methodology
    limitations: tuple[str, ...]
    alternatives: tuple[Note, ...]
    glossary: tuple[Note, ...]
    likelihood_scale: tuple[ScaleRow, ...]
    confidence_scale: tuple[ScaleRow, ...]
    exhibits: tuple[Exhibit, ...]
    reproducibility: Reproducibility
    trend: Trend | None
    public: bool
    profile_note: str
    max_table_rows: int
    attach_max: str  # the largest exhibit embedded in the PDF, as text
    exhibit_text_chars: int  # characters of each log text field in a request exhibit
    validation: Validation  # the method's measured error rates and sources of error
