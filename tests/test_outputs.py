"""The output folder: refused when unusable, replaced only with --force, never left partial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.errors import OutputError
from forensics.outputs import atomic_dir, check_target

from .conftest import (
    CliOutcome,
    FullRun,
    assert_clean_failure,
    assert_no_output,
    make_export,
    one_heuristic_library,
    run_cli,
)

FORENSICS = Path(sys.executable).parent / "forensics"


def refused_run(tmp_path: Path, out: Path, *extra: str) -> CliOutcome:
    """A run on a valid export that must be refused for its output folder."""
    data = make_export(tmp_path / "data")
    return run_cli("run", data, "--out", out, "--queries",
                   one_heuristic_library(tmp_path / "queries"), *extra)


def previous_output(out: Path) -> None:
    """An output folder as an earlier run left it, with a marker to check it survives."""
    out.mkdir(parents=True)
    (out / "manifest.json").write_text('{"earlier": true}\n')
    (out / "marker.txt").write_text("from the earlier run\n")


def assert_previous_intact(out: Path) -> None:
    """The earlier run's folder is exactly as it was, with no temporary folder beside it."""
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "marker.txt"]
    assert (out / "marker.txt").read_text() == "from the earlier run\n"
    assert json.loads((out / "manifest.json").read_text()) == {"earlier": True}
    leftovers = [p.name for p in out.parent.iterdir() if ".partial-" in p.name
                 or ".old-" in p.name]
    assert not leftovers, leftovers


def test_out_is_a_file(tmp_path: Path) -> None:
    """An output path that is a file is refused and the file is left alone."""
    out = tmp_path / "out"
    out.write_text("keep me")
    err = assert_clean_failure(refused_run(tmp_path, out, "--force"))
    assert "out: output path exists and is not a directory (expected a folder to write the " \
           "dossier into)" in err
    assert out.read_text() == "keep me"


def test_out_below_a_file(tmp_path: Path) -> None:
    """An output path below a file cannot be created and says why."""
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "out"
    err = assert_clean_failure(refused_run(tmp_path, out))
    assert f"file/out: cannot create the output directory: {tmp_path / 'file'} is a file, not " \
           f"a folder" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_out_not_writable(tmp_path: Path) -> None:
    """An output location this user cannot write to is refused before any work."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        out = locked / "out"
        err = assert_clean_failure(refused_run(tmp_path, out), out_dir=out)
        assert "locked: output location is not writable" in err
    finally:
        locked.chmod(0o700)


def test_not_writable_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """check_target asks the OS whether the location is writable (also when run as root)."""
    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)
    with pytest.raises(OutputError, match="output location is not writable"):
        check_target(tmp_path / "out", force=False)


def test_running_out_of_memory_is_a_clean_config_error(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB hitting [engine] memory_limit mid-run: exit 2, one line naming the setting, no
    traceback and no output."""
    import duckdb

    from forensics import api

    def exhausted(*_a: object, **_k: object) -> None:
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of "
                                          "size 256.0 KiB (64.0 MiB/64.0 MiB used)")

    monkeypatch.setattr(api, "build_clusters", exhausted)
    out = tmp_path / "out"
    outcome = run_cli("run", make_export(tmp_path / "data"), "--out", out)
    assert_clean_failure(outcome, "[engine] memory_limit is too small",
                         "could not allocate block", out_dir=out)


def test_existing_dossier_refused_without_force(tmp_path: Path) -> None:
    """A folder holding an earlier manifest is refused without --force and left intact."""
    out = tmp_path / "out"
    previous_output(out)
    err = assert_clean_failure(refused_run(tmp_path, out))
    assert "out: output directory already holds a dossier or manifest; pass --force to " \
           "replace it" in err
    assert_previous_intact(out)


def test_non_empty_folder_refused_without_force(tmp_path: Path) -> None:
    """A folder with other files in it is refused without --force."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    err = assert_clean_failure(refused_run(tmp_path, out))
    assert "output directory is not empty; pass --force to replace it" in err
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("where", ["same", "inside"])
def test_out_overlapping_the_data_is_refused_even_with_force(tmp_path: Path, where: str) -> None:
    """--out on the data directory (or a folder of it) is refused: --force would delete it."""
    data = make_export(tmp_path / "data")
    (data / "requests.parquet").rename(tmp_path / "part-0.parquet")
    (data / "requests").mkdir()
    (tmp_path / "part-0.parquet").rename(data / "requests" / "part-0.parquet")
    out = data if where == "same" else data / "requests"
    before = sorted(p.name for p in data.iterdir())
    outcome = run_cli("run", data, "--out", out, "--force")
    assert_clean_failure(outcome, "output directory overlaps the input")
    assert sorted(p.name for p in data.iterdir()) == before


def test_force_replaces_old_content(tmp_path: Path) -> None:
    """With --force the earlier folder is replaced as a whole by the new run's outputs."""
    data = make_export(tmp_path / "data")
    out = tmp_path / "out"
    previous_output(out)
    outcome = run_cli("run", data, "--out", out, "--force")
    assert outcome.exit_code == 0, outcome.stderr
    assert not (out / "marker.txt").exists()
    assert "inputs" in json.loads((out / "manifest.json").read_text())
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_missing_parents_are_created(full_run: FullRun) -> None:
    """An output folder whose parents do not exist yet is created with them, and nothing
    temporary is left beside it."""
    assert full_run.out_dir.parent.name == "parents"
    assert (full_run.out_dir / "manifest.json").is_file()
    assert sorted(p.name for p in full_run.out_dir.parent.iterdir()) == ["out"]


def test_failed_run_leaves_no_parents(tmp_path: Path) -> None:
    """A refused run does not leave the parent folders it would have created."""
    out = tmp_path / "a" / "b" / "out"
    outcome = run_cli("run", tmp_path / "missing", "--out", out, "--queries",
                      one_heuristic_library(tmp_path / "queries"))
    assert_clean_failure(outcome, "data directory does not exist", out_dir=out)
    assert not (tmp_path / "a").exists()


def test_atomic_dir_removes_everything_on_error(tmp_path: Path) -> None:
    """An error while writing removes the temporary folder and the parents made for it."""
    out = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("boom")
    assert not (tmp_path / "new").exists()


def test_atomic_dir_keeps_previous_on_error(tmp_path: Path) -> None:
    """An error while writing leaves the previous folder exactly as it was."""
    out = tmp_path / "out"
    previous_output(out)
    with pytest.raises(KeyboardInterrupt), atomic_dir(out) as tmp:
        (tmp / "manifest.json").write_text("new")
        raise KeyboardInterrupt
    assert_previous_intact(out)


def test_atomic_dir_swaps_in_on_success(tmp_path: Path) -> None:
    """On success the new folder replaces the old one and nothing temporary remains."""
    out = tmp_path / "out"
    previous_output(out)
    with atomic_dir(out) as tmp:
        (tmp / "manifest.json").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --- interrupts -----------------------------------------------------------------------------

# Runs that reach "publish" render the dossier and cost seconds each: SIGINT at publish is
# covered by the first-run test below.
@pytest.mark.parametrize(("signum", "stage"), [(signal.SIGTERM, "ingest"),
                                               (signal.SIGINT, "ingest"),
                                               (signal.SIGTERM, "publish")])
def test_interrupt_keeps_previous_output(tmp_path: Path, stage: str, signum: int) -> None:
    """SIGTERM or SIGINT after ingest, or with every file written but not yet published, exits
    non-zero, keeps the earlier output folder intact and leaves no partial folder."""
    data = make_export(tmp_path / "data")
    out = tmp_path / "out"
    previous_output(out)
    env = {**os.environ, "FORENSICS_TEST_PAUSE_STAGE": stage,
           "FORENSICS_TEST_PAUSE_SECONDS": "30"}
    proc = subprocess.Popen([str(FORENSICS), "run", str(data), "--out", str(out), "--force"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stderr is not None
    try:
        # The hook prints one line when the run reaches the stage, then sleeps.
        line = proc.stderr.readline()
        assert "test pause after" in line, line
        if stage == "publish":
            assert [p for p in tmp_path.iterdir() if ".partial-" in p.name]
        proc.send_signal(signum)
        rest = proc.stderr.read()
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 128 + signum, rest
    assert rest.startswith("Error: interrupted; no partial output was left behind"), rest
    assert "Traceback" not in rest
    assert_previous_intact(out)


def test_interrupt_of_first_run_leaves_nothing(tmp_path: Path) -> None:
    """SIGINT with every file written but not yet published leaves no output folder, no
    partial folder and no parent folder made for it."""
    data = make_export(tmp_path / "data")
    out = tmp_path / "new" / "out"
    env = {**os.environ, "FORENSICS_TEST_PAUSE_STAGE": "publish"}
    proc = subprocess.Popen([str(FORENSICS), "run", str(data), "--out", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env,
                            text=True)
    assert proc.stderr is not None
    try:
        assert "test pause after" in proc.stderr.readline()
        assert [p for p in (tmp_path / "new").iterdir() if ".partial-" in p.name]
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=30) == 128 + signal.SIGINT, rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert rest.startswith("Error: interrupted; no partial output was left behind"), rest
    assert_no_output(out)
    assert not (tmp_path / "new").exists()

