"""Publishing a run: every output written into one temporary folder beside --out, which
replaces --out in one rename only when all of it is written and checked (outputs.atomic_dir).

The order is fixed: signals and findings; the report stage (the dossier, its exhibits and
heuristics.sql, the public profile's dossier checked for leaks from the text it was rendered
from); manifest.json, the last evidence file, which lists every file before it with its hash;
manifest.sha256 over the whole folder; diagnostics/timings.json, which is not evidence; and, in
the public profile, the leak check of every file of the folder. Any error on the way leaves
nothing behind and the previous output untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from forensics import engine, manifest
from forensics.config import RunConfig
from forensics.findings import write_findings, write_signals
from forensics.heuristics import Heuristic, HeuristicRun
from forensics.ingest import IngestResult
from forensics.linking import LinkingResult
from forensics.outputs import atomic_dir
from forensics.report import render_dossier
from forensics.report.public import Pseudonymiser, check_leaks, folder_texts
from forensics.report.stage import ReportOutput, leak_index
from forensics.report.trend import Baseline
from forensics.timings import StageClock, Timings, peak_rss_mib

TIMINGS = "timings.json"  # in manifest.DIAGNOSTICS


@dataclass(frozen=True)
class StageResults:
    """What the analysis stages hand to publishing: the run's inputs and findings, held in
    the open database `con` and in these results."""

    config: RunConfig
    ingested: IngestResult
    runs: Sequence[HeuristicRun]  # every heuristic, account scope then cluster scope
    linked: LinkingResult
    library: Sequence[Heuristic]
    ids: Pseudonymiser  # how the outputs show identifiers
    baseline: Baseline | None  # the earlier period the dossier compares with (--baseline)
    features_reused: bool  # the workdir's feature tables were used (timings only)


@dataclass(frozen=True)
class RunSummary:
    """The headline numbers: manifest.json's `summary` and the CLI's last lines."""

    requests_analysed: int
    accounts: int
    heuristics_run: int
    heuristics_skipped: int
    signals: int
    accounts_flagged: int
    clusters_flagged: int

    @classmethod
    def of(cls, results: StageResults) -> RunSummary:
        runs, tables = results.runs, results.ingested.tables
        return cls(requests_analysed=tables["requests"].rows_analysed,
                   accounts=tables["accounts"].rows_analysed,
                   heuristics_run=sum(r.skipped is None for r in runs),
                   heuristics_skipped=sum(r.skipped is not None for r in runs),
                   signals=sum(r.fired for r in runs),
                   accounts_flagged=results.linked.flagged_accounts,
                   clusters_flagged=len(results.linked.flagged_clusters()))

    def as_dict(self) -> dict[str, int]:
        """By name, in the order above."""
        return asdict(self)


@dataclass(frozen=True)
class Published:
    """What publishing wrote: the files manifest.sha256 lists, the summary, the timings."""

    outputs: tuple[str, ...]
    summary: RunSummary
    timings: Timings


def publish(con: duckdb.DuckDBPyConnection, results: StageResults, clock: StageClock,
            progress: Callable[[str], None]) -> Published:
    """Write every output of the run into --out, atomically; the report stage runs here, timed
    as `report`, since it writes into the folder (raises LeakError, in the public profile,
    when a raw identifier of the inputs is found in any file)."""
    config, ids = results.config, results.ids
    assert config.out_dir is not None
    with atomic_dir(config.out_dir) as tmp:
        outputs = [write_signals(con, tmp, ids)]
        outputs += write_findings(con, results.linked, tmp,
                                  {"window": config.window.describe()}, ids)
        report = None
        if config.dossier:
            with clock.stage("report"):
                report = render_dossier(con, config, results.ingested, results.runs,
                                        results.linked, results.library, tmp, progress,
                                        results.baseline, ids)
            outputs += report.paths
        summary = RunSummary.of(results)
        _write_manifest(tmp, results, summary, outputs)
        names = manifest.write_checksums(tmp)
        timings = _timings(con, results, clock, report)
        (tmp / manifest.DIAGNOSTICS).mkdir()
        (tmp / manifest.DIAGNOSTICS / TIMINGS).write_bytes(timings.to_json())
        if ids.public:
            _check_folder(tmp, results, report, progress)
    return Published(tuple(names), summary, timings)


def _write_manifest(folder: Path, results: StageResults, summary: RunSummary,
                    outputs: list[str]) -> None:
    """manifest.json: the command, config, inputs, heuristics, versions and summary, the
    baseline by its hashes, and every output before it with its hash (public profile: no
    local path, no raw identifier)."""
    config, ids = results.config, results.ids
    doc: dict[str, Any] = {
        "command_line": manifest.command_line(config),
        "config": manifest.config_section(config),
        "inputs": manifest.inputs_section(results.ingested, ids),
        "heuristics": manifest.heuristics_section(list(results.runs)),
        "versions": manifest.versions(config.case.engine.name),
        "summary": summary.as_dict(),
    }
    if results.baseline is not None:
        # Named by its period, case and hashes: never by the folder it was read from.
        doc["baseline"] = results.baseline.record()
    if ids.public:
        doc = manifest.public_view(doc, ids)
    doc["outputs"] = manifest.outputs_section(folder, outputs)
    manifest.write_manifest(folder, doc)


def _timings(con: duckdb.DuckDBPyConnection, results: StageResults, clock: StageClock,
             report: ReportOutput | None) -> Timings:
    public = results.ids.public
    return Timings(stages=clock.seconds,
                   validation_reused=results.ingested.validation_reused,
                   features_reused=results.features_reused,
                   peak_rss_mib=peak_rss_mib(),
                   heuristics={r.id: r.seconds for r in results.runs},
                   report=report.timings if report is not None else None,
                   spill_directory=(manifest.WITHHELD if public
                                    else engine.spill_directory(con)))


def _check_folder(folder: Path, results: StageResults, report: ReportOutput | None,
                  progress: Callable[[str], None]) -> None:
    """The public profile's last check: every file of the folder, not only the dossier,
    since the folder is what gets published. The dossier and its exhibits were checked from
    the text they were rendered from (ReportOutput.checked)."""
    progress("leak check of the output folder…")
    ids = results.ids
    checked = report.checked if report is not None else ()
    leaks = report.leaks if report is not None and report.leaks is not None else \
        leak_index(ids, results.config, results.library)
    check_leaks(leaks, folder_texts(folder, skip=checked), ids.shown())
