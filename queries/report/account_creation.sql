-- When the accounts of each reported cluster were created (one row per account), for the
-- creation-burst chart; accounts of other clusters are summarised as series ''.
SELECT
    CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
         THEN m.cluster_id ELSE '' END AS series,
    a.created_at,
    a.account_id
FROM accounts AS a
JOIN cluster_members AS m USING (account_id)
WHERE a.created_at IS NOT NULL
ORDER BY series, a.created_at, a.account_id;
