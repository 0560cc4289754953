"""The case config (TOML) and the run options, validated once into frozen models."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from forensics import schema
from forensics.errors import ConfigError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseSection(_Frozen):
    """What the dossier says about the case itself."""

    id: str = "UNASSIGNED"
    title: str = "Distillation-attack forensic dossier"
    marking: str = "CONFIDENTIAL – INTERNAL"
    privileged: bool = False
    privilege_banner: str = "PRIVILEGED & CONFIDENTIAL – PREPARED AT THE DIRECTION OF COUNSEL"
    hmac_key: str | None = None
    dossier_version: str = "1"


class PeriodSection(_Frozen):
    """Which time window of the logs is analysed: a named period or since/until."""

    period: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class EngineSection(_Frozen):
    """DuckDB resources. Defaults keep memory bounded on a laptop."""

    memory_limit: str = "4GB"
    threads: int | None = None
    temp_directory: str | None = None


class ScoringSection(_Frozen):
    """Thresholds of the linking and scoring stage."""

    flag_threshold: float = Field(0.5, ge=0, le=1)
    high_threshold: float = Field(0.75, ge=0, le=1)
    min_link_weight: float = Field(0.5, ge=0)


class ReportSection(_Frozen):
    """Caps that keep the dossier readable and its render time bounded."""

    max_clusters: int = Field(12, ge=1)
    max_table_rows: int = Field(25, ge=1)
    max_prompt_chars: int = Field(600, ge=40)


class CaseConfig(_Frozen):
    """Everything a case TOML file may hold."""

    case: CaseSection = CaseSection()
    period: PeriodSection = PeriodSection()
    columns: dict[str, dict[str, str]] = {}
    params: dict[str, dict[str, Any]] = {}
    engine: EngineSection = EngineSection()
    scoring: ScoringSection = ScoringSection()
    report: ReportSection = ReportSection()

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for table_name, mapping in value.items():
            try:
                table = schema.table(table_name)
            except KeyError:
                raise ValueError(f"unknown table {table_name!r} in [columns]") from None
            for canonical in mapping:
                if canonical not in table.names:
                    raise ValueError(
                        f"[columns.{table_name}] maps {canonical!r}, which is not a column of "
                        f"{table_name} (expected one of: {', '.join(table.names)})")
        return value


def load_case_config(path: Path | None) -> CaseConfig:
    """Read and validate a case TOML file; no file means all defaults."""
    if path is None:
        return CaseConfig()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config file not found", file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from None
    try:
        return CaseConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {first['msg']}", file=str(path)) from None


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(text: str) -> tuple[datetime, datetime]:
    """'2026Q3' or '2026-08' → half-open [since, until) in UTC."""
    if m := _QUARTER.match(text):
        year, q = int(m[1]), int(m[2])
        start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC) if q == 4 else datetime(
            year, 3 * q + 1, 1, tzinfo=UTC)
        return start, end
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ConfigError(f"period {text!r}: month must be 01–12")
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return start, end
    raise ConfigError(f"period {text!r}: expected a quarter like 2026Q3 or a month like 2026-08")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Window(_Frozen):
    """The analysed time window; both ends optional; half-open [since, until)."""

    label: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.since is None and self.until is None:
            return "all data"
        left = self.since.isoformat() if self.since else "…"
        right = self.until.isoformat() if self.until else "…"
        return f"{left} – {right}"


def resolve_window(case: CaseConfig, period: str | None, since: datetime | None,
                   until: datetime | None) -> Window:
    """Command-line options win over the config's [period]."""
    if period and (since or until):
        raise ConfigError("give either --period or --since/--until, not both")
    label = period or case.period.period
    if period is None and (since or until):
        label = None
    if label and not (since or until):
        start, end = parse_period(label)
        return Window(label=label, since=start, until=end)
    since = since or case.period.since
    until = until or case.period.until
    since = _utc(since) if since else None
    until = _utc(until) if until else None
    if since and until and since >= until:
        raise ConfigError(f"empty period: since {since.isoformat()} is not before "
                          f"until {until.isoformat()}")
    return Window(since=since, until=until)


Profile = Literal["internal", "public"]


class RunConfig(_Frozen):
    """Everything one `forensics run` needs, resolved from the CLI and the case file."""

    data_dir: Path
    out_dir: Path | None = None
    case: CaseConfig = CaseConfig()
    config_path: Path | None = None
    window: Window = Window()
    profile: Profile = "internal"
    force: bool = False
    queries_dir: Path | None = None
    templates_dir: Path | None = None
    workdir: Path | None = None
    baseline_dir: Path | None = None
    command_line: tuple[str, ...] = ()
    quiet: bool = True
