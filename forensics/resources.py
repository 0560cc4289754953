"""Where the bundled SQL heuristics, lexicons and templates live (wheel or source checkout)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _bundled(name: str) -> Path:
    # In a wheel, hatchling force-includes queries/ and templates/ under forensics/_data;
    # in a source checkout (editable install, tests) they sit at the top of the repo.
    packaged = Path(str(resources.files("forensics").joinpath("_data", name)))
    if packaged.is_dir():
        return packaged
    return _REPO_ROOT / name


def queries_dir(override: Path | None = None) -> Path:
    """The heuristic library: `queries/<family>/<id>.sql` plus `queries/lexicons/*.csv`."""
    return Path(override) if override else _bundled("queries")


def queries_part(name: str, override: Path | None = None) -> Path:
    """A support folder of the library (`features`, `linking`, `lexicons`, `report`): the
    custom library's own when it has one, else the bundled one, so that `--queries DIR` may
    hold just heuristic files."""
    if override is not None and (Path(override) / name).is_dir():
        return Path(override) / name
    return queries_dir() / name


def lexicons_dir(override: Path | None = None) -> Path:
    """The word lists and fingerprints, kept beside the heuristics."""
    return queries_part("lexicons", override)


def templates_dir(override: Path | None = None) -> Path:
    """The jinja2 templates, CSS and bundled fonts of the dossier."""
    return Path(override) if override else _bundled("templates")


def validation_file(name: str) -> Path:
    """A file of the method-validation data packaged in `forensics/validation/` (the
    benchmark's figures, the sources of error); the path may not exist (no benchmark yet)."""
    return Path(str(resources.files("forensics").joinpath("validation", name)))
