"""Checks of a PDF's fonts and PDF/A-3b markers, for the font tests (pypdf and fontTools only).

`font_report(path)` reads every font the pages use and says, for each, whether its program is
embedded and which of its glyphs are missing. WeasyPrint writes each Type0 font with an
Identity CIDToGIDMap and a ToUnicode map of exactly the glyphs it drew, so a drawn glyph is
missing when
- the font's encoding is not Identity-H: WeasyPrint writes its own CMap when Pango found no
  glyph for a character, sending that code to CID 0 (.notdef);
- its glyph id is 0 (.notdef) or beyond the embedded program's glyphs (WeasyPrint numbers the
  characters no font has from the font's glyph count on);
- its glyph has no outline although its text is neither white space nor default-ignorable
  (fonts whose glyphs are all empty are the colour-bitmap emoji fonts, whose pictures WeasyPrint
  draws as images: their outlines are not checked).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

_BFCHAR_BLOCK = re.compile(rb"beginbfchar(.*?)endbfchar", re.DOTALL)
_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


@dataclass
class FontCheck:
    """One font of the PDF: its name, whether its program is embedded, the text of each glyph
    it drew (glyph id → text), and the problems found."""

    name: str
    subtype: str
    embedded: bool = False
    glyphs: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Every character this font drew with a real glyph."""
        return "".join(self.glyphs.values())


def _resolve(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _fonts_in(resources: Any, seen: set[Any]) -> Iterator[tuple[int, DictionaryObject]]:
    """(object number, font dictionary) of every font in `resources` and in its form
    XObjects, each once."""
    resources = _resolve(resources)
    if not resources:
        return
    fonts = _resolve(resources.get("/Font")) or {}
    for ref in fonts.values():
        key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
        if key not in seen:
            seen.add(key)
            yield key, _resolve(ref)
    xobjects = _resolve(resources.get("/XObject")) or {}
    for ref in xobjects.values():
        xobject = _resolve(ref)
        key = ref.idnum if isinstance(ref, IndirectObject) else id(xobject)
        if xobject.get("/Subtype") == "/Form" and ("x", key) not in seen:
            seen.add(("x", key))
            yield from _fonts_in(xobject.get("/Resources"), seen)


def _to_unicode(font: DictionaryObject) -> dict[int, str]:
    stream = _resolve(font.get("/ToUnicode"))
    if stream is None:
        return {}
    out: dict[int, str] = {}
    for block in _BFCHAR_BLOCK.findall(stream.get_data()):
        for code, text in _BFCHAR.findall(block):
            out[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be", "replace")
    return out


def _blank_ok(text: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Mn", "Zs")
               or 0xFE00 <= ord(ch) <= 0xFE0F for ch in text)


def _check_type0(font: DictionaryObject, check: FontCheck) -> None:
    from fontTools.ttLib import TTFont

    encoding = font.get("/Encoding")
    if encoding != "/Identity-H":
        check.problems.append(f"encoding {encoding!r}, not /Identity-H: WeasyPrint had "
                              f"characters no font could draw")
    descendant = _resolve(font["/DescendantFonts"][0])
    descriptor = _resolve(descendant.get("/FontDescriptor")) or {}
    program = next((_resolve(descriptor[k]) for k in ("/FontFile2", "/FontFile3", "/FontFile")
                    if k in descriptor), None)
    check.embedded = program is not None
    if program is None:
        check.problems.append("font program not embedded")
        return
    if descendant.get("/CIDToGIDMap", "/Identity") != "/Identity":
        check.problems.append("CIDToGIDMap is not /Identity")
    ttfont = TTFont(io.BytesIO(program.get_data()), lazy=True)
    count = ttfont["maxp"].numGlyphs
    order = ttfont.getGlyphOrder()
    glyf = ttfont.get("glyf")
    glyph_set = ttfont.getGlyphSet()
    all_empty = glyf is not None and all(
        glyf[name].numberOfContours == 0 for name in order)
    for gid, text in sorted(_to_unicode(font).items()):
        if gid == 0 or gid >= count:
            check.problems.append(f"U+{ord(text[0]):04X} {text!r}: glyph {gid} is .notdef or "
                                  f"not in the font ({count} glyphs)")
            continue
        if _blank_ok(text) or all_empty:
            check.glyphs[gid] = text
            continue
        if glyf is not None:
            empty = glyf[order[gid]].numberOfContours == 0
        else:
            from fontTools.pens.boundsPen import BoundsPen

            pen = BoundsPen(glyph_set)
            glyph_set[order[gid]].draw(pen)
            empty = pen.bounds is None
        if empty:
            check.problems.append(f"U+{ord(text[0]):04X} {text!r}: glyph {gid} is empty")
        else:
            check.glyphs[gid] = text


def font_report(path: Path) -> list[FontCheck]:
    """Every font the PDF's pages use, checked (see the module's docstring)."""
    reader = PdfReader(str(path))
    seen: set[Any] = set()
    checks: list[FontCheck] = []
    for page in reader.pages:
        for _, font in _fonts_in(page.get("/Resources"), seen):
            subtype = str(font.get("/Subtype"))
            check = FontCheck(name=str(font.get("/BaseFont")), subtype=subtype)
            if subtype == "/Type0":
                _check_type0(font, check)
            elif subtype == "/Type3":
                check.embedded = True  # glyphs are content streams in the font itself
            else:
                descriptor = _resolve(font.get("/FontDescriptor")) or {}
                check.embedded = any(k in descriptor for k in
                                     ("/FontFile", "/FontFile2", "/FontFile3"))
                if not check.embedded:
                    check.problems.append("font program not embedded")
            checks.append(check)
    return checks


def pdfa_markers(path: Path) -> dict[str, Any]:
    """The PDF/A-3b markers a validator starts from: the XMP pdfaid part and conformance, the
    output intents (subtype and whether each has an ICC profile), and encryption."""
    reader = PdfReader(str(path))
    root = reader.trailer["/Root"].get_object()
    metadata = root.get("/Metadata")
    xmp = metadata.get_object().get_data().decode("utf-8") if metadata else ""

    def xmp_value(name: str) -> str | None:
        found = re.search(rf"pdfaid:{name}\s*=\s*\"([^\"]*)\"|<pdfaid:{name}>([^<]*)<", xmp)
        return (found.group(1) or found.group(2)) if found else None

    intents = [_resolve(i) for i in _resolve(root.get("/OutputIntents")) or []]
    return {
        "part": xmp_value("part"), "conformance": xmp_value("conformance"),
        "output_intents": [(str(i.get("/S")), "/DestOutputProfile" in i) for i in intents],
        "encrypted": "/Encrypt" in reader.trailer,
        "version": reader.pdf_header,
    }
