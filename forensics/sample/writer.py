"""Writing: request parts streamed to Parquet, the accounts, releases, indicators and labels."""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forensics.sample.arrays import hex_ids, mix64
from forensics.sample.base import (
    ACCOUNTS_SCHEMA,
    DAY_US,
    DICTIONARY_COLUMNS,
    END_TURN,
    HOUR_US,
    MAX_TOKENS,
    MODEL_RELEASES_SCHEMA,
    REQUESTS_SCHEMA,
    ROW_GROUP_ROWS,
    ROWS_AT_SCALE_1,
    STOP_REASONS,
    TIMESTAMP,
    WINDOW_TARGET_ROWS,
    ZSTD_LEVEL,
)
from forensics.sample.clock import Window, hour_of_week
from forensics.sample.rows import Rows
from forensics.sample.world import Population, World

# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


class _PartWriter:
    """Streams request tables into Parquet parts of at most `chunk_rows` rows each.

    Encoding and compression run on one background thread (Arrow releases the GIL there)
    while the next window is generated; calls reach it in order, so bytes do not change.
    """

    def __init__(self, directory: Path, chunk_rows: int) -> None:
        self.directory = directory
        self.chunk_rows = chunk_rows
        self.group_rows = min(chunk_rows, ROW_GROUP_ROWS)
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.part_rows = 0
        self.parts = 0
        self._writer: pq.ParquetWriter | None = None  # touched only by the worker thread
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sample-writer")
        self._inflight: deque[Future[None]] = deque()

    def write(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.pending_rows += table.num_rows
        while self.pending_rows and self.pending_rows >= min(
            self.group_rows, self.chunk_rows - self.part_rows
        ):
            self._flush(min(self.group_rows, self.chunk_rows - self.part_rows))

    def _flush(self, n: int) -> None:
        table = pa.concat_tables(self.pending)
        head, rest = table.slice(0, n), table.slice(n)
        self.pending = [rest] if rest.num_rows else []
        self.pending_rows = rest.num_rows
        path = None
        if self.part_rows == 0:
            path = self.directory / f"part-{self.parts:05d}.parquet"
            self.parts += 1
        self.part_rows += n
        last = self.part_rows >= self.chunk_rows
        if last:
            self.part_rows = 0
        self._submit(self._write, path, head, last)

    def _submit(self, fn: Any, *args: Any) -> None:
        self._inflight.append(self._pool.submit(fn, *args))
        # At most one row group queued behind the one being written: memory stays bounded.
        while len(self._inflight) > 1:
            self._inflight.popleft().result()

    def _write(self, path: Path | None, table: pa.Table, last: bool) -> None:
        if path is not None:
            self._writer = _parquet_writer(path)
        assert self._writer is not None
        self._writer.write_table(table, row_group_size=table.num_rows)
        if last:
            self._close_part()

    def _close_part(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> int:
        """Flush what is left; returns the number of parts (an empty part if there were no rows)."""
        try:
            if self.pending_rows:
                self._flush(self.pending_rows)
            self._submit(self._close_part)
            while self._inflight:
                self._inflight.popleft().result()
        finally:
            self._pool.shutdown(wait=True)
        if self.parts == 0:
            _parquet_writer(self.directory / "part-00000.parquet").close()
            self.parts = 1
        return self.parts

    def abort(self) -> None:
        """Stop after an error: wait for the worker so nothing writes into a removed directory."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._close_part()


def _parquet_writer(path: Path) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        path,
        REQUESTS_SCHEMA,
        compression="zstd",
        compression_level=ZSTD_LEVEL,
        use_dictionary=DICTIONARY_COLUMNS,
        write_statistics=True,
        version="2.6",
    )


@dataclass
class _Counts:
    total: int = 0
    parts: int = 0
    by_group: dict[str, int] = field(default_factory=dict)


def _windows_per_day(world: World) -> int:
    per_day = ROWS_AT_SCALE_1 * world.scale / world.period.n_days
    for d in (1, 2, 3, 4, 6, 8, 12, 24):
        if per_day / d <= WINDOW_TARGET_ROWS:
            return d
    return 24


def write_requests(
    world: World, pops: Sequence[Population], directory: Path, chunk_rows: int
) -> _Counts:
    """Generate the period window by window and stream the sorted rows to Parquet parts."""
    p = world.period
    per_day = _windows_per_day(world)
    step = DAY_US // per_day
    writer = _PartWriter(directory, chunk_rows)
    by_group = np.zeros(len(world.group_names), dtype=np.int64)
    salt = mix64(np.array([world.seed ^ 0x5EED5EED], dtype=np.uint64))[0]
    carry: Rows | None = None
    written = 0
    try:
        for day in range(p.n_days):
            for w in range(per_day):
                start = p.start_us + day * DAY_US + w * step
                end = start + step
                win = Window(
                    start, end, day, hour_of_week(np.arange(start // HOUR_US, end // HOUR_US))
                )
                parts = [carry] if carry is not None and len(carry) else []
                for pop in pops:
                    rows = pop.rows(win)
                    if rows is not None and len(rows):
                        parts.append(rows)
                if not parts:
                    carry = None
                    continue
                rows = Rows.concat(parts) if len(parts) > 1 else parts[0]
                rows = rows.take(np.argsort(rows.ts, kind="stable"))
                # Conversations and bursts may run past the window: keep those rows for later.
                cut = int(np.searchsorted(rows.ts, end, side="left"))
                carry = rows.slice(cut, len(rows))
                rows = rows.slice(0, cut)
                if not len(rows):
                    continue
                rng = world.rng("assemble", start // HOUR_US)
                writer.write(_assemble(world, rows, written, salt, rng))
                by_group += np.bincount(world.group_idx[rows.acct], minlength=len(by_group))
                written += len(rows)
    except BaseException:
        writer.abort()
        raise
    # Rows still carried fall after the period end and are dropped.
    return _Counts(
        total=written,
        parts=writer.close(),
        by_group={g: int(by_group[i]) for i, g in enumerate(world.group_names)},
    )


def _assemble(
    world: World, rows: Rows, first: int, salt: np.uint64, rng: np.random.Generator
) -> pa.Table:
    """Turn generated rows into a schema-v1 table: ids, per-account columns, token counts."""
    n = len(rows)
    acct = rows.acct
    index = np.arange(first, first + n, dtype=np.uint64)
    out = rows.out_tokens.astype(np.int64)
    stop = rows.stop.astype(np.int64)
    max_tokens = rows.max_tokens.astype(np.int64)
    # A max_tokens stop means the output filled the budget, and only then.
    hit = (out >= max_tokens) | (stop == MAX_TOKENS)
    out[hit] = max_tokens[hit]
    stop[hit] = MAX_TOKENS
    stop[~hit & (stop == MAX_TOKENS)] = END_TURN
    system = world.system_arr.take(pa.array(rows.system, mask=rows.system < 0))
    chars = np.asarray(
        pc.add(pc.fill_null(pc.utf8_length(system), 0), pc.utf8_length(rows.prompt)).to_numpy(
            zero_copy_only=False
        ),
        dtype=np.float64,
    )
    input_tokens = np.maximum(1, np.rint(chars / 4.0 * rng.normal(1.0, 0.04, n)) + 6)
    prompt: pa.Array | pa.ChunkedArray = rows.prompt
    if world.context is not None:
        # After the token count on purpose: counting the context would lower the output/input
        # ratio harvest_shape reads and change findings, where the option is meant to change
        # text lengths only. A stream of its own (keyed by the window's first row) leaves
        # every other draw as it was.
        prompt = world.context.append(rows.prompt, world.rng("context", first))
    response = pc.if_else(
        pa.array(world.logs_response[acct]), rows.response, pa.scalar(None, pa.string())
    )
    columns = [
        hex_ids("req_", mix64(index ^ salt)),
        pa.array(rows.ts, TIMESTAMP),
        world.account_id_arr.take(acct),
        rows.key,
        world.org_arr.take(acct),
        rows.ip,
        world.ua_arr.take(acct),
        world.channel_arr.take(acct),
        pa.array(world.models, pa.string()).take(rows.model.astype(np.int64)),
        hex_ids("conv_", rows.conv),
        pa.array(rows.turn, pa.int32()),
        system,
        prompt,
        response,
        pa.array(input_tokens.astype(np.int32), pa.int32()),
        pa.array(out.astype(np.int32), pa.int32()),
        pa.array(max_tokens.astype(np.int32), pa.int32()),
        pa.array(rows.tool_count, pa.int32()),
        pa.array(rows.temperature, pa.float64()),
        pa.array(rows.thinking, pa.bool_()),
        pa.array(STOP_REASONS, pa.string()).take(stop),
    ]
    return pa.Table.from_arrays(columns, schema=REQUESTS_SCHEMA)


def _write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", compression_level=ZSTD_LEVEL, version="2.6")


def write_accounts(world: World, path: Path) -> None:
    blocks = world.blocks
    table = pa.Table.from_arrays(
        [
            pa.array(world.account_ids, pa.string()),
            pa.array([c for b in blocks for c in b.created_us], TIMESTAMP),
            world.org_arr,
            pa.array([d for b in blocks for d in b.email_domain], pa.string()),
            pa.array([x for b in blocks for x in b.payment], pa.string()),
            pa.array([c for b in blocks for c in b.country], pa.string()),
            pa.array([t for b in blocks for t in b.tier], pa.string()),
            pa.array([ips[0] for b in blocks for ips in b.ips], pa.string()),
        ],
        schema=ACCOUNTS_SCHEMA,
    )
    _write_table(table.sort_by("account_id"), path)


def write_model_releases(world: World, path: Path) -> None:
    table = pa.Table.from_arrays(
        [pa.array(world.models, pa.string()), pa.array(world.model_released_us, TIMESTAMP)],
        schema=MODEL_RELEASES_SCHEMA,
    )
    _write_table(table.sort_by([("released_at", "ascending"), ("model", "ascending")]), path)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


def write_indicators(world: World, path: Path) -> None:
    # One indicator that matches nothing, as analysts' lists always contain stale entries
    # (203.0.113.0/24 is documentation space the generator never uses).
    decoy = ("ip", "203.0.113.77", "ACTOR-C", "industry partner share 2026-06")
    _write_csv(path, ("indicator_type", "value", "actor", "source"), [*world.indicators, decoy])


def write_labels(world: World, path: Path) -> None:
    rows = sorted(zip(world.account_ids, world.labels(), world.groups(), strict=True))
    _write_csv(path, ("account_id", "label", "group"), rows)
