"""The report's data queries: `queries/report/<name>.sql`, run with bound parameters.

Data stays data: every chart and exhibit reads its rows through one of these files, and every
file ends with a full ORDER BY so that the dossier is byte-stable.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from forensics import resources
from forensics.errors import HeuristicError
from forensics.heuristics import PARAM_USE, sql_code


def report_queries_dir(override: Path | None = None) -> Path:
    """`<queries>/report`, falling back to the bundled folder when a custom heuristic library
    (--queries) brings no report queries of its own."""
    return resources.queries_part("report", override)


@dataclass
class ReportQueries:
    """Runs named report queries on the run's connection and returns plain rows."""

    con: duckdb.DuckDBPyConnection
    folder: Path
    _sql: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per query name, summed

    def sql(self, name: str) -> str:
        """The text of `<name>.sql` (read once)."""
        if name not in self._sql:
            path = self.folder / f"{name}.sql"
            try:
                self._sql[name] = path.read_text(encoding="utf-8").strip().rstrip(";")
            except FileNotFoundError:
                raise HeuristicError("report query missing", file=str(path)) from None
        return self._sql[name]

    def create(self, name: str, **params: Any) -> None:
        """Run statement `name` (a CREATE TEMP TABLE the other queries read)."""
        self.rows(name, **params)

    def bound(self, name: str, **params: Any) -> tuple[str, dict[str, Any]]:
        """The text of `name` and the parameters it uses (a missing one is an error)."""
        sql = self.sql(name)
        used = set(PARAM_USE.findall(sql_code(sql)))
        missing = used - set(params)
        if missing:
            raise HeuristicError(f"report query needs parameter(s) {sorted(missing)}",
                                 file=str(self.folder / f"{name}.sql"))
        return sql, {k: v for k, v in params.items() if k in used}

    def rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """All rows of query `name` as dicts; only the parameters the query uses are bound."""
        sql, bound = self.bound(name, **params)
        with self.running(name):
            cur = self.con.execute(sql, bound)
            names = [d[0] for d in cur.description] if cur.description else []
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @contextmanager
    def running(self, name: str) -> Iterator[None]:
        """Time a use of query `name` and turn a DuckDB error into one naming its file (also
        for exhibits copied straight from the query)."""
        start = time.perf_counter()
        try:
            yield
        except duckdb.Error as exc:
            raise HeuristicError(f"report query failed: {str(exc).splitlines()[0]}",
                                 file=str(self.folder / f"{name}.sql")) from None
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)
