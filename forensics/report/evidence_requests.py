"""The evidence requests of the described clusters, read once: the exhibits list them and the
cluster sections quote a few of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forensics.evidence import ClusterFinding
from forensics.report.inputs import ReportInputs

# The order the families of evidence are shown in, and samples are chosen in: what a request
# asks first, who sends it last.
FAMILY_ORDER = ("content", "structure", "timing", "infrastructure")
SAMPLES_PER_CLUSTER = 3
EXHIBIT_REQUESTS = 100  # request samples per cluster written to its exhibit
EXHIBIT_TEXT_CHARS = 2000  # log text per field in the request exhibit


@dataclass(frozen=True)
class EvidenceRequests:
    """The requests the heuristics named as evidence, for the described clusters."""

    # Per cluster, the first EXHIBIT_REQUESTS evidence request ids (by id): its exhibit's rows.
    exhibited: dict[str, list[str]]
    rows: dict[str, dict[str, Any]]  # by request id: the request, its text cut for display


def sample_ids(c: ClusterFinding) -> list[tuple[str, str]]:
    """Up to SAMPLES_PER_CLUSTER (request id, heuristic) pairs, content evidence first."""
    chosen: list[tuple[str, str]] = []
    seen: set[str] = set()
    ordered = sorted(c.signals, key=lambda s: (
        FAMILY_ORDER.index(s.family) if s.family in FAMILY_ORDER else 9, -s.accounts,
        s.heuristic_id))
    for s in ordered:
        for rid in s.evidence:
            if rid not in seen:
                chosen.append((rid, s.heuristic_id))
                seen.add(rid)
                break
        if len(chosen) >= SAMPLES_PER_CLUSTER:
            break
    return chosen


def read_evidence_requests(inputs: ReportInputs) -> EvidenceRequests:
    """The evidence requests of every described cluster, read by file and row."""
    wanted: set[str] = set()
    exhibited: dict[str, list[str]] = {c.cluster_id: [] for c in inputs.reported}
    for r in inputs.q.rows("exhibit_evidence", clusters=list(exhibited),
                           limit=EXHIBIT_REQUESTS):
        exhibited[r["cluster_id"]].append(r["request_id"])
        wanted.add(r["request_id"])
    for c in inputs.reported:
        wanted.update(rid for rid, _ in sample_ids(c))
    if not wanted:
        return EvidenceRequests(exhibited, {})
    # Two steps, because a join on request_id would read every request's text: locate
    # the rows by id, then read just those rows of each file.
    rows_by_file: dict[str, list[int]] = {}
    for r in inputs.q.rows("evidence_locate", request_ids=sorted(wanted)):
        rows_by_file.setdefault(r["file"], []).append(r["row"])
    found: dict[str, dict[str, Any]] = {}
    for file, numbers in sorted(rows_by_file.items()):
        for r in inputs.q.rows("evidence_requests", file=file, rows=numbers,
                               max_chars=max(EXHIBIT_TEXT_CHARS, inputs.options.max_prompt_chars)):
            found[r["request_id"]] = r
    return EvidenceRequests(exhibited, {rid: found[rid] for rid in sorted(found)})
