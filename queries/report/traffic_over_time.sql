-- Requests per time bucket for each reported cluster; everything else is series ''.
-- Buckets are $bucket_hours long, aligned to midnight UTC.
WITH tagged AS (
    SELECT
        time_bucket(to_hours($bucket_hours), f.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')
            AS bucket,
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
             THEN m.cluster_id ELSE '' END AS series
    FROM request_features AS f
    JOIN cluster_members AS m USING (account_id)
)
SELECT bucket, series, count(*) AS requests
FROM tagged
GROUP BY ALL
ORDER BY bucket, series;
