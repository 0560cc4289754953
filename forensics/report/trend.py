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

# What compare() reads of each baseline cluster, and the JSON type each must have. Keys may be
# absent (older outputs); a present key of another type means the file is not a run's output.
_CLUSTER_KEYS: dict[str, tuple[type, str]] = {
    "cluster_id": (str, "a string"),
    "flagged": (bool, "true or false"),
    "members": (list, "a list of account ids"),
    "accounts": (int, "a whole number"),
    "requests": (int, "a whole number"),
}
_MAX_LISTED = 5


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value),
                                                                       type(value).__name__)


def _cluster_problems(clusters: list[Any]) -> list[str]:
    """Every entry of `clusters` that compare() could not read, as 'clusters[i].key: …'."""
    problems = []
    for i, c in enumerate(clusters):
        if not isinstance(c, dict):
            problems.append(f"clusters[{i}]: expected an object, found {_type_name(c)} "
                            f"{json.dumps(c)[:40]}")
            continue
        for key, (kind, words) in _CLUSTER_KEYS.items():
            value = c.get(key)
            # bool is an int in Python, but a count of true is not a count.
            wrong = value is not None and (not isinstance(value, kind) or (
                kind is int and isinstance(value, bool)))
            if key == "members" and not wrong and value is not None:
                wrong = not all(isinstance(m, str | int) and not isinstance(m, bool)
                                for m in value)
            elif kind is int and not wrong and value is not None and value < 0:
                wrong = True
            if wrong:
                problems.append(f"clusters[{i}].{key}: expected {words}, found "
                                f"{json.dumps(value)[:40]}")
    return problems


def load_baseline(baseline: Path) -> dict[str, Any]:
    """The baseline's findings.json, checked for every key compare() reads; raise InputError
    naming the file and the key when it is not the output of a run."""
    baseline = Path(baseline)
    path = baseline / "findings.json"
    if baseline.exists() and not baseline.is_dir():
        raise InputError("--baseline is not a folder (expected the --out folder of an earlier "
                         "run)", file=str(baseline))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("baseline has no findings.json (expected the --out folder of an "
                         "earlier run)", file=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"baseline findings cannot be read ({exc})", file=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError(f"baseline findings.json is {_type_name(doc)} (expected an object "
                         f"with a 'clusters' list)", file=str(path))
    if not isinstance(doc.get("clusters"), list):
        found = "has no 'clusters' key" if "clusters" not in doc else \
            f"has {_type_name(doc['clusters'])} as 'clusters'"
        raise InputError(f"baseline findings.json {found} (expected a list of clusters)",
                         file=str(path))
    problems = _cluster_problems(doc["clusters"])
    if problems:
        shown = problems[:_MAX_LISTED]
        more = f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise InputError(f"baseline findings.json is not a run's findings: {'; '.join(shown)}"
                         f"{more}", file=str(path))
    return doc


def compare(baseline: Path, linked: LinkingResult, ids: Pseudonymiser) -> Trend:
    """Match each flagged cluster of this run to the baseline's flagged clusters it shares
    accounts with; list baseline clusters no longer seen."""
    doc = load_baseline(baseline)

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
    label = "BASELINE_DIR" if ids.public else ids.scrub(str(baseline)) or ""
    return Trend(label, summary, tuple(rows))
