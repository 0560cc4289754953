"""`forensics evaluate`: findings against ground-truth labels (the sample's, or an analyst's)."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from math import comb
from pathlib import Path

import pyarrow.parquet as pq

from forensics.errors import InputError

CAMPAIGN = "campaign"


@dataclass(frozen=True)
class Evaluation:
    """Detection figures at account level, per campaign, for look-alikes, and for clusters."""

    accounts: int
    campaign_accounts: int
    flagged: int
    true_positives: int
    precision: float
    recall: float
    f1: float
    recall_by_campaign: dict[str, float]
    lookalikes_flagged: dict[str, dict[str, int]]
    ordinary_flagged: int
    adjusted_rand_index: float

    def lines(self) -> list[str]:
        """Human-readable report."""
        out = [f"accounts: {self.accounts} ({self.campaign_accounts} campaign, "
               f"{self.flagged} flagged)",
               f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}",
               "recall by campaign:"]
        out += [f"  {g:<28} {r:.3f}" for g, r in sorted(self.recall_by_campaign.items())]
        out.append("look-alike accounts flagged (by confidence):")
        if not any(self.lookalikes_flagged.values()):
            out.append("  none")
        for g, by_conf in sorted(self.lookalikes_flagged.items()):
            if by_conf:
                out.append(f"  {g:<28} " + ", ".join(f"{k} {v}" for k, v in
                                                     sorted(by_conf.items())))
        out.append(f"ordinary accounts flagged: {self.ordinary_flagged}")
        out.append(f"adjusted Rand index (clusters vs campaigns, flagged campaign accounts): "
                   f"{self.adjusted_rand_index:.3f}")
        return out


def read_labels(path: Path) -> dict[str, tuple[str, str]]:
    """account_id → (label, group) from a CSV with columns account_id,label,group."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"account_id", "label"} - set(reader.fieldnames or [])
            if missing:
                raise InputError(f"missing column(s) {sorted(missing)} (expected "
                                 f"account_id,label,group)", file=str(path))
            return {r["account_id"]: (r["label"], r.get("group") or r["label"]) for r in reader}
    except FileNotFoundError:
        raise InputError("labels file not found", file=str(path)) from None


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
    """Compare a run's findings.parquet with labels."""
    path = Path(findings_dir) / "findings.parquet"
    if not path.is_file():
        raise InputError("no findings.parquet (expected the --out folder of a run)",
                         file=str(findings_dir))
    table = pq.read_table(path, columns=["account_id", "cluster_id", "flagged", "confidence"])
    rows = {r["account_id"]: r for r in table.to_pylist()}
    labels = read_labels(labels_path)
    tp = flagged = 0
    by_campaign: dict[str, list[bool]] = {}
    lookalikes: dict[str, Counter[str]] = {}
    ordinary = 0
    ari_truth: list[str] = []
    ari_pred: list[str] = []
    for account, (label, group) in labels.items():
        row = rows.get(account)
        is_flagged = bool(row and row["flagged"])
        flagged += is_flagged
        if label == CAMPAIGN:
            tp += is_flagged
            by_campaign.setdefault(group, []).append(is_flagged)
            if is_flagged and row:
                ari_truth.append(group)
                ari_pred.append(row["cluster_id"])
        elif label == "lookalike":
            lookalikes.setdefault(group, Counter())
            if is_flagged and row:
                lookalikes[group][row["confidence"]] += 1
        elif is_flagged:
            ordinary += 1
    positives = sum(len(v) for v in by_campaign.values())
    precision = tp / flagged if flagged else 0.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Evaluation(
        accounts=len(labels), campaign_accounts=positives, flagged=flagged, true_positives=tp,
        precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4),
        recall_by_campaign={g: round(sum(v) / len(v), 4) for g, v in by_campaign.items()},
        lookalikes_flagged={g: dict(c) for g, c in lookalikes.items()},
        ordinary_flagged=ordinary,
        adjusted_rand_index=round(adjusted_rand_index(ari_truth, ari_pred), 4))
