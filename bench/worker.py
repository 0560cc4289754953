"""One measurement in its own process: generate a data set, run the pipeline, or the baseline.

The harness starts `python -m bench.worker <kind> … --result FILE` once per measurement, so
that the peak RSS it reads with `os.wait4` belongs to that measurement alone. The worker writes
what it measured as JSON to FILE; the harness adds the process figures (wall time, peak RSS).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The one regular expression of the baseline: a typical lexicon phrase, case-insensitive, over
# the prompt and the system prompt (what every content heuristic must at least do).
BASELINE_PATTERN = "(?i)step by step"
SAMPLE_SECONDS = 0.05
TRACED_STATEMENTS = 15


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")


def _process_rss_kib(pid: int | str) -> int:
    """Resident memory of one process, in KiB (Linux /proc); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (a Spark run's JVM and its Python workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                # The parent pid follows the command name, which is in parentheses and may
                # hold spaces.
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _rss_mib() -> float:
    """Resident memory of this process and every process below it, in MiB: for a DuckDB run
    this process alone, for a Spark run also its JVM and Python workers."""
    me = os.getpid()
    return sum(_process_rss_kib(p) for p in [me, *_descendants(me)]) / 1024


def _dir_bytes(path: Path) -> int:
    """Bytes of the files directly under `path` (DuckDB's spill files live there, flat)."""
    total = 0
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue  # a spill file removed between listing and stat
    except OSError:
        return 0
    return total


def _spill_bytes(temp_directory: Path) -> int:
    """Bytes of DuckDB's spill files under a temp_directory: a run spills into the `spill`
    folder of its own scratch folder there (forensics.engine.database), a --workdir run
    without one flat into the folder."""
    from forensics.engine import SCRATCH_PREFIX

    total = _dir_bytes(temp_directory)
    try:
        scratch = [p for p in temp_directory.iterdir() if p.name.startswith(SCRATCH_PREFIX)]
    except OSError:
        return total
    return total + sum(_dir_bytes(p / "spill") for p in scratch)


class Sampler:
    """Samples RSS and spill-directory size in a thread, attributed to the current stage.

    The pipeline reports stage starts through its progress callback ("ingest…"); peaks are
    kept per stage so the JSON says which stage sets the peak, not only the peak itself.
    """

    def __init__(self, spill_dir: Path | None) -> None:
        self.spill_dir = spill_dir
        self.stage = "startup"
        self.step = ""  # the heuristic running, within the heuristics stage
        self.rss_peak: dict[str, float] = {}
        self.spill_peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)

    def progress(self, message: str) -> None:
        """The pipeline's progress callback: a message ending in "…" starts a stage."""
        if message.endswith("…"):
            self.stage = message[:-1]
            self.step = ""
        elif message.startswith("heuristic "):
            self.step = message.removeprefix("heuristic ")

    def where(self) -> str:
        """The stage (and heuristic) running now, e.g. "heuristics:harvest_shape"."""
        return f"{self.stage}:{self.step}" if self.step else self.stage

    def _sample(self) -> None:
        stage = self.stage
        self.rss_peak[stage] = round(max(self.rss_peak.get(stage, 0.0), _rss_mib()), 1)
        if self.spill_dir is not None:
            self.spill_peak[stage] = max(self.spill_peak.get(stage, 0),
                                         _spill_bytes(self.spill_dir))

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    @contextmanager
    def running(self) -> Iterator[Sampler]:
        """Sample while the body runs (and once more at the end)."""
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self._sample()


def _engine(settings: dict[str, Any]) -> Any:
    from forensics.config import EngineSection

    return EngineSection(**{k: v for k, v in settings.items() if v is not None})


def run_pipeline(args: argparse.Namespace) -> dict[str, Any]:
    """The real pipeline (`forensics.api.run`) on the data set, as a user runs it."""
    from forensics import api
    from forensics.config import CaseConfig, RunConfig

    settings = _read_json(Path(args.engine))
    engine = _engine(settings)
    out_dir = Path(args.out)
    config = RunConfig(data_dir=Path(args.data), out_dir=out_dir, force=True,
                       case=CaseConfig(engine=engine),
                       queries_dir=Path(args.queries) if args.queries else None,
                       workdir=Path(args.workdir) if args.workdir else None,
                       command_line=("python", "-m", "bench.worker", "pipeline"))
    spill = Path(engine.temp_directory) if engine.temp_directory else None
    sampler = Sampler(spill)
    statements = None
    if args.trace or args.profile_dir:
        from bench import trace

        profile_dir = Path(args.profile_dir) if args.profile_dir else None
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)
        statements = trace.Trace(sampler.where, profile_dir)
        trace.install(statements)
    with sampler.running():
        start = time.perf_counter()
        result = api.run(config, sampler.progress)
        total = time.perf_counter() - start
    timings = _read_json(out_dir / "diagnostics" / "timings.json")
    traced = None
    if statements is not None:
        traced = statements.slowest(TRACED_STATEMENTS)
        for st in traced:
            if st["profile"] and Path(st["profile"]).is_file():
                st["operators"] = trace.top_operators(Path(st["profile"]))
    return {
        "total_s": round(total, 3),
        "stages": dict(result.timings.stages),
        "timings": timings,
        "summary": result.summary.as_dict(),
        "requests_analysed": result.summary.requests_analysed,
        "stage_peak_rss_mib": sampler.rss_peak,
        "stage_peak_spill_bytes": sampler.spill_peak,
        "slowest_statements": traced,
    }


def baseline_sql(files: list[str], columns: dict[str, str]) -> str:
    """One pass over the requests files: every column read, one regex over the prompts.

    Each column goes through an aggregate that must decode every value (`max(length(…))` for
    text, `max(…)` otherwise); `count(col)` would not do, since DuckDB may answer it from the
    Parquet statistics without reading the column.
    """
    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def lit(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    reads = [f"max(length({q(c)}))" if t == "VARCHAR" else f"max({q(c)})"
             for c, t in columns.items()]
    pattern = lit(BASELINE_PATTERN)
    system = (f" OR regexp_matches(coalesce({q('system_prompt')}, ''), {pattern})"
              if "system_prompt" in columns else "")
    paths = ", ".join(lit(f) for f in files)
    return (f"SELECT count(*) AS requests, count(*) FILTER (WHERE regexp_matches("
            f"{q('prompt')}, {pattern}){system}) AS matches, {', '.join(reads)} "
            f"FROM read_parquet([{paths}], union_by_name = true)")


def request_columns(con: Any, files: list[str]) -> dict[str, str]:
    """The contract's request columns that the files hold, with their DuckDB types."""
    from forensics import schema

    paths = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet([{paths}], "
                       f"union_by_name = true)").fetchall()
    present = {str(r[0]): str(r[1]) for r in rows}
    return {c: present[c] for c in schema.REQUESTS.names if c in present}


def run_baseline(args: argparse.Namespace) -> dict[str, Any]:
    """The unavoidable cost: one DuckDB scan with the pipeline's engine settings."""
    from forensics import engine
    from forensics.ingest import discover

    settings = _read_json(Path(args.engine))
    found, problems = discover(Path(args.data))
    if "requests" not in found:
        raise SystemExit(f"no requests files in {args.data}: {problems}")
    files = [str(p) for p in found["requests"] if p.suffix.lower() == ".parquet"]
    con = engine.connect(_engine(settings))
    try:
        columns = request_columns(con, files)
        sql = baseline_sql(files, columns)
        start = time.perf_counter()
        row = con.execute(sql).fetchone()
        seconds = time.perf_counter() - start
    finally:
        con.close()
    assert row is not None
    return {"seconds": round(seconds, 3), "requests": int(row[0]), "matches": int(row[1]),
            "columns": list(columns), "pattern": BASELINE_PATTERN}


def run_generate(args: argparse.Namespace) -> dict[str, Any]:
    """The sample generator at a scale (timed, but never counted in the pipeline's figures)."""
    from forensics.sample import generate_sample

    start = time.perf_counter()
    summary = generate_sample(Path(args.out), seed=args.seed, scale=args.scale, force=True,
                              long_prompts=args.long_prompts)
    seconds = time.perf_counter() - start
    described: Any = summary
    if dataclasses.is_dataclass(summary) and not isinstance(summary, type):
        described = dataclasses.asdict(summary)
    if isinstance(described, dict):
        described.pop("files", None)  # one line per part file: long at 10 M and not a figure
    return {"seconds": round(seconds, 3), "summary": described}


def main(argv: list[str] | None = None) -> None:
    """Parse the worker's arguments, measure, write the result file."""
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("kind", choices=("pipeline", "baseline", "generate"))
    parser.add_argument("--data", help="data directory (pipeline, baseline)")
    parser.add_argument("--out", help="run output folder (pipeline) or sample folder")
    parser.add_argument("--engine", help="JSON file with the EngineSection settings")
    parser.add_argument("--queries", help="heuristic library folder (pipeline)")
    parser.add_argument("--workdir", help="DuckDB database folder (pipeline; default memory)")
    parser.add_argument("--trace", action="store_true", help="time every SQL statement")
    parser.add_argument("--profile-dir", help="also write a DuckDB JSON profile per statement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--long-prompts", action="store_true",
                        help="pasted context on long prompts (generate)")
    parser.add_argument("--result", required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    measure = {"pipeline": run_pipeline, "baseline": run_baseline, "generate": run_generate}
    doc = measure[args.kind](args)
    doc["self_peak_rss_mib"] = _self_peak_rss_mib()
    _write_json(Path(args.result), doc)


def _self_peak_rss_mib() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    main()
