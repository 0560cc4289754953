-- Requests per bucket of each charted cluster ($clusters) and of all other traffic ('').
SELECT
    time_bucket(to_hours($bucket_hours), hour, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
    CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), series) THEN series ELSE '' END
        AS series,
    sum(requests) AS requests
FROM report_activity
GROUP BY ALL
ORDER BY bucket, series;
