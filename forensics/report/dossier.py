"""The dossier's context, built from the run's report inputs section by section
(report/sections/, report/figures.py): the exhibits first, since the sections cite them.

Every number shown comes from the linking result or from a `queries/report/*.sql` query;
every piece of log text passes through `text.clip`/`text.short` (neutralised, clipped) and,
in the public profile, identifiers pass through the Pseudonymiser. The fixed prose comes from
the templates folder (report/prose.py).
"""

from __future__ import annotations

from forensics.report import fmt as f
from forensics.report.cluster_exhibits import write_exhibits
from forensics.report.context import Dossier, Trend
from forensics.report.evidence_requests import EXHIBIT_TEXT_CHARS, read_evidence_requests
from forensics.report.exhibits import ATTACH_MAX_BYTES, ExhibitWriter
from forensics.report.figures import FigureQueue, overview_figures
from forensics.report.inputs import ReportInputs
from forensics.report.sections.appendix import reproducibility
from forensics.report.sections.clusters import cluster_section
from forensics.report.sections.cover import cover, profile_note
from forensics.report.sections.glossary import confidence_scale, glossary, likelihood_scale
from forensics.report.sections.judgments import interest_row, key_judgments
from forensics.report.sections.limitations import alternatives, limitations
from forensics.report.sections.methodology import methodology
from forensics.report.sections.scope import scope


def build_dossier(inputs: ReportInputs, writer: ExhibitWriter,
                  trend: Trend | None = None) -> Dossier:
    """The whole dossier. The overview charts' queries run first, so that their drawing
    overlaps the rest; then the exhibits (their ids and hashes are cited), then the sections.
    `trend` is the comparison with --baseline (report/trend.py)."""
    with FigureQueue() as figures:
        overview = overview_figures(inputs, figures)
        evidence = read_evidence_requests(inputs)
        exhibits = write_exhibits(inputs, writer, evidence)
        clusters = tuple(cluster_section(inputs, figures, c, evidence,
                                         exhibits.by_cluster[c.cluster_id])
                         for c in inputs.reported)
        clusters, overview = figures.numbered(clusters, overview)
    validation = inputs.validation
    return Dossier(
        cover=cover(inputs),
        judgments=(*key_judgments(inputs, exhibits),
                   *validation.judgments([c.confidence for c in inputs.reported])),
        scope=scope(inputs),
        clusters=clusters,
        clusters_flagged_total=inputs.flagged_total,
        clusters_omitted=inputs.flagged_total - len(inputs.reported),
        interest=tuple(interest_row(inputs, c) for c in inputs.interest),
        overview_figures=overview,
        methodology=methodology(inputs),
        limitations=limitations(inputs, exhibits.clusters),
        alternatives=alternatives(inputs),
        glossary=glossary(inputs),
        likelihood_scale=likelihood_scale(),
        confidence_scale=confidence_scale(inputs),
        exhibits=tuple(writer.written),
        reproducibility=reproducibility(inputs, trend),
        trend=trend,
        public=inputs.ids.public,
        profile_note=profile_note(inputs),
        max_table_rows=inputs.options.max_table_rows,
        attach_max=f.size(ATTACH_MAX_BYTES),
        exhibit_text_chars=EXHIBIT_TEXT_CHARS,
        validation=validation,
    )
