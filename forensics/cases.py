"""Data cases for heuristics: YAML files that say which rows must fire which accounts, and
the runner behind `forensics heuristics test` and the test suite.

A library keeps them in `cases/<id>.yaml` beside its heuristic folders (the bundled ones in
queries/cases/). Format:

    cases:
      - name: synchronised harvester fires
        params: {min_requests: 10}          # optional overrides
        accounts:                           # optional; missing accounts are created
          - {account_id: a1, payment_fingerprint: card-1}
        requests:
          - account_id: a1
            repeat: 40                      # expands to 40 rows ({i} = 0..39 in strings)
            start: 2026-07-06T09:00:00Z     # first ts (default T0)
            every: 90s                      # spacing: s, m, h or d
            prompt: "Question {i}: …"
        model_releases: [{model: atlas-4, released_at: 2026-08-19T16:00:00Z}]
        indicators: [{indicator_type: ip, value: 1.2.3.4, actor: X, source: test}]
        fires: [a1]                         # exactly the accounts that must fire ([] = none)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from forensics import resources, schema
from forensics.errors import HeuristicError
from forensics.features import build_features
from forensics.heuristics import Heuristic, load_library, run_library
from forensics.ingest import ingest
from forensics.linking import LinkingParams, build_clusters

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
_ARROW = {"VARCHAR": pa.string(), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
          "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
          "BOOLEAN": pa.bool_()}
_REQUEST_DEFAULTS: dict[str, Any] = {"model": "atlas-3", "prompt": "Hello, can you help me?",
                                     "input_tokens": 100, "output_tokens": 300}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _seconds(text: str | int | float) -> float:
    if isinstance(text, int | float):
        return float(text)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if not m:
        raise ValueError(f"bad duration {text!r} (expected e.g. 90s, 5m, 2h, 1d)")
    return float(m[1]) * _UNITS[m[2]]


def _fill(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", str(i))
    if isinstance(value, list):
        return value[i % len(value)]  # a list cycles: one value per repeated row
    return value


def expand_requests(specs: list[dict[str, Any]], case_no: int) -> list[dict[str, Any]]:
    """Expand `repeat` blocks into rows; fill required columns with harmless defaults."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        spec = dict(spec)
        repeat = int(spec.pop("repeat", 1))
        start = _ts(spec.pop("start", T0))
        every = _seconds(spec.pop("every", "60s"))
        for i in range(repeat):
            row = {**_REQUEST_DEFAULTS, **{k: _fill(v, i) for k, v in spec.items()}}
            row["ts"] = _ts(row["ts"]) if "ts" in row else start + timedelta(seconds=every * i)
            row.setdefault("request_id", f"c{case_no}-r{len(rows):05d}")
            rows.append(row)
    return rows


def _table(t: schema.Table, rows: list[dict[str, Any]]) -> pa.Table:
    names = [c.name for c in t.columns if c.required or any(c.name in r for r in rows)]
    unknown = {k for r in rows for k in r} - set(t.names)
    if unknown:
        raise ValueError(f"unknown {t.name} column(s) in case: {sorted(unknown)}")
    arrays = {}
    for name in names:
        col = t.column(name)
        values = [r.get(name) for r in rows]
        if col.type == "TIMESTAMPTZ":
            values = [_ts(v) if v is not None else None for v in values]
        arrays[name] = pa.array(values, type=_ARROW[col.type])
    return pa.table(arrays)


def write_case(case: dict[str, Any], case_no: int, data_dir: Path) -> None:
    """Write one case's tables as a data directory."""
    requests = expand_requests(case.get("requests", []), case_no)
    accounts = {a["account_id"]: dict(a) for a in case.get("accounts", [])}
    for r in requests:
        accounts.setdefault(r["account_id"], {"account_id": r["account_id"]})
    for a in accounts.values():
        a["created_at"] = _ts(a.get("created_at", "2026-06-01T00:00:00Z"))
    data_dir.mkdir(parents=True)
    pq.write_table(_table(schema.REQUESTS, requests), data_dir / "requests.parquet")
    pq.write_table(_table(schema.ACCOUNTS, list(accounts.values())),
                   data_dir / "accounts.parquet")
    if case.get("model_releases"):
        pq.write_table(_table(schema.MODEL_RELEASES, case["model_releases"]),
                       data_dir / "model_releases.parquet")
    if case.get("indicators"):
        pq.write_table(_table(schema.INDICATORS, case["indicators"]),
                       data_dir / "indicators.parquet")


def load_cases(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every case file of a cases folder, keyed by heuristic id."""
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            cases = doc.get("cases", [])
        except (OSError, yaml.YAMLError, AttributeError) as exc:
            raise HeuristicError(f"unreadable case file ({str(exc).splitlines()[0]}; expected "
                                 f"YAML with a list 'cases')", file=str(path)) from None
        if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
            raise HeuristicError("'cases' is not a list of cases (expected a YAML list of "
                                 "mappings)", file=str(path))
        out[path.stem] = cases
    return out


@dataclass(frozen=True)
class CaseResult:
    """One case run: what fired, what the case expects, and any fault in what fired."""

    heuristic_id: str
    name: str
    expected: tuple[str, ...]
    fired: tuple[str, ...]
    faults: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.faults and sorted(self.expected) == sorted(self.fired)

    def line(self) -> str:
        if self.passed:
            return f"ok    {self.heuristic_id} [{self.name}]"
        why = "; ".join(self.faults) or (f"fired {sorted(self.fired)}, expected "
                                         f"{sorted(self.expected)}")
        return f"FAIL  {self.heuristic_id} [{self.name}]: {why}"


def run_case(heuristic: Heuristic, case_no: int, case: dict[str, Any], workdir: Path,
             queries: Path | None = None) -> CaseResult:
    """Ingest the case's rows, build features, run one heuristic (cluster-scope ones over the
    clusters linking builds from the rows), and say what fired."""
    data_dir = workdir / f"case-{heuristic.id}-{case_no}"
    write_case(case, case_no, data_dir)
    con = duckdb.connect()
    try:
        ingested = ingest(con, data_dir)
        build_features(con, queries)
        params = {heuristic.id: heuristic.resolved_params(case.get("params"))}
        if heuristic.meta.scope == "cluster":
            run_library(con, [], {}, ingested.has_column)
            build_clusters(con, LinkingParams(), queries)
        runs = run_library(con, [heuristic], params, ingested.has_column,
                           scope=heuristic.meta.scope)
        name = str(case.get("name", case_no))
        expected = tuple(str(a) for a in case.get("fires", []))
        if runs[0].skipped is not None:
            return CaseResult(heuristic.id, name, expected, (), (f"skipped: {runs[0].skipped}",))
        rows = con.execute("SELECT account_id, score, detail, evidence FROM signals "
                           "ORDER BY account_id").fetchall()
    finally:
        con.close()
    faults = []
    for account, score, detail, evidence in rows:
        if not 0 <= score <= 1:
            faults.append(f"{account}: score {score} outside 0-1")
        if not detail:
            faults.append(f"{account}: no detail sentence")
        if not evidence:
            faults.append(f"{account}: no evidence rows")
        elif len(set(evidence)) != len(evidence):
            faults.append(f"{account}: a request named twice in the evidence")
    return CaseResult(heuristic.id, name, expected, tuple(r[0] for r in rows), tuple(faults))


def run_cases(queries: Path | None, workdir: Path) -> list[CaseResult]:
    """Every case of a library (its cases/ folder), in id and case order. A heuristic without
    a case that must fire and one that must not is a failure of its own."""
    library = {h.id: h for h in load_library(queries)}
    folder = resources.queries_part("cases", queries)
    if queries is not None and folder == resources.queries_part("cases"):
        raise HeuristicError("no cases/ folder (expected cases/<heuristic id>.yaml files "
                             "beside the heuristic folders)", file=str(queries))
    cases = load_cases(folder)
    results = []
    for hid in sorted(set(library) | set(cases)):
        if hid not in library:
            results.append(CaseResult(hid, "-", (), (), ("a case file for no heuristic of "
                                                        "the library",)))
            continue
        mine = cases.get(hid, [])
        if not any(c.get("fires") for c in mine) or not any(c.get("fires") == [] for c in mine):
            results.append(CaseResult(hid, "-", (), (), ("expected a case that must fire and "
                                                        "one that must not",)))
        results += [run_case(library[hid], i, case, workdir, queries)
                    for i, case in enumerate(mine)]
    return results
