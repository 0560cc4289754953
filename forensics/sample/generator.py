"""The public entry point: `generate_sample`."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from forensics.sample.base import DEFAULT_CHUNK_ROWS, LABELS, US, SampleError, SampleSummary
from forensics.sample.clock import Period
from forensics.sample.farms import HydraProxy, ReasoningHarvester
from forensics.sample.groups import build_groups
from forensics.sample.lookalikes import EnterpriseBatch, EvalCompany, ResearchGroup
from forensics.sample.ordinary import Ordinary
from forensics.sample.ordinary_text import OrdinaryText
from forensics.sample.products import AgentProduct, TutoringApp
from forensics.sample.stealth import AgenticSwarm, DataPipeline, TemplatedLowVolume
from forensics.sample.text import Context, Text
from forensics.sample.world import Population, World
from forensics.sample.writer import (
    write_accounts,
    write_indicators,
    write_labels,
    write_model_releases,
    write_requests,
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
    period = Period.parse(period_start, period_end)
    _check_out_dir(out_dir, force)

    text = Text.load()
    world = World(text, seed=seed, scale=float(scale), period=period)
    # Loaded only when asked for: the default output must not depend on the context text.
    world.context = Context.load(text) if long_prompts else None
    generators = _build_populations(world)
    world.freeze()

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the sample is an ordinary directory
        data = tmp / "data"
        (data / "requests").mkdir(parents=True)
        counts = write_requests(world, generators, data / "requests", chunk_rows)
        write_accounts(world, data / "accounts.parquet")
        write_model_releases(world, data / "model_releases.parquet")
        write_indicators(world, data / "indicators.csv")
        write_labels(world, tmp / "labels.csv")
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



def _build_populations(world: World) -> list[Population]:
    ordinary_text = OrdinaryText(world)
    pops: list[Population] = [Ordinary(world, ordinary_text)]
    pops += build_groups(world, ordinary_text)
    # Look-alike kinds are one organisation each at scale 1; their number grows with scale.
    n_orgs = max(1, round(world.scale))
    pops += [
        EvalCompany(world, n_orgs),
        EnterpriseBatch(world, n_orgs),
        AgentProduct(world, n_orgs),
        ResearchGroup(world, n_orgs),
        TutoringApp(world, n_orgs),
    ]
    pops.append(ReasoningHarvester(world))
    pops.append(HydraProxy(world, ordinary_text))
    pops.append(TemplatedLowVolume(world))
    pops.append(DataPipeline(world))
    pops.append(AgenticSwarm(world))
    return pops


