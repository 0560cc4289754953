"""The report stage: exhibits, charts, dossier.html and dossier.pdf, and (public profile) the
leak check of what it rendered, all written into the temporary output folder that publishing
(forensics/publish.py) fills and then puts in place."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import duckdb

from forensics import resources
from forensics.config import RunConfig
from forensics.heuristics import Heuristic, HeuristicRun
from forensics.ingest import IngestResult
from forensics.linking import LinkingResult
from forensics.report.context import Dossier, Trend
from forensics.report.dossier import build_dossier
from forensics.report.exhibits import ExhibitWriter
from forensics.report.inputs import Options, ReportInputs
from forensics.report.public import (
    IdentifierIndex,
    Pseudonymiser,
    check_leaks,
    html_text,
    load_identifiers,
    local_paths,
    pdf_text,
)
from forensics.report.queries import ReportQueries, report_queries_dir
from forensics.report.render import FetchLog, render_html, render_pdf
from forensics.report.trend import Baseline, analysed_period, compare, read_findings
from forensics.timings import ReportTimings

PDF = "dossier.pdf"
HTML = "dossier.html"


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ReportOutput:
    """The files the report stage wrote (relative paths) and where its time went."""

    paths: list[str]
    timings: ReportTimings
    # Files the leak check read from the text they were rendered from, and what it looked
    # for (public profile): the folder's check reads the rest with the same index.
    checked: tuple[str, ...] = ()
    leaks: IdentifierIndex | None = None


def identifiers(con: duckdb.DuckDBPyConnection, config: RunConfig) -> Pseudonymiser:
    """How the run shows identifiers: as they are, or (public profile) as keyed pseudonyms,
    with the index of every raw identifier of the inputs that the leak check looks for."""
    public = config.profile == "public"
    # The key is checked before any work, so a public run without one fails at once.
    Pseudonymiser(public, config.case.case.hmac_key)
    if not public:
        return Pseudonymiser(False, None)
    queries = ReportQueries(con, report_queries_dir(config.queries_dir))
    return Pseudonymiser(True, config.case.case.hmac_key,
                         load_identifiers(con, queries.sql("identifiers")))


def leak_index(ids: Pseudonymiser, config: RunConfig,
               library: Sequence[Heuristic]) -> IdentifierIndex:
    """What a public output folder must not hold: the raw identifiers of the inputs and the
    analyst's own folders."""
    engine = config.case.engine
    folders = (engine.temp_directory, engine.spark_staging)
    index = ids.index.merged(local_paths((config.data_dir, config.config_path,
                                          config.queries_dir, config.templates_dir,
                                          config.workdir, config.baseline_dir,
                                          *(Path(f) for f in folders if f))))
    # The catalogue prints the heuristic files: a value they name (a webmail domain in a
    # query) is the tool's text, not an identifier leaked from the inputs.
    index.discard_found_in("\n".join(h.path.read_text(encoding="utf-8") for h in library))
    # So does the appendix's list of the sources they cite.
    index.discard_found_in("\n".join(
        f"{c.source.author} {c.source.title} {c.source.url or c.source.locator} "
        f"{c.source.note or ''}" for h in library for c in h.citations if c.source))
    return index


def render_dossier(con: duckdb.DuckDBPyConnection, config: RunConfig, ingested: IngestResult,
                   runs: Sequence[HeuristicRun], linked: LinkingResult,
                   library: Sequence[Heuristic], out_dir: Path,
                   progress: Callable[[str], None] = _quiet,
                   baseline: Baseline | None = None,
                   ids: Pseudonymiser | None = None) -> ReportOutput:
    """Write the dossier and its exhibits into `out_dir`; return their relative paths.

    `out_dir` already holds this run's findings files; with a `baseline` (read and checked
    by the run) the trend section compares them with the baseline's.

    Raises LeakError (public profile) when a raw identifier of the inputs appears in the
    rendered text; the caller's atomic output folder then leaves nothing behind.
    """
    if ids is None:
        ids = identifiers(con, config)
    with _cycle_collector_paused():
        return _render_dossier(con, config, ingested, runs, linked, library, out_dir, progress,
                               baseline, ids)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the stage (reference counting still frees memory).

    WeasyPrint builds hundreds of thousands of layout objects, and every full collection
    walks all of them, a good part of a large dossier's PDF render. The few cycles the stage
    leaves are collected once, at the end.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def _render_dossier(con: duckdb.DuckDBPyConnection, config: RunConfig, ingested: IngestResult,
                    runs: Sequence[HeuristicRun], linked: LinkingResult,
                    library: Sequence[Heuristic], out_dir: Path,
                    progress: Callable[[str], None],
                    baseline: Baseline | None, ids: Pseudonymiser) -> ReportOutput:
    queries = ReportQueries(con, report_queries_dir(config.queries_dir))
    epoch = data_epoch(ingested)
    exhibits = ExhibitWriter(out_dir, con)
    progress("evidence and charts…")
    laps = _Laps()
    trend = _trend(config, ingested, out_dir, baseline, ids)
    inputs = ReportInputs.read(queries, config, ingested, runs, linked, library, ids,
                               _options(config, epoch, progress))
    dossier = build_dossier(inputs, exhibits, trend)
    laps("assemble")
    rendered = _write_dossier(dossier, config, out_dir, epoch, laps, progress)
    leaks = None
    if ids.public:
        progress("leak check…")
        leaks = leak_index(ids, config, library)
        _check_rendered(dossier, rendered, out_dir, leaks, ids)
        laps("leak_check")
    timings = ReportTimings(assemble=laps.seconds["assemble"], html=laps.seconds["html"],
                            pdf=laps.seconds.get("pdf"),
                            leak_check=laps.seconds.get("leak_check"),
                            queries=dict(queries.seconds))
    exhibit_files = [p for e in dossier.exhibits for p in (e.path, e.parquet_path)]
    # The CSV stood for its Parquet copy in the check: they hold the same cells.
    return ReportOutput([*rendered.written, dossier.methodology.sql_file, *exhibit_files],
                        timings, tuple([*rendered.written, *exhibit_files]) if ids.public
                        else (), leaks)


class _Laps:
    """Seconds between successive marks, each under the name of the part that just ended."""

    def __init__(self) -> None:
        self.clock = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self.clock, 3)
        self.clock = now


def _options(config: RunConfig, epoch: int, progress: Callable[[str], None]) -> Options:
    report = config.case.report
    return Options(max_clusters=report.max_clusters, max_table_rows=report.max_table_rows,
                   max_prompt_chars=report.max_prompt_chars,
                   public_exemplar_chars=report.public_exemplar_chars,
                   source_date_epoch=epoch, chart_progress=lambda m: progress(f"charts: {m}"))


def _trend(config: RunConfig, ingested: IngestResult, out_dir: Path, baseline: Baseline | None,
           ids: Pseudonymiser) -> Trend | None:
    """The comparison with the baseline's findings (--baseline), or None without one."""
    if baseline is None:
        return None
    # This run's figures from the findings files it has just written, read as the baseline's
    # are, so that the section agrees with both runs' findings.
    requests = ingested.tables["requests"]
    period = analysed_period(config.window, requests.first_ts, requests.last_ts)
    assert period is not None  # the run checked it against the baseline's
    return compare(baseline, read_findings(out_dir), period, ids)


@dataclass(frozen=True)
class _Rendered:
    """The dossier files written, and the HTML each was rendered from."""

    written: list[str]  # dossier.pdf and/or dossier.html
    html_screen: str | None  # dossier.html's text
    html_print: str | None  # the PDF's HTML


def _write_dossier(dossier: Dossier, config: RunConfig, out_dir: Path, epoch: int, laps: _Laps,
                   progress: Callable[[str], None]) -> _Rendered:
    """Write heuristics.sql and, as --format asks, dossier.html and dossier.pdf (the
    exhibits and the heuristics' SQL go with either)."""
    templates = resources.templates_dir(config.templates_dir)
    progress("render…")
    start = time.perf_counter()
    sql_file = dossier.methodology.sql_file
    (out_dir / sql_file).write_text(dossier.methodology.sql_text, encoding="utf-8")
    written: list[str] = []
    html_screen = html_print = None
    if "html" in config.formats:
        html_screen = render_html(templates, dossier, "screen", epoch)
        (out_dir / HTML).write_text(html_screen, encoding="utf-8")
        written.append(HTML)
    if "pdf" in config.formats:
        html_print = render_html(templates, dossier, "print", epoch)
        laps("html")
        log = FetchLog([], [])
        pages = render_pdf(templates, html_print, out_dir / PDF, out_dir, dossier.exhibits,
                           epoch, log, sources=[(sql_file, "The SQL of every heuristic, as "
                                                           "run (Appendix B)")])
        laps("pdf")
        written.insert(0, PDF)
        progress(f"render done: {pages} pages in {time.perf_counter() - start:.1f} s")
    else:
        laps("html")
    return _Rendered(written, html_screen, html_print)


def _check_rendered(dossier: Dossier, rendered: _Rendered, out_dir: Path,
                    leaks: IdentifierIndex, ids: Pseudonymiser) -> None:
    """The leak check of the public profile's dossier and exhibits, read from the text they
    were rendered from; raises LeakError naming the first raw identifier found."""
    texts: list[tuple[str, str]] = []
    if rendered.html_print is not None:
        texts += [(PDF, pdf_text(out_dir / PDF)), (PDF, html_text(rendered.html_print))]
    if rendered.html_screen is not None:
        texts.append((HTML, html_text(rendered.html_screen)))
    # The CSV stands for its Parquet copy too: they hold the same cells, the CSV's text ones
    # at most with an apostrophe before them.
    texts += [(e.path, (out_dir / e.path).read_text(encoding="utf-8"))
              for e in dossier.exhibits]
    check_leaks(leaks, texts, ids.shown())


def data_epoch(ingested: IngestResult) -> int:
    """SOURCE_DATE_EPOCH for the run: the last analysed request's time (0 without one)."""
    t = ingested.tables.get("requests")
    last = t.last_ts if t else None
    if last is None:
        return 0
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return int(last.timestamp())
