-- For each reported cluster and each released model: share of the cluster's traffic on that
-- model in the 24 hours after the release, and in the 24 hours before it on any model.
WITH members AS (
    SELECT account_id, cluster_id FROM cluster_members
    WHERE list_contains(CAST($clusters AS VARCHAR[]), cluster_id)
),
rel AS (
    SELECT model, released_at FROM model_releases
    WHERE list_contains(CAST($models AS VARCHAR[]), model)
)
SELECT m.cluster_id, rel.model, rel.released_at,
       count(*) FILTER (WHERE f.ts >= rel.released_at
                          AND f.ts < rel.released_at + INTERVAL 24 HOUR) AS after_requests,
       count(*) FILTER (WHERE f.ts >= rel.released_at
                          AND f.ts < rel.released_at + INTERVAL 24 HOUR
                          AND f.model = rel.model) AS after_on_model,
       min(f.ts) FILTER (WHERE f.model = rel.model) AS first_on_model
FROM request_features AS f
JOIN members AS m USING (account_id)
CROSS JOIN rel
GROUP BY ALL
ORDER BY m.cluster_id, rel.released_at, rel.model;
