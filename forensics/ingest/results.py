"""What ingest hands to the next stages: the provenance of every file and table it read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from forensics.config import Window


@dataclass(frozen=True)
class InputFile:
    """One file read, with what a court needs to know it was not altered."""

    table: str
    path: str
    bytes: int
    sha256: str
    rows: int
    schema_fingerprint: str
    # The file itself when `path` passes through a symbolic link; None when it does not.
    resolved: str | None = None


@dataclass(frozen=True)
class DataIssue:
    """A non-fatal data-quality finding, kept for the dossier."""

    table: str
    column: str | None
    count: int
    message: str


@dataclass(frozen=True)
class TableSummary:
    """How one table was read: files, row accounting and which columns it has."""

    name: str
    files: tuple[InputFile, ...]
    rows_read: int
    rows_excluded: dict[str, int]
    rows_analysed: int
    columns_present: tuple[str, ...]
    mapping: dict[str, str]
    interpretations: tuple[str, ...] = ()
    first_ts: datetime | None = None
    last_ts: datetime | None = None


@dataclass(frozen=True)
class IngestResult:
    """What ingest hands to the next stages."""

    data_dir: str
    window: Window
    tables: dict[str, TableSummary]
    issues: tuple[DataIssue, ...] = field(default_factory=tuple)
    # Whether a kept database's earlier validation of the same files was used (timings only).
    validation_reused: bool = False

    def has_column(self, table_name: str, column: str) -> bool:
        """Whether the export carries `column` for `table_name` (absent ones are NULL)."""
        t = self.tables.get(table_name)
        return t is not None and column in t.columns_present
