"""Session starts launched together (features 57-59, read by co_launched_sessions and linking):
the pairs of accounts of different owners that start sessions in the same minutes, the ones
judged (each account's strongest partners) and what chance predicts for each, equal those
counted one pair at a time, in one pass or in many."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import duckdb
import pytest

from forensics import features, resources, sqlfiles

FEATURES = resources.queries_part("features", None)


def _starts_db(rows: list[tuple[int, int, int]], orgs: dict[int, str | None],
              monkeypatch: pytest.MonkeyPatch | None = None, *, rows_per_pass: int = 0,
              max_partners: int = 0) -> duckdb.DuckDBPyConnection:
    """A database with the two tables feature 57 reads: request rows (account number, minute,
    turn index) and the accounts with their organisation."""
    con = duckdb.connect()
    con.execute("CREATE TABLE request_features (request_id VARCHAR, account_no INTEGER, "
                "minute BIGINT, turn_index INTEGER)")
    con.executemany("INSERT INTO request_features VALUES (?, ?, ?, ?)",
                    [(f"r{i:06d}", a, m, t) for i, (a, m, t) in enumerate(rows)])
    con.execute("CREATE TABLE account_activity (account_id VARCHAR, account_no INTEGER, "
                "org_id VARCHAR)")
    con.executemany("INSERT INTO account_activity VALUES (?, ?, ?)",
                    [(f"acct{a}", a, org) for a, org in orgs.items()])
    db = sqlfiles.engine_for(con)
    sql = sqlfiles.SqlFolder(FEATURES, "features query")
    if monkeypatch is not None and rows_per_pass:
        monkeypatch.setattr(features, "START_PAIR_ROWS_PER_PASS", rows_per_pass)
    if monkeypatch is not None and max_partners:
        monkeypatch.setattr(features, "MAX_START_PARTNERS", max_partners)
    passes = features.session_start_pairs(db, sql)
    con.execute("CREATE TABLE passes AS SELECT ? AS n", [passes])
    return con


def _reference(rows: list[tuple[int, int, int]], orgs: dict[int, str | None],
               max_partners: int = features.MAX_START_PARTNERS
               ) -> tuple[int, dict[tuple[int, int], tuple[int, float]]]:
    """Every pair counted directly: the number of pairs of judged accounts of different
    owners with a shared start minute, and for the pairs judged (sharing enough minutes and
    among the `max_partners` of either account with the most shared minutes beyond the most
    chance could give), the minutes shared and sum over hours of n_a(h) * n_b(h) / 60."""
    minutes: dict[int, set[int]] = {}
    for account, minute, turn in rows:
        if turn == 0:
            minutes.setdefault(account, set()).add(minute)
    judged = {a: m for a, m in minutes.items() if len(m) >= features.MIN_SESSION_STARTS}
    hours = {a: Counter(m // 60 for m in ms) for a, ms in judged.items()}

    def owner(a: int) -> str:
        return orgs[a] or f"account {a}"

    def bound(a: int, b: int) -> float:
        starts_a, starts_b = len(judged[a]), len(judged[b])
        busiest_a, busiest_b = max(hours[a].values()), max(hours[b].values())
        squares_a = sum(n * n for n in hours[a].values())
        squares_b = sum(n * n for n in hours[b].values())
        top = min(float(starts_a * busiest_b), float(starts_b * busiest_a),
                  math.sqrt(float(squares_a) * float(squares_b))) / 60.0
        return top + 3 * math.sqrt(top)

    compared = 0
    candidates: dict[tuple[int, int], float] = {}
    for a, b in itertools.combinations(sorted(judged), 2):
        shared = len(judged[a] & judged[b])
        if owner(a) == owner(b) or not shared:
            continue
        compared += 1
        if shared >= features.MIN_SHARED_START_MINUTES:
            candidates[(a, b)] = shared - bound(a, b)
    kept: set[tuple[int, int]] = set()
    for account in judged:
        mine = sorted((-excess, pair) for pair, excess in candidates.items() if account in pair)
        kept |= {pair for _, pair in mine[:max_partners]}
    pairs = {(a, b): (len(judged[a] & judged[b]),
                      sum(n * hours[b][h] for h, n in hours[a].items()) / 60.0)
             for a, b in kept}
    return compared, pairs


@pytest.fixture(scope="module")
def log() -> tuple[list[tuple[int, int, int]], dict[int, str | None]]:
    """Busy accounts over many hours, quiet ones over a few, a controller that launches
    sessions on eight accounts at once (two of them one organisation's), follow-up turns, and
    accounts with too few starts to be compared."""
    rng = random.Random(20261207)
    rows: list[tuple[int, int, int]] = []
    orgs: dict[int, str | None] = {}
    for a in range(1, 61):
        orgs[a] = "acme" if a % 10 == 0 else ("initech" if a in (3, 4) else None)
        busy = a % 3 == 0
        first = rng.randrange(0, 48 * 60)
        for _ in range(rng.randint(40, 120) if busy else rng.randint(2, 14)):
            minute = first + rng.randrange(0, (24 if busy else 6) * 60)
            rows.append((a, minute, 0))
            rows.append((a, minute, rng.randint(1, 4)))
    for launch in range(12):
        minute = 72 * 60 + launch * 360 + rng.randrange(0, 5)
        for a in (1, 2, 3, 4, 5, 7, 11, 13):
            rows.append((a, minute, 0))
    rng.shuffle(rows)
    return rows, orgs


@pytest.mark.parametrize(("rows_per_pass", "max_partners"),
                         [(0, 0), (150, 0), (0, 3), (150, 3)],
                         ids=["one pass", "many passes", "three partners", "both"])
def test_pairs_and_what_chance_predicts_equal_those_counted_pair_by_pair(
        log, monkeypatch, rows_per_pass, max_partners) -> None:
    rows, orgs = log
    con = _starts_db(rows, orgs, monkeypatch, rows_per_pass=rows_per_pass,
                     max_partners=max_partners)
    compared, reference = _reference(rows, orgs, max_partners or features.MAX_START_PARTNERS)
    passes = con.execute("SELECT n FROM passes").fetchone()[0]
    assert (passes > 5) == bool(rows_per_pass)
    got = {(a, b): (s, e) for a, b, s, e in con.execute(
        "SELECT a_no, b_no, shared, expected FROM session_start_pairs").fetchall()}
    assert got.keys() == reference.keys()
    assert len(reference) >= 20  # the launches and chance both give pairs to compare
    for pair, (shared, expected) in reference.items():
        assert got[pair][0] == shared, pair
        assert got[pair][1] == pytest.approx(expected, rel=1e-12), pair
    assert con.execute("SELECT pairs FROM session_start_pair_count").fetchone()[0] == compared


def test_an_account_is_judged_with_its_strongest_partners(monkeypatch) -> None:
    """Busy accounts 1-5 start sessions at twenty random minutes of every hour of a day, so
    each pair shares dozens of minutes by chance; account 6 starts a session with account 1
    at eight launches. With one partner each, account 1 is judged with account 6 only (its
    shared minutes are beyond the most chance could give; the busy pairs' are not), and the
    busy accounts with no partner beyond chance are still judged with one each."""
    rng = random.Random(7)
    rows: list[tuple[int, int, int]] = []
    for a in range(1, 6):
        rows += [(a, h * 60 + m, 0) for h in range(24) for m in rng.sample(range(60), 20)]
    rows += [(a, h * 60 + 59, 0) for h in range(0, 24, 3) for a in (1, 6)]
    orgs: dict[int, str | None] = {a: None for a in range(1, 7)}
    every = {(a, b) for a, b in _starts_db(rows, orgs).execute(
        "SELECT a_no, b_no FROM session_start_pairs").fetchall()}
    assert set(itertools.combinations(range(1, 6), 2)) | {(1, 6)} <= every
    one = {(a, b) for a, b in _starts_db(rows, orgs, monkeypatch, max_partners=1).execute(
        "SELECT a_no, b_no FROM session_start_pairs").fetchall()}
    assert (1, 6) in one
    assert {a for pair in one for a in pair} == set(range(1, 7))
    assert len(one) < len(every)
    assert one == set(_reference(rows, orgs, 1)[1])


def test_one_owners_accounts_are_never_paired(log) -> None:
    """Accounts 3 and 4 (one organisation) are launched together twelve times: not a pair.
    Account 1, launched with them and of no organisation, pairs with both."""
    rows, orgs = log
    con = _starts_db(rows, orgs)
    pairs = {(a, b) for a, b in con.execute(
        "SELECT a_no, b_no FROM session_start_pairs").fetchall()}
    assert (3, 4) not in pairs
    assert {(1, 3), (1, 4), (1, 2)} <= pairs


def test_follow_up_turns_and_repeats_within_a_minute_are_not_starts(log) -> None:
    rows, orgs = log
    con = _starts_db(rows, orgs)
    starts = con.execute("SELECT count(*) FROM session_starts").fetchone()[0]
    assert starts == len({(a, m) for a, m, t in rows if t == 0})
