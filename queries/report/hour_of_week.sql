-- Share of each series' requests per UTC hour of the week (0 = Monday 00:00).
WITH tagged AS (
    SELECT
        CAST((isodow(hour) - 1) * 24 + hour(hour) AS INTEGER) AS hour_of_week,
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), series) THEN series ELSE '' END
            AS series,
        requests
    FROM report_activity
)
SELECT series, hour_of_week,
       sum(requests) / sum(sum(requests)) OVER (PARTITION BY series) AS share
FROM tagged
GROUP BY series, hour_of_week
ORDER BY series, hour_of_week;
