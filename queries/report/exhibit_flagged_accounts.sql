-- Exhibit: every flagged account that no described cluster's account exhibit lists (the
-- dossier describes the clusters $clusters): members of flagged clusters beyond
-- report.max_clusters, and accounts flagged on their own evidence in clusters that were not.
SELECT
    f.account_id, f.cluster_id, d.flagged AS cluster_flagged, f.confidence, f.score,
    array_to_string(f.families, ';') AS families,
    array_to_string(f.heuristics, ';') AS heuristics,
    array_to_string(f.benign_heuristics, ';') AS benign_heuristics,
    f.actor, f.requests, f.tokens, f.first_seen, f.last_seen
FROM account_findings AS f
JOIN cluster_decisions AS d USING (cluster_id)
WHERE f.flagged AND NOT list_contains(CAST($clusters AS VARCHAR[]), f.cluster_id)
ORDER BY d.flagged DESC, f.score DESC, f.requests DESC, f.account_id;
