"""Faults of the machine and damaged files a run depends on: each is one `Error:` line naming
the path or key, exit 2, and nothing is left behind (issue 25)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from forensics import api, outputs, publish

from .conftest import (
    CliOutcome,
    assert_clean_failure,
    assert_no_output,
    make_export,
    one_heuristic_library,
    run_cli,
)


def short_run(tmp_path: Path, *extra: str | Path, out: Path | None = None) -> CliOutcome:
    """A run on a valid export with a one-heuristic library (for runs that must fail)."""
    data = make_export(tmp_path / "data")
    return run_cli("run", data, "--out", out or tmp_path / "out", "--queries",
                   one_heuristic_library(tmp_path / "queries"), *extra)


def scratch_case(tmp_path: Path, temp: Path) -> Path:
    """A case config whose [engine] temp_directory is `temp`."""
    case = tmp_path / "case.toml"
    case.write_text(f"[engine]\ntemp_directory = {json.dumps(str(temp))}\n", encoding="utf-8")
    return case


def assert_scratch_empty(temp: Path) -> None:
    """The run removed its scratch database folder from temp_directory."""
    assert not [p.name for p in temp.iterdir() if p.name.startswith("forensics-db-")]


# --- a full or read-only output disk --------------------------------------------------------

def test_disk_full_while_writing_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC half-way through writing findings.json: the file is named as the output file it
    would have become, and no output, partial folder, lock or scratch folder remains."""
    real = publish.write_findings

    def full_disk(con: Any, linked: Any, tmp: Path, info: Any, ids: Any = None) -> list[str]:
        names = real(con, linked, tmp, info, ids)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp / "findings.json"))
        return names  # pragma: no cover

    monkeypatch.setattr(publish, "write_findings", full_disk)
    temp = tmp_path / "temp"
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--config", scratch_case(tmp_path, temp), out=out)
    assert_clean_failure(outcome, f"{out / 'findings.json'}: cannot write the output: No space "
                                  f"left on device", "nothing was written", out_dir=out)
    assert_scratch_empty(temp)


def test_disk_full_while_duckdb_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB reports a full disk as an IOException with the OS's words and the file in
    quotes: still exit 2 naming the output file, not an internal error."""
    def full_disk(_con: Any, tmp: Path, _ids: Any = None) -> str:
        raise duckdb.IOException(f'IO Error: Could not write file "{tmp / "signals.parquet"}": '
                                 f'No space left on device')

    monkeypatch.setattr(publish, "write_signals", full_disk)
    out = tmp_path / "new" / "out"
    outcome = short_run(tmp_path, out=out)
    assert_clean_failure(outcome, f"{out / 'signals.parquet'}: cannot write the output: No "
                                  f"space left on device", out_dir=out)
    assert not (tmp_path / "new").exists()


def test_read_only_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only file system under --out (EROFS, which root meets too) fails at the first
    write, the lock file, naming it; the parents made for it are removed."""
    def read_only(path: Path, _out: Path) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(outputs, "_lock_once", read_only)
    out = tmp_path / "a" / "b" / "out"
    outcome = short_run(tmp_path, out=out)
    assert_clean_failure(outcome, f"{tmp_path / 'a' / 'b' / '.out.lock'}: cannot create the "
                                  f"output's lock file: Read-only file system", out_dir=out)
    assert not (tmp_path / "a").exists()


def test_permission_denied_at_publish_keeps_previous(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """EACCES when the finished folder is renamed into place: exit 2 naming the output, the
    previous output intact, no partial folder left."""
    def denied(_tmp: Path, out_dir: Path, _parent: Path) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(out_dir))

    monkeypatch.setattr(outputs, "_swap_in", denied)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"earlier": true}\n')
    outcome = short_run(tmp_path, "--force", out=out)
    assert_clean_failure(outcome, f"{out}: cannot write the output: Permission denied")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out", "queries"]
    assert json.loads((out / "manifest.json").read_text()) == {"earlier": True}


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_output_folder_for_real(tmp_path: Path) -> None:
    """A folder without write permission under --out is refused before any work."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        out = locked / "out"
        assert_clean_failure(short_run(tmp_path, out=out), "output location is not writable",
                             out_dir=out)
    finally:
        locked.chmod(0o700)


# --- temp_directory and --workdir -----------------------------------------------------------

def test_temp_directory_is_a_file(tmp_path: Path) -> None:
    """[engine] temp_directory naming a file is refused naming the setting and the path."""
    temp = tmp_path / "scratch"
    temp.write_text("not a folder")
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--config", scratch_case(tmp_path, temp), out=out)
    assert_clean_failure(outcome, f"{temp}: [engine] temp_directory is not a folder (expected "
                                  f"a folder for the run's scratch database and spill files)",
                         out_dir=out)
    assert temp.read_text() == "not a folder"


def test_temp_directory_cannot_be_created(tmp_path: Path) -> None:
    """A temp_directory below a file cannot be created, and the error says why."""
    (tmp_path / "file").write_text("x")
    temp = tmp_path / "file" / "scratch"
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--config", scratch_case(tmp_path, temp), out=out)
    assert_clean_failure(outcome, f"{temp}: [engine] temp_directory cannot be created (Not a "
                                  f"directory; expected a folder this user may create files "
                                  f"in)", out_dir=out)


def test_temp_directory_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temp_directory this user may not write to (asked of the OS, so also tested as root)
    is refused before DuckDB would first fail to spill, deep into a run."""
    temp = tmp_path / "scratch"
    temp.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != temp and real(
        p, mode, **kw))
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--config", scratch_case(tmp_path, temp), out=out)
    assert_clean_failure(outcome, f"{temp}: [engine] temp_directory is not writable",
                         out_dir=out)
    assert list(temp.iterdir()) == []


def test_workdir_database_is_garbage(tmp_path: Path) -> None:
    """A --workdir whose database file is not a DuckDB database: exit 2 naming the file, which
    is left as it was."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "forensics.duckdb").write_bytes(b"garbage" * 1000)
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--workdir", workdir, out=out)
    assert_clean_failure(outcome, f"{workdir / 'forensics.duckdb'}: --workdir database cannot "
                                  f"be opened as a DuckDB database",
                         "delete it (it is only a cache) or choose another --workdir",
                         out_dir=out)
    assert (workdir / "forensics.duckdb").read_bytes() == b"garbage" * 1000


def test_workdir_is_a_file(tmp_path: Path) -> None:
    """--workdir naming a file is refused, not an internal error."""
    workdir = tmp_path / "work"
    workdir.write_text("x")
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--workdir", workdir, out=out)
    assert_clean_failure(outcome, f"{workdir}: --workdir is not a folder", out_dir=out)


def test_workdir_database_damaged_mid_run(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A checksum failure on a block of the kept database, met after it opened: exit 2
    naming the database, no output."""
    def damaged(*_a: object, **_k: object) -> None:
        raise duckdb.Error("Corrupt database file: computed checksum 1 does not match stored "
                           "checksum 2 in block at location 12288")

    monkeypatch.setattr(api, "build_features", damaged)
    workdir = tmp_path / "work"
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--workdir", workdir, out=out)
    assert_clean_failure(outcome, f"{workdir / 'forensics.duckdb'}: --workdir database is "
                                  f"damaged (Corrupt database file", out_dir=out)


def test_full_scratch_disk_mid_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB running out of disk for the scratch database or spill files during a stage is
    the machine's fault: exit 2 naming the file, and the scratch folder is removed."""
    temp = tmp_path / "temp"

    def full(*_a: object, **_k: object) -> None:
        raise duckdb.IOException(f'IO Error: Could not write file "{temp}/x/spill/b.tmp": '
                                 f'No space left on device')

    monkeypatch.setattr(api, "build_features", full)
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--config", scratch_case(tmp_path, temp), out=out)
    assert_clean_failure(outcome, "the file system refused a write or read (IO Error: Could "
                                  "not write file", "No space left on device", out_dir=out)
    assert_scratch_empty(temp)


# --- --baseline and --period ----------------------------------------------------------------

@pytest.mark.parametrize(("findings", "message"), [
    ({"clusters": 5}, "baseline findings.json has a number as 'clusters' (expected a list of "
                      "clusters)"),
    ([1, 2], "baseline findings.json is a list (expected an object with a 'clusters' list)"),
    ({"accounts": []}, "baseline findings.json has no 'clusters' key"),
    ({"clusters": [1, {"cluster_id": "c1"}, "x"]},
     "is not a run's findings: clusters[0]: expected an object, found a number 1; clusters[2]: "
     "expected an object, found a string \"x\""),
    ({"clusters": [{"cluster_id": "c1", "flagged": True, "members": 5}]},
     "clusters[0].members: expected a list of account ids, found 5"),
    ({"clusters": [{"cluster_id": 7, "flagged": "yes", "accounts": -1, "requests": True}]},
     "clusters[0].cluster_id: expected a string, found 7; clusters[0].flagged: expected true "
     "or false, found \"yes\"; clusters[0].accounts: expected a whole number, found -1; "
     "clusters[0].requests: expected a whole number, found true"),
])
def test_corrupt_baseline(tmp_path: Path, findings: Any, message: str) -> None:
    """A --baseline whose findings.json has the wrong types is refused before any data is
    read, naming the file and the key (it used to end in "TypeError: 'int' object is not
    iterable" after the whole analysis)."""
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    (baseline / "findings.json").write_text(json.dumps(findings))
    out = tmp_path / "out"
    outcome = short_run(tmp_path, "--baseline", baseline, out=out)
    assert_clean_failure(outcome, f"{baseline / 'findings.json'}: {message}"
                         if "baseline findings.json" in message else message,
                         str(baseline / "findings.json"), out_dir=out)


def test_baseline_is_a_file(tmp_path: Path) -> None:
    """A --baseline that is a file, not an output folder, is named."""
    baseline = tmp_path / "findings.json"
    baseline.write_text("{}")
    out = tmp_path / "out"
    assert_clean_failure(short_run(tmp_path, "--baseline", baseline, out=out),
                         f"{baseline}: --baseline is not a folder", out_dir=out)


def test_out_holding_the_baseline_is_refused(tmp_path: Path) -> None:
    """--out on a folder that holds the --baseline is refused even with --force: publishing
    the run would delete the findings it compares against."""
    out = tmp_path / "runs"
    baseline = out / "2026Q2"
    baseline.mkdir(parents=True)
    (baseline / "findings.json").write_text('{"clusters": []}')
    outcome = short_run(tmp_path, "--baseline", baseline, "--force", out=out)
    assert_clean_failure(outcome, f"{out}: output directory overlaps the input {baseline}")
    assert (baseline / "findings.json").read_text() == '{"clusters": []}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "queries", "runs"]


def test_many_bad_baseline_clusters_are_counted(tmp_path: Path) -> None:
    """A baseline with hundreds of bad entries gives one line: five named and a count."""
    from forensics.errors import InputError
    from forensics.report.trend import load_baseline

    (tmp_path / "findings.json").write_text(json.dumps({"clusters": list(range(300))}))
    with pytest.raises(InputError) as caught:
        load_baseline(tmp_path)
    assert "clusters[4]: expected an object" in caught.value.line()
    assert "clusters[5]" not in caught.value.line()
    assert caught.value.line().endswith("; and 295 more")


@pytest.mark.parametrize("period", ["0000Q1", "9999Q4", "9999-12", "1969-12"])
def test_period_out_of_range(tmp_path: Path, period: str) -> None:
    """A --period whose year no log can have is a clear error, not "year 0 is out of range"
    as an internal error."""
    out = tmp_path / "out"
    assert_clean_failure(short_run(tmp_path, "--period", period, out=out),
                         f"period {period!r}: year {int(period[:4])} is outside 1970–2999",
                         out_dir=out)


def test_period_out_of_range_in_config(tmp_path: Path) -> None:
    """The same in the case file names the key."""
    case = tmp_path / "case.toml"
    case.write_text("[period]\nperiod = '9999Q4'\n")
    out = tmp_path / "out"
    assert_clean_failure(short_run(tmp_path, "--config", case, out=out),
                         "case.toml: period.period: period '9999Q4': year 9999 is outside",
                         out_dir=out)


def test_os_fault_elsewhere_is_still_exit_2(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk met where no stage translates it (here: loading the library) still exits
    2 with the path, not as an internal error."""
    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), "/dev/sdz1")

    monkeypatch.setattr(api, "load_library", full)
    out = tmp_path / "out"
    assert_clean_failure(short_run(tmp_path, out=out), "/dev/sdz1: Input/output error",
                         out_dir=out)
    assert_no_output(out)
