"""Atomic output directories: everything is written to a temporary folder beside the target
and renamed into place only when complete, so no reader ever sees a partial dossier.

A run holds a lock beside its output folder for its whole length, so two runs never write one
output at once. Every temporary folder a run makes carries its owner (pid and host) in its
name, so that the folders a killed run left behind can be told from those of a live run and
removed by the next one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from forensics.errors import OutputError, os_fault

# A folder holding any of these is a previous run's output, replaced only with --force.
RUN_MARKERS = ("manifest.json", "dossier.pdf", "dossier.html", "findings.json")


def _nearest_existing(path: Path) -> Path:
    """`path` itself or its closest ancestor that exists."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _overlaps(out_dir: Path, source: Path) -> bool:
    """Whether replacing `out_dir` would delete or overwrite `source`."""
    out_abs, src_abs = out_dir.resolve(), source.resolve()
    return (out_abs == src_abs or out_abs in src_abs.parents
            or (src_abs.is_dir() and src_abs in out_abs.parents))


# --- folders that name their owner ----------------------------------------------------------

def _host() -> str:
    """This machine's name, reduced to characters that are safe in a file name."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def make_owned_dir(parent: Path, prefix: str) -> Path:
    """Create `parent/<prefix><pid>-<host>-<random>` (mode 0700) and return it.

    The pid and host in the name let a later run tell a folder left by a killed run (owner
    gone) from one a live run is writing, without any file inside that could be published.
    """
    for _ in range(100):
        path = parent / f"{prefix}{os.getpid()}-{_host()}-{secrets.token_hex(4)}"
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free temporary folder name", str(parent / prefix))


def _owner(name: str, prefix: str) -> tuple[int, str] | None:
    """The (pid, host) recorded in a folder name made by make_owned_dir, or None."""
    m = re.fullmatch(re.escape(prefix) + r"(\d+)-([A-Za-z0-9._]+)-[0-9a-f]{8}", name)
    return (int(m[1]), m[2]) if m else None


def process_gone(pid: int, host: str) -> bool:
    """Whether the process `pid` on `host` has certainly ended.

    Only a process of this machine can be asked; another host's is assumed alive.
    """
    if host != _host() or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, but another user's
        return False
    return False


@dataclass(frozen=True)
class Leftovers:
    """What a sweep of temporary folders found: removed (owner gone) and left in place."""

    removed: tuple[Path, ...] = ()
    kept: tuple[Path, ...] = ()

    def notes(self, what: str) -> list[str]:
        """Lines for the progress report."""
        lines = [f"removed {what} left by a run that no longer exists: {p}"
                 for p in self.removed]
        lines += [f"left in place {what} whose owner cannot be checked (another machine's "
                  f"run, or an older version's): {p}; remove it if no run is using it"
                  for p in self.kept]
        return lines


def sweep_stale(parent: Path, prefix: str,
                restore: Callable[[Path], None] | None = None) -> Leftovers:
    """Remove the folders `parent/<prefix>*` whose owner process has ended.

    Folders of a live owner are not touched; folders with no owner in their name (made by an
    older version, or by another machine's run) are reported, never removed. `restore`, when
    given, is called on each stale folder before it is removed.
    """
    removed: list[Path] = []
    kept: list[Path] = []
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return Leftovers()
    for path in entries:
        if not path.name.startswith(prefix) or not path.is_dir() or path.is_symlink():
            continue
        owner = _owner(path.name, prefix)
        if owner is None or owner[1] != _host():
            kept.append(path)
            continue
        if not process_gone(*owner):
            continue
        if restore is not None:
            restore(path)
        shutil.rmtree(path, ignore_errors=True)
        (kept if path.exists() else removed).append(path)
    return Leftovers(tuple(removed), tuple(kept))


def _partial_prefix(out_dir: Path) -> str:
    return f".{out_dir.name}.partial-"


def _old_prefix(out_dir: Path) -> str:
    return f".{out_dir.name}.old-"


def sweep_stale_outputs(out_dir: Path) -> Leftovers:
    """Remove the temporary folders killed runs left beside `out_dir`.

    A run killed between the two renames of a replacement left its previous output only in
    `.old-*/previous`; it is put back in place first, so no earlier dossier is lost.
    """
    out_dir = Path(os.path.abspath(out_dir))

    def put_back(old: Path) -> None:
        previous = old / "previous"
        if previous.is_dir() and not out_dir.exists():
            os.rename(previous, out_dir)

    partial = sweep_stale(out_dir.parent, _partial_prefix(out_dir))
    old = sweep_stale(out_dir.parent, _old_prefix(out_dir), restore=put_back)
    return Leftovers(partial.removed + old.removed, partial.kept + old.kept)


# --- the output lock -----------------------------------------------------------------------

@dataclass(frozen=True)
class OutputLock:
    """The lock a run holds on its output folder; `stale` names a dead holder it replaced."""

    path: Path
    stale: str | None = None


def lock_path(out_dir: Path) -> Path:
    """The lock file of an output folder: beside it, since the folder itself is replaced."""
    out_dir = Path(os.path.abspath(out_dir))
    return out_dir.parent / f".{out_dir.name}.lock"


def _read_holder(fd: int) -> dict[str, Any]:
    """The pid, host and start time a lock file records ({} when empty or unreadable)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        doc = json.loads(os.read(fd, 4096).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder.get("pid"):
        return "another forensics run (it has not yet recorded its pid)"
    return (f"forensics run pid {holder.get('pid')} on host {holder.get('host')}, started "
            f"{holder.get('started')}")


def _is_stale(holder: dict[str, Any]) -> bool:
    try:
        return process_gone(int(holder["pid"]), str(holder["host"]))
    except (KeyError, TypeError, ValueError):
        return False


def _lock_once(path: Path, out_dir: Path) -> tuple[int, dict[str, Any]] | None:
    """Open and lock `path`; None when the file was replaced meanwhile (try again)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        previous = _read_holder(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"output directory is in use by {_describe(_read_holder(fd))} (lock file "
                f"{path}); wait for that run to end or choose another --out",
                file=str(out_dir)) from None
        except OSError as exc:
            # A file system without locks (some network mounts): fall back to the recorded
            # pid, which still stops a second run on this machine.
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            if previous.get("pid") and not _is_stale(previous) and previous.get("pid") != \
                    os.getpid():
                raise OutputError(f"output directory is in use by {_describe(previous)} (lock "
                                  f"file {path}; this file system has no locks, so if that run "
                                  f"has ended, delete the file)", file=str(out_dir)) from None
        # The run that held the lock before us unlinks the file before unlocking it: if that
        # happened between our open and our lock, ours is an orphan and another run may lock
        # the new file. Locking only the file that is still at `path` keeps one holder.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        st = os.fstat(fd)
        if current is None or (current.st_dev, current.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            return None
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    return fd, previous


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[OutputLock]:
    """Hold the lock on `out_dir` for the block: a second run on the same output is refused
    (exit 2) with the holder named, instead of silently replacing the first one's dossier.

    The lock is an flock on `.<name>.lock` beside the output, recording pid, host and start
    time. The kernel drops it when its process dies, so a killed run never blocks the next;
    the file it leaves is reused and its stale record replaced. Missing parent folders are
    created for the lock file and removed again if the run leaves nothing in them.
    """
    out_dir = Path(os.path.abspath(out_dir))
    path = lock_path(out_dir)
    try:
        created = _make_parents(out_dir.parent)
    except OSError as exc:
        raise fault_error(exc, out_dir, "cannot create the output's parent folder") from exc
    try:
        try:
            for _ in range(100):
                if (locked := _lock_once(path, out_dir)) is not None:
                    break
            else:  # pragma: no cover - a hundred replacements in a row
                raise OutputError(f"cannot lock {path}: it keeps being replaced",
                                  file=str(out_dir))
        except OSError as exc:
            raise fault_error(exc, out_dir, "cannot create the output's lock file") from exc
        fd, previous = locked
        stale = _describe(previous) if previous.get("pid") and _is_stale(previous) else None
        record = {"pid": os.getpid(), "host": _host(),
                  "started": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode("utf-8") + b"\n", 0)
            try:
                yield OutputLock(path, stale)
            finally:
                # Unlink before unlocking: a run waiting on this file then sees it replaced.
                with contextlib.suppress(OSError):
                    os.unlink(path)
        finally:
            os.close(fd)
    finally:
        _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a run created that it left empty, deepest first."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def fault_error(exc: BaseException, out_dir: Path, doing: str,
                tmp: Path | None = None) -> BaseException:
    """An OutputError naming the path and the OS's words when `exc` is a fault of the machine
    (disk full, read-only, no permission); `exc` itself otherwise.

    A path inside the temporary folder `tmp` (removed by then) is named as the file it would
    have become in `out_dir`.
    """
    reason = os_fault(exc)
    if reason is None:
        return exc
    where = getattr(exc, "filename", None)
    if where is None and (quoted := re.search(r'"(/[^"]+)"', str(exc))):
        where = quoted[1]  # DuckDB names the file in quotes, not in an attribute
    if where is not None and tmp is not None:
        with contextlib.suppress(ValueError):
            where = str(out_dir / Path(os.path.abspath(where)).relative_to(tmp))
    return OutputError(f"{doing}: {reason} (expected free space and write permission there); "
                       f"nothing was written", file=str(where or out_dir))


def check_target(out_dir: Path, force: bool, inputs: Sequence[Path] = ()) -> None:
    """Fail early, before any work, when the output directory cannot be used as asked.

    `inputs` are the data directory and config file: an output folder that holds (or sits
    inside) one of them is refused, since publishing the run would replace the evidence.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("output path exists and is not a directory (expected a folder to "
                          "write the dossier into)", file=str(out_dir))
    base = _nearest_existing(Path(os.path.abspath(out_dir)).parent)
    if not base.is_dir():
        raise OutputError(f"cannot create the output directory: {base} is a file, not a folder",
                          file=str(out_dir))
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError("output location is not writable (expected a folder this user may "
                          "create files in)", file=str(base))
    for source in inputs:
        if _overlaps(out_dir, Path(source)):
            raise OutputError(f"output directory overlaps the input {source} (expected a "
                              f"folder outside the inputs, so that no run can alter or delete "
                              f"them)", file=str(out_dir))
    if out_dir.is_dir() and not force:
        if any((out_dir / m).exists() for m in RUN_MARKERS):
            raise OutputError("output directory already holds a dossier or manifest; "
                              "pass --force to replace it", file=str(out_dir))
        if any(out_dir.iterdir()):
            raise OutputError("output directory is not empty; pass --force to replace it",
                              file=str(out_dir))


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, so a rename sequence is never cut short.

    A signal that arrives meanwhile is delivered (and raises) as soon as the block is left.
    """
    blocked = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def pause_for_tests(stage: str) -> None:
    """Sleep after `stage` when FORENSICS_TEST_PAUSE_STAGE names it (interrupt and lock tests
    only), until FORENSICS_TEST_PAUSE_SECONDS pass or FORENSICS_TEST_RESUME_FILE exists."""
    if os.environ.get("FORENSICS_TEST_PAUSE_STAGE") != stage:
        return
    # The line tells the test the run has reached the point where it should be interrupted.
    print(f"[forensics] test pause after {stage}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + float(os.environ.get("FORENSICS_TEST_PAUSE_SECONDS", "30"))
    # A test that wants the run to go on (rather than be killed) creates this file.
    resume = os.environ.get("FORENSICS_TEST_RESUME_FILE")
    while time.monotonic() < deadline and not (resume and os.path.exists(resume)):
        time.sleep(0.05)


def _make_parents(parent: Path) -> list[Path]:
    """Create the missing folders above the output directory; return them, deepest first."""
    created: list[Path] = []
    missing = parent
    while not missing.exists():
        created.append(missing)
        missing = missing.parent
    for folder in reversed(created):
        folder.mkdir()
    return created


@contextlib.contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success swap it in for `out_dir`, on any error remove it.

    Missing parent folders are created, and removed again when the run fails, so a failed run
    leaves the file system as it found it. A fault of the machine while writing or publishing
    (disk full, read-only, no permission) becomes an OutputError naming the path.
    """
    # Absolute, so that "." or "out/.." still name a folder beside which to work.
    out_dir = Path(os.path.abspath(out_dir))
    parent = out_dir.parent
    try:
        created = _make_parents(parent)
        tmp = make_owned_dir(parent, _partial_prefix(out_dir))
    except OSError as exc:
        raise fault_error(exc, out_dir, "cannot create the output folder") from exc
    try:
        yield tmp
        pause_for_tests("publish")
        os.chmod(tmp, 0o755)
        with signals_deferred():
            _swap_in(tmp, out_dir, parent)
    except BaseException as exc:
        with signals_deferred():
            shutil.rmtree(tmp, ignore_errors=True)
            _remove_empty(created)
        if isinstance(exc, OSError | duckdb.Error):
            translated = fault_error(exc, out_dir, "cannot write the output", tmp)
            if translated is not exc:
                raise translated from exc
        raise


def _swap_in(tmp: Path, out_dir: Path, parent: Path) -> None:
    """Rename the finished folder into place, keeping the previous one until that succeeded."""
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        return
    old = make_owned_dir(parent, _old_prefix(out_dir))
    try:
        os.rename(out_dir, old / "previous")
    except OSError:
        old.rmdir()
        raise
    try:
        os.rename(tmp, out_dir)
    except OSError:
        os.rename(old / "previous", out_dir)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def dump_json(data: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, fixed separators, UTF-8, trailing newline."""
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=str)
            + "\n").encode("utf-8")


def file_digest(path: Path) -> str:
    """SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
