"""Data cases for heuristics: YAML files that say which rows must fire which accounts.

Format of `tests/heuristics/<id>.yaml`:

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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from forensics import schema

CASES_DIR = Path(__file__).parent
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


def load_cases() -> dict[str, list[dict[str, Any]]]:
    """Every case file, keyed by heuristic id."""
    out = {}
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out[path.stem] = list(doc.get("cases", []))
    return out
