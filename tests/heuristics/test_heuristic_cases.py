"""Every heuristic against its data cases (queries/cases/<id>.yaml): rows that must fire it
and rows that must not. `forensics heuristics test` runs the same cases (forensics/cases.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forensics import resources
from forensics.cases import load_cases, run_case
from forensics.heuristics import load_library

LIBRARY = {h.id: h for h in load_library()}
CASES = load_cases(resources.queries_part("cases"))
PARAMS = [pytest.param(hid, i, case, id=f"{hid}[{case.get('name', i)}]")
          for hid, cases in sorted(CASES.items()) for i, case in enumerate(cases)]


@pytest.mark.parametrize(("hid", "case_no", "case"), PARAMS)
def test_case(hid: str, case_no: int, case: dict[str, Any], tmp_path: Path) -> None:
    """The heuristic fires exactly the accounts the case names, each with a score in 0-1, a
    detail sentence and distinct evidence rows."""
    assert hid in LIBRARY, f"case file for unknown heuristic {hid}"
    result = run_case(LIBRARY[hid], case_no, case, tmp_path)
    assert not result.faults, result.line()
    assert sorted(result.fired) == sorted(case["fires"]), result.line()


@pytest.mark.parametrize("hid", sorted(LIBRARY))
def test_every_heuristic_has_both_kinds_of_case(hid: str) -> None:
    """Each heuristic has at least one case that must fire and one that must not."""
    cases = CASES.get(hid, [])
    assert any(c.get("fires") for c in cases), f"{hid}: no case that must fire"
    assert any(c.get("fires") == [] for c in cases), f"{hid}: no case that must not fire"
