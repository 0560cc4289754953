-- For each reported cluster and each released model: the cluster's requests in the 24 hours
-- after the release, on any model and on that model, and its first request on that model.
-- Only the requests of those 24 hours are counted here; the first request on each model comes
-- from report_activity (activity.sql), which already grouped every request of the clusters.
-- Members are joined on the integer account_no (cluster_member_numbers(), in
-- queries/features/05_functions.sql), as in activity.sql.
WITH members AS (
    SELECT * FROM cluster_member_numbers($clusters)  -- queries/features/05_functions.sql
),
rel AS (
    SELECT model, released_at FROM model_releases
    WHERE list_contains(CAST($models AS VARCHAR[]), model)
),
firsts AS (
    SELECT series AS cluster_id, model, min(first_ts) AS first_ts
    FROM report_activity
    WHERE list_contains(CAST($clusters AS VARCHAR[]), series)
    GROUP BY ALL
),
after AS (
    SELECT m.cluster_id, rel.model, rel.released_at, count(*) AS requests,
           count(*) FILTER (WHERE f.model = rel.model) AS on_model
    FROM request_features AS f
    JOIN members AS m USING (account_no)
    JOIN rel ON f.ts >= rel.released_at AND f.ts < rel.released_at + INTERVAL 24 HOUR
    GROUP BY ALL
)
SELECT c.cluster_id, rel.model, rel.released_at,
       coalesce(a.requests, 0) AS after_requests,
       coalesce(a.on_model, 0) AS after_on_model,
       fm.first_ts AS first_on_model
FROM (SELECT DISTINCT cluster_id FROM firsts) AS c
CROSS JOIN rel
LEFT JOIN after AS a USING (cluster_id, model, released_at)
LEFT JOIN firsts AS fm USING (cluster_id, model)
ORDER BY c.cluster_id, rel.released_at, rel.model;
