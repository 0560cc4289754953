"""Regular expressions that DuckDB (RE2) and Spark (java.util.regex) read alike.

The feature SQL's patterns and the lexicons' regex phrases are written once, in RE2's syntax,
as DuckDB runs them. Java reads much of that syntax differently, so:

- `check_shared(pattern)` refuses a construct outside the shared subset: one RE2 refuses while
  Java accepts it (lookaround, backreferences, possessive quantifiers, atomic and named
  groups), one each engine reads its own way (`\\Q…\\E`, POSIX classes `[[:alpha:]]`, `\\p{…}`
  whose tables follow each engine's Unicode version, `\\A` `\\z` `\\Z`, inline flags other than
  `(?i)`, `{,n}`), or one Java alone gives a meaning (`\\h`, `\\R`, `\\X` …). The lexicons are
  checked on load (features.read_lexicons).
- `to_java(pattern)` writes a pattern of the subset as a Java pattern that matches the same
  text at the same places. What it rewrites, each because the two engines differ there:
  * `.` → `[^\\n]`: RE2's dot leaves out only a newline, Java's every line terminator
    (`\\r`, `\\u0085`, `\\u2028`, `\\u2029`);
  * `$` → `\\z`: RE2's `$` (without `(?m)`) is the end of the text, Java's also the place
    before a final line terminator;
  * `\\s` → `[\\t\\n\\f\\r ]`: Java's also takes the vertical tab; `\\v` → `\\x{B}` (Java's
    `\\v` is a class of vertical white space);
  * `\\b`, `\\B` → lookarounds over `[0-9A-Za-z_]`: RE2's word characters are ASCII, Java 17's
    `\\b` counts every Unicode letter and digit (CJK text next to a word makes no boundary);
  * case-insensitive atoms (`(?i)`): RE2 folds by Unicode simple case folding (`k` matches
    the Kelvin sign, `s` the long s, and so do `\\w` and `[a-z]`), Java's `(?i)` folds ASCII
    only and its `(?iu)` also folds `i` with the Turkish `İ` and `ı`, which RE2 does not.
    Each case-insensitive character, class and `\\w` is written as the explicit set of code
    points RE2 itself matches (`folded`, asked of RE2 in DuckDB), and the Java pattern has no
    flag;
  * every literal and class member is written escaped: Java refuses a `{` that starts no
    repetition and reads `[` inside a class as a nested class and `&&` as an intersection,
    where RE2 reads them as characters;
  * `\\p{Script}` → `\\p{IsScript}` (Java names scripts with `Is`), only where a caller allows
    properties (the feature SQL's script detection); the scripts' code points are each
    engine's Unicode version's.

Needs nothing but DuckDB, which every run has; only the Spark path calls `to_java`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

# RE2 refuses a repetition count above this; Java has no limit.
MAX_REPEAT = 1000
MAX_CODE_POINT = 0x10FFFF

_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_DIGIT = ((0x30, 0x39),)
# RE2's \s: tab, newline, form feed, carriage return, space (not the vertical tab).
_SPACE = ((0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20))
_PERL = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_CONTROL_ESCAPES = {"t": 0x09, "n": 0x0A, "r": 0x0D, "f": 0x0C, "v": 0x0B, "a": 0x07}
_JAVA_WORD = "[0-9A-Za-z_]"
_BOUNDARY = f"(?:(?<={_JAVA_WORD})(?!{_JAVA_WORD})|(?<!{_JAVA_WORD})(?={_JAVA_WORD}))"
_NOT_BOUNDARY = f"(?:(?<={_JAVA_WORD})(?={_JAVA_WORD})|(?<!{_JAVA_WORD})(?!{_JAVA_WORD}))"
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_PROPERTY = re.compile(r"\{\^?([A-Za-z_]+)\}|([A-Za-z])")
_HEX = re.compile(r"x\{([0-9A-Fa-f]{1,6})\}|x([0-9A-Fa-f]{2})")

Ranges = tuple[tuple[int, int], ...]


class UnsharedRegexError(ValueError):
    """A pattern (or a part of it) that RE2 and Java do not read alike."""


# -- the syntax tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Char:
    code: int
    fold: bool


@dataclass(frozen=True)
class _Class:
    ranges: Ranges  # before folding, before negation
    negated: bool
    fold: bool


@dataclass(frozen=True)
class _Any:
    pass


@dataclass(frozen=True)
class _Assert:
    kind: str  # ^ $ b B


@dataclass(frozen=True)
class _Property:
    name: str
    negated: bool


@dataclass(frozen=True)
class _Group:
    capturing: bool
    body: _Alt


@dataclass(frozen=True)
class _Repeat:
    node: _Node
    low: int
    high: int | None
    lazy: bool


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Alt:
    branches: tuple[_Seq, ...]


_Node = _Char | _Class | _Any | _Assert | _Property | _Group | _Repeat | _Seq | _Alt


def _normalised(ranges: list[tuple[int, int]]) -> Ranges:
    """Sorted, merged ranges."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    start = 0
    for lo, hi in _normalised(list(ranges)):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE_POINT:
        out.append((start, MAX_CODE_POINT))
    return tuple(out)


class _Parser:
    """RE2's syntax, as far as the shared subset goes; anything else raises
    UnsharedRegexError naming the construct."""

    def __init__(self, pattern: str, properties: bool) -> None:
        self.text = pattern
        self.i = 0
        self.fold = False
        self.properties = properties

    def refuse(self, construct: str, why: str) -> UnsharedRegexError:
        return UnsharedRegexError(f"{construct} at character {self.i + 1} of the pattern: {why}")

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.text[j] if j < len(self.text) else ""

    def parse(self) -> _Alt:
        tree = self.alternation()
        if self.i < len(self.text):
            raise self.refuse("')'", "it closes no group")
        return tree

    def alternation(self) -> _Alt:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return _Alt(tuple(branches))

    def sequence(self) -> _Seq:
        items: list[_Node] = []
        while self.i < len(self.text) and self.peek() not in "|)":
            atom = self.atom()
            if atom is None:  # a flag group: (?i)
                continue
            items.append(self.repetitions(atom))
        return _Seq(tuple(items))

    def repetitions(self, atom: _Node) -> _Node:
        quantified = False
        while True:
            ch = self.peek()
            if ch in ("*", "+", "?"):
                low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
                self.i += 1
            elif ch == "{" and (m := _REPEAT.match(self.text, self.i)):
                low = int(m.group(1))
                high = low if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
                if max(low, high or 0) > MAX_REPEAT or (high is not None and high < low):
                    raise self.refuse(m.group(0), f"RE2 takes counts from 0 to {MAX_REPEAT}, "
                                      "the smaller first")
                self.i = m.end()
            elif ch == "{" and re.match(r"\{,\d+\}", self.text[self.i:]):
                raise self.refuse("{,n}", "RE2 reads it as text, Java refuses it (write {0,n} "
                                  "or escape the brace)")
            else:
                return atom
            if quantified:
                raise self.refuse(f"{ch!r} after a repetition", "RE2 refuses a repeated "
                                  "repetition (Java reads a '+' there as possessive)")
            if isinstance(atom, _Assert):
                raise self.refuse(repr(ch), "an anchor or word boundary cannot be repeated")
            lazy = self.peek() == "?"
            if lazy:
                self.i += 1
            if self.peek() == "+":
                raise self.refuse("a possessive quantifier", "RE2 refuses it")
            atom = _Repeat(atom, low, high, lazy)
            quantified = True

    def atom(self) -> _Node | None:
        ch = self.peek()
        if ch == "(":
            return self.group()
        if ch == "[":
            return self.char_class()
        if ch == "\\":
            return self.escape()
        self.i += 1
        if ch == ".":
            return _Any()
        if ch in "^$":
            return _Assert(ch)
        if ch in "*+?":
            self.i -= 1
            raise self.refuse(repr(ch), "nothing before it to repeat")
        return _Char(ord(ch), self.fold)

    def group(self) -> _Node | None:
        start = self.i
        self.i += 1
        capturing = True
        saved = self.fold
        if self.peek() == "?":
            rest = self.text[self.i + 1:]
            if rest.startswith(":"):
                self.i += 2
                capturing = False
            elif rest.startswith("i)"):
                self.i += 3
                self.fold = True  # for the rest of the enclosing group
                return None
            elif rest.startswith("i:"):
                self.i += 3
                capturing = False
                self.fold = True
            else:
                self.i = start
                if rest[:1] in ("=", "!") or rest[:2] in ("<=", "<!"):
                    raise self.refuse("a lookaround", "RE2 refuses it")
                if rest[:1] in ("P", "<", "'"):
                    raise self.refuse("a named group", "RE2 and Java name groups differently")
                if rest[:1] == ">":
                    raise self.refuse("an atomic group", "RE2 refuses it")
                raise self.refuse("an inline flag other than (?i)",
                                  "RE2 and Java give the other flags other meanings")
        body = self.alternation()
        if self.peek() != ")":
            raise self.refuse("'('", "the group is not closed")
        self.i += 1
        self.fold = saved
        return _Group(capturing, body)

    def escape(self) -> _Node:
        """An escape outside a class."""
        ch = self.peek(1)
        if ch in ("b", "B"):
            self.i += 2
            return _Assert(ch)
        if ch in ("d", "w", "s", "D", "W", "S"):
            self.i += 2
            return _Class(_PERL[ch.lower()], ch.isupper(), self.fold)
        if ch in ("p", "P"):
            return self.unicode_property()
        return _Char(self.escaped_char(), self.fold)

    def escaped_char(self) -> int:
        """The character an escape stands for (`\\x{…}`, `\\t`, `\\.` …)."""
        ch = self.peek(1)
        if ch == "":
            raise self.refuse("'\\'", "the pattern ends in a lone backslash")
        if ch == "x":
            m = _HEX.match(self.text, self.i + 1)
            if not m or int(m.group(1) or m.group(2), 16) > MAX_CODE_POINT:
                raise self.refuse("'\\x'", "expected \\x{hex} or two hex digits")
            self.i = m.end()
            return int(m.group(1) or m.group(2), 16)
        if ch in _CONTROL_ESCAPES:
            self.i += 2
            return _CONTROL_ESCAPES[ch]
        if ch.isdigit():
            raise self.refuse(f"\\{ch}", "a backreference or octal escape: RE2 refuses "
                              "backreferences, Java reads \\1 … as one")
        if ch == "Q":
            raise self.refuse("\\Q…\\E", "the engines end a quoted text differently")
        if ch in "AzZG":
            raise self.refuse(f"\\{ch}", "only ^ and $ anchor a pattern of the shared "
                              "subset")
        if ch.isalnum() or ord(ch) > 127:
            raise self.refuse(f"\\{ch}", "no escape both engines read alike")
        self.i += 2
        return ord(ch)

    def unicode_property(self) -> _Node:
        if not self.properties:
            raise self.refuse("\\p{…}", "each engine's character tables follow its own "
                              "Unicode version")
        negated = self.peek(1) == "P"
        m = _PROPERTY.match(self.text, self.i + 2)
        if not m:
            raise self.refuse("\\p", "expected \\p{Name}")
        if self.fold:
            raise self.refuse("\\p{…} under (?i)", "RE2 folds a property's case, Java not")
        if self.text[self.i + 3:self.i + 4] == "^":
            negated = not negated
        self.i = m.end()
        return _Property(m.group(1) or m.group(2), negated)

    def char_class(self) -> _Class:
        start = self.i
        self.i += 1
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            ch = self.peek()
            if ch == "":
                self.i = start
                raise self.refuse("'['", "the class is not closed")
            if ch == "]" and not first:
                self.i += 1
                return _Class(_normalised(ranges), negated, self.fold)
            first = False
            if ch == "[" and self.peek(1) == ":":
                raise self.refuse("a POSIX class [[:…:]]", "Java reads it as a nested "
                                  "class of the characters ':' …")
            if ch == "\\" and self.peek(1) in ("d", "w", "s", "D", "W", "S"):
                perl = _PERL[self.peek(1).lower()]
                ranges += _complement(perl) if self.peek(1).isupper() else perl
                self.i += 2
                continue
            if ch == "\\" and self.peek(1) in ("p", "P", "b", "B"):
                raise self.refuse(f"\\{self.peek(1)} in a class", "outside the shared subset")
            low = self.class_char()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                high = self.class_char()
                if high < low:
                    raise self.refuse("a range", "its end comes before its start")
                ranges.append((low, high))
            else:
                ranges.append((low, low))

    def class_char(self) -> int:
        ch = self.peek()
        if ch == "\\":
            return self.escaped_char()
        self.i += 1
        return ord(ch)


def _parse(pattern: str, properties: bool) -> _Alt:
    return _Parser(pattern, properties).parse()


def check_shared(pattern: str) -> None:
    """Raise UnsharedRegexError, naming the construct, if `pattern` (RE2 syntax) leaves the
    subset both engines read alike."""
    _parse(pattern, properties=False)


# -- Java ------------------------------------------------------------------------------------


def _caseless(code: int) -> bool:
    """Whether the character is assigned in Python's Unicode tables and has no case there (so
    RE2 can fold it with nothing)."""
    c = chr(code)
    return (unicodedata.category(c) != "Cn" and c.lower() == c == c.upper()
            and c.casefold() == c and c.title() == c)


@cache
def _code_points() -> object:
    """A DuckDB connection holding every Unicode scalar value, for asking RE2 its sets."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE code_points AS SELECT cp, chr(CAST(cp AS INTEGER)) AS c "
                "FROM (SELECT * FROM range(0, 55296) AS t(cp) "
                "UNION ALL SELECT * FROM range(57344, 1114112) AS t(cp))")
    return con


@cache
def folded(ranges: Ranges) -> Ranges:
    """The code points RE2 matches with `(?i)[ranges]`: the set and everything Unicode
    simple case folding joins to it. Asked of RE2 itself (DuckDB's regexp functions), over
    every code point, so the sets are RE2's to its last table entry; a set of characters
    Python's tables know to be caseless is its own fold, and RE2 is not asked."""
    if sum(hi - lo + 1 for lo, hi in ranges) <= 256 and all(
            _caseless(c) for lo, hi in ranges for c in range(lo, hi + 1)):
        return ranges
    con = _code_points()
    members = "".join(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}"
                      for lo, hi in ranges)
    found = con.execute(  # type: ignore[attr-defined]
        "SELECT cp FROM code_points WHERE regexp_full_match(c, $p) ORDER BY cp",
        {"p": f"(?i)[{members}]"}).fetchall()
    return _normalised([(cp, cp) for (cp,) in found])


def _literal(code: int, in_class: bool) -> str:
    """One code point as Java reads it literally, inside a class or out."""
    c = chr(code)
    if c.isascii() and c.isalnum():
        return c
    if c == " ":
        return c
    if c.isascii() and c.isprintable():
        return "\\" + c
    if code > 127 and not unicodedata.category(c).startswith(("C", "Z", "M")):
        return c
    return f"\\x{{{code:X}}}"


def _java_class(ranges: Ranges, negated: bool) -> str:
    members = "".join(_literal(lo, True) if lo == hi else
                      f"{_literal(lo, True)}-{_literal(hi, True)}" for lo, hi in ranges)
    if not ranges:  # the empty set: a class of nothing, written as the negation of all
        return "[^\\x{0}-\\x{10FFFF}]" if not negated else "[\\x{0}-\\x{10FFFF}]"
    return f"[{'^' if negated else ''}{members}]"


def _java(node: _Node) -> str:
    if isinstance(node, _Alt):
        return "|".join(_java(b) for b in node.branches)
    if isinstance(node, _Seq):
        return "".join(_java(n) for n in node.items)
    if isinstance(node, _Group):
        return f"({'' if node.capturing else '?:'}{_java(node.body)})"
    if isinstance(node, _Repeat):
        quantifier = {(0, None): "*", (1, None): "+", (0, 1): "?"}.get(
            (node.low, node.high),
            f"{{{node.low},}}" if node.high is None else
            f"{{{node.low}}}" if node.high == node.low else f"{{{node.low},{node.high}}}")
        return _java(node.node) + quantifier + ("?" if node.lazy else "")
    if isinstance(node, _Char):
        members = folded(((node.code, node.code),)) if node.fold else ((node.code, node.code),)
        if members == ((node.code, node.code),):
            return _literal(node.code, False)
        return _java_class(members, False)
    if isinstance(node, _Class):
        return _java_class(folded(node.ranges) if node.fold else node.ranges, node.negated)
    if isinstance(node, _Any):
        return "[^\\n]"
    if isinstance(node, _Assert):
        return {"^": "^", "$": "\\z", "b": _BOUNDARY, "B": _NOT_BOUNDARY}[node.kind]
    if isinstance(node, _Property):
        name = node.name if len(node.name) <= 2 else f"Is{node.name}"
        return f"\\{'P' if node.negated else 'p'}{{{name}}}"
    raise TypeError(node)


@cache
def to_java(pattern: str, properties: bool = True) -> str:
    """`pattern` (RE2 syntax, of the shared subset; `\\p{…}` allowed when `properties`) as a
    java.util.regex pattern that matches the same text at the same places, with the same
    capture groups; raises UnsharedRegexError for a construct outside the subset."""
    return _java(_parse(pattern, properties))


def to_java_replacement(replacement: str) -> str:
    """An RE2 replacement text (`\\1` … for groups, `\\\\` for a backslash) as Java's
    (`$1` …, `\\$` and `\\\\` for the characters themselves)."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append(f"${nxt}" if nxt.isdigit() else "\\\\" if nxt == "\\" else "\\" + nxt)
            i += 2
            continue
        out.append("\\$" if ch == "$" else "\\\\" if ch == "\\" else ch)
        i += 1
    return "".join(out)
