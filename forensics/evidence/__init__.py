"""Evidence: the vocabulary findings are told in, and the facts read about each cluster.

- `vocabulary`: link kinds as data, test-of-chance words, the ICD-203 likelihood scale;
- `clusters`: each reported cluster's links, signals, attribution, benign checks and
  structure, as typed findings with their sentences.
"""

from forensics.evidence.clusters import (
    Attribution,
    BenignCheck,
    ClusterDecision,
    ClusterFinding,
    LinkSummary,
    SignalSummary,
    read_clusters,
)
from forensics.evidence.vocabulary import (
    FDR,
    KIND_LABELS,
    LIKELIHOOD,
    LINK_KINDS,
    LinkKind,
    chance_text,
    create_link_kinds,
    likelihood,
    read_link_kinds,
)

__all__ = [
    "FDR", "KIND_LABELS", "LIKELIHOOD", "LINK_KINDS", "Attribution", "BenignCheck",
    "ClusterDecision", "ClusterFinding", "LinkKind", "LinkSummary", "SignalSummary", "chance_text",
    "create_link_kinds", "likelihood", "read_clusters", "read_link_kinds",
]
