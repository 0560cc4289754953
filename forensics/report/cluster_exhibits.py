"""The exhibits the dossier cites, written before any section is built (the sections only cite
their ids): for each described cluster its accounts, fired heuristics, links and evidence
requests; then every cluster flagged or of interest; then, if any, the flagged accounts that
no described cluster's exhibit lists. Numbered EX-001… in that order (exhibits.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from forensics.evidence import ClusterFinding
from forensics.heuristics import EVIDENCE_LIMIT
from forensics.report.context import ClusterExhibits, Exhibit
from forensics.report.evidence_requests import (
    EXHIBIT_REQUESTS,
    EXHIBIT_TEXT_CHARS,
    EvidenceRequests,
)
from forensics.report.exhibits import ExhibitWriter
from forensics.report.inputs import ReportInputs

REQUEST_COLUMNS = [
    "request_id", "ts", "account_id", "api_key_id", "model", "ip", "user_agent_chars",
    "user_agent", "input_tokens", "output_tokens", "temperature", "max_tokens", "stop_reason",
    "system_prompt_chars", "system_prompt", "prompt_chars", "prompt", "response_chars",
    "response"]

Rows = tuple[list[str], list[dict[str, Any]]]  # columns, rows


@dataclass(frozen=True)
class ExhibitIds:
    """The ids of the exhibits the dossier cites."""

    by_cluster: dict[str, ClusterExhibits]  # by (raw) cluster id, for the described clusters
    clusters: str  # every cluster flagged or of interest
    flagged_accounts: str | None  # flagged accounts outside the described clusters, if any


def write_exhibits(inputs: ReportInputs, writer: ExhibitWriter,
                   evidence: EvidenceRequests) -> ExhibitIds:
    """Write every exhibit of the dossier, in the order they are numbered."""
    by_cluster = {c.cluster_id: _cluster_exhibits(inputs, writer, c, evidence)
                  for c in inputs.reported}
    return ExhibitIds(by_cluster, _clusters_exhibit(inputs, writer).id,
                      _flagged_exhibit(inputs, writer))


# -- one cluster ------------------------------------------------------------------------------

def _cluster_exhibits(inputs: ReportInputs, writer: ExhibitWriter, c: ClusterFinding,
                      evidence: EvidenceRequests) -> ClusterExhibits:
    shown = inputs.cid(c.cluster_id)
    accounts = _table(
        inputs, writer, c, "exhibit_accounts", "accounts", f"Accounts of cluster {shown}",
        "Every account of the cluster: sign-up attributes, traffic, score, decision "
        "and the heuristics that fired.", lambda: _account_rows(inputs, c))
    signals = _table(
        inputs, writer, c, "exhibit_signals", "signals", f"Fired heuristics in cluster {shown}",
        "Every (heuristic, account) row that fired, with its score, measured value, "
        f"detail and up to {EVIDENCE_LIMIT} evidence request ids.",
        lambda: _signal_rows(inputs, c))
    links = _table(
        inputs, writer, c, "exhibit_links", "links",
        f"Links between accounts of cluster {shown}",
        "Every shared key that links accounts of the cluster, one row per key and "
        "account (kind, shared key, link weight, account, accounts sharing the key, "
        "and the smallest p-value and Benjamini–Hochberg q-value among the account's "
        "pairs linked by the key, under the kind's null model; empty for an "
        "analyst's indicator); all accounts of different owners that share a key "
        "are linked pairwise.", lambda: _link_rows(inputs, c))
    masked = " Log text is masked in the public profile." if inputs.ids.public else ""
    requests = writer.add(
        f"{shown}-requests", f"Evidence requests of cluster {shown}",
        f"The first {EXHIBIT_REQUESTS} evidence requests (by id) named by the fired "
        f"heuristics, each text field cut at {EXHIBIT_TEXT_CHARS:,} characters with "
        f"its original length.{masked}",
        REQUEST_COLUMNS, _request_rows(inputs, c, evidence), shown)
    return ClusterExhibits(accounts=accounts.id, signals=signals.id, links=links.id,
                           requests=requests.id)


def _table(inputs: ReportInputs, writer: ExhibitWriter, c: ClusterFinding, query: str,
           slug: str, title: str, description: str, pseudonymised: Callable[[], Rows]
           ) -> Exhibit:
    """Internal profile: straight from the report query (the exhibits of a large
    campaign never pass through Python); public: its rows with pseudonyms."""
    shown = inputs.cid(c.cluster_id)
    if not inputs.ids.public:
        sql, params = inputs.q.bound(query, cluster=c.cluster_id, limit=None)
        with inputs.q.running(query):
            return writer.add_query(f"{shown}-{slug}", title, description, sql, params, shown)
    columns, rows = pseudonymised()
    return writer.add(f"{shown}-{slug}", title, description, columns, rows, shown)


def _account_rows(inputs: ReportInputs, c: ClusterFinding) -> Rows:
    ids = inputs.ids
    accounts = inputs.q.rows("exhibit_accounts", cluster=c.cluster_id, limit=None)
    return list(accounts[0].keys()) if accounts else ["account_id"], [{
        **r, "cluster_id": inputs.cid(c.cluster_id),
        "account_id": ids("account", r["account_id"]),
        "org_id": ids("org", r["org_id"]),
        "email_domain": ids("email_domain", r["email_domain"]),
        "payment_fingerprint": ids("payment", r["payment_fingerprint"]),
        "signup_ip": ids("ip", r["signup_ip"])} for r in accounts]


def _signal_rows(inputs: ReportInputs, c: ClusterFinding) -> Rows:
    ids = inputs.ids
    return ["heuristic_id", "family", "level", "weight", "benign", "account_id",
            "score", "metric", "detail", "evidence"], [{
        **r, "account_id": ids("account", r["account_id"]),
        "detail": ids.scrub(r["detail"]),
        "evidence": ";".join(ids("request", x) or ""
                             for x in (r["evidence"] or "").split(";") if x)}
        for r in inputs.q.rows("exhibit_signals", cluster=c.cluster_id)]


def _link_rows(inputs: ReportInputs, c: ClusterFinding) -> Rows:
    ids = inputs.ids
    return ["kind", "key", "weight", "account_id", "accounts_sharing", "p_value",
            "q_value"], [{
        **r, "account_id": ids("account", r["account_id"]),
        "key": ids.link_key(r["kind"], r["key"])}
        for r in inputs.q.rows("exhibit_links", cluster=c.cluster_id)]


def _request_rows(inputs: ReportInputs, c: ClusterFinding,
                  evidence: EvidenceRequests) -> list[dict[str, Any]]:
    ids = inputs.ids
    out = []
    for rid in evidence.exhibited[c.cluster_id]:
        r = evidence.rows.get(rid)
        if r is None:
            continue
        out.append({
            **r, "request_id": ids("request", r["request_id"]),
            "account_id": ids("account", r["account_id"]),
            "api_key_id": ids("api_key", r["api_key_id"]), "ip": ids("ip", r["ip"]),
            "user_agent": (ids("user_agent", r["user_agent"]) if ids.public
                           else _cut(r["user_agent"])),
            "user_agent_chars": len(r["user_agent"]) if r["user_agent"] else None,
            "system_prompt": _log_text(inputs, r["system_prompt"]),
            "prompt": _log_text(inputs, r["prompt"]),
            "response": _log_text(inputs, r["response"])})
    return out


def _log_text(inputs: ReportInputs, value: str | None) -> str | None:
    """Log text in an exhibit: verbatim (cut) internally, masked in the public profile."""
    if value is None:
        return None
    return "" if inputs.ids.public else _cut(value)


def _cut(value: str | None) -> str | None:
    """Log text for an exhibit cell: at most EXHIBIT_TEXT_CHARS characters (the exhibit has a
    column with the original length)."""
    return value[:EXHIBIT_TEXT_CHARS] if value is not None else None


# -- every cluster, and the flagged accounts outside the described ones -----------------------

def _clusters_exhibit(inputs: ReportInputs, writer: ExhibitWriter) -> Exhibit:
    rows = [{"cluster_id": inputs.cid(c.cluster_id), "flagged": c.flagged,
             "confidence": c.confidence, "score": c.score, "likelihood": c.likelihood,
             "accounts": c.accounts, "owners": c.owners, "requests": c.requests,
             "tokens": c.tokens,
             "families": list(c.families), "first_seen": c.first_seen,
             "last_seen": c.last_seen, "coordinated": c.coordinated,
             "attributed": c.attributed,
             "members": [inputs.ids("account", m) or "" for m in c.member_ids]}
            for c in inputs.linked.clusters]
    return writer.add(
        "clusters", "All clusters flagged or of interest",
        "Every cluster the linking stage reported (flagged first, then of interest), with "
        "its score, decision and member accounts.", list(rows[0].keys()) if rows else
        ["cluster_id"], rows)


def _flagged_exhibit(inputs: ReportInputs, writer: ExhibitWriter) -> str | None:
    """The flagged accounts that no described cluster's account exhibit lists, if any:
    with those exhibits, the dossier names every account findings.parquet flags."""
    if not inputs.flagged_accounts["outside_described"]:
        return None
    query, slug = "exhibit_flagged_accounts", "flagged-accounts"
    title = "Flagged accounts outside the clusters described"
    description = (
        "Every flagged account that no described cluster's account exhibit lists: members "
        "of flagged clusters beyond the dossier's cap, and accounts flagged on their own "
        "evidence in clusters that were not flagged. With its cluster, whether that "
        "cluster was flagged, the account's confidence, score, families and the "
        "heuristics that fired.")
    reported = [c.cluster_id for c in inputs.reported]
    if not inputs.ids.public:
        sql, params = inputs.q.bound(query, clusters=reported)
        with inputs.q.running(query):
            return writer.add_query(slug, title, description, sql, params).id
    rows = [{**r, "account_id": inputs.ids("account", r["account_id"]),
             "cluster_id": inputs.cid(r["cluster_id"])}
            for r in inputs.q.rows(query, clusters=reported)]
    return writer.add(slug, title, description, list(rows[0].keys()), rows).id
