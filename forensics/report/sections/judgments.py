"""The key judgments (bottom line up front) and the table of clusters of interest.

Whether a cluster or an account is flagged, at which confidence and why is decided once, in
SQL (queries/linking/62_account_decisions.sql, 80_decisions.sql); these sentences read those
decisions (ClusterFinding.flagged, .confidence, .decision; account_findings through
flagged_summary.sql) and never test a threshold themselves.
"""

from __future__ import annotations

from forensics.evidence import KIND_LABELS, ClusterFinding
from forensics.linking import LinkingParams
from forensics.report import fmt as f
from forensics.report.cluster_exhibits import ExhibitIds
from forensics.report.context import ClusterExhibits, InterestRow, Judgment
from forensics.report.inputs import ReportInputs
from forensics.report.sections.wording import capability, confidence_reason, it_is
from forensics.report.text import neutralise, short

JUDGED_CLUSTERS = 3  # clusters with a likelihood and a confidence judgment of their own
PIVOT_SHARE = 0.3  # share of a cluster's traffic on a new model, in 24 h, worth a judgment


def key_judgments(inputs: ReportInputs, exhibits: ExhibitIds) -> tuple[Judgment, ...]:
    """The key judgments, each citing the exhibits it rests on (the validation section adds
    the benchmark's)."""
    if not inputs.reported:
        return _negative_result(inputs, exhibits)
    cited = {c.cluster_id: exhibits.by_cluster[c.cluster_id] for c in inputs.reported}
    accounts_cited = tuple(cited[c.cluster_id].accounts for c in inputs.reported)
    out = [_flagged_total(inputs, accounts_cited),
           *_flagged_accounts(inputs, accounts_cited, exhibits)]
    for c in inputs.reported[:JUDGED_CLUSTERS]:
        out += _cluster_judgments(inputs, c, cited[c.cluster_id])
    out += _capabilities(inputs, cited)
    out += [Judgment(
        f"Analyst-supplied indicators tie {a.accounts} of {c.accounts} accounts of "
        f"{inputs.cid(c.cluster_id)} to {short(a.actor, 60)}; the attribution rests on "
        f"those indicators alone.", (cited[c.cluster_id].accounts,))
        for c in inputs.reported for a in c.attribution[:1]]
    out += [Judgment(
        f"Cluster {inputs.cid(c.cluster_id)} sent "
        f"{f.pct(p['after_on_model'] / p['after_requests'])} of its traffic to "
        f"{short(p['model'], 40)} within 24 hours of its release.",
        (cited[c.cluster_id].requests,))
        for c in inputs.reported for p in inputs.pivots.get(c.cluster_id, [])
        if p["after_requests"] and p["after_on_model"] / p["after_requests"] >= PIVOT_SHARE]
    if inputs.flagged_total > len(inputs.reported):
        out.append(Judgment(
            f"{f.plural(inputs.flagged_total - len(inputs.reported), 'further flagged cluster')}"
            f" exceeded the dossier's cap of {inputs.options.max_clusters} and appear only in "
            f"the cluster exhibit.", (exhibits.clusters,)))
    return tuple(out)


def _negative_result(inputs: ReportInputs, exhibits: ExhibitIds) -> tuple[Judgment, ...]:
    """No cluster flagged: how much was examined, how far the negative result holds."""
    t = inputs.totals
    ran = sum(r.skipped is None for r in inputs.runs)
    skipped = sum(r.skipped is not None for r in inputs.runs)
    out = [Judgment(
        f"No cluster of linked accounts met the criteria for a finding (Methodology, "
        f"Thresholds: Cluster flagged) in {_period(inputs)}, across {f.n(t['requests'])} "
        f"requests from {f.plural(t['accounts'], 'account')}.", (exhibits.clusters,)),
        *_flagged_accounts(inputs, (), exhibits)]
    level = "low" if skipped else "moderate"
    reason = (f"{f.plural(skipped, 'heuristic')} could not run for missing columns"
              if skipped else "the heuristics cover only the behaviours they were "
                              "written for")
    out.append(Judgment(
        f"We have {level} confidence in this negative result: {ran} heuristics ran, "
        f"and {reason}.", ()))
    if inputs.interest:
        out.append(Judgment(
            f"{f.plural(len(inputs.interest), 'cluster')} of interest scored above the "
            f"interest threshold without meeting the criteria; the Findings section "
            f"lists them for review.", (exhibits.clusters,)))
    return tuple(out)


def _period(inputs: ReportInputs) -> str:
    return neutralise(inputs.config.window.describe())


def _flagged_total(inputs: ReportInputs, accounts_cited: tuple[str, ...]) -> Judgment:
    """How many clusters were flagged, and the traffic of those described."""
    reported = inputs.reported
    accounts = sum(c.accounts for c in reported)
    requests = sum(c.requests for c in reported)
    tokens = sum(c.tokens for c in reported)
    total = inputs.totals["requests"]
    share = requests / total if total else 0.0
    flagged = inputs.flagged_total
    flagged_accounts = sum(c.accounts for c in inputs.linked.flagged_clusters())
    return Judgment(
        f"{f.plural(flagged, 'cluster')} of linked accounts "
        f"({f.plural(flagged_accounts, 'account')}) "
        f"{'was' if flagged == 1 else 'were'} flagged as distillation campaigns "
        f"in {_period(inputs)}. The "
        f"{'cluster described here' if len(reported) == 1 else 'clusters described here'}"
        f" sent {f.n(requests)} requests ({f.pct(share, 1)} of analysed traffic) and "
        f"{f.n(tokens)} tokens from {f.plural(accounts, 'account')}.",
        accounts_cited)


def _cluster_judgments(inputs: ReportInputs, c: ClusterFinding,
                       ex: ClusterExhibits) -> list[Judgment]:
    """How likely it is that the cluster harvested outputs, and the confidence in that."""
    shown = inputs.cid(c.cluster_id)
    kinds = f.listing([KIND_LABELS.get(link.kind, link.kind)
                       for link in c.links[:3]]) or "common ownership"
    term, lowered = inputs.validation.likelihood(c.likelihood, c.confidence)
    evidence = f"{f.listing(list(c.families))} heuristics fired, and its accounts share {kinds}"
    if lowered:
        one = "its account" if c.accounts == 1 else "any one of its accounts"
        text = (f"Cluster {shown} ({f.plural(c.accounts, 'account')}, "
                f"{f.plural(c.owners, 'owner')}) was flagged: {evidence}. On the "
                f"method's validation benchmark "
                f"{inputs.validation.precision_of(c.confidence)} of the accounts flagged as "
                f"these were campaign accounts, so {it_is(term).lower()} that {one} "
                f"harvested model outputs for training; each account's own evidence "
                f"has to be read.")
    else:
        text = (f"{it_is(term)} that cluster {shown} "
                f"({f.plural(c.accounts, 'account')}, {f.plural(c.owners, 'owner')}) "
                f"harvested model outputs for training: {evidence}.")
    level = (f"By the method's rule the flag on {shown} is of {c.confidence} confidence: "
             if lowered else f"We have {c.confidence} confidence in the judgment on {shown}: ")
    return [Judgment(text, (ex.accounts, ex.signals, ex.links)),
            Judgment(level + confidence_reason(c), (ex.signals,))]


def _capabilities(inputs: ReportInputs,
                  cited: dict[str, ClusterExhibits]) -> list[Judgment]:
    """The capabilities the described clusters' traffic targeted most."""
    requests = sum(c.requests for c in inputs.reported)
    caps: dict[str, float] = {}
    for c in inputs.reported:
        for name, share in c.capabilities:
            caps[name] = caps.get(name, 0.0) + share * c.requests
    top = sorted(((v / requests, k) for k, v in caps.items() if k != "other"),
                 reverse=True)[:3] if requests else []
    if not top:
        return []
    return [Judgment(
        f"The flagged traffic targeted chiefly "
        f"{f.listing([f'{capability(k)} ({f.pct(v)})' for v, k in top])}"
        f" — the capabilities most valuable for training a competing model.",
        tuple(cited[c.cluster_id].signals for c in inputs.reported[:JUDGED_CLUSTERS]))]


def _flagged_accounts(inputs: ReportInputs, cluster_exhibits: tuple[str, ...],
                      exhibits: ExhibitIds) -> list[Judgment]:
    """The number of flagged accounts, when the flagged clusters' sizes do not give it:
    some accounts were flagged in clusters that were not, some members of flagged clusters
    were not flagged, or some flagged accounts are in no described cluster (then listed in
    the flagged-accounts exhibit). Every count is flagged_summary.sql's."""
    s = inputs.flagged_accounts
    total, alone, outside = s["flagged"], s["in_unflagged_clusters"], s["outside_described"]
    unflagged = s["members_not_flagged"]
    if not (alone or unflagged or outside):
        return []
    if alone:
        where = f"in {'a cluster' if alone == 1 else 'clusters'} that {_were(alone)} not flagged"
        how = _how_flagged(alone, s["in_unflagged_clusters_on_own_evidence"])
        text = (f"In all, {f.plural(total, 'account')} {_were(total)} flagged: "
                f"{f.n(s['in_flagged_clusters'])} in flagged clusters, and {f.n(alone)} "
                f"{where}, {how}." if s["in_flagged_clusters"] else
                f"{f.plural(alone, 'account')} {_were(alone)} nevertheless flagged, {how}, "
                f"{where}.")
    else:
        text = (f"In all, {f.plural(total, 'account')} {_were(total)} flagged, all of "
                f"them in flagged clusters.")
    if unflagged:
        text += (f" {f.plural(unflagged, 'member')} of flagged clusters {_were(unflagged)}"
                 f" not flagged: {'its' if unflagged == 1 else 'their'} own evidence does not "
                 f"meet the account rule (Methodology, Thresholds: Account flagged), and "
                 f"membership of a cluster is no evidence against an account.")
    if outside:
        text += (f" The {f.plural(outside, 'flagged account')} that no cluster described "
                 f"here includes {'is' if outside == 1 else 'are'} listed in the "
                 f"flagged-accounts exhibit.")
    listed = exhibits.flagged_accounts
    return [Judgment(text, (listed,) if outside and listed else cluster_exhibits)]


def _how_flagged(accounts: int, on_own_evidence: int) -> str:
    """How accounts outside a flagged cluster came to be flagged, as 62_account_decisions.sql
    decided: on their own evidence, or one fact of their own and a hard link to another
    owner's account flagged on its own evidence."""
    linked = accounts - on_own_evidence
    own = "on its own evidence"
    hard = "on one fact of its own and a hard link to another owner's account flagged " \
           "on its own evidence"
    if not linked:
        return f"each {own}"
    if not on_own_evidence:
        return f"each {hard}"
    return f"{f.n(on_own_evidence)} {own} and {f.n(linked)} {hard}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


# -- clusters of interest ---------------------------------------------------------------------

def interest_row(inputs: ReportInputs, c: ClusterFinding) -> InterestRow:
    """A cluster of interest, and which conditions of the cluster flag it failed."""
    return InterestRow(cluster_id=inputs.cid(c.cluster_id), accounts=c.accounts,
                       owners=c.owners, requests=f.n(c.requests), score=f"{c.score:.2f}",
                       likelihood=c.likelihood, families=", ".join(c.families) or "—",
                       why_not="; ".join(not_flagged_because(c, inputs.linked.params)))


def not_flagged_because(c: ClusterFinding, p: LinkingParams) -> list[str]:
    """The conditions of the cluster flag that 80_decisions.sql found failed (`p` only gives
    the thresholds their words quote). Those the row shows (score, families, owners) are
    named; the others (the single-owner evidence, a member flagged on its own evidence) only
    when these hold, since one failed condition settles the decision."""
    d = c.decision
    reasons = []
    if not d.strong_score:
        reasons.append(f"score {c.score:.2f} below {p.flag_threshold}")
    if not d.two_families:
        reasons.append(f"{f.plural(len(c.families), 'family', 'families')} of evidence")
    if d.joined_by is None and c.owners > 1:
        reasons.append("no coordination across owners")
    if reasons:
        return reasons
    if d.joined_by is None:
        reasons.append(f"one owner, without two families in one account at a score of at "
                       f"least {p.high_threshold}")
    if not d.member_on_own_evidence:
        reasons.append("no member flagged on its own evidence")
    return reasons
