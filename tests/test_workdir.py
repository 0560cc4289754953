"""A kept database (--workdir): a rerun on the same inputs reuses the feature tables, and
anything that could change them makes the rerun build them again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from forensics import resources

from .conftest import account_rows, make_export, request_rows, run_cli

EVIDENCE = ("signals.parquet", "findings.parquet", "findings.json", "dossier.html",
            "dossier.pdf")


def run(data: Path, out: Path, workdir: Path | None, *extra: str | Path) -> dict[str, bytes]:
    """Run into `out` (replaced), check success; the evidence files' bytes and whether the
    features were reused."""
    args: list[str | Path] = ["run", data, "--out", out, "--force", "--quiet", *extra]
    if workdir is not None:
        args += ["--workdir", workdir]
    outcome = run_cli(*args)
    assert outcome.exit_code == 0, outcome.stderr
    files = {name: (out / name).read_bytes() for name in EVIDENCE}
    timings = json.loads((out / "diagnostics" / "timings.json").read_text(encoding="utf-8"))
    files["reused"] = b"yes" if timings["features_reused"] else b"no"
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
    assert fresh == {**built, "reused": b"no"} == {**rerun, "reused": b"no"}


def test_other_inputs_in_the_same_workdir_are_analysed_afresh(tmp_path: Path) -> None:
    first, second = two_exports(tmp_path)
    out, workdir = tmp_path / "out", tmp_path / "work"
    run(first, out, workdir)
    other = run(second, out, workdir)
    assert other["reused"] == b"no"
    assert other == run(second, out, None)
    # The same files under another window are other features too.
    windowed = run(second, out, workdir, "--since", "2026-07-06T09:03:00")
    assert windowed["reused"] == b"no"
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
