-- Requests per bucket and model for each reported cluster (its timeline chart).
SELECT
    series AS cluster_id,
    time_bucket(to_hours($bucket_hours), hour, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
    model,
    sum(requests) AS requests
FROM report_activity
WHERE list_contains(CAST($clusters AS VARCHAR[]), series)
GROUP BY ALL
ORDER BY cluster_id, bucket, model;
