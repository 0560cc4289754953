"""Running the project's SQL: every `.sql` file of features, heuristics, linking and the report
is loaded, bound and run here.

- A file is read once into a `SqlFile`: its text and its statements, split at the `;` that end
  them (a `;` inside a string, a quoted identifier or a comment ends nothing), each knowing the
  `$name` parameters its code uses (uses inside strings and comments do not count).
- Binding gives each statement exactly the parameters it uses, from whatever mapping the caller
  holds; a statement that uses one the caller does not supply is refused with a HeuristicError
  naming the file and the parameter, before anything runs.
- Statements run on an `Engine`: execute, query (rows and column names), the columns of a query,
  create a table from a query, replace a table by another. `DuckDBEngine` is the one there is;
  `engine_for` is where the stages get theirs, and where a second engine (Spark) plugs in.
- `fixpoint` repeats a step file until nothing changes or a round limit.
- `timed` adds a use's seconds to a per-name total (the report's query timings, the heuristics'
  run seconds).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from forensics.errors import HeuristicError

PARAM_USE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

# What is not code: comments, string literals (also E'…' with backslash escapes and
# $tag$…$tag$ dollar quoting) and quoted identifiers. Found in one left-to-right pass, so an
# apostrophe in a comment or "--" in a string does not swallow the code around it.
_NON_CODE = (r"(?P<comment>--[^\n]*|/\*.*?\*/)"
             r"|(?P<string>(?<![A-Za-z0-9_])[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'"
             r"|\$\$.*?\$\$|\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*)\$.*?\$(?P=tag)\$)"
             r'|(?P<identifier>"(?:[^"]|"")*")')
_TOKENS = re.compile(_NON_CODE + r"|(?P<end>;)", re.DOTALL)
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _masked(sql: str, identifiers: bool) -> str:
    """`sql` with comments blanked and strings emptied; quoted identifiers emptied too unless
    `identifiers` keeps them."""
    def mask(m: re.Match[str]) -> str:
        if m.group("comment"):
            return " "
        if m.group("string"):
            return "''"
        if m.group("identifier"):
            return m.group(0) if identifiers else '""'
        return m.group(0)
    return _TOKENS.sub(mask, sql)


def sql_code(sql: str) -> str:
    """SQL without comments and string literals (quoted identifiers kept), for reading the
    code itself."""
    return _masked(sql, identifiers=True)


def used_params(sql: str) -> frozenset[str]:
    """The `$name` parameters the code of `sql` uses."""
    return frozenset(PARAM_USE.findall(_masked(sql, identifiers=False)))


def split_statements(sql: str) -> list[str]:
    """The statements of `sql`, each without its ending `;` and the whitespace around it.
    Only a `;` in code ends a statement; a piece holding nothing but comments is no statement."""
    pieces: list[str] = []
    start = 0
    for m in _TOKENS.finditer(sql):
        if m.group("end"):
            pieces.append(sql[start:m.start()])
            start = m.end()
    pieces.append(sql[start:])
    return [p.strip() for p in pieces if _masked(p, identifiers=True).strip()]


@dataclass(frozen=True)
class Statement:
    """One statement of a file: its text (with the comments before it) and the parameters
    its code uses."""

    number: int  # its place in the file, from 1
    text: str
    params: frozenset[str]


@dataclass(frozen=True)
class SqlFile:
    """A loaded `.sql` file: its text and its statements."""

    path: Path
    text: str
    statements: tuple[Statement, ...]

    @property
    def params(self) -> frozenset[str]:
        """Every parameter some statement uses."""
        return frozenset().union(*(s.params for s in self.statements))

    @property
    def query(self) -> str:
        """The text of a file that holds exactly one statement (a query)."""
        if len(self.statements) != 1:
            raise HeuristicError(f"holds {len(self.statements)} statements (expected one "
                                 f"query)", file=str(self.path))
        return self.statements[0].text

    def bind(self, statement: Statement, values: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters `statement` uses, taken from `values`; a HeuristicError naming the
        file and the parameter(s) when `values` lacks any."""
        missing = sorted(statement.params - set(values))
        if missing:
            which = f"statement {statement.number} " if len(self.statements) > 1 else ""
            names = ", ".join(f"${p}" for p in missing)
            given = ", ".join(sorted(values)) or "none"
            raise HeuristicError(f"{which}uses parameter{'s' * (len(missing) > 1)} {names}, "
                                 f"which the caller does not supply (it supplies: {given})",
                                 file=str(self.path))
        return {name: values[name] for name in sorted(statement.params)}


def parse_sql(text: str, path: Path) -> SqlFile:
    """`text` (read from `path`) as a SqlFile."""
    statements = tuple(Statement(i, s, used_params(s))
                       for i, s in enumerate(split_statements(text), start=1))
    return SqlFile(path, text, statements)


def load_file(path: Path, what: str = "SQL file") -> SqlFile:
    """Read and split one file; a missing file is a HeuristicError ("<what> missing")."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HeuristicError(f"{what} missing", file=str(path)) from None
    return parse_sql(text, path)


@dataclass
class SqlFolder:
    """The `<name>.sql` files of one folder, each read once."""

    folder: Path
    what: str = "SQL file"  # how an error names a file of this folder
    _files: dict[str, SqlFile] = field(default_factory=dict, repr=False)

    def file(self, name: str) -> SqlFile:
        """`<name>.sql`, read on first use."""
        if name not in self._files:
            self._files[name] = load_file(self.folder / f"{name}.sql", self.what)
        return self._files[name]

    def missing(self, names: tuple[str, ...]) -> list[str]:
        """The files of `names` the folder lacks (`<name>.sql`)."""
        return [f"{n}.sql" for n in names if not (self.folder / f"{n}.sql").is_file()]


# -- engines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """A query's result: column names and rows."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        """Each row as a dict keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def scalar(self) -> Any:
        """The first value of the first row; None without rows."""
        return self.rows[0][0] if self.rows else None


class Engine(Protocol):
    """What the stages ask of the database their SQL runs on."""

    # The exceptions a failing statement raises (for callers that name the file it came from).
    errors: tuple[type[Exception], ...]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement, ignoring any result."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        """Run one query and read all its rows."""

    def columns(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """The column names query `sql` would return, without reading its rows."""

    def create_table_as(self, table: str, sql: str, params: Mapping[str, Any] | None = None,
                        *, temporary: bool = False) -> None:
        """Create (or replace) `table` holding the rows of query `sql`."""

    def replace_table(self, table: str, replacement: str) -> None:
        """Drop `table` and give table `replacement` its name."""

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """The rows of query `sql` as an Arrow table."""

    def register(self, name: str, table: pa.Table) -> None:
        """Arrow rows readable as table `name` until `unregister(name)`."""

    def unregister(self, name: str) -> None:
        """Forget what `register(name, …)` made readable."""

    def string_list_function(self, name: str, fn: Callable[[pa.Array], pa.Array]
                             ) -> AbstractContextManager[None]:
        """`fn` (Arrow: a list of strings per row in, a list of strings per row out) callable
        from SQL as `name` while the block runs."""

    def has_table(self, name: str) -> bool:
        """Whether table `name` exists."""


def _table(name: str) -> str:
    """A table name the code chose (never text from outside: that goes through sqltext)."""
    if not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"not a plain table name: {name!r}")
    return name


@dataclass
class DuckDBEngine:
    """The Engine of a DuckDB connection (or of anything with its `execute`, such as the
    benchmark's tracing connection)."""

    con: duckdb.DuckDBPyConnection
    errors: tuple[type[Exception], ...] = (duckdb.Error,)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.con.execute(sql, dict(params or {}))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        cur = self.con.execute(sql, dict(params or {}))
        if cur is None or not cur.description:
            return Rows((), [])
        return Rows(tuple(d[0] for d in cur.description), cur.fetchall())

    def columns(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        described = self.con.execute(f"SELECT * FROM ({sql}\n) LIMIT 0",
                                     dict(params or {})).description
        return tuple(d[0] for d in described or ())

    def create_table_as(self, table: str, sql: str, params: Mapping[str, Any] | None = None,
                        *, temporary: bool = False) -> None:
        temp = "TEMP " if temporary else ""
        self.con.execute(f"CREATE OR REPLACE {temp}TABLE {_table(table)} AS {sql}",
                         dict(params or {}))

    def replace_table(self, table: str, replacement: str) -> None:
        self.con.execute(f"DROP TABLE {_table(table)}")
        self.con.execute(f"ALTER TABLE {_table(replacement)} RENAME TO {_table(table)}")

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=dict(params or {})).to_arrow_table()

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(_table(name), table)

    def unregister(self, name: str) -> None:
        self.con.unregister(_table(name))

    @contextmanager
    def string_list_function(self, name: str, fn: Callable[[pa.Array], pa.Array]
                             ) -> Iterator[None]:
        from duckdb.func import PythonUDFType

        varchar_list = duckdb.list_type(duckdb.sqltypes.VARCHAR)
        self.con.create_function(_table(name), fn, [varchar_list], varchar_list,
                                 type=PythonUDFType.ARROW, side_effects=False)
        try:
            yield
        finally:
            self.con.remove_function(name)

    def has_table(self, name: str) -> bool:
        # Asked of the catalogue: querying a missing table would make DuckDB's Python client
        # scan a Python object of that name instead.
        row = self.con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                               "current_database() AND schema_name = 'main' "
                               "AND table_name = $t", {"t": name}).fetchone()
        return bool(row and row[0])


Database = duckdb.DuckDBPyConnection | Engine


def engine_for(con: Database) -> Engine:
    """The Engine the stages run their SQL on: the run's DuckDB connection's, or the engine
    itself when the stages were handed one (the Spark engine, forensics/spark/engine.py)."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        return DuckDBEngine(con)
    if hasattr(con, "create_table_as"):
        return con
    # Anything else with DuckDB's execute (the benchmark's tracing connection).
    return DuckDBEngine(con)  # type: ignore[arg-type]


# -- running ---------------------------------------------------------------------------------


def run_file(db: Engine, file: SqlFile, params: Mapping[str, Any] | None = None) -> None:
    """Run every statement of `file` in order, each with the parameters it uses from
    `params` (all bound before the first runs, so a missing one runs nothing)."""
    values = params or {}
    bound = [(s, file.bind(s, values)) for s in file.statements]
    for statement, statement_params in bound:
        try:
            db.execute(statement.text, statement_params)
        except db.errors as exc:
            # Which file and statement, for the one-line error of a resource limit (cli.py):
            # the engine's own message does not say where it was.
            exc.add_note(f"{file.path}, statement {statement.number} of "
                         f"{len(file.statements)}")
            raise


def fixpoint(db: Engine, step: SqlFile, table: str, changed: str, max_rounds: int,
             params: Mapping[str, Any] | None = None) -> int:
    """Repeat `step`, which builds `<table>_next` from `<table>`, until query `changed`
    (comparing the two; its one value counts the rows that changed) says 0, or `max_rounds`
    rounds have run. After each round `<table>_next` takes the place of `<table>`. Returns the
    number of rounds run."""
    if max_rounds < 1:
        raise ValueError("a fixpoint needs at least one round")
    for round_no in range(1, max_rounds + 1):
        run_file(db, step, params)
        left = db.query(changed).scalar()
        db.replace_table(table, f"{table}_next")
        if not left:
            return round_no
    return max_rounds


@contextmanager
def timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds of the block to `seconds[name]` (rounded to ms) when it succeeds."""
    start = time.perf_counter()
    yield
    seconds[name] = round(seconds.get(name, 0.0) + time.perf_counter() - start, 3)
