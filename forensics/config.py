"""The case config (TOML) and the run options, validated once into frozen models."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from forensics import schema
from forensics.errors import ConfigError, ConfigProblems


class _Frozen(BaseModel):
    # TOML has nan and inf: no threshold, weight or cap means anything at either.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


# Case text is printed on the cover and, for the marking, in the running header of every
# page, where WeasyPrint lays it out again per page: a 20,000-character marking kept a small
# run rendering for more than ten minutes. Real markings are a line; titles a sentence or two.
MAX_MARKING_CHARS = 200
MAX_CASE_TEXT_CHARS = 2000


class CaseSection(_Frozen):
    """What the dossier says about the case itself."""

    # No case number yet: the cover says so instead of inventing one.
    id: str = Field("", max_length=MAX_MARKING_CHARS)
    title: str = Field("Distillation-attack forensic dossier", max_length=MAX_CASE_TEXT_CHARS)
    # Unset: the profile's own marking (RunConfig.marking), so that a public dossier is never
    # stamped internal by default.
    marking: str | None = Field(None, max_length=MAX_MARKING_CHARS)
    privileged: bool = False
    privilege_banner: str = Field(
        "PRIVILEGED & CONFIDENTIAL – PREPARED AT THE DIRECTION OF COUNSEL",
        max_length=MAX_CASE_TEXT_CHARS)
    hmac_key: str | None = Field(None, max_length=MAX_CASE_TEXT_CHARS)
    dossier_version: str = Field("1", max_length=MAX_MARKING_CHARS)


class PeriodSection(_Frozen):
    """Which time window of the logs is analysed: a named period or since/until."""

    period: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @field_validator("since", "until", mode="before")
    @classmethod
    def _date_is_midnight(cls, value: Any) -> Any:
        # TOML has bare dates (since = 2026-07-01); read them as midnight UTC.
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value

    @field_validator("period")
    @classmethod
    def _known_period(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_period(value)
            except ConfigError as exc:
                raise ValueError(exc.message) from None
        return value

    @model_validator(mode="after")
    def _one_way(self) -> PeriodSection:
        if self.period and (self.since or self.until):
            raise ValueError("give either period or since/until, not both")
        if self.since and self.until and _utc(self.since) >= _utc(self.until):
            raise ValueError(f"since {self.since.isoformat()} is not before "
                             f"until {self.until.isoformat()}")
        return self


# DuckDB's memory units; anything else makes DuckDB fail at connect time, long after the
# config was read, so the value is checked here where the file can be named.
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|[KMGT]i?B|[KMGT])\s*$", re.IGNORECASE)
_MEMORY_POWERS = {"K": 1, "M": 2, "G": 3, "T": 4}
_MIN_MEMORY_BYTES = 64e6


def memory_bytes(amount: float, unit: str) -> float:
    """Bytes of a DuckDB memory size: KiB, MiB… are powers of 1024, KB, MB… and K, M… of 1000."""
    base = 1024 if unit.upper().endswith("IB") else 1000
    return amount * base ** _MEMORY_POWERS[unit[0].upper()]


def physical_memory_bytes() -> int | None:
    """This machine's physical memory, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


class EngineSection(_Frozen):
    """Where the work runs: DuckDB (its resources; defaults keep memory bounded on a laptop)
    or Apache Spark (`name = "spark"`: features, heuristics and linking on a Spark session,
    forensics/spark/run.py)."""

    name: Literal["duckdb", "spark"] = "duckdb"
    # A Spark master URL (spark://host:7077, yarn, k8s://…); unset is local mode on every
    # core of this machine.
    spark_master: str | None = Field(None, min_length=1, max_length=4096)
    # The driver's memory in local mode (the JVM's -Xmx; a cluster's driver is set by its
    # own submit settings or spark_conf).
    spark_driver_memory: str = Field("4g", pattern=r"^[0-9]+[kmgtKMGT]?$")
    # Where Spark writes the run's intermediate tables: a folder of this machine (local mode,
    # or a mount every node shares). Unset: the system temp folder.
    spark_staging: str | None = Field(None, min_length=1, max_length=4096)
    # Any other Spark settings, with their "spark." prefix, as strings.
    spark_conf: dict[str, str] = Field(default_factory=dict)

    # DuckDB spills to temp_directory beyond this. 1 GB keeps peak RSS near-flat as the log
    # grows, at no measured cost in time up to ten million requests; beyond that the slowest
    # heuristics spill and grow a little faster than the log (README, Performance, has the
    # figures). Raise it for exports of tens of millions where RAM allows.
    memory_limit: str = "1GB"
    # strict: TOML's `threads = true` is not a thread count.
    threads: int | None = Field(None, ge=1, strict=True)
    temp_directory: str | None = Field(None, min_length=1, max_length=4096)

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        m = _MEMORY.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a memory size (expected e.g. '4GB', '512MiB' "
                             f"or '50%')")
        amount, unit = float(m[1]), m[2]
        if unit == "%":
            if not 0 < amount <= 100:
                raise ValueError(f"{value!r}: a percentage must be between 0 and 100")
            return value
        size = memory_bytes(amount, unit)
        if size < _MIN_MEMORY_BYTES:
            raise ValueError(f"{value!r} is too small (at least 64MB)")
        # More than the machine has is never granted: DuckDB would not spill until the OS
        # started swapping or killed the run.
        physical = physical_memory_bytes()
        if physical is not None and size > physical:
            raise ValueError(f"{value!r} is more than this machine's physical memory "
                             f"({_gib(physical)}; expected at most that, or a percentage "
                             f"such as '50%')")
        return value

    @field_validator("spark_staging")
    @classmethod
    def _spark_staging(cls, value: str | None) -> str | None:
        # DuckDB writes the inputs there and reads the results back: a folder this machine
        # sees (a mount the executors share for a cluster), not a URI only Spark can open.
        if value is not None and "://" in value:
            raise ValueError(f"{value!r} is a URI (expected a folder of this machine, e.g. a "
                             f"mount every Spark executor shares)")
        return value

    @field_validator("spark_conf")
    @classmethod
    def _spark_conf(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in value if not k.startswith("spark."))
        if bad:
            raise ValueError(f"{bad[0]!r} is not a Spark setting (expected a key starting "
                             f"with 'spark.', e.g. \"spark.executor.memory\")")
        return value

    @field_validator("threads")
    @classmethod
    def _threads(cls, value: int | None) -> int | None:
        # More DuckDB threads than cores only adds contention (and memory per thread).
        cores = os.cpu_count() or 1
        if value is not None and value > cores:
            raise ValueError(f"{value} is more than this machine's {cores} CPU cores "
                             f"(expected 1 to {cores})")
        return value


class ScoringSection(_Frozen):
    """Thresholds of the linking and scoring stage."""

    flag_threshold: float = Field(0.5, ge=0, le=1)
    high_threshold: float = Field(0.75, ge=0, le=1)
    min_link_weight: float = Field(0.5, ge=0)


class BenignChecksSection(_Frozen):
    """Where each benign look-alike weighed in a cluster's finding ("Benign explanations
    considered") is rejected, against the cluster's own numbers (forensics/evidence/clusters.py).
    A look-alike that is not rejected stays open in the finding."""

    # An evaluation company or eval harness: rejected below this share of the cluster's
    # requests in public benchmark test formats.
    eval_benchmark_share: float = Field(0.2, ge=0, le=1)
    # An agent or IDE product with real users: rejected below this share of requests that
    # continue a conversation.
    agent_follow_up_share: float = Field(0.3, ge=0, le=1)
    # A tutoring app or human users: rejected when the cluster is active in at least this many
    # of the 24 UTC hours and below tutoring_follow_up_share of follow-up turns.
    tutoring_active_hours: int = Field(20, ge=0, le=24, strict=True)
    tutoring_follow_up_share: float = Field(0.3, ge=0, le=1)
    # A templated enterprise job: rejected, for a cluster of several owners, below this many
    # distinct templates per request.
    enterprise_template_variety: float = Field(0.5, ge=0, le=1)


class ReportSection(_Frozen):
    """Caps that keep the dossier readable and its render time bounded."""

    # The upper bounds keep the render bounded: WeasyPrint's time grows with the table rows it
    # lays out, milliseconds each, so the largest cap costs seconds per table, and every
    # cluster has several tables.
    max_clusters: int = Field(12, ge=1, le=200)
    max_table_rows: int = Field(25, ge=1, le=1000)
    max_prompt_chars: int = Field(600, ge=40, le=20000)
    # Public profile: characters of a template exemplar shown (0 masks every prompt text).
    public_exemplar_chars: int = Field(80, ge=0, le=400)


class CaseConfig(_Frozen):
    """Everything a case TOML file may hold."""

    case: CaseSection = CaseSection()
    period: PeriodSection = PeriodSection()
    columns: dict[str, dict[str, str]] = {}
    params: dict[str, dict[str, Any]] = {}
    engine: EngineSection = EngineSection()
    scoring: ScoringSection = ScoringSection()
    benign_checks: BenignChecksSection = BenignChecksSection()
    report: ReportSection = ReportSection()

    @field_validator("params")
    @classmethod
    def _finite_params(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # Any-typed, so allow_inf_nan does not reach them; a nan threshold makes every
        # comparison false and silently switches a heuristic off.
        problems = [f"params.{hid}.{name}: {v!r} is not a finite number (expected a number "
                    f"such as 0.5)"
                    for hid, values in value.items() if isinstance(values, dict)
                    for name, v in values.items() if _not_finite(v)]
        if problems:
            raise ValueError("\n".join(problems))
        return value

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        problems: list[str] = []
        for table_name, mapping in value.items():
            try:
                table = schema.table(table_name)
            except KeyError:
                problems.append(f"[columns.{table_name}]: unknown table {table_name!r} "
                                f"(expected one of: {', '.join(t.name for t in schema.TABLES)})")
                continue
            for canonical, source in mapping.items():
                if canonical not in table.names:
                    problems.append(
                        f"[columns.{table_name}] {canonical}: not a column of {table_name} "
                        f"(expected one of: {', '.join(table.names)})")
                elif not source.strip():
                    problems.append(f"[columns.{table_name}] {canonical}: the source column "
                                    f"name is empty")
        if problems:
            # One ValueError carries them all; load_case_config splits them into lines again.
            raise ValueError("\n".join(problems))
        return value


def _not_finite(value: Any) -> bool:
    """Whether a config value is, or (in a list) holds, a nan or an infinity."""
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, list) and any(_not_finite(v) for v in value)


def load_case_config(path: Path | None) -> CaseConfig:
    """Read and validate a case TOML file; no file means all defaults."""
    if path is None:
        return CaseConfig()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=str(path)) from None
    except IsADirectoryError:
        raise ConfigError("is a directory (expected a TOML file)", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (invalid byte at offset {exc.start}; expected a "
                          f"UTF-8 TOML file)", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror})", file=str(path)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from None
    try:
        return CaseConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigProblems(_validation_problems(exc), file=str(path)) from None


def _validation_problems(exc: ValidationError) -> list[str]:
    """Every pydantic error as 'section.key: message', one line each."""
    problems: list[str] = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown setting"
        elif err["type"] == "string_too_long":
            msg = f"{msg} (found {len(err['input'])})"
        elif err["type"] == "value_error" and err["loc"] in (("columns",), ("params",)):
            # These validators report several problems at once, one per line, each of which
            # already says where it is.
            problems.extend(msg.splitlines())
            continue
        problems.append(f"{where}: {msg}" if where else msg)
    return problems


_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# API logs begin after the Unix epoch; the upper bound keeps a typo (9999Q4, whose end is the
# year 10000) from reaching datetime as an internal error.
FIRST_YEAR, LAST_YEAR = 1970, 2999


def _check_year(text: str, year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ConfigError(f"period {text!r}: year {year} is outside {FIRST_YEAR}–{LAST_YEAR} "
                          f"(expected a quarter like 2026Q3 or a month like 2026-08)")


def parse_period(text: str) -> tuple[datetime, datetime]:
    """'2026Q3' or '2026-08' → half-open [since, until) in UTC."""
    if m := _QUARTER.match(text):
        year, q = int(m[1]), int(m[2])
        _check_year(text, year)
        start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC) if q == 4 else datetime(
            year, 3 * q + 1, 1, tzinfo=UTC)
        return start, end
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        _check_year(text, year)
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
            return "the whole export"
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
PROFILE_MARKINGS: dict[str, str] = {"internal": "CONFIDENTIAL – INTERNAL", "public": "PUBLIC"}
# Words that contradict a public dossier: it is meant for anyone to read.
NOT_PUBLIC_WORDS = ("CONFIDENTIAL", "INTERNAL", "PRIVILEGED", "RESTRICTED", "SECRET")
# What a run writes besides its findings, signals and manifest (always written): the dossier
# as PDF and as HTML, each with the exhibits. "json" alone writes the findings only, for
# trying thresholds without waiting for a render.
FORMATS = ("pdf", "html", "json")
DEFAULT_FORMATS = frozenset(FORMATS)


def parse_formats(values: Iterable[str]) -> frozenset[str]:
    """The formats asked for (--format, or the Python API's `formats`), checked: some of
    FORMATS and nothing else."""
    chosen = [v.strip().lower() for v in values if v.strip()]
    unknown = [v for v in chosen if v not in FORMATS]
    if unknown or not chosen:
        raise ConfigError(f"formats: {', '.join(unknown) or 'none given'} (expected a "
                          f"comma-separated list of {', '.join(FORMATS)})")
    return frozenset(chosen)


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
    formats: frozenset[str] = DEFAULT_FORMATS
    command_line: tuple[str, ...] = ()

    @property
    def marking(self) -> str:
        """The marking on every page: the case's own, else the profile's."""
        return self.case.case.marking or PROFILE_MARKINGS[self.profile]

    @property
    def dossier(self) -> bool:
        """Whether the run renders a dossier (and writes its exhibits) at all."""
        return bool(self.formats & {"pdf", "html"})
