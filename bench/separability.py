"""Can one threshold on one simple account feature pick out a planted campaign?

`python -m bench.separability DATA_DIR LABELS.csv [--json] [--max-f1 X]`

Issue #20's acceptance: in the bundled sample no campaign can be separated by one threshold on
one simple account feature with F1 above 0.8. This script computes each feature of `FEATURES`
per account straight from the data directory's Parquet files with DuckDB (not through the
pipeline, so that a pipeline bug cannot hide a giveaway), and for each campaign finds the best
F1 of any rule `feature >= t` or `feature <= t`. Positives are the campaign's accounts,
negatives every account that is in no campaign (ordinary and look-alike); other campaigns are
left out. The output is a report: the exit code is 0 whatever the figures, unless `--max-f1`
is given and a campaign's best F1 exceeds it (then 1).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np

from forensics.errors import ForensicsError, InputError
from forensics.evaluate import read_labels

ACCEPTANCE_F1 = 0.8  # issue #20: no campaign separable with F1 above this
CAMPAIGN = "campaign"
FIRST_WEEK_DAYS = 7
SIGNUP_BURST_HOURS = 1


@dataclass(frozen=True)
class Feature:
    """One simple account feature, defined by one SQL expression.

    `scope` says what the expression reads: "requests" is an aggregate over the account's
    requests `r` (with `n`, the one row of the newest model release); "account" is a scalar over
    the account's row `a` of `accounts`, which may use the helper views set up in `_prepare`.
    An account without requests, or a missing value, counts as 0.
    """

    name: str
    description: str
    scope: Literal["requests", "account"]
    sql: str
    needs: tuple[str, ...]  # "table.column"s the expression reads; absent → feature skipped


def _share(condition: str) -> str:
    return f"avg(CASE WHEN {condition} THEN 1.0 ELSE 0.0 END)"


_IN_FIRST_WEEK = (f"r.ts >= n.released_at AND "
                  f"r.ts < n.released_at + INTERVAL {FIRST_WEEK_DAYS} DAY")

FEATURES: tuple[Feature, ...] = (
    Feature("volume", "requests sent in the period", "requests", "count(*)", ()),
    Feature("active_days", "distinct UTC days with a request", "requests",
            "count(DISTINCT CAST(r.ts AS DATE))", ()),
    Feature("distinct_ips", "distinct request IP addresses", "requests",
            "count(DISTINCT r.ip)", ("requests.ip",)),
    Feature("channels", "distinct access channels", "requests",
            "count(DISTINCT r.access_channel)", ("requests.access_channel",)),
    Feature("user_agents", "distinct user agents", "requests",
            "count(DISTINCT r.user_agent)", ("requests.user_agent",)),
    Feature("thinking_share", "share of requests with thinking on", "requests",
            _share("r.thinking"), ("requests.thinking",)),
    Feature("tool_share", "share of requests offering at least one tool", "requests",
            _share("r.tool_count > 0"), ("requests.tool_count",)),
    Feature("temperature0_share", "share of requests at temperature 0", "requests",
            _share("r.temperature = 0"), ("requests.temperature",)),
    Feature("followup_share", "share of requests with turn_index > 0", "requests",
            _share("r.turn_index > 0"), ("requests.turn_index",)),
    Feature("mean_input_tokens", "mean input_tokens per request", "requests",
            "avg(r.input_tokens)", ()),
    Feature("mean_output_tokens", "mean output_tokens per request", "requests",
            "avg(r.output_tokens)", ()),
    Feature("mean_max_tokens", "mean max_tokens requested", "requests",
            "avg(r.max_tokens)", ("requests.max_tokens",)),
    Feature("new_model_first_week_share",
            f"share of the account's requests in the {FIRST_WEEK_DAYS} days after the newest "
            f"release that went to that model (0 if none in those days)", "requests",
            f"coalesce(count(*) FILTER (WHERE {_IN_FIRST_WEEK} AND r.model = n.model) / "
            f"nullif(count(*) FILTER (WHERE {_IN_FIRST_WEEK}), 0), 0)",
            ("model_releases.model", "model_releases.released_at")),
    Feature("step_by_step_share", "share of prompts matching (?i)step[- ]by[- ]step",
            "requests", _share("regexp_matches(r.prompt, '(?i)step[- ]by[- ]step')"), ()),
    Feature("chinese_share", "share of prompts containing a Han character", "requests",
            _share(r"regexp_matches(r.prompt, '\p{Han}')"), ()),
    Feature("reseller_share", "share of requests with access_channel = 'reseller'",
            "requests", _share("r.access_channel = 'reseller'"), ("requests.access_channel",)),
    Feature("accounts_per_card",
            "accounts with the account's payment_fingerprint, itself included (0 if none)",
            "account",
            "CASE WHEN a.payment_fingerprint IS NULL THEN 0 ELSE (SELECT count(*) FROM accounts "
            "b WHERE b.payment_fingerprint = a.payment_fingerprint) END",
            ("accounts.payment_fingerprint",)),
    Feature("signup_burst",
            f"accounts created within ±{SIGNUP_BURST_HOURS} h of this one from the same sign-up "
            f"/24, itself included (0 without a sign-up IPv4)", "account",
            f"CASE WHEN slash24(a.signup_ip) IS NULL THEN 0 ELSE (SELECT count(*) FROM accounts "
            f"b WHERE slash24(b.signup_ip) = slash24(a.signup_ip) AND b.created_at BETWEEN "
            f"a.created_at - INTERVAL {SIGNUP_BURST_HOURS} HOUR AND "
            f"a.created_at + INTERVAL {SIGNUP_BURST_HOURS} HOUR) END",
            ("accounts.signup_ip",)),
    Feature("accounts_per_24",
            "accounts with a request from the account's most used request /24, itself "
            "included", "account",
            "(SELECT p.accounts FROM account_top_prefix t JOIN prefix_accounts p USING (prefix) "
            "WHERE t.account_id = a.account_id)", ("requests.ip",)),
    Feature("no_org", "1 when the account has no org_id, else 0", "account",
            "CASE WHEN a.org_id IS NULL THEN 1 ELSE 0 END", ("accounts.org_id",)),
)


@dataclass(frozen=True)
class Split:
    """The best rule `feature >= threshold` or `feature <= threshold` for one campaign."""

    f1: float
    direction: str  # ">=" or "<="
    threshold: float | None  # None: no rule flags a positive
    flagged: int
    true_positives: int
    precision: float
    recall: float


def best_split(values: Sequence[float], positive: Sequence[bool]) -> Split:
    """The rule with the highest F1 over every threshold in both directions, exactly.

    One sort per direction: flagging every account whose value is at least (at most) the i-th
    value flags a prefix of the sorted order, so cumulative sums give every rule's counts; only
    the last position of each run of equal values is a rule. Ties keep `>=` and, within a
    direction, the rule that flags fewer accounts.
    """
    x = np.asarray(values, dtype=float)
    y = np.asarray(positive, dtype=bool)
    if x.shape != y.shape:
        raise ValueError("values and labels differ in length")
    pos = int(y.sum())
    best = Split(0.0, ">=", None, 0, 0, 0.0, 0.0)
    if pos == 0 or x.size == 0:
        return best
    for direction, key in ((">=", -x), ("<=", x)):
        order = np.argsort(key, kind="stable")
        xs, ys = x[order], y[order]
        ends = np.flatnonzero(np.append(xs[1:] != xs[:-1], True))
        tp = np.cumsum(ys)[ends]
        flagged = ends + 1
        f1 = 2 * tp / (flagged + pos)
        i = int(np.argmax(f1))
        if f1[i] > best.f1:
            k, t = int(flagged[i]), int(tp[i])
            best = Split(float(f1[i]), direction, float(xs[ends[i]]), k, t, t / k, t / pos)
    return best


def _table_path(data_dir: Path, name: str) -> str | None:
    """The read_parquet argument for `<name>.parquet` or a `<name>/` folder, if present."""
    single, folder = data_dir / f"{name}.parquet", data_dir / name
    if single.is_file():
        return str(single)
    if folder.is_dir() and any(folder.rglob("*.parquet")):
        return str(folder / "**" / "*.parquet")
    return None


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _prepare(con: duckdb.DuckDBPyConnection, data_dir: Path) -> set[str]:
    """Views over the data directory and the helpers the account features read; returns the
    "table.column"s present."""
    con.execute("SET TimeZone = 'UTC'")
    present: set[str] = set()
    for name in ("requests", "accounts", "model_releases"):
        path = _table_path(data_dir, name)
        if path is None:
            if name == "model_releases":
                con.execute("CREATE VIEW model_releases AS SELECT NULL::VARCHAR AS model, "
                            "NULL::TIMESTAMPTZ AS released_at WHERE false")
                continue
            raise InputError(f"no {name}.parquet or {name}/ folder", file=str(data_dir))
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_sql_text(path)}, "
                    f"hive_partitioning = true, union_by_name = true)")
        present |= {f"{name}.{row[0]}" for row in con.execute(f"DESCRIBE {name}").fetchall()}
    con.execute("CREATE VIEW newest_release AS SELECT model, released_at FROM model_releases "
                "ORDER BY released_at DESC, model LIMIT 1")
    con.execute(r"CREATE MACRO slash24(ip) AS "
                r"nullif(regexp_extract(ip, '^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$', 1), '')")
    if "requests.ip" in present:
        con.execute("CREATE TEMP TABLE account_prefixes AS SELECT account_id, slash24(ip) AS "
                    "prefix, count(*) AS n FROM requests WHERE slash24(ip) IS NOT NULL "
                    "GROUP BY ALL")
        con.execute("CREATE VIEW account_top_prefix AS SELECT account_id, "
                    "arg_max(prefix, (n, prefix)) AS prefix FROM account_prefixes "
                    "GROUP BY account_id")
        con.execute("CREATE VIEW prefix_accounts AS SELECT prefix, count(*) AS accounts "
                    "FROM account_prefixes GROUP BY prefix")
    return present


def account_features(data_dir: Path, accounts: Sequence[str],
                     features: Sequence[Feature] = FEATURES
                     ) -> tuple[list[Feature], dict[str, np.ndarray], list[str]]:
    """Every usable feature's value for each of `accounts` (in that order), and the names of
    the features skipped for lack of a column."""
    con = duckdb.connect()
    try:
        present = _prepare(con, Path(data_dir))
        usable = [f for f in features if set(f.needs) <= present]
        skipped = [f.name for f in features if f not in usable]
        index = {a: i for i, a in enumerate(accounts)}
        values = {f.name: np.zeros(len(accounts)) for f in usable}
        for scope, source in (("requests", "requests r LEFT JOIN newest_release n ON true "
                                           "GROUP BY r.account_id"),
                              ("account", "accounts a")):
            chosen = [f for f in usable if f.scope == scope]
            if not chosen:
                continue
            key = "r.account_id" if scope == "requests" else "a.account_id"
            columns = ", ".join(f"CAST({f.sql} AS DOUBLE)" for f in chosen)
            for row in con.execute(f"SELECT {key}, {columns} FROM {source}").fetchall():
                i = index.get(row[0])
                if i is None:
                    continue
                for f, v in zip(chosen, row[1:], strict=True):
                    if v is not None:
                        values[f.name][i] = v
        return usable, values, skipped
    finally:
        con.close()


def separability(data_dir: Path, labels_path: Path) -> dict[str, Any]:
    """For each campaign group, the best single-threshold F1 of every feature."""
    labels = read_labels(labels_path)
    accounts = sorted(labels)
    usable, values, skipped = account_features(data_dir, accounts)
    groups = sorted({g for label, g in labels.values() if label == CAMPAIGN})
    negative = np.array([labels[a][0] != CAMPAIGN for a in accounts])
    campaigns: dict[str, Any] = {}
    for group in groups:
        positive = np.array([labels[a] == (CAMPAIGN, group) for a in accounts])
        keep = positive | negative
        splits = {f.name: best_split(values[f.name][keep], positive[keep]) for f in usable}
        best = max(usable, key=lambda f: splits[f.name].f1)  # first feature on a tie
        campaigns[group] = {
            "positives": int(positive.sum()), "negatives": int(negative.sum()),
            "features": {name: _split_json(s) for name, s in splits.items()},
            "best": {"feature": best.name, **_split_json(splits[best.name])},
        }
    return {"data": str(data_dir), "labels": str(labels_path),
            "features": [{"name": f.name, "description": f.description, "scope": f.scope,
                          "sql": f.sql} for f in usable],
            "skipped_features": skipped, "campaigns": campaigns}


def _split_json(split: Split) -> dict[str, Any]:
    out = asdict(split)
    for key in ("f1", "precision", "recall"):
        out[key] = round(out[key], 4)
    return out


def verdict(report: dict[str, Any], bound: float) -> tuple[bool, list[str]]:
    """Whether every campaign's best F1 is at most `bound`, and the campaigns above it."""
    above = [g for g, c in report["campaigns"].items() if c["best"]["f1"] > bound]
    return not above, above


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4g}" if value != int(value) else f"{int(value)}"


def format_table(report: dict[str, Any], bound: float) -> str:
    """Feature rows × campaign columns of best F1, each campaign's best rule, and the verdict."""
    groups = list(report["campaigns"])
    names = [f["name"] for f in report["features"]]
    width = max([len(n) for n in names] + [7])
    cols = [max(len(g), 5) for g in groups]
    lines = ["best F1 of one threshold on one feature (campaign vs every non-campaign account)",
             f"{'feature':<{width}}  " + "  ".join(f"{g:>{w}}" for g, w in zip(groups, cols,
                                                                              strict=True))]
    for name in names:
        cells = []
        for g, w in zip(groups, cols, strict=True):
            f1 = report["campaigns"][g]["features"][name]["f1"]
            cells.append(f"{f1:>{w}.3f}" if f1 <= bound else f"{f'*{f1:.3f}':>{w}}")
        lines.append(f"{name:<{width}}  " + "  ".join(cells))
    if report["skipped_features"]:
        lines.append("skipped (column absent): " + ", ".join(report["skipped_features"]))
    lines.append(f"(* above {bound:g})")
    lines.append("best feature per campaign:")
    gw = max([len(g) for g in groups] + [1])
    for g in groups:
        c = report["campaigns"][g]
        b = c["best"]
        lines.append(f"  {g:<{gw}}  F1 {b['f1']:.3f}  {b['feature']} {b['direction']} "
                     f"{_number(b['threshold'])}  (precision {b['precision']:.3f}, recall "
                     f"{b['recall']:.3f}; {c['positives']} campaign accounts, "
                     f"{c['negatives']} non-campaign)")
    ok, above = verdict(report, bound)
    if not groups:
        lines.append("no campaign accounts in the labels")
    elif ok:
        lines.append(f"every campaign's best F1 is <= {bound:g}: yes")
    else:
        lines.append(f"every campaign's best F1 is <= {bound:g}: no ({', '.join(above)} above)")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m bench.separability`."""
    p = argparse.ArgumentParser(
        prog="python -m bench.separability",
        description="Best F1 of one threshold on one simple account feature, per planted "
                    "campaign (issue #20's acceptance: none above 0.8).")
    p.add_argument("data_dir", type=Path, help="the data directory (requests, accounts, …)")
    p.add_argument("labels", type=Path, help="labels.csv (account_id,label,group)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--max-f1", type=float, default=None,
                   help=f"exit 1 when a campaign's best F1 exceeds this (default: report only; "
                        f"the verdict line uses {ACCEPTANCE_F1})")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report; exit 1 only when --max-f1 is given and exceeded (2 on bad input)."""
    args = build_parser().parse_args(argv)
    bound = ACCEPTANCE_F1 if args.max_f1 is None else args.max_f1
    try:
        report = separability(args.data_dir, args.labels)
    except ForensicsError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    ok, above = verdict(report, bound)
    if args.json:
        report |= {"bound": bound, "all_at_most_bound": ok, "above_bound": above}
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(format_table(report, bound))
    return 1 if args.max_f1 is not None and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
