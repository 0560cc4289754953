"""The dossier's sentences about a decision read what SQL decided (ClusterFinding.decision),
without testing a threshold of their own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from forensics import resources
from forensics.evidence import ClusterDecision, ClusterFinding
from forensics.linking import LinkingParams
from forensics.report.prose import read_prose
from forensics.report.sections.glossary import confidence_scale
from forensics.report.sections.judgments import not_flagged_because
from forensics.report.sections.methodology import parameters
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


def _text_inputs(params: LinkingParams) -> SimpleNamespace:
    """What the glossary and methodology sections read: the bundled texts and `params`."""
    return SimpleNamespace(prose=read_prose(resources.templates_dir()),
                           linked=SimpleNamespace(params=params))


def test_the_confidence_scale_states_the_account_rule_with_the_runs_thresholds() -> None:
    """The High row is 62_account_decisions.sql's rule (own evidence, score at or above the
    high threshold, a hard link to another owner's account flagged on its own evidence), with
    this run's thresholds, and a cluster's level is its best member's (80_decisions.sql)."""
    params = LinkingParams(flag_threshold=0.55, high_threshold=0.8)
    high = confidence_scale(_text_inputs(params))[0]  # type: ignore[arg-type]
    assert high.term == "High"
    for fragment in ("flagged on its own evidence (a score at or above the flag threshold, "
                     "0.55, with at least two independent facts)",
                     "a score at or above the high threshold, 0.8, and a hard link",
                     "to another owner's account that is itself flagged on its own evidence",
                     "a flagged cluster has the confidence of its best member"):
        assert fragment in high.meaning
    assert "coordinated across owners" not in high.meaning


def test_the_high_threshold_is_described_by_the_rules_that_read_it() -> None:
    """The parameter table says what high_threshold decides in SQL: an account's high
    confidence, and the flag of a single owner's cluster."""
    notes = parameters(_text_inputs(LinkingParams()))  # type: ignore[arg-type]
    [meaning] = [n.text for n in notes if n.label == "high_threshold"]
    assert meaning.startswith("0.75 — score at or above which an account flagged on its own "
                              "evidence and hard-linked to another owner's account")
    assert "a single owner's cluster, one of whose accounts shows two families" in meaning


def test_the_moderate_level_and_the_flag_threshold_cover_accounts_as_sql_does() -> None:
    """Moderate is every flag short of the high rule, for an account and for a cluster (its
    best member's), and flag_threshold is an account's threshold as well as a cluster's."""
    moderate = confidence_scale(_text_inputs(LinkingParams()))[1]  # type: ignore[arg-type]
    assert moderate.term == "Moderate"
    assert moderate.meaning.startswith("Flagged without meeting the rule for high confidence: "
                                       "an account flagged on its own evidence")
    assert "a flagged cluster (Methodology, Thresholds: Cluster flagged) whose best member " \
           "has moderate confidence" in moderate.meaning
    notes = parameters(_text_inputs(LinkingParams()))  # type: ignore[arg-type]
    [meaning] = [n.text for n in notes if n.label == "flag_threshold"]
    assert meaning.startswith("0.5 — score at or above which an account is flagged")
