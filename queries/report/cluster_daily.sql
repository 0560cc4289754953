-- Requests per bucket and model for each reported cluster (its timeline chart).
SELECT
    m.cluster_id,
    time_bucket(to_hours($bucket_hours), f.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
    f.model,
    count(*) AS requests
FROM request_features AS f
JOIN cluster_members AS m USING (account_id)
WHERE list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
GROUP BY ALL
ORDER BY m.cluster_id, bucket, f.model;
