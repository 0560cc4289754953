"""Features: the one pass over the log text, shared by every heuristic.

Runs the SQL in `queries/features/` in order and loads the lexicons as tables. Produces
`request_features` (one row per analysed request, no raw text), `skeletons` (distinct masked
prompt heads with their MinHash template group), the shared aggregates that spare heuristics a
scan of every request (`account_activity`, `account_capabilities`, `account_templates`,
`account_signals`, and
`flagged_requests`: the requests carrying a lexicon signal or a score-shaped response),
`indicator_hits` (accounts matching analyst indicators), `lexicon_signals` and
`lexicon_capabilities`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from forensics import resources
from forensics.errors import HeuristicError

SCAN_CHARS = 4000
MINHASH_PERMUTATIONS = 32
MINHASH_ROWS_PER_BAND = 4
MINHASH_MIN_CHARS = 40
# Template groups are MinHash neighbourhoods, not full connected components: near-duplicate
# relations do not chain (A~B and B~C does not make A~C), and iterating to convergence merged
# everyday prompts into giant families. Two rounds group each skeleton with its neighbours'
# neighbours at most.
TEMPLATE_ROUNDS = 2
# The files of queries/features/, run in this order; a custom --queries features/ folder must
# hold every one (heuristics, linking and the report read the tables they build).
FEATURE_FILES = ("10_request_features_raw", "20_skeletons", "30_minhash_bands",
                 "40_template_groups", "50_request_features", "55_account_aggregates",
                 "60_indicator_hits")

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


def read_lexicons(lexicons: Path) -> list[LexiconEntry]:
    """Both lexicons as labelled entries; a bad row is a HeuristicError naming file and row."""
    entries: list[LexiconEntry] = []
    specs = (("signals.csv", "signal", lambda r: f"signal:{r['signal']}"),
             ("capabilities.csv", "capability",
              lambda r: f"capability:{int(r['priority'])}:{r['capability']}"))
    for name, _key, label_of in specs:
        path = lexicons / name
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                for i, row in enumerate(csv.DictReader(fh), start=2):
                    try:
                        entry = LexiconEntry(label_of(row), row["phrase"].lower(),
                                             row["match"] == "regex", row["source"])
                        re.compile(entry.pattern())
                    except (KeyError, ValueError, re.error) as exc:
                        raise HeuristicError(f"row {i}: {exc}", file=str(path)) from None
                    entries.append(entry)
        except FileNotFoundError:
            raise HeuristicError("lexicon file missing", file=str(path)) from None
    return entries


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


def _run_file(con: duckdb.DuckDBPyConnection, path: Path,
              params: dict[str, object] | None = None) -> None:
    con.execute(path.read_text(encoding="utf-8"), params or {})


def build_features(con: duckdb.DuckDBPyConnection, queries: Path | None = None) -> FeatureResult:
    """Compute every derived column once; see the module docstring for the tables."""
    lexicons = resources.lexicons_dir(queries)
    folder = resources.queries_part("features", queries)
    sql = {p.stem: p for p in sorted(folder.glob("*.sql"))}
    missing = [f"{name}.sql" for name in FEATURE_FILES if name not in sql]
    if missing:
        raise HeuristicError(f"features folder lacks {', '.join(missing)} (expected every "
                             f"file of the bundled queries/features/)", file=str(folder))
    entries = read_lexicons(lexicons)
    con.execute(f"CREATE OR REPLACE TABLE lexicon_signals AS SELECT * FROM read_csv("
                f"'{lexicons / 'signals.csv'}', header = true, all_varchar = true)")
    con.execute(f"CREATE OR REPLACE TABLE lexicon_capabilities AS SELECT * FROM read_csv("
                f"'{lexicons / 'capabilities.csv'}', header = true, all_varchar = true)")

    pattern = scan_pattern(entries)
    _run_file(con, sql["10_request_features_raw"],
              {"lexicon_pattern": pattern, "scan_chars": SCAN_CHARS})
    _label_matches(con, entries)

    _run_file(con, sql["20_skeletons"])
    _run_file(con, sql["30_minhash_bands"],
              {"permutations": MINHASH_PERMUTATIONS, "rows_per_band": MINHASH_ROWS_PER_BAND,
               "min_chars": MINHASH_MIN_CHARS})
    rounds = _propagate_templates(con, sql["40_template_groups"])
    _run_file(con, sql["50_request_features"])
    _run_file(con, sql["55_account_aggregates"])
    _run_file(con, sql["60_indicator_hits"])
    con.execute("CREATE OR REPLACE TABLE skeletons AS SELECT s.*, g.template_id "
                "FROM skeletons s JOIN template_groups g USING (skeleton_id)")
    for intermediate in ("request_features_raw", "prompt_heads", "skeleton_bands"):
        con.execute(f"DROP TABLE {intermediate}")
    counts = con.execute("SELECT (SELECT count(*) FROM request_features), count(*), "
                         "count(DISTINCT template_id) FROM skeletons").fetchone()
    assert counts is not None
    return FeatureResult(int(counts[0]), int(counts[1]), int(counts[2]), len(entries), rounds)


def _label_matches(con: duckdb.DuckDBPyConnection, entries: list[LexiconEntry]) -> None:
    """Map each distinct matched phrase to the labels of every lexicon entry it matches.

    The scan found matches with one combined pattern; which entry matched is decided here on
    the few distinct matched strings, not on every request.
    """
    rows = con.execute("SELECT DISTINCT lower(m) FROM (SELECT unnest(lexicon_matches) AS m "
                       "FROM request_features_raw) ORDER BY 1").fetchall()
    compiled = [(e.label, re.compile(e.pattern(), re.IGNORECASE)) for e in entries]
    keys: list[str] = []
    values: list[list[str]] = []
    for (match,) in rows:
        # search, not fullmatch: a long phrase that swallowed a shorter one (matches never
        # overlap in the scan) still carries the shorter phrase's label too.
        labels = sorted({label for label, rx in compiled if rx.search(match)})
        keys.append(match)
        values.append(labels)
    con.execute("SET VARIABLE lexicon_labels = map($k::VARCHAR[], $v::VARCHAR[][])",
                {"k": keys, "v": values})


def _propagate_templates(con: duckdb.DuckDBPyConnection, step: Path) -> int:
    con.execute("CREATE OR REPLACE TABLE template_groups AS "
                "SELECT skeleton_id, skeleton_id AS template_id FROM skeletons")
    for round_no in range(1, TEMPLATE_ROUNDS + 1):
        _run_file(con, step)
        row = con.execute("SELECT count(*) FROM template_groups_next n JOIN template_groups g "
                          "USING (skeleton_id) WHERE n.template_id <> g.template_id").fetchone()
        con.execute("DROP TABLE template_groups")
        con.execute("ALTER TABLE template_groups_next RENAME TO template_groups")
        if not row or row[0] == 0:
            return round_no
    return TEMPLATE_ROUNDS
