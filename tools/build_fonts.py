"""Build the dossier's bundled font subsets (templates/assets/fonts/) from Debian's Noto packages.

    python tools/build_fonts.py [--debs DIR] [--out templates/assets/fonts]

Needs Debian's `apt-get` and `dpkg-deb` (only to fetch and unpack the pinned packages; pass
--debs DIR holding the three .deb files to skip the download) and fontTools with brotli
(`pip install 'fonttools[woff]'`; WeasyPrint already depends on it). The dossier itself never
runs this: the subsets it writes are committed.

What it makes, all under the SIL Open Font License 1.1 (OFL.txt beside them):
- Noto Sans CJK SC Regular, cut to the common characters of Chinese (GB 2312 and Big5 level 1
  hanzi), Japanese (JIS X 0208 kanji, all kana) and Korean (all 11,172 Hangul syllables and the
  compatibility jamo), with CJK punctuation, fullwidth forms and the non-Latin symbols of those
  character sets. Regular weight only: bold CJK text is drawn in the regular weight. Its CFF
  outlines are converted to TrueType ones (fontTools cu2qu, at most 1 unit of 1000 off): the
  WOFF2 is smaller, and WeasyPrint, which subsets every embedded font with fontTools when the
  system has no HarfBuzz-subset library, cuts a 23,000-glyph TrueType font in under a second
  where the CFF one took three. No layout tables (CJK needs none here) and no vertical metrics.
- Noto Sans Arabic and Noto Sans Hebrew, Regular and Bold, cut to their scripts' blocks and
  the space (no Latin or digits, so that they never take text away from DejaVu; Pango keeps the
  font of the text before a space, so every font needs one).
- Noto Color Emoji (CBDT colour bitmaps), cut to its single-code-point emoji: the sequences
  (skin tones, ZWJ families, flags) are dropped with the GSUB table, so such a sequence is drawn
  as its parts.

The character sets are computed from Python's codecs (gb2312, big5, euc_jp, euc_kr), so the same
Python, fontTools, brotli and packages give the same bytes: SOURCES.json records each package's
version and SHA-256, each source font's SHA-256, the character sets and each output's SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools import version as fonttools_version
from fontTools.ttLib import TTFont
from fontTools.ttLib.woff2 import WOFF2FlavorData

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "templates" / "assets" / "fonts"

# Debian 12 (bookworm) packages: name, version, SHA-256 of the .deb.
PACKAGES = {
    "fonts-noto-core": ("20201225-1",
                        "58f4f0bb6720f919f92096b3508e1412a0f1544424ade6c5b5bf1eb694dd64ba"),
    "fonts-noto-cjk": ("1:20220127+repack1-1",
                       "4a2515eb6db3978b897fef9709ed0d2b1f4c6c4df4d83d6c4ef65f71f1b1f502"),
    "fonts-noto-color-emoji": ("2.042-0+deb12u1",
                               "a5ab0f69c7938423862320d9aca5dd187b3fd879d6a9a57dd52e17c3fa8d2751"),
}
LICENCE_FROM = "fonts-noto-cjk"  # whose debian/copyright holds the OFL 1.1 text

# Name table entries kept in every subset: family, style, version, PostScript name and the
# copyright and licence notices the OFL asks to travel with the font.
NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)


def _range(first: int, last: int) -> set[int]:
    return set(range(first, last + 1))


def _two_byte(codec: str, leads: Iterable[int], trails: Iterable[int]) -> set[int]:
    """Every character a two-byte code of `codec` decodes to."""
    out: set[int] = set()
    trail_list = list(trails)
    for a in leads:
        for b in trail_list:
            try:
                text = bytes((a, b)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                out.add(ord(text))
    return out


def _han(codes: set[int]) -> set[int]:
    return {c for c in codes if 0x3400 <= c <= 0x4DBF or 0x4E00 <= c <= 0x9FFF
            or 0xF900 <= c <= 0xFAFF}


def cjk_charset() -> tuple[set[int], dict[str, int]]:
    """The CJK subset's code points, and how many each source contributes (for SOURCES.json)."""
    euc = range(0xA1, 0xFF)
    gb2312 = _two_byte("gb2312", euc, euc)
    # Big5 level 1 (frequently used hanzi): A440 to C67E.
    big5_trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    big5_level1 = (_two_byte("big5", range(0xA4, 0xC6), big5_trails)
                   | _two_byte("big5", [0xC6], range(0x40, 0x7F)))
    jis0208 = _two_byte("euc_jp", euc, euc)
    ksx1001 = _two_byte("euc_kr", euc, euc)
    han = _han(gb2312) | _han(big5_level1) | _han(jis0208)
    blocks = (_range(0x3000, 0x303F)      # CJK symbols and punctuation
              | _range(0x3040, 0x30FF)    # hiragana, katakana
              | _range(0x3100, 0x312F)    # bopomofo
              | _range(0x3130, 0x318F)    # Hangul compatibility jamo
              | _range(0x31F0, 0x31FF)    # katakana phonetic extensions
              | _range(0xFF00, 0xFFEF))   # halfwidth and fullwidth forms
    hangul = _range(0xAC00, 0xD7A3)
    # The legacy sets' other characters from U+2000 on (arrows, box drawing, circled numbers):
    # below that, Latin, Greek and Cyrillic stay with DejaVu.
    symbols = {c for c in gb2312 | big5_level1 | jis0208 | ksx1001
               if c >= 0x2000 and c not in han and c not in hangul}
    counts = {"hanzi/kanji (GB 2312 + Big5 level 1 + JIS X 0208)": len(han),
              "Hangul syllables (all)": len(hangul),
              "kana, bopomofo, jamo, CJK punctuation, fullwidth forms": len(blocks),
              "symbols of those sets from U+2000": len(symbols - blocks)}
    return han | blocks | hangul | symbols | SPACES, counts


# Pango draws a space in the font of the text before it, so every subset keeps the spaces.
SPACES = {0x0020, 0x00A0}
ARABIC = (_range(0x0600, 0x06FF) | _range(0x0750, 0x077F) | _range(0x08A0, 0x08FF)
          | _range(0xFB50, 0xFDFF) | _range(0xFE70, 0xFEFF) | {0x25CC} | SPACES)
HEBREW = _range(0x0590, 0x05FF) | _range(0xFB1D, 0xFB4F) | {0x25CC} | SPACES

# Each output: file name, package, path inside it, family (to pick a face of a collection),
# character set ("emoji": the source's own single code points from U+2000, and the spaces),
# whether to keep the layout tables (Arabic shaping needs them), whether to convert CFF
# outlines to TrueType.
FONTS = (
    ("NotoSansCJKsc-Regular.subset.woff2", "fonts-noto-cjk",
     "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", "cjk",
     False, True),
    ("NotoSansArabic-Regular.subset.woff2", "fonts-noto-core",
     "usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", None, "arabic", True, False),
    ("NotoSansArabic-Bold.subset.woff2", "fonts-noto-core",
     "usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf", None, "arabic", True, False),
    ("NotoSansHebrew-Regular.subset.woff2", "fonts-noto-core",
     "usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf", None, "hebrew", True, False),
    ("NotoSansHebrew-Bold.subset.woff2", "fonts-noto-core",
     "usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf", None, "hebrew", True, False),
    ("NotoColorEmoji.subset.woff2", "fonts-noto-color-emoji",
     "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf", None, "emoji", False, False),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_debs(dest: Path) -> None:
    """apt-get download the pinned packages into `dest`."""
    names = [f"{name}={version}" for name, (version, _) in PACKAGES.items()]
    subprocess.run(["apt-get", "download", *names], cwd=dest, check=True)


def unpack(debs: Path, root: Path) -> dict[str, Path]:
    """Check each .deb's SHA-256 and unpack it under `root`; return package → its folder."""
    trees: dict[str, Path] = {}
    for name, (version, digest) in PACKAGES.items():
        plain = version.split(":", 1)[-1]
        found = sorted(debs.glob(f"{name}_*{plain}_all.deb"))
        if not found:
            raise SystemExit(f"{name} {version}: no .deb in {debs}")
        actual = sha256(found[0].read_bytes())
        if actual != digest:
            raise SystemExit(f"{found[0]}: SHA-256 {actual}, expected {digest}")
        tree = root / name
        subprocess.run(["dpkg-deb", "-x", str(found[0]), str(tree)], check=True)
        trees[name] = tree
    return trees


def open_face(path: Path, family: str | None) -> TTFont:
    """The font at `path`, or its face named `family` in a collection."""
    if path.suffix != ".ttc":
        return TTFont(str(path), recalcTimestamp=False)
    index = 0
    while True:
        font = TTFont(str(path), fontNumber=index, recalcTimestamp=False, lazy=True)
        if font["name"].getDebugName(1) == family:
            return TTFont(str(path), fontNumber=index, recalcTimestamp=False)
        index += 1


def subset_font(font: TTFont, codes: set[int], layout: bool, truetype: bool) -> bytes:
    """`font` cut to `codes` as WOFF2 bytes (no hinting, kept names, deterministic)."""
    options = subset.Options()
    options.hinting = False
    options.name_IDs = list(NAME_IDS)
    options.name_languages = [0x409]
    options.notdef_outline = True
    options.layout_features = ["*"] if layout else []
    if not layout:
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE"]
    if truetype:
        options.drop_tables += ["vhea", "vmtx", "VORG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codes))
    subsetter.subset(font)
    if truetype and "CFF " in font:
        cff_to_truetype(font)
    # Round-trip through bytes so that the WOFF2 encoder reads compiled tables.
    plain = io.BytesIO()
    font.flavor = None
    font.save(plain, reorderTables=True)
    final = TTFont(plain, recalcTimestamp=False)
    final.flavor = "woff2"
    # No glyf/loca transform: fontTools undoes it in pure Python, which took WeasyPrint 9 s
    # per render for the CJK font (brotli alone: 0.3 s, for 18 % more bytes).
    final.flavorData = WOFF2FlavorData(transformedTables=())
    out = io.BytesIO()
    final.save(out, reorderTables=True)
    return out.getvalue()


def cff_to_truetype(font: TTFont, max_err: float = 1.0) -> None:
    """Replace `font`'s CFF outlines with quadratic TrueType ones (as fontTools' otf2ttf
    snippet does), in place."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(order)
    maxp.maxZones = 1
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    font["post"].formatType = 3.0  # no glyph names
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def licence_text(tree: Path) -> str:
    """The OFL 1.1 text from a package's debian/copyright (its `License: SIL-1.1` paragraph)."""
    copyright_file = tree / "usr/share/doc" / LICENCE_FROM / "copyright"
    lines = copyright_file.read_text(encoding="utf-8").splitlines()
    # The stand-alone licence paragraph: a License line after a blank one, not a Files one's.
    start = next(i for i, line in enumerate(lines)
                 if re.fullmatch(r"License: (SIL-1\.1|OFL-1\.1)", line) and i
                 and not lines[i - 1].strip())
    body: list[str] = []
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        body.append("" if line.strip() == "." else line[1:])
    return "\n".join(body).strip() + "\n"


def build(debs: Path, out: Path) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    cjk_codes, cjk_counts = cjk_charset()
    with tempfile.TemporaryDirectory(prefix="forensics-fonts-") as tmp:
        trees = unpack(debs, Path(tmp))
        records = []
        notices: dict[str, str] = {}
        for file_name, package, inner, family, charset, layout, truetype in FONTS:
            source = trees[package] / inner
            font = open_face(source, family)
            cmap = font.getBestCmap()
            if charset == "cjk":
                wanted = cjk_codes
            elif charset == "arabic":
                wanted = ARABIC
            elif charset == "hebrew":
                wanted = HEBREW
            else:
                wanted = {c for c in cmap if c >= 0x2000} | SPACES
            codes = wanted & set(cmap)
            name = font["name"].getDebugName(4) or file_name
            notices[name] = font["name"].getDebugName(0) or ""
            data = subset_font(font, codes, layout, truetype)
            (out / file_name).write_bytes(data)
            records.append({
                "file": file_name, "bytes": len(data), "sha256": sha256(data),
                "font": name, "package": package, "package_version": PACKAGES[package][0],
                "source": "/" + inner, "source_sha256": sha256(source.read_bytes()),
                "code_points": len(codes),
                "outlines": "TrueType (converted from CFF)" if truetype else "as the source",
                "layout_tables": "kept" if layout else "dropped",
                "missing_from_source": len(wanted - set(cmap)),
                "character_set": {"cjk": cjk_counts,
                                  "arabic": "U+0600-06FF, 0750-077F, 08A0-08FF, FB50-FDFF, "
                                            "FE70-FEFF, U+25CC",
                                  "hebrew": "U+0590-05FF, FB1D-FB4F, U+25CC",
                                  "emoji": "the source's single code points from U+2000 and "
                                           "the space; sequences (GSUB) dropped"}[charset],
            })
        licence = licence_text(trees[LICENCE_FROM])
    header = ["The fonts in this folder are subsets of Noto fonts, made by tools/build_fonts.py.",
              "Their copyright notices:", ""]
    header += [f"  {name}: {notice}" for name, notice in sorted(notices.items())]
    header += ["", "They are licensed under the SIL Open Font License, Version 1.1:", "", ""]
    (out / "OFL.txt").write_text("\n".join(header) + licence, encoding="utf-8")
    manifest = {
        "built_by": "tools/build_fonts.py",
        "debian_packages": {name: {"version": version, "deb_sha256": digest}
                            for name, (version, digest) in PACKAGES.items()},
        "tools": {"python": platform.python_version(), "fonttools": fonttools_version},
        "licence": "SIL Open Font License 1.1 (OFL.txt)",
        "fonts": records,
    }
    (out / "SOURCES.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debs", type=Path,
                        help="folder with the three .deb files (default: apt-get download "
                             "them into a temporary folder)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.debs is not None:
        manifest = build(args.debs, args.out)
    else:
        with tempfile.TemporaryDirectory(prefix="forensics-debs-") as tmp:
            fetch_debs(Path(tmp))
            manifest = build(Path(tmp), args.out)
    for record in manifest["fonts"]:  # type: ignore[attr-defined]
        print(f"{record['file']}: {record['bytes']:,} bytes, {record['code_points']:,} code "
              f"points, sha256 {record['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
