"""findings.parquet, findings.json and signals.parquet: the machine-readable findings of a run.

In the public profile they hold the same rows with every identifier replaced by the keyed
pseudonym the dossier shows (and tool-written text scrubbed the same way), so that the
public folder can be published whole and its ids agree with the dossier's.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from forensics.evidence import ClusterFinding
from forensics.linking import LinkingResult
from forensics.outputs import dump_json
from forensics.report.public import Pseudonymiser

# The identifier columns of each output and the pseudonym kind of their values; every other
# text column written by the tool (a signal's detail line) is scrubbed.
ACCOUNT_ID_COLUMNS = {"account_id": "account", "cluster_id": "cluster", "org_id": "org"}
SIGNAL_ID_COLUMNS = {"account_id": "account", "evidence": "request"}
SIGNAL_TEXT_COLUMNS = ("detail",)
_CLUSTER_ID_KEYS = {"cluster_id": "cluster", "members": "account", "evidence": "request"}


def cluster_record(c: ClusterFinding, ids: Pseudonymiser | None = None) -> dict[str, Any]:
    """A cluster as plain JSON-ready data (member ids included), pseudonymised like the
    dossier when `ids` is the public profile's."""
    record = asdict(c)
    record["actor"] = c.actor
    shown = ids.link_key if ids is not None and ids.public else None
    record["link_summary"] = "; ".join(link.sentence(shown) for link in c.links) or \
        "no cross-owner links"
    record["first_seen"] = c.first_seen.isoformat()
    record["last_seen"] = c.last_seen.isoformat()
    record["members"] = list(record.pop("member_ids"))
    # The flag's four conditions are what the dossier explains a decision with; findings.json
    # keeps the format its readers know (flagged, confidence and the facts behind them).
    del record["decision"]
    record["top_capabilities"] = [name for name, _ in c.capabilities if name != "other"][:3]
    if ids is not None and ids.public:
        # A link's examples are pseudonymised by the kind of key they are, as in the dossier.
        examples = [[ids.link_key(link.kind, e) for e in link.examples] for link in c.links]
        record = ids.json(record, {**ACCOUNT_ID_COLUMNS, **_CLUSTER_ID_KEYS})
        for link, link_examples in zip(record["links"], examples, strict=True):
            link["examples"] = link_examples
    return record


def _copy(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> None:
    # The path is a bound parameter: an output folder's name is never SQL text.
    con.execute(f"COPY ({select}) TO $path (FORMAT parquet, COMPRESSION zstd)",
                {"path": str(path)})


def _pseudonymised_rows(con: duckdb.DuckDBPyConnection, table: str, ids: Pseudonymiser,
                        id_columns: dict[str, str], text_columns: tuple[str, ...] = ()
                        ) -> pa.Table:
    """`table` as an Arrow table with its identifier columns pseudonymised (lists element by
    element) and its text columns scrubbed; types and every other column as they are."""
    rows: pa.Table = con.sql(f"SELECT * FROM {table}").to_arrow_table()
    for name in [*id_columns, *text_columns]:
        if name not in rows.column_names:
            continue
        i = rows.column_names.index(name)
        kind = id_columns.get(name)
        values = rows.column(i).to_pylist()
        if kind:
            shown = [[ids(kind, v) for v in x] if isinstance(x, list) else ids(kind, x)
                     for x in values]
        else:
            shown = [ids.scrub(x) for x in values]
        rows = rows.set_column(i, rows.field(i), pa.array(shown, type=rows.field(i).type))
    return rows


def write_signals(con: duckdb.DuckDBPyConnection, out_dir: Path,
                  ids: Pseudonymiser | None = None) -> str:
    """signals.parquet: every fired (heuristic, account) row, in a fixed order."""
    name = "signals.parquet"
    order = "ORDER BY heuristic_id, account_id"
    if ids is None or not ids.public:
        _copy(con, f"SELECT * FROM signals {order}", out_dir / name)
        return name
    shown = _pseudonymised_rows(con, "signals", ids, SIGNAL_ID_COLUMNS, SIGNAL_TEXT_COLUMNS)
    con.register("public_signals", shown)
    try:
        _copy(con, f"SELECT * FROM public_signals {order}", out_dir / name)
    finally:
        con.unregister("public_signals")
    return name


def write_findings(con: duckdb.DuckDBPyConnection, result: LinkingResult, out_dir: Path,
                   run_info: dict[str, Any], ids: Pseudonymiser | None = None) -> list[str]:
    """Write both files; return their names."""
    public = ids is not None and ids.public
    table = "account_findings"
    if public:
        assert ids is not None
        con.register("public_account_findings",
                     _pseudonymised_rows(con, table, ids, ACCOUNT_ID_COLUMNS))
        table = "public_account_findings"
    try:
        accounts = _write_account_findings(con, table, out_dir)
    finally:
        if public:
            con.unregister(table)
    doc = {
        "accounts": accounts,
        "clusters": [cluster_record(c, ids) for c in result.clusters],
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


def _write_account_findings(con: duckdb.DuckDBPyConnection, table: str,
                            out_dir: Path) -> list[dict[str, Any]]:
    """findings.parquet (every account) from `table`; the accounts findings.json lists."""
    # The order is stated each time: a table keeps none (preserve_insertion_order is off), and
    # on a large log two runs wrote findings.parquet's rows in different orders.
    order = "ORDER BY flagged DESC, score DESC, account_id"
    _copy(con, f"SELECT * FROM {table} {order}", out_dir / "findings.parquet")
    cur = con.execute(f"SELECT * FROM {table} WHERE flagged OR confidence <> 'none' {order}")
    names = [d[0] for d in cur.description]
    accounts = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    for a in accounts:
        for key in ("first_seen", "last_seen"):
            a[key] = a[key].isoformat() if a[key] else None
    return accounts
