"""The notebook API (forensics.run / forensics.read) and `--format`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import forensics
from forensics.errors import ConfigError, InputError
from tests.conftest import assert_clean_failure, run_cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "2026Q3" / "data"


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### From Python"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's From Python section has no python block"
    return match.group(1)


def test_the_readme_notebook_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    """The README's example, as written, with its paths pointed at the repository and a
    temporary output folder; what it prints agrees with the files the run wrote."""
    code = _readme_example()
    assert '"sample_data/2026Q3/data"' in code and '"out/notebook"' in code
    out = tmp_path / "notebook"
    code = (code.replace('"sample_data/2026Q3/data"', repr(str(SAMPLE)))
            .replace('"out/notebook"', repr(str(out))))
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    printed = capsys.readouterr().out
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert f"{doc['run']['accounts_flagged']} accounts flagged" in printed
    # formats=["json"]: the findings without the dossier.
    assert not (out / "dossier.pdf").exists() and not (out / "exhibits").exists()


def test_frames_are_the_files_of_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = forensics.run(SAMPLE, out, formats=["json"])
    import pyarrow.parquet as pq

    findings = pq.read_table(out / "findings.parquet")
    assert result.findings.height == findings.num_rows
    assert result.flagged.height == result.run["accounts_flagged"] == sum(
        findings.column("flagged").to_pylist())
    assert result.signals.height == pq.read_table(out / "signals.parquet").num_rows
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert result.clusters["cluster_id"].to_list() == [c["cluster_id"] for c in doc["clusters"]]
    assert result.clusters.filter(result.clusters["flagged"]).height == \
        doc["run"]["clusters_flagged"]
    # Every flagged account's cluster is in the clusters frame.
    assert set(result.flagged["cluster_id"]) <= set(result.clusters["cluster_id"])
    again = forensics.read(out)
    assert again.findings.equals(result.findings) and again.clusters.equals(result.clusters)


def test_bad_formats_and_folders_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="xml"):
        forensics.run(SAMPLE, tmp_path / "x", formats=["xml"])
    assert not (tmp_path / "x").exists()
    with pytest.raises(InputError, match="findings.parquet"):
        forensics.read(tmp_path)
    with pytest.raises(AttributeError):
        forensics.nothing_here  # noqa: B018 - the module's lazy attributes stop at its API


def test_format_json_skips_the_dossier_and_html_skips_the_pdf(tmp_path: Path) -> None:
    json_out, html_out = tmp_path / "json", tmp_path / "html"
    assert run_cli("run", SAMPLE, "--out", json_out, "--format", "json").exit_code == 0
    assert sorted(p.name for p in json_out.iterdir()) == [
        "diagnostics", "findings.json", "findings.parquet", "manifest.json", "manifest.sha256",
        "signals.parquet"]
    manifest = json.loads((json_out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["formats"] == ["json"]
    assert run_cli("run", SAMPLE, "--out", html_out, "--format", "html,json").exit_code == 0
    assert (html_out / "dossier.html").is_file() and not (html_out / "dossier.pdf").exists()
    assert any((html_out / "exhibits").glob("EX-*.csv"))
    # The findings do not depend on what is rendered.
    assert (json_out / "findings.parquet").read_bytes() == \
        (html_out / "findings.parquet").read_bytes()


def test_format_refusals(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outcome = run_cli("run", SAMPLE, "--out", out, "--format", "json,xml")
    assert outcome.exit_code == 2 and "xml" in outcome.stderr
    assert not out.exists()
    baseline = tmp_path / "base"
    assert run_cli("run", SAMPLE, "--out", baseline, "--format", "json").exit_code == 0
    assert_clean_failure(run_cli("run", SAMPLE, "--out", out, "--format", "json",
                                 "--baseline", baseline), "--baseline", out_dir=out)


def test_tables_lists_what_heuristics_may_read() -> None:
    """`forensics tables`: every table the bundled heuristics read appears with its columns,
    input tables first, then features, then the linking tables cluster-scope ones read."""
    import re as regex

    from forensics import resources

    outcome = run_cli("tables")
    assert outcome.exit_code == 0, outcome.stderr
    text = outcome.stdout
    assert text.index("# input") < text.index("# features") < text.index("# linking")
    listed = {line.split(":", 1)[0] for line in text.splitlines() if ": " in line}
    assert {"requests", "request_features", "account_activity", "cluster_members"} <= listed
    assert "request_features: request_id VARCHAR" in text
    # Every table named after FROM or JOIN in a bundled heuristic is listed, and so is every
    # macro of 05_functions.sql, table macros (read FROM like a table) included.
    functions = (resources.queries_part("features") / "05_functions.sql").read_text("utf-8")
    macros = set(regex.findall(r"CREATE OR REPLACE MACRO (\w+)\(", functions))
    assert {"signal_share", "fired_score"} <= macros
    assert text.index("# linking") < text.index("# functions")
    shown = {line.split("(", 1)[0] for line in text[text.index("# functions"):].splitlines()}
    assert macros <= shown
    assert "signal_share(signal_name, activity, signals): returns a table" in text
    for path in sorted(resources.queries_dir().glob("*/*.sql")):
        if path.parent.name in ("features", "linking", "report"):
            continue
        sql = path.read_text(encoding="utf-8").split("---*/", 1)[-1]
        ctes = set(regex.findall(r"(\w+)\s*(?:\([\w\s,]*\))?\s+AS\s+(?:NOT\s+)?"
                                 r"(?:MATERIALIZED\s+)?\(", sql, regex.I))
        for name in regex.findall(r"(?<!DISTINCT )\b(?:FROM|JOIN)\s+([a-z_]+)\b", sql):
            if name not in ctes | macros and name not in ("range", "unnest", "generate_series"):
                assert name in listed, (path.name, name)
