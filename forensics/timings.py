"""Where a run's time went: the stage clock the run is driven by, and the typed record written
to diagnostics/timings.json (not evidence: it differs on every run and is not checksummed)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from forensics.outputs import dump_json, pause_for_tests


def _silent(_: str) -> None:
    return None


@dataclass
class StageClock:
    """Wall-clock seconds per stage, reported in timings.json (never in evidence files)."""

    seconds: dict[str, float] = field(default_factory=dict)
    progress: Callable[[str], None] = _silent

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage of a run. The interrupt and lock tests can hold a run here once a
        stage is done (outputs.pause_for_tests, FORENSICS_TEST_PAUSE_STAGE=ingest), so that
        the stages' own code holds no test hook."""
        self.progress(f"{name}…")
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        self.progress(f"{name} done in {self.seconds[name]:.1f} s")
        pause_for_tests(name)


@dataclass(frozen=True)
class ReportTimings:
    """Seconds of the report stage's parts and of each report query."""

    assemble: float  # the report queries, charts and exhibits, up to the Dossier
    html: float  # rendering the HTML (both media when a PDF is made)
    pdf: float | None  # None without a PDF (--format html)
    leak_check: float | None  # of the rendered text: public profile only
    queries: dict[str, float]  # seconds per report query, by name

    def as_dict(self) -> dict[str, float]:
        """timings.json's `report`: the parts, the queries' total, then `query:<name>`."""
        out = {"assemble": self.assemble, "html": self.html}
        if self.pdf is not None:
            out["pdf"] = self.pdf
        if self.leak_check is not None:
            out["leak_check"] = self.leak_check
        out["queries"] = round(sum(self.queries.values()), 3)
        out.update({f"query:{k}": v for k, v in sorted(self.queries.items())})
        return out


@dataclass(frozen=True)
class Timings:
    """diagnostics/timings.json."""

    stages: dict[str, float]  # ingest, features, heuristics, linking, report
    validation_reused: bool  # the workdir's input checks of the same files were used
    features_reused: bool  # the workdir's feature tables were used
    peak_rss_mib: float
    heuristics: dict[str, float]  # seconds per heuristic, by id
    report: ReportTimings | None  # None when no dossier was rendered (--format json)
    spill_directory: str  # where DuckDB spills, or WITHHELD in the public profile

    def to_json(self) -> bytes:
        """The canonical JSON of the file (sorted keys, as every output of a run)."""
        doc: dict[str, Any] = asdict(self)
        doc["report"] = self.report.as_dict() if self.report is not None else {}
        return dump_json(doc)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
