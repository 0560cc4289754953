"""The detection benchmark: several generated samples, the default thresholds, one JSON file.

`python -m bench.detection [--configs SEED:SCALE,…] [--out DIR] [--write PATH] [--markdown]`

For each (seed, scale) it generates a labelled sample with `forensics.sample.generate_sample`
(with pasted context, as the bundled sample; cached by seed, scale and generator digest), runs
the pipeline as `forensics run DATA --out OUT --force` does with no case config (so the same
default thresholds every time), and scores the
findings with `forensics evaluate --json`. It then pools the runs (counts summed, Wilson 95 %
intervals on the sums), prints a table, and writes a JSON document with sorted keys and no
times or dates, so that the same code and generator give the same bytes; timings go to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIGS: tuple[tuple[int, float], ...] = ((1, 3.0), (2, 3.0), (3, 3.0), (4, 10.0))
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "forensics-detection"
DEFAULT_OUT = REPO / "bench" / "detection-runs"
DEFAULT_WRITE = REPO / "forensics" / "validation" / "benchmark.json"
COMMAND = "python -m bench.detection"
SCHEMA = 1
# A run at this scale or more is the benchmark's large one (scale 1 ≈ 100,000 requests): it
# must really hold a million requests, or the benchmark's claim to cover one is false.
LARGE_SCALE = 10.0
LARGE_REQUESTS = 1_000_000
CONFIDENCES = ("high", "moderate")
LABEL_ORDER = {"campaign": 0, "lookalike": 1, "ordinary": 2}
COMPLETE_MARKER = ".detection-complete.json"


class DetectionError(Exception):
    """A run of the benchmark failed (the message says which and why)."""


def parse_configs(text: str) -> list[tuple[int, float]]:
    """'1:0.3,2:3' → [(1, 0.3), (2, 3.0)]: seed:scale pairs."""
    configs = []
    for part in text.split(","):
        seed, sep, scale = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            config = (int(seed), float(scale))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not SEED:SCALE (e.g. 1:0.3)") from None
        if config[1] <= 0:
            raise argparse.ArgumentTypeError(f"{part!r}: the scale must be positive")
        configs.append(config)
    if len(set(configs)) != len(configs):
        raise argparse.ArgumentTypeError(f"{text!r} names a configuration twice")
    return configs


def _label(seed: int, scale: float) -> str:
    return f"{seed}-{scale:g}"


def interval(k: int, n: int) -> dict[str, Any]:
    """k of n as a proportion with its Wilson 95 % interval, as `forensics evaluate` gives it."""
    from forensics.evaluate import wilson

    return dict(wilson(k, n))


# ---------------------------------------------------------------------------------------------
# Pooling: pure arithmetic on evaluation dicts (the shape of `forensics evaluate --json`).


def _pooled(evaluations: Sequence[dict[str, Any]],
            pick: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
    """The interval on the summed k and n of one proportion over runs (absent ones skipped)."""
    parts = [p for p in map(pick, evaluations) if p is not None]
    return interval(sum(p["k"] for p in parts), sum(p["n"] for p in parts))


def _population_key(row: dict[str, Any]) -> tuple[int, str, str]:
    return (LABEL_ORDER.get(row["label"], len(LABEL_ORDER)), row["label"], row["group"])


def pool(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The runs taken together: counts summed, proportions as intervals on the sums."""
    evaluations = [r["evaluation"] for r in runs]
    populations: dict[tuple[str, str], dict[str, Any]] = {}
    for e in evaluations:
        for row in e["populations"]:
            into = populations.setdefault((row["label"], row["group"]), {
                "label": row["label"], "group": row["group"], "accounts": 0, "flagged": 0,
                "by_confidence": {}})
            into["accounts"] += row["accounts"]
            into["flagged"] += row["flagged"]
            for confidence, count in row.get("by_confidence", {}).items():
                into["by_confidence"][confidence] = (into["by_confidence"].get(confidence, 0)
                                                     + count)
    pooled_populations = []
    for row in sorted(populations.values(), key=_population_key):
        row["rate"] = interval(row["flagged"], row["accounts"])
        pooled_populations.append(row)
    by_confidence = {}
    for confidence in CONFIDENCES:
        flagged_at = sum(p["by_confidence"].get(confidence, 0) for p in pooled_populations)
        campaign_at = sum(p["by_confidence"].get(confidence, 0) for p in pooled_populations
                          if p["label"] == "campaign")
        by_confidence[confidence] = interval(campaign_at, flagged_at)
    groups = sorted({g for e in evaluations for g in e["recall_by_campaign"]})
    aris = [float(e["adjusted_rand_index"]) for e in evaluations]
    return {
        "runs": len(runs),
        "requests": sum(r["requests"] for r in runs),
        "accounts": sum(e["accounts"] for e in evaluations),
        "campaign_accounts": sum(e["campaign_accounts"] for e in evaluations),
        "flagged": sum(e["flagged"] for e in evaluations),
        "precision": _pooled(evaluations, lambda e: e["precision"]),
        "recall": _pooled(evaluations, lambda e: e["recall"]),
        "false_positive_rate": _pooled(evaluations, lambda e: e["false_positive_rate"]),
        "precision_by_confidence": by_confidence,
        "recall_by_campaign": {g: _pooled(evaluations, _campaign_recall(g)) for g in groups},
        "populations": pooled_populations,
        "lookalikes_flagged": sum(_lookalikes_flagged(e) for e in evaluations),
        "ordinary_flagged": sum(e["ordinary_flagged"] for e in evaluations),
        # Flagged accounts the labels do not name (counted in flagged, not in precision).
        "unlabelled_flagged": sum(e.get("unlabelled_flagged", 0) for e in evaluations),
        "adjusted_rand_index": {"min": round(min(aris), 4) if aris else None,
                                "mean": round(sum(aris) / len(aris), 4) if aris else None},
    }


def _campaign_recall(group: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    def pick(evaluation: dict[str, Any]) -> dict[str, Any] | None:
        return evaluation["recall_by_campaign"].get(group)
    return pick


def _lookalikes_flagged(evaluation: dict[str, Any]) -> int:
    return sum(sum(by_conf.values()) for by_conf in evaluation["lookalikes_flagged"].values())


def settings() -> dict[str, Any]:
    """The scoring and linking thresholds every run uses: the defaults, read from the code."""
    from forensics.config import ScoringSection
    from forensics.linking import LinkingParams

    return dataclasses.asdict(LinkingParams.from_config(ScoringSection()))


def build_document(runs: Sequence[dict[str, Any]], command: str,
                   generator: str) -> dict[str, Any]:
    """The committed JSON: what was run, with what, each run's evaluation and the pool."""
    import forensics

    return {"schema": SCHEMA, "command": command, "tool_version": forensics.__version__,
            "generator": generator, "settings": settings(), "runs": list(runs),
            "pooled": pool(runs)}


def write_document(path: Path, doc: dict[str, Any]) -> None:
    """Write `doc` atomically (a temporary file beside it, then os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# Tables.


def _ci(p: dict[str, Any]) -> str:
    if not p["n"]:
        return "n/a"
    return f"{p['value']:.3f} [{p['low']:.3f}–{p['high']:.3f}]"


def _rate(p: dict[str, Any]) -> str:
    if not p["n"]:
        return "n/a"
    return f"{p['value']:.4f} [{p['low']:.4f}–{p['high']:.4f}]"


def _ari(value: Any) -> str:
    return "-" if value is None else f"{float(value):.3f}"


def _run_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["seed", "scale", "requests", "accounts", "precision [95% CI]", "recall [95% CI]",
            "FPR [95% CI]", "look-alikes flagged", "ARI"]
    rows = []
    for r in doc["runs"]:
        e = r["evaluation"]
        rows.append([str(r["seed"]), f"{r['scale']:g}", f"{r['requests']:,}",
                     f"{e['accounts']:,}", _ci(e["precision"]), _ci(e["recall"]),
                     _rate(e["false_positive_rate"]), f"{_lookalikes_flagged(e):,}",
                     _ari(e["adjusted_rand_index"])])
    p = doc["pooled"]
    ari = p["adjusted_rand_index"]
    rows.append([f"pooled ({p['runs']} runs)", "", f"{p['requests']:,}", f"{p['accounts']:,}",
                 _ci(p["precision"]), _ci(p["recall"]), _rate(p["false_positive_rate"]),
                 f"{p['lookalikes_flagged']:,}",
                 f"min {_ari(ari['min'])}, mean {_ari(ari['mean'])}"])
    return head, rows


def _population_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["label", "population", "accounts", "flagged", "rate [95% CI]", "high", "moderate"]
    rows = [[p["label"], p["group"], f"{p['accounts']:,}", f"{p['flagged']:,}",
             _rate(p["rate"]), f"{p['by_confidence'].get('high', 0):,}",
             f"{p['by_confidence'].get('moderate', 0):,}"]
            for p in doc["pooled"]["populations"]]
    return head, rows


def _text_table(head: list[str], rows: list[list[str]], left: int) -> list[str]:
    widths = [max(len(c) for c in col) for col in zip(head, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
    return [line(head), *map(line, rows)]


def _markdown_table(head: list[str], rows: list[list[str]], left: int) -> list[str]:
    align = ["---" if i < left else "---:" for i in range(len(head))]
    return ["| " + " | ".join(cells) + " |" for cells in (head, align, *rows)]


def format_tables(doc: dict[str, Any], markdown: bool = False) -> str:
    """The runs with the pooled row, then the pooled rate of each population."""
    table = _markdown_table if markdown else _text_table
    p = doc["pooled"]
    lines = [f"generator {doc['generator']}, forensics {doc['tool_version']}, default "
             f"thresholds (flag {doc['settings']['flag_threshold']}, high "
             f"{doc['settings']['high_threshold']}, min link weight "
             f"{doc['settings']['min_link_weight']}); Wilson 95 % intervals", ""]
    lines += table(*_run_rows(doc), left=1)
    confidence = ", ".join(f"{c} {_ci(p['precision_by_confidence'][c])}" for c in CONFIDENCES)
    lines += ["", f"pooled precision by confidence: {confidence}",
              f"pooled ordinary accounts flagged: {p['ordinary_flagged']:,}", ""]
    lines += table(*_population_rows(doc), left=2)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Running.


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(f"[detection] {message}", file=sys.stderr, flush=True)


def ensure_sample(cache: Path, seed: int, scale: float, generator: str,
                  quiet: bool) -> tuple[Path, int]:
    """The cached sample for (seed, scale, generator digest), generated if absent or
    incomplete; returns its folder and its request count (from the generator's summary)."""
    from forensics.sample import generate_sample

    root = cache / f"{_label(seed, scale)}-long-{generator}"
    marker = root / COMPLETE_MARKER
    if marker.is_file() and (root / "data").is_dir() and (root / "labels.csv").is_file():
        summary = json.loads(marker.read_text(encoding="utf-8"))
        _say(quiet, f"seed {seed}, scale {scale:g}: reusing {root}")
        return root, int(summary["requests"])
    _say(quiet, f"seed {seed}, scale {scale:g}: generating in {root}…")
    root.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    # With pasted context, as the bundled sample: prompts of realistic lengths.
    summary = generate_sample(root, seed=seed, scale=scale, force=True, long_prompts=True)
    # Written last: a sample interrupted mid-generation is never reused.
    marker.write_text(json.dumps({"seed": seed, "scale": scale, "requests": summary.requests,
                                  "accounts": summary.accounts}, indent=2, sort_keys=True)
                      + "\n", encoding="utf-8")
    _say(quiet, f"seed {seed}, scale {scale:g}: {summary.requests:,} requests generated in "
                f"{time.perf_counter() - start:.1f} s")
    return root, summary.requests


def _forensics_command() -> list[str]:
    """The `forensics` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("forensics")
    if script.is_file():
        return [str(script)]
    found = shutil.which("forensics")
    if found:
        return [found]
    return [sys.executable, "-c", "from forensics.cli import main; main()"]


def _run(args: list[str], log: Path) -> str:
    """Run `forensics ARGS`; stderr to `log`; stdout returned. A failure raises with the tail."""
    with open(log, "ab") as err:
        proc = subprocess.run([*_forensics_command(), *args], stdout=subprocess.PIPE,
                              stderr=err, check=False)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-6:]
        raise DetectionError(f"forensics {args[0]} failed (exit {proc.returncode}): "
                             + " | ".join(tail) + f" (log: {log})")
    return proc.stdout.decode("utf-8")


def _prepare_out(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ignore = out / ".gitignore"
    if not ignore.exists():  # run folders are scratch: keep them out of `git status`
        ignore.write_text("*\n", encoding="utf-8")


def run_config(seed: int, scale: float, cache: Path, out: Path, generator: str,
               quiet: bool) -> dict[str, Any]:
    """Generate (or reuse), run the pipeline with defaults, evaluate: one entry of `runs`."""
    root, requests = ensure_sample(cache, seed, scale, generator, quiet)
    if scale >= LARGE_SCALE and requests < LARGE_REQUESTS:
        raise DetectionError(f"seed {seed}, scale {scale:g}: the large run has only "
                             f"{requests:,} requests (at least {LARGE_REQUESTS:,} needed)")
    run_dir = out / _label(seed, scale)
    log = out / f"{_label(seed, scale)}.log"
    log.unlink(missing_ok=True)
    start = time.perf_counter()
    _run(["run", str(root / "data"), "--out", str(run_dir), "--force"], log)
    run_s = time.perf_counter() - start
    evaluation = json.loads(_run(["evaluate", "--findings", str(run_dir), "--labels",
                                  str(root / "labels.csv"), "--json"], log))
    _say(quiet, f"seed {seed}, scale {scale:g}: pipeline {run_s:.1f} s, evaluated "
                f"{evaluation['accounts']:,} accounts")
    return {"seed": seed, "scale": scale, "requests": requests,
            "accounts": evaluation["accounts"], "evaluation": evaluation}


def _command(configs: Sequence[tuple[int, float]]) -> str:
    if tuple(configs) == DEFAULT_CONFIGS:
        return COMMAND
    return f"{COMMAND} --configs " + ",".join(f"{s}:{c:g}" for s, c in configs)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m bench.detection`."""
    p = argparse.ArgumentParser(
        prog=COMMAND,
        description="Generate labelled samples, run the pipeline with its default thresholds "
                    "on each, evaluate, pool, print a table and write a JSON file.")
    default = ",".join(f"{s}:{c:g}" for s, c in DEFAULT_CONFIGS)
    p.add_argument("--configs", type=parse_configs, default=list(DEFAULT_CONFIGS),
                   help=f"SEED:SCALE pairs (default {default}; scale 1 ≈ 100,000 requests)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="folder of the run outputs and logs (default bench/detection-runs)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help=f"folder of the generated samples (default {DEFAULT_CACHE})")
    p.add_argument("--write", type=Path, default=DEFAULT_WRITE,
                   help="the JSON file to write (default forensics/validation/benchmark.json)")
    p.add_argument("--show", type=Path, metavar="JSON",
                   help="print the tables of an existing benchmark JSON; run nothing")
    p.add_argument("--markdown", action="store_true",
                   help="print the tables in Markdown (as in the README)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run every configuration (or --show one file), write the JSON, print the tables."""
    from forensics.errors import ForensicsError

    args = build_parser().parse_args(argv)
    if args.show:
        doc = json.loads(args.show.read_text(encoding="utf-8"))
        print(format_tables(doc, markdown=args.markdown))
        return 0
    from bench.harness import generator_fingerprint

    _prepare_out(args.out)
    runs = []
    start = time.perf_counter()
    # One digest for the whole benchmark: it names the cached samples and the document.
    generator = generator_fingerprint()
    try:
        for seed, scale in args.configs:
            runs.append(run_config(seed, scale, args.cache, args.out, generator, args.quiet))
        if generator_fingerprint() != generator:
            raise DetectionError(f"the sample generator changed during the benchmark (digest "
                                 f"{generator} → {generator_fingerprint()}); nothing written")
    except (DetectionError, ForensicsError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    doc = build_document(runs, _command(args.configs), generator)
    write_document(args.write, doc)
    _say(args.quiet, f"{len(runs)} run(s) in {time.perf_counter() - start:.1f} s; wrote "
                     f"{args.write}")
    print(format_tables(doc, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
