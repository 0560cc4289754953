-- Clusters: who is in them, what holds them together, how strong the evidence is.
-- Coordination is a cluster edge of a kind ordinary customers do not share
-- (48_cluster_edges.sql, basis 'coordination') between accounts of different owners. A family
-- counts for the cluster when members holding at least $family_member_share of its accounts
-- (or one account of a single-account cluster) carry it.
CREATE OR REPLACE TABLE clusters AS
WITH members AS (
    SELECT account_id, cluster_id FROM cluster_members
),
coordination AS (
    SELECT m.cluster_id,
           max(p.weight) AS strength,
           list_sort(list_distinct(flatten(list(p.kinds)))) AS kinds
    FROM cluster_edges AS e
    JOIN pair_weights AS p USING (account_a, account_b)
    JOIN members AS m ON m.account_id = e.account_a
    JOIN account_owners AS oa ON oa.account_id = e.account_a
    JOIN account_owners AS ob ON ob.account_id = e.account_b
    WHERE e.basis = 'coordination' AND oa.owner <> ob.owner
    GROUP BY ALL
),
attributed AS (
    -- Clusters whose flagged members were put together by a harvest template
    -- (65_attribution.sql).
    SELECT DISTINCT m.cluster_id
    FROM cluster_edges AS e
    JOIN members AS m ON m.account_id = e.account_a
    WHERE e.basis = 'harvest template'
),
member_family AS (
    SELECT cluster_id, family, count(*) AS members
    FROM (SELECT m.cluster_id, unnest(s.families) AS family
          FROM members AS m
          JOIN account_scores AS s USING (account_id))
    GROUP BY ALL
),
sizes AS (
    SELECT m.cluster_id, count(*) AS accounts, count(DISTINCT o.owner) AS owners,
           sum(o.requests) AS requests, sum(o.tokens) AS tokens,
           min(o.first_seen) AS first_seen, max(o.last_seen) AS last_seen
    FROM members AS m
    JOIN account_owners AS o USING (account_id)
    GROUP BY ALL
),
families AS (
    SELECT f.cluster_id, list(f.family ORDER BY f.family) AS families
    FROM member_family AS f
    JOIN sizes USING (cluster_id)
    WHERE f.members >= greatest(1, $family_member_share * sizes.accounts)
    GROUP BY ALL
),
ranked AS (
    SELECT m.cluster_id, s.score,
           row_number() OVER (PARTITION BY m.cluster_id ORDER BY s.score DESC, m.account_id)
               AS rank
    FROM members AS m
    JOIN account_scores AS s USING (account_id)
),
top AS (
    SELECT cluster_id, avg(score) AS top_mean FROM ranked WHERE rank <= $top_members
    GROUP BY ALL
)
SELECT
    sizes.*,
    coalesce(families.families, CAST([] AS VARCHAR[])) AS families,
    coalesce(coordination.kinds, CAST([] AS VARCHAR[])) AS coordination_kinds,
    coalesce(coordination.strength, 0) AS coordination_strength,
    sizes.owners >= 2 AND coordination.cluster_id IS NOT NULL AS coordinated,
    attributed.cluster_id IS NOT NULL AS attributed,
    -- Coordination amplifies the members' own evidence; it does not create evidence alone.
    round(1 - (1 - top.top_mean) * (1 - 0.5 * coalesce(coordination.strength, 0)
                                         * least(1, 2 * top.top_mean)), 4) AS score
FROM sizes
JOIN top USING (cluster_id)
LEFT JOIN families USING (cluster_id)
LEFT JOIN coordination USING (cluster_id)
LEFT JOIN attributed USING (cluster_id);
