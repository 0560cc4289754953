"""Rows of one generation window, before assembly into a schema-v1 table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pyarrow as pa

# --------------------------------------------------------------------------------------------
# Rows of one window
# --------------------------------------------------------------------------------------------


@dataclass
class Rows:
    """Generated requests before assembly: numbers as numpy arrays, text as Arrow arrays."""

    acct: np.ndarray  # global account index
    ts: np.ndarray  # microseconds since the epoch
    conv: np.ndarray  # uint64 conversation number
    turn: np.ndarray
    model: np.ndarray  # index into World.models
    system: np.ndarray  # index into World.system_texts, -1 for none
    prompt: pa.ChunkedArray
    response: pa.ChunkedArray
    ip: pa.ChunkedArray
    key: pa.ChunkedArray
    out_tokens: np.ndarray
    max_tokens: np.ndarray
    tool_count: np.ndarray
    temperature: np.ndarray
    thinking: np.ndarray
    stop: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, idx: np.ndarray) -> Rows:
        values: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            values[f.name] = _chunked(v.take(idx)) if isinstance(v, pa.ChunkedArray) else v[idx]
        return Rows(**values)

    def slice(self, start: int, stop: int) -> Rows:
        values: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            is_text = isinstance(v, pa.ChunkedArray)
            values[f.name] = v.slice(start, stop - start) if is_text else v[start:stop]
        return Rows(**values)

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        """Concatenate without copying text: Arrow columns just gain chunks."""
        values: dict[str, Any] = {}
        for f in fields(Rows):
            vs = [getattr(p, f.name) for p in parts]
            if isinstance(vs[0], pa.ChunkedArray):
                values[f.name] = pa.chunked_array(
                    [c for v in vs for c in v.chunks], type=pa.string()
                )
            else:
                values[f.name] = np.concatenate(vs)
        return Rows(**values)


def _chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray):
        return values
    return pa.chunked_array([values], type=pa.string())


def make_rows(
    *,
    acct: np.ndarray,
    ts: np.ndarray,
    conv: np.ndarray,
    turn: np.ndarray | int,
    model: np.ndarray | int,
    system: np.ndarray | int,
    prompt: pa.Array,
    response: pa.Array,
    ip: pa.Array,
    key: pa.Array,
    out_tokens: np.ndarray,
    max_tokens: np.ndarray | int,
    tool_count: np.ndarray | int,
    temperature: np.ndarray | float,
    thinking: np.ndarray | bool,
    stop: np.ndarray,
) -> Rows:
    """Build Rows, broadcasting scalars and normalising dtypes."""
    n = len(ts)

    def full(v: np.ndarray | float | int | bool, dtype: type) -> np.ndarray:
        arr: np.ndarray = np.asarray(v, dtype=dtype)
        return np.full(n, arr, dtype=dtype) if arr.ndim == 0 else arr

    return Rows(
        acct=np.asarray(acct, dtype=np.int64),
        ts=np.asarray(ts, dtype=np.int64),
        conv=np.asarray(conv, dtype=np.uint64),
        turn=full(turn, np.int32),
        model=full(model, np.int16),
        system=full(system, np.int32),
        prompt=_chunked(prompt),
        response=_chunked(response),
        ip=_chunked(ip),
        key=_chunked(key),
        out_tokens=np.asarray(out_tokens, dtype=np.int32),
        max_tokens=full(max_tokens, np.int32),
        tool_count=full(tool_count, np.int32),
        temperature=full(temperature, np.float64),
        thinking=full(thinking, np.bool_),
        stop=np.asarray(stop, dtype=np.int8),
    )


