"""Wording more than one section uses: the ICD-203 likelihood term as a sentence start, a
capability class in words, and why a flagged cluster has its confidence (the cluster's
Confidence paragraph and the key judgments both say it)."""

from __future__ import annotations

from forensics.evidence import ClusterFinding
from forensics.report import fmt as f
from forensics.report.text import neutralise


def it_is(term: str) -> str:
    """The ICD-203 term as the start of a sentence: 'It is likely', 'There is a roughly even
    chance'."""
    if term.endswith("chance"):
        return f"There is {'a ' if term.startswith('roughly') else ''}{term}"
    return f"It is {term}"


def capability(name: str) -> str:
    """A capability class as words ('reasoning_math' → 'reasoning math')."""
    return neutralise(name).replace("_", " ")


def confidence_reason(c: ClusterFinding) -> str:
    """Why a flagged cluster has its confidence level, in one sentence, from what decided it
    (80_decisions.sql): its level is its best member's, and `decision.joined_by` says what
    joins its owners."""
    families = f.plural(len(c.families), "independent family", "independent families")
    joined_by = c.decision.joined_by
    if c.confidence == "high" and joined_by == "one_owner":
        return f"{families} of evidence agree in the accounts of one owner."
    if c.confidence == "high":
        return (f"{families} of evidence agree, and the accounts are coordinated across "
                f"{f.plural(c.owners, 'owner')}.")
    if joined_by == "coordination":
        return (f"{families} of evidence and coordination across owners, but none of its "
                f"accounts meets the account rule for high confidence (Methodology, "
                f"Thresholds: Account high confidence).")
    if joined_by == "harvest_template":
        return (f"{families} of evidence; its flagged accounts of "
                f"{f.plural(c.owners, 'owner')} open their conversations with the same "
                f"harvest template, but share no coordination link (card, indicator, "
                f"creation burst or synchronised sessions).")
    return (f"{families} of evidence, but no coordination across owners "
            f"({f.plural(c.owners, 'owner')}).")
