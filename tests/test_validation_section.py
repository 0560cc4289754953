"""The Method validation section: its data files, their loader, the section and the measured
precision the dossier cites wherever it states a confidence level."""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from forensics import api, resources
from forensics.config import RunConfig
from forensics.evidence import LIKELIHOOD
from forensics.linking import LinkingParams
from forensics.report.public import html_text, pdf_text
from forensics.report.render import environment
from forensics.report.validation import MATERIAL_BOUND, Validation, build, validation_section
from forensics.validation import (
    BENCHMARK,
    SOURCES,
    Rate,
    ValidationDataError,
    load_benchmark,
    load_sources,
)
from tests.dossier_data import build_case

FIXTURE = Path(__file__).parent / "validation_benchmark.json"
PARTIAL = "partials/validation.html.j2"
# The sources of error the section must cover (issue #20, item 5), by id in the YAML.
REQUIRED_SOURCES = (
    "shared_networks", "signup_waves", "shared_cards", "popular_clients_and_mail",
    "common_prompts", "public_benchmarks_and_evaluators", "resellers_and_proxies",
    "agent_and_ide_products", "tutoring_apps", "nightly_batch_jobs",
    "no_shared_infrastructure", "rotating_proxies_and_keys", "synthetic_validation_data")


def _fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _render(v: Validation) -> str:
    """The section's partial alone, rendered by the dossier's own jinja environment."""
    env = environment(resources.templates_dir())
    return env.get_template(PARTIAL).render(d=SimpleNamespace(validation=v))


def _text(html: str) -> str:
    """The visible text of HTML, entities for the characters the templates use decoded."""
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&#34;", '"'),
                         ("&#39;", "'"), ("&quot;", '"')):
        text = text.replace(entity, char)
    return " ".join(text.split())


def _percent(share: float, digits: int, rounding: Callable[[float], float]) -> str:
    scale = 10 ** digits
    return f"{rounding(round(share * 100 * scale, 6)) / scale:.{digits}f}"


def _shown(rate: dict[str, Any]) -> tuple[str, str]:
    """A JSON rate as the dossier must show it, computed here from the JSON's own numbers:
    k/n to the decimals shown (not the JSON's value, already rounded to four places: rounding
    it again could move the last digit), the interval rounded outwards."""
    digits = 2 if rate["high"] < 0.05 else 1
    assert abs(rate["value"] - rate["k"] / rate["n"]) < 1e-4
    value = f"{rate['k'] / rate['n'] * 100:.{digits}f} %"
    interval = (f"{_percent(rate['low'], digits, math.floor)}–"
                f"{_percent(rate['high'], digits, math.ceil)} %")
    return value, interval


@pytest.fixture(scope="module")
def fixture_section() -> Validation:
    """The section built from the hand-made benchmark JSON at default thresholds."""
    return build(load_benchmark(FIXTURE), load_sources(), LinkingParams())


# -- the data files and the loader ------------------------------------------------------------


def test_packaged_sources_of_error_cover_the_required_sources() -> None:
    """The packaged YAML loads, and covers every source of error the issue lists."""
    sources = load_sources()
    ids = [s.id for s in sources]
    for required in REQUIRED_SOURCES:
        assert required in ids, required
    for s in sources:
        assert s.title and s.cause and s.mitigation and s.residual


def test_packaged_benchmark_loads_when_present() -> None:
    """The committed benchmark.json, once there, passes every check of the loader."""
    path = resources.validation_file(BENCHMARK)
    if not path.is_file():
        assert load_benchmark() is None
        pytest.skip("no packaged benchmark.json yet")
    bench = load_benchmark()
    assert bench is not None and bench.runs


def test_fixture_loads_into_frozen_figures() -> None:
    """The hand-made benchmark JSON loads with every pooled figure as written."""
    bench = load_benchmark(FIXTURE)
    doc = _fixture()["pooled"]
    assert bench is not None
    assert (bench.precision.k, bench.precision.n) == (doc["precision"]["k"],
                                                       doc["precision"]["n"])
    assert bench.precision.low == doc["precision"]["low"]
    assert [g for g, _ in bench.recall_by_campaign] == sorted(doc["recall_by_campaign"])
    assert len(bench.populations) == len(doc["populations"])
    with pytest.raises(AttributeError):
        bench.precision.k = 0  # type: ignore[misc]


def _drop(doc: dict[str, Any], *keys: str) -> None:
    for key in keys[:-1]:
        doc = doc[key]
    del doc[keys[-1]]


def _set(doc: dict[str, Any], value: Any, *keys: str | int) -> None:
    target: Any = doc
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


@pytest.mark.parametrize(("change", "key"), [
    (lambda d: _drop(d, "pooled", "precision", "low"), "pooled.precision.low"),
    (lambda d: _set(d, "high", "pooled", "recall", "value"), "pooled.recall.value"),
    (lambda d: _set(d, 300, "pooled", "recall", "k"), "pooled.recall.k"),
    (lambda d: _set(d, 0.9, "pooled", "precision", "low"), "pooled.precision"),
    (lambda d: _set(d, 0.5, "pooled", "precision_by_confidence", "high", "value"),
     "pooled.precision_by_confidence.high.value"),
    (lambda d: _set(d, {"value": 1.0, "low": 0.9, "high": 1.0, "k": 3, "n": 3}, "pooled",
                    "precision_by_confidence", "certain"),
     "pooled.precision_by_confidence.certain"),
    (lambda d: _drop(d, "pooled", "populations", 0, "rate"), "pooled.populations[0].rate"),
    (lambda d: _set(d, 2, "schema"), "schema"),
    (lambda d: _set(d, [], "runs"), "runs"),
    (lambda d: _set(d, 99, "pooled", "runs"), "pooled.runs"),
])
def test_malformed_benchmark_names_file_and_key(
        tmp_path: Path, change: Callable[[dict[str, Any]], None], key: str) -> None:
    """A benchmark JSON with a missing, mistyped or inconsistent figure is refused with an
    error naming the file and the key."""
    doc = copy.deepcopy(_fixture())
    change(doc)
    path = _write_json(tmp_path / "benchmark.json", doc)
    with pytest.raises(ValidationDataError) as info:
        load_benchmark(path)
    message = str(info.value)
    assert str(path) in message
    assert f"key {key!r}" in message, message


def test_benchmark_that_is_not_json_is_refused(tmp_path: Path) -> None:
    """A benchmark file that is not JSON, not UTF-8, or missing when named, is a clear error
    (the sources file shares the reading)."""
    path = tmp_path / "benchmark.json"
    path.write_text('{"schema": 1,', encoding="utf-8")
    with pytest.raises(ValidationDataError, match="not valid JSON"):
        load_benchmark(path)
    path.write_bytes(b'{"schema": "\xff"}')
    with pytest.raises(ValidationDataError, match="not UTF-8"):
        load_benchmark(path)
    with pytest.raises(ValidationDataError, match="not UTF-8"):
        load_sources(path)
    with pytest.raises(ValidationDataError, match="file not found"):
        load_benchmark(tmp_path / "absent.json")


def _sources_doc() -> dict[str, Any]:
    return yaml.safe_load(resources.validation_file(SOURCES).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "key"), [
    (lambda d: d["sources"][0].pop("residual"), "sources[0] (shared_networks).residual"),
    (lambda d: d["sources"][1].update(remedy="x"), "sources[1] (signup_waves).remedy"),
    (lambda d: d["sources"][2].update(error="sometimes"), "sources[2] (shared_cards).error"),
    (lambda d: d["sources"][3].update(id=d["sources"][0]["id"]),
     "sources[3] (shared_networks).id"),
    (lambda d: d["sources"][4].update(title=""), "sources[4] (common_prompts).title"),
    (lambda d: d.update(extra=[]), "extra"),
    (lambda d: d.update(sources={}), "sources"),
])
def test_malformed_sources_name_file_and_key(
        tmp_path: Path, change: Callable[[dict[str, Any]], None], key: str) -> None:
    """A sources-of-error YAML with a missing, unknown, duplicate or invalid entry is refused
    with an error naming the file and the key."""
    doc = _sources_doc()
    change(doc)
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationDataError) as info:
        load_sources(path)
    assert str(path) in str(info.value)
    assert f"key {key!r}" in str(info.value), str(info.value)


def test_sources_that_are_not_yaml_are_refused(tmp_path: Path) -> None:
    """A sources file that is not YAML is a clear error naming the file."""
    path = tmp_path / "sources.yaml"
    path.write_text("sources: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(ValidationDataError, match="not valid YAML") as info:
        load_sources(path)
    assert str(path) in str(info.value)


# -- the section -------------------------------------------------------------------------------


def test_section_shows_the_json_figures(fixture_section: Validation) -> None:
    """Every pooled figure, per-campaign recall and population rate of the JSON is in the
    section, with its interval and counts, as the JSON gives them."""
    text = _text(_render(fixture_section))
    pooled = _fixture()["pooled"]
    rates = [pooled["precision"], pooled["recall"], pooled["false_positive_rate"],
             *pooled["precision_by_confidence"].values(),
             *pooled["recall_by_campaign"].values()]
    for rate in rates:
        value, interval = _shown(rate)
        assert f"{value} {interval} {rate['k']:,} of {rate['n']:,}" in text, (value, interval)
    for p in pooled["populations"]:
        value, interval = _shown(p["rate"])
        assert f"{p['group']} " in text
        assert f"{p['accounts']:,} {p['flagged']:,} {value} {interval}" in text
    assert f"{pooled['adjusted_rand_index']['mean']:.3f} mean" in text
    assert f"lowest sample {pooled['adjusted_rand_index']['min']:.3f}" in text
    assert f"{pooled['requests']:,} requests from {pooled['accounts']:,} accounts" in text
    assert f"{len(_fixture()['runs'])} synthetic samples" in text
    assert "seeds 1, 2 and 3 at scale 0.3 and seed 5 at scale 1" in text


def test_section_says_the_data_is_synthetic(fixture_section: Validation) -> None:
    """The section says plainly that the figures come from synthetic data, not real
    traffic, and names the generator and the interval method."""
    text = _text(_render(fixture_section))
    assert "These figures come from synthetic data, not from real API traffic" in text
    assert "forensics sample" in text
    assert "95 % Wilson score intervals" in text
    assert "error rates on real logs have not been measured" in text


def test_sources_table_has_every_yaml_entry(fixture_section: Validation) -> None:
    """The sources-of-error table has one row per YAML entry, with all its text."""
    html = _render(fixture_section)
    text = _text(html)
    sources = load_sources()
    rows = re.findall(r'<tr id="error-([a-z0-9_]+)">', html)
    assert rows == [s.id for s in sources]
    for s in sources:
        for value in (s.title, s.cause, s.mitigation, s.residual):
            assert value in text, value


def test_yaml_text_is_escaped(tmp_path: Path) -> None:
    """Text from the YAML reaches the page escaped, like every other value."""
    doc = _sources_doc()
    doc["sources"][0]["title"] = "<script>alert(1)</script> networks"
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    html = _render(build(None, load_sources(path), LinkingParams()))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; networks" in html


def test_missing_benchmark_says_no_figures_are_available() -> None:
    """Without a benchmark the section, the methodology's levels and the key judgments say
    that no validation figures are available, and show no figure."""
    v = build(None, load_sources(), LinkingParams())
    text = _text(_render(v))
    assert "No validation figures are available for this version" in text
    assert "%" not in text.split("Known sources of error")[0].replace("95 %", "")
    assert "Measured error rates" not in text
    assert [j.text for j in v.judgments(["high"])] == [v.unavailable]
    assert v.precision_at("high").startswith("The precision of high confidence has not been "
                                             "measured: no validation figures are available")


def test_each_confidence_level_cites_its_measured_precision(
        fixture_section: Validation) -> None:
    """The measured precision of a confidence level is stated with its interval in the
    sentence the dossier shows beside that level."""
    high = _fixture()["pooled"]["precision_by_confidence"]["high"]
    value, interval = _shown(high)
    sentence = fixture_section.precision_at("high")
    assert sentence == (f"On this version's validation benchmark (synthetic data), {value} of "
                        f"accounts flagged at high confidence were campaign accounts "
                        f"({high['k']} of {high['n']}; 95 % CI {interval}).")
    assert fixture_section.precision_at("low") == ""


def test_material_false_positive_rate_is_a_key_judgment(fixture_section: Validation) -> None:
    """A level whose precision's lower bound is below 0.90 gets a plain caveat in the key
    judgments; a level above it does not, and no such sentence names a likelihood term."""
    by_level = _fixture()["pooled"]["precision_by_confidence"]
    assert by_level["moderate"]["low"] < MATERIAL_BOUND <= by_level["high"]["low"]
    moderate = [j.text for j in fixture_section.judgments(["moderate", "moderate"])]
    assert len(moderate) == 2
    assert "material false-positive rate at moderate confidence" in moderate[1]
    assert "corroborated before action" in moderate[1]
    assert "does not rule out a material" in moderate[1]  # 90.3 %, CI from 75.1 %
    high = [j.text for j in fixture_section.judgments(["high"])]
    assert len(high) == 1 and "material" not in high[0]
    terms = [term for _, term in LIKELIHOOD]
    for text in moderate + high:
        for sentence in re.split(r"(?<=[.:;])\s", text):
            if "confidence" in sentence:
                assert not any(re.search(rf"\b{t}\b", sentence) for t in terms), sentence


def test_precision_below_the_bound_is_said_to_show_a_material_rate(tmp_path: Path) -> None:
    """A level whose measured precision itself is below 0.90 is said to show a material
    false-positive rate, not merely not to rule one out."""
    doc = _fixture()
    doc["pooled"]["precision_by_confidence"]["high"] = {
        "value": 0.5125, "low": 0.4779, "high": 0.547, "k": 410, "n": 800}
    bench = load_benchmark(_write_json(tmp_path / "benchmark.json", doc))
    v = build(bench, load_sources(), LinkingParams())
    texts = [j.text for j in v.judgments(["high"])]
    assert texts[0].endswith("51.2 % of accounts flagged at high confidence were campaign "
                             "accounts (410 of 800; 95 % CI 47.7–54.7 %).")
    assert texts[1].startswith("The benchmark shows a material false-positive rate at high "
                               "confidence")


def test_negative_result_cites_the_measured_recall(fixture_section: Validation) -> None:
    """A dossier without findings cites the benchmark's recall instead of a precision."""
    recall = _fixture()["pooled"]["recall"]
    value, interval = _shown(recall)
    (judgment,) = fixture_section.judgments([])
    assert f"flagged {value} of the planted campaign accounts" in judgment.text
    assert f"95 % CI {interval}" in judgment.text


def test_other_thresholds_are_said_to_differ() -> None:
    """A run whose thresholds differ from the benchmark's says the figures describe the
    benchmark's thresholds, in the section and in every precision sentence."""
    v = build(load_benchmark(FIXTURE), load_sources(), LinkingParams(flag_threshold=0.6))
    text = _text(_render(v))
    assert "This run's thresholds differ from the benchmark's (flag_threshold 0.6 here, 0.5 " \
           "in the benchmark)" in text
    assert "other thresholds than this run's" in v.precision_at("high")


# -- the whole dossier -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small planted case's data folder."""
    return build_case(tmp_path_factory.mktemp("validation-case"))


def _run_with_benchmark(data: Path, out: Path, benchmark: Path) -> Path:
    """One run whose packaged benchmark.json is `benchmark` (which may not exist)."""
    real = resources.validation_file
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(resources, "validation_file",
                   lambda name: benchmark if name == BENCHMARK else real(name))
        api.run(RunConfig(data_dir=data, out_dir=out))
    return out


@pytest.fixture(scope="module")
def with_figures(small_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A run of the small case with the hand-made benchmark packaged."""
    yield _run_with_benchmark(small_case, tmp_path_factory.mktemp("figures") / "out", FIXTURE)


def test_dossier_has_the_section_with_the_json_figures(with_figures: Path) -> None:
    """The dossier has the Method validation section with the JSON's pooled figures (PDF
    and HTML), and its key judgments cite the precision of the level they use."""
    pdf = " ".join(pdf_text(with_figures / "dossier.pdf").split())
    assert "Method validation" in pdf
    assert "Known sources of error" in pdf
    html = (with_figures / "dossier.html").read_text(encoding="utf-8")
    # pypdf reads this font's en dash wrongly: the intervals are checked in the HTML.
    text = " ".join(html_text(html).split())
    pooled = _fixture()["pooled"]
    for rate in (pooled["precision"], pooled["recall"], pooled["false_positive_rate"]):
        value, interval = _shown(rate)
        assert value in pdf
        assert f"{value} {interval} {rate['k']:,} of {rate['n']:,}" in text
    block = re.search(r'<ol class="judgments">(.*?)</ol>', html, re.DOTALL)
    assert block is not None
    assert "On this version&#39;s validation benchmark (synthetic data)" in block.group(1)


def test_dossier_without_a_benchmark_says_so(small_case: Path, tmp_path: Path) -> None:
    """With no packaged benchmark.json the dossier still has the section, says plainly that
    no validation figures are available, and claims none."""
    out = _run_with_benchmark(small_case, tmp_path / "out", tmp_path / "absent.json")
    text = " ".join(pdf_text(out / "dossier.pdf").split())
    assert "Method validation" in text
    assert "No validation figures are available for this version" in text
    assert "Known sources of error" in text
    assert "validation benchmark (synthetic data)" not in text


def test_likelihood_is_held_to_the_measured_precision(fixture_section: Validation) -> None:
    """A finding's likelihood term is lowered to the term of its confidence level's measured
    precision (lower 95 % bound) when the score alone would claim more, and left alone for a
    level the benchmark does not measure or when no benchmark is packaged."""
    terms = [t for _, t in LIKELIHOOD]
    weak = Validation(**{**fixture_section.__dict__,
                         "precision": (("high", Rate(2044, 8746, 0.2337, 0.225, 0.2427)),)})
    assert weak.likelihood("almost certain", "high") == ("unlikely", True)
    assert weak.likelihood("very unlikely", "high") == ("very unlikely", False)
    assert weak.likelihood("almost certain", "moderate") == ("almost certain", False)
    for level, rate in fixture_section.precision:
        low = rate.low
        assert low is not None
        term, lowered = fixture_section.likelihood("almost certain", level)
        assert lowered == (terms.index(term) < terms.index("almost certain"))
        assert term == next(t for bound, t in LIKELIHOOD if low < bound)
    none = build(None, load_sources(), LinkingParams())
    assert none.likelihood("almost certain", "high") == ("almost certain", False)


def test_dossier_states_no_likelihood_above_the_measured_precision(
        small_case: Path, tmp_path: Path) -> None:
    """With the packaged benchmark, no sentence of the dossier pairs a likelihood term with a
    confidence level (ICD-203), and no likelihood term stated for a flagged cluster is above
    the term of its level's measured precision (lower 95 % bound)."""
    out = _run_with_benchmark(small_case, tmp_path / "out", resources.validation_file(BENCHMARK))
    section = validation_section(LinkingParams())
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    levels = {c["confidence"] for c in findings["clusters"] if c["flagged"]}
    assert levels, "the small case should flag a cluster"
    html = (out / "dossier.html").read_text(encoding="utf-8")
    # One block (paragraph, list item, heading, cell) at a time, then sentence by sentence.
    blocks = re.split(r"</(?:p|li|h[1-6]|td|th|caption|figcaption)>", html)
    sentences = [s for block in blocks
                 for s in re.split(r"(?<=[.;:])\s+", " ".join(html_text(block).split()))]
    terms = [t for _, t in LIKELIHOOD]
    stated = set()
    for sentence in sentences:
        said = [t for t in terms if re.search(rf"\b(is|a|an) {t}\b", sentence)]
        if said:
            assert not re.search(r"\b(high|moderate|low) confidence\b", sentence), sentence
            stated.update(said)
    for level in levels:
        cap = section.likelihood("almost certain", level)[0]
        assert all(terms.index(t) <= terms.index(cap) for t in stated
                   if t not in ("roughly even chance",)), (level, cap, stated)
