"""Atomic output directories: everything is written to a temporary folder beside the target
and renamed into place only when complete, so no reader ever sees a partial dossier."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from forensics.errors import OutputError

# A folder holding any of these is a previous run's output, replaced only with --force.
RUN_MARKERS = ("manifest.json", "dossier.pdf", "dossier.html", "findings.json")


def check_target(out_dir: Path, force: bool) -> None:
    """Fail early, before any work, when the output directory cannot be used as asked."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("output path exists and is not a directory", file=str(out_dir))
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise OutputError("parent folder of the output directory does not exist",
                          file=str(out_dir))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError("output location is not writable", file=str(parent))
    if out_dir.is_dir():
        if any((out_dir / m).exists() for m in RUN_MARKERS) and not force:
            raise OutputError("output directory already holds a dossier or manifest; "
                              "pass --force to replace it", file=str(out_dir))
        if not force and any(out_dir.iterdir()):
            raise OutputError("output directory is not empty; pass --force to replace it",
                              file=str(out_dir))


@contextlib.contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success swap it in for `out_dir`, on any error remove it."""
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
            os.rename(out_dir, old / "previous")
            try:
                os.rename(tmp, out_dir)
            except OSError:
                os.rename(old / "previous", out_dir)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write one file through a temporary name in the same folder."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
