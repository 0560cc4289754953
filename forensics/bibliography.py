"""The heuristic library's bibliography: the public documents its headers cite, as data.

`queries/sources.yaml` holds one entry per document (key → author, title, date, URL or, when
no URL could be verified, a locator). A heuristic's header cites entries by key under
`references:`, each line `KEY` or `KEY (note)`; a line naming a file of the library instead
(`queries/lexicons/signals.csv (signal cot_strong)`) is a repository reference. A custom
library (`--queries DIR`) may add a `DIR/sources.yaml` of its own: its entries join the bundled
ones, and one of the same key replaces the bundled entry.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from forensics import resources

BIBLIOGRAPHY = "sources.yaml"
KEY = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# A reference line: its target (a key or a file path), then an optional note in parentheses.
_REFERENCE = re.compile(r"^(?P<target>[^\s(]+)(?:\s+\((?P<note>.*)\))?$", re.DOTALL)
# A target that names a file: a path with a folder, or a name with an extension.
_FILE = re.compile(r"^(?:[\w.-]+/)+[\w.-]+$|^[\w-]+\.[A-Za-z0-9]+$")


class Source(BaseModel):
    """One entry of the bibliography."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=KEY.pattern)
    author: str = Field(min_length=1)
    title: str = Field(min_length=1)
    date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    url: str | None = Field(pattern=r"^https://[^\s<>\"']+$")
    locator: str | None = None
    note: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, value: Any) -> Any:
        # An unquoted YAML date (2026-02-23) or year (1995) is read as the text it shows.
        if isinstance(value, dt.date | int) and not isinstance(value, bool):
            return value.isoformat() if isinstance(value, dt.date) else str(value)
        return value

    @model_validator(mode="after")
    def _found_somewhere(self) -> Source:
        if self.url is None and not (self.locator or "").strip():
            raise ValueError("url is null, so a locator saying how to find the document is "
                             "required")
        if self.url is not None and self.locator is not None:
            raise ValueError("a locator is only for an entry without a url")
        return self

    def label(self) -> str:
        """'Anthropic (2026-02-23)': how a catalogue entry names the document."""
        return f"{self.author} ({self.date})"


@dataclass(frozen=True)
class Citation:
    """One line under a heuristic's `references:`, resolved."""

    target: str  # a bibliography key, or a file of the library
    note: str | None
    source: Source | None  # None: a reference to a file of the library

    @property
    def is_file(self) -> bool:
        return self.source is None


def bibliography_files(queries: Path | None = None, *, existing: bool = True) -> list[Path]:
    """The bundled sources.yaml, then the custom library's own when it has one (or, with
    `existing=False`, where it would be)."""
    files = [resources.queries_dir() / BIBLIOGRAPHY]
    if queries is not None:
        own = Path(queries) / BIBLIOGRAPHY
        if (own.is_file() or not existing) and own.resolve() != files[0].resolve():
            files.append(own)
    return files


def read_bibliography(path: Path) -> tuple[dict[str, Source], list[str]]:
    """The entries of one sources.yaml, or the problems found in it (one line each)."""
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return {}, [f"{where}: cannot be read ({exc.strerror})"]
    except yaml.YAMLError as exc:
        return {}, [f"{where}: not valid YAML ({str(exc).splitlines()[0]})"]
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"{where}: expected a mapping of source keys to entries"]
    entries: dict[str, Source] = {}
    problems: list[str] = []
    for key, body in raw.items():
        if not isinstance(body, dict):
            problems.append(f"{where}: source {key!r}: expected a mapping (author, title, "
                            f"date, url)")
            continue
        try:
            entries[str(key)] = Source.model_validate({"key": key, **body})
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"])
                problems.append(f"{where}: source {key!r}: {field + ': ' if field else ''}"
                                f"{e['msg'].removeprefix('Value error, ')}")
    return entries, problems


def load_bibliography(queries: Path | None = None) -> tuple[dict[str, Source], list[str]]:
    """The bibliography a library cites from (bundled, then the custom library's entries
    over it), and every problem found in its files."""
    entries: dict[str, Source] = {}
    problems: list[str] = []
    for path in bibliography_files(queries):
        found, bad = read_bibliography(path)
        entries.update(found)
        problems += bad
    return dict(sorted(entries.items())), problems


def parse_reference(text: str) -> tuple[str, str | None]:
    """'KEY (note)' → ('KEY', 'note'); a line without a note → (line, None)."""
    m = _REFERENCE.match(text.strip())
    if m is None:
        return text.strip(), None
    note = m.group("note")
    return m.group("target"), (note.strip() or None) if note is not None else None


def cite(references: tuple[str, ...], bibliography: dict[str, Source], where: str,
         files: list[Path]) -> tuple[tuple[Citation, ...], list[str]]:
    """Resolve a header's `references:`; a key the bibliography lacks, or a line that is
    neither a key nor a file, is a problem naming the heuristic file and the line."""
    citations: list[Citation] = []
    problems: list[str] = []
    named = " or ".join(str(f) for f in files)
    for text in references:
        target, note = parse_reference(text)
        if KEY.match(target):
            source = bibliography.get(target)
            if source is None:
                problems.append(f"{where}: references: unknown source key {target!r} (no "
                                f"entry in {named})")
                continue
            citations.append(Citation(target, note, source))
        elif _FILE.match(target):
            citations.append(Citation(target, note, None))
        else:
            problems.append(f"{where}: references: {text.strip()[:60]!r} is neither a source "
                            f"key nor a file of the library (expected 'KEY' or 'KEY (note)', "
                            f"KEY an entry of {named})")
    return tuple(citations), problems
