"""DuckDB SQL (the one source of truth in `queries/`) to Spark SQL, and what cannot go.

- `to_spark(sql)` parses with sqlglot's DuckDB dialect, applies `REWRITES` in order (each a
  named function over the AST, its docstring naming the difference class it handles) and
  writes Spark SQL. `$name` parameters come out as Spark's named markers `:name`, bound with
  the session's `sql(text, args={...})`.
- The macros of `features/05_functions.sql` (`fired_score`, `share_term`, `ratio_term`,
  `network_prefix`) are inlined, argument by argument, as the DuckDB macros expand: no session
  state to create first, and the same arithmetic in the same order.
- `portability_problems(sql, file)` walks the AST and names each construct outside the portable
  subset (one DuckDB-only construct no rewrite serves), with the file and line.

Needs sqlglot (the `spark` extra); the DuckDB path never imports this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

try:
    import sqlglot
    from sqlglot import exp
except ImportError as _exc:  # pragma: no cover - the message is the point
    from forensics.errors import ConfigError

    raise ConfigError("the Spark engine needs the spark extra (install forensics[spark])"
                      ) from _exc

from forensics import resources, sqltext

Rewrite = Callable[[exp.Expr], exp.Expr]


def _parse(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="duckdb")


def _p(sql: str) -> exp.Expr:
    """An expression written in Spark SQL (for the rewrites' templates)."""
    return sqlglot.parse_one(sql, read="spark")


def _bottom_up(tree: exp.Expr, fn: Rewrite) -> exp.Expr:
    """`fn` applied to every node of `tree`, children before their parents, so a rewrite
    reaches a construct nested in the arguments of one it rewrites (sqlglot's `transform`
    does not descend into a replacement)."""
    for node in reversed(list(tree.dfs())):
        new = fn(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


# -- macros ------------------------------------------------------------------------------------

_MACRO = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?MACRO\s+(\w+)"
                    r"\s*\(([^)]*)\)\s+AS\s+(.*)",
                    re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Macro:
    """A DuckDB macro: its parameters (with their defaults, `name := value`), its body, and
    whether it is a table macro (`AS TABLE`, read FROM like a table)."""

    name: str
    args: tuple[str, ...]
    body: exp.Expr
    table: bool = False
    defaults: tuple[tuple[str, exp.Expr], ...] = ()


def macro_definition(sql: str) -> Macro | None:
    """The macro statement `sql` defines (`CREATE [OR REPLACE] [TEMP] MACRO …`), or None when
    it defines none."""
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    m = _MACRO.search(code)
    if not m:
        return None
    body = m.group(3).strip().rstrip(";")
    table = re.match(r"TABLE\b", body, re.IGNORECASE) is not None
    if table:
        body = body[5:]
    args: list[str] = []
    defaults: list[tuple[str, exp.Expr]] = []
    for part in (a.strip() for a in m.group(2).split(",")):
        if not part:
            continue
        name, _, default = part.partition(":=")
        args.append(name.strip().lower())
        if default.strip():
            defaults.append((name.strip().lower(), _parse(default.strip())))
    return Macro(m.group(1).lower(), tuple(args), _parse(body), table, tuple(defaults))


def load_macros(path: Path | None = None) -> dict[str, Macro]:
    """The macros of `features/05_functions.sql` (or of `path`), by name."""
    from forensics.sqlfiles import load_file

    path = path or resources.queries_dir(None) / "features" / "05_functions.sql"
    found = (macro_definition(s.text) for s in load_file(path).statements)
    return {m.name: m for m in found if m is not None}


@cache
def _bundled_macros() -> dict[str, Macro]:
    return load_macros()


def inline_macros(tree: exp.Expr, macros: dict[str, Macro] | None = None
                  ) -> exp.Expr:
    """Macros (DuckDB `CREATE MACRO`, which Spark lacks): each call of a macro of
    05_functions.sql is replaced by its body, parenthesised, with the call's arguments (each
    parenthesised) in place of the parameters; nested calls are expanded too."""
    macros = _bundled_macros() if macros is None else macros

    def expand(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Anonymous):
            return node
        macro = macros.get(node.name.lower())
        if macro is None or macro.table or len(node.expressions) != len(macro.args):
            return node
        values = {a.lower(): inline_macros(v.copy(), macros)
                  for a, v in zip(macro.args, node.expressions, strict=True)}

        def put(n: exp.Expr) -> exp.Expr:
            if isinstance(n, exp.Column) and not n.table and n.name.lower() in values:
                return exp.paren(values[n.name.lower()].copy(), copy=False)
            return n

        return exp.paren(macro.body.copy().transform(put), copy=False)

    for _ in range(4):  # a macro's body may call another macro
        tree = _bottom_up(tree, expand)
    return tree


# -- the rewrites --------------------------------------------------------------------------------


def portable_hash(tree: exp.Expr) -> exp.Expr:
    """`hash()`: DuckDB's and Spark's differ, so the queries call `portable_hash(s)`
    (05_functions.sql: the first 15 hex digits of md5(s) as a BIGINT), written for Spark as
    `CAST(conv(left(md5(CAST(s AS STRING)), 15), 16, 10) AS BIGINT)`, the same number. Runs
    before the macros are inlined (DuckDB's body casts a '0x…' text, which Spark cannot)."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() == "portable_hash"
                and len(node.expressions) == 1):
            return node
        return _p("CAST(conv(left(md5(CAST(x AS STRING)), 15), 16, 10) AS BIGINT)").transform(
            lambda n: node.expressions[0].copy() if isinstance(n, exp.Column)
            and n.name == "x" else n)
    return _bottom_up(tree, rewrite)



def list_slices(tree: exp.Expr) -> exp.Expr:
    """List indexing and slicing, 1-based vs 0-based: DuckDB's `l[a:b]` (1-based, both ends
    included; sqlglot would keep it as it is, which Spark cannot parse) becomes
    `slice(l, a, b - a + 1)`; a missing end takes the rest of the list. (A single index
    `l[i]` sqlglot already shifts to Spark's 0-based `l[i - 1]`.)"""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Bracket) and len(node.expressions) == 1
                and isinstance(node.expressions[0], exp.Slice)):
            return node
        piece = node.expressions[0]
        lo = piece.this or exp.Literal.number(1)
        hi = piece.args.get("expression")
        length: exp.Expr = (
            exp.Sub(this=exp.Add(this=exp.paren(hi.copy()), expression=exp.Literal.number(1)),
                    expression=exp.paren(lo.copy())) if hi is not None
            else exp.func("size", node.this.copy()))
        return exp.func("slice", node.this, lo, length)
    return _bottom_up(tree, rewrite)


def top_n_aggregates(tree: exp.Expr) -> exp.Expr:
    """Top-n aggregates (`min(x, n)`, `max(x, n)`, `arg_min`/`min_by(x, key, n)` and
    `arg_max`/`max_by(x, key, n)`), which Spark has only without n: the (key, value) pairs are
    collected as structs (rows whose key is NULL left out, as DuckDB does), sorted by key
    (then value) and the first n values kept; the list keeps DuckDB's order (best first). A
    FILTER clause moves onto the collect_list (Spark refuses it on slice)."""
    def is_top_n(node: exp.Expr) -> bool:
        return (isinstance(node, exp.ArgMin | exp.ArgMax | exp.Min | exp.Max)
                and node.args.get("count") is not None)

    def rewrite(node: exp.Expr) -> exp.Expr:
        where = None
        if isinstance(node, exp.Filter) and is_top_n(node.this):
            # agg(…) FILTER (WHERE …): the filter goes onto the collect_list inside
            where, node = node.expression, node.this
        elif not is_top_n(node) or isinstance(node.parent, exp.Filter):
            return node
        count = node.args["count"]

        def collect(value: exp.Expr) -> exp.Expr:
            collected = exp.func("collect_list", value)
            return exp.Filter(this=collected, expression=where.copy()) if where else collected

        descending = isinstance(node, exp.ArgMax | exp.Max)
        if isinstance(node, exp.Min | exp.Max):
            collected = collect(node.this)
            ordered = exp.func("sort_array", collected, exp.Boolean(this=not descending))
            return exp.func("slice", ordered, exp.Literal.number(1), count)
        key = node.args["expression"]
        pair = exp.If(this=exp.Not(this=exp.Is(this=exp.paren(key.copy()), expression=exp.Null())),
                      true=exp.func("named_struct", exp.Literal.string("k"), key,
                                    exp.Literal.string("v"), node.this))
        collected = collect(exp.Case(ifs=[pair]))
        ordered = exp.func("sort_array", collected, exp.Boolean(this=not descending))
        values = _p("transform(x, p -> p.v)").transform(
            lambda n: ordered if isinstance(n, exp.Column) and n.name == "x" else n)
        return exp.func("slice", values, exp.Literal.number(1), count)
    return _bottom_up(tree, rewrite)


def ordered_lists(tree: exp.Expr) -> exp.Expr:
    """Order of `list()`/`array_agg()`/`string_agg()` with ORDER BY: Spark's collect_list keeps
    no order, so the values are collected with their sort keys as structs, sorted by
    array_sort with a comparator that takes each key in its direction and puts NULLs where
    DuckDB does (last, unless NULLS FIRST), and the values taken out; string_agg then joins
    them with array_join. With DISTINCT the structs are collected with collect_set."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.ArrayAgg | exp.GroupConcat)
                and isinstance(node.this, exp.Order)):
            return node
        order = node.this
        value = order.this
        distinct = isinstance(value, exp.Distinct)
        if distinct:  # DuckDB wants the ORDER BY keys among the arguments: a set is enough
            value = value.expressions[0]
        keys = order.expressions
        fields: list[exp.Expr] = []
        for i, key in enumerate(keys):
            fields += [exp.Literal.string(f"k{i}"), key.this]
        fields += [exp.Literal.string("v"), value]
        collected = exp.func("collect_set" if distinct else "collect_list",
                             exp.func("named_struct", *fields))
        # A comparator over the keys, each in its direction and with its NULLs where DuckDB
        # puts them (last unless NULLS FIRST), so mixed directions and any key type sort.
        whens = []
        for i, key in enumerate(keys):
            up = -1 if key.args.get("desc") else 1
            null = -1 if key.args.get("nulls_first") else 1
            whens.append(f"WHEN l.k{i} IS NULL AND r.k{i} IS NOT NULL THEN {null} "
                         f"WHEN l.k{i} IS NOT NULL AND r.k{i} IS NULL THEN {-null} "
                         f"WHEN l.k{i} < r.k{i} THEN {-up} WHEN l.k{i} > r.k{i} THEN {up}")
        ordered = _p(f"array_sort(x, (l, r) -> CASE {' '.join(whens)} ELSE 0 END)").transform(
            lambda n: collected if isinstance(n, exp.Column) and n.name == "x" else n)
        values = _p("transform(x, p -> p.v)").transform(
            lambda n: ordered if isinstance(n, exp.Column) and n.name == "x" else n)
        if isinstance(node, exp.GroupConcat):
            separator = node.args.get("separator") or exp.Literal.string(",")
            return exp.func("array_join", values, separator)
        return values
    return _bottom_up(tree, rewrite)


def materialized_ctes(tree: exp.Expr) -> exp.Expr:
    """`WITH x AS MATERIALIZED (…)`, a DuckDB planner hint Spark's grammar lacks: dropped (the
    rows are the same; materialising intermediate tables on Spark is the runner's business)."""
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


_FMT = re.compile(r"\{(?::([^}]*))?\}|%")


def format_strings(tree: exp.Expr) -> exp.Expr:
    """`format('… {} {:d} {:.1f} …', …)` (DuckDB's fmt syntax) to Spark's `format_string`
    (printf syntax): `{}` → `%s`, `{:d}` → `%d`, `{:.Nf}`/`{:.Ne}`/`{:.Ng}` → `%.Nf`/…, a
    literal `%` → `%%`; adjacent literals ('a' 'b') are joined first, and so are literals joined by
    `||`. Java's `%g` keeps
    trailing zeros where fmt drops them, so a `{:g}` text may differ; `%d` wants an integer
    argument, as `{:d}` does. Any other format is left for portability_problems to name."""
    def spec(m: re.Match[str]) -> str:
        if m.group(0) == "%":
            return "%%"
        s = m.group(1)
        if not s:
            return "%s"
        if re.fullmatch(r"d|(\.\d+)?[feg]", s):
            return "%" + s
        raise ValueError(s)

    def literal(node: exp.Expr) -> str | None:
        """The text of a string literal, or of adjacent ones ('a' 'b', a Concat)."""
        if isinstance(node, exp.Literal) and node.is_string:
            return str(node.this)
        if isinstance(node, exp.Concat | exp.DPipe):
            parts = [literal(e) for e in (node.expressions if isinstance(node, exp.Concat)
                                          else [node.this, node.expression])]
            return None if None in parts else "".join(p for p in parts if p is not None)
        return None

    def rewrite(node: exp.Expr) -> exp.Expr:
        text = literal(node.this) if isinstance(node, exp.Format) else None
        if text is None:
            return node
        try:
            text = _FMT.sub(spec, text)
        except ValueError:
            return node
        # Anonymous: exp.func would make it a Format again, which a second pass would redo.
        return exp.Anonymous(this="format_string",
                             expressions=[exp.Literal.string(text), *node.expressions])
    return _bottom_up(tree, rewrite)


_INTERVALS = {"to_days": "DAY", "to_hours": "HOUR", "to_minutes": "MINUTE",
              "to_seconds": "SECOND"}


def interval_functions(tree: exp.Expr) -> exp.Expr:
    """Epoch/timestamp arithmetic: DuckDB's `to_days/to_hours/to_minutes/to_seconds(n)` (an
    interval of n units) become Spark's `make_dt_interval`; `epoch_us(ts)` (microseconds since
    the epoch) becomes `unix_micros(ts)`, `epoch_ms(ts)` `unix_millis(ts)`."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        name = (node.name.lower() if isinstance(node, exp.Anonymous)
                else "to_days" if isinstance(node, exp.ToDays) else "")
        args = node.expressions if isinstance(node, exp.Anonymous) else [node.this]
        if name in _INTERVALS and len(args) == 1:
            n = exp.cast(args[0].copy(), "BIGINT")
            zero = exp.Literal.number(0)
            parts = {"DAY": [n, zero, zero, zero], "HOUR": [zero, n, zero, zero],
                     "MINUTE": [zero, zero, n, zero], "SECOND": [zero, zero, zero, n]}
            return exp.func("make_dt_interval", *parts[_INTERVALS[name]])
        if name == "epoch_us" and len(args) == 1:
            return exp.func("unix_micros", args[0])
        if name == "epoch_ms" and len(args) == 1:
            return exp.func("unix_millis", args[0])
        return node
    return _bottom_up(tree, rewrite)


def list_functions(tree: exp.Expr) -> exp.Expr:
    """DuckDB list and aggregate functions Spark spells otherwise: `list_sum(l)` →
    `aggregate(l, 0D, (a, x) -> a + x)`; `kahan_sum(x)` → `sum(x)` (Spark has no compensated
    sum: the same value up to the last bits of a double)."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and len(node.expressions) == 1:
            name = node.name.lower()
            if name == "list_sum":
                return _p("aggregate(x, CAST(0 AS DOUBLE), (a, e) -> a + e)").transform(
                    lambda n: node.expressions[0] if isinstance(n, exp.Column)
                    and n.name == "x" else n)
            if name in ("kahan_sum", "fsum", "sumkahan"):
                return exp.Sum(this=node.expressions[0])
        return node
    return _bottom_up(tree, rewrite)


def table_functions(tree: exp.Expr) -> exp.Expr:
    """`range` as a table function, and `unnest` in a join: DuckDB's `JOIN range(a, b) AS
    s(x)` stays Spark's table function `range(a, b)` (the same half-open range; sqlglot would
    write an EXPLODE that Spark cannot place there), `generate_series(a, b)` (end included)
    becomes `range(a, b + 1)`; `CROSS JOIN unnest(l) AS u(x)` becomes
    `CROSS JOIN LATERAL explode(l) AS u(x)` (sqlglot's LATERAL VIEW would have to follow
    every join)."""
    for join in list(tree.find_all(exp.Join)):
        target = join.this
        if isinstance(target, exp.Unnest) and len(target.expressions) == 1 \
                and not target.args.get("offset"):
            join.set("this", exp.Lateral(
                this=exp.Anonymous(this="explode", expressions=[target.expressions[0]]),
                alias=target.args.get("alias")))
        elif isinstance(target, exp.Table) and isinstance(target.this, exp.GenerateSeries):
            target.set("this", _spark_range(target.this))
    return tree


def _spark_range(series: exp.GenerateSeries) -> exp.Expr:
    """DuckDB's `range(a, b)` / `generate_series(a, b)` (end included) as Spark's table
    function `range`, which leaves the end out."""
    end = series.args["end"]
    if not series.args.get("is_end_exclusive"):
        end = exp.Add(this=exp.paren(end.copy()), expression=exp.Literal.number(1))
    args = [series.args["start"], end]
    if series.args.get("step"):
        args.append(series.args["step"])
    return exp.Anonymous(this="range", expressions=args)


def array_operators(tree: exp.Expr) -> exp.Expr:
    """List operators Spark lacks: `a && b` (the lists share an element) becomes
    `arrays_overlap(a, b)`; `length(l)` of what is plainly a list (a list function, a list
    literal, a split, a slice) becomes `size(l)` (Spark's length counts characters only)."""
    lists = (exp.ArrayFilter, exp.ArrayDistinct, exp.Array, exp.Split, exp.Transform,
             exp.ArraySort, exp.ArrayAgg)

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Length) and (
                isinstance(node.this, lists)
                or (isinstance(node.this, exp.Anonymous)
                    and node.this.name.lower() in ("slice", "transform", "filter"))):
            return exp.Anonymous(this="size", expressions=[node.this])
        if isinstance(node, exp.ArrayOverlaps):
            return exp.Anonymous(this="arrays_overlap",
                                 expressions=[node.this, node.expression])
        return node
    return _bottom_up(tree, rewrite)


# -- rewrites for the heuristics and linking (issue 23) -------------------------------------------


def table_macros(tree: exp.Expr, macros: dict[str, Macro] | None = None) -> exp.Expr:
    """Table macros (DuckDB `CREATE MACRO m(p, t := 'table') AS TABLE <query>`, read FROM like a
    table; Spark has no macros): each call `FROM m(args) [AS x]` becomes the subquery
    `(<query>) AS x` (x defaults to the macro's name, as DuckDB names it), with the call's
    arguments, positional then `name := value`, in place of the parameters and the defaults
    of those it leaves out; `query_table(p)` in the body reads the table whose name p holds (a
    text literal). The body's own macro calls are inlined with it."""
    macros = _bundled_macros() if macros is None else macros

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous)):
            return node
        macro = macros.get(node.this.name.lower())
        if macro is None or not macro.table:
            return node
        values = dict(macro.defaults)
        positional = [a for a in node.this.expressions
                      if not isinstance(a, exp.PropertyEQ | exp.Kwarg)]
        for name, value in zip(macro.args, positional, strict=False):
            values[name] = value
        for arg in node.this.expressions:
            if isinstance(arg, exp.PropertyEQ | exp.Kwarg):
                values[arg.this.name.lower()] = arg.expression
        missing = [a for a in macro.args if a not in values]
        if missing or len(positional) > len(macro.args):
            return node  # Spark refuses the call, naming it

        def put(n: exp.Expr) -> exp.Expr:
            if (isinstance(n, exp.Table) and isinstance(n.this, exp.Anonymous)
                    and n.this.name.lower() == "query_table" and len(n.this.expressions) == 1):
                named = n.this.expressions[0]
                if isinstance(named, exp.Column) and named.name.lower() in values:
                    named = values[named.name.lower()]
                if isinstance(named, exp.Literal) and named.is_string:
                    table = exp.to_table(str(named.this))
                    if n.args.get("alias"):
                        table.set("alias", n.args["alias"].copy())
                    return table
            if isinstance(n, exp.Column) and not n.table and n.name.lower() in values:
                return exp.paren(values[n.name.lower()].copy(), copy=False)
            return n

        body = inline_macros(macro.body.copy().transform(put), macros)
        alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(macro.name))
        return exp.Subquery(this=body, alias=alias.copy())
    return _bottom_up(tree, rewrite)


def subscripts(tree: exp.Expr) -> exp.Expr:
    """`unnest(l) AS v, generate_subscripts(l, 1) AS i` side by side in one SELECT (each element
    with its 1-based place; Spark allows one generator per SELECT and has no
    generate_subscripts) becomes the one generator
    `inline(transform(l, (e, n) -> named_struct('v', e, 'i', n + 1)))`, giving the same two
    columns in the same order (transform's index is 0-based)."""
    def element_list(node: exp.Expr) -> tuple[str, exp.Expr] | None:
        inner = node.this if isinstance(node, exp.Alias) else None
        if isinstance(inner, exp.Explode) and not isinstance(inner, exp.Posexplode):
            return "value", inner.this
        if (isinstance(inner, exp.Anonymous) and inner.name.lower() == "generate_subscripts"
                and len(inner.expressions) == 2 and inner.expressions[1].sql() == "1"):
            return "index", inner.expressions[0]
        return None

    for select in list(tree.find_all(exp.Select)):
        projections = select.expressions
        for i in range(len(projections) - 1):
            first, second = element_list(projections[i]), element_list(projections[i + 1])
            if not (first and second and {first[0], second[0]} == {"value", "index"}
                    and first[1] == second[1]):
                continue
            fields: list[exp.Expr] = []
            for (kind, _), alias in ((first, projections[i].alias),
                                     (second, projections[i + 1].alias)):
                fields += [exp.Literal.string(alias),
                           _p("e") if kind == "value" else _p("n + 1")]
            pairs = _p("transform(x, (e, n) -> s)").transform(
                lambda n, fields=fields, values=first[1]: values.copy()
                if isinstance(n, exp.Column) and n.name == "x"
                else exp.func("named_struct", *fields)
                if isinstance(n, exp.Column) and n.name == "s" else n)
            generator = exp.Anonymous(this="inline", expressions=[pairs])
            projections[i].replace(generator)
            projections[i + 1].pop()
            break
    return tree


def log_gamma(tree: exp.Expr) -> exp.Expr:
    """`lgamma(x)`, which Spark SQL lacks: the log-gamma of commons-math3 (on Spark's class
    path), `Gamma.logGamma`, called through `reflect` (which returns text, read back as a
    DOUBLE; Java's shortest text of a double reads back as the same double). DuckDB calls the
    C library's lgamma: the two agree to about 1e-15 relative, not always in the last bit."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() == "lgamma"
                and len(node.expressions) == 1):
            return node
        call = exp.Anonymous(this="reflect", expressions=[
            exp.Literal.string("org.apache.commons.math3.special.Gamma"),
            exp.Literal.string("logGamma"), exp.cast(node.expressions[0].copy(), "DOUBLE")])
        return exp.cast(call, "DOUBLE")
    return _bottom_up(tree, rewrite)


def _with_value(value: exp.Expr, body: str) -> exp.Expr:
    """`body` (Spark SQL over the one value `v`) applied to `value`, which is computed once:
    `element_at(transform(array(value), v -> body), 1)`."""
    template = _p(f"element_at(transform(array(x), v -> {body}), 1)")
    return template.transform(lambda n: value.copy() if isinstance(n, exp.Column)
                              and n.name == "x" and not n.table else n)


def _not_finite(v: str) -> str:
    return f"NOT ({v} * 0D = 0D)"  # NaN and the infinities


def _let(name: str, value: str, body: str) -> str:
    """Spark SQL for `body` with `name` bound to `value`, computed once (a one-element
    transform: Spark SQL has no LET)."""
    return f"element_at(transform(array({value}), {name} -> {body}), 1)"


# Below 2^52 a double's fraction is exact after floor(); at or above it, a value times 10^n
# has no fraction left to round on the engines' own terms (the domain of _scaled_integer).
_EXACT_LIMIT = "4503599627370496D"


def _scaled_integer(places: int, half_even: bool) -> str:
    """Spark SQL for |v| * 10^places, its exact value rounded to a whole number (half away
    from zero, or half to even), for |v| * 10^places < 2^52: the product p is rounded, but
    Dekker's error-free product (|v| split in two halves of 26 bits by Veltkamp's constant,
    10^places having at most 24 bits for places <= 7) gives the exact remainder err, and
    p's fraction against 1/2 and err's sign settle which way the exact value goes."""
    m = f"{10 ** places}D"
    tie_up = "err > 0D OR (err = 0D AND pmod(fl, 2) = 1)" if half_even else "err >= 0D"
    decide = f"fl + CASE WHEN p - fl > 0.5D OR (p - fl = 0.5D AND ({tie_up})) THEN 1 ELSE 0 END"
    return _let("a", "abs(v)", _let("p", f"a * {m}", _let(
        "err", f"((134217729D * a - (134217729D * a - a)) * {m} - p) "
               f"+ (a - (134217729D * a - (134217729D * a - a))) * {m}",
        _let("fl", "floor(p)", decide))))


def exact_rounding(tree: exp.Expr) -> exp.Expr:
    """`round(x, n)` of a DOUBLE (n a whole number, 0 to 7): DuckDB rounds the double's exact
    binary value half away from zero (round(0.00035, 4) is 0.0003: the double is a hair
    below 0.00035; round(5e-05, 4) is 0.0001, a hair above), Spark rounds its shortest
    decimal text half up (0.0004 and 0.0001). Written as the exact value times 10^n rounded
    to a whole number (_scaled_integer), divided by 10^n: the nearest double to the rounded
    decimal, as DuckDB converts it. A DECIMAL or an integer keeps Spark's round, exact half
    up as DuckDB's (the expression's type is DOUBLE whatever x is), and so does a double
    too large for _scaled_integer."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Round):
            return node
        places = node.args.get("decimals")
        if places is None or not (isinstance(places, exp.Literal) and places.is_int):
            return node
        n = int(places.this)
        if not 0 <= n <= 7:
            return node
        body = (f"CASE WHEN typeof(v) NOT IN ('double', 'float') THEN round(v, {n}) "
                f"WHEN {_not_finite('v')} OR abs(v) * {10 ** n}D >= {_EXACT_LIMIT} "
                f"THEN round(v, {n}) "
                f"ELSE signum(v) * {_scaled_integer(n, half_even=False)} / {10 ** n}D END")
        return _with_value(node.this, body)
    return _bottom_up(tree, rewrite)


_PRINTF = re.compile(r"%(%|s|d|(?:\.(\d+))?([feg]))")


def _fmt_number(value: exp.Expr, precision: int, kind: str) -> exp.Expr:
    """The text fmt (DuckDB's format) writes for a double with `{:.<precision><kind>}`."""
    v = "CAST(x AS DOUBLE)"
    nonfinite = ("WHEN isnan(v) THEN 'nan' WHEN v > 0D AND NOT (v * 0D = 0D) THEN 'inf' "
                 "WHEN NOT (v * 0D = 0D) THEN '-inf'")

    def scientific(digits: int, strip: bool) -> str:
        pattern = "0." + "0" * digits + "E00" if digits else "0E00"
        text = (f"regexp_replace(replace(format_number(v, {sqltext.string(pattern)}), "
                f"'E-', 'e-'), "
                f"'E([0-9])', 'e+$1')")
        if not strip:
            return text
        return f"replace(regexp_replace({text}, '([.][0-9]*?)0+e', '$1e'), '.e', 'e')"

    if kind == "f" and precision <= 7:
        # The exact value rounded half to even (_scaled_integer), its digits with the point
        # put back; a negative value keeps its sign even when it rounds to zero, as in C.
        digits = f"CAST({_scaled_integer(precision, half_even=True)} AS STRING)"
        if precision:
            digits = _let("s", _let("d", digits, f"lpad(d, greatest(length(d), "
                                                    f"{precision + 1}), '0')"),
                          f"concat(substr(s, 1, length(s) - {precision}), '.', "
                          f"substr(s, length(s) - {precision} + 1))")
        body = (f"CASE WHEN abs(v) * {10 ** precision}D >= {_EXACT_LIMIT} "
                f"THEN replace(format_number(v, {precision}), ',', '') "
                f"ELSE concat(CASE WHEN CAST(v AS STRING) LIKE '-%' THEN '-' ELSE '' END, "
                f"{digits}) END")
    elif kind == "f":
        body = f"replace(format_number(v, {precision}), ',', '')"
    elif kind == "e":
        body = scientific(precision, strip=False)
    else:  # g: %e's exponent decides between %f and %e, and trailing zeros are dropped
        p = precision or 1
        mantissa = "0." + "0" * (p - 1) if p > 1 else "0"
        exponent = (f"CAST(regexp_extract(format_number(v, {sqltext.string(mantissa + 'E00')}), "
                    f"'E(-?[0-9]+)', 1) AS INT)")
        fixed = (f"regexp_replace(replace(format_number(v, {p - 1} - {exponent}), ',', ''), "
                 f"'([.][0-9]*?)0+$', '$1')")
        fixed = f"regexp_replace({fixed}, '[.]$', '')"
        body = (f"CASE WHEN {exponent} >= -4 AND {exponent} < {p} THEN {fixed} "
                f"ELSE {scientific(p - 1, strip=True)} END")
    template = _p(f"element_at(transform(array({v}), v -> CASE {nonfinite} "
                  f"ELSE {body} END), 1)")
    return template.transform(lambda n: value.copy() if isinstance(n, exp.Column)
                              and n.name == "x" and not n.table else n)


def exact_number_formats(tree: exp.Expr) -> exp.Expr:
    """Numbers in `format` texts: Java's `%.Nf`, `%.Ne` and `%g` round the shortest decimal
    text of a double half up (`%.0f` of 2.5 is 3, of 0.125 at two places 0.13), fmt (DuckDB)
    the exact binary value half to even (2 and 0.12), and Java's `%g` keeps trailing zeros.
    Each such number of a `format_string` (as format_strings writes fmt's `{:.Nf}`, `{:.Ne}`,
    `{:.Ng}` and `{:g}`) becomes a `%s` of the text fmt writes. `{:.Nf}`: the exact value
    rounded half to even (_scaled_integer), exactly as fmt. `{:.Ne}` and `{:g}`:
    `format_number`'s DecimalFormat, its exponent written as fmt writes it (e-05, e+00), and
    for `g` fmt's choice between fixed and exponent form and its dropped zeros made explicit;
    DecimalFormat rounds from the shortest decimal text and misjudges some doubles whose text
    ends on a tie (a hair above 5e-05 reads as a tie to even), so those two are exact except
    on such doubles. NaN and the infinities read nan, inf, -inf."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() == "format_string"
                and node.expressions and isinstance(node.expressions[0], exp.Literal)
                and node.expressions[0].is_string):
            return node
        text = str(node.expressions[0].this)
        args = [a.copy() for a in node.expressions[1:]]
        out: list[str] = []
        position = 0
        last = 0
        changed = False
        for m in _PRINTF.finditer(text):
            out.append(text[last:m.start()])
            last = m.end()
            spec = m.group(1)
            if spec == "%":
                out.append("%%")
                continue
            if spec in ("s", "d") or position >= len(args):
                out.append(m.group(0))
            else:
                precision = int(m.group(2)) if m.group(2) else 6
                kind = m.group(3)
                args[position] = _fmt_number(args[position], precision, kind)
                out.append("%s")
                changed = True
            position += 1
        if not changed:
            return node
        out.append(text[last:])
        return exp.Anonymous(this="format_string",
                             expressions=[exp.Literal.string("".join(out)), *args])
    return _bottom_up(tree, rewrite)


def epoch_seconds(tree: exp.Expr) -> exp.Expr:
    """`epoch(ts)`: DuckDB's is the seconds since the epoch as a DOUBLE, with the fraction
    (its microseconds / 1e6); sqlglot writes Spark's `unix_timestamp`, whole seconds. Written
    `unix_micros(ts) / 1000000D`, the same division."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.TimeToUnix) or (isinstance(node, exp.Anonymous)
                                                and node.name.lower() == "epoch"):
            value = node.this if isinstance(node, exp.TimeToUnix) else node.expressions[0]
            return exp.paren(exp.Div(this=exp.func("unix_micros", value.copy()),
                                     expression=_p("1000000D")))
        return node
    return _bottom_up(tree, rewrite)


# -- the features' rewrites (regular expressions, list indexes, bytes, weekdays, case) --------

_REGEX_FUNCTIONS = (exp.RegexpLike, exp.RegexpExtract, exp.RegexpExtractAll, exp.RegexpReplace,
                    exp.RegexpFullMatch)


def _java_pattern(node: exp.Expr, pattern: str) -> str:
    from forensics.portable_regex import UnsharedRegexError, to_java

    try:
        return to_java(pattern)
    except UnsharedRegexError as exc:
        raise sqlglot.errors.UnsupportedError(
            f"{node.key}: the pattern {pattern!r} has no Java form read as RE2 reads it "
            f"({exc})") from None


def java_regexes(tree: exp.Expr) -> exp.Expr:
    """Regular expressions, RE2 (DuckDB) vs java.util.regex (Spark): every literal pattern of
    `regexp_matches`, `regexp_full_match`, `regexp_extract`, `regexp_extract_all` and
    `regexp_replace` written as the Java pattern that matches the same text
    (forensics/portable_regex.py: `.`, `$`, `\\s`, `\\b`, Unicode case folding, escapes).
    Beside the pattern: `regexp_full_match(s, p)` becomes `s RLIKE '^(?:p)$'` (Spark has no
    full match); `regexp_replace` replaces every match on Spark and only the first on DuckDB
    without the 'g' option, so without it the pattern is anchored behind a lazy prefix,
    `^(?s:(.*?))(?:p)`, that is put back; its replacement text's `\\1` … become Java's `$1`
    … (shifted by that prefix), a `$` is escaped. Options other than 'g' are refused.
    `regexp_extract_all(s, $pattern)` with the pattern bound as a parameter (data, such as the
    lexicon scan's alternation of every phrase) becomes `re2_extract_all(s, :pattern)`,
    DuckDB's own function in a Python UDF the engine registers (forensics/spark/functions.py
    says why)."""
    from forensics.portable_regex import to_java_replacement
    from forensics.spark.functions import RE2_EXTRACT_ALL

    def literal(node: exp.Expr | None) -> str | None:
        return str(node.this) if isinstance(node, exp.Literal) and node.is_string else None

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, _REGEX_FUNCTIONS) or node.meta.get("java"):
            return node
        pattern = literal(node.expression)
        options = node.args.get("modifiers") if isinstance(node, exp.RegexpReplace) else None
        if (node.args.get("options") or node.args.get("parameters")
                or (options is not None and literal(options) not in ("g", ""))):
            raise sqlglot.errors.UnsupportedError(
                f"{node.key}: regex options other than 'g' have no Spark form here")
        if pattern is None:
            group = node.args.get("group")
            if (isinstance(node, exp.RegexpExtractAll)
                    and isinstance(node.expression, exp.Placeholder)
                    and (group is None or (group.is_int and group.to_py() == 0))):
                return exp.Anonymous(this=RE2_EXTRACT_ALL,
                                     expressions=[node.this, node.expression])
            raise sqlglot.errors.UnsupportedError(
                f"{node.key}: a pattern that is not a literal has no Spark form here (but "
                f"for regexp_extract_all of a bound parameter)")
        if isinstance(node, exp.RegexpFullMatch):
            out: exp.Expr = exp.RegexpLike(
                this=node.this,
                expression=exp.Literal.string(_java_pattern(node, f"^(?:{pattern})$")))
            out.meta["java"] = True
            return out
        if isinstance(node, exp.RegexpReplace):
            replacement = literal(node.args.get("replacement"))
            if replacement is None:
                raise sqlglot.errors.UnsupportedError(
                    "regexp_replace: a replacement that is not a literal has no Java form here")
            if options is not None and literal(options) == "g":
                java, text = _java_pattern(node, pattern), to_java_replacement(replacement)
            else:
                java = "^(?s:(.*?))(?:" + _java_pattern(node, pattern) + ")"
                text = "$1" + re.sub(r"\$(\d)", lambda m: f"${int(m.group(1)) + 1}",
                                     to_java_replacement(replacement))
            return exp.Anonymous(this="regexp_replace", expressions=[
                node.this, exp.Literal.string(java), exp.Literal.string(text)])
        node.set("expression", exp.Literal.string(_java_pattern(node, pattern)))
        node.meta["java"] = True
        return node
    return _bottom_up(tree, rewrite)


def distinct_window_counts(tree: exp.Expr) -> exp.Expr:
    """`count(DISTINCT x) OVER (…)`, which Spark refuses (no DISTINCT in a window
    aggregate): `size(collect_set(x) OVER (…))`, the number of distinct non-NULL values in
    the same frame."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Window) and isinstance(node.this, exp.Count)
                and isinstance(node.this.this, exp.Distinct)
                and len(node.this.this.expressions) == 1):
            return node
        window = node.copy()
        window.set("this", exp.func("collect_set", node.this.this.expressions[0].copy()))
        return exp.func("size", window)
    return _bottom_up(tree, rewrite)


def asof_joins(tree: exp.Expr) -> exp.Expr:
    """`ASOF JOIN r ON <equalities> AND left >= r.t` (Spark has no as-of join): each left
    row with the r row of the greatest t at or before `left` (the smallest at or after for
    `<=`), dropping left rows with none, as DuckDB does, is
    `CROSS JOIN LATERAL (SELECT * FROM r WHERE <the same condition> ORDER BY r.t DESC
    LIMIT 1)`.
    Exact, but Spark draws it as a join on the condition then a ranking, not a merge of two
    sorted inputs: a large right side costs far more than in DuckDB."""
    for join in list(tree.find_all(exp.Join)):
        if str(join.args.get("method") or "").upper() != "ASOF":
            continue
        right = join.this
        condition = join.args.get("on")
        if not isinstance(right, exp.Table) or condition is None:
            continue
        name = right.alias_or_name
        key = None
        for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
            if not isinstance(part, exp.GTE | exp.GT | exp.LTE | exp.LT):
                continue
            for side, other, descending in ((part.expression, part.this,
                                             isinstance(part, exp.GTE | exp.GT)),
                                            (part.this, part.expression,
                                             isinstance(part, exp.LTE | exp.LT))):
                if (isinstance(side, exp.Column) and side.table == name
                        and name not in {c.table for c in other.find_all(exp.Column)}):
                    key = exp.Ordered(this=side.copy(), desc=descending)
        if key is None:
            continue
        inner = (exp.select("*").from_(right.copy()).where(condition.copy())
                 .order_by(key).limit(1))
        join.set("this", exp.Lateral(this=exp.Subquery(this=inner),
                                     alias=exp.TableAlias(this=exp.to_identifier(name))))
        join.set("method", None)
        join.set("on", None)
        join.set("kind", "CROSS")
    return tree


def _constant(node: exp.Expr, params: dict[str, object]) -> float | int | None:
    """The value of an arithmetic expression over numbers and bound parameters, computed
    as DuckDB computes it (IEEE doubles; integers exact, `/` a double), or None."""
    if isinstance(node, exp.Paren):
        return _constant(node.this, params)
    if isinstance(node, exp.Literal) and not node.is_string:
        return int(node.this) if node.is_int else float(node.this)
    if isinstance(node, exp.Placeholder):
        value = params.get(str(node.name))
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(node, exp.Neg):
        inner = _constant(node.this, params)
        return None if inner is None else -inner
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
        left, right = _constant(node.this, params), _constant(node.expression, params)
        if left is None or right is None:
            return None
        if isinstance(node, exp.Add):
            return left + right
        if isinstance(node, exp.Sub):
            return left - right
        if isinstance(node, exp.Mul):
            return left * right
        return left / right if right else None
    return None


def frame_bound_parameters(tree: exp.Expr, params: dict[str, object] | None = None
                           ) -> exp.Expr:
    """A window frame bound computed from parameters (`RANGE BETWEEN $hours * 3600 PRECEDING
    AND CURRENT ROW`): Spark takes only a literal there, so the bound is computed from the
    statement's bound values (numbers only) and written as a literal (a DOUBLE as `…D`). Without
    values the bound is left as it is (Spark refuses it, naming it)."""
    if not params:
        return tree
    for spec in list(tree.find_all(exp.WindowSpec)):
        for side in ("start", "end"):
            bound = spec.args.get(side)
            if not isinstance(bound, exp.Expr) or not any(bound.find_all(exp.Placeholder)):
                continue
            value = _constant(bound, params)
            if value is None:
                continue
            literal = (exp.Literal.number(value) if isinstance(value, int)
                       else exp.Literal.number(f"{value!r}D"))
            spec.set(side, literal)
    return tree


# DuckDB's time_bucket origin for a bucket of days, hours or minutes: Monday 2000-01-03 00:00.
_BUCKET_ORIGIN_MICROS = 946_857_600_000_000


def time_buckets(tree: exp.Expr) -> exp.Expr:
    """`time_bucket(width, ts)` (DuckDB: the start of ts's bucket of that width, counted from
    2000-01-03 00:00 for widths in days, hours or minutes), which Spark lacks (sqlglot writes
    a DATE_BIN it does not have): `timestamp_micros(us - pmod(us - origin, width))` with us the
    microseconds of ts, the width in microseconds taken from the interval, and pmod the floor
    remainder (a time before the origin falls in the bucket below, as in DuckDB). Only a
    width without months (make_dt_interval, as interval_functions writes to_hours and the
    like) and no origin argument."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.DateBin) or node.args.get("origin") is not None:
            return node
        width = node.this
        if not (isinstance(width, exp.Anonymous) and width.name.lower() == "make_dt_interval"):
            return node
        template = _p("timestamp_micros(unix_micros(t) - pmod(unix_micros(t) - "
                      f"{_BUCKET_ORIGIN_MICROS}, unix_micros(timestamp_micros(0) + w)))")
        return template.transform(
            lambda n: node.expression.copy() if isinstance(n, exp.Column) and n.name == "t"
            else width.copy() if isinstance(n, exp.Column) and n.name == "w" else n)
    return _bottom_up(tree, rewrite)


# strftime's specifiers in Spark's datetime patterns (text between them is quoted).
_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss",
             "%y": "yy", "%j": "DDD", "%b": "MMM", "%B": "MMMM", "%a": "EEE", "%A": "EEEE"}


def strftime_formats(tree: exp.Expr) -> exp.Expr:
    """`strftime(ts, '%Y-%m-%dT%H')`: sqlglot maps the specifiers to Spark's datetime pattern
    but leaves the text between them bare, where Spark reads letters as fields ('T', 'UTC');
    written with that text quoted (`yyyy'-'MM'-'dd'T'HH`). A specifier outside
    `_STRFTIME` leaves the call as it is."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.TimeToStr):
            return node
        fmt = node.args.get("format")
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            return node
        parts: list[str] = []
        for piece in re.split(r"(%.)", str(fmt.this)):
            if piece.startswith("%") and len(piece) == 2:
                if piece not in _STRFTIME:
                    return node
                parts.append(_STRFTIME[piece])
            elif piece:
                # Spark's datetime patterns quote literal text as SQL quotes a string.
                parts.append(sqltext.string(piece))
        return exp.Anonymous(this="date_format", expressions=[
            node.this.copy(), exp.Literal.string("".join(parts))])
    return _bottom_up(tree, rewrite)


def day_differences(tree: exp.Expr) -> exp.Expr:
    """`date_diff('day', a, b)`: DuckDB counts the day boundaries between a and b (23:00 to
    01:00 the next day is 1), Spark's DATEDIFF(DAY, …) whole elapsed days (0): written
    `datediff(CAST(b AS DATE), CAST(a AS DATE))`, the days between their dates (UTC)."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.DateDiff) and str(node.args.get("unit") or "").upper()
                in ("DAY", "'DAY'", "DAYS")):
            return node
        return exp.Anonymous(this="datediff", expressions=[
            exp.cast(node.this.copy(), "DATE"), exp.cast(node.expression.copy(), "DATE")])
    return _bottom_up(tree, rewrite)


def products(tree: exp.Expr) -> exp.Expr:
    """`product(x [ORDER BY k])`, an aggregate Spark SQL lacks: the non-NULL values collected
    (in the ORDER BY's order, as ordered_lists collects them) and multiplied left to right
    from 1 with `aggregate`; NULL for a group without a value, as DuckDB gives. Floating
    point multiplication is not associative, so the queries order their products: DuckDB
    then multiplies in the same order and the two give the same double."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() == "product"
                and len(node.expressions) == 1):
            return node
        arg = node.expressions[0]
        value = arg.this if isinstance(arg, exp.Order) else arg
        if isinstance(arg, exp.Order):
            values = ordered_lists(exp.ArrayAgg(this=arg.copy()))
        else:
            values = exp.func("collect_list", value.copy())
        template = _p("CASE WHEN count(x) = 0 THEN NULL ELSE aggregate(filter(l, e -> e IS NOT "
                      "NULL), CAST(1 AS DOUBLE), (a, e) -> a * e) END")
        return template.transform(
            lambda n: value.copy() if isinstance(n, exp.Column) and n.name == "x"
            else values.copy() if isinstance(n, exp.Column) and n.name == "l" else n)
    return _bottom_up(tree, rewrite)


def filtered_lists(tree: exp.Expr) -> exp.Expr:
    """`list(x ORDER BY k) FILTER (WHERE c)` (and string_agg): the FILTER goes onto the
    collect_list that ordered_lists writes (Spark refuses it on the transform around it), and
    a group without a row that passes gets NULL, DuckDB's list of no rows (Spark's
    collect_list gives an empty list). Runs before ordered_lists."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Filter)
                and isinstance(node.this, exp.ArrayAgg | exp.GroupConcat)
                and isinstance(node.this.this, exp.Order)):
            return node
        condition = node.expression
        where = condition.this if isinstance(condition, exp.Where) else condition
        ordered = ordered_lists(node.this.copy())
        for collect in ordered.find_all(exp.Anonymous):
            if collect.name.lower() in ("collect_list", "collect_set"):
                collect.replace(exp.Filter(this=collect.copy(), expression=exp.Where(
                    this=where.copy())))
                break
        passed = exp.Filter(this=exp.Count(this=exp.Star()),
                            expression=exp.Where(this=where.copy()))
        return exp.Case(ifs=[exp.If(this=exp.EQ(this=passed, expression=exp.Literal.number(0)),
                                    true=exp.Null())], default=ordered)
    return _bottom_up(tree, rewrite)


def true_division(tree: exp.Expr) -> exp.Expr:
    """`a / b`: DuckDB's `/` is a DOUBLE division whatever the numeric operands (a DECIMAL is
    converted first: `sum(n) / 60.0` is double(sum) / 60.0); Spark divides a DECIMAL as a
    DECIMAL, to six places (0.133333). Written `CAST(a AS DOUBLE) / CAST(b AS DOUBLE)`,
    which is what Spark does already for integers and doubles."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Div) or type(node) is not exp.Div:
            return node
        return exp.Div(this=exp.cast(node.this.copy(), "DOUBLE"),
                       expression=exp.cast(node.expression.copy(), "DOUBLE"))
    return _bottom_up(tree, rewrite)


def lower_case(tree: exp.Expr) -> exp.Expr:
    """Lower case: DuckDB's `lower` maps each character on its own (Unicode's simple case
    mapping); Spark's follows Unicode's full mapping, which writes the dotted capital I (İ)
    as two characters (i and a combining dot) and a capital sigma at the end of a word as the
    final sigma (ς). Those two are mapped first, as DuckDB maps them:
    `lower(translate(s, 'İΣ', 'iσ'))`; every other character lowers alike on both (to the
    Unicode version each engine's tables follow)."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Lower) or node.meta.get("simple"):
            return node
        mapped = exp.Anonymous(this="translate", expressions=[
            node.this, exp.Literal.string("\u0130\u03a3"), exp.Literal.string("i\u03c3")])
        out = exp.Lower(this=mapped)
        out.meta["simple"] = True
        return out
    return _bottom_up(tree, rewrite)


def list_indexes(tree: exp.Expr) -> exp.Expr:
    """List indexing, 1-based vs 0-based, and an index out of range: DuckDB's `l[i]` is the
    i-th element from 1, NULL past the end; Spark's `l[i]` counts from 0 and, in ANSI mode,
    fails past the end. `l[i]` becomes `try_element_at(l, i)` (from 1, NULL past the end).
    sqlglot has already shifted an index it knows to be an integer (a literal) to 0-based,
    and left any other (`w[i + 1]` in a lambda) as written: the shift is undone by the type
    sqlglot gives the index. A string index (a struct or map key) is left alone."""
    from sqlglot.optimizer.annotate_types import annotate_types

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Bracket) and len(node.expressions) == 1
                and not isinstance(node.expressions[0], exp.Slice)
                and not (isinstance(node.expressions[0], exp.Literal)
                         and node.expressions[0].is_string)):
            return node
        index = node.expressions[0]
        typed = annotate_types(index.copy(), dialect="duckdb").type
        if isinstance(index, exp.Literal) and index.is_int:
            index = exp.Literal.number(int(index.to_py()) + 1)
        elif typed is not None and typed.this in exp.DataType.INTEGER_TYPES:
            index = exp.Add(this=exp.paren(index.copy()), expression=exp.Literal.number(1))
        return exp.Anonymous(this="try_element_at", expressions=[node.this, index])
    return _bottom_up(tree, rewrite)


def byte_lengths(tree: exp.Expr) -> exp.Expr:
    """Text length in bytes: DuckDB's `strlen(s)` (UTF-8 bytes; `length` counts characters
    on both engines) is Spark's `octet_length(s)`; sqlglot passes strlen through, unknown to
    Spark."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "strlen" \
                and len(node.expressions) == 1:
            return exp.Anonymous(this="octet_length", expressions=[node.expressions[0]])
        return node
    return _bottom_up(tree, rewrite)


def iso_weekdays(tree: exp.Expr) -> exp.Expr:
    """Date parts, the ISO day of the week: DuckDB's `isodow(ts)` is 1 on Monday to 7 on
    Sunday; sqlglot writes `(dayofweek(ts) % 7) + 1`, but Spark's dayofweek is 1 on Sunday to
    7 on Saturday, which makes Sunday 2. Written `(dayofweek(ts) + 5) % 7 + 1`."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.DayOfWeekIso):
            return node
        day = exp.Anonymous(this="dayofweek", expressions=[node.this])
        shifted = exp.Mod(this=exp.paren(exp.Add(this=day, expression=exp.Literal.number(5))),
                          expression=exp.Literal.number(7))
        return exp.paren(exp.Add(this=shifted, expression=exp.Literal.number(1)))
    return _bottom_up(tree, rewrite)



def range_sources(tree: exp.Expr) -> exp.Expr:
    """`range` read FROM as a table (`FROM range(a, b) AS t(x)`; `table_functions` does the
    same for a join): sqlglot writes an EXPLODE that Spark cannot place there; it stays
    Spark's table function `range(a, b)` (the same half-open range), `generate_series(a, b)`
    (end included) becoming `range(a, b + 1)`."""
    for source in list(tree.find_all(exp.From)):
        target = source.this
        if isinstance(target, exp.Table) and isinstance(target.this, exp.GenerateSeries):
            target.set("this", _spark_range(target.this))
    return tree


# In the order they run. Each is named in the README's Spark section and tested one by one
# (tests/test_spark_dialect.py).
REWRITES: tuple[Rewrite, ...] = (
    table_macros,
    portable_hash, inline_macros,
    # Before any rewrite that writes Spark's own subscripts and regular expressions
    # (exact_rounding, exact_number_formats, …): these two read them as DuckDB's.
    list_indexes, java_regexes,
    true_division, list_slices, top_n_aggregates, filtered_lists,
    ordered_lists, materialized_ctes,
    format_strings, interval_functions, list_functions, table_functions, array_operators,
    subscripts, log_gamma, exact_rounding, exact_number_formats, epoch_seconds,
    distinct_window_counts, asof_joins, frame_bound_parameters, time_buckets, strftime_formats,
    day_differences, products,
    byte_lengths, iso_weekdays, range_sources, lower_case)


def to_spark(sql: str, rewrites: tuple[Rewrite, ...] = REWRITES, pretty: bool = True,
             macros: dict[str, Macro] | None = None,
             params: dict[str, object] | None = None) -> str:
    """`sql` (DuckDB, `$name` parameters) as Spark SQL (`:name` parameters), indented unless
    not `pretty`; `macros` (by default those of the bundled 05_functions.sql) are inlined;
    `params`, the values the statement is bound, give the frame bounds Spark wants literal."""
    tree = _parse(sql)
    for rewrite in rewrites:
        if rewrite in (inline_macros, table_macros) and macros is not None:
            tree = rewrite(tree, macros)
        elif rewrite is frame_bound_parameters:
            tree = frame_bound_parameters(tree, params)
        else:
            tree = rewrite(tree)
    return tree.sql(dialect="spark", pretty=pretty,
                    unsupported_level=sqlglot.ErrorLevel.RAISE)


# -- the portability check ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One construct outside the portable subset: what, and where."""

    construct: str
    file: str
    line: int | None
    why: str

    def line_text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.construct}: {self.why}"


# Constructs with no Spark rewrite: (test on a node, name, why).
_UNPORTABLE: tuple[tuple[Callable[[exp.Expr], bool], str, str], ...] = (
    (lambda n: isinstance(n, exp.Join) and str(n.args.get("method") or "").upper() == "ASOF",
     "ASOF JOIN", "Spark SQL has no as-of join, and asof_joins rewrites only one whose "
     "condition compares a column of the joined table by >=, >, <= or <"),
    (lambda n: isinstance(n, exp.Join)
     and str(n.args.get("method") or "").upper() == "POSITIONAL",
     "POSITIONAL JOIN", "Spark SQL has no positional join"),
    (lambda n: isinstance(n, exp.Anonymous) and n.name.lower() == "hash",
     "hash()", "DuckDB's hash and Spark's hash (Murmur3) give different values"),
    (lambda n: isinstance(n, exp.Anonymous) and n.name.lower() == "generate_subscripts",
     "generate_subscripts()", "no Spark equivalent (expected beside an unnest of the same "
     "list in one SELECT, which the subscripts rewrite turns into one generator)"),
    (lambda n: isinstance(n, exp.Format),
     "format()", "a format that is not a literal, or a spec other than {}, {:d}, {:.Nf}, "
     "{:.Ne}, {:.Ng}"),
)


def _line(text: str, construct: str, offset: int) -> int | None:
    """The line in `text` (counted from `offset` lines before it) where `construct`'s word
    first occurs in the code (not in a comment or a string), if it does."""
    from forensics.sqlfiles import _TOKENS

    word = re.match(r"[A-Za-z_]+", construct)
    if not word:
        return None
    # Comments and strings blanked to the same length, their newlines kept.
    code = _TOKENS.sub(lambda m: m.group(0) if m.group("end") or m.group("identifier")
                       else re.sub(r"[^\n]", " ", m.group(0)), text)
    m = re.search(rf"\b{word.group(0)}\b", code, re.IGNORECASE)
    return offset + text.count("\n", 0, m.start()) + 1 if m else None


def portability_problems(sql: str, file: str | Path, line_offset: int = 0) -> list[Problem]:
    """The constructs of `sql` (DuckDB) that no rewrite carries to Spark, each with `file`
    and its line (`line_offset` lines precede `sql` in the file, e.g. a front matter).
    Empty when the query is in the portable subset."""
    where = str(file)
    try:
        tree = _parse(sql)
    except sqlglot.errors.ParseError as exc:
        return [Problem("syntax", where, None, f"sqlglot cannot parse it as DuckDB SQL "
                        f"({str(exc).splitlines()[0]})")]
    for rewrite in REWRITES:
        tree = rewrite(tree)
    found: list[Problem] = []
    seen: set[str] = set()
    for node in tree.walk():
        for test, name, why in _UNPORTABLE:
            if name not in seen and test(node):
                seen.add(name)
                found.append(Problem(name, where, _line(sql, name, line_offset), why))
    try:
        tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as exc:
        for message in str(exc).splitlines():
            if message.strip():
                found.append(Problem("unsupported", where, None, message.strip()))
    return found
