-- Template skeletons: one row per distinct masked prompt head, with how widely it is used.
-- The head text comes from prompt_heads: every head of one skeleton_id has the same skeleton
-- (the id is its md5), so any_value is deterministic.
CREATE OR REPLACE TABLE skeletons AS
WITH heads AS (
    SELECT skeleton_id, any_value(skeleton_head) AS head FROM prompt_heads GROUP BY ALL
)
SELECT
    r.skeleton_id,
    h.head,
    count(*) AS requests,
    count(DISTINCT r.account_id) AS accounts
FROM request_features_raw AS r
JOIN heads AS h USING (skeleton_id)
GROUP BY ALL;
