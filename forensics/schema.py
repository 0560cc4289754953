"""Log schema v1: the input contract. The only place that knows table and column names."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class Column:
    """One column of the contract: canonical name, DuckDB type, whether it must be present."""

    name: str
    type: str
    required: bool
    description: str
    unique: bool = False
    choices: tuple[str, ...] = ()  # allowed values (compared lower-cased), when it is a code
    minimum: int | None = None  # the smallest allowed value of a count; a smaller one is refused


@dataclass(frozen=True)
class Table:
    """One input table of the contract."""

    name: str
    required: bool
    description: str
    columns: tuple[Column, ...]
    # Rows with the same key are one thing listed more than once. They must agree on the
    # identity columns, or the export contradicts itself and is refused; copies that agree are
    # excluded and counted, the first (by file, then row) kept. A copy must also agree on every
    # other column, unless copies_may_differ (a re-exported request may carry another response
    # excerpt, say, but is still the same request).
    key: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()
    copies_may_differ: bool = False

    def column(self, name: str) -> Column:
        """The column called `name`; KeyError when the contract has none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: str, required: bool, description: str, unique: bool = False,
       choices: tuple[str, ...] = (), minimum: int | None = None) -> Column:
    return Column(name, type_, required, description, unique, choices, minimum)


# Times outside these bounds are no time a request to a current API was sent: a 0 or a
# 1970 placeholder, or a unit misread. Requests outside are excluded and counted; an account
# creation or model release outside is refused (dropping the row would change what the
# requests are measured against).
EARLIEST = "2000-01-01"
LATEST = "2100-01-01"  # excluded


INDICATOR_TYPES = ("ip", "cidr", "email_domain", "payment_fingerprint", "account_id", "user_agent")


REQUESTS = Table("requests", True, "one row per API request", (
    _c("request_id", "VARCHAR", True, "unique id of the request", unique=True),
    _c("ts", "TIMESTAMPTZ", True, "time the request was received (UTC)"),
    _c("account_id", "VARCHAR", True, "account that sent it"),
    _c("api_key_id", "VARCHAR", False, "API key used"),
    _c("org_id", "VARCHAR", False, "organisation of the account"),
    _c("ip", "VARCHAR", False, "client IP address"),
    _c("user_agent", "VARCHAR", False, "client user agent"),
    _c("access_channel", "VARCHAR", False, "direct API, cloud platform, reseller…"),
    _c("model", "VARCHAR", True, "model requested"),
    _c("conversation_id", "VARCHAR", False, "conversation the request belongs to"),
    _c("turn_index", "INTEGER", False, "0-based turn within the conversation", minimum=0),
    _c("system_prompt", "VARCHAR", False, "system prompt"),
    _c("prompt", "VARCHAR", True, "newest user message"),
    _c("response", "VARCHAR", False, "response text (may be an excerpt or null)"),
    # BIGINT: counts near 2^31 must not overflow input_tokens + output_tokens or a sum.
    _c("input_tokens", "BIGINT", True, "tokens in", minimum=0),
    _c("output_tokens", "BIGINT", True, "tokens out", minimum=0),
    _c("max_tokens", "BIGINT", False, "max_tokens requested", minimum=0),
    _c("tool_count", "INTEGER", False, "tools offered in the request", minimum=0),
    _c("temperature", "DOUBLE", False, "sampling temperature"),
    _c("thinking", "BOOLEAN", False, "extended thinking requested (true/false or 1/0)"),
    _c("stop_reason", "VARCHAR", False, "why generation stopped (end_turn, max_tokens…)"),
), key=("request_id",), identity=("account_id", "ts"), copies_may_differ=True)

ACCOUNTS = Table("accounts", True, "one row per account", (
    _c("account_id", "VARCHAR", True, "account id", unique=True),
    _c("created_at", "TIMESTAMPTZ", True, "account creation time (UTC)"),
    _c("org_id", "VARCHAR", False, "declared organisation"),
    _c("email_domain", "VARCHAR", False, "domain of the sign-up e-mail"),
    _c("payment_fingerprint", "VARCHAR", False, "fingerprint of the payment method"),
    _c("billing_country", "VARCHAR", False, "ISO-3166 alpha-2 billing country"),
    _c("tier", "VARCHAR", False, "account tier (free, build, education, research…)"),
    _c("signup_ip", "VARCHAR", False, "IP address at sign-up"),
), key=("account_id",), identity=("created_at", "org_id", "email_domain", "payment_fingerprint",
                                  "billing_country", "tier", "signup_ip"))

MODEL_RELEASES = Table("model_releases", False, "when each model became available", (
    _c("model", "VARCHAR", True, "model name as in requests.model", unique=True),
    _c("released_at", "TIMESTAMPTZ", True, "release time (UTC)"),
), key=("model",), identity=("released_at",))

INDICATORS = Table("indicators", False, "analyst-supplied indicators (Parquet or CSV)", (
    _c("indicator_type", "VARCHAR", True,
       "ip, cidr, email_domain, payment_fingerprint, account_id or user_agent",
       choices=INDICATOR_TYPES),
    _c("value", "VARCHAR", True, "the indicator value"),
    _c("actor", "VARCHAR", True, "actor the indicator is attributed to"),
    _c("source", "VARCHAR", False, "where the indicator comes from"),
), key=("indicator_type", "value"), identity=("actor",))

TABLES: tuple[Table, ...] = (REQUESTS, ACCOUNTS, MODEL_RELEASES, INDICATORS)


def table(name: str) -> Table:
    """The contract table called `name`."""
    for t in TABLES:
        if t.name == name:
            return t
    raise KeyError(name)


def describe() -> str:
    """The contract as plain text, for `forensics schema`."""
    lines = [f"forensics log schema v{SCHEMA_VERSION}", ""]
    for t in TABLES:
        lines.append(f"{t.name} ({'required' if t.required else 'optional'}): {t.description}")
        for c in t.columns:
            flag = "required" if c.required else "optional"
            extra = ", unique" if c.unique else ""
            lines.append(f"  {c.name:<22} {c.type:<12} {flag}{extra:<8}  {c.description}")
        lines.append("")
    lines += [
        "A data directory holds each table as Parquet: <table>.parquet, or a folder <table>/",
        "of Parquet files (hive-partitioned folders allowed). indicators may also be CSV.",
        "Timestamps may be Parquet timestamps (naive ones are read as UTC), epoch numbers",
        "(seconds to nanoseconds, told apart by magnitude) or ISO-8601 text; how they were",
        "read is recorded in the manifest.",
        "Map other column names in the case config:",
        "  [columns.requests] account_id = \"customer_id\"",
        "",
        *RULES,
    ]
    return "\n".join(lines)


def _key_rules() -> list[str]:
    out = []
    for t in TABLES:
        others = tuple(c.name for c in t.columns if c.name not in t.key)
        agree = ("every other column" if t.identity == others
                 else f"{' and '.join(t.identity)}")
        copies = ("repeated rows (other columns may differ)"
                  if t.copies_may_differ else "identical copies")
        text = (f"{t.name}: rows with the same {' and '.join(t.key)} must agree on {agree}, "
                f"or the run is refused naming two of them; {copies} are excluded and counted, "
                f"the first (by file, then row) kept.")
        out += textwrap.wrap(text, 86, initial_indent="  ", subsequent_indent="    ")
    return out


# Every rule ingest applies, as `forensics schema` prints it. Each row of the files is
# analysed, excluded and counted by reason in the manifest, or the run is refused with the
# row named; nothing is dropped silently. `validate` applies the same rules as `run`.
# Most files one table may come in. Each file costs a footer read, a hash and, in the report,
# an evidence lookup of its own, so an export split into many tiny files (one per request, as
# some log shippers write) runs for hours and holds every file's metadata; beyond this count
# ingest refuses at once with advice to compact, instead of walking on.
MAX_FILES = 10_000

RULES: tuple[str, ...] = (
    "Rules (each row is analysed, excluded and counted by reason in the manifest, or the",
    "run is refused naming the file and row; validate applies the same rules as run):",
    "  Files: ingest lists them itself and reads each once, by name; * ? [ in names are",
    "    characters, not patterns. A path with a backslash and one of * ? [ is refused.",
    "    Extensions count in any case (indicators.CSV). Names starting with . or _ are",
    "    skipped. Symbolic links are followed (the file they lead to is in the manifest);",
    "    loops, dangling links and one file reached twice are refused. A table of more",
    f"    than {MAX_FILES:,} files is refused at once, with advice to compact it.",
    "  Partitions: only key=value folders inside a table's folder are partition columns",
    "    (values percent-decoded, __HIVE_DEFAULT_PARTITION__ = null); folders above the data",
    "    directory never are. A key that is also a column of the file is refused.",
    "  Column names: a name repeated in one file, also differing only in case, is refused;",
    "    __file, __row, file_row_number and ordinality are reserved.",
    *_key_rules(),
    "  Counts (input_tokens, output_tokens, max_tokens, tool_count, turn_index): below 0 is",
    "    refused; tokens are 64-bit, so sums do not overflow.",
    "  thinking: true/false, or the numbers 1 and 0; any other number (2, -1) is refused.",
    f"  requests.ts before {EARLIEST} or from {LATEST} on: excluded and counted (reason",
    f"    'ts before {EARLIEST[:4]} or from {LATEST[:4]} on'); accounts.created_at and",
    "    model_releases.released_at outside those bounds are refused.",
    "  requests.temperature NaN or infinite: the request is excluded and counted (reason",
    "    'temperature not finite').",
    "  Requests outside --period/--since/--until: excluded and counted ('outside period').",
    "  indicators: value must not be blank; for ip a single IPv4 or IPv6 address, for cidr",
    "    an IPv4 address or network a.b.c.d/n (n 0-32); anything else is refused.",
)
