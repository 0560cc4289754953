"""The Spark `Engine`: the statements of `queries/` (DuckDB SQL) run on a Spark session.

Each statement is read as DuckDB SQL by sqlglot and carried out the way its kind asks:

- `CREATE [OR REPLACE] [TEMP] MACRO`: kept by the engine, and inlined into every later
  statement by the dialect (Spark has no macros);
- `CREATE [OR REPLACE] [TEMP] TABLE t AS <query>`: the query transpiled (`dialect.to_spark`),
  run, and its rows **materialised**: written as Parquet under the engine's staging folder and
  read back as the temporary view `t`. Materialising is what makes a Spark table a table: the
  plan is not run again by every reader (a query that reads a table twice sees the same rows),
  and later statements start from files, not from a plan grown over the whole run;
- `CREATE TABLE t (columns)`: an empty table of those columns;
- `INSERT INTO t <query>`: t's rows and the query's, materialised as the new `t`;
- `DROP TABLE [IF EXISTS] t`, `ALTER TABLE a RENAME TO b`: on the views (and their files);
- `EXPLAIN <query>`: Spark's analyser over the transpiled query (no rows read);
- a query: transpiled and run; its rows come back through Arrow.

Spark's names are case-insensitive and its views live as long as the session: the engine is
made for one run and its staging folder goes with it (`close`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from forensics.spark import dialect
from forensics.sqlfiles import Rows


class SparkStatementError(Exception):
    """A statement the Spark engine cannot carry out (its kind is not one it knows)."""


def _errors() -> tuple[type[Exception], ...]:
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JJavaError, SparkStatementError, sqlglot.errors.SqlglotError)


def _name(node: exp.Expr) -> str:
    """The plain name of a table node (`t`, or the table of a `t (columns)` schema)."""
    table = node.this if isinstance(node, exp.Schema) else node
    return str(table.name).lower()


@dataclass
class SparkEngine:
    """An Engine (forensics.sqlfiles) over a Spark session; tables are temporary views over
    Parquet written under `staging` (a folder of this machine that every executor sees)."""

    spark: Any
    staging: str
    errors: tuple[type[Exception], ...] = field(default_factory=_errors)
    macros: dict[str, dialect.Macro] = field(default_factory=dict)
    _paths: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from pyspark.sql.functions import arrow_udf

        from forensics.spark import functions

        # The functions the dialect's rewrites call (dialect.java_regexes).
        # pyspark's stubs type only the form that names its functionType; the function's type
        # hints (pa.Array in, pa.Array out) tell pyspark the same at run time.
        self.spark.udf.register(functions.RE2_EXTRACT_ALL,
                                arrow_udf(functions.re2_extract_all,  # type: ignore[call-overload]
                                          returnType="array<string>"))

    # -- the Engine protocol ---------------------------------------------------------------

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        macro = dialect.macro_definition(sql)
        if macro is not None:
            self.macros[macro.name] = macro
            return
        if sql.lstrip()[:7].upper() == "EXPLAIN":
            _ = self.spark.sql(self.transpile(sql.lstrip()[7:], params),
                               args=_args(params)).schema
            return
        tree = sqlglot.parse_one(sql, read="duckdb")
        if isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() in ("TABLE",
                                                                                    "VIEW"):
            query = tree.args.get("expression")
            if query is not None:
                self.create_table_as(_name(tree.this), query.sql(dialect="duckdb"), params)
            elif isinstance(tree.this, exp.Schema):
                self._create_empty(_name(tree.this), tree.this)
            else:
                raise SparkStatementError(f"CREATE without a query or columns: {sql[:80]}")
        elif isinstance(tree, exp.Insert):
            self._append(_name(tree.this), tree.expression.sql(dialect="duckdb"), params)
        elif isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or []:
                self._drop(_name(table), if_exists=bool(tree.args.get("exists")))
        elif isinstance(tree, exp.Alter) and any(isinstance(a, exp.AlterRename)
                                                for a in tree.args.get("actions") or []):
            rename = next(a for a in tree.args["actions"] if isinstance(a, exp.AlterRename))
            self._rename(_name(tree.this), _name(rename.this))
        elif isinstance(tree, exp.Query):
            self.spark.sql(self.transpile(sql, params), args=_args(params)).collect()
        else:
            raise SparkStatementError(f"a {type(tree).__name__} statement has no Spark form "
                                      f"here: {sql.strip()[:80]}")

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        table = self.arrow(sql, params)
        columns = tuple(table.column_names)
        values = [_python(table.column(i).to_pylist(), table.schema.field(i).type)
                  for i in range(table.num_columns)]
        return Rows(columns, list(zip(*values, strict=True)) if values else [])

    def columns(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        return tuple(self.spark.sql(self.transpile(sql, params), args=_args(params)).columns)

    def create_table_as(self, table: str, sql: str, params: Mapping[str, Any] | None = None,
                        *, temporary: bool = False) -> None:
        with self._staged_ctes(sql, params) as staged:
            self._materialise(table.lower(),
                              self.spark.sql(self.transpile(staged, params), args=_args(params)))

    def replace_table(self, table: str, replacement: str) -> None:
        self._drop(table.lower(), if_exists=False)
        self._rename(replacement.lower(), table.lower())

    # -- beyond the protocol ----------------------------------------------------------------

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """The rows of query `sql` as an Arrow table (timestamps in UTC)."""
        with self._staged_ctes(sql, params) as staged:
            return self.spark.sql(self.transpile(staged, params), args=_args(params)).toArrow()

    def register(self, name: str, table: pa.Table) -> None:
        """An Arrow table as the table `name` (materialised like any other)."""
        self._materialise(name.lower(), self.spark.createDataFrame(table))

    def unregister(self, name: str) -> None:
        self._drop(name.lower(), if_exists=True)

    @contextlib.contextmanager
    def string_list_function(self, name: str, fn: Callable[[pa.Array], pa.Array]
                             ) -> Iterator[None]:
        """`fn` (a list of strings per row in, a list of strings per row out, over Arrow
        arrays) callable from SQL as `name` while the block runs."""
        from pyspark.sql.functions import arrow_udf

        def strings(values: pa.Array) -> pa.Array:
            return fn(values)

        # A plain function: arrow_udf tells a UDF's kind by its signature's type hints,
        # which a callable object (LexiconLabeller) does not offer it.
        self.spark.udf.register(name, arrow_udf(strings,  # type: ignore[call-overload]
                                                returnType="array<string>"))
        try:
            yield
        finally:
            self.spark.sql(f"DROP TEMPORARY FUNCTION IF EXISTS {name}")

    def adopt(self, name: str, frame: Any, path: str) -> None:
        """`frame`, read from the Parquet at `path` (in the staging folder), as table `name`."""
        frame.createOrReplaceTempView(name.lower())
        self._keep(name.lower(), path)

    def has_table(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name.lower()))

    def table_path(self, name: str) -> str:
        """Where table `name`'s Parquet files are."""
        return self._paths[name.lower()]

    def transpile(self, sql: str, params: Mapping[str, Any] | None = None) -> str:
        """`sql` as Spark SQL, with the engine's macros inlined; `params` are the values the
        statement will be bound (a window frame bound, which Spark wants literal, is written
        from them)."""
        return dialect.to_spark(sql, macros=self.macros, pretty=False,
                                params=dict(params) if params else None)

    def close(self) -> None:
        """Drop every view and the staging folder."""
        for name in list(self._paths):
            self.spark.catalog.dropTempView(name)
        self._paths.clear()
        shutil.rmtree(self.staging, ignore_errors=True)

    @contextlib.contextmanager
    def _staged_ctes(self, sql: str, params: Mapping[str, Any] | None) -> Iterator[str]:
        """`sql` with each CTE of its top-level WITH marked `MATERIALIZED` that a later part
        reads computed first, as a table of the staging folder, and read from there; the
        tables are dropped when the block ends. Spark has no materialised CTE: it inlines a
        CTE into each reader, so a CTE read by CTEs that are themselves read several times is
        computed again for every path to it, and the plan grows with each level (relay_mixing
        never finished so). The hint marks the parts the DuckDB query computes once."""
        tree = sqlglot.parse_one(sql, read="duckdb")
        ctes = tree.args.get("with_")
        if not (isinstance(ctes, exp.With)
                and any(c.args.get("materialized") for c in ctes.expressions)):
            yield sql
            return
        staged: dict[str, str] = {}
        kept: list[exp.CTE] = []
        made: list[str] = []
        try:
            entries = list(ctes.expressions)
            for i, cte in enumerate(entries):
                body = _read_staged(cte.this.copy(), staged)
                name = cte.alias.lower()
                if not cte.args.get("materialized"):
                    kept.append(exp.CTE(this=body, alias=cte.args["alias"].copy()))
                    continue
                later = [e.this for e in entries[i + 1:]] + [tree]
                if not any(t.name.lower() == name and not t.args.get("db")
                           for part in later for t in part.find_all(exp.Table)):
                    continue  # read by nothing: DuckDB computes no unread CTE either
                if kept:
                    body.set("with_", exp.With(expressions=[k.copy() for k in kept]))
                table = f"cte_{uuid.uuid4().hex[:12]}_{name}"
                self.create_table_as(table, body.sql(dialect="duckdb"), params)
                made.append(table)
                staged[name] = table
            main = _read_staged(tree.copy(), staged)
            main.set("with_", exp.With(expressions=kept) if kept else None)
            yield main.sql(dialect="duckdb")
        finally:
            for table in made:
                self._drop(table, if_exists=True)

    # -- tables as Parquet -------------------------------------------------------------------

    def _materialise(self, table: str, frame: Any) -> None:
        path = f"{self.staging}/{table}-{uuid.uuid4().hex[:12]}"
        frame.write.mode("errorifexists").parquet(path)
        self.spark.read.schema(frame.schema).parquet(path).createOrReplaceTempView(table)
        self._keep(table, path)

    def _append(self, table: str, sql: str, params: Mapping[str, Any] | None) -> None:
        """`INSERT INTO table <sql>`: the query's rows, taken by position and cast to the
        table's column types (as DuckDB's INSERT does), written beside the table's files;
        the rows already there are not written again."""
        from pyspark.sql import functions as F

        if table not in self._paths:
            raise SparkStatementError(f"INSERT INTO {table}: no such table")
        schema = self.spark.table(table).schema
        new = self.spark.sql(self.transpile(sql, params), args=_args(params))
        if len(new.columns) != len(schema.fields):
            raise SparkStatementError(f"INSERT INTO {table}: {len(new.columns)} columns for "
                                      f"the table's {len(schema.fields)}")
        new.select(*[F.col(f"`{name}`").cast(field.dataType).alias(field.name)
                     for name, field in zip(new.columns, schema.fields, strict=True)]
                   ).write.mode("append").parquet(self._paths[table])
        self.spark.read.schema(schema).parquet(self._paths[table]).createOrReplaceTempView(
            table)

    def _keep(self, table: str, path: str) -> None:
        """`path` as where table `table`'s files are; the files it had before are removed."""
        old = self._paths.get(table)
        self._paths[table] = path
        if old is not None and old != path:
            self._remove(old)

    def _create_empty(self, table: str, schema: exp.Schema) -> None:
        from forensics.spark.check import spark_type

        columns = ", ".join(f"`{c.name}` {spark_type(c.args['kind'].sql(dialect='duckdb'))}"
                            for c in schema.expressions if isinstance(c, exp.ColumnDef))
        self._materialise(table, self.spark.createDataFrame([], schema=columns))

    def _drop(self, table: str, *, if_exists: bool) -> None:
        path = self._paths.pop(table, None)
        if path is None:
            if if_exists:
                return
            raise SparkStatementError(f"DROP TABLE {table}: no such table")
        self.spark.catalog.dropTempView(table)
        self._remove(path)

    def _rename(self, table: str, new_name: str) -> None:
        if table not in self._paths:
            raise SparkStatementError(f"ALTER TABLE {table}: no such table")
        path = self._paths.pop(table)
        frame = self.spark.table(table)
        self.spark.catalog.dropTempView(table)
        frame.createOrReplaceTempView(new_name)
        self._keep(new_name, path)

    def _remove(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)


def _read_staged(tree: exp.Expr, staged: Mapping[str, str]) -> exp.Expr:
    """`tree` reading each CTE of `staged` (name → table) from its table, under the CTE's
    name (or the alias it is read under)."""
    def put(node: exp.Expr) -> exp.Expr:
        if (isinstance(node, exp.Table) and not node.args.get("db")
                and node.name.lower() in staged):
            table = exp.to_table(staged[node.name.lower()])
            table.set("alias", node.args.get("alias") or exp.TableAlias(
                this=exp.to_identifier(node.name)))
            return table
        return node
    return tree.transform(put)


def _args(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(params) if params else None


def _python(values: list[Any], kind: pa.DataType) -> list[Any]:
    """Arrow's Python values as DuckDB's client gives them: timestamps without a zone (in
    UTC, as the session runs)."""
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return [v.astimezone(dt.UTC).replace(tzinfo=None) if v is not None else None
                for v in values]
    return values


def staging_folder(base: Path | str | None) -> str:
    """A fresh staging folder for one run's tables, under the folder `base` or the system's
    temporary folder."""
    import tempfile

    if base is None:
        return tempfile.mkdtemp(prefix="forensics-spark-")
    Path(base).mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix="forensics-spark-", dir=base)
