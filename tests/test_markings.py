"""Markings follow the profile: a public dossier is marked public and carries no privilege
banner or internal marking."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import assert_clean_failure, run_cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "2026Q3" / "data"


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "case.toml"
    path.write_text(f'[case]\nhmac_key = "a case key"\n{extra}', encoding="utf-8")
    return path


def test_a_public_dossier_is_marked_public_by_default(tmp_path: Path) -> None:
    out = tmp_path / "public"
    outcome = run_cli("run", SAMPLE, "--out", out, "--profile", "public", "--format", "html",
                      "--config", _config(tmp_path))
    assert outcome.exit_code == 0, outcome.stderr
    page = (out / "dossier.html").read_text(encoding="utf-8")
    assert '<p class="marking">PUBLIC</p>' in page
    assert "INTERNAL" not in page and "PRIVILEGED" not in page


def test_an_internal_dossier_keeps_its_marking(tmp_path: Path) -> None:
    out = tmp_path / "internal"
    assert run_cli("run", SAMPLE, "--out", out, "--format", "html").exit_code == 0
    assert '<p class="marking">CONFIDENTIAL – INTERNAL</p>' in \
        (out / "dossier.html").read_text(encoding="utf-8")


def test_a_privilege_banner_or_internal_marking_on_a_public_dossier_is_refused(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    for extra, word in (("privileged = true\n", "privileged"),
                        ('marking = "Confidential – internal"\n', "CONFIDENTIAL")):
        config = _config(tmp_path, extra)
        assert_clean_failure(run_cli("run", SAMPLE, "--out", out, "--profile", "public",
                                     "--config", config), word, str(config), out_dir=out)
