"""The core entry points: `validate` and `run`, importable and testable without the CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensics import engine, manifest
from forensics.config import NOT_PUBLIC_WORDS, EngineSection, RunConfig
from forensics.errors import ConfigError, HeuristicError, InputError
from forensics.features import build_features, features_fingerprint, reusable
from forensics.heuristics import (
    Heuristic,
    HeuristicRun,
    check_library,
    check_params,
    create_signals_table,
    load_library,
    problem_block,
    run_library,
)
from forensics.ingest import IngestResult, create_empty_inputs, ingest
from forensics.linking import (
    LinkingParams,
    build_clusters,
    build_scores,
    read_linking,
    role_problems,
    score_clusters,
)
from forensics.outputs import check_target, output_lock, sweep_stale_outputs
from forensics.publish import RunSummary, StageResults, publish
from forensics.report.stage import identifiers
from forensics.report.trend import Baseline, analysed_period, check_order, load_baseline
from forensics.timings import StageClock, Timings

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class RunResult:
    """What a run produced: where, its inputs as ingested, the files written (as
    manifest.sha256 lists them), the headline numbers and where the time went."""

    out_dir: Path
    ingest: IngestResult
    outputs: tuple[str, ...]
    summary: RunSummary
    timings: Timings


def validate(config: RunConfig, progress: Progress = _silent) -> IngestResult:
    """Ingest and check the data directory; raise InputProblems listing every fatal problem."""
    con = engine.connect(config.case.engine, config.workdir)
    try:
        progress("ingest…")
        return ingest(con, config.data_dir, config.case.columns, config.window)
    finally:
        con.close()


def check_heuristics(queries: Path | None = None) -> list[Heuristic]:
    """Load the library (every file problem at once) and prepare every query in DuckDB
    against empty canonical and feature tables; raise HeuristicError listing all problems."""
    library = load_library(queries)
    con = engine.connect(EngineSection(memory_limit="1GB"))
    try:
        create_empty_inputs(con)
        build_features(con, queries)
        create_signals_table(con)
        build_clusters(con, LinkingParams(), queries)
        problems = check_library(library, con)
    finally:
        con.close()
    problems += role_problems(library, LinkingParams())
    if problems:
        raise HeuristicError(problem_block("heuristic problems", problems)
                             if len(problems) > 1 else problems[0])
    return library


def readable_tables(queries: Path | None = None
                    ) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What a heuristic may read: (stage, table, [(column, type)]) for the input tables, the
    feature tables and, for cluster-scope heuristics, the linking tables, as built (empty)
    from the bundled or given queries; then the macros it may call, as
    ("functions", "name(params)", [("returns", "a table" | "a value")])."""
    return [t for t in stage_tables(queries) if t[0] != FINDINGS_STAGE]


FINDINGS_STAGE = "linking (findings)"


def stage_tables(queries: Path | None = None
                 ) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """`readable_tables`, and after them the tables scoring makes after the cluster-scope
    heuristics (stage FINDINGS_STAGE): everything the stages make, with its DuckDB types."""
    con = engine.connect(EngineSection(memory_limit="1GB"))
    try:
        def names() -> set[str]:
            return {r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main'").fetchall()}

        stages: list[tuple[str, set[str]]] = []
        seen: set[str] = set()

        def made(stage: str) -> None:
            new = names() - seen
            stages.append((stage, new))
            seen.update(new)

        create_empty_inputs(con)
        made("input")
        build_features(con, queries)
        create_signals_table(con)
        made("features")
        linking = LinkingParams()
        build_clusters(con, linking, queries)
        made("linking (cluster scope)")
        score_clusters(con, linking, queries)
        made(FINDINGS_STAGE)
        out = []
        for stage, tables in stages:
            for table in sorted(tables):
                columns = con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'main' AND table_name = $t ORDER BY ordinal_position",
                    {"t": table}).fetchall()
                out.append((stage, table, [(str(c), str(t)) for c, t in columns]))
        # The macros heuristics call (queries/features/05_functions.sql): a table macro is
        # read FROM like a table, a scalar one computes a value.
        for name, kind, params in con.execute(
                "SELECT function_name, function_type, parameters FROM duckdb_functions() "
                "WHERE schema_name = 'main' AND NOT internal "
                "AND function_type IN ('macro', 'table_macro') ORDER BY function_name"
                ).fetchall():
            out.append(("functions", f"{name}({', '.join(params)})",
                        [("returns", "a table" if kind == "table_macro" else "a value")]))
        return out
    finally:
        con.close()


def run(config: RunConfig, progress: Progress = _silent) -> RunResult:
    """Run every stage and write the output folder atomically."""
    assert config.out_dir is not None
    inputs = [p for p in (config.data_dir, config.config_path, config.queries_dir,
                          config.templates_dir, config.baseline_dir) if p is not None]
    check_target(config.out_dir, config.force, inputs=inputs)
    with output_lock(config.out_dir) as lock:
        if lock.stale:
            progress(f"cleared the stale lock of a {lock.stale}, which no longer exists")
        # Again under the lock: another run may have published here since the first check.
        check_target(config.out_dir, config.force, inputs=inputs)
        # Only this run may write here now, so partial folders of a dead owner are debris.
        for note in sweep_stale_outputs(config.out_dir).notes("a partial output folder"):
            progress(note)
        check_public_markings(config)
        if config.case.engine.name == "spark":
            from forensics.spark.run import require_runtime

            require_runtime()
        # The library, the config's params and the baseline are checked before any data is
        # read.
        library = load_library(config.queries_dir)
        params = check_params(library, config.case.params)
        # A library without a heuristic linking reads would silently lose its links.
        roles = role_problems(library, LinkingParams.from_config(config.case.scoring))
        if roles:
            raise HeuristicError(problem_block("heuristic problems", roles)
                                 if len(roles) > 1 else roles[0])
        baseline = None
        if config.baseline_dir is not None:
            if not config.dossier:
                raise ConfigError("--baseline adds a trend section to the dossier, and "
                                  "--format writes none (expected pdf or html among the "
                                  "formats)")
            baseline = load_baseline(config.baseline_dir)
            # A window closed at both ends is this run's period: checked before any data
            # is read. An open end is closed by the requests' span, checked after ingest.
            period = analysed_period(config.window, None, None)
            if period is not None:
                check_order(baseline, period, config.baseline_dir)
        clock = StageClock(progress=progress)
        with engine.database(config.case.engine, config.workdir, progress) as con:
            return _run_stages(config, con, library, params, clock, progress, baseline)


def check_public_markings(config: RunConfig) -> None:
    """A public dossier carries no privilege banner and no marking that says it is not
    public: either would be false on every page of a published document."""
    if config.profile != "public":
        return
    where = str(config.config_path) if config.config_path else None
    if config.case.case.privileged:
        raise ConfigError("[case] privileged = true would print a privilege banner on a public "
                          "dossier (expected privileged = false with --profile public)",
                          file=where)
    marking = config.marking.upper()
    found = [w for w in NOT_PUBLIC_WORDS if w in marking]
    if found:
        raise ConfigError(f"[case] marking {config.marking!r} says {found[0]} on a public "
                          f"dossier (expected a public marking, or none for 'PUBLIC')",
                          file=where)


def _run_stages(config: RunConfig, con: Any, library: list[Heuristic],
                params: dict[str, dict[str, Any]], clock: StageClock,
                progress: Progress, baseline: Baseline | None = None) -> RunResult:
    """Ingest → features → heuristics → linking on one open database, then publish: the
    findings, the report stage's dossier and the manifest, written into --out atomically."""
    assert config.out_dir is not None
    with clock.stage("ingest"):
        ingested = ingest(con, config.data_dir, config.case.columns, config.window)
        if ingested.validation_reused:
            progress("input checks reused from the workdir (same files, byte for byte, "
                     "columns and window)")
    if baseline is not None:
        _check_baseline_period(config, baseline, ingested)
    features_reused = False
    if config.case.engine.name == "spark":
        runs = _spark_stages(config, con, library, params, clock, progress, ingested)
    else:
        with clock.stage("features"):
            features_reused = _features(con, config, ingested, progress)
        runs = _compute(con, config, library, params, clock, progress, ingested)
    linked = read_linking(con, LinkingParams.from_config(config.case.scoring),
                          benign=config.case.benign_checks)
    results = StageResults(config=config, ingested=ingested, runs=runs, linked=linked,
                           library=library, ids=identifiers(con, config), baseline=baseline,
                           features_reused=features_reused)
    published = publish(con, results, clock, progress)
    return RunResult(config.out_dir, ingested, published.outputs, published.summary,
                     published.timings)


def _compute(db: Any, config: RunConfig, library: list[Heuristic],
             params: dict[str, dict[str, Any]], clock: StageClock, progress: Progress,
             ingested: IngestResult) -> list[HeuristicRun]:
    """Heuristics and linking on `db`: the run's DuckDB connection, or the Spark engine
    (whose tables `bring_back` then copies into DuckDB)."""
    with clock.stage("heuristics"):
        runs = run_library(db, library, params, ingested.has_column, progress)
    with clock.stage("linking"):
        linking = LinkingParams.from_config(config.case.scoring)
        build_clusters(db, linking, config.queries_dir)
        runs += run_library(db, library, params, ingested.has_column, progress,
                            scope="cluster")
        build_scores(db, linking, config.queries_dir)
    return runs


def _spark_stages(config: RunConfig, con: Any, library: list[Heuristic],
                  params: dict[str, dict[str, Any]], clock: StageClock, progress: Progress,
                  ingested: IngestResult) -> list[HeuristicRun]:
    """Features, heuristics and linking on Spark (forensics/spark/run.py), their tables
    brought back into the run's DuckDB database."""
    from forensics.spark import run as spark_run

    with spark_run.engine(config.case.engine) as db:
        with clock.stage("hand-over to Spark"):
            spark_run.hand_over_inputs(con, db)
        with clock.stage("features"):
            build_features(db, config.queries_dir, progress=progress)
        runs = _compute(db, config, library, params, clock, progress, ingested)
        with clock.stage("bring back from Spark"):
            spark_run.bring_back(db, con, config.queries_dir)
    return runs


def _check_baseline_period(config: RunConfig, baseline: Baseline,
                          ingested: IngestResult) -> None:
    """This run's period, closed by its requests' span where the window is open, is after
    the baseline's (checked before the features are built)."""
    assert config.baseline_dir is not None
    requests = ingested.tables["requests"]
    period = analysed_period(config.window, requests.first_ts, requests.last_ts)
    if period is None:  # ingest refuses an export without a request to analyse
        raise InputError("this run has no period to compare with the baseline's (no "
                         "--period and no request times; expected --period)",
                         file=str(config.data_dir))
    check_order(baseline, period, config.baseline_dir)


def _features(con: Any, config: RunConfig, ingested: IngestResult, progress: Progress) -> bool:
    """Build the feature tables, or keep a kept database's when they were built from the same
    inputs and queries; return whether they were kept."""
    fingerprint = features_fingerprint(manifest.inputs_section(ingested), config.queries_dir)
    # Only a kept database can hold features from an earlier run.
    reused = config.workdir is not None and reusable(con, fingerprint)
    if reused:
        progress("features reused from the workdir (same inputs, window, columns, feature "
                 "queries and lexicons)")
    else:
        build_features(con, config.queries_dir, fingerprint, progress)
    return reused


def stderr_progress(message: str) -> None:
    """Progress lines on stderr."""
    print(f"[forensics] {message}", file=sys.stderr, flush=True)
