-- Exhibit: every heuristic row that fired for an account of one cluster.
SELECT
    s.heuristic_id, s.family, s.level, s.weight, s.benign, s.account_id, s.score, s.metric,
    s.detail, array_to_string(s.evidence, ';') AS evidence
FROM signals AS s
JOIN cluster_members AS m USING (account_id)
WHERE m.cluster_id = $cluster
ORDER BY s.family, s.heuristic_id, s.score DESC, s.account_id;
