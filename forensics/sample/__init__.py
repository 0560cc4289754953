"""A deterministic generator of a synthetic quarter of LLM API traffic with planted campaigns.

`generate_sample` writes a data directory in log schema v1 (request logs, accounts, model
releases, analyst indicators) and, beside it, the ground-truth labels. The traffic mixes
ordinary customers, benign look-alikes (eval companies, batch jobs, agent products, researchers,
tutoring apps) and distillation campaigns in the styles of the public reports (Anthropic,
Detecting and preventing distillation attacks, 2026-02-23; Google GTIG, 2026-02).

Same seed and scale give identical bytes in every file; memory stays bounded at any scale
because requests are generated window by window in time order and streamed to Parquet parts.
All prompt text comes from the YAML files in `forensics/sample_text/`.

The package's modules: `generator` (the entry point), `world` (accounts and shared state, the
population interface), `text` (sample text and pools), `clock` (period, windows, activity
profiles), `arrays` (randomness and vectorised helpers), `rows` (a window's rows), `writer`
(Parquet and CSV files), and the populations: ordinary people (`ordinary`, with the everyday
use every ordinary population shares in `everyday` and its text in `ordinary_text`; the
groups that share infrastructure or timing in `groups`), the benign look-alikes
(`lookalikes`, `products`) and the campaigns (`campaigns`, `farms`, `stealth`).
"""

from forensics.sample.base import (
    ACCOUNTS_SCHEMA,
    LABELS,
    MODEL_RELEASES_SCHEMA,
    REQUESTS_SCHEMA,
    SampleError,
    SampleSummary,
)
from forensics.sample.generator import generate_sample

__all__ = [
    "ACCOUNTS_SCHEMA",
    "LABELS",
    "MODEL_RELEASES_SCHEMA",
    "REQUESTS_SCHEMA",
    "SampleError",
    "SampleSummary",
    "generate_sample",
]
