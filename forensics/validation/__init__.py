"""The method's validation data, packaged with the tool and read once into frozen models.

`benchmark.json` holds this version's measured error rates on the detection benchmark
(written by `python -m bench.detection`: several synthetic samples, pooled, each proportion
with its 95 % Wilson interval); `sources_of_error.yaml` lists the known sources of error, each
with what the method does about it and the risk that remains. The dossier's "Method
validation" section shows both (forensics/report/validation.py).

A malformed file is a ValidationDataError naming the file and every bad key; a missing
benchmark is not an error (`load_benchmark` returns None and the dossier says so).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from forensics import resources
from forensics.errors import ForensicsError
from forensics.evaluate import wilson_interval

BENCHMARK = "benchmark.json"
SOURCES = "sources_of_error.yaml"
SCHEMA = 1
CONFIDENCE_LEVELS = ("high", "moderate", "low")
ERROR_KINDS = ("false positive", "miss", "false positive and miss")
SOURCE_KEYS = ("id", "title", "error", "cause", "mitigation", "residual")
# The JSON's figures are rounded; a bound further than this from the Wilson bound recomputed
# from k and n is not the interval the dossier says it is.
TOLERANCE = 0.0015
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class ValidationDataError(ForensicsError):
    """The packaged validation data (benchmark figures, sources of error) is malformed."""

    def __init__(self, problems: list[str], *, file: str):
        self.problems = list(problems)
        message = (problems[0] if len(problems) == 1 else
                   f"{len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems))
        super().__init__(message, file=file)


@dataclass(frozen=True)
class Rate:
    """A measured proportion k of n with its 95 % Wilson interval; value and bounds are
    None when n is 0 (nothing was there to measure)."""

    k: int
    n: int
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class BenchmarkRun:
    """One generated sample the benchmark ran on."""

    seed: int
    scale: float
    requests: int
    accounts: int


@dataclass(frozen=True)
class Population:
    """One population of the samples (a campaign, a look-alike, ordinary customers) and how
    many of its accounts were flagged."""

    label: str  # campaign, lookalike, ordinary
    group: str
    accounts: int
    flagged: int
    rate: Rate


@dataclass(frozen=True)
class Benchmark:
    """This version's measured error rates, pooled over every run of the benchmark."""

    command: str
    tool_version: str
    generator: str
    settings: tuple[tuple[str, Any], ...]  # the thresholds it ran with, sorted by name
    runs: tuple[BenchmarkRun, ...]
    requests: int
    accounts: int
    campaign_accounts: int
    flagged: int
    precision: Rate
    recall: Rate
    false_positive_rate: Rate
    precision_by_confidence: tuple[tuple[str, Rate], ...]  # high, moderate, low order
    recall_by_campaign: tuple[tuple[str, Rate], ...]  # sorted by campaign
    populations: tuple[Population, ...]
    lookalikes_flagged: int
    ordinary_flagged: int
    ari_min: float
    ari_mean: float

    def precision_at(self, level: str) -> Rate | None:
        """Precision among accounts flagged at a confidence level, if measured."""
        return dict(self.precision_by_confidence).get(level)


@dataclass(frozen=True)
class SourceOfError:
    """A known source of error: how it misleads, what the method does about it now, and the
    risk that remains."""

    id: str
    title: str
    error: str  # one of ERROR_KINDS
    cause: str
    mitigation: str
    residual: str


class _Checker:
    """Reads typed values out of parsed JSON/YAML, collecting every problem by key."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(f"key {key!r}: {message}")

    def obj(self, value: Any, key: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.bad(key, f"expected an object, found {_kind(value)}")
        return {}

    def get(self, d: Mapping[str, Any], name: str, key: str) -> Any:
        if name not in d:
            self.bad(f"{key}.{name}" if key else name, "missing")
            return None
        return d[name]

    def obj_at(self, d: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
        """The object under `name` ({} when missing or not an object, the problem noted)."""
        full = f"{key}.{name}" if key else name
        return self.obj(d[name], full) if name in d else self.obj_missing(full)

    def obj_missing(self, full: str) -> Mapping[str, Any]:
        self.bad(full, "missing")
        return {}

    def objects(self, d: Mapping[str, Any], name: str, key: str, *,
                non_empty: bool = False) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The objects of the list under `name`, each with its key (`runs[0]`), one at a time
        so that the caller's problems with one come before the next one's; entries that are
        not objects, and a value that is not a list (or is empty, with `non_empty`), noted."""
        full = f"{key}.{name}" if key else name
        value = self.get(d, name, key)
        if name not in d:
            return
        if not isinstance(value, list) or (non_empty and not value):
            self.bad(full, f"expected a {'non-empty ' if non_empty else ''}list, "
                           f"found {_kind(value)}")
            return
        for i, item in enumerate(value):
            obj = self.obj(item, f"{full}[{i}]")
            if obj:
                yield f"{full}[{i}]", obj

    def rate_at(self, d: Mapping[str, Any], name: str, key: str) -> Rate:
        full = f"{key}.{name}" if key else name
        if name not in d:
            self.bad(full, "missing")
            return Rate(0, 0, None, None, None)
        return self.rate(d[name], full)

    def int_(self, d: Mapping[str, Any], name: str, key: str) -> int:
        value = self.get(d, name, key)
        full = f"{key}.{name}" if key else name
        if value is None and name not in d:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.bad(full, f"expected a whole number ≥ 0, found {_kind(value)}")
            return 0
        return value

    def num(self, d: Mapping[str, Any], name: str, key: str, *,
            unit: bool = False) -> float | None:
        value = self.get(d, name, key)
        full = f"{key}.{name}" if key else name
        if value is None:
            if name in d:
                self.bad(full, "expected a number, found null")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            self.bad(full, f"expected a number, found {_kind(value)}")
            return None
        if unit and not 0 <= value <= 1:
            self.bad(full, f"expected a number from 0 to 1, found {value!r}")
            return None
        return float(value)

    def text(self, d: Mapping[str, Any], name: str, key: str) -> str:
        value = self.get(d, name, key)
        full = f"{key}.{name}" if key else name
        if name in d and (not isinstance(value, str) or not value.strip()):
            self.bad(full, f"expected a non-empty string, found {_kind(value)}")
            return ""
        return " ".join(value.split()) if isinstance(value, str) else ""

    def rate(self, value: Any, key: str) -> Rate:
        d = self.obj(value, key)
        if not d:
            return Rate(0, 0, None, None, None)
        k, n = self.int_(d, "k", key), self.int_(d, "n", key)
        if k > n:
            self.bad(f"{key}.k", f"k ({k}) exceeds n ({n})")
            return Rate(k, n, None, None, None)
        if n == 0:  # nothing to measure: whatever value is written means nothing
            return Rate(k, n, None, None, None)
        value_, low, high = (self.num(d, name, key, unit=True)
                             for name in ("value", "low", "high"))
        if value_ is None or low is None or high is None:
            return Rate(k, n, None, None, None)
        if abs(value_ - k / n) > TOLERANCE:
            self.bad(f"{key}.value", f"{value_!r} is not k/n = {k}/{n}")
        w_low, w_high = wilson_interval(k, n)
        if abs(low - w_low) > TOLERANCE or abs(high - w_high) > TOLERANCE:
            self.bad(key, f"interval {low!r}–{high!r} is not the 95 % Wilson interval of "
                          f"{k}/{n} ({w_low:.4f}–{w_high:.4f})")
        return Rate(k, n, value_, low, high)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _generator(value: Any) -> str:
    """The generator as one line: a string as written, an object as 'key value, …'."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in sorted(value.items()))
    return ""


def _parse_benchmark(raw: Any) -> tuple[Benchmark | None, list[str]]:
    """The benchmark in `raw` (None when it has no usable top level or pooled figures) and
    every problem found, in the order of the file's keys."""
    c = _Checker()
    top = c.obj(raw, "(top level)")
    if not top:
        return None, c.problems
    schema = top.get("schema")
    if schema != SCHEMA:
        c.bad("schema", f"expected {SCHEMA}, found {_kind(schema)}")
        return None, c.problems
    head = _parse_head(c, top)
    pooled = c.obj_at(top, "pooled", "")
    if not pooled:
        return None, c.problems
    bench = _parse_pooled(c, pooled, head)
    _check_agreement(c, bench)
    return bench, c.problems


@dataclass(frozen=True)
class _Head:
    """What the benchmark file says before its pooled figures: how it ran, and on what."""

    command: str
    tool_version: str
    generator: str
    settings: tuple[tuple[str, Any], ...]
    runs: tuple[BenchmarkRun, ...]


def _parse_head(c: _Checker, top: Mapping[str, Any]) -> _Head:
    command = c.text(top, "command", "")
    tool_version = c.text(top, "tool_version", "")
    generator = c.get(top, "generator", "")
    if "generator" in top and not _generator(generator):
        c.bad("generator", f"expected a string or an object, found {_kind(generator)}")
    settings = c.obj_at(top, "settings", "")
    for name, value in settings.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            c.bad(f"settings.{name}", f"expected a number or string, found {_kind(value)}")
    runs = tuple(BenchmarkRun(c.int_(d, "seed", key), c.num(d, "scale", key) or 0.0,
                              c.int_(d, "requests", key), c.int_(d, "accounts", key))
                 for key, d in c.objects(top, "runs", "", non_empty=True))
    return _Head(command, tool_version, _generator(generator),
                 tuple(sorted(settings.items())), runs)


def _parse_pooled(c: _Checker, p: Mapping[str, Any], head: _Head) -> Benchmark:
    """The pooled figures under `p`, with the file's `head`."""
    key = "pooled"
    pooled_runs = c.int_(p, "runs", key)
    if head.runs and pooled_runs != len(head.runs):
        c.bad("pooled.runs", f"{pooled_runs} but the file lists {len(head.runs)} runs")
    by_conf = c.obj_at(p, "precision_by_confidence", key)
    for level in by_conf:
        if level not in CONFIDENCE_LEVELS:
            c.bad(f"pooled.precision_by_confidence.{level}",
                  f"unknown confidence level (expected {', '.join(CONFIDENCE_LEVELS)})")
    by_campaign = c.obj_at(p, "recall_by_campaign", key)
    populations = tuple(
        Population(c.text(d, "label", pk), c.text(d, "group", pk), c.int_(d, "accounts", pk),
                   c.int_(d, "flagged", pk), c.rate_at(d, "rate", pk))
        for pk, d in c.objects(p, "populations", key))
    ari = c.obj_at(p, "adjusted_rand_index", key)
    ari_key = "pooled.adjusted_rand_index"
    return Benchmark(
        command=head.command, tool_version=head.tool_version, generator=head.generator,
        settings=head.settings, runs=head.runs,
        requests=c.int_(p, "requests", key), accounts=c.int_(p, "accounts", key),
        campaign_accounts=c.int_(p, "campaign_accounts", key),
        flagged=c.int_(p, "flagged", key),
        precision=c.rate_at(p, "precision", key),
        recall=c.rate_at(p, "recall", key),
        false_positive_rate=c.rate_at(p, "false_positive_rate", key),
        precision_by_confidence=tuple(
            (level, c.rate(by_conf[level], f"pooled.precision_by_confidence.{level}"))
            for level in CONFIDENCE_LEVELS if level in by_conf),
        recall_by_campaign=tuple(
            (str(g), c.rate(v, f"pooled.recall_by_campaign.{g}"))
            for g, v in sorted(by_campaign.items())),
        populations=populations,
        lookalikes_flagged=c.int_(p, "lookalikes_flagged", key),
        ordinary_flagged=c.int_(p, "ordinary_flagged", key),
        ari_min=c.num(ari, "min", ari_key) or 0.0,
        ari_mean=c.num(ari, "mean", ari_key) or 0.0)


def _check_agreement(c: _Checker, bench: Benchmark) -> None:
    """The pooled counts must agree with each other: a figure that contradicts another is a
    defect of the file, not something to print."""
    if bench.precision.n > bench.flagged:  # flagged may count unlabelled accounts too
        c.bad("pooled.precision.n", f"{bench.precision.n} but only {bench.flagged} accounts "
              f"flagged")
    if bench.recall.n != bench.campaign_accounts:
        c.bad("pooled.recall.n",
              f"{bench.recall.n} but {bench.campaign_accounts} campaign accounts")
    populations = bench.populations
    if populations and sum(x.accounts for x in populations) != bench.accounts:
        c.bad("pooled.populations", f"the populations' accounts add up to "
              f"{sum(x.accounts for x in populations):,}, not pooled.accounts "
              f"({bench.accounts:,})")
    for x in populations:
        if (x.rate.k, x.rate.n) != (x.flagged, x.accounts):
            c.bad(f"pooled.populations ({x.group}).rate",
                  f"{x.rate.k}/{x.rate.n}, not flagged/accounts = {x.flagged}/{x.accounts}")


def load_benchmark(path: Path | None = None) -> Benchmark | None:
    """The benchmark's figures from `path` (default: the packaged benchmark.json).

    Returns None when the packaged file does not exist (this version has not been
    benchmarked); a `path` given explicitly must exist.
    """
    file = Path(path) if path is not None else resources.validation_file(BENCHMARK)
    if path is None and not file.is_file():
        return None
    text = _read(file)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationDataError([f"not valid JSON ({exc})"], file=str(file)) from None
    bench, problems = _parse_benchmark(raw)
    if problems or bench is None:
        raise ValidationDataError(problems or ["no pooled figures"], file=str(file))
    return bench


def _read(file: Path) -> str:
    """The file's text; a missing, unreadable or non-UTF-8 file is a ValidationDataError."""
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationDataError(["file not found"], file=str(file)) from None
    except OSError as exc:
        raise ValidationDataError([f"cannot be read ({exc.strerror})"], file=str(file)) from None
    except UnicodeDecodeError as exc:
        raise ValidationDataError([f"not UTF-8 text ({exc.reason})"], file=str(file)) from None


def load_sources(path: Path | None = None) -> tuple[SourceOfError, ...]:
    """The known sources of error from `path` (default: the packaged YAML), in file order."""
    file = Path(path) if path is not None else resources.validation_file(SOURCES)
    text = _read(file)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationDataError([f"not valid YAML ({' '.join(str(exc).split())})"],
                                  file=str(file)) from None
    c = _Checker()
    top = c.obj(raw, "(top level)")
    items = top.get("sources") if top else None
    if top and (not isinstance(items, list) or not items):
        c.bad("sources", f"expected a non-empty list, found {_kind(items)}")
    for extra in sorted(set(top) - {"sources"}):
        c.bad(str(extra), "unknown key (expected only 'sources')")
    out: list[SourceOfError] = []
    seen: set[str] = set()
    for i, item in enumerate(items if isinstance(items, list) else []):
        d = c.obj(item, f"sources[{i}]")
        if not d:
            continue
        ident = d.get("id")
        key = f"sources[{i}]" + (f" ({ident})" if isinstance(ident, str) else "")
        for extra in sorted(set(map(str, d)) - set(SOURCE_KEYS)):
            c.bad(f"{key}.{extra}", f"unknown key (expected {', '.join(SOURCE_KEYS)})")
        values = {name: c.text(d, name, key) for name in SOURCE_KEYS}
        if values["id"] and not _ID.match(values["id"]):
            c.bad(f"{key}.id", "expected lower_snake_case")
        if values["id"] in seen:
            c.bad(f"{key}.id", "duplicate id")
        seen.add(values["id"])
        if values["error"] and values["error"] not in ERROR_KINDS:
            c.bad(f"{key}.error", f"expected one of {', '.join(ERROR_KINDS)}")
        out.append(SourceOfError(**values))
    if c.problems:
        raise ValidationDataError(c.problems, file=str(file))
    return tuple(out)
