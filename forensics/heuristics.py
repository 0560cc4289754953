"""The heuristic library: self-describing SQL files, validated at load time, run in DuckDB.

One heuristic = one file `queries/<family>/<id>.sql`. Its leading block comment holds YAML
front matter (the only home of its metadata); the query returns one row per fired account in
a fixed result contract. Parameters are bound (`$name`), never formatted into the SQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from forensics import resources, schema, sqlfiles
from forensics.bibliography import Citation, bibliography_files, cite, load_bibliography
from forensics.errors import ConfigError, HeuristicError

FAMILIES = ("content", "structure", "infrastructure", "timing")
RESULT_COLUMNS = ("account_id", "score", "metric", "detail", "evidence")
EVIDENCE_LIMIT = 10


_FRONT_MATTER = re.compile(r"\A\s*/\*---\s*\n(.*?)\n---\*/\s*\n", re.DOTALL)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "INTEGER": int, "DOUBLE": (int, float), "VARCHAR": str, "BOOLEAN": bool}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# What linking reads of a heuristic's fired accounts besides its score (forensics/linking.py,
# LINKING_ROLES, says what each is for). A heuristic declares the roles it plays in its front
# matter (`provides:`), and a run refuses a library that lacks what linking needs.
LinkingRole = Literal["sync_minutes", "co_launches", "network_event", "network_timing"]


class ParamSpec(_Frozen):
    """A declared parameter with its type and default."""

    type: Literal["INTEGER", "DOUBLE", "VARCHAR", "BOOLEAN"]
    default: Any
    description: str


class HeuristicMeta(_Frozen):
    """The front matter of a heuristic file."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    family: Literal["content", "structure", "infrastructure", "timing"]
    level: Literal["informational", "low", "medium", "high"]
    status: Literal["experimental", "test", "stable"]
    description: str
    rationale: str
    falsepositives: tuple[str, ...]
    # Each line: a key of the bibliography (queries/sources.yaml), or a file of the library,
    # optionally followed by a note in parentheses (forensics/bibliography.py).
    references: tuple[str, ...]
    requires: dict[str, tuple[str, ...]]
    params: dict[str, ParamSpec] = {}
    weight: float = Field(ge=0.0, le=1.0)
    benign: bool = False  # a benign indicator: lowers an account's score when it fires
    # account: runs before linking, over accounts. cluster: runs after the accounts are linked
    # (it may read cluster_members, cluster_sizes and account_owners) and measures what only
    # shows summed over a cluster, firing the member accounts that carry it.
    scope: Literal["account", "cluster"] = "account"
    # The roles linking reads it for (see LinkingRole); none for most heuristics.
    provides: tuple[LinkingRole, ...] = ()


@dataclass(frozen=True)
class Heuristic:
    """A loaded, validated heuristic."""

    meta: HeuristicMeta
    sql: str
    path: Path
    sha256: str
    # The query after the front matter, split and with the parameters it uses.
    source: sqlfiles.SqlFile
    # The references of the header, resolved against the library's bibliography.
    citations: tuple[Citation, ...] = ()

    @property
    def id(self) -> str:
        return self.meta.id

    def resolved_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults with the config's overrides applied (already type-checked)."""
        values = {name: spec.default for name, spec in self.meta.params.items()}
        values.update(overrides or {})
        return values

    def bound(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters the query uses, from `values` (a missing one is a HeuristicError
        naming the file)."""
        return self.source.bind(self.source.statements[0], values)

    def missing_columns(self, present: Callable[[str, str], bool]) -> list[str]:
        """Required columns absent from this export (`table.column`)."""
        return [f"{t}.{c}" for t, cols in self.meta.requires.items() for c in cols
                if not present(t, c)]


def parse_file(path: Path) -> tuple[Heuristic | None, list[str]]:
    """Parse one file; return the heuristic or the problems found in it."""
    text = path.read_text(encoding="utf-8")
    m = _FRONT_MATTER.match(text)
    where = str(path)
    if not m:
        return None, [f"{where}: no YAML front matter (expected a leading /*--- … ---*/ block)"]
    try:
        raw = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        return None, [f"{where}: front matter is not valid YAML ({exc})"]
    try:
        meta = HeuristicMeta.model_validate(raw)
    except ValidationError as exc:
        return None, [f"{where}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                      for e in exc.errors()]
    source = sqlfiles.parse_sql(text[m.end():], path)
    # The one statement as it runs; several are refused below.
    sql = (source.statements[0].text if len(source.statements) == 1
           else text[m.end():].strip().rstrip(";"))
    problems: list[str] = []
    if meta.id != path.stem:
        problems.append(f"{where}: id {meta.id!r} differs from the file name {path.stem!r}")
    if path.parent.name != meta.family:
        problems.append(f"{where}: family {meta.family!r} but the file is in "
                        f"{path.parent.name}/")
    used = set(source.params)
    declared = set(meta.params)
    for name in sorted(declared - used):
        problems.append(f"{where}: parameter ${name} is declared but never used")
    for name in sorted(used - declared):
        problems.append(f"{where}: parameter ${name} is used but not declared")
    for name, spec in meta.params.items():
        if not isinstance(spec.default, _TYPES[spec.type]) or (
                spec.type != "BOOLEAN" and isinstance(spec.default, bool)):
            problems.append(f"{where}: parameter ${name}: default {spec.default!r} is not "
                            f"{spec.type}")
    for table_name, cols in meta.requires.items():
        try:
            table = schema.table(table_name)
        except KeyError:
            problems.append(f"{where}: requires unknown table {table_name!r}")
            continue
        for col in cols:
            if col not in table.names:
                problems.append(f"{where}: requires {table_name}.{col}, which is not in the "
                                f"log schema")
    if not source.statements:
        problems.append(f"{where}: no query after the front matter")
    elif len(source.statements) > 1:
        problems.append(f"{where}: {len(source.statements)} statements after the front matter "
                        f"(expected one query)")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Heuristic(meta, sql, path, digest, source), problems


def discover_files(queries: Path) -> list[Path]:
    """Every heuristic file, in a fixed order (family, then id)."""
    return [p for family in FAMILIES for p in sorted((queries / family).glob("*.sql"))]


def load_library(queries: Path | None = None) -> list[Heuristic]:
    """Load and validate every heuristic, its citations resolved against the bibliography;
    raise one HeuristicError listing all problems."""
    root = resources.queries_dir(queries)
    if not root.is_dir():
        raise HeuristicError("heuristics folder does not exist", file=str(root))
    bibliography, problems = load_bibliography(queries)
    sources = bibliography_files(queries, existing=False)
    library: list[Heuristic] = []
    seen: dict[str, Path] = {}
    for path in discover_files(root):
        heuristic, found = parse_file(path)
        problems += found
        if heuristic is None:
            continue
        citations, unresolved = cite(heuristic.meta.references, bibliography, str(path),
                                     sources)
        problems += unresolved
        heuristic = dataclasses.replace(heuristic, citations=citations)
        if heuristic.id in seen:
            problems.append(f"{path}: duplicate id {heuristic.id!r} (also {seen[heuristic.id]})")
        seen[heuristic.id] = path
        library.append(heuristic)
    if not library and not problems:
        problems.append(f"{root}: no heuristics found (expected <family>/<id>.sql)")
    if problems:
        raise HeuristicError(_join(problems))
    return library


def _join(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return problem_block("heuristic problems", problems)


def problem_block(what: str, problems: list[str]) -> str:
    """Several problems as one message: a count line, then one indented line each."""
    return f"{len(problems)} {what}:\n" + "\n".join(f"  {p}" for p in problems)


def check_params(library: list[Heuristic],
                 overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Validate `[params.<id>]` from the config against the library; every problem at once."""
    by_id = {h.id: h for h in library}
    problems: list[str] = []
    for hid, values in sorted(overrides.items()):
        h = by_id.get(hid)
        if h is None:
            problems.append(f"[params.{hid}]: unknown heuristic id {hid!r}")
            continue
        for name, value in values.items():
            spec = h.meta.params.get(name)
            if spec is None:
                known = ", ".join(sorted(h.meta.params)) or "none"
                problems.append(f"[params.{hid}] {name}: unknown parameter (known: {known})")
            elif not isinstance(value, _TYPES[spec.type]) or (
                    spec.type != "BOOLEAN" and isinstance(value, bool)):
                problems.append(f"[params.{hid}] {name}: expected {spec.type}, got {value!r}")
    if problems:
        raise ConfigError("; ".join(problems))
    return {hid: h.resolved_params(overrides.get(hid)) for hid, h in by_id.items()}


def check_library(library: list[Heuristic], con: duckdb.DuckDBPyConnection) -> list[str]:
    """Prepare (EXPLAIN) every query against the ingested or empty tables; list problems."""
    db = sqlfiles.engine_for(con)
    problems = []
    for h in library:
        values = h.bound(h.resolved_params())
        try:
            db.execute(f"EXPLAIN {h.sql}", values)
            cols = list(db.columns(h.sql, values))
        except db.errors as exc:
            problems.append(f"{h.path}: DuckDB cannot prepare the query: "
                            f"{str(exc).splitlines()[0]}")
            continue
        if tuple(cols) != RESULT_COLUMNS:
            problems.append(f"{h.path}: result columns {cols} (expected "
                            f"{list(RESULT_COLUMNS)})")
    return problems


@dataclass(frozen=True)
class HeuristicRun:
    """How one heuristic ran: params, rows fired, seconds, or why it was skipped."""

    id: str
    family: str
    sha256: str
    params: dict[str, Any]
    fired: int
    seconds: float
    skipped: str | None = None


_SIGNALS_DDL = """
CREATE OR REPLACE TABLE signals (
    heuristic_id VARCHAR, family VARCHAR, level VARCHAR, weight DOUBLE, benign BOOLEAN,
    account_id VARCHAR, score DOUBLE, metric DOUBLE, detail VARCHAR, evidence VARCHAR[]
)"""


def create_signals_table(con: duckdb.DuckDBPyConnection) -> None:
    """The empty `signals` table: one row per (heuristic, fired account)."""
    sqlfiles.engine_for(con).execute(_SIGNALS_DDL)


def run_library(con: duckdb.DuckDBPyConnection, library: list[Heuristic],
                params: Mapping[str, dict[str, Any]], present: Callable[[str, str], bool],
                progress: Callable[[str], None] | None = None,
                scope: str = "account") -> list[HeuristicRun]:
    """Run the heuristics of one scope into the `signals` table (created by the account
    scope, appended to by the cluster scope); skip those whose columns are absent."""
    db = sqlfiles.engine_for(con)
    if scope == "account":
        create_signals_table(con)
    runs: list[HeuristicRun] = []
    for h in (h for h in library if h.meta.scope == scope):
        values = params.get(h.id, h.resolved_params())
        missing = h.missing_columns(present)
        if missing:
            runs.append(HeuristicRun(h.id, h.meta.family, h.sha256, values, 0, 0.0,
                                     f"missing column(s): {', '.join(missing)}"))
            continue
        if progress:
            progress(f"heuristic {h.id}")
        seconds: dict[str, float] = {}
        with sqlfiles.timed(seconds, h.id):
            fired = _run_one(db, h, values)
        runs.append(HeuristicRun(h.id, h.meta.family, h.sha256, values, fired, seconds[h.id]))
    db.execute("DROP TABLE IF EXISTS fired")
    return runs


def _run_one(db: sqlfiles.Engine, h: Heuristic, values: Mapping[str, Any]) -> int:
    """Run one heuristic into `fired`, check its result contract and append its rows to
    `signals`; the number of rows it fired."""
    try:
        db.create_table_as("fired", h.sql, h.bound(values), temporary=True)
        cols = db.columns("SELECT * FROM fired")
        if cols != RESULT_COLUMNS:
            raise HeuristicError(f"result columns {list(cols)} (expected "
                                 f"{list(RESULT_COLUMNS)})", heuristic=h.id, file=str(h.path))
        db.execute(
            "INSERT INTO signals SELECT $id, $family, $level, $weight, $benign, "
            "account_id, round(least(greatest(score, 0), 1), 4), round(metric, 4), detail, "
            f"list_sort(evidence)[1:{EVIDENCE_LIMIT}] FROM fired WHERE account_id IS NOT NULL",
            {"id": h.id, "family": h.meta.family, "level": h.meta.level,
             "weight": h.meta.weight, "benign": h.meta.benign})
        return int(db.query("SELECT count(*) FROM fired").scalar() or 0)
    except db.errors as exc:
        raise HeuristicError(f"failed: {str(exc).splitlines()[0]}", heuristic=h.id,
                             file=str(h.path)) from None


def describe(h: Heuristic) -> str:
    """A heuristic's header as readable text, for `forensics heuristics show`."""
    m = h.meta
    benign = "   (benign indicator)" if m.benign else ""
    lines = [f"{m.id}: {m.title}", f"  family: {m.family}   level: {m.level}   "
             f"status: {m.status}   weight: {m.weight}{benign}",
             f"  file: {h.path} (sha256 {h.sha256[:16]}…)", "", f"  {m.description}", "",
             f"  Why: {m.rationale}", "", "  False positives:"]
    lines += [f"    - {fp}" for fp in m.falsepositives]
    lines += ["  Requires:"] + [f"    {t}: {', '.join(c)}" for t, c in m.requires.items()]
    if m.provides:
        lines.append(f"  Linking reads it for: {', '.join(m.provides)}")
    if m.params:
        lines.append("  Parameters:")
        lines += [f"    ${n} = {p.default!r} ({p.type}): {p.description}"
                  for n, p in m.params.items()]
    lines += ["  References:"] + [f"    - {_cited(c)}" for c in h.citations]
    return "\n".join(lines)


def _cited(c: Citation) -> str:
    """One citation as `heuristics show` prints it: key, document and where to find it."""
    note = f" ({c.note})" if c.note else ""
    if c.source is None:
        return f"{c.target}{note} (file of the library)"
    s = c.source
    where = s.url or f"no verified public URL; {s.locator}"
    return f"{c.target}{note}: {s.author}, {s.title} ({s.date}). {where}"
