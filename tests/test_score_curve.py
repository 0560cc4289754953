"""The score curve every fired heuristic uses (queries/features/05_functions.sql): its values at,
below and past the knee, its clamp at 1, and that it computes exactly what the hand-written
curves it replaced computed."""

from __future__ import annotations

import random
import re
from typing import Any

import duckdb
import pytest

from forensics import resources
from forensics.heuristics import load_library
from forensics.sqlfiles import sql_code

# The heuristics whose score is not the fired curve: an analyst indicator starts at the
# indicator's own strength, and an established organisation is a benign indicator that
# always scores 1.
NOT_ON_THE_CURVE = {"analyst_indicator_match", "established_organisation"}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """A database with the functions defined, as the features stage defines them."""
    connection = duckdb.connect()
    connection.execute((resources.queries_part("features") / "05_functions.sql")
                       .read_text(encoding="utf-8"))
    return connection


def value(con: duckdb.DuckDBPyConnection, expression: str) -> Any:
    row = con.execute(f"SELECT {expression}").fetchone()
    assert row is not None
    return row[0]


def test_score_is_one_half_at_the_knee(con: duckdb.DuckDBPyConnection) -> None:
    """At its threshold a share or a count adds nothing: the score is 0.5."""
    assert value(con, "fired_score(share_term(0.4, 0.4, 0.5), 0)") == 0.5
    assert value(con, "fired_score(ratio_term(5, 5, 0.5), 0)") == 0.5
    assert value(con, "fired_score(share_term(0.4, 0.4, 0.25), ratio_term(3, 3, 0.25))") == 0.5


def test_score_rises_past_the_knee(con: duckdb.DuckDBPyConnection) -> None:
    """A share adds its weight at 1 and half of it halfway; a count adds half its weight at
    twice its minimum and approaches the whole weight as it grows."""
    assert value(con, "share_term(0.7, 0.4, 0.5)") == pytest.approx(0.25)
    assert value(con, "fired_score(share_term(1.0, 0.4, 0.5), 0)") == 1.0
    assert value(con, "fired_score(share_term(0.7, 0.4, 0.5), 0)") == pytest.approx(0.75)
    assert value(con, "ratio_term(10, 5, 0.5)") == 0.25
    assert 0.499 < value(con, "ratio_term(5000, 5, 0.5)") < 0.5
    # With a ceiling: the share of it left unused (a ramp of 6 h of an allowed 24 h).
    assert value(con, "ratio_term(24, 6, 0.25)") == pytest.approx(0.1875)


def test_score_falls_below_one_half_under_the_knee(con: duckdb.DuckDBPyConnection) -> None:
    """Under its threshold a term is negative and the curve falls under 0.5: nothing clamps it
    there (a heuristic fires only at or past its threshold; the run clamps scores to 0–1)."""
    assert value(con, "share_term(0.2, 0.4, 0.5)") < 0
    assert value(con, "fired_score(share_term(0.2, 0.4, 0.5), 0)") == pytest.approx(1 / 3)
    assert value(con, "fired_score(ratio_term(4, 5, 0.5), 0)") == pytest.approx(0.375)


def test_score_is_clamped_at_one(con: duckdb.DuckDBPyConnection) -> None:
    """Terms that add up past 0.5 give 1, never more."""
    # (Terms of literals alone are DECIMAL in DuckDB, as in a heuristic's bonus for a count.)
    assert float(value(con, "fired_score(0.5, 0.3)")) == 1.0
    assert value(con, "fired_score(share_term(1.0, 0.4, 0.5), 0.1 * (4 - 1))") == 1.0
    assert float(value(con, "fired_score(0.3, 0.1)")) == 0.9


def test_curve_computes_what_the_hand_written_curves_did(con: duckdb.DuckDBPyConnection
                                                          ) -> None:
    """Bit for bit, on random shares, counts and thresholds, the macros give what the
    heuristics computed with the curve written out (the forms they replaced, each in its own
    order of operations); computing a share term's ratio before its weight would not."""
    rng = random.Random(22)
    rows = []
    for _ in range(20000):
        lo = rng.choice([0.05, 0.1, 0.15, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, rng.random()])
        x = lo + (1 - lo) * rng.random()
        n = rng.randint(2, 5000)
        rows.append((x, lo, n, rng.randint(1, n), rng.random()))
    con.execute("CREATE OR REPLACE TEMP TABLE v (x DOUBLE, lo DOUBLE, n BIGINT, k BIGINT, "
                "y DOUBLE)")
    con.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?)", rows)
    pairs = [
        ("least(1.0, (x - lo) / (1 - lo) * 0.5 + 0.5)",
         "fired_score(share_term(x, lo, 0.5), 0)"),
        ("least(1.0, 0.5 + (x - lo) / (1 - lo) * 0.5)",
         "fired_score(share_term(x, lo, 0.5), 0)"),
        ("least(1.0, (x - lo) / (1 - lo) * 0.5 + 0.5 + 0.05 * log2(n / k))",
         "fired_score(share_term(x, lo, 0.5), 0.05 * log2(n / k))"),
        ("least(1.0, 0.5 + 0.5 * greatest(0.0, (y - lo) / (1 - lo)) + 0.1 * (k - 1))",
         "fired_score(greatest(0.0, share_term(y, lo, 0.5)), 0.1 * (k - 1))"),
        ("least(1.0, 0.5 + 0.3 * (x - lo) / (1 - lo) + 0.2 * least(1.0, y / lo))",
         "fired_score(share_term(x, lo, 0.3), 0.2 * least(1.0, y / lo))"),
        ("least(1.0, 0.5 + 0.25 * (x - lo) / (1 - lo) + 0.25 * (y - lo) / (1 - lo))",
         "fired_score(share_term(x, lo, 0.25), share_term(y, lo, 0.25))"),
        ("least(1.0, 0.5 + 0.3 * (1 - k / n) + 0.2 * (y - lo) / (1 - lo))",
         "fired_score(ratio_term(n, k, 0.3), share_term(y, lo, 0.2))"),
        ("least(1.0, 0.5 + 0.5 * (1 - k / n) * (k / n))",
         "fired_score(ratio_term(n, k, 0.5) * (k / n), 0)"),
        ("least(1.0, 0.5 + 0.25 * (1 - y / x) + 0.25 * least(1.0, (x - lo) / (1 - lo)))",
         "fired_score(ratio_term(x, y, 0.25), 0.25 * least(1.0, share_term(x, lo, 1)))"),
        ("least(1.0, 0.5 + 0.5 * (1 - k / n) + 0.05 * (n - k))",
         "fired_score(ratio_term(n, k, 0.5), 0.05 * (n - k))"),
    ]
    for written, macro in pairs:
        differ = value(con, f"count(*) FILTER (WHERE ({written}) IS DISTINCT FROM ({macro})) "
                            f"FROM v")
        assert differ == 0, (written, macro)
    reordered = value(con, "count(*) FILTER (WHERE 0.3 * (x - lo) / (1 - lo) "
                           "<> 0.3 * ((x - lo) / (1 - lo))) FROM v")
    assert reordered > 0


def test_every_fired_curve_is_the_macro() -> None:
    """Every heuristic but the two that are not on the curve scores with fired_score, and
    none writes the curve's 0.5 out by hand."""
    written_out = re.compile(r"\b0\.5\s*\+|\+\s*0\.5\b")
    on_curve = set()
    for h in load_library():
        code = sql_code(h.sql)
        assert not written_out.search(code), f"{h.id} writes the score curve out by hand"
        if re.search(r"\bfired_score\s*\(", code):
            on_curve.add(h.id)
    assert {h.id for h in load_library()} - on_curve == NOT_ON_THE_CURVE
