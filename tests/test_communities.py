"""Clusters as components of strong links, with their stability, bridges and core."""

from __future__ import annotations

import duckdb

from forensics.communities import RESAMPLES, build_communities


def _clusters(owners: dict[str, str], pairs: list[tuple[str, str, float]], seed: int = 7
              ) -> tuple[dict[str, tuple[str, int]], dict[str, tuple[float, int]]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE account_owners (account_id VARCHAR, owner VARCHAR)")
    con.executemany("INSERT INTO account_owners VALUES (?, ?)", list(owners.items()))
    con.execute("CREATE TABLE cluster_edges (account_a VARCHAR, account_b VARCHAR, "
                "basis VARCHAR)")
    con.executemany("INSERT INTO cluster_edges VALUES (?, ?, 'coordination')",
                    [(a, b) for a, b, w in pairs if w >= 0.5])
    build_communities(con, seed)
    labels = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT account_id, label, core_hops FROM cluster_labels").fetchall()}
    structure = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT label, stability, bridges FROM community_structure").fetchall()}
    return labels, structure


def test_two_triangles_a_bridge_and_a_pendant() -> None:
    # Triangles a-b-c and d-e-f joined by c-d; g hangs on f. a2 is a second account of a's
    # owner. x-y is a pair of their own; a weak link g-x joins nothing.
    owners = {a: a for a in "abcdefgxy"} | {"a2": "a"}
    strong = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "e"), ("e", "f"), ("d", "f"),
              ("c", "d"), ("f", "g"), ("x", "y")]
    labels, structure = _clusters(owners, [(p, q, 0.9) for p, q in strong] + [("g", "x", 0.3)])
    assert {labels[a][0] for a in "abcdefg"} | {labels["a2"][0]} == {"a"}
    assert labels["x"][0] == labels["y"][0] == "x"
    # Two bridges (c-d and f-g). The core is the larger 2-edge-connected part, the tie
    # going to the part with the smallest owner: a, b, c (and a2, a's account).
    assert structure["a"][1] == 2 and structure["x"][1] == 1
    hops = {a: labels[a][1] for a in [*"abcdefg", "a2"]}
    assert hops == {"a": 0, "b": 0, "c": 0, "a2": 0, "d": 1, "e": 2, "f": 2, "g": 3}


def test_stability_is_seeded_and_falls_with_fewer_links() -> None:
    owners = {a: a for a in "abcdefgh"}
    # A complete graph on a-d (six links: redundant) and a chain e-f-g-h (three bridges).
    dense = [(p, q, 0.9) for i, p in enumerate("abcd") for q in "abcd"[i + 1:]]
    chain = [("e", "f", 0.9), ("f", "g", 0.9), ("g", "h", 0.9)]
    first = _clusters(owners, dense + chain)[1]
    again = _clusters(owners, dense + chain)[1]
    assert first == again  # same seed, same figures
    assert first["a"][0] > first["e"][0]
    assert first["e"][0] < 1.0 and first["a"][1] == 0 and first["e"][1] == 3
    # Each figure is a mean over RESAMPLES runs of a share of 4 owners: a multiple of 1/(4R).
    assert round(first["e"][0] * 4 * RESAMPLES, 6) == round(first["e"][0] * 4 * RESAMPLES)
