"""Finding the files of each contract table in the data directory.

Ingest lists the files itself and hands DuckDB exactly these, never a folder or a pattern.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from forensics import schema, sqltext
from forensics.errors import InputError
from forensics.ingest.messages import listed, rel

_IGNORED_PREFIXES = (".", "_")  # _SUCCESS, .crc files and the like written by Spark/Hadoop


@dataclass(frozen=True)
class SourceFile:
    """One file of a table, as ingest found it inside the data directory."""

    path: Path  # absolute, as reached from the data directory (links not resolved): __file
    rel: str  # relative to the data directory, for messages and the manifest
    resolved: str  # the file itself, every symbolic link resolved
    # Hive partition values (key, value or None) from folders inside the table's folder only.
    partitions: tuple[tuple[str, str | None], ...] = ()
    linked: bool = False  # whether the path passes through a symbolic link

    @property
    def csv(self) -> bool:
        return self.path.suffix.lower() == ".csv"


def check_data_dir(data_dir: Path) -> None:
    """Refuse a data directory that is missing, not a folder, unreadable or empty."""
    if not data_dir.exists():
        raise InputError("data directory does not exist (expected a folder of Parquet files)",
                         file=str(data_dir))
    if not data_dir.is_dir():
        raise InputError("not a directory (expected a folder of Parquet files)",
                         file=str(data_dir))
    try:
        empty = not any(p for p in data_dir.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise InputError(f"cannot be listed ({exc.strerror})", file=str(data_dir)) from None
    if empty:
        raise InputError("data directory is empty (expected requests.parquet and "
                         "accounts.parquet, or folders requests/ and accounts/ of Parquet "
                         "files)", file=str(data_dir))


def _table_entries(data_dir: Path, t: schema.Table) -> tuple[list[Path], list[Path], list[str]]:
    """Single files and folders at the top of the data directory that hold table `t`.

    The table name is exact; the extension may be in any case (`indicators.CSV`). Spark writes
    `df.write.parquet("requests.parquet")` as a folder of part files, so a folder may carry
    the extension too. Also returns problems (dangling or looping links named like a table).
    """
    singles: list[Path] = []
    folders: list[Path] = []
    problems: list[str] = []
    extensions = (".parquet", ".csv") if t.name == "indicators" else (".parquet",)
    for name in sorted(os.listdir(data_dir)):
        rest = name[len(t.name):] if name.startswith(t.name) else None
        if rest is None or (rest and rest.lower() not in extensions):
            continue
        p = data_dir / name
        broken = _broken_link(p, name)
        if broken:
            problems.append(broken)
        elif p.is_dir() and (rest == "" or rest.lower() == ".parquet"):
            folders.append(p)
        elif p.is_file() and rest:
            singles.append(p)
    return singles, folders, problems


def _broken_link(p: Path, name: str) -> str | None:
    """Why a symbolic link cannot be followed (dangling, or a loop of links), or None; `name`
    is the link's path inside the data directory."""
    if not p.is_symlink():
        return None
    try:
        p.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (f"{name}: symbolic link loop ({os.readlink(p)!r} leads back to itself; "
                    f"expected a link to a file or folder)")
        return (f"{name}: dangling symbolic link (points to {os.readlink(p)!r}, which does "
                f"not exist; expected a link to a file or folder)")
    return None


def _hive_partitions(rel_parts: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    """Hive partition values of the folders between a table folder and one of its files.

    `date=2026-07-01` gives ("date", "2026-07-01"). As Hive and Spark write them, values are
    percent-encoded and __HIVE_DEFAULT_PARTITION__ stands for NULL. Only these folders count:
    a `key=value` folder above the data directory is where the export was put, not data.
    """
    out = []
    for part in rel_parts:
        key, eq, value = part.partition("=")
        if eq and key:
            text = unquote(value)
            out.append((key, None if text == "__HIVE_DEFAULT_PARTITION__" else text))
    return tuple(out)


class _TooManyFiles(Exception):
    pass


def _walk_table_folder(data_dir: Path, real_data_dir: str, folder: Path, csv_ok: bool,
                       problems: list[str], stray: list[str]) -> list[SourceFile]:
    """Every data file below a table folder, following symbolic links.

    Names starting with `.` or `_` (_SUCCESS, .crc files, _temporary/ written by Spark or
    Hadoop) are skipped. A link to a folder that contains one of the folders being walked
    (itself, an ancestor, or through another link) would make the walk endless, and a dangling
    link may hide data: both are problems naming the link.
    """
    files: list[SourceFile] = []

    def visit(directory: Path, parts: tuple[str, ...], chain: tuple[Path, ...]) -> None:
        # chain: the real folders from the table folder down to this one.
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            problems.append(f"{rel(directory, data_dir)}: cannot be listed ({exc.strerror})")
            return
        for name in names:
            if name.startswith(_IGNORED_PREFIXES):
                continue
            p = directory / name
            p_rel = rel(p, data_dir)
            broken = _broken_link(p, p_rel)
            if broken:
                problems.append(broken)
                continue
            if p.is_dir():
                target = Path(os.path.realpath(p))
                if any(c.is_relative_to(target) for c in chain):
                    problems.append(f"{p_rel}: symbolic link loop (points to "
                                    f"{os.readlink(p)!r}, a folder that contains the link; "
                                    f"expected links to folders outside it)")
                    continue
                visit(p, (*parts, name), (*chain, target))
            elif p.is_file() and (p.suffix.lower() == ".parquet"
                                  or (csv_ok and p.suffix.lower() == ".csv")):
                resolved = os.path.realpath(p)
                files.append(SourceFile(
                    p, p_rel, resolved, _hive_partitions(parts),
                    linked=resolved != os.path.join(real_data_dir, p_rel)))
                if len(files) > schema.MAX_FILES:
                    raise _TooManyFiles
            else:
                stray.append(f"{p_rel}: not a Parquet file (expected only *.parquet files in "
                             f"the table folder {folder.name}/)")

    try:
        visit(folder, (), (Path(os.path.realpath(folder)),))
    except _TooManyFiles:
        # Refused at once, alone: every other check would have to read each of the files.
        raise InputError(
            f"more than {schema.MAX_FILES:,} data files (expected at most "
            f"{schema.MAX_FILES:,}: compact them "
            f"into fewer, larger files first, for example with DuckDB's COPY … TO into one "
            f"Parquet file per table)", file=f"{rel(folder, data_dir)}/") from None
    return files


def find_files(data_dir: Path) -> tuple[dict[str, list[SourceFile]], list[str]]:
    """Files per contract table, and problems found on the way (not-Parquet files, broken
    links, files reached twice, paths DuckDB could not read literally…).

    Ingest lists the files itself and hands DuckDB exactly these, never a folder or a pattern.
    """
    data_dir = Path(os.path.abspath(data_dir))
    real_data_dir = os.path.realpath(data_dir)
    problems: list[str] = []
    found: dict[str, list[SourceFile]] = {}
    for t in schema.TABLES:
        singles, folders, broken = _table_entries(data_dir, t)
        problems += broken
        files: list[SourceFile] = []
        stray: list[str] = []
        for p in singles:
            resolved = os.path.realpath(p)
            files.append(SourceFile(p, p.name, resolved,
                                    linked=resolved != os.path.join(real_data_dir, p.name)))
        for folder in folders:
            files += _walk_table_folder(data_dir, real_data_dir, folder, t.name == "indicators",
                                        problems, stray)
        problems += listed(stray, f"non-Parquet files in {t.name}/")
        problems += _file_problems(data_dir, t, singles, files)
        if files:
            found[t.name] = sorted(files, key=lambda f: f.path)  # as before: by path parts
    return found, problems


def _file_problems(data_dir: Path, t: schema.Table, singles: list[Path],
                   files: list[SourceFile]) -> list[str]:
    """A table given twice (a single file and a folder, or two single files), one file reached
    through two paths, and paths DuckDB cannot be made to read literally."""
    problems: list[str] = []
    parquet_singles = [p for p in singles if p.suffix.lower() == ".parquet"]
    if parquet_singles and len(files) > len(singles):
        problems.append(f"{data_dir}: both {parquet_singles[0].name} and a folder "
                        f"{t.name}/ of Parquet files exist (expected one of them, not both)")
    elif len(parquet_singles) > 1:
        problems.append(f"{data_dir}: both {parquet_singles[0].name} and "
                        f"{parquet_singles[1].name} exist (expected one of them, not both)")
    seen: dict[str, str] = {}
    for f in files:
        if f.resolved in seen:
            problems.append(f"{f.rel}: the same file as {seen[f.resolved]} (reached twice "
                            f"through a symbolic link; expected each file once)")
        seen.setdefault(f.resolved, f.rel)
        try:
            sqltext.file_pattern(f.path)
        except sqltext.UnreadablePathError as exc:
            problems.append(f"{f.rel}: cannot be read: {exc} (rename the file or folder)")
    return problems


def discover(data_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Paths of the files per contract table, and problems found on the way."""
    found, problems = find_files(data_dir)
    return {name: [f.path for f in files] for name, files in found.items()}, problems


def missing_table(data_dir: Path, t: schema.Table) -> str:
    """Why a required table was not found, with what the folder holds instead."""
    expected = f"expected {t.name}.parquet or a folder {t.name}/ of Parquet files"
    _, folders, _ = _table_entries(data_dir, t)
    if folders:
        return (f"{data_dir}: no {t.name} table: the folder {folders[0].name}/ holds no "
                f"Parquet files ({expected})")
    entries = sorted(p.name + ("/" if p.is_dir() else "") for p in data_dir.iterdir()
                     if not p.name.startswith("."))
    seen = ", ".join(entries[:8]) + (", …" if len(entries) > 8 else "")
    return f"{data_dir}: no {t.name} table ({expected}; found: {seen or 'nothing'})"
