-- Exhibit: every shared key that links accounts of one cluster, one row per (key, account).
-- Listed by membership rather than by pair: a key shared by n accounts links all n(n-1)/2
-- pairs of different owners, and pairs grow quadratically (a 600-account hydra cluster would
-- need hundreds of thousands of rows to say the same thing). Each row carries the smallest
-- p-value and q-value of the account's pairs linked by that key (45_link_tests.sql: the kind's
-- null model, Benjamini–Hochberg within the kind); empty for a kind with no null model.
WITH ends AS (
    SELECT kind, key, weight, account_a AS account_id, p_value, q_value
    FROM report_links  -- member_links.sql
    WHERE cluster_id = $cluster
    UNION ALL
    SELECT kind, key, weight, account_b, p_value, q_value
    FROM report_links WHERE cluster_id = $cluster
),
linked AS (
    SELECT kind, key, weight, account_id, min(p_value) AS p_value, min(q_value) AS q_value
    FROM ends
    GROUP BY ALL
)
SELECT kind, key, weight, account_id,
       count(*) OVER (PARTITION BY kind, key) AS accounts_sharing,
       p_value, q_value
FROM linked
ORDER BY kind, key, account_id;
