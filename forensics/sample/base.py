"""Constants of the files the generator writes, its error and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from forensics import schema
from forensics.errors import ForensicsError

# --------------------------------------------------------------------------------------------
# Schema v1 of the files written
# --------------------------------------------------------------------------------------------

TIMESTAMP = pa.timestamp("us", tz="UTC")
# The contract's column types (forensics.schema, DuckDB names) as the Arrow types written.
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMPTZ": TIMESTAMP,
    "INTEGER": pa.int32(),
    # Token counts are BIGINT in the contract (sums must not overflow); the sample's counts
    # are small, and int32 keeps generated samples byte-identical to the bundled one.
    "BIGINT": pa.int32(),
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
WINDOW_TARGET_ROWS = 30_000
ROW_GROUP_ROWS = 32_768
# zstd level 3 writes as fast as level 1 and about 8 % smaller; level 6 is 3x slower for 5 %.
ZSTD_LEVEL = 3
# Columns whose values repeat heavily: dictionary-encode them, leave free text plain.
DICTIONARY_COLUMNS = [
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
ROWS_AT_SCALE_1 = 100_000



T = TypeVar("T")


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

