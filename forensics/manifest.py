"""The run manifest: provenance of inputs, row accounting, heuristics run, outputs, versions.

Everything in manifest.json, and every file manifest.sha256 lists, is deterministic for the
same inputs and options. Wall-clock figures (stage and heuristic seconds, peak memory) cannot
be, so they go to diagnostics/timings.json, which is not evidence and is not checksummed.
"""

from __future__ import annotations

import platform
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from forensics import __version__, schema
from forensics.config import FORMATS, RunConfig
from forensics.heuristics import HeuristicRun
from forensics.ingest import IngestResult, InputFile
from forensics.outputs import dump_json, file_digest
from forensics.report.public import Pseudonymiser

DIAGNOSTICS = "diagnostics"
# What the public profile writes in place of a local path: where the analyst keeps a case's
# files is no part of what is published.
WITHHELD = "(withheld in the public profile)"

_LIBRARIES = ("duckdb", "polars", "pyarrow", "jinja2", "matplotlib", "weasyprint", "click",
              "pydantic", "pyyaml", "pypdf")


# What a run on Spark uses besides (forensics/spark/).
_SPARK_LIBRARIES = ("pyspark", "sqlglot")


def versions(engine: str = "duckdb") -> dict[str, str]:
    """Tool, Python and library versions, as resolved in this environment; a run on Spark
    (`engine`) names the engine and its libraries too."""
    out = {"forensics": __version__, "python": platform.python_version(),
           "log_schema": schema.SCHEMA_VERSION}
    libraries: tuple[str, ...] = _LIBRARIES
    if engine != "duckdb":
        out["engine"] = engine
        libraries += _SPARK_LIBRARIES
    for name in libraries:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _file_entry(f: InputFile) -> dict[str, Any]:
    """One input file; `resolved` (the file a symbolic link leads to) only when it differs."""
    entry = asdict(f)
    if entry["resolved"] is None:
        del entry["resolved"]
    return entry


def inputs_section(result: IngestResult, ids: Pseudonymiser | None = None) -> dict[str, Any]:
    """Per table: files with hashes, rows read / excluded (by reason) / analysed, time span.

    In the public profile the data folder is withheld and every text scrubbed of the inputs'
    identifiers (a data-quality note may quote a value)."""
    section = _inputs_section(result)
    if ids is None or not ids.public:
        return section
    return {**ids.json(section), "data_dir": WITHHELD}


def public_view(doc: dict[str, Any], ids: Pseudonymiser) -> dict[str, Any]:
    """manifest.json as a public folder holds it: no local path (the command line, the data
    folder, the case config's path) and no raw identifier."""
    config = {**doc["config"]}
    if config.get("config_file"):
        config["config_file"] = WITHHELD
    # The engine's folders and a cluster's address and settings say how the analyst's
    # machines are laid out: withheld like the folders above.
    engine = {**config["case"]["engine"]}
    for key in ("temp_directory", "spark_master", "spark_staging"):
        if engine.get(key):
            engine[key] = WITHHELD
    engine["spark_conf"] = {k: WITHHELD for k in engine.get("spark_conf", {})}
    config["case"] = {**config["case"], "engine": engine}
    return {**doc, "command_line": WITHHELD, "config": config}


def _inputs_section(result: IngestResult) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for name, t in sorted(result.tables.items()):
        if not t.files:
            tables[name] = {"present": False}
            continue
        tables[name] = {
            "present": True,
            "files": [_file_entry(f) for f in t.files],
            "rows_read": t.rows_read,
            "rows_excluded": dict(sorted(t.rows_excluded.items())),
            "rows_analysed": t.rows_analysed,
            "columns_present": list(t.columns_present),
            "column_mapping": dict(sorted(t.mapping.items())),
            "interpretations": list(t.interpretations),
            "first_ts": t.first_ts.isoformat() if t.first_ts else None,
            "last_ts": t.last_ts.isoformat() if t.last_ts else None,
        }
    return {"data_dir": result.data_dir, "window": result.window.model_dump(mode="json"),
            "tables": tables,
            "data_quality": [asdict(i) for i in result.issues]}


BASELINE_PLACEHOLDER = "BASELINE"


def command_line(config: RunConfig) -> list[str]:
    """The command line as given, except the --baseline folder: the manifest names the
    baseline by its period and hashes (`baseline`), never by a local path."""
    out = list(config.command_line)
    if config.baseline_dir is None:
        return out
    for i, arg in enumerate(out):
        if arg == "--baseline" and i + 1 < len(out):
            out[i + 1] = BASELINE_PLACEHOLDER
        elif arg.startswith("--baseline="):
            out[i] = f"--baseline={BASELINE_PLACEHOLDER}"
    return out


def config_section(config: RunConfig) -> dict[str, Any]:
    """The resolved config; the HMAC key is never written, only whether one was given."""
    case = config.case.model_dump(mode="json")
    if case["case"].get("hmac_key"):
        case["case"]["hmac_key"] = "(set)"
    return {"profile": config.profile, "case": case,
            "formats": [f for f in FORMATS if f in config.formats],
            "config_file": str(config.config_path) if config.config_path else None}


def heuristics_section(runs: list[HeuristicRun]) -> list[dict[str, Any]]:
    """Each heuristic: id, family, file hash, resolved params, rows fired, or why skipped.

    Seconds are left to diagnostics/timings.json: they differ on every run.
    """
    return [{"id": r.id, "family": r.family, "sha256": r.sha256, "params": r.params,
             "fired": r.fired, "skipped": r.skipped} for r in runs]


def outputs_section(out_dir: Path, names: list[str]) -> list[dict[str, Any]]:
    """Path, bytes and SHA-256 of each output file."""
    rows = []
    for name in sorted(names):
        p = out_dir / name
        rows.append({"path": name, "bytes": p.stat().st_size, "sha256": file_digest(p)})
    return rows


def write_checksums(out_dir: Path) -> list[str]:
    """manifest.sha256 in `sha256sum -c` format over every file in the output folder."""
    names = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*")
                   if p.is_file() and p.name != "manifest.sha256"
                   and p.relative_to(out_dir).parts[0] != DIAGNOSTICS)
    lines = [f"{file_digest(out_dir / n)}  {n}" for n in names]
    (out_dir / "manifest.sha256").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return names


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Write manifest.json (canonical JSON)."""
    (out_dir / "manifest.json").write_bytes(dump_json(manifest))
