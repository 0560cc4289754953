"""The trend section: this period's findings against the previous period's (`--baseline
DIR`, the output folder of the earlier run).

The baseline is read once, before any data: its findings.json (checked for every key the
comparison reads), its manifest.json (the period it analysed, the profile it was written
with, the SHA-256 of its findings files) and its findings.parquet. It is refused when it is
not an earlier period than this run's, when it was written with `--profile public`, or when
its findings files are not the ones its manifest lists.

Every figure of the section is read from the findings files of the two runs, by the same
function for both (`read_findings`): this run's are written before the dossier is rendered.
The baseline is named by its period, case id and the SHA-256 of its findings.json and
manifest.json, never by the folder it was read from.

Cluster ids are derived from member ids, so a cluster that gained or lost accounts has a new
id; clusters are therefore matched by shared member accounts, not by id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forensics.config import Window
from forensics.errors import InputError
from forensics.outputs import file_digest
from forensics.report import fmt as f
from forensics.report.context import Trend, TrendMeasure, TrendRow
from forensics.report.public import Pseudonymiser
from forensics.report.text import short

# What the comparison reads of each baseline cluster, and the JSON type each must have. Keys
# may be absent (older outputs); a present key of another type means the file is not a run's
# output.
_CLUSTER_KEYS: dict[str, tuple[type, str]] = {
    "cluster_id": (str, "a string"),
    "flagged": (bool, "true or false"),
    "members": (list, "a list of account ids"),
    "accounts": (int, "a whole number"),
    "requests": (int, "a whole number"),
    "confidence": (str, "a string"),
    "capabilities": (list, "a list of [capability, share] pairs"),
}
_MAX_LISTED = 5
# The findings files the comparison reads; each must have the SHA-256 the manifest lists.
FINDINGS_FILES = ("findings.json", "findings.parquet")
_PARQUET_COLUMNS = ("account_id", "flagged", "requests")
_OTHER = "other"
_ONE_US = timedelta(microseconds=1)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value),
                                                                       type(value).__name__)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_pair(value: Any) -> bool:
    """A [capability, share] pair of findings.json (share between 0 and 1)."""
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int | float) and not isinstance(value[1], bool)
            and 0 <= value[1] <= 1)


def _cluster_problems(clusters: list[Any]) -> list[str]:
    """Every entry of `clusters` that the comparison could not read, as 'clusters[i].key: …'."""
    problems = []
    for i, c in enumerate(clusters):
        if not isinstance(c, dict):
            problems.append(f"clusters[{i}]: expected an object, found {_type_name(c)} "
                            f"{json.dumps(c)[:40]}")
            continue
        for key, (kind, words) in _CLUSTER_KEYS.items():
            value = c.get(key)
            # bool is an int in Python, but a count of true is not a count.
            wrong = value is not None and (not isinstance(value, kind) or (
                kind is int and isinstance(value, bool)))
            if key == "members" and not wrong and value is not None:
                wrong = not all(isinstance(m, str | int) and not isinstance(m, bool)
                                for m in value)
            elif key == "capabilities" and not wrong and value is not None:
                wrong = not all(_is_pair(p) for p in value)
            elif kind is int and not wrong and value is not None and value < 0:
                wrong = True
            if wrong:
                problems.append(f"clusters[{i}].{key}: expected {words}, found "
                                f"{json.dumps(value)[:40]}")
    return problems


# --- the period a run analysed -------------------------------------------------------------

@dataclass(frozen=True)
class AnalysedPeriod:
    """The period a run analysed, half-open [start, end): its window, each open end closed
    by the span of the export's requests (the manifest's first_ts and last_ts)."""

    label: str | None
    start: datetime
    end: datetime
    from_data: bool  # an end came from the requests' span, not from the window

    def text(self) -> str:
        """'2026Q2', or the dates and times, saying where they come from."""
        if self.label and not self.from_data:
            return self.label
        span = f"{f.ts(self.start)} – {f.ts(self.end - _ONE_US)}"
        return f"{span} (the span of its requests; no --period)" if self.from_data else span

    def record(self) -> dict[str, Any]:
        """The period as the manifest records it."""
        return {"label": self.label, "since": self.start.isoformat(),
                "until": self.end.isoformat(), "ends_from_requests": self.from_data}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def analysed_period(window: Window, first_ts: datetime | None,
                    last_ts: datetime | None) -> AnalysedPeriod | None:
    """The run's period; None while an open end has no request to close it."""
    start = window.since or first_ts
    end = window.until or (last_ts + _ONE_US if last_ts is not None else None)
    if start is None or end is None:
        return None
    return AnalysedPeriod(window.label, _utc(start), _utc(end),
                          window.since is None or window.until is None)


# --- what the trend reads of one run's findings --------------------------------------------

@dataclass(frozen=True)
class Cluster:
    """A flagged cluster of findings.json, as the trend reads it."""

    cluster_id: str
    members: frozenset[str]
    accounts: int
    requests: int
    confidence: str
    capabilities: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class PeriodFindings:
    """One run's figures, every one from its findings.json and findings.parquet."""

    requests: int  # the sum of findings.parquet's requests (every analysed request)
    accounts: frozenset[str]  # findings.parquet's rows: every account with a request
    flagged: frozenset[str]  # findings.parquet's flagged accounts
    clusters: tuple[Cluster, ...]  # findings.json's flagged clusters, in its order

    @property
    def cluster_requests(self) -> int:
        return sum(c.requests for c in self.clusters)

    def pseudonymised(self, ids: Pseudonymiser) -> PeriodFindings:
        """The same figures with account and cluster ids as the public profile shows them:
        a public run's own findings hold pseudonyms, its (internal) baseline raw ids."""
        def accounts(values: frozenset[str]) -> frozenset[str]:
            return frozenset(ids("account", a) or a for a in values)
        return PeriodFindings(
            self.requests, accounts(self.accounts), accounts(self.flagged),
            tuple(replace(c, cluster_id=ids("cluster", c.cluster_id) or c.cluster_id,
                          members=accounts(c.members)) for c in self.clusters))

    def capability_shares(self) -> dict[str, float]:
        """Each capability's share of the flagged clusters' requests: every cluster's shares
        (findings.json clusters[].capabilities) weighted by its requests."""
        total = self.cluster_requests
        if not total:
            return {}
        out: dict[str, float] = {}
        for c in self.clusters:
            for name, share in c.capabilities:
                out[name] = out.get(name, 0.0) + share * c.requests / total
        return out


def _read_findings_parquet(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path, columns=list(_PARQUET_COLUMNS))
    except FileNotFoundError:
        raise InputError("baseline has no findings.parquet (expected the --out folder of an "
                         "earlier run)", file=str(path)) from None
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"baseline findings cannot be read ({str(exc).splitlines()[0]}; "
                         f"expected a run's findings.parquet with the columns "
                         f"{', '.join(_PARQUET_COLUMNS)})", file=str(path)) from None
    return table


def read_findings(folder: Path, doc: dict[str, Any] | None = None) -> PeriodFindings:
    """The figures of the run whose output folder is `folder` (its findings.json as `doc`
    when already read)."""
    if doc is None:
        doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    table = _read_findings_parquet(folder / "findings.parquet")
    ids = [str(a) for a in table.column("account_id").to_pylist()]
    flagged = [bool(x) for x in table.column("flagged").fill_null(False).to_pylist()]
    requests = pc.sum(table.column("requests")).as_py() or 0
    clusters = tuple(
        Cluster(cluster_id=str(c.get("cluster_id")),
                members=frozenset(map(str, c.get("members") or [])),
                accounts=int(c.get("accounts") or 0), requests=int(c.get("requests") or 0),
                confidence=str(c.get("confidence") or "—"),
                capabilities=tuple((str(n), float(s)) for n, s in c.get("capabilities") or []))
        for c in doc["clusters"] if isinstance(c, dict) and c.get("flagged"))
    return PeriodFindings(int(requests), frozenset(ids),
                          frozenset(a for a, x in zip(ids, flagged, strict=True) if x),
                          clusters)


# --- the baseline --------------------------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    """The previous period's run, as read (and checked) from its output folder."""

    period: AnalysedPeriod
    case_id: str | None  # as its manifest records it ([case] id)
    profile: str
    sha256: dict[str, str]  # findings.json, findings.parquet, manifest.json
    findings: PeriodFindings

    def record(self) -> dict[str, Any]:
        """The manifest's `baseline` section: the baseline named by its period, case and
        hashes, never by the folder it was read from."""
        return {"period": self.period.record(), "case_id": self.case_id,
                "profile": self.profile,
                "sha256": dict(sorted(self.sha256.items()))}

    def identity(self) -> str:
        """The baseline in words, as the dossier names it."""
        return (f"{self.period.text()}, case {self.case_text()}, manifest.json SHA-256 "
                f"{self.sha256['manifest.json']}")

    def case_text(self) -> str:
        """The case id as the cover shows one: neutralised, or 'not assigned'."""
        return short(self.case_id, 200) if self.case_id else "not assigned"


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"baseline has no {path.name} (expected the --out folder of an "
                         f"earlier run{what})", file=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"baseline {path.name} cannot be read ({exc})",
                         file=str(path)) from None


def _load_findings_json(baseline: Path) -> dict[str, Any]:
    path = baseline / "findings.json"
    doc = _read_json(path, "")
    if not isinstance(doc, dict):
        raise InputError(f"baseline findings.json is {_type_name(doc)} (expected an object "
                         f"with a 'clusters' list)", file=str(path))
    if not isinstance(doc.get("clusters"), list):
        found = "has no 'clusters' key" if "clusters" not in doc else \
            f"has {_type_name(doc['clusters'])} as 'clusters'"
        raise InputError(f"baseline findings.json {found} (expected a list of clusters)",
                         file=str(path))
    problems = _cluster_problems(doc["clusters"])
    if problems:
        shown = problems[:_MAX_LISTED]
        more = f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise InputError(f"baseline findings.json is not a run's findings: {'; '.join(shown)}"
                         f"{more}", file=str(path))
    return doc


def _get(doc: Any, path: str) -> Any:
    """doc['a']['b']… for 'a.b…'; KeyError when a step is missing or not an object."""
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            raise KeyError(path)
        doc = doc[key]
    return doc


def _manifest_period(doc: dict[str, Any], path: Path) -> AnalysedPeriod:
    """The period the baseline analysed, from its manifest's window and requests' span."""
    def when(key: str) -> datetime | None:
        try:
            value = _get(doc, key)
        except KeyError:
            raise InputError(f"baseline manifest.json has no {key} (expected the manifest of "
                             f"a forensics run, which records the period it analysed)",
                             file=str(path)) from None
        if value is None:
            return None
        try:
            return _utc(datetime.fromisoformat(str(value)))
        except ValueError:
            raise InputError(f"baseline manifest.json {key}: expected an ISO-8601 time, "
                             f"found {json.dumps(value)[:40]}", file=str(path)) from None

    since, until = when("inputs.window.since"), when("inputs.window.until")
    first, last = (when("inputs.tables.requests.first_ts"),
                   when("inputs.tables.requests.last_ts"))
    label = _get(doc, "inputs.window").get("label")
    window = Window(label=label if isinstance(label, str) else None, since=since, until=until)
    period = analysed_period(window, first, last)
    if period is None:
        raise InputError("baseline manifest.json records no period and no request times "
                         "(inputs.window, inputs.tables.requests.first_ts; expected the "
                         "manifest of a run that analysed requests)", file=str(path))
    return period


def load_baseline(baseline: Path) -> Baseline:
    """The baseline run's period, profile, hashes and findings; raise InputError naming the
    file and what was expected when it is not the output of an internal run."""
    baseline = Path(baseline)
    if baseline.exists() and not baseline.is_dir():
        raise InputError("--baseline is not a folder (expected the --out folder of an earlier "
                         "run)", file=str(baseline))
    doc = _load_findings_json(baseline)
    path = baseline / "manifest.json"
    manifest = _read_json(path, ": its period, profile and findings hashes are read from it")
    if not isinstance(manifest, dict):
        raise InputError(f"baseline manifest.json is {_type_name(manifest)} (expected the "
                         f"manifest of a forensics run)", file=str(path))
    try:
        profile = _get(manifest, "config.profile")
    except KeyError:
        profile = None
    if profile == "public":
        raise InputError("baseline was written with --profile public (config.profile in its "
                         "manifest): a public output folder is for publication and its "
                         "identifiers cannot be matched with this run's (expected the --out "
                         "folder of an internal run of the previous period)", file=str(path))
    if profile != "internal":
        raise InputError(f"baseline manifest.json config.profile is "
                         f"{json.dumps(profile)[:40]} (expected \"internal\": the --out folder "
                         f"of an internal run of the previous period)", file=str(path))
    listed = {o.get("path"): o.get("sha256") for o in manifest.get("outputs") or []
              if isinstance(o, dict)}
    sha256 = {}
    for name in FINDINGS_FILES:
        try:
            sha256[name] = file_digest(baseline / name)
        except FileNotFoundError:
            raise InputError(f"baseline has no {name} (expected the --out folder of an "
                             f"earlier run)", file=str(baseline / name)) from None
        except OSError as exc:
            raise InputError(f"baseline {name} cannot be read ({exc})",
                             file=str(baseline / name)) from None
        if listed.get(name) != sha256[name]:
            raise InputError(f"baseline {name} does not have the SHA-256 its manifest.json "
                             f"lists (expected the findings as that run wrote them)",
                             file=str(baseline / name))
    sha256["manifest.json"] = file_digest(path)
    period = _manifest_period(manifest, path)
    try:
        case_id = _get(manifest, "config.case.case.id")
    except KeyError:
        case_id = None
    return Baseline(period, str(case_id) if case_id else None, "internal", sha256,
                    read_findings(baseline, doc))


def check_order(baseline: Baseline, period: AnalysedPeriod, folder: Path) -> None:
    """Refuse a baseline whose period is not wholly before this run's: a trend compares this
    period with an earlier one, and a shared stretch would count its accounts twice."""
    where = str(Path(folder) / "manifest.json")
    before, now = baseline.period, period
    if before.start < now.end and now.start < before.end:
        raise InputError(f"baseline period {before.text()} overlaps this run's period "
                         f"{now.text()} (expected the --out folder of a run of an earlier "
                         f"period that ends by {f.ts(now.start)})", file=where)
    if before.start >= now.end:
        raise InputError(f"baseline period {before.text()} is after this run's period "
                         f"{now.text()} (expected an earlier period: to compare the other "
                         f"way, run the later period with the earlier one as its --baseline)",
                         file=where)


# --- the comparison ------------------------------------------------------------------------

def _signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else f"-{-value:,}" if value < 0 else "0"


def _count_change(before: int, now: int, noun: str, many: str) -> str:
    """'+1,234 (+1.6 %)' for a volume; for flagged counts words that say only what was
    counted ('6 fewer accounts flagged'), never what an operator did."""
    delta = now - before
    if not delta:
        return "no change"
    if noun:
        word = noun if abs(delta) == 1 else many
        return f"{abs(delta):,} {'more' if delta > 0 else 'fewer'} {word}"
    rel = f" ({'+' if delta > 0 else '-'}{f.pct_of(abs(delta), before)})" if before else ""
    return f"{_signed(delta)}{rel}"


def _measures(before: PeriodFindings, now: PeriodFindings) -> tuple[TrendMeasure, ...]:
    rows = [
        ("Requests analysed", before.requests, now.requests, "", ""),
        ("Accounts seen (with a request)", len(before.accounts), len(now.accounts), "", ""),
        ("Accounts flagged", len(before.flagged), len(now.flagged), "account flagged",
         "accounts flagged"),
        ("Flagged clusters", len(before.clusters), len(now.clusters), "flagged cluster",
         "flagged clusters"),
        ("Requests of the flagged clusters", before.cluster_requests, now.cluster_requests,
         "", ""),
    ]
    return tuple(TrendMeasure(label, f.n(b), f.n(n), _count_change(b, n, one, many))
                 for label, b, n, one, many in rows)


def _capabilities(before: PeriodFindings, now: PeriodFindings) -> tuple[TrendMeasure, ...]:
    """Each capability's share of the flagged clusters' requests in both periods."""
    b, n = before.capability_shares(), now.capability_shares()
    names = sorted(set(b) | set(n), key=lambda k: (k == _OTHER, -n.get(k, 0.0),
                                                   -b.get(k, 0.0), k))

    def shown(shares: dict[str, float], name: str, total: int) -> str:
        if not total:
            return "—"
        share = shares.get(name, 0.0)
        return "<0.1 %" if 0 < share < 0.0005 else f.pct(share, 1)

    out = []
    for name in names:
        was, now_text = shown(b, name, before.cluster_requests), shown(n, name,
                                                                     now.cluster_requests)
        if not before.cluster_requests or not now.cluster_requests:
            change = "—"
        else:
            # The change of the shares as shown, so the column adds up to what is read.
            delta = round(n.get(name, 0.0) * 100, 1) - round(b.get(name, 0.0) * 100, 1)
            change = "no change" if abs(delta) < 0.05 else \
                f"{'+' if delta > 0 else '-'}{abs(delta):.1f} points"
        label = "no recognised class (other)" if name == _OTHER else name.replace("_", " ")
        out.append(TrendMeasure(label, was, now_text, change))
    return tuple(out)


def _describe(c: Cluster, show: str | None = None) -> str:
    """'8 accounts, 1,752 requests, high', after the cluster's id when given."""
    text = f"{f.plural(c.accounts, 'account')}, {f.n(c.requests)} requests, {c.confidence}"
    return f"{show}: {text}" if show else text


def _accounts_were(accounts: frozenset[str], other: PeriodFindings, when: str) -> str:
    """How many of `accounts` had requests in the other period, and how many were flagged
    there."""
    seen = accounts & other.accounts
    flagged = accounts & other.flagged
    none = len(accounts) - len(seen)
    return (f"{len(seen):,} had requests {when} ({len(flagged):,} flagged), {none:,} had "
            f"none")


def compare(baseline: Baseline, now: PeriodFindings, period: AnalysedPeriod,
            ids: Pseudonymiser) -> Trend:
    """This period's figures and flagged clusters against the baseline's: continuing
    clusters (sharing an account with a baseline flagged cluster), new ones and the
    baseline's that ended (none of its accounts in a flagged cluster now)."""
    before = baseline.findings
    if ids.public:
        # This run's findings already hold the pseudonyms the dossier shows; the baseline's
        # ids take the same ones, so every id below is shown as it is.
        before = before.pseudonymised(ids)

    flagged_now: set[str] = set().union(*(c.members for c in now.clusters))
    matched: set[str] = set()
    rows: list[TrendRow] = []
    for c in now.clusters:
        overlaps = sorted(((len(c.members & b.members), b.cluster_id, b)
                           for b in before.clusters if c.members & b.members),
                          key=lambda x: (-x[0], x[1]))
        if not overlaps:
            rows.append(TrendRow(c.cluster_id, "new", _describe(c), "—",
                                 "of its accounts, " + _accounts_were(
                                     c.members, before, "in the baseline period")))
            continue
        matched.update(cid for _, cid, _b in overlaps)
        earlier: frozenset[str] = frozenset().union(*(b.members for _, _, b in overlaps))
        lost = earlier - c.members
        elsewhere = lost & flagged_now
        active = (lost - elsewhere) & now.accounts
        gone = lost - elsewhere - active
        listed = [_describe(b, cid) for _, cid, b in overlaps[:3]]
        if len(overlaps) > 3:
            listed.append(f"and {len(overlaps) - 3} more")
        joined = c.members - earlier
        change = (f"the same {f.plural(len(c.members), 'account')}" if not joined and not lost
                  else f"{len(c.members & earlier):,} in both; {len(joined):,} joined")
        if joined:
            change += (f" ({len(joined & before.accounts):,} had requests in the baseline "
                       f"period)")
        if joined or lost:
            change += f"; {len(lost):,} left"
        if lost:
            change += (f" ({len(elsewhere):,} now in another flagged cluster, {len(active):,} "
                       f"with requests but in no flagged cluster, {len(gone):,} with no "
                       f"requests this period)")
        rows.append(TrendRow(c.cluster_id, "continuing", _describe(c),
                             "; ".join(listed), change))
    for b in before.clusters:
        if b.cluster_id not in matched:
            rows.append(TrendRow("—", "ended", "—", _describe(b, b.cluster_id),
                                 "none in a flagged cluster now; of its accounts, "
                                 + _accounts_were(b.members, now, "this period")))
    going = sum(r.status == "continuing" for r in rows)
    new = sum(r.status == "new" for r in rows)
    ended = sum(r.status == "ended" for r in rows)
    summary = (f"This period has {f.plural(len(now.clusters), 'flagged cluster')} against "
               f"the baseline's {len(before.clusters):,}: {going:,} continuing, {new:,} new; "
               f"{f'{ended:,}' if ended else 'none'} of the baseline's ended.")
    return Trend(
        baseline=baseline.identity(),
        period=period.text(),
        baseline_period=baseline.period.text(),
        baseline_case=baseline.case_text(),
        baseline_sha256=tuple((name, baseline.sha256[name])
                              for name in ("findings.json", "manifest.json")),
        summary=summary,
        measures=_measures(before, now),
        capabilities=_capabilities(before, now),
        rows=tuple(rows))
