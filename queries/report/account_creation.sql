-- Account sign-ups per hour: one row per (series, hour) with the number of accounts created,
-- for the creation-burst chart and the sign-up ticks of each cluster timeline. Series is the
-- cluster id for the reported clusters and '' for every other account. Counted per hour so
-- that the chart costs the same for 100 or 100,000 accounts.
SELECT
    CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
         THEN m.cluster_id ELSE '' END AS series,
    date_trunc('hour', a.created_at) AS created_at,
    count(*) AS accounts
FROM accounts AS a
JOIN cluster_members AS m USING (account_id)
WHERE a.created_at IS NOT NULL
GROUP BY ALL
ORDER BY series, created_at;
