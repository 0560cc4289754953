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

from forensics import resources

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
            series = target.this
            end = series.args["end"]
            if not series.args.get("is_end_exclusive"):
                end = exp.Add(this=exp.paren(end.copy()), expression=exp.Literal.number(1))
            args = [series.args["start"], end]
            if series.args.get("step"):
                args.append(series.args["step"])
            target.set("this", exp.Anonymous(this="range", expressions=args))
    return tree


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
        if not (isinstance(target, exp.Table) and isinstance(target.this, exp.GenerateSeries)):
            continue
        series = target.this
        end = series.args["end"]
        if not series.args.get("is_end_exclusive"):
            end = exp.Add(this=exp.paren(end.copy()), expression=exp.Literal.number(1))
        args = [series.args["start"], end]
        if series.args.get("step"):
            args.append(series.args["step"])
        target.set("this", exp.Anonymous(this="range", expressions=args))
    return tree


# In the order they run. Each is named in the README's Spark section and tested one by one
# (tests/test_spark_dialect.py).
REWRITES: tuple[Rewrite, ...] = (
    portable_hash, inline_macros, list_slices, top_n_aggregates, ordered_lists, materialized_ctes,
    format_strings, interval_functions, list_functions, table_functions, array_operators,
    java_regexes, list_indexes, byte_lengths, iso_weekdays, range_sources, lower_case)


def to_spark(sql: str, rewrites: tuple[Rewrite, ...] = REWRITES, pretty: bool = True,
             macros: dict[str, Macro] | None = None) -> str:
    """`sql` (DuckDB, `$name` parameters) as Spark SQL (`:name` parameters), indented unless
    not `pretty`; `macros` (by default those of the bundled 05_functions.sql) are inlined."""
    tree = _parse(sql)
    for rewrite in rewrites:
        tree = (inline_macros(tree, macros) if rewrite is inline_macros and macros is not None
                else rewrite(tree))
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
     "ASOF JOIN", "Spark SQL has no as-of join (expected a window or a range join)"),
    (lambda n: isinstance(n, exp.Join)
     and str(n.args.get("method") or "").upper() == "POSITIONAL",
     "POSITIONAL JOIN", "Spark SQL has no positional join"),
    (lambda n: isinstance(n, exp.Anonymous) and n.name.lower() == "hash",
     "hash()", "DuckDB's hash and Spark's hash (Murmur3) give different values"),
    (lambda n: isinstance(n, exp.Anonymous) and n.name.lower() == "generate_subscripts",
     "generate_subscripts()", "no Spark equivalent (expected posexplode)"),
    (lambda n: isinstance(n, exp.Anonymous) and n.name.lower() == "lgamma",
     "lgamma()", "Spark SQL has no log-gamma function"),
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
