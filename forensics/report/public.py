"""The public profile: keyed pseudonyms for identifiers, and the leak check that proves no raw
identifier from the inputs reached the rendered dossier.

Pseudonyms are HMAC-SHA256 of `kind:value` under the case's key (config `[case] hmac_key`),
so the same account has the same pseudonym in every dossier of the case and nobody without
the key can reverse or confirm one.

The leak check reads the identifiers of the inputs (account ids, API keys, organisations,
e-mail domains, IP addresses, payment fingerprints, user agents), removes white space, and
looks for each one, case-insensitively, in the white-space-free text of the PDF, the HTML and
the exhibits. Identifiers shorter than MIN_CHECKED_CHARS or made of letters only (an
organisation called "research") are pseudonymised but not searched for: they would match
ordinary prose.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from forensics.errors import ConfigError, LeakError
from forensics.evidence.vocabulary import LINK_KINDS

MIN_CHECKED_CHARS = 6
_PREFIX = MIN_CHECKED_CHARS
_WHITESPACE = re.compile(r"\s+")
_LETTERS_ONLY = re.compile(r"^[^\W\d_]+$")
# A pseudonym as the leak check sees it (squashed, lower-cased): `<prefix>-<10 hex>`.
_PSEUDONYM = re.compile(r"[a-z]+-[0-9a-f]{10}")

# Kinds of identifier and the prefix of their pseudonyms.
PREFIXES = {"account": "acct", "api_key": "key", "org": "org", "email_domain": "domain",
            "ip": "ip", "ip_prefix": "net", "payment": "pay", "user_agent": "ua",
            "request": "req", "conversation": "conv", "cluster": "C"}


def _squash(text: str) -> str:
    return _WHITESPACE.sub("", text).lower()


@dataclass
class IdentifierIndex:
    """The raw identifiers of the inputs, indexed for a linear-time search in long text."""

    values: dict[str, tuple[str, str]] = field(default_factory=dict)  # squashed → (kind, raw)
    _lengths: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, kind: str, raw: str) -> None:
        key = _squash(raw)
        if len(key) < MIN_CHECKED_CHARS or _LETTERS_ONLY.match(key):
            return
        self.values.setdefault(key, (kind, raw))
        self._lengths[key[:_PREFIX]].add(len(key))

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Every (start, end, squashed identifier) found in `text` (already squashed),
        longest first at each position, overlapping matches skipped."""
        hits: list[tuple[int, int, str]] = []
        i, n = 0, len(text)
        while i <= n - _PREFIX:
            lengths = self._lengths.get(text[i:i + _PREFIX])
            if lengths:
                found = next((text[i:i + L] for L in sorted(lengths, reverse=True)
                              if text[i:i + L] in self.values), None)
                if found:
                    hits.append((i, i + len(found), found))
                    i += len(found)
                    continue
            i += 1
        return hits

    def discard_found_in(self, text: str) -> None:
        """Drop identifiers that the tool's own text contains (a webmail domain named in a
        heuristic's SQL is public knowledge, not a leak from the inputs)."""
        for _, _, key in self.find(_squash(text)):
            self.values.pop(key, None)

    def __len__(self) -> int:
        return len(self.values)

    def merged(self, other: IdentifierIndex) -> IdentifierIndex:
        """A new index holding the identifiers of both (this one's kind wins a tie)."""
        both = IdentifierIndex()
        for index in (self, other):
            for kind, raw in index.values.values():
                both.add(kind, raw)
        return both


def load_identifiers(con: duckdb.DuckDBPyConnection, sql: str) -> IdentifierIndex:
    """Read (kind, value) rows of every identifier in the inputs into an index."""
    index = IdentifierIndex()
    for kind, value in con.execute(sql).fetchall():
        if value:
            index.add(str(kind), str(value))
    return index


class Pseudonymiser:
    """Identifiers as shown in the dossier: raw (internal profile) or keyed pseudonyms."""

    def __init__(self, public: bool, key: str | None, index: IdentifierIndex | None = None):
        if public and not key:
            raise ConfigError("the public profile needs a pseudonymisation key: set "
                              "[case] hmac_key in the case config")
        self.public = public
        self._key = (key or "").encode("utf-8")
        self.index = index or IdentifierIndex()
        self._cache: dict[tuple[str, str], str] = {}

    def shown(self) -> frozenset[str]:
        """Every pseudonym this pseudonymiser has written so far."""
        return frozenset(self._cache.values())

    def __call__(self, kind: str, value: str | None) -> str | None:
        """`value` as shown: itself, or `<prefix>-<10 hex>` in the public profile."""
        if value is None or not self.public:
            return value
        cached = self._cache.get((kind, value))
        if cached is None:
            mac = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
            cached = f"{PREFIXES.get(kind, kind)}-{mac[:10]}"
            self._cache[(kind, value)] = cached
        return cached

    def link_key(self, kind: str, value: str) -> str:
        """A link's key as shown: pseudonymised by the identifier kind it is, scrubbed where
        it is composite (a creation burst names its shared key), as it is otherwise."""
        key_kind = LINK_KINDS[kind].key_id if kind in LINK_KINDS else None
        if key_kind:
            return self(key_kind, value) or value
        return self.scrub(value) or value

    def json(self, value: Any, id_keys: Mapping[str, str] | None = None,
             kind: str | None = None) -> Any:
        """A JSON-ready value as the public profile shows it: strings under a key of
        `id_keys` (key → identifier kind, lists element by element) as pseudonyms, every
        other string scrubbed."""
        keys = id_keys or {}
        if isinstance(value, dict):
            return {k: self.json(v, keys, keys.get(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(v, keys, kind) for v in value]
        if isinstance(value, str):
            return self(kind, value) if kind else self.scrub(value)
        return value

    def scrub(self, text: str | None) -> str | None:
        """Tool-written text (a heuristic's detail line) with every known identifier in it
        replaced by its pseudonym. Log text is never scrubbed: it is masked instead, and the
        leak check catches what an exemplar still shows."""
        if text is None or not self.public or not self.index.values:
            return text
        # Search the squashed text (as the leak check does) and map each hit back to its
        # span in the original, so a user agent with spaces is found too.
        positions = [i for i, ch in enumerate(text) if not ch.isspace()]
        squashed = "".join(text[i] for i in positions).lower()
        out: list[str] = []
        last = 0
        for start, end, key in self.index.find(squashed):
            kind, raw = self.index.values[key]
            out.append(text[last:positions[start]])
            out.append(self(kind, raw) or "")
            last = positions[end - 1] + 1
        out.append(text[last:])
        return "".join(out)


def local_paths(paths: Iterable[Path | None]) -> IdentifierIndex:
    """The analyst's own folders (data, config, queries, work folder, baseline), absolute, as
    identifiers a public output folder must not hold: where a case's files lie says who
    worked on it and how their machine is laid out."""
    index = IdentifierIndex()
    for path in paths:
        if path is not None:
            index.add("local path", str(Path(path).resolve()))
    return index


def check_leaks(index: IdentifierIndex, texts: Iterable[tuple[str, str]],
                shown: Iterable[str] = ()) -> None:
    """Raise LeakError naming where and which kind of raw identifier appears in any text.

    `texts` are (where, text) pairs: the PDF's extracted text, the HTML, each exhibit.
    `shown` are the pseudonyms the run wrote: each is masked before the search, since its
    hex digits can spell a short raw id by chance (`org-0284064e9e` holds `org-028`).
    The identifier itself is not printed: the error line may end up in a shared log.
    """
    pseudonyms = {_squash(p) for p in shown}
    found: list[str] = []
    for where, text in texts:
        squashed = _squash(text)
        if pseudonyms:
            squashed = _PSEUDONYM.sub(
                lambda m: "\x00" if m.group(0) in pseudonyms else m.group(0), squashed)
        hits = index.find(squashed)
        if hits:
            kinds = sorted({index.values[key][0] for _, _, key in hits})
            found.append(f"{where}: {len(hits)} raw identifier(s) ({', '.join(kinds)})")
    if found:
        raise LeakError("public profile: raw identifiers from the inputs appear in the "
                        "output folder, nothing was written: " + "; ".join(found)
                        + ". Lower [report] public_exemplar_chars or set it to 0 to mask "
                          "every prompt")


def folder_texts(folder: Path, skip: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(relative path, text) of every file in an output folder, for the leak check: text
    files as they are, Parquet files as the text of every cell, the PDF as its text layer.
    Files in `skip` were already checked from their source text."""
    skipped = set(skip)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name in skipped:
            continue
        if path.suffix == ".parquet":
            yield name, parquet_text(path)
        elif path.suffix == ".pdf":
            yield name, pdf_text(path)
        else:
            yield name, path.read_bytes().decode("utf-8", errors="replace")


def parquet_text(path: Path) -> str:
    """Every cell of a Parquet file as text, lists flattened: what a reader of the file sees."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    lines: list[str] = []
    for column in table.columns:
        for value in column.to_pylist():
            if isinstance(value, list):
                lines.extend(str(v) for v in value)
            elif value is not None:
                lines.append(str(value))
    # A NUL between cells: white space would be squashed away, joining two cells into one.
    return "\x00".join(lines)


def pdf_text(path: Path) -> str:
    """All text of a PDF's pages (pypdf), for the leak check and the tests.

    When no font has a glyph for a character (a script the bundled fonts do not cover),
    WeasyPrint writes a custom two-byte encoding for the font it fell back to, which pypdf
    reads one byte at a time, giving a NUL before each character; the NULs are removed.
    Characters beyond the first 256 glyphs of such a font may still come out wrong, which is
    why the leak check also reads the HTML the PDF was rendered from.
    """
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages).replace("\x00", "")


_STYLE = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.DOTALL | re.IGNORECASE)


def html_text(html: str) -> str:
    """The text of an HTML document: style sheets and tags dropped, entities decoded (for the
    leak check). A style sheet is the bundled CSS and fonts (log text is escaped, so no
    `<style>` comes from it), and the fonts' base64 would match short identifiers by chance."""
    import html as html_lib

    without_tags = re.sub(r"<[^>]*>", " ", _STYLE.sub(" ", html))
    return html_lib.unescape(without_tags)
