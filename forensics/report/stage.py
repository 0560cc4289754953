"""The report stage: exhibits, charts, dossier.html and dossier.pdf, and (public profile) the
leak check, all written into the run's temporary output folder."""

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

PDF = "dossier.pdf"
HTML = "dossier.html"


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ReportOutput:
    """The files the report stage wrote (relative paths) and where its time went."""

    paths: list[str]
    seconds: dict[str, float]  # queries (each), assemble, html, pdf, leak_check
    # Files the leak check read from the text they were rendered from (public profile).
    checked: tuple[str, ...] = ()


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
    index = ids.index.merged(local_paths((config.data_dir, config.config_path,
                                          config.queries_dir, config.templates_dir,
                                          config.workdir, config.baseline_dir)))
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
    public = ids.public
    queries = ReportQueries(con, report_queries_dir(config.queries_dir))
    epoch = data_epoch(ingested)
    report = config.case.report
    options = Options(max_clusters=report.max_clusters, max_table_rows=report.max_table_rows,
                      max_prompt_chars=report.max_prompt_chars,
                      public_exemplar_chars=report.public_exemplar_chars,
                      source_date_epoch=epoch, chart_progress=lambda m: progress(f"charts: {m}"))
    exhibits = ExhibitWriter(out_dir, con)
    progress("evidence and charts…")
    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        clock = now

    trend = None
    if baseline is not None:
        # This run's figures from the findings files it has just written, read as the
        # baseline's are, so that the section agrees with both runs' findings.
        requests = ingested.tables["requests"]
        period = analysed_period(config.window, requests.first_ts, requests.last_ts)
        assert period is not None  # the run checked it against the baseline's
        trend = compare(baseline, read_findings(out_dir), period, ids)
    inputs = ReportInputs.read(queries, config, ingested, runs, linked, library, ids, options)
    dossier = build_dossier(inputs, exhibits, trend)
    lap("assemble")

    templates = resources.templates_dir(config.templates_dir)
    progress("render…")
    start = time.perf_counter()
    # --format: the HTML dossier, the PDF one, or both; the exhibits and the heuristics' SQL
    # go with either.
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
        lap("html")
        log = FetchLog([], [])
        pages = render_pdf(templates, html_print, out_dir / PDF, out_dir, dossier.exhibits,
                           epoch, log, sources=[(sql_file, "The SQL of every heuristic, as "
                                                           "run (Appendix B)")])
        lap("pdf")
        written.insert(0, PDF)
        progress(f"render done: {pages} pages in {time.perf_counter() - start:.1f} s")
    else:
        lap("html")

    if public:
        progress("leak check…")
        index = leak_index(ids, config, library)
        texts: list[tuple[str, str]] = []
        if html_print is not None:
            texts += [(PDF, pdf_text(out_dir / PDF)), (PDF, html_text(html_print))]
        if html_screen is not None:
            texts.append((HTML, html_text(html_screen)))
        # The CSV stands for its Parquet copy too: they hold the same cells, the CSV's text
        # ones at most with an apostrophe before them.
        texts += [(e.path, (out_dir / e.path).read_text(encoding="utf-8"))
                  for e in dossier.exhibits]
        check_leaks(index, texts, ids.shown())
        lap("leak_check")
    seconds["queries"] = round(sum(queries.seconds.values()), 3)
    seconds.update({f"query:{k}": v for k, v in sorted(queries.seconds.items())})
    exhibit_files = [p for e in dossier.exhibits for p in (e.path, e.parquet_path)]
    # The CSV stood for its Parquet copy in the check: they hold the same cells.
    return ReportOutput([*written, sql_file, *exhibit_files], seconds,
                        tuple([*written, *exhibit_files]) if public else ())


def data_epoch(ingested: IngestResult) -> int:
    """SOURCE_DATE_EPOCH for the run: the last analysed request's time (0 without one)."""
    t = ingested.tables.get("requests")
    last = t.last_ts if t else None
    if last is None:
        return 0
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return int(last.timestamp())
