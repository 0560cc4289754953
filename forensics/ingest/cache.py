"""The validation cache of a kept database (--workdir).

A kept database remembers its last successful validation under a SHA-256 key of the files'
paths and hashes, the column mapping, the window and ingest's code: a rerun on the same bytes
hashes the files again but skips the checking scans (most of ingest's time), and finds
the views of the earlier run in place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from forensics import __version__, engine, schema, sqltext
from forensics.config import Window
from forensics.ingest.discovery import SourceFile
from forensics.ingest.results import DataIssue, IngestResult, InputFile, TableSummary

# The one-row table in which a kept database remembers its last successful validation.
VALIDATION_TABLE = "ingest_validation"
_UTC = ZoneInfo("UTC")
_PACKAGE = Path(__file__).parent


def validation_key(data_dir: Path, found: dict[str, list[SourceFile]],
                   files: dict[str, list[InputFile]], columns: dict[str, dict[str, str]],
                   window: Window) -> str:
    """SHA-256 of what a validation is a function of: the files (paths as the views read
    them, contents by their hashes), the column mapping, the window, and the code that checks
    them (this package and the contract) with the tool and DuckDB versions."""
    digest = hashlib.sha256()
    digest.update(json.dumps({
        "data_dir": str(data_dir),
        "paths": {name: [[str(f.path), f.resolved, f.partitions] for f in sources]
                  for name, sources in sorted(found.items())},
        "files": {name: [asdict(f) for f in entries] for name, entries in sorted(files.items())},
        "columns": columns,
        "window": window.model_dump(mode="json"),
        "versions": [__version__, duckdb.__version__],
    }, sort_keys=True).encode())
    for module in (*sorted(_PACKAGE.glob("*.py")), Path(schema.__file__),
                   Path(sqltext.__file__)):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def remembered(con: duckdb.DuckDBPyConnection, key: str, window: Window) -> IngestResult | None:
    """The validation this database remembers under `key`, if any."""
    if not engine.has_table(con, VALIDATION_TABLE):
        return None
    row = con.execute(f"SELECT result FROM {VALIDATION_TABLE} WHERE key = $k",
                      {"k": key}).fetchone()
    return None if row is None else _result_from_json(row[0], window)


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the remembered validation: the views are about to be replaced."""
    con.execute(f"DROP TABLE IF EXISTS {VALIDATION_TABLE}")


def remember(con: duckdb.DuckDBPyConnection, key: str, result: IngestResult) -> None:
    """Remember a successful validation under `key` (one row: the last one only)."""
    con.execute(f"CREATE OR REPLACE TABLE {VALIDATION_TABLE} AS SELECT $k AS key, $r AS result",
                {"k": key, "r": _result_json(result)})


def _result_json(result: IngestResult) -> str:
    doc = asdict(result)
    # The window is part of the key, and whether a validation was reused is per run.
    del doc["window"], doc["validation_reused"]
    return json.dumps(doc, default=lambda t: t.isoformat())


def _result_from_json(text: str, window: Window) -> IngestResult:
    doc = json.loads(text)

    def ts(value: str | None) -> datetime | None:
        # As DuckDB hands them out with TimeZone = 'UTC'.
        return datetime.fromisoformat(value).astimezone(_UTC) if value else None

    tables = {name: TableSummary(
        t["name"], tuple(InputFile(**f) for f in t["files"]), t["rows_read"],
        t["rows_excluded"], t["rows_analysed"], tuple(t["columns_present"]), t["mapping"],
        tuple(t["interpretations"]), ts(t["first_ts"]), ts(t["last_ts"]))
        for name, t in doc["tables"].items()}
    return IngestResult(doc["data_dir"], window, tables,
                        tuple(DataIssue(**i) for i in doc["issues"]), validation_reused=True)
