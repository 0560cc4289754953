"""Running the heuristics on Apache Spark (issue 23), an optional extra:
`pip install forensics[spark]`.

- `dialect`: DuckDB SQL of `queries/` to Spark SQL (sqlglot plus named rewrites, the macros of
  `features/05_functions.sql` inlined) and the portability check. Needs sqlglot only.
- `check`: `forensics heuristics check --engine spark`: every heuristic transpiled, checked and
  analysed by a small local Spark session over empty tables of the contract's schemas.

Nothing on the DuckDB path imports this package; importing it without the extra installed
raises a SparkMissing error with the one line to fix it.
"""
