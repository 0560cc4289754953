"""The documented rules for imperfect exports, applied to a loaded table: requests excluded
(implausible time, temperature not finite, outside the period), duplicate keys (identical
copies excluded, contradicting ones refused), indicators that cannot match, requests of
unknown accounts (kept, noted). Each excluded row is counted by reason.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb

from forensics import schema, sqltext
from forensics.config import Window
from forensics.ingest.casts import EARLIEST_SQL, LATEST_SQL
from forensics.ingest.loader import TableLoader
from forensics.ingest.messages import position, rel
from forensics.ingest.results import DataIssue, InputFile, TableSummary

_IMPLAUSIBLE_TS = f"ts before {schema.EARLIEST[:4]} or from {schema.LATEST[:4]} on"
_IPV4_NETWORK = re.compile(r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?")

_q = sqltext.identifier
_lit = sqltext.string


@dataclass(frozen=True)
class Kept:
    """The rows of a typed view a table keeps, as SQL: `FROM typed WHERE … QUALIFY …`.

    Literal SQL (window bounds included), since a view cannot hold bound parameters; every
    view of the table's analysed rows is built on this one clause, so they keep the same rows.
    """

    sql: str


def finish_table(con: duckdb.DuckDBPyConnection, loader: TableLoader, typed: str, total: int,
                 window: Window, issues: list[DataIssue], problems: list[str],
                 entries: list[InputFile]) -> tuple[TableSummary, Kept]:
    """Duplicates and the period filter of one table: its summary, and the rows it keeps."""
    t = loader.table
    excluded: dict[str, int] = {}
    conditions: list[str] = []
    params: dict[str, object] = {}
    first_ts = last_ts = None
    if t.name == "requests":
        conditions, first_ts, last_ts = _exclude_requests(con, loader, typed, total, window,
                                                          excluded, params, problems)
    where_sql = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    dedup = ""
    if t.key:
        dedup = _deduplicate(con, loader, typed, where_sql, params, excluded, issues)
    # Window bounds are literal here: a view cannot hold bound parameters.
    where_lit = where_sql
    for name, value in params.items():
        assert isinstance(value, datetime)
        where_lit = where_lit.replace(f"${name}", f"TIMESTAMPTZ {_lit(value.isoformat())}")
    analysed = total - sum(excluded.values())
    present = tuple(c.canonical.name for c in loader.columns if c.source is not None)
    mapping = {c.canonical.name: c.source for c in loader.columns
               if c.source is not None and c.source != c.canonical.name}
    file_entries = tuple(_with_csv_rows(loader, entries))
    summary = TableSummary(t.name, file_entries, total, excluded, analysed, present, mapping,
                           tuple(loader.interpretations), first_ts, last_ts)
    return summary, Kept(f"FROM {typed} {where_lit} {dedup}")


def _exclude_requests(con: duckdb.DuckDBPyConnection, loader: TableLoader, typed: str,
                      total: int, window: Window, excluded: dict[str, int],
                      params: dict[str, object], problems: list[str]
                      ) -> tuple[list[str], datetime | None, datetime | None]:
    """Count the requests each exclusion rule takes (into `excluded`, the period's bounds into
    `params`); return the conditions that filter the requests view and the plausible time span.
    """
    # Each excluded row is counted under the first rule it breaks, in this order, so the
    # reasons add up to the rows excluded.
    rules = [(_IMPLAUSIBLE_TS, f"ts >= {EARLIEST_SQL} AND ts < {LATEST_SQL}")]
    if loader.has("temperature"):
        rules.append(("temperature not finite",
                      "temperature IS NULL OR isfinite(temperature)"))
    period = []
    if window.since is not None:
        period.append("ts >= $since")
        params["since"] = window.since
    if window.until is not None:
        period.append("ts < $until")
        params["until"] = window.until
    if period:
        rules.append(("outside period", " AND ".join(period)))
    plausible = rules[0][1]
    counts = [" AND ".join([*(f"({c})" for _, c in rules[:i]), f"NOT ({cond})"])
              for i, (_, cond) in enumerate(rules)]
    row = con.execute(
        f"SELECT min(ts) FILTER (WHERE {plausible}), max(ts) FILTER (WHERE {plausible}), "
        + ", ".join(f"count(*) FILTER (WHERE {c})" for c in counts)
        + f" FROM {typed}", params).fetchone()
    assert row is not None
    first_ts, last_ts = row[0], row[1]
    for (reason, _), n in zip(rules, row[2:], strict=True):
        if n:
            excluded[reason] = int(n)
    left = total - sum(excluded.values())
    before_period = left + excluded.get("outside period", 0)
    if total and before_period == 0:
        reasons = ", ".join(f"{n} {r}" for r, n in excluded.items())
        problems.append(
            f"{loader.where()}: column 'ts': no request can be analysed ({reasons}; "
            f"expected at least one request from {schema.EARLIEST} to before "
            f"{schema.LATEST} with a finite temperature)")
    elif period and left == 0:
        span = (f"{_fmt_ts(window.since) if window.since else '…'} – "
                f"{_fmt_ts(window.until) if window.until else '…'}")
        problems.append(
            f"{loader.where()}: column 'ts': no requests in the period "
            f"{window.label or span} ({span}); the data spans {_fmt_ts(first_ts)} – "
            f"{_fmt_ts(last_ts)} (expected at least one request in the period)")
    # Only the rules some row breaks filter the view (a period always does). A filter that
    # removes nothing still lowers the planner's estimate of the table, which turned the
    # features scan's joins around and ran it out of memory.
    conditions = [f"({cond})" for (reason, cond) in rules
                  if excluded.get(reason) or reason == "outside period"]
    return conditions, first_ts, last_ts


def _fmt_ts(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "?"


def _key_expr(table: schema.Table, column: str) -> str:
    """A key column as duplicates are compared: indicator values as the matching reads them
    (trimmed), so ' 192.0.2.1' and '192.0.2.1' are one indicator."""
    if table.name == "indicators" and column == "value":
        return f"trim({_q(column)})"
    return _q(column)


def _struct(columns: tuple[str, ...]) -> str:
    return "{" + ", ".join(f"{_lit(c)}: {_q(c)}" for c in columns) + "}"


def _deduplicate(con: duckdb.DuckDBPyConnection, loader: TableLoader, typed: str,
                 where_sql: str, params: dict[str, object], excluded: dict[str, int],
                 issues: list[DataIssue]) -> str:
    """Apply the duplicate-key rule (schema.Table.key); return the QUALIFY clause that keeps
    the first copy of each row."""
    t = loader.table
    keys = [_key_expr(t, c) for c in t.key]
    identity = t.identity
    others = tuple(c.name for c in t.columns if c.name not in t.key)
    copies = identity if t.copies_may_differ else others
    if all(t.column(c).required for c in identity):
        # Required columns are never NULL: min = max. Far cheaper than count(DISTINCT (…))
        # per key on millions of requests.
        differs = " OR ".join(f"min({_q(c)}) <> max({_q(c)})" for c in identity) or "false"
    else:
        # Optional columns may be NULL, which min and max skip; DISTINCT compares NULLs equal.
        differs = f"count(DISTINCT {_struct(identity)}) > 1"
    # Rows of one key that are not copies of each other (no conflict: they differ in the
    # columns outside the identity only, e.g. the source of one indicator) are all kept.
    variants = "1" if copies == identity else f"count(DISTINCT {_struct(copies)})"
    key_list = ", ".join(keys)
    # Group 64-bit hashes first (cheap), then compare exactly only the keys whose hash repeats:
    # several times faster than grouping the strings themselves.
    # hash() never leaves this query, so its version-dependence does not matter.
    repeated = (f"hash({key_list}) IN (SELECT hash({key_list}) FROM {typed} {where_sql} "
                f"GROUP BY 1 HAVING count(*) > 1)")
    narrowed = f"{where_sql} AND {repeated}" if where_sql else f"WHERE {repeated}"
    key_struct = "[" + ", ".join(f"CAST({k} AS VARCHAR)" for k in keys) + "]"
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE n > variants), coalesce(sum(n - variants), 0), "
        f"count(*) FILTER (WHERE differs), min(k) FILTER (WHERE differs) "
        f"FROM (SELECT {key_struct} AS k, count(*) AS n, ({differs}) AS differs, "
        f"{variants} AS variants FROM {typed} {narrowed} GROUP BY {key_list} "
        f"HAVING count(*) > 1)", params).fetchone()
    assert row is not None
    dup_keys, dup_rows, conflicting, example = int(row[0]), int(row[1]), int(row[2]), row[3]
    label = t.key[-1]  # the column named in messages: request_id, account_id, model, value
    if conflicting:
        loader.problems.append(_conflict(con, loader, typed, where_sql, params, keys,
                                         conflicting, example))
        return ""
    if not dup_rows:
        return ""
    # Documented rule: identical re-exported rows keep the first copy (by file, row).
    reason = "duplicate indicator" if t.name == "indicators" else f"duplicate {label}"
    excluded[reason] = dup_rows
    what = (f"{', '.join(identity)}" if t.copies_may_differ else "values")
    issues.append(DataIssue(t.name, label, dup_rows,
                            f"{dup_keys} {' and '.join(t.key)} value(s) appear more than once "
                            f"with the same {what}; {dup_rows} repeated row(s) excluded, first "
                            f"copy kept"))
    partition = ", ".join([*keys, *(_q(c) for c in ([] if t.copies_may_differ else copies))])
    return f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY __file, __row) = 1"


def _conflict(con: duckdb.DuckDBPyConnection, loader: TableLoader, typed: str, where_sql: str,
              params: dict[str, object], keys: list[str], conflicting: int,
              example: list[str]) -> str:
    """The problem for keys used by rows that disagree, naming the first such key and two of
    its rows that disagree (the first row, and the first that differs from it)."""
    t = loader.table
    match = " AND ".join(f"CAST({k} AS VARCHAR) = $k{i}" for i, k in enumerate(keys))
    where = f"{where_sql} AND {match}" if where_sql else f"WHERE {match}"
    bound = {**params, **{f"k{i}": v for i, v in enumerate(example)}}
    rows = con.execute(f"SELECT __file, __row, {', '.join(_q(c) for c in t.identity)} "
                       f"FROM {typed} {where} ORDER BY __file, __row LIMIT 1000",
                       bound).fetchall()
    first = rows[0]
    other = next(r for r in rows if r[2:] != first[2:])
    at = " and ".join(f"{rel(f, loader.data_dir)} {position(f, r)}"
                      for f, r in (first[:2], other[:2]))
    label = t.key[-1]
    if len(t.identity) <= 2:
        different = " or ".join(t.identity)
    else:  # name the columns these two rows differ in, not all seven of an account's
        different = " or ".join(c for c, a, b in zip(t.identity, first[2:], other[2:],
                                                     strict=True) if a != b)
    if t.name == "indicators":
        return (f"{loader.where()}: column {label!r}: {conflicting} indicator(s) are listed "
                f"with a different {different} (first: {tuple(example)!r} at {at}; expected "
                f"each indicator attributed once, the indicators contradict each other)")
    return (f"{loader.where()}: column {label!r}: {conflicting} id(s) are used by rows with a "
            f"different {different} (first: {example[0]!r} at {at}; expected unique ids, the "
            f"export is inconsistent)")


def _with_csv_rows(loader: TableLoader, entries: list[InputFile]) -> list[InputFile]:
    """CSV files have no footer to count rows from: take what DuckDB read from each."""
    paths = {f.rel: str(f.path) for f in loader.files}
    return [replace(e, rows=loader.rows_by_file.get(paths[e.path], 0)) if e.rows < 0 else e
            for e in entries]


def _valid_indicator(kind: str, value: str) -> bool:
    """Whether an indicator value is one the matching (60_indicator_hits.sql) can use: it
    compares values trimmed, IP addresses as written, and CIDR blocks as IPv4 a.b.c.d/n."""
    text = value.strip()
    if not text:
        return False
    try:
        if kind == "ip":
            ipaddress.ip_address(text)
        elif kind == "cidr":
            if not _IPV4_NETWORK.fullmatch(text):
                return False
            ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return False
    return True


def indicator_problems(con: duckdb.DuckDBPyConnection, loader: TableLoader,
                       typed: str) -> list[str]:
    """Indicators whose value cannot match anything (`not-a-cidr`, `/99`, `999.1.1.1`, a
    blank value): refused with the first one's row, since a silently dead indicator reads
    as 'no match' in the dossier. Indicators are few; Python's ipaddress checks them."""
    rows = con.execute(f"SELECT indicator_type, value, __file, __row FROM {typed} "
                       f"WHERE indicator_type IN ($ip, $cidr) OR trim(value) = '' "
                       f"ORDER BY __file, __row", {"ip": "ip", "cidr": "cidr"}).fetchall()
    bad = [r for r in rows if not _valid_indicator(r[0], r[1])]
    if not bad:
        return []
    kind, value, file, row = bad[0]
    return [f"{rel(file, loader.data_dir)}: column 'value': {len(bad)} indicator value(s) "
            f"cannot be matched (expected a single IPv4 or IPv6 address for type ip, an IPv4 "
            f"address or network a.b.c.d/n for cidr, never a blank value; first at "
            f"{position(file, row)}: {kind} {value!r})"]


def check_orphans(con: duckdb.DuckDBPyConnection, issues: list[DataIssue]) -> None:
    """Requests of accounts missing from `accounts`: kept, and noted as a data issue."""
    row = con.execute(
        "SELECT count(*), count(DISTINCT r.account_id) FROM requests r "
        "ANTI JOIN accounts a USING (account_id)").fetchone()
    if row and row[0]:
        issues.append(DataIssue("requests", "account_id", int(row[0]),
                                f"{row[0]} request(s) from {row[1]} account(s) not in accounts; "
                                f"kept, but account-level heuristics cannot see them"))
