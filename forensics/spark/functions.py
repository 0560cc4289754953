"""Python functions the Spark engine registers for its SQL (Arrow UDFs, run by Spark's Python
workers, which import this module: keep it light).

`re2_extract_all(text, pattern)` is DuckDB's `regexp_extract_all(text, pattern)`, RE2 and all,
over each Arrow batch. The dialect calls it where a pattern is bound as a parameter
(dialect.java_regexes): the lexicon scan's one alternation of every phrase. A pattern written
in the SQL runs as Java regex instead (forensics/portable_regex.py), but a large alternation
is what a backtracking engine does worst: Java tries every phrase at every character, where
RE2's automaton reads each character once, and on the bundled sample Java took minutes for
the scan DuckDB does in seconds. Running RE2 itself also makes the matches DuckDB's to the
last case-folding table entry.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

RE2_EXTRACT_ALL = "re2_extract_all"


@cache
def _duckdb() -> Any:
    """This worker's DuckDB connection: one thread (Spark runs a worker per core), and rows
    kept in the order they came (the result must line up with the batch)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    return con


def re2_extract_all(texts: pa.Array, patterns: pa.Array) -> pa.Array:
    """Every match of each row's pattern in its text, as DuckDB's `regexp_extract_all` gives
    them (NULL for a NULL text). The pattern is a bound parameter, so a batch holds one
    (several are refused)."""
    con = _duckdb()
    batch = pa.table({"t": texts, "p": patterns})
    distinct = [p for p in pc.unique(batch.column("p")).to_pylist() if p is not None]
    if len(distinct) > 1:
        raise ValueError(f"{RE2_EXTRACT_ALL}: one pattern per query expected")
    con.register("re2_batch", batch)
    try:
        out = con.sql("SELECT CASE WHEN p IS NOT NULL THEN regexp_extract_all(t, $p) END "
                      "AS m FROM re2_batch",
                      params={"p": distinct[0] if distinct else ""}).to_arrow_table()
    finally:
        con.unregister("re2_batch")
    return out.column("m").combine_chunks().cast(pa.list_(pa.string()))
