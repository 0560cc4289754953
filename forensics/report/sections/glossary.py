"""The Glossary section: the terms (templates/text/glossary.yaml), the ICD-203 likelihood scale
as the method reads a score (evidence.LIKELIHOOD) and the confidence scale."""

from __future__ import annotations

from dataclasses import asdict

from forensics.evidence import LIKELIHOOD
from forensics.report.context import Note, ScaleRow
from forensics.report.inputs import ReportInputs


def glossary(inputs: ReportInputs) -> tuple[Note, ...]:
    """Term → definition, in the text file's order."""
    return tuple(Note(term, text)
                 for term, text in inputs.prose.fill_all(inputs.prose.glossary.terms).items())


def likelihood_scale() -> tuple[ScaleRow, ...]:
    """Each ICD-203 term with the range of scores the method reads as it."""
    rows = []
    low = 0.0
    for bound, term in LIKELIHOOD:
        high = min(bound, 1.0)
        rows.append(ScaleRow(term, f"{low:.0%}–{high:.0%}" if high < 1 else
                             f"{low:.0%} or more"))
        low = bound
    return tuple(rows)


def confidence_scale(inputs: ReportInputs) -> tuple[ScaleRow, ...]:
    """Each confidence level and when the dossier assigns it (the text may name the run's
    parameters)."""
    levels = inputs.prose.fill_all(inputs.prose.glossary.confidence_scale,
                                   **asdict(inputs.linked.params))
    return tuple(ScaleRow(level, text) for level, text in levels.items())
