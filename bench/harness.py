"""The benchmark: data sets per size, one subprocess per measurement, a table and a JSON file.

For each size it generates (or reuses, or takes with --data) a data set, warms the page cache,
then measures in separate processes the baseline (one DuckDB scan of the requests Parquet with
one regex) and the real pipeline (`forensics.api.run`). The headline figure is the pipeline's
total seconds divided by the baseline's. Generation time is reported, never counted.
Generated prompts carry pasted context by default (`generate_sample(long_prompts=True)`), so
the text scanned has realistic lengths; --short-prompts measures the generator's bare prompts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = "100000,1000000"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "forensics-bench"
REQUESTS_PER_SCALE = 150_000  # forensics.sample: scale 1.0 ≈ 150k requests (1.52 M at scale 10)
COMPLETE_MARKER = ".bench-complete.json"
SLOWEST_HEURISTICS = 5
# The pipeline's stages in the order they run; stages not listed follow in name order.
STAGE_ORDER = ("ingest", "features", "heuristics", "linking", "scoring", "evidence", "charts",
               "report", "render")
JSON_VERSION = 1
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


class BenchError(Exception):
    """A measurement could not be made (the message says which and why)."""


@dataclass(frozen=True)
class Dataset:
    """A data directory to measure, and how it came to be."""

    label: str
    size: int | None  # requested size; None for --data
    data_dir: Path
    generation: dict[str, Any] | None  # seconds, peak RSS, summary; None for --data
    reused: bool


@dataclass(frozen=True)
class Child:
    """What one measurement subprocess did: its result file, wall time and peak RSS."""

    result: dict[str, Any]
    wall_s: float
    peak_rss_mib: float
    cpu_s: float  # user + system CPU seconds of the child: less sensitive to other load
    load_before: float  # 1-minute load average when it started (other work on the machine)


def parse_sizes(text: str) -> list[int]:
    """'100000,1M,5m,250k' → [100000, 1000000, 5000000, 250000]."""
    sizes = []
    for part in text.split(","):
        m = _SIZE.match(part)
        if not m:
            raise argparse.ArgumentTypeError(f"{part!r} is not a size (e.g. 100000, 250k, 1M)")
        factor = {"": 1, "k": 1_000, "m": 1_000_000}[m[2].lower()]
        size = int(float(m[1]) * factor)
        if size <= 0:
            raise argparse.ArgumentTypeError(f"{part!r}: a size must be positive")
        sizes.append(size)
    return sizes


def run_child(kind: str, args: Sequence[str], log_dir: Path) -> Child:
    """Run `python -m bench.worker kind …` and collect its result, wall time and peak RSS.

    `os.wait4` returns the rusage of this one child, so its ru_maxrss is the peak of this
    measurement only (RUSAGE_CHILDREN would be the maximum over every child so far).
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    result_path = log_dir / f"{kind}.result.json"
    result_path.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "bench.worker", kind, *args, "--result", str(result_path)]
    load = os.getloadavg()[0]
    with open(log_dir / f"{kind}.stdout", "wb") as out, \
            open(log_dir / f"{kind}.stderr", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
    if proc.returncode != 0 or not result_path.is_file():
        tail = (log_dir / f"{kind}.stderr").read_text(errors="replace").strip().splitlines()
        raise BenchError(f"{kind} failed (exit {proc.returncode}): "
                         + " | ".join(tail[-6:]) + f" (logs in {log_dir})")
    # Linux reports ru_maxrss in KiB.
    return Child(json.loads(result_path.read_text(encoding="utf-8")), round(wall, 3),
                 round(usage.ru_maxrss / 1024, 1), round(usage.ru_utime + usage.ru_stime, 2),
                 round(load, 2))


def generator_fingerprint() -> str:
    """A short digest of the sample generator's code and texts.

    Part of the cache key: a data set made by an older generator is not silently reused.
    """
    import forensics

    package = Path(forensics.__file__).resolve().parent
    digest = hashlib.sha256()
    paths = sorted((package / "sample").glob("*.py"))
    text_dir = package / "sample_text"
    if text_dir.is_dir():
        paths += sorted(p for p in text_dir.rglob("*") if p.is_file())
    for path in paths:
        if path.is_file():
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def dataset_label(size: int, seed: int, long_prompts: bool) -> str:
    """How results and the cache name a generated data set: '100000-7-long'."""
    return f"{size}-{seed}-{'long' if long_prompts else 'short'}"


def ensure_dataset(cache: Path, size: int, seed: int, log_dir: Path,
                   progress: bool, long_prompts: bool = True) -> Dataset:
    """The cached data set for (size, seed, prompt lengths, generator), generated if absent or
    incomplete. Long and short prompts are different data sets, cached apart."""
    label = dataset_label(size, seed, long_prompts)
    root = cache / f"{label}-{generator_fingerprint()}"
    marker = root / COMPLETE_MARKER
    if marker.is_file() and (root / "data").is_dir():
        generation = json.loads(marker.read_text(encoding="utf-8"))
        return Dataset(label, size, root / "data", generation, reused=True)
    scale = size / REQUESTS_PER_SCALE
    prompts = "long" if long_prompts else "short"
    _say(progress, f"generating {size:,} requests (scale {scale:g}, seed {seed}, {prompts} "
                   f"prompts) in {root}…")
    root.parent.mkdir(parents=True, exist_ok=True)
    child = run_child("generate", ["--out", str(root), "--seed", str(seed),
                                   "--scale", repr(scale),
                                   *(["--long-prompts"] if long_prompts else [])],
                      log_dir / label)
    generation = {"seconds": child.result["seconds"], "wall_s": child.wall_s,
                  "peak_rss_mib": child.peak_rss_mib, "cpu_s": child.cpu_s, "scale": scale,
                  "seed": seed, "long_prompts": long_prompts,
                  "summary": child.result.get("summary")}
    # Written last: a data set interrupted mid-generation is never reused.
    marker.write_text(json.dumps(generation, indent=2, sort_keys=True, default=str) + "\n",
                      encoding="utf-8")
    _say(progress, f"generated in {child.wall_s:.1f} s")
    return Dataset(label, size, root / "data", generation, reused=False)


def dataset_stats(data_dir: Path) -> dict[str, Any]:
    """Bytes per table and request rows (from the Parquet footers, without reading data)."""
    import pyarrow.parquet as pq

    from forensics.ingest import discover

    found, _ = discover(data_dir)
    tables: dict[str, int] = {}
    for name, paths in found.items():
        tables[name] = sum(p.stat().st_size for p in paths)
    rows = sum(pq.read_metadata(p).num_rows for p in found.get("requests", [])
               if p.suffix.lower() == ".parquet")
    return {"bytes": sum(tables.values()), "table_bytes": tables, "requests": rows,
            "files": sum(len(p) for p in found.values())}


def warm_cache(data_dir: Path) -> float:
    """Read every file once so that baseline and pipeline both start from the page cache."""
    start = time.perf_counter()
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 24):
                    pass
    return round(time.perf_counter() - start, 3)


def engine_settings(memory_limit: str | None, threads: int | None, engine: str = "duckdb",
                    spark_driver_memory: str | None = None) -> dict[str, Any]:
    """The engine settings both measurements use: the pipeline's defaults unless overridden.
    With `engine` spark the pipeline runs features, heuristics and linking on Spark in local
    mode (the baseline stays one DuckDB scan)."""
    from forensics.config import EngineSection

    default = EngineSection()
    settings = {"memory_limit": memory_limit or default.memory_limit,
                # forensics.engine.connect's own rule when threads is not set
                "threads": threads or default.threads or max(1, os.cpu_count() or 1)}
    if engine != "duckdb":
        settings.update(name=engine, spark_driver_memory=(spark_driver_memory
                                                          or default.spark_driver_memory))
    return settings


def measure_dataset(dataset: Dataset, settings: dict[str, Any], work: Path, repeat: int,
                    stages_only: bool, progress: bool, queries: Path | None = None,
                    trace: str | None = None, workdir: bool = False,
                    rerun: bool = False) -> dict[str, Any]:
    """Baseline and pipeline on one data set; the best (fastest) of `repeat` runs of each.
    With `rerun`, each pipeline run is followed by a second one on the database it kept."""
    stats = dataset_stats(dataset.data_dir)
    warm_s = warm_cache(dataset.data_dir)
    runs: list[dict[str, Any]] = []
    baselines: list[dict[str, Any]] = []
    for i in range(repeat):
        tag = f"{dataset.label}/{i + 1}" if repeat > 1 else dataset.label
        log_dir = work / tag
        if not stages_only:
            _say(progress, f"[{tag}] baseline…")
            baselines.append(_baseline(dataset, settings, log_dir))
            _say(progress, f"[{tag}] baseline {baselines[-1]['seconds']:.2f} s")
        _say(progress, f"[{tag}] pipeline…")
        runs.append(_pipeline(dataset, settings, log_dir, queries, trace, workdir or rerun,
                              rerun))
        _say(progress, f"[{tag}] pipeline {runs[-1]['total_s']:.2f} s, "
                       f"peak RSS {runs[-1]['peak_rss_mib']:.0f} MiB")
    best = min(runs, key=lambda r: r["total_s"])
    baseline = min(baselines, key=lambda b: b["seconds"]) if baselines else None
    ratio = (round(best["total_s"] / baseline["seconds"], 2)
             if baseline and baseline["seconds"] > 0 else None)
    # CPU seconds of the whole processes (start-up included on both sides): a cross-check of
    # the ratio when other work on the machine inflates wall times.
    cpu_ratio = (round(best["cpu_s"] / baseline["cpu_s"], 2)
                 if baseline and baseline["cpu_s"] > 0 else None)
    again = best.get("rerun")
    rerun_ratio = (round(again["total_s"] / baseline["seconds"], 2)
                   if again and baseline and baseline["seconds"] > 0 else None)
    return {
        "label": dataset.label,
        "size": dataset.size,
        "requests": stats["requests"],
        "data_dir": str(dataset.data_dir),
        "dataset": stats,
        "generation": dataset.generation,
        "generation_reused": dataset.reused,
        "warm_cache_s": warm_s,
        "baseline": baseline,
        "pipeline": best,
        "ratio": ratio,
        "cpu_ratio": cpu_ratio,
        "rerun_ratio": rerun_ratio,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "repeats": {"pipeline": [r["total_s"] for r in runs],
                    "baseline": [b["seconds"] for b in baselines]},
    }


def _engine_file(settings: dict[str, Any], log_dir: Path, kind: str) -> Path:
    # A spill folder per measurement, so its size is measured without other runs' files.
    spill = log_dir / f"spill-{kind}"
    shutil.rmtree(spill, ignore_errors=True)
    path = log_dir / f"{kind}.engine.json"
    log_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**settings, "temp_directory": str(spill)}), encoding="utf-8")
    return path


def _baseline(dataset: Dataset, settings: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    engine = _engine_file(settings, log_dir, "baseline")
    child = run_child("baseline", ["--data", str(dataset.data_dir), "--engine", str(engine)],
                      log_dir)
    return {**child.result, "wall_s": child.wall_s, "peak_rss_mib": child.peak_rss_mib,
            "cpu_s": child.cpu_s, "load_before": child.load_before}


def _pipeline(dataset: Dataset, settings: dict[str, Any], log_dir: Path,
              queries: Path | None, trace: str | None, workdir: bool,
              rerun: bool = False) -> dict[str, Any]:
    engine = _engine_file(settings, log_dir, "pipeline")
    out = log_dir / "run"
    extra = ["--queries", str(queries)] if queries else []
    if workdir:
        db = log_dir / "workdir"
        shutil.rmtree(db, ignore_errors=True)  # a fresh database: nothing reused from a rerun
        extra += ["--workdir", str(db)]
    if trace == "statements":
        extra.append("--trace")
    elif trace == "profile":
        extra += ["--profile-dir", str(log_dir / "profiles")]
    args = ["--data", str(dataset.data_dir), "--engine", str(engine), "--out", str(out), *extra]
    child = run_child("pipeline", args, log_dir)
    again = None
    if rerun:
        # The same command on the database the first run kept: what trying other thresholds
        # on the same export costs (the input checks and the features are reused).
        second = run_child("pipeline", args, log_dir / "rerun")
        timings = second.result.get("timings", {})
        again = {"total_s": second.result["total_s"],
                 "stages": _ordered(timings.get("stages") or {}),
                 "validation_reused": timings.get("validation_reused"),
                 "features_reused": timings.get("features_reused"),
                 "wall_s": second.wall_s, "peak_rss_mib": second.peak_rss_mib,
                 "cpu_s": second.cpu_s}
    database_bytes = None
    if workdir:
        # The database is a by-product, not an output: keep its size, not its gigabytes.
        database_bytes = sum(p.stat().st_size for p in (log_dir / "workdir").rglob("*")
                             if p.is_file())
        shutil.rmtree(log_dir / "workdir", ignore_errors=True)
    result = child.result
    timings = result.get("timings", {})
    stages = _ordered(timings.get("stages") or result.get("stages") or {})
    heuristics = timings.get("heuristics") or {}
    slowest = sorted(heuristics.items(), key=lambda kv: (-kv[1], kv[0]))[:SLOWEST_HEURISTICS]
    return {
        "total_s": result["total_s"],
        "stages": stages,
        "other_s": round(result["total_s"] - sum(stages.values()), 3),
        "slowest_heuristics": [{"id": h, "seconds": s} for h, s in slowest],
        "heuristics": heuristics,
        # The report stage's parts (queries, charts, PDF…) and each report query's seconds.
        "report": timings.get("report") or {},
        "wall_s": child.wall_s,
        # The child's own peak (wait4), or the sampled peak of its process tree where that is
        # higher: a Spark run's JVM and Python workers are the child's children.
        "peak_rss_mib": max([child.peak_rss_mib,
                             *(result.get("stage_peak_rss_mib") or {}).values()]),
        "cpu_s": child.cpu_s,
        "load_before": child.load_before,
        "stage_peak_rss_mib": result.get("stage_peak_rss_mib"),
        "stage_peak_spill_bytes": result.get("stage_peak_spill_bytes"),
        "summary": result.get("summary"),
        "slowest_statements": result.get("slowest_statements"),
        "database_bytes": database_bytes,
        "rerun": again,
        "out_dir": str(out),
    }


def _ordered(stages: dict[str, float]) -> dict[str, float]:
    """Stages in pipeline order (timings.json may list them by name)."""
    def rank(name: str) -> tuple[int, str]:
        return (STAGE_ORDER.index(name) if name in STAGE_ORDER else len(STAGE_ORDER), name)

    return {name: stages[name] for name in sorted(stages, key=rank)}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    versions = {}
    for name in ("duckdb", "pyarrow", "polars", "forensics"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_bytes": ram, "ram_gib": round(ram / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "versions": versions, "git": _git_state()}


def _git_state() -> str | None:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def format_table(doc: dict[str, Any]) -> str:
    """The results as a fixed-width text table, with the machine and the slowest heuristics."""
    results = doc["results"]
    stages: list[str] = []
    for r in results:
        for name in r["pipeline"]["stages"]:
            if name not in stages:
                stages.append(name)
    head = (["size", "requests", "baseline s"] + [f"{s} s" for s in stages]
            + ["other s", "total s", "ratio", "cpu ratio", "peak RSS MiB", "data MiB",
               "load"])
    rows = []
    for r in results:
        p = r["pipeline"]
        base = r["baseline"]
        rows.append([r["label"], f"{r['requests']:,}",
                     f"{base['seconds']:.2f}" if base else "-"]
                    + [f"{p['stages'][s]:.2f}" if s in p["stages"] else "-" for s in stages]
                    + [f"{p['other_s']:.2f}", f"{p['total_s']:.2f}",
                       f"{r['ratio']:.1f}×" if r["ratio"] is not None else "-",
                       f"{r['cpu_ratio']:.1f}×" if r["cpu_ratio"] is not None else "-",
                       f"{r['peak_rss_mib']:,.0f}", f"{r['dataset']['bytes'] / 2**20:,.0f}",
                       f"{p['load_before']:.1f}"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    m = doc["machine"]
    s = doc["settings"]
    lines += ["", "ratio = total s / baseline s; cpu ratio = CPU seconds of the two processes; "
                  "load = 1-minute load average when the run started",
              f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; "
                  f"python {m['python']}, duckdb {m['versions']['duckdb']}; "
                  f"engine: threads {s['threads']}, memory_limit {s['memory_limit']}"]
    for r in results:
        slow = ", ".join(f"{h['id']} {h['seconds']:.2f}"
                         for h in r["pipeline"]["slowest_heuristics"])
        gen = r["generation"]
        made = ("given with --data" if gen is None else
                f"generated in {gen['wall_s']:.1f} s" + (" (cached)" if r["generation_reused"]
                                                         else ""))
        lines.append(f"{r['label']}: data {made}; slowest heuristics: {slow or 'none'}")
        again = r["pipeline"].get("rerun")
        if again:
            ratio = f" ({r['rerun_ratio']:.1f}×)" if r.get("rerun_ratio") is not None else ""
            reused = ", ".join(f"{what} {'reused' if again.get(key) else 'NOT reused'}"
                               for what, key in (("input checks", "validation_reused"),
                                                 ("features", "features_reused")))
            lines.append(f"{r['label']}: rerun on the kept database ({reused}): "
                         f"{again['total_s']:.2f} s{ratio}, peak RSS "
                         f"{again['peak_rss_mib']:,.0f} MiB")
    for e in doc.get("errors", []):
        lines.append(f"{e['label']}: FAILED: {e['error']}")
    return "\n".join(lines)


def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"[bench] {message}", file=sys.stderr, flush=True)


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # Not sorted: stages keep their pipeline order.
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m bench`."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time every stage of `forensics run` against one DuckDB scan of the same "
                    "Parquet files, at several sizes; print a table and write JSON.")
    p.add_argument("--sizes", type=parse_sizes,
                   help=f"request counts to generate and measure (default {DEFAULT_SIZES}; "
                        f"k and M suffixes allowed)")
    p.add_argument("--data", type=Path, help="measure this data directory instead of "
                                             "generating (excludes --sizes)")
    p.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    prompts = p.add_mutually_exclusive_group()
    prompts.add_argument("--long-prompts", dest="long_prompts", action="store_true",
                         default=True,
                         help="generate prompts with pasted context, hundreds to a few "
                              "thousand characters, as real traffic has (the default)")
    prompts.add_argument("--short-prompts", dest="long_prompts", action="store_false",
                         help="generate the sample generator's bare prompts, without "
                              "pasted context (the bundled sample has it)")
    p.add_argument("--out", type=Path, default=Path("bench/results.json"),
                   help="JSON results file (default bench/results.json)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help=f"where generated data sets are kept and reused, per size, seed, "
                        f"prompt lengths and generator version (default {DEFAULT_CACHE})")
    p.add_argument("--keep", type=Path, help="keep run outputs and logs in this folder "
                                             "(default: a temporary folder, removed)")
    p.add_argument("--stages-only", action="store_true",
                   help="skip the baseline scan (stage times only; no ratio)")
    p.add_argument("--repeat", type=int, default=1,
                   help="measure each size this many times and keep the fastest (default 1)")
    p.add_argument("--memory-limit", help="DuckDB memory_limit for both measurements "
                                          "(default: the pipeline's default)")
    p.add_argument("--threads", type=int, help="DuckDB threads for both measurements "
                                               "(default: the pipeline's default)")
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="where the pipeline runs features, heuristics and linking (spark: "
                        "local mode on every core, needs forensics[spark] and Java)")
    p.add_argument("--spark-driver-memory",
                   help="the Spark driver's memory with --engine spark (default: the "
                        "pipeline's default)")
    p.add_argument("--queries", type=Path, help="run this heuristic library instead of the "
                                                "bundled one (as `forensics run --queries`)")
    p.add_argument("--trace", choices=("statements", "profile"),
                   help="statements: time every SQL statement of the run and list the slowest; "
                        "profile: also write DuckDB's JSON profile of each (slower, so the "
                        "stage times are then not the headline figures)")
    p.add_argument("--workdir", action="store_true",
                   help="keep the pipeline's DuckDB database in the run folder (as `forensics "
                        "run --workdir`) instead of a scratch file, and report its size")
    p.add_argument("--rerun", action="store_true",
                   help="after each pipeline run, run it again on the database it kept (implies "
                        "--workdir): the cost of a rerun with other thresholds, features reused")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit code (1 when a measurement failed)."""
    args = build_parser().parse_args(argv)
    if args.data is not None and args.sizes is not None:
        build_parser().error("give either --data or --sizes, not both")
    if args.repeat < 1:
        build_parser().error("--repeat must be at least 1")
    progress = not args.quiet
    work = args.keep or Path(tempfile.mkdtemp(prefix="forensics-bench-run-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = engine_settings(args.memory_limit, args.threads, args.engine,
                               args.spark_driver_memory)
    doc: dict[str, Any] = {
        "version": JSON_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": ["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])],
        "machine": machine(),
        "settings": {**settings, "seed": args.seed,
                     # None with --data: the prompts are whatever the export holds.
                     "long_prompts": args.long_prompts if args.data is None else None,
                     "repeat": args.repeat,
                     "stages_only": args.stages_only, "cache": "warm",
                     "queries": str(args.queries) if args.queries else "bundled",
                     "trace": args.trace, "workdir": args.workdir or args.rerun,
                     "rerun": args.rerun,
                     "baseline_pattern": _baseline_pattern()},
        "results": [],
        "errors": [],
    }
    try:
        for target in (["data"] if args.data is not None
                       else args.sizes or parse_sizes(DEFAULT_SIZES)):
            label = ("data" if not isinstance(target, int)
                     else dataset_label(target, args.seed, args.long_prompts))
            try:
                if isinstance(target, int):
                    dataset = ensure_dataset(args.cache, target, args.seed, work, progress,
                                             args.long_prompts)
                else:
                    dataset = Dataset("data", None, args.data, None, reused=False)
                doc["results"].append(measure_dataset(dataset, settings, work, args.repeat,
                                                      args.stages_only, progress, args.queries,
                                                      args.trace, args.workdir,
                                                      args.rerun))
            except BenchError as exc:
                doc["errors"].append({"label": label, "error": str(exc)})
                _say(progress, f"{label}: {exc}")
            _write(args.out, doc)  # after every size: a long run keeps what it measured
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(format_table(doc))
    print(f"wrote {args.out}")
    return 1 if doc["errors"] else 0


def _baseline_pattern() -> str:
    from bench.worker import BASELINE_PATTERN

    return BASELINE_PATTERN
