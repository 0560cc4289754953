"""Ingest: find the exported tables, check them against the contract, expose canonical views.

Every problem is collected before anything fails, so an analyst fixes an export in one go.
Heuristics only ever see the canonical names (`requests`, `accounts`, `model_releases`,
`indicators`) and `request_locations`, never file paths as DuckDB read them (tables.py lists
what ingest hands on).

Documented rules (README, "Input contract"):
- a `request_id` repeated with the same account and time is a re-export: the first copy (by
  file, then row) is kept and the others are counted as excluded; the same id with another
  account or time aborts the run, since the export is then inconsistent. Other tables with a
  unique key apply the same rule over their other required columns.
- rows outside the analysed period are counted as excluded, never silently dropped.
- requests whose account is not in `accounts` are kept and counted as a data-quality issue.

The package, in the order a run goes through it:
- discovery.py: the files of each table in the data directory (links, partition folders);
- inventory.py: each file's footer or header, hash and column names, for the manifest;
- loader.py: a table's source view over exactly its files, the column mapping, the typed
  view (casts from casts.py) and the one scan that checks every value;
- rules.py: exclusions, duplicates, indicators, requests of unknown accounts;
- tables.py: the tables and views handed on; cache.py: a kept database's validation;
- stage.py: `ingest()`, which runs them in that order; results.py: what it returns.
"""

from forensics.ingest.cache import VALIDATION_TABLE
from forensics.ingest.discovery import SourceFile, discover, find_files
from forensics.ingest.results import DataIssue, IngestResult, InputFile, TableSummary
from forensics.ingest.stage import ingest
from forensics.ingest.tables import (
    REQUEST_LOCATIONS,
    REQUESTS_AT,
    create_empty_inputs,
    create_empty_table,
)

__all__ = [
    "REQUESTS_AT",
    "REQUEST_LOCATIONS",
    "VALIDATION_TABLE",
    "DataIssue",
    "IngestResult",
    "InputFile",
    "SourceFile",
    "TableSummary",
    "create_empty_inputs",
    "create_empty_table",
    "discover",
    "find_files",
    "ingest",
]
