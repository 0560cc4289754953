"""The Limitations section: the method's limits (templates/text/limitations.yaml, with the
lexicon scan's limits filled in from the constants the scan binds), those of this run (the
heuristics it could not run and the links linking could not draw without them, the clusters
beyond the cap), and the alternative hypotheses every finding weighs."""

from __future__ import annotations

from forensics.features import SCAN_CHARS, SCAN_TAIL_CHARS
from forensics.linking import LINKING_ROLES
from forensics.report import fmt as f
from forensics.report.context import Note
from forensics.report.inputs import ReportInputs


def limitations(inputs: ReportInputs, clusters_exhibit: str) -> tuple[str, ...]:
    """The method's limits, then this run's; `clusters_exhibit` is the exhibit that lists
    every cluster (those beyond the cap included)."""
    prose = inputs.prose
    fixed = tuple(prose.fill(t, scan_chars=SCAN_CHARS, scan_tail_chars=SCAN_TAIL_CHARS)
                  for t in prose.limitations.limitations)
    return (*fixed, *_run_limitations(inputs, clusters_exhibit))


def _run_limitations(inputs: ReportInputs, clusters_exhibit: str) -> list[str]:
    out = []
    skipped = [r.id for r in inputs.runs if r.skipped]
    if skipped:
        out.append(f"{f.plural(len(skipped), 'heuristic')} could not run because the export "
                   f"lacks the columns they need ({', '.join(skipped)}); the behaviours they "
                   f"detect were not examined.")
    # A skipped heuristic that linking draws links from takes those links with it.
    for hid in skipped:
        h = inputs.library.get(hid)
        for role in h.meta.provides if h else ():
            use = LINKING_ROLES[role]
            if use.draws:
                out.append(f"As {hid} could not run, linking drew no {use.draws} from it "
                           f"(linking {use.use}).")
    if inputs.flagged_total > len(inputs.reported):
        out.append(f"Only the {len(inputs.reported)} most severe flagged clusters are "
                   f"described (config report.max_clusters); the others are in the cluster "
                   f"exhibit {clusters_exhibit}.")
    return out


def alternatives(inputs: ReportInputs) -> tuple[Note, ...]:
    """The benign look-alikes, each with what separates it from a campaign."""
    texts = inputs.prose.fill_all(inputs.prose.limitations.alternatives)
    return tuple(Note(lookalike, text) for lookalike, text in texts.items())
