"""findings.parquet and findings.json: the machine-readable findings of a run."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb

from forensics.evidence import ClusterFinding
from forensics.linking import LinkingResult
from forensics.outputs import dump_json


def cluster_record(c: ClusterFinding) -> dict[str, Any]:
    """A cluster as plain JSON-ready data (member ids included)."""
    record = asdict(c)
    record["actor"] = c.actor
    record["link_summary"] = c.link_sentence()
    record["first_seen"] = c.first_seen.isoformat()
    record["last_seen"] = c.last_seen.isoformat()
    record["members"] = list(record.pop("member_ids"))
    record["top_capabilities"] = [name for name, _ in c.capabilities if name != "other"][:3]
    return record


def write_findings(con: duckdb.DuckDBPyConnection, result: LinkingResult, out_dir: Path,
                   run_info: dict[str, Any]) -> list[str]:
    """Write both files; return their names."""
    # The order is stated each time: a table keeps none (preserve_insertion_order is off), and
    # on a large log two runs wrote findings.parquet's rows in different orders.
    order = "ORDER BY flagged DESC, score DESC, account_id"
    # The path is a bound parameter: an output folder's name is never SQL text.
    con.execute(f"COPY (SELECT * FROM account_findings {order}) TO $path "
                f"(FORMAT parquet, COMPRESSION zstd)", {"path": str(out_dir / "findings.parquet")})
    cur = con.execute("SELECT * FROM account_findings WHERE flagged OR confidence <> 'none' "
                      f"{order}")
    names = [d[0] for d in cur.description]
    accounts = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    for a in accounts:
        for key in ("first_seen", "last_seen"):
            a[key] = a[key].isoformat() if a[key] else None
    doc = {
        "accounts": accounts,
        "clusters": [cluster_record(c) for c in result.clusters],
        "run": {**run_info,
                "accounts_total": result.accounts,
                "accounts_flagged": result.flagged_accounts,
                "clusters_flagged": len(result.flagged_clusters()),
                "accounts_listed": "flagged or of interest; every account is in "
                                   "findings.parquet",
                "scoring_params": asdict(result.params)},
    }
    (out_dir / "findings.json").write_bytes(dump_json(doc))
    return ["findings.parquet", "findings.json"]
