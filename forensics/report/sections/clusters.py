"""The Findings section's part for each described cluster: what happened, how its accounts are
linked, its timeline, the heuristics that fired by family, its prompt templates, sample
requests, the benign explanations weighed, its confidence and its accounts."""

from __future__ import annotations

from typing import Any

from forensics.evidence import ClusterFinding
from forensics.report import fmt as f
from forensics.report.context import (
    Check,
    ClusterExhibits,
    ClusterSection,
    FamilyBlock,
    MemberRow,
    Note,
    Sample,
    SignalLine,
    TemplateLine,
)
from forensics.report.evidence_requests import FAMILY_ORDER, EvidenceRequests, sample_ids
from forensics.report.figures import FigureQueue, graph_figure, timeline_figure
from forensics.report.inputs import ReportInputs
from forensics.report.sections.wording import capability, confidence_reason, it_is
from forensics.report.text import Clipped, clip, short

TEMPLATE_EXEMPLAR_CHARS = 160  # a template's opening as shown in the internal profile


def cluster_section(inputs: ReportInputs, figures: FigureQueue, c: ClusterFinding,
                    evidence: EvidenceRequests, exhibits: ClusterExhibits) -> ClusterSection:
    """One described cluster, citing its exhibits."""
    inputs.options.chart_progress(f"cluster {c.cluster_id}")
    shown = inputs.cid(c.cluster_id)
    # The member table shows the first rows, in both profiles; the note under it counts the
    # cluster's accounts, all of which are in the accounts exhibit.
    accounts = inputs.q.rows("exhibit_accounts", cluster=c.cluster_id,
                             limit=inputs.options.max_table_rows)
    linked_by = tuple(link.sentence(inputs.key) for link in c.links) + tuple(
        x for x in (c.structure_sentence(),) if x)
    # A one-account cluster has no links: a graph of one dot would only fill a page.
    graph = graph_figure(inputs, figures, c) if c.accounts > 1 else None
    return ClusterSection(
        anchor=f"cluster-{shown}", cluster_id=shown,
        heading=f"Cluster {shown}: {f.plural(c.accounts, 'account')}, "
                f"{f.plural(c.owners, 'owner')}, {c.confidence} confidence",
        what_happened=_what_happened(inputs, c), linked_by=linked_by,
        timeline=_timeline(inputs, c), families=_families(inputs, c),
        capabilities=", ".join(f"{capability(name)} {f.pct(s)}" for name, s in c.capabilities),
        attribution=_attribution(inputs, c, exhibits), templates=_templates(inputs, c),
        samples=_samples(inputs, c, evidence),
        checks=tuple(Check(b.lookalike, "rejected" if b.rejected else "cannot be excluded",
                           b.reason) for b in c.benign_checks),
        confidence=c.confidence, confidence_text=_confidence_text(inputs, c),
        likelihood_text=_likelihood_text(inputs, c),
        members=_members(inputs, accounts), members_total=c.accounts,
        exhibits=exhibits, graph=graph, activity=timeline_figure(inputs, figures, c))


def _what_happened(inputs: ReportInputs, c: ClusterFinding) -> str:
    total = inputs.totals["requests"]
    share = c.requests / total if total else 0
    caps = [(name, s) for name, s in c.capabilities if name != "other"][:3]
    cap_text = f.listing([f"{capability(name)} ({f.pct(s)})"
                          for name, s in caps]) or "no recognised capability class"
    return (f"Between {f.ts(c.first_seen)} and {f.ts(c.last_seen)}, "
            f"{f.plural(c.accounts, 'account')} belonging to "
            f"{f.plural(c.owners, 'owner')} sent {f.n(c.requests)} requests "
            f"({f.n(c.tokens)} tokens, {f.pct(share, 1)} of all analysed requests). "
            f"The traffic concentrated on {cap_text}. Heuristics fired in "
            f"{f.plural(len(c.families), 'family', 'families')} of evidence "
            f"({f.listing(list(c.families))}).")


def _attribution(inputs: ReportInputs, c: ClusterFinding,
                 exhibits: ClusterExhibits) -> tuple[str, ...]:
    return tuple(
        f"Analyst-supplied indicators tie {a.accounts} of {c.accounts} accounts "
        f"({f.pct(a.share)}) to {short(a.actor, 60)}: "
        f"{f.listing([short(inputs.ids.scrub(i), 80) for i in a.indicators[:4]])}"
        f"{' and more' if len(a.indicators) > 4 else ''} [{exhibits.accounts}]."
        for a in c.attribution)


def _confidence_text(inputs: ReportInputs, c: ClusterFinding) -> str:
    kept = [b.lookalike for b in c.benign_checks if not b.rejected]
    # Where the benchmark holds the likelihood down, the level is the method's rule for
    # the flag, not confidence in the lowered judgment.
    _, held = inputs.validation.likelihood(c.likelihood, c.confidence)
    return ((f"By the method's rule this flag is of {c.confidence} confidence: " if held else
             f"We have {c.confidence} confidence in this judgment: ")
            + f"{confidence_reason(c)}"
            + (f" Not excluded: {f.listing(kept)}." if kept else
               " Every benign look-alike considered was rejected."))


def _likelihood_text(inputs: ReportInputs, c: ClusterFinding) -> str:
    """How likely it is that the cluster harvested outputs. No confidence word in it
    (ICD-203): the level is named elsewhere."""
    term, held = inputs.validation.likelihood(c.likelihood, c.confidence)
    if held:
        # The score is not a calibrated probability; the benchmark's precision for findings
        # like this one is what a reader may rely on, account by account.
        one = "this account was" if c.accounts == 1 else "any one of these accounts was"
        return (f"{it_is(term)} that {one} used to harvest model outputs for training: on the "
                f"method's validation benchmark, {inputs.validation.precision_of(c.confidence)} "
                f"of the accounts flagged as these were campaign accounts (Method validation). "
                f"The cluster score, {c.score:.2f}, would alone read as {c.likelihood}; it is "
                f"not a calibrated probability.")
    actors = "these accounts acted together" if c.accounts > 1 else "this account was used"
    return (f"{it_is(term)} (cluster score {c.score:.2f}) that {actors} to harvest model "
            f"outputs for training.")


def _members(inputs: ReportInputs, accounts: list[dict[str, Any]]) -> tuple[MemberRow, ...]:
    return tuple(MemberRow(
        account=inputs.account(r["account_id"]),
        org=short(inputs.ids("org", r["org_id"]), 40),
        created=f.ts_short(r["created_at"]), requests=f.n(r["requests"]),
        tokens=f.n(r["tokens"]), score=f"{r['score']:.2f}",
        heuristics=_fired(r["families"], r["heuristics"]),
        core="core" if not r["core_hops"] else f.plural(int(r["core_hops"]), "link"))
        for r in accounts)


def _fired(families: str | None, heuristics: str | None) -> str:
    """'content, structure · 6 heuristics' for the capped accounts table (the exhibit lists
    the heuristics by name)."""
    count = len([h for h in (heuristics or "").split(";") if h])
    fams = ", ".join(x for x in (families or "").split(";") if x) or "no family"
    return f"{fams} · {f.plural(count, 'heuristic')}" if count else "—"


def _families(inputs: ReportInputs, c: ClusterFinding) -> tuple[FamilyBlock, ...]:
    blocks = []
    present = sorted({s.family for s in c.signals},
                     key=lambda x: FAMILY_ORDER.index(x) if x in FAMILY_ORDER else 9)
    library = inputs.library
    for family in present:
        lines = tuple(SignalLine(
            heuristic_id=s.heuristic_id,
            title=library[s.heuristic_id].meta.title if s.heuristic_id in library
            else s.heuristic_id,
            level=library[s.heuristic_id].meta.level if s.heuristic_id in library else "—",
            accounts=s.accounts, mean_score=f"{s.mean_score:.2f}",
            detail=short(inputs.ids.scrub(s.example_detail), 240))
            for s in c.signals if s.family == family)
        blocks.append(FamilyBlock(family, lines))
    return tuple(blocks)


def _timeline(inputs: ReportInputs, c: ClusterFinding) -> tuple[Note, ...]:
    r = inputs.timeline_rows.get(c.cluster_id)
    notes: list[Note] = []
    if r:
        if r["first_created"] is not None:
            span = r["last_created"] - r["first_created"]
            notes.append(Note("Accounts created",
                              f"{f.ts(r['first_created'])} – {f.ts(r['last_created'])} "
                              f"({f.plural(r['with_creation'], 'account')} within "
                              f"{f.duration(span)})"))
        notes.append(Note("First request", f.ts(r["first_request"])))
        notes.append(Note("Busiest day", f"{f.day(r['peak_day'])}: "
                                         f"{f.n(r['peak_requests'])} requests "
                                         f"({f.pct(r['peak_requests'] / r['requests'])} of "
                                         f"the cluster's)"))
        notes.append(Note("Active days", f.n(r["active_days"])))
    for p in inputs.pivots.get(c.cluster_id, []):
        if not p["after_requests"]:
            continue
        share = p["after_on_model"] / p["after_requests"]
        first = p["first_on_model"]
        lag = f"; first request to it {f.duration(first - p['released_at'])} after release" \
            if first is not None and first >= p["released_at"] else ""
        notes.append(Note(f"{short(p['model'], 40)} released {f.ts(p['released_at'])}",
                          f"{f.pct(share)} of the cluster's requests in the next 24 hours "
                          f"went to it{lag}"))
    if r:
        notes.append(Note("Last request", f.ts(r["last_request"])))
    return tuple(notes)


def _templates(inputs: ReportInputs, c: ClusterFinding) -> tuple[TemplateLine, ...]:
    limit = inputs.options.public_exemplar_chars if inputs.ids.public else TEMPLATE_EXEMPLAR_CHARS
    out = []
    for r in inputs.template_rows:
        if r["cluster_id"] != c.cluster_id:
            continue
        exemplar = (clip(r["head"], limit) if limit > 0 else
                    Clipped("", len(r["head"] or ""), 0, masked=True))
        out.append(TemplateLine(rank=int(r["rank"]), share=f.pct(float(r["share"])),
                                requests=int(r["requests"]), accounts=int(r["accounts"]),
                                accounts_overall=int(r["accounts_overall"]),
                                owners_overall=int(r["owners_overall"]), exemplar=exemplar))
    return tuple(out)


def _samples(inputs: ReportInputs, c: ClusterFinding,
             evidence: EvidenceRequests) -> tuple[Sample, ...]:
    out = []
    limit = inputs.options.max_prompt_chars
    for rid, heuristic in sample_ids(c):
        r = evidence.rows.get(rid)
        if r is None:
            continue
        settings = ", ".join(x for x in (
            f"temperature {r['temperature']}" if r["temperature"] is not None else "",
            f"max_tokens {r['max_tokens']}" if r["max_tokens"] is not None else "",
            f"stop {short(r['stop_reason'], 20)}" if r["stop_reason"] else "",
            f"{f.n(r['input_tokens'])} → {f.n(r['output_tokens'])} tokens") if x)
        out.append(Sample(
            request_id=short(inputs.ids("request", r["request_id"]), 64), ts=f.ts(r["ts"]),
            account=inputs.account(r["account_id"]), model=short(r["model"], 40),
            user_agent=short(inputs.ids("user_agent", r["user_agent"]), 100),
            settings=settings, heuristic=heuristic,
            system_prompt=_display(inputs, r["system_prompt"], r["system_prompt_chars"],
                                   limit // 2),
            prompt=_display(inputs, r["prompt"], r["prompt_chars"], limit) or clip("", 1),
            response=_display(inputs, r["response"], r["response_chars"], limit // 2)))
    return tuple(out)


def _display(inputs: ReportInputs, text: str | None, original: int | None,
             limit: int) -> Clipped | None:
    """Log text for the page: clipped and neutralised, or masked in the public profile."""
    if text is None:
        return None
    if inputs.ids.public:
        return Clipped("", int(original or len(text)), 0, masked=True)
    return clip(text, limit, original_chars=original)
