"""What the dossier and the tool tell users cites only files that ship with the repository."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A file name as text mentions it: an optional relative folder, a stem, one of these endings.
# Only source-like endings: the JSON, Parquet, HTML and PDF files a run writes are not sources.
FILE_NAME = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w.-]*\w\.(?:md|py|sql|csv|ya?ml|j2))(?![\w/])")
# A leading placeholder folder of a usage line (OUT/labels.csv, OUT_DIR/data): the user's folder.
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*/")
# Files a run writes into its output folder: named in the text, never in the repository.
RUN_OUTPUTS = {"heuristics.sql"}
# Jinja code ({{ h.sql }}, {% include %}) is not text; its comments and the markup are.
JINJA_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# The project's internal briefs: not in the repository, never shipped, so never to be cited.
INTERNAL = re.compile(r"domain\.md|domain brief|STACK-NOTES|DESIGN\.md|STYLE\.md", re.I)
# Folders that are not the repository's own files (git, caches, environments, run outputs).
NOT_REPO = {".git", ".venv", ".tmp", ".pytest_cache", ".mypy_cache", ".ruff_cache",
            "__pycache__", "out", "dist", "build"}


@cache
def _repo_files() -> tuple[str, ...]:
    """Every file of the repository tree, as a path relative to its root: git's view (tracked
    files and new ones it does not ignore) where there is one, so that ignored run outputs
    (benchmark runs, dossiers) never count; else the tree minus the usual caches."""
    import subprocess

    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True).stdout.decode("utf-8")
        return tuple(sorted(p for p in listed.split("\0") if p and (ROOT / p).is_file()))
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in NOT_REPO and not d.endswith(".egg-info")]
        found += [(Path(folder) / f).relative_to(ROOT).as_posix() for f in files]
    return tuple(found)


def _python_strings(path: Path) -> str:
    """The string constants of a Python module (docstrings, messages, f-string parts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return "\n".join(node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str))


def user_texts() -> Iterator[tuple[str, str]]:
    """(name, text) of everything that can reach a dossier or a user: heuristic files and
    lexicons (headers and SQL are printed in the appendix), templates, the validation data,
    the README and the Python string constants of the package."""
    for path in sorted((ROOT / "queries").rglob("*")):
        if path.suffix in (".sql", ".csv"):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "templates").rglob("*.j2")):
        text = JINJA_CODE.sub(" ", path.read_text(encoding="utf-8"))
        yield path.relative_to(ROOT).as_posix(), text
    for path in sorted((ROOT / "forensics" / "validation").glob("*.yaml")):
        yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    yield "README.md", (ROOT / "README.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "forensics").rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), _python_strings(path)


def missing_files(text: str, repo: tuple[str, ...]) -> list[str]:
    """The file names mentioned in `text` that no file of the repository ends with."""
    missing = []
    for match in FILE_NAME.finditer(text):
        name = PLACEHOLDER.sub("", match.group(1))
        if name in RUN_OUTPUTS:
            continue
        if not any(f == name or f.endswith("/" + name) for f in repo):
            missing.append(match.group(1))
    return missing


def test_the_scan_finds_user_texts_and_file_names() -> None:
    """The scan reads the heuristic library, the templates, the validation data, the README and
    the report code, and its pattern picks out names and paths but not Jinja or prose."""
    names = {name for name, _ in user_texts()}
    assert {"queries/content/cot_elicitation_strong.sql", "queries/lexicons/signals.csv",
            "templates/partials/appendix.html.j2", "forensics/validation/sources_of_error.yaml",
            "README.md", "forensics/report/assemble.py"} <= names
    repo = _repo_files()
    assert missing_files("see domain.md §3 and queries/linking/45_link_tests.sql, "
                         "OUT/labels.csv, link_kinds.csv, sklearn.metrics", repo) == ["domain.md"]
    assert missing_files(JINJA_CODE.sub(" ", "<pre>{{ h.sql }}</pre>"), repo) == []


TEXTS = list(user_texts())


@pytest.mark.parametrize("name,text", TEXTS, ids=[name for name, _ in TEXTS])
def test_user_texts_cite_only_files_in_the_repository(name: str, text: str) -> None:
    """Every .md, .py, .sql, .csv, .yaml or .j2 file a user-facing text names exists in the
    repository: a dossier never sends its reader to a file they cannot have."""
    assert missing_files(text, _repo_files()) == [], name


def test_no_file_cites_the_internal_briefs() -> None:
    """No file of the repository (code comments included) cites the project's internal briefs
    (domain.md, the 'domain brief', the design, style and stack notes): facts are cited from
    their public sources instead."""
    this = Path(__file__).resolve().relative_to(ROOT).as_posix()
    offenders = []
    for rel in _repo_files():
        if rel == this:
            continue
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:  # Parquet and other binary files
            continue
        offenders += [f"{rel}: {m.group(0)}" for m in INTERNAL.finditer(text)]
    assert offenders == []
