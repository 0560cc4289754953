"""Log text made inert for display: control, format and bidi characters shown as visible
escapes, long text clipped with a note of its original length.

Log text was written by adversaries. Escaping HTML is jinja's job (autoescape); this module
handles what escaping does not: characters that reorder the surrounding layout (bidi
overrides), hide content (zero-width characters), or are not text at all (NUL, C0/C1).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import cache

ELLIPSIS = "…"
# Categories shown as escapes: controls, format characters (bidi, zero-width, soft hyphen,
# tags), surrogates, private use, line and paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_KEPT = frozenset("\n\t")
_MAX_COMBINING = 3  # longer runs of combining marks ("zalgo") would pile up over one line


@cache
def _escape_pattern() -> re.Pattern[str]:
    """One character class of every code point to escape (built once per process)."""
    ranges: list[tuple[int, int]] = []
    start = -1
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        hit = (ch not in _KEPT and unicodedata.category(ch) in _ESCAPED_CATEGORIES) or (
            cp & 0xFFFE == 0xFFFE or 0xFDD0 <= cp <= 0xFDEF)  # noncharacters
        if hit and start < 0:
            start = cp
        elif not hit and start >= 0:
            ranges.append((start, cp - 1))
            start = -1
    if start >= 0:
        ranges.append((start, sys.maxunicode))
    parts = "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[{parts}]")


_COMBINING_RUN = re.compile(r"([\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff"
                            r"\u20d0-\u20ff\ufe20-\ufe2f]{" + str(_MAX_COMBINING + 1) + ",})")


def escape_code(ch: str) -> str:
    """The visible stand-in for an invisible or layout-changing character."""
    return f"[U+{ord(ch):04X}]"


def neutralise(text: str) -> str:
    """`text` with every control, format, bidi, surrogate and private-use character replaced
    by a visible escape such as [U+202E], and runs of combining marks shortened."""
    text = _escape_pattern().sub(lambda m: escape_code(m.group(0)), text)
    return _COMBINING_RUN.sub(
        lambda m: m.group(0)[:_MAX_COMBINING] + f"[+{len(m.group(0)) - _MAX_COMBINING} marks]",
        text)


@dataclass(frozen=True)
class Clipped:
    """Log text prepared for display: neutralised, clipped, with its original size."""

    text: str
    original_chars: int
    shown_chars: int
    masked: bool = False

    @property
    def truncated(self) -> bool:
        return self.shown_chars < self.original_chars

    def note(self) -> str:
        """What the reader is not seeing, or '' when the text is shown whole."""
        if self.masked:
            return f"masked in the public profile ({self.original_chars:,} characters)"
        if self.truncated:
            return (f"truncated: first {self.shown_chars:,} of {self.original_chars:,} "
                    f"characters shown")
        return ""


def clip(text: str | None, limit: int, *, max_lines: int = 40,
         original_chars: int | None = None) -> Clipped:
    """Clip `text` to `limit` characters and `max_lines` lines, end it with an ellipsis when
    cut, and neutralise it. `original_chars` is the length before any earlier cut (SQL
    reads only a prefix of a megabyte prompt)."""
    text = text or ""
    original = len(text) if original_chars is None else max(original_chars, len(text))
    shown = text[:limit]
    lines = shown.split("\n")
    if len(lines) > max_lines:
        shown = "\n".join(lines[:max_lines])
    cut = len(shown) < original
    body = neutralise(shown)
    return Clipped(body + (ELLIPSIS if cut else ""), original, len(shown))


def short(text: str | None, limit: int = 80) -> str:
    """A short inline value (id, user agent, detail): neutralised, clipped with an ellipsis
    and the original length when longer than `limit`."""
    if text is None:
        return "—"
    if len(text) <= limit:
        return neutralise(text)
    return f"{neutralise(text[:limit])}{ELLIPSIS} ({len(text):,} chars)"


def chart_label(text: str, limit: int = 24) -> str:
    """A label safe for matplotlib: neutralised, clipped, and with `$` escaped so that
    mathtext never parses log text."""
    value = neutralise(text)
    if len(value) > limit:
        value = value[: limit - 1] + ELLIPSIS
    return value.replace("\\", "\\\\").replace("$", r"\$")
