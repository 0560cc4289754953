"""Every heuristic against its data cases: rows that must fire it and rows that must not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from forensics.features import build_features
from forensics.heuristics import load_library, run_library
from forensics.ingest import ingest
from forensics.linking import LinkingParams, build_clusters

from .cases import load_cases, write_case

LIBRARY = {h.id: h for h in load_library()}
CASES = load_cases()
PARAMS = [pytest.param(hid, i, case, id=f"{hid}[{case.get('name', i)}]")
          for hid, cases in sorted(CASES.items()) for i, case in enumerate(cases)]


def run_case(hid: str, case_no: int, case: dict[str, Any], tmp_path: Path) -> list[str]:
    """Ingest the case's rows, build features, run one heuristic; return fired accounts."""
    data_dir = tmp_path / "data"
    write_case(case, case_no, data_dir)
    con = duckdb.connect()
    ingested = ingest(con, data_dir)
    build_features(con)
    h = LIBRARY[hid]
    params = {hid: h.resolved_params(case.get("params"))}
    if h.meta.scope == "cluster":
        # Cluster-scope heuristics read the clusters that linking builds from the case's rows.
        run_library(con, [], {}, ingested.has_column)
        build_clusters(con, LinkingParams())
    runs = run_library(con, [h], params, ingested.has_column, scope=h.meta.scope)
    assert runs[0].skipped is None, runs[0].skipped
    rows = con.execute("SELECT account_id, score, detail, evidence FROM signals "
                       "ORDER BY account_id").fetchall()
    for account, score, detail, evidence in rows:
        assert 0 <= score <= 1, (account, score)
        assert detail, f"{hid} fired {account} with no detail sentence"
        assert evidence, f"{hid} fired {account} with no evidence rows"
        assert len(set(evidence)) == len(evidence), f"{hid} named a request twice: {evidence}"
    return [r[0] for r in rows]


@pytest.mark.parametrize(("hid", "case_no", "case"), PARAMS)
def test_case(hid: str, case_no: int, case: dict[str, Any], tmp_path: Path) -> None:
    """The heuristic fires exactly the accounts the case names."""
    assert hid in LIBRARY, f"case file for unknown heuristic {hid}"
    assert sorted(run_case(hid, case_no, case, tmp_path)) == sorted(case["fires"])


@pytest.mark.parametrize("hid", sorted(LIBRARY))
def test_every_heuristic_has_both_kinds_of_case(hid: str) -> None:
    """Each heuristic has at least one case that must fire and one that must not."""
    cases = CASES.get(hid, [])
    assert any(c.get("fires") for c in cases), f"{hid}: no case that must fire"
    assert any(c.get("fires") == [] for c in cases), f"{hid}: no case that must not fire"
