-- Template skeletons: one row per distinct masked prompt head, with the requests that use it.
-- Every head of one skeleton_id has the same skeleton (the id is its md5), so any_value is
-- deterministic. Its template_id is added once template groups are known (55).
CREATE OR REPLACE TABLE skeletons AS
SELECT skeleton_id, any_value(skeleton_head) AS head, sum(requests) AS requests
FROM prompt_heads
WHERE skeleton_id IS NOT NULL  -- a request without a prompt has no skeleton
GROUP BY ALL;
