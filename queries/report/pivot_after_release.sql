-- For each reported cluster and each released model: the cluster's requests in the 24 hours
-- after the release, on any model and on that model, and its first request on that model.
-- Members are joined on the integer account_no, as in activity.sql: this reads every request.
WITH members AS (
    SELECT a.account_no, m.cluster_id
    FROM cluster_members AS m
    JOIN account_activity AS a USING (account_id)
    WHERE list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
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
JOIN members AS m USING (account_no)
CROSS JOIN rel
GROUP BY ALL
ORDER BY m.cluster_id, rel.released_at, rel.model;
