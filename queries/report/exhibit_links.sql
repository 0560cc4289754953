-- Exhibit: every shared key that links accounts of one cluster, one row per (key, account).
-- Listed by membership rather than by pair: a key shared by n accounts links all n(n-1)/2
-- pairs of different owners, and pairs grow quadratically (a 600-account hydra cluster would
-- need hundreds of thousands of rows to say the same thing).
WITH linked AS (
    SELECT kind, key, weight, account_a AS account_id
    FROM report_links  -- member_links.sql
    WHERE cluster_id = $cluster
    UNION
    SELECT kind, key, weight, account_b FROM report_links WHERE cluster_id = $cluster
)
SELECT kind, key, weight, account_id,
       count(*) OVER (PARTITION BY kind, key) AS accounts_sharing
FROM linked
ORDER BY kind, key, account_id;
