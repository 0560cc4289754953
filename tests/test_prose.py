"""The dossier's fixed prose lives in the templates folder (templates/text/*.yaml): a custom
--templates folder rewords it, and its files are checked, every problem at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forensics import api, resources
from forensics.config import RunConfig
from forensics.errors import OutputError
from forensics.features import SCAN_CHARS
from forensics.report.prose import read_prose
from tests.dossier_data import build_case


def _copy_templates(dest: Path) -> Path:
    """A custom templates folder: a copy of the bundled one."""
    shutil.copytree(resources.templates_dir(), dest)
    return dest


def test_the_bundled_texts_name_their_numbers_and_fill_them_in() -> None:
    """Every bundled text reads; the numbers the limitations state come from the context the
    section passes, not from the file."""
    prose = read_prose(resources.templates_dir())
    scan = [t for t in prose.limitations.limitations if "scan_chars" in t]
    assert len(scan) == 1
    assert f"first {SCAN_CHARS:,} characters" in prose.fill(scan[0], scan_chars=SCAN_CHARS,
                                                           scan_tail_chars=1)


def test_every_problem_of_the_text_files_is_reported_at_once(tmp_path: Path) -> None:
    """A missing file, an unknown key, a missing key and a jinja syntax error are one error
    listing all four, each naming its file."""
    text = _copy_templates(tmp_path / "templates") / "text"
    (text / "cover.yaml").unlink()
    glossary = (text / "glossary.yaml").read_text(encoding="utf-8")
    (text / "glossary.yaml").write_text(glossary + "colour: blue\n", encoding="utf-8")
    appendix = (text / "appendix.yaml").read_text(encoding="utf-8")
    (text / "appendix.yaml").write_text(appendix.split("baseline: >-")[0], encoding="utf-8")
    limits = (text / "limitations.yaml").read_text(encoding="utf-8")
    (text / "limitations.yaml").write_text(limits.replace("{{ scan_chars|thousands }}",
                                                          "{{ scan_chars|thousands"),
                                           encoding="utf-8")
    with pytest.raises(OutputError) as caught:
        read_prose(tmp_path / "templates")
    message = str(caught.value)
    assert message.startswith("4 dossier text problems:")
    for fragment in (f"{text / 'cover.yaml'}: cannot be read",
                     f"{text / 'glossary.yaml'}: colour: Extra inputs are not permitted",
                     f"{text / 'appendix.yaml'}: baseline: Field required",
                     f"{text / 'limitations.yaml'}: limitations.4: expected token 'end of print "
                     f"statement'"):
        assert fragment in message


def test_a_text_naming_an_unknown_number_stops_the_render() -> None:
    """A name the section does not pass is an error naming the text folder, never an empty
    gap in a sentence."""
    prose = read_prose(resources.templates_dir())
    with pytest.raises(OutputError, match="'scan_limit' is undefined"):
        prose.fill("first {{ scan_limit }} characters")


def test_a_custom_templates_folder_rewords_the_dossier(tmp_path: Path) -> None:
    """Editing the text files of a custom --templates folder changes the dossier's words, and
    a number the new words name is still filled in from the method's constant."""
    templates = _copy_templates(tmp_path / "templates")
    glossary = templates / "text" / "glossary.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace(
        "One customer account of the API, identified by its account id.",
        "Un compte client de l'API."), encoding="utf-8")
    limits = templates / "text" / "limitations.yaml"
    limits.write_text(limits.read_text(encoding="utf-8").replace(
        "Prompts are matched in their first", "Les requêtes sont lues sur leurs"),
        encoding="utf-8")
    out = tmp_path / "out"
    api.run(RunConfig(data_dir=build_case(tmp_path / "case"), out_dir=out,
                      templates_dir=templates, formats=frozenset({"html"})))
    html = (out / "dossier.html").read_text(encoding="utf-8")
    assert "<dt>Account</dt><dd>Un compte client de l&#39;API.</dd>" in html
    assert f"Les requêtes sont lues sur leurs {SCAN_CHARS:,} characters" in html
    assert "identified by its account id" not in html
