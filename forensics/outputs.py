"""Atomic output directories: everything is written to a temporary folder beside the target
and renamed into place only when complete, so no reader ever sees a partial dossier."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from forensics.errors import OutputError

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
    """Sleep after `stage` when FORENSICS_TEST_PAUSE_STAGE names it (interrupt tests only)."""
    if os.environ.get("FORENSICS_TEST_PAUSE_STAGE") != stage:
        return
    # The line tells the test the run has reached the point where it should be interrupted.
    print(f"[forensics] test pause after {stage}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("FORENSICS_TEST_PAUSE_SECONDS", "30")))


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
    leaves the file system as it found it.
    """
    # Absolute, so that "." or "out/.." still name a folder beside which to work.
    out_dir = Path(os.path.abspath(out_dir))
    parent = out_dir.parent
    created = _make_parents(parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))
    try:
        yield tmp
        pause_for_tests("publish")
        os.chmod(tmp, 0o755)
        with signals_deferred():
            _swap_in(tmp, out_dir, parent)
    except BaseException:
        with signals_deferred():
            shutil.rmtree(tmp, ignore_errors=True)
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise


def _swap_in(tmp: Path, out_dir: Path, parent: Path) -> None:
    """Rename the finished folder into place, keeping the previous one until that succeeded."""
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
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
