"""Clusters: the connected components of the owners' strong links, with how far to trust each.

Accounts of one owner are one node (one customer is never split). Edges are
`cluster_edges` between owners: strong links of a kind unrelated customers do not share
(48_cluster_edges.sql), and, once accounts are judged, a harvest template shared by flagged
accounts (65_attribution.sql); a network and a piece of software alone never join two owners.
A cluster is an attribution hypothesis, never evidence against a member; so that the dossier
can say how firmly each one holds:

- stability: the links are resampled `RESAMPLES` times, each kept with probability `KEEP`
  (seeded), and the components drawn again; per run, the largest share of the cluster's owners
  that stays in one component is taken, and the stability is its mean. A cluster held by many
  redundant links keeps near 1; a chain held by a handful falls apart.
- bridges: links whose loss alone would split the cluster. Its core is the largest part that
  stays connected without them; each member's `core_hops` is how many links separate it from
  the core (0: in the core).

Community detection (Leiden, modularity) was measured as the clustering itself and not kept:
on the benchmark it split the largest campaign (accounts behind one proxy network) into four
communities. The README's limits have the figures.
"""

from __future__ import annotations

import igraph as ig
import numpy as np
import pyarrow as pa

from forensics import sqlfiles

RESAMPLES = 10
KEEP = 0.8


def build_communities(con: sqlfiles.Database, seed: int) -> None:
    """`cluster_labels` (account → label: the smallest account id of its component, and its
    `core_hops`) and `community_structure` (per label: stability, bridges, members outside the
    core and the most hops to it), from `account_owners` and `cluster_edges`."""
    db = sqlfiles.engine_for(con)
    db.create_table_as("owner_numbers", "SELECT owner, CAST(dense_rank() OVER (ORDER BY owner) "
                       "- 1 AS BIGINT) AS v FROM (SELECT DISTINCT owner FROM account_owners)",
                       temporary=True)
    n = int(db.query("SELECT count(*) FROM owner_numbers").scalar() or 0)
    # The edge columns through Arrow into numpy, and the results back as Arrow tables.
    edges = db.arrow(
        "SELECT DISTINCT least(na.v, nb.v) AS a, greatest(na.v, nb.v) AS b "
        "FROM cluster_edges AS p "
        "JOIN account_owners AS oa ON oa.account_id = p.account_a "
        "JOIN account_owners AS ob ON ob.account_id = p.account_b "
        "JOIN owner_numbers AS na ON na.owner = oa.owner "
        "JOIN owner_numbers AS nb ON nb.owner = ob.owner "
        "WHERE oa.owner <> ob.owner ORDER BY a, b")
    ends = np.column_stack([edges.column("a").to_numpy().astype(np.int64),
                            edges.column("b").to_numpy().astype(np.int64)])
    graph = ig.Graph(n=n, edges=ends.tolist(), directed=False)
    membership = np.asarray(graph.connected_components().membership, dtype=np.int64)
    stability = _stability(graph, membership, seed)
    bridges, hops = _bridges_and_core(graph, membership)
    db.register("community_rows", pa.table({
        "v": np.arange(n, dtype=np.int64), "community": membership, "core_hops": hops}))
    db.register("community_stats", pa.table({
        "community": np.arange(len(stability), dtype=np.int64), "stability": stability,
        "bridges": bridges}))
    db.create_table_as(
        "cluster_labels",
        "SELECT o.account_id, min(o.account_id) OVER (PARTITION BY c.community) AS label, "
        "       c.community, c.core_hops "
        "FROM account_owners AS o JOIN owner_numbers AS n USING (owner) "
        "JOIN community_rows AS c USING (v)")
    db.create_table_as(
        "community_structure",
        "SELECT l.label, any_value(s.stability) AS stability, any_value(s.bridges) AS bridges, "
        "       count(*) FILTER (WHERE l.core_hops > 0) AS outside_core, "
        "       max(l.core_hops) AS max_core_hops "
        "FROM cluster_labels AS l JOIN community_stats AS s USING (community) GROUP BY ALL")
    db.unregister("community_rows")
    db.unregister("community_stats")


def _stability(graph: ig.Graph, membership: np.ndarray, seed: int) -> np.ndarray:
    """Per component, the mean over resamples of the largest share of its owners that stay in
    one component when each link is kept with probability KEEP."""
    communities = int(membership.max()) + 1 if len(membership) else 0
    sizes = np.bincount(membership, minlength=communities).astype(np.float64)
    if graph.ecount() == 0:
        return np.ones(communities)
    total = np.zeros(communities)
    for run in range(RESAMPLES):
        keep = np.random.default_rng(seed + run).random(graph.ecount()) < KEEP
        sub = graph.subgraph_edges(np.flatnonzero(keep).tolist(), delete_vertices=False)
        again = np.asarray(sub.connected_components().membership, dtype=np.int64)
        width = int(again.max()) + 1
        keys, counts = np.unique(membership * width + again, return_counts=True)
        best = np.zeros(communities)
        np.maximum.at(best, keys // width, counts)
        total += best / sizes
    return np.round(total / RESAMPLES, 4)


def _bridges_and_core(graph: ig.Graph, membership: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per community the number of bridges inside it; per vertex its hops to the community's
    core (the largest part of it that stays connected without its bridges)."""
    communities = int(membership.max()) + 1 if len(membership) else 0
    hops = np.zeros(graph.vcount(), dtype=np.int64)
    bridges = np.zeros(communities, dtype=np.int64)
    if graph.ecount() == 0:
        return bridges, hops
    ends = np.asarray(graph.get_edgelist(), dtype=np.int64)
    inside = membership[ends[:, 0]] == membership[ends[:, 1]]
    local = graph.subgraph_edges(np.flatnonzero(inside).tolist(), delete_vertices=False)
    local_ends = np.asarray(local.get_edgelist(), dtype=np.int64)
    bridge_ids = np.asarray(local.bridges(), dtype=np.int64)
    if len(bridge_ids):
        np.add.at(bridges, membership[local_ends[bridge_ids, 0]], 1)
    # Without the bridges, each community falls into 2-edge-connected parts; its core is the
    # largest (ties: the part holding the smallest vertex number).
    keep = np.ones(local.ecount(), dtype=bool)
    keep[bridge_ids] = False
    parts = np.asarray(local.subgraph_edges(np.flatnonzero(keep).tolist(),
                                            delete_vertices=False)
                       .connected_components().membership, dtype=np.int64)
    part_size = np.bincount(parts)
    order = np.lexsort((np.arange(len(parts)), -part_size[parts], membership))
    core_part = np.full(communities, -1, dtype=np.int64)
    for v in order:  # the first vertex of each community in this order lies in its core
        if core_part[membership[v]] < 0:
            core_part[membership[v]] = parts[v]
    in_core = parts == core_part[membership]
    if in_core.all():
        return bridges, hops
    # Hops to the core inside each community: one breadth-first search from all core
    # vertices at once over the community-internal links.
    dist = np.full(graph.vcount(), -1, dtype=np.int64)
    frontier = np.flatnonzero(in_core)
    dist[frontier] = 0
    adjacency = local.get_adjlist()
    level = 0
    while len(frontier):
        level += 1
        nxt = []
        for v in frontier:
            for u in adjacency[v]:
                if dist[u] < 0:
                    dist[u] = level
                    nxt.append(u)
        frontier = np.asarray(nxt, dtype=np.int64)
    hops = np.where(dist < 0, 0, dist)
    return bridges, hops
