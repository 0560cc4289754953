"""The dossier draws every script the logs hold with embedded glyphs, wraps long unbroken lines
inside their boxes, and keeps the PDF/A-3b markers (issue 24)."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from forensics import api
from forensics.config import RunConfig
from forensics.errors import OutputError
from forensics.report import render as render_module
from forensics.report.fonts import embedded_font_css, font_faces
from forensics.report.public import pdf_text
from tests.dossier_data import build_case
from tests.pdf_fonts import font_report, pdfa_markers

TEMPLATES = Path(render_module.__file__).resolve().parents[2] / "templates"
ASSETS = TEMPLATES / "assets"

SAMPLES = {
    "Chinese (simplified)": "请一步一步地思考这个问题",
    "Chinese (traditional)": "請逐步說明這個問題的推理過程",
    "Japanese": "日本語のテキスト、ひらがなとカタカナ",
    "Korean": "한국어 텍스트입니다",
    "Arabic": "النص العربي",
    "Hebrew": "טקסט בעברית",
    "Cyrillic": "Русский текст",
    "Greek": "Ελληνικό κείμενο",
    "emoji": "😀🧪👍",
}
LONG_CJK = "长" * 600  # one unbroken line of CJK, far wider than any box


def _prompt(i: int, j: int) -> str:
    return ("Below is a question together with a completed response. Imagine and articulate "
            "the internal reasoning behind the completed response and write it out step by "
            f"step. {' '.join(SAMPLES.values())} {LONG_CJK} case {j}")


@pytest.fixture(scope="module")
def multilingual_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small case whose harvest prompts (reported as evidence) hold every script."""
    root = tmp_path_factory.mktemp("fonts")
    data = build_case(root, harvesters=6, ordinary=10, harvest_requests=30,
                      harvest_text=_prompt)
    api.run(RunConfig(data_dir=data, out_dir=root / "out"))
    return root / "out"


def test_pdf_text_layer_holds_every_script(multilingual_run: Path) -> None:
    """The PDF's text layer gives back each sample as written (Arabic and Hebrew in logical
    order too: the text layer, not the drawing order, is what pypdf reads)."""
    text = pdf_text(multilingual_run / "dossier.pdf")
    squashed = re.sub(r"\s+", "", text)
    for script, sample in SAMPLES.items():
        assert re.sub(r"\s+", "", sample) in squashed, script


def test_every_pdf_font_is_embedded_with_every_glyph(multilingual_run: Path) -> None:
    """Every font is embedded, no drawn glyph is .notdef or empty, and each sample's
    characters were drawn with real glyphs."""
    report = font_report(multilingual_run / "dossier.pdf")
    assert report
    problems = [f"{f.name}: {p}" for f in report for p in f.problems]
    assert problems == []
    assert all(f.embedded for f in report)
    drawn = "".join(f.text for f in report)
    for script, sample in SAMPLES.items():
        missing = sorted({ch for ch in sample if not ch.isspace() and ch not in drawn})
        assert missing == [], (script, missing)
    # The scripts come from the bundled fonts, not from whatever the system has.
    names = " ".join(f.name for f in report)
    for family in ("Dossier-Noto-Sans-CJK", "Dossier-Noto-Sans-Arabic",
                   "Dossier-Noto-Sans-Hebrew", "Dossier-Noto-Color-Emoji"):
        assert family in names


def test_pdf_keeps_the_pdfa_3b_markers(multilingual_run: Path) -> None:
    """What a PDF/A-3b validator checks first: the XMP identification, an output intent with
    an ICC profile, no encryption; the fonts are checked above."""
    markers = pdfa_markers(multilingual_run / "dossier.pdf")
    assert markers["part"] == "3"
    assert markers["conformance"] == "B"
    assert ("/GTS_PDFA1", True) in markers["output_intents"]
    assert not markers["encrypted"]


def test_html_carries_the_glyphs_it_uses(multilingual_run: Path) -> None:
    """The HTML dossier embeds, as data: URLs, subsets of the bundled fonts holding exactly the
    characters of the document that each font has."""
    from fontTools.ttLib import TTFont

    html = (multilingual_run / "dossier.html").read_text(encoding="utf-8")
    faces = re.findall(r'@font-face \{ font-family: "([^"]+)"; font-weight: (\w+);[^}]*'
                       r'url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)', html)
    families = {family for family, _, _ in faces}
    assert {"Dossier Noto Sans CJK", "Dossier Noto Sans Arabic", "Dossier Noto Sans Hebrew",
            "Dossier Noto Color Emoji"} <= families
    used = {ord(ch) for ch in html}
    covered: set[int] = set()
    for _family, _weight, data in faces:
        cmap = set(TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap())
        assert cmap <= used  # only the document's characters
        assert not cmap & {0x20, 0xA0}  # a browser would take every space from the first
        covered |= cmap
    for script in ("Chinese (simplified)", "Chinese (traditional)", "Japanese", "Korean",
                   "Arabic", "Hebrew", "emoji"):
        missing = [ch for ch in SAMPLES[script] if not ch.isspace() and ord(ch) not in covered]
        assert missing == [], script


def test_embedded_fonts_are_deterministic() -> None:
    """The same text gives the same font CSS, byte for byte."""
    text = " ".join(SAMPLES.values())
    first = embedded_font_css(ASSETS, text)
    assert first and first == embedded_font_css(ASSETS, text)
    assert embedded_font_css(ASSETS, "plain ASCII only") == ""


def test_leak_check_reads_no_embedded_font_data() -> None:
    """The public profile's leak check reads the HTML's text, not its style sheet: an
    identifier that the base64 of an embedded font happens to spell is no leak, the same
    identifier in the text is."""
    from forensics.errors import LeakError
    from forensics.report.public import IdentifierIndex, check_leaks, html_text

    index = IdentifierIndex()
    index.add("account", "Qk9m2x")
    style = '<style>@font-face { src: url(data:font/woff2;base64,AAQk9m2xAA==); }</style>'
    check_leaks(index, [("dossier.html", html_text(f"<head>{style}</head><p>ok</p>"))])
    with pytest.raises(LeakError):
        check_leaks(index, [("dossier.html", html_text(f"{style}<p>Qk9m2x</p>"))])


def test_font_checker_catches_a_missing_glyph(tmp_path: Path) -> None:
    """Without the bundled CJK font, the checker reports the CJK characters as missing glyphs
    (the system has no CJK font here; skipped where it has one)."""
    from weasyprint import HTML

    target = tmp_path / "no-cjk.pdf"
    HTML(string='<p style="font-family: \'DejaVu Sans\'">中文 한국어</p>').write_pdf(target)
    report = font_report(target)
    drawn = "".join(f.text for f in report)
    if "中" in drawn:
        pytest.skip("this system has a CJK font of its own")
    assert any("not /Identity-H" in p or ".notdef" in p for f in report for p in f.problems)


def test_bundled_fonts_come_only_from_the_assets_folder(tmp_path: Path) -> None:
    """A fonts.css naming a font anywhere else (the network, another folder) is refused."""
    assets = tmp_path / "assets"
    assets.mkdir()
    for src in ("http://fonts.example/x.woff2", "file:///etc/passwd", "../outside.woff2",
                "data:font/woff2;base64,AAAA", "fonts/absent.woff2"):
        (assets / "fonts.css").write_text(
            f'@font-face {{ font-family: "X"; src: url({src}); }}', encoding="utf-8")
        with pytest.raises(OutputError, match="font file under the templates' assets"):
            font_faces(assets)


def test_bundled_fonts_are_listed_with_their_licence() -> None:
    """Each @font-face names a bundled file recorded in SOURCES.json (with its SHA-256),
    and the OFL travels with them."""
    import hashlib
    import json

    sources = json.loads((ASSETS / "fonts" / "SOURCES.json").read_text(encoding="utf-8"))
    recorded = {f["file"]: f["sha256"] for f in sources["fonts"]}
    faces = font_faces(ASSETS)
    assert len(faces) == 6
    for face in faces:
        assert recorded[face.path.name] == hashlib.sha256(face.path.read_bytes()).hexdigest()
    licence = (ASSETS / "fonts" / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence


def _overflowing_text(document: Any) -> list[tuple[str, float]]:
    """(text, points) of each text box whose right edge passes the right edge of its block's
    content box, and by how much."""
    from weasyprint.formatting_structure import boxes

    found: list[tuple[str, float]] = []

    def walk(box: Any, right: float) -> None:
        if isinstance(box, boxes.BlockContainerBox | boxes.TableCellBox):
            right = box.content_box_x() + box.width
        if isinstance(box, boxes.TextBox) and box.position_x + box.width > right + 0.5:
            found.append((box.text[:20], box.position_x + box.width - right))
        for child in getattr(box, "children", ()):
            walk(child, right)

    for page in document.pages:
        walk(page._page_box, float("inf"))
    return found


def test_long_unbroken_lines_wrap_inside_their_boxes() -> None:
    """An unbroken run of CJK, Hangul, fullwidth forms, Latin, emoji or Arabic in log text, a
    table cell, a heading or a paragraph wraps inside its box, laid out with the print
    stylesheets as the PDF is. Arabic may pass its box by less than a glyph: WeasyPrint
    measures a word broken inside before its letters take their final form."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    runs = [LONG_CJK, "한" * 600, "ｆｕｌｌ" * 200, "Z" * 3000, "😀" * 300, "ب" * 1500]
    cells = "".join(f'<tr><td>{r}</td><td class="mono">{r}</td><td>x</td></tr>' for r in runs)
    body = "".join(f'<h2>{r[:300]}</h2><p>{r}</p><pre class="log">{r}</pre>' for r in runs)
    html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}'
            f'<table class="data"><thead><tr><th>a</th><th>b</th><th>c</th></tr></thead>'
            f"<tbody>{cells}</tbody></table></body></html>")
    log = render_module.FetchLog([], [])
    fetcher = render_module.make_fetcher(ASSETS, log)
    font_config = FontConfiguration()
    base = ASSETS.resolve().as_uri() + "/"
    sheets = [CSS(url=(ASSETS / "fonts.css").resolve().as_uri(), url_fetcher=fetcher,
                  font_config=font_config),
              CSS(string=(ASSETS / "print.css").read_text(encoding="utf-8"), base_url=base,
                  url_fetcher=fetcher, font_config=font_config)]
    document = HTML(string=html, base_url=base, url_fetcher=fetcher).render(
        stylesheets=sheets, font_config=font_config)
    assert log.refused == []
    overflowing = _overflowing_text(document)
    assert [(text, points) for text, points in overflowing if text[0] != "ب"] == []
    assert all(points < 8 for _, points in overflowing), overflowing


JAVA = Path("/usr/share/java")
# Debian 12: libpdfbox2-java, libactivation-java, libjaxb-api-java (and a Java runtime).
PREFLIGHT_JARS = ("preflight.jar", "pdfbox2.jar", "fontbox2.jar", "xmpbox.jar",
                  "commons-logging.jar", "javax.activation.jar", "jaxb-api.jar")


@pytest.mark.skipif(shutil.which("java") is None
                    or not all((JAVA / jar).is_file() for jar in PREFLIGHT_JARS),
                    reason="Apache PDFBox Preflight (Debian libpdfbox2-java, "
                           "libactivation-java, libjaxb-api-java) not installed")
def test_pdfbox_preflight_finds_no_font_error(multilingual_run: Path) -> None:
    """PDFBox Preflight validates PDF/A-1b only, so it rejects a PDF/A-3b for what A-3 allows
    (attachments, transparency, cross-reference streams, a compressed XMP stream) and for the
    CIDSet that only A-1 requires (3.1.11); its other font rules (section 3 of its error
    codes: embedding, widths, glyphs, encodings) hold for A-3b too, and none may fail."""
    result = subprocess.run(["java", "-cp", ":".join(str(JAVA / j) for j in PREFLIGHT_JARS),
                             "org.apache.pdfbox.preflight.Validator_A1b",
                             str(multilingual_run / "dossier.pdf")],
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert "not a valid PDF/A-1b file" in output or "is a valid PDF/A-1b file" in output, \
        output[-3000:]
    font_errors = [line for line in output.splitlines() if re.match(r"3\.\d", line)
                   and "CIDSet entry is missing" not in line]
    assert font_errors == [], font_errors
