"""The command line: parse options, build a config, call the core, map the result to an exit
code. The only module that imports click."""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import duckdb

from forensics import api, schema
from forensics.config import (
    FORMATS,
    RunConfig,
    load_case_config,
    parse_formats,
    parse_period,
    resolve_window,
)
from forensics.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, ConfigError, ForensicsError, os_fault
from forensics.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])


_signals_received: list[int] = []


def _raise_interrupt(signum: int, _frame: object) -> NoReturn:
    # SIGTERM takes the same path as Ctrl-C, so atomic outputs are cleaned up on the way out.
    # A Python-level handler for SIGINT too: DuckDB then cancels a running query at once,
    # but reports it as an ordinary error, hence the record of the signal.
    _signals_received.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(click.style("Error: ", fg="red", bold=True) + message, err=True)
    sys.exit(code)


def _guarded(fn: Callable[[], Any], debug: bool) -> Any:
    """Run the core; turn our errors into one red line and exit 2, anything else into exit 1."""
    _signals_received.clear()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        return fn()
    except KeyboardInterrupt:
        _fail("interrupted; no partial output was left behind",
              128 + (_signals_received[-1] if _signals_received else signal.SIGINT))
    except ForensicsError as exc:
        if debug:
            traceback.print_exc()
        _fail(exc.line(), exc.exit_code)
    except duckdb.OutOfMemoryException as exc:
        # A resource limit, not a bug: the case file sets it, so it is a configuration error.
        if debug:
            traceback.print_exc()
        step = "".join(f"; in {note}" for note in getattr(exc, "__notes__", ()))
        _fail(f"[engine] memory_limit is too small for this input ({str(exc).splitlines()[0]}"
              f"{step}; expected a larger memory_limit in the case file, or more free space "
              f"in temp_directory); no output was written", EXIT_BAD_INPUT)
    except Exception as exc:  # the last line of defence: say what broke, exit 1
        if _signals_received:
            _fail("interrupted; no partial output was left behind", 128 + _signals_received[-1])
        if debug:
            traceback.print_exc()
        reason = os_fault(exc) if isinstance(exc, OSError | duckdb.Error) else None
        if reason is not None:
            # A full or read-only disk or a missing permission somewhere the stages above do
            # not translate themselves: the machine's fault, not a bug.
            where = getattr(exc, "filename", None)
            detail = f"{where}: {reason}" if where else str(exc).splitlines()[0]
            _fail(f"{detail} (expected free space and write permission there)",
                  EXIT_BAD_INPUT)
        _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
              f"traceback)", EXIT_INTERNAL)


def _progress(quiet: bool, show: bool | None) -> Progress:
    """On a terminal unless --quiet or --no-progress; in a log only with --progress."""
    enabled = show if show is not None else sys.stderr.isatty()
    return Progress(enabled=enabled and not quiet)


def data_options(fn: F) -> F:
    """Options shared by every command that reads a data directory."""
    decorators = [
        click.argument("data_dir", type=click.Path(path_type=Path)),
        click.option("--config", "config_path", type=click.Path(path_type=Path),
                     help="Case config (TOML): column mapping, period, params, marking."),
        click.option("--period", help="Analyse one period: a quarter (2026Q3) or month (2026-08)."),
        click.option("--since", type=click.DateTime(), help="Start of the window (UTC)."),
        click.option("--until", type=click.DateTime(), help="End of the window (UTC, excluded)."),
        click.option("--quiet", is_flag=True, help="No progress on stderr."),
        click.option("--progress/--no-progress", "show_progress", default=None,
                     help="Progress on stderr (stage, elapsed time, share of the features "
                          "scan done); default: only on a terminal. --progress keeps it in "
                          "nohup or CI logs."),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
    ]
    for deco in reversed(decorators):
        fn = deco(fn)
    return fn


def _formats(_ctx: click.Context, _param: click.Parameter, value: str) -> frozenset[str]:
    """--format: a comma-separated list of pdf, html and json."""
    try:
        return parse_formats(value.split(","))
    except ConfigError as exc:
        raise click.BadParameter(exc.message) from None


def _build_config(data_dir: Path, config_path: Path | None, period: str | None,
                  since: datetime | None, until: datetime | None,
                  engine: dict[str, str] | None = None, **extra: Any) -> RunConfig:
    case = load_case_config(config_path)
    if engine:  # --engine and --spark-master win over the config's [engine]
        case = case.model_copy(update={"engine": case.engine.model_copy(update=engine)})
    window = resolve_window(case, period, since, until)
    return RunConfig(data_dir=data_dir, case=case, config_path=config_path, window=window,
                     command_line=tuple(["forensics", *sys.argv[1:]]), **extra)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="forensics")
def main() -> None:
    """Find distillation attacks in exported LLM API logs and write a forensic dossier."""


@main.command()
@data_options
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output folder (created; refused if it holds a dossier, unless --force).")
@click.option("--profile", type=click.Choice(["internal", "public"]), default="internal",
              show_default=True, help="public pseudonymises identifiers and masks prompts.")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
@click.option("--workdir", type=click.Path(path_type=Path),
              help="Keep the DuckDB database here; a rerun on the same inputs, window, "
                   "columns and feature queries reuses its input checks and features.")
@click.option("--queries", "queries_dir", type=click.Path(path_type=Path),
              help="Use this heuristic library instead of the bundled one.")
@click.option("--templates", "templates_dir", type=click.Path(path_type=Path),
              help="Use these dossier templates instead of the bundled ones.")
@click.option("--baseline", "baseline_dir", type=click.Path(path_type=Path),
              help="The --out folder of an internal run of an earlier period (not "
                   "overlapping this one): adds a trend section against it.")
@click.option("--format", "formats", default=",".join(FORMATS), show_default=True,
              callback=_formats,
              help="What to write: the dossier as pdf and/or html (each with its exhibits); "
                   "findings.*, signals and the manifest are always written, so json alone "
                   "skips the render (for trying thresholds).")
@click.option("--engine", "engine_name", type=click.Choice(["duckdb", "spark"]), default=None,
              help="Where features, heuristics and linking run (default: the config's "
                   "[engine] name, else duckdb). spark needs forensics[spark] and Java 17.")
@click.option("--spark-master", metavar="URL", default=None,
              help="The Spark master for --engine spark (default: the config's [engine] "
                   "spark_master, else local mode on every core).")
def run(data_dir: Path, config_path: Path | None, period: str | None, since: datetime | None,
        until: datetime | None, quiet: bool, show_progress: bool | None, debug: bool,
        out_dir: Path, profile: str,
        force: bool, workdir: Path | None, queries_dir: Path | None,
        templates_dir: Path | None, baseline_dir: Path | None,
        formats: frozenset[str], engine_name: str | None, spark_master: str | None) -> None:
    """Analyse DATA_DIR and write the dossier, findings and manifest to --out.

    \b
    Example:
      forensics run sample_data/2026Q3/data --out out/2026Q3 --period 2026Q3
    """
    def go() -> api.RunResult:
        engine = {k: v for k, v in (("name", engine_name), ("spark_master", spark_master))
                  if v is not None}
        if spark_master is not None and engine_name is None:
            engine["name"] = "spark"
        config = _build_config(data_dir, config_path, period, since, until, engine=engine,
                               out_dir=out_dir, profile=profile, force=force, workdir=workdir,
                               queries_dir=queries_dir, templates_dir=templates_dir,
                               baseline_dir=baseline_dir, formats=formats)
        return api.run(config, _progress(quiet, show_progress))

    result = _guarded(go, debug)
    click.echo(f"wrote {len(result.outputs)} files to {result.out_dir}")
    for key, value in result.summary.as_dict().items():
        click.echo(f"  {key.replace('_', ' ')}: {value}")


@main.command()
@data_options
def validate(data_dir: Path, config_path: Path | None, period: str | None,
             since: datetime | None, until: datetime | None, quiet: bool,
             show_progress: bool | None, debug: bool) -> None:
    """Check DATA_DIR against the log schema and report every problem at once.

    \b
    Example:
      forensics validate sample_data/2026Q3/data --config case.toml
    """
    def go() -> Any:
        config = _build_config(data_dir, config_path, period, since, until)
        return api.validate(config, _progress(quiet, show_progress))

    result = _guarded(go, debug)
    for name, t in sorted(result.tables.items()):
        if not t.files:
            click.echo(f"{name}: absent (optional)")
            continue
        excluded = ", ".join(f"{n} {k}" for k, n in sorted(t.rows_excluded.items())) or "none"
        click.echo(f"{name}: {len(t.files)} file(s), {t.rows_read} rows read, "
                   f"{t.rows_analysed} analysed, excluded: {excluded}")
    for name, t in sorted(result.tables.items()):
        for text in t.interpretations:
            click.echo(f"note: {name}.{text}")
    for issue in result.issues:
        click.echo(f"note: {issue.table}.{issue.column or '*'}: {issue.message}")
    click.echo("OK")


@main.group()
def heuristics() -> None:
    """Inspect and check the SQL heuristic library."""


_queries_option = click.option("--queries", "queries_dir", type=click.Path(path_type=Path),
                               help="A heuristic library folder instead of the bundled one.")


@heuristics.command(name="list")
@_queries_option
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def heuristics_list(queries_dir: Path | None, debug: bool) -> None:
    """List every heuristic: id, family, level, weight, title.

    \b
    Example:
      forensics heuristics list
    """
    from forensics.heuristics import load_library

    library = _guarded(lambda: load_library(queries_dir), debug)
    for h in library:
        m = h.meta
        tag = " (benign)" if m.benign else ""
        click.echo(f"{m.id:<40} {m.family:<15} {m.level:<13} {m.weight:<5} {m.title}{tag}")
    families = sorted({h.meta.family for h in library})
    click.echo(f"{len(library)} heuristics in {len(families)} families: {', '.join(families)}")


@heuristics.command(name="show")
@click.argument("heuristic_id")
@_queries_option
@click.option("--sql", "with_sql", is_flag=True, help="Print the query too.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def heuristics_show(heuristic_id: str, queries_dir: Path | None, with_sql: bool,
                    debug: bool) -> None:
    """Show one heuristic's header (and with --sql its query).

    \b
    Example:
      forensics heuristics show cot_elicitation_strong --sql
    """
    from forensics.errors import HeuristicError
    from forensics.heuristics import describe, load_library

    def go() -> str:
        for h in load_library(queries_dir):
            if h.id == heuristic_id:
                return describe(h) + (f"\n\n{h.sql}" if with_sql else "")
        raise HeuristicError(f"unknown heuristic id {heuristic_id!r} "
                             f"(see `forensics heuristics list`)")

    click.echo(_guarded(go, debug))


@heuristics.command(name="check")
@_queries_option
@click.option("--engine", "engine_name", type=click.Choice(["duckdb", "spark"]),
              default="duckdb", show_default=True,
              help="spark: transpile every heuristic to Spark SQL, refuse constructs outside "
                   "the portable subset and let a local Spark session analyse it (needs "
                   "forensics[spark]).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def heuristics_check(queries_dir: Path | None, engine_name: str, debug: bool) -> None:
    """Validate every heuristic file and prepare every query; report all problems at once.

    \b
    Example:
      forensics heuristics check --queries my_queries/
      forensics heuristics check --engine spark
    """
    if engine_name == "spark":
        from forensics.spark.check import check_heuristics_spark

        library = _guarded(lambda: check_heuristics_spark(queries_dir), debug)
        noun = "heuristic passes" if len(library) == 1 else "heuristics pass"
        click.echo(f"OK: {len(library)} {noun} Spark's analyser")
        return
    library = _guarded(lambda: api.check_heuristics(queries_dir), debug)
    noun = "heuristic is" if len(library) == 1 else "heuristics are"
    click.echo(f"OK: {len(library)} {noun} valid")


@heuristics.command(name="test")
@_queries_option
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def heuristics_test(queries_dir: Path | None, debug: bool) -> None:
    """Run the library's data cases (cases/<id>.yaml): rows that must fire each heuristic and
    rows that must not.

    \b
    Example:
      forensics heuristics test --queries my_queries/
    """
    import tempfile

    from forensics.cases import run_cases

    def go() -> list[Any]:
        with tempfile.TemporaryDirectory(prefix="forensics-cases-") as scratch:
            return run_cases(queries_dir, Path(scratch))

    results = _guarded(go, debug)
    for r in results:
        click.echo(r.line())
    failed = [r for r in results if not r.passed]
    if failed:
        _fail(f"{len(failed)} of {len(results)} heuristic cases failed (expected each to fire "
              f"exactly the accounts it names; see the FAIL lines above)", EXIT_BAD_INPUT)
    click.echo(f"OK: {len(results)} heuristic cases passed")


@main.command()
@click.option("--findings", "findings_dir", required=True, type=click.Path(path_type=Path),
              help="The --out folder of a run.")
@click.option("--labels", "labels_path", required=True, type=click.Path(path_type=Path),
              help="CSV with account_id,label,group (label: campaign, lookalike, ordinary).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def evaluate(findings_dir: Path, labels_path: Path, as_json: bool, debug: bool) -> None:
    """Score a run's flagged accounts against ground-truth labels.

    Precision, recall, each campaign's recall, the false-positive rate among ordinary accounts
    and every population's (label and group) flagged rate, each with its 95 % Wilson
    interval. The flagged accounts are those the dossier asserts (findings.parquet's
    `flagged`); flagged accounts the labels do not name are counted, not scored.

    \b
    Example:
      forensics evaluate --findings out/sample --labels sample_data/2026Q3/labels.csv
    """
    import json

    from forensics.evaluate import evaluate as run_evaluation

    result = _guarded(lambda: run_evaluation(findings_dir, labels_path), debug)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        click.echo("\n".join(result.lines()))


@main.command(name="tables")
@click.option("--queries", "queries_dir", type=click.Path(path_type=Path),
              help="The feature and linking queries of this library instead of the bundled.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def tables_cmd(queries_dir: Path | None, debug: bool) -> None:
    """List the tables and columns a heuristic's SQL may read.

    \b
    Example:
      forensics tables
    """
    found = _guarded(lambda: api.readable_tables(queries_dir), debug)
    stage = None
    for where, table, columns in found:
        if where != stage:
            click.echo(f"{'' if stage is None else chr(10)}# {where}")
            stage = where
        click.echo(f"{table}: " + ", ".join(f"{c} {t}" for c, t in columns))


@main.command(name="schema")
def schema_cmd() -> None:
    """Print the input contract (log schema v1).

    \b
    Example:
      forensics schema
    """
    click.echo(schema.describe())


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="1.0 ≈ 150,000 requests and 2,300 accounts; 10 ≈ 1.5 M requests.")
@click.option("--period", help="The period to generate: a quarter (2026Q2) or a month "
                               "(2026-05), as `forensics run --period` reads it; default the "
                               "bundled sample's quarter, 2026Q3.")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@click.option("--long-prompts", is_flag=True,
              help="Append 300-6,000 characters of pasted context to every prompt of 240+ "
                   "characters (benchmarks on realistic text lengths; same findings).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def sample(out_dir: Path, seed: int, scale: float, period: str | None, force: bool,
           long_prompts: bool, debug: bool) -> None:
    """Generate a synthetic quarter of traffic with planted campaigns.

    Writes OUT_DIR/data (the logs) and OUT_DIR/labels.csv (ground truth, outside the data).
    --period places the sample in another quarter or month (every request inside it); the
    same seed gives the same populations the same account ids in every period, so two
    periods' runs can be compared with `forensics run --baseline`. --long-prompts appends
    ordinary pasted text (median about 1,500 characters) after the first 240 characters of
    long prompts, so template skeletons stay the same.

    \b
    Example:
      forensics sample /tmp/q3 --seed 7 --scale 0.3
      forensics sample /tmp/q2 --seed 7 --scale 0.3 --period 2026Q2
      forensics sample /tmp/q3-long --seed 7 --scale 1 --long-prompts
    """
    from forensics.sample import generate_sample

    def go() -> Any:
        if period is None:
            return generate_sample(out_dir, seed=seed, scale=scale, force=force,
                                   long_prompts=long_prompts)
        # The parser `forensics run --period` uses: the same names mean the same days.
        since, until = parse_period(period)
        return generate_sample(out_dir, seed=seed, scale=scale, force=force,
                               long_prompts=long_prompts,
                               period_start=since.date().isoformat(),
                               period_end=until.date().isoformat())

    summary = _guarded(go, debug)
    click.echo(f"wrote {out_dir}: {summary}")


if __name__ == "__main__":  # pragma: no cover
    main()

