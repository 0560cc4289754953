"""Shared fixtures: tiny, hand-made log exports written as Parquet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)


def request_rows(n: int = 6, account: str = "acct_a", start: int = 0) -> list[dict[str, Any]]:
    """`n` plausible requests from one account, one minute apart."""
    return [{
        "request_id": f"req_{account}_{start + i:04d}",
        "ts": T0 + timedelta(minutes=start + i),
        "account_id": account,
        "model": "atlas-3",
        "prompt": f"Question {i}: how do I sort a list in Python?",
        "input_tokens": 12,
        "output_tokens": 80,
    } for i in range(n)]


def account_rows(*ids: str) -> list[dict[str, Any]]:
    """Accounts created a month before T0."""
    return [{"account_id": a, "created_at": T0 - timedelta(days=30)} for a in ids]


def write_table(path: Path, rows: list[dict[str, Any]] | pa.Table) -> Path:
    """Write rows (or a ready table) as one Parquet file, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows)
    pq.write_table(table, path)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A minimal valid export: two accounts, twelve requests."""
    d = tmp_path / "data"
    write_table(d / "requests.parquet", request_rows(6, "acct_a") + request_rows(6, "acct_b"))
    write_table(d / "accounts.parquet", account_rows("acct_a", "acct_b"))
    return d
