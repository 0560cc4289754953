-- Daily share of each series' requests sent to each model in $models (the newly released
-- ones): a cluster that pivots to a new model within a day of its release shows a step.
WITH tagged AS (
    SELECT
        time_bucket(to_hours($bucket_hours), f.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')
            AS bucket,
        f.model,
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
             THEN m.cluster_id ELSE '' END AS series
    FROM request_features AS f
    JOIN cluster_members AS m USING (account_id)
),
per_bucket AS (
    SELECT series, bucket, count(*) AS requests,
           count(*) FILTER (WHERE list_contains(CAST($models AS VARCHAR[]), model))
               AS to_new
    FROM tagged
    GROUP BY ALL
)
SELECT series, bucket, requests, round(to_new / requests, 4) AS share_new
FROM per_bucket
ORDER BY series, bucket;
