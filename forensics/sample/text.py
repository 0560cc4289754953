"""Sample text: loading the YAML files, slot filling, pools of variants, pasted context."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from forensics.sample.arrays import join, positions_in_segment
from forensics.sample.base import (
    SampleError,
    T,
)

# Pasted context (long_prompts=True). Only prompts at least as long as the head the pipeline
# reads for its template skeleton (queries/features/10_prompt_heads.sql, left(prompt,
# 240)) get a block, appended after it, so every skeleton stays what it was. Block lengths in
# characters follow a lognormal (median, sigma) clipped to [min, max].
CONTEXT_AFTER_CHARS = 240
CONTEXT_MEDIAN_CHARS = 1500
CONTEXT_SIGMA = 0.7
CONTEXT_MIN_CHARS = 300
CONTEXT_MAX_CHARS = 6000
CONTEXT_SEPARATOR = "\n\n"
# A bound on the rounds that keep distinct prompt lengths apart (a handful in practice).
CONTEXT_SETTLE_ROUNDS = 1000

# --------------------------------------------------------------------------------------------
# Text data: loading the YAML files, slot filling, pools of variants
# --------------------------------------------------------------------------------------------

# The C loader is several times faster; the pure-Python one gives the same result.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SLOT = re.compile(r"\{\{(=?)([a-z_0-9]+)(?::(\d+)-(\d+))?\}\}")
_HOLE = re.compile(r"\{\{@([a-z_0-9]+)\}\}")


@dataclass(frozen=True)
class Text:
    """The YAML documents of `forensics/sample_text/`."""

    common: dict[str, Any]
    ordinary: dict[str, Any]
    lookalikes: dict[str, Any]
    campaigns: dict[str, Any]
    groups: dict[str, Any]

    @staticmethod
    def load() -> Text:
        """Read the packaged text files; a missing or malformed file is a SampleError."""
        folder = resources.files("forensics").joinpath("sample_text")
        docs = {
            name: _load_yaml(folder.joinpath(f"{name}.yaml"), f"sample_text/{name}.yaml")
            for name in ("common", "ordinary", "lookalikes", "campaigns", "groups")
        }
        return Text(**docs)


def _load_yaml(entry: Traversable, what: str) -> dict[str, Any]:
    try:
        doc = yaml.load(entry.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise SampleError(f"{what}: {exc}") from exc
    if not isinstance(doc, dict):
        raise SampleError(f"{what}: expected a mapping at top level")
    return doc


def get_path(doc: Mapping[str, Any], path: str) -> Any:
    """doc["a"]["b"] for path "a.b", with a SampleError naming the path when it is missing."""
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise SampleError(f"sample text: missing key {path!r}")
        node = node[part]
    return node


def strings(values: Any, what: str) -> list[str]:
    if not isinstance(values, list) or not values:
        raise SampleError(f"sample text: {what} must be a non-empty list")
    return [str(v) for v in values]


def slot_table(*sections: Mapping[str, Any]) -> dict[str, list[str]]:
    """Merge slot lists; earlier sections win (section slots before common slots)."""
    merged: dict[str, list[str]] = {}
    for section in reversed(sections):
        for name, values in section.items():
            merged[str(name)] = strings(values, f"slot {name}")
    return merged


class Filler:
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

    def sample(self, values: Sequence[T], k: int) -> list[T]:
        """k distinct values (fewer if there are not enough), in random order."""
        pool = list(values)
        out: list[T] = []
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
class Pool:
    """Text variants in categories (e.g. one per language); rows pick one of their category."""

    values: pa.Array
    starts: np.ndarray
    sizes: np.ndarray

    @staticmethod
    def of(groups: Sequence[Sequence[str]]) -> Pool:
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        if (sizes == 0).any():
            raise SampleError("sample text: an empty pool category")
        starts = np.cumsum(sizes) - sizes
        return Pool(pa.array([s for g in groups for s in g], pa.string()), starts, sizes)

    def pick(self, rng: np.random.Generator, cats: np.ndarray) -> np.ndarray:
        n = len(cats)
        return self.starts[cats] + (rng.random(n) * self.sizes[cats]).astype(np.int64)

    def take(self, idx: np.ndarray) -> pa.Array:
        return self.values.take(idx)

    def draw(self, rng: np.random.Generator, cats: np.ndarray) -> pa.Array:
        return self.take(self.pick(rng, cats))


@dataclass(frozen=True)
class HoledPool:
    """Template variants split at their holes, so each row fills the holes with its own values."""

    holes: tuple[str, ...]
    parts: tuple[pa.Array, ...]
    starts: np.ndarray
    sizes: np.ndarray

    @staticmethod
    def of(holes: Sequence[str], groups: Sequence[Sequence[str]], what: str) -> HoledPool:
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
        return HoledPool(
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
        return join(*pieces)


@dataclass(frozen=True)
class Context:
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
    def load(text: Text) -> Context:
        sentences = strings(get_path(text.common, "context_sentences"), "context_sentences")
        for s in sentences:
            # A sentence shorter than the minimum block keeps every block within its bounds.
            if not 0 < len(s) <= CONTEXT_MIN_CHARS or "\n" in s or s != s.strip():
                raise SampleError(
                    f"sample text: context sentence {s[:60]!r} must be one line of 1 to "
                    f"{CONTEXT_MIN_CHARS} characters without surrounding blanks"
                )
        widths = np.array([len(s) + 1 for s in sentences], dtype=np.int64)
        cycles = 3 + CONTEXT_MAX_CHARS // int(widths.sum())
        ends = np.concatenate([[0], np.cumsum(np.tile(widths, cycles))])
        return Context(pa.array(sentences, pa.string()), ends)

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
        long = np.flatnonzero(values >= CONTEXT_AFTER_CHARS)
        m = len(long)
        size = len(self.sentences)
        target = np.clip(
            CONTEXT_MEDIAN_CHARS * np.exp(CONTEXT_SIGMA * rng.standard_normal(m)),
            CONTEXT_MIN_CHARS,
            CONTEXT_MAX_CHARS,
        ).astype(np.int64)
        start = rng.integers(0, size, m)
        # The number of sentences whose joined length is nearest the target without passing
        # the maximum, but at least enough to reach the minimum (one sentence of at most the
        # minimum's length past it, so never past the maximum either).
        base = self.ends[start]
        fit = np.searchsorted(self.ends, base + target + 1, side="right") - 1
        over = self.ends[fit + 1] - base - 1
        nearer = (over - target < target - (self.ends[fit] - base - 1)) & (
            over <= CONTEXT_MAX_CHARS
        )
        least = np.searchsorted(self.ends, base + CONTEXT_MIN_CHARS + 1, side="left")
        count = np.maximum(np.maximum(fit + nearer, least) - start, 1)
        # Two lengths that would meet: the block of the longer prompt takes one sentence more
        # until none meet. A block that cannot grow shrinks instead, for good: every block
        # moves one way only, so this ends (in a handful of rounds in practice).
        new = values[long] + self.chars(start, count)
        step = np.ones(m, dtype=np.int64)
        for _ in range(CONTEXT_SETTLE_ROUNDS):
            order = np.argsort(new, kind="stable")
            clash = order[1:][new[order[1:]] == new[order[:-1]]]
            if not len(clash):
                break
            full = self.chars(start[clash], count[clash] + 1) > CONTEXT_MAX_CHARS
            step[clash[full]] = -1
            count[clash] += step[clash]
            new[clash] = values[long][clash] + self.chars(start[clash], count[clash])
        else:
            raise SampleError("pasted context: prompt lengths did not settle apart")
        if m and (self.chars(start, count) < CONTEXT_MIN_CHARS).any():
            raise SampleError("pasted context: a block shrank below the minimum")
        per_value = np.zeros(len(values), dtype=np.int64)
        per_value[long] = count
        first = np.zeros(len(values), dtype=np.int64)
        first[long] = start
        row_count = per_value[inverse]
        which = (np.repeat(first[inverse], row_count) + positions_in_segment(row_count)) % size
        offsets = np.concatenate([[0], np.cumsum(row_count)]).astype(np.int32)
        # Rows without a block get a null one, which the join skips (separator included).
        lists = pa.ListArray.from_arrays(
            pa.array(offsets), self.sentences.take(which), mask=pa.array(row_count == 0)
        )
        return pc.binary_join_element_wise(
            text, pc.binary_join(lists, " "), CONTEXT_SEPARATOR, null_handling="skip"
        )


