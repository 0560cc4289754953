"""A kept database (--workdir): a rerun on the same inputs reuses the input checks and the
feature tables, and anything that could change them makes the rerun redo them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from forensics import resources

from .conftest import account_rows, assert_clean_failure, make_export, request_rows, run_cli

EVIDENCE = ("signals.parquet", "findings.parquet", "findings.json", "dossier.html",
            "dossier.pdf")


def run(data: Path, out: Path, workdir: Path | None, *extra: str | Path) -> dict[str, bytes]:
    """Run into `out` (replaced), check success; the evidence files' bytes and whether the
    input checks and the features were reused."""
    args: list[str | Path] = ["run", data, "--out", out, "--force", "--quiet", *extra]
    if workdir is not None:
        args += ["--workdir", workdir]
    outcome = run_cli(*args)
    assert outcome.exit_code == 0, outcome.stderr
    files = {name: (out / name).read_bytes() for name in EVIDENCE}
    timings = json.loads((out / "diagnostics" / "timings.json").read_text(encoding="utf-8"))
    files["reused"] = b"yes" if timings["features_reused"] else b"no"
    files["checked"] = b"reused" if timings["validation_reused"] else b"afresh"
    return files


def two_exports(tmp_path: Path) -> tuple[Path, Path]:
    first = make_export(tmp_path / "first", request_rows(8, "acct_a") + request_rows(5, "acct_b"),
                        account_rows("acct_a", "acct_b"))
    second = make_export(tmp_path / "second", request_rows(9, "acct_c"), account_rows("acct_c"))
    return first, second


def test_rerun_reuses_features_and_gives_the_same_bytes(tmp_path: Path) -> None:
    first, _ = two_exports(tmp_path)
    out, workdir = tmp_path / "out", tmp_path / "work"
    fresh = run(first, out, None)
    built = run(first, out, workdir)
    rerun = run(first, out, workdir)
    assert (fresh["reused"], built["reused"], rerun["reused"]) == (b"no", b"no", b"yes")
    assert (fresh["checked"], built["checked"], rerun["checked"]) == (
        b"afresh", b"afresh", b"reused")
    same = {"reused": b"no", "checked": b"afresh"}
    assert fresh == {**built, **same} == {**rerun, **same}


def test_other_inputs_in_the_same_workdir_are_analysed_afresh(tmp_path: Path) -> None:
    first, second = two_exports(tmp_path)
    out, workdir = tmp_path / "out", tmp_path / "work"
    run(first, out, workdir)
    other = run(second, out, workdir)
    assert (other["reused"], other["checked"]) == (b"no", b"afresh")
    assert other == run(second, out, None)
    # The same files under another window are other features too.
    windowed = run(second, out, workdir, "--since", "2026-07-06T09:03:00")
    assert (windowed["reused"], windowed["checked"]) == (b"no", b"afresh")
    assert windowed["findings.json"] != other["findings.json"]


def test_interrupted_rebuild_is_never_reused(tmp_path: Path) -> None:
    """A rebuild that fails halfway has already replaced some tables: the fingerprint of the
    earlier, complete build must be gone, or a rerun on the earlier inputs would read them."""
    first, second = two_exports(tmp_path)
    out, workdir = tmp_path / "out", tmp_path / "work"
    before = run(first, out, workdir)
    broken = tmp_path / "queries"
    shutil.copytree(resources.queries_dir(), broken)
    (broken / "features" / "60_indicator_hits.sql").write_text(
        "SELECT * FROM no_such_table;\n", encoding="utf-8")
    failed = run_cli("run", second, "--out", tmp_path / "failed", "--quiet",
                     "--workdir", workdir, "--queries", broken)
    assert failed.exit_code != 0
    after = run(first, out, workdir)
    assert after["reused"] == b"no"
    assert after == before


def test_a_file_changed_in_place_is_checked_again(tmp_path: Path) -> None:
    """Same paths, other bytes: the remembered checks no longer apply, and a value that is now
    bad is refused as it would be without a workdir."""
    first, _ = two_exports(tmp_path)
    out, workdir = tmp_path / "out", tmp_path / "work"
    run(first, out, workdir)
    bad = request_rows(8, "acct_a") + request_rows(5, "acct_b")
    bad[3]["account_id"] = None
    make_export(first, bad, account_rows("acct_a", "acct_b"))
    refused = run_cli("run", first, "--out", tmp_path / "refused", "--quiet",
                      "--workdir", workdir)
    assert_clean_failure(refused, "requests.parquet", "'account_id'", "1 null value",
                         out_dir=tmp_path / "refused")


def test_failed_checks_of_other_files_are_never_taken_for_the_earlier_ones(
        tmp_path: Path) -> None:
    """Checking other files replaces the database's views of the inputs before it can fail:
    the earlier files' remembered checks must be gone, or a rerun on them would read the
    views of the files that failed."""
    first, _ = two_exports(tmp_path)
    out, workdir = tmp_path / "out", tmp_path / "work"
    before = run(first, out, workdir)
    bad = request_rows(9, "acct_c")
    bad[0]["account_id"] = None
    broken = make_export(tmp_path / "broken", bad, account_rows("acct_c"))
    refused = run_cli("run", broken, "--out", tmp_path / "refused", "--quiet",
                      "--workdir", workdir)
    assert refused.exit_code == 2, refused.stderr
    after = run(first, out, workdir)
    # The feature tables were never touched: only the checks are redone.
    assert (after["checked"], after["reused"]) == (b"afresh", b"yes")
    assert after == {**before, "reused": b"yes"}
