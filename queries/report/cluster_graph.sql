-- The linkage graph of one cluster: its $max_nodes most connected members (by summed pair
-- weight, then id) and the pair weights among them, with the strongest link kind of each pair.
WITH members AS (
    SELECT account_id FROM cluster_members WHERE cluster_id = $cluster
),
pairs AS (
    SELECT p.account_a, p.account_b, p.weight, p.kinds
    FROM pair_weights AS p
    WHERE p.account_a IN (SELECT account_id FROM members)
      AND p.account_b IN (SELECT account_id FROM members)
),
degree AS (
    SELECT account_id, sum(weight) AS strength, count(*) AS degree
    FROM (SELECT account_a AS account_id, weight FROM pairs
          UNION ALL SELECT account_b, weight FROM pairs)
    GROUP BY ALL
),
nodes AS (
    SELECT m.account_id, coalesce(d.strength, 0) AS strength, coalesce(d.degree, 0) AS degree,
           o.owner
    FROM members AS m
    LEFT JOIN degree AS d USING (account_id)
    JOIN account_owners AS o USING (account_id)
    ORDER BY strength DESC, m.account_id
    LIMIT $max_nodes
),
strongest AS (
    SELECT l.account_a, l.account_b, arg_max(l.kind, (l.weight, l.kind)) AS kind
    FROM links AS l
    WHERE l.account_a IN (SELECT account_id FROM nodes)
      AND l.account_b IN (SELECT account_id FROM nodes)
    GROUP BY ALL
)
SELECT 'node' AS element, n.account_id AS a, n.owner AS b, n.strength AS weight,
       CAST(n.degree AS VARCHAR) AS kind
FROM nodes AS n
UNION ALL
SELECT 'edge', p.account_a, p.account_b, p.weight, coalesce(s.kind, p.kinds[1])
FROM pairs AS p
LEFT JOIN strongest AS s USING (account_a, account_b)
WHERE p.account_a IN (SELECT account_id FROM nodes)
  AND p.account_b IN (SELECT account_id FROM nodes)
ORDER BY element DESC, a, b;
