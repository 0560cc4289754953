"""Per-statement timing of a pipeline run, without touching the pipeline's code.

`traced_connect` replaces `forensics.engine.connect` in the worker process: the connection it
returns times every `execute` and, with a profile folder, has DuckDB write a JSON profile of
each statement there (operator timings, cardinalities) for EXPLAIN ANALYZE-style reading.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

_SPACE = re.compile(r"\s+")
_COMMENT = re.compile(r"--[^\n]*")
SQL_CHARS = 160  # enough of a statement to recognise it in the report


@dataclass
class Statement:
    """One executed statement: where (stage), what (first characters), how long."""

    index: int
    stage: str
    sql: str
    seconds: float
    profile: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the JSON result."""
        return {"index": self.index, "stage": self.stage, "sql": self.sql,
                "seconds": round(self.seconds, 4), "profile": self.profile}


@dataclass
class Trace:
    """Every statement of a run, in order."""

    stage: Callable[[], str]
    profile_dir: Path | None = None
    statements: list[Statement] = field(default_factory=list)

    def slowest(self, n: int) -> list[dict[str, Any]]:
        """The n slowest statements, slowest first."""
        ranked = sorted(self.statements, key=lambda s: (-s.seconds, s.index))[:n]
        return [s.as_dict() for s in ranked]


def _summary(sql: str) -> str:
    return _SPACE.sub(" ", _COMMENT.sub("", sql)).strip()[:SQL_CHARS]


class TracingConnection:
    """A DuckDB connection that records the time of every `execute` in a Trace.

    DuckDB's Python `execute` runs the statement to completion (results are materialised), so
    the time measured is the statement's time; fetching afterwards is cheap.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, trace: Trace) -> None:
        self._con = con
        self._trace = trace

    def execute(self, sql: str, parameters: Any = None) -> Any:
        """Run and time one statement (profiled when the trace has a profile folder)."""
        index = len(self._trace.statements)
        profile = None
        if self._trace.profile_dir is not None:
            # Settings go before the statement: nothing may run after it on this connection
            # until the caller has fetched its result.
            profile = str(self._trace.profile_dir / f"{index:04d}.json")
            self._con.execute("SET enable_profiling = 'json'")
            self._con.execute("SET profiling_output = $p", {"p": profile})
        start = time.perf_counter()
        try:
            if parameters is None:
                return self._con.execute(sql)
            return self._con.execute(sql, parameters)
        finally:
            seconds = time.perf_counter() - start
            self._trace.statements.append(
                Statement(index, self._trace.stage(), _summary(sql), seconds, profile))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def install(trace: Trace) -> None:
    """Make `forensics.engine.connect` return traced connections in this process."""
    from forensics import engine

    original = engine.connect

    def traced_connect(*args: Any, **kwargs: Any) -> Any:
        return TracingConnection(original(*args, **kwargs), trace)

    engine.connect = traced_connect


def top_operators(profile: Path, n: int = 5) -> list[dict[str, Any]]:
    """The n most expensive operators of one DuckDB JSON profile (self time, not cumulative)."""
    doc = json.loads(profile.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        name = node.get("name") or node.get("operator_name")
        timing = node.get("timing", node.get("operator_timing"))
        if name and timing is not None:
            extra = node.get("extra_info") or {}
            found.append({"operator": str(name).strip(), "seconds": round(float(timing), 4),
                          "rows": node.get("intermediate_rows",
                                           node.get("operator_cardinality")),
                          "info": {k: v for k, v in extra.items() if k in _INFO_KEYS}})
        for child in node.get("children", []):
            walk(child)

    roots = doc.get("operator", doc)
    for root in roots if isinstance(roots, list) else [roots]:
        walk(root)
    return sorted(found, key=lambda o: -o["seconds"])[:n]


_INFO_KEYS = ("Projections", "Expression", "Expressions", "Aggregates", "Filters", "Function",
              "Join Type", "Conditions", "Groups", "Partitions", "Table", "Text")
