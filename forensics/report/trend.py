"""The trend section: this period's flagged clusters against the previous period's findings
(`--baseline DIR`, the output folder of the earlier run).

Cluster ids are derived from member ids, so a cluster that gained or lost accounts has a new
id; clusters are therefore matched by shared member accounts, not by id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forensics.errors import InputError
from forensics.linking import LinkingResult
from forensics.report import fmt as f
from forensics.report.context import Trend, TrendRow
from forensics.report.public import Pseudonymiser


def _load(baseline: Path) -> dict[str, Any]:
    path = Path(baseline) / "findings.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("baseline has no findings.json (expected the --out folder of an "
                         "earlier run)", file=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"baseline findings cannot be read ({exc})", file=str(path)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("clusters"), list):
        raise InputError("baseline findings.json has no 'clusters' list", file=str(path))
    return doc


def compare(baseline: Path, linked: LinkingResult, ids: Pseudonymiser) -> Trend:
    """Match each flagged cluster of this run to the baseline's flagged clusters it shares
    accounts with; list baseline clusters no longer seen."""
    doc = _load(baseline)

    def show(cluster_id: str) -> str:
        return ids("cluster", cluster_id) or cluster_id

    before = [c for c in doc["clusters"] if isinstance(c, dict) and c.get("flagged")]
    before_members = {str(c.get("cluster_id")): set(map(str, c.get("members") or []))
                      for c in before}
    matched: set[str] = set()
    rows: list[TrendRow] = []
    for c in linked.flagged_clusters():
        members = set(c.member_ids)
        overlaps = sorted(((len(members & m), cid) for cid, m in before_members.items()
                           if members & m), reverse=True)
        now = f"{f.plural(c.accounts, 'account')}, {f.n(c.requests)} requests, {c.confidence}"
        if overlaps:
            shared, cid = overlaps[0]
            matched.update(x for _, x in overlaps)
            rows.append(TrendRow(show(c.cluster_id), "continuing",
                                 now, f"{show(cid)}: {shared} of its accounts still active here"))
        else:
            rows.append(TrendRow(show(c.cluster_id), "new", now, "—"))
    for old in before:
        cid = str(old.get("cluster_id"))
        if cid not in matched:
            rows.append(TrendRow("—", "no longer seen", "—",
                                 f"{show(cid)}: "
                                 f"{f.plural(int(old.get('accounts') or 0), 'account')}, "
                                 f"{f.n(int(old.get('requests') or 0))} requests"))
    new = sum(r.status == "new" for r in rows)
    gone = sum(r.status == "no longer seen" for r in rows)
    going = sum(r.status == "continuing" for r in rows)
    summary = (f"Against the baseline's {f.plural(len(before), 'flagged cluster')}: "
               f"{going} continuing, {new} new, {gone} no longer seen.")
    label = ids.scrub(str(baseline)) or ""
    return Trend(label, summary, tuple(rows))
