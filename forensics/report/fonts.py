"""The dossier's bundled fonts: read from the templates' `assets/fonts.css`, used as files by
the PDF renderer and, in the HTML dossier, as `data:` URLs of subsets cut to its characters.

The HTML dossier is opened in browsers that may have no CJK, Arabic, Hebrew or emoji font, and
it must stand alone (nothing is loaded from anywhere), so it carries the glyphs it uses: for
each `@font-face` rule of fonts.css whose font has any character of the document, a WOFF2
subset of that font with exactly those characters (spaces excepted). fontTools subsetting is
deterministic (no timestamps are written), so the same dossier gives the same bytes; the WOFF2
bytes depend on the installed brotli, as the PDF's do on WeasyPrint and its libraries.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from forensics.errors import OutputError

FONTS_CSS = "fonts.css"
# Name table entries kept in a subset: names, version, and the copyright and licence notices
# that the SIL Open Font License asks to travel with the font.
NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)
SPACES = {0x20, 0xA0}


@dataclass(frozen=True)
class FontFace:
    """One `@font-face` rule of fonts.css: family, weight, style and the font file."""

    family: str
    weight: str
    style: str
    path: Path


def _value(tokens: list[Any]) -> str:
    """A descriptor's value as text: a string token's value, or the serialised tokens."""
    import tinycss2

    meaningful = [t for t in tokens if t.type not in ("whitespace", "comment")]
    if len(meaningful) == 1 and meaningful[0].type == "string":
        return str(meaningful[0].value)
    return str(tinycss2.serialize(meaningful)).strip()


def _url(tokens: list[Any]) -> str | None:
    """The first url(…) of a `src` descriptor."""
    for token in tokens:
        if token.type == "url":
            return str(token.value)
        if token.type == "function" and token.lower_name == "url":
            args = [a for a in token.arguments if a.type == "string"]
            if args:
                return str(args[0].value)
    return None


def font_faces(assets: Path) -> list[FontFace]:
    """The `@font-face` rules of `assets/fonts.css`, in order (none when there is no such file).

    Every `src` must be a relative URL of a file under `assets`: the dossier reads nothing
    else, and the PDF renderer's URL fetcher would refuse it anyway."""
    import tinycss2

    css_path = assets / FONTS_CSS
    if not css_path.is_file():
        return []
    try:
        css = css_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"dossier font stylesheet cannot be read ({exc.strerror})",
                          file=str(css_path)) from None
    root = assets.resolve()
    faces: list[FontFace] = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "at-rule" or rule.lower_at_keyword != "font-face":
            continue
        descriptors = {d.lower_name: d.value for d in
                       tinycss2.parse_blocks_contents(rule.content or [], skip_comments=True,
                                                      skip_whitespace=True)
                       if d.type == "declaration"}
        url = _url(descriptors.get("src", []))
        parts = urlsplit(url or "")
        path = (assets / unquote(parts.path)).resolve() if url and not parts.scheme \
            and not parts.netloc else None
        if path is None or not path.is_relative_to(root) or not path.is_file():
            raise OutputError(f"{FONTS_CSS}: a @font-face src must name a font file under the "
                              f"templates' assets folder, not {url!r}", file=str(css_path))
        faces.append(FontFace(
            family=_value(descriptors.get("font-family", [])),
            weight=_value(descriptors.get("font-weight", [])) or "normal",
            style=_value(descriptors.get("font-style", [])) or "normal",
            path=path))
    return faces


def subset_woff2(font: Any, codes: set[int]) -> bytes:
    """A copy of the fontTools `font` cut to `codes`, as WOFF2 bytes (no hinting, layout
    features kept for Arabic shaping, names and licence notices kept)."""
    from fontTools import subset

    options = subset.Options()
    options.hinting = False
    options.name_IDs = list(NAME_IDS)
    options.name_languages = [0x409]
    options.notdef_outline = True
    options.layout_features = ["*"]
    options.flavor = "woff2"
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codes))
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out, reorderTables=True)
    return out.getvalue()


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def embedded_font_css(assets: Path, text: str) -> str:
    """`@font-face` rules with `data:` URLs of the bundled fonts cut to the characters of
    `text`; empty when no bundled font has any of them."""
    from fontTools.ttLib import TTFont

    faces = font_faces(assets)
    if not faces:
        return ""
    used = {ord(ch) for ch in set(text)}
    rules: list[str] = []
    for face in faces:
        try:
            # A fresh TTFont per face: subsetting changes the font it is given.
            font = TTFont(str(face.path), recalcTimestamp=False)
            # Without the spaces: every bundled font has them for Pango, which draws a space in
            # the font of the text before it, but a browser takes each space from the first
            # font of the list that has one, and the Arabic font comes before DejaVu.
            codes = (used & set(font.getBestCmap())) - SPACES
            if not codes:
                continue
            data = subset_woff2(font, codes)
        except OutputError:
            raise
        except Exception as exc:  # fontTools raises many kinds on a broken file
            raise OutputError(f"bundled font cannot be read: {exc}",
                              file=str(face.path)) from None
        url = "data:font/woff2;base64," + base64.b64encode(data).decode("ascii")
        rules.append(f"@font-face {{ font-family: {_css_string(face.family)}; "
                     f"font-weight: {face.weight}; font-style: {face.style}; "
                     f"src: url({url}) format(\"woff2\"); }}")
    return "\n".join(rules) + ("\n" if rules else "")
