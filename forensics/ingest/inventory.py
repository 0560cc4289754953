"""What each found file holds, read without scanning it: rows and columns from a Parquet
footer (or a CSV header), its SHA-256, and the column names ingest cannot take."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq

from forensics.errors import InputError
from forensics.ingest.discovery import SourceFile
from forensics.ingest.messages import first_line
from forensics.ingest.results import InputFile
from forensics.outputs import file_digest

_PARQUET_MAGIC = b"PAR1"
# Names ingest gives its own columns beside the files' ones (file, row number, CSV line).
RESERVED_NAMES = ("__file", "__row", "file_row_number", "ordinality")

Fields = list[tuple[str, str]]  # (column, type) of one file, as its footer or header says


def take_inventory(found: dict[str, list[SourceFile]]
                   ) -> tuple[dict[str, list[InputFile]], dict[str, dict[str, Fields]], list[str]]:
    """The manifest's entry for every found file, the fields of each Parquet file (by table,
    then str(path)) and the problems found: unreadable files, names that cannot be taken."""
    problems: list[str] = []
    files: dict[str, list[InputFile]] = {}
    fields_by_file: dict[str, dict[str, Fields]] = {}
    for name, sources in found.items():
        entries = []
        fields_by_file[name] = {}
        for f in sources:
            try:
                if f.csv:
                    rows, fields = -1, _csv_header(f.path)
                else:
                    rows, fields = _parquet_footer(f.path, f.rel)
                    fields_by_file[name][str(f.path)] = fields
                digest = file_digest(f.path)
            except InputError as exc:
                problems.append(exc.line())
                continue
            except OSError as exc:
                problems.append(f"{f.rel}: cannot be read ({exc.strerror})")
                continue
            problems += _column_name_problems(f, fields)
            entries.append(InputFile(name, f.rel, f.path.stat().st_size, digest, rows,
                                     _fingerprint(fields), f.resolved if f.linked else None))
        problems += _partition_key_problems(name, sources)
        files[name] = entries
    return files, fields_by_file, problems


def _looks_like_text(head: bytes) -> bool:
    """Whether the first bytes of a file read as printable UTF-8 text (CSV, JSON…)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut off at the end
            return False
        text = head[:exc.start].decode("utf-8")
    return bool(text) and all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def _parquet_footer(path: Path, rel: str) -> tuple[int, Fields]:
    """Rows and (column, arrow type) of one Parquet file, read from its footer alone."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(64)
            fh.seek(max(0, size - 4))
            tail = fh.read(4)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror}; expected a readable Parquet file)",
                         file=rel) from None
    if size == 0:
        raise InputError("empty file (0 bytes; expected a Parquet file)", file=rel)
    if head[:4] != _PARQUET_MAGIC:
        kind = "it looks like text or CSV" if _looks_like_text(head) else "no PAR1 header"
        raise InputError(f"not a Parquet file ({kind}; expected Parquet)", file=rel)
    if tail != _PARQUET_MAGIC:
        raise InputError(f"truncated or corrupt Parquet file (no PAR1 footer after {size} "
                         f"bytes; expected a complete Parquet file)", file=rel)
    try:
        meta = pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt footer
        raise InputError(f"corrupt Parquet file (footer unreadable: {first_line(exc)}; "
                         f"expected a valid Parquet file)", file=rel) from None
    try:
        arrow = meta.schema.to_arrow_schema()
        fields = [(f.name, str(f.type)) for f in arrow]
    except Exception:  # an exotic logical type: fall back to the physical ones
        fields = [(f.name, str(f.physical_type)) for f in meta.schema]
    return meta.num_rows, fields


def _csv_header(path: Path) -> Fields:
    """Column names of a CSV file (its first line), for the schema fingerprint."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        first = fh.readline().strip("\r\n")
    return [(name.strip().strip('"'), "VARCHAR") for name in first.split(",")]


def _column_name_problems(f: SourceFile, fields: Fields) -> list[str]:
    """Column names DuckDB would silently rename, drop or overwrite: repeated names (also
    differing only in case, as DuckDB's names are case-insensitive), ingest's own names, and
    partition folders that name a column the file holds."""
    problems = []
    seen: dict[str, str] = {}
    for name, _ in fields:
        if name.lower() in seen:
            problems.append(f"{f.rel}: column {name!r}: the file has two columns named "
                            f"{seen[name.lower()]!r} and {name!r} (expected each column name "
                            f"once, also ignoring case)")
        elif name.lower() in RESERVED_NAMES:
            problems.append(f"{f.rel}: column {name!r}: a name ingest reserves for the file "
                            f"and row of each value (expected another column name)")
        seen.setdefault(name.lower(), name)
    keys: dict[str, str] = {}
    for key, _ in f.partitions:
        if key.lower() in keys:
            problems.append(f"{f.rel}: column {key!r}: two partition folders {keys[key.lower()]}"
                            f"=… and {key}=… in the path (expected each key once)")
        elif key.lower() in seen:
            problems.append(f"{f.rel}: column {seen[key.lower()]!r}: both a column of the file "
                            f"and a partition folder {key}=… in its path (expected one of them: "
                            f"the folder's value would replace the file's)")
        elif key.lower() in RESERVED_NAMES:
            problems.append(f"{f.rel}: column {key!r}: a partition folder named for a column "
                            f"ingest reserves (expected another key)")
        keys.setdefault(key.lower(), key)
    return problems


def _partition_key_problems(table: str, files: list[SourceFile]) -> list[str]:
    """Partition keys that name one column in different cases (`Day=1/`, `day=2/`)."""
    spelled: dict[str, set[str]] = {}
    for f in files:
        for key, _ in f.partitions:
            spelled.setdefault(key.lower(), set()).add(key)
    return [f"{table}/: column {sorted(names)[0]!r}: partition folders "
            f"spell the key as {', '.join(sorted(names))} (expected one spelling)"
            for names in spelled.values() if len(names) > 1]


def _fingerprint(fields: Fields) -> str:
    text = "\n".join(f"{n}:{t}" for n, t in sorted(fields))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
