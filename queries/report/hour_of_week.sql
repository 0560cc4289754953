-- Share of each series' requests per UTC hour of the week (0 = Monday 00:00). Series are the
-- reported clusters and '' for all other traffic.
WITH tagged AS (
    SELECT
        f.hour_of_week,
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
             THEN m.cluster_id ELSE '' END AS series
    FROM request_features AS f
    JOIN cluster_members AS m USING (account_id)
)
SELECT series, hour_of_week,
       count(*) / sum(count(*)) OVER (PARTITION BY series) AS share
FROM tagged
GROUP BY series, hour_of_week
ORDER BY series, hour_of_week;
