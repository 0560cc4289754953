"""The case config and the run window: bad files and options are refused with clear errors."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from forensics.config import CaseConfig, load_case_config, parse_period, resolve_window
from forensics.errors import ConfigError

from .conftest import assert_clean_failure, make_export, one_heuristic_library, run_cli


def run_with_config(tmp_path: Path, toml: str, *extra: str) -> tuple[str, Path]:
    """Run on a valid export with `toml` as the case config; return stderr and the out dir.

    Every run here must be refused, so it carries a one-heuristic library (see conftest).
    """
    data = make_export(tmp_path / "data")
    case = tmp_path / "case.toml"
    case.write_text(toml, encoding="utf-8")
    out = tmp_path / "out"
    outcome = run_cli("run", data, "--out", out, "--config", case, "--queries",
                      one_heuristic_library(tmp_path / "queries"), *extra)
    return assert_clean_failure(outcome, out_dir=out), out


def test_invalid_toml(tmp_path: Path) -> None:
    """A syntax error in the TOML names the file, line and column."""
    err, _ = run_with_config(tmp_path, "[columns\n")
    assert "case.toml: invalid TOML: Expected ']' at the end of a table declaration (at line 1, " \
           "column 9)" in err


def test_config_not_found(tmp_path: Path) -> None:
    """A config path that does not exist is named."""
    data = make_export(tmp_path / "data")
    outcome = run_cli("validate", data, "--config", tmp_path / "missing.toml")
    assert_clean_failure(outcome, "missing.toml: config file not found")


def test_config_is_a_directory(tmp_path: Path) -> None:
    """A folder given as the config is refused, not an internal error."""
    data = make_export(tmp_path / "data")
    outcome = run_cli("validate", data, "--config", tmp_path)
    assert_clean_failure(outcome, "is a directory (expected a TOML file)")


def test_config_not_utf8(tmp_path: Path) -> None:
    """A config file that is not UTF-8 text is refused with the offset of the bad byte."""
    (tmp_path / "case.toml").write_bytes(b"[case]\nid = '\xff'\n")
    with pytest.raises(ConfigError, match=r"case.toml: not UTF-8 text \(invalid byte at "
                                          r"offset 13; expected a UTF-8 TOML file\)"):
        load_case_config(tmp_path / "case.toml")


def test_mapping_to_a_column_that_does_not_exist(tmp_path: Path) -> None:
    """Mapping a contract column to a source column the export lacks names both and the file."""
    err, _ = run_with_config(tmp_path, '[columns.requests]\naccount_id = "customer_id"\n')
    assert ("requests.parquet: column 'customer_id': the config maps requests.account_id to "
            "it, but no file has that column (columns present: account_id, input_tokens, model, "
            "output_tokens, prompt, request_id, ts)") in err


def test_unknown_table_and_column_in_columns_reported_together(tmp_path: Path) -> None:
    """An unknown table and an unknown column in [columns] are both reported, one line each."""
    err, _ = run_with_config(tmp_path, '[columns.reqs]\naccount_id = "c"\n\n'
                                       '[columns.requests]\naccnt = "c"\n')
    lines = err.splitlines()
    assert lines[0] == "Error: 2 config problems:"
    assert "case.toml: [columns.reqs]: unknown table 'reqs' (expected one of: requests, " \
           "accounts, model_releases, indicators)" in lines[1]
    assert "case.toml: [columns.requests] accnt: not a column of requests (expected one of: " \
           "request_id, ts, account_id," in lines[2]


def test_unknown_setting(tmp_path: Path) -> None:
    """A misspelt key is refused with its dotted path."""
    err, _ = run_with_config(tmp_path, "[case]\ntitel = 'x'\n")
    assert "case.toml: case.titel: unknown setting" in err


def test_every_setting_problem_at_once(tmp_path: Path) -> None:
    """Bad values in several sections are all reported in one block."""
    err, _ = run_with_config(tmp_path, "[engine]\nmemory_limit = 'lots'\nthreads = 0\n\n"
                                       "[period]\nperiod = '2026Q5'\n")
    assert err.startswith("Error: 3 config problems:")
    assert "case.toml: engine.memory_limit: 'lots' is not a memory size (expected e.g. '4GB', " \
           "'512MiB' or '50%')" in err
    assert "case.toml: engine.threads: Input should be greater than or equal to 1" in err
    assert "case.toml: period.period: period '2026Q5': expected a quarter like 2026Q3 or a " \
           "month like 2026-08" in err


def test_memory_limit_too_small(tmp_path: Path) -> None:
    """A memory limit DuckDB cannot work in is refused before DuckDB starts."""
    err, _ = run_with_config(tmp_path, "[engine]\nmemory_limit = '4kb'\n")
    assert "engine.memory_limit: '4kb' is too small (at least 64MB)" in err


@pytest.mark.parametrize("value", ["4GB", "512MiB", "1.5 GiB", "80%", "2g"])
def test_memory_limit_accepted(value: str) -> None:
    """The memory sizes DuckDB understands are accepted."""
    assert CaseConfig.model_validate({"engine": {"memory_limit": value}})


def test_period_and_since_in_config_conflict(tmp_path: Path) -> None:
    """A config naming a period and since/until at once is refused."""
    err, _ = run_with_config(tmp_path, "[period]\nperiod = '2026Q3'\nsince = 2026-07-01\n")
    assert "case.toml: period: give either period or since/until, not both" in err


def test_since_not_before_until_in_config(tmp_path: Path) -> None:
    """An empty [period] window is refused."""
    err, _ = run_with_config(tmp_path, "[period]\nsince = 2026-08-01\nuntil = 2026-07-01\n")
    assert "period: since 2026-08-01T00:00:00+00:00 is not before until " \
           "2026-07-01T00:00:00+00:00" in err


def test_bad_period_option(tmp_path: Path) -> None:
    """--period that is neither a quarter nor a month is refused with the expected forms."""
    data = make_export(tmp_path / "data")
    outcome = run_cli("validate", data, "--period", "2026Q5")
    assert_clean_failure(outcome, "Error: period '2026Q5': expected a quarter like 2026Q3 or a "
                         "month like 2026-08")


def test_period_and_since_options_conflict(tmp_path: Path) -> None:
    """--period together with --since is refused."""
    data = make_export(tmp_path / "data")
    outcome = run_cli("validate", data, "--period", "2026Q3", "--since", "2026-07-01")
    assert_clean_failure(outcome, "give either --period or --since/--until, not both")


def test_bad_since_option_is_a_usage_error(tmp_path: Path) -> None:
    """A --since that is no date is a click usage error, exit 2."""
    outcome = run_cli("validate", tmp_path, "--since", "soon")
    assert outcome.exit_code == 2
    assert "Invalid value for '--since'" in outcome.stderr


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026Q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
    ("2026q4", datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ("2026-08", datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)),
    ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
])
def test_parse_period(text: str, start: datetime, end: datetime) -> None:
    """Quarters and months become half-open UTC windows."""
    assert parse_period(text) == (start, end)


@pytest.mark.parametrize("text", ["2026Q0", "2026-13", "2026-00", "Q3", "last month"])
def test_parse_period_rejects(text: str) -> None:
    """Anything else is a config error naming the text."""
    with pytest.raises(ConfigError, match=repr(text).replace("?", r"\?")):
        parse_period(text)


def test_command_line_period_wins_over_config() -> None:
    """--period replaces the config's [period]."""
    case = CaseConfig.model_validate({"period": {"period": "2026Q1"}})
    window = resolve_window(case, "2026-08", None, None)
    assert window.label == "2026-08"
    assert window.since == datetime(2026, 8, 1, tzinfo=UTC)


def test_naive_since_is_utc() -> None:
    """A --since without a zone is read as UTC."""
    window = resolve_window(CaseConfig(), None, datetime(2026, 7, 1), None)
    assert window.since == datetime(2026, 7, 1, tzinfo=UTC)


def test_toml_dates_are_midnight_utc(tmp_path: Path) -> None:
    """Bare TOML dates in [period] mean midnight UTC."""
    (tmp_path / "case.toml").write_text("[period]\nsince = 2026-07-01\nuntil = 2026-08-01\n")
    case = load_case_config(tmp_path / "case.toml")
    assert case.period.since == datetime(2026, 7, 1, tzinfo=UTC)
    window = resolve_window(case, None, None, None)
    assert window.until == datetime(2026, 8, 1, tzinfo=UTC)


def test_no_config_means_defaults() -> None:
    """Without a config file every setting has its default."""
    assert load_case_config(None) == CaseConfig()


# --- bounds (issue 25) ----------------------------------------------------------------------

def test_threads_beyond_the_machine_are_refused(tmp_path: Path) -> None:
    """More DuckDB threads than this machine has cores is refused, naming the key and the
    range; as many as it has are accepted."""
    cores = os.cpu_count() or 1
    assert CaseConfig.model_validate({"engine": {"threads": cores}}).engine.threads == cores
    err, _ = run_with_config(tmp_path, f"[engine]\nthreads = {cores + 1}\n")
    assert f"case.toml: engine.threads: {cores + 1} is more than this machine's {cores} CPU " \
           f"cores (expected 1 to {cores})" in err


def test_threads_bound_follows_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound is os.cpu_count(), read when the config is validated."""
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert CaseConfig.model_validate({"engine": {"threads": 4}})
    with pytest.raises(ValidationError, match="5 is more than this machine's 4 CPU cores"):
        CaseConfig.model_validate({"engine": {"threads": 5}})


def test_threads_must_be_a_number() -> None:
    """`threads = true` is not one thread."""
    with pytest.raises(ValidationError, match="Input should be a valid integer"):
        CaseConfig.model_validate({"engine": {"threads": True}})


def test_memory_limit_beyond_physical_memory_is_refused(tmp_path: Path) -> None:
    """A memory_limit larger than the machine's RAM is refused naming the key; DuckDB would
    not spill before the OS started swapping or killed the run."""
    err, _ = run_with_config(tmp_path, "[engine]\nmemory_limit = '1000TB'\n")
    assert "case.toml: engine.memory_limit: '1000TB' is more than this machine's physical " \
           "memory (" in err
    assert "GiB; expected at most that, or a percentage such as '50%')" in err


@pytest.mark.parametrize(("value", "ok"), [("2GiB", True), ("2.1GiB", False), ("2GB", True),
                                           ("2200MB", False), ("2147483k", True), ("3G", False),
                                           ("100%", True)])
def test_memory_limit_bound_is_physical_memory(monkeypatch: pytest.MonkeyPatch, value: str,
                                               ok: bool) -> None:
    """Against 2 GiB of RAM: binary and decimal units are each converted as DuckDB reads
    them; a percentage is always within the machine."""
    from forensics import config

    monkeypatch.setattr(config, "physical_memory_bytes", lambda: 2 * 2**30)
    if ok:
        assert CaseConfig.model_validate({"engine": {"memory_limit": value}})
    else:
        with pytest.raises(ValidationError, match="more than this machine's physical memory "
                                                  r"\(2\.0 GiB"):
            CaseConfig.model_validate({"engine": {"memory_limit": value}})


def test_physical_memory_is_read() -> None:
    """The machine's RAM is known here (Linux) and agrees with /proc/meminfo."""
    from forensics.config import physical_memory_bytes

    total = physical_memory_bytes()
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    assert meminfo[0] == "MemTotal:" and total is not None
    assert abs(total - int(meminfo[1]) * 1024) < 0.05 * total


def test_long_marking_is_refused_at_once(tmp_path: Path) -> None:
    """A 20,000-character marking (which kept a run rendering for more than ten minutes) is
    refused before any work, naming the key, the limit and the length found."""
    start = time.monotonic()
    err, _ = run_with_config(tmp_path, f"[case]\nmarking = '{'M' * 20000}'\n")
    assert time.monotonic() - start < 30
    assert "case.toml: case.marking: String should have at most 200 characters (found " \
           "20000)" in err


@pytest.mark.parametrize(("key", "limit"), [("id", 200), ("marking", 200),
                                            ("dossier_version", 200), ("title", 2000),
                                            ("privilege_banner", 2000), ("hmac_key", 2000)])
def test_case_text_lengths(key: str, limit: int) -> None:
    """Each case text is accepted at its limit and refused one character beyond it."""
    assert CaseConfig.model_validate({"case": {key: "x" * limit}})
    with pytest.raises(ValidationError, match=f"at most {limit} characters"):
        CaseConfig.model_validate({"case": {key: "x" * (limit + 1)}})


@pytest.mark.parametrize(("toml", "key"), [
    ("[scoring]\nflag_threshold = nan\n", "scoring.flag_threshold"),
    ("[scoring]\nmin_link_weight = inf\n", "scoring.min_link_weight"),
    ("[scoring]\nhigh_threshold = -inf\n", "scoring.high_threshold"),
])
def test_nan_and_inf_are_refused(tmp_path: Path, toml: str, key: str) -> None:
    """TOML's nan and inf are no threshold or weight: refused with the key named."""
    err, _ = run_with_config(tmp_path, toml)
    assert f"case.toml: {key}: Input should be a finite number" in err


def test_nan_in_heuristic_params_is_refused(tmp_path: Path) -> None:
    """[params] values are free-form, so they are checked for nan and inf on their own; every
    one is named."""
    err, _ = run_with_config(tmp_path, "[params.cot_elicitation_strong]\nmin_share = nan\n"
                                       "[params.other]\nlimits = [1.0, inf]\nname = 'x'\n")
    assert err.startswith("Error: 2 config problems:")
    assert "case.toml: params.cot_elicitation_strong.min_share: nan is not a finite number " \
           "(expected a number such as 0.5)" in err
    assert "case.toml: params.other.limits: [1.0, inf] is not a finite number" in err


@pytest.mark.parametrize(("key", "limit"), [("max_clusters", 200), ("max_table_rows", 1000),
                                            ("max_prompt_chars", 20000)])
def test_report_caps_have_upper_bounds(key: str, limit: int) -> None:
    """The dossier's caps are bounded above, so that no config makes the render unbounded."""
    assert CaseConfig.model_validate({"report": {key: limit}})
    with pytest.raises(ValidationError, match=f"less than or equal to {limit}"):
        CaseConfig.model_validate({"report": {key: limit + 1}})


def test_benign_check_thresholds_are_config_the_manifest_records(tmp_path: Path) -> None:
    """[benign_checks] holds where each benign look-alike is rejected: the defaults are the
    values the findings were always weighed with, a case file may override them (within 0–1, or
    0–24 hours), an unknown key is refused, and the manifest records the values in force."""
    from forensics import manifest
    from forensics.config import BenignChecksSection, RunConfig

    assert BenignChecksSection().model_dump() == {
        "eval_benchmark_share": 0.2, "agent_follow_up_share": 0.3, "tutoring_active_hours": 20,
        "tutoring_follow_up_share": 0.3, "enterprise_template_variety": 0.5}
    case = tmp_path / "case.toml"
    case.write_text("[benign_checks]\neval_benchmark_share = 0.05\ntutoring_active_hours = 22\n",
                    encoding="utf-8")
    config = load_case_config(case)
    assert config.benign_checks.eval_benchmark_share == 0.05
    assert config.benign_checks.agent_follow_up_share == 0.3
    recorded = manifest.config_section(RunConfig(data_dir=tmp_path, case=config))
    assert recorded["case"]["benign_checks"]["tutoring_active_hours"] == 22
    for bad in ({"eval_benchmark_share": 1.5}, {"tutoring_active_hours": 25},
                {"tutoring_active_hours": 20.5}, {"no_such_check": 1}):
        with pytest.raises(ValidationError):
            CaseConfig.model_validate({"benign_checks": bad})


def test_benign_check_verdicts_follow_the_thresholds() -> None:
    """The same cluster numbers reject a look-alike under one threshold and leave it open
    under another: an evaluation company at 15 % benchmark-format requests is rejected at the
    default 20 % and stays open at 10 %; a tutoring app needs both of its conditions."""
    from forensics.config import BenignChecksSection
    from forensics.evidence.clusters import _benign_checks

    # follow-up share, distinct templates per request, benchmark share, UTC hours active
    measured = (0.1, 0.4, 0.15, 21)

    def rejected(limits: BenignChecksSection) -> dict[str, bool]:
        return {c.lookalike: c.rejected for c in _benign_checks(measured, 3, True, limits)}

    default = rejected(BenignChecksSection())
    assert default["evaluation company or eval harness"]
    assert default["tutoring app or human users"]
    assert default["templated enterprise job"]
    relaxed = rejected(BenignChecksSection(eval_benchmark_share=0.1, tutoring_active_hours=22,
                                           enterprise_template_variety=0.3))
    assert not relaxed["evaluation company or eval harness"]
    assert not relaxed["tutoring app or human users"]
    assert not relaxed["templated enterprise job"]
    assert relaxed["agent or IDE product with real users"] == \
        default["agent or IDE product with real users"]


@pytest.mark.parametrize(("toml", "expected"), [
    ('[engine]\nname = "sparky"\n', "engine.name"),
    ('[engine.spark_conf]\n"sql.shuffle.partitions" = "4"\n', "starting with 'spark.'"),
    ('[engine.spark_conf]\n"spark.sql.shuffle.partitions" = 4\n', "valid string"),
    ('[engine]\nspark_driver_memory = "lots"\n', "engine.spark_driver_memory"),
    ('[engine]\nspark_staging = "s3a://bucket/stage"\n', "is a URI"),
])
def test_bad_engine_settings_are_refused(tmp_path: Path, toml: str, expected: str) -> None:
    err, _ = run_with_config(tmp_path, toml)
    assert expected in err
