-- Exhibit: every typed link between two accounts of one cluster.
WITH members AS (SELECT account_id FROM cluster_members WHERE cluster_id = $cluster)
SELECT l.account_a, l.account_b, l.kind, l.key, l.weight
FROM links AS l
WHERE l.account_a IN (SELECT account_id FROM members)
  AND l.account_b IN (SELECT account_id FROM members)
ORDER BY l.kind, l.key, l.account_a, l.account_b;
