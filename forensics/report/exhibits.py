"""Exhibits: the full evidence behind each finding, as CSV files written beside the PDF (under
`exhibits/`) and, up to ATTACH_MAX_BYTES each, embedded in it as PDF/A-3b attachments.

CSV cells hold the evidence verbatim (log text included, cut only where the exhibit says so):
an exhibit is data, not display. Open them as text or with a CSV reader; a cell may begin
with `=` or `+` because an attacker wrote it so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from forensics.outputs import file_digest
from forensics.report.context import Exhibit

EXHIBITS_DIR = "exhibits"
# Exhibits up to this size are also embedded in the PDF. Larger ones (the signals of a
# campaign of thousands of accounts) stay beside it, bound by the SHA-256 the PDF prints:
# compressing and embedding tens of megabytes would make the render grow with the input.
ATTACH_MAX_BYTES = 2 * 1024 * 1024


def cell(value: Any) -> str:
    """One value as CSV text, the same on every run (ISO times, repr floats, ; lists)."""
    # Exact types first: an exhibit of a large cluster has a million cells.
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return repr(round(value, 6))
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, list | tuple):
        return ";".join(cell(v) for v in value)
    return str(value)


def csv_bytes(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    """The rows as UTF-8 CSV with a header, LF line ends and minimal quoting."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


Transform = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class ExhibitWriter:
    """Numbers exhibits EX-001, EX-002… in the order they are written."""

    out_dir: Path
    written: list[Exhibit]

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.written = []
        (out_dir / EXHIBITS_DIR).mkdir(exist_ok=True)

    def add(self, slug: str, title: str, description: str, columns: Sequence[str],
            rows: Sequence[dict[str, Any]], cluster_id: str | None = None) -> Exhibit:
        """Write one exhibit and return its inventory entry."""
        number = f"EX-{len(self.written) + 1:03d}"
        filename = f"{number}-{slug}.csv"
        path = self.out_dir / EXHIBITS_DIR / filename
        path.write_bytes(csv_bytes(columns, rows))
        exhibit = Exhibit(id=number, title=title, description=description,
                          path=f"{EXHIBITS_DIR}/{filename}", filename=filename, rows=len(rows),
                          size=path.stat().st_size, sha256=file_digest(path),
                          cluster_id=cluster_id,
                          attached=path.stat().st_size <= ATTACH_MAX_BYTES)
        self.written.append(exhibit)
        return exhibit
