-- Share of each series' requests per bucket sent to the models in $models (the newly released
-- ones): a cluster that pivots to a new model within a day of its release shows a step.
WITH per_bucket AS (
    SELECT
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), series) THEN series ELSE '' END
            AS series,
        time_bucket(to_hours($bucket_hours), hour, TIMESTAMPTZ '2000-01-01 00:00:00+00')
            AS bucket,
        sum(requests) AS requests,
        coalesce(sum(requests) FILTER (WHERE list_contains(CAST($models AS VARCHAR[]), model)),
                 0) AS to_new
    FROM report_activity
    GROUP BY ALL
)
SELECT series, bucket, requests, round(to_new / requests, 4) AS share_new
FROM per_bucket
ORDER BY series, bucket;
