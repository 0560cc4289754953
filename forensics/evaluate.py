"""`forensics evaluate`: a run's findings against ground-truth labels (the sample's, or an
analyst's), by population, with 95 % Wilson score intervals.

It scores the accounts the dossier asserts as flagged: the `flagged` column of
findings.parquet. The dossier states that same set, and counts it in its key judgments: the
account exhibit of every cluster it describes marks each member flagged or not, and every
other flagged account (in a flagged cluster beyond `report.max_clusters`, or flagged on its own
evidence in a cluster that was not flagged) is listed in the flagged-accounts exhibit.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from math import comb, sqrt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from forensics.errors import InputError

CAMPAIGN = "campaign"
LOOKALIKE = "lookalike"
ORDINARY = "ordinary"
LABELS = (CAMPAIGN, LOOKALIKE, ORDINARY)
LABEL_COLUMNS = ("account_id", "label", "group")
FINDINGS_COLUMNS = ("account_id", "cluster_id", "flagged", "confidence")
# The confidence levels of a flagged account (queries/linking/80_decisions.sql); a population's
# by_confidence always carries these, and any other level a flagged account has.
FLAGGED_LEVELS = ("high", "moderate")
# The 97.5th percentile of the standard normal distribution: a two-sided 95 % interval.
Z95 = 1.959964


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (Wilson 1927) for a proportion of `k` successes in `n` trials.

    Its bounds are the two proportions p that satisfy (k/n - p)² = z² p (1 - p) / n, so it
    stays inside [0, 1] and is not degenerate at k = 0 or k = n, unlike the normal
    approximation (Newcombe 1998, method 3). With n = 0 nothing is known: the interval is the
    whole range (0, 1). The bounds are not rounded.
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    scale = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / scale
    half = z / scale * sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At k = 0 and k = n one bound is exactly 0 or 1; say so rather than leave rounding noise.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Proportion:
    """`k` of `n`, with its value (None when n = 0) and 95 % Wilson interval, to 4 decimals."""

    k: int
    n: int

    @property
    def value(self) -> float | None:
        return round(self.k / self.n, 4) if self.n else None

    @property
    def low(self) -> float:
        return round(wilson_interval(self.k, self.n)[0], 4)

    @property
    def high(self) -> float:
        return round(wilson_interval(self.k, self.n)[1], 4)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: value, low, high, k, n."""
        return {"value": self.value, "low": self.low, "high": self.high, "k": self.k,
                "n": self.n}

    def interval_text(self) -> str:
        """'0.9500 [0.7639–0.9911]', or '—' when there is nothing to measure (n = 0)."""
        if self.value is None:
            return "—"
        return f"{self.value:.4f} [{self.low:.4f}–{self.high:.4f}]"

    def text(self) -> str:
        """'0.9500 [0.7639–0.9911]  19/20'."""
        return f"{self.interval_text():<24} {self.k}/{self.n}"


def wilson(k: int, n: int) -> dict[str, Any]:
    """k of n in the JSON shape `forensics evaluate --json` gives every proportion."""
    return Proportion(k, n).as_dict()


@dataclass(frozen=True)
class Population:
    """One labelled population (a label and a group): how many of its accounts were flagged."""

    label: str
    group: str
    accounts: int
    flagged: int
    by_confidence: dict[str, int]
    of_interest: int  # not flagged, but with low confidence (listed for review)

    @property
    def rate(self) -> Proportion:
        return Proportion(self.flagged, self.accounts)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "group": self.group, "accounts": self.accounts,
                "flagged": self.flagged, "rate": self.rate.as_dict(),
                "by_confidence": dict(self.by_confidence), "of_interest": self.of_interest}


@dataclass(frozen=True)
class Evaluation:
    """Detection figures at account level: overall, per campaign, per population, and for
    clusters (adjusted Rand index)."""

    accounts: int  # labelled accounts
    campaign_accounts: int
    flagged: int  # every flagged account of the findings: the dossier's count
    true_positives: int
    false_positives: int  # flagged labelled accounts that are not campaign accounts
    precision: Proportion
    recall: Proportion
    f1: float
    false_positive_rate: Proportion  # among ordinary accounts
    recall_by_campaign: dict[str, Proportion]
    populations: tuple[Population, ...]
    lookalikes_flagged: dict[str, dict[str, int]]
    ordinary_flagged: int
    adjusted_rand_index: float
    unlabelled_flagged: int = 0  # flagged accounts the labels do not name (not scored)
    labelled_not_in_findings: int = 0  # labelled accounts with no traffic in the run

    def as_dict(self) -> dict[str, Any]:
        """The document `forensics evaluate --json` prints."""
        return {
            "accounts": self.accounts, "campaign_accounts": self.campaign_accounts,
            "flagged": self.flagged, "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "precision": self.precision.as_dict(), "recall": self.recall.as_dict(),
            "f1": self.f1, "false_positive_rate": self.false_positive_rate.as_dict(),
            "recall_by_campaign": {g: p.as_dict()
                                   for g, p in sorted(self.recall_by_campaign.items())},
            "populations": [p.as_dict() for p in self.populations],
            "lookalikes_flagged": {g: dict(sorted(c.items()))
                                   for g, c in sorted(self.lookalikes_flagged.items())},
            "ordinary_flagged": self.ordinary_flagged,
            "adjusted_rand_index": self.adjusted_rand_index,
            "unlabelled_flagged": self.unlabelled_flagged,
            "labelled_not_in_findings": self.labelled_not_in_findings,
        }

    def lines(self) -> list[str]:
        """The human-readable report."""
        out = [f"accounts: {self.accounts} labelled ({self.campaign_accounts} campaign); "
               f"flagged: {self.flagged}",
               f"  {'':<28} {'value [95 % CI]':<24} k/n",
               f"  {'precision':<28} {self.precision.text()}",
               f"  {'recall':<28} {self.recall.text()}",
               f"  {'F1':<28} {self.f1:.4f}",
               f"  {'false-positive rate':<28} {self.false_positive_rate.text()}  "
               f"(flagged ordinary accounts)",
               "recall by campaign:"]
        out += [f"  {g:<28} {p.text()}" for g, p in sorted(self.recall_by_campaign.items())]
        if not self.recall_by_campaign:
            out.append("  none (no campaign accounts in the labels)")
        out.append("populations:")
        out.append(f"  {'label':<10} {'group':<24} {'accounts':>8} {'flagged':>7}  "
                   f"{'rate [95 % CI]':<24} by confidence")
        for p in self.populations:
            levels = ", ".join(f"{k} {v}" for k, v in p.by_confidence.items() if v) or "—"
            out.append(f"  {p.label:<10} {p.group:<24} {p.accounts:>8} {p.flagged:>7}  "
                       f"{p.rate.interval_text():<24} {levels}")
        out.append("look-alike accounts flagged (by confidence):")
        if not any(self.lookalikes_flagged.values()):
            out.append("  none")
        for g, by_conf in sorted(self.lookalikes_flagged.items()):
            if by_conf:
                out.append(f"  {g:<28} " + ", ".join(f"{k} {v}" for k, v in
                                                     sorted(by_conf.items())))
        out.append(f"ordinary accounts flagged: {self.ordinary_flagged}")
        out.append(f"unlabelled flagged accounts: {self.unlabelled_flagged}"
                   + (" (not scored: the labels do not name them)"
                      if self.unlabelled_flagged else ""))
        if self.labelled_not_in_findings:
            out.append(f"labelled accounts absent from the findings (no traffic in the run, "
                       f"counted as not flagged): {self.labelled_not_in_findings}")
        out.append(f"adjusted Rand index (clusters vs campaigns, flagged campaign accounts): "
                   f"{self.adjusted_rand_index:.3f}")
        return out


def read_labels(path: Path) -> dict[str, tuple[str, str]]:
    """account_id → (label, group) from a CSV with the header account_id,label,group.

    The label is one of campaign, lookalike, ordinary; the group names the population (any
    name; an empty group is the label itself). Every problem is an InputError naming the file.
    """
    path = Path(path)
    expected = ("expected a CSV with the header account_id,label,group and one row per "
                "account")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [(name or "").strip() for name in reader.fieldnames or []]
            if not header:
                raise InputError(f"the labels file is empty ({expected})", file=str(path))
            reader.fieldnames = header
            missing = [c for c in LABEL_COLUMNS if c not in header]
            if missing:
                raise InputError(
                    f"missing column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(repr(c) for c in missing)} ({expected})",
                    file=str(path), column=missing[0] if len(missing) == 1 else None)
            labels: dict[str, tuple[str, str]] = {}
            for row in reader:
                line = reader.line_num
                account = (row["account_id"] or "").strip()
                label = (row["label"] or "").strip()
                if not account:
                    raise InputError(f"line {line}: empty account id (expected one per row)",
                                     file=str(path), column="account_id")
                if label not in LABELS:
                    raise InputError(f"line {line}: unknown label {label!r} (expected one of "
                                     f"{', '.join(LABELS)})", file=str(path), column="label")
                if account in labels:
                    raise InputError(f"line {line}: account {account!r} is labelled twice "
                                     f"(expected one row per account)", file=str(path),
                                     column="account_id")
                labels[account] = (label, (row["group"] or "").strip() or label)
    except FileNotFoundError:
        raise InputError("labels file not found", file=str(path)) from None
    except UnicodeDecodeError:
        raise InputError(f"not UTF-8 text ({expected})", file=str(path)) from None
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc} ({expected})", file=str(path)) from None
    if not labels:
        raise InputError(f"the labels file names no account ({expected})", file=str(path))
    return labels


def read_findings(findings_dir: Path) -> dict[str, dict[str, Any]]:
    """account_id → the run's decision for it (cluster_id, flagged, confidence)."""
    path = Path(findings_dir) / "findings.parquet"
    if not path.is_file():
        raise InputError("no findings.parquet (expected the --out folder of a run)",
                         file=str(findings_dir))
    _refuse_public(Path(findings_dir) / "manifest.json")
    try:
        schema = pq.read_schema(path)
        missing = [c for c in FINDINGS_COLUMNS if c not in schema.names]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)} (expected the "
                             f"findings.parquet a run writes)", file=str(path),
                             column=missing[0])
        table = pq.read_table(path, columns=list(FINDINGS_COLUMNS))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"unreadable Parquet: {str(exc).splitlines()[0]}",
                         file=str(path)) from None
    return {r["account_id"]: r for r in table.to_pylist()}


def _refuse_public(manifest: Path) -> None:
    """A public run's findings name accounts by keyed pseudonyms, which no label matches:
    scored, every campaign account would look missed."""
    try:
        profile = json.loads(manifest.read_text(encoding="utf-8"))["config"]["profile"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no readable manifest: the findings are scored as they are
    if profile == "public":
        raise InputError("the findings of a --profile public run name accounts by "
                         "pseudonyms that no label matches (expected an internal run of the "
                         "same inputs)", file=str(manifest))


def adjusted_rand_index(a: list[str], b: list[str]) -> float:
    """Hubert–Arabie adjusted Rand index of two labelings of the same items.

    Written out rather than pulling in scikit-learn for one formula.
    """
    n = len(a)
    if n < 2:
        return 1.0
    pairs = Counter(zip(a, b, strict=True))
    sum_ij = sum(comb(v, 2) for v in pairs.values())
    sum_a = sum(comb(v, 2) for v in Counter(a).values())
    sum_b = sum(comb(v, 2) for v in Counter(b).values())
    expected = sum_a * sum_b / comb(n, 2)
    maximum = (sum_a + sum_b) / 2
    if maximum == expected:
        return 1.0
    return (sum_ij - expected) / (maximum - expected)


def evaluate(findings_dir: Path, labels_path: Path) -> Evaluation:
    """Score a run's flagged accounts (findings.parquet) against labels, by population."""
    labels = read_labels(labels_path)
    rows = read_findings(findings_dir)
    flagged_ids = {a for a, r in rows.items() if r["flagged"]}
    populations: dict[tuple[str, str], dict[str, Any]] = {}
    ari_truth: list[str] = []
    ari_pred: list[str] = []
    for account, (label, group) in labels.items():
        pop = populations.setdefault((label, group), {
            "accounts": 0, "flagged": 0, "of_interest": 0,
            "by_confidence": Counter({level: 0 for level in FLAGGED_LEVELS})})
        pop["accounts"] += 1
        row = rows.get(account)
        if row is None:
            continue
        if account in flagged_ids:
            pop["flagged"] += 1
            pop["by_confidence"][row["confidence"]] += 1
            if label == CAMPAIGN:
                ari_truth.append(group)
                ari_pred.append(row["cluster_id"])
        elif row["confidence"] == "low":
            pop["of_interest"] += 1
    table = tuple(Population(label, group, p["accounts"], p["flagged"],
                             dict(p["by_confidence"]), p["of_interest"])
                  for (label, group), p in sorted(populations.items()))

    def total(label: str, what: str) -> int:
        return sum(getattr(p, what) for p in table if p.label == label)

    tp = total(CAMPAIGN, "flagged")
    positives = total(CAMPAIGN, "accounts")
    labelled_flagged = sum(p.flagged for p in table)
    precision = Proportion(tp, labelled_flagged)
    recall = Proportion(tp, positives)
    # The harmonic mean of precision and recall, written with counts (0 when either is 0).
    f1 = 2 * tp / (labelled_flagged + positives) if labelled_flagged + positives else 0.0
    return Evaluation(
        accounts=len(labels), campaign_accounts=positives, flagged=len(flagged_ids),
        true_positives=tp, false_positives=labelled_flagged - tp,
        precision=precision, recall=recall,
        f1=round(f1, 4),
        false_positive_rate=Proportion(total(ORDINARY, "flagged"), total(ORDINARY, "accounts")),
        recall_by_campaign={p.group: p.rate for p in table if p.label == CAMPAIGN},
        populations=table,
        lookalikes_flagged={p.group: {k: v for k, v in p.by_confidence.items() if v}
                            for p in table if p.label == LOOKALIKE},
        ordinary_flagged=total(ORDINARY, "flagged"),
        adjusted_rand_index=round(adjusted_rand_index(ari_truth, ari_pred), 4),
        unlabelled_flagged=len(flagged_ids - labels.keys()),
        labelled_not_in_findings=len(labels.keys() - rows.keys()))
