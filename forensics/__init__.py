"""forensics: offline forensic dossiers on distillation attacks in LLM API logs.

From Python (a notebook): `forensics.run(data, out)` analyses a data directory as
`forensics run` does and returns its findings as polars DataFrames; `forensics.read(out)`
reads those of a finished run. See forensics/results.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Results", "read", "run"]

if TYPE_CHECKING:
    from forensics.results import Results, read, run


def __getattr__(name: str) -> Any:
    # Imported on first use: `forensics --version` and the CLI's start-up stay light.
    if name in __all__:
        from forensics import results

        return getattr(results, name)
    raise AttributeError(f"module 'forensics' has no attribute {name!r}")
