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
                 or ".old-" in p.name or p.name.endswith(".lock")]
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


def test_running_out_of_memory_names_the_sql_file_and_statement(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of memory in a statement of a SQL file (here linking's tests of chance): the one
    line names the file and the statement, so the operator knows which step to give memory."""
    import duckdb

    from forensics import sqlfiles

    real = sqlfiles.DuckDBEngine.execute

    def execute(self: sqlfiles.DuckDBEngine, sql: str, params: object = None) -> None:
        if "CREATE OR REPLACE TABLE link_tests" in sql:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block "
                                              "of size 256.0 KiB (64.0 MiB/64.0 MiB used)")
        real(self, sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlfiles.DuckDBEngine, "execute", execute)
    out = tmp_path / "out"
    outcome = run_cli("run", make_export(tmp_path / "data"), "--out", out)
    err = assert_clean_failure(outcome, "[engine] memory_limit is too small",
                               "could not allocate block", out_dir=out)
    assert "45_link_tests.sql, statement 5 of 9" in err


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



def test_the_stage_driver_holds_the_test_pause_not_ingest(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pause the interrupt and lock tests use is taken by the stage driver after a stage
    (timings.StageClock), never inside ingest: ingest called on its own (validate, the heuristic
    cases) does not stop for it."""
    import duckdb

    from forensics.ingest import ingest
    from forensics.timings import StageClock

    monkeypatch.setenv("FORENSICS_TEST_PAUSE_STAGE", "ingest")
    monkeypatch.setenv("FORENSICS_TEST_PAUSE_SECONDS", "0")
    ingest(duckdb.connect(), data_dir)
    assert "test pause" not in capsys.readouterr().err
    clock = StageClock()
    with clock.stage("features"):
        pass
    assert "test pause" not in capsys.readouterr().err
    with clock.stage("ingest"):
        pass
    assert "test pause after ingest" in capsys.readouterr().err
    assert set(clock.seconds) == {"features", "ingest"}


def test_timings_json_has_its_keys_whatever_the_run_rendered() -> None:
    """diagnostics/timings.json is the typed Timings as canonical JSON: the same keys for
    every run, the report's parts only when they ran, `report` empty without a dossier."""
    from forensics.timings import ReportTimings, Timings

    report = ReportTimings(assemble=1.5, html=0.25, pdf=2.0, leak_check=None,
                           queries={"totals": 0.5, "activity": 0.25})
    timings = Timings(stages={"ingest": 1.0, "report": 4.0}, validation_reused=False,
                      features_reused=True, peak_rss_mib=100.5, heuristics={"h": 0.1},
                      report=report, spill_directory="/tmp/spill")
    doc = json.loads(timings.to_json())
    assert list(doc) == ["features_reused", "heuristics", "peak_rss_mib", "report",
                         "spill_directory", "stages", "validation_reused"]
    assert doc["report"] == {"assemble": 1.5, "html": 0.25, "pdf": 2.0, "queries": 0.75,
                             "query:activity": 0.25, "query:totals": 0.5}
    without = Timings(**{**timings.__dict__, "report": None})
    assert json.loads(without.to_json())["report"] == {}


# --- the output lock and the leftovers of killed runs ---------------------------------------

def paused_run(data: Path, out: Path, stage: str, *extra: str | Path,
               resume: Path | None = None) -> subprocess.Popen[str]:
    """A `forensics run` in a subprocess, returned once it is paused after `stage` (see
    outputs.pause_for_tests); it goes on when `resume` is created, or waits 60 s."""
    env = {**os.environ, "FORENSICS_TEST_PAUSE_STAGE": stage,
           "FORENSICS_TEST_PAUSE_SECONDS": "60"}
    if resume is not None:
        env["FORENSICS_TEST_RESUME_FILE"] = str(resume)
    proc = subprocess.Popen([str(FORENSICS), "run", str(data), "--out", str(out),
                             *map(str, extra)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "test pause after" not in line:
        proc.kill()
        raise AssertionError(line + proc.stderr.read())
    return proc


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_run_on_an_output_in_use_is_refused(tmp_path: Path) -> None:
    """Two runs into one --out at once: the second is refused with exit 2 naming the first
    (with or without --force), and the first goes on to publish its dossier."""
    data = make_export(tmp_path / "data")
    out = tmp_path / "out"
    resume = tmp_path / "resume"
    first = paused_run(data, out, "ingest", resume=resume)
    try:
        for extra in ((), ("--force",)):
            second = run_cli("run", data, "--out", out, *extra)
            assert_clean_failure(second, f"out: output directory is in use by forensics run "
                                         f"pid {first.pid} on host ",
                                 f"(lock file {tmp_path / '.out.lock'}); wait for that run to "
                                 f"end or choose another --out")
            # The refused run took nothing from the first: its lock record is intact.
            assert json.loads((tmp_path / ".out.lock").read_text())["pid"] == first.pid
            assert not out.exists()
        resume.touch()
        assert first.stderr is not None
        rest = first.stderr.read()
        assert first.wait(timeout=120) == 0, rest
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out", "resume"]


def test_killed_run_leaves_nothing_that_blocks_or_stays(tmp_path: Path) -> None:
    """A run killed (SIGKILL) with every file written leaves its lock file, its partial output
    folder and its scratch database folder; the next run is not blocked by the lock, and
    removes the folders, since their owner is gone."""
    data = make_export(tmp_path / "data")
    scratch = tmp_path / "scratch"
    case = tmp_path / "case.toml"
    case.write_text(f"[engine]\ntemp_directory = {json.dumps(str(scratch))}\n")
    out = tmp_path / "out"
    killed = paused_run(data, out, "publish", "--config", case)
    killed.kill()
    killed.wait()
    assert killed.stderr is not None
    killed.stderr.close()
    lock = tmp_path / ".out.lock"
    assert json.loads(lock.read_text())["pid"] == killed.pid
    partials = [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial-")]
    assert [p.name.split("-")[1] for p in partials] == [str(killed.pid)]
    assert [p.name.split("-")[2] for p in scratch.iterdir()] == [str(killed.pid)]

    outcome = run_cli("run", data, "--out", out, "--config", case)
    assert outcome.exit_code == 0, outcome.stderr
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml", "data", "out",
                                                          "scratch"]
    assert list(scratch.iterdir()) == []


def test_stale_lock_record_is_replaced(tmp_path: Path) -> None:
    """A lock file whose recorded holder has ended is taken over, reported as stale, and
    removed when the new holder is done."""
    from forensics.outputs import _host, lock_path, output_lock

    out = tmp_path / "out"
    pid = dead_pid()
    lock = lock_path(out)
    lock.write_text(json.dumps({"pid": pid, "host": _host(),
                                "started": "2026-01-01T00:00:00+00:00"}))
    with output_lock(out) as held:
        assert held.stale is not None and f"pid {pid} " in held.stale
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_lock_held_by_another_process_refuses(tmp_path: Path) -> None:
    """output_lock refuses while another process holds the flock, even on a lock file with
    no record yet, and works again once that process has ended."""
    from forensics.outputs import lock_path, output_lock

    out = tmp_path / "new" / "out"
    out.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; "
         f"fd = os.open({str(lock_path(out))!r}, os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(OutputError, match="in use by another forensics run"), \
                output_lock(out):
            pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out) as held:
        assert held.stale is None
    assert sorted(p.name for p in out.parent.iterdir()) == []


def test_stale_partial_folders_are_removed_live_ones_kept(tmp_path: Path) -> None:
    """Beside an output, partial folders of a dead owner are removed; those of a live owner,
    of another output and without an owner in their name are not (the last is reported)."""
    from forensics.outputs import _host, sweep_stale_outputs

    live = subprocess.Popen(["sleep", "60"])
    try:
        gone = dead_pid()
        host = _host()
        stale = tmp_path / f".out.partial-{gone}-{host}-0123abcd"
        alive = tmp_path / f".out.partial-{live.pid}-{host}-89abcdef"
        other_output = tmp_path / f".other.partial-{gone}-{host}-0123abcd"
        unowned = tmp_path / ".out.partial-k2j4h5g6"
        other_host = tmp_path / f".out.partial-{gone}-elsewhere-0123abcd"
        for folder in (stale, alive, other_output, unowned, other_host):
            folder.mkdir()
            (folder / "dossier.pdf").write_text("half")
        found = sweep_stale_outputs(tmp_path / "out")
        assert found.removed == (stale,)
        assert set(found.kept) == {unowned, other_host}
        assert "left in place" in found.notes("a partial output folder")[-1]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            p.name for p in (alive, other_output, unowned, other_host))
    finally:
        live.kill()
        live.wait()


def test_previous_output_of_a_run_killed_mid_swap_is_restored(tmp_path: Path) -> None:
    """A run killed between moving the previous output aside and moving the new one in left
    the previous one only in `.old-*/previous`: the sweep puts it back."""
    from forensics.outputs import _host, sweep_stale_outputs

    out = tmp_path / "out"
    old = tmp_path / f".out.old-{dead_pid()}-{_host()}-0123abcd"
    previous_output(old / "previous")
    assert sweep_stale_outputs(out).removed == (old,)
    assert_previous_intact(out)


def test_stale_scratch_folders_are_removed_live_ones_kept(tmp_path: Path) -> None:
    """Scratch database folders in temp_directory: a dead owner's is removed when the next
    run opens its database, a live owner's is kept, and the run removes its own at the end."""
    from forensics import engine
    from forensics.config import EngineSection
    from forensics.outputs import _host

    live = subprocess.Popen(["sleep", "60"])
    try:
        stale = tmp_path / f"forensics-db-{dead_pid()}-{_host()}-0123abcd"
        alive = tmp_path / f"forensics-db-{live.pid}-{_host()}-89abcdef"
        for folder in (stale, alive):
            folder.mkdir()
            (folder / "forensics.duckdb").write_bytes(b"x" * 100)
        notes: list[str] = []
        with engine.database(EngineSection(temp_directory=str(tmp_path)),
                             progress=notes.append) as con:
            assert con.execute("SELECT 42").fetchone() == (42,)
            own = [p for p in tmp_path.iterdir() if p.name.startswith(
                f"forensics-db-{os.getpid()}-")]
            assert len(own) == 1
            assert engine.spill_directory(con) == str(own[0] / "spill")
        assert sorted(tmp_path.iterdir()) == [alive]
        assert notes == [f"removed a scratch database folder left by a run that no longer "
                         f"exists: {stale}"]
    finally:
        live.kill()
        live.wait()
