"""The heuristic library at the boundary: malformed files and bad params are refused early."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forensics import resources
from forensics.heuristics import load_library

from .conftest import assert_clean_failure, make_export, one_heuristic_library, run_cli

# Ids that DuckDB's hash() cannot tell apart: the features test of account and key numbers
# and the heuristic cases against grouping by hash() (machine_cadence_flat_profile,
# relay_mixing, synchronised_load_balancing) use them.
SHARED_HASH_IDS = (("acct-000-region0-prod", "acct-00e-regiono-prod"),
                   ("key-0000-worker0-live", "key-0005-workery-live"),
                   ("org-0000-tenant0-corp", "org-0005-tenanty-corp", "org-000e-tenanti-corp",
                    "org-000k-tenantw-corp"))
GOOD = (resources.queries_dir() / "infrastructure" / "shared_payment_fingerprint.sql")


def library_with(tmp_path: Path, name: str, text: str) -> Path:
    """The one-heuristic library plus one extra file `content/<name>`."""
    queries = one_heuristic_library(tmp_path / "queries")
    (queries / "content").mkdir(exist_ok=True)
    (queries / "content" / name).write_text(text, encoding="utf-8")
    return queries


def test_bundled_library_passes_check() -> None:
    """`forensics heuristics check` accepts the bundled library, in all four families."""
    outcome = run_cli("heuristics", "check")
    assert outcome.exit_code == 0, outcome.stderr
    families = {h.meta.family for h in load_library()}
    assert families == {"content", "structure", "infrastructure", "timing"}
    assert len(load_library()) >= 25


def test_malformed_files_are_all_reported_at_once(tmp_path: Path) -> None:
    """A file with no front matter and one whose id, params and family are wrong are both
    named in one error, and `run` refuses before reading data or writing anything."""
    queries = library_with(tmp_path, "no_header.sql", "SELECT 1")
    bad = GOOD.read_text(encoding="utf-8").replace(
        "id: shared_payment_fingerprint", "id: another_name").replace(
        "$min_accounts", "$min_acounts")
    (queries / "content" / "wrong.sql").write_text(bad, encoding="utf-8")
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, "no_header.sql: no YAML front matter",
                         "id 'another_name' differs from the file name 'wrong'",
                         "parameter $min_acounts is used but not declared",
                         "family 'infrastructure' but the file is in content/")
    out = tmp_path / "out"
    run = run_cli("run", make_export(tmp_path / "data"), "--out", out, "--queries", queries)
    assert_clean_failure(run, "no_header.sql", out_dir=out)


def test_query_duckdb_cannot_prepare_is_reported(tmp_path: Path) -> None:
    """SQL that DuckDB cannot prepare is named by `heuristics check` with DuckDB's reason."""
    text = GOOD.read_text(encoding="utf-8")
    head, _, _ = text.partition("---*/")
    broken = (head.replace("id: shared_payment_fingerprint", "id: broken_sql")
              .replace("family: infrastructure", "family: content")
              + "---*/\nSELECT account_id FROM no_such_table WHERE 1 > $min_accounts\n")
    queries = library_with(tmp_path, "broken_sql.sql", broken)
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, "broken_sql.sql: DuckDB cannot prepare the query")


def test_heuristic_of_two_statements_is_refused(tmp_path: Path) -> None:
    """A heuristic file is one query: a second statement after it is named at load time,
    while a `;` inside its comments or strings ends nothing."""
    head, _, _ = GOOD.read_text(encoding="utf-8").partition("---*/")
    head = (head.replace("id: shared_payment_fingerprint", "id: two_statements")
            .replace("family: infrastructure", "family: content"))
    body = ("---*/\n-- a comment; not an end\n"
            "SELECT 'x;' AS account_id WHERE 1 > $min_accounts;\nSELECT 2;\n")
    queries = library_with(tmp_path, "two_statements.sql", head + body)
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, "two_statements.sql: 2 statements after the front matter "
                         "(expected one query)")


def test_linking_file_using_a_parameter_nobody_supplies_is_named(tmp_path: Path) -> None:
    """A linking statement using a `$parameter` that linking does not supply is refused with
    the file and the parameter named, not with DuckDB's words."""
    import shutil

    queries = one_heuristic_library(tmp_path / "queries")
    shutil.copytree(resources.queries_dir() / "linking", queries / "linking")
    edges = queries / "linking" / "48_cluster_edges.sql"
    edges.write_text(edges.read_text(encoding="utf-8").replace(
        "$min_link_weight", "$min_link_wieght"), encoding="utf-8")
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, "48_cluster_edges.sql: uses parameter $min_link_wieght, "
                         "which the caller does not supply")


def test_unknown_heuristic_or_parameter_in_config(tmp_path: Path) -> None:
    """[params.<id>] naming an unknown heuristic, an unknown parameter or a wrong type is
    refused with every problem named, and no output is written."""
    config = tmp_path / "case.toml"
    config.write_text("[params.no_such_heuristic]\nx = 1\n\n"
                      "[params.shared_payment_fingerprint]\nmin_acounts = 3\n"
                      "min_accounts = 'three'\n", encoding="utf-8")
    out = tmp_path / "out"
    outcome = run_cli("run", make_export(tmp_path / "data"), "--out", out, "--config", config,
                      "--queries", one_heuristic_library(tmp_path / "queries"))
    assert_clean_failure(outcome, "unknown heuristic id 'no_such_heuristic'",
                         "min_acounts: unknown parameter",
                         "min_accounts: expected INTEGER", out_dir=out)


def test_show_unknown_id_is_a_clean_error() -> None:
    """`heuristics show` with an unknown id says so and exits 2."""
    assert_clean_failure(run_cli("heuristics", "show", "nope"), "unknown heuristic id 'nope'")


def test_custom_features_folder_missing_a_file_is_named(tmp_path: Path) -> None:
    """A --queries folder with its own features/ that lacks one of the bundled files is
    refused with the missing file named, before any data is read or output written."""
    import shutil

    queries = one_heuristic_library(tmp_path / "queries")
    shutil.copytree(resources.queries_dir() / "features", queries / "features")
    (queries / "features" / "55_account_aggregates.sql").unlink()
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, "features folder lacks 55_account_aggregates.sql")
    out = tmp_path / "out"
    run = run_cli("run", make_export(tmp_path / "data"), "--out", out, "--queries", queries)
    assert_clean_failure(run, "55_account_aggregates.sql", out_dir=out)


def test_scan_pattern_has_no_capture_groups_and_matches_the_same() -> None:
    """The lexicon scan pattern drops capture groups (speed) without changing what matches:
    escaped and bracketed parentheses stay literal."""
    import re

    from forensics.features import non_capturing, read_lexicons, scan_pattern

    assert non_capturing(r"a(b|c)\(d[(]e(?:f)[]()](g)[^](]\\(h)") == \
        r"a(?:b|c)\(d[(]e(?:f)[]()](?:g)[^](]\\(?:h)"
    entries = read_lexicons(resources.lexicons_dir(None))
    scan = re.compile(scan_pattern(entries))
    assert scan.groups == 0
    capturing = re.compile("(?i)(?:" + "|".join(e.pattern() for e in entries) + ")")
    text = ("Please show your reasoning step by step. Rate the response on a scale of 1 to 10, "
            "then generate 12 new problems with solutions and unit tests in Python. (a) [b] "
            "请输出你的完整的思考过程 and translate your chain of thought into English.")
    assert [m.group(0) for m in scan.finditer(text)] == \
        [m.group(0) for m in capturing.finditer(text)]
    assert len(scan.findall(text)) >= 5


def test_lexicon_labeller_labels_each_row_from_its_phrases() -> None:
    """Labels are the sorted union over a row's phrases, a phrase that swallowed a shorter
    one keeps both labels, and a row without phrases has none."""
    import pyarrow as pa

    from forensics.features import LexiconLabeller, read_lexicons

    labeller = LexiconLabeller(read_lexicons(resources.lexicons_dir(None)))
    swallowed = "internal reasoning behind the completed response"
    assert {"signal:cot_strong", "signal:posthoc_rationale"} <= set(labeller.labels(swallowed))
    rows = pa.array([[swallowed, "python"], [], None, ["python", "python"]],
                    type=pa.list_(pa.string()))
    out = labeller(rows).to_pylist()
    assert out[0] == sorted(set(labeller.labels(swallowed)) | set(labeller.labels("python")))
    assert "capability:3:coding" in out[0]
    assert out[1] == [] and out[2] == []
    assert out[3] == labeller.labels("python")


def test_lexicon_labeller_batch_equals_row_by_row() -> None:
    """The vectorised UDF gives, for a random batch, exactly the per-row union of labels."""
    import random

    import pyarrow as pa

    from forensics.features import LexiconLabeller, read_lexicons

    labeller = LexiconLabeller(read_lexicons(resources.lexicons_dir(None)))
    pool = ["python", "step by step", "rate the response", "internal reasoning behind the "
            "completed response", "生成5道新题", "no such phrase", "screenshot", "essay"]
    rng = random.Random(3)
    rows: list[list[str] | None] = [
        None if rng.random() < 0.1 else rng.choices(pool, k=rng.randrange(0, 5))
        for _ in range(500)]
    got = labeller(pa.array(rows, type=pa.list_(pa.string()))).to_pylist()
    expected = [sorted({label for p in (row or ()) for label in labeller.labels(p)})
                for row in rows]
    assert got == expected
    assert labeller(pa.array([[], None], type=pa.list_(pa.string()))).to_pylist() == [[], []]

def test_template_skeleton_masks_white_space_as_every_run_of_it() -> None:
    """The skeleton's white-space pattern matches only where the text changes (speed); it
    must give what replacing every run of white space (RE2 '\\s+') by one space gives."""
    import duckdb

    heads = ["Plain words only", "two  spaces", "tab\there", "\t", " ", "   lead and trail  ",
             "crlf\r\nline", "mixed \t \n runs", "form\ffeed", "vertical\vtab", "nbsp\u00a0kept",
             "digits 12 and 3.45", "ＦＵＬＬ　width", "", "x" * 150 + "\t\t" + "y" * 100]
    con = duckdb.connect()
    con.execute("CREATE TABLE requests AS SELECT unnest($heads) AS prompt", {"heads": heads})
    con.execute((resources.queries_part("features", None) / "10_prompt_heads.sql").read_text())
    differ = con.execute(r"""
        SELECT head FROM prompt_heads
        WHERE skeleton_head IS DISTINCT FROM left(regexp_replace(regexp_replace(
            lower(head), '[0-9]+', '0', 'g'), '\s+', ' ', 'g'), 160)""").fetchall()
    assert differ == []
    assert con.execute("SELECT skeleton_head FROM prompt_heads WHERE head = 'mixed \t \n runs'"
                       ).fetchone() == ("mixed runs",)


def features_of(data: Path) -> Any:
    """An in-memory database holding the export `data`, ingested, and its feature tables."""
    import duckdb

    from forensics.features import build_features
    from forensics.ingest import ingest

    con = duckdb.connect()
    ingest(con, data)
    build_features(con)
    return con


def test_request_minute_is_the_calendar_minute(tmp_path: Path) -> None:
    """`minute` floors: :10 and :50 of one minute share it, :50 and the next :10 do not (it
    once rounded, so a bucket ran from :30 to :30)."""
    from datetime import UTC, datetime

    times = ["2026-07-06T10:04:10", "2026-07-06T10:04:50", "2026-07-06T10:05:10",
             "2026-07-06T10:59:59.999999", "2026-07-06T11:00:00"]
    rows = [{"request_id": f"r{i}", "ts": datetime.fromisoformat(t).replace(tzinfo=UTC),
             "account_id": "a", "model": "atlas-3", "prompt": f"Question {i}",
             "input_tokens": 1, "output_tokens": 1} for i, t in enumerate(times)]
    data = make_export(tmp_path, rows, [{"account_id": "a", "created_at": datetime(2026, 7, 1,
                                                                                   tzinfo=UTC)}])
    con = features_of(data)
    minutes = dict(con.execute("SELECT request_id, minute FROM request_features").fetchall())
    start = int(datetime(2026, 7, 6, 10, 4, tzinfo=UTC).timestamp()) // 60
    assert minutes == {"r0": start, "r1": start, "r2": start + 1, "r3": start + 55,
                       "r4": start + 56}


def test_account_network_counts_every_request_once(tmp_path: Path) -> None:
    """account_network, which six heuristics and linking group their own ways instead of
    scanning every request, holds each (account, org, prefix, channel, user agent) with its
    requests, missing values included as groups of their own."""
    from datetime import UTC, datetime

    # (account, ip, access channel, user agent)
    shapes = [("a", "10.0.0.1", "api", "ua/1"), ("a", "10.0.0.2", "api", "ua/1"),
              ("a", "10.0.1.1", None, "ua/1"), ("a", None, None, None),
              ("b", "2001:db8:1:2::1", "web", "ua/2"), ("b", "2001:db8:1:3::1", "web", None)]
    rows = [{"request_id": f"r{i}", "ts": datetime(2026, 7, 6, 10, i, tzinfo=UTC),
             "account_id": acct, "ip": ip, "access_channel": channel, "user_agent": agent,
             "model": "atlas-3", "prompt": f"Question {i}", "input_tokens": 1,
             "output_tokens": 1} for i, (acct, ip, channel, agent) in enumerate(shapes)]
    created = datetime(2026, 7, 1, tzinfo=UTC)
    data = make_export(tmp_path, rows, [{"account_id": a, "created_at": created}
                                        for a in ("a", "b")])
    con = features_of(data)
    network = con.execute("SELECT account_id, ip_prefix, access_channel, user_agent, requests "
                          "FROM account_network ORDER BY ALL").fetchall()
    assert network == [("a", "10.0.0.0/24", "api", "ua/1", 2),
                       ("a", "10.0.1.0/24", None, "ua/1", 1),
                       ("a", None, None, None, 1),
                       ("b", "2001:db8:1::/48", "web", "ua/2", 1),
                       ("b", "2001:db8:1::/48", "web", None, 1)]


def test_network_prefix_is_computed_once_for_requests_and_sign_ups(tmp_path: Path) -> None:
    """A request's ip_prefix and an account's signup_prefix are one rule (network_prefix in
    05_functions.sql): an IPv4 address gives its /24, an IPv6 one its /48, anything else
    NULL, and text of four dot-separated parts that do not start with numbers '.0/24'."""
    from datetime import UTC, datetime

    expected = {"10.1.2.3": "10.1.2.0/24", "2001:db8:1:2::1": "2001:db8:1::/48",
                "a.b.c.d": ".0/24", "localhost": None, "": None, None: None}
    ips = list(expected)
    rows = [{"request_id": f"r{i}", "ts": datetime(2026, 7, 6, 10, i, tzinfo=UTC),
             "account_id": f"a{i}", "ip": ip, "model": "atlas-3", "prompt": f"Question {i}",
             "input_tokens": 1, "output_tokens": 1} for i, ip in enumerate(ips)]
    accounts = [{"account_id": f"a{i}", "created_at": datetime(2026, 7, 1, tzinfo=UTC),
                 "signup_ip": ip} for i, ip in enumerate(ips)]
    con = features_of(make_export(tmp_path, rows, accounts))
    by_request = dict(con.execute(
        "SELECT ip, ip_prefix FROM request_features WHERE ip IS NOT NULL").fetchall())
    by_account = dict(con.execute(
        "SELECT a.signup_ip, s.signup_prefix FROM account_signups AS s "
        "JOIN accounts AS a USING (account_id) WHERE a.signup_ip IS NOT NULL").fetchall())
    present = {ip: prefix for ip, prefix in expected.items() if ip is not None}
    assert by_request == by_account == present
    assert con.execute("SELECT count(*) FROM account_signups").fetchone()[0] == len(ips)


def test_network_prefix_rule_is_written_once() -> None:
    """No query but 05_functions.sql restates the /24 and /48 rule: the others read
    request_features.ip_prefix or account_signups.signup_prefix."""
    rule = ("'::/48'", r"\d+\.\d+\.\d+")
    root = resources.queries_dir()
    restating = [p for p in root.rglob("*.sql") if p.name != "05_functions.sql"
                 and any(r in p.read_text(encoding="utf-8") for r in rule)]
    assert restating == []


def test_request_templates_agree_with_the_skeleton_and_template_tables() -> None:
    """The scan computes each request's skeleton itself, while the skeletons and their
    templates come from the distinct prompt heads: the two must agree request for request,
    and account_templates (grouped on numbers, ids joined back) must be the plain grouping."""
    con = features_of(Path(__file__).resolve().parent.parent / "sample_data" / "2026Q3" / "data")
    assert con.execute("SELECT count(*) FROM request_features WHERE template_id IS NOT NULL"
                       ).fetchone()[0] > 0
    disagree = con.execute("""
        SELECT count(*)
        FROM (SELECT skeleton_id, template_id, count(*) AS requests
              FROM request_features WHERE skeleton_id IS NOT NULL GROUP BY ALL) AS r
        FULL JOIN skeletons AS s USING (skeleton_id)
        WHERE r.template_id IS DISTINCT FROM s.template_id
           OR r.requests IS DISTINCT FROM s.requests""").fetchone()[0]
    assert disagree == 0
    plain = """SELECT account_id, template_id, count(*) AS requests,
                      count(*) FILTER (WHERE coalesce(turn_index, 0) = 0) AS first_turns
               FROM request_features WHERE template_id IS NOT NULL GROUP BY ALL"""
    for a, b in ((plain, "SELECT * FROM account_templates"),
                 ("SELECT * FROM account_templates", plain)):
        assert con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0] == 0


def test_account_and_key_numbers_are_exact(tmp_path: Path) -> None:
    """account_no and api_key_no, the integers heuristics group millions of requests by, give
    one number per id and different numbers to different ids, even when DuckDB's hash() of
    the two ids is the same; an account missing from accounts has one too, a request without
    an API key has none, and accounts carry their org and number into account_activity."""
    from datetime import UTC, datetime

    # (account, API key); the two accounts, and the two keys, share one hash() (checked)
    shapes = [("acct-000-region0-prod", "key-0000-worker0-live"),
              ("acct-000-region0-prod", "key-0000-worker0-live"),
              ("acct-00e-regiono-prod", "key-0005-workery-live"),
              ("acct-00e-regiono-prod", None), ("orphan", "key-0005-workery-live")]
    rows = [{"request_id": f"r{i}", "ts": datetime(2026, 7, 6, 10, i, tzinfo=UTC),
             "account_id": acct, "api_key_id": key, "model": "atlas-3",
             "prompt": f"Question {i}", "input_tokens": 1, "output_tokens": 1}
            for i, (acct, key) in enumerate(shapes)]
    created = datetime(2026, 7, 1, tzinfo=UTC)
    data = make_export(tmp_path, rows, [
        {"account_id": "acct-000-region0-prod", "created_at": created, "org_id": "org-1"},
        {"account_id": "acct-00e-regiono-prod", "created_at": created}])
    con = features_of(data)
    assert _hashes(con, SHARED_HASH_IDS[0]) == 1 and _hashes(con, SHARED_HASH_IDS[1]) == 1
    numbered = con.execute("SELECT request_id, account_no, api_key_no, org_id "
                           "FROM request_features ORDER BY request_id").fetchall()
    assert numbered == [("r0", 1, 1, "org-1"), ("r1", 1, 1, "org-1"), ("r2", 2, 2, None),
                        ("r3", 2, None, None), ("r4", 3, 2, None)]
    assert con.execute("SELECT account_id, account_no, org_id, requests FROM account_activity "
                       "ORDER BY account_no").fetchall() == [
        ("acct-000-region0-prod", 1, "org-1", 2), ("acct-00e-regiono-prod", 2, None, 2),
        ("orphan", 3, None, 1)]


def _hashes(con: Any, ids: tuple[str, ...]) -> int:
    """How many distinct DuckDB hash() values the ids have."""
    return len({con.execute("SELECT hash($v)", {"v": v}).fetchone() for v in ids})


def test_heuristic_cases_use_ids_that_share_a_hash() -> None:
    """The heuristic cases that guard against grouping by hash() need ids that DuckDB's hash()
    cannot tell apart; if a DuckDB release changes its string hash, they must get new ids."""
    import duckdb

    con = duckdb.connect()
    for ids in SHARED_HASH_IDS:
        assert _hashes(con, ids) == 1, ids


def test_frequent_head_lookup_gives_the_computed_skeletons(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """The scan looks up the skeleton of the most used prompt heads and computes every other
    request's: with only the 25 most used heads looked up (the rest computed) the request
    table must be the one with every head looked up (the sample has far fewer heads than the
    cap)."""
    from forensics import features

    data = Path(__file__).resolve().parent.parent / "sample_data" / "2026Q3" / "data"
    every_row = "SELECT * FROM request_features ORDER BY request_id"
    looked_up = features_of(data).execute(every_row).fetchall()
    monkeypatch.setattr(features, "FREQUENT_HEADS", 25)
    mixed = features_of(data)
    # at most 25 skeletons can come from the lookup: the others were computed
    assert mixed.execute("SELECT count(DISTINCT skeleton_id) FROM request_features"
                         ).fetchone()[0] > 100
    assert mixed.execute(every_row).fetchall() == looked_up


def test_heuristics_test_runs_a_custom_librarys_cases(tmp_path: Path) -> None:
    """`forensics heuristics test --queries DIR` runs DIR/cases/<id>.yaml: passing cases say
    OK; a case that expects the wrong accounts fails with exit 2 and names itself; a library
    without a cases folder is refused."""
    import yaml

    library = one_heuristic_library(tmp_path / "lib", linking=False)
    bundled = resources.queries_part("cases") / "shared_payment_fingerprint.yaml"
    (library / "cases").mkdir()
    case_file = library / "cases" / "shared_payment_fingerprint.yaml"
    case_file.write_bytes(bundled.read_bytes())
    ok = run_cli("heuristics", "test", "--queries", library)
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("ok    shared_payment_fingerprint [") >= 2
    assert ok.stdout.rstrip().endswith("heuristic cases passed")
    # The first case that must fire is made to expect nobody.
    doc = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    first = next(c for c in doc["cases"] if c["fires"])
    first["fires"] = []
    case_file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    bad = run_cli("heuristics", "test", "--queries", library)
    assert bad.exit_code == 2
    assert f"FAIL  shared_payment_fingerprint [{first['name']}]" in bad.stdout
    # ... and, as the file's only case that must fire, leaves the heuristic without one.
    assert "FAIL  shared_payment_fingerprint [-]: expected a case that must fire" in bad.stdout
    assert bad.stderr.startswith("Error: 2 of ")
    case_file.unlink()
    (library / "cases").rmdir()
    missing = run_cli("heuristics", "test", "--queries", library)
    assert missing.exit_code == 2 and "no cases/ folder" in missing.stderr
