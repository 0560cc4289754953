"""How ingest's problem lines name a place: a path inside the data directory, a row, a list."""

from __future__ import annotations

from pathlib import Path

MAX_LISTED = 10  # stray or broken files named one by one before "… and N more"


def rel(path: Path | str, data_dir: Path) -> str:
    """`path` relative to the data directory, as messages and the manifest name files."""
    try:
        return str(Path(path).relative_to(data_dir))
    except ValueError:
        return str(path)


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception message: problems are one line each."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__


def listed(items: list[str], what: str) -> list[str]:
    """At most MAX_LISTED items, then one line saying how many more there are."""
    if len(items) <= MAX_LISTED:
        return items
    return items[:MAX_LISTED] + [f"… and {len(items) - MAX_LISTED} more {what}"]


def position(file: str, row: object) -> str:
    """`row N` of a Parquet file (counted from 0), `line N` of a CSV file (header = 1)."""
    kind = "line" if file.lower().endswith(".csv") else "row"
    return f"{kind} {row}"
