"""`forensics evaluate`: Wilson intervals, figures by population, label-file errors, and the
agreement between what the dossier asserts and what evaluate scores."""

from __future__ import annotations

import json
from math import sqrt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from forensics.errors import InputError
from forensics.evaluate import Z95, Proportion, evaluate, read_labels, wilson, wilson_interval
from tests.conftest import assert_clean_failure, request_rows, run_cli

# --- the interval arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score).
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    # Worked by hand: k = 0 gives (0, z²/(n + z²)); k = n/2 is symmetric about 1/2.
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
])
def test_wilson_interval_matches_published_and_hand_computed_values(
        k: int, n: int, low: float, high: float) -> None:
    """The Wilson interval reproduces Newcombe's table and hand-computed bounds to 4 decimals."""
    got = wilson_interval(k, n)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


@pytest.mark.parametrize(("k", "n"), [(1, 1), (3, 7), (0, 3), (50, 51), (999, 1000)])
def test_wilson_bounds_solve_the_score_equation(k: int, n: int) -> None:
    """Each bound strictly inside (0, 1) is a root of (k/n - p)² = z² p (1 - p) / n, and the
    interval holds k/n."""
    low, high = wilson_interval(k, n)
    for p in (low, high):
        if 0 < p < 1:
            assert (k / n - p) ** 2 == pytest.approx(Z95 ** 2 * p * (1 - p) / n, rel=1e-9)
    assert 0 <= low <= k / n <= high <= 1
    assert wilson_interval(0, n)[0] == 0.0 and wilson_interval(n, n)[1] == 1.0


def test_wilson_with_nothing_measured_is_the_whole_range() -> None:
    """n = 0 has no value and the interval (0, 1); k outside 0..n is refused."""
    assert wilson(0, 0) == {"value": None, "low": 0.0, "high": 1.0, "k": 0, "n": 0}
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_proportion_rounds_to_four_decimals() -> None:
    """A proportion's JSON shape carries k, n and value and bounds rounded to 4 decimals."""
    assert Proportion(1, 3).as_dict() == {"value": 0.3333, "low": 0.0615, "high": 0.7923,
                                          "k": 1, "n": 3}
    z2 = Z95 ** 2
    centre = (1 / 3 + z2 / 6) / (1 + z2 / 3)
    half = Z95 / (1 + z2 / 3) * sqrt(2 / 27 + z2 / 36)
    assert (round(centre - half, 4), round(centre + half, 4)) == (0.0615, 0.7923)


# --- figures by population ---------------------------------------------------------------------


def _findings(out: Path, rows: list[tuple[str, str, bool, str]]) -> Path:
    """A run folder holding only findings.parquet: (account, cluster, flagged, confidence)."""
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([
        {"account_id": a, "cluster_id": c, "flagged": f, "confidence": conf, "score": 0.5}
        for a, c, f, conf in rows]), out / "findings.parquet")
    return out


def _labels(path: Path, rows: list[tuple[str, str, str]],
            header: str = "account_id,label,group") -> Path:
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture
def scored(tmp_path: Path) -> tuple[Path, Path]:
    """Two campaigns (3 + 2 accounts), a new look-alike group, 4 ordinary accounts, one
    flagged account the labels do not name and one labelled account with no traffic."""
    out = _findings(tmp_path / "out", [
        ("c1", "C-1", True, "high"), ("c2", "C-1", True, "high"), ("c3", "C-9", False, "low"),
        ("h1", "C-2", True, "moderate"), ("h2", "C-2", True, "moderate"),
        ("l1", "C-3", True, "moderate"), ("l2", "C-4", False, "none"),
        ("o1", "C-5", True, "moderate"), ("o2", "C-6", False, "low"),
        ("o3", "C-7", False, "none"), ("x1", "C-8", True, "moderate")])
    labels = _labels(tmp_path / "labels.csv", [
        ("c1", "campaign", "hydra_proxy"), ("c2", "campaign", "hydra_proxy"),
        ("c3", "campaign", "hydra_proxy"), ("h1", "campaign", "new_harvest"),
        ("h2", "campaign", "new_harvest"), ("l1", "lookalike", "university_class"),
        ("l2", "lookalike", "university_class"), ("o1", "ordinary", "ordinary"),
        ("o2", "ordinary", "ordinary"), ("o3", "ordinary", "ordinary"),
        ("o4", "ordinary", "ordinary")])
    return out, labels


def test_figures_by_population_with_intervals(scored: tuple[Path, Path]) -> None:
    """Precision, recall, FPR, each campaign's recall and each population's rate are counts
    with Wilson intervals; unknown group names are populations like any other."""
    e = evaluate(*scored)
    assert (e.accounts, e.campaign_accounts, e.flagged) == (11, 5, 7)
    assert (e.true_positives, e.false_positives) == (4, 2)
    assert e.precision == Proportion(4, 6) and e.recall == Proportion(4, 5)
    assert e.f1 == round(2 * 4 / (6 + 5), 4)
    assert e.false_positive_rate == Proportion(1, 4)
    assert e.recall_by_campaign == {"hydra_proxy": Proportion(2, 3),
                                    "new_harvest": Proportion(2, 2)}
    assert [(p.label, p.group, p.accounts, p.flagged) for p in e.populations] == [
        ("campaign", "hydra_proxy", 3, 2), ("campaign", "new_harvest", 2, 2),
        ("lookalike", "university_class", 2, 1), ("ordinary", "ordinary", 4, 1)]
    by_group = {p.group: p for p in e.populations}
    assert by_group["hydra_proxy"].by_confidence == {"high": 2, "moderate": 0}
    assert by_group["hydra_proxy"].of_interest == 1
    assert e.lookalikes_flagged == {"university_class": {"moderate": 1}}
    assert e.ordinary_flagged == 1
    assert (e.unlabelled_flagged, e.labelled_not_in_findings) == (1, 1)
    assert e.adjusted_rand_index == 1.0  # hydra_proxy in C-1, new_harvest in C-2


def test_json_carries_the_agreed_shape(scored: tuple[Path, Path]) -> None:
    """`--json` has every agreed field, intervals as {value, low, high, k, n}, 4 decimals."""
    outcome = run_cli("evaluate", "--findings", scored[0], "--labels", scored[1], "--json")
    assert outcome.exit_code == 0, outcome.stderr
    doc: dict[str, Any] = json.loads(outcome.stdout)
    assert {"accounts", "campaign_accounts", "flagged", "true_positives", "false_positives",
            "precision", "recall", "f1", "false_positive_rate", "recall_by_campaign",
            "populations", "lookalikes_flagged", "ordinary_flagged", "adjusted_rand_index",
            "unlabelled_flagged"} <= doc.keys()
    assert doc["precision"] == {"value": 0.6667, "low": 0.3, "high": 0.9032, "k": 4, "n": 6}
    assert doc["recall_by_campaign"]["new_harvest"] == wilson(2, 2)
    assert doc["false_positive_rate"] == wilson(1, 4)
    rows = doc["populations"]
    assert [(r["label"], r["group"]) for r in rows] == sorted((r["label"], r["group"])
                                                              for r in rows)
    assert rows[2] == {"label": "lookalike", "group": "university_class", "accounts": 2,
                       "flagged": 1, "rate": wilson(1, 2),
                       "by_confidence": {"high": 0, "moderate": 1}, "of_interest": 0}
    assert sum(r["accounts"] for r in rows) == doc["accounts"]
    assert doc["unlabelled_flagged"] == 1


def test_text_report_prints_intervals_and_population_rows(scored: tuple[Path, Path]) -> None:
    """The human report gives each figure with its interval and one row per population."""
    outcome = run_cli("evaluate", "--findings", scored[0], "--labels", scored[1])
    assert outcome.exit_code == 0, outcome.stderr
    text = outcome.stdout
    assert "precision                    0.6667 [0.3000–0.9032]   4/6" in text
    assert "false-positive rate          0.2500 [0.0456–0.6994]   1/4" in text
    assert "  new_harvest                  1.0000 [0.3424–1.0000]   2/2" in text
    assert ("  lookalike  university_class                2       1  "
            "0.5000 [0.0945–0.9055]   moderate 1") in text
    assert "unlabelled flagged accounts: 1" in text


def test_nothing_to_measure_gives_no_value(tmp_path: Path) -> None:
    """Labels without campaigns or flagged accounts give recall and precision no value, F1 0."""
    out = _findings(tmp_path / "out", [("o1", "C-1", False, "none")])
    e = evaluate(out, _labels(tmp_path / "l.csv", [("o1", "ordinary", "")]))
    assert e.precision.value is None and e.recall.value is None and e.f1 == 0.0
    assert e.populations[0].group == "ordinary"  # an empty group is the label
    assert "—" in "\n".join(e.lines())


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "fragments"), [
    ("", ["the labels file is empty", "account_id,label,group"]),
    ("account_id,label,group\n", ["names no account"]),
    ("account_id,group\na1,ordinary\n", ["column 'label'", "missing column 'label'"]),
    ("account_id\na1\n", ["missing columns 'label', 'group'"]),
    ("account_id,label,group\na1,benign,ordinary\n",
     ["column 'label'", "line 2", "unknown label 'benign'", "campaign, lookalike, ordinary"]),
    ("account_id,label,group\na1,ordinary,x\na1,campaign,y\n",
     ["column 'account_id'", "line 3", "labelled twice"]),
    ("account_id,label,group\n,ordinary,x\n", ["column 'account_id'", "empty account id"]),
])
def test_bad_labels_file_is_one_line_naming_file_and_column(
        tmp_path: Path, content: str, fragments: list[str]) -> None:
    """A labels file that is empty, lacks a column or has an unknown label is an InputError
    naming the file, the column and what was expected, reported as one line (exit 2)."""
    path = tmp_path / "labels.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_labels(path)
    message = caught.value.line()
    assert "\n" not in message and message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    out = _findings(tmp_path / "out", [("a1", "C-1", False, "none")])
    assert_clean_failure(run_cli("evaluate", "--findings", out, "--labels", path),
                         str(path), *fragments)


def test_missing_inputs_are_named(tmp_path: Path) -> None:
    """No labels file, or a folder without findings.parquet, is a clean error naming it."""
    labels = _labels(tmp_path / "l.csv", [("a1", "ordinary", "ordinary")])
    assert_clean_failure(run_cli("evaluate", "--findings", tmp_path, "--labels", labels),
                         "no findings.parquet", str(tmp_path))
    out = _findings(tmp_path / "out", [("a1", "C-1", False, "none")])
    assert_clean_failure(run_cli("evaluate", "--findings", out, "--labels", tmp_path / "no.csv"),
                         "labels file not found", "no.csv")


# --- what the dossier asserts equals what evaluate scores --------------------------------------

LONE = range(4, 8)  # harvesters that share no payment, domain, network or sign-up burst


# Each lone harvester's own recipe opens with a long preamble of its own, so that no two of
# them (and none of them and the joint campaign) share a template.
SOLO_PREAMBLES = (
    "Annotation queue item for the overnight labelling contractor, batch alpha: read the "
    "material carefully, keep the original numbering, never skip an item, and return the "
    "filled record in the house format used by the quality desk since last spring.",
    "Research assistant brief, physics tutoring corpus, second pass: the reviewer wants every "
    "derivation spelled out with units, boundary cases noted, and a plain summary at the end "
    "that a first-year student could follow without the textbook at hand.",
    "Knowledge base migration ticket from the legacy help centre: rewrite each archived answer "
    "so that a support agent can paste it into a chat window, with the troubleshooting steps "
    "in order and the escalation contact kept exactly as written in the source.",
    "Curriculum design worksheet for the spring cohort of the evening programme: turn the "
    "lecturer's outline into exercises with hints, mark which ones need a calculator, and keep "
    "the weekly reading list in the order the department approved last term.",
)


def _lone_text(i: int, j: int) -> str:
    """The harvest prompt; each lone harvester's own template opens with its own words."""
    from tests.dossier_data import HARVEST_PROMPT

    prompt = HARVEST_PROMPT.format(n=3 + j % 9, m=13 + j % 11, k=4 + j % 5)
    return f"{SOLO_PREAMBLES[i - LONE.start]} {prompt}" if i in LONE else prompt


@pytest.fixture(scope="module")
def two_kinds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Eight harvesters among 300 ordinary users: four coordinated (one card, one sign-up
    burst), four that share only a user agent (each runs the recipe under a preamble of its
    own, so no template is shared), each flagged on its own evidence. The first lone harvester's
    organisation owns a second, idle account. Returns the data and labels."""
    from datetime import timedelta

    from tests.dossier_data import build_case

    root = tmp_path_factory.mktemp("two_kinds")
    data = build_case(root, harvesters=8, ordinary=300, harvest_text=_lone_text)
    lone = {f"acct-harvest-{i:02d}": i for i in LONE}
    accounts = pq.read_table(data / "accounts.parquet").to_pylist()
    for a in accounts:
        if (i := lone.get(a["account_id"])) is not None:
            a.update(payment_fingerprint=f"pf-solo-{i}", email_domain=f"solo{i}.example",
                     signup_ip=f"10.{i}.0.1",
                     created_at=a["created_at"] - timedelta(days=40 * i, hours=5 * i))
    next(a for a in accounts if a["account_id"] == "acct-harvest-00")["org_id"] = "org-joint"
    accounts.append({**accounts[-1], "account_id": "acct-idle", "org_id": "org-joint",
                     "email_domain": "idle.example", "payment_fingerprint": "pf-idle",
                     "signup_ip": "10.99.0.1"})
    pq.write_table(pa.Table.from_pylist(accounts), data / "accounts.parquet")
    requests = pq.read_table(data / "requests.parquet").to_pylist()
    requests += [{**r, "ip": "10.98.0.1"} for r in request_rows(6, "acct-idle")]
    for r in requests:
        if (i := lone.get(r["account_id"])) is not None:
            r.update(ip=f"10.{20 + i}.{i}.5", user_agent="solo-client/1.0",
                     ts=r["ts"] + timedelta(minutes=17 * i))
    pq.write_table(pa.Table.from_pylist(requests), data / "requests.parquet")
    labels = _labels(root / "labels.csv", [
        (a["account_id"], "campaign", "solo_harvest" if a["account_id"] in lone else
         "joint_harvest") if a["account_id"].startswith("acct-harvest") else
        (a["account_id"], "ordinary", "ordinary") for a in accounts])
    return data, labels


def _findings_flagged(out: Path) -> set[str]:
    table = pq.read_table(out / "findings.parquet", columns=["account_id", "flagged"])
    return {r["account_id"] for r in table.to_pylist() if r["flagged"]}


def _asserted(out: Path) -> tuple[set[str], int, str]:
    """What the dossier asserts: the accounts its exhibits mark flagged (each described
    cluster's account exhibit, and the flagged-accounts exhibit), the number of flagged
    accounts its key judgments state, and the text of those judgments."""
    import csv
    import html
    import re

    page = (out / "dossier.html").read_text(encoding="utf-8")
    judgments = page[page.index('id="key-judgments"'):page.index('id="scope"')]
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", judgments)))
    accounts: set[str] = set()
    for path in sorted((out / "exhibits").glob("EX-*-accounts.csv")):
        exhibit = path.name[:6]
        assert f'id="ex-{exhibit}"' in page, f"{exhibit} is not in the dossier's inventory"
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        if path.name.endswith("-flagged-accounts.csv"):
            assert exhibit in text, "the key judgments do not cite the flagged accounts"
            accounts |= {r["account_id"] for r in rows}
        else:
            accounts |= {r["account_id"] for r in rows if r["flagged"] == "true"}
    stated = (re.search(r"In all, ([\d,]+) accounts? (?:was|were) flagged", text)
              or re.search(r"([\d,]+) accounts? (?:was|were) nevertheless flagged", text)
              or re.search(r"\(([\d,]+) accounts?\) (?:was|were) flagged as distillation", text))
    count = int(stated[1].replace(",", "")) if stated else 0
    return accounts, count, text


def test_dossier_asserts_the_accounts_evaluate_scores(
        two_kinds: tuple[Path, Path], tmp_path: Path) -> None:
    """With accounts flagged on their own evidence outside the coordinated cluster, and a
    member of a flagged cluster that is not flagged, the dossier states the findings' count
    and lists every flagged account, and evaluate scores exactly that set."""
    from forensics import api
    from forensics.config import RunConfig

    data, labels = two_kinds
    out = tmp_path / "out"
    api.run(RunConfig(data_dir=data, out_dir=out))
    asserted, stated, text = _asserted(out)
    flagged = _findings_flagged(out)
    assert len(flagged) == 8
    assert asserted == flagged
    assert stated == len(flagged) == json.loads(
        (out / "findings.json").read_text(encoding="utf-8"))["run"]["accounts_flagged"]
    # The idle account is in its organisation's flagged cluster; the four lone harvesters share
    # only a user agent, and two of them open sessions in the same minutes beyond chance
    # (their timestamps are the same schedule shifted): three flagged clusters of their own.
    assert "4 clusters of linked accounts (9 accounts) were flagged" in text
    assert "In all, 8 accounts were flagged, all of them in flagged clusters" in text
    assert "1 member of flagged clusters was not flagged" in text
    e = evaluate(out, labels)
    assert (e.flagged, e.true_positives, e.false_positives) == (stated, 8, 0)
    assert e.recall_by_campaign == {"joint_harvest": Proportion(4, 4),
                                    "solo_harvest": Proportion(4, 4)}


def test_every_flagged_cluster_is_counted_beyond_the_dossier_cap(
        two_kinds: tuple[Path, Path], tmp_path: Path) -> None:
    """With no strong links, five flagged clusters (the joint harvesters, each flagged on its
    own evidence, put together with the idle account's organisation by their shared harvest
    template; the four lone harvesters alone) and a cap of two sections (public profile): the
    six flagged accounts not described are listed, pseudonymised, in the flagged-accounts
    exhibit; the linking stage reads every flagged cluster whatever its limit of clusters to
    read."""
    import duckdb

    from forensics import api
    from forensics.config import CaseConfig, CaseSection, ReportSection, RunConfig, ScoringSection
    from forensics.evidence import read_clusters

    data, labels = two_kinds
    out, workdir = tmp_path / "out", tmp_path / "work"
    case = CaseConfig(case=CaseSection(hmac_key="k"), scoring=ScoringSection(min_link_weight=1),
                      report=ReportSection(max_clusters=2))
    api.run(RunConfig(data_dir=data, out_dir=out, case=case, profile="public", workdir=workdir))
    flagged = _findings_flagged(out)
    asserted, stated, text = _asserted(out)
    assert len(flagged) == len(asserted) == stated == 8
    # The public findings carry the dossier's pseudonyms: the same accounts, by the same ids.
    assert asserted == flagged
    assert "The 6 flagged accounts that no cluster described here includes" in text
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert doc["run"]["clusters_flagged"] == 5
    with pytest.raises(InputError, match="pseudonyms that no label matches"):
        evaluate(out, labels)  # a public run's ids match no label
    con = duckdb.connect(str(workdir / "forensics.duckdb"), read_only=True)
    assert [c.flagged for c in read_clusters(con, 3)] == [True] * 5
