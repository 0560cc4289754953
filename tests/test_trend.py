"""--baseline: the trend section against a previous period's run (issue 24). A baseline must
be an earlier, non-overlapping period of an internal run; the section's figures agree with the
findings of both runs; the baseline is named by its period and hashes, never by its folder."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from forensics.report.public import Pseudonymiser
from forensics.report.trend import (
    AnalysedPeriod,
    Baseline,
    Cluster,
    PeriodFindings,
    compare,
)
from forensics.sample import generate_sample

from .conftest import (
    CliOutcome,
    assert_clean_failure,
    make_export,
    one_heuristic_library,
    run_cli,
)

# A folder name no dossier text could contain by chance.
BASELINE_NAME = "prev-run-7f3kq"


# --- the two-period run ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def periods(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample at scale 0.1 in 2026Q2 and 2026Q3 (same seed: the same accounts), the
    first run as the second's --baseline: (baseline folder, this run's folder). One campaign
    stops between the quarters: the members of the baseline's first flagged cluster send
    nothing in 2026Q3, so the section has a cluster that ended whatever else is detected."""
    root = tmp_path_factory.mktemp("trend")
    for period, (start, end) in {"q2": ("2026-04-01", "2026-07-01"),
                                 "q3": ("2026-07-01", "2026-10-01")}.items():
        generate_sample(root / period, seed=7, scale=0.1, period_start=start,
                        period_end=end)
    baseline, out = root / BASELINE_NAME, root / "out"
    outcome = run_cli("run", root / "q2" / "data", "--out", baseline, "--period", "2026Q2",
                      "--format", "json", "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    flagged = sorted((c["cluster_id"], c["members"])
                     for c in _findings(baseline)[0]["clusters"] if c["flagged"])
    assert len(flagged) >= 2, "the baseline needs a cluster that ends and one that continues"
    stopped = pa.array(flagged[0][1])
    for part in sorted((root / "q3" / "data" / "requests").glob("*.parquet")):
        table = pq.read_table(part)
        pq.write_table(table.filter(pc.invert(pc.is_in(table["account_id"], stopped))), part)
    outcome = run_cli("run", root / "q3" / "data", "--out", out, "--period", "2026Q3",
                      "--format", "html", "--baseline", baseline.resolve(), "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    return baseline, out


def _findings(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    rows = pq.read_table(folder / "findings.parquet").to_pylist()
    return doc, rows


def _section(out: Path) -> str:
    page = (out / "dossier.html").read_text(encoding="utf-8")
    start = page.index('<section class="subsection" id="trend">')
    return page[start:page.index("</section>", start)]


def _table(section: str, css: str) -> list[list[str]]:
    """The body rows of the trend table with class `css`, as cell texts."""
    body = section[section.index(f'class="data {css}"'):]
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_trend_counts_agree_with_both_runs_findings(periods: tuple[Path, Path]) -> None:
    """Requests analysed, accounts seen and flagged, flagged clusters and their requests are
    the figures of each run's findings.parquet and findings.json (and its manifest)."""
    baseline, out = periods
    table = {row[0]: row[1:] for row in _table(_section(out), "trend-measures")}
    for column, folder in ((0, baseline), (1, out)):
        doc, rows = _findings(folder)
        flagged = [c for c in doc["clusters"] if c["flagged"]]
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        expected = {
            "Requests analysed": manifest["summary"]["requests_analysed"],
            "Accounts seen (with a request)": doc["run"]["accounts_total"],
            "Accounts flagged": doc["run"]["accounts_flagged"],
            "Flagged clusters": doc["run"]["clusters_flagged"],
            "Requests of the flagged clusters": sum(c["requests"] for c in flagged),
        }
        assert sum(r["requests"] for r in rows) == expected["Requests analysed"]
        assert len(rows) == expected["Accounts seen (with a request)"]
        assert sum(r["flagged"] for r in rows) == expected["Accounts flagged"]
        assert len(flagged) == expected["Flagged clusters"]
        for measure, value in expected.items():
            assert table[measure][column] == f"{value:,}", (measure, table[measure])


def test_trend_capabilities_agree_with_both_runs_findings(periods: tuple[Path, Path]) -> None:
    """Each capability's share of the flagged clusters' requests is findings.json's cluster
    shares weighted by requests, in both periods, with the change in points."""
    baseline, out = periods
    rows = _table(_section(out), "trend-capabilities")
    assert rows
    shares = []
    for folder in (baseline, out):
        flagged = [c for c in _findings(folder)[0]["clusters"] if c["flagged"]]
        total = sum(c["requests"] for c in flagged)
        weighted: dict[str, float] = {}
        for c in flagged:
            for name, share in c["capabilities"]:
                weighted[name] = weighted.get(name, 0.0) + share * c["requests"] / total
        shares.append(weighted)
    names = set(shares[0]) | set(shares[1])
    assert len(rows) == len(names)
    for label, before, now, change in rows:
        name = "other" if label == "no recognised class (other)" else label.replace(" ", "_")
        values = [round(s.get(name, 0.0) * 100, 1) for s in shares]
        for shown, value in zip((before, now), values, strict=True):
            assert shown == ("<0.1 %" if 0 < value < 0.05 else f"{value:.1f} %"), (label, shown)
        delta = values[1] - values[0]
        assert change == ("no change" if abs(delta) < 0.05 else
                          f"{'+' if delta > 0 else '-'}{abs(delta):.1f} points"), label


def test_trend_clusters_agree_with_both_runs_findings(periods: tuple[Path, Path]) -> None:
    """Every flagged cluster of this run is continuing (it shares an account with a flagged
    cluster of the baseline) or new, and every baseline cluster sharing none ended; the
    counts of accounts in both, joined and left are the member lists'."""
    baseline, out = periods
    before = {c["cluster_id"]: set(c["members"])
              for c in _findings(baseline)[0]["clusters"] if c["flagged"]}
    now = {c["cluster_id"]: set(c["members"])
           for c in _findings(out)[0]["clusters"] if c["flagged"]}
    rows = _table(_section(out), "trend-clusters")
    shown = {r[0]: r for r in rows if r[0] != "—"}
    assert set(shown) == set(now)
    matched: set[str] = set()
    for cid, members in now.items():
        overlaps = [b for b, m in before.items() if m & members]
        matched.update(overlaps)
        status, _, was, accounts = shown[cid][1:]
        assert status == ("continuing" if overlaps else "new"), cid
        for b in overlaps:
            assert b in was
        if overlaps:
            earlier = set().union(*(before[b] for b in overlaps))
            if earlier == members:
                assert accounts == f"the same {len(members)} accounts"
            else:
                assert re.match(rf"{len(members & earlier)} in both; "
                                rf"{len(members - earlier)} joined( \(\d+ had requests in "
                                rf"the baseline period\))?; {len(earlier - members)} left",
                                accounts), accounts
    ended = [r for r in rows if r[1] == "ended"]
    assert sorted(r[3].split(":")[0] for r in ended) == sorted(set(before) - matched)
    statuses = {r[1] for r in rows}
    # The fixture stops one flagged campaign before 2026Q3; the others go on. Without both
    # kinds of row the test would check less.
    assert {"continuing", "ended"} <= statuses


def test_trend_names_the_baseline_by_period_and_hash_not_path(
        periods: tuple[Path, Path]) -> None:
    """Neither the dossier nor the manifest holds the baseline's folder, absolute or
    relative: both name it by its period, case and the SHA-256 of its findings and manifest,
    and the reproducibility command says BASELINE."""
    baseline, out = periods
    digests = {name: hashlib.sha256((baseline / name).read_bytes()).hexdigest()
               for name in ("findings.json", "findings.parquet", "manifest.json")}
    page = (out / "dossier.html").read_text(encoding="utf-8")
    manifest_text = (out / "manifest.json").read_text(encoding="utf-8")
    for text in (page, manifest_text):
        # The folder's name is enough: it is in every form of its path, absolute or not.
        assert BASELINE_NAME not in text
    section = _section(out)
    assert "This period: 2026Q3. Baseline: the run of 2026Q2" in section
    assert digests["findings.json"] in section and digests["manifest.json"] in section
    assert "--baseline BASELINE" in page
    assert (f"BASELINE is the output folder of the baseline run, whose manifest.json has the "
            f"SHA-256 {digests['manifest.json']}.") in page
    manifest = json.loads(manifest_text)
    assert manifest["baseline"] == {
        "case_id": None, "profile": "internal", "sha256": digests,
        "period": {"label": "2026Q2", "since": "2026-04-01T00:00:00+00:00",
                   "until": "2026-07-01T00:00:00+00:00", "ends_from_requests": False}}
    # The baseline's manifest records the profile the check reads.
    assert json.loads((baseline / "manifest.json").read_text())["config"]["profile"] == \
        "internal"


# --- refusals --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --format json run of a three-request export (2026-07-06, no --period)."""
    root = tmp_path_factory.mktemp("tiny")
    outcome = run_cli("run", make_export(root / "data"), "--out", root / "baseline",
                      "--queries", one_heuristic_library(root / "queries"), "--format",
                      "json", "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    return root / "baseline"


def _run_against(tmp_path: Path, baseline: Path, *extra: str) -> CliOutcome:
    return run_cli("run", make_export(tmp_path / "data"), "--out", tmp_path / "out",
                   "--queries", one_heuristic_library(tmp_path / "queries"),
                   "--baseline", baseline, "--quiet", *extra)


@pytest.mark.parametrize(("extra", "message"), [
    ((), "baseline period 2026-07-06 09:00 UTC – 2026-07-06 09:02 UTC (the span of its "
         "requests; no --period) overlaps this run's period 2026-07-06 09:00 UTC – 2026-07-06 "
         "09:02 UTC (the span of its requests; no --period) (expected the --out folder of a "
         "run of an earlier period that ends by 2026-07-06 09:00 UTC)"),
    (("--period", "2026Q3"), "overlaps this run's period 2026Q3 (expected the --out folder "
                             "of a run of an earlier period that ends by 2026-07-01 00:00 UTC)"),
    (("--period", "2026-06"), "is after this run's period 2026-06 (expected an earlier "
                              "period: to compare the other way, run the later period with "
                              "the earlier one as its --baseline)"),
])
def test_baseline_of_an_overlapping_or_later_period_is_refused(
        tmp_path: Path, tiny_baseline: Path, extra: tuple[str, ...], message: str) -> None:
    """A baseline whose period overlaps this run's (or comes after it) is refused with exit
    2, its manifest named, and nothing written: with a --period before any data is read,
    without one once the requests' span is known."""
    outcome = _run_against(tmp_path, tiny_baseline, *extra)
    assert_clean_failure(outcome, f"Error: {tiny_baseline / 'manifest.json'}: baseline period ",
                         message, out_dir=tmp_path / "out")


def _copy(baseline: Path, dest: Path, profile: Any = "internal") -> Path:
    """The baseline folder with its manifest's config.profile set to `profile` (absent for
    None)."""
    shutil.copytree(baseline, dest)
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    if profile is None:
        del manifest["config"]["profile"]
    else:
        manifest["config"]["profile"] = profile
    (dest / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return dest


def test_public_baseline_is_refused(tmp_path: Path, tiny_baseline: Path) -> None:
    """A baseline whose manifest records --profile public is refused, whatever its folder
    holds: a public output is for publication and its identifiers are not for matching."""
    public = _copy(tiny_baseline, tmp_path / "public", "public")
    outcome = _run_against(tmp_path, public, "--period", "2026Q4")
    assert_clean_failure(outcome, f"{public / 'manifest.json'}: baseline was written with "
                                  f"--profile public (config.profile in its manifest)",
                         out_dir=tmp_path / "out")
    unknown = _copy(tiny_baseline, tmp_path / "unknown", None)
    outcome = _run_against(tmp_path, unknown, "--period", "2026Q4")
    assert_clean_failure(outcome, f"{unknown / 'manifest.json'}: baseline manifest.json "
                                  f"config.profile is null (expected \"internal\"",
                         out_dir=tmp_path / "out")


def test_baseline_without_manifest_or_with_changed_findings_is_refused(
        tmp_path: Path, tiny_baseline: Path) -> None:
    """A baseline folder without manifest.json, or whose findings are not the files its
    manifest lists, is refused naming the file."""
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(tiny_baseline / "findings.json", bare / "findings.json")
    assert_clean_failure(_run_against(tmp_path, bare, "--period", "2026Q4"),
                         f"{bare / 'manifest.json'}: baseline has no manifest.json",
                         out_dir=tmp_path / "out")
    edited = _copy(tiny_baseline, tmp_path / "edited")
    with (edited / "findings.json").open("a", encoding="utf-8") as fh:
        fh.write(" ")
    assert_clean_failure(_run_against(tmp_path, edited, "--period", "2026Q4"),
                         f"{edited / 'findings.json'}: baseline findings.json does not have "
                         f"the SHA-256 its manifest.json lists", out_dir=tmp_path / "out")


# --- the comparison's words ------------------------------------------------------------------

def _ids(text: str) -> frozenset[str]:
    return frozenset(text.split(" "))


def _cluster(cid: str, members: str, requests: int = 100) -> Cluster:
    ids = _ids(members)
    return Cluster(cid, ids, len(ids), requests, "high", (("coding", 0.5), ("other", 0.5)))


def test_compare_sorts_clusters_into_continuing_new_and_ended() -> None:
    """Continuing clusters count the accounts in both, joined and left (and where the left
    ones went), new ones say whether their accounts were seen before, ended ones whether
    theirs still send requests; fewer accounts flagged is said as that and nothing more."""
    from datetime import UTC, datetime

    q2 = AnalysedPeriod("2026Q2", datetime(2026, 4, 1, tzinfo=UTC),
                        datetime(2026, 7, 1, tzinfo=UTC), False)
    q3 = AnalysedPeriod("2026Q3", datetime(2026, 7, 1, tzinfo=UTC),
                        datetime(2026, 10, 1, tzinfo=UTC), False)
    before = PeriodFindings(
        1000, _ids("a b c d e f g h x"), _ids("a b c d e f g h"),
        (_cluster("C-1", "a b c d"), _cluster("C-2", "e f"), _cluster("C-3", "g h")))
    now = PeriodFindings(
        1200, _ids("a b c e f g p q r"), _ids("a b e f p q x"),
        (_cluster("C-9", "a b x"), _cluster("C-8", "e f"), _cluster("C-7", "p q")))
    baseline = Baseline(q2, "CASE-1", "internal",
                        {"findings.json": "f" * 64, "findings.parquet": "p" * 64,
                         "manifest.json": "m" * 64}, before)
    trend = compare(baseline, now, q3, Pseudonymiser(False, None))
    rows = {r.cluster_id if r.cluster_id != "—" else r.before.split(":")[0]: r
            for r in trend.rows}
    assert rows["C-9"].status == "continuing"
    assert rows["C-9"].accounts == ("2 in both; 1 joined (1 had requests in the baseline "
                                    "period); 2 left (0 now in another flagged cluster, 1 with "
                                    "requests but in no flagged cluster, 1 with no requests "
                                    "this period)")
    assert rows["C-8"].status == "continuing" and rows["C-8"].accounts == "the same 2 accounts"
    assert rows["C-7"].status == "new"
    assert rows["C-7"].accounts == ("of its accounts, 0 had requests in the baseline period "
                                    "(0 flagged), 2 had none")
    assert rows["C-3"].status == "ended"
    assert rows["C-3"].accounts == ("none in a flagged cluster now; of its accounts, 1 had "
                                    "requests this period (0 flagged), 1 had none")
    assert trend.summary == ("This period has 3 flagged clusters against the baseline's 3: "
                             "2 continuing, 1 new; 1 of the baseline's ended.")
    measures = {m.measure: m for m in trend.measures}
    assert measures["Accounts flagged"].change == "1 fewer account flagged"
    assert measures["Requests analysed"].change == "+200 (+20.0 %)"
    assert measures["Flagged clusters"].change == "no change"
    assert trend.baseline == "2026Q2, case CASE-1, manifest.json SHA-256 " + "m" * 64


def test_manifest_command_line_hides_the_baseline_folder() -> None:
    """--baseline DIR and --baseline=DIR both become BASELINE in the manifest's command line;
    without --baseline the command line is kept as given."""
    from forensics.config import RunConfig
    from forensics.manifest import command_line

    given = ("forensics", "run", "d", "--baseline", "/home/me/q2", "--baseline=rel/q2")
    config = RunConfig(data_dir=Path("d"), baseline_dir=Path("/home/me/q2"),
                       command_line=given)
    assert command_line(config) == ["forensics", "run", "d", "--baseline", "BASELINE",
                                    "--baseline=BASELINE"]
    assert command_line(RunConfig(data_dir=Path("d"), command_line=given[:3])) == \
        list(given[:3])
