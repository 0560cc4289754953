"""Progress on stderr: what the run is doing, for how long, and how far a long step is.

Lines carry the time since the run started. A long DuckDB statement (the features scan reads
every request) shows its share done, which DuckDB itself measures (`query_progress`): as a
tqdm bar on a terminal, as a line every tenth in a log (`--progress` under nohup or CI), so
that a log is not filled with carriage returns.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import duckdb

POLL_SECONDS = 0.5


class Progress:
    """A progress reporter; calling it with a message writes one line (when enabled)."""

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[forensics {self.elapsed()}] {message}", file=self.stream, flush=True)

    @contextmanager
    def query(self, con: duckdb.DuckDBPyConnection, label: str) -> Iterator[None]:
        """Around one long statement on `con`: its share done, polled from another thread."""
        if not self.enabled:
            yield
            return
        done = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(con, label, done), daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()

    def _watch(self, con: duckdb.DuckDBPyConnection, label: str,
               done: threading.Event) -> None:
        bar: Any = None
        if self.stream.isatty():
            from tqdm import tqdm

            # A terminal that reports no width (a pty with no window) would get a bar of
            # no characters at all: assume the usual 100 columns there.
            columns = shutil.get_terminal_size((100, 24)).columns or 100
            bar = tqdm(total=100, desc=f"[forensics] {label}", unit="%", file=self.stream,
                       ncols=min(columns, 100),
                       bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed, "
                                  "{remaining} left", leave=False)
        shown = 0.0
        step = 0
        while not done.wait(POLL_SECONDS):
            try:
                share = float(con.query_progress())
            except duckdb.Error:
                break
            if share < 0:  # no statement running (yet)
                continue
            if bar is not None:
                bar.update(max(0.0, min(100.0, share) - shown))
                shown = min(100.0, max(shown, share))
            elif share >= (step + 1) * 10:
                step = int(share // 10)
                self(f"{label}: {step * 10} %")
        if bar is not None:
            bar.close()
