"""Randomness, ids and small vectorised helpers."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forensics.sample.base import END_TURN, MAX_TOKENS, STOP_SEQUENCE, US

# --------------------------------------------------------------------------------------------
# Randomness, ids and small vectorised helpers
# --------------------------------------------------------------------------------------------


def stream(seed: int, *keys: str | int) -> np.random.Generator:
    """An independent generator per (seed, keys): adding a stream never shifts another one."""
    words = [seed] + [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijection on uint64, so distinct counters give distinct ids."""
    z = x.astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(prefix: str, values: np.ndarray) -> pa.Array:
    """Strings `prefix` + 16 lowercase hex digits of each uint64, built without Python loops."""
    n = len(values)
    head = prefix.encode()
    width = len(head) + 16
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    v = values.astype(np.uint64)
    for i in range(16):
        buf[:, len(head) + i] = _HEX[((v >> np.uint64(60 - 4 * i)) & np.uint64(15)).astype(np.intp)]
    offsets = np.arange(n + 1, dtype=np.int32) * width
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf))]
    )


def rand_u64(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)


OCTETS = pa.array([str(i) for i in range(256)])


def ipv4(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> pa.Array:
    """Dotted IPv4 strings from four octet arrays."""
    parts = [OCTETS.take(np.asarray(x, dtype=np.int64)) for x in (a, b, c, d)]
    return pc.binary_join_element_wise(*parts, ".")


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays (and literal strings)."""
    return pc.binary_join_element_wise(*parts, "")


def merge(n: int, pieces: Sequence[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """Assemble an array of length n from (row positions, values) pieces covering every row."""
    pieces = [(pos, arr) for pos, arr in pieces if len(pos)]
    if len(pieces) == 1:
        return pieces[0][1]
    order = np.concatenate([pos for pos, _ in pieces])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n, dtype=np.int64)
    return pa.concat_arrays([arr for _, arr in pieces]).take(inverse)


def choice(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """n draws of indices with the given relative weights (inverse CDF, fast for small k)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def lognormal_int(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int
) -> np.ndarray:
    return np.maximum(1, np.rint(np.asarray(median) * np.exp(sigma * rng.standard_normal(n))))


def segment_offsets(gaps: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums of `gaps` restarting at every segment (segment first gap must be 0)."""
    cs = np.cumsum(gaps)
    first = np.cumsum(lengths) - lengths
    return cs - np.repeat(cs[first], lengths)


def positions_in_segment(lengths: np.ndarray) -> np.ndarray:
    total = int(lengths.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)


@dataclass(frozen=True)
class Sessions:
    """The rows of consecutive sessions (conversations, batches, runs), one session after
    another: session i has lengths[i] rows."""

    lengths: np.ndarray
    session: np.ndarray  # each row's session
    turn: np.ndarray  # each row's place in its session, 0 for the first

    @staticmethod
    def of(lengths: np.ndarray) -> Sessions:
        return Sessions(lengths, np.repeat(np.arange(len(lengths)), lengths),
                        positions_in_segment(lengths))

    def __len__(self) -> int:
        return len(self.session)

    @property
    def first(self) -> np.ndarray:
        return self.turn == 0

    @property
    def last(self) -> np.ndarray:
        return self.turn == self.lengths[self.session] - 1

    def times(self, start: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        """Each row's time in microseconds: its session's `start`, then each row `gaps`
        seconds after the one before (the gap of a session's first row is not used)."""
        gaps_us = (gaps * US).astype(np.int64)
        gaps_us[self.turn == 0] = 0
        return start[self.session] + segment_offsets(gaps_us, self.lengths)


def outputs(
    rng: np.random.Generator,
    median: np.ndarray | float,
    sigma: float,
    max_tokens: np.ndarray,
    p_stop_sequence: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Output tokens and stop reasons: long answers hit max_tokens, a few stop on a sequence."""
    n = len(max_tokens)
    out = lognormal_int(rng, median, sigma, n)
    stop = np.full(n, END_TURN, dtype=np.int8)
    if p_stop_sequence:
        stop[rng.random(n) < p_stop_sequence] = STOP_SEQUENCE
    over = out >= max_tokens
    out[over] = max_tokens[over]
    stop[over] = MAX_TOKENS
    return out.astype(np.int32), stop


def replace_at(values: pa.Array, rows: np.ndarray, new: pa.Array) -> pa.Array:
    """`values` with the entries at `rows` replaced by `new` (in that order)."""
    if not len(rows):
        return values
    keep = np.ones(len(values), dtype=np.bool_)
    keep[rows] = False
    return merge(len(values), [(np.flatnonzero(keep), values.filter(pa.array(keep))), (rows, new)])
