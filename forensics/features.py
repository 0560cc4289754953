"""Features: the one pass over the log text, shared by every heuristic.

Runs the SQL in `queries/features/` in order and loads the lexicons as tables. Template
skeletons and their MinHash groups are built from the distinct prompt heads first, so that the
one scan of the text (50) writes each request's final row at once, with the lexicon labels
from `lexicon_labels()` (LexiconLabeller). Produces `request_features` (one row per analysed
request, no raw text), `skeletons` (distinct masked prompt heads with their requests and
MinHash template group), the shared aggregates that spare heuristics a scan of every request
(`account_activity`, `account_capabilities`, `account_templates`, `account_network`,
`account_signals`, and `flagged_requests`: the requests carrying a lexicon signal or a
score-shaped response),
`indicator_hits` (accounts matching analyst indicators), `lexicon_signals` and
`lexicon_capabilities`; and first, the functions the heuristics call (05_functions.sql: the
score curve `fired_score` and its terms), defined in the database beside its tables.

In a kept database (`--workdir`) the tables carry a fingerprint of everything they are a
function of (`features_fingerprint`), so that a rerun on the same inputs with other thresholds
reuses them (`reusable`) instead of scanning the text again.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forensics import __version__, portable_regex, resources, sqlfiles
from forensics.errors import HeuristicError
from forensics.progress import Progress

# The lexicon scan reads a prompt's first SCAN_CHARS characters and, of a longer prompt, its
# last SCAN_TAIL_CHARS too (a system prompt's first SCAN_CHARS): adversarial megabyte prompts
# cost no more than a page. The dossier's limitations state these two numbers from here.
SCAN_CHARS = 4000
SCAN_TAIL_CHARS = 1000
# The most used prompt heads whose skeleton the scan looks up instead of computing it
# (50_request_features.sql says why the lookup is capped).
FREQUENT_HEADS = 25_000
# Near-duplicate skeletons (30_minhash_bands.sql says why each number): pairs whose word
# 3-gram sets have a resemblance of at least one half, Broder's "roughly the same", found by
# MinHash-LSH with 24 bands of 2 rows (a pair at one half is a candidate with probability
# 0.999) and then checked exactly, each skeleton against the BUCKET_WINDOW just before it
# in a band bucket and the bucket's first BUCKET_WINDOW.
MIN_RESEMBLANCE = 0.5
MINHASH_PERMUTATIONS = 48
MINHASH_ROWS_PER_BAND = 2
BUCKET_WINDOW = 20
MINHASH_MIN_CHARS = 40
# Template groups are near-duplicate neighbourhoods, not full connected components: near-duplicate
# relations do not chain (A~B and B~C does not make A~C), and iterating to convergence merged
# everyday prompts into giant families. Two rounds group each skeleton with its neighbours'
# neighbours at most.
TEMPLATE_ROUNDS = 2
# Session starts launched together (57_session_starts.sql, 58_session_start_pass.sql and
# 59_session_start_pairs.sql, read by co_launched_sessions and linking's sync pairs): an
# account is compared with others once it has MIN_SESSION_STARTS session starts, and a pair is
# judged once both started sessions in MIN_SHARED_START_MINUTES same minutes. Fewer is no
# pattern a reader could check: two coincidences happen to any two busy accounts.
MIN_SESSION_STARTS = 5
MIN_SHARED_START_MINUTES = 3
# Each account's pairs are judged for its MAX_START_PARTNERS strongest partners: one
# significant pair fires it, and the dossier shows ten pieces of evidence per finding.
MAX_START_PARTNERS = 10
# The pairs are counted in passes of about START_PAIR_ROWS_PER_PASS rows of the self-join on
# the minute: a pass's pairs are held in memory while counted, and this many keep a pass
# within the default memory limit (1 GB).
START_PAIR_ROWS_PER_PASS = 20_000_000
# The functions the heuristics call (the score curve), run first; the dossier's heuristics.sql
# carries it too, as the heuristics' SQL is not complete without it.
FUNCTIONS_FILE = "05_functions"

# The files of queries/features/, run in this order; a custom --queries features/ folder must
# hold every one (heuristics, linking and the report read the tables they build).
FEATURE_FILES = (FUNCTIONS_FILE, "10_prompt_heads", "20_skeletons", "30_minhash_bands",
                 "40_template_groups", "50_request_features", "55_account_aggregates",
                 "57_session_starts", "58_session_start_pass", "59_session_start_pairs",
                 "60_indicator_hits")

# The one-row table that marks complete feature tables in a kept database.
FINGERPRINT_TABLE = "feature_tables_fingerprint"

_RE2_META = re.compile(r"([\\.^$|?*+()\[\]{}])")


@dataclass(frozen=True)
class LexiconEntry:
    """One phrase of a lexicon: what it labels, how it matches, where it comes from."""

    label: str
    phrase: str
    is_regex: bool
    source: str

    def pattern(self) -> str:
        """The phrase as an RE2 fragment (literal phrases escaped)."""
        return self.phrase if self.is_regex else _RE2_META.sub(r"\\\1", self.phrase)


@dataclass(frozen=True)
class FeatureResult:
    """What the features stage built."""

    requests: int
    skeletons: int
    templates: int
    lexicon_phrases: int
    propagation_rounds: int


# The lexicon files and the tables they are loaded into, as heuristics read them.
LEXICON_TABLES = (("lexicon_signals", "signals.csv"), ("lexicon_capabilities", "capabilities.csv"))


@dataclass(frozen=True)
class LexiconFile:
    """A lexicon CSV as DuckDB's `read_csv(header = true, all_varchar = true)` read it before
    both engines were handed the rows from here: its header, and every field as text, an
    empty one (quoted or not) as NULL."""

    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]
    lines: tuple[int, ...]  # where each row ends in the file (the header is line 1)

    def records(self) -> list[tuple[int, dict[str, str | None]]]:
        """Each row as a dict, with its line number."""
        return [(line, dict(zip(self.columns, row, strict=True)))
                for line, row in zip(self.lines, self.rows, strict=True)]

    def table(self) -> pa.Table:
        return pa.table({c: pa.array([row[j] for row in self.rows], type=pa.string())
                         for j, c in enumerate(self.columns)})


def read_lexicon_file(path: Path) -> LexiconFile:
    """One lexicon CSV; a row with another number of fields than the header is a
    HeuristicError naming the file and the row."""
    header: tuple[str, ...] | None = None
    rows: list[tuple[str | None, ...]] = []
    lines: list[int] = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            for line in reader:
                if not line:  # a blank line holds no row (read_csv skipped it too)
                    continue
                if header is None:
                    header = tuple(line)
                    continue
                if len(line) != len(header):
                    raise HeuristicError(f"row {reader.line_num}: {len(line)} fields where "
                                         f"the header names {len(header)}", file=str(path))
                rows.append(tuple(v if v != "" else None for v in line))
                lines.append(reader.line_num)
    except FileNotFoundError:
        raise HeuristicError("lexicon file missing", file=str(path)) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HeuristicError(f"cannot be read: {exc}", file=str(path)) from None
    if header is None:
        raise HeuristicError("no header row", file=str(path))
    return LexiconFile(path, header, tuple(rows), tuple(lines))


def read_lexicon_files(lexicons: Path) -> dict[str, LexiconFile]:
    """The lexicon files of folder `lexicons`, by the table each is loaded into."""
    return {table: read_lexicon_file(lexicons / name) for table, name in LEXICON_TABLES}


def read_lexicons(lexicons: Path,
                  files: dict[str, LexiconFile] | None = None) -> list[LexiconEntry]:
    """Both lexicons as labelled entries (from `files` when they are read already); a bad
    row is a HeuristicError naming file and row. A regex phrase must keep to the regex
    subset DuckDB (RE2) and Spark (Java) read alike (forensics/portable_regex.py)."""
    files = files if files is not None else read_lexicon_files(lexicons)
    labels: dict[str, Callable[[dict[str, str | None]], str]] = {
        "lexicon_signals": lambda r: f"signal:{r['signal']}",
        "lexicon_capabilities": lambda r: f"capability:{int(r['priority'] or '')}:"
                                          f"{r['capability']}"}
    entries: list[LexiconEntry] = []
    for table, _name in LEXICON_TABLES:
        lexicon = files[table]
        for i, row in lexicon.records():
            try:
                phrase = row["phrase"]
                if phrase is None:
                    # it would match at every position of every text
                    raise ValueError("the phrase is empty")
                entry = LexiconEntry(labels[table](row), phrase.lower(),
                                     row["match"] == "regex", row["source"] or "")
                if entry.is_regex:
                    portable_regex.check_shared(entry.pattern())
                re.compile(entry.pattern())
            except (KeyError, ValueError, re.error) as exc:
                raise HeuristicError(f"row {i}: {exc}", file=str(lexicon.path)) from None
            entries.append(entry)
    return entries


def load_lexicon_tables(db: sqlfiles.Engine, files: dict[str, LexiconFile]) -> None:
    """The lexicon files as tables of `db`, handed over as Arrow rows: the one way on every
    engine (Spark has no read_csv of DuckDB's)."""
    for table, lexicon in files.items():
        rows = f"{table}_rows"
        db.register(rows, lexicon.table())
        try:
            db.create_table_as(table, f"SELECT * FROM {rows}")
        finally:
            db.unregister(rows)


def scan_pattern(entries: list[LexiconEntry]) -> str:
    """One case-insensitive RE2 alternation of every lexicon phrase, for the text scan.

    Groups are made non-capturing: the scan keeps whole matches only, and a pattern without
    capture groups lets RE2 report a match without its submatch engine (a quarter less time
    over the text, same matches).
    """
    return "(?i)(?:" + "|".join(non_capturing(e.pattern()) for e in entries) + ")"


def non_capturing(pattern: str) -> str:
    """`pattern` with every capturing group `(` written `(?:`; escapes and character classes,
    where `(` is literal, are left alone."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            # A ']' right after '[' or '[^' is a literal member, not the end of the class.
            j = i + 1 + (pattern[i + 1:i + 2] == "^")
            if pattern[j:j + 1] == "]":
                out.append(pattern[i:j + 1])
                i = j + 1
                continue
        elif ch == "(" and pattern[i + 1:i + 2] != "?":
            out.append("(?:")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def features_fingerprint(inputs: dict[str, Any], queries: Path | None = None) -> str:
    """SHA-256 of what the feature tables are a function of: the inputs as ingest describes
    them (files and their hashes, window, column mapping, rows), the features SQL and the
    lexicons, this module (the labeller and the constants) and the SQL runner
    (forensics/sqlfiles.py), and the tool and DuckDB versions.
    Engine settings are left out: they change speed, not rows."""
    digest = hashlib.sha256()
    digest.update(json.dumps(inputs, sort_keys=True, default=str).encode())
    for folder in (resources.queries_part("features", queries), resources.lexicons_dir(queries)):
        for path in sorted(folder.iterdir()):
            if path.is_file():
                digest.update(f"\0{folder.name}/{path.name}\0".encode())
                digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(sqlfiles.__file__).read_bytes())  # how the files are split and bound
    digest.update(f"\0{__version__}\0{duckdb.__version__}".encode())
    return digest.hexdigest()


def reusable(con: sqlfiles.Database, fingerprint: str) -> bool:
    """Whether the database already holds complete feature tables with this fingerprint."""
    db = sqlfiles.engine_for(con)
    if not db.has_table(FINGERPRINT_TABLE):
        return False
    found = db.query(f"SELECT fingerprint FROM {FINGERPRINT_TABLE}")
    return bool(found.rows) and found.scalar() == fingerprint


def build_features(con: sqlfiles.Database, queries: Path | None = None,
                   fingerprint: str | None = None,
                   progress: Callable[[str], None] | None = None) -> FeatureResult:
    """Compute every derived column once; see the module docstring for the tables. With a
    fingerprint, record it once every table is built. `progress` hears of each step, and a
    forensics.progress.Progress also shows how far the scan of every request is."""
    say = progress or (lambda _m: None)
    steps = ("prompt heads", "template skeletons", "near-duplicate skeletons", "template groups",
             "lexicon scan of every request", "account aggregates",
             "session starts launched together", "indicator hits")

    def step(i: int) -> None:
        say(f"features {i}/{len(steps)}: {steps[i - 1]}")

    db = sqlfiles.engine_for(con)
    # First of all: tables being rebuilt (or left half-built by an interrupted run) must
    # never look reusable under an older fingerprint.
    db.execute(f"DROP TABLE IF EXISTS {FINGERPRINT_TABLE}")
    lexicons = resources.lexicons_dir(queries)
    sql = sqlfiles.SqlFolder(resources.queries_part("features", queries), "features query")
    missing = sql.missing(FEATURE_FILES)
    if missing:
        raise HeuristicError(f"features folder lacks {', '.join(missing)} (expected every "
                             f"file of the bundled queries/features/)", file=str(sql.folder))
    files = read_lexicon_files(lexicons)
    entries = read_lexicons(lexicons, files)
    load_lexicon_tables(db, files)

    # The functions the heuristics call (fired_score …), kept in the database with its tables.
    sqlfiles.run_file(db, sql.file(FUNCTIONS_FILE))
    step(1)
    sqlfiles.run_file(db, sql.file("10_prompt_heads"))
    step(2)
    sqlfiles.run_file(db, sql.file("20_skeletons"))
    step(3)
    near_duplicate_pairs(db, sql)
    step(4)
    rounds = group_templates(db, sql)
    labeller = LexiconLabeller(entries)
    step(5)
    watch = (progress.query(con, "features: lexicon scan")
             if isinstance(progress, Progress) and isinstance(con, duckdb.DuckDBPyConnection)
             else contextlib.nullcontext())
    with db.string_list_function(LexiconLabeller.NAME, labeller), watch:
        sqlfiles.run_file(db, sql.file("50_request_features"),
                          {"lexicon_pattern": scan_pattern(entries), "scan_chars": SCAN_CHARS,
                           "scan_tail_chars": SCAN_TAIL_CHARS,
                           "frequent_heads": FREQUENT_HEADS})
    step(6)
    sqlfiles.run_file(db, sql.file("55_account_aggregates"))
    step(7)
    session_start_pairs(db, sql)
    step(8)
    sqlfiles.run_file(db, sql.file("60_indicator_hits"))
    for intermediate in ("prompt_heads", "skeleton_pairs", "template_groups"):
        db.execute(f"DROP TABLE {intermediate}")
    counts = db.query("SELECT (SELECT count(*) FROM request_features), count(*), "
                      "count(DISTINCT template_id) FROM skeletons").rows[0]
    if fingerprint is not None:
        db.execute(f"CREATE TABLE {FINGERPRINT_TABLE} AS SELECT $f AS fingerprint",
                   {"f": fingerprint})
    return FeatureResult(int(counts[0]), int(counts[1]), int(counts[2]), len(entries), rounds)


class LexiconLabeller:
    """`lexicon_labels(phrases)`, the SQL function the scan calls on each request's matched
    phrases (lower-cased): the sorted, distinct labels of every lexicon entry that matches any
    of them.

    The scan finds matches with one combined pattern; which entry matched is decided here, once
    per distinct phrase (cached), not once per request. Requests without a match never call it.
    A function rather than a lookup table built after the scan, so that the scan writes each
    request's final row at once instead of a second pass copying every row to add the labels.
    """

    NAME = "lexicon_labels"

    def __init__(self, entries: list[LexiconEntry]) -> None:
        self._compiled = [(e.label, re.compile(e.pattern(), re.IGNORECASE)) for e in entries]
        self._names = sorted({e.label for e in entries})
        self._name_array = pa.array(self._names, type=pa.string())
        self._number = {name: i for i, name in enumerate(self._names)}
        self._cache: dict[str, np.ndarray] = {}

    def labels(self, phrase: str) -> list[str]:
        """The labels of one lower-cased matched phrase, sorted."""
        return [self._names[i] for i in self._label_numbers(phrase)]

    def _label_numbers(self, phrase: str) -> np.ndarray:
        found = self._cache.get(phrase)
        if found is None:
            # search, not fullmatch: a long phrase that swallowed a shorter one (matches never
            # overlap in the scan) still carries the shorter phrase's label too.
            found = self._cache[phrase] = np.array(sorted(
                {self._number[label] for label, rx in self._compiled if rx.search(phrase)}),
                dtype=np.int64)
        return found

    def __call__(self, phrases: pa.ListArray) -> pa.Array:
        """The Arrow UDF: one list of phrases per row in, one list of labels per row out.

        Vectorised: Python runs once per distinct phrase of the batch, not per request (this
        runs under the GIL while DuckDB's threads wait on it).
        """
        rows = len(phrases)
        flat = pc.list_flatten(phrases)
        owner = pc.list_parent_indices(phrases).to_numpy()
        distinct = pc.unique(flat)
        per_distinct = [self._label_numbers(p) for p in distinct.to_pylist()]
        sizes = np.array([len(x) for x in per_distinct], dtype=np.int64)
        numbers = (np.concatenate(per_distinct) if len(per_distinct) else
                   np.empty(0, dtype=np.int64))
        # Each phrase of the batch expands to its distinct phrase's label numbers …
        which = pc.index_in(flat, value_set=distinct).to_numpy(zero_copy_only=False)
        which = which.astype(np.int64) if len(which) else np.empty(0, dtype=np.int64)
        counts = sizes[which]
        firsts = np.cumsum(sizes) - sizes
        offset_in = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        labels = numbers[np.repeat(firsts[which], counts) + offset_in]
        # … then marked in a rows × labels grid, which makes each (row, label) pair distinct
        # and, read back in order, sorted: rows in order, each row's labels by name (numbers
        # follow the sorted names). No sort: the grid is at most 2,048 × a few dozen cells.
        grid = np.zeros((rows, len(self._names)), dtype=bool)
        grid[np.repeat(owner, counts), labels] = True
        offsets = np.zeros(rows + 1, dtype=np.int32)
        np.cumsum(grid.sum(axis=1), out=offsets[1:])
        label_of = np.nonzero(grid)[1]
        return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()),
                                        self._name_array.take(pa.array(label_of)))


def session_start_pairs(db: sqlfiles.Engine, sql: sqlfiles.SqlFolder) -> int:
    """`session_starts`, `session_start_hours`, `session_start_accounts`,
    `session_start_pair_count` and `session_start_pairs` (57, 58 and 59); the number of passes
    the pairs were counted in."""
    sqlfiles.run_file(db, sql.file("57_session_starts"), {"min_sessions": MIN_SESSION_STARTS})
    # Rows of the self-join on the minute (pairs of starts of judged accounts, either order).
    rows = db.query(
        "SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n "
        "FROM session_starts AS s SEMI JOIN session_start_accounts AS a "
        "ON a.account_no = s.account_no "
        "GROUP BY minute)").scalar()
    passes = max(1, math.ceil(int(rows or 0) / START_PAIR_ROWS_PER_PASS))
    for pass_no in range(passes):
        sqlfiles.run_file(db, sql.file("58_session_start_pass"),
                          {"pass": pass_no, "passes": passes,
                           "min_shared": MIN_SHARED_START_MINUTES})
    sqlfiles.run_file(db, sql.file("59_session_start_pairs"),
                      {"max_partners": MAX_START_PARTNERS})
    return passes


def near_duplicate_pairs(db: sqlfiles.Engine, sql: sqlfiles.SqlFolder) -> None:
    """`skeleton_pairs`: the pairs of `skeletons` that are near-duplicates
    (30_minhash_bands.sql)."""
    sqlfiles.run_file(db, sql.file("30_minhash_bands"),
                      {"permutations": MINHASH_PERMUTATIONS,
                       "rows_per_band": MINHASH_ROWS_PER_BAND, "min_chars": MINHASH_MIN_CHARS,
                       "min_resemblance": MIN_RESEMBLANCE, "bucket_window": BUCKET_WINDOW})


def group_templates(db: sqlfiles.Engine, sql: sqlfiles.SqlFolder) -> int:
    """`template_groups` from `skeleton_pairs`: each skeleton its own group, then
    TEMPLATE_ROUNDS rounds at most of 40_template_groups.sql; the number of rounds run."""
    db.create_table_as("template_groups",
                       "SELECT skeleton_id, skeleton_id AS template_id FROM skeletons")
    return sqlfiles.fixpoint(
        db, sql.file("40_template_groups"), "template_groups",
        "SELECT count(*) FROM template_groups_next n JOIN template_groups g "
        "USING (skeleton_id) WHERE n.template_id <> g.template_id", TEMPLATE_ROUNDS)
