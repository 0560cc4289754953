"""The DuckDB → Spark dialect layer (forensics/spark/): each rewrite alone, the portability
check, and `heuristics check --engine spark`. Needs the spark extra (sqlglot; pyspark for the
tests marked so); skipped without it, so the default CI passes without the extra."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("sqlglot")

from forensics.spark import dialect as d  # noqa: E402

needs_pyspark = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("pyspark") is None
    or shutil.which("java") is None, reason="needs pyspark and Java (forensics[spark])")


def spark(sql: str, *rewrites: d.Rewrite) -> str:
    return d.to_spark(sql, tuple(rewrites), pretty=False)


def test_macros_are_inlined() -> None:
    out = spark("SELECT fired_score(share_term(x, 0.5, 0.3), 0) AS s FROM t", d.inline_macros)
    assert "FIRED_SCORE" not in out.upper() and "SHARE_TERM" not in out.upper()
    assert out == ("SELECT (LEAST(1.0, 0.5 + (((0.3) * ((x) - (0.5)) / (1 - (0.5)))) + (0))) "
                   "AS s FROM t")


def test_parameters_become_named_markers() -> None:
    assert spark("SELECT a FROM t WHERE b > $min_share") == \
        "SELECT a FROM t WHERE b > :min_share"


def test_list_slices() -> None:
    assert spark("SELECT l[2:3] FROM t", d.list_slices) == \
        "SELECT SLICE(l, 2, (3) + 1 - (2)) FROM t"


def test_top_n_aggregates() -> None:
    out = spark("SELECT min_by(x, k, 10) FILTER (WHERE ok) FROM t", d.top_n_aggregates)
    assert out == ("SELECT SLICE(TRANSFORM(SORT_ARRAY(COLLECT_LIST(CASE WHEN NOT (k) IS NULL "
                   "THEN NAMED_STRUCT('k', k, 'v', x) END) FILTER(WHERE ok)), p -> p.v), "
                   "1, 10) FROM t")
    assert spark("SELECT max(x, 3) FROM t", d.top_n_aggregates) == \
        "SELECT SLICE(SORT_ARRAY(COLLECT_LIST(x), FALSE), 1, 3) FROM t"


def test_ordered_lists() -> None:
    out = spark("SELECT string_agg(a, ';' ORDER BY b DESC) FROM t", d.ordered_lists)
    assert out == ("SELECT ARRAY_JOIN(TRANSFORM(ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT('k0', b, "
                   "'v', a)), (l, r) -> CASE WHEN l.k0 IS NULL AND NOT r.k0 IS NULL THEN 1 "
                   "WHEN NOT l.k0 IS NULL AND r.k0 IS NULL THEN -1 WHEN l.k0 < r.k0 THEN 1 "
                   "WHEN l.k0 > r.k0 THEN -1 ELSE 0 END), p -> p.v), ';') FROM t")


def test_materialized_ctes() -> None:
    assert spark("WITH s AS MATERIALIZED (SELECT 1 AS x) SELECT x FROM s",
                 d.materialized_ctes) == "WITH s AS (SELECT 1 AS x) SELECT x FROM s"


def test_format_strings() -> None:
    out = spark("SELECT format('{} sent {:d} ({:.0f} %) ' || 'of {:.2g}', a, b, c, "
                "format('in {}', e)) FROM t", d.format_strings)
    assert out == ("SELECT FORMAT_STRING('%s sent %d (%.0f %%) of %.2g', a, b, c, "
                   "FORMAT_STRING('in %s', e)) FROM t")


def test_interval_functions() -> None:
    out = spark("SELECT ts + to_hours($h), epoch_us(ts) FROM t", d.interval_functions)
    assert out == ("SELECT ts + MAKE_DT_INTERVAL(0, CAST(:h AS BIGINT), 0, 0), "
                   "UNIX_MICROS(ts) FROM t")


def test_list_functions() -> None:
    assert spark("SELECT list_sum(l), kahan_sum(x) FROM t", d.list_functions) == \
        "SELECT AGGREGATE(l, CAST(0 AS DOUBLE), (a, e) -> a + e), SUM(x) FROM t"


def test_ordered_distinct_list() -> None:
    assert spark("SELECT string_agg(DISTINCT s, ',' ORDER BY s) FROM t", d.ordered_lists) == (
        "SELECT ARRAY_JOIN(TRANSFORM(ARRAY_SORT(COLLECT_SET(NAMED_STRUCT('k0', s, 'v', s)), "
        "(l, r) -> CASE WHEN l.k0 IS NULL AND NOT r.k0 IS NULL THEN 1 WHEN NOT l.k0 IS NULL "
        "AND r.k0 IS NULL THEN -1 WHEN l.k0 < r.k0 THEN -1 WHEN l.k0 > r.k0 THEN 1 ELSE 0 END), "
        "p -> p.v), ',') FROM t")


def test_table_functions() -> None:
    out = spark("SELECT 1 FROM t AS f CROSS JOIN unnest(f.l) AS u(x) JOIN y ON y.a = u.x "
                "CROSS JOIN range(0, 24) AS s(h) CROSS JOIN generate_series(1, 3) AS g(i)",
                d.table_functions)
    assert out == ("SELECT 1 FROM t AS f CROSS JOIN LATERAL EXPLODE(f.l) AS u(x) "
                   "JOIN y ON y.a = u.x CROSS JOIN RANGE(0, 24) AS s(h) "
                   "CROSS JOIN RANGE(1, (3) + 1) AS g(i)")


def test_array_operators() -> None:
    assert spark("SELECT a && b, length(list_filter(l, x -> x > 1)), length(s) FROM t",
                 d.array_operators) == \
        "SELECT ARRAYS_OVERLAP(a, b), SIZE(FILTER(l, x -> x > 1)), LENGTH(s) FROM t"


def test_portability_names_construct_file_and_line() -> None:
    sql = "SELECT a.x\nFROM a\nASOF JOIN b ON a.k = b.k AND a.ts >= b.ts"
    problems = d.portability_problems(sql, "q.sql", line_offset=10)
    assert [p.line_text() for p in problems] == [
        "q.sql:13: ASOF JOIN: Spark SQL has no as-of join (expected a window or a range join)"]
    assert d.portability_problems("SELECT hash(a) FROM t", "h.sql")[0].construct == "hash()"
    assert d.portability_problems("SELECT fired_score(0.1, 0) FROM t", "ok.sql") == []


# -- on Spark ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def session():  # type: ignore[no-untyped-def]
    from forensics.spark.check import local_session

    with local_session("forensics-tests") as s:
        yield s


@needs_pyspark
def test_rewrites_give_duckdb_results_on_spark(session) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    rows = [(1, "b", 2.0), (1, "a", 3.0), (2, "c", 1.0), (1, "d", None)]
    from forensics import resources

    con = duckdb.connect()
    con.execute((resources.queries_dir(None) / "features" / "05_functions.sql").read_text())
    con.execute("CREATE TABLE t (g INTEGER, s VARCHAR, k DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    session.createDataFrame(rows, "g INT, s STRING, k DOUBLE").createOrReplaceTempView("t")
    sql = ("SELECT g, max_by(s, k, 2) AS top, string_agg(s, ',' ORDER BY s) AS joined, "
           "string_agg(s, ',' ORDER BY k DESC, s) AS by_k, "
           "format('{:d} rows, {:.1f}', count(*), sum(k)) AS d, "
           "network_prefix('10.1.2.3') AS p4, network_prefix('2001:db8:1:2::1') AS p6, "
           "count(*) FILTER (WHERE r.h > 22) AS late "
           "FROM t CROSS JOIN range(0, 24) AS r(h) GROUP BY g ORDER BY g")
    duck = [tuple(r) for r in con.execute(sql).fetchall()]
    on_spark = [(r[0], list(r[1]), *r[2:]) for r in session.sql(d.to_spark(sql)).collect()]
    assert on_spark == duck


@needs_pyspark
def test_portable_hash_is_one_number_on_both_engines(session) -> None:  # type: ignore[no-untyped-def]
    """portable_hash() (05_functions.sql) on DuckDB and its Spark form give the same BIGINT."""
    import duckdb

    from forensics import resources
    from forensics.sqlfiles import engine_for, load_file, run_file

    con = duckdb.connect()
    run_file(engine_for(con), load_file(resources.queries_part("features", None)
                                        / "05_functions.sql"))
    texts = ["", "abc", "héllo wörld", "日本語", "x" * 1000]
    query = "SELECT t, portable_hash(t) AS h FROM (VALUES {}) AS v(t) ORDER BY t".format(
        ", ".join(f"('{t}')" for t in texts))
    expected = con.execute(query).fetchall()
    assert all(0 <= h < 2**60 for _, h in expected)
    assert len({h for _, h in expected}) == len(texts)
    got = [tuple(r) for r in session.sql(d.to_spark(query)).collect()]
    assert got == expected


# Texts on which RE2 and Java regex, or DuckDB and Spark functions, differ unless rewritten.
_AWKWARD_TEXTS = [
    "Write it out step by step, then SHOW YOUR REASONING.",
    "\u017ftep by \u017ftep with the \u212aelvin sign",       # long s, Kelvin sign: RE2 folds them
    "reason\u0131ng and \u0130nternal reasoning",             # dotless and dotted I: RE2 does not
    "\u4ee3\u7801python\u4ee3\u7801 and \u751f\u621010\u9053\u65b0\u9898",  # CJK beside a word
    "rating:\u000b7 [[ 8 ]]\u2028score:\r\n9 [result] 3",     # vertical tab, line separators
    "  tabs\tand\n\nnew lines\f\r  ",
    "\u039f\u0394\u039f\u03a3 \u03a3\u0391 \u0130",          # final sigma, dotted I
    "10.1.2.3 and 2001:db8:1:2::1 x{2} a&&b [[c]]",
    "",
]


@needs_pyspark
def test_feature_rewrites_give_duckdb_results_on_spark(session) -> None:  # type: ignore[no-untyped-def]
    """Every regex of the feature SQL and the lexicon scan's pattern, Java's form of each
    against RE2, and lower/strlen/isodow/list indexes, on texts chosen where they differ."""
    import duckdb
    import pyarrow as pa

    from forensics import resources, sqltext
    from forensics.features import read_lexicons, scan_pattern
    from forensics.portable_regex import to_java

    patterns = [
        r"[0-9]+", r"\s\s+|[\t\n\f\r]", r"\s+", r"[^\w]+", r"^(\d+\.\d+\.\d+)\.",
        r"(?i)(\[\[\s*\d+(\.\d+)?\s*\]\]|\[\[[abc]\]\]|rating:\s*\d|\[result\]\s*\d|score:\s*\d)",
        r"\p{Hiragana}|\p{Katakana}", r"\p{Han}", r"\p{Cyrillic}", r"\d{1,3}\.\d{1,3}",
        r".+", r"\S+$", r"(?i)[^a-z ]+", r"\bpython\b", r"\Bep\B", r"x{2}|&&|\[\[c\]\]",
        r"(?i)\w+"]
    con = duckdb.connect()
    texts = pa.table({"i": list(range(len(_AWKWARD_TEXTS))), "s": _AWKWARD_TEXTS})
    con.register("t", texts)
    session.createDataFrame(texts.to_pylist(), "i INT, s STRING").createOrReplaceTempView("t")

    def both(sql: str) -> None:
        duck = [tuple(r) for r in con.execute(sql).fetchall()]
        on_spark = [tuple(list(v) if isinstance(v, list) else v for v in r)
                    for r in session.sql(d.to_spark(sql)).collect()]
        assert on_spark == duck, sql

    for pattern in patterns:
        p = sqltext.string(pattern)
        both(f"SELECT i, regexp_extract_all(s, {p}), regexp_matches(s, {p}), "
             f"regexp_replace(s, {p}, '<\\0>', 'g'), regexp_replace(s, {p}, '#') "
             f"FROM t ORDER BY i")
        if "\\p" not in pattern:
            both(f"SELECT i, regexp_full_match(s, {p}) FROM t ORDER BY i")
    both("SELECT i, lower(s), strlen(s), length(s), string_split(s, ' ')[2] "
         "FROM t ORDER BY i")
    both("SELECT isodow(d), list_transform(range(1, 3), lambda k: [10, 20][k + 1]) "
         "FROM (SELECT DATE '2026-07-05' + CAST(k AS INTEGER) AS d "
         "FROM range(0, 7) AS r(k)) ORDER BY d")
    # The lexicon scan's alternation of every phrase, as the Java form of it finds them.
    scan = scan_pattern(read_lexicons(resources.lexicons_dir(None)))
    duck = con.execute("SELECT regexp_extract_all(s, $p) FROM t ORDER BY i",
                       {"p": scan}).fetchall()
    java = session.sql("SELECT regexp_extract_all(s, :p, 0) FROM t ORDER BY i",
                       args={"p": to_java(scan)}).collect()
    assert [list(r[0]) for r in java] == [r[0] for r in duck]
    assert any(r[0] for r in duck)


def test_missing_extra_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from forensics.errors import ConfigError
    from forensics.spark import check

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    with pytest.raises(ConfigError, match=r"install forensics\[spark\]"):
        check.check_heuristics_spark()


@needs_pyspark
def test_check_engine_spark_refuses_duckdb_only_construct(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from forensics import resources
    from forensics.cli import main

    library = tmp_path / "queries"
    shutil.copytree(resources.queries_dir(None), library)
    target = library / "content" / "cot_elicitation_strong.sql"
    text = target.read_text(encoding="utf-8")
    # The same query behind an as-of join on a CTE of one row: DuckDB accepts it.
    head, sep, body = text.partition("---*/\n")
    body = body.rstrip().rstrip(";")
    target.write_text(f"{head}{sep}WITH q AS (\n{body}\n), z AS (SELECT 0 AS k)\n"
                      f"SELECT q.* FROM q ASOF JOIN z ON q.score >= z.k\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["heuristics", "check", "--engine", "spark",
                                       "--queries", str(library)])
    assert result.exit_code == 2, result.output
    assert "cot_elicitation_strong.sql:" in result.output
    assert "ASOF JOIN" in result.output



# -- the features' rewrites --------------------------------------------------------------------


def test_java_regexes() -> None:
    out = spark("SELECT regexp_replace(a, '\\s+', ' ', 'g'), regexp_replace(a, '(x)y', '<\\1>'), "
                "regexp_matches(a, '(?i)k.$'), regexp_full_match(a, '\\d+'), "
                "regexp_extract_all(a, $lexicon_pattern) FROM t", d.java_regexes)
    assert out == ("SELECT REGEXP_REPLACE(a, '[\\\\x{9}-\\\\x{A}\\\\x{C}-\\\\x{D} ]+', ' '), "
                   "REGEXP_REPLACE(a, '^(?s:(.*?))(?:(x)y)', '$1<$2>'), "
                   "a RLIKE '[Kk\u212a][^\\\\n]\\\\z', a RLIKE '^(?:[0-9]+)\\\\z', "
                   "RE2_EXTRACT_ALL(a, :lexicon_pattern) FROM t")
    with pytest.raises(__import__("sqlglot").errors.UnsupportedError, match="lookaround"):
        spark("SELECT regexp_matches(a, 'x(?=y)') FROM t", d.java_regexes)


def test_list_indexes() -> None:
    assert spark("SELECT w[i], w[i + 1], o[1], m['k'] FROM t", d.list_indexes) == \
        "SELECT TRY_ELEMENT_AT(w, i), TRY_ELEMENT_AT(w, i + 1), TRY_ELEMENT_AT(o, 1), m['k'] FROM t"


def test_byte_lengths_and_iso_weekdays() -> None:
    assert spark("SELECT strlen(s), isodow(ts) FROM t", d.byte_lengths, d.iso_weekdays) == \
        "SELECT OCTET_LENGTH(s), ((DAYOFWEEK(ts) + 5) % 7 + 1) FROM t"


def test_range_sources() -> None:
    assert spark("SELECT p FROM range(0, $n) AS t(p)", d.range_sources) == \
        "SELECT p FROM RANGE(0, :n) AS t(p)"
    assert spark("SELECT p FROM generate_series(1, 3) AS t(p)", d.range_sources) == \
        "SELECT p FROM RANGE(1, (3) + 1) AS t(p)"


def test_lower_case() -> None:
    assert spark("SELECT lower(s) FROM t", d.lower_case) == \
        "SELECT LOWER(TRANSLATE(s, '\u0130\u03a3', 'i\u03c3')) FROM t"

