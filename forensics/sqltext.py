"""The one place where text from outside the code becomes SQL text.

Paths and values are passed to DuckDB as bound parameters wherever DuckDB accepts one. A view
cannot hold parameters, so the few things a view must spell out (the input files it reads, the
period bounds, identifiers) go through these helpers and nowhere else; tests/test_sqltext.py
checks them against hostile text.
"""

from __future__ import annotations

from pathlib import Path

# DuckDB's file readers expand these as glob patterns even in a literal list of files or a
# bound parameter: `part-[1].parquet` is read as the pattern `part-1.parquet`.
_GLOB_CHARACTERS = "*?["


class UnreadablePathError(ValueError):
    """A path DuckDB cannot be made to read literally."""


def identifier(name: str) -> str:
    """A quoted SQL identifier: `a"b` → `"a""b"`."""
    if "\x00" in name:
        raise ValueError("an identifier cannot hold a NUL character")
    return '"' + name.replace('"', '""') + '"'


def string(value: str) -> str:
    """A SQL string literal: `it's` → `'it''s'`. Newlines and semicolons stay inside it."""
    if "\x00" in value:
        raise ValueError("a string literal cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"


def file_pattern(path: Path | str) -> str:
    """The text DuckDB's readers (read_parquet, read_csv) take to mean exactly this one file.

    Each glob character is wrapped in brackets (`[1]` → `[[]1]`, `*` → `[*]`), which DuckDB
    matches as the character itself. Once a path holds a glob character DuckDB also splits it
    at backslashes, and no escape reaches a backslash then: such a path is refused rather than
    read as something else. A path without glob characters is passed as it is.
    """
    text = str(path)
    if not any(c in text for c in _GLOB_CHARACTERS):
        return text
    if "\\" in text:
        raise UnreadablePathError(
            "its path holds a backslash and one of * ? [, which DuckDB cannot read literally")
    return "".join(f"[{c}]" if c in _GLOB_CHARACTERS else c for c in text)


def file_literal(path: Path | str) -> str:
    """A SQL string literal naming exactly this one file for DuckDB's readers."""
    return string(file_pattern(path))
