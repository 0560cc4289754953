"""No SQL text is built from paths or values: the one quoting module, checked against hostile
text, and a full run over folders and files whose names are hostile."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from forensics import sqltext

from .conftest import account_rows, request_rows, run_cli, write_table

HOSTILE = ["it's", 'say "hi"', "a;b", "x'); DROP TABLE t; --", "line\nbreak", "tab\tand\r",
           "''", '""', "\\", "back\\'slash", "ü中🚀", "$param", "?", "[*]", "{a,b}", "~home",
           "-- comment", "/* c */", ""]


@pytest.mark.parametrize("text", HOSTILE)
def test_string_literal_round_trips(text: str) -> None:
    con = duckdb.connect()
    assert con.execute(f"SELECT {sqltext.string(text)}").fetchone() == (text,)


@pytest.mark.parametrize("text", [t for t in HOSTILE if t])
def test_identifier_round_trips(text: str) -> None:
    con = duckdb.connect()
    cur = con.execute(f"SELECT 1 AS {sqltext.identifier(text)}")
    assert cur.description is not None and cur.description[0][0] == text


def test_nul_is_refused() -> None:
    with pytest.raises(ValueError):
        sqltext.string("a\x00b")
    with pytest.raises(ValueError):
        sqltext.identifier("a\x00b")


@pytest.mark.parametrize("name", ["plain.parquet", "part-[1].parquet", "p*.parquet", "q?.parquet",
                                  "[ab].parquet", "[!a].parquet", "a]b.parquet", "{a,b}.parquet",
                                  "it's \"x\"; y.parquet", "new\nline[1].parquet",
                                  "back\\slash.parquet", "**.parquet"])
def test_file_pattern_names_exactly_one_file(tmp_path: Path, name: str) -> None:
    """Among look-alike files, the pattern reads exactly the one named (as a parameter and as
    a literal in SQL text)."""
    folder = tmp_path / "d[1]*" if "\\" not in name else tmp_path / "plain"
    folder.mkdir()
    decoys = ["plain.parquet", "part-1.parquet", "pa.parquet", "qx.parquet", "a.parquet",
              "b.parquet", "c.parquet"]
    for i, n in enumerate(sorted({name, *decoys})):
        pq.write_table(pa.table({"name": [n], "i": [i]}), folder / n)
    con = duckdb.connect()
    by_param = con.execute("SELECT name FROM read_parquet([$p])",
                           {"p": sqltext.file_pattern(folder / name)}).fetchall()
    by_text = con.execute(f"SELECT name FROM read_parquet([{sqltext.file_literal(folder / name)}])"
                          ).fetchall()
    assert by_param == by_text == [(name,)]


def test_backslash_with_glob_characters_is_refused() -> None:
    with pytest.raises(sqltext.UnreadablePathError):
        sqltext.file_pattern("/x/a\\b/[1].parquet")


# --- the whole package: no quoting outside sqltext, no value pasted between quotes ---------

PACKAGE = Path(sqltext.__file__).parent


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_value_is_pasted_between_quotes_in_sql() -> None:
    """No f-string in the package puts an interpolated value between single quotes (what
    `'{path}'` in a COPY or read_csv did), and no module but sqltext doubles quotes itself."""
    offenders = []
    for path in _sources():
        if path.name == "sqltext.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                parts = node.values
                for before, value in zip(parts, parts[1:], strict=False):
                    if (isinstance(before, ast.Constant) and isinstance(before.value, str)
                            and before.value.endswith("'")
                            and isinstance(value, ast.FormattedValue)):
                        offenders.append(f"{path.name}:{node.lineno}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "replace" and len(node.args) == 2
                    and all(isinstance(a, ast.Constant) for a in node.args)
                    and [a.value for a in node.args] in (["'", "''"], ['"', '""'])):
                offenders.append(f"{path.name}:{node.lineno} (own quoting)")
    assert offenders == []


# --- a full run where every name is hostile ----------------------------------------------

def _hostile(base: str) -> str:
    # Newlines in names where the filesystem allows them (every Linux one does).
    return base + "'s \"x\"; y" + ("\nz" if sys.platform != "win32" else "")


def test_full_run_with_hostile_names(tmp_path: Path) -> None:
    """`forensics run` succeeds with apostrophes, double quotes, semicolons and newlines (and
    glob characters) in the data folder, file names, partition values and output folder,
    and analyses exactly the rows written."""
    d = tmp_path / _hostile("da ta")
    channel_a, channel_b = "dir'ect \"api\"; x", "re;sel'ler\nnet"
    # Partition values as written in folder names: percent-encoding only for what a file name
    # cannot hold; quotes, semicolons and newlines stay as they are.
    parts = {
        f"requests/access_channel={channel_a}/{_hostile('pa[r]t*')}.parquet":
            request_rows(5, "acct_a"),
        f"requests/access_channel={channel_b}/{_hostile('p?')}.parquet":
            request_rows(4, "acct_b", start=10),
        f"requests/access_channel={channel_b}/{_hostile('p1')}.parquet":
            request_rows(3, "acct_b", start=20),
    }
    for rel, rows in parts.items():
        write_table(d / rel, rows)
    write_table(d / "accounts" / f"{_hostile('acc')}.parquet", account_rows("acct_a", "acct_b"))
    (d / "indicators").mkdir()
    (d / "indicators" / f"{_hostile('ind')}.CSV").write_text(
        "indicator_type,value,actor,source\nip,203.0.113.7,APT 'X'; \"Y\",rep;ort\n",
        encoding="utf-8")
    out = tmp_path / _hostile("out put") / _hostile("dossier")
    workdir = tmp_path / _hostile("work")
    outcome = run_cli("run", d, "--out", out, "--workdir", workdir, "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    assert (out / "dossier.pdf").is_file() and (out / "findings.parquet").is_file()

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    tables = manifest["inputs"]["tables"]
    assert tables["requests"]["rows_read"] == tables["requests"]["rows_analysed"] == 12
    assert {f["path"]: f["rows"] for f in tables["requests"]["files"]} == {
        rel: len(rows) for rel, rows in parts.items()}
    assert tables["accounts"]["rows_analysed"] == 2
    assert tables["indicators"]["rows_analysed"] == 1
    findings = pq.read_table(out / "findings.parquet").to_pylist()
    assert sorted(r["account_id"] for r in findings) == ["acct_a", "acct_b"]

    # The kept database: partition values arrived as written, every row once.
    con = duckdb.connect(str(workdir / "forensics.duckdb"), read_only=True)
    try:
        assert dict(con.execute("SELECT access_channel, count(*) FROM requests GROUP BY ALL")
                    .fetchall()) == {channel_a: 5, channel_b: 7}
        assert con.execute("SELECT actor, source FROM indicators").fetchall() == [
            ("APT 'X'; \"Y\"", "rep;ort")]
    finally:
        con.close()
