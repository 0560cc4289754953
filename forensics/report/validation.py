"""The dossier's "Method validation" section, and the measured precision that every statement
of a confidence level cites.

Everything shown comes from the packaged validation data (forensics/validation/: the
benchmark's figures and the sources of error), never from the run's logs; only the run's
thresholds are compared with the benchmark's, so that the dossier says when the figures were
measured with other settings. Without a benchmark the section says plainly that no figures are
available, and no figure is claimed anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from forensics import __version__
from forensics.evidence import LIKELIHOOD, likelihood
from forensics.linking import LinkingParams
from forensics.report import fmt as f
from forensics.report.context import Judgment, Note
from forensics.validation import (
    BENCHMARK,
    CONFIDENCE_LEVELS,
    Benchmark,
    Population,
    Rate,
    SourceOfError,
    load_benchmark,
    load_sources,
)

# Below this lower bound of a confidence level's measured precision, the key judgments say
# that the level carries a material false-positive rate (and, for recall, a material miss
# rate): one in ten flagged accounts may be wrong.
MATERIAL_BOUND = 0.90
LABELS = {"campaign": "planted campaign", "lookalike": "benign look-alike",
          "ordinary": "ordinary customers"}
CONFIDENCE_ORDER = {level: i for i, level in enumerate(CONFIDENCE_LEVELS)}


@dataclass(frozen=True)
class MeasureRow:
    """One measured figure: what it is, its value, its interval and what was counted."""

    measure: str
    value: str
    interval: str
    counted: str


@dataclass(frozen=True)
class PopulationRow:
    """One population of the benchmark's samples and how many of its accounts were flagged."""

    group: str
    kind: str
    accounts: str
    flagged: str
    rate: str
    interval: str


@dataclass(frozen=True)
class ErrorSourceRow:
    """One known source of error, as the table shows it."""

    id: str
    title: str
    error: str
    cause: str
    mitigation: str
    residual: str


@dataclass(frozen=True)
class Validation:
    """The Method validation section and the benchmark statements the other sections cite."""

    available: bool
    unavailable: str  # the plain statement shown instead of figures ("" when available)
    measured: str  # what was measured, on what
    synthetic: str  # that the data is synthetic, and what that means
    notes: tuple[str, ...]  # figures measured with another version or other thresholds
    figures: tuple[MeasureRow, ...]
    campaigns: tuple[MeasureRow, ...]
    populations: tuple[PopulationRow, ...]
    sources: tuple[ErrorSourceRow, ...]
    levels: tuple[Note, ...]  # per confidence level: the measured-precision sentence
    caveats: tuple[Note, ...]  # per confidence level: the material false-positive sentence
    recall_text: str  # the measured recall, for a negative result
    miss_caveat: str  # the material miss-rate sentence ("" when recall is not that low)
    # Per confidence level the benchmark measured (n > 0), its precision.
    precision: tuple[tuple[str, Rate], ...] = ()

    def likelihood(self, term: str, level: str) -> tuple[str, bool]:
        """The ICD-203 likelihood term to state for a finding at confidence `level`, and
        whether it was lowered: a finding's score is not a calibrated probability, so the term
        it maps to is stated only as far as the benchmark supports it, that is no higher than
        the term of the lower 95 % bound of the level's measured precision."""
        rate = dict(self.precision).get(level)
        if rate is None or rate.low is None:
            return term, False
        order = [t for _, t in LIKELIHOOD]
        cap = likelihood(rate.low)
        return (cap, True) if order.index(cap) < order.index(term) else (term, False)

    def precision_of(self, level: str) -> str:
        """The measured precision of `level` as stated in the text ('' when unmeasured)."""
        rate = dict(self.precision).get(level)
        return _share(rate) if rate is not None else ""

    def precision_at(self, level: str) -> str:
        """The benchmark's precision for a confidence level as one sentence ('' for a level
        the benchmark does not measure, such as low, which is never flagged)."""
        if not self.available:
            return (f"The precision of {level} confidence has not been measured: no "
                    f"validation figures are available for this version (see Method "
                    f"validation)." if level in ("high", "moderate") else "")
        return next((n.text for n in self.levels if n.label == level), "")

    def judgments(self, levels: Sequence[str]) -> tuple[Judgment, ...]:
        """Key judgments on how far the figures support the dossier's findings: the measured
        precision of each confidence level the findings use (`levels`), a plain caveat for
        each level whose precision may be below MATERIAL_BOUND, and for a dossier without
        findings the measured recall."""
        if not self.available:
            return (Judgment(self.unavailable, ()),)
        used = sorted(set(levels), key=lambda x: CONFIDENCE_ORDER.get(x, 9))
        if not used:
            return tuple(Judgment(t, ()) for t in (self.recall_text, self.miss_caveat) if t)
        out = [Judgment(" ".join(self.precision_at(x) for x in used if self.precision_at(x)),
                        ())]
        out += [Judgment(n.text, ()) for n in self.caveats if n.label in used]
        return tuple(j for j in out if j.text)


def validation_section(params: LinkingParams, benchmark: Path | None = None,
                       sources: Path | None = None) -> Validation:
    """The section from the packaged validation data (or the files given), for a run with
    `params`."""
    return build(load_benchmark(benchmark), load_sources(sources), params)


def build(bench: Benchmark | None, sources: Sequence[SourceOfError],
          params: LinkingParams) -> Validation:
    """The section's context from the loaded benchmark (None: not measured) and sources."""
    rows = tuple(ErrorSourceRow(s.id, s.title, s.error, s.cause, s.mitigation, s.residual)
                 for s in sources)
    if bench is None:
        return Validation(
            available=False,
            unavailable=(f"No validation figures are available for this version of the tool "
                         f"(forensics {__version__}): its benchmark results "
                         f"(forensics/validation/{BENCHMARK}) are not packaged, so the "
                         f"error rates of its findings have not been measured and none is "
                         f"claimed."),
            measured="", synthetic="", notes=(), figures=(), campaigns=(), populations=(),
            sources=rows, levels=(), caveats=(), recall_text="", miss_caveat="")
    mismatch = _threshold_mismatch(bench, params)
    where = (("On this version's validation benchmark" if bench.tool_version == __version__
              else f"On the validation benchmark of forensics {bench.tool_version}")
             + " (synthetic data" + ("; other thresholds than this run's" if mismatch else "")
             + ")")
    levels, caveats = [], []
    for level in ("high", "moderate"):  # the levels that flag; low never does
        rate = bench.precision_at(level)
        if rate is None or rate.n == 0:
            levels.append(Note(level, f"{where}, no account was flagged at {level} "
                                      f"confidence, so that level's precision is unmeasured."))
            caveats.append(Note(level, f"The benchmark does not measure the false-positive "
                                       f"rate at {level} confidence: findings at that level "
                                       f"should be corroborated before action."))
            continue
        stated = (f"{_share(rate)} ({f.n(rate.k)} of {f.n(rate.n)}; 95 % CI "
                  f"{_interval(rate)})")
        levels.append(Note(level, f"{where}, {_share(rate)} of accounts flagged at {level} "
                                  f"confidence were campaign accounts ({f.n(rate.k)} of "
                                  f"{f.n(rate.n)}; 95 % CI {_interval(rate)})."))
        if rate.low is not None and rate.low < MATERIAL_BOUND:
            # Below the bound: measured so. Above it with a lower bound below it: too few
            # accounts to rule it out, which calls for the same care.
            shows = ("shows" if rate.value is not None and rate.value < MATERIAL_BOUND
                     else "does not rule out")
            caveats.append(Note(level, f"The benchmark {shows} a material false-positive rate "
                                       f"at {level} confidence: precision there is {stated}, "
                                       f"so findings at that level should be corroborated "
                                       f"before action."))
    r = bench.recall
    recall_text = (f"{where}, the method flagged {_share(r)} of the planted campaign "
                   f"accounts ({f.n(r.k)} of {f.n(r.n)}; 95 % CI {_interval(r)}); "
                   f"campaigns unlike those planted may be "
                   f"missed (see Method validation)." if r.n else
                   f"{where}, no campaign account was planted, so recall is unmeasured.")
    miss = ("The benchmark shows a material miss rate: the absence of findings does not "
            "exclude a campaign." if r.low is None or r.low < MATERIAL_BOUND else "")
    notes = []
    if bench.tool_version != __version__:
        notes.append(f"These figures were measured with forensics {bench.tool_version}; this "
                     f"dossier was produced by forensics {__version__}. They are not this "
                     f"version's measured error rates.")
    if mismatch:
        notes.append(f"This run's thresholds differ from the benchmark's ({mismatch}): the "
                     f"figures describe the method at the benchmark's thresholds, not at this "
                     f"run's.")
    return Validation(
        available=True, unavailable="", measured=_measured(bench), synthetic=_synthetic(bench),
        notes=tuple(notes), figures=_figures(bench), campaigns=tuple(
            MeasureRow(group, _share(x), _interval(x), f"{f.n(x.k)} of {f.n(x.n)}")
            for group, x in bench.recall_by_campaign),
        populations=tuple(PopulationRow(
            p.group, LABELS.get(p.label, p.label), f.n(p.accounts), f.n(p.flagged),
            _share(p.rate), _interval(p.rate))
            for p in sorted(bench.populations, key=_population_order)),
        sources=rows, levels=tuple(levels), caveats=tuple(caveats), recall_text=recall_text,
        miss_caveat=miss,
        precision=tuple((level, rate) for level, rate in bench.precision_by_confidence if rate.n))


def _population_order(p: Population) -> tuple[int, str]:
    return (list(LABELS).index(p.label) if p.label in LABELS else 9, p.group)


def _threshold_mismatch(bench: Benchmark, params: LinkingParams) -> str:
    """'flag_threshold 0.6 here, 0.5 in the benchmark; …' for every setting both know."""
    ours = asdict(params)
    return "; ".join(f"{name} {ours[name]!r} here, {value!r} in the benchmark"
                     for name, value in bench.settings
                     if name in ours and ours[name] != value)


def _runs(bench: Benchmark) -> str:
    """'seeds 1, 2 and 3 at scale 0.3 and seed 5 at scale 1'."""
    scales: dict[float, list[int]] = {}
    for run in bench.runs:
        scales.setdefault(run.scale, []).append(run.seed)
    parts = [f"{'seed' if len(seeds) == 1 else 'seeds'} "
             f"{f.listing([str(s) for s in sorted(seeds)])} at scale {scale:g}"
             for scale, seeds in sorted(scales.items())]
    return f.listing(parts, "and") if len(parts) < 3 else "; ".join(parts)


def _populations_text(bench: Benchmark) -> str:
    """'planted campaigns: hydra_proxy (120 accounts), …; benign look-alikes: …'."""
    out = []
    for label, heading in (("campaign", "planted campaigns"),
                           ("lookalike", "benign look-alikes"),
                           ("ordinary", "ordinary customers")):
        pops = sorted((p for p in bench.populations if p.label == label), key=lambda p: p.group)
        if pops:
            out.append(f"{heading}: " + ", ".join(
                f"{p.group} ({f.plural(p.accounts, 'account')})" for p in pops))
    others = sorted({p.label for p in bench.populations} - set(LABELS))
    for label in others:
        pops = [p for p in bench.populations if p.label == label]
        out.append(f"{label}: " + ", ".join(
            f"{p.group} ({f.plural(p.accounts, 'account')})" for p in pops))
    return "; ".join(out)


def _measured(bench: Benchmark) -> str:
    pops = _populations_text(bench)
    return (f"This version's error rates were measured by “{bench.command}” on "
            f"{f.plural(len(bench.runs), 'synthetic sample')} ({_runs(bench)}): "
            f"{f.n(bench.requests)} requests from {f.n(bench.accounts)} accounts in total, "
            f"{f.n(bench.campaign_accounts)} of them in planted campaigns. Each account's "
            f"decision (flagged or not, and at which confidence) was compared with its "
            f"ground-truth label, with the thresholds fixed for every sample, and the counts "
            f"of all samples were pooled."
            + (f" The populations were {pops}." if pops else ""))


def _synthetic(bench: Benchmark) -> str:
    if re.fullmatch(r"[0-9a-f]{6,64}", bench.generator):
        recorded = f" (generator digest {bench.generator})"
    elif bench.generator and bench.generator != "forensics sample":
        recorded = f" (recorded by the benchmark as “{bench.generator}”)"
    else:
        recorded = ""
    return ("These figures come from synthetic data, not from real API traffic. The samples "
            f"were generated by this tool's own sample generator, forensics sample{recorded}, "
            "written by the team that wrote the heuristics, and hold only the populations "
            "listed here. They "
            "show how the method behaves on the behaviours that generator plants; error rates "
            "on real logs have not been measured and may be higher. The intervals are 95 % "
            "Wilson score intervals: they cover the sampling variation between generated "
            "samples only, not the difference between the generator and real traffic.")


def _digits(rate: Rate) -> int:
    """Decimals of a percentage: two for a small rate, whose interval would otherwise read
    '0.0–0.5 %', one otherwise."""
    return 2 if rate.high is not None and rate.high < 0.05 else 1


def _share(rate: Rate) -> str:
    return f.pct_of(rate.k, rate.n, _digits(rate))


def _interval(rate: Rate) -> str:
    return f.pct_interval(rate.low, rate.high, _digits(rate))


def _rate_row(measure: str, rate: Rate, of: tuple[str, str]) -> MeasureRow:
    """A rate's row; `of` names what n counts, singular and plural."""
    if rate.n == 0:
        return MeasureRow(measure, "not measured", "—", f"0 {of[1]}")
    return MeasureRow(measure, _share(rate), _interval(rate),
                      f"{f.n(rate.k)} of {f.n(rate.n)} {of[0] if rate.n == 1 else of[1]}")


def _figures(bench: Benchmark) -> tuple[MeasureRow, ...]:
    non_campaign = bench.accounts - bench.campaign_accounts
    ordinary = sum(p.accounts for p in bench.populations if p.label == "ordinary")
    lookalikes = sum(p.accounts for p in bench.populations if p.label == "lookalike")
    fp = bench.false_positive_rate
    if fp.n == ordinary:
        fp_of = ("ordinary account", "ordinary accounts")
    elif fp.n == non_campaign:
        fp_of = ("non-campaign account (look-alike or ordinary)",
                 "non-campaign accounts (look-alikes and ordinary customers)")
    else:
        fp_of = ("account outside the campaigns", "accounts outside the campaigns")
    rows = [
        _rate_row("Precision: flagged accounts that are campaign accounts", bench.precision,
                  ("flagged account", "flagged accounts")),
        _rate_row("Recall: campaign accounts flagged", bench.recall,
                  ("campaign account", "campaign accounts")),
        _rate_row(f"False-positive rate: {fp_of[1]} flagged", fp, fp_of),
    ]
    for level, rate in sorted(bench.precision_by_confidence,
                              key=lambda x: CONFIDENCE_ORDER.get(x[0], 9)):
        rows.append(_rate_row(f"Precision at {level} confidence", rate,
                              (f"account flagged at {level} confidence",
                               f"accounts flagged at {level} confidence")))
    rows.append(MeasureRow("Look-alike accounts flagged", f.n(bench.lookalikes_flagged), "—",
                           f"of {f.plural(lookalikes, 'look-alike account')}" if lookalikes
                           else "—"))
    rows.append(MeasureRow("Ordinary accounts flagged", f.n(bench.ordinary_flagged), "—",
                           f"of {f.plural(ordinary, 'ordinary account')}" if ordinary
                           else "—"))
    rows.append(MeasureRow("Adjusted Rand index: clusters against campaigns",
                           f"{bench.ari_mean:.3f} mean", "—",
                           f"lowest sample {bench.ari_min:.3f}; flagged campaign accounts"))
    return tuple(rows)
