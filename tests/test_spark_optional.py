"""The Spark engine is an extra: the DuckDB path imports neither pyspark nor sqlglot."""

from __future__ import annotations

import subprocess
import sys


def test_duckdb_path_imports_no_spark_modules() -> None:
    code = ("import sys, forensics.cli, forensics.api, forensics.heuristics, forensics.sqlfiles; "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('pyspark', 'sqlglot', 'py4j')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
