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
    """Why a flagged cluster has its confidence level, in one sentence."""
    families = f.plural(len(c.families), "independent family", "independent families")
    if c.confidence == "high" and c.owners == 1:
        return f"{families} of evidence agree in the accounts of one owner."
    if c.confidence == "high":
        return (f"{families} of evidence agree, and the accounts are coordinated across "
                f"{f.plural(c.owners, 'owner')}.")
    if c.coordinated:
        return (f"{families} of evidence and coordination across owners, but the cluster "
                f"score is below the high-confidence threshold.")
    if c.attributed:
        return (f"{families} of evidence; its flagged accounts of "
                f"{f.plural(c.owners, 'owner')} open their conversations with the same "
                f"harvest template, but share no coordination link (card, indicator, "
                f"creation burst or synchronised sessions).")
    return (f"{families} of evidence, but no coordination across owners "
            f"({f.plural(c.owners, 'owner')}).")
