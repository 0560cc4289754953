"""Tests for the synthetic sample generator (forensics.sample)."""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from forensics import resources, schema
from forensics.errors import ForensicsError
from forensics.features import read_lexicons
from forensics.sample import (
    ACCOUNTS_SCHEMA,
    MODEL_RELEASES_SCHEMA,
    REQUESTS_SCHEMA,
    SampleError,
    SampleSummary,
    generate_sample,
)
from forensics.sample.text import Text

CAMPAIGNS = (
    "reasoning_harvester", "hydra_proxy", "templated_lowvol", "data_pipeline", "agentic_swarm"
)
GROUPS = ("ordinary", "company_team", "university_class", "hackathon", "household", "nightly_jobs")
LOOKALIKES = ("eval_company", "enterprise_batch", "agent_product", "research_group", "tutoring_app")
RELEASE = datetime(2026, 8, 19, 16, tzinfo=UTC)


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _requests(root: Path) -> pa.Table:
    parts = sorted((root / "data" / "requests").glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts])


def _labels(root: Path) -> dict[str, tuple[str, str]]:
    with (root / "labels.csv").open(newline="", encoding="utf-8") as fh:
        return {r["account_id"]: (r["label"], r["group"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    out = tmp_path_factory.mktemp("sample") / "out"
    return out, generate_sample(out, seed=7, scale=0.1)


@pytest.fixture(scope="module")
def requests(sample: tuple[Path, SampleSummary]) -> pa.Table:
    return _requests(sample[0])


@pytest.fixture(scope="module")
def groups(sample: tuple[Path, SampleSummary], requests: pa.Table) -> np.ndarray:
    labels = _labels(sample[0])
    return np.array([labels[a][1] for a in requests.column("account_id").to_pylist()])


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    """Two runs with the same seed and scale write byte-identical files, a new seed does not."""
    first = generate_sample(tmp_path / "a", seed=3, scale=0.05)
    generate_sample(tmp_path / "b", seed=3, scale=0.05)
    generate_sample(tmp_path / "c", seed=4, scale=0.05)
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b
    assert set(a) == set(first.files)
    changed = [name for name in a if a[name] != c.get(name)]
    assert "data/requests/part-00000.parquet" in changed
    assert "labels.csv" in changed


def test_bytes_do_not_depend_on_the_process(tmp_path: Path) -> None:
    """A run in another interpreter with another hash seed writes the same bytes."""
    generate_sample(tmp_path / "here", seed=9, scale=0.05)
    code = (
        "import sys; from pathlib import Path; from forensics.sample import generate_sample; "
        "generate_sample(Path(sys.argv[1]), seed=9, scale=0.05)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    assert _digests(tmp_path / "here") == _digests(tmp_path / "there")


def test_files_are_laid_out_with_labels_outside_data(sample: tuple[Path, SampleSummary]) -> None:
    """The data directory holds only log files; the ground truth sits beside it."""
    root, summary = sample
    assert summary.files == (
        "data/accounts.parquet",
        "data/indicators.csv",
        "data/model_releases.parquet",
        "data/requests/part-00000.parquet",
        "labels.csv",
    )
    assert not list((root / "data").rglob("labels*"))
    assert not list(root.parent.glob(".out.*")), "temporary directories must be cleaned up"


def test_schemas_match_log_schema_v1(sample: tuple[Path, SampleSummary]) -> None:
    """Every file has exactly the columns of the v1 contract, with the expected Arrow types."""
    root, _ = sample
    assert REQUESTS_SCHEMA.field("ts").type == pa.timestamp("us", tz="UTC")
    assert REQUESTS_SCHEMA.field("turn_index").type == pa.int32()
    for part in (root / "data" / "requests").glob("*.parquet"):
        written = pq.read_schema(part).remove_metadata()
        assert written == REQUESTS_SCHEMA
        assert written.names == list(schema.REQUESTS.names)
    assert pq.read_schema(root / "data/accounts.parquet").remove_metadata() == ACCOUNTS_SCHEMA
    releases = pq.read_schema(root / "data/model_releases.parquet").remove_metadata()
    assert releases == MODEL_RELEASES_SCHEMA
    with (root / "data/indicators.csv").open(encoding="utf-8") as fh:
        assert fh.readline().strip() == ",".join(schema.INDICATORS.names)
        assert {line.split(",")[0] for line in fh} <= set(schema.INDICATOR_TYPES)
    with (root / "labels.csv").open(encoding="utf-8") as fh:
        assert fh.readline().strip() == "account_id,label,group"


def test_request_ids_unique_and_accounts_known(
    sample: tuple[Path, SampleSummary], requests: pa.Table
) -> None:
    """Request ids are unique and every request's account is in accounts and labels."""
    root, summary = sample
    ids = requests.column("request_id").to_pylist()
    assert len(ids) == len(set(ids)) == summary.requests
    assert all(i.startswith("req_") and len(i) == 20 for i in ids[:100])
    accounts = set(pq.read_table(root / "data/accounts.parquet").column("account_id").to_pylist())
    assert set(requests.column("account_id").to_pylist()) <= accounts
    assert set(_labels(root)) == accounts


def test_rows_sorted_in_period_with_sane_values(requests: pa.Table) -> None:
    """Requests are sorted by time inside the period and their fields are well formed."""
    ts = requests.column("ts").cast(pa.int64()).to_numpy()
    assert (np.diff(ts) >= 0).all()
    start = datetime(2026, 7, 1, tzinfo=UTC).timestamp() * 1e6
    end = datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1e6
    assert ts.min() >= start and ts.max() < end
    for ip in requests.column("ip").to_pylist()[:500]:
        ipaddress.IPv4Address(ip)
    assert set(requests.column("stop_reason").to_pylist()) == {
        "end_turn",
        "max_tokens",
        "tool_use",
        "stop_sequence",
    }
    assert pc.min(requests.column("turn_index")).as_py() == 0
    assert requests.column("prompt").null_count == 0
    has_response = requests.column("response").is_valid().to_numpy(zero_copy_only=False)
    assert 0.2 < has_response.mean() < 0.8


def test_output_tokens_consistent_with_stop_reason(requests: pa.Table) -> None:
    """A max_tokens stop means output_tokens == max_tokens, and output never exceeds it."""
    out = requests.column("output_tokens").to_numpy()
    cap = requests.column("max_tokens").to_numpy()
    stop = np.array(requests.column("stop_reason").to_pylist())
    assert (out <= cap).all() and (out >= 1).all()
    assert (out[stop == "max_tokens"] == cap[stop == "max_tokens"]).all()
    assert (out[stop != "max_tokens"] < cap[stop != "max_tokens"]).all()
    chars = pc.add(
        pc.fill_null(pc.utf8_length(requests.column("system_prompt")), 0),
        pc.utf8_length(requests.column("prompt")),
    ).to_numpy()
    ratio = requests.column("input_tokens").to_numpy() / np.maximum(chars / 4, 1)
    assert 0.8 < np.median(ratio) < 1.3


def test_every_population_present_at_small_scale(sample: tuple[Path, SampleSummary]) -> None:
    """At scale 0.1 each label and each campaign has at least 8 accounts, every kind appears,
    and ordinary people (alone or in groups) send most of the traffic."""
    root, summary = sample
    labels = _labels(root)
    by_label = Counter(label for label, _ in labels.values())
    by_group = Counter(group for _, group in labels.values())
    assert all(by_label[label] >= 8 for label in ("ordinary", "lookalike", "campaign"))
    assert by_label["ordinary"] > by_label["lookalike"] + by_label["campaign"]
    assert all(by_group[c] >= 8 for c in CAMPAIGNS)
    assert all(by_group[k] >= 1 for k in LOOKALIKES)
    assert summary.accounts_by_group == dict(sorted(by_group.items()))
    assert all(summary.requests_by_group[g] > 0 for g in (*CAMPAIGNS, *LOOKALIKES, *GROUPS))
    assert sum(summary.requests_by_group[g] for g in GROUPS) > summary.requests / 2
    assert f"{summary.requests:,} requests" in str(summary)


def test_new_model_release_and_hydra_pivot(
    sample: tuple[Path, SampleSummary], requests: pa.Table, groups: np.ndarray
) -> None:
    """The hydra cluster moves its own harvest to the new model within a day of the release
    (the customers' traffic it forwards follows the everyday adoption): at least a fifth of
    all its traffic in the first day and week, twice the ordinary customers' share."""
    root, summary = sample
    releases = pq.read_table(root / "data/model_releases.parquet").to_pylist()
    assert releases[-1] == {"model": "atlas-4", "released_at": RELEASE}
    assert summary.new_model == "atlas-4" and summary.new_model_released_at == RELEASE
    assert all(r["released_at"] < datetime(2026, 7, 1, tzinfo=UTC) for r in releases[:-1])
    ts = np.array(requests.column("ts").to_pylist())
    new = np.array(requests.column("model").to_pylist()) == "atlas-4"
    assert not new[ts < RELEASE].any()
    hydra = groups == "hydra_proxy"
    week = (ts >= RELEASE) & (ts < RELEASE + timedelta(days=7))
    ordinary = new[(groups == "ordinary") & week].mean()
    assert ordinary < 0.1
    assert new[hydra & week].mean() >= max(0.2, 2 * ordinary)
    day = (ts >= RELEASE) & (ts < RELEASE + timedelta(days=1))
    assert new[hydra & day].mean() >= 0.2


def test_campaign_fingerprints_are_planted(
    sample: tuple[Path, SampleSummary], requests: pa.Table, groups: np.ndarray
) -> None:
    """Harvester accounts share a few cards, the low-volume farm shares a rare user agent."""
    root, _ = sample
    accounts = pq.read_table(root / "data/accounts.parquet").to_pylist()
    labels = _labels(root)
    harvester = [a for a in accounts if labels[a["account_id"]][1] == "reasoning_harvester"]
    assert 3 <= len({a["payment_fingerprint"] for a in harvester}) <= 4
    ua = np.array(requests.column("user_agent").to_pylist())
    rare = ua == "python-httpx/0.27.0 distill-runner/1.3"
    assert set(groups[rare]) == {"templated_lowvol"}
    lowvol_counts = Counter(requests.column("account_id").filter(pa.array(rare)).to_pylist())
    assert all(10 <= n <= 120 for n in lowvol_counts.values())
    temps = requests.column("temperature").to_numpy()[groups == "reasoning_harvester"]
    assert set(temps) == {0.0}
    prompts = requests.column("prompt").filter(pa.array(groups == "reasoning_harvester"))
    assert pc.any(pc.match_substring(prompts, "internal reasoning behind")).as_py()


def test_indicators_cover_some_campaigns_partially(
    sample: tuple[Path, SampleSummary], requests: pa.Table, groups: np.ndarray
) -> None:
    """Indicators point at the harvester and the hydra: the cards at the harvester alone, the
    hydra's first /24 mostly at the hydra (it is a residential-proxy range, which other
    renters and the lines' owners use too); nothing points at the low-volume farm's cards."""
    root, _ = sample
    with (root / "data/indicators.csv").open(newline="", encoding="utf-8") as fh:
        indicators = list(csv.DictReader(fh))
    accounts = pq.read_table(root / "data/accounts.parquet").to_pylist()
    labels = _labels(root)
    cards = {i["value"] for i in indicators if i["indicator_type"] == "payment_fingerprint"}
    carded = {labels[a["account_id"]][1] for a in accounts if a["payment_fingerprint"] in cards}
    assert carded == {"reasoning_harvester"}
    (cidr,) = (
        ipaddress.ip_network(i["value"]) for i in indicators if i["indicator_type"] == "cidr"
    )
    ips = requests.column("ip").to_pylist()
    hit = np.array([ipaddress.ip_address(ip) in cidr for ip in ips])
    assert hit.any() and (groups[hit] == "hydra_proxy").mean() > 0.5
    decoys = [i["value"] for i in indicators if i["indicator_type"] == "ip"]
    assert decoys and not set(decoys) & set(ips)
    assert {i["actor"] for i in indicators} >= {"ACTOR-A", "ACTOR-B"}


def test_small_chunks_give_several_identical_parts(tmp_path: Path) -> None:
    """A small chunk size splits the same rows over several parts of at most that size."""
    whole = generate_sample(tmp_path / "whole", seed=5, scale=0.05)
    split = generate_sample(tmp_path / "split", seed=5, scale=0.05, chunk_rows=1000)
    assert whole.request_parts == 1
    assert split.request_parts == -(-split.requests // 1000) >= 3
    parts = sorted((tmp_path / "split/data/requests").glob("*.parquet"))
    assert all(pq.read_metadata(p).num_rows <= 1000 for p in parts)
    assert _requests(tmp_path / "split").equals(_requests(tmp_path / "whole"))


def test_refuses_non_empty_out_dir_unless_forced(tmp_path: Path) -> None:
    """A non-empty output directory is refused, and replaced whole with force=True."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(SampleError, match="not empty") as caught:
        generate_sample(out, scale=0.05)
    assert isinstance(caught.value, ForensicsError)
    summary = generate_sample(out, scale=0.05, force=True)
    assert not (out / "keep.txt").exists()
    assert (out / "labels.csv").exists() and summary.requests > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 0}, "scale"),
        ({"seed": -1}, "seed"),
        ({"period_start": "July"}, "period_start"),
        ({"period_start": "2026-07-01", "period_end": "2026-07-05"}, "14 days"),
        ({"chunk_rows": 0}, "chunk_rows"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    """Invalid arguments raise SampleError before anything is written."""
    with pytest.raises(SampleError, match=message):
        generate_sample(tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("period", "start", "end"), [
    ("2026Q2", datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
    ("2026-05", datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)),
])
def test_sample_period_is_deterministic_and_bounded(tmp_path: Path, period: str,
                                                    start: datetime, end: datetime) -> None:
    """`forensics sample --period` (the run's period parser) writes the same bytes twice for
    one seed and period; every request and sign-up is before the period's end, every request
    and the new model's release inside it; the same seed keeps the populations' account ids."""
    from tests.conftest import run_cli

    for name in ("a", "b"):
        outcome = run_cli("sample", tmp_path / name, "--seed", "3", "--scale", "0.05",
                          "--period", period)
        assert outcome.exit_code == 0, outcome.stderr
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    ts = pc.min_max(_requests(tmp_path / "a").column("ts"))
    assert start <= ts["min"].as_py() and ts["max"].as_py() < end
    created = pc.max(pq.read_table(tmp_path / "a" / "data" / "accounts.parquet")
                     .column("created_at")).as_py()
    assert created < end
    releases = pq.read_table(tmp_path / "a" / "data" / "model_releases.parquet").to_pylist()
    assert start < max(r["released_at"] for r in releases) < end
    # The default period (2026Q3) with the same seed: other times, the same account ids.
    generate_sample(tmp_path / "q3", seed=3, scale=0.05)
    part = "data/requests/part-00000.parquet"
    assert _digests(tmp_path / "q3")[part] != _digests(tmp_path / "a")[part]
    assert _labels(tmp_path / "q3") == _labels(tmp_path / "a")


def test_sample_default_period_is_the_bundled_quarter(tmp_path: Path) -> None:
    """--period 2026Q3 writes exactly what no --period writes (the bundled sample's quarter)."""
    from tests.conftest import run_cli

    assert run_cli("sample", tmp_path / "given", "--seed", "3", "--scale", "0.05",
                   "--period", "2026Q3").exit_code == 0
    generate_sample(tmp_path / "default", seed=3, scale=0.05)
    assert _digests(tmp_path / "given") == _digests(tmp_path / "default")


@pytest.mark.parametrize(("period", "message"), [
    ("2026Q1", "before atlas-3.5 was released (2026-02-24 16:00 UTC)"),
    ("2026-13", "period '2026-13': month must be 01–12"),
    ("2026Q5", "expected a quarter like 2026Q3 or a month like 2026-08"),
    ("2100Q1", "the period must end by 2100-01-01"),
])
def test_sample_period_refusals(tmp_path: Path, period: str, message: str) -> None:
    """A period the run cannot read, or one the sample's models or the run's value rules do
    not allow, is refused with exit 2 and nothing written."""
    from tests.conftest import run_cli

    out = tmp_path / "out"
    outcome = run_cli("sample", out, "--scale", "0.05", "--period", period)
    assert outcome.exit_code == 2, outcome.stderr
    assert outcome.stderr.startswith("Error: ") and message in outcome.stderr
    assert not out.exists()


def _context_sentences() -> list[str]:
    sentences = Text.load().common["context_sentences"]
    assert isinstance(sentences, list)
    return [str(s) for s in sentences]


def test_context_sentences_are_inert_for_the_detectors() -> None:
    """No pasted-context sentence, pair of sentences or cut sentence matches a lexicon phrase.

    Matched as the features stage matches: every entry of both lexicons in one
    case-insensitive RE2 alternation run by DuckDB (features.build_features). The stage scans
    the first 4,000 and the last 1,000 characters of a long prompt, so a scan can also start
    or end inside a word: every cut of a sentence next to its neighbours in the cycle is
    checked as well, each cut edge beside a newline as the scan puts it.
    """
    sentences = _context_sentences()
    assert 80 <= len(sentences) <= 120
    assert len(set(sentences)) == len(sentences)
    assert all(60 <= len(s) <= 160 and s == s.strip() and "\n" not in s for s in sentences)
    banned = re.compile(
        r"\d|https?:|www\.|\.(com|org|net)\b|@|rubric|score|grade|step by step|reasoning|think",
        re.IGNORECASE,
    )
    assert [s for s in sentences if banned.search(s)] == []
    texts = sentences + [f"{a} {b}" for a in sentences for b in sentences]
    n = len(sentences)
    for i, s in enumerate(sentences):
        before, after = sentences[i - 1], sentences[(i + 1) % n]
        for cut in range(1, len(s)):
            texts += [f"{before} {s[:cut]}\n", f"\n{s[cut:]} {after}"]
    entries = read_lexicons(resources.lexicons_dir())
    pattern = "(?i)(?:" + "|".join(e.pattern() for e in entries) + ")"
    with duckdb.connect() as con:
        hits = con.execute(
            "SELECT t, regexp_extract(t, $p) FROM unnest($texts) AS u(t) "
            "WHERE regexp_matches(t, $p) LIMIT 20",
            {"p": pattern, "texts": texts},
        ).fetchall()
    assert hits == []


def test_long_prompts_append_context_after_the_head(tmp_path: Path) -> None:
    """long_prompts lengthens prompts of 240+ characters only, after their first 240, and
    changes no other column (token counts included); same seed, same bytes."""
    short = generate_sample(tmp_path / "short", seed=3, scale=0.05)
    long = generate_sample(tmp_path / "long", seed=3, scale=0.05, long_prompts=True)
    generate_sample(tmp_path / "again", seed=3, scale=0.05, long_prompts=True)
    assert _digests(tmp_path / "long") == _digests(tmp_path / "again")
    assert long.requests == short.requests
    a = _requests(tmp_path / "short").sort_by("request_id")
    b = _requests(tmp_path / "long").sort_by("request_id")
    assert a.column("request_id").equals(b.column("request_id"))
    for name in a.column_names:
        if name != "prompt":
            assert a.column(name).equals(b.column(name)), name
    before = a.column("prompt").to_pylist()
    after = b.column("prompt").to_pylist()
    blocks = []
    for old, new in zip(before, after, strict=True):
        assert new[:240] == old[:240]
        if len(old) < 240:
            assert new == old
        else:
            assert new.startswith(old + "\n\n")
            blocks.append(len(new) - len(old) - 2)
    assert blocks and min(blocks) >= 300 and max(blocks) <= 6000
    assert 1000 < float(np.median(blocks)) < 2200
    old_len = np.array([len(p) for p in before])
    new_len = np.array([len(p) for p in after])
    assert new_len.mean() > 2 * old_len.mean()
    assert new_len.max() <= old_len.max() + 6000 + 2
    # Within an hour (generation windows are whole hours), prompts of equal length stay equal
    # and different lengths stay different: distinct-length counts (rl_group_grading) hold.
    hours = a.column("ts").cast(pa.int64()).to_numpy() // 3_600_000_000
    pairs = set(zip(hours.tolist(), old_len.tolist(), new_len.tolist(), strict=True))
    assert len(pairs) == len({(h, o) for h, o, _ in pairs}) == len({(h, n) for h, _, n in pairs})
