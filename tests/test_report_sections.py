"""The dossier's sentences about a decision read what SQL decided (ClusterFinding.decision),
without testing a threshold of their own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from forensics.evidence import ClusterDecision, ClusterFinding
from forensics.linking import LinkingParams
from forensics.report.sections.judgments import not_flagged_because
from forensics.report.sections.wording import confidence_reason

MET = ClusterDecision(strong_score=True, two_families=True, joined_by="coordination",
                      member_on_own_evidence=True)


def cluster(decision: ClusterDecision = MET, **facts: object) -> ClusterFinding:
    """A flagged, high-confidence cluster of three owners, with `facts` changed."""
    when = datetime(2026, 7, 1, tzinfo=UTC)
    base = ClusterFinding(
        cluster_id="C-1", accounts=4, owners=3, requests=100, tokens=1000, first_seen=when,
        last_seen=when, score=0.9, confidence="high", likelihood="very likely", flagged=True,
        coordinated=True, families=("content", "timing"), attributed=False, links=(),
        signals=(), capabilities=(), attribution=(), benign_checks=(), decision=decision)
    return replace(base, **facts)


@pytest.mark.parametrize("decision,owners,expected", [
    (replace(MET, strong_score=False, two_families=False), 3,
     ["score 0.90 below 0.5", "2 families of evidence"]),
    (replace(MET, joined_by=None), 3, ["no coordination across owners"]),
    (replace(MET, two_families=False, joined_by=None, member_on_own_evidence=False), 1,
     ["2 families of evidence"]),
    (replace(MET, joined_by=None, member_on_own_evidence=False), 1,
     ["one owner, without two families in one account at a score of at least 0.75",
      "no member flagged on its own evidence"]),
    (replace(MET, member_on_own_evidence=False), 3, ["no member flagged on its own evidence"]),
], ids=["score-and-families", "uncoordinated", "one-owner-few-families",
        "one-owner-rule", "no-member-on-own-evidence"])
def test_a_cluster_of_interest_names_the_conditions_sql_found_failed(
        decision: ClusterDecision, owners: int, expected: list[str]) -> None:
    """An unflagged cluster's reasons are the conditions 80_decisions.sql found failed (the
    score shown here is above the threshold: only the decision's own column counts)."""
    c = cluster(decision, owners=owners, flagged=False, confidence="low")
    assert not_flagged_because(c, LinkingParams()) == expected


@pytest.mark.parametrize("confidence,joined_by,owners,start", [
    ("high", "one_owner", 1, "2 independent families of evidence agree in the accounts of "
                             "one owner."),
    ("high", "coordination", 3, "2 independent families of evidence agree, and the accounts "
                                "are coordinated across 3 owners."),
    ("moderate", "coordination", 3, "2 independent families of evidence and coordination "
                                    "across owners, but none of its accounts meets the "
                                    "account rule for high confidence"),
    ("moderate", "harvest_template", 3, "2 independent families of evidence; its flagged "
                                        "accounts of 3 owners open their conversations with "
                                        "the same harvest template"),
    ("moderate", "one_owner", 1, "2 independent families of evidence, but no coordination "
                                 "across owners (1 owner)."),
])
def test_the_confidence_reason_follows_what_joined_the_owners(
        confidence: str, joined_by: str, owners: int, start: str) -> None:
    """A flagged cluster's confidence is explained by what 80_decisions.sql found joins its
    owners, never by a score threshold the report compares itself."""
    c = cluster(replace(MET, joined_by=joined_by), confidence=confidence, owners=owners)
    assert confidence_reason(c).startswith(start)
    assert "below the high-confidence threshold" not in confidence_reason(c)
