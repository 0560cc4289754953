-- Clusters: who is in them, what holds them together, how strong the evidence is.
-- Coordination is a strong link between accounts of different owners (see `strong`). A family counts for the cluster when
-- members holding at least $family_member_share of its accounts (or one account of a
-- single-account cluster) carry it.
CREATE OR REPLACE TABLE clusters AS
WITH members AS (
    SELECT account_id, cluster_id FROM cluster_members
),
strong AS (
    -- A strong cross-owner link coordinates when it is of a kind ordinary customers do not
    -- share (pair_weights.coordinated); only such links join clusters.
    SELECT m.cluster_id, p.weight, p.kinds, p.coordinated AS coordinating
    FROM pair_weights AS p
    JOIN members AS m ON m.account_id = p.account_a
    JOIN account_owners AS oa ON oa.account_id = p.account_a
    JOIN account_owners AS ob ON ob.account_id = p.account_b
    WHERE p.weight >= $min_link_weight AND oa.owner <> ob.owner
),
coordination AS (
    SELECT cluster_id,
           max(weight) AS strength,
           list_sort(list_distinct(flatten(list(kinds)))) AS kinds
    FROM strong
    WHERE coordinating
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
