"""Ingest reads exactly the files in the data directory: names are never patterns, partition
folders count only inside the data directory, links are followed or refused by name."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb
import pyarrow.parquet as pq
import pytest

from forensics import ingest as ingest_module
from forensics import sqltext
from forensics.errors import InputProblems
from forensics.ingest import IngestResult, ingest

from .conftest import (
    account_rows,
    assert_clean_failure,
    one_heuristic_library,
    request_rows,
    run_cli,
    write_table,
)

COLUMNS = ("request_id", "account_id", "org_id", "prompt")


def load(data_dir: Path) -> tuple[IngestResult, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    return ingest(con, data_dir), con


def digest(rows: list[tuple[Any, ...]]) -> str:
    """An order-free hash of rows (as text): equal exactly when the same rows are present."""
    return hashlib.sha256(json.dumps(sorted(rows, key=repr), default=str).encode()).hexdigest()


def analysed(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...] = COLUMNS) -> str:
    return digest(con.execute(f"SELECT {', '.join(columns)} FROM requests").fetchall())


def rows_of(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> str:
    return digest([tuple(r.get(c) for c in columns) for r in rows])


def requests(n: int, account: str, org: str | None = None, start: int = 0
             ) -> list[dict[str, Any]]:
    rows = request_rows(n, account, start)
    if org is not None:
        rows = [{**r, "org_id": org} for r in rows]
    return rows


def export(d: Path, files: dict[str, list[dict[str, Any]]]) -> Path:
    """requests files at the given paths (relative to `d`), plus accounts.parquet."""
    for rel, rows in files.items():
        write_table(d / rel, rows)
    write_table(d / "accounts.parquet", account_rows("acct_a", "acct_b"))
    return d


def run_refused(d: Path, tmp_path: Path, *fragments: str) -> str:
    out = tmp_path / "out"
    queries = one_heuristic_library(tmp_path / "queries")
    outcome = run_cli("run", d, "--out", out, "--queries", queries)
    return assert_clean_failure(outcome, *fragments, out_dir=out)


# --- partition folders ----------------------------------------------------------------------

def test_key_value_folder_above_the_data_directory_changes_nothing(tmp_path: Path) -> None:
    """An export kept under …/org_id=acme/data keeps each request's own org_id."""
    rows = requests(3, "acct_a", "org_real") + requests(2, "acct_b", "org_other", 10)
    d = export(tmp_path / "org_id=acme" / "account_id=x" / "data",
               {"requests/part-0.parquet": rows})
    result, con = load(d)
    assert result.tables["requests"].rows_analysed == 5
    assert analysed(con) == rows_of(rows)
    assert con.execute("SELECT count(*) FROM requests WHERE org_id = 'acme'").fetchone() == (0,)


def test_partition_folders_inside_the_table_folder_give_values(tmp_path: Path) -> None:
    """requests/org_id=…/ folders fill org_id for their files; values are percent-decoded and
    __HIVE_DEFAULT_PARTITION__ is NULL, as Hive and Spark write them."""
    d = export(tmp_path / "day=1" / "data", {
        "requests/org_id=acme/part-0.parquet": requests(2, "acct_a"),
        "requests/org_id=a%2Fb%27c/part-0.parquet": requests(3, "acct_b", start=10),
        "requests/org_id=__HIVE_DEFAULT_PARTITION__/part-0.parquet":
            requests(1, "acct_b", start=20),
    })
    result, con = load(d)
    assert result.tables["requests"].rows_analysed == 6
    assert dict(con.execute("SELECT coalesce(org_id, '<null>'), count(*) FROM requests "
                            "GROUP BY ALL").fetchall()) == {"acme": 2, "a/b'c": 3, "<null>": 1}
    # No `day` column from the folder above the data directory.
    assert "day" not in [r[0] for r in con.execute("DESCRIBE src_requests").fetchall()]


def test_partition_value_is_text_as_written(tmp_path: Path) -> None:
    """A partition value is the folder's text: org_id=007 stays '007' (DuckDB's own hive reader
    would have cast it to the number 7)."""
    d = export(tmp_path / "data", {"requests/org_id=007/part-0.parquet": requests(2, "acct_a")})
    _, con = load(d)
    assert con.execute("SELECT DISTINCT org_id FROM requests").fetchall() == [("007",)]


@pytest.mark.parametrize("folder", ["org_id", "ORG_ID"])
def test_partition_key_that_is_also_a_column_is_refused(tmp_path: Path, folder: str) -> None:
    """A partition folder naming a column the file holds would overwrite every row: refused,
    naming the file and the column."""
    d = export(tmp_path / "data", {
        f"requests/{folder}=acme/part-0.parquet": requests(2, "acct_a", "org_real"),
        "requests/other/part-0.parquet": requests(2, "acct_b", "org_real", 10),
    })
    with pytest.raises(InputProblems) as err:
        load(d)
    assert str(err.value) == (
        f"requests/{folder}=acme/part-0.parquet: column 'org_id': both a column of the file "
        f"and a partition folder {folder}=… in its path (expected one of them: the folder's "
        f"value would replace the file's)")
    run_refused(d, tmp_path, f"requests/{folder}=acme/part-0.parquet: column 'org_id'")


def test_partition_keys_in_two_spellings_are_refused(tmp_path: Path) -> None:
    d = export(tmp_path / "data", {
        "requests/Org_Id=a/part-0.parquet": requests(2, "acct_a"),
        "requests/org_id=b/part-0.parquet": requests(2, "acct_b", start=5)})
    with pytest.raises(InputProblems, match="partition folders spell the key as Org_Id, org_id"):
        load(d)


# --- file names are names, never patterns -------------------------------------------------

GLOB_NAMES = ["part-1.parquet", "part-[1].parquet", "p*.parquet", "q?.parquet", "[ab].parquet",
              "a.parquet", "b.parquet", "it's \"x\"; y.parquet", "{a,b}.parquet", "~z.parquet"]


# DuckDB falls back to the literal path when a pattern matches nothing: under a folder whose
# own name is an unmatched pattern every name happened to be read literally, so both kinds.
@pytest.mark.parametrize("folder", ["data", "da[t]a*"])
def test_file_names_with_glob_characters_are_read_once_each(tmp_path: Path, folder: str) -> None:
    """Every file is read once, by its name: `part-[1].parquet` is not `part-1.parquet`,
    `p*.parquet` is not every file starting with p."""
    files = {f"requests/{name}": requests(i + 1, "acct_a", f"org{i}", start=100 * i)
             for i, name in enumerate(GLOB_NAMES)}
    d = export(tmp_path / folder, files)
    result, con = load(d)
    t = result.tables["requests"]
    assert t.rows_read == sum(len(r) for r in files.values())
    assert t.rows_excluded == {}
    assert sorted((f.path, f.rows) for f in t.files) == sorted(
        (rel, len(rows)) for rel, rows in files.items())
    assert t.rows_analysed == sum(len(r) for r in files.values())
    assert analysed(con) == rows_of([r for rows in files.values() for r in rows])
    per_file = dict(con.execute("SELECT __file, count(*) FROM src_requests GROUP BY ALL")
                    .fetchall())
    assert per_file == {str(d / rel): len(rows) for rel, rows in files.items()}


def test_backslash_beside_a_glob_character_is_refused(tmp_path: Path) -> None:
    """DuckDB cannot read a path with a backslash and a glob character literally: refused by
    name instead of read as another file."""
    d = export(tmp_path / "data", {"requests/a\\b[1].parquet": requests(2, "acct_a"),
                                   "requests/a\\b.parquet": requests(2, "acct_b", start=5)})
    with pytest.raises(InputProblems) as err:
        load(d)
    assert str(err.value) == (
        "requests/a\\b[1].parquet: cannot be read: its path holds a backslash and one of * ? [, "
        "which DuckDB cannot read literally (rename the file or folder)")


def test_a_pattern_reaching_duckdb_would_be_caught(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """If a name ever reached DuckDB as a pattern again, ingest refuses instead of analysing
    other rows than the manifest lists (the guard behind the escaping)."""
    d = export(tmp_path / "data", {"requests/part-1.parquet": requests(2, "acct_a"),
                                   "requests/part-[1].parquet": requests(3, "acct_b", start=5)})
    monkeypatch.setattr(sqltext, "file_pattern", str)
    with pytest.raises(InputProblems) as err:
        load(d)
    assert "requests/part-1.parquet: 4 row(s) read where the file holds 2" in str(err.value)
    assert "requests/part-[1].parquet: 0 row(s) read where the file holds 3" in str(err.value)


# --- extensions in any case ---------------------------------------------------------------

def test_extensions_in_any_case(tmp_path: Path) -> None:
    """indicators.CSV, requests.PARQUET and part files ending .Parquet are all read."""
    d = tmp_path / "data"
    write_table(d / "requests.PARQUET", requests(3, "acct_a"))
    write_table(d / "accounts" / "part-0.Parquet", account_rows("acct_a"))
    (d / "indicators.CSV").write_text("indicator_type,value,actor\nip,192.0.2.1,APT-X\n",
                                      encoding="utf-8")
    result, _ = load(d)
    assert [f.path for f in result.tables["indicators"].files] == ["indicators.CSV"]
    assert result.tables["indicators"].rows_analysed == 1
    assert result.tables["requests"].rows_analysed == 3
    assert result.tables["accounts"].rows_analysed == 1


def test_one_table_in_two_cases_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "data"
    write_table(d / "requests.parquet", requests(3, "acct_a"))
    write_table(d / "requests.PARQUET", requests(3, "acct_a", start=5))
    write_table(d / "accounts.parquet", account_rows("acct_a"))
    with pytest.raises(InputProblems, match="both requests.PARQUET and requests.parquet exist"):
        load(d)


# --- column names ---------------------------------------------------------------------------

@pytest.mark.parametrize("second", ["org_id", "ORG_ID"])
def test_repeated_column_names_are_refused(tmp_path: Path, second: str) -> None:
    """Two columns of one name (or differing only in case) would be renamed org_id_1 by DuckDB
    and one of them lost: refused, naming the file and both names."""
    import pyarrow as pa

    rows = requests(2, "acct_a")
    table = pa.Table.from_pylist(rows)
    table = table.append_column("org_id", pa.array(["a", "b"]))
    table = table.append_column(second, pa.array(["c", "d"]))
    d = export(tmp_path / "data", {})
    write_table(d / "requests.parquet", table)
    err = run_refused(d, tmp_path, f"requests.parquet: column {second!r}: the file has two "
                      f"columns named 'org_id' and {second!r} (expected each column name once, "
                      f"also ignoring case)")
    assert "Error:" in err


def test_repeated_csv_header_is_refused(tmp_path: Path) -> None:
    d = export(tmp_path / "data", {"requests.parquet": requests(2, "acct_a")})
    (d / "indicators.csv").write_text("indicator_type,value,actor,Value\nip,192.0.2.1,X,y\n",
                                      encoding="utf-8")
    with pytest.raises(InputProblems, match="indicators.csv: column 'Value': the file has two"):
        load(d)


# --- symbolic links -------------------------------------------------------------------------

def test_symlinked_partition_folder_is_followed(tmp_path: Path) -> None:
    """A partition folder that is a link is read, its value taken from the link's name, and
    the manifest records the file it leads to."""
    elsewhere = tmp_path / "archive" / "july"
    write_table(elsewhere / "part-0.parquet", requests(4, "acct_b", start=50))
    d = export(tmp_path / "data", {"requests/org_id=here/part-0.parquet": requests(2, "acct_a")})
    (d / "requests" / "org_id=linked").symlink_to(elsewhere, target_is_directory=True)
    result, con = load(d)
    files = {f.path: f for f in result.tables["requests"].files}
    assert sorted(files) == ["requests/org_id=here/part-0.parquet",
                             "requests/org_id=linked/part-0.parquet"]
    assert files["requests/org_id=linked/part-0.parquet"].resolved == str(
        (elsewhere / "part-0.parquet").resolve())
    assert files["requests/org_id=here/part-0.parquet"].resolved is None
    assert dict(con.execute("SELECT org_id, count(*) FROM requests GROUP BY ALL").fetchall()) \
        == {"here": 2, "linked": 4}


def test_symlinked_file_and_table_folder_are_followed(tmp_path: Path) -> None:
    write_table(tmp_path / "src" / "accounts.parquet", account_rows("acct_a"))
    write_table(tmp_path / "src" / "req" / "a.parquet", requests(3, "acct_a"))
    d = tmp_path / "data"
    d.mkdir()
    (d / "accounts.parquet").symlink_to(tmp_path / "src" / "accounts.parquet")
    (d / "requests").symlink_to(tmp_path / "src" / "req", target_is_directory=True)
    result, _ = load(d)
    assert result.tables["requests"].rows_analysed == 3
    assert result.tables["accounts"].files[0].resolved == str(
        (tmp_path / "src" / "accounts.parquet").resolve())


def test_symlink_loop_is_refused(tmp_path: Path) -> None:
    d = export(tmp_path / "data", {"requests/day=1/part-0.parquet": requests(2, "acct_a")})
    (d / "requests" / "day=1" / "again").symlink_to(d / "requests", target_is_directory=True)
    run_refused(d, tmp_path, "requests/day=1/again: symbolic link loop (points to")


def test_loop_through_two_links_is_refused(tmp_path: Path) -> None:
    """a/x leads to b, b/y back to a: neither contains the other, the walk would not end."""
    d = export(tmp_path / "data", {"requests/a/part-0.parquet": requests(2, "acct_a"),
                                   "requests/b/part-1.parquet": requests(2, "acct_b", start=5)})
    (d / "requests" / "a" / "x").symlink_to(d / "requests" / "b", target_is_directory=True)
    (d / "requests" / "b" / "y").symlink_to(d / "requests" / "a", target_is_directory=True)
    with pytest.raises(InputProblems) as err:
        load(d)
    assert "requests/a/x/y: symbolic link loop" in str(err.value)


def test_link_to_itself_is_refused(tmp_path: Path) -> None:
    d = export(tmp_path / "data", {"requests/day=1/part-0.parquet": requests(2, "acct_a")})
    (d / "requests" / "self.parquet").symlink_to(d / "requests" / "self.parquet")
    with pytest.raises(InputProblems, match=r"requests/self.parquet: symbolic link loop"):
        load(d)


def test_dangling_link_is_refused(tmp_path: Path) -> None:
    d = export(tmp_path / "data", {"requests/day=1/part-0.parquet": requests(2, "acct_a")})
    (d / "requests" / "day=2").symlink_to(tmp_path / "gone", target_is_directory=True)
    run_refused(d, tmp_path, "requests/day=2: dangling symbolic link (points to")


def test_same_file_through_two_paths_is_refused(tmp_path: Path) -> None:
    d = export(tmp_path / "data", {"requests/day=1/part-0.parquet": requests(2, "acct_a")})
    (d / "requests" / "copy.parquet").symlink_to(d / "requests" / "day=1" / "part-0.parquet")
    with pytest.raises(InputProblems, match=r"requests/day=1/part-0.parquet: the same file as "
                                            r"requests/copy.parquet"):
        load(d)


# --- property: whatever the layout, every row is analysed or excluded by reason ---------------

_NAME_PARTS = ["a", "b", "[1]", "*", "?", "'", '"', ";", " ", "é", "{x}", "~", "="]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_NAME_PARTS) for _ in range(rng.randint(1, 4))).replace("/", "")


def _layout(rng: random.Random, root: Path
            ) -> tuple[Path, list[dict[str, Any]], dict[str, dict[str, str]]]:
    """A random export: a data folder under a key=value folder, requests spread over
    partition folders (some reached through links) with hostile file names, rows the value
    rules exclude (a 1970 time, a NaN or infinite temperature) and a few exact re-exported
    copies. Returns the folder, the rows written and each file's partition values (by path
    relative to the folder)."""
    d = root / f"org_id=outside{_name(rng)}" / f"data{_name(rng)}"
    written: list[dict[str, Any]] = []
    partitions: dict[str, dict[str, str]] = {}
    start = 0
    for i in range(rng.randint(1, 6)):
        folders = [f"k{j}={_name(rng)}" for j in range(rng.randint(0, 2))]
        rows = requests(rng.randint(1, 5), rng.choice(["acct_a", "acct_b"]), start=start)
        for j, r in enumerate(rows):
            draw = rng.random() if (i, j) != (0, 0) else 1.0  # one row always analysed
            r["temperature"] = (rng.choice([math.nan, math.inf, -math.inf]) if draw < 0.15
                                else round(rng.random(), 2))
            if draw < 0.08 or 0.9 < draw < 0.95:
                r["ts"] = r["ts"].replace(year=rng.choice([1970, 2150]))
        start += 10
        if rng.random() < 0.3 and written:
            rows.append(dict(rng.choice(written)))  # an exact copy of a row of another file
        name = f"{i}{_name(rng)}.parquet"
        rel = Path("requests", *folders, name)
        if folders and rng.random() < 0.4:
            # The last partition folder is a link to a folder outside the data directory.
            target = root / "elsewhere" / str(i)
            write_table(target / name, rows)
            (d / rel.parent.parent).mkdir(parents=True, exist_ok=True)
            if not (d / rel.parent).exists():
                (d / rel.parent).symlink_to(target, target_is_directory=True)
            else:  # the folder exists already: the link is the file itself
                (d / rel).symlink_to(target / name)
        else:
            write_table(d / rel, rows)
        partitions[str(rel)] = {k: unquote(v) for k, v in (f.split("=", 1) for f in folders)}
        written += rows
    write_table(d / "accounts.parquet", account_rows("acct_a", "acct_b"))
    return d, written, partitions


@pytest.mark.parametrize("seed", range(12))
def test_property_every_row_is_analysed_or_excluded(seed: int) -> None:
    """Rows analysed + rows excluded (by reason) == rows in the files; each file the manifest
    names is one whose rows were read, all of them; the analysed rows are exactly the distinct
    rows written, with the partition values of their own folders."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        d, written, partitions = _layout(rng, Path(tmp))
        result, con = load(d)
        t = result.tables["requests"]
        in_files = sum(pq.read_metadata(p).num_rows for p in _parquet_under(d / "requests"))
        assert t.rows_read == in_files == len(written)
        assert t.rows_analysed + sum(t.rows_excluded.values()) == in_files
        # Each row under the first rule it breaks; duplicates among the rows left.
        expected = Counter(r for r in map(_exclusion, written) if r)
        kept = [r for r in written if not _exclusion(r)]
        distinct = {r["request_id"]: r for r in kept}
        if len(kept) > len(distinct):
            expected["duplicate request_id"] = len(kept) - len(distinct)
        assert t.rows_excluded == dict(expected)
        assert t.rows_analysed == len(distinct)
        assert analysed(con) == rows_of(list(distinct.values()))
        per_file = dict(con.execute("SELECT __file, count(*) FROM src_requests GROUP BY ALL")
                        .fetchall())
        assert {os.path.relpath(f, d): n for f, n in per_file.items()} == {
            f.path: f.rows for f in t.files}
        assert sorted(partitions) == sorted(f.path for f in t.files)
        for key in sorted({k for values in partitions.values() for k in values}):
            got = con.execute(f"SELECT DISTINCT __file, {sqltext.identifier(key)} "
                              f"FROM src_requests").fetchall()
            assert {os.path.relpath(f, d): v for f, v in got} == {
                rel: values.get(key) for rel, values in partitions.items()}


def _exclusion(row: dict[str, Any]) -> str | None:
    """The reason ingest gives for excluding a row by its values, or None (schema.RULES)."""
    if not 2000 <= row["ts"].year < 2100:
        return "ts before 2000 or from 2100 on"
    if not math.isfinite(row["temperature"]):
        return "temperature not finite"
    return None


def _parquet_under(folder: Path) -> list[Path]:
    out = []
    for root, _, names in os.walk(folder, followlinks=True):
        out += [Path(root) / n for n in names if n.endswith(".parquet")]
    return out


def test_ingest_module_names_no_hive_option_on() -> None:
    """DuckDB's own hive partitioning reads every key=value folder of the path: it stays off."""
    modules = sorted(Path(ingest_module.__file__).parent.glob("*.py"))
    assert len(modules) > 1
    for module in modules:
        assert "hive_partitioning = true" not in module.read_text(encoding="utf-8"), module.name


# --- many files -----------------------------------------------------------------------------

def test_more_files_than_the_limit_are_refused_with_advice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table split into more files than MAX_FILES is refused before anything is read, with
    the folder named and advice to compact; at the limit it is read, every row."""
    from forensics import schema

    monkeypatch.setattr(schema, "MAX_FILES", 4)
    at_limit = export(tmp_path / "ok", {f"requests/part-{i}.parquet":
                                        requests(2, "acct_a", start=10 * i) for i in range(4)})
    result, con = load(at_limit)
    assert result.tables["requests"].rows_analysed == 8
    over = export(tmp_path / "over", {f"requests/day={i}/part.parquet":
                                      requests(2, "acct_a", start=10 * i) for i in range(5)})
    error = run_refused(over, tmp_path, "requests/", "more than 4 data files", "compact")
    assert "Traceback" not in error


# --- where each request was read: request_locations and requests_at -------------------------

def test_request_locations_name_the_file_and_row_of_each_analysed_request(
        tmp_path: Path) -> None:
    """request_locations names, for every request of `requests` and no other, the file as
    the manifest lists it and the 0-based row in it: in the second file of a table, after the
    window filter, and for a re-exported request the copy `requests` keeps (the first file's);
    requests_at reads back exactly that request from that row."""
    from datetime import timedelta

    from forensics.config import Window

    from .conftest import T0

    first = requests(3, "acct_a")
    early = {**requests(1, "acct_b", start=900)[0], "ts": T0 - timedelta(days=40)}
    second = [early, first[1], *requests(2, "acct_b", start=100)]
    # Quotes, a glob character and a combining accent in the folders: the file is cut from
    # the path DuckDB read by characters, not bytes.
    d = export(tmp_path / "da'ta [x] e\u0301", {"requests/part-0.parquet": first,
                                                "requests/part-[1].parquet": second})
    con = duckdb.connect()
    result = ingest(con, d, window=Window(since=T0 - timedelta(days=1)))
    manifest_paths = [f.path for f in result.tables["requests"].files]
    assert manifest_paths == ["requests/part-0.parquet", "requests/part-[1].parquet"]
    assert result.tables["requests"].rows_excluded == {"outside period": 1,
                                                       "duplicate request_id": 1}

    located = {r[0]: (r[1], r[2]) for r in con.execute(
        'SELECT request_id, file, "row" FROM request_locations').fetchall()}
    kept = {r[0] for r in con.execute("SELECT request_id FROM requests").fetchall()}
    assert set(located) == kept and len(located) == 5
    assert early["request_id"] not in located
    assert located[first[1]["request_id"]] == ("requests/part-0.parquet", 1)
    late = second[3]["request_id"]
    assert located[late] == ("requests/part-[1].parquet", 3)
    # The row is the file's own numbering, from 0.
    table = pq.read_table(d / "requests" / "part-[1].parquet")
    assert table.column("request_id")[3].as_py() == late

    read_back = con.execute("SELECT request_id, account_id, ts, prompt FROM requests_at($f, $r)",
                            {"f": "requests/part-[1].parquet", "r": [3, 2]}).fetchall()
    expected = con.execute("SELECT request_id, account_id, ts, prompt FROM requests "
                           "WHERE request_id IN ($a, $b)",
                           {"a": second[2]["request_id"], "b": late}).fetchall()
    assert sorted(read_back) == sorted(expected) and len(read_back) == 2
    # A row of the other file with the same number is not read.
    assert con.execute("SELECT count(*) FROM requests_at($f, [3])",
                       {"f": "requests/part-0.parquet"}).fetchone() == (0,)


def test_request_locations_stand_in_has_the_columns_of_the_real_one(tmp_path: Path) -> None:
    """The empty stand-ins that `forensics tables` lists and `heuristics check` prepares
    against have the columns of the view and macro ingest creates on real data."""
    from forensics import api
    from forensics.ingest import create_empty_inputs

    _, con = load(export(tmp_path / "data", {"requests.parquet": requests(2, "acct_a")}))
    empty = duckdb.connect()
    create_empty_inputs(empty)
    for sql in ('SELECT * FROM request_locations',
                'SELECT * FROM requests_at(\'requests.parquet\', [0])',
                'SELECT * FROM requests'):
        real = con.execute(f"DESCRIBE {sql}").fetchall()
        assert empty.execute(f"DESCRIBE {sql}").fetchall() == real, sql
    listed = {(stage, table): columns for stage, table, columns in api.readable_tables()}
    assert listed[("input", "request_locations")] == [
        ("request_id", "VARCHAR"), ("file", "VARCHAR"), ("row", "BIGINT")]
