"""The Methodology section and the Appendix's heuristic catalogue and sources: each heuristic
as run and as its header describes it, the SQL of every one (heuristics.sql), the decision
rules and the meaning of each parameter (templates/text/methodology.yaml, filled in with the
run's values), the link kinds' null models and the versions."""

from __future__ import annotations

import hashlib
from dataclasses import asdict

from forensics import manifest, resources
from forensics.bibliography import Citation, Source
from forensics.evidence import FDR, LINK_KINDS
from forensics.features import FUNCTIONS_FILE
from forensics.heuristics import HeuristicRun
from forensics.report import fmt as f
from forensics.report.context import (
    HeuristicEntry,
    Methodology,
    Note,
    Reference,
    SourceEntry,
)
from forensics.report.inputs import ReportInputs
from forensics.report.text import short


def methodology(inputs: ReportInputs) -> Methodology:
    """How the findings were produced, with this run's heuristics, parameters and versions."""
    link_kinds = tuple(Note(k.label, k.null_model) for k in LINK_KINDS.values())
    versions = tuple(Note(k, v) for k, v in sorted(manifest.versions(
        inputs.config.case.engine.name).items()))
    sql_text = heuristics_sql(inputs)
    return Methodology(tuple(_entry(inputs, r) for r in inputs.runs), parameters(inputs),
                       thresholds(inputs), versions, link_kinds, sql_text=sql_text,
                       sql_sha256=hashlib.sha256(sql_text.encode("utf-8")).hexdigest(),
                       sources=_sources(inputs))


def parameters(inputs: ReportInputs) -> tuple[Note, ...]:
    """Each scoring and clustering parameter: its value — what it means."""
    text = inputs.prose.methodology
    return tuple(
        Note(name, f"{value!r} — "
                   f"{inputs.prose.fill(text.parameters.get(name, text.unknown_parameter))}")
        for name, value in asdict(inputs.linked.params).items())


def thresholds(inputs: ReportInputs) -> tuple[Note, ...]:
    """Each decision and its rule, with the run's parameters filled in."""
    rules = inputs.prose.fill_all(inputs.prose.methodology.thresholds,
                                  **asdict(inputs.linked.params), fdr=FDR)
    return tuple(Note(decision, rule) for decision, rule in rules.items())


def heuristics_sql(inputs: ReportInputs) -> str:
    """Every heuristic file as run, one after another, each under a line naming it and its
    hash (heuristics.sql beside the dossier)."""
    # The functions the heuristics call come first: their SQL is not complete without.
    functions = (resources.queries_part("features", inputs.config.queries_dir)
                 / f"{FUNCTIONS_FILE}.sql").read_bytes()
    parts = [f"-- ==== functions the heuristics call: features/{FUNCTIONS_FILE}.sql "
             f"(file sha256 {hashlib.sha256(functions).hexdigest()}) ====\n"
             f"{functions.decode('utf-8').rstrip()}\n"]
    for r in inputs.runs:
        h = inputs.library.get(r.id)
        if h is not None:
            parts.append(f"-- ==== {r.id} (file sha256 {r.sha256}) ====\n"
                         f"{h.path.read_text(encoding='utf-8').rstrip()}\n")
    return "\n".join(parts)


def _entry(inputs: ReportInputs, r: HeuristicRun) -> HeuristicEntry:
    """A heuristic as run (its outcome and parameters) and as its header describes it."""
    h = inputs.library.get(r.id)
    meta = h.meta if h else None
    outcome = (f"skipped: {short(r.skipped, 200)}" if r.skipped else
               f"fired for {f.plural(r.fired, 'account')}")
    return HeuristicEntry(
        id=r.id, title=meta.title if meta else r.id, family=r.family,
        level=meta.level if meta else "—", status=meta.status if meta else "—",
        weight=f"{meta.weight:g}" if meta else "—",
        benign=bool(meta.benign) if meta else False, sha256=r.sha256,
        params=tuple(Note(k, short(repr(v), 80)) for k, v in sorted(r.params.items())),
        outcome=outcome,
        description=meta.description.strip() if meta else "",
        rationale=meta.rationale.strip() if meta else "",
        falsepositives=tuple(meta.falsepositives) if meta else (),
        references=tuple(_reference(c) for c in h.citations) if h else (),
        requires="; ".join(f"{t}: {', '.join(c)}" for t, c in meta.requires.items())
        if meta else "")


def _sources(inputs: ReportInputs) -> tuple[SourceEntry, ...]:
    """Every public document the catalogue cites, once, in the order of their keys."""
    cited: dict[str, Source] = {}
    for r in inputs.runs:
        h = inputs.library.get(r.id)
        for c in h.citations if h else ():
            if c.source is not None:
                cited[c.source.key] = c.source
    return tuple(SourceEntry(key=s.key, author=s.author, title=s.title, date=s.date,
                             url=s.url or "", locator=s.locator or "", note=s.note or "")
                 for _, s in sorted(cited.items()))


def _reference(c: Citation) -> Reference:
    """A citation of a heuristic's header as its catalogue entry prints it: the source's key
    and author (date), or the library file's path."""
    if c.source is None:
        return Reference(key="", label=c.target, note=c.note or "")
    return Reference(key=c.source.key, label=c.source.label(), note=c.note or "")
