"""Template groups (features 30 and 40): two skeletons are near-duplicates when their word
3-gram sets have a resemblance of at least one half, checked exactly; MinHash-LSH only
proposes the candidates. So the groups are those of every pair checked by brute force, and
they do not move when other hash functions are drawn."""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from forensics import features, resources, sqlfiles

FEATURES = resources.queries_part("features", None)


def _id(head: str) -> str:
    return hashlib.md5(head.encode()).hexdigest()[:16]


def _words(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(n)]


def _groups(heads: list[str], folder: Path = FEATURES) -> dict[str, str]:
    """skeleton id → template id, from the features SQL of `folder`."""
    con = duckdb.connect()
    con.execute("CREATE TABLE skeletons (skeleton_id VARCHAR, head VARCHAR, requests BIGINT)")
    con.executemany("INSERT INTO skeletons VALUES (?, ?, 1)", [(_id(h), h) for h in heads])
    db = sqlfiles.engine_for(con)
    sql = sqlfiles.SqlFolder(folder, "features query")
    sqlfiles.run_file(db, sql.file(features.FUNCTIONS_FILE))
    features.near_duplicate_pairs(db, sql)
    features.group_templates(db, sql)
    return dict(con.execute("SELECT skeleton_id, template_id FROM template_groups").fetchall())


def _shingles(head: str) -> set[str]:
    """Word 3-grams of a head of Latin letters, digits and punctuation (the corpus here)."""
    words = re.findall(r"[0-9A-Za-z_]+", head)
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def _exact_groups(heads: list[str]) -> dict[str, str]:
    """The same groups from every pair checked: resemblance of at least one half, then each
    skeleton takes the smallest id within two pairs of it (two rounds)."""
    ids = [_id(h) for h in heads]
    sets = [_shingles(h) if len(h) >= features.MINHASH_MIN_CHARS else set() for h in heads]
    near: dict[str, set[str]] = {i: set() for i in ids}
    for (a, sa), (b, sb) in itertools.combinations(zip(ids, sets, strict=True), 2):
        if sa and sb and len(sa & sb) >= features.MIN_RESEMBLANCE * len(sa | sb):
            near[a].add(b)
            near[b].add(a)
    label = {i: i for i in ids}
    for _ in range(features.TEMPLATE_ROUNDS):
        label = {i: min([label[i], *(label[j] for j in near[i])]) for i in ids}
    return label


def _as_sets(groups: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, set[str]] = {}
    for skeleton, template in groups.items():
        members.setdefault(template, set()).add(skeleton)
    return {frozenset(m) for m in members.values()}


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    """A large template (120 fills of two slots in 30 words, so its band buckets are far
    larger than the window each skeleton is checked against), a small one, a chain of
    heads each a little further from the first, and unrelated heads."""
    rng = random.Random(20261206)
    heads: list[str] = []
    base = _words(rng, 30)
    for _ in range(120):
        words = list(base)
        for slot in (6, 21):
            words[slot] = _words(rng, 1)[0]
        heads.append(" ".join(words))
    small = _words(rng, 24)
    for fill in _words(rng, 4):
        heads.append(" ".join(small[:12] + [fill] + small[13:]))
    walk = _words(rng, 26)
    for step in range(8):
        walk[(step * 7) % 26] = _words(rng, 1)[0]
        heads.append(" ".join(walk))
    heads += [" ".join(_words(rng, rng.randint(8, 40))) for _ in range(150)]
    return sorted(set(heads))


def test_groups_are_those_of_every_pair_checked(corpus: list[str]) -> None:
    got = _groups(corpus)
    assert got == _exact_groups(corpus)
    sizes = sorted(len(g) for g in _as_sets(got))
    assert sizes[-1] >= 120  # the large template is one group, not split by the window


def test_groups_do_not_depend_on_the_hash_functions_drawn(corpus: list[str],
                                                          tmp_path: Path) -> None:
    """Another draw of the MinHash permutations (a_p, b_p from md5 of 'aq<p>', 'bq<p>')
    proposes other candidates but yields the same checked pairs, so the same groups."""
    folder = tmp_path / "features"
    shutil.copytree(FEATURES, folder)
    bands = folder / "30_minhash_bands.sql"
    text = bands.read_text(encoding="utf-8")
    assert "'az'" in text and "'bz'" in text
    bands.write_text(text.replace("'az'", "'aq'").replace("'bz'", "'bq'"), encoding="utf-8")
    assert _as_sets(_groups(corpus, folder)) == _as_sets(_groups(corpus))


def test_resemblance_of_one_half_groups_and_just_under_does_not() -> None:
    """Unique words, so shingles are counted exactly. At one half: 21 shingles each, 14
    shared (14 / 28). Just under: 20 each, 12 shared (12 / 28 = 0.43)."""
    rng = random.Random(7)
    first = _words(rng, 23)
    half = first[:16] + _words(rng, 7)
    assert len(_shingles(" ".join(first)) & _shingles(" ".join(half))) == 14
    second = _words(rng, 22)
    under = second[:14] + _words(rng, 8)
    heads = [" ".join(w) for w in (first, half, second, under)]
    got = _groups(heads)
    assert got[_id(heads[0])] == got[_id(heads[1])]
    assert got[_id(heads[2])] != got[_id(heads[3])]


def test_short_heads_stay_alone() -> None:
    """Heads under MINHASH_MIN_CHARS characters or of fewer than three words have no
    shingles: each is its own group, however alike."""
    heads = ["tell me a joke", "tell me a joke!", "translate:" + "x" * 60,
             "translate:" + "x" * 61]
    got = _groups(heads)
    assert all(got[_id(h)] == _id(h) for h in heads)


def test_scripts_without_spaces_are_shingled_by_character() -> None:
    """Chinese has no spaces between words: its shingles are three characters. Two fills of
    one Chinese instruction group; two unrelated Chinese requests that share only their
    masked numbers and a Latin word do not (with words of ASCII letters only, each was the
    shingles '0 0 0' and '0 degrees' and nothing else)."""
    instruction = ("请写出从题目推导到这个最终答案的详细推理过程，"
                   "每一步都要写清楚，并以你自己的推理方式呈现")
    fills = ["题目：时钟显示0点0分，时针和分针的夹角是多少度？最终答案：0 degrees ",
             "题目：时钟显示0点0分，分针每分钟转过多少度？最终答案：0 degrees "]
    email = "帮我把这封邮件改得更正式一些：交货时间可能会推迟0天，0点0分 0 degrees 请回复"
    heads = [fills[0] + instruction, fills[1] + instruction, email]
    got = _groups(heads)
    assert got[_id(heads[0])] == got[_id(heads[1])]
    assert got[_id(heads[2])] == _id(heads[2])
