"""The dossier: sections, exhibits, attachments, bookmarks, determinism, public profile."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from forensics import api, manifest
from forensics.cli import main
from forensics.config import CaseConfig, CaseSection, ReportSection, RunConfig
from forensics.errors import ConfigError, LeakError
from forensics.evidence import LIKELIHOOD
from forensics.report.public import IdentifierIndex, check_leaks, folder_texts, pdf_text
from tests.dossier_data import START, build_case

SECTIONS = ("Contents", "Key judgments", "Scope and data", "Findings", "Charts", "Methodology",
            "Method validation", "Limitations and alternative hypotheses",
            "Glossary and the ICD-203 scales", "Appendix", "A. Exhibit inventory",
            "B. Heuristic catalogue", "C. Reproducibility", "D. Sources")
KEY = "case-key-for-tests"


def _sample(root: Path) -> Path:
    """The project's sample generator at scale 0.1 when it exists, else the test case."""
    try:
        from forensics.sample import generate_sample
    except ImportError:
        return build_case(root)
    generate_sample(root, seed=7, scale=0.1)
    return root / "data"


def _run(data: Path, out: Path, **options: Any) -> api.RunResult:
    return api.run(RunConfig(data_dir=data, out_dir=out, **options))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One whole-pipeline run on the sample data: its output folder."""
    root = tmp_path_factory.mktemp("sample")
    out = root / "out"
    _run(_sample(root / "input"), out)
    yield out


@pytest.fixture(scope="module")
def sample_text(sample: Path) -> str:
    """All text of the sample dossier's PDF."""
    return pdf_text(sample / "dossier.pdf")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small planted case (one campaign, ordinary users): its data folder."""
    return build_case(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def twice(small: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two runs of the same inputs and options into different folders."""
    root = tmp_path_factory.mktemp("twice")
    _run(small, root / "first")
    _run(small, root / "second")
    return root / "first", root / "second"


@pytest.fixture(scope="module")
def public(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A public-profile run of the small case, with an internal run of the same accounts
    six weeks earlier (a previous period) as baseline."""
    root = tmp_path_factory.mktemp("public")
    earlier = build_case(root / "earlier", start=START - timedelta(weeks=6))
    _run(earlier, root / "baseline", formats=frozenset({"json"}))
    out = root / "out"
    _run(small, out, profile="public", case=CaseConfig(case=CaseSection(hmac_key=KEY)),
         baseline_dir=root / "baseline")
    return out


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _checksums(out: Path) -> dict[str, str]:
    lines = (out / "manifest.sha256").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def test_dossier_and_exhibits_are_written_and_checksummed(sample: Path) -> None:
    """The run writes dossier.pdf, dossier.html and exhibits, all in the manifest and its
    checksums."""
    outputs = {o["path"]: o for o in _manifest(sample)["outputs"]}
    sums = _checksums(sample)
    exhibits = sorted(p.relative_to(sample).as_posix() for p in (sample / "exhibits").iterdir())
    assert exhibits, "no exhibit written"
    for name in ["dossier.pdf", "dossier.html", *exhibits]:
        digest = hashlib.sha256((sample / name).read_bytes()).hexdigest()
        assert outputs[name]["sha256"] == digest
        assert sums[name] == digest


def test_pdf_shows_every_section_cluster_and_exhibit(sample: Path, sample_text: str) -> None:
    """Every section heading, each described flagged cluster and every exhibit id is in the
    PDF's text."""
    for heading in SECTIONS:
        assert heading in sample_text, heading
    findings = json.loads((sample / "findings.json").read_text(encoding="utf-8"))
    flagged = [c["cluster_id"] for c in findings["clusters"] if c["flagged"]]
    for cid in flagged[:CaseConfig().report.max_clusters]:
        assert f"Cluster {cid}" in sample_text
    exhibits = sorted(p.name for p in (sample / "exhibits").iterdir())
    for name in exhibits:
        assert name[:6] in sample_text
    assert "CONFIDENTIAL – INTERNAL" in sample_text


def test_every_page_has_marking_and_page_x_of_y(sample: Path) -> None:
    """Each page carries the handling marking and 'Page X of Y'."""
    reader = PdfReader(str(sample / "dossier.pdf"))
    total = len(reader.pages)
    assert 5 < total < 400
    for i, page in enumerate(reader.pages, start=1):
        text = (page.extract_text() or "").replace("\x00", "")  # see public.pdf_text
        assert f"Page {i} of {total}" in text
        assert "CONFIDENTIAL – INTERNAL" in text


def test_bookmarks_follow_the_sections(sample: Path) -> None:
    """The PDF outline has the main sections, and clusters nested under Findings."""
    reader = PdfReader(str(sample / "dossier.pdf"))
    titles: list[str] = []
    nested: list[str] = []
    for item in reader.outline:
        if isinstance(item, list):
            nested += [x.title for x in item if not isinstance(x, list)]
        else:
            titles.append(item.title)
    for heading in ("Key judgments", "Scope and data", "Findings", "Methodology", "Appendix"):
        assert heading in titles
    assert any(t.startswith("Cluster C-") for t in nested)
    assert "C. Reproducibility" in nested
    assert "D. Sources" in nested


def test_attachments_match_the_exhibits_and_manifest(sample: Path) -> None:
    """Every CSV exhibit is embedded in the PDF with the bytes (and hash) the manifest lists;
    its Parquet copy is not embedded, but listed in the manifest and bound by the inventory.
    The heuristics' SQL is embedded too (heuristics.sql, with the functions they call first),
    its hash printed in Appendix B."""
    reader = PdfReader(str(sample / "dossier.pdf"))
    attached = {name: blobs[0] for name, blobs in reader.attachments.items()}
    outputs = {o["path"]: o["sha256"] for o in _manifest(sample)["outputs"]}
    sql = attached.pop("heuristics.sql")
    assert sql == (sample / "heuristics.sql").read_bytes()
    assert hashlib.sha256(sql).hexdigest() == outputs["heuristics.sql"]
    assert b"-- ==== shared_payment_fingerprint (file sha256 " in sql
    assert sql.startswith(b"-- ==== functions the heuristics call: features/05_functions.sql ")
    assert b"CREATE OR REPLACE MACRO fired_score(a, b)" in sql
    on_disk = sorted(p.name for p in (sample / "exhibits").glob("*.csv"))
    assert sorted(attached) == on_disk
    copies = sorted(p.name for p in (sample / "exhibits").glob("*.parquet"))
    assert copies == [name.removesuffix(".csv") + ".parquet" for name in on_disk]
    text = pdf_text(sample / "dossier.pdf").replace("\n", "").replace(" ", "")
    for name in copies:
        assert outputs[f"exhibits/{name}"] in text
    assert outputs["heuristics.sql"] in text
    for name, data in attached.items():
        assert hashlib.sha256(data).hexdigest() == outputs[f"exhibits/{name}"]


def test_exhibits_too_large_to_embed_stay_beside_the_pdf(
        small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exhibit over the embedding cap is not attached, but the inventory names it with its
    size and hash, so the PDF still binds it; the smaller ones are still attached."""
    from forensics.report import exhibits

    # A cap between the smallest and the largest exhibit of this case (read from a first run).
    first = tmp_path / "first"
    _run(small, first)
    cap = sorted(p.stat().st_size for p in (first / "exhibits").glob("*.csv"))[0]
    monkeypatch.setattr(exhibits, "ATTACH_MAX_BYTES", cap)
    out = tmp_path / "out"
    _run(small, out)
    sizes = {p.name: p.stat().st_size for p in (out / "exhibits").glob("*.csv")}
    big = sorted(name for name, size in sizes.items() if size > cap)
    assert big and len(big) < len(sizes)
    attached = set(PdfReader(str(out / "dossier.pdf")).attachments) - {"heuristics.sql"}
    assert attached == {name for name, size in sizes.items() if size <= cap}
    text = " ".join(pdf_text(out / "dossier.pdf").split())
    outputs = {o["path"]: o["sha256"] for o in _manifest(out)["outputs"]}
    for name in big:
        # Long paths and hashes wrap: compare without the spaces line breaks leave.
        assert name in text.replace(" ", "")
        assert outputs[f"exhibits/{name}"] in text.replace(" ", "")
    assert "beside this PDF only (too large to embed)" in text


def test_key_judgments_cite_exhibits_and_keep_icd203_terms_apart(sample: Path) -> None:
    """Each key judgment cites an exhibit; no sentence mixes confidence and likelihood."""
    html = (sample / "dossier.html").read_text(encoding="utf-8")
    block = re.search(r'<ol class="judgments">(.*?)</ol>', html, re.DOTALL)
    assert block is not None
    items = re.findall(r"<li>(.*?)</li>", block.group(1), re.DOTALL)
    assert items
    assert any("#ex-EX-" in item for item in items)
    terms = [term for _, term in LIKELIHOOD]
    for item in items:
        text = re.sub(r"<[^>]+>", "", item)
        for sentence in re.split(r"(?<=[.:;])\s", text):
            if "confidence" in sentence:
                assert not any(re.search(rf"\b{t}\b", sentence) for t in terms), sentence


def test_html_loads_nothing(sample: Path) -> None:
    """dossier.html stands alone: no script, no linked stylesheet, no external source."""
    html = (sample / "dossier.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"""\s(src|href)\s*=\s*["']?(https?:|file:|//)""", html)


def test_two_runs_give_identical_bytes(twice: tuple[Path, Path]) -> None:
    """Same inputs and options give the same SHA-256 for every checksummed output."""
    first, second = twice
    sums = _checksums(first)
    assert "dossier.pdf" in sums and "dossier.html" in sums
    assert any(name.startswith("exhibits/") for name in sums)
    assert sums == _checksums(second)


def test_pdf_dates_come_from_the_data(twice: tuple[Path, Path]) -> None:
    """The PDF's creation date is the last request's time, not the clock."""
    reader = PdfReader(str(twice[0] / "dossier.pdf"))
    inputs = _manifest(twice[0])["inputs"]["tables"]["requests"]
    last = inputs["last_ts"][:19].replace("-", "").replace(":", "").replace("T", "")
    assert reader.metadata is not None
    assert str(reader.metadata["/CreationDate"]).startswith(f"D:{last[:12]}")


def test_public_profile_pseudonymises_every_identifier(small: Path, public: Path,
                                                      twice: tuple[Path, Path]) -> None:
    """The public dossier, HTML and exhibits show no raw account id, payment fingerprint,
    IP or user agent, only keyed pseudonyms; the public findings name clusters by the same
    pseudonyms as the dossier."""
    text = pdf_text(public / "dossier.pdf") + (public / "dossier.html").read_text("utf-8")
    for path in (public / "exhibits").glob("*.csv"):
        text += path.read_text(encoding="utf-8")
        copy = pq.read_table(path.with_suffix(".parquet"))  # the same cells, unescaped
        text += "\n".join(str(v) for column in copy.columns for v in column.to_pylist())
    for raw in ("acct-harvest-03", "pf-7f3a9c51e2", "198.51.100.20", "python-httpx/0.27.0",
                "mirrorpeak-ai.example", "as if you were working it out"):
        assert raw not in text, raw
    internal = json.loads((twice[0] / "findings.json").read_text(encoding="utf-8"))
    for cluster in internal["clusters"]:
        assert cluster["cluster_id"] not in text  # an md5 of a member id
    findings = json.loads((public / "findings.json").read_text(encoding="utf-8"))
    flagged = [c for c in findings["clusters"] if c["flagged"]]
    assert flagged
    for cluster in flagged:
        assert f"Cluster {cluster['cluster_id']}" in text
    assert re.search(r"acct-[0-9a-f]{10}", text)
    assert re.search(r"Cluster C-[0-9a-f]{10}", text)
    assert "Public profile" in text


def test_a_public_folder_holds_no_raw_identifier_and_no_local_path(small: Path,
                                                                     public: Path) -> None:
    """Every file of a public run's folder, findings, signals and manifest included, holds
    pseudonyms only: no raw account, request, payment or network id of the inputs, and
    neither the data folder's nor the baseline's path."""
    raw = ["acct-harvest-03", "req-h02-0007", "pf-7f3a9c51e2", "198.51.100.20",
           "mirrorpeak-ai.example", str(small.resolve()), str(small)]
    files = dict(folder_texts(public))
    assert {"findings.json", "findings.parquet", "signals.parquet", "manifest.json",
            "dossier.pdf", "diagnostics/timings.json"} <= set(files)
    for name, text in files.items():
        for value in raw:
            assert value not in text, (name, value)
    doc = _manifest(public)
    assert doc["command_line"] == doc["inputs"]["data_dir"] == manifest.WITHHELD
    accounts = pq.read_table(public / "findings.parquet").column("account_id").to_pylist()
    assert accounts and all(re.fullmatch(r"acct-[0-9a-f]{10}", a) for a in accounts)
    evidence = pq.read_table(public / "signals.parquet").column("evidence").to_pylist()
    assert all(re.fullmatch(r"req-[0-9a-f]{10}", e) for row in evidence for e in row)


def test_the_leak_check_reads_every_file_of_a_folder(tmp_path: Path) -> None:
    """A raw identifier in a Parquet cell, a list cell or a JSON file is found and named;
    a file the dossier check already read is skipped when told."""
    index = IdentifierIndex()
    index.add("account", "acct-harvest-03")
    folder = tmp_path / "out"
    (folder / "diagnostics").mkdir(parents=True)
    pq.write_table(pa.table({"ids": [["x", "acct-harvest-03"]]}), folder / "signals.parquet")
    (folder / "diagnostics" / "timings.json").write_text('{"a": "ACCT-HARVEST-03"}')
    (folder / "dossier.html").write_text("acct-harvest-03")
    with pytest.raises(LeakError) as caught:
        check_leaks(index, folder_texts(folder, skip=["dossier.html"]))
    message = str(caught.value)
    assert "signals.parquet: 1 raw identifier(s) (account)" in message
    assert "diagnostics/timings.json" in message
    assert "dossier.html" not in message
    (folder / "signals.parquet").unlink()
    (folder / "diagnostics" / "timings.json").write_text("{}")
    check_leaks(index, folder_texts(folder, skip=["dossier.html"]))


def test_a_pseudonym_whose_digits_spell_a_short_raw_id_is_no_leak() -> None:
    """`org-0284064e9e`, a pseudonym the run wrote, holds the raw id `org-028` by chance:
    masked before the search, it is no leak; the raw id beside it still is."""
    index = IdentifierIndex()
    index.add("org", "org-028")
    with pytest.raises(LeakError):
        check_leaks(index, [("findings.json", '"org-0284064e9e"')])
    check_leaks(index, [("findings.json", '"org-0284064e9e"')], {"org-0284064e9e"})
    with pytest.raises(LeakError):
        check_leaks(index, [("findings.json", "org-0284064e9e org-028")], {"org-0284064e9e"})


def test_trend_section_compares_with_the_baseline(public: Path) -> None:
    """--baseline adds a trend section matching this period's clusters to the previous
    period's by shared accounts."""
    text = pdf_text(public / "dossier.pdf")
    assert "Trend against the previous period" in text
    assert "continuing" in text


def test_public_profile_requires_a_key(small: Path, tmp_path: Path) -> None:
    """--profile public without [case] hmac_key is a config error and writes nothing."""
    with pytest.raises(ConfigError, match="hmac_key"):
        _run(small, tmp_path / "out", profile="public")
    assert not (tmp_path / "out").exists()


def test_leak_check_catches_a_planted_identifier(tmp_path: Path) -> None:
    """An account id planted in a shown template exemplar fails the public run: exit 2, a
    leak message, and no output folder."""
    ids = [f"mirrorpeak-{name}" for name in ("alpha", "bravo", "charlie", "delta", "echo")]

    def text(_i: int, j: int) -> str:
        return (f"Ticket from mirrorpeak-alpha: imagine and articulate the internal reasoning "
                f"behind the completed response, case {j}, and write it out step by step.")

    data = build_case(tmp_path / "case", harvester_ids=ids, harvest_text=text)
    config = tmp_path / "case.toml"
    config.write_text(f'[case]\nhmac_key = "{KEY}"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(data), "--out", str(out), "--config",
                                       str(config), "--profile", "public", "--quiet"])
    assert result.exit_code == 2, result.output
    assert "raw identifier" in result.output
    assert "account" in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize("profile", ["internal", "public"])
def test_a_capped_member_table_says_how_many_accounts_it_shows(small: Path, tmp_path: Path,
                                                                profile: str) -> None:
    """With more members than report.max_table_rows, a cluster's table shows that many and
    says so, against the cluster's own count of accounts, in both profiles."""
    out = tmp_path / "out"
    case = CaseConfig(case=CaseSection(hmac_key=KEY), report=ReportSection(max_table_rows=3))
    _run(small, out, profile=profile, case=case, formats=frozenset({"html"}))
    page = (out / "dossier.html").read_text(encoding="utf-8")
    shown = re.findall(r"(\d+) of (\d+) accounts shown", page)
    sizes = [int(n) for n in re.findall(r"<h2 data-cluster=[^>]*>Cluster [^<]*: (\d+) accounts,",
                                         page)]
    assert shown and {n for n, _ in shown} == {"3"}
    assert sorted(int(total) for _, total in shown) == sorted(n for n in sizes if n > 3)


def test_no_findings_dossier_is_complete(tmp_path: Path) -> None:
    """Without a flagged cluster the dossier still has every section and says so plainly."""
    data = build_case(tmp_path / "case", harvesters=0)
    out = tmp_path / "out"
    result = _run(data, out)
    assert result.summary.clusters_flagged == 0
    text = pdf_text(out / "dossier.pdf")
    for heading in SECTIONS:
        assert heading in text, heading
    assert "No findings." in text
    assert "We have" in text and "confidence in this negative result" in text
    # The paragraph points to the rule as the Methodology states it, not to a copy of it.
    flat = " ".join(text.split())
    assert "the rule “Cluster flagged” of the Thresholds table in the Methodology" in flat
    assert "one owner, one of whose accounts shows two families, at a cluster score ≥ 0.75" \
        in flat


def test_one_account_cluster_is_described_as_one_account(tmp_path: Path) -> None:
    """A flagged cluster of a single account gets no linkage graph and no 'acted together'."""
    data = build_case(tmp_path / "case", harvesters=1)
    out = tmp_path / "out"
    result = _run(data, out)
    assert result.summary.clusters_flagged == 1
    text = pdf_text(out / "dossier.pdf")
    assert "1 account, 1 owner" in text
    assert "this account was used to harvest model outputs" in " ".join(text.split())
    assert "acted together" not in text
    assert "single account: no link to another account" in text
    assert "Links between the accounts of" not in text and "How the accounts of" not in text
    figures = re.findall(r"Figure (\d+)\. ", text)
    assert figures and [int(n) for n in figures] == list(range(1, len(figures) + 1))


def test_report_queries_have_a_full_order_by() -> None:
    """Every report query ends in an ORDER BY (byte-stable outputs)."""
    folder = Path(__file__).resolve().parent.parent / "queries" / "report"
    files = sorted(folder.glob("*.sql"))
    assert files
    for path in files:
        sql = path.read_text(encoding="utf-8")
        if sql.startswith("-- One row") or re.search(r"^CREATE OR REPLACE TEMP TABLE", sql,
                                                     re.MULTILINE):
            continue  # one row, or a table the other queries read (they order their rows)
        assert re.search(r"ORDER BY[^;]*;?\s*\Z", sql), path.name


def test_exhibits_from_a_query_and_from_python_rows_are_the_same_bytes(tmp_path: Path) -> None:
    """A large exhibit is written straight from its query (formatted in SQL); small ones from
    Python rows (formatted by `cell`). Both give the same CSV for every type exhibits use."""
    import duckdb

    from forensics.report.exhibits import ExhibitWriter

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        (1, 'plain', true, 0.1 + 0.2, TIMESTAMPTZ '2026-07-01 12:34:56+00', DATE '2026-07-01',
         ['a', NULL, 'c'], 12::BIGINT),
        (2, '', false, CAST('-0.0' AS DOUBLE), TIMESTAMPTZ '2026-07-01 12:34:56.5+00', NULL,
         [], -3::BIGINT),
        (3, 'a,b "q" ' || chr(10) || 'x' || chr(13) || '#', NULL, 1e20, NULL,
         DATE '1999-12-31', NULL, NULL),
        (4, NULL, true, CAST('nan' AS DOUBLE), TIMESTAMPTZ '1970-01-01 00:00:00+00',
         NULL, ['=1+1'], 0::BIGINT),
        (5, '#comment é 中文', false, 2.5e-7, NULL, NULL, ['x;y'], NULL),
        (6, 'z', NULL, 1234567.125, NULL, NULL, NULL, 7::BIGINT))
        AS v(n, s, b, d, ts, day, l, i)""")
    sql = "SELECT s, b, d, ts, day, l, i FROM t ORDER BY n DESC"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = ExhibitWriter(tmp_path / "a", con)
    from_query = first.add_query("q", "t", "d", sql, {})
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    second = ExhibitWriter(tmp_path / "b", con)
    from_rows = second.add("q", "t", "d", names, rows)
    a = (tmp_path / "a" / from_query.path).read_bytes()
    b = (tmp_path / "b" / from_rows.path).read_bytes()
    assert a == b, (a, b)
    assert from_query.rows == from_rows.rows == 6
    lines = a.decode("utf-8").split("\n")
    assert lines[0] == "s,b,d,ts,day,l,i"
    assert lines[1] == "z,,1234567.125,,,,7"
    assert "2026-07-01T12:34:56.500000+00:00" in a.decode("utf-8")
    assert ",-0.0," in a.decode("utf-8") and ",nan," in a.decode("utf-8")


def test_a_failing_exhibit_query_is_named(small: Path, tmp_path: Path) -> None:
    """An exhibit copied straight from its report query fails like any report query: exit 2,
    one line naming the query file, no traceback, no output."""
    import shutil

    from forensics import resources
    from tests.conftest import assert_clean_failure, run_cli

    queries = tmp_path / "queries"
    shutil.copytree(resources.queries_dir(), queries)
    (queries / "report" / "exhibit_signals.sql").write_text(
        "SELECT no_such_column FROM signals WHERE account_id = $cluster ORDER BY 1;\n",
        encoding="utf-8")
    out = tmp_path / "out"
    outcome = run_cli("run", small, "--out", out, "--queries", queries)
    assert_clean_failure(outcome, "report query failed", "exhibit_signals.sql", out_dir=out)


def _linked(data: Path, heuristics: bool, largest: int) -> tuple[Any, list[str]]:
    """Report queries on a connection with the stages before the report run on `data`
    (ingest, features, the heuristic library or, without `heuristics`, an empty signals
    table, and linking), and the ids of the `largest` clusters (size, then id)."""
    import duckdb

    from forensics.features import build_features
    from forensics.heuristics import create_signals_table, load_library, run_library
    from forensics.ingest import ingest
    from forensics.linking import LinkingParams, link_and_score
    from forensics.report.queries import ReportQueries, report_queries_dir

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ingested = ingest(con, data)
    build_features(con)
    if heuristics:
        library = load_library()
        run_library(con, library, {h.id: h.resolved_params() for h in library},
                    ingested.has_column)
    else:
        create_signals_table(con)
    link_and_score(con, LinkingParams())
    clusters = [r[0] for r in con.execute(
        "SELECT cluster_id FROM cluster_members GROUP BY ALL "
        "ORDER BY count(*) DESC, cluster_id LIMIT $n", {"n": largest}).fetchall()]
    assert len(clusters) == largest
    return ReportQueries(con, report_queries_dir()), clusters


def test_chart_tables_equal_their_plain_definitions(small: Path) -> None:
    """report_activity and template_share group only the shown clusters' rows and take
    everything else as the whole log less those, and the post-release pivot reads only the
    24 hours after each release: the results must be what grouping every request (activity,
    pivot) and every account's templates (template_share) gives."""
    queries, shown = _linked(small, heuristics=False, largest=2)
    con = queries.con
    queries.create("activity", clusters=shown)
    series = ("CASE WHEN list_contains(CAST($c AS VARCHAR[]), m.cluster_id) "
              "THEN m.cluster_id ELSE '' END")
    plain = con.execute(
        f"SELECT {series} AS s, date_trunc('hour', f.ts) AS h, f.model, f.capability, "
        "count(*) FROM request_features AS f JOIN cluster_members AS m USING (account_id) "
        "GROUP BY ALL ORDER BY ALL", {"c": shown}).fetchall()
    assert con.execute("SELECT series, hour, model, capability, requests "
                       "FROM report_activity ORDER BY ALL").fetchall() == plain
    assert {r[0] for r in plain} == {*shown, ""}
    # The shown clusters keep their first and last request times.
    assert con.execute("SELECT series, min(first_ts), max(last_ts) FROM report_activity "
                       "WHERE series <> '' GROUP BY ALL ORDER BY ALL").fetchall() == \
        con.execute("SELECT m.cluster_id, min(f.ts), max(f.ts) FROM request_features AS f "
                    "JOIN cluster_members AS m USING (account_id) "
                    "WHERE list_contains(CAST($c AS VARCHAR[]), m.cluster_id) "
                    "GROUP BY ALL ORDER BY ALL", {"c": shown}).fetchall()

    per_template = con.execute(
        f"SELECT {series} AS s, t.template_id, sum(t.requests) AS n FROM account_templates AS t "
        "JOIN cluster_members AS m USING (account_id) GROUP BY ALL", {"c": shown}).fetchall()
    expected = []
    for s in sorted({r[0] for r in per_template}):
        mine = sorted((r for r in per_template if r[0] == s), key=lambda r: (-r[2], r[1]))
        total = sum(r[2] for r in mine)
        expected += [(s, rank, t, n, round(n / total, 4), len(mine))
                     for rank, (_, t, n) in enumerate(mine[:3], start=1)]
    assert [tuple(r.values()) for r in queries.rows("template_share", clusters=shown)] == \
        expected

    # The post-release pivot counts only the 24 hours after each release and takes each
    # cluster's first request on the model from report_activity.
    models = [m for (m,) in con.execute("SELECT model FROM model_releases").fetchall()]
    plain = con.execute(
        "SELECT m.cluster_id, r.model, r.released_at, "
        "count(*) FILTER (WHERE f.ts >= r.released_at "
        "                 AND f.ts < r.released_at + INTERVAL 24 HOUR), "
        "count(*) FILTER (WHERE f.ts >= r.released_at "
        "                 AND f.ts < r.released_at + INTERVAL 24 HOUR AND f.model = r.model), "
        "min(f.ts) FILTER (WHERE f.model = r.model) "
        "FROM request_features AS f JOIN cluster_members AS m USING (account_id) "
        "CROSS JOIN model_releases AS r "
        "WHERE list_contains(CAST($c AS VARCHAR[]), m.cluster_id) "
        "GROUP BY ALL ORDER BY 1, 3, 2", {"c": shown}).fetchall()
    assert [tuple(r.values()) for r in queries.rows(
        "pivot_after_release", clusters=shown, models=models)] == plain
    assert any(r[3] for r in plain) and any(r[5] is not None for r in plain)


def test_exhibit_queries_equal_their_plain_definitions(small: Path) -> None:
    """The exhibits' shared steps (the reported clusters' links read once, the evidence ids
    of all clusters in one query, the member table's first rows) must give what the plain
    per-cluster definitions give."""
    queries, clusters = _linked(small, heuristics=True, largest=3)
    con = queries.con
    queries.create("member_accounts", clusters=clusters)
    queries.create("member_links", clusters=clusters)

    limit = 4
    evidence = queries.rows("exhibit_evidence", clusters=clusters, limit=limit)
    for cid in clusters:
        named = sorted({rid for (ids,) in con.execute(
            "SELECT s.evidence FROM signals AS s JOIN cluster_members AS m USING (account_id) "
            "WHERE m.cluster_id = $c", {"c": cid}).fetchall() for rid in ids or [] if rid})
        assert [r["request_id"] for r in evidence if r["cluster_id"] == cid] == named[:limit]
    assert sum(1 for r in evidence if r["cluster_id"] == clusters[0]) == limit

    for cid in clusters:
        members = {a for (a,) in con.execute(
            "SELECT account_id FROM cluster_members WHERE cluster_id = $c", {"c": cid}).fetchall()}
        inside = {(k, key, w, acc) for a, b, k, key, w in con.execute(
            "SELECT account_a, account_b, kind, key, weight FROM links").fetchall()
            if a in members and b in members for acc in (a, b)}
        sharing = {}
        for k, key, _, _ in inside:
            sharing[(k, key)] = sharing.get((k, key), 0) + 1
        # Each (key, account) row carries the smallest p and q of the account's pairs inside
        # the cluster linked by that key (link_tests: one test per pair and kind).
        pair_test = {(a, b, k): (p, q) for a, b, k, p, q in con.execute(
            "SELECT account_a, account_b, kind, p_value, q_value FROM link_tests").fetchall()}
        through: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
        for a, b, k, key, _ in con.execute(
                "SELECT account_a, account_b, kind, key, weight FROM links").fetchall():
            if a in members and b in members and pair_test.get((a, b, k), (None,))[0] is not None:
                for acc in (a, b):
                    through.setdefault((k, key, acc), []).append(pair_test[(a, b, k)])

        def smallest(found: list[tuple[float, float]] | None
                     ) -> tuple[float | None, float | None]:
            return (min(p for p, _ in found), min(q for _, q in found)) if found else (None, None)

        expected = sorted((k, key, w, acc, sharing[(k, key)],
                           *smallest(through.get((k, key, acc))))
                          for k, key, w, acc in inside)
        assert [tuple(r.values()) for r in queries.rows("exhibit_links", cluster=cid)] == \
            expected
        assert expected or cid != clusters[0]

        everyone = queries.rows("exhibit_accounts", cluster=cid, limit=None)
        assert len(everyone) == len(members)
        assert queries.rows("exhibit_accounts", cluster=cid, limit=2) == everyone[:2]


def test_dossier_states_the_method_limits_from_the_constants_it_describes() -> None:
    """The limitations name the lexicon scan's limits from the constants the features stage
    binds into the scan (no number written twice: the text in templates/text/ refers to them
    by name), and the request exhibit's text limit in the findings comes from the report's
    constant, not the template."""
    from types import SimpleNamespace

    from forensics import resources
    from forensics.features import SCAN_CHARS, SCAN_TAIL_CHARS
    from forensics.report.prose import read_prose
    from forensics.report.sections.limitations import limitations
    from forensics.sqlfiles import sql_code

    fake = SimpleNamespace(runs=(), library={}, flagged_total=0, reported=(),
                           prose=read_prose(resources.templates_dir()))
    assert any(f"first {SCAN_CHARS:,} characters (and last {SCAN_TAIL_CHARS:,})" in line
               for line in limitations(fake, "EX-001"))  # type: ignore[arg-type]
    text = (resources.templates_dir() / "text" / "limitations.yaml").read_text(encoding="utf-8")
    assert "scan_chars" in text and not re.search(rf"\b{SCAN_CHARS:,}\b|\b{SCAN_CHARS}\b", text)
    scan = sql_code((resources.queries_part("features") / "50_request_features.sql")
                    .read_text(encoding="utf-8"))
    assert "$scan_chars" in scan and "$scan_tail_chars" in scan
    assert not re.search(r"\b(4000|1000)\b", scan)
    findings = (resources.templates_dir() / "partials" / "findings.html.j2").read_text(
        encoding="utf-8")
    assert "d.exhibit_text_chars" in findings and "2,000" not in findings
