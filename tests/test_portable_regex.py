"""The regex subset DuckDB (RE2) and Spark (Java) read alike (forensics/portable_regex.py): what
it refuses, the lexicons' check on load, and the Java forms it writes. That the Java forms
match what RE2 matches is tested on Spark (tests/test_spark_dialect.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forensics import resources
from forensics.errors import HeuristicError
from forensics.features import read_lexicons
from forensics.portable_regex import UnsharedRegexError, check_shared, to_java


@pytest.mark.parametrize(("pattern", "construct"), [
    (r"reasoning(?=\s)", "lookaround"),
    (r"(?<!no )reasoning", "lookaround"),
    (r"(a)\1", r"\1"),
    (r"steps?+", "possessive"),
    (r"(?>ab|a)c", "atomic"),
    (r"(?P<verb>show)", "named group"),
    (r"(?<verb>show)", "named group"),
    (r"\Qa.b\E", r"\Q"),
    (r"[[:alpha:]]+", "POSIX"),
    (r"\p{Han}+", r"\p"),
    (r"answer\z", r"\z"),
    (r"(?s)a.b", "inline flag"),
    (r"(?m)^a", "inline flag"),
    (r"(?U)a+", "inline flag"),
    (r"a{,3}", "{,n}"),
    (r"\h", r"\h"),
    (r"a**", "repetition"),
    (r"(ab", "not closed"),
    (r"[ab", "not closed"),
])
def test_constructs_read_differently_are_refused(pattern: str, construct: str) -> None:
    with pytest.raises(UnsharedRegexError, match=construct.replace("\\", "\\\\")):
        check_shared(pattern)


def test_the_bundled_lexicons_keep_to_the_shared_subset() -> None:
    entries = read_lexicons(resources.lexicons_dir(None))
    assert any(e.is_regex for e in entries)
    for entry in entries:
        check_shared(entry.pattern())


def test_a_lexicon_pattern_outside_the_subset_is_refused_naming_file_and_row(
        tmp_path: Path) -> None:
    lexicons = tmp_path / "lexicons"
    shutil.copytree(resources.lexicons_dir(None), lexicons)
    with open(lexicons / "signals.csv", "a", encoding="utf-8") as fh:
        fh.write("cot_strong,(?<!do not )show your reasoning,regex,en,strong,test\n")
    rows = (lexicons / "signals.csv").read_text(encoding="utf-8").count("\n")
    with pytest.raises(HeuristicError, match="lookaround") as refused:
        read_lexicons(lexicons)
    assert refused.value.file == str(lexicons / "signals.csv")
    assert f"row {rows}:" in str(refused.value)


def test_an_empty_lexicon_field_reads_as_null_and_an_empty_phrase_is_refused(
        tmp_path: Path) -> None:
    from forensics.features import read_lexicon_file

    lexicons = tmp_path / "lexicons"
    shutil.copytree(resources.lexicons_dir(None), lexicons)
    path = lexicons / "signals.csv"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('cot_strong,"",literal,en,strong,\n')
    assert read_lexicon_file(path).rows[-1] == ("cot_strong", None, "literal", "en", "strong",
                                                None)
    with pytest.raises(HeuristicError, match="the phrase is empty"):
        read_lexicons(lexicons)


def test_java_forms_spell_out_what_re2_means() -> None:
    assert to_java(".") == "[^\\n]"
    assert to_java("a$") == "a\\z"
    assert to_java(r"\s") == "[\\x{9}-\\x{A}\\x{C}-\\x{D} ]"
    assert to_java(r"\bx") == ("(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])"
                               "(?=[0-9A-Za-z_]))x")
    # RE2 folds k with the Kelvin sign and s with the long s, and i with nothing but I.
    assert to_java("(?i)kis") == "[Kk\u212a][Ii][Ss\u017f]"
    assert to_java(r"(?i)[a-c]\d") == "[A-Ca-c][0-9]"
    assert to_java("a{2}[{]&&") == "a{2}[\\{]\\&\\&"
    assert to_java(r"\p{Han}|\P{Cyrillic}") == "\\p{IsHan}|\\P{IsCyrillic}"
