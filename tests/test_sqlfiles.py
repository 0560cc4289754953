"""The one SQL runner (forensics/sqlfiles.py): splitting, parameter binding, running, the
fixpoint loop and timings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from forensics import resources, sqlfiles
from forensics.errors import HeuristicError
from forensics.heuristics import _FRONT_MATTER


def _file(text: str, name: str = "t.sql") -> sqlfiles.SqlFile:
    return sqlfiles.parse_sql(text, Path(name))


def test_semicolon_in_string_or_comment_ends_no_statement() -> None:
    """A `;` inside a string literal, an E'…' string, a dollar-quoted string, a quoted
    identifier, a line comment or a block comment does not split the statement."""
    text = ("-- first; still a comment\n"
            "SELECT 'a;\nb' AS x, E'it\\'s;' AS y, $$p;q$$ AS z, 1 AS \"c;d\" /* e;\n f */;\n"
            "SELECT 2 -- tail;\n;\n"
            "-- only a comment; here\n")
    statements = sqlfiles.split_statements(text)
    assert len(statements) == 2
    assert statements[0].startswith("-- first; still a comment\nSELECT 'a;\nb'")
    assert statements[0].endswith("/* e;\n f */")
    assert statements[1] == "SELECT 2 -- tail;"
    con = duckdb.connect()
    assert con.execute(statements[0]).fetchall() == [("a;\nb", "it's;", "p;q", 1)]


def test_split_agrees_with_duckdb_on_every_bundled_file() -> None:
    """Every bundled .sql file splits into the statements DuckDB's own parser finds."""
    con = duckdb.connect()
    paths = sorted(resources.queries_dir().glob("*/*.sql"))
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8")
        m = _FRONT_MATTER.match(text)
        body = text[m.end():] if m else text
        ours = sqlfiles.split_statements(body)
        theirs = [s.query.strip().rstrip(";").strip() for s in con.extract_statements(body)]
        assert ours == theirs, path


def test_parameters_in_strings_comments_and_identifiers_are_not_used() -> None:
    """Only `$name` in code counts as a use; in a string, a comment or a quoted identifier it
    does not."""
    f = _file("SELECT $a, '$b', \"$c\" -- $d\n/* $e */ FROM t WHERE x = $f_2")
    assert f.params == {"a", "f_2"}


def test_each_statement_is_bound_only_the_parameters_it_uses() -> None:
    """Of the supplied values, each statement gets exactly the ones it uses (DuckDB refuses
    extra ones)."""
    con = duckdb.connect()
    f = _file("CREATE TABLE t AS SELECT $a AS a;\nINSERT INTO t SELECT $b;\n"
              "CREATE TABLE u AS SELECT count(*) AS n FROM t")
    assert [f.bind(s, {"a": 1, "b": 2, "c": 3}) for s in f.statements] == [
        {"a": 1}, {"b": 2}, {}]
    sqlfiles.run_file(sqlfiles.engine_for(con), f, {"a": 1, "b": 2, "c": 3})
    assert con.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,), (2,)]


def test_missing_parameter_names_the_file_and_the_parameter_and_runs_nothing() -> None:
    """A statement using a parameter nobody supplied is refused with a HeuristicError that
    names the file and the parameter, before any statement of the file runs."""
    con = duckdb.connect()
    f = _file("CREATE TABLE t AS SELECT 1 AS a;\nSELECT $limit, $cluster FROM t",
              "queries/report/x.sql")
    with pytest.raises(HeuristicError) as caught:
        sqlfiles.run_file(sqlfiles.engine_for(con), f, {"cluster": "c"})
    assert caught.value.file == "queries/report/x.sql"
    assert "statement 2 uses parameter $limit," in caught.value.message
    assert "supplies: cluster" in caught.value.message
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)


def test_query_of_a_file_with_several_statements_is_refused() -> None:
    """A file read as one query must hold exactly one statement."""
    with pytest.raises(HeuristicError, match="holds 2 statements"):
        _ = _file("SELECT 1; SELECT 2").query


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A missing file is a HeuristicError naming it, in the folder's own words."""
    folder = sqlfiles.SqlFolder(tmp_path, "report query")
    with pytest.raises(HeuristicError, match="report query missing") as caught:
        folder.file("nothing")
    assert caught.value.file == str(tmp_path / "nothing.sql")
    assert folder.missing(("nothing",)) == ["nothing.sql"]


def test_engine_queries_rows_columns_and_tables() -> None:
    """The DuckDB engine reads rows with their names, a query's columns, and creates and
    replaces tables."""
    con = duckdb.connect()
    db = sqlfiles.engine_for(con)
    db.create_table_as("t", "SELECT range AS n FROM range($k)", {"k": 3})
    rows = db.query("SELECT n, n * 2 AS d FROM t ORDER BY n")
    assert rows.dicts() == [{"n": 0, "d": 0}, {"n": 1, "d": 2}, {"n": 2, "d": 4}]
    assert rows.scalar() == 0
    assert db.columns("SELECT n AS a, 1 AS b FROM t -- no rows read") == ("a", "b")
    db.create_table_as("t_next", "SELECT 7 AS n", temporary=True)
    db.replace_table("t", "t_next")
    assert db.query("SELECT n FROM t").rows == [(7,)]
    with pytest.raises(ValueError):
        db.create_table_as("t; DROP TABLE t", "SELECT 1")


# One round of propagation on a path graph: each node takes the smallest label of itself and
# its neighbours.
_STEP = """
CREATE OR REPLACE TABLE labels_next AS
SELECT l.node, least(l.label, coalesce(min(n.label), l.label)) AS label
FROM labels AS l
LEFT JOIN edges AS e ON e.a = l.node OR e.b = l.node
LEFT JOIN labels AS n ON n.node = CASE WHEN e.a = l.node THEN e.b ELSE e.a END
GROUP BY l.node, l.label;
"""
_CHANGED = ("SELECT count(*) FROM labels_next AS n JOIN labels AS l USING (node) "
            "WHERE n.label <> l.label")


def _path_graph(nodes: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE labels AS SELECT range AS node, range AS label FROM range($n)",
                {"n": nodes})
    con.execute("CREATE TABLE edges AS SELECT range AS a, range + 1 AS b FROM range($n - 1)",
                {"n": nodes})
    return con


def test_fixpoint_runs_until_nothing_changes() -> None:
    """The step repeats until the convergence query counts no change; the round that changed
    nothing counts, and its table is swapped in."""
    con = _path_graph(4)  # labels reach node 3 in 3 rounds; the 4th changes nothing
    rounds = sqlfiles.fixpoint(sqlfiles.engine_for(con), _file(_STEP), "labels", _CHANGED, 10)
    assert rounds == 4
    assert con.execute("SELECT DISTINCT label FROM labels").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                       "'labels_next'").fetchone() == (0,)


def test_fixpoint_stops_at_the_round_limit() -> None:
    """At the round limit the loop stops with that round's table in place, converged or not."""
    con = _path_graph(6)
    rounds = sqlfiles.fixpoint(sqlfiles.engine_for(con), _file(_STEP), "labels", _CHANGED, 2)
    assert rounds == 2
    assert con.execute("SELECT label FROM labels ORDER BY node").fetchall() == [
        (0,), (0,), (0,), (1,), (2,), (3,)]
    with pytest.raises(ValueError):
        sqlfiles.fixpoint(sqlfiles.engine_for(con), _file(_STEP), "labels", _CHANGED, 0)


def test_timed_sums_successful_uses_only() -> None:
    """Seconds add up per name; a use that fails adds nothing."""
    seconds: dict[str, float] = {"q": 1.0}
    with sqlfiles.timed(seconds, "q"):
        pass
    assert 1.0 <= seconds["q"] < 1.5
    with pytest.raises(RuntimeError), sqlfiles.timed(seconds, "r"):
        raise RuntimeError("boom")
    assert "r" not in seconds


def test_report_queries_bind_time_and_name_their_files(tmp_path: Path) -> None:
    """ReportQueries reads a report file once, binds only what it uses, sums its seconds per
    name, and names the file when a parameter is missing or the query fails."""
    from forensics.report.queries import ReportQueries

    (tmp_path / "pick.sql").write_text("-- rows up to $n; a comment\nSELECT range AS i "
                                       "FROM range($n) ORDER BY i;\n", encoding="utf-8")
    (tmp_path / "broken.sql").write_text("SELECT * FROM no_such_table", encoding="utf-8")
    q = ReportQueries(duckdb.connect(), tmp_path)
    assert q.sql("pick") == "-- rows up to $n; a comment\nSELECT range AS i FROM range($n) " \
                            "ORDER BY i"
    assert q.bound("pick", n=2, unused="x")[1] == {"n": 2}
    assert q.rows("pick", n=2, unused="x") == [{"i": 0}, {"i": 1}]
    q.rows("pick", n=1)
    assert set(q.seconds) == {"pick"}
    with pytest.raises(HeuristicError, match=r"uses parameter \$n, which the caller does not "
                                             r"supply \(it supplies: none\)") as caught:
        q.rows("pick")
    assert caught.value.file == str(tmp_path / "pick.sql")
    with pytest.raises(HeuristicError, match="report query failed") as failed:
        q.rows("broken")
    assert failed.value.file == str(tmp_path / "broken.sql")
    assert "broken" not in q.seconds
