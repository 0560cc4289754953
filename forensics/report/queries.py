"""The report's data queries: `queries/report/<name>.sql`, run with bound parameters.

Data stays data: every chart and exhibit reads its rows through one of these files, and every
file ends with a full ORDER BY so that the dossier is byte-stable. Loading, binding and running
are forensics/sqlfiles.py's; this class names the report's files and times their uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from forensics import resources, sqlfiles
from forensics.errors import HeuristicError


def report_queries_dir(override: Path | None = None) -> Path:
    """`<queries>/report`, falling back to the bundled folder when a custom heuristic library
    (--queries) brings no report queries of its own."""
    return resources.queries_part("report", override)


@dataclass
class ReportQueries:
    """Runs named report queries on the run's connection and returns plain rows."""

    con: duckdb.DuckDBPyConnection
    folder: Path
    seconds: dict[str, float] = field(default_factory=dict)  # per query name, summed
    _files: sqlfiles.SqlFolder = field(init=False, repr=False)
    _db: sqlfiles.Engine = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._files = sqlfiles.SqlFolder(self.folder, "report query")
        self._db = sqlfiles.engine_for(self.con)

    def sql(self, name: str) -> str:
        """The text of the one query of `<name>.sql` (read once)."""
        return self._files.file(name).query

    def create(self, name: str, **params: Any) -> None:
        """Run statement `name` (a CREATE TEMP TABLE the other queries read)."""
        self.rows(name, **params)

    def bound(self, name: str, **params: Any) -> tuple[str, dict[str, Any]]:
        """The text of `name` and the parameters it uses (a missing one is an error)."""
        file = self._files.file(name)
        return file.query, file.bind(file.statements[0], params)

    def rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """All rows of query `name` as dicts; only the parameters the query uses are bound."""
        sql, bound = self.bound(name, **params)
        with self.running(name):
            return self._db.query(sql, bound).dicts()

    @contextmanager
    def running(self, name: str) -> Iterator[None]:
        """Time a use of query `name` and turn a database error into one naming its file
        (also for exhibits copied straight from the query)."""
        with sqlfiles.timed(self.seconds, name):
            try:
                yield
            except self._db.errors as exc:
                raise HeuristicError(f"report query failed: {str(exc).splitlines()[0]}",
                                     file=str(self.folder / f"{name}.sql")) from None
