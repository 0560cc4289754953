"""A run's findings as polars DataFrames, for notebooks: `forensics.run(...)` and
`forensics.read(out_dir)`.

The frames are read back from the files the run wrote (findings.parquet, signals.parquet,
findings.json), so what a notebook sees is exactly what the dossier and the manifest state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from forensics.config import (
    DEFAULT_FORMATS,
    CaseConfig,
    Profile,
    RunConfig,
    load_case_config,
    parse_formats,
)
from forensics.config import resolve_window as _resolve_window
from forensics.errors import InputError

# The scalar and list fields of a findings.json cluster that make a flat table, with their
# types; the nested ones (links, signals, attribution, benign checks) stay in findings.json.
CLUSTER_SCHEMA: dict[str, Any] = {
    "cluster_id": pl.Utf8, "flagged": pl.Boolean, "confidence": pl.Utf8,
    "likelihood": pl.Utf8, "score": pl.Float64, "accounts": pl.Int64, "owners": pl.Int64,
    "requests": pl.Int64, "tokens": pl.Int64, "first_seen": pl.Utf8, "last_seen": pl.Utf8,
    "coordinated": pl.Boolean, "attributed": pl.Boolean, "families": pl.List(pl.Utf8),
    "actor": pl.Utf8, "stability": pl.Float64, "bridges": pl.Int64,
    "outside_core": pl.Int64, "max_core_hops": pl.Int64, "members": pl.List(pl.Utf8)}


@dataclass(frozen=True)
class Results:
    """One output folder's findings."""

    out_dir: Path
    run: dict[str, Any]  # findings.json "run": counts, window and the scoring parameters
    findings: pl.DataFrame  # one row per account (findings.parquet)
    signals: pl.DataFrame  # one row per fired (heuristic, account) (signals.parquet)
    clusters: pl.DataFrame  # one row per cluster flagged or of interest (findings.json)

    @property
    def flagged(self) -> pl.DataFrame:
        """The flagged accounts, most suspicious first."""
        return self.findings.filter(pl.col("flagged")).sort(
            ["score", "account_id"], descending=[True, False])


def read(out_dir: str | Path) -> Results:
    """The findings of a finished run's output folder."""
    folder = Path(out_dir)
    paths = {name: folder / name for name in
             ("findings.parquet", "signals.parquet", "findings.json")}
    for name, path in paths.items():
        if not path.is_file():
            raise InputError(f"no {name} (expected the --out folder of a finished run)",
                             file=str(folder))
    try:
        doc = json.loads(paths["findings.json"].read_text(encoding="utf-8"))
        rows = [{k: c.get(k) for k in CLUSTER_SCHEMA} for c in doc["clusters"]]
        run = dict(doc["run"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"unreadable findings.json ({exc})",
                         file=str(paths["findings.json"])) from None
    clusters = pl.DataFrame(rows, schema=CLUSTER_SCHEMA)
    return Results(out_dir=folder, run=run,
                   findings=pl.read_parquet(paths["findings.parquet"]),
                   signals=pl.read_parquet(paths["signals.parquet"]), clusters=clusters)


def run(data: str | Path, out: str | Path, *, config: str | Path | CaseConfig | None = None,
        period: str | None = None, since: datetime | None = None,
        until: datetime | None = None, profile: Profile = "internal",
        formats: Iterable[str] = DEFAULT_FORMATS, force: bool = False,
        workdir: str | Path | None = None, queries: str | Path | None = None) -> Results:
    """Analyse `data` into the folder `out`, as `forensics run` does, and return its findings.

    `config` is a case config file (TOML) or a CaseConfig; `formats` as the CLI's --format
    (["json"] skips the dossier). Errors are raised as forensics.errors.ForensicsError with
    the one-line message the CLI prints.
    """
    from forensics import api

    if isinstance(config, CaseConfig):
        case, config_path = config, None
    else:
        config_path = Path(config) if config is not None else None
        case = load_case_config(config_path)
    chosen = parse_formats(formats)
    run_config = RunConfig(
        data_dir=Path(data), out_dir=Path(out), case=case, config_path=config_path,
        window=_resolve_window(case, period, since, until), profile=profile, force=force,
        formats=chosen, workdir=Path(workdir) if workdir is not None else None,
        queries_dir=Path(queries) if queries is not None else None)
    result = api.run(run_config)
    return read(result.out_dir)
