"""A deterministic generator of a synthetic quarter of LLM API traffic with planted campaigns.

`generate_sample` writes a data directory in log schema v1 (request logs, accounts, model
releases, analyst indicators) and, beside it, the ground-truth labels. The traffic mixes
ordinary customers, benign look-alikes (eval companies, batch jobs, agent products, researchers,
tutoring apps) and three distillation campaigns in the styles described in the domain brief.

Same seed and scale give identical bytes in every file; memory stays bounded at any scale
because requests are generated window by window in time order and streamed to Parquet parts.
All prompt text comes from the YAML files in `forensics/sample_text/`.

With `long_prompts=True` every prompt of 240 characters or more also carries a block of
"pasted context" (ordinary neutral sentences, about 1,500 characters typical, up to 6,000), so
that benchmarks scan realistic text lengths; every other column, and what the pipeline
derives from a prompt's head, is unchanged (see `_Context`).
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import tempfile
import zlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from forensics import schema
from forensics.errors import ForensicsError

__all__ = [
    "ACCOUNTS_SCHEMA",
    "LABELS",
    "MODEL_RELEASES_SCHEMA",
    "REQUESTS_SCHEMA",
    "SampleError",
    "SampleSummary",
    "generate_sample",
]

# --------------------------------------------------------------------------------------------
# Schema v1 of the files written
# --------------------------------------------------------------------------------------------

TIMESTAMP = pa.timestamp("us", tz="UTC")
# The contract's column types (forensics.schema, DuckDB names) as the Arrow types written.
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMPTZ": TIMESTAMP,
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}


def _arrow_schema(table: schema.Table) -> pa.Schema:
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in table.columns])


REQUESTS_SCHEMA = _arrow_schema(schema.REQUESTS)
ACCOUNTS_SCHEMA = _arrow_schema(schema.ACCOUNTS)
MODEL_RELEASES_SCHEMA = _arrow_schema(schema.MODEL_RELEASES)

LABELS = ("ordinary", "lookalike", "campaign")
STOP_REASONS = ("end_turn", "max_tokens", "tool_use", "stop_sequence")
END_TURN, MAX_TOKENS, TOOL_USE, STOP_SEQUENCE = range(4)
CHANNELS = ("api", "cloud_bedrock", "cloud_vertex", "reseller")

US = 1_000_000
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US

DEFAULT_CHUNK_ROWS = 250_000
# Requests generated per time window (the unit of work and of memory), and per row group.
_WINDOW_TARGET_ROWS = 30_000
_ROW_GROUP_ROWS = 32_768
# zstd level 3 writes as fast as level 1 and about 8 % smaller; level 6 is 3x slower for 5 %.
_ZSTD_LEVEL = 3
# Columns whose values repeat heavily: dictionary-encode them, leave free text plain.
_DICTIONARY_COLUMNS = [
    "account_id",
    "api_key_id",
    "org_id",
    "ip",
    "user_agent",
    "access_channel",
    "model",
    "system_prompt",
    "stop_reason",
]
# Requests over the whole period at scale 1, used only to size the generation windows.
_ROWS_AT_SCALE_1 = 100_000

# Volumes at scale 1: (accounts, requests). Look-alike figures are per organisation; the number
# of organisations of each kind grows with the scale. Campaigns are single actors whose account
# count grows with the scale, with a floor so that small samples still show the linking signal.
_ORDINARY = (1500, 57_000)
_EVAL = (5, 3_000)
_ENTERPRISE = (3, 9_500)
_AGENT = (10, 7_000)
_RESEARCH = (5, 2_000)
_TUTORING = (4, 3_000)
_HARVESTER = (15, 3_500)
_HYDRA = (60, 14_000)
_LOWVOL = (25, 45)  # 25 accounts of about 45 requests each
_MIN_CAMPAIGN_ACCOUNTS = 8
_MIN_CAMPAIGN_ACCOUNT_REQUESTS = 60

# Pasted context (long_prompts=True). Only prompts at least as long as the head the pipeline
# reads for its template skeleton (queries/features/10_prompt_heads.sql, left(prompt,
# 240)) get a block, appended after it, so every skeleton stays what it was. Block lengths in
# characters follow a lognormal (median, sigma) clipped to [min, max].
_CONTEXT_AFTER_CHARS = 240
_CONTEXT_MEDIAN_CHARS = 1500
_CONTEXT_SIGMA = 0.7
_CONTEXT_MIN_CHARS = 300
_CONTEXT_MAX_CHARS = 6000
_CONTEXT_SEPARATOR = "\n\n"
# A bound on the rounds that keep distinct prompt lengths apart (a handful in practice).
_CONTEXT_SETTLE_ROUNDS = 1000


_T = TypeVar("_T")


class SampleError(ForensicsError):
    """Bad arguments to the sample generator, unusable sample text or output directory."""


@dataclass(frozen=True)
class SampleSummary:
    """What `generate_sample` wrote: counts per population and the files, relative to out_dir."""

    out_dir: Path
    seed: int
    scale: float
    requests: int
    accounts: int
    accounts_by_label: dict[str, int]
    accounts_by_group: dict[str, int]
    requests_by_group: dict[str, int]
    request_parts: int
    files: tuple[str, ...]
    new_model: str
    new_model_released_at: datetime

    def __str__(self) -> str:
        labels = ", ".join(f"{n:,} {label}" for label, n in self.accounts_by_label.items())
        when = self.new_model_released_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{self.requests:,} requests from {self.accounts:,} accounts ({labels}) in "
            f"{self.request_parts} part(s); {self.new_model} released {when}"
        )


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def generate_sample(
    out_dir: Path,
    *,
    seed: int = 7,
    scale: float = 1.0,
    period_start: str = "2026-07-01",
    period_end: str = "2026-10-01",
    force: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    long_prompts: bool = False,
) -> SampleSummary:
    """Write a synthetic quarter of API logs with planted campaigns to `out_dir`.

    Layout: `data/requests/part-NNNNN.parquet` (at most `chunk_rows` rows each),
    `data/accounts.parquet`, `data/model_releases.parquet`, `data/indicators.csv`, and
    `labels.csv` (account_id, label, group) outside `data/`. scale=1 is about 100,000
    requests. The directory is written beside `out_dir` and renamed into place at the end;
    an existing non-empty `out_dir` is refused unless `force` is set.

    `long_prompts` appends a block of pasted context (300 to 6,000 characters, median about
    1,500) to every prompt of 240 characters or more, for benchmarks on realistic text
    lengths. The first 240 characters of every prompt (so every template skeleton) and every
    other column, input_tokens included, stay as without it, and the sentences match no
    lexicon phrase, so the findings do not change. Off by default, and then nothing of it
    runs: the default output stays byte-identical.
    """
    out_dir = Path(out_dir)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise SampleError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    if not (isinstance(scale, int | float) and math.isfinite(scale) and 0.01 <= scale <= 1000):
        raise SampleError(f"scale must be between 0.01 and 1000, got {scale!r}")
    if chunk_rows < 1:
        raise SampleError(f"chunk_rows must be positive, got {chunk_rows!r}")
    period = _Period.parse(period_start, period_end)
    _check_out_dir(out_dir, force)

    text = _Text.load()
    world = _World(text, seed=seed, scale=float(scale), period=period)
    # Loaded only when asked for: the default output must not depend on the context text.
    world.context = _Context.load(text) if long_prompts else None
    generators = _build_populations(world)
    world.freeze()

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the sample is an ordinary directory
        data = tmp / "data"
        (data / "requests").mkdir(parents=True)
        counts = _write_requests(world, generators, data / "requests", chunk_rows)
        _write_accounts(world, data / "accounts.parquet")
        _write_model_releases(world, data / "model_releases.parquet")
        _write_indicators(world, data / "indicators.csv")
        _write_labels(world, tmp / "labels.csv")
        files = tuple(sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()))
        _move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    labels = world.labels()
    groups = world.groups()
    return SampleSummary(
        out_dir=out_dir,
        seed=seed,
        scale=float(scale),
        requests=int(counts.total),
        accounts=world.n_accounts,
        accounts_by_label={lab: labels.count(lab) for lab in LABELS},
        accounts_by_group=_count(groups),
        requests_by_group={g: int(n) for g, n in sorted(counts.by_group.items())},
        request_parts=counts.parts,
        files=files,
        new_model=world.new_model,
        new_model_released_at=datetime.fromtimestamp(world.period.release_us / US, UTC),
    )


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def _check_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise SampleError(f"{out_dir} exists and is not a directory")
        if any(out_dir.iterdir()) and not force:
            raise SampleError(f"{out_dir} is not empty (use --force / force=True to replace it)")


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` by `tmp` with renames only, so readers never see a half-written sample."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    os.replace(out_dir, old)  # renaming onto an empty directory is allowed on POSIX
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Randomness, ids and small vectorised helpers
# --------------------------------------------------------------------------------------------


def _stream(seed: int, *keys: str | int) -> np.random.Generator:
    """An independent generator per (seed, keys): adding a stream never shifts another one."""
    words = [seed] + [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijection on uint64, so distinct counters give distinct ids."""
    z = x.astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex_ids(prefix: str, values: np.ndarray) -> pa.Array:
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


def _rand_u64(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)


_OCTETS = pa.array([str(i) for i in range(256)])


def _ipv4(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> pa.Array:
    """Dotted IPv4 strings from four octet arrays."""
    parts = [_OCTETS.take(np.asarray(x, dtype=np.int64)) for x in (a, b, c, d)]
    return pc.binary_join_element_wise(*parts, ".")


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays (and literal strings)."""
    return pc.binary_join_element_wise(*parts, "")


def _merge(n: int, pieces: Sequence[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """Assemble an array of length n from (row positions, values) pieces covering every row."""
    pieces = [(pos, arr) for pos, arr in pieces if len(pos)]
    if len(pieces) == 1:
        return pieces[0][1]
    order = np.concatenate([pos for pos, _ in pieces])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n, dtype=np.int64)
    return pa.concat_arrays([arr for _, arr in pieces]).take(inverse)


def _choice(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """n draws of indices with the given relative weights (inverse CDF, fast for small k)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def _lognormal_int(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int
) -> np.ndarray:
    return np.maximum(1, np.rint(np.asarray(median) * np.exp(sigma * rng.standard_normal(n))))


def _segment_offsets(gaps: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums of `gaps` restarting at every segment (segment first gap must be 0)."""
    cs = np.cumsum(gaps)
    first = np.cumsum(lengths) - lengths
    return cs - np.repeat(cs[first], lengths)


def _positions_in_segment(lengths: np.ndarray) -> np.ndarray:
    total = int(lengths.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _outputs(
    rng: np.random.Generator,
    median: np.ndarray | float,
    sigma: float,
    max_tokens: np.ndarray,
    p_stop_sequence: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Output tokens and stop reasons: long answers hit max_tokens, a few stop on a sequence."""
    n = len(max_tokens)
    out = _lognormal_int(rng, median, sigma, n)
    stop = np.full(n, END_TURN, dtype=np.int8)
    if p_stop_sequence:
        stop[rng.random(n) < p_stop_sequence] = STOP_SEQUENCE
    over = out >= max_tokens
    out[over] = max_tokens[over]
    stop[over] = MAX_TOKENS
    return out.astype(np.int32), stop


# --------------------------------------------------------------------------------------------
# Text data: loading the YAML files, slot filling, pools of variants
# --------------------------------------------------------------------------------------------

# The C loader is several times faster; the pure-Python one gives the same result.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SLOT = re.compile(r"\{\{(=?)([a-z_0-9]+)(?::(\d+)-(\d+))?\}\}")
_HOLE = re.compile(r"\{\{@([a-z_0-9]+)\}\}")


@dataclass(frozen=True)
class _Text:
    """The four YAML documents of `forensics/sample_text/`."""

    common: dict[str, Any]
    ordinary: dict[str, Any]
    lookalikes: dict[str, Any]
    campaigns: dict[str, Any]

    @staticmethod
    def load() -> _Text:
        """Read the packaged text files; a missing or malformed file is a SampleError."""
        docs: dict[str, dict[str, Any]] = {}
        folder = resources.files("forensics").joinpath("sample_text")
        for name in ("common", "ordinary", "lookalikes", "campaigns"):
            try:
                raw = folder.joinpath(f"{name}.yaml").read_text(encoding="utf-8")
                doc = yaml.load(raw, Loader=_YAML_LOADER)
            except (OSError, yaml.YAMLError) as exc:
                raise SampleError(f"sample_text/{name}.yaml: {exc}") from exc
            if not isinstance(doc, dict):
                raise SampleError(f"sample_text/{name}.yaml: expected a mapping at top level")
            docs[name] = doc
        return _Text(docs["common"], docs["ordinary"], docs["lookalikes"], docs["campaigns"])


def _get(doc: Mapping[str, Any], path: str) -> Any:
    """doc["a"]["b"] for path "a.b", with a SampleError naming the path when it is missing."""
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise SampleError(f"sample text: missing key {path!r}")
        node = node[part]
    return node


def _strings(values: Any, what: str) -> list[str]:
    if not isinstance(values, list) or not values:
        raise SampleError(f"sample text: {what} must be a non-empty list")
    return [str(v) for v in values]


def _slot_table(*sections: Mapping[str, Any]) -> dict[str, list[str]]:
    """Merge slot lists; earlier sections win (section slots before common slots)."""
    merged: dict[str, list[str]] = {}
    for section in reversed(sections):
        for name, values in section.items():
            merged[str(name)] = _strings(values, f"slot {name}")
    return merged


class _Filler:
    """Fills {{slot}} placeholders with random slot values (holes {{@x}} are left alone)."""

    def __init__(self, rng: np.random.Generator, slots: Mapping[str, Sequence[str]]) -> None:
        self._rng = rng
        self._slots = slots
        # Draw uniforms in blocks: one numpy call per value would dominate the build time.
        self._block = rng.random(1 << 14)
        self._next = 0

    def uniform(self) -> float:
        if self._next >= len(self._block):
            self._block = self._rng.random(1 << 14)
            self._next = 0
        u = float(self._block[self._next])
        self._next += 1
        return u

    def pick(self, values: Sequence[str]) -> str:
        return values[int(self.uniform() * len(values))]

    def sample(self, values: Sequence[_T], k: int) -> list[_T]:
        """k distinct values (fewer if there are not enough), in random order."""
        pool = list(values)
        out: list[_T] = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(int(self.uniform() * len(pool))))
        return out

    def between(self, lo: int, hi: int) -> int:
        return lo + int(self.uniform() * (hi - lo + 1))

    def fill(self, template: str, depth: int = 0, memo: dict[str, list[str]] | None = None) -> str:
        """Fill the slots of one template: a repeated {{x}} takes a different value each time,
        {{=x}} repeats the last value of x (e.g. a function name used twice in code)."""
        memo = {} if memo is None else memo

        def slot(m: re.Match[str]) -> str:
            same, name, lo, hi = m.group(1), m.group(2), m.group(3), m.group(4)
            if lo is not None and hi is not None:
                value = self.between(int(lo), int(hi))
                if name == "d":
                    return f"{value:02d}"
                if name == "f":
                    return f"{value}.{self.between(0, 9)}"
                return str(value)
            if same and memo.get(name):
                return memo[name][-1]
            values = self._slots.get(name)
            if values is None:
                raise SampleError(f"sample text: unknown slot {{{{{name}}}}} in {template[:60]!r}")
            used = memo.setdefault(name, [])
            chosen = self.pick(values)
            for _ in range(4):  # prefer a value not used yet in this template
                if chosen not in used:
                    break
                chosen = self.pick(values)
            if depth < 2 and "{{" in chosen:
                chosen = self.fill(chosen, depth + 1, memo)
            used.append(chosen)
            return chosen

        return _SLOT.sub(slot, template)

    @property
    def slots(self) -> Mapping[str, Sequence[str]]:
        return self._slots

    def variants(self, templates: Sequence[str], per: int = 5) -> list[str]:
        """Each template filled `per` times (once if it has no slots)."""
        out: list[str] = []
        for t in templates:
            out += [self.fill(t) for _ in range(per if "{{" in t else 1)]
        return out

    def fill_many(self, templates: Sequence[str], n: int) -> list[str]:
        return [self.fill(self.pick(templates)) for _ in range(n)]


@dataclass(frozen=True)
class _Pool:
    """Text variants in categories (e.g. one per language); rows pick one of their category."""

    values: pa.Array
    starts: np.ndarray
    sizes: np.ndarray

    @staticmethod
    def of(groups: Sequence[Sequence[str]]) -> _Pool:
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        if (sizes == 0).any():
            raise SampleError("sample text: an empty pool category")
        starts = np.cumsum(sizes) - sizes
        return _Pool(pa.array([s for g in groups for s in g], pa.string()), starts, sizes)

    def pick(self, rng: np.random.Generator, cats: np.ndarray) -> np.ndarray:
        n = len(cats)
        return self.starts[cats] + (rng.random(n) * self.sizes[cats]).astype(np.int64)

    def take(self, idx: np.ndarray) -> pa.Array:
        return self.values.take(idx)

    def draw(self, rng: np.random.Generator, cats: np.ndarray) -> pa.Array:
        return self.take(self.pick(rng, cats))


@dataclass(frozen=True)
class _HoledPool:
    """Template variants split at their holes, so each row fills the holes with its own values."""

    holes: tuple[str, ...]
    parts: tuple[pa.Array, ...]
    starts: np.ndarray
    sizes: np.ndarray

    @staticmethod
    def of(holes: Sequence[str], groups: Sequence[Sequence[str]], what: str) -> _HoledPool:
        split: list[list[str]] = [[] for _ in range(len(holes) + 1)]
        sizes = []
        for group in groups:
            sizes.append(len(group))
            for variant in group:
                found = _HOLE.findall(variant)
                if tuple(found) != tuple(holes):
                    raise SampleError(
                        f"sample text: {what}: template holes {found} differ from {list(holes)}"
                    )
                pieces = _HOLE.split(variant)[0::2]  # split() interleaves the hole names
                for k, piece in enumerate(pieces):
                    split[k].append(piece)
        size_arr = np.array(sizes, dtype=np.int64)
        if (size_arr == 0).any():
            raise SampleError(f"sample text: {what}: an empty template category")
        return _HoledPool(
            tuple(holes),
            tuple(pa.array(p, pa.string()) for p in split),
            np.cumsum(size_arr) - size_arr,
            size_arr,
        )

    def pick(self, rng: np.random.Generator, cats: np.ndarray) -> np.ndarray:
        return self.starts[cats] + (rng.random(len(cats)) * self.sizes[cats]).astype(np.int64)

    def render(self, idx: np.ndarray, values: Sequence[pa.Array]) -> pa.Array:
        pieces: list[pa.Array] = [self.parts[0].take(idx)]
        for k, value in enumerate(values):
            pieces += [value, self.parts[k + 1].take(idx)]
        return _join(*pieces)


def _pool_size(world: _World, base: int) -> int:
    return max(8, int(base * world.pool_factor))


@dataclass(frozen=True)
class _Context:
    """The pasted-context sentences of common.yaml, read as a cycle.

    A block is a run of consecutive sentences from a random start, so it reads like an excerpt
    of one ordinary document, and the pairs of sentences that can meet in a block are the
    cycle's neighbours only (the test of the pool's inertness checks those, cut anywhere).
    """

    sentences: pa.Array
    # ends[m]: characters of the first m sentences of the cycle repeated, each counted with
    # the space that joins it to the next; long enough for a block from any start.
    ends: np.ndarray

    @staticmethod
    def load(text: _Text) -> _Context:
        sentences = _strings(_get(text.common, "context_sentences"), "context_sentences")
        for s in sentences:
            # A sentence shorter than the minimum block keeps every block within its bounds.
            if not 0 < len(s) <= _CONTEXT_MIN_CHARS or "\n" in s or s != s.strip():
                raise SampleError(
                    f"sample text: context sentence {s[:60]!r} must be one line of 1 to "
                    f"{_CONTEXT_MIN_CHARS} characters without surrounding blanks"
                )
        widths = np.array([len(s) + 1 for s in sentences], dtype=np.int64)
        cycles = 3 + _CONTEXT_MAX_CHARS // int(widths.sum())
        ends = np.concatenate([[0], np.cumsum(np.tile(widths, cycles))])
        return _Context(pa.array(sentences, pa.string()), ends)

    def chars(self, start: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Characters of the blocks of `count` sentences from sentence `start`."""
        return self.ends[start + count] - self.ends[start] - 1

    def append(self, prompt: pa.ChunkedArray, rng: np.random.Generator) -> pa.Array:
        """`prompt` with a block of context after every prompt of 240 characters or more.

        One call is one generation window (whole hours). The block is drawn per distinct
        prompt length, and blocks are then adjusted so that distinct lengths stay distinct:
        prompts of equal length stay equal in length, prompts of different lengths stay
        different, so counts of distinct prompt lengths (rl_group_grading's candidates, in
        5-minute buckets that never straddle a window) are what they were without context.
        Vectorised: the blocks are one list array of sentence numbers joined by Arrow.
        """
        text = prompt.combine_chunks()
        lengths = np.asarray(pc.utf8_length(text).to_numpy(zero_copy_only=False), dtype=np.int64)
        values, inverse = np.unique(lengths, return_inverse=True)
        long = np.flatnonzero(values >= _CONTEXT_AFTER_CHARS)
        m = len(long)
        size = len(self.sentences)
        target = np.clip(
            _CONTEXT_MEDIAN_CHARS * np.exp(_CONTEXT_SIGMA * rng.standard_normal(m)),
            _CONTEXT_MIN_CHARS,
            _CONTEXT_MAX_CHARS,
        ).astype(np.int64)
        start = rng.integers(0, size, m)
        # The number of sentences whose joined length is nearest the target without passing
        # the maximum, but at least enough to reach the minimum (one sentence of at most the
        # minimum's length past it, so never past the maximum either).
        base = self.ends[start]
        fit = np.searchsorted(self.ends, base + target + 1, side="right") - 1
        over = self.ends[fit + 1] - base - 1
        nearer = (over - target < target - (self.ends[fit] - base - 1)) & (
            over <= _CONTEXT_MAX_CHARS
        )
        least = np.searchsorted(self.ends, base + _CONTEXT_MIN_CHARS + 1, side="left")
        count = np.maximum(np.maximum(fit + nearer, least) - start, 1)
        # Two lengths that would meet: the block of the longer prompt takes one sentence more
        # until none meet. A block that cannot grow shrinks instead, for good: every block
        # moves one way only, so this ends (in a handful of rounds in practice).
        new = values[long] + self.chars(start, count)
        step = np.ones(m, dtype=np.int64)
        for _ in range(_CONTEXT_SETTLE_ROUNDS):
            order = np.argsort(new, kind="stable")
            clash = order[1:][new[order[1:]] == new[order[:-1]]]
            if not len(clash):
                break
            full = self.chars(start[clash], count[clash] + 1) > _CONTEXT_MAX_CHARS
            step[clash[full]] = -1
            count[clash] += step[clash]
            new[clash] = values[long][clash] + self.chars(start[clash], count[clash])
        else:
            raise SampleError("pasted context: prompt lengths did not settle apart")
        if m and (self.chars(start, count) < _CONTEXT_MIN_CHARS).any():
            raise SampleError("pasted context: a block shrank below the minimum")
        per_value = np.zeros(len(values), dtype=np.int64)
        per_value[long] = count
        first = np.zeros(len(values), dtype=np.int64)
        first[long] = start
        row_count = per_value[inverse]
        which = (np.repeat(first[inverse], row_count) + _positions_in_segment(row_count)) % size
        offsets = np.concatenate([[0], np.cumsum(row_count)]).astype(np.int32)
        # Rows without a block get a null one, which the join skips (separator included).
        lists = pa.ListArray.from_arrays(
            pa.array(offsets), self.sentences.take(which), mask=pa.array(row_count == 0)
        )
        return pc.binary_join_element_wise(
            text, pc.binary_join(lists, " "), _CONTEXT_SEPARATOR, null_handling="skip"
        )


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


def _parse_day(value: str, what: str) -> int:
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise SampleError(f"{what} must be a date like 2026-07-01, got {value!r}") from exc
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * US


@dataclass(frozen=True)
class _Period:
    """The covered period in microseconds since the epoch, whole UTC days."""

    start_us: int
    end_us: int
    n_days: int
    release_fraction: float = 0.54
    release_hour: int = 16

    @staticmethod
    def parse(start: str, end: str) -> _Period:
        s, e = _parse_day(start, "period_start"), _parse_day(end, "period_end")
        if e - s < 14 * DAY_US:
            raise SampleError("the period must cover at least 14 days")
        if e - s > 400 * DAY_US:
            raise SampleError("the period must cover at most 400 days")
        return _Period(s, e, (e - s) // DAY_US)

    @property
    def release_us(self) -> int:
        day = int(self.n_days * self.release_fraction)
        return self.start_us + day * DAY_US + self.release_hour * HOUR_US


def _hour_of_week(abs_hours: np.ndarray) -> np.ndarray:
    # 1970-01-01 was a Thursday: hour 0 of the epoch is hour 72 of a Monday-based week.
    return (abs_hours + 72) % 168


@dataclass(frozen=True)
class _Window:
    """A slice of the period processed at once; events starting in it are generated."""

    start_us: int
    end_us: int
    day: int
    how: np.ndarray  # hour-of-week (UTC, Monday 00:00 = 0) of each hour in the window

    @property
    def hours(self) -> int:
        return len(self.how)


def _weekly_profile(text: _Text, name: str, offset: int) -> np.ndarray:
    """Relative activity per UTC hour-of-week for people living at UTC+offset (day sum ~ 1)."""
    hourly = np.asarray(_get(text.common, f"profiles.hourly.{name}"), dtype=np.float64)
    weekly = np.asarray(_get(text.common, f"profiles.weekly.{name}"), dtype=np.float64)
    if hourly.shape != (24,) or weekly.shape != (7,):
        raise SampleError(f"sample text: profile {name!r} needs 24 hourly and 7 weekly values")
    local = (hourly[None, :] * weekly[:, None]).reshape(168)
    utc = local[(np.arange(168) + offset) % 168]
    return utc / utc.sum() * 7.0


class _Profiles:
    """Hour-of-week weight vectors, one per (profile, UTC offset) group."""

    def __init__(self, text: _Text) -> None:
        self._text = text
        self._index: dict[tuple[str, int], int] = {}
        self._rows: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None

    def group(self, name: str, offset: int) -> int:
        key = (name, int(offset))
        if key not in self._index:
            self._index[key] = len(self._rows)
            self._rows.append(_weekly_profile(self._text, name, int(offset)))
            self._matrix = None
        return self._index[key]

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = np.vstack(self._rows)
        return self._matrix

    def window(self, groups: np.ndarray, win: _Window) -> tuple[np.ndarray, np.ndarray]:
        """Per group: total weight in the window and the CDF over its hours."""
        w = self.matrix[:, win.how]
        total = w.sum(axis=1)
        cdf = np.cumsum(w, axis=1) / np.maximum(total[:, None], 1e-12)
        return total, cdf

    @staticmethod
    def draw_times(
        rng: np.random.Generator, cdf: np.ndarray, groups: np.ndarray, win: _Window
    ) -> np.ndarray:
        """Event start times in the window following each event's group's hourly weights."""
        n = len(groups)
        hour = (rng.random(n)[:, None] > cdf[groups]).sum(axis=1)
        hour = np.minimum(hour, win.hours - 1)
        return win.start_us + hour * HOUR_US + (rng.random(n) * HOUR_US).astype(np.int64)


# --------------------------------------------------------------------------------------------
# Rows of one window
# --------------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """Generated requests before assembly: numbers as numpy arrays, text as Arrow arrays."""

    acct: np.ndarray  # global account index
    ts: np.ndarray  # microseconds since the epoch
    conv: np.ndarray  # uint64 conversation number
    turn: np.ndarray
    model: np.ndarray  # index into _World.models
    system: np.ndarray  # index into _World.system_texts, -1 for none
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

    def take(self, idx: np.ndarray) -> _Rows:
        values: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            values[f.name] = _chunked(v.take(idx)) if isinstance(v, pa.ChunkedArray) else v[idx]
        return _Rows(**values)

    def slice(self, start: int, stop: int) -> _Rows:
        values: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            is_text = isinstance(v, pa.ChunkedArray)
            values[f.name] = v.slice(start, stop - start) if is_text else v[start:stop]
        return _Rows(**values)

    @staticmethod
    def concat(parts: Sequence[_Rows]) -> _Rows:
        """Concatenate without copying text: Arrow columns just gain chunks."""
        values: dict[str, Any] = {}
        for f in fields(_Rows):
            vs = [getattr(p, f.name) for p in parts]
            if isinstance(vs[0], pa.ChunkedArray):
                values[f.name] = pa.chunked_array(
                    [c for v in vs for c in v.chunks], type=pa.string()
                )
            else:
                values[f.name] = np.concatenate(vs)
        return _Rows(**values)


def _chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray):
        return values
    return pa.chunked_array([values], type=pa.string())


def _rows(
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
) -> _Rows:
    """Build _Rows, broadcasting scalars and normalising dtypes."""
    n = len(ts)

    def full(v: np.ndarray | float | int | bool, dtype: type) -> np.ndarray:
        arr: np.ndarray = np.asarray(v, dtype=dtype)
        return np.full(n, arr, dtype=dtype) if arr.ndim == 0 else arr

    return _Rows(
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


# --------------------------------------------------------------------------------------------
# Accounts and the world they live in
# --------------------------------------------------------------------------------------------


@dataclass
class _AccountBlock:
    """Accounts of one population as plain columns (one list entry per account)."""

    label: str
    group: list[str]
    created_us: list[int]
    org: list[str | None]
    email_domain: list[str]
    payment: list[str]
    country: list[str]
    tier: list[str]
    user_agent: list[str]
    channel: list[str]
    logs_response: list[bool]
    ips: list[list[str]]  # the account's own addresses; ips[i][0] is its signup address
    n_keys: list[int]

    def __len__(self) -> int:
        return len(self.group)


@dataclass
class _Flat:
    """A ragged per-account table (IPs, API keys) flattened for vectorised lookups."""

    values: pa.Array
    offsets: np.ndarray
    counts: np.ndarray

    def pick(self, rng: np.random.Generator, acct: np.ndarray, skew: float = 1.0) -> pa.Array:
        """One entry per row for the row's account; skew > 1 favours the first entries."""
        u = rng.random(len(acct))
        if skew != 1.0:
            u = u**skew
        k = (u * self.counts[acct]).astype(np.int64)
        return self.values.take(self.offsets[acct] + k)


class _World:
    """Shared state: the period, the models, every account, and id and stream factories."""

    def __init__(self, text: _Text, *, seed: int, scale: float, period: _Period) -> None:
        self.text = text
        self.seed = seed
        self.scale = scale
        self.period = period
        self.profiles = _Profiles(text)
        # Pools grow gently with the scale so large samples repeat text less.
        self.pool_factor = min(2.0, max(0.35, math.sqrt(scale)))
        models = _get(text.common, "models")
        existing = _get(models, "existing")
        self.models: list[str] = [str(m["name"]) for m in existing]
        self.model_released_us: list[int] = [
            int(datetime.fromisoformat(str(m["released_at"]).replace("Z", "+00:00")).timestamp())
            * US
            for m in existing
        ]
        # Populations refer to models by role; everyday traffic uses the declared shares.
        roles = {str(m.get("role")): i for i, m in enumerate(existing) if m.get("role")}
        missing = {"flagship", "small", "previous"} - set(roles)
        if missing:
            raise SampleError(f"sample text: models.existing lacks roles {sorted(missing)}")
        self.flagship, self.small, self.previous = (
            roles["flagship"],
            roles["small"],
            roles["previous"],
        )
        self.model_shares = np.array([float(m.get("share", 0)) for m in existing])
        self.new_model = str(_get(models, "new"))
        self.models.append(self.new_model)
        fraction = float(_get(models, "new_release_fraction"))
        hour = int(_get(models, "new_release_hour"))
        self.period = period = _Period(
            period.start_us, period.end_us, period.n_days, fraction, hour
        )
        self.model_released_us.append(period.release_us)
        self.new_model_idx = len(self.models) - 1
        self.blocks: list[_AccountBlock] = []
        self.n_accounts = 0
        self._counters: dict[str, int] = {}
        self.indicators: list[tuple[str, str, str, str]] = []
        self.system_texts: list[str] = []
        self._system_index: dict[str, int] = {}
        self._frozen = False
        self.context: _Context | None = None  # pasted context for long prompts, when asked

    # -- randomness and ids ------------------------------------------------------------------
    def rng(self, *keys: str | int) -> np.random.Generator:
        return _stream(self.seed, *keys)

    def ids(self, kind: str, prefix: str, n: int) -> list[str]:
        """n fresh unique ids of one kind: a seeded bijection of a per-kind counter."""
        start = self._counters.get(kind, 0)
        self._counters[kind] = start + n
        salt = _mix64(np.array([zlib.crc32(kind.encode()) ^ (self.seed << 32)], dtype=np.uint64))
        counter = np.arange(start, start + n, dtype=np.uint64)
        return _hex_ids(prefix, _mix64(counter ^ salt[0])).to_pylist()

    def filler(self, *keys: str | int, slots: Mapping[str, Any] | None = None) -> _Filler:
        table = _slot_table(slots or {}, self.text.common.get("slots", {}))
        return _Filler(self.rng("text", *keys), table)

    def system_id(self, text: str) -> int:
        """Register a system prompt; rows carry its number, the text is looked up at the end."""
        if text not in self._system_index:
            self._system_index[text] = len(self.system_texts)
            self.system_texts.append(text)
        return self._system_index[text]

    # -- accounts ----------------------------------------------------------------------------
    def add(self, block: _AccountBlock) -> int:
        """Register a population's accounts; returns the global index of its first account."""
        if self._frozen:
            raise RuntimeError("accounts added after freeze()")
        base = self.n_accounts
        self.blocks.append(block)
        self.n_accounts += len(block)
        return base

    def freeze(self) -> None:
        """Build the per-account lookup arrays used when assembling request rows."""
        self._frozen = True
        self.system_arr = pa.array(self.system_texts, pa.string())
        blocks = self.blocks
        self.account_ids = self.ids("account", "acct_", self.n_accounts)
        self.account_id_arr = pa.array(self.account_ids, pa.string())
        self.org_arr = pa.array([o for b in blocks for o in b.org], pa.string())
        self.ua_arr = pa.array([u for b in blocks for u in b.user_agent], pa.string())
        self.channel_arr = pa.array([c for b in blocks for c in b.channel], pa.string())
        self.logs_response = np.array([x for b in blocks for x in b.logs_response], dtype=np.bool_)
        group_names = sorted({g for b in blocks for g in b.group})
        self.group_names = group_names
        gi = {g: i for i, g in enumerate(group_names)}
        self.group_idx = np.array([gi[g] for b in blocks for g in b.group], dtype=np.int64)
        ips = [ip for b in blocks for ip in b.ips]
        self.ip_table = _Flat(
            pa.array([ip for lst in ips for ip in lst], pa.string()),
            np.cumsum([0] + [len(x) for x in ips[:-1]]).astype(np.int64),
            np.array([len(x) for x in ips], dtype=np.int64),
        )
        n_keys = np.array([k for b in blocks for k in b.n_keys], dtype=np.int64)
        self.key_table = _Flat(
            pa.array(self.ids("api_key", "key_", int(n_keys.sum())), pa.string()),
            (np.cumsum(n_keys) - n_keys).astype(np.int64),
            n_keys,
        )

    def labels(self) -> list[str]:
        return [b.label for b in self.blocks for _ in range(len(b))]

    def groups(self) -> list[str]:
        return [g for b in self.blocks for g in b.group]

    # -- helpers shared by populations -------------------------------------------------------
    def pick_ips(self, rng: np.random.Generator, acct: np.ndarray, skew: float = 1.0) -> pa.Array:
        return self.ip_table.pick(rng, acct, skew)

    def pick_keys(self, rng: np.random.Generator, acct: np.ndarray) -> pa.Array:
        return self.key_table.pick(rng, acct, 1.6)

    def ordinary_models(
        self, rng: np.random.Generator, ts: np.ndarray, adoption: float = 0.35
    ) -> np.ndarray:
        """Model per request for everyday traffic: older models, the new one adopted gradually."""
        n = len(ts)
        model = _choice(rng, self.model_shares, n).astype(np.int16)
        days_since = (ts - self.period.release_us) / DAY_US
        share = np.where(days_since > 0, adoption * (1 - np.exp(-days_since / 12.0)), 0.0)
        model[rng.random(n) < share] = self.new_model_idx
        return model

    def residential_ips(self, rng: np.random.Generator, n: int) -> pa.Array:
        first = np.asarray(_get(self.text.common, "ip_first_octets.residential"), dtype=np.int64)
        return _ipv4(
            first[rng.integers(0, len(first), n)],
            rng.integers(0, 256, n),
            rng.integers(0, 256, n),
            rng.integers(2, 255, n),
        )


def _subnets(rng: np.random.Generator, world: _World, kind: str, n: int) -> list[str]:
    """n distinct random /24 prefixes ("a.b.c") of residential or datacenter space."""
    first = np.asarray(_get(world.text.common, f"ip_first_octets.{kind}"), dtype=np.int64)
    out: dict[str, None] = {}
    while len(out) < n:
        m = n - len(out) + 8
        a = first[rng.integers(0, len(first), m)]
        b, c = rng.integers(0, 256, m), rng.integers(0, 256, m)
        for prefix in pc.binary_join_element_wise(
            _OCTETS.take(a), _OCTETS.take(b), _OCTETS.take(c), "."
        ).to_pylist():
            if len(out) < n:
                out[prefix] = None
    return list(out)


def _hosts(rng: np.random.Generator, prefix: str, n: int) -> list[str]:
    hosts = rng.choice(np.arange(2, 255), size=min(n, 253), replace=False)
    return [f"{prefix}.{h}" for h in hosts]


def _company_domain(filler: _Filler, world: _World) -> str:
    parts = _get(world.text.common, "name_parts")
    tld = filler.pick(_strings(_get(world.text.common, "email_domains.company_tlds"), "tlds"))
    return f"{filler.pick(parts['first'])}{filler.pick(parts['second'])}.{tld}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _days_before(
    world: _World, rng: np.random.Generator, lo: float, hi: float, n: int
) -> list[int]:
    """Creation times lo..hi days before the period start, whole seconds."""
    days = rng.uniform(lo, hi, n)
    return [int(world.period.start_us - d * DAY_US) // US * US for d in days]


# --------------------------------------------------------------------------------------------
# Populations
# --------------------------------------------------------------------------------------------


class _Population:
    """One population's traffic, produced window by window in time order."""

    name: str = ""

    def rows(self, win: _Window) -> _Rows | None:
        raise NotImplementedError


def _build_populations(world: _World) -> list[_Population]:
    ordinary_text = _OrdinaryText(world)
    pops: list[_Population] = [_Ordinary(world, ordinary_text)]
    # Look-alike kinds are one organisation each at scale 1; their number grows with scale.
    n_orgs = max(1, round(world.scale))
    pops += [
        _EvalCompany(world, n_orgs),
        _EnterpriseBatch(world, n_orgs),
        _AgentProduct(world, n_orgs),
        _ResearchGroup(world, n_orgs),
        _TutoringApp(world, n_orgs),
    ]
    pops.append(_ReasoningHarvester(world))
    pops.append(_HydraProxy(world, ordinary_text))
    pops.append(_TemplatedLowVolume(world))
    return pops


def _campaign_size(world: _World, base: tuple[int, int]) -> tuple[int, float]:
    """Accounts and requests per account of a campaign at this scale."""
    accounts = max(_MIN_CAMPAIGN_ACCOUNTS, round(base[0] * world.scale))
    per_account = max(_MIN_CAMPAIGN_ACCOUNT_REQUESTS, base[1] * world.scale / accounts)
    return accounts, per_account


# -- ordinary customers ----------------------------------------------------------------------


class _OrdinaryText:
    """Everyday prompts, follow-ups, system prompts and responses in six languages."""

    def __init__(self, world: _World) -> None:
        doc = world.text.ordinary
        self.languages = _strings(_get(doc, "languages"), "languages")
        topics = _get(doc, "topics")
        self.topics = list(topics)
        self.topic_weights = np.array([float(topics[t]["weight"]) for t in self.topics])
        self.out_median = np.array([float(topics[t]["out_median"]) for t in self.topics])
        filler = world.filler("ordinary", slots=_get(doc, "slots"))
        n_head = _pool_size(world, 80)
        n_body = _pool_size(world, 400)
        # Heads: category (topic, with_body, language); missing languages fall back to English.
        body_kinds = ["prose", "email", "legal", "product", "code", "table", "translate"]
        self.body_kind = np.array(
            [
                body_kinds.index(topics[t]["body"]) if topics[t]["body"] != "none" else -1
                for t in self.topics
            ]
        )
        context = _get(doc, "context")
        head_groups: list[list[str]] = []
        for t in self.topics:
            for kind in ("alone", "with_body"):
                variants = topics[t].get(kind) or {}
                for lang in self.languages:
                    templates = variants.get(lang) or variants.get("en")
                    if not templates:  # e.g. a topic without stand-alone heads: use the other kind
                        other = topics[t].get("with_body" if kind == "alone" else "alone") or {}
                        templates = other.get(lang) or other.get("en")
                    heads = filler.fill_many(_strings(templates, t), n_head)
                    head_groups.append(heads)
        self.heads = _Pool.of(head_groups)
        # Context people add to a stand-alone request (index 0: none), per language.
        ctx_groups: list[list[str]] = [[""]]
        for lang in self.languages:
            lines = _strings(context.get(lang) or context["en"], "context")
            extra = [filler.variants([line]) for line in lines]
            sep = "" if lang in ("zh", "ja") else " "
            ctx_groups.append(
                [
                    sep
                    + sep.join(filler.pick(v) for v in filler.sample(extra, filler.between(1, 3)))
                    for _ in range(_pool_size(world, 120))
                ]
            )
        self.context = _Pool.of(ctx_groups)
        self.chat_topic = self.topics.index("chat") if "chat" in self.topics else -1
        self.has_alone = np.array([bool(topics[t].get("alone")) for t in self.topics])

        # Bodies: category (kind, language), index 0 of the pool is the empty body.
        bodies = _get(doc, "bodies")
        body_groups: list[list[str]] = [[""]]
        for kind in body_kinds:
            for lang in self.languages:
                body_groups.append(self._bodies(filler, bodies, kind, lang, n_body))
        self.bodies = _Pool.of(body_groups)

        self.followups = _Pool.of(
            [
                filler.fill_many(_strings(_get(doc, "followups").get(lang) or [], "followups"), 40)
                for lang in self.languages
            ]
        )
        errors = _strings(_get(bodies, "errors"), "errors")
        self.errors = _Pool.of([filler.fill_many(errors, 60)])
        self.error_lead = str(_get(doc, "error_followup"))
        sys_doc = _get(doc, "system_prompts")
        self.systems = _Pool.of(
            [
                filler.fill_many(_strings(sys_doc.get(lang), "system_prompts"), 24)
                for lang in self.languages
            ]
        )
        self.system_ids = np.array(
            [world.system_id(t) for t in self.systems.values.to_pylist()], dtype=np.int64
        )
        openers = _get(doc, "responses.openers")
        code_openers = _get(doc, "responses.code_openers")
        sentences = _get(doc, "responses.sentences")
        per_topic = _get(doc, "responses.topic_sentences")
        code = _strings(_get(bodies, "code"), "code")
        snippets = filler.variants(code, 4)
        self.code_topic = self.topics.index("coding") if "coding" in self.topics else -1
        # Response excerpts: category (language, topic). Coding answers carry code; English
        # answers mix in sentences about the topic.
        resp_groups: list[list[str]] = []
        n_resp = _pool_size(world, 40)
        for lang in self.languages:
            op = _strings(openers.get(lang), f"openers.{lang}")
            code_op = _strings(code_openers.get(lang) or code_openers["en"], "code_openers")
            generic = filler.variants(_strings(sentences.get(lang), f"sentences.{lang}"))
            sep = "" if lang in ("zh", "ja") else " "
            for t, topic in enumerate(self.topics):
                if t == self.code_topic:
                    resp_groups.append(
                        [
                            filler.pick(code_op) + "\n\n```\n" + filler.pick(snippets) + "```"
                            for _ in range(n_resp)
                        ]
                    )
                    continue
                bank = generic + (per_topic.get(topic, []) if lang == "en" else [])
                resp_groups.append(
                    [
                        filler.pick(op)
                        + "\n\n"
                        + sep.join(filler.sample(bank, filler.between(2, 5)))
                        for _ in range(n_resp)
                    ]
                )
        self.responses = _Pool.of(resp_groups)
        self._translate = body_kinds.index("translate")

    def _bodies(
        self, filler: _Filler, bodies: Mapping[str, Any], kind: str, lang: str, n: int
    ) -> list[str]:
        """n pasted bodies of one kind: several sentences, an e-mail, code or a CSV table."""
        out: list[str] = []
        sep = "" if lang in ("zh", "ja") else " "
        # Fill each sentence template a few times up front: bodies then cost only joins.
        if kind in ("prose", "legal", "product", "translate"):
            bank = bodies["prose" if kind == "translate" else kind]
            sents = _strings(bank.get(lang) or bank["en"], f"bodies.{kind}")
            variants = [filler.variants([t]) for t in sents]
            for _ in range(n):
                # Distinct sentences only, so short banks give shorter bodies, not repeats.
                k = filler.between(4, 12) if filler.uniform() < 0.85 else filler.between(15, 36)
                chosen = [filler.pick(variants[i]) for i in filler.sample(range(len(sents)), k)]
                paras, at = [], 0
                while at < len(chosen):
                    step = filler.between(2, 4)
                    paras.append(sep.join(chosen[at : at + step]))
                    at += step
                out.append("\n\n".join(paras))
        elif kind == "email":
            mail = bodies["email"].get(lang) or bodies["email"]["en"]
            lines = filler.variants(_strings(mail["lines"], "email lines"))
            greetings = filler.variants(_strings(mail["greetings"], "greetings"))
            closings = _strings(mail["closings"], "closings")
            names = _strings(filler.slots["name"], "name")
            for _ in range(n):
                text = sep.join(filler.sample(lines, filler.between(2, 7)))
                out.append(
                    f"{filler.pick(greetings)}\n\n{text}\n\n"
                    f"{filler.pick(closings)}\n{filler.pick(names)}"
                )
        elif kind == "code":
            snippets = filler.variants(_strings(bodies["code"], "bodies.code"), 20)
            errors = filler.variants(_strings(bodies["errors"], "errors"), 8)
            for _ in range(n):
                # Mostly one snippet; sometimes two or three files pasted together.
                k = 1 if filler.uniform() < 0.8 else filler.between(2, 3)
                body = "\n\n".join("```\n" + code + "```" for code in filler.sample(snippets, k))
                if filler.uniform() < 0.3:
                    body += "\n\n" + filler.pick(errors)
                out.append(body)
        elif kind == "table":
            tables = [
                (str(spec["header"]), [filler.fill(str(spec["row"])) for _ in range(60)])
                for spec in bodies["table"]
            ]
            for _ in range(n):
                header, rows = tables[int(filler.uniform() * len(tables))]
                out.append(header + "\n" + "\n".join(filler.sample(rows, filler.between(6, 40))))
        else:
            raise SampleError(f"sample text: unknown body kind {kind!r}")
        return out

    def prompts(
        self, rng: np.random.Generator, lang: np.ndarray, topic: np.ndarray, first: np.ndarray
    ) -> pa.Array:
        """Prompt per row: a head (plus pasted body) on first turns, a follow-up otherwise."""
        n = len(lang)
        pos_first = np.flatnonzero(first)
        pos_next = np.flatnonzero(~first)
        pieces: list[tuple[np.ndarray, pa.Array]] = []
        if len(pos_first):
            lf, tf = lang[pos_first], topic[pos_first]
            kind = self.body_kind[tf]
            with_body = (kind >= 0) & ((rng.random(len(tf)) < 0.8) | ~self.has_alone[tf])
            L = len(self.languages)
            head_cat = (tf * 2 + with_body) * L + lf
            heads = self.heads.draw(rng, head_cat)
            # Translation bodies are usually in another language than the request.
            body_lang = np.where(
                (kind == self._translate) & (rng.random(len(tf)) < 0.6),
                rng.integers(0, L, len(tf)),
                lf,
            )
            body_cat = 1 + np.maximum(kind, 0) * L + body_lang
            body_idx = np.where(with_body, self.bodies.pick(rng, body_cat), 0)
            sep = pa.array(["", "\n\n"]).take(with_body.astype(np.int64))
            # Half of the stand-alone requests (not small talk) carry a sentence of context.
            with_ctx = ~with_body & (tf != self.chat_topic) & (rng.random(len(tf)) < 0.5)
            ctx_idx = np.where(with_ctx, self.context.pick(rng, 1 + lf), 0)
            first_turns = _join(heads, sep, self.bodies.take(body_idx), self.context.take(ctx_idx))
            pieces.append((pos_first, first_turns))
        if len(pos_next):
            ln, tn = lang[pos_next], topic[pos_next]
            follow = self.followups.draw(rng, ln)
            # Coders paste the next error message instead of a chatty follow-up.
            pasted = (tn == self.code_topic) & (rng.random(len(tn)) < 0.35)
            if pasted.any():
                errs = self.errors.draw(rng, np.zeros(len(tn), dtype=np.int64))
                follow = pc.if_else(pa.array(pasted), _join(self.error_lead, errs), follow)
            pieces.append((pos_next, follow))
        return _merge(n, pieces)

    def responses_for(
        self, rng: np.random.Generator, lang: np.ndarray, topic: np.ndarray
    ) -> pa.Array:
        return self.responses.draw(rng, lang * len(self.topics) + topic)


class _Ordinary(_Population):
    """Ordinary customers: heavy-tailed volume, local diurnal rhythm, multi-turn chats."""

    name = "ordinary"

    def __init__(self, world: _World, text: _OrdinaryText) -> None:
        self.world, self.text = world, text
        rng = world.rng("accounts", "ordinary")
        filler = world.filler("accounts", "ordinary")
        n = max(40, round(_ORDINARY[0] * world.scale))
        budget = _ORDINARY[1] * world.scale
        period = world.period
        countries = _get(world.text.common, "countries")
        c_idx = _choice(rng, [float(c["weight"]) for c in countries], n)
        lang_names = text.languages
        self.lang = np.array([lang_names.index(str(countries[i]["language"])) for i in c_idx])
        u_off = rng.random(n)
        offsets = [
            int(countries[c]["offsets"][int(u * len(countries[c]["offsets"]))])
            for c, u in zip(c_idx, u_off, strict=True)
        ]
        profile = np.where(rng.random(n) < 0.45, "office", "consumer")
        self.group = np.array(
            [world.profiles.group(str(p), o) for p, o in zip(profile, offsets, strict=True)]
        )

        # Activity span: most accounts all quarter, some sign up or churn during it.
        start = np.zeros(n, dtype=np.int64)
        end = np.full(n, period.n_days, dtype=np.int64)
        kind = rng.random(n)
        newcomer = kind < 0.14
        start[newcomer] = rng.integers(1, period.n_days - 3, newcomer.sum())
        churn = (kind >= 0.14) & (kind < 0.22)
        end[churn] = rng.integers(5, period.n_days, churn.sum())
        self.start_day, self.end_day = start, end

        # Heavy-tailed volume, capped so one account never dominates a small sample.
        weight = np.minimum(rng.pareto(1.25, n) + 0.15, 60.0)
        active_days = np.maximum(end - start, 1)
        mean_turns = 1.75
        self.sessions_per_day = weight / weight.sum() * budget / mean_turns / active_days

        self.main_topic = _choice(rng, text.topic_weights, n)
        # English for part of non-English speakers' sessions.
        self.p_english = np.where(self.lang == 0, 1.0, rng.uniform(0.05, 0.3, n))
        temps = np.array([1.0, 0.7, 0.0, 0.2, 0.3, 0.5, 0.8, 1.0])
        self.temperature = temps[_choice(rng, [30, 22, 10, 8, 8, 10, 6, 6], n)]
        maxes = np.array([1024, 2048, 4096, 8192, 1000, 4000, 16000, 512, 32000])
        self.max_tokens = maxes[_choice(rng, [14, 16, 22, 14, 8, 8, 8, 5, 5], n)]
        self.tools = np.where(rng.random(n) < 0.12, rng.integers(1, 9, n), 0)
        self.p_thinking = np.where(rng.random(n) < 0.22, 0.6, 0.02)
        # A quarter of accounts stay on one model whatever is released (pinned in their code).
        pinned = np.array([world.previous, world.small, world.flagship, world.flagship])
        self.pinned_model = np.where(rng.random(n) < 0.25, pinned[rng.integers(0, 4, n)], -1)
        self.system_idx = np.where(
            rng.random(n) < 0.3, text.system_ids[text.systems.pick(rng, self.lang)], -1
        ).astype(np.int64)

        uas = _get(world.text.common, "user_agents.ordinary")
        ua_idx = _choice(rng, [float(u["weight"]) for u in uas], n)
        created_days = np.where(newcomer, start - rng.uniform(0, 1.5, n), -rng.uniform(2, 900, n))
        created = [int(period.start_us + d * DAY_US) // US * US for d in created_days]

        # Organisations: most accounts have none or their own; a few small teams share one
        # (and often one card: the benign face of payment sharing).
        org: list[str | None] = []
        payment: list[str] = []
        domains: list[str] = []
        consumer = _strings(_get(world.text.common, "email_domains.consumer"), "consumer")
        org_ids = iter(world.ids("org", "org_", n))
        card_ids = iter(world.ids("card", "pf_", n))
        u_org = rng.random(n)
        team_size = rng.integers(2, 5, n)
        shares_card = rng.random(n) < 0.6
        own_domain = rng.random(n) < 0.5
        i = 0
        while i < n:
            size = min(int(team_size[i]) if u_org[i] < 0.06 else 1, n - i)
            if size > 1:
                team_org = next(org_ids)
                domain = _company_domain(filler, world)
                card = next(card_ids) if shares_card[i] else None
                for _ in range(size):
                    org.append(team_org)
                    domains.append(domain)
                    payment.append(card or next(card_ids))
            else:
                org.append(next(org_ids) if u_org[i] < 0.40 else None)
                company = u_org[i] < 0.40 and own_domain[i]
                domains.append(_company_domain(filler, world) if company else filler.pick(consumer))
                payment.append(next(card_ids))
            i += size

        tiers = ["free", "build", "scale", "startup", "enterprise", "education"]
        tier_idx = _choice(rng, [45, 38, 8, 4, 2, 3], n)
        ch_idx = _choice(rng, [90, 4, 3, 3], n)
        subnet = _subnets(rng, world, "residential", n * 2)
        n_ips = _choice(rng, [60, 30, 10], n) + 1
        host = rng.integers(2, 255, (n, 3))
        ips: list[list[str]] = []
        for i in range(n):
            own = [f"{subnet[2 * i]}.{host[i, 0]}"]
            if n_ips[i] >= 2:
                own.append(f"{subnet[2 * i + 1]}.{host[i, 1]}")
            if n_ips[i] == 3 and host[i, 2] != host[i, 0]:
                own.append(f"{subnet[2 * i]}.{host[i, 2]}")
            ips.append(own)

        block = _AccountBlock(
            label="ordinary",
            group=["ordinary"] * n,
            created_us=created,
            org=org,
            email_domain=domains,
            payment=payment,
            country=[str(countries[i]["code"]) for i in c_idx],
            tier=[tiers[i] for i in tier_idx],
            user_agent=[str(uas[i]["value"]) for i in ua_idx],
            channel=[CHANNELS[i] for i in ch_idx],
            logs_response=list(rng.random(n) < 0.38),
            ips=ips,
            n_keys=list(1 + _choice(rng, [70, 22, 6, 2], n)),
        )
        self.base = world.add(block)
        self.n = n

    def rows(self, win: _Window) -> _Rows | None:
        world, text = self.world, self.text
        rng = world.rng("ordinary", win.start_us // HOUR_US)
        active = (self.start_day <= win.day) & (win.day < self.end_day)
        wsum, cdf = world.profiles.window(self.group, win)
        n_sess = rng.poisson(self.sessions_per_day * wsum[self.group] * active)
        total = int(n_sess.sum())
        if total == 0:
            return None
        acct = np.repeat(np.arange(self.n), n_sess)
        start = _Profiles.draw_times(rng, cdf, self.group[acct], win)
        turns = np.minimum(rng.geometric(0.6, total), 10)
        turns = np.where(
            self.tools[acct] > 0, np.minimum(turns + rng.integers(0, 4, total), 14), turns
        )
        R = int(turns.sum())
        row_sess = np.repeat(np.arange(total), turns)
        turn = _positions_in_segment(turns)
        gaps = (rng.lognormal(math.log(70.0), 0.9, R) * US).astype(np.int64)
        gaps[turn == 0] = 0
        ts = start[row_sess] + _segment_offsets(gaps, turns)
        row_acct = acct[row_sess]

        # Per conversation: language, topic and model stay the same across its turns.
        english = rng.random(total) < self.p_english[acct]
        s_lang = np.where(english, 0, self.lang[acct])
        s_topic = np.where(
            rng.random(total) < 0.6, self.main_topic[acct], _choice(rng, text.topic_weights, total)
        )
        s_model = world.ordinary_models(rng, start)
        pinned = self.pinned_model[acct]
        s_model = np.where(pinned >= 0, pinned, s_model)
        lang, topic = s_lang[row_sess], s_topic[row_sess]

        prompt = text.prompts(rng, lang, topic, turn == 0)
        response = text.responses_for(rng, lang, topic)
        system = self.system_idx[row_acct]

        temperature = np.where(
            rng.random(R) < 0.15, rng.choice([0.0, 0.5, 0.7, 1.0], R), self.temperature[row_acct]
        )
        max_tokens = self.max_tokens[row_acct]
        out, stop = _outputs(rng, text.out_median[topic], 0.75, max_tokens, 0.01)
        tools = self.tools[row_acct]
        tool_stop = (tools > 0) & (rng.random(R) < 0.4) & (turn < turns[row_sess] - 1)
        stop[tool_stop] = TOOL_USE
        out[tool_stop] = np.minimum(
            _lognormal_int(rng, 110, 0.6, int(tool_stop.sum())), max_tokens[tool_stop]
        )
        glob = self.base + row_acct
        return _rows(
            acct=glob,
            ts=ts,
            conv=_rand_u64(rng, total)[row_sess],
            turn=turn,
            model=s_model[row_sess],
            system=system,
            prompt=prompt,
            response=response,
            ip=world.pick_ips(rng, glob, 2.5),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=tools,
            temperature=temperature,
            thinking=rng.random(R) < self.p_thinking[row_acct],
            stop=stop,
        )


# -- benign look-alikes ----------------------------------------------------------------------


def _org_block(
    world: _World,
    rng: np.random.Generator,
    *,
    group: str,
    n: int,
    country: str,
    tier: Sequence[str],
    domain: str,
    user_agent: Sequence[str],
    ips: Sequence[str],
    created_days: tuple[float, float],
    logs_response: bool,
    n_keys: tuple[int, int] = (1, 2),
) -> _AccountBlock:
    """Accounts of one verified organisation: one org id, one card, its own address range."""
    org = world.ids("org", "org_", 1)[0]
    card = world.ids("card", "pf_", 1)[0]
    return _AccountBlock(
        label="lookalike",
        group=[group] * n,
        created_us=sorted(_days_before(world, rng, *created_days, n)),
        org=[org] * n,
        email_domain=[domain] * n,
        payment=[card] * n,
        country=[country] * n,
        tier=[tier[i % len(tier)] for i in range(n)],
        user_agent=[user_agent[i % len(user_agent)] for i in range(n)],
        channel=["api"] * n,
        logs_response=[logs_response] * n,
        ips=[[ips[(i + j) % len(ips)] for j in range(len(ips))] for i in range(n)],
        n_keys=[int(rng.integers(n_keys[0], n_keys[1] + 1)) for _ in range(n)],
    )


def _org_name(filler: _Filler, names: Sequence[str], org: int) -> str:
    base = names[org % len(names)]
    return base if org < len(names) else f"{base} {filler.between(2, 99)}"


class _EvalCompany(_Population):
    """Benchmark companies: scheduled test-set runs at temperature 0, day one on a new model."""

    name = "eval_company"

    def __init__(self, world: _World, n_orgs: int) -> None:
        self.world = world
        doc = _get(world.text.lookalikes, self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        self.per_org = _EVAL[0]
        volume = _EVAL[1] * world.scale / n_orgs
        bench = max(40, int(volume / 5))
        self._build_bench(doc, filler, bench)

        p = world.period
        release_day = (p.release_us - p.start_us) // DAY_US
        self.runs: list[tuple[int, int, int, int, int]] = []  # start, model, items, base, offset
        self.base = world.n_accounts
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            name = _org_name(world.filler(self.name, org), _strings(doc["org_names"], "names"), org)
            dc = _subnets(rng, world, "datacenter", 1)[0]
            base = world.add(
                _org_block(
                    world,
                    rng,
                    group=self.name,
                    n=self.per_org,
                    country="US",
                    tier=["enterprise"],
                    domain=_slug(name).replace("-", "") + ".ai",
                    user_agent=[str(doc["user_agent"])],
                    ips=_hosts(rng, dc, 4),
                    created_days=(200, 600),
                    logs_response=True,
                )
            )
            # A few runs on existing models before the release, one within hours of it on
            # the new model, and a re-run of half the benchmark a couple of weeks later.
            offset = int(rng.integers(0, bench))
            for model in (world.flagship, world.small, world.previous):
                day = int(rng.integers(2, max(3, release_day - 3)))
                start = p.start_us + day * DAY_US + int(rng.uniform(13, 20) * HOUR_US)
                self.runs.append((start, model, bench, base, offset))
            first = p.release_us + int(rng.uniform(1.5, 5.0) * HOUR_US)
            self.runs.append((first, world.new_model_idx, bench, base, offset))
            later = min(p.n_days - 2, release_day + int(rng.integers(8, 25)))
            start = p.start_us + later * DAY_US + int(rng.uniform(13, 20) * HOUR_US)
            self.runs.append((start, world.new_model_idx, bench // 2, base, offset))
        self.runs.sort()

    def _build_bench(self, doc: Mapping[str, Any], filler: _Filler, size: int) -> None:
        """Benchmark items (with answers) re-run on every model: exact repeats across runs."""
        mcq = doc["mcq_items"]
        letters = "ABCD"

        def mcq_block(item: Mapping[str, Any], with_answer: bool) -> str:
            opts = "\n".join(
                f"{letters[k]}. {filler.fill(str(o))}" for k, o in enumerate(item["options"])
            )
            tail = f" {item['answer']}" if with_answer else ""
            return f"{filler.fill(str(item['q']))}\n{opts}\nAnswer:{tail}"

        items, answers, kinds = [], [], []
        for _ in range(size):
            u = filler.uniform()
            if u < 0.7:
                shots = [
                    mcq_block(mcq[int(filler.uniform() * len(mcq))], True)
                    for _ in range(filler.between(0, 5))
                ]
                item = mcq[int(filler.uniform() * len(mcq))]
                header = filler.fill(str(doc["mcq_header"]))
                items.append("\n\n".join([header, *shots, mcq_block(item, False)]))
                answers.append(" " + str(item["answer"]))
                kinds.append(0)
            elif u < 0.88:
                item = doc["shortqa_items"][int(filler.uniform() * len(doc["shortqa_items"]))]
                question = str(doc["shortqa_format"]).replace("{{@q}}", filler.fill(str(item["q"])))
                items.append(str(doc["shortqa_header"]) + question)
                answers.append(" " + filler.fill(str(item["a"])))
                kinds.append(1)
            else:
                item = doc["code_items"][int(filler.uniform() * len(doc["code_items"]))]
                items.append(str(doc["code_header"]) + filler.fill(str(item["prompt"])))
                answers.append(str(item["answer"]))
                kinds.append(2)
        self.items = pa.array(items, pa.string())
        self.answers = pa.array(answers, pa.string())
        self.kinds = np.array(kinds, dtype=np.int64)

    def rows(self, win: _Window) -> _Rows | None:
        starting = [r for r in self.runs if win.start_us <= r[0] < win.end_us]
        if not starting:
            return None
        parts = []
        for start, model, n, base, offset in starting:
            rng = self.world.rng(self.name, base, start // US)
            # Fixed concurrency: about one request every 1-3 seconds, rotating over workers.
            step = rng.uniform(1.0, 3.0) * US
            ts = start + (np.arange(n) * step + rng.random(n) * step * 0.5).astype(np.int64)
            item = (offset + np.arange(n)) % len(self.items)
            acct = base + np.arange(n) % self.per_org
            kinds = self.kinds[item]
            max_tokens = np.array([5, 32, 512])[kinds]
            out = np.where(
                kinds == 0,
                1,
                np.where(kinds == 1, rng.integers(2, 9, n), rng.integers(40, 160, n)),
            )
            out = np.minimum(out, max_tokens)
            parts.append(
                _rows(
                    acct=acct,
                    ts=ts,
                    conv=_rand_u64(rng, n),
                    turn=0,
                    model=model,
                    system=-1,
                    prompt=self.items.take(item),
                    response=self.answers.take(item),
                    ip=self.world.pick_ips(rng, acct),
                    key=self.world.pick_keys(rng, acct),
                    out_tokens=out,
                    max_tokens=max_tokens,
                    tool_count=0,
                    temperature=0.0,
                    thinking=False,
                    stop=np.where(out >= max_tokens, MAX_TOKENS, END_TURN),
                )
            )
        return _Rows.concat(parts)


class _EnterpriseBatch(_Population):
    """Enterprises summarising their support tickets: big templated volume, flat 24/7."""

    name = "enterprise_batch"

    def __init__(self, world: _World, n_orgs: int) -> None:
        self.world = world
        doc = _get(world.text.lookalikes, self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        lines = _strings(doc["lines"], "lines")
        products = _strings(_get(doc, "slots.product"), "slots.product")
        instructions = _strings(doc["instructions"], "instructions")
        tickets = []
        for _ in range(_pool_size(world, 400)):
            # One product per ticket, named the same way in the header and in the text.
            product = filler.pick(products)

            def fill(template: str, product: str = product) -> str:
                return filler.fill(template.replace("{{product}}", product))

            body = " ".join(fill(line) for line in filler.sample(lines, filler.between(2, 7)))
            # The ticket number is a hole: it grows with time like a real ticket system's.
            tickets.append(filler.pick(instructions) + "\n\n" + fill(str(doc["fields"])) + body)
        self.tickets = _HoledPool.of(["no"], [tickets], "enterprise tickets")
        self.responses = _Pool.of([filler.fill_many([str(doc["response"])], 200)])

        self.base = world.n_accounts
        system, first_ticket = [], []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            org_filler = world.filler(self.name, org, slots=doc.get("slots", {}))
            company = _org_name(org_filler, _strings(doc["company_names"], "names"), org)
            dc = _subnets(rng, world, "datacenter", 1)[0]
            block = _org_block(
                world,
                rng,
                group=self.name,
                n=_ENTERPRISE[0],
                country=["US", "DE", "GB"][org % 3],
                tier=["enterprise"],
                domain=_slug(company).split("-")[0] + ".com",
                user_agent=[str(doc["user_agent"])],
                ips=_hosts(rng, dc, 2),
                created_days=(120, 500),
                logs_response=False,
            )
            world.add(block)
            text = str(doc["system"]).replace("{{company}}", company)
            system += [world.system_id(org_filler.fill(text))] * len(block)
            first_ticket += [int(rng.integers(2_000_000, 9_000_000))] * len(block)
        self.n = world.n_accounts - self.base
        self.system = np.array(system, dtype=np.int64)
        self.first_ticket = np.array(first_ticket, dtype=np.int64)
        self.per_hour = _ENTERPRISE[1] * world.scale / (world.period.n_days * 24) / self.n

    def rows(self, win: _Window) -> _Rows | None:
        rng = self.world.rng(self.name, win.start_us // HOUR_US)
        counts = rng.poisson(self.per_hour * win.hours, self.n)
        n = int(counts.sum())
        if n == 0:
            return None
        local = np.repeat(np.arange(self.n), counts)
        acct = self.base + local
        ts = win.start_us + (rng.random(n) * (win.end_us - win.start_us)).astype(np.int64)
        elapsed = (ts - self.world.period.start_us) // (40 * US)
        ticket_no = self.first_ticket[local] + elapsed + rng.integers(0, 40, n)
        zero = np.zeros(n, dtype=np.int64)
        prompt = self.tickets.render(
            self.tickets.pick(rng, zero), [pc.cast(pa.array(ticket_no), pa.string())]
        )
        max_tokens = np.full(n, 400, dtype=np.int32)
        out, stop = _outputs(rng, 120.0, 0.3, max_tokens)
        return _rows(
            acct=acct,
            ts=ts,
            conv=_rand_u64(rng, n),
            turn=0,
            model=self.world.small,
            system=self.system[local],
            prompt=prompt,
            response=self.responses.draw(rng, zero),
            ip=self.world.pick_ips(rng, acct),
            key=self.world.pick_keys(rng, acct),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=0.0,
            thinking=False,
            stop=stop,
        )


class _AgentProduct(_Population):
    """IDE agent products: one long shared system prompt each, real multi-turn tool loops."""

    name = "agent_product"
    _TOOL_COUNT = 14  # the tools named in the product system prompt

    def __init__(self, world: _World, n_orgs: int) -> None:
        self.world = world
        doc = _get(world.text.lookalikes, self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        size = _pool_size(world, 400)
        self.tasks = _Pool.of([filler.fill_many(_strings(doc["tasks"], "tasks"), size)])
        self.tool_results = _Pool.of(
            [filler.fill_many(_strings(doc["tool_results"], "tool_results"), size * 2)]
        )
        self.followups = _Pool.of([filler.fill_many(_strings(doc["followups"], "followups"), 40)])
        self.responses = _Pool.of([filler.fill_many(_strings(doc["responses"], "responses"), 60)])

        self.base = world.n_accounts
        group, system, switch = [], [], []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            org_filler = world.filler(self.name, org, slots=doc.get("slots", {}))
            product = _org_name(org_filler, _strings(doc["product_names"], "names"), org)
            slug = _slug(product)
            dcs = _subnets(rng, world, "datacenter", 2)
            block = _org_block(
                world,
                rng,
                group=self.name,
                n=_AGENT[0],
                country="US",
                tier=["scale", "startup"],
                domain=slug.replace("-", "") + ".dev",
                user_agent=[str(doc["user_agent"]).replace("{{product}}", slug)],
                ips=_hosts(rng, dcs[0], 4) + _hosts(rng, dcs[1], 2),
                created_days=(150, 420),
                logs_response=True,
                n_keys=(2, 4),
            )
            world.add(block)
            text = org_filler.fill(str(doc["system"]).replace("{{product}}", product))
            system += [world.system_id(text)] * len(block)
            # Each account is a regional deployment serving that region's developers.
            group += [
                world.profiles.group("office", (-8, -5, 0, 1, 5, 9)[i % 6])
                for i in range(len(block))
            ]
            # The product upgrades every deployment at once, days after the release.
            moved = world.period.release_us + int(rng.uniform(5.5, 7.5) * DAY_US)
            switch += [moved] * len(block)
        self.n = world.n_accounts - self.base
        self.group = np.array(group, dtype=np.int64)
        self.system = np.array(system, dtype=np.int64)
        self.switch_us = np.array(switch, dtype=np.int64)
        rows_per_session = 6.5
        volume = _AGENT[1] * world.scale
        self.sessions_per_day = volume / rows_per_session / world.period.n_days / self.n

    def rows(self, win: _Window) -> _Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        wsum, cdf = world.profiles.window(self.group, win)
        n_sess = rng.poisson(self.sessions_per_day * wsum[self.group])
        total = int(n_sess.sum())
        if total == 0:
            return None
        acct = np.repeat(np.arange(self.n), n_sess)
        start = _Profiles.draw_times(rng, cdf, self.group[acct], win)
        turns = np.minimum(2 + rng.geometric(0.22, total), 18)
        R = int(turns.sum())
        row_sess = np.repeat(np.arange(total), turns)
        turn = _positions_in_segment(turns)
        # After turn 0 most messages are tool results; now and then the developer steps in.
        human = (turn > 0) & (rng.random(R) < 0.14)
        tool_turn = (turn > 0) & ~human
        gaps = np.where(
            human,
            rng.lognormal(math.log(80.0), 0.8, R) * US,
            rng.lognormal(math.log(7.0), 0.7, R) * US,
        ).astype(np.int64)
        gaps[turn == 0] = 0
        ts = start[row_sess] + _segment_offsets(gaps, turns)
        last = turn == turns[row_sess] - 1
        next_human = np.zeros(R, dtype=np.bool_)
        next_human[:-1] = human[1:]
        tool_stop = ~last & ~next_human

        zero = np.zeros(R, dtype=np.int64)
        prompt = pc.if_else(
            pa.array(turn == 0),
            self.tasks.draw(rng, zero),
            pc.if_else(
                pa.array(tool_turn),
                self.tool_results.draw(rng, zero),
                self.followups.draw(rng, zero),
            ),
        )
        max_tokens = np.full(R, 8192, dtype=np.int32)
        out, stop = _outputs(rng, 520.0, 0.7, max_tokens)
        out[tool_stop] = _lognormal_int(rng, 150.0, 0.6, int(tool_stop.sum()))
        stop[tool_stop] = TOOL_USE
        local = acct[row_sess]
        glob = self.base + local
        model = np.where(
            start[row_sess] >= self.switch_us[local],
            world.new_model_idx,
            world.flagship,
        )
        return _rows(
            acct=glob,
            ts=ts,
            conv=_rand_u64(rng, total)[row_sess],
            turn=turn,
            model=model,
            system=self.system[local],
            prompt=prompt,
            response=self.responses.draw(rng, zero),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=self._TOOL_COUNT,
            temperature=0.3,
            thinking=(rng.random(total) < 0.4)[row_sess],
            stop=stop,
        )


class _ResearchGroup(_Population):
    """University labs: judge and step-by-step harness batches in working hours."""

    name = "research_group"

    def __init__(self, world: _World, n_orgs: int) -> None:
        self.world = world
        doc = _get(world.text.lookalikes, self.name)
        filler = world.filler(self.name, slots={"math_problem": doc["math_problems"]})
        # The labs' eval sets are fixed, so the same items recur across runs and models.
        # Categories: pairwise (better answer first), pairwise (second), single, cot, boxed.
        pair_first, pair_second, single, cot = [], [], [], []
        for item in doc["qa"]:
            question = str(item["question"])
            good, weak = (str(a) for a in item["answers"][:2])
            pairwise = str(doc["judge_pairwise"]).replace("{{@question}}", question)
            pair_first.append(pairwise.replace("{{@a}}", good).replace("{{@b}}", weak))
            pair_second.append(pairwise.replace("{{@a}}", weak).replace("{{@b}}", good))
            judge = str(doc["judge_single"]).replace("{{@question}}", question)
            single += [judge.replace("{{@a}}", good), judge.replace("{{@a}}", weak)]
            cot.append(str(doc["cot_harness"]).replace("{{@question}}", question))
        boxed = filler.fill_many([str(doc["boxed"])], _pool_size(world, 60))
        self.prompts = _Pool.of([pair_first, pair_second, single, cot, boxed])
        verdicts = _strings(doc["responses_judge"], "responses_judge")
        self.responses = _Pool.of(
            [
                filler.fill_many([verdicts[0], verdicts[2]], 20),
                filler.fill_many([verdicts[1], verdicts[2]], 20),
                filler.fill_many(verdicts[3:], 20),
                filler.fill_many(_strings(doc["responses_cot"], "responses_cot"), 20),
                filler.fill_many(_strings(doc["responses_boxed"], "responses_boxed"), 20),
            ]
        )

        self.base = world.n_accounts
        unis = doc["universities"]
        group: list[int] = []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            uni = unis[org % len(unis)]
            domain = str(uni["domain"])
            if org >= len(unis):
                domain = f"u{org}.{domain}"
            hosts = _hosts(rng, _subnets(rng, world, "datacenter", 1)[0], _RESEARCH[0] + 2)
            block = _org_block(
                world,
                rng,
                group=self.name,
                n=_RESEARCH[0],
                country=str(uni["country"]),
                tier=["research", "education"],
                domain=f"cs.{domain}",
                user_agent=_strings(doc["user_agents"], "user_agents"),
                ips=hosts,
                created_days=(20, 500),
                logs_response=True,
            )
            # Each researcher works from their own workstation and the lab's shared GPU node.
            block.ips = [[hosts[i + 2], hosts[0]] for i in range(len(block))]
            world.add(block)
            group += [world.profiles.group("lab", int(uni["offset"]))] * len(block)
        self.n = world.n_accounts - self.base
        self.group = np.array(group, dtype=np.int64)
        batch_rows = 45.0
        volume = _RESEARCH[1] * world.scale
        self.batches_per_day = volume / batch_rows / world.period.n_days / self.n

    def rows(self, win: _Window) -> _Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        wsum, cdf = world.profiles.window(self.group, win)
        n_batch = rng.poisson(self.batches_per_day * wsum[self.group])
        total = int(n_batch.sum())
        if total == 0:
            return None
        acct = np.repeat(np.arange(self.n), n_batch)
        start = _Profiles.draw_times(rng, cdf, self.group[acct], win)
        size = rng.integers(15, 80, total)
        R = int(size.sum())
        row_b = np.repeat(np.arange(total), size)
        gaps = (rng.exponential(6.0, R) * US).astype(np.int64)
        gaps[_positions_in_segment(size) == 0] = 0
        ts = start[row_b] + _segment_offsets(gaps, size)
        kind = _choice(rng, [35, 20, 25, 20], total)
        old = np.array([world.flagship, world.small, world.previous])
        model = old[rng.integers(0, 3, total)]
        late = (start > world.period.release_us + 2 * DAY_US) & (rng.random(total) < 0.5)
        model = np.where(late, world.new_model_idx, model)
        temp = np.where(kind < 2, 0.0, rng.choice([0.0, 0.7, 1.0], total))
        k = kind[row_b]
        # Pool category: pairwise rows put the better answer first or second at random.
        cat = np.where(k == 0, rng.integers(0, 2, R), k + 1)
        max_tokens = np.array([1024, 1024, 2048, 4096])[k]
        out, stop = _outputs(rng, np.array([180.0, 120.0, 450.0, 900.0])[k], 0.6, max_tokens)
        glob = self.base + acct[row_b]
        return _rows(
            acct=glob,
            ts=ts,
            conv=_rand_u64(rng, R),
            turn=0,
            model=model[row_b],
            system=-1,
            prompt=self.prompts.draw(rng, cat),
            response=self.responses.draw(rng, cat),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=temp[row_b],
            thinking=False,
            stop=stop,
        )


class _TutoringApp(_Population):
    """Tutoring apps: step-by-step worked solutions, students' after-school rhythm."""

    name = "tutoring_app"

    def __init__(self, world: _World, n_orgs: int) -> None:
        self.world = world
        doc = _get(world.text.lookalikes, self.name)
        slots = {"problem_en": doc["problems_en"], "problem_es": doc["problems_es"]}
        filler = world.filler(self.name, slots=slots)
        size = _pool_size(world, 400)
        langs = ("en", "es")
        self.heads = _Pool.of(
            [filler.fill_many(_strings(doc["heads"][k], "heads"), size) for k in langs]
        )
        self.followups = _Pool.of(
            [filler.fill_many(_strings(doc["followups"][k], "followups"), 30) for k in langs]
        )
        self.responses = _Pool.of(
            [filler.fill_many(_strings(doc["responses"][k], "responses"), 30) for k in langs]
        )

        self.base = world.n_accounts
        group, system, p_spanish = [], [], []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            app = _org_name(world.filler(self.name, org), _strings(doc["app_names"], "names"), org)
            market = ("US", "ES", "MX", "US")[org % 4]
            offsets = {"US": (-5, -6, -8, -5), "ES": (1,), "MX": (-6, -5)}[market]
            dc = _subnets(rng, world, "datacenter", 1)[0]
            block = _org_block(
                world,
                rng,
                group=self.name,
                n=_TUTORING[0],
                country=market,
                tier=["startup", "scale"],
                domain=_slug(app).replace("-", "") + ".app",
                user_agent=[str(doc["user_agent"])],
                ips=_hosts(rng, dc, 3),
                created_days=(60, 400),
                logs_response=False,
            )
            world.add(block)
            text = str(doc["system"]).replace("{{app}}", app)
            system += [world.system_id(text)] * len(block)
            group += [
                world.profiles.group("student", offsets[i % len(offsets)])
                for i in range(len(block))
            ]
            p_spanish += [0.12 if market == "US" else 1.0] * len(block)
        self.n = world.n_accounts - self.base
        self.group = np.array(group, dtype=np.int64)
        self.system = np.array(system, dtype=np.int64)
        self.p_spanish = np.array(p_spanish)
        volume = _TUTORING[1] * world.scale
        self.sessions_per_day = volume / 3.0 / world.period.n_days / self.n

    def rows(self, win: _Window) -> _Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        wsum, cdf = world.profiles.window(self.group, win)
        n_sess = rng.poisson(self.sessions_per_day * wsum[self.group])
        total = int(n_sess.sum())
        if total == 0:
            return None
        acct = np.repeat(np.arange(self.n), n_sess)
        start = _Profiles.draw_times(rng, cdf, self.group[acct], win)
        turns = rng.integers(1, 6, total)
        R = int(turns.sum())
        row_s = np.repeat(np.arange(total), turns)
        turn = _positions_in_segment(turns)
        gaps = (rng.lognormal(math.log(100.0), 0.7, R) * US).astype(np.int64)
        gaps[turn == 0] = 0
        ts = start[row_s] + _segment_offsets(gaps, turns)
        lang = (rng.random(total) < self.p_spanish[acct]).astype(np.int64)[row_s]
        prompt = pc.if_else(
            pa.array(turn == 0), self.heads.draw(rng, lang), self.followups.draw(rng, lang)
        )
        max_tokens = np.full(R, 1500, dtype=np.int32)
        out, stop = _outputs(rng, 330.0, 0.5, max_tokens)
        local = acct[row_s]
        glob = self.base + local
        return _rows(
            acct=glob,
            ts=ts,
            conv=_rand_u64(rng, total)[row_s],
            turn=turn,
            model=world.small,
            system=self.system[local],
            prompt=prompt,
            response=self.responses.draw(rng, lang),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=0.5,
            thinking=False,
            stop=stop,
        )


# -- campaigns -------------------------------------------------------------------------------


def _campaign_block(
    world: _World,
    rng: np.random.Generator,
    *,
    group: str,
    created: Sequence[int],
    org: Sequence[str | None],
    email_domain: Sequence[str],
    payment: Sequence[str],
    user_agent: Sequence[str],
    channel: Sequence[str],
    ips: Sequence[Sequence[str]],
    countries: Sequence[str],
    tiers: Sequence[str],
    p_logs: float,
    n_keys: tuple[int, int] = (1, 1),
) -> _AccountBlock:
    n = len(created)
    return _AccountBlock(
        label="campaign",
        group=[group] * n,
        created_us=[int(c) // US * US for c in created],
        org=list(org),
        email_domain=list(email_domain),
        payment=list(payment),
        country=[countries[int(i)] for i in rng.integers(0, len(countries), n)],
        tier=[tiers[int(i)] for i in rng.integers(0, len(tiers), n)],
        user_agent=list(user_agent),
        channel=list(channel),
        logs_response=list(rng.random(n) < p_logs),
        ips=[list(x) for x in ips],
        n_keys=[int(k) for k in rng.integers(n_keys[0], n_keys[1] + 1, n)],
    )


@dataclass(frozen=True)
class _Family:
    """A campaign template family: templates split at their holes, one category per language."""

    name: str
    weight: float
    pool: _HoledPool


def _families(
    filler: _Filler, doc: Mapping[str, Any], languages: Sequence[str], size: int
) -> list[_Family]:
    """Template families of a campaign; a language without templates falls back to English."""
    out = []
    for name, spec in doc.items():
        groups = [
            filler.fill_many(_strings(spec.get(lang) or spec["en"], name), size)
            for lang in languages
        ]
        pool = _HoledPool.of(_strings(spec["holes"], "holes"), groups, name)
        out.append(_Family(str(name), float(spec["weight"]), pool))
    return out


class _ReasoningHarvester(_Population):
    """DeepSeek-style harvest: CoT extraction, rubric grading, shared cards, lock-step bursts."""

    name = "reasoning_harvester"
    _OUT = {
        "cot_completed": 6500.0,
        "cot_open": 6000.0,
        "posthoc": 3500.0,
        "grading": 6.0,
        "censorship": 900.0,
    }

    def __init__(self, world: _World) -> None:
        self.world = world
        doc = _get(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        n, per_account = _campaign_size(world, _HARVESTER)
        self.n = n
        p = world.period
        self.first_day = max(1, int(p.n_days * rng.uniform(0.08, 0.14)))
        self.last_day = min(p.n_days - 1, self.first_day + int(p.n_days * 0.62))
        signup = p.start_us + self.first_day * DAY_US
        created = sorted(signup - rng.uniform(2, 12, n) * DAY_US)
        n_cards = 4 if n <= 40 else math.ceil(n / 10)
        cards = world.ids("card", "pf_", n_cards)
        consumer = _strings(_get(world.text.common, "email_domains.consumer"), "consumer")
        domain = str(doc["email_domain"])
        orgs = world.ids("org", "org_", n)
        subnets = _subnets(rng, world, "datacenter", 2 + n // 40)
        self.ip_pool = pa.array(
            [ip for s in subnets for ip in _hosts(rng, s, 3 + n // 16)], pa.string()
        )
        uas = _strings(doc["user_agents"], "user_agents")
        block = _campaign_block(
            world,
            rng,
            group=self.name,
            created=created,
            org=[orgs[i] if rng.random() < 0.3 else None for i in range(n)],
            email_domain=[
                domain if rng.random() < 0.65 else filler.pick(consumer) for _ in range(n)
            ],
            payment=[cards[i % n_cards] for i in rng.permutation(n)],
            user_agent=[uas[int(i)] for i in _choice(rng, [70, 20, 10], n)],
            channel=["api"] * n,
            ips=[[self.ip_pool[int(i)].as_py()] for i in rng.integers(0, len(self.ip_pool), n)],
            countries=["US", "SG", "US", "CA", "GB"],
            tiers=["education", "startup", "build"],
            p_logs=0.7,
        )
        self.base = world.add(block)
        world.indicators += [
            ("payment_fingerprint", cards[0], "ACTOR-A", "industry partner share 2026-06"),
            ("payment_fingerprint", cards[1], "ACTOR-A", "industry partner share 2026-06"),
            ("email_domain", domain, "ACTOR-A", "industry partner share 2026-06"),
        ]

        # Bursts of waves: one scheduler sends a wave every minute or two in which every account
        # of the farm fires once, round-robin, so the accounts are busy in the same minutes and
        # the whole farm starts and stops together.
        waves_total = max(1, round(per_account))
        n_bursts = int(min(16, max(3, waves_total // 12), self.last_day - self.first_day))
        days = np.arange(self.first_day, self.last_day)
        middle = rng.choice(days[1:-1], max(0, n_bursts - 2), replace=False)
        burst_days = np.sort(np.concatenate([[days[0]], middle, [days[-1]]]))[:n_bursts]
        share = rng.uniform(0.6, 1.4, n_bursts)
        waves = np.maximum(1, np.round(waves_total * share / share.sum())).astype(np.int64)
        starts = (
            p.start_us
            + burst_days * DAY_US
            + rng.integers(1, 10, n_bursts) * HOUR_US
            + rng.integers(0, 2, n_bursts) * HOUR_US // 2
        )
        self.bursts = [
            (int(s), int(w), int(rng.uniform(60, 150) * US))
            for s, w in zip(starts, waves, strict=True)
        ]

        self.languages = ("en", "zh")
        if set(doc["families"]) != set(self._OUT):
            raise SampleError(f"sample text: {self.name} families must be {sorted(self._OUT)}")
        size = _pool_size(world, 60)
        self.families = _families(filler, doc["families"], self.languages, size)
        big = _pool_size(world, 400)

        def per_lang(key: str, n_items: int) -> _Pool:
            return _Pool.of(
                [
                    filler.fill_many(_strings(doc[key][lang], key), n_items)
                    for lang in self.languages
                ]
            )

        self.questions = per_lang("questions", big)
        self.completed = per_lang("completed", big // 2)
        # Grading: instruction variants and candidate answers per item (category = item).
        items = [(lang, item) for lang in self.languages for item in doc["grading_items"][lang]]
        self.item_lang = np.array([self.languages.index(lang) for lang, _ in items])
        self.instructions = _Pool.of(
            [filler.fill_many([str(it["instruction"])], 12) for _, it in items]
        )
        openers, closers = doc["candidate_openers"], doc["candidate_closers"]
        self.candidates = _Pool.of(
            [
                [
                    filler.pick(openers[lang])
                    + filler.fill(filler.pick(it["candidates"]))
                    + filler.pick(closers[lang])
                    for _ in range(48)
                ]
                for lang, it in items
            ]
        )
        self.sensitive = per_lang("sensitive_questions", 60)
        self.finals = _Pool.of([filler.fill_many(_strings(doc["finals"], "finals"), big // 2)])
        resp = doc["responses"]
        self.cot = _Pool.of(
            [filler.fill_many(_strings(resp["cot"][lang], "cot"), 80) for lang in self.languages]
        )
        self.censor = _Pool.of(
            [
                filler.fill_many(_strings(resp["censorship"][lang], "c"), 10)
                for lang in self.languages
            ]
        )
        grades = _strings(resp["grades"], "grades")
        self.grades = _Pool.of([filler.fill_many([g], 40) for g in grades[:3]])
        grading = next(f for f in self.families if f.name == "grading")
        head = grading.pool.parts[0].to_pylist()
        self.grade_format = np.array(
            [2 if "[RESULT]" in h else 1 if "Rating:" in h else 0 for h in head], dtype=np.int64
        )

    def rows(self, win: _Window) -> _Rows | None:
        parts = []
        for b, (start, waves, gap) in enumerate(self.bursts):
            if win.start_us <= start < win.end_us:
                parts.append(self._burst(b, start, waves, gap))
        return _Rows.concat(parts) if parts else None

    def _burst(self, b: int, start: int, waves: int, gap: int) -> _Rows:
        world = self.world
        rng = world.rng(self.name, "burst", b)
        n = waves * self.n
        wave = np.repeat(np.arange(waves), self.n)
        slot = np.tile(np.arange(self.n), waves)
        # Within a wave the scheduler walks the accounts in a fixed order, a second or so apart.
        spacing = rng.uniform(0.3, 1.5) * US
        ts = (start + wave * gap + slot * spacing + rng.random(n) * spacing).astype(np.int64)
        ts = np.sort(ts)
        acct = self.base + (int(rng.integers(self.n)) + np.arange(n)) % self.n
        # Tasks: grading tasks send k candidates for one instruction back to back.
        fam_w = [f.weight for f in self.families]
        fam = _choice(rng, fam_w, n)
        names = [f.name for f in self.families]
        g = names.index("grading")
        size = np.where(fam == g, rng.integers(4, 9, n), 1)
        m = int(np.searchsorted(np.cumsum(size), n)) + 1
        row_task = np.repeat(np.arange(m), size[:m])[:n]
        task_lang = (rng.random(m) < 0.4).astype(np.int64)
        # Grading tasks pick an item of their language: instruction and candidates come from it.
        en_items, zh_items = (np.flatnonzero(self.item_lang == k) for k in (0, 1))
        r = rng.integers(0, len(self.item_lang), m)
        task_item = np.where(
            task_lang == 0, en_items[r % len(en_items)], zh_items[r % len(zh_items)]
        )
        task_instr = self.instructions.pick(rng, task_item)
        fam_r, lang = fam[row_task], task_lang[row_task]
        prompt_parts, response_parts = [], []
        out = np.zeros(n, dtype=np.int64)
        for f_idx, family in enumerate(self.families):
            pos = np.flatnonzero(fam_r == f_idx)
            if not len(pos):
                continue
            lg = lang[pos]
            tmpl = family.pool.pick(rng, lg)
            if f_idx == g:
                tmpl = family.pool.pick(rng, task_lang)[row_task[pos]]  # one template per task
                holes = [
                    self.instructions.take(task_instr[row_task[pos]]),
                    self.candidates.draw(rng, task_item[row_task[pos]]),
                ]
                response = self.grades.draw(rng, self.grade_format[tmpl])
            else:
                q = self.sensitive if family.name == "censorship" else self.questions
                holes = [q.draw(rng, lg)]
                if "done" in family.pool.holes:
                    holes.append(self.completed.draw(rng, lg))
                if "final" in family.pool.holes:
                    holes.append(self.finals.draw(rng, np.zeros(len(pos), dtype=np.int64)))
                source = self.censor if family.name == "censorship" else self.cot
                response = source.draw(rng, lg)
            prompt_parts.append((pos, family.pool.render(tmpl, holes)))
            response_parts.append((pos, response))
            sigma = 0.4 if family.name == "grading" else 0.55
            out[pos] = _lognormal_int(rng, self._OUT[family.name], sigma, len(pos))
        max_tokens = np.full(n, 8000, dtype=np.int32)
        stop = np.where(out >= 8000, MAX_TOKENS, END_TURN)
        out = np.minimum(out, 8000)
        old = np.where(rng.random(n) < 0.9, world.flagship, world.previous)
        new = (ts > world.period.release_us + 2 * DAY_US) & (rng.random(n) < 0.5)
        return _rows(
            acct=acct,
            ts=ts,
            conv=_rand_u64(rng, n),
            turn=0,
            model=np.where(new, world.new_model_idx, old),
            system=-1,
            prompt=_merge(n, prompt_parts),
            response=_merge(n, response_parts),
            ip=self.ip_pool.take(rng.integers(0, len(self.ip_pool), n)),
            key=world.pick_keys(rng, acct),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=0.0,
            thinking=False,
            stop=stop,
        )


class _HydraProxy(_Population):
    """MiniMax/Moonshot-style proxy farm: waves of accounts, relay mixing, new-model pivot."""

    name = "hydra_proxy"

    def __init__(self, world: _World, ordinary: _OrdinaryText) -> None:
        self.world, self.ordinary = world, ordinary
        doc = _get(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        n, per_account = _campaign_size(world, _HYDRA)
        self.n = n
        p = world.period
        release_day = (p.release_us - p.start_us) / DAY_US

        # Three account waves, each created in a burst of a few hours; banned accounts of the
        # first wave are replaced by the next ("when one account is banned, a new one takes
        # its place").
        wave = np.sort(_choice(rng, [45, 30, 25], n))
        wave_created = [
            p.start_us - rng.uniform(8, 14) * DAY_US,
            p.start_us + release_day * 0.55 * DAY_US,
            p.start_us + (release_day + 8) * DAY_US,
        ]
        created = np.array([wave_created[w] for w in wave]) + rng.uniform(0, 6, n) * HOUR_US
        self.start_us = np.maximum(created + rng.uniform(1, 10, n) * HOUR_US, p.start_us)
        self.end_us = np.full(n, float(p.end_us))
        banned = (wave == 0) & (rng.random(n) < 0.6)
        self.end_us[banned] = (
            p.start_us + rng.uniform(0.3, 0.6, banned.sum()) * release_day * DAY_US
        )
        banned1 = (wave == 1) & (rng.random(n) < 0.3)
        self.end_us[banned1] = (
            p.start_us + rng.uniform(release_day + 10, p.n_days, banned1.sum()) * DAY_US
        )
        active_days = np.maximum((self.end_us - self.start_us) / DAY_US, 0.5)
        self.period_us = np.maximum(active_days / per_account * DAY_US, 1.0 * US).astype(np.int64)
        self.phase = (rng.random(n) * self.period_us).astype(np.int64)
        self.relay_share = rng.uniform(0.25, 0.5, n)

        # A few /24s, residential and datacenter proxies mixed; each wave favours its own.
        n_sub = max(3, round(n / 15))
        n_dc = max(1, n_sub * 2 // 5)
        residential = _subnets(rng, world, "residential", n_sub - n_dc)
        datacenter = _subnets(rng, world, "datacenter", n_dc)
        mixed = residential + datacenter
        subnets = [mixed[i] for i in rng.permutation(n_sub)]
        third = max(1, n_sub // 3)
        sub_of = (wave * third + rng.integers(0, third + 1, n)) % n_sub
        ips = [_hosts(rng, subnets[s], 8) for s in sub_of]
        cards = world.ids("card", "pf_", n)
        card_of = np.zeros(n, dtype=np.int64)
        i = c = 0
        while i < n:  # virtual cards shared by small groups of accounts
            size = int(rng.integers(3, 6))
            card_of[i : i + size] = c
            i, c = i + size, c + 1
        disposable = _strings(doc["disposable_domains"], "disposable_domains")
        uas = _strings(doc["user_agents"], "user_agents")
        block = _campaign_block(
            world,
            rng,
            group=self.name,
            created=list(created.astype(np.int64)),
            org=[None] * n,
            email_domain=[filler.pick(disposable) for _ in range(n)],
            payment=[cards[k] for k in card_of],
            user_agent=[filler.pick(uas) for _ in range(n)],
            channel=[CHANNELS[k] for k in _choice(rng, [40, 25, 15, 20], n)],
            ips=ips,
            countries=["US", "US", "GB", "SG", "HK", "MY", "CA", "AU"],
            tiers=["free", "build", "build", "education", "startup"],
            p_logs=0.4,
            n_keys=(1, 3),
        )
        self.base = world.add(block)
        # Threat intel knows the range the first accounts came from, not the later waves'.
        cidr = f"{subnets[sub_of[0]]}.0/24"
        world.indicators.append(("cidr", cidr, "ACTOR-B", "threat intel feed"))

        harvest = doc["harvest"]
        size = _pool_size(world, 200)
        self.harvest_weights = [float(h["weight"]) for h in harvest]
        self.systems = np.array([world.system_id(str(h["system"])) for h in harvest])
        self.tools = np.array([int(h["tool_count"]) for h in harvest], dtype=np.int32)
        self.tasks = _HoledPool.of(
            ["id"],
            [filler.fill_many(_strings(h["tasks"], "tasks"), size) for h in harvest],
            "hydra tasks",
        )
        self.responses = _Pool.of(
            [filler.fill_many(_strings(h["responses"], "responses"), 40) for h in harvest]
        )
        self.pivot_us = p.release_us + int(rng.uniform(3, 8) * HOUR_US)

    def rows(self, win: _Window) -> _Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        lo = np.maximum(self.start_us, win.start_us)
        hi = np.minimum(self.end_us, win.end_us)
        # Machine cadence: account i fires at phase + k * period, with a little jitter.
        k0 = np.ceil((lo - self.phase) / self.period_us).astype(np.int64)
        k1 = np.ceil((hi - self.phase) / self.period_us).astype(np.int64)
        counts = np.where(hi > lo, np.maximum(k1 - k0, 0), 0)
        n = int(counts.sum())
        if n == 0:
            return None
        acct = np.repeat(np.arange(self.n), counts)
        k = k0[acct] + _positions_in_segment(counts)
        jitter = rng.normal(0, 0.08, n) * self.period_us[acct]
        ts = np.maximum(self.phase[acct] + k * self.period_us[acct] + jitter, win.start_us)
        ts = ts.astype(np.int64)
        relay = rng.random(n) < self.relay_share[acct]
        parts = []
        h = np.flatnonzero(~relay)
        if len(h):
            parts.append(self._harvest(rng, acct[h], ts[h]))
        r = np.flatnonzero(relay)
        if len(r):
            parts.append(self._relay(rng, acct[r], ts[r]))
        return _Rows.concat(parts)

    def _harvest(self, rng: np.random.Generator, acct: np.ndarray, ts: np.ndarray) -> _Rows:
        world, n = self.world, len(acct)
        fam = _choice(rng, self.harvest_weights, n)
        task_no = pc.cast(pa.array(rng.integers(100_000, 999_999, n)), pa.string())
        prompt = self.tasks.render(self.tasks.pick(rng, fam), [_join("H-", task_no)])
        max_tokens = np.full(n, 16384, dtype=np.int32)
        out, stop = _outputs(rng, 2600.0, 0.8, max_tokens)
        tool = rng.random(n) < 0.55
        out[tool] = _lognormal_int(rng, 260.0, 0.6, int(tool.sum()))
        stop[tool] = TOOL_USE
        # The pivot: within hours of the release most harvest traffic moves to the new model.
        after = ts >= self.pivot_us
        old = np.where(rng.random(n) < 0.8, world.flagship, world.small)
        model = np.where(after & (rng.random(n) < 0.82), world.new_model_idx, old)
        glob = self.base + acct
        return _rows(
            acct=glob,
            ts=ts,
            conv=_rand_u64(rng, n),
            turn=0,
            model=model,
            system=self.systems[fam],
            prompt=prompt,
            response=self.responses.draw(rng, fam),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=self.tools[fam],
            temperature=0.7,
            thinking=True,
            stop=stop,
        )

    def _relay(self, rng: np.random.Generator, acct: np.ndarray, ts: np.ndarray) -> _Rows:
        """Unrelated end-user traffic resold through the same keys (many topics and languages)."""
        world, text, n = self.world, self.ordinary, len(acct)
        lang = _choice(rng, [45, 22, 9, 7, 10, 7], n)
        topic = _choice(rng, text.topic_weights, n)
        sys_idx = np.where(rng.random(n) < 0.2, text.systems.pick(rng, lang), -1)
        max_tokens = rng.choice(np.array([1024, 2048, 4096, 8192]), n)
        out, stop = _outputs(rng, text.out_median[topic], 0.75, max_tokens, 0.01)
        glob = self.base + acct
        return _rows(
            acct=glob,
            ts=ts,
            conv=_rand_u64(rng, n),
            turn=0,
            model=world.ordinary_models(rng, ts, adoption=0.3),
            system=np.where(sys_idx >= 0, text.system_ids[np.maximum(sys_idx, 0)], -1),
            prompt=text.prompts(rng, lang, topic, np.ones(n, dtype=np.bool_)),
            response=text.responses_for(rng, lang, topic),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=rng.choice([0.0, 0.3, 0.7, 1.0], n),
            thinking=rng.random(n) < 0.1,
            stop=stop,
        )


class _TemplatedLowVolume(_Population):
    """Short-lived low-volume accounts on rotating proxies sharing a rare client and recipes."""

    name = "templated_lowvol"
    # Per family: temperature, max_tokens, thinking, median output tokens.
    _SETTINGS = {
        "long_cot": (0.0, 8000, False, 4200.0),
        "evol": (0.7, 2048, False, 220.0),
        "taskgen": (0.8, 8192, False, 3600.0),
        "lang_lock": (0.6, 16000, True, 3000.0),
    }

    def __init__(self, world: _World) -> None:
        self.world = world
        doc = _get(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        n = max(_MIN_CAMPAIGN_ACCOUNTS, round(_LOWVOL[0] * world.scale))
        self.n = n
        p = world.period
        start_day = rng.uniform(1, p.n_days - 8, n)
        self.start_us = (p.start_us + start_day * DAY_US).astype(np.int64)
        self.end_us = (self.start_us + rng.uniform(2, 7, n) * DAY_US).astype(np.int64)
        self.total = rng.integers(30, 61, n).astype(np.float64)
        created = self.start_us - rng.uniform(3, 40, n) * DAY_US
        consumer = _strings(_get(world.text.common, "email_domains.consumer"), "consumer")
        ua = str(doc["user_agent"])
        signup = world.residential_ips(rng, n).to_pylist()
        block = _campaign_block(
            world,
            rng,
            group=self.name,
            created=list(created.astype(np.int64)),
            org=[None] * n,
            email_domain=[filler.pick(consumer) for _ in range(n)],
            payment=world.ids("card", "pf_", n),
            user_agent=[ua] * n,
            channel=["api"] * n,
            ips=[[ip] for ip in signup],
            countries=["US", "GB", "DE", "SG", "KR", "BR", "CA"],
            tiers=["free", "build", "research"],
            p_logs=0.4,
        )
        self.base = world.add(block)
        fams = doc["families"]
        if set(fams) != set(self._SETTINGS):
            raise SampleError(f"sample text: {self.name} families must be {sorted(self._SETTINGS)}")
        self.families = _families(filler, fams, ("en",), _pool_size(world, 40))
        self.system = {
            name: world.system_id(str(spec["system"])) if spec.get("system") else -1
            for name, spec in fams.items()
        }
        qs = doc["questions"]
        size = _pool_size(world, 200)
        self.questions = {
            "long_cot": _Pool.of([filler.fill_many(_strings(qs["en"], "q"), size)]),
            "evol": _Pool.of([filler.fill_many(_strings(qs["seeds"], "q"), size // 2)]),
            "taskgen": _Pool.of([filler.fill_many(_strings(qs["seeds"] + qs["en"], "q"), size)]),
            "lang_lock": _Pool.of([filler.fill_many(_strings(qs["multilingual"], "q"), size)]),
        }
        resp = doc["responses"]
        self.responses = {k: _Pool.of([filler.fill_many(_strings(resp[k], k), 20)]) for k in fams}

    def rows(self, win: _Window) -> _Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        lo = np.maximum(self.start_us, win.start_us)
        hi = np.minimum(self.end_us, win.end_us)
        overlap = np.maximum(hi - lo, 0)
        counts = rng.poisson(self.total * overlap / (self.end_us - self.start_us))
        n = int(counts.sum())
        if n == 0:
            return None
        acct = np.repeat(np.arange(self.n), counts)
        ts = lo[acct] + (rng.random(n) * overlap[acct]).astype(np.int64)
        fam = _choice(rng, [f.weight for f in self.families], n)
        parts = []
        for f_idx, family in enumerate(self.families):
            pos = np.flatnonzero(fam == f_idx)
            if not len(pos):
                continue
            m = len(pos)
            zero = np.zeros(m, dtype=np.int64)
            temp, max_tok, thinking, median = self._SETTINGS[family.name]
            max_tokens = np.full(m, max_tok, dtype=np.int32)
            out, stop = _outputs(rng, median, 0.6, max_tokens)
            glob = self.base + acct[pos]
            new = (ts[pos] > world.period.release_us) & (rng.random(m) < 0.5)
            parts.append(
                _rows(
                    acct=glob,
                    ts=ts[pos],
                    conv=_rand_u64(rng, m),
                    turn=0,
                    model=np.where(new, world.new_model_idx, world.flagship),
                    system=self.system[family.name],
                    prompt=family.pool.render(
                        family.pool.pick(rng, zero), [self.questions[family.name].draw(rng, zero)]
                    ),
                    response=self.responses[family.name].draw(rng, zero),
                    ip=world.residential_ips(rng, m),
                    key=world.pick_keys(rng, glob),
                    out_tokens=out,
                    max_tokens=max_tokens,
                    tool_count=0,
                    temperature=temp,
                    thinking=thinking,
                    stop=stop,
                )
            )
        return _Rows.concat(parts)


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
        self.group_rows = min(chunk_rows, _ROW_GROUP_ROWS)
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
        compression_level=_ZSTD_LEVEL,
        use_dictionary=_DICTIONARY_COLUMNS,
        write_statistics=True,
        version="2.6",
    )


@dataclass
class _Counts:
    total: int = 0
    parts: int = 0
    by_group: dict[str, int] = field(default_factory=dict)


def _windows_per_day(world: _World) -> int:
    per_day = _ROWS_AT_SCALE_1 * world.scale / world.period.n_days
    for d in (1, 2, 3, 4, 6, 8, 12, 24):
        if per_day / d <= _WINDOW_TARGET_ROWS:
            return d
    return 24


def _write_requests(
    world: _World, pops: Sequence[_Population], directory: Path, chunk_rows: int
) -> _Counts:
    """Generate the period window by window and stream the sorted rows to Parquet parts."""
    p = world.period
    per_day = _windows_per_day(world)
    step = DAY_US // per_day
    writer = _PartWriter(directory, chunk_rows)
    by_group = np.zeros(len(world.group_names), dtype=np.int64)
    salt = _mix64(np.array([world.seed ^ 0x5EED5EED], dtype=np.uint64))[0]
    carry: _Rows | None = None
    written = 0
    try:
        for day in range(p.n_days):
            for w in range(per_day):
                start = p.start_us + day * DAY_US + w * step
                end = start + step
                win = _Window(
                    start, end, day, _hour_of_week(np.arange(start // HOUR_US, end // HOUR_US))
                )
                parts = [carry] if carry is not None and len(carry) else []
                for pop in pops:
                    rows = pop.rows(win)
                    if rows is not None and len(rows):
                        parts.append(rows)
                if not parts:
                    carry = None
                    continue
                rows = _Rows.concat(parts) if len(parts) > 1 else parts[0]
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
    world: _World, rows: _Rows, first: int, salt: np.uint64, rng: np.random.Generator
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
        _hex_ids("req_", _mix64(index ^ salt)),
        pa.array(rows.ts, TIMESTAMP),
        world.account_id_arr.take(acct),
        rows.key,
        world.org_arr.take(acct),
        rows.ip,
        world.ua_arr.take(acct),
        world.channel_arr.take(acct),
        pa.array(world.models, pa.string()).take(rows.model.astype(np.int64)),
        _hex_ids("conv_", rows.conv),
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
    pq.write_table(table, path, compression="zstd", compression_level=_ZSTD_LEVEL, version="2.6")


def _write_accounts(world: _World, path: Path) -> None:
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


def _write_model_releases(world: _World, path: Path) -> None:
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


def _write_indicators(world: _World, path: Path) -> None:
    # One indicator that matches nothing, as analysts' lists always contain stale entries
    # (203.0.113.0/24 is documentation space the generator never uses).
    decoy = ("ip", "203.0.113.77", "ACTOR-C", "industry partner share 2026-06")
    _write_csv(path, ("indicator_type", "value", "actor", "source"), [*world.indicators, decoy])


def _write_labels(world: _World, path: Path) -> None:
    rows = sorted(zip(world.account_ids, world.labels(), world.groups(), strict=True))
    _write_csv(path, ("account_id", "label", "group"), rows)
