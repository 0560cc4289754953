"""What the dossier and the tool tell users cites only files that ship with the repository."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from functools import cache
from html import escape
from pathlib import Path

import pytest
import yaml

from forensics.bibliography import BIBLIOGRAPHY, Source, cite, parse_reference, read_bibliography
from forensics.heuristics import load_library

from .conftest import FullRun, assert_clean_failure, make_export, one_heuristic_library, run_cli

ROOT = Path(__file__).resolve().parents[1]

# A file name as text mentions it: an optional relative folder, a stem, one of these endings.
# Only source-like endings: the JSON, Parquet, HTML and PDF files a run writes are not sources.
# A name that goes on after its suffix (`spark.sql.shuffle.partitions`, a setting) is no file.
FILE_NAME = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w.-]*\w\.(?:md|py|sql|csv|ya?ml|j2))"
                       r"(?![\w/]|\.\w)")
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
        if path.suffix in (".sql", ".csv") or path.name == "sources.yaml":
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix in (".j2", ".yaml", ".md"):
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
            "queries/sources.yaml",
            "templates/partials/appendix.html.j2", "templates/text/glossary.yaml",
            "forensics/validation/sources_of_error.yaml",
            "README.md", "forensics/report/dossier.py"} <= names
    repo = _repo_files()
    assert missing_files("see domain.md §3 and queries/linking/45_link_tests.sql, "
                         "OUT/labels.csv, link_kinds.csv, sklearn.metrics", repo) == ["domain.md"]
    # A setting's name is not a file; a file at the end of a sentence still is.
    assert missing_files('"spark.sql.shuffle.partitions" = "4"; see gone.sql.', repo) == \
        ["gone.sql"]
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


# -- the bibliography: what the heuristic headers cite, with where to find it -----------------

# The sources no public address could be verified for: each has url: null and a locator, and
# the dossier says "No verified public URL". Adding one is a decision, so it is listed here.
UNVERIFIED = {"openai-memo-2026", "later-reports-2026"}


def _bundled_bibliography() -> dict[str, Source]:
    entries, problems = read_bibliography(ROOT / "queries" / BIBLIOGRAPHY)
    assert problems == []
    return entries


def test_every_header_citation_resolves() -> None:
    """Every line under `references:` of every bundled heuristic is a key of
    queries/sources.yaml or a file of the repository (load_library refuses anything else), and
    every heuristic cites at least one public source."""
    repo = _repo_files()
    for h in load_library():
        assert len(h.citations) == len(h.meta.references), h.id
        assert any(c.source is not None for c in h.citations), h.id
        for c in h.citations:
            if c.source is None:
                assert c.target in repo, (h.id, c.target)
            else:
                assert _bundled_bibliography()[c.target] == c.source


def test_every_entry_has_a_title_a_date_and_a_url_or_a_locator() -> None:
    """Each entry has an author, a title and a date; an https URL, or url: null with a
    locator (the UNVERIFIED ones, and only they)."""
    text = (ROOT / "queries" / BIBLIOGRAPHY).read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    entries = _bundled_bibliography()
    assert set(entries) == set(raw)
    for key, s in entries.items():
        assert s.author.strip() and s.title.strip(), key
        assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", s.date), key
        assert "url" in raw[key], f"{key}: url must be given, null when unverified"
        if key in UNVERIFIED:
            assert s.url is None and s.locator and len(s.locator) > 40, key
        else:
            assert s.url is not None and s.url.startswith("https://"), key
            assert s.locator is None, key
    # Papers cite their arXiv abstract page (never a PDF or a version), projects their repo.
    for s in entries.values():
        if s.url and "arxiv.org" in s.url:
            assert re.fullmatch(r"https://arxiv\.org/abs/\d{4}\.\d{5}", s.url), s.url
        if s.url and "github.com" in s.url:
            assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", s.url), s.url


def test_no_entry_is_unused() -> None:
    """Every entry of the bundled bibliography is cited by some bundled heuristic: the list of
    sources is the library's, not a reading list."""
    cited = {c.target for h in load_library() for c in h.citations if c.source is not None}
    assert cited == set(_bundled_bibliography())


def test_references_parse_as_key_or_file_with_a_note() -> None:
    """'KEY (note)' and 'path (note)' split at the first blank; free text is no reference."""
    assert parse_reference("anthropic-2026") == ("anthropic-2026", None)
    assert parse_reference("deepseekmath-2024 (k samples, per (prompt))") == (
        "deepseekmath-2024", "k samples, per (prompt)")
    assert parse_reference("queries/lexicons/signals.csv (signal cot_strong)") == (
        "queries/lexicons/signals.csv", "signal cot_strong")
    bib = _bundled_bibliography()
    files = [ROOT / "queries" / BIBLIOGRAPHY]
    cited, problems = cite(("anthropic-2026 (RL tasks)", "lexicons/mine.csv"), bib, "x.sql",
                           files)
    assert problems == [] and [c.is_file for c in cited] == [False, True]
    assert cited[0].note == "RL tasks" and cited[0].source == bib["anthropic-2026"]
    _, problems = cite(("Anthropic, Detecting and preventing distillation attacks (2026)",
                        "anthropic-2025"), bib, "x.sql", files)
    assert len(problems) == 2
    assert "neither a source key nor a file" in problems[0]
    assert problems[1].startswith("x.sql: references: unknown source key 'anthropic-2025'")


def test_the_dossier_prints_every_source_with_its_url_as_text(full_run: FullRun) -> None:
    """The appendix's list of sources has every entry the catalogue cites (the whole bundled
    bibliography), each URL printed as text, never as a link, and 'No verified public URL'
    for the unverified ones; catalogue entries point to them by key."""
    html = (full_run.out_dir / "dossier.html").read_text(encoding="utf-8")
    sources = html[html.index('id="sources"'):]
    for key, s in _bundled_bibliography().items():
        assert f'id="src-{key}"' in sources, key
        assert f'href="#src-{key}"' in html, key
        if s.url:
            assert escape(s.url) in sources, s.url
    assert sources.count("No verified public URL") == len(UNVERIFIED)
    assert not re.search(r"""href\s*=\s*["']?(https?:|//)""", html)
    assert "queries/lexicons/signals.csv</span> (signal cot_strong), a file of the heuristic " \
        "library" in html


def _library_citing(tmp_path: Path, *references: str) -> tuple[Path, Path]:
    """The one-heuristic library, its header's references replaced by `references`."""
    queries = one_heuristic_library(tmp_path / "queries")
    path = queries / "infrastructure" / "shared_payment_fingerprint.sql"
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("references:\n")
    rest = rest[rest.index("requires:"):]
    path.write_text(head + sep + "".join(f"  - {r}\n" for r in references) + rest,
                    encoding="utf-8")
    return queries, path


def test_a_custom_library_citing_an_unknown_key_is_refused_in_one_line(tmp_path: Path) -> None:
    """`heuristics check` and `run` name the heuristic file and the key the bibliography lacks
    (one line, before any data is read)."""
    queries, path = _library_citing(tmp_path, "anthropic-2026", "our-own-report")
    outcome = run_cli("heuristics", "check", "--queries", queries)
    error = assert_clean_failure(
        outcome, f"{path}: references: unknown source key 'our-own-report'")
    assert len(error.strip().splitlines()) == 1
    out = tmp_path / "out"
    run = run_cli("run", make_export(tmp_path / "data"), "--out", out, "--queries", queries)
    assert_clean_failure(run, "unknown source key 'our-own-report'", out_dir=out)


def test_a_custom_library_adds_and_overrides_sources_in_its_own_file(tmp_path: Path) -> None:
    """DIR/sources.yaml adds entries to the bundled bibliography and replaces one of the same
    key; an entry without a URL or locator is refused naming the file and the key."""
    queries, _ = _library_citing(tmp_path, "anthropic-2026", "our-own-report (section 2)")
    own = queries / BIBLIOGRAPHY
    own.write_text(
        "our-own-report:\n  author: Example Corp\n  title: Our own report\n"
        "  date: 2026-03-01\n  url: null\n  locator: internal report, ask the trust team\n"
        "anthropic-2026:\n  author: Anthropic\n  title: A mirror of the post\n"
        "  date: '2026-02-23'\n  url: https://example.org/mirror\n", encoding="utf-8")
    shown = run_cli("heuristics", "show", "shared_payment_fingerprint", "--queries", queries)
    assert shown.exit_code == 0, shown.stderr
    assert "our-own-report (section 2): Example Corp, Our own report (2026-03-01). no " \
        "verified public URL; internal report" in shown.stdout
    assert "https://example.org/mirror" in shown.stdout
    own.write_text("our-own-report:\n  author: Example Corp\n  title: Our own report\n"
                   "  date: '2026'\n  url: http://example.org/report\n", encoding="utf-8")
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, f"{own}: source 'our-own-report': url:")
    own.write_text("our-own-report:\n  author: Example Corp\n  title: Our own report\n"
                   "  date: '2026'\n  url: null\n", encoding="utf-8")
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, f"{own}: source 'our-own-report': url is null, so a "
                                  f"locator")
