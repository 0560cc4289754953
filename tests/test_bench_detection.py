"""The detection benchmark's arithmetic: single-feature separability and the pooled figures.

No pipeline runs here: separability reads a tiny hand-made export, pooling reads hand-made
evaluation dicts of the shape `forensics evaluate --json` prints.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bench import detection, separability
from forensics.evaluate import wilson
from tests.conftest import T0, write_table


def _export(tmp_path: Path, volumes: dict[str, int], labels: dict[str, tuple[str, str]]
            ) -> tuple[Path, Path]:
    """An export where accounts differ only in their request count, and its labels."""
    data = tmp_path / "data"
    requests, accounts = [], []
    for k, (account, n) in enumerate(sorted(volumes.items())):
        requests += [{"request_id": f"req_{account}_{i}", "ts": T0 + timedelta(minutes=i),
                      "account_id": account, "model": "atlas-3",
                      "prompt": "Explain how a hash map works.", "input_tokens": 12,
                      "output_tokens": 80, "ip": f"10.0.{k}.1"} for i in range(n)]
        accounts.append({"account_id": account, "created_at": T0 - timedelta(days=30 + k),
                         "payment_fingerprint": f"pf_{k}", "signup_ip": f"10.1.{k}.1"})
    write_table(data / "requests.parquet", requests)
    write_table(data / "accounts.parquet", accounts)
    labels_path = tmp_path / "labels.csv"
    with open(labels_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_id", "label", "group"])
        writer.writerows([a, label, group] for a, (label, group) in sorted(labels.items()))
    return data, labels_path


def _brute_force_f1(values: list[float], positive: list[bool]) -> float:
    """Best F1 by trying every rule one by one (the definition, written plainly)."""
    best = 0.0
    pos = sum(positive)
    for t in set(values):
        for flags in ([v >= t for v in values], [v <= t for v in values]):
            tp = sum(f and p for f, p in zip(flags, positive, strict=True))
            best = max(best, 2 * tp / (sum(flags) + pos))
    return best


def test_a_perfect_separator_is_found_with_its_direction(tmp_path: Path) -> None:
    """A campaign sending fewer requests than any negative is found as volume <= 2 with F1 1.0,
    another campaign's account of the same volume being left out rather than counted."""
    volumes = {"c1": 2, "c2": 2, "c3": 2, "x1": 2, "o1": 4, "o2": 5, "o3": 6, "l1": 4}
    labels = {"c1": ("campaign", "small"), "c2": ("campaign", "small"),
              "c3": ("campaign", "small"), "x1": ("campaign", "other"),
              "o1": ("ordinary", "ordinary"), "o2": ("ordinary", "ordinary"),
              "o3": ("ordinary", "ordinary"), "l1": ("lookalike", "batch")}
    data, labels_path = _export(tmp_path, volumes, labels)
    report = separability.separability(data, labels_path)
    small = report["campaigns"]["small"]
    assert (small["positives"], small["negatives"]) == (3, 4)
    volume = small["features"]["volume"]
    assert volume["f1"] == 1.0
    assert (volume["direction"], volume["threshold"]) == ("<=", 2.0)
    assert small["best"]["f1"] == 1.0
    assert separability.verdict(report, 0.8) == (False, ["other", "small"])


def test_no_separator_gives_the_hand_computed_f1(tmp_path: Path, capsys: Any) -> None:
    """Campaign volumes 2 and 4 among negatives of 1, 3 and 5: the best rule is volume >= 2
    (precision 2/4, recall 1, F1 2/3); every other feature is constant (flag all: 4/7)."""
    volumes = {"c1": 2, "c2": 4, "o1": 1, "o2": 3, "o3": 5}
    labels = {"c1": ("campaign", "camp"), "c2": ("campaign", "camp"),
              "o1": ("ordinary", "ordinary"), "o2": ("ordinary", "ordinary"),
              "o3": ("lookalike", "batch")}
    data, labels_path = _export(tmp_path, volumes, labels)
    report = separability.separability(data, labels_path)
    camp = report["campaigns"]["camp"]
    assert camp["best"]["feature"] == "volume"
    assert camp["best"]["f1"] == round(2 / 3, 4)
    assert (camp["best"]["direction"], camp["best"]["threshold"]) == (">=", 2.0)
    assert (camp["best"]["precision"], camp["best"]["recall"]) == (0.5, 1.0)
    others = {name: s["f1"] for name, s in camp["features"].items() if name != "volume"}
    assert others and all(f1 == round(4 / 7, 4) for f1 in others.values())
    assert separability.main([str(data), str(labels_path)]) == 0
    assert "every campaign's best F1 is <= 0.8: yes" in capsys.readouterr().out
    assert separability.main([str(data), str(labels_path), "--max-f1", "0.6"]) == 1
    capsys.readouterr()
    assert separability.main([str(data), str(labels_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["all_at_most_bound"] is True


def test_bundled_sample_has_no_single_feature_separator() -> None:
    """No planted campaign of the bundled sample is separated from the other accounts by one
    threshold on one simple account feature with F1 above 0.8 (the benchmark's bar for being
    as hard as real traffic), and every campaign is measured on every feature."""
    root = Path(__file__).resolve().parent.parent / "sample_data" / "2026Q3"
    report = separability.separability(root / "data", root / "labels.csv")
    assert len(report["campaigns"]) >= 5 and not report["skipped_features"]
    ok, above = separability.verdict(report, 0.8)
    assert ok, above


def test_best_split_never_splits_equal_values() -> None:
    """Accounts with equal values are flagged together: [1,1,2,2] with the second 1 negative
    has no perfect rule; the best flags everyone (F1 6/7)."""
    split = separability.best_split([1, 1, 2, 2], [True, False, True, True])
    assert split.f1 == pytest.approx(6 / 7)
    assert (split.direction, split.threshold, split.flagged) == (">=", 1.0, 4)


def test_best_split_equals_trying_every_rule() -> None:
    """The sorted, cumulative computation gives the same best F1 as trying every rule."""
    rng = random.Random(20)
    for _ in range(200):
        n = rng.randint(1, 12)
        values = [float(rng.randint(0, 4)) for _ in range(n)]
        positive = [rng.random() < 0.4 for _ in range(n)]
        split = separability.best_split(values, positive)
        assert split.f1 == pytest.approx(_brute_force_f1(values, positive))
        if split.threshold is not None:
            t = split.threshold
            flags = [v >= t if split.direction == ">=" else v <= t for v in values]
            assert sum(flags) == split.flagged
            assert sum(f and p for f, p in zip(flags, positive, strict=True)) == \
                split.true_positives


def _rate(k: int, n: int) -> dict[str, Any]:
    return wilson(k, n)


def _evaluation(tp: int, fp_ordinary: int, fp_lookalike: int, camp: dict[str, tuple[int, int]],
                ordinary: int, lookalike: int, high_campaign: int, ari: float) -> dict[str, Any]:
    """A hand-made `forensics evaluate --json` result."""
    campaign_accounts = sum(n for _, n in camp.values())
    flagged = tp + fp_ordinary + fp_lookalike
    populations = [
        {"label": "campaign", "group": g, "accounts": n, "flagged": k, "rate": _rate(k, n),
         "by_confidence": {"high": min(k, high_campaign), "moderate": k - min(k, high_campaign)}}
        for g, (k, n) in camp.items()]
    populations.append({"label": "lookalike", "group": "batch", "accounts": lookalike,
                        "flagged": fp_lookalike, "rate": _rate(fp_lookalike, lookalike),
                        "by_confidence": {"high": fp_lookalike} if fp_lookalike else {}})
    populations.append({"label": "ordinary", "group": "ordinary", "accounts": ordinary,
                        "flagged": fp_ordinary, "rate": _rate(fp_ordinary, ordinary),
                        "by_confidence": {"moderate": fp_ordinary} if fp_ordinary else {}})
    return {
        "accounts": campaign_accounts + ordinary + lookalike,
        "campaign_accounts": campaign_accounts, "flagged": flagged, "true_positives": tp,
        "false_positives": flagged - tp, "precision": _rate(tp, flagged),
        "recall": _rate(tp, campaign_accounts), "f1": 0.0,
        "false_positive_rate": _rate(fp_ordinary, ordinary),
        "recall_by_campaign": {g: _rate(k, n) for g, (k, n) in camp.items()},
        "populations": populations,
        "lookalikes_flagged": {"batch": {"high": fp_lookalike} if fp_lookalike else {}},
        "ordinary_flagged": fp_ordinary, "adjusted_rand_index": ari}


def _runs() -> list[dict[str, Any]]:
    first = _evaluation(tp=18, fp_ordinary=1, fp_lookalike=0,
                        camp={"hydra": (10, 10), "harvester": (8, 10)},
                        ordinary=400, lookalike=30, high_campaign=6, ari=1.0)
    second = _evaluation(tp=9, fp_ordinary=0, fp_lookalike=2, camp={"hydra": (9, 10)},
                         ordinary=500, lookalike=40, high_campaign=9, ari=0.8)
    return [{"seed": 1, "scale": 0.3, "requests": 30_000, "accounts": first["accounts"],
             "evaluation": first},
            {"seed": 2, "scale": 0.3, "requests": 31_000, "accounts": second["accounts"],
             "evaluation": second}]


def _counts(rate: dict[str, Any]) -> tuple[int, int]:
    """k and n of a pooled proportion, after checking it is the interval of k/n itself (not
    an average of the runs' intervals)."""
    assert rate == wilson(rate["k"], rate["n"])
    return rate["k"], rate["n"]


def test_pooling_sums_counts_and_recomputes_intervals() -> None:
    """Pooled proportions are intervals on counts summed over runs; ARI gives min and mean."""
    pooled = detection.pool(_runs())
    assert (pooled["runs"], pooled["requests"], pooled["accounts"]) == (2, 61_000, 1_000)
    assert (pooled["campaign_accounts"], pooled["flagged"]) == (30, 30)
    assert _counts(pooled["precision"]) == (27, 30)
    assert _counts(pooled["recall"]) == (27, 30)
    assert _counts(pooled["false_positive_rate"]) == (1, 900)
    assert _counts(pooled["recall_by_campaign"]["hydra"]) == (19, 20)
    assert _counts(pooled["recall_by_campaign"]["harvester"]) == (8, 10)
    # high: campaign 6 + 6 + 9 of those plus 2 look-alikes; moderate: 4 + 2 plus 1 ordinary
    assert _counts(pooled["precision_by_confidence"]["high"]) == (21, 23)
    assert _counts(pooled["precision_by_confidence"]["moderate"]) == (6, 7)
    assert (pooled["lookalikes_flagged"], pooled["ordinary_flagged"]) == (2, 1)
    assert pooled["adjusted_rand_index"] == {"min": 0.8, "mean": 0.9}
    rows = {(p["label"], p["group"]): p for p in pooled["populations"]}
    assert [k for k in rows] == [("campaign", "harvester"), ("campaign", "hydra"),
                                 ("lookalike", "batch"), ("ordinary", "ordinary")]
    assert (rows["campaign", "hydra"]["accounts"], rows["campaign", "hydra"]["flagged"]) == \
        (20, 19)
    assert _counts(rows["ordinary", "ordinary"]["rate"]) == (1, 900)
    assert sum(p["accounts"] for p in pooled["populations"]) == pooled["accounts"]


def test_document_is_deterministic_and_tables_show_every_run(tmp_path: Path) -> None:
    """The written JSON has no times, sorted keys and the same bytes twice; the tables list
    each run, the pooled row and every population, in text and in Markdown."""
    doc = detection.build_document(_runs(), detection.COMMAND, "0123abcd")
    assert doc["settings"]["flag_threshold"] == 0.5
    first, second = tmp_path / "a" / "benchmark.json", tmp_path / "b.json"
    detection.write_document(first, doc)
    again = detection.build_document(_runs(), detection.COMMAND, "0123abcd")
    detection.write_document(second, again)
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert list(tmp_path.joinpath("a").iterdir()) == [first]  # no temporary file left
    table = detection.format_tables(doc)
    assert "pooled (2 runs)" in table and "61,000" in table and "harvester" in table
    markdown = detection.format_tables(doc, markdown=True)
    assert "| seed | scale | requests |" in markdown and "| ordinary | ordinary |" in markdown


def test_configs_parse_seed_scale_pairs() -> None:
    """--configs takes SEED:SCALE pairs and refuses anything else."""
    assert detection.parse_configs("1:0.3, 2:3") == [(1, 0.3), (2, 3.0)]
    for bad in ("1", "a:1", "1:0", "1:1,1:1"):
        with pytest.raises(argparse.ArgumentTypeError):
            detection.parse_configs(bad)
