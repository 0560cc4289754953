"""The heuristics linking reads by id declare it (`provides:`), and a library that lacks one
linking draws links from is refused before any data is read, not run without those links."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from forensics import resources
from forensics.heuristics import HeuristicRun, load_library
from forensics.linking import LINKING_ROLES, LinkingParams, role_problems
from forensics.report.prose import read_prose
from forensics.report.sections.limitations import limitations

from .conftest import assert_clean_failure, make_export, one_heuristic_library, run_cli

SYNC = "timing/synchronised_load_balancing.sql"


def test_bundled_library_declares_every_heuristic_linking_reads() -> None:
    """Each heuristic linking names (LinkingParams) declares the role it is read for, and no
    other heuristic claims one."""
    library = load_library()
    assert role_problems(library, LinkingParams()) == []
    declared = {(role, h.id) for h in library for role in h.meta.provides}
    named = {(role, hid) for role, use in LINKING_ROLES.items()
             for hid in str(getattr(LinkingParams(), use.param)).split(",")}
    assert declared == named
    assert {role for role, use in LINKING_ROLES.items() if use.required} == \
        {"sync_minutes", "co_launches"}


def test_library_without_a_heuristic_linking_draws_links_from_is_refused(tmp_path: Path
                                                                          ) -> None:
    """A --queries library without synchronised_load_balancing and co_launched_sessions is
    refused by `heuristics check` and by `run`, each missing heuristic named with the links
    it would lose; the run is refused before the (corrupt) export is read, and writes
    nothing."""
    queries = one_heuristic_library(tmp_path / "queries", linking=False)
    check = run_cli("heuristics", "check", "--queries", queries)
    expected = ("linking needs heuristic synchronised_load_balancing (sync_minutes)",
                "linking needs heuristic co_launched_sessions (co_launches)",
                "synchronised-timing links", "would silently never be drawn",
                "expected queries/timing/synchronised_load_balancing.sql or a file of that id "
                "declaring provides: [sync_minutes]")
    assert_clean_failure(check, *expected)
    data = make_export(tmp_path / "data")
    (data / "requests.parquet").write_bytes(b"not parquet")
    out = tmp_path / "out"
    run = run_cli("run", data, "--out", out, "--queries", queries)
    assert_clean_failure(run, *expected, out_dir=out)
    assert "requests.parquet" not in run.stderr


def test_heuristic_linking_reads_must_declare_it(tmp_path: Path) -> None:
    """A heuristic linking reads whose front matter drops `provides:` is refused, and so is a
    renamed copy that declares a role linking reads from another id."""
    queries = one_heuristic_library(tmp_path / "queries")
    sync = queries / SYNC
    text = sync.read_text(encoding="utf-8")
    assert "provides: [sync_minutes, network_timing]\n" in text
    sync.write_text(text.replace("provides: [sync_minutes, network_timing]\n", ""),
                    encoding="utf-8")
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, "synchronised_load_balancing.sql: linking reads this "
                                  "heuristic for sync_minutes",
                         "expected provides: [sync_minutes]",
                         "expected provides: [network_timing]")
    sync.write_text(text, encoding="utf-8")
    copy = queries / "timing" / "my_sync.sql"
    copy.write_text(text.replace("id: synchronised_load_balancing", "id: my_sync"),
                    encoding="utf-8")
    outcome = run_cli("heuristics", "check", "--queries", queries)
    assert_clean_failure(outcome, "my_sync.sql: declares provides: [sync_minutes], but linking "
                                  "reads sync_minutes from synchronised_load_balancing only")


def test_a_skipped_heuristic_linking_reads_is_a_stated_limitation() -> None:
    """When the export lacks the columns of a heuristic linking draws links from, the run goes
    on (the export, not the library, is short) and the dossier's limitations say which links
    were not drawn."""
    library = {h.id: h for h in load_library()}
    runs = [HeuristicRun("synchronised_load_balancing", "timing", "", {}, 0, 0.0,
                         "missing column(s): requests.ts"),
            HeuristicRun("ip_subnet_colocation", "infrastructure", "", {}, 0, 0.0,
                         "missing column(s): requests.ip")]
    fake = SimpleNamespace(runs=runs, library=library, flagged_total=0, reported=(),
                           prose=read_prose(resources.templates_dir()))
    lines = limitations(fake, "EX-001")  # type: ignore[arg-type]
    assert "2 heuristics could not run" in " ".join(lines)
    assert ("As synchronised_load_balancing could not run, linking drew no "
            "synchronised-timing links from it (linking tests the accounts the heuristic "
            "fires, pair by pair, for co-active minutes).") in lines
    assert not any("ip_subnet_colocation could not run" in line for line in lines)
